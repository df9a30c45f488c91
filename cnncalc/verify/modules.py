"""torch modules for the kinds torch.nn has no module for: joins of branches, layer scale, stochastic
depth, reshape, reductions, slicing and permutations."""
from __future__ import annotations

import contextlib
import math
import operator

import torch
import torch.nn.functional as F
from torch import nn


class Uncounted(nn.Module):
    """An operation cnncalc does not count, stood in for by zeros of its output's shape that keep the
    gradient's path to its inputs, and the tensors it holds (as flat ones)."""

    def __init__(self, operation: str, shape, params: int = 0, buffers: int = 0):
        super().__init__()
        self.operation, self.shape = operation, tuple(shape)
        self.stored = nn.Parameter(torch.zeros(params))
        self.register_buffer("state", torch.zeros(buffers))

    def extra_repr(self) -> str:
        return self.operation

    def forward(self, *xs):
        batch = xs[0].shape[0] if xs else 1  # made without the input: once, as a constant is
        zeros = torch.zeros((batch, *self.shape), dtype=self.stored.dtype, device=self.state.device)
        return zeros + sum(x.sum() * 0 for x in (*xs, self.stored))


class NotRunModule(nn.Module):
    """What a module the model never calls holds: its parameters and buffers, as flat tensors."""

    def __init__(self, params: int, buffers: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(params))
        self.register_buffer("state", torch.zeros(buffers))


class _Arithmetic(nn.Module):
    """x ∘ y ∘ …, or x ∘ other for a number, with Python's operator (as a model's forward writes it), or
    where `operator` is false with torch's function of that name (torch.add), looked up as it runs, as a
    tool patching it (ptflops) sees the call."""
    operation = staticmethod(operator.add)
    name = ""  # torch's function, for the kinds a spec may call by name (add, mul)

    def __init__(self, other: float | None = None, operator: bool = True):
        super().__init__()
        self.other, self.operator = other, operator

    def forward(self, *xs):
        operation = self.operation if self.operator else getattr(torch, self.name)
        out = xs[0]
        for x in xs[1:] if self.other is None else (self.other,):
            out = operation(out, x)
        return out


class Maximum(_Arithmetic):
    operation = staticmethod(torch.maximum)


class Minimum(_Arithmetic):
    operation = staticmethod(torch.minimum)


class Where(nn.Module):
    """torch.where(condition, input, other), a number given for input or other."""

    def __init__(self, input: float | None = None, other: float | None = None):  # noqa: A002 (torch's names)
        super().__init__()
        self.input, self.other = input, other

    def forward(self, condition, *tensors):
        given = iter(tensors)
        return torch.where(condition, next(given) if self.input is None else self.input,
                           next(given) if self.other is None else self.other)


class Lerp(nn.Module):
    """torch.lerp(start, end, weight), by a number."""

    def __init__(self, weight: float):
        super().__init__()
        self.weight = weight

    def forward(self, start, end):
        return torch.lerp(start, end, self.weight)


class MaskedFill(nn.Module):
    """x.masked_fill(mask, value)."""

    def __init__(self, value: float):
        super().__init__()
        self.value = value

    def forward(self, x, mask):
        return x.masked_fill(mask, self.value)


class Baddbmm(nn.Module):
    """torch.baddbmm(x, batch1, batch2, beta, alpha), looked up as it runs (a tool may patch it), on the
    samples' rows (B·heads) as a forward() gives them."""

    def __init__(self, beta: float = 1, alpha: float = 1):
        super().__init__()
        self.beta, self.alpha = beta, alpha

    def forward(self, x, batch1, batch2):
        product = torch.baddbmm(x.flatten(0, -3), batch1.flatten(0, -3), batch2.flatten(0, -3), beta=self.beta,
                                alpha=self.alpha)
        return product.unflatten(0, batch1.shape[:-2])


class Addcmul(nn.Module):
    def __init__(self, value: float = 1):
        super().__init__()
        self.value = value

    def forward(self, x, tensor1, tensor2):
        return torch.addcmul(x, tensor1, tensor2, value=self.value)


class Add(_Arithmetic):
    operation = staticmethod(operator.add)
    name = "add"


