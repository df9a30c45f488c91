"""Reading a model people use: `python benchmarks/importing.py` (needs torchvision: torch 2.14.1,
torchvision 0.29.1).

In process, cnncalc.summary(module, input_size) against torchinfo.summary(module, input_size) on the
same module (medians of 5, after one warm-up each); then `cnncalc table torchvision:resnet50` as a
whole process against `python -c "import torch, torchvision"`.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time

MODELS = ("vgg16", "resnet50", "efficientnet_b0", "convnext_tiny")


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


def main() -> None:
    import torchinfo
    import torchvision

    import cnncalc

    print("| model | cnncalc.summary | torchinfo.summary | cnncalc is |\n|---|---:|---:|---|")
    for name in MODELS:
        module = torchvision.models.get_model(name, weights=None).eval()
        ours = median_seconds(lambda: cnncalc.summary(module, (3, 224, 224)))
        theirs = median_seconds(lambda: torchinfo.summary(module, (1, 3, 224, 224), verbose=0))
        verdict = f"{theirs / ours:.1f}× faster" if theirs >= ours else f"{ours / theirs:.1f}× slower"
        print(f"| {name} | {ours:.3f} s | {theirs:.3f} s | {verdict} |", flush=True)
    table = process_seconds([sys.executable, "-m", "cnncalc", "table", "torchvision:resnet50"])
    imports = process_seconds([sys.executable, "-c", "import torch, torchvision"])
    print(f"\n`cnncalc table torchvision:resnet50`: {table:.2f} s; `import torch, torchvision` alone: {imports:.2f} s;"
          f" cnncalc's own work: {table - imports:.2f} s (goal: under 1 s)")


if __name__ == "__main__":
    main()
