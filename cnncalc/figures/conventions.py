"""Counting conventions: how torchvision, torch, fvcore, torchinfo, ptflops and thop count operations.

Each convention is one table: a layer-kind pattern → the operations that tool reports for such a
layer, from its shapes and counts (whole batch), and the tool's own rule for every other kind (most
count nothing for an operation they have no handler for). ptflops keeps two counters, so its rules
are pairs (`Hooks`): what its module hooks count, which it reports per sample, and what its patched
functions count, which it reports for the whole batch. The rules were read from each tool's
source (versions in README) and are tested against the tools. They describe tools, not kinds, so
they live here rather than in the kinds' registrations.
"""
from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable

from ..errors import SpecError
from ..layers.attention import masks_given, query_key_value
from ..record import record


@record
class LayerOps:
    """What a rule may use about one layer; element counts cover the whole batch."""
    kind: str
    args: dict
    in_shape: tuple[int, ...]   # per sample, first input
    in_shapes: tuple[tuple[int, ...], ...]  # per sample, every input
    out_shape: tuple[int, ...]  # per sample
    batch: int
    macs: int
    weights: int
    biases: int
    functional: bool = False    # called as torch.nn.functional: module hooks do not see it
    unpatched: bool = False     # called as a function ptflops patches, reached another way (PTFLOPS_PATCHED)
    unhooked: bool = False      # run by a subclass, or inside another module: hooks by exact type miss it
    held_apart: bool = False  # its parameters belong to no leaf module that ran
    backward_inputs: int = 0    # its backward's MACs for input gradients (and those inside it)
    backward_parameters: int = 0  # and for its weights' gradients
    returned: bool = True       # something the model returns is computed from its output
    inside_hooked: bool = False  # run inside a module ptflops hooks as a whole (PTFLOPS_HOOKED_WHOLE)
    first_dim: str = "batch"    # what the output tensor's first dim holds: "batch", "rows" (B·rows), "own" (out_shape's)
    leaf_parameters: tuple = ()  # those of its parameters modules no kind states hold (graph.LeafParameter)
    patched: bool = False       # called by a name ptflops patches, whose count it takes (Node.patched)
    places: int = 1             # the places of the module tree that hold the module running it (Node.places)
    whole_inputs: tuple = ()    # per input, whether it is one tensor for the whole batch (a parameter)
    model_batch: int = 1        # the model's batch (`batch` is 1 for what parameters alone make)

    @property
    def inp(self) -> int:
        return math.prod(self.in_shape) * self.batch

    @property
    def out(self) -> int:
        return math.prod(self.out_shape) * self.batch

    @property
    def hooked(self) -> bool:
        """Whether a hook looking modules up by exact type (thop's, ptflops') sees it: a module of its
        kind's own torch.nn class runs it."""
        return not (self.functional or self.unhooked)

    def flag(self, name: str) -> bool:
        return bool(self.args.get(name))


Rule = Callable[[LayerOps], int]


def _unhandled(layer: LayerOps) -> int:
    """The tool has no handler for this operation and counts nothing for it."""
    return 0


# the torch.nn.functional names ptflops patches while it counts (pytorch_engine.patch_functional): a
# call reaching the same function another way (torch.relu, x.softmax(), a reference taken before it
# patched them) it does not count
PTFLOPS_PATCHED = ("relu", "prelu", "elu", "relu6", "gelu", "silu", "softmax", "upsample", "interpolate",
                   *(f"{kind}_pool{n}d" for kind in ("avg", "max", "adaptive_avg", "adaptive_max") for n in (1, 2, 3)))
# and the tensor operations it patches (pytorch_engine.patch_tensor_ops), as torch's functions and, but
# baddbmm, as torch.Tensor's methods: x @ y, x * y and x + y reach none of them
PTFLOPS_PATCHED_OPS = ("matmul", "mm", "bmm", "addmm", "baddbmm", "mul", "add")
# the modules of others' libraries ptflops hooks by exact type (pytorch_ops.MODULES_MAPPING), which hold
# modules: its sum (accumulate_flops) takes such a module's count and goes no deeper
PTFLOPS_HOOKED_WHOLE = ("timm.models.vision_transformer.Attention",)