class Sub(_Arithmetic):
    operation = staticmethod(operator.sub)


class Rsub(_Arithmetic):
    operation = staticmethod(lambda x, other: other - x)


class Mul(_Arithmetic):
    operation = staticmethod(operator.mul)
    name = "mul"


class Div(_Arithmetic):
    operation = staticmethod(operator.truediv)


class Pow(_Arithmetic):
    operation = staticmethod(operator.pow)


class Eq(_Arithmetic):
    operation = staticmethod(operator.eq)


class Remainder(_Arithmetic):
    operation = staticmethod(operator.mod)


class Fmod(_Arithmetic):
    operation = staticmethod(torch.fmod)


class BitwiseAnd(_Arithmetic):
    operation = staticmethod(operator.and_)


class Ne(_Arithmetic):
    operation = staticmethod(operator.ne)


class Gt(_Arithmetic):
    operation = staticmethod(operator.gt)


class Ge(_Arithmetic):
    operation = staticmethod(operator.ge)


class Lt(_Arithmetic):
    operation = staticmethod(operator.lt)


class Le(_Arithmetic):
    operation = staticmethod(operator.le)


class Gather(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, x, index):
        return torch.gather(x, self.dim, index)


class Concat(nn.Module):
    """torch.cat; a parameter's batch of one meets the others' batch as a model's expand(B, ...) makes it."""

    def __init__(self, dim: int = 1):
        super().__init__()
        self.dim = dim

    def forward(self, *xs):
        batch = max(x.shape[0] for x in xs)
        return torch.cat([x.expand(batch, *x.shape[1:]) for x in xs], dim=self.dim)


class StochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth: in training, drop whole samples ("row") or the whole batch
    with probability p and scale the survivors by 1 / (1 − p); in eval, the input itself."""

    def __init__(self, p: float, mode: str = "row"):
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(1.0 - self.p)
        if self.p < 1.0:
            noise.div_(1.0 - self.p)
        return x * noise


class Stack(nn.Module):
    def __init__(self, dim: int = 0):
        super().__init__()
        self.dim = dim

    def forward(self, *xs):
        return torch.stack(xs, dim=self.dim)


class Normalize(nn.Module):
    def __init__(self, p: float = 2.0, dim: int = 1, eps: float = 1e-12):
        super().__init__()
        self.p, self.dim, self.eps = p, dim, eps

    def forward(self, x):
        return F.normalize(x, self.p, self.dim, self.eps)


class Crop(nn.Module):
    """Center-crop the first input to the spatial size of the second."""

    def forward(self, x, like):
        slices = [slice(None), slice(None)]
        for size, target in zip(x.shape[2:], like.shape[2:]):
            start = (size - target) // 2
            slices.append(slice(start, start + target))
        return x[tuple(slices)]


class LayerScale(nn.Module):
    """A learnable per-channel multiplier, as timm's LayerScale2d."""

    def __init__(self, dim: int, init_values: float = 1e-5):
        super().__init__()
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x):
        return x * self.gamma.view(1, -1, *[1] * (x.dim() - 2))


