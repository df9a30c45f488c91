"""Import by running the model (cnncalc/importing/capture.py): Python code on sizes and values runs as it
does in torch. Golden figures: torch's own (`sum(p.numel())`, FlopCounterMode over the same forward
pass, the output torch computes)."""
from __future__ import annotations

import re

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import cnncalc  # noqa: E402


class PythonOnSizes(nn.Module):
    """len(x.shape) in an assert, numpy on the spatial size, torch.as_tensor of a list of sizes and
    torch.jit.isinstance, all of which stopped torch.fx."""

    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv2d(3, 8, 3, padding=1), nn.Linear(8, 4)

    def forward(self, x):
        import numpy as np

        assert len(x.shape) == 4
        spatial = np.array(x.shape[2:])
        sizes = torch.as_tensor([int(v) for v in spatial])
        y = self.conv(x)
        if torch.jit.isinstance(y, torch.Tensor):
            y = y.mean((2, 3))
        return self.fc(y) * (sizes[0] > 0)


class StrideAsNumber(nn.Module):
    """YOLO's Detect.stride: a plain tensor attribute read as a number with .item()."""

    def __init__(self):
        super().__init__()
        self.conv, self.stride = nn.Conv2d(3, 8, 3, stride=2), torch.tensor([8.0, 16.0])

    def forward(self, x):
        return self.conv(x) * self.stride[0].item()


class Anchors(nn.Module):
    """YOLO's anchors: torch.arange(w).type_as(features), a grid made without the input, then read with it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        h, w = y.shape[2:]
        sx = torch.arange(w).type_as(y) + 0.5
        sy = torch.arange(h).type_as(y) + 0.5
        gy, gx = torch.meshgrid(sy, sx, indexing="ij")
        grid = torch.stack((gx, gy), 0)
        return y + grid


class Einops(nn.Module):
    def __init__(self):
        super().__init__()
        from einops.layers.torch import Rearrange

        self.patch = nn.Sequential(Rearrange("b c (h p1) (w p2) -> b (h w) (p1 p2 c)", p1=4, p2=4), nn.Linear(48, 32))
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        from einops import rearrange, reduce

        x = rearrange(self.patch(x), "b n d -> b d n")
        return self.head(reduce(x, "b d n -> b d", "mean"))


class RepeatedLatents(nn.Module):
    """Perceiver's latents repeated to the batch by einops, which caches each call's sizes by its input's shape."""

    def __init__(self):
        super().__init__()
        self.latents, self.to_q = nn.Parameter(torch.randn(8, 32)), nn.Linear(32, 32)

    def forward(self, data):
        from einops import repeat

        return self.to_q(repeat(self.latents, "n d -> b n d", b=data.shape[0])) + data[:, :8]


def test_einops_sizes_are_read_from_each_run_not_from_its_cache():
    # a second summary, or one after the module's own run at the import's batch of 2, had taken the repeat's
    # sizes from einops' cache: the latents a constant of 2 samples, 16,384 MACs where torch counts 8,192
    module = RepeatedLatents().eval()
    with FlopCounterMode(display=False) as counter:
        module(torch.randn(1, 64, 32))
    first = cnncalc.summary(module, (64, 32)).totals
    module(torch.randn(2, 64, 32))
    again = cnncalc.summary(module, (64, 32)).totals
    assert first.macs == again.macs == counter.get_total_flops() // 2
    assert not first.uncounted and not again.uncounted


class BranchOnData(nn.Module):
    """A branch on a value: the meta device has none, so the model runs once on the CPU."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        y = self.conv(x)
        return y if y.abs().sum() > 0 else -y


class TiedTwins(nn.Module):
    """Two linear layers sharing their weight and bias: held once."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(8, 8), nn.Linear(8, 8)
        self.b.weight, self.b.bias = self.a.weight, self.a.bias

    def forward(self, x):
        return self.b(torch.relu(self.a(x)))


class EmptyShortcut(nn.Module):
    """ghostnet's shortcut: an empty nn.Sequential passes its input on."""

    def __init__(self):
        super().__init__()
        self.conv, self.shortcut = nn.Conv2d(3, 3, 3, padding=1), nn.Sequential()

    def forward(self, x):
        return self.conv(x) + self.shortcut(x)


