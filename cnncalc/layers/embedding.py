"""Lookup tables: nn.Embedding and nn.EmbeddingBag. The input holds integer ids (token ids: an int64
input, `--input 128:int64`); each id picks a row of the table. A lookup multiplies nothing:
FlopCounterMode, fvcore, ptflops and thop count none, torchinfo counts its table × batch as for any
weight."""
from __future__ import annotations

from .facts import AS_IS, NN, NO_GRADIENT, OWN, SAVES_INPUT, UNTRACKED, Call, F, TorchForms, calls
from .facts import NO_PRODUCTS, PROMOTE
from .registry import Arg, Calc, LayerError, Shape, choice, optional, any_int, positive, register

_TABLE = (Arg("num_embeddings", positive), Arg("embedding_dim", positive), Arg("padding_idx", optional(any_int), None))


def untracked(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """Ids are no positions of a field: a vector per id, along a new last axis."""
    return UNTRACKED


def _padding_idx(args: dict) -> None:
    # nn.Embedding: padding_idx must be within num_embeddings (negative ones counting from the end)
    index, rows = args["padding_idx"], args["num_embeddings"]
    if index is not None and not -rows <= index < rows:
        raise LayerError(f"padding_idx {index:,} is outside the table's {rows:,} rows")


# backward keeps the ids (embedding_backward reads them) and makes a gradient of the whole table
@register("embedding", family="embedding", field_probe=AS_IS, autocast=PROMOTE,
          backward=NO_PRODUCTS, receptive_field=untracked, memory=SAVES_INPUT, args=_TABLE,
          torch=TorchForms(module=NN + "Embedding", given_weight=None, inferred=None, methods=(), aliases=(),
                           functions=(Call(F + "embedding", positions=(("padding_idx", 2),),
                                           tensors=(("weight", 1),),
                                           reads=lambda t: {"num_embeddings": t["weight"][0],
                                                            "embedding_dim": t["weight"][1]}),)))
def embedding(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    _padding_idx(args)
    return Calc((*shape, args["embedding_dim"]), weights=args["num_embeddings"] * args["embedding_dim"])


# a bag of ids per sample (a 2-d input, no offsets): their rows summed, averaged or maxed into one vector
@register("embeddingbag", family="embedding", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, receptive_field=untracked, memory=SAVES_INPUT,
          args=(*_TABLE, Arg("mode", choice("sum", "mean", "max"), "mean")),
          torch=TorchForms(module=NN + "EmbeddingBag", given_weight=None, inferred=None, methods=(), aliases=(),
                           functions=()))
def embeddingbag(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    _padding_idx(args)
    if len(shape) != 1:
        raise LayerError(f"embeddingbag takes a bag of ids per sample (1-d), got {len(shape)}-d")
    return Calc((args["embedding_dim"],), weights=args["num_embeddings"] * args["embedding_dim"])


# F.one_hot(ids, num_classes): each id as a row of num_classes int64 zeros and a one (a router's choice of
# experts, a target's class); no gradient goes through it
@register("onehot", family="embedding", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS,
          receptive_field=untracked, memory=NO_GRADIENT, makes="int64", args=(Arg("num_classes", positive),),
          torch=TorchForms(module=OWN + "OneHot", given_weight=None, inferred=None, methods=(), aliases=(),
                           functions=calls(F + "one_hot", num_classes=1)))
def onehot(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    return Calc((*shape, args["num_classes"]))
