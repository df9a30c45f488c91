"""Recurrent layers' memory, predicted and measured: `python benchmarks/recurrent.py [--batch 8]`.

A recurrent layer, with and without a linear head, over 1 and 3 layers, one and two directions,
sequence 16 and 64, hidden 64 and 256, 32 input features (LSTM also with proj_size hidden/4), SGD and
Adam; peak inference and a steady-state training step as torch measures them on the CPU in float32
(the CPU allocator's records, cnncalc.verify.memory), against cnncalc's prediction. Prints per kind
and optimizer the range of measured ÷ predicted, the table in docs/memory.md.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from cnncalc.figures import analyze  # noqa: E402
from cnncalc.figures.memory import memory  # noqa: E402
from cnncalc.spec import build_graph  # noqa: E402
from cnncalc.verify.build import build_model, sample_inputs  # noqa: E402
from cnncalc.verify.memory import inference_peak, training_peak  # noqa: E402


def ratios(kind: str, args: dict, head: bool, optimizer: str, batch: int) -> tuple[float, float]:
    """Measured ÷ predicted, inference and training, for one recurrent layer (and a linear head)."""
    length = args.pop("length")
    layers = [{kind: dict(args, batch_first=True)}] + ([{"linear": {"out_features": 10}}] if head else [])
    graph = build_graph({"input": [length, 32], "layers": layers}, "<benchmark>", {})
    model, report = build_model(graph), analyze(graph, batch)
    predicted = memory(graph, report, optimizer)
    inference = inference_peak(model, sample_inputs(graph, batch))
    training = training_peak(model, sample_inputs(graph, batch), optimizer)
    return inference / predicted.peak_inference_bytes, training / predicted.training_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    batch = parser.parse_args().batch
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", "LSTM with projections")
    ranges: dict[str, list[float]] = {}
    for kind, projected, layers, bidirectional, length, hidden, head, optimizer in itertools.product(
            ("lstm", "gru", "rnn"), (False, True), (1, 3), (False, True), (16, 64), (64, 256), (False, True),
            ("sgd", "adam")):
        if projected and kind != "lstm":
            continue
        args = {"hidden_size": hidden, "num_layers": layers, "bidirectional": bidirectional, "length": length}
        if projected:
            args["proj_size"] = hidden // 4
        row = f"{kind}{' (proj_size)' if projected else ''} | {optimizer}"
        seen = ranges.setdefault(row, [9.0, 0.0, 9.0, 0.0])
        inference, training = ratios(kind, args, head, optimizer, batch)
        seen[:] = [min(seen[0], inference), max(seen[1], inference), min(seen[2], training), max(seen[3], training)]
    print(f"| layer | optimizer | inference, batch {batch} | training step, batch {batch} |")
    print("|---|---|---|---|")
    for row, (low, high, train_low, train_high) in ranges.items():
        print(f"| {row} | {low:.3f} to {high:.3f} | {train_low:.3f} to {train_high:.3f} |")


if __name__ == "__main__":
    main()
