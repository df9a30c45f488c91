"""A training step's memory with activation checkpointing, predicted and measured:
`python benchmarks/training.py [--batch 2,8] [--optimizer sgd] [--amp cpu:bfloat16] [--imported] [MODEL=NAMES ...]`.

For each model, the steady-state training step as cnncalc predicts it and as torch measures it (the
CPU allocator's records, cnncalc.verify.memory), without checkpointing and with the blocks NAMES
(comma-separated names or globs) run through torch.utils.checkpoint(..., use_reentrant=False); and
the recomputation's MACs; with --amp, the forward passes run under torch.autocast. The model is the
one `cnncalc verify` builds from the spec or import; --imported checkpoints the blocks benchmarks/memory.py
names in each of its imported torchvision and timm models.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cnncalc.figures import analyze  # noqa: E402
from cnncalc.figures.amp import parse_amp  # noqa: E402
from cnncalc.figures.checkpoint import parse_names  # noqa: E402
from cnncalc.figures.memory import memory  # noqa: E402
from cnncalc.model import load_graph  # noqa: E402
from cnncalc.verify.build import build_model, sample_inputs  # noqa: E402
from cnncalc.verify.memory import training_peak  # noqa: E402
from memory import IMPORTED, SMALLER  # noqa: E402  (benchmarks/memory.py: this script's folder is on the path)

MODELS = ["examples/tiny.yaml=stem,down", "lenet5=0.conv2d,3.conv2d", "resnet18=layer*", "resnet50=layer*",
          "mobilenet_v2=features.*", "densenet121=features.denseblock*", "vgg11_bn=features", "unet=enc*,dec*"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", default="2,8", help="batch sizes, comma-separated")
    parser.add_argument("--optimizer", default="sgd")
    parser.add_argument("--amp", default=None, help="torch.autocast's dtype, as cnncalc verify takes it on the CPU")
    parser.add_argument("--imported", action="store_true", help="benchmarks/memory.py's torchvision and timm models")
    parser.add_argument("models", nargs="*", help="MODEL=NAMES: the blocks to checkpoint")
    options = parser.parse_args()
    amp = parse_amp(options.amp, "cpu")
    models = options.models or ([f"{name}={blocks}" for name, blocks in IMPORTED.items()] if options.imported
                                else MODELS)
    print(f"| model | input | batch | checkpointed | training ({options.optimizer}{f', {amp}' if amp else ''}): "
          "predicted | measured | ratio | recompute MACs |")
    print("|---|---|---:|---|---:|---:|---:|---:|")
    for item in models:
        name, _, names = item.partition("=")
        graph = load_graph(name)
        if name in SMALLER:
            graph = graph.with_input(SMALLER[name])
        model = build_model(graph)
        shape = "×".join(map(str, graph.input_shape))
        for batch in map(int, options.batch.split(",")):
            for chosen in ((), parse_names(names)):
                report = analyze(graph, batch, checkpoint=chosen, amp=amp)
                predicted = memory(graph, report, options.optimizer).training_bytes
                run = model.checkpointed(graph, report.checkpoint)
                measured = training_peak(run, sample_inputs(graph, batch), options.optimizer, amp)
                print(f"| {Path(name).stem} | {shape} | {batch} | {names if chosen else '—'} | {_mb(predicted)} | "
                      f"{_mb(measured)} | {measured / predicted:.3f} | {_g(report.totals.recompute_macs)} |", flush=True)


def _mb(value: int) -> str:
    return f"{value / 1e6:,.1f} MB"


def _g(value: int) -> str:
    return f"{value / 1e9:,.2f} G" if value else "—"


if __name__ == "__main__":
    main()
