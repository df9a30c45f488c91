"""Normalization layers (batch, instance, group, layer and local response norm) and the learnable
per-channel scale that follows them in residual branches."""
from __future__ import annotations

import math
from dataclasses import replace

from .facts import AS_IS, WITHOUT_STATISTICS, parameter_gradients
from .facts import (NN, OWN, SAVES_INPUT, SAVES_INPUT_AND_STATISTICS, WHOLE, Call, F, FromInput, MemoryFacts, Parameters,
                    TorchForms, Workspace, calls, elementwise, never)
from .facts import FLOAT32, FLOAT32_ON_CUDA, NO_PRODUCTS, PROMOTE
from .registry import (EACH_DIM, Arg, Calc, LayerError, Shape, any_int, boolean, check_rank, dim_index, int_list,
                       number, numel, optional, positive, register)

_RANKS = {"batchnorm1d": (1, 2), "batchnorm2d": (3,), "batchnorm3d": (4,),
          "instancenorm1d": (2,), "instancenorm2d": (3,), "instancenorm3d": (4,)}


def _stats_args(affine: bool, track: bool) -> tuple[Arg, ...]:
    return (Arg("eps", number, 1e-5), Arg("momentum", optional(number), 0.1),
            Arg("affine", boolean, affine), Arg("track_running_stats", boolean, track))


def channel_norm(kind: str):
    def calculate(shapes: tuple[Shape, ...], args: dict) -> Calc:
        (shape,) = shapes
        check_rank(shape, _RANKS[kind], kind)
        channels = shape[0]
        # running_mean and running_var, plus the one-element num_batches_tracked torch also keeps, an int64
        track = args["track_running_stats"]
        affine = channels if args["affine"] else 0
        return Calc(shape, weights=affine, biases=affine, buffers=2 * channels + 1 if track else 0,
                    int64_buffers=1 if track else 0)
    return calculate


def _affine(tensors: dict) -> dict | None:
    """affine is a weight and a bias together: one without the other is no layer of this kind."""
    given = (tensors["weight"] is not None, tensors["bias"] is not None)
    return {"affine": given[0]} if given[0] == given[1] else None


def _stats_reads(tensors: dict) -> dict | None:
    affine = _affine(tensors)
    return affine and {**affine, "track_running_stats": tensors["running_mean"] is not None}


# F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps), and
# F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)
_STATS_TENSORS = (("running_mean", 1), ("running_var", 2), ("weight", 3), ("bias", 4))
for _kind in _RANKS:
    _batch = _kind.startswith("batch")
    _function = Call(F + ("batch_norm" if _batch else "instance_norm"), (("momentum", 6), ("eps", 7)),
                     tensors=_STATS_TENSORS, reads=_stats_reads)
    register(_kind, family="norm", field_probe=WITHOUT_STATISTICS, backward=NO_PRODUCTS, args=_stats_args(_batch, _batch), autocast=PROMOTE,
             torch=TorchForms(module=NN + ("BatchNorm" if _batch else "InstanceNorm") + "{n}d", given_weight=None,
                              inferred=FromInput("num_features", 1), functions=(_function,), methods=(),
                              aliases=()),
             receptive_field=elementwise, memory=SAVES_INPUT_AND_STATISTICS)(channel_norm(_kind))


@register("groupnorm", family="norm", field_probe=WITHOUT_STATISTICS, autocast=FLOAT32_ON_CUDA, backward=NO_PRODUCTS, receptive_field=elementwise, memory=SAVES_INPUT_AND_STATISTICS,
          torch=TorchForms(module=NN + "GroupNorm", given_weight=None,
                           inferred=FromInput("num_channels", 1), methods=(), aliases=(),
                           functions=(Call(F + "group_norm", (("num_groups", 1), ("eps", 4)),
                                           tensors=(("weight", 2), ("bias", 3)),
                                           reads=_affine),)),
          args=(Arg("num_groups", positive), Arg("eps", number, 1e-5), Arg("affine", boolean, True)))
