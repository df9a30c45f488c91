"""The memory model against measured peaks: `python benchmarks/memory.py [--device cuda] [--batch 1,8]
[--optimizer adam] [--imported] [MODEL ...]`.

Predicted peak inference memory and steady-state training-step memory for each zoo model (or the
imported torchvision and timm models with --imported; any `torchvision:NAME` or `timm:NAME`), next to
what torch measures: torch.cuda.max_memory_allocated on a GPU, the CPU allocator's records on CPU
(cnncalc.verify.memory). A spec is measured on the model verify builds from it; an imported model
also on the library's own module ("own module"), whose forward() may hold tensors longer.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cnncalc.figures import analyze  # noqa: E402
from cnncalc.figures.memory import memory  # noqa: E402
from cnncalc.model import is_pytorch, load_graph  # noqa: E402
from cnncalc.spec.zoo import zoo_index  # noqa: E402
from cnncalc.verify.build import build_model  # noqa: E402
from cnncalc.verify.memory import measure_inference, measure_training  # noqa: E402

# at full size these are slow on two CPU cores; their valid smaller sizes say the same
SMALLER = {"unet": (1, 188, 188)}
# 24 builders that import exactly (`cnncalc coverage`), one to four per family; googlenet and inception_v3
# left out: in training their own modules run auxiliary heads that eval, and so the import, skips
IMPORTED = [f"torchvision:{name}" for name in (
    "resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "densenet121", "resnet34", "regnet_x_400mf",
    "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "efficientnet_v2_s",
    "mnasnet1_0", "shufflenet_v2_x1_0", "squeezenet1_1", "regnet_y_400mf", "convnext_tiny", "vgg11_bn")] + [
    f"timm:{name}" for name in ("resnet18", "efficientnet_b0", "mobilenetv3_small_100", "mobilenetv3_large_100",
                                "convnext_atto", "regnetx_002")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", default="2", help="batch sizes, comma-separated: 1,8")
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--imported", action="store_true", help="the torchvision and timm models above")
    parser.add_argument("models", nargs="*")
    options = parser.parse_args()
    models = options.models or (IMPORTED if options.imported else list(zoo_index()))
    own = any(is_pytorch(model) for model in models)
    print(f"| model | input | batch | inference: predicted | measured | ratio | training ({options.optimizer}): "
          "predicted | measured | ratio |" + (" own module: inference | training |" if own else ""))
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if own else ""))
    for name in models:
        graph = load_graph(name)
        if name in SMALLER:
            graph = graph.with_input(SMALLER[name])
        built = build_model(graph, options.device)
        library = _own_module(name, options.device) if is_pytorch(name) else None
        shape = "×".join(map(str, graph.input_shape))
        for batch in map(int, options.batch.split(",")):
            predicted = memory(graph, analyze(graph, batch), options.optimizer)
            inference = measure_inference(built, graph.input_shape, batch)
            training = _trained(built, graph.input_shape, batch, options.optimizer)
            line = (f"| {name} | {shape} | {batch} | {_mb(predicted.peak_inference_bytes)} | {_mb(inference)} | "
                    f"{inference / predicted.peak_inference_bytes:.3f} | {_mb(predicted.training_bytes)} | "
                    + (f"{_mb(training)} | {training / predicted.training_bytes:.3f} |" if training else "— | — |"))
            if library is not None:
                theirs = measure_inference(library, graph.input_shape, batch)
                trained = _trained(library, graph.input_shape, batch, options.optimizer)
                line += (f" {theirs / predicted.peak_inference_bytes:.3f} | "
                         + (f"{trained / predicted.training_bytes:.3f} |" if trained else "— |"))
            elif own:
                line += " | |"
            print(line, flush=True)


def _trained(model, input_shape, batch: int, optimizer: str) -> int | None:
    """A training step's peak, or None where BatchNorm cannot train on one value per channel."""
    try:
        return measure_training(model, input_shape, batch, optimizer)
    except ValueError as error:
        if "more than 1 value per channel" not in str(error):
            raise
        return None


def _own_module(name: str, device: str):
    """The library's module itself, with random weights, in eval mode."""
    from cnncalc.verify.libraries import load_module

    module = load_module(name, {}, on_meta=False).module
    return module.to(device).eval()


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


if __name__ == "__main__":
    main()
