"""Element-wise activations, element-wise math, dropout and identity: the output has the input's shape."""
from __future__ import annotations

from dataclasses import replace

import math

from ..errors import LayerError
from .facts import AS_IS, parameter_gradients
from .facts import (NN, OWN, SAVES_INPUT, SAVES_NOTHING, SAVES_OUTPUT, VIEW, WHOLE, Alias, Call, F, MemoryFacts,
                    TorchForms, always, calls, element_mask, elementwise, inplace, never, no_bytes)
from .facts import FLOAT32_ON_CUDA, LOWER, NO_PRODUCTS, PROMOTE, noise_unless_kept, temporaries
from .registry import (EACH_DIM, REQUIRED, Arg, Calc, Shape, any_int, boolean, check_rank, choice, dim_in_range,
                       dim_index, format_shape, non_negative_number, number, optional, positive, probability,
                       register)

_INPLACE = (Arg("inplace", boolean, False),)
_SAVES_INPUT = MemoryFacts(aliases=inplace, aliases_in_training=inplace,
                           saved="input", gradient="each input", extra_saved=no_bytes, transient=no_bytes, last_saved="read",
                           workspace=parameter_gradients, copies=None, estimate=None)
# An in-place op whose derivative reads its input (hardtanh, which ReLU6 is; silu_, hardswish_,
# hardsigmoid_) makes autograd keep a copy of the input before overwriting it (the codegen's
# original_self clone) and saves that copy alone; relu_, leaky_relu_ and elu_ need only their result.
_COPIES_INPUT_IN_PLACE = MemoryFacts(aliases=inplace, aliases_in_training=inplace,
                                     saved=lambda args: "nothing" if args["inplace"] else "input",
                                     gradient="each input", transient=no_bytes,
                                     extra_saved=lambda args, size: size if args["inplace"] else 0, last_saved="read",
                                     workspace=parameter_gradients, copies=None, estimate=None)


def _made_in_place(args: dict) -> str:
    """leaky_relu and elu save their input, before running; in place, their result, after."""
    return "made" if args["inplace"] else "read"


_SAVES_INPUT_OR_RESULT = replace(_SAVES_INPUT, last_saved=_made_in_place)


def _backward_holding(memory: MemoryFacts, tensors: int) -> MemoryFacts:
    """`memory`, its backward holding `tensors` temporaries as large as its output besides its input's
    gradient: its derivative's formula, computed a step at a time (derivatives.yaml: cos's grad * -self.sin()
    holds the sine and its negation)."""
    return replace(memory, workspace=temporaries(backward=tensors))


def _forms(module: str, *functions: str, methods: tuple[str, ...] = (), in_place: tuple[str, ...] = (),
           **positions: int) -> TorchForms:
    """The module, its functions and tensor methods, each argument at the same place (the tensor, or self,
    0); `in_place` names the functions (dotted) and methods that are the call in place (F.relu_, x.relu_())."""
    kept = {key: place for key, place in positions.items() if key != "inplace"}
    spelled = [Call(path, tuple(kept.items()), implied=(("inplace", True),)) for path in in_place]
    return TorchForms(module=NN + module, given_weight=None, inferred=None, aliases=(),
                      functions=calls(*functions, **positions) + tuple(c for c in spelled if "." in c.path),
                      methods=calls(*methods, **positions) + tuple(c for c in spelled if "." not in c.path))


