"""Fully connected layers."""
from __future__ import annotations

from dataclasses import replace

from .facts import AS_IS, NN, SAVES_INPUT, WHOLE, Call, F, FromInput, TorchForms, folded_by_a_copy
from .facts import LOWER, BackwardFacts, BackwardWork, Gradients
from .registry import Arg, Calc, LayerError, Shape, boolean, numel, positive, register


def linear_field(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """A linear layer mixes the last dim: over spatial positions when the input has any."""
    return WHOLE if len(shapes[0]) > 1 else ()


def linear_backward(shapes: tuple[Shape, ...], args: dict, calc: Calc, gradients: Gradients) -> BackwardWork:
    """dx = dy·W and dW = dyᵀ·x, each a product as large as forward's (the bias's gradient, a sum, has no MACs)."""
    return BackwardWork(inputs=calc.macs if gradients.inputs[0] else 0,
                        parameters=calc.macs if gradients.parameters else 0)


@register("linear", family="linear", field_probe=AS_IS, autocast=LOWER, receptive_field=linear_field,
          memory=replace(SAVES_INPUT, copies=folded_by_a_copy),
          backward=BackwardFacts(differentiates="each input", work=linear_backward),
          torch=TorchForms(module=NN + "Linear", given_weight=None,
                           inferred=FromInput("in_features", -1), methods=(), aliases=(),
                           functions=(Call(F + "linear", tensors=(("weight", 1), ("bias", 2)), bias_apart=True,
                                           reads=lambda t: {"out_features": t["weight"][0],
                                                            "bias": t["bias"] is not None}),
                                      # GPT-2's Conv1D: torch.addmm(bias, x.view(-1, nx), weight), the
                                      # weight stored (in, out)
                                      Call("torch.addmm", tensors=(("bias", 0), ("weight", 2)),
                                           reads=lambda t: None if t["bias"] is None or t["weight"] is None
                                           else {"out_features": t["weight"][1], "bias": True}))),
          args=(Arg("out_features", positive), Arg("bias", boolean, True)),
          explain=lambda s, a, c: [f"weights: {s[0][-1]:,} × {a['out_features']:,} = {c.weights:,}"
                                   + (f"; biases: {c.biases:,}" if c.biases else "; no bias"),
                                   f"MACs: {numel(s[0][:-1])} × {s[0][-1]:,} × {a['out_features']:,} = {c.macs:,}"])
def linear(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    if not shape:
        raise LayerError("linear needs at least a 1-d input per sample")
    out = (*shape[:-1], args["out_features"])
    weights = shape[-1] * args["out_features"]
    return Calc(out, weights=weights, biases=args["out_features"] if args["bias"] else 0,
                macs=numel(shape[:-1]) * weights)