class WrittenInPlace(nn.Module):
    """Writes into tensors, then read whole: MViT's attn[:, :, 1:, 1:] += bias, and a tensor made empty
    and filled part by part (MultiScaleRoIAlign's result[rows] = pooled, level by level)."""

    def __init__(self):
        super().__init__()
        self.qk, self.bias, self.head = nn.Linear(8, 16), nn.Linear(8, 4), nn.Linear(8, 2)
        self.parts = nn.ModuleList([nn.Linear(8, 3), nn.Linear(8, 5)])

    def forward(self, x):
        q, k = self.qk(x).chunk(2, -1)
        attn = q @ k.transpose(1, 2)
        attn[:, 1:, 1:] += self.bias(x[:, 1:])
        filled = x.new_zeros(x.shape[0], 5, 8)
        filled[..., :3] = self.parts[0](x)
        filled[..., 3:] = self.parts[1](x)
        return self.head(attn.softmax(-1) @ filled)


CASES = [(PythonOnSizes, (3, 8, 8)), (StrideAsNumber, (3, 9, 9)), (Anchors, (3, 6, 5)), (Einops, (3, 16, 16)),
         (BranchOnData, (3, 8, 8)), (TiedTwins, (8,)), (EmptyShortcut, (3, 5, 5)), (WrittenInPlace, (5, 8))]


@pytest.mark.parametrize("build,shape", CASES, ids=[c[0].__name__ for c in CASES])
def test_a_model_python_runs_is_read_as_torch_runs_it(build, shape):
    module = build().eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        output = module(torch.randn(1, *shape))
    report = cnncalc.summary(module, shape).report
    assert report.totals.params == sum(p.numel() for p in module.parameters())
    assert report.totals.macs == counter.get_total_flops() // 2
    assert report.layers[-1].output_shape == tuple(output.shape[1:])
    assert not any(row.kind == "uncounted" for row in report.layers)


def test_only_what_meta_cannot_run_runs_on_the_cpu_and_the_report_says_why():
    assert cnncalc.summary(Anchors(), (3, 6, 5)).report.ran_on_cpu == ""
    why = cnncalc.summary(BranchOnData(), (3, 8, 8)).report.ran_on_cpu
    assert why.startswith("the meta device stops at test_capture.py:") and "y.abs().sum() > 0" in why


def test_a_users_module_is_left_as_it_was():
    module = TiedTwins()
    before = {name: tensor.clone() for name, tensor in module.state_dict().items()}
    cnncalc.summary(BranchOnData(), (3, 8, 8))
    cnncalc.summary(module, (8,))
    assert all(torch.equal(before[name], tensor) and tensor.device.type == "cpu"
               for name, tensor in module.state_dict().items())
    assert type(nn.Module.__call__).__name__ == "function" and nn.Module.__call__.__name__ == "_wrapped_call_impl"


class Codebook(nn.Module):
    """A quantizer: distances to the codebook's weight read as a tensor, then the module looks codes up."""

    def __init__(self):
        super().__init__()
        self.enc, self.book = nn.Linear(8, 4), nn.Embedding(16, 4)

    def forward(self, x):
        z = self.enc(x)
        distances = torch.cdist(z, self.book.weight.unsqueeze(0).expand(z.shape[0], -1, -1))
        return self.book(distances.argmin(-1))


def test_a_weight_a_layer_holds_and_forward_reads_is_counted_once():
    module = Codebook()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        output = module(torch.randn(1, 6, 8))
    report = cnncalc.summary(module, (6, 8)).report
    assert report.totals.params == sum(p.numel() for p in module.parameters())  # 100, not 164
    # the search, cdist and argmin, counted as torch counts it
    assert [row.kind for row in report.layers if row.name in ("cdist", "argmin")] == ["cdist", "argmin"]
    assert report.totals.macs == counter.get_total_flops() // 2
    assert report.layers[-1].output_shape == tuple(output.shape[1:])


class TwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 4, 3), nn.Linear(4, 2)

    def forward(self, x):
        features = self.a(x)
        return {"logits": self.b(features.mean((2, 3))), "features": features}


