"""Reading a model people use: `python benchmarks/importing.py` (needs torchvision: torch 2.14.1,
torchvision 0.29.1).

In process, cnncalc.summary(module, input_size) beside torchinfo.summary, fvcore's FlopCountAnalysis,
ptflops and torch's FlopCounterMode on the same module at batch 1 (medians of 5, after one warm-up
each; the peers run the model on the CPU, cnncalc on the meta device); the goal: never slower than
torchinfo, and at least 5× faster on the median. Then `cnncalc table torchvision:resnet50` as a whole
process against `python -c "import torch, torchvision"`.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time

MODELS = ("resnet50", "efficientnet_b0", "convnext_tiny", "vit_b_16", "mobilenet_v3_large", "swin_t")


def median_seconds(call, runs: int = 5) -> float:
    call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def process_seconds(command: list[str], runs: int = 3) -> float:
    return median_seconds(lambda: subprocess.run(command, check=True, capture_output=True), runs)


def peers(module, x) -> dict:
    """Each peer's call on the module, as its README shows it."""
    import torchinfo
    from fvcore.nn import FlopCountAnalysis
    from ptflops import get_model_complexity_info
    from torch.utils.flop_counter import FlopCounterMode

    def flop_counter():
        with FlopCounterMode(display=False):
            module(x)
    return {"torchinfo": lambda: torchinfo.summary(module, tuple(x.shape), verbose=0),
            "fvcore": lambda: FlopCountAnalysis(module, x).unsupported_ops_warnings(False)
                                  .uncalled_modules_warnings(False).total(),
            "ptflops": lambda: get_model_complexity_info(module, tuple(x.shape[1:]), as_strings=False,
                                                         print_per_layer_stat=False, verbose=False),
            "FlopCounterMode": flop_counter}


def main() -> None:
    import torch
    import torchvision

    import cnncalc

    names = ("torchinfo", "fvcore", "ptflops", "FlopCounterMode")
    print(f"| model | cnncalc.summary | {' | '.join(names)} | against torchinfo |\n|---|---:|{'---:|' * len(names)}---|")
    ratios = []
    for name in MODELS:
        module = torchvision.models.get_model(name, weights=None).eval()
        ours = median_seconds(lambda: cnncalc.summary(module, (3, 224, 224)))
        with torch.no_grad():
            theirs = {peer: median_seconds(call) for peer, call in peers(module, torch.randn(1, 3, 224, 224)).items()}
        ratios.append(theirs["torchinfo"] / ours)
        verdict = f"{ratios[-1]:.1f}× faster" if ratios[-1] >= 1 else f"{1 / ratios[-1]:.1f}× slower"
        print(f"| {name} | {ours:.3f} s | {' | '.join(f'{theirs[peer]:.3f} s' for peer in names)} | {verdict} |",
              flush=True)
    print(f"\nmedian: cnncalc {statistics.median(ratios):.1f}× faster than torchinfo (goal: at least 5×)")
    table = process_seconds([sys.executable, "-m", "cnncalc", "table", "torchvision:resnet50"])
    imports = process_seconds([sys.executable, "-c", "import torch, torchvision"])
    print(f"\n`cnncalc table torchvision:resnet50`: {table:.2f} s; `import torch, torchvision` alone: {imports:.2f} s;"
          f" cnncalc's own work: {table - imports:.2f} s (goal: under 1 s)")


if __name__ == "__main__":
    main()
