"""The torch-free builder for Python specs: `Conv2d(64, 3, padding=1)` and friends.

Each function returns the same data a YAML layer entry holds (with the calling line), so Python and
YAML specs go through one expander and produce identical graphs. Each constructor is made from its
kind's registration: positional arguments follow PyTorch's order, minus the one inferred from the
input; its name is the PyTorch module's.
"""
from __future__ import annotations

import sys
from typing import Any

from .layers import REGISTRY
from .spec.yamlfile import LineDict

# a builder keyword → its spec entry key; every other keyword is a layer argument
_META = {"name": "name", "from_": "from", "repeat": "repeat", "index": "index", "when": "when",
         "frozen": "frozen", "functional": "functional", "weights_of": "weights_of", "per_row": "per_row"}


def _entry(kind: str, value: Any, meta: dict, depth: int = 2) -> LineDict:
    entry = LineDict({kind: value})
    entry.line = sys._getframe(depth).f_lineno
    for key, item in meta.items():
        if item is not None:
            entry[_META.get(key, key)] = item
    return entry


def _constructor(kind: str):
    names = [arg.name for arg in REGISTRY[kind].args]

    def build(*args, **keywords):
        """Keywords are the layer's arguments, or name/from_/repeat/index/when/frozen/functional/weights_of/
        per_row."""
        if len(args) > len(names):
            raise TypeError(f"{kind} takes at most {len(names)} positional arguments ({', '.join(names)})")
        given, meta = dict(zip(names, args)), {}
        for key, value in keywords.items():
            (meta if key in _META else given)[key] = value
        return _entry(kind, given or None, meta)
    build.__name__ = build.__qualname__ = REGISTRY[kind].torch.module.rpartition(".")[2]
    build.__doc__ = f"A `{kind}` layer: {', '.join(names) or 'no arguments'}."
    return build


Conv1d, Conv2d, Conv3d = _constructor("conv1d"), _constructor("conv2d"), _constructor("conv3d")
ConvTranspose1d = _constructor("convtranspose1d")
ConvTranspose2d = _constructor("convtranspose2d")
ConvTranspose3d = _constructor("convtranspose3d")
MaxPool1d, MaxPool2d, MaxPool3d = _constructor("maxpool1d"), _constructor("maxpool2d"), _constructor("maxpool3d")
AvgPool1d, AvgPool2d, AvgPool3d = _constructor("avgpool1d"), _constructor("avgpool2d"), _constructor("avgpool3d")
AdaptiveAvgPool1d = _constructor("adaptiveavgpool1d")
AdaptiveAvgPool2d = _constructor("adaptiveavgpool2d")
AdaptiveAvgPool3d = _constructor("adaptiveavgpool3d")
AdaptiveMaxPool1d = _constructor("adaptivemaxpool1d")
AdaptiveMaxPool2d = _constructor("adaptivemaxpool2d")
AdaptiveMaxPool3d = _constructor("adaptivemaxpool3d")
Linear = _constructor("linear")
BatchNorm1d = _constructor("batchnorm1d")
BatchNorm2d = _constructor("batchnorm2d")
BatchNorm3d = _constructor("batchnorm3d")
InstanceNorm1d = _constructor("instancenorm1d")
InstanceNorm2d = _constructor("instancenorm2d")
InstanceNorm3d = _constructor("instancenorm3d")
GroupNorm = _constructor("groupnorm")
LayerNorm, RMSNorm = _constructor("layernorm"), _constructor("rmsnorm")
LocalResponseNorm = _constructor("localresponsenorm")
LayerScale = _constructor("layerscale")
ReLU, ReLU6, LeakyReLU = _constructor("relu"), _constructor("relu6"), _constructor("leakyrelu")
ELU, GELU, SiLU = _constructor("elu"), _constructor("gelu"), _constructor("silu")
Sigmoid, Tanh = _constructor("sigmoid"), _constructor("tanh")
Hardswish, Hardsigmoid = _constructor("hardswish"), _constructor("hardsigmoid")
Softmax, LogSoftmax = _constructor("softmax"), _constructor("logsoftmax")
Hardtanh, Softplus, Mish = _constructor("hardtanh"), _constructor("softplus"), _constructor("mish")
SELU, CELU, GLU = _constructor("selu"), _constructor("celu"), _constructor("glu")
Hardshrink, Softshrink, Threshold = _constructor("hardshrink"), _constructor("softshrink"), _constructor("threshold")
Softsign, Tanhshrink, Softmin, RReLU = (_constructor("softsign"), _constructor("tanhshrink"), _constructor("softmin"),
                                        _constructor("rrelu"))