def test_every_output_is_named_in_the_order_forward_returns_it():
    module = TwoOutputs()
    report = cnncalc.summary(module, (3, 8, 8)).report
    returned = module(torch.randn(1, 3, 8, 8))  # torch's own run: a dict of two tensors
    assert [row.output_shape for row in report.output_rows] == [tuple(t.shape[1:]) for t in returned.values()]
    assert report.outputs == ("b", "a")


class SizeTimesSize(nn.Module):
    """ViT's reshape(n, hidden, h * w): a size read off a tensor times another."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 2, stride=2)

    def forward(self, x):
        x = self.conv(x)
        n, c, h, w = x.shape
        return x.reshape(n, c, h * w).mean(2)


def test_sizes_read_while_running_leave_the_graph_as_plain_numbers():
    # a Size left in the graph recorded every later calculation on it: vit_b_16's figures took 0.24 s
    result = cnncalc.summary(SizeTimesSize(), (3, 8, 6))
    assert result.layers[2].output_shape == (4, 12)  # torch: (1, 4, 12) at batch 1
    assert all(type(size) is int for row in result.layers for size in row.output_shape)
    assert all(type(size) is int for size in result.graph.nodes[1].args["shape"][1:])


def _meta(shape, dtype=torch.float32):
    return torch.empty(shape, dtype=dtype, device="meta")


META_CALLS = [  # (call, args): each as forward() makes it, with the operands' shapes and dtypes
    (torch.add, (_meta((2, 3, 4)), _meta((4,)))), (torch.Tensor.__radd__, (_meta((2, 3)), 1)),
    (torch.Tensor.__rsub__, (_meta((5,)), 1.5)), (torch.mul, (_meta((2, 1, 4)), _meta((3, 1)))),
    (torch.Tensor.__truediv__, (_meta((2, 3), torch.int64), 2)), (torch.div, (_meta((2,)), _meta((2,), torch.int64))),
    (torch.Tensor.__mul__, (_meta((2, 3), torch.float16), _meta((2, 3)))), (torch.sub, (_meta((3,), torch.int32), 1)),
    (torch.Tensor.__add__, (_meta((4, 6)).t(), 1.0)), (torch.Tensor.__mul__, (_meta((2, 3)), True)),
    (torch.nn.functional.linear, (_meta((2, 7, 5)), _meta((3, 5)), _meta((3,)))),
    (torch.nn.functional.linear, (_meta((2, 5)), _meta((3, 5), torch.float16))),
    (torch.nn.functional.linear, (_meta((5, 2, 5)).transpose(0, 1), _meta((3, 5)))),
    (torch.roll, (_meta((2, 6, 6, 4)), (-3, -3), (1, 2))), (torch.Tensor.roll, (_meta((2, 6, 4)).transpose(1, 2), 1, 2)),
    (torch.Tensor.masked_fill, (_meta((4, 9, 9)), _meta((4, 9, 9), torch.bool), -100.0)),
    (torch.Tensor.masked_fill, (_meta((4, 9, 9), torch.float16), _meta((9, 9), torch.bool), 0.0)),
    (torch.Tensor.masked_fill, (_meta((1, 9)), _meta((4, 9), torch.bool), 0.0)),
    (torch.Tensor.__ne__, (_meta((4, 9, 9)), 0)), (torch.eq, (_meta((2, 3), torch.int64), _meta((3,)))),
    (torch.Tensor.__lt__, (_meta((3, 1)), _meta((1, 4), torch.float16))),
    (torch.Tensor.__mul__, (_meta((2, 7, 3, 4, 5)).permute(2, 0, 3, 1, 4)[0], 0.125)),
    (torch.Tensor.__rsub__, (_meta((6, 4))[:, ::2], 1.0)), (torch.Tensor.__add__, (_meta((3, 1, 4)).expand(3, 5, 4), 1)),
    (torch.Tensor.__mul__, (_meta((4, 6)).t(), _meta((6, 4)))),
    # ConvNeXt's layer_scale times its block's permuted output, and the residual added to it
    (torch.Tensor.__mul__, (_meta((8, 1, 1)), _meta((2, 5, 5, 8)).permute(0, 3, 1, 2))),
    (torch.Tensor.__add__, (_meta((2, 5, 5, 8)).permute(0, 3, 1, 2), _meta((2, 8, 5, 5)))),
    (torch.add, (_meta((2, 8, 5, 5)).to(memory_format=torch.channels_last), _meta((8, 1, 1)))),
    (torch.Tensor.__mul__, (_meta(()), _meta((3, 4, 5)).transpose(0, 2))),
    (torch.Tensor.__mul__, (_meta((2, 4, 6), torch.float16).transpose(1, 2), _meta((1, 6, 4)))),
    # the norms of modules of a library's own class: torchvision's LayerNorm2d permutes to channels last
    (torch.nn.functional.layer_norm, (_meta((2, 5, 5, 8)), (8,), _meta((8,)), _meta((8,)), 1e-6)),
    (torch.nn.functional.layer_norm, (_meta((2, 8, 5, 5)).permute(0, 2, 3, 1), [8], _meta((8,)), None)),
    (torch.nn.functional.layer_norm, (_meta((3, 2, 4)).transpose(0, 1), (3, 4))),
    (torch.nn.functional.layer_norm, (_meta((3, 4)), (3, 4))),
    (torch.nn.functional.batch_norm, (_meta((2, 8, 5, 5)), _meta((8,)), _meta((8,)), _meta((8,)), _meta((8,)))),
    (torch.nn.functional.batch_norm, (_meta((2, 8, 5)), _meta((8,)), _meta((8,)), None, None, True)),
    (torch.nn.functional.batch_norm, (_meta((2, 8, 5, 5)).to(memory_format=torch.channels_last), _meta((8,)),
                                      _meta((8,)))),
]
# attention's products: q @ k.T, the scores times v, a vector's product, a batch broadcast
META_CALLS += [
    (torch.matmul, (_meta((2, 3, 5, 4)), _meta((2, 3, 5, 4)).transpose(-2, -1))),
    (torch.Tensor.__matmul__, (_meta((2, 7, 8)), _meta((6, 8)).t())), (torch.matmul, (_meta((7, 8)), _meta((2, 8, 6)))),
    (torch.Tensor.__matmul__, (_meta((1, 3, 5, 4)), _meta((2, 3, 4, 6)))), (torch.matmul, (_meta((5,)), _meta((2, 5, 3)))),
    (torch.Tensor.__matmul__, (_meta((2, 5, 3)), _meta((3,)))),
    (torch.matmul, (_meta((6, 2, 3, 4), torch.float16)[::2], _meta((4, 2), torch.float16))),
    (torch.matmul, (_meta((4,)), _meta((4,)))), (torch.matmul, (_meta((3, 4), torch.int64), _meta((4, 2), torch.int64))),
]
# feature maps joined: along channels, the last dim, a list of one; slices of a map (Swin's patch merging)
META_CALLS += [
    (torch.cat, ([_meta((2, 3, 4, 4)), _meta((2, 5, 4, 4))], 1)), (torch.cat, ((_meta((2, 3)), _meta((2, 1))), -1)),
    (torch.cat, ([_meta((2, 3))],)), (torch.cat, ([_meta((2, 8, 8, 3))[:, 0::2, 0::2], _meta((2, 8, 8, 3))[:, 1::2, 0::2]], -1)),
    (torch.cat, ([_meta((2, 3), torch.int64), _meta((1, 3), torch.int64)],)),
]
# as torch passes them on from F.layer_norm and F.batch_norm, weight and bias by name
META_KEYWORD_CALLS = [
    (torch.nn.functional.layer_norm, (_meta((2, 5, 5, 8)).permute(0, 3, 1, 2), (5, 5)),
     {"weight": _meta((5, 5)), "bias": _meta((5, 5)), "eps": 1e-6}),
    (torch.nn.functional.layer_norm, (_meta((2, 5, 8)), (8,)), {"weight": _meta((8,)), "bias": None}),
    (torch.nn.functional.batch_norm, (_meta((2, 8, 5, 5)), _meta((8,)), _meta((8,))),
     {"weight": _meta((8,)), "bias": _meta((8,)), "training": False, "momentum": 0.1, "eps": 1e-5}),
    (torch.add, (_meta((4, 2, 3)),), {"other": _meta((3, 2)).t()}),
    (torch.cat, ([_meta((2, 3)), _meta((2, 4))],), {"dim": 1}),
]


@pytest.mark.parametrize("call,args", META_CALLS)
def test_a_call_answered_on_meta_at_once_is_what_its_meta_kernel_gives(call, args):
    from cnncalc.importing.capture import _on_meta

    expected = call(*args)  # the meta kernel's answer; the shortcut answers it or leaves it to the kernel
    answered = _on_meta(call, args, {})
    assert answered is None or (answered.shape, answered.dtype, answered.stride()) == \
        (expected.shape, expected.dtype, expected.stride())


@pytest.mark.parametrize("call,args,kwargs", META_KEYWORD_CALLS)
def test_a_call_given_tensors_by_name_is_answered_as_its_meta_kernel_gives(call, args, kwargs):
    from cnncalc.importing.capture import _on_meta

    expected, answered = call(*args, **kwargs), _on_meta(call, args, kwargs)
    assert (answered is None) == (call is torch.add)  # an operand by name: left to the kernel
    assert answered is None or (answered.shape, answered.dtype, answered.stride()) == \
        (expected.shape, expected.dtype, expected.stride())


# Swin's windows: reshapes of contiguous and of permuted maps (a view, or a copy), -1, sizes one by one
RESHAPES = [(torch.Tensor.reshape, (_meta((2, 3, 4)), 6, 4)), (torch.Tensor.reshape, (_meta((2, 3, 4)), (2, -1))),
            (torch.reshape, (_meta((2, 3, 4)).transpose(1, 2), (2, 12))),
            (torch.Tensor.reshape, (_meta((2, 3, 4)).permute(2, 0, 1), -1)),
            (torch.Tensor.reshape, (_meta((4, 6))[:, ::2], 12)), (torch.Tensor.reshape, (_meta((0, 3)), -1, 3)),
            (torch.Tensor.reshape, (_meta((2, 3, 4), torch.float16).transpose(0, 1), 3, 2, 4)),
            (torch.Tensor.reshape, (_meta((2, 3, 4)).expand(5, 2, 3, 4), 10, 12))]


@pytest.mark.parametrize("call,args", RESHAPES)
def test_a_reshape_is_a_view_or_a_copy_as_torch_makes_it(call, args):
    from cnncalc.importing.capture import _on_meta
    from cnncalc.importing.traced import storage_of

    expected, answered = call(*args), _on_meta(call, args, {})
    assert (answered.shape, answered.dtype, answered.stride()) == (expected.shape, expected.dtype, expected.stride())
    assert (storage_of(answered) == storage_of(args[0])) == (storage_of(expected) == storage_of(args[0]))


def test_a_reshape_torch_refuses_is_refused_as_torch_words_it():
    from cnncalc.importing.capture import _on_meta

    with pytest.raises(RuntimeError) as theirs:
        _meta((2, 3, 4)).reshape(5, 5)
    with pytest.raises(RuntimeError, match=re.escape(str(theirs.value))):
        _on_meta(torch.Tensor.reshape, (_meta((2, 3, 4)), 5, 5), {})


@pytest.mark.parametrize("shapes", [[(2, 3, 4), (4,)], [(2, 1, 4), (3, 1)], [(5,), (3,)], [(0, 3), (1, 3)],
                                    [(0, 3), (2, 3)], [(), (2, 3)], [(1,), ()], [(4, 1, 1), (1, 5, 1), (1, 1, 6)]])
def test_operands_broadcast_as_torch_broadcasts_them(shapes):
    from cnncalc.importing.capture import _broadcast

    try:
        expected = tuple(torch.broadcast_shapes(*shapes))
    except RuntimeError:  # torch's refusal: left to the kernel
        expected = None
    assert _broadcast(shapes) == expected


# nn.MultiheadAttention's calls of F.multi_head_attention_forward: (module arguments, query, key and value
# shapes, forward() arguments)
ATTENTION_CALLS = [
    ({}, [(5, 2, 8)], {}), ({"batch_first": True}, [(2, 5, 8)], {"need_weights": False}),
    ({}, [(5, 8)], {}), ({}, [(5, 8)], {"average_attn_weights": False}),
    ({}, [(5, 2, 8)], {"average_attn_weights": False}), ({"add_bias_kv": True, "add_zero_attn": True}, [(5, 2, 8)], {}),
    ({"kdim": 3, "vdim": 6}, [(5, 2, 8), (7, 2, 3), (7, 2, 6)], {}), ({"bias": False}, [(5, 2, 8), (7, 2, 8), (7, 2, 8)], {}),
    ({"dtype": torch.float16}, [(5, 2, 8)], {}), ({}, [(5, 2, 8)], {"attn_mask": torch.zeros(5, 5, dtype=torch.bool)}),
    ({}, [(5, 2, 8), (7, 2, 8), (7, 2, 8)], {"key_padding_mask": torch.zeros(2, 7, dtype=torch.bool)}),
    # a float mask per head and sample, a causal one with its mask, both masks without weights, unbatched
    ({}, [(5, 2, 8)], {"attn_mask": torch.zeros(4, 5, 5)}),
    ({"batch_first": True}, [(2, 5, 8)], {"attn_mask": torch.ones(5, 5).triu(1).bool(), "is_causal": True}),
    ({}, [(5, 2, 8), (7, 2, 8), (7, 2, 8)], {"key_padding_mask": torch.zeros(2, 7), "attn_mask": torch.zeros(5, 7),
                                             "need_weights": False}),
    ({"add_bias_kv": True}, [(5, 8)], {"key_padding_mask": torch.zeros(5, dtype=torch.bool),
                                        "attn_mask": torch.zeros(2, 5, 5, dtype=torch.bool)}),
]
# masks torch refuses: left to its checks
REFUSED_MASKS = [{"attn_mask": torch.zeros(5, 6)}, {"attn_mask": torch.zeros(3, 5, 5)},
                 {"key_padding_mask": torch.zeros(5, 2)}, {"attn_mask": torch.zeros(5, 5, dtype=torch.float64)},
                 {"is_causal": True}]


@pytest.mark.parametrize("module_args,shapes,call_args", ATTENTION_CALLS)
def test_attention_answered_on_meta_at_once_is_what_its_meta_kernels_give(module_args, shapes, call_args):
    from torch.overrides import TorchFunctionMode

    from cnncalc.importing.capture import _on_meta

    dtype = module_args.get("dtype", torch.float32)
    attention = nn.MultiheadAttention(8, 2, device="meta", **module_args).eval()
    inputs = [_meta(shape, dtype) for shape in shapes] * (3 if len(shapes) == 1 else 1)
    answers = []

    class Compared(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if func is torch.nn.functional.multi_head_attention_forward:
                answers.append((_on_meta(func, args, kwargs), func(*args, **kwargs)))
                return answers[-1][1]
            return func(*args, **(kwargs or {}))

    with Compared():
        attention(*inputs, **{key: value.to("meta") if isinstance(value, torch.Tensor) else value
                              for key, value in call_args.items()})
    (answered, expected), = answers
    assert [None if t is None else (t.shape, t.dtype, t.stride()) for t in answered] == \
        [None if t is None else (t.shape, t.dtype, t.stride()) for t in expected]


@pytest.mark.parametrize("call_args", REFUSED_MASKS)
def test_attention_given_a_mask_torch_refuses_is_left_to_torch(call_args):
    from torch.overrides import TorchFunctionMode

    from cnncalc.importing.capture import _on_meta

    attention, x = nn.MultiheadAttention(8, 2), torch.randn(5, 2, 8)
    with pytest.raises((AssertionError, RuntimeError)):  # torch's refusal, on the CPU
        attention(x, x, x, **call_args)
    answers = []

    class Asked(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if func is torch.nn.functional.multi_head_attention_forward:
                answers.append(_on_meta(func, args, kwargs or {}))
                raise StopIteration  # asked: the kernels need not run
            return func(*args, **(kwargs or {}))

    meta = attention.to("meta")
    with Asked(), pytest.raises(StopIteration):
        meta(*[x.to("meta")] * 3, **{key: value.to("meta") if isinstance(value, torch.Tensor) else value
                                     for key, value in call_args.items()})
    assert answers == [None]


def test_the_calls_models_make_most_are_answered_at_once():
    from cnncalc.importing.capture import _on_meta

    answered = [_on_meta(call, args, {}) is not None for call, args in META_CALLS]
    assert answered == [True, True, True, True, False, True, True, False, True, True, True, False, False,
                        True, False, True, True, False, True, True, True, True, True, True, True,
                        True, True, True, True, True, True, True, True, True, True, True, False,
                        True, True, True, True, True, True, True, True, False,
                        True, True, True, False, True]


# --- how long forward()'s Python holds each tensor: golden figures, the peaks torch measures
# (cnncalc.verify.memory: the CPU allocator's records), batch 2

class LocalsToTheEnd(nn.Module):
    """a and b are read by the next conv only, but stay in forward()'s locals until it returns."""

    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(8, 8, 3, padding=1) for _ in range(4))

    def forward(self, x):
        a = self.convs[0](x)
        b = self.convs[1](a)
        c = self.convs[2](b)
        return self.convs[3](c)


