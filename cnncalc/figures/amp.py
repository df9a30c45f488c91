"""Mixed precision: the dtype each tensor has when a float32 model runs under torch.autocast.

Autocast casts the inputs of the ops on its lists (each kind declares its place: layers/facts.py
Autocast) and leaves the rest to run in their inputs' dtype, so a ReLU after a bfloat16 convolution
is bfloat16 too. The parameters stay float32 (master weights), and so do their gradients and the
optimizer's state; the activations, what autograd saves and their gradients take the row's dtype.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import SpecError, quoted
from ..graph import Node
from ..layers import REGISTRY

HALF_DTYPES = ("float16", "bfloat16")
DEVICES = ("cuda", "cpu")


@dataclass(frozen=True, kw_only=True)
class Amp:
    """torch.autocast(device, dtype): the dtype it casts to, and the device whose op lists it uses."""
    dtype: str
    device: str

    def __str__(self) -> str:
        return f"{self.device}:{self.dtype}"


def parse_amp(text: str | None, run_on: str | None = None) -> Amp | None:
    """--amp float16 or bfloat16, optionally after the device whose lists to follow (cpu:bfloat16):
    where none is named, the device the model runs on (`run_on`: verify's), else CUDA's."""
    if text is None:
        return None
    named, _, dtype = text.rpartition(":")
    if dtype not in HALF_DTYPES or named not in ("", *DEVICES):
        raise SpecError(f"--amp takes float16 or bfloat16, optionally after cuda: or cpu: (autocast's op lists "
                        f"differ), got {quoted(text)}")
    if named and run_on and named != run_on:
        raise SpecError(f"--amp {text} follows autocast's {named} lists, but the model runs on {run_on}")
    return Amp(dtype=dtype, device=named or run_on or "cuda")


def check_amp(amp: Amp | None, dtype: str) -> None:
    """Autocast casts float32 tensors: a model held in another dtype runs as it is."""
    if amp is not None and dtype != "float32":
        raise SpecError(f"--amp runs a float32 model in {amp.dtype} where autocast casts it; this model is {dtype} "
                        "(leave out --dtype, or --amp)")


def policy(node: Node, amp: Amp) -> str:
    """The kind's place on the autocast lists of the device: lower, float32 or promote."""
    return REGISTRY[node.kind].autocast.policy(amp.device, node.args)


def output_dtype(node: Node, amp: Amp | None, inputs: tuple[str, ...], model_dtype: str) -> str:
    """The dtype of the layer's output, from its inputs' (`inputs`: those of floating point): the
    widest of them where it runs as they come (a parameter, reading none, is the model's)."""
    if amp is None:
        return model_dtype
    placed = policy(node, amp)
    if placed == "lower":
        return amp.dtype
    if placed == "float32" or not inputs or "float32" in inputs:
        return "float32"
    return inputs[0]