# kind → its arguments, its PyTorch forms, and what autograd keeps: the output where the derivative
# is written in terms of it (derivatives.yaml: relu, sigmoid, tanh, softmax), else the input
ACTIVATIONS = {
    "relu": (_INPLACE, _forms("ReLU", F + "relu", "torch.relu", methods=("relu",),
                              in_place=(F + "relu_", "torch.relu_", "relu_"), inplace=1), SAVES_OUTPUT),
    "relu6": (_INPLACE, _forms("ReLU6", F + "relu6", inplace=1), _COPIES_INPUT_IN_PLACE),
    "leakyrelu": ((Arg("negative_slope", number, 0.01),) + _INPLACE,
                  _forms("LeakyReLU", F + "leaky_relu", in_place=(F + "leaky_relu_",), negative_slope=1, inplace=2),
                  _SAVES_INPUT_OR_RESULT),
    # elu keeps its input (derivatives.yaml: elu_backward(..., is_result=false, self)), in place its result
    "elu": ((Arg("alpha", number, 1.0),) + _INPLACE,
            _forms("ELU", F + "elu", in_place=(F + "elu_",), alpha=1, inplace=2), _SAVES_INPUT_OR_RESULT),
    "gelu": ((Arg("approximate", choice("none", "tanh"), "none"),), _forms("GELU", F + "gelu", approximate=1),
             _SAVES_INPUT),
    "silu": (_INPLACE, _forms("SiLU", F + "silu", inplace=1), _COPIES_INPUT_IN_PLACE),
    "sigmoid": ((), _forms("Sigmoid", "torch.sigmoid", F + "sigmoid", "torch.special.expit", methods=("sigmoid",)),
                SAVES_OUTPUT),
    "tanh": ((), _forms("Tanh", "torch.tanh", F + "tanh", methods=("tanh",)), SAVES_OUTPUT),
    "hardswish": (_INPLACE, _forms("Hardswish", F + "hardswish", inplace=1), _COPIES_INPUT_IN_PLACE),
    "hardsigmoid": (_INPLACE, _forms("Hardsigmoid", F + "hardsigmoid", inplace=1), _COPIES_INPUT_IN_PLACE),
    "softmax": ((Arg("dim", optional(any_int), None, names_dims=EACH_DIM),),
                TorchForms(module=NN + "Softmax", given_weight=None,
                           inferred=None,
                           functions=calls(F + "softmax", "torch.softmax", "torch.special.softmax", dim=1),
                           methods=calls("softmax", dim=1), aliases=()), SAVES_OUTPUT),
    "logsoftmax": ((Arg("dim", optional(any_int), None, names_dims=EACH_DIM),),
                   TorchForms(module=NN + "LogSoftmax", given_weight=None, inferred=None,
                              functions=calls(F + "log_softmax", "torch.log_softmax", "torch.special.log_softmax",
                                              dim=1),
                              methods=calls("log_softmax", dim=1), aliases=()), SAVES_OUTPUT),
    "hardtanh": ((Arg("min_val", number, -1.0), Arg("max_val", number, 1.0)) + _INPLACE,
                 _forms("Hardtanh", F + "hardtanh", in_place=(F + "hardtanh_",), min_val=1, max_val=2, inplace=3),
                 _COPIES_INPUT_IN_PLACE),
    "softplus": ((Arg("beta", number, 1.0), Arg("threshold", number, 20.0)),
                 _forms("Softplus", F + "softplus", beta=1, threshold=2), _SAVES_INPUT),
    "mish": (_INPLACE, _forms("Mish", F + "mish", inplace=1), _COPIES_INPUT_IN_PLACE),
    # selu and celu are elu with other constants (torch computes both by elu)
    "selu": (_INPLACE, _forms("SELU", F + "selu", "torch.selu", in_place=(F + "selu_", "torch.selu_"), inplace=1),
             _SAVES_INPUT_OR_RESULT),
    "celu": ((Arg("alpha", number, 1.0),) + _INPLACE,
             _forms("CELU", F + "celu", "torch.celu", in_place=(F + "celu_", "torch.celu_"), alpha=1, inplace=2),
             _SAVES_INPUT_OR_RESULT),
    # zero within lambd of 0, else the input (hard) or the input moved lambd towards 0 (soft)
    "hardshrink": ((Arg("lambd", number, 0.5),),
                   _forms("Hardshrink", F + "hardshrink", "torch.hardshrink", methods=("hardshrink",), lambd=1),
                   SAVES_INPUT),
    "softshrink": ((Arg("lambd", non_negative_number, 0.5),), _forms("Softshrink", F + "softshrink", lambd=1),
                   SAVES_INPUT),
    # composites torch writes in Python, each holding a temporary as large as its input while it runs:
    # softsign's input / (input.abs() + 1) saves the input and the sum, tanhshrink's input - input.tanh()
    # the tanh (its last save, a step before the subtraction, which a checkpoint's recomputation so does
    # not run), softmin's (-input).softmax(dim) its output (the negation goes when it is done)
    "softsign": ((), _forms("Softsign", F + "softsign"),
                 replace(_SAVES_INPUT, workspace=temporaries(saved=1, inference=1, backward=3))),
    "tanhshrink": ((), _forms("Tanhshrink", F + "tanhshrink"),
                   replace(SAVES_NOTHING, last_saved="read",
                           workspace=temporaries(saved=1, inference=1, backward=1))),
    "softmin": ((Arg("dim", optional(any_int), None, names_dims=EACH_DIM),), _forms("Softmin", F + "softmin", dim=1),
                replace(SAVES_OUTPUT, workspace=temporaries(running=1, inference=1))),
    # a leaky unit whose slope is drawn between lower and upper in training, their mean in eval; either
    # way torch makes a noise tensor as large as the input, and autograd keeps it
    "rrelu": ((Arg("lower", number, 1 / 8), Arg("upper", number, 1 / 3)) + _INPLACE,
              _forms("RReLU", F + "rrelu", "torch.rrelu", in_place=(F + "rrelu_", "torch.rrelu_"), lower=1, upper=2,
                     inplace=4),
              replace(_SAVES_INPUT_OR_RESULT, saved=lambda args: "output" if args["inplace"] else "input",
                      workspace=temporaries(saved=1, inference=1))),
    # the input where above `threshold`, else `value` (relu is threshold 0, value 0)
    "threshold": ((Arg("threshold", number, REQUIRED), Arg("value", number, REQUIRED)) + _INPLACE,
                  _forms("Threshold", F + "threshold", "torch.threshold",
                         in_place=(F + "threshold_", "torch.threshold_"), threshold=1, value=2, inplace=3),
                  _COPIES_INPUT_IN_PLACE),
}
# dropout in eval mode returns its input, and so it does in training at p = 0 (ATen's _dropout_impl:
# timm's Mlp and heads keep nn.Dropout(0.)); otherwise it keeps a mask of the elements it kept
def _passes_through(args: dict) -> bool:
    return bool(args["inplace"]) or args["p"] == 0


