"""Layers that change the spatial size without weights: zero, reflection and replication padding,
upsampling, sampling at a grid of points, and the grid an affine transform makes."""
from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

from .facts import (AS_IS, NN, OWN, SAVES_INPUT, SAVES_NOTHING, Call, Exact, F, MemoryFacts, TorchForms, Window, calls,
                    never, no_bytes, parameter_gradients, unit_window, whole)
from .facts import (FLOAT32_ON_CUDA, LOWER, NO_PRODUCTS, PROMOTE, BackwardFacts, BackwardWork, Gradients, Parameters,
                    Workspace,
                    float32_on_cpu_in)
from ..errors import quoted
from ..graph import TORCH_INT_MAX
from .rearrange import BATCH
from .registry import (Arg, Calc, LayerError, Shape, any_int, boolean, check_rank, choice, format_shape, number,
                       optional, positive, register)


def pad_arg(value, n: int):
    values = value if isinstance(value, (list, tuple)) else [value] * (2 * n)
    if len(values) != 2 * n:
        raise LayerError(f"expected one integer or {2 * n} (left, right, top, bottom, ...), got {list(values)}")
    return tuple(any_int(v) for v in values)


def pad_shift(args: dict, shapes: tuple[Shape, ...], out: Shape) -> tuple[Window, ...]:
    """Padding shifts the field by the left (top, front) padding; torch lists pairs from the last dim back."""
    spatial, left = len(shapes[0]) - 1, list(reversed(args["padding"][0::2]))
    left = left[len(left) - spatial:] if len(left) > spatial else [0] * (spatial - len(left)) + left  # not channels
    return (unit_window(spatial, padding=left),)


@register("zeropad1d", "zeropad2d", "zeropad3d", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, args=(Arg("padding", pad_arg),),
          receptive_field=pad_shift, memory=SAVES_NOTHING,
          torch=TorchForms(module=NN + "ZeroPad{n}d", given_weight=None, inferred=None, methods=(), aliases=(),
                           functions=(Call(F + "pad", pairs="padding", positions=(("padding", 1),),
                                           fixed=(("mode", 2, ("constant",)), ("value", 3, (None, 0, 0.0)))),)))