class Reshape(nn.Module):
    """x.reshape(shape), where "batch" in the shape stands for x.size(0)."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape(tuple(x.shape[0] if size == "batch" else size for size in self.shape))


class _Reduction(nn.Module):
    """A reduction that is one tensor method called with its dims and keepdim: x.mean(dim, keepdim=...)."""
    method = ""

    def __init__(self, dim, keepdim: bool = False):
        super().__init__()
        self.dim, self.keepdim = tuple(dim), keepdim

    def forward(self, x):
        return getattr(x, self.method)(self.dim, keepdim=self.keepdim)


class Mean(_Reduction):
    method = "mean"


class Norm(_Reduction):
    def __init__(self, dim, keepdim: bool = False, p="fro"):
        super().__init__(dim, keepdim)
        self.p = p

    def forward(self, x):
        return x.norm(self.p, self.dim, keepdim=self.keepdim)


class Sum(_Reduction):
    method = "sum"


class Amax(_Reduction):
    method = "amax"


class Amin(_Reduction):
    method = "amin"


class Logsumexp(_Reduction):
    method = "logsumexp"


class Var(_Reduction):
    method = "var"

    def __init__(self, dim, keepdim: bool = False, correction: int = 1):
        super().__init__(dim, keepdim)
        self.correction = correction

    def forward(self, x):
        return getattr(x, self.method)(self.dim, keepdim=self.keepdim, correction=self.correction)


class Std(Var):
    method = "std"


class Parameter(nn.Module):
    """A tensor the forward() reads directly, seen per sample: `shape` with a batch of one in front."""

    def __init__(self, shape, buffer: bool = False):
        super().__init__()
        values = torch.randn(1, *shape)  # returned itself: a view of it made under no_grad confuses autograd hooks
        if buffer:
            self.register_buffer("tensor", values)
        else:
            self.tensor = nn.Parameter(values)

    def forward(self):
        return self.tensor


class _TensorMethod(nn.Module):
    """A layer that is one tensor method called with the layer's arguments: x.narrow(dim, start, length)."""
    method = ""
    arguments: tuple[str, ...] = ()

    def __init__(self, **values):
        super().__init__()
        self.values = tuple(values[name] for name in self.arguments)

    def forward(self, x):
        return getattr(x, self.method)(*self.values)


class Cumsum(_TensorMethod):
    method, arguments = "cumsum", ("dim",)


class Argmax(_TensorMethod):
    method, arguments = "argmax", ("dim", "keepdim")


class Argmin(_TensorMethod):
    method, arguments = "argmin", ("dim", "keepdim")


class OneHot(nn.Module):
    def __init__(self, num_classes: int):
        super().__init__()
        self.num_classes = num_classes

    def forward(self, ids):
        return F.one_hot(ids, self.num_classes)


class TensorUnfold(_TensorMethod):
    method, arguments = "unfold", ("dimension", "size", "step")


class Prod(_TensorMethod):
    method, arguments = "prod", ("dim", "keepdim")


class Cumprod(_TensorMethod):
    method, arguments = "cumprod", ("dim",)


class Flip(_TensorMethod):
    method, arguments = "flip", ("dims",)


class Triu(_TensorMethod):
    method, arguments = "triu", ("diagonal",)


class Tril(_TensorMethod):
    method, arguments = "tril", ("diagonal",)


class Constant(nn.Module):
    """A tensor made without the input, and the stored tensors it is made from (as flat ones)."""

    def __init__(self, shape, params: int = 0, buffers: int = 0):
        super().__init__()
        self.shape = tuple(shape)
        self.stored = nn.Parameter(torch.zeros(params))
        self.register_buffer("table", torch.zeros(buffers))

    def forward(self, *sized_by):
        # no product vanishes; as filters (F.conv2d(x, weight)) 1/fan-in, so that sums keep their size;
        # made from the stored parameters, which get gradients (and optimizer state) as the model's do;
        # one per sample of the input it is given; made of none (zeros_like of a table), it needs no gradient
        batch = sized_by[0].shape[0] if sized_by else 1
        values = torch.full((batch, *self.shape), 1 / max(math.prod(self.shape[1:]), 1), device=self.table.device,
                            dtype=self.stored.dtype)
        return values + self.stored.sum() * 0 if self.stored.numel() and self.stored.requires_grad else values


class Narrow(_TensorMethod):
    method, arguments = "narrow", ("dim", "start", "length")


class IndexPut(nn.Module):
    """x[...] = values, as a spec states it (no index): each sample's first entries written with the
    last input's (the values; an input before them is the index), on a copy, which autograd keeps apart."""

    def forward(self, x, *written):
        out = x.clone()
        for values in written[-1:]:
            out.view(out.shape[0], -1)[:, :values[0].numel()] = values.reshape(values.shape[0], -1)
        return out


class Slice(nn.Module):
    def __init__(self, dim: int, start: int | None = None, end: int | None = None, step: int = 1):
        super().__init__()
        self.dim, self.part = dim, slice(start, end, step)

    def forward(self, x):
        return x[(slice(None),) * (self.dim % x.dim()) + (self.part,)]