def _gradient(args: dict) -> str:
    return "passed" if args["p"] == 0 else "each input"  # at p = 0 no autograd node at all


_MASK = MemoryFacts(aliases=always, aliases_in_training=_passes_through, saved="nothing", gradient=_gradient,
                    extra_saved=lambda args, size: element_mask(args, size) if args["p"] > 0 else 0, transient=no_bytes,
                    last_saved=noise_unless_kept, workspace=parameter_gradients, copies=None, estimate=None)
_CHANNEL_MASK = MemoryFacts(aliases=always, aliases_in_training=_passes_through,
                            saved="nothing", gradient=_gradient, extra_saved=no_bytes,
                            transient=no_bytes, last_saved=noise_unless_kept, workspace=parameter_gradients,
                            copies=None, estimate=None)
_DROPOUT = {"dropout": (_forms("Dropout", F + "dropout", p=1), None, _MASK),
            "alphadropout": (_forms("AlphaDropout"), None, _MASK),
            "dropout1d": (_forms("Dropout1d"), (2,), _CHANNEL_MASK),
            "dropout2d": (_forms("Dropout2d"), (3,), _CHANNEL_MASK),
            "dropout3d": (_forms("Dropout3d"), (4,), _CHANNEL_MASK)}


def same_shape(shapes: tuple[Shape, ...], args: dict) -> Calc:
    return Calc(shapes[0])


