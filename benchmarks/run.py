"""cnncalc's speed, measured: `python benchmarks/run.py` prints every figure as a Markdown table.

Whole process (median and spread of several runs, wall time and peak RSS from os.wait4) against
torchinfo, fvcore, ptflops and thop on the same architectures; in-process analysis of the zoo and
of generated 10,000-layer nets; a 1,000-size sweep; and the import cost of `cnncalc table`.
Nothing here is a test: it prints figures, it never fails a build.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the commands: VGG-16 as JSON, the two deep models as the terminal table
COMMANDS = {"vgg16": ["table", "vgg16", "--format", "json"], "resnet152": ["table", "resnet152"],
            "densenet201": ["table", "densenet201"]}
# The peers run on the spec's architecture built in torch (torchvision's own models where torchvision
# is importable): import torch, initialize weights, run the tool's forward pass.
PEER_SCRIPT = """
import sys, torch
from cnncalc.spec.zoo import load_model
graph = load_model(sys.argv[2])
try:
    import torchvision
    model = torchvision.models.get_model(sys.argv[2], weights=None)
except Exception:
    from cnncalc.figures import analyze
    from cnncalc.verify.build import GraphModel, make_module
    shapes = {row.name: row.output_shape for row in analyze(graph).layers}
    model = GraphModel(graph, [make_module(node, (1, *shapes[node.inputs[0]])) for node in graph.nodes])
model.eval()
x = torch.randn(1, *graph.input_shape)
tool = sys.argv[1]
if tool == "torchinfo":
    from torchinfo import summary; summary(model, input_data=x, verbose=0)
elif tool == "fvcore":
    from fvcore.nn import FlopCountAnalysis; FlopCountAnalysis(model, x).unsupported_ops_warnings(False).total()
elif tool == "ptflops":
    from ptflops import get_model_complexity_info
    get_model_complexity_info(model, tuple(graph.input_shape), print_per_layer_stat=False, as_strings=False)
elif tool == "thop":
    from thop import profile; profile(model, inputs=(x,), verbose=False)