def group_norm(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    if len(shape) < 1 or shape[0] % args["num_groups"]:
        raise LayerError(f"{shape[0]} channels are not divisible by num_groups {args['num_groups']}")
    affine = shape[0] if args["affine"] else 0
    return Calc(shape, weights=affine, biases=affine)


@register("layernorm", family="norm", field_probe=WITHOUT_STATISTICS, autocast=FLOAT32_ON_CUDA, backward=NO_PRODUCTS, receptive_field=elementwise, memory=SAVES_INPUT_AND_STATISTICS,
          torch=TorchForms(module=NN + "LayerNorm", given_weight=None, inferred=None, methods=(), aliases=(),
                           functions=(Call(F + "layer_norm", (("normalized_shape", 1), ("eps", 4)),
                                           tensors=(("weight", 2), ("bias", 3)),
                                           reads=lambda t: {"elementwise_affine": t["weight"] is not None,
                                                            "bias": t["bias"] is not None}),)),
          args=(Arg("normalized_shape", int_list), Arg("eps", number, 1e-5),
                Arg("elementwise_affine", boolean, True), Arg("bias", boolean, True)))
def layer_norm(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    normalized = args["normalized_shape"]
    if tuple(shape[len(shape) - len(normalized):]) != normalized or len(normalized) > len(shape):
        raise LayerError(f"normalized_shape {list(normalized)} does not match the trailing dims of {list(shape)}")
    size = numel(normalized) if args["elementwise_affine"] else 0
    return Calc(shape, weights=size, biases=size if args["bias"] else 0)


@register("rmsnorm", family="norm", field_probe=WITHOUT_STATISTICS, autocast=PROMOTE, backward=NO_PRODUCTS, receptive_field=elementwise, memory=SAVES_INPUT,
          torch=TorchForms(module=NN + "RMSNorm", given_weight=None, inferred=None, methods=(), aliases=(),
                           functions=(Call(F + "rms_norm", (("normalized_shape", 1), ("eps", 3)),
                                           tensors=(("weight", 2),),
                                           reads=lambda t: {"elementwise_affine": t["weight"] is not None}),)),
          args=(Arg("normalized_shape", int_list), Arg("eps", optional(number), None),
                Arg("elementwise_affine", boolean, True)))
def rms_norm(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """x / sqrt(mean(x²) + eps) over the trailing dims, times a weight (no bias)."""
    (shape,) = shapes
    normalized = args["normalized_shape"]
    if tuple(shape[len(shape) - len(normalized):]) != normalized or len(normalized) > len(shape):
        raise LayerError(f"normalized_shape {list(normalized)} does not match the trailing dims of {list(shape)}")
    return Calc(shape, weights=numel(normalized) if args["elementwise_affine"] else 0)


# F.local_response_norm is written in ops: x·x padded along channels, averaged, scaled, raised to -β,
# then x divided by it. In inference two of those temporaries are alive at once beside the output
# (two float32 elements per output element, measured); in training autograd keeps, besides the
# input, the padded squares (their padding, (size - 1) / channels of a tensor, left out), the
# scaled average and its power.
_LRN = MemoryFacts(aliases=never, aliases_in_training=never, saved="input", gradient="each input",
                   extra_saved=lambda args, size: 3 * size, transient=lambda args, size: 2 * size, last_saved="read",
                   workspace=parameter_gradients, copies=None, estimate=None)


# its avg_pool3d is on the CPU's float32 list, its pow on CUDA's
@register("localresponsenorm", family="norm", field_probe=AS_IS, autocast=FLOAT32, backward=NO_PRODUCTS, receptive_field=elementwise, memory=_LRN,
          torch=TorchForms(module=NN + "LocalResponseNorm", given_weight=None, inferred=None,
                           functions=calls(F + "local_response_norm", size=1, alpha=2, beta=3, k=4), methods=(),
                           aliases=()),
          args=(Arg("size", positive), Arg("alpha", number, 1e-4), Arg("beta", number, 0.75),
                Arg("k", number, 1.0)))
def local_response_norm(shapes: tuple[Shape, ...], args: dict) -> Calc:
    check_rank(shapes[0], (2, 3, 4), "localresponsenorm")
    return Calc(shapes[0])


# x · gamma: the float32 gamma promotes the product to float32
@register("layerscale", family="norm", field_probe=AS_IS, autocast=FLOAT32,
          backward=NO_PRODUCTS, args=(Arg("init_values", number, 1e-5),), receptive_field=elementwise,
          memory=SAVES_INPUT,
          torch=TorchForms(module=OWN + "LayerScale", given_weight=None,
                           inferred=FromInput("dim", 1), functions=(), methods=(),
                           aliases=()))
def layer_scale(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """x · γ with one learnable γ per channel (timm's LayerScale2d, ConvNeXt's gamma): no MACs."""
    check_rank(shapes[0], (1, 2, 3, 4), "layerscale")
    return Calc(shapes[0], weights=shapes[0][0])


def normalize_field(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """Over channels, each position alone; over a spatial axis, every position along it."""
    return elementwise(args, shapes, out) if dim_index(args["dim"], len(shapes[0])) == 0 else WHOLE


def _normalize_holds(args: dict, shapes: tuple[Shape, ...], batch: int, element_size: int,
                     parameters: Parameters) -> Workspace:
    """F.normalize is input / input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input): the norm and its
    clamp, a value per row each, kept for backward, the clamp alive beside the output in inference; in
    backward the divisor's gradient, -grad * self / (other * other), holds three tensors of the input's
    size."""
    (shape,) = shapes
    elements = math.prod(shape)
    rows = elements // shape[dim_index(args["dim"], len(shape))]
    return Workspace(saved=2 * rows * batch, running=0, inference=rows * batch,
                     gradients=3 * elements * batch, largest_parameter=0)


# its norm is on CUDA's float32 list
@register("normalize", family="norm", field_probe=AS_IS, autocast=FLOAT32_ON_CUDA, backward=NO_PRODUCTS,
          receptive_field=normalize_field, memory=replace(SAVES_INPUT, workspace=_normalize_holds),
          torch=TorchForms(module=OWN + "Normalize", given_weight=None, inferred=None, methods=(), aliases=(),
                           functions=calls(F + "normalize", p=1, dim=2, eps=3)),
          args=(Arg("p", number, 2.0), Arg("dim", any_int, 1, names_dims=EACH_DIM), Arg("eps", number, 1e-12)))
def normalize(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """x / max(‖x‖_p, eps) along dim (F.normalize; no module, no parameters)."""
    dim_index(args["dim"], len(shapes[0]))
    return Calc(shapes[0])