class IndexSelect(nn.Module):
    """x.index_select(dim, index) with the index's sizes: a spec's index is a buffer of random values,
    so its positions are taken modulo the size they pick from."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, x, index):
        positions = index.detach().reshape(-1).abs().long() % x.shape[self.dim]
        return x.index_select(self.dim, positions)


class IndexAdd(nn.Module):
    """x.index_add(dim, index, values) (index_add_ in place), the index's positions taken modulo x's size
    along dim, as IndexSelect takes a spec's random buffer."""

    def __init__(self, dim: int, alpha: float = 1, inplace: bool = False):
        super().__init__()
        self.dim, self.alpha, self.inplace = dim, alpha, inplace

    def forward(self, x, index, values):
        positions = index.detach().reshape(-1).abs().long() % x.shape[self.dim]
        add = x.index_add_ if self.inplace else x.index_add
        return add(self.dim, positions, values, alpha=self.alpha)


class Select(_TensorMethod):
    method, arguments = "select", ("dim", "index")


class Permute(_TensorMethod):
    method, arguments = "permute", ("dims",)


class Transpose(_TensorMethod):
    method, arguments = "transpose", ("dim0", "dim1")


class Neg(_TensorMethod):
    method = "neg"


class Rsqrt(_TensorMethod):
    method = "rsqrt"


class Sqrt(_TensorMethod):
    method = "sqrt"


class Exp(_TensorMethod):
    method = "exp"


class Sin(_TensorMethod):
    method = "sin"


class Cos(_TensorMethod):
    method = "cos"


class Round(_TensorMethod):
    method = "round"


class Log2(_TensorMethod):
    method = "log2"


class Floor(_TensorMethod):
    method = "floor"


class Abs(_TensorMethod):
    method = "abs"


class Log(_TensorMethod):
    method = "log"


class Erf(_TensorMethod):
    method = "erf"


class Reciprocal(_TensorMethod):
    method = "reciprocal"


class Sign(_TensorMethod):
    method = "sign"


class Log1p(_TensorMethod):
    method = "log1p"


class Expm1(_TensorMethod):
    method = "expm1"


class Trunc(_TensorMethod):
    method = "trunc"


class Ceil(_TensorMethod):
    method = "ceil"


class Frac(_TensorMethod):
    method = "frac"


class Sinc(_TensorMethod):
    method = "sinc"


class Logit(_TensorMethod):
    method, arguments = "logit", ("eps",)


class NanToNum(_TensorMethod):
    method, arguments = "nan_to_num", ("nan", "posinf", "neginf")


class Clamp(nn.Module):
    """x.clamp(min, max), a bound not given as a number given as a tensor, a further input."""

    def __init__(self, min: float | None = None, max: float | None = None):  # noqa: A002 (torch's names)
        super().__init__()
        self.min, self.max = min, max

    def forward(self, x, *bounds):
        tensors = iter(bounds)
        low = self.min if self.min is not None else next(tensors, None)
        return x.clamp(low, self.max if self.max is not None else next(tensors, None))


class Roll(_TensorMethod):
    method, arguments = "roll", ("shifts", "dims")


class Contiguous(_TensorMethod):
    method = "contiguous"


class Clone(_TensorMethod):
    method = "clone"


class Tile(nn.Module):
    """Tensor.repeat per sample; a tensor of one sample (a constant) keeps its batch of one, which joins broadcast."""

    def __init__(self, dims):
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x):
        return x.repeat(1, *self.dims[1:])


class Unsqueeze(_TensorMethod):
    method, arguments = "unsqueeze", ("dim",)


class Squeeze(_TensorMethod):
    method, arguments = "squeeze", ("dim",)


class Expand(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.size = tuple(size)

    def forward(self, x):
        return x.expand(x.shape[0], *self.size[1:])


@contextlib.contextmanager
def general_attention():
    """nn.MultiheadAttention on its general path (projections, then scaled_dot_product_attention or the
    weights by bmm), never eval mode's fused CPU kernel, which FlopCounterMode and fvcore count nothing of."""
    fast = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)


@contextlib.contextmanager
def general_recurrence():
    """nn.LSTM, GRU and RNN on ATen's general path (the products of each step), never oneDNN's fused CPU
    kernel, which FlopCounterMode counts nothing of (a bidirectional LSTM's 258,048 MACs as 0)."""
    enabled = torch._C._get_mkldnn_enabled()  # mkldnn.flags() would also set TF32, which warns
    torch._C._set_mkldnn_enabled(False)
    try:
        yield
    finally:
        torch._C._set_mkldnn_enabled(enabled)