def along_dim(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """softmax and logsoftmax over a dim that the input has, as torch checks it (dim 7 of a 4-d tensor
    is an IndexError there); no dim is torch's legacy choice of one."""
    if args["dim"] is not None:
        dim_in_range(args["dim"], len(shapes[0]))
    return Calc(shapes[0])


def bounded(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """hardtanh between min_val and max_val, as torch checks them."""
    if args["max_val"] < args["min_val"]:
        raise LayerError(f"max_val {args['max_val']} is less than min_val {args['min_val']}")
    return Calc(shapes[0])


def sloped(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """rrelu's slopes between lower and upper, as torch checks them."""
    if args["upper"] < args["lower"]:
        raise LayerError(f"upper {args['upper']} is less than lower {args['lower']}")
    return Calc(shapes[0])


_CALCULATORS = {"softmax": along_dim, "logsoftmax": along_dim, "softmin": along_dim, "hardtanh": bounded,
                "rrelu": sloped}  # the rest keep the shape
# CUDA's autocast runs softmax and log_softmax in float32 (its fp32_set_opt_dtype list; softmin is a softmax),
# softplus too (its fp32 list)
_FLOAT32_ON_CUDA = {"softmax", "logsoftmax", "softmin", "softplus"}
for _kind, (_args, _torch, _memory) in ACTIVATIONS.items():
    register(_kind, family="activation", field_probe=AS_IS, backward=NO_PRODUCTS, args=_args, torch=_torch, receptive_field=elementwise,
             memory=_memory, autocast=FLOAT32_ON_CUDA if _kind in _FLOAT32_ON_CUDA else PROMOTE)(
        _CALCULATORS.get(_kind, same_shape))

# element-wise math forward() code writes out (RMS norm's rsqrt, rotary embeddings' neg); the
# derivatives of rsqrt, sqrt and exp are written in terms of their output
_KEEPS_OUTPUT = MemoryFacts(aliases=never, aliases_in_training=never, saved="output", gradient="each input",
                            extra_saved=no_bytes, transient=no_bytes, last_saved="made",
                            workspace=parameter_gradients, copies=None, estimate=None)
# CUDA's autocast runs rsqrt, exp and log2 in float32 (its fp32 list)
MATH = {"neg": (("torch.neg", "torch.negative", "operator.neg"), SAVES_NOTHING, PROMOTE),
        # backward: -0.5 * grad * result.pow(3), grad / (2 * result), grad * self.cos(), grad * -self.sin()
        "rsqrt": (("torch.rsqrt",), _backward_holding(_KEEPS_OUTPUT, 2), FLOAT32_ON_CUDA),
        "sqrt": (("torch.sqrt",), _backward_holding(_KEEPS_OUTPUT, 1), PROMOTE),
        "exp": (("torch.exp",), _KEEPS_OUTPUT, FLOAT32_ON_CUDA),
        "sin": (("torch.sin",), _backward_holding(SAVES_INPUT, 1), PROMOTE),  # rotary angles
        "cos": (("torch.cos",), _backward_holding(SAVES_INPUT, 2), PROMOTE),
        "round": (("torch.round",), SAVES_NOTHING, PROMOTE),  # a VAE's latents quantized (diffusers' AutoencoderTiny)
        # a box's FPN level, floor(4 + log2(√area / 224)) (torchvision's MultiScaleRoIAlign)
        # backward: grad / (self * ln 2), grad * self.sgn(), grad / self, 2 / √π · exp(-(self²)) · grad
        "log2": (("torch.log2",), _backward_holding(SAVES_INPUT, 1), FLOAT32_ON_CUDA),
        "floor": (("torch.floor",), SAVES_NOTHING, PROMOTE),
        "abs": (("torch.abs", "torch.absolute"), _backward_holding(SAVES_INPUT, 1), PROMOTE),
        "log": (("torch.log",), SAVES_INPUT, FLOAT32_ON_CUDA),
        # GELU written out: x·(1 + erf(x/√2))/2
        "erf": (("torch.erf", "torch.special.erf"), _backward_holding(SAVES_INPUT, 4), PROMOTE),
        # 1/x keeps its output (the gradient is -grad·out²); sign's gradient is zeros, needing nothing
        "reciprocal": (("torch.reciprocal",), _backward_holding(_KEEPS_OUTPUT, 2), FLOAT32_ON_CUDA),  # -grad * result²
        "sign": (("torch.sign",), SAVES_NOTHING, PROMOTE),
        # log(1 + x) and exp(x) - 1 near 0 (a softplus or a Box-Cox written out); expm1's gradient is in
        # terms of its output; step functions' gradient is zeros, frac's the gradient itself
        "log1p": (("torch.log1p", "torch.special.log1p"), _backward_holding(SAVES_INPUT, 1), FLOAT32_ON_CUDA),
        "expm1": (("torch.expm1", "torch.special.expm1"), _backward_holding(_KEEPS_OUTPUT, 1), FLOAT32_ON_CUDA),
        "trunc": (("torch.trunc", "torch.fix"), SAVES_NOTHING, PROMOTE),
        "ceil": (("torch.ceil",), SAVES_NOTHING, PROMOTE),
        "frac": (("torch.frac",), replace(SAVES_NOTHING, gradient="passed"), PROMOTE),
        # (π·x·cos(πx) − sin(πx)) / (π·x²), zero where x is: seven tensors at once
        "sinc": (("torch.sinc", "torch.special.sinc"), _backward_holding(SAVES_INPUT, 7), PROMOTE)}
for _kind, (_functions, _memory, _autocast) in MATH.items():
    register(_kind, family="activation", field_probe=AS_IS, backward=NO_PRODUCTS, receptive_field=elementwise, memory=_memory,
             autocast=_autocast,
             torch=TorchForms(module=OWN + _kind.capitalize(), given_weight=None,
                              inferred=None, functions=calls(*_functions),
                              methods=calls(_kind, _kind + "_"), aliases=()))(same_shape)


# log(p / (1 - p)), its input first clamped to [eps, 1 - eps] where eps is given; backward reads the input
@register("logit", family="activation", field_probe=AS_IS, backward=NO_PRODUCTS, receptive_field=elementwise,
          memory=SAVES_INPUT, autocast=PROMOTE, args=(Arg("eps", optional(number), None),),
          torch=TorchForms(module=OWN + "Logit", given_weight=None, inferred=None, aliases=(),
                           functions=calls("torch.logit", "torch.special.logit", eps=1),
                           methods=calls("logit", "logit_", eps=1)))
def logit(shapes: tuple[Shape, ...], args: dict) -> Calc:
    return Calc(shapes[0])


def glu_field(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """Halving the channels moves no unit; halving a spatial dim pairs units half of it apart."""
    return () if dim_index(args["dim"], len(shapes[0])) == 0 else WHOLE


# the gated linear unit: one half of a dim times the sigmoid of the other; backward keeps the input
@register("glu", family="activation", field_probe=AS_IS, backward=NO_PRODUCTS, receptive_field=glu_field,
          memory=_SAVES_INPUT, autocast=PROMOTE, args=(Arg("dim", any_int, -1, names_dims=EACH_DIM),),
          torch=_forms("GLU", F + "glu", dim=1))
def glu(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    axis = dim_index(args["dim"], len(shape))
    if shape[axis] % 2:
        raise LayerError(f"glu halves dim {args['dim']}, whose size {shape[axis]} is odd")
    return Calc((*shape[:axis], shape[axis] // 2, *shape[axis + 1:]))


# PReLU learns one negative slope for all channels or one per channel (the sample's first dim);
# backward keeps the input (and the slopes, which are parameters anyway)
@register("prelu", family="activation", field_probe=AS_IS, backward=NO_PRODUCTS, receptive_field=elementwise, memory=SAVES_INPUT,
          autocast=LOWER,  # on both autocast lists of half-precision ops
          args=(Arg("num_parameters", positive, 1), Arg("init", number, 0.25)),
          torch=TorchForms(module=NN + "PReLU", given_weight=None, inferred=None, methods=(), aliases=(),
                           functions=tuple(Call(path, tensors=(("weight", 1),),
                                                reads=lambda t: {"num_parameters": math.prod(t["weight"] or (0,))})
                                           for path in (F + "prelu", "torch.prelu"))))
def prelu(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    slopes = args["num_parameters"]
    if slopes != 1 and shape[:1] != (slopes,):
        raise LayerError(f"num_parameters is {slopes:,}, but the input has {shape[0] if shape else 1:,} channels")
    return Calc(shape, weights=slopes)


def clamp(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """The input's shape; bounds not given as numbers may be tensors, further inputs that broadcast to
    it (Gemma 4's clippable linear clamps to 0-d buffers: torch.clamp(x, self.input_min, self.input_max))."""
    shape, *bounds = shapes
    if len(bounds) + sum(args[bound] is not None for bound in ("min", "max")) > 2:
        raise LayerError("clamp takes two bounds at most, a number or a tensor each")
    if bounds and (args["min"] is not None or args["max"] is not None):
        raise LayerError("clamp takes its bounds as numbers or as tensors, not one of each (torch refuses both)")
    if any(len(bound) != len(shape) or any(b not in (1, s) for b, s in zip(bound, shape)) for bound in bounds):
        raise LayerError("a bound tensor must broadcast to the input: " + ", ".join(map(format_shape, shapes)))
    return Calc(shape)


# torch.nan_to_num(x, nan, posinf, neginf): NaNs and infinities replaced by numbers (None: the dtype's
# largest and smallest); its gradient passes where the input is finite, which backward reads off the input
# (grad * self.isfinite(): three masks on the way)
register("nantonum", family="activation", field_probe=AS_IS, backward=NO_PRODUCTS, receptive_field=elementwise,
         memory=replace(SAVES_INPUT, workspace=temporaries(masks=3)), autocast=PROMOTE,
         args=(Arg("nan", number, 0.0), Arg("posinf", optional(number), None), Arg("neginf", optional(number), None)),
         torch=TorchForms(module=OWN + "NanToNum", given_weight=None, inferred=None, aliases=(),
                          functions=calls("torch.nan_to_num", nan=1, posinf=2, neginf=3),
                          methods=calls("nan_to_num", nan=1, posinf=2, neginf=3)))(same_shape)


# clamp/clip to numbers or tensors: backward keeps the input to know which elements were cut (and tensor
# bounds, which the figures leave out: mostly a number a sample or a row, Gemma 4's 0-d buffers)
def _bounds_masked(args: dict, shapes: tuple[Shape, ...], batch: int, element_size: int, parameters):
    """clamp's backward keeps the gradient where the input is within its bounds: a mask a bound, given as a
    number or as a tensor after the input, both alive at once (clamp_backward's
    (self >= min).logical_and_(self <= max))."""
    bounds = (args["min"] is not None) + (args["max"] is not None) + len(shapes) - 1
    return temporaries(masks=bounds)(args, shapes, batch, element_size, parameters)


def _ties_split(shapes: tuple[Shape, ...], args: dict, tracked: tuple[bool, ...]) -> str | None:
    """torch 2.14's backward of a tensor bound splits the gradient where the input equals it (grad / 2, and the
    mask of ties) where torch 2.13's keeps it whole: a tensor and a mask more, which the figures leave out."""
    return ("a tensor bound: torch 2.14 and later split its ties' gradient (grad / 2 and a mask, beside the "
            "mask the figures count), torch 2.13 does not") if len(shapes) > 1 else None


register("clamp", family="activation", field_probe=AS_IS, backward=NO_PRODUCTS, receptive_field=elementwise,
         memory=replace(SAVES_INPUT, workspace=_bounds_masked, estimate=_ties_split),
         autocast=PROMOTE, arity=None, fewest_inputs=1,
         args=(Arg("min", optional(number), None), Arg("max", optional(number), None)),
         torch=TorchForms(module=OWN + "Clamp", given_weight=None, inferred=None, aliases=(),
                          functions=calls("torch.clamp", "torch.clip", min=1, max=2)
                          + calls("torch.clamp_min", min=1) + calls("torch.clamp_max", max=1),
                          methods=calls("clamp", "clip", min=1, max=2) + calls("clamp_min", min=1)
                          + calls("clamp_max", max=1)))(clamp)

def triangle(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """x.triu(diagonal), x.tril(diagonal): the input's shape, the triangle of each matrix in its last two
    dims kept; per sample, so a sample has two dims or more (a batch of vectors would be one matrix)."""
    (shape,) = shapes
    if len(shape) < 2:
        raise LayerError(f"keeps a triangle of each sample's matrices: a sample has two dims or more, got "
                         f"{format_shape(shape)}")
    return Calc(shape)


# torch.triu and torch.tril: the upper (lower) triangle kept, the rest zeros, as a causal mask is made
# (nn.Transformer.generate_square_subsequent_mask); nothing FlopCounterMode counts, and the gradient is
# the output's triangle, needing nothing saved (derivatives.yaml: triu, tril)
for _kind in ("triu", "tril"):
    register(_kind, family="activation", field_probe=AS_IS, backward=NO_PRODUCTS, receptive_field=elementwise,
             memory=SAVES_NOTHING, autocast=PROMOTE, args=(Arg("diagonal", any_int, 0),),
             torch=TorchForms(module=OWN + _kind.capitalize(), given_weight=None, inferred=None, aliases=(),
                              functions=calls(f"torch.{_kind}", diagonal=1),
                              methods=calls(_kind, _kind + "_", diagonal=1)))(triangle)


# identity returns its input tensor itself
# x.float(), x.to(dtype), x.type(dtype) and x.type_as(y) are the tensor itself in a float32 model (cnncalc counts
# one dtype throughout); x.int(), x.long(), x.byte() and x.bool() are the values as another type; x.detach()
# the same values cut from autograd (torchvision's anchors and proposals)
register("identity", family="activation", field_probe=AS_IS, backward=NO_PRODUCTS,
         torch=_forms("Identity", methods=("float", "to", "type", "type_as", "int", "long", "byte", "bool", "detach")),
         receptive_field=elementwise, autocast=PROMOTE,
         memory=VIEW)(same_shape)


def dropout(ranks):
    def calculate(shapes: tuple[Shape, ...], args: dict) -> Calc:
        if ranks:
            check_rank(shapes[0], ranks, "channel dropout")
        return Calc(shapes[0])
    return calculate


for _kind, (_torch, _ranks, _memory) in _DROPOUT.items():
    register(_kind, family="dropout", field_probe=AS_IS, backward=NO_PRODUCTS, torch=_torch, receptive_field=elementwise, memory=_memory,
             autocast=PROMOTE,
             args=(Arg("p", probability, 0.5),) + _INPLACE)(dropout(_ranks))


# Stochastic depth (drop path) returns its input in eval mode; in training, input × a per-sample (or
# per-batch) noise (torchvision.ops.stochastic_depth, timm's drop_path): the product's gradient needs
# only the noise, which autograd keeps: one value per sample, no bytes per element.
_SURVIVAL = MemoryFacts(aliases=always, aliases_in_training=lambda args: args["p"] == 0,
                        saved="nothing", gradient="each input", extra_saved=no_bytes, transient=no_bytes, last_saved=noise_unless_kept,
                        workspace=parameter_gradients, copies=None, estimate=None)
register("stochasticdepth", family="dropout", field_probe=AS_IS, backward=NO_PRODUCTS, receptive_field=elementwise, memory=_SURVIVAL,
         autocast=PROMOTE,
         args=(Arg("p", probability, REQUIRED), Arg("mode", choice("row", "batch"), "row")),
         torch=TorchForms(module=OWN + "StochasticDepth", given_weight=None, inferred=None,
                          functions=calls("torchvision.ops.stochastic_depth", p=1, mode=2),
                          methods=(), aliases=(Alias("torchvision.ops.StochasticDepth"),
                                               Alias("timm.layers.DropPath", (("p", "drop_prob"),)))))(same_shape)