Identity = _constructor("identity")
Dropout, AlphaDropout = _constructor("dropout"), _constructor("alphadropout")
Dropout1d, Dropout2d, Dropout3d = _constructor("dropout1d"), _constructor("dropout2d"), _constructor("dropout3d")
Flatten, Reshape = _constructor("flatten"), _constructor("reshape")
Unflatten = _constructor("unflatten")
Mean, Sum, Amax, Amin = _constructor("mean"), _constructor("sum"), _constructor("amax"), _constructor("amin")
Var, Std, Logsumexp = _constructor("var"), _constructor("std"), _constructor("logsumexp")
PixelShuffle, PixelUnshuffle = _constructor("pixelshuffle"), _constructor("pixelunshuffle")
ChannelShuffle = _constructor("channelshuffle")
Unfold, Fold, TensorUnfold = _constructor("unfold"), _constructor("fold"), _constructor("tensorunfold")
ZeroPad1d, ZeroPad2d, ZeroPad3d = _constructor("zeropad1d"), _constructor("zeropad2d"), _constructor("zeropad3d")
ConstantPad1d, ConstantPad2d = _constructor("constantpad1d"), _constructor("constantpad2d")
ConstantPad3d = _constructor("constantpad3d")
Upsample = _constructor("upsample")
ReflectionPad1d, ReflectionPad2d = _constructor("reflectionpad1d"), _constructor("reflectionpad2d")
ReflectionPad3d = _constructor("reflectionpad3d")
ReplicationPad1d, ReplicationPad2d = _constructor("replicationpad1d"), _constructor("replicationpad2d")
ReplicationPad3d = _constructor("replicationpad3d")
StochasticDepth = _constructor("stochasticdepth")
Permute, Transpose, Contiguous = _constructor("permute"), _constructor("transpose"), _constructor("contiguous")
Clone = _constructor("clone")
Roll, Flip = _constructor("roll"), _constructor("flip")
Neg, Rsqrt, Sqrt, Exp = _constructor("neg"), _constructor("rsqrt"), _constructor("sqrt"), _constructor("exp")
Sin, Cos, Round = _constructor("sin"), _constructor("cos"), _constructor("round")
Log2, Floor = _constructor("log2"), _constructor("floor")
Triu, Tril = _constructor("triu"), _constructor("tril")
Abs, Log, Erf = _constructor("abs"), _constructor("log"), _constructor("erf")
Reciprocal, Sign = _constructor("reciprocal"), _constructor("sign")
Log1p, Expm1, Sinc, Logit = _constructor("log1p"), _constructor("expm1"), _constructor("sinc"), _constructor("logit")
Trunc, Ceil, Frac = _constructor("trunc"), _constructor("ceil"), _constructor("frac")
PReLU, Clamp, NanToNum = _constructor("prelu"), _constructor("clamp"), _constructor("nantonum")
Embedding, EmbeddingBag, OneHot = _constructor("embedding"), _constructor("embeddingbag"), _constructor("onehot")
Eq, Ne, Cumsum, Gather = _constructor("eq"), _constructor("ne"), _constructor("cumsum"), _constructor("gather")
Gt, Ge, Lt, Le = _constructor("gt"), _constructor("ge"), _constructor("lt"), _constructor("le")
Uncounted = _constructor("uncounted")
Narrow, Slice, Select = _constructor("narrow"), _constructor("slice"), _constructor("select")
IndexSelect, IndexPut, IndexAdd = _constructor("indexselect"), _constructor("indexput"), _constructor("indexadd")
Topk, Sort, BooleanMask = _constructor("topk"), _constructor("sort"), _constructor("booleanmask")
TopkIndices, Argsort = _constructor("topkindices"), _constructor("argsort")
Nonzero, Unique, IndexTensor = _constructor("nonzero"), _constructor("unique"), _constructor("indextensor")
Nms, RoIAlign, GridSample = _constructor("nms"), _constructor("roialign"), _constructor("gridsample")
AffineGrid = _constructor("affinegrid")
Parameter, Constant, Expand = _constructor("parameter"), _constructor("constant"), _constructor("expand")
Unsqueeze, Squeeze, Tile = _constructor("unsqueeze"), _constructor("squeeze"), _constructor("tile")
MultiheadAttention = _constructor("multiheadattention")
AttentionWeights = _constructor("attentionweights")
LSTM, GRU, RNN = _constructor("lstm"), _constructor("gru"), _constructor("rnn")
FinalState = _constructor("finalstate")
GRUCell, RNNCell, LSTMCell = _constructor("grucell"), _constructor("rnncell"), _constructor("lstmcell")
CellState = _constructor("cellstate")
Matmul, ScaledDotProductAttention = _constructor("matmul"), _constructor("scaleddotproductattention")
Einsum, Cdist = _constructor("einsum"), _constructor("cdist")
Add, Mul, Concat, Crop = _constructor("add"), _constructor("mul"), _constructor("concat"), _constructor("crop")
Sub, Div, Pow, Stack = _constructor("sub"), _constructor("div"), _constructor("pow"), _constructor("stack")
Argmax, Argmin = _constructor("argmax"), _constructor("argmin")
Prod, Cumprod = _constructor("prod"), _constructor("cumprod")
Remainder, BitwiseAnd, Rsub = _constructor("remainder"), _constructor("bitwiseand"), _constructor("rsub")
Fmod, Lerp = _constructor("fmod"), _constructor("lerp")
Normalize = _constructor("normalize")
Norm, Addcmul, Baddbmm = _constructor("norm"), _constructor("addcmul"), _constructor("baddbmm")
Maximum, Minimum, Where = _constructor("maximum"), _constructor("minimum"), _constructor("where")
MaskedFill = _constructor("maskedfill")
CosineSimilarity = _constructor("cosinesimilarity")