class MultiheadAttention(nn.Module):
    """nn.MultiheadAttention (a submodule of that very class, which the peers' hooks look up) called
    with query, key and value by position, as models call it (one input: query, key and value the same tensor,
    which inference runs by torch's fused kernel; two: the second key and value), its output alone returned."""

    def __init__(self, embed_dim: int, num_heads: int, need_weights: bool = True, average_attn_weights: bool = True,
                 key_padding_mask: bool | str = False, attn_mask: bool | str = False, **args):
        super().__init__()
        self.attention, self.need_weights = nn.MultiheadAttention(embed_dim, num_heads, **args), need_weights
        self.average = average_attn_weights
        self.masks = bool(key_padding_mask) + bool(attn_mask)

    def forward(self, query, *rest):
        operands, masks = rest[:len(rest) - self.masks], rest[len(rest) - self.masks:]
        key, value = (*operands, *operands[-1:]) if len(operands) == 1 else operands or (query, query)
        # per sample: a key padding mask (S,), an attention mask (L, S) or (heads, L, S), which torch
        # takes as (N·heads, L, S)
        given = {"key_padding_mask" if mask.dim() == 2 else "attn_mask": mask for mask in masks}
        if "attn_mask" in given:
            mask, heads = given["attn_mask"], self.attention.num_heads
            given["attn_mask"] = (mask.unsqueeze(1).expand(-1, heads, -1, -1) if mask.dim() == 3 else mask) \
                .reshape(-1, *mask.shape[-2:])
        output, weights = self.attention(query, key, value, need_weights=self.need_weights,
                                         average_attn_weights=self.average, **given)
        output.beside = (weights,)  # what an attentionweights layer after it reads (_Beside)
        return output


class _Beside(nn.Module):
    """A tensor the layer before returned beside its output, which that layer's module holds on it (`output.beside`:
    a recurrent layer's states, an attention's weights, an LSTM cell's c): its `index`-th; `refusal` where there is
    none. Its kind's arguments size it, which torch's run has already done."""
    index: int = 0
    refusal: str = ""

    def __init__(self, **args):
        super().__init__()

    def forward(self, output):
        held = getattr(output, "beside", ())
        if self.index >= len(held) or held[self.index] is None:
            raise ValueError(self.refusal)
        return held[self.index]


class AttentionWeights(_Beside):
    """The weights the multiheadattention layer it reads returned beside its output."""
    refusal = "an attentionweights layer reads a multiheadattention layer asked for its weights"


AT = operator.matmul  # a @ b, named apart from Matmul's argument `operator`


class Matmul(nn.Module):
    """torch.matmul of each sample's operands, or a @ b where the model wrote that: a sample's vector (a
    batch × k tensor) is a row first and a column second, whose dim the product drops, as torch.matmul
    takes a vector."""

    def __init__(self, operator: bool = False):
        super().__init__()
        self.operator = operator

    def forward(self, first, second):
        row, column = first.dim() == 2, second.dim() == 2
        product = AT if self.operator else torch.matmul  # looked up now: ptflops patches torch.matmul while it counts
        out = product(first.unsqueeze(-2) if row else first, second.unsqueeze(-1) if column else second)
        out = out.squeeze(-1) if column else out
        return out.squeeze(-1 if column else -2) if row else out


class Cdist(nn.Module):
    """torch.cdist of each sample's rows (a parameter's batch of one broadcasts)."""

    def __init__(self, p: float = 2.0, compute_mode: str | None = None):
        super().__init__()
        self.p, self.compute_mode = p, compute_mode

    def forward(self, first, second):
        return torch.cdist(first, second, self.p, self.compute_mode or "use_mm_for_euclid_dist_if_necessary")


class Einsum(nn.Module):
    """torch.einsum of a per-sample equation: every operand gets the batch letter back (a parameter's batch
    of one broadcasts)."""

    def __init__(self, equation: str):
        super().__init__()
        operands, output = equation.split("->")
        batch = next(letter for letter in "zyxwvutsrqponmlkjihgfedcba" if letter not in equation)
        self.equation = ",".join(batch + part for part in operands.split(",")) + "->" + batch + output

    def forward(self, first, second):
        return torch.einsum(self.equation, first, second)