"""


# As an installed package runs: with compiled bytecode (pip compiles on install), whatever this shell sets.
CHILD_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"} | {
    "PYTHONPATH": str(ROOT)}


def run_process(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=CHILD_ENV, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status:
        raise RuntimeError(f"{' '.join(command)} failed ({status})")
    return elapsed, usage.ru_maxrss / 1024


def timed(command: list[str], runs: int) -> dict:
    run_process(command)  # warm: writes the bytecode and fills the file cache
    samples = [run_process(command) for _ in range(runs)]
    times = sorted(t for t, _ in samples)
    return {"median": statistics.median(times), "spread": times[-1] - times[0],
            "rss": statistics.median(r for _, r in samples)}


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def whole_process(runs: int) -> list[str]:
    peers = [tool for tool in ("torchinfo", "fvcore", "ptflops", "thop") if importlib.util.find_spec(tool)]
    missing = [tool for tool in ("torchinfo", "fvcore", "ptflops", "thop") if tool not in peers]
    models = (f"torchvision {_version('torchvision')}'s models" if importlib.util.find_spec("torchvision")
              else "the spec's architecture built in torch (torchvision is not installed)")
    lines = [f"Peers run: {', '.join(f'{tool} {_version(tool)}' for tool in peers) or 'none'}"
             f"{'; not installed: ' + ', '.join(missing) if missing else ''}. They run on torch "
             f"{_version('torch') or '(not installed)'} and {models}.", "",
             "| model | tool | wall time (median ± spread) | peak RSS | cnncalc is |", "|---|---|---:|---:|---|"]
    for model, command in COMMANDS.items():
        ours = timed([sys.executable, "-m", "cnncalc", *command], runs)
        lines.append(f"| {model} | cnncalc {' '.join(command)} | {ours['median']:.3f} s ± {ours['spread']:.3f} | "
                     f"{ours['rss']:.0f} MB | |")
        for tool in peers:
            theirs = timed([sys.executable, "-c", PEER_SCRIPT, tool, model], max(1, runs // 2))
            lines.append(f"| {model} | {tool} | {theirs['median']:.2f} s ± {theirs['spread']:.2f} | "
                         f"{theirs['rss']:.0f} MB | {theirs['median'] / ours['median']:.0f}× faster, "
                         f"{theirs['rss'] / ours['rss']:.0f}× lighter |")
    zoo = timed([sys.executable, "-m", "cnncalc", "check", "specs", "--allow-python"], runs)
    lines += ["", f"`cnncalc check specs --allow-python` (every zoo model, with its budgets): "
                  f"{zoo['median']:.3f} s ± {zoo['spread']:.3f}, {zoo['rss']:.0f} MB"]
    return lines


def best_of(action, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def chain_spec(layers: int) -> dict:
    body = [{"conv2d": {"out_channels": 8, "kernel_size": 3, "padding": 1}}, {"relu": None}]
    return {"input": [8, 32, 32], "layers": [{"sequential": body, "repeat": layers // 2}]}


def residual_spec(blocks: int) -> dict:
    block = {"params": {}, "layers": [
        {"conv2d": {"out_channels": 16, "kernel_size": 3, "padding": 1}, "name": "conv"},
        {"batchnorm2d": None}, {"relu": None, "name": "act"},
        {"add": None, "from": ["input", "act"]}]}
    return {"input": [16, 16, 16], "blocks": {"res": block}, "layers": [{"res": None, "repeat": blocks}]}


def in_process() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from cnncalc.figures import analyze
    from cnncalc.spec import build_graph, load_spec
    from cnncalc.spec.yamlfile import load_yaml_file
    from cnncalc.spec.zoo import load_model, zoo_index

    lines = ["| analysis (parse + graph + figures) | layers | time |", "|---|---:|---:|"]
    for name, (path, variant) in zoo_index().items():
        # each run parses the YAML again; a Python spec's file runs once per process, as an import
        # would, and its spec() function every time
        def analysis(path=path, variant=variant):
            load_yaml_file.cache_clear()
            analyze(load_spec(path, variant=variant))
        graph = load_model(name)
        lines.append(f"| {name} | {len(graph.nodes)} | {1000 * best_of(analysis, 20):.2f} ms |")
    for label, spec, repeat in (("chain of 10,000 layers", chain_spec(10_000), 3),
                                ("2,000 residual blocks", residual_spec(2_000), 3)):
        seconds = best_of(lambda spec=spec: analyze(build_graph(spec, "<bench>", {})), repeat)
        count = len(build_graph(spec, "<bench>", {}).nodes)
        lines.append(f"| {label} | {count:,} | {1000 * seconds:.0f} ms |")
    graph = load_model("resnet50")
    sweep = best_of(lambda: [analyze(graph.with_input((3, s, s))) for s in range(64, 1064)], 2)
    lines.append(f"| resnet50 at 1,000 input sizes (64…1063) | {len(graph.nodes)} | {1000 * sweep:.0f} ms |")
    sizes = [1000, 2000, 5000, 10000]
    times = [best_of(lambda n=n: analyze(build_graph(chain_spec(n), "<bench>", {})), 3) for n in sizes]
    slope = statistics.linear_regression(sizes, times).slope
    per_layer = [1e6 * t / n for t, n in zip(times, sizes)]
    lines.append("")
    lines.append(f"Growth with layer count: {', '.join(f'{n:,}: {1000 * t:.0f} ms' for n, t in zip(sizes, times))}; "
                 f"slope {1e6 * slope:.1f} µs/layer, per layer {min(per_layer):.1f}–{max(per_layer):.1f} µs (linear).")
    return lines


def startup(runs: int) -> list[str]:
    """The hot path's whole process, with the typer it ran on (typer 0.29 moved option parsing to pydantic)."""
    ours = timed([sys.executable, "-m", "cnncalc", "table", "vgg16"], max(runs, 10))
    return [f"`cnncalc table vgg16`, whole process on typer {_version('typer')}: {ours['median']:.3f} s "
            f"(median, spread {ours['spread']:.3f}), {ours['rss']:.0f} MB; goal ≤ 0.12 s"]


def import_cost() -> list[str]:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "cnncalc", "table", "vgg16", "--format",
                             "json"], capture_output=True, text=True, cwd=ROOT, env=CHILD_ENV)
    rows = []
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = (part.strip() for part in line[len("import time:"):].split("|"))
            if not name.startswith(" ") and cumulative.isdigit():
                rows.append((int(cumulative), name))
    top = sorted(((c, n) for c, n in rows if not n.startswith(" ")), reverse=True)[:8]
    heavy = [n for _, n in rows if n.split(".")[0] in ("torch", "numpy", "matplotlib")]
    lines = ["| top-level import on `cnncalc table` | cumulative |", "|---|---:|"]
    lines += [f"| {name} | {cumulative / 1000:.1f} ms |" for cumulative, name in top]
    lines.append("")
    lines.append(f"torch, numpy or matplotlib imported: {', '.join(heavy) if heavy else 'none'}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="whole-process runs per command")
    parser.add_argument("--skip-peers", action="store_true", help="only the in-process figures")
    options = parser.parse_args()
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()}\n")
    if not options.skip_peers:
        print("\n".join(whole_process(options.runs)) + "\n")
    print("\n".join(startup(options.runs)) + "\n")
    print("\n".join(in_process()) + "\n")
    print("\n".join(import_cost()))


if __name__ == "__main__":
    main()
