"""Element-wise activations, dropout and identity: the output has the input's shape."""
from __future__ import annotations

from .registry import (Arg, Calc, Shape, always, any_int, boolean, check_rank, choice, inplace, number,
                       optional, register)

_INPLACE = (Arg("inplace", boolean, False),)
ACTIVATIONS = {
    "relu": ("ReLU", _INPLACE),
    "relu6": ("ReLU6", _INPLACE),
    "leakyrelu": ("LeakyReLU", (Arg("negative_slope", number, 0.01),) + _INPLACE),
    "elu": ("ELU", (Arg("alpha", number, 1.0),) + _INPLACE),
    "gelu": ("GELU", (Arg("approximate", choice("none", "tanh"), "none"),)),
    "silu": ("SiLU", _INPLACE),
    "sigmoid": ("Sigmoid", ()),
    "tanh": ("Tanh", ()),
    "hardswish": ("Hardswish", _INPLACE),
    "hardsigmoid": ("Hardsigmoid", _INPLACE),
    "softmax": ("Softmax", (Arg("dim", optional(any_int), None),)),
    "logsoftmax": ("LogSoftmax", (Arg("dim", optional(any_int), None),)),
}
_DROPOUT = {"dropout": ("Dropout", None), "alphadropout": ("AlphaDropout", None),
            "dropout1d": ("Dropout1d", (2,)), "dropout2d": ("Dropout2d", (3,)),
            "dropout3d": ("Dropout3d", (4,))}


def same_shape(shapes: tuple[Shape, ...], args: dict) -> Calc:
    return Calc(shapes[0])


for _kind, (_torch, _args) in ACTIVATIONS.items():
    register(_kind, family="activation", args=_args, torch=_torch, aliases=inplace)(same_shape)

# identity and dropout in eval mode return their input tensor itself
register("identity", family="activation", torch="Identity", aliases=always)(same_shape)


def dropout(ranks):
    def calculate(shapes: tuple[Shape, ...], args: dict) -> Calc:
        if ranks:
            check_rank(shapes[0], ranks, "channel dropout")
        return Calc(shapes[0])
    return calculate


for _kind, (_torch, _ranks) in _DROPOUT.items():
    register(_kind, family="dropout", torch=_torch, aliases=always,
             args=(Arg("p", number, 0.5),) + _INPLACE)(dropout(_ranks))