class ReadAtTheEnd(nn.Module):
    """a's last reader is the add, which holds it as long with or without its local; b's is conv3, but
    its local holds it through the add."""

    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(8, 8, 3, padding=1) for _ in range(3))

    def forward(self, x):
        a = self.convs[0](x)
        b = self.convs[1](a)
        c = self.convs[2](b)
        return c + a.mean(1, keepdim=True)


class Rebound(nn.Module):
    """x rebound at each step: each output goes once the next is made, as the liveness walk frees it."""

    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(8, 8, 3, padding=1) for _ in range(4))

    def forward(self, x):
        for conv in self.convs:
            x = conv(x)
        return x


class StarBlock(nn.Module):
    """timm's StarNet block: x1 and x2 stay in locals through g and dwconv2, past their last reader."""

    def __init__(self):
        super().__init__()
        self.dwconv, self.dwconv2 = nn.Conv2d(8, 8, 7, padding=3, groups=8), nn.Conv2d(8, 8, 7, padding=3, groups=8)
        self.f1, self.f2, self.g, self.act = nn.Conv2d(8, 32, 1), nn.Conv2d(8, 32, 1), nn.Conv2d(32, 8, 1), nn.ReLU6()

    def forward(self, x):
        residual = x
        x = self.dwconv(x)
        x1, x2 = self.f1(x), self.f2(x)
        x = self.act(x1) * x2
        x = self.dwconv2(self.g(x))
        return residual + x


