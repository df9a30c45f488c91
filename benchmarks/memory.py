"""The memory model against measured peaks: `python benchmarks/memory.py [--device cuda] [--batch 1,8]
[--optimizer adam] [--amp cpu:bfloat16] [--imported] [--no-own] [MODEL ...]`.

Predicted peak inference memory and steady-state training-step memory for each zoo model (or the
imported torchvision and timm models with --imported; any `torchvision:NAME` or `timm:NAME`), next to
what torch measures: torch.cuda.max_memory_allocated on a GPU, the CPU allocator's records on CPU
(cnncalc.verify.memory). A spec is measured on the model verify builds from it; an imported model
also on the library's own module ("own module", unless --no-own), whose forward() may hold tensors
longer. With --amp, the forward passes run under torch.autocast, as `cnncalc verify --amp` runs them.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cnncalc.figures import analyze  # noqa: E402
from cnncalc.figures.amp import parse_amp  # noqa: E402
from cnncalc.figures.memory import memory  # noqa: E402
from cnncalc.model import is_pytorch, load_graph  # noqa: E402
from cnncalc.spec.zoo import zoo_index  # noqa: E402
from cnncalc.verify.build import build_model  # noqa: E402
from cnncalc.verify.memory import measure_inference, measure_training  # noqa: E402

# at full size these are slow on two CPU cores; their valid smaller sizes say the same
SMALLER = {"unet": (1, 188, 188)}
# 24 builders that import exactly (`cnncalc coverage`), one to four per family; googlenet and inception_v3
# left out: in training their own modules run auxiliary heads that eval, and so the import, skips.
# Each → the blocks benchmarks/training.py checkpoints in it: its stages, or its blocks where stages are few;
# mnasnet's and squeezenet's stems left out: their in-place ReLUs overwrite a block's input (checkpoint refuses)
IMPORTED = {f"torchvision:{name}": blocks for name, blocks in (
    ("resnet18", "layer*"), ("resnet50", "layer*"), ("resnext50_32x4d", "layer*"), ("wide_resnet50_2", "layer*"),
    ("densenet121", "features.denseblock*"), ("resnet34", "layer*"), ("regnet_x_400mf", "trunk_output.block*"),
    ("mobilenet_v2", "features.*"), ("mobilenet_v3_small", "features.*"), ("mobilenet_v3_large", "features.*"),
    ("efficientnet_b0", "features.*"), ("efficientnet_v2_s", "features.*"),
    ("mnasnet1_0", "layers.8,layers.9,layers.1[0-3]"), ("shufflenet_v2_x1_0", "stage*"),
    ("squeezenet1_1", "features.[3-9],features.1[0-2]"), ("regnet_y_400mf", "trunk_output.block*"),
    ("convnext_tiny", "features.*"), ("vgg11_bn", "features"))} | {f"timm:{name}": blocks for name, blocks in (
    ("resnet18", "layer*"), ("efficientnet_b0", "blocks.*"), ("mobilenetv3_small_100", "blocks.*"),
    ("mobilenetv3_large_100", "blocks.*"), ("convnext_atto", "stages.*"), ("regnetx_002", "s[1-4]"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", default="2", help="batch sizes, comma-separated: 1,8")
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--amp", default=None, help="torch.autocast's dtype, as cnncalc verify takes it: cpu:bfloat16")
    parser.add_argument("--imported", action="store_true", help="the torchvision and timm models above")
    parser.add_argument("--own", action=argparse.BooleanOptionalAction, default=True,
                        help="an imported model's own module measured too")
    parser.add_argument("models", nargs="*")
    options = parser.parse_args()
    amp = parse_amp(options.amp, options.device)
    models = options.models or (list(IMPORTED) if options.imported else list(zoo_index()))
    own = options.own and any(is_pytorch(model) for model in models)
    autocast = f", {amp}" if amp else ""
    print(f"| model | input | batch | inference{autocast}: predicted | measured | ratio | training ({options.optimizer}"
          f"{autocast}): "
          "predicted | measured | ratio |" + (" own module: inference | training |" if own else ""))
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if own else ""))
    for name in models:
        graph = load_graph(name)
        if name in SMALLER:
            graph = graph.with_input(SMALLER[name])
        built = build_model(graph, options.device)
        library = _own_module(name, options.device) if own and is_pytorch(name) else None
        shape = "×".join(map(str, graph.input_shape))
        for batch in map(int, options.batch.split(",")):
            predicted = memory(graph, analyze(graph, batch, amp=amp), options.optimizer)
            inference = measure_inference(built, graph.input_shape, batch, amp)
            training = _trained(built, graph.input_shape, batch, options.optimizer, amp)
            line = (f"| {name} | {shape} | {batch} | {_mb(predicted.peak_inference_bytes)} | {_mb(inference)} | "
                    f"{inference / predicted.peak_inference_bytes:.3f} | {_mb(predicted.training_bytes)} | "
                    + (f"{_mb(training)} | {training / predicted.training_bytes:.3f} |" if training else "— | — |"))
            if library is not None:
                theirs = measure_inference(library, graph.input_shape, batch, amp)
                trained = _trained(library, graph.input_shape, batch, options.optimizer, amp)
                line += (f" {theirs / predicted.peak_inference_bytes:.3f} | "
                         + (f"{trained / predicted.training_bytes:.3f} |" if trained else "— |"))
            elif own:
                line += " | |"
            print(line, flush=True)


def _trained(model, input_shape, batch: int, optimizer: str, amp) -> int | None:
    """A training step's peak, or None where BatchNorm cannot train on one value per channel."""
    try:
        return measure_training(model, input_shape, batch, optimizer, amp)
    except ValueError as error:
        if "more than 1 value per channel" not in str(error):
            raise
        return None


def _own_module(name: str, device: str):
    """The library's module itself, with random weights, in eval mode."""
    from cnncalc.importing.libraries import load_module

    module = load_module(name, {}, on_meta=False).module
    return module.to(device).eval()


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


if __name__ == "__main__":
    main()
