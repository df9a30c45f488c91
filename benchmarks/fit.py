"""How fast `cnncalc fit` answers: `python benchmarks/fit.py [--runs N] [MODEL ...]`.

In process, the search alone (best of several, the graph already read), with the batches it tried;
and the whole process of `cnncalc fit MODEL --memory 24GiB` as a user runs it, beside `cnncalc table
MODEL` (median of --runs).
Nothing here is a test: it prints figures.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cnncalc.figures.fit as fit_module  # noqa: E402
from cnncalc.figures.devices import memory_budget  # noqa: E402
from cnncalc.spec.zoo import load_model  # noqa: E402
from run import best_of, timed  # noqa: E402

MODELS = ["resnet18", "resnet152", "densenet201", "unet", "vgg16", "mobilenet_v3_small"]
BUDGETS = ["8GiB", "h100"]


def tried(graph, budget) -> int:
    """The batches analysed in one fit (each once)."""
    batches = set()
    analyze = fit_module.analyze
    fit_module.analyze = lambda graph, batch, dtype, **options: batches.add(batch) or analyze(graph, batch, dtype,
                                                                                              **options)
    try:
        fit_module.fit(graph, budget)
    finally:
        fit_module.analyze = analyze
    return len(batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="whole-process runs per command")
    parser.add_argument("models", nargs="*", default=MODELS)
    options = parser.parse_args()
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()}\n")
    print("| model | layers | memory | training batch | inference batch | batches analysed | fit (in process) |"
          "\n|---|---:|---|---:|---:|---:|---:|")
    for name in options.models:
        graph = load_model(name)
        for text in BUDGETS:
            budget = memory_budget(text)
            found = fit_module.fit(graph, budget)
            seconds = best_of(lambda: fit_module.fit(graph, budget), 5)
            print(f"| {name} | {len(graph.nodes)} | {text} | {found.training_batch:,} | {found.inference_batch:,} | "
                  f"{tried(graph, budget)} | {1000 * seconds:.1f} ms |")
    print()
    for name in options.models[:3]:  # beside `table` on the same model, run in the same minute
        for command in (["fit", name, "--memory", "24GiB"], ["table", name]):
            whole = timed([sys.executable, "-m", "cnncalc", *command], options.runs)
            print(f"`cnncalc {' '.join(command)}`, whole process: {whole['median']:.3f} s "
                  f"(median, spread {whole['spread']:.3f}), {whole['rss']:.0f} MB")


if __name__ == "__main__":
    main()