@dataclass(frozen=True)
class Hooks:
    """ptflops' two counts of a layer. get_model_complexity_info sums what its forward hooks on modules
    count and divides that sum by the batch (compute_average_flops_cost: per sample), then adds what its
    patched torch.nn.functional calls and tensor ops count, for the whole batch, undivided."""
    module: Rule = _unhandled      # the count its hook adds, from the input the module sees
    functional: Rule = _unhandled  # what the patched functions it reaches add
    inside: Rule = _unhandled      # of a layer inside a module hooked whole, the part of that hook's count it gives


@record
class Counted:
    """One layer's operations as the tool sums them: `whole` for the batch, and `per_sample`, which the
    tool sums over the model and then divides by the batch (ptflops' module hooks)."""
    whole: int | float  # a float where the tool's formula makes one (ptflops' F.interpolate by a scale)
    per_sample: int = 0

    def ops(self, batch: int) -> int:
        return int(self.whole + Fraction(self.per_sample, batch) if self.per_sample else self.whole)

    @staticmethod
    def total(counts, batch: int) -> int:
        """int() of the whole sum, as ptflops takes it: one layer's fraction of a sample adds to the next."""
        whole, per_sample = sum(c.whole for c in counts), sum(c.per_sample for c in counts)
        return int(whole + Fraction(per_sample, batch) if per_sample else whole)


@lru_cache(maxsize=None)  # tables are constant tuples; looked up once per distinct layer
def first_match(table, kind: str, default: Any) -> Any:
    """The value of the first (pattern, value) row whose kind pattern (`conv?d`, `*pool*`) matches."""
    return next((value for pattern, value in table if fnmatch.fnmatchcase(kind, pattern)), default)


@dataclass(frozen=True)
class Convention:
    name: str
    source: str                  # the tool and call it reproduces
    rules: tuple[tuple[str, Rule | Hooks], ...]  # first matching kind pattern wins
    otherwise: Rule              # the tool's rule for every kind no pattern names
    # what the tool counts when run over a backward pass, by kind pattern (FlopCounterMode); none: the
    # tool hooks or traces the forward pass and counts it only
    backward: tuple[tuple[str, Rule], ...] = ()
    returned_only: bool = False  # the tool counts a traced graph, which keeps only what the outputs need

    @property
    def counts_backward(self) -> bool:
        return bool(self.backward)

    def rule(self, kind: str) -> Rule | Hooks:
        return first_match(self.rules, kind, self.otherwise)

    def count(self, layer: LayerOps) -> Counted:
        if self.returned_only and not layer.returned:
            return Counted(whole=0)
        rule = self.rule(layer.kind)
        if isinstance(rule, Hooks):  # its module hooks see exact types only
            hooked = rule.inside(layer) if layer.inside_hooked else rule.module(layer) if layer.hooked else 0
            return Counted(whole=0 if layer.unpatched else rule.functional(layer), per_sample=hooked * layer.places)
        return Counted(whole=rule(layer))

    def backward_ops(self, layer: LayerOps) -> int:
        return int(first_match(self.backward, layer.kind, _unhandled)(layer)) if self.backward else 0


def _macs(layer: LayerOps) -> int:
    return layer.macs


def _first_input(layer: LayerOps) -> int:
    """The elements of the first input as torch holds it: a parameter's once, another's for each sample."""
    return math.prod(layer.in_shape) * (1 if layer.whole_inputs[:1] == (True,) else layer.batch)


def _bias_outputs(layer: LayerOps) -> int:
    """One addition per output element when the layer has a bias (conv, linear)."""
    return layer.out if layer.biases else 0


def _norm(per_element_affine: int, per_element: int, affine_arg: str) -> Rule:
    return lambda l: l.inp * (per_element_affine if l.flag(affine_arg) else per_element)


def _hooked(rule: Rule) -> Rule:
    """Counted by a forward hook on the module, looked up by exact type: nothing when the model calls
    the function directly, or runs a subclass."""
    return lambda l: rule(l) if l.hooked else 0


def _thop_hooked(rule: Rule) -> Rule:
    """Counted by thop's hook on the module: model.apply registers it once in each place the module tree
    holds the module, and its sum takes the module's count in each place again (places² per call)."""
    return _hooked(lambda l: rule(l) * l.places ** 2)


def _module_conv(rule: Rule) -> Rule:
    """Counted by a hook on torch.nn.ConvNd: nothing for a conv of given filters, which is F.conv2d."""
    return lambda l: 0 if len(l.in_shapes) > 1 else rule(l)