class FeatureList(nn.Module):
    """Every stage's output appended to a list that lives until forward() returns (a feature pyramid)."""

    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(8, 8, 3, padding=1) for _ in range(4))
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        features = []
        for conv in self.convs:
            x = conv(x)
            features.append(x)
        return self.head(features[-1].mean((2, 3)))


class LocalOnTheCpu(LocalsToTheEnd):
    """LocalsToTheEnd where meta cannot go (a branch on data): the CPU run holds its locals alike."""

    def forward(self, x):
        a = self.convs[0](x)
        b = self.convs[1](a if a.abs().sum() > 0 else x)
        return self.convs[3](self.convs[2](b))


HELD = [LocalsToTheEnd, ReadAtTheEnd, Rebound, StarBlock, FeatureList, LocalOnTheCpu]


@pytest.mark.parametrize("build", HELD, ids=[build.__name__ for build in HELD])
def test_a_tensor_forward_holds_past_its_last_reader_is_alive_as_long(build):
    from cnncalc.verify.memory import measure_inference, measure_training

    module = build().eval()
    memory = cnncalc.summary(module, (8, 32, 32), batch=2, optimizer="sgd").memory
    assert measure_inference(module, (8, 32, 32), 2) == pytest.approx(memory.peak_inference_bytes, rel=0.005)
    assert measure_training(module, (8, 32, 32), 2, "sgd") == pytest.approx(memory.training_bytes, rel=0.005)