class ScaledDotProductAttention(nn.Module):
    """F.scaled_dot_product_attention of each sample's query, key and value, as a model calls it (a
    boolean mask keeps where true); dropout in training only, as nn.MultiheadAttention passes it."""

    def __init__(self, dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                 enable_gqa: bool = False):
        super().__init__()
        self.dropout_p, self.is_causal, self.scale, self.enable_gqa = dropout_p, is_causal, scale, enable_gqa

    def forward(self, query, key, value, attn_mask=None):
        # a sample's sequence × features as one head, as every library calls it (batch, heads, L, E): torch
        # 2.13's CPU build runs 3-d inputs on its math backend, which keeps the L × S scores
        one_head = query.dim() == 3
        if one_head:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            attn_mask = attn_mask.unsqueeze(1) if attn_mask is not None and attn_mask.dim() == 3 else attn_mask
        out = F.scaled_dot_product_attention(query, key, value, attn_mask, self.dropout_p if self.training else 0.0,
                                             self.is_causal, scale=self.scale, enable_gqa=self.enable_gqa)
        return out.squeeze(1) if one_head else out


class ConvOfGivenFilters(nn.Module):
    """F.conv1d/2d/3d with the filters a layer gives as the second input (a sample's: its batch of one
    dropped), and a bias of its own. Hooks on torch.nn.ConvNd do not see it, as they miss the function."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros"):  # zeros: the calculator's check
        super().__init__()
        self.function = getattr(F, f"conv{len(kernel_size)}d")
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.bias = nn.Parameter(torch.randn(out_channels)) if bias else None

    def forward(self, x, filters):
        return self.function(x, filters[0], self.bias, self.stride, self.padding, self.dilation, self.groups)


class _Recurrent(nn.Module):
    """torch's recurrent module itself (counters that hook nn.LSTM see it), returning its output, the
    final states torch returns beside it held on the output for a finalstate layer to read. verify counts
    it on the general path (counted_kernels), as a user's own."""
    recurrent: type = nn.Module

    def __init__(self, **args):
        super().__init__()
        self.rnn = self.recurrent(**args)

    def forward(self, x, *given):
        """The sequence, then the initial states if given, batch first (a batch of one: the same for each sample)."""
        initial = tuple(state.transpose(0, 1).expand(-1, x.shape[0], -1).contiguous() for state in given)
        output, states = self.rnn(x, *((initial if len(initial) > 1 else initial[0],) if initial else ()))
        output.beside = states if isinstance(states, tuple) else (states,)  # (h_n, c_n), or (h_n,): _Beside
        return output


class LSTMCell(nn.Module):
    """torch's LSTM cell itself (counters that hook nn.LSTMCell see it) given x, or x, h and c, returning h, its c
    held on it for a cellstate layer to read."""

    def __init__(self, **args):
        super().__init__()
        self.cell = nn.LSTMCell(**args)

    def forward(self, x, *given):
        h, c = self.cell(x, tuple(state.expand(x.shape[0], -1) for state in given) or None)
        h.beside = (c,)  # what a cellstate layer after it reads (_Beside)
        return h


class CellState(_Beside):
    """The cell state of the LSTM cell it reads, as that cell's run returned it."""
    refusal = "a cellstate layer reads the lstmcell whose state it is"


class FinalState(_Beside):
    """The final hidden state (h_n) or an LSTM's cell state (c_n) of the recurrent layer it reads, batch
    first, as that layer's run returned it."""
    refusal = "a finalstate layer reads the lstm, gru or rnn layer whose state it is (cell: an lstm's)"

    def __init__(self, state: str = "hidden", **args):
        super().__init__()
        self.index = ("hidden", "cell").index(state)

    def forward(self, x):
        return super().forward(x).transpose(0, 1)


class LSTM(_Recurrent):
    recurrent = nn.LSTM


class GRU(_Recurrent):
    recurrent = nn.GRU


class RNN(_Recurrent):
    recurrent = nn.RNN