def zero_pad(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    padding = args["padding"]
    n = len(padding) // 2
    if len(shape) < n:  # F.pad may pad every dim of a sample (channels-last's channels), never the batch
        raise LayerError(f"a {n}d pad needs at least {n} dims per sample, got {format_shape(shape)}")
    # padding pairs run from the last dim backwards, as in torch.nn.functional.pad
    last = [size + padding[2 * i] + padding[2 * i + 1] for i, size in enumerate(reversed(shape[-n:]))]
    out = (*shape[:-n], *reversed(last))
    if min(out) < 1:
        raise LayerError(f"negative padding leaves an empty output {format_shape(out)}")
    return Calc(out)


def pad_value(value, n: int = 0) -> float:
    """A number to pad with, infinities included (a max pool's same padding pads with -inf)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise LayerError(f"expected a number, got {quoted(value)}")
    return value


register("constantpad1d", "constantpad2d", "constantpad3d", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS,
         args=(Arg("padding", pad_arg), Arg("value", pad_value)), receptive_field=pad_shift, memory=SAVES_NOTHING,
         torch=TorchForms(module=NN + "ConstantPad{n}d", given_weight=None, inferred=None, methods=(), aliases=(),
                          functions=(Call(F + "pad", pairs="padding", positions=(("padding", 1), ("value", 3)),
                                          fixed=(("mode", 2, ("constant",)),)),)))(zero_pad)


def _padded_index(mode: str):
    """Output unit o of a padded axis reads input unit `index(o - left, size)`: mirrored without
    repeating the edge (reflect), or the edge repeated (replicate)."""
    if mode == "reflect":
        return lambda j, size: -j if j < 0 else 2 * (size - 1) - j if j >= size else j
    return lambda j, size: min(max(j, 0), size - 1)


def copy_pad_field(mode: str):
    index = _padded_index(mode)

    def field(args: dict, shapes: tuple[Shape, ...], out: Shape) -> Exact:
        spatial = len(shapes[0]) - 1
        left = [0] * (spatial - len(args["padding"]) // 2) + list(reversed(args["padding"][0::2]))

        def reads(axis: int, lo: int, hi: int, size: int, out_size: int) -> tuple[int, int]:
            """The index is monotone but at the edges 0 and size − 1 (a mirror's turning points): the
            extremes lie at the run's ends or there, in closed form however long the run."""
            first, last = lo - left[axis], hi - left[axis]
            units = [index(j, size) for j in (first, last, *(edge for edge in (0, size - 1) if first <= edge <= last))]
            return min(units), max(units)
        return Exact(windows=pad_shift(args, shapes, out), reads=reads)
    return field


def _copy_pad(kind: str, mode: str):
    def calculate(shapes: tuple[Shape, ...], args: dict) -> Calc:
        pads = args["padding"]
        check_rank(shapes[0], (len(pads) // 2, len(pads) // 2 + 1), f"{kind}{len(pads) // 2}d")  # as torch's kernels
        calc = zero_pad(shapes, args)
        sizes = list(reversed(shapes[0][1:]))
        for axis, size in enumerate(sizes[:len(pads) // 2]):
            if mode == "reflect" and max(pads[2 * axis], pads[2 * axis + 1]) >= size:
                raise LayerError(f"reflection padding {max(pads[2 * axis], pads[2 * axis + 1])} must be below the "
                                 f"size it mirrors, {size}")
        return calc
    calculate.__name__ = kind
    return calculate


# reflection_pad{n}d_backward and replication_pad{n}d_backward read their input (derivatives.yaml)
# the CPU's float32 list has reflection_pad1d and 2d, and replication_pad1d, 2d and 3d
for _mode, _module, _kind, _autocast in (("reflect", "ReflectionPad", "reflectionpad", float32_on_cpu_in(1, 2)),
                                         ("replicate", "ReplicationPad", "replicationpad", float32_on_cpu_in(1, 2, 3))):
    register(_kind + "1d", _kind + "2d", _kind + "3d", family="shape", field_probe=AS_IS, autocast=_autocast,
             backward=NO_PRODUCTS, args=(Arg("padding", pad_arg),),
             receptive_field=copy_pad_field(_mode), memory=SAVES_INPUT,
             torch=TorchForms(module=NN + _module + "{n}d", given_weight=None, inferred=None, methods=(), aliases=(),
                              functions=(Call(F + "pad", pairs="padding", positions=(("padding", 1),),
                                              fixed=(("mode", 2, (_mode,)),)),)))(
        _copy_pad(_kind, _mode))


def size_or_scale(value, n: int):
    """One size or scale for every spatial dim, or one each; a scale is a finite positive number."""
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    for item in values:
        if number(item) <= 0:
            raise LayerError(f"expected a positive number, got {quoted(item)}")
    return values if isinstance(value, (list, tuple)) else value


_UPSAMPLE_RANKS = {"nearest": (2, 3, 4), "nearest-exact": (2, 3, 4), "linear": (2,), "bilinear": (3,),
                   "bicubic": (3,), "trilinear": (4,)}


def upsample_window(args: dict, shapes: tuple[Shape, ...], out: Shape) -> Exact:
    """A mean jump of in/out per axis ((bi/tri)linear and bicubic modes mix neighbours); exactly,
    each output unit reads the source index PyTorch computes for it."""
    n = len(out) - 1
    kernel = 1 if args["mode"].startswith("nearest") else 2
    window = Window(kernel=(kernel,) * n, stride=tuple(Fraction(i, o) for i, o in zip(shapes[0][1:], out[1:])),
                    padding=(0,) * n, dilation=(1,) * n)
    return Exact(windows=(window,), reads=lambda axis, lo, hi, size, out_size: (
        _sources(args, axis, lo, size, out_size)[0], _sources(args, axis, hi, size, out_size)[1]))


def _scale(args: dict, axis: int, size: int, out_size: int) -> Fraction:
    """Input units per output unit, as interpolate uses it: 1/scale_factor when one is given."""
    if args["align_corners"] and args["mode"] not in ("nearest", "nearest-exact"):
        return Fraction(size - 1, out_size - 1) if out_size > 1 else Fraction(0)
    factor = args["scale_factor"]
    if factor is None:
        return Fraction(size, out_size)
    factor = factor[axis] if isinstance(factor, tuple) else factor
    return 1 / Fraction(factor)


def _sources(args: dict, axis: int, unit: int, size: int, out_size: int) -> tuple[int, int]:
    """The first and last input unit one output unit reads with a nonzero weight."""
    scale, mode = _scale(args, axis, size, out_size), args["mode"]
    if mode in ("nearest", "nearest-exact"):
        index = min(math.floor((unit + Fraction(1, 2) * (mode == "nearest-exact")) * scale), size - 1)
        return index, index
    source = unit * scale if args["align_corners"] else (unit + Fraction(1, 2)) * scale - Fraction(1, 2)
    if mode == "bicubic":
        first, weighted = math.floor(source), source != math.floor(source)
        return (max(first - weighted, 0), min(first + 2 * weighted, size - 1)) if weighted else \
            (min(max(first, 0), size - 1),) * 2
    source = max(source, 0)
    first = min(math.floor(source), size - 1)
    return first, min(first + (source > first), size - 1)


# CUDA's autocast runs every upsampling mode in float32 (its fp32 list)
@register("upsample", family="shape", field_probe=AS_IS, autocast=FLOAT32_ON_CUDA, backward=NO_PRODUCTS, receptive_field=upsample_window, memory=SAVES_NOTHING,
          torch=TorchForms(module=NN + "Upsample", given_weight=None, inferred=None, methods=(),
                           functions=calls(F + "interpolate", size=1, scale_factor=2, mode=3, align_corners=4),
                           aliases=()),
          args=(Arg("size", optional(size_or_scale), None),
                Arg("scale_factor", optional(size_or_scale), None),
                Arg("mode", choice(*_UPSAMPLE_RANKS), "nearest"),
                Arg("align_corners", optional(boolean), None)))
def upsample(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    check_rank(shape, _UPSAMPLE_RANKS[args["mode"]], f"upsample mode '{args['mode']}'")
    n = len(shape) - 1
    size, scale = args["size"], args["scale_factor"]
    if (size is None) == (scale is None):
        raise LayerError("give exactly one of size and scale_factor")
    if args["align_corners"] is not None and args["mode"] not in ("linear", "bilinear", "bicubic", "trilinear"):
        raise LayerError("align_corners only applies to linear, bilinear, bicubic and trilinear modes")
    if size is not None:
        spatial = size if isinstance(size, tuple) else (size,) * n
        spatial = tuple(positive(s) for s in spatial)
    else:
        scales = scale if isinstance(scale, tuple) else (scale,) * n
        # torch computes floor(input_size * scale_factor) in double precision, then holds it as an int64
        scaled = [s * float(f) for s, f in zip(shape[1:], scales)]
        if max(scaled) > TORCH_INT_MAX:
            raise LayerError(f"scale_factor {quoted(scale)} makes sizes past 2^63 - 1, more than torch can hold")
        spatial = tuple(math.floor(size) for size in scaled)
    if len(spatial) != n or min(spatial) < 1:
        raise LayerError(f"upsample output {list(spatial)} does not fit a {n}-d spatial input")
    return Calc((shape[0], *spatial))


# F.grid_sample(input, grid): the input sampled at each grid point ((x, y) in [-1, 1]); leading dims
# the two share are rows, each sampled on its own (RAFT's correlation volume, B·H·W rows, looked up
# around each pixel). FlopCounterMode counts none of it. Backward hands gradients to the input and
# the grid, keeping both (derivatives.yaml: grid_sampler_2d)
@register("gridsample", family="shape", field_probe=AS_IS, autocast=FLOAT32_ON_CUDA, arity=2, backward=NO_PRODUCTS, receptive_field=whole,
          memory=MemoryFacts(aliases=never, aliases_in_training=never, saved="inputs", gradient="each input",
                             extra_saved=no_bytes, transient=no_bytes, last_saved="read", workspace=parameter_gradients,
                             copies=None, estimate=None),
          args=(Arg("mode", choice("bilinear", "nearest", "bicubic"), "bilinear"),
                Arg("padding_mode", choice("zeros", "border", "reflection"), "zeros"),
                Arg("align_corners", optional(boolean), None)),
          torch=TorchForms(module=OWN + "GridSample", given_weight=None, inferred=None, methods=(), aliases=(),
                           functions=calls(F + "grid_sample", mode=2, padding_mode=3, align_corners=4)))
def grid_sample(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """(…, C, H, W) sampled at a grid (…, H_out, W_out, 2) of the same leading dims: (…, C, H_out, W_out)."""
    features, grid = shapes
    if len(features) < 3 or len(grid) != len(features) or grid[-1] != 2 or grid[:-3] != features[:-3]:
        raise LayerError(f"grid_sample takes (…, C, H, W) and a grid (…, H_out, W_out, 2) with the same leading "
                         f"dims, got {format_shape(features)} and {format_shape(grid)}")
    return Calc((*features[:-2], *grid[-3:-1]))


def grid_size(value, n: int = 0) -> tuple:
    """The size F.affine_grid takes, as torch's: the batch first (`batch`, as x.size() gives it), then C, H, W
    (or C, D, H, W)."""
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if len(values) not in (4, 5) or values[0] != BATCH:
        raise LayerError(f"size is the batch (write {BATCH}), then C, H, W or C, D, H, W, got {list(values)}")
    return (BATCH, *(positive(size) for size in values[1:]))


def _grid_backward(shapes: tuple[Shape, ...], args: dict, calc, gradients: Gradients) -> BackwardWork:
    """theta's gradient: the output's gradient times the base grid, one bmm of the forward's size."""
    spatial = args["size"][2:]
    return BackwardWork(inputs=math.prod(spatial) * (len(spatial) + 1) * len(spatial) * gradients.inputs[0],
                        parameters=0)


def _base_grid(args: dict, shapes: tuple[Shape, ...], batch: int, element_size: int,
                parameters: Parameters) -> Workspace:
    """The base grid, each point's coordinates and a 1, that a training pass's forward multiplies by thetaᵀ and its
    backward makes again to multiply the output's gradient by, held while each runs (inference's, inside its one
    op, is the kernel's scratch, as a convolution's workspace is)."""
    spatial = args["size"][2:]
    grid = batch * math.prod(spatial) * (len(spatial) + 1)
    return replace(parameter_gradients(args, shapes, batch, element_size, parameters), running=grid, gradients=grid)


# F.affine_grid(theta, size): each sample's affine matrix (2 × 3, or 3 × 4 in 3-d) maps the output's
# pixel centres (a grid in [-1, 1]) to where F.grid_sample reads them (PyTorch's spatial transformer
# tutorial). ATen multiplies the base grid, H·W points with a 1 after their coordinates, by thetaᵀ in one
# bmm, inside one op (affine_grid_generator) that FlopCounterMode has no rule for: no MACs forward; its
# backward's bmm it counts. Autocast runs that bmm as it runs bmm. Backward keeps no tensor
# (derivatives.yaml: size and align_corners) and makes the base grid again
@register("affinegrid", family="shape", field_probe=AS_IS, autocast=LOWER, receptive_field=whole,
          backward=BackwardFacts(differentiates="each input", work=_grid_backward),
          memory=replace(SAVES_NOTHING, workspace=_base_grid),
          args=(Arg("size", grid_size), Arg("align_corners", optional(boolean), None)),
          torch=TorchForms(module=OWN + "AffineGrid", given_weight=None, inferred=None, methods=(), aliases=(),
                           functions=calls(F + "affine_grid", size=1, align_corners=2)))
def affine_grid(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """theta (k × k+1) per sample, k the spatial dims of `size`: a grid (…spatial, k) of points."""
    (theta,) = shapes
    spatial = args["size"][2:]
    k = len(spatial)
    if theta != (k, k + 1):
        raise LayerError(f"affine_grid at a size of {k} spatial dims takes a {k} × {k + 1} matrix per sample, "
                         f"got {format_shape(theta)}")
    return Calc((*spatial, k))
