"""The memory model against measured peaks: `python benchmarks/memory.py [--device cuda]`.

Predicted peak inference memory and steady-state training-step memory (Adam) for each zoo model,
next to what torch measures: torch.cuda.max_memory_allocated on a GPU, the live-tensor tracker on CPU.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cnncalc.figures import analyze  # noqa: E402
from cnncalc.verify.build import build_model  # noqa: E402
from cnncalc.verify.memory import check_memory  # noqa: E402
from cnncalc.spec.zoo import load_model, zoo_index  # noqa: E402

# at full size these are slow on two CPU cores; their valid smaller sizes say the same
SMALLER = {"unet": (1, 188, 188)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("models", nargs="*", default=list(zoo_index()))
    options = parser.parse_args()
    print("| model | input | inference: predicted | measured | ratio | training (Adam, batch 2): predicted "
          "| measured | ratio |\n|---|---|---:|---:|---:|---:|---:|---:|")
    for name in options.models:
        graph = load_model(name)
        if name in SMALLER:
            graph = graph.with_input(SMALLER[name])
        inference, training = check_memory(graph, build_model(graph, options.device), analyze(graph),
                                           lambda what: None)
        shape = "×".join(map(str, graph.input_shape))
        print(f"| {name} | {shape} | {inference.predicted / 1e6:,.1f} MB | {inference.measured / 1e6:,.1f} MB | "
              f"{inference.ratio:.3f} | {training.predicted / 1e6:,.1f} MB | {training.measured / 1e6:,.1f} MB | "
              f"{training.ratio:.3f} |", flush=True)


if __name__ == "__main__":
    main()