class Topk(nn.Module):
    def __init__(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002 (torch's name)
        super().__init__()
        self.k, self.dim, self.largest, self.sorted = k, dim, largest, sorted

    def forward(self, x):
        return x.topk(self.k, self.dim, self.largest, self.sorted).values


class TopkIndices(Topk):
    def forward(self, x):
        return x.topk(self.k, self.dim, self.largest, self.sorted).indices


class Sort(nn.Module):
    def __init__(self, dim: int = -1, descending: bool = False):
        super().__init__()
        self.dim, self.descending = dim, descending

    def forward(self, x):
        return x.sort(self.dim, self.descending).values


class Argsort(Sort):
    def forward(self, x):
        return x.argsort(self.dim, self.descending)


class BooleanMask(nn.Module):
    """x[mask]: the rows of each sample its mask keeps (a spec's mask is made by layers, x > t)."""

    def __init__(self, count: int):
        super().__init__()
        self.count = count

    def forward(self, x, mask):
        return torch.stack([sample[kept.bool()] for sample, kept in zip(x, mask)])


class Nonzero(nn.Module):
    """torch.where(mask)[i] as a spec states it: `count` positions per sample (which, only its values say)."""

    def __init__(self, count: int):
        super().__init__()
        self.count = count

    def forward(self, mask):
        return mask.flatten(1).float().argsort(dim=-1, descending=True)[:, :self.count]


class IndexTensor(nn.Module):
    """x[i, j, …] per sample; a spec's indices are random values, each taken modulo the size it picks from."""

    def forward(self, x, *indices):
        return torch.stack([sample[tuple(i.detach().abs().long() % size for i, size in zip(picks, sample.shape))]
                            for sample, *picks in zip(x, *indices)])


class Unique(nn.Module):
    """torch.unique(x) as a spec states it: `count` values of each sample, copied, as torch's saves
    nothing for backward (which are distinct, only its values say)."""

    def __init__(self, count: int):
        super().__init__()
        self.count = count

    def forward(self, x):
        return x.flatten(1)[:, :self.count].clone()


class Nms(nn.Module):
    """torchvision.ops.nms as a spec states it, with no torchvision: the indices of each sample's
    `count` best scores (which boxes the real op keeps only their overlaps say)."""

    def __init__(self, count: int, iou_threshold: float = 0.5):
        super().__init__()
        self.count, self.iou_threshold = count, iou_threshold

    def forward(self, boxes, scores):
        return scores.argsort(dim=-1, descending=True)[..., :self.count]


class GridSample(nn.Module):
    """F.grid_sample on each row the leading dims hold (a sample's, or its rows')."""

    def __init__(self, mode: str = "bilinear", padding_mode: str = "zeros", align_corners: bool | None = None):
        super().__init__()
        self.mode, self.padding_mode, self.align_corners = mode, padding_mode, align_corners

    def forward(self, x, grid):
        sampled = nn.functional.grid_sample(x.flatten(0, -4), grid.flatten(0, -4), self.mode, self.padding_mode,
                                            self.align_corners)
        return sampled.unflatten(0, x.shape[:-3])


class AffineGrid(nn.Module):
    """F.affine_grid at the batch of its theta: `size` as a spec writes it, the batch first."""

    def __init__(self, size: tuple, align_corners: bool | None = None):
        super().__init__()
        self.size, self.align_corners = tuple(size[1:]), align_corners

    def forward(self, theta):
        return nn.functional.affine_grid(theta, [theta.shape[0], *self.size], self.align_corners)


class RoIAlign(nn.Module):
    """torchvision.ops.roi_align as a spec states it, with no torchvision: per sample, each row of
    rois the feature map pooled to the output size (where each box lies only its values say)."""

    def __init__(self, pooled_height: int, pooled_width: int, spatial_scale: float = 1.0, sampling_ratio: int = -1,
                 aligned: bool = False):
        super().__init__()
        self.size = (pooled_height, pooled_width)

    def forward(self, x, rois):
        pooled = nn.functional.adaptive_avg_pool2d(x, self.size)
        return pooled.unsqueeze(1).expand(-1, rois.shape[1], -1, -1, -1)