def _torch_backward(layer: LayerOps) -> int:
    return 2 * (layer.backward_inputs + layer.backward_parameters)


def _torch_conv_backward(layer: LayerOps) -> int:
    # conv_backward_flop counts the filters' gradient as a conv over every pair of channels, groups
    # left out: groups × the work (a depthwise conv's, channels ×)
    return 2 * (layer.backward_inputs + layer.args["groups"] * layer.backward_parameters)


def _fvcore_conv(layer: LayerOps) -> int:
    # string padding ('same', 'valid') dispatches to aten::_convolution_mode, which fvcore lacks
    return 0 if isinstance(layer.args.get("padding"), str) else layer.macs


def _fvcore_batchnorm(layer: LayerOps) -> int:
    # in eval, running statistics: 2 (affine) or 1 per element; without them it normalizes like training
    if layer.flag("track_running_stats"):
        return layer.inp * (2 if layer.flag("affine") else 1)
    return layer.inp * (5 if layer.flag("affine") else 4)


def _fvcore_upsample(layer: LayerOps) -> int:
    if len(layer.out_shape) != 3:  # fvcore handles only the 2-d kernels
        return 0
    return layer.out * {"nearest": 1, "bilinear": 4}.get(layer.args["mode"], 0)


def _ptflops_lrn(layer: LayerOps) -> int:
    # F.local_response_norm: x.mul(x), avg-pool over the channel-padded square, .mul(alpha), .add(k)
    channels, spatial = layer.in_shape[0], math.prod(layer.in_shape[1:])
    return 3 * layer.inp + layer.batch * (channels + layer.args["size"] - 1) * spatial


def _ptflops_interpolate(layer: LayerOps) -> int | float:
    # F.interpolate's count from its arguments: a float for a scale factor, as ptflops computes it
    size, scale = layer.args["size"], layer.args["scale_factor"]
    dims = len(layer.in_shape) - 1
    if size is not None:
        return layer.batch * layer.in_shape[0] * (math.prod(size) if isinstance(size, tuple) else size ** dims)
    if isinstance(scale, tuple) and len(scale) == dims:
        return layer.inp * int(math.prod(float(s) for s in scale))
    return layer.inp * float(scale if not isinstance(scale, tuple) else scale[0]) ** dims


def _attention_sizes(layer: LayerOps) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """A multi-head attention's query, key and value, per sample."""
    return query_key_value(tuple(layer.in_shapes), layer.args)


def _source(layer: LayerOps) -> int:
    """How many keys a multi-head attention's queries attend to: its key's length, and bias_k's and a zero
    key's where added."""
    return _attention_sizes(layer)[1][0] + layer.flag("add_bias_kv") + layer.flag("add_zero_attn")


def _scores(layer: LayerOps) -> int:
    """A multi-head attention's scores and their sum over values: 2·L·S·E multiply-adds, whole batch."""
    query = _attention_sizes(layer)[0]
    return 2 * layer.batch * query[0] * _source(layer) * query[1]


def _ptflops_attention(layer: LayerOps) -> int:
    # asked for the weights, its patched torch.bmm and softmax see the scores and their sum over values
    # (the projections run through torch._C._nn.linear, which it does not patch): 2·L·S·E, and H·L·S
    # for softmax; else torch attends by scaled_dot_product_attention, which it does not patch
    if not layer.flag("need_weights"):
        return 0
    length = _attention_sizes(layer)[0][0]
    return _scores(layer) + layer.batch * length * _source(layer) * layer.args["num_heads"] + _mask_added(layer)


def _mask_added(layer: LayerOps) -> int:
    """Given a mask, torch adds it to the scores by torch.baddbmm, which ptflops counts as bmm and one per
    element of the mask it adds: a key padding mask merged in, (N·heads or 1) × (L or 1) × S."""
    if not masks_given(layer.args):
        return 0
    masks = layer.in_shapes[len(layer.in_shapes) - masks_given(layer.args):]
    per_head = layer.flag("key_padding_mask") or any(len(shape) == 3 for shape in masks)
    length = _attention_sizes(layer)[0][0] if layer.flag("attn_mask") else 1
    return (layer.batch * layer.args["num_heads"] if per_head else 1) * length * _source(layer)