def Sequential(*layers, name=None, from_=None, repeat=None, index=None, when=None, frozen=None,
               label=None) -> LineDict:
    """A group of layers; named it is a scope (`name.0.conv2d`), unnamed it splices in place."""
    return _entry("sequential", list(_flat(layers)),
                  dict(name=name, from_=from_, repeat=repeat, index=index, when=when, frozen=frozen,
                       label=label))


def Block(label: str, *layers, name=None, from_=None, frozen=None) -> LineDict:
    """A named kind of group, shown as `[label]` in tables: the Python form of a YAML block."""
    return _entry("sequential", list(_flat(layers)), dict(name=name, from_=from_, frozen=frozen,
                                                           label=label))


def Residual(*body, shortcut=(), post=(), name=None, label="residual", out="out") -> LineDict:
    """body(x) + shortcut(x) (the identity when no shortcut is given), then `post` layers.

    The shortcut is a group called `downsample` (torchvision's word) fed from the block input; the
    body's last layer is named `out` unless it has a name already.
    """
    body = list(_flat(body))
    last = body[-1]
    if "name" not in last:
        last = LineDict(last, name=out)
        last.line = body[-1].line
        body[-1] = last
    joined = [*body]
    if shortcut:
        joined.append(_entry("sequential", list(_flat(shortcut)), dict(name="downsample", from_="input")))
    joined.append(_entry(*("add", None, dict(from_=[last["name"], "downsample" if shortcut else "input"]))))
    return _entry("sequential", joined + list(_flat(post)), dict(name=name, label=label))


def Spec(input, layers, name=None, description=None) -> dict:
    """The whole spec: per-sample input shape and the layers."""
    spec = {"input": list(input), "layers": list(_flat(layers))}
    if name:
        spec["name"] = name
    if description:
        spec["description"] = description
    return spec


def _flat(items):
    """Layers may come as nested lists (a block function returning a list); None, False and 0 are
    skipped, so `condition and [layers]` reads naturally."""
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _flat(item)
        elif item or isinstance(item, str):
            yield item


__all__ = [name for name, value in list(globals().items())
           if name[:1].isupper() and getattr(value, "__module__", None) == __name__]
