"""The memory model beside torchinfo's estimate: `python benchmarks/estimates.py [--batch 1,8] [MODEL ...]`.

torchinfo is the one peer tool that estimates memory: its "Estimated Total Size" is the input, every
layer's output twice ("Forward/backward pass size") and the parameters. fvcore, ptflops and thop count
work only. Each model (a zoo spec, built as `cnncalc verify` builds it) is measured by torch, inference
and a training step with SGD (cnncalc.verify.memory: the CPU allocator's records, or
torch.cuda.max_memory_allocated with --device cuda), and set beside cnncalc's prediction and
torchinfo's estimate; a ratio is the estimate over the measured training step.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cnncalc.figures import analyze  # noqa: E402
from cnncalc.figures.memory import memory  # noqa: E402
from cnncalc.model import load_graph  # noqa: E402
from cnncalc.verify.build import build_model  # noqa: E402
from cnncalc.verify.memory import measure_inference, measure_training  # noqa: E402

MODELS = ("alexnet", "vgg16", "resnet18", "resnet50", "densenet121", "mobilenet_v2", "mobilenet_v3_small",
          "squeezenet1_1", "inception_v3", "unet")
SMALLER = {"unet": (1, 188, 188)}  # at full size slow on two CPU cores; a valid smaller size says the same


def torchinfo_estimate(model, input_shape: tuple[int, ...], batch: int, device: str) -> int:
    """torchinfo's "Estimated Total Size" in bytes, as its summary adds it up."""
    import torchinfo

    stats = torchinfo.summary(model, input_size=(batch, *input_shape), device=device, verbose=0)
    return stats.total_input + stats.total_output_bytes + stats.total_param_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", default="1,8", help="batch sizes, comma-separated")
    parser.add_argument("models", nargs="*")
    options = parser.parse_args()
    print("| model | batch | inference: measured | cnncalc | training (sgd): measured | cnncalc | ratio "
          "| torchinfo's estimate | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in options.models or MODELS:
        graph = load_graph(name)
        if name in SMALLER:
            graph = graph.with_input(SMALLER[name])
        built = build_model(graph, options.device)
        for batch in map(int, options.batch.split(",")):
            predicted = memory(graph, analyze(graph, batch), "sgd")
            inference = measure_inference(built, graph.input_shape, batch)
            training = measure_training(built, graph.input_shape, batch, "sgd")
            theirs = torchinfo_estimate(built, graph.input_shape, batch, options.device)
            print(f"| {name} | {batch} | {_mb(inference)} | {_mb(predicted.peak_inference_bytes)} | {_mb(training)} | "
                  f"{_mb(predicted.training_bytes)} | {predicted.training_bytes / training:.3f} | {_mb(theirs)} | "
                  f"{theirs / training:.3f} |", flush=True)


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


if __name__ == "__main__":
    main()