def _ptflops_attention_module(layer: LayerOps) -> int:
    """multihead_attention_counter_hook on nn.MultiheadAttention: q scaling, the three projections (as
    if each were E × E, biases one per element), per head the scores, softmax and weighted sum, the
    output projection with a bias, whole batch."""
    (length, embed), key, value = _attention_sizes(layer)
    heads = layer.args["num_heads"]
    ops = length * embed + length * embed * embed + key[0] * key[1] * key[1] + value[0] * value[1] * value[1]
    ops += (length + key[0] + value[0]) * embed if layer.flag("bias") else 0
    ops += heads * length * key[0] * (embed // heads + 1 + value[1] // heads)
    return layer.batch * (ops + length * value[1] * (value[1] + 1))


def _ptflops_timm_attention(layer: LayerOps) -> int:
    """timm_attention_counter_hook on timm's ViT Attention, given by the attention it runs (q: heads ×
    N × head_dim): q's scaling, and per head the scores, softmax and weighted sum; whole batch. Its
    qkv and proj linears it says are counted by their hooks, which its sum never reaches."""
    length, head_dim = layer.in_shape[-2:]
    heads = math.prod(layer.in_shape[:-2])
    return layer.batch * heads * (length * head_dim + 2 * length * length * head_dim + length * length)


def _thop_adaptive_avg(layer: LayerOps) -> int:
    kernel = 1.0  # thop divides input by output size in float64, then adds 1 for the division
    for size, out in zip(layer.in_shape[1:], layer.out_shape[1:]):
        kernel *= size / out
    return int((kernel + 1) * layer.out)


def _thop_transposed(layer: LayerOps) -> int:
    # thop applies its conv formula to the transposed conv's output: out × (in/groups) × k^n
    return layer.out * (layer.in_shape[0] // layer.args["groups"]) * math.prod(layer.args["kernel_size"])


# per hidden unit of a step, what ptflops adds for the gates' element-wise work, and the gates
_PTFLOPS_GATES = {"lstm": (10, 4), "gru": (7, 3), "rnn": (1, 1)}


def _ptflops_recurrent(layer: LayerOps) -> int:
    """Its nn.LSTM hook: per layer, weight_ih and weight_hh as torch holds them, the gates' work and both
    biases, × batch × sequence, doubled when bidirectional (the projection, weight_hr, is left out)."""
    work, gates = _PTFLOPS_GATES[layer.kind]
    hidden, state = layer.args["hidden_size"], layer.args.get("proj_size") or layer.args["hidden_size"]
    directions = 2 if layer.flag("bidirectional") else 1
    biases = 2 * gates * hidden if layer.flag("bias") else 0

    def per_layer(inputs: int) -> int:
        return gates * hidden * (inputs + state) + work * hidden + biases
    # the first layer reads the input, the others the states below: in closed form, however many
    per_step = per_layer(layer.in_shape[1]) + (layer.args["num_layers"] - 1) * per_layer(directions * state)
    return per_step * layer.batch * layer.in_shape[0] * directions


def _thop_cell(kind: str, inputs: int, hidden: int, bias: bool) -> int:
    """thop's count for one step of one cell (rnn_hooks.py: _count_lstm_cell and friends)."""
    state = (inputs + hidden) * hidden + hidden + (2 * hidden if bias else 0)
    return {"lstm": 4 * state + 4 * hidden, "gru": 3 * state + 4 * hidden, "rnn": state}[kind]


def _ptflops_cell(layer: LayerOps) -> int:
    """Its nn.LSTMCell, GRUCell and RNNCell hook: one step's weights, the gates' work and both biases, × batch."""
    work, gates = _PTFLOPS_GATES[CELLS[layer.kind]]
    hidden = layer.args["hidden_size"]
    biases = 2 * gates * hidden if layer.flag("bias") else 0
    return (gates * hidden * (layer.in_shape[0] + hidden) + work * hidden + biases) * layer.batch


def _thop_recurrent(layer: LayerOps) -> int:
    """thop's count_lstm: its cell per layer and direction, the later layers fed hidden_size (× 2 both
    ways; a projection is not seen), × sequence × batch."""
    hidden, directions = layer.args["hidden_size"], 2 if layer.flag("bidirectional") else 1
    first, above = (directions * _thop_cell(layer.kind, inputs, hidden, layer.flag("bias"))
                    for inputs in (layer.in_shape[1], directions * hidden))
    cells = first + (layer.args["num_layers"] - 1) * above  # in closed form, however many layers
    return cells * layer.in_shape[0] * layer.batch


def _fvcore_matmul(layer: LayerOps) -> int:
    """fvcore's matmul_flop_jit: the first operand's elements times the second's last dim; a matrix for the whole
    batch (a graph's adjacency) times each sample's, so counted for one sample."""
    whole = layer.whole_inputs
    return layer.macs // layer.batch if whole[:1] == (True,) and not all(whole) else layer.macs


def _fvcore_einsum(layer: LayerOps) -> int:
    """jit_handles.einsum_flop_jit on the equation with the batch's letter: every letter's size
    multiplied for its two batched-product forms; otherwise numpy's einsum_path "Optimized FLOP
    count" (that product, doubled when a letter is summed away, plus one) as printed, to four
    significant digits, then halved."""
    operands, output = layer.args["equation"].replace(" ", "").split("->")
    batch = next(letter for letter in "zyxwvutsrqponmlkjihgfedcba" if letter not in operands + output)
    equation = ",".join(batch + part for part in operands.split(",")) + "->" + batch + output
    order = dict.fromkeys(letter for letter in equation if letter.isalpha())
    sizes: dict[str, int] = {batch: layer.batch}
    for letters, shape in zip(operands.split(","), layer.in_shapes):
        for letter, size in zip(letters, shape):
            sizes[letter] = max(sizes.get(letter, 1), size)  # a parameter's 1 broadcasts
    every = math.prod(sizes.values())
    if equation.translate({ord(letter): 97 + i for i, letter in enumerate(order)}) in ("abc,abd->acd",
                                                                                       "abc,adc->adb"):
        return every
    cost = (2 * every if set(sizes) - set(batch + output) else every) + 1
    return int(float(f"{cost:.3e}") // 2)


def _softmax_size(layer: LayerOps) -> int:
    dim = layer.args["dim"]
    rank = len(layer.in_shape) + 1
    if dim is None:  # torch's legacy implicit dim
        dim = 0 if rank in (0, 1, 3) else 1
    return ((layer.batch,) + layer.in_shape)[dim]


def _thop_softmax(layer: LayerOps) -> int:
    n = _softmax_size(layer)
    return layer.inp // n * (3 * n - 1)


def _torchinfo(layer: LayerOps) -> int:
    # every parameter × the output tensor's first dim (the batch; B·H·W of a codebook looked up at
    # flattened ids; L of an nn.Embedding looked up at torch.arange(L)), except convolutions, where
    # weights and biases × that dim × the output's spatial size; of leaf modules that ran only
    # (total_mult_adds sums is_leaf_layer of the layers its hooks saw)
    if layer.leaf_parameters:
        return _torchinfo_leaves(layer)
    if layer.held_apart:
        return 0
    output = _torchinfo_output(layer.out_shape, layer.first_dim, layer.batch)
    spatial = math.prod(output[2:]) if layer.kind.startswith(("conv", "convtranspose")) else 1
    return (layer.weights + layer.biases) * math.prod(output[:1]) * spatial


def _torchinfo_output(shape: tuple[int, ...], first_dim: str, batch: int) -> tuple[int, ...]:
    """A module's output tensor from its shape per sample and what its first dim holds (Node.first_dim)."""
    rows, *rest = shape or (1,)
    return {"batch": (batch, *shape), "rows": (batch * rows, *rest), "own": shape}[first_dim]


def _torchinfo_leaves(layer: LayerOps) -> int:
    """LayerInfo.calculate_macs on the modules no kind states that hold a layer's parameters: one named
    weight or bias × the output's first dim, and its dims after the second where the class's name holds
    "Conv" (GPT-2's Conv1D: B × nf); any other whose name holds either × the first two dims (Swin's
    relative_position_bias_table: 1 × heads); the rest none."""
    total = 0
    for held in layer.leaf_parameters:
        output = _torchinfo_output(held.output, held.first_dim, layer.model_batch)
        if held.name in ("weight", "bias"):
            total += held.numel * math.prod(output[:1] + output[2:] if "Conv" in held.module else output[:1])
        elif "weight" in held.name or "bias" in held.name:
            total += held.numel * math.prod(output[:2])
    return total


RECURRENT = ("lstm", "gru", "rnn")
CELLS = {"grucell": "gru", "rnncell": "rnn", "lstmcell": "lstm"}  # a cell → the recurrent kind one step of which it runs

CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    Convention("torchvision", "torchvision's published `_ops` (GMACs): conv, linear and matmul "
               "multiply-accumulates; bias and element-wise work excluded",
               (("conv*", _macs), ("linear", _macs), ("multiheadattention", _macs), ("matmul", _macs),
                ("baddbmm", _macs),
                ("scaleddotproductattention", _macs), ("einsum", _macs),
                *((kind, _macs) for kind in (*RECURRENT, *CELLS))),
               _unhandled),
    # recurrent layers as on the meta device or a GPU: on the CPU, oneDNN's fused LSTM hides them
    Convention("torch", "torch.utils.flop_counter.FlopCounterMode: 2 FLOPs per multiply-accumulate",
               (("conv*", lambda l: 2 * l.macs), ("linear", lambda l: 2 * l.macs),
                ("multiheadattention", lambda l: 2 * l.macs), ("matmul", lambda l: 2 * l.macs),
                ("baddbmm", lambda l: 2 * l.macs),
                ("scaleddotproductattention", lambda l: 2 * l.macs), ("einsum", lambda l: 2 * l.macs),
                *((kind, lambda l: 2 * l.macs) for kind in (*RECURRENT, *CELLS))), _unhandled,
               backward=(("conv*", _torch_conv_backward), ("*", _torch_backward))),
    Convention("fvcore", "fvcore FlopCountAnalysis(model, x).total(): MACs plus norms, 2-d "
               "upsampling and 2-d adaptive average pooling",
               (("conv*", _fvcore_conv), ("linear", _macs), ("batchnorm*", _fvcore_batchnorm),
                ("groupnorm", _norm(5, 4, "affine")), ("layernorm", _norm(5, 4, "elementwise_affine")),
                ("instancenorm*", _norm(5, 4, "affine")), ("upsample", _fvcore_upsample),
                # F.scaled_dot_product_attention is one traced op, aten::scaled_dot_product_attention,
                # it has no handle for
                ("adaptiveavgpool2d", lambda l: l.inp),
                ("gridsample", lambda l: 4 * l.out),  # aten::grid_sampler, "assume bilinear": 4 per output element
                # given a mask, the scores are torch.baddbmm's, which it has no handle for either
                ("multiheadattention", lambda l: l.macs - (_scores(l) // 2 * bool(masks_given(l.args))
                                                           if l.flag("need_weights") else _scores(l))),
                ("matmul", _fvcore_matmul),
                ("einsum", _fvcore_einsum),
                # a cell's trace is its two linear products (a recurrent layer's, one op it has no handle for)
                *((kind, _macs) for kind in CELLS)), _unhandled,
               returned_only=True),  # torch.jit's trace drops a module run whose output nobody reads
    Convention("torchinfo", "torchinfo summary(...).total_mult_adds: parameters named weight or bias × "
               "batch, or × output positions for convolutions",
               # layer scale's parameter is named gamma, as in timm; a parameter read directly, what is made of
               # parameters and what no kind states count as the modules holding them say (_torchinfo_leaves)
               (("layerscale", _unhandled), ("parameter", _torchinfo_leaves), ("constant", _torchinfo_leaves),
                ("uncounted", _torchinfo_leaves),
                # weight_ih_l0 and friends: × the output's first two sizes, batch × sequence (a cell's: × hidden)
                *((kind, lambda l: (l.weights + l.biases) * l.batch * l.out_shape[0]) for kind in (*RECURRENT, *CELLS)),
                ("multiheadattention", _unhandled)), _torchinfo),  # not a leaf: its out_proj is a child module
    Convention("ptflops", "ptflops get_model_complexity_info, pytorch backend: module hooks, reported per "
               "sample (their sum ÷ batch), plus the torch.nn.functional calls and tensor ops it patches, "
               "for the whole batch, so ReLU and pooling count twice at batch 1",
               (("conv*", Hooks(module=_module_conv(lambda l: l.macs + _bias_outputs(l)))),
                # called as torch.addmm (GPT-2's Conv1D), its patch counts: the product's MACs and the
                # bias's elements, once (F.linear it does not patch)
                ("linear", Hooks(module=lambda l: l.macs + _bias_outputs(l),
                                 functional=lambda l: l.macs + l.biases if l.patched else 0)),
                # nn.ReLU, ELU, GELU, PReLU: the hook, then the patched F.relu (F.elu, ...) the module calls
                *((kind, Hooks(module=_hooked(lambda l: l.out), functional=lambda l: l.out))
                  for kind in ("relu", "elu", "gelu", "prelu")),
                ("silu", Hooks(functional=lambda l: l.out)),  # nn.SiLU has no hook; F.silu is patched
                ("relu6", Hooks(module=_hooked(lambda l: l.out))),  # nn.ReLU6 calls F.hardtanh, not patched
                ("leakyrelu", Hooks(module=_hooked(lambda l: l.out))),
                ("*pool*", Hooks(module=_hooked(lambda l: l.inp), functional=lambda l: l.inp)),
                ("batchnorm*", Hooks(module=_norm(2, 1, "affine"))),
                ("instancenorm*", Hooks(module=_norm(2, 1, "affine"))),
                ("groupnorm", Hooks(module=_norm(2, 1, "affine"))), ("layernorm", Hooks(module=lambda l: l.inp)),
                ("softmax", Hooks(functional=lambda l: l.inp)),
                ("localresponsenorm", Hooks(functional=_ptflops_lrn)),
                # its hook reads output[0], the first sample's output only; then F.interpolate's count
                ("upsample", Hooks(module=_hooked(lambda l: math.prod(l.out_shape)), functional=_ptflops_interpolate)),
                ("multiheadattention", Hooks(module=_ptflops_attention_module, functional=_ptflops_attention)),
                ("scaleddotproductattention", Hooks(inside=_ptflops_timm_attention)),  # not patched
                # torch.matmul and Tensor.matmul are patched, a @ b (Tensor.__matmul__) is not
                # (F.scaled_dot_product_attention it does not patch)
                ("matmul", Hooks(functional=lambda l: 0 if l.flag("operator") else l.macs)),
                # torch.baddbmm (not the method): the product's MACs, and the input's elements where beta is not 0
                ("baddbmm", Hooks(functional=lambda l: l.macs + (_first_input(l) if l.args["beta"] else 0))),
                # torch.add, torch.mul and their methods are patched (operands aligned from their first
                # dims, the larger size of each: the output's, where their ranks agree), x + y is not
                *((kind, Hooks(functional=lambda l: 0 if l.flag("operator") else l.out)) for kind in ("add", "mul")),
                *((kind, Hooks(module=_ptflops_recurrent)) for kind in RECURRENT),
                *((kind, Hooks(module=_ptflops_cell)) for kind in CELLS)),
               _unhandled),
    Convention("thop", "thop profile(model, inputs): conv and linear MACs without bias, 2 or 4 per "
               "normalized element, average pooling, upsampling by mode",
               # every count is a hook on a module of torch.nn's own class (profile's register_hooks[type(m)])
               (("conv?d", _thop_hooked(_module_conv(_macs))), ("convtranspose*", _thop_hooked(_thop_transposed)),
                ("linear", _thop_hooked(_macs)), ("batchnorm*", _thop_hooked(_norm(4, 2, "affine"))),
                ("instancenorm*", _thop_hooked(_norm(4, 2, "affine"))),
                ("layernorm", _thop_hooked(_norm(4, 2, "elementwise_affine"))),
                ("avgpool*", _thop_hooked(lambda l: l.out)),
                ("adaptiveavgpool*", _thop_hooked(_thop_adaptive_avg)), ("softmax", _thop_hooked(_thop_softmax)),
                ("prelu", _thop_hooked(lambda l: l.inp)),  # count_prelu: one per input element, in eval
                *((kind, _thop_hooked(_thop_recurrent)) for kind in RECURRENT),
                *((kind, _thop_hooked(lambda l: _thop_cell(CELLS[l.kind], l.in_shape[0], l.args["hidden_size"],
                                                           l.flag("bias")) * l.batch)) for kind in CELLS),
                ("upsample", _thop_hooked(lambda l: l.out * {"nearest": 1, "linear": 5, "bilinear": 11,
                                                        "bicubic": 259}.get(l.args["mode"], 0)))), _unhandled),
)}
DEFAULT = "torchvision"


def convention(name: str) -> Convention:
    if name not in CONVENTIONS:
        raise SpecError(f"unknown convention '{name}' (choose from {', '.join(CONVENTIONS)})")
    return CONVENTIONS[name]
