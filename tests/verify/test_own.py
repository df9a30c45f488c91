"""`cnncalc verify` on a PyTorch model measures the user's module itself, not a model rebuilt from its
spec: its figures equal what torch says of that very module (sum of numel, requires_grad,
FlopCounterMode on a forward at the batch), and the module is given back as it was."""
from __future__ import annotations

import json
import textwrap

import pytest

from conftest import run_here

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn.utils.parametrizations import weight_norm  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.verify.run import verify  # noqa: E402
from cnncalc.model import load_target  # noqa: E402

# the figures torch measures itself on the module; the peers' totals are checked apart
TORCH_FIGURES = {"params", "trainable_params", "buffers", "macs", "output_shape", "torch ops"}


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 100)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.conv2(x))
        return self.fc(self.pool(x).flatten(1))


class FrozenBackbone(nn.Module):
    """A backbone with every parameter frozen and a new 10-class head, as fine-tuning makes one."""

    def __init__(self):
        super().__init__()
        self.net = Backbone()
        self.net.requires_grad_(False)
        self.net.fc = nn.Linear(16, 10)

    def forward(self, x):
        return self.net(x)


class SpareHead(nn.Module):
    """A layer the forward pass never calls (googlenet's aux heads in eval): held, never run."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.spare = nn.Linear(8, 5)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.conv(x).mean((2, 3)))


class ReadNowhere(nn.Module):
    """A module run whose output nobody reads: torch does its work."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.unused = nn.Conv2d(8, 4, 1)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        x = self.conv(x)
        self.unused(x)
        return self.head(x.mean((2, 3)))


class WeightNormed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = weight_norm(nn.Conv2d(3, 8, 3))
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


class TokenModel(nn.Module):
    """Token ids looked up in a frozen embedding, then a small trainable head."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 16)
        self.embed.requires_grad_(False)
        self.mix = nn.Sequential(nn.Linear(16, 32), nn.ReLU())
        self.head = nn.Linear(12 * 32, 2)

    def forward(self, ids):
        return self.head(self.mix(self.embed(ids)).flatten(1))


def truth(module: nn.Module, x: torch.Tensor) -> dict:
    """What torch says of the module: numel of its tensors, FlopCounterMode's FLOPs ÷ 2 on a forward."""
    params = list(module.parameters())
    counter = FlopCounterMode(display=False)
    with counter:
        out = module.eval()(x)
    return {"params": sum(p.numel() for p in params),
            "trainable_params": sum(p.numel() for p in params if p.requires_grad),
            "buffers": sum(b.numel() for b in module.buffers()), "macs": counter.get_total_flops() // 2,
            "output_shape": tuple(out.shape[1:])}


def verified(module: nn.Module, input_size, batch: int = 1, input_dtype=None):
    result = cnncalc.summary(module, input_size, batch=batch, input_dtype=input_dtype).verify()
    assert result.subject == "the module itself"
    return result, {c.figure: c for c in result.checks if c.layer == "total"}


def assert_torch_agrees(result, totals, module, x):
    wrong = [f"{c.layer} {c.figure}: {c.expected} vs {c.measured}" for c in result.checks
             if not c.ok and (c.figure in TORCH_FIGURES or c.layer != "total")]
    assert not wrong, wrong
    assert all(m.ok for m in result.memory), [m.as_dict() for m in result.memory]
    for figure, value in truth(module, x).items():
        assert totals[figure].measured == value, figure


def test_a_frozen_backbone_with_a_new_head_is_measured_itself():
    module = FrozenBackbone()
    runs, outputs = [], []
    module.register_forward_hook(lambda *_: runs.append(1))  # the module itself runs, not a rebuild
    module.net.conv2.register_forward_hook(lambda _, __, out: outputs.append(out.numel()))
    result, totals = verified(module, (3, 32, 32))
    assert runs
    layers = {(c.layer, c.figure): c for c in result.checks if c.layer != "total"}
    assert layers["net.conv2", "activations"].measured == outputs[0] == 16 * 16 * 16
    assert layers["net.fc", "params"].measured == sum(p.numel() for p in module.net.fc.parameters())
    assert not result.failed, [f"{c.figure}" for c in result.failed]
    # 16 × 10 + 10: the new head alone, as torch's requires_grad says
    assert totals["trainable_params"].measured == 170 == sum(p.numel() for p in module.parameters() if p.requires_grad)
    assert_torch_agrees(result, totals, module, torch.randn(1, 3, 32, 32))


def test_the_module_is_given_back_as_it_was():
    module = FrozenBackbone().train()
    state = {key: value.clone() for key, value in module.state_dict().items()}
    cnncalc.summary(module, (3, 32, 32), batch=2, dtype="float64").verify()  # a training step at float64
    assert module.training and all(part.training for part in module.modules())
    assert state.keys() == module.state_dict().keys()
    assert all(torch.equal(state[key], value) for key, value in module.state_dict().items())  # dtype too
    assert all(p.grad is None and p.dtype == torch.float32 for p in module.parameters())


def test_a_module_never_called_is_held_and_does_no_work():
    module = SpareHead()
    result, totals = verified(module, (3, 32, 32))
    assert not result.failed, [f"{c.figure}" for c in result.failed]
    assert_torch_agrees(result, totals, module, torch.randn(1, 3, 32, 32))


def test_a_module_whose_output_nobody_reads_is_counted():
    # torch runs it (28,800 MACs); fvcore's jit trace drops it, and its convention says so
    module = ReadNowhere()
    result, totals = verified(module, (3, 32, 32))
    assert_torch_agrees(result, totals, module, torch.randn(1, 3, 32, 32))


class TiedHead(nn.Module):
    """A language model's head whose weight is its embedding's (another module class)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 16)
        self.body = nn.Linear(16, 16)
        self.head = nn.Linear(16, 100, bias=False)
        self.head.weight = self.emb.weight

    def forward(self, ids):
        return self.head(nn.functional.relu(self.body(self.emb(ids))))


class PooledProjection(nn.Module):
    """CLIP's way: a sample's pooled features times a projection matrix held as a parameter."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.proj = nn.Parameter(torch.randn(8, 5))

    def forward(self, x):
        return torch.matmul(self.conv(x).mean((2, 3)), self.proj)


def test_a_head_tied_to_an_embedding_is_counted_once():
    module = TiedHead()
    result, totals = verified(module, (12,), input_dtype="int64")
    assert_torch_agrees(result, totals, module, torch.randint(0, 100, (1, 12)))
    assert totals["params"].measured == 1_600 + 272  # the embedding's weight once, the body's 16 × 16 + 16


def test_a_pooled_vector_times_a_parameter_matrix():
    module = PooledProjection()
    result, totals = verified(module, (3, 16, 16))
    assert not result.failed, [f"{c.figure}" for c in result.failed]
    assert_torch_agrees(result, totals, module, torch.randn(1, 3, 16, 16))


def test_a_weight_normed_layer_holds_its_originals():
    module = WeightNormed()
    result, totals = verified(module, (3, 32, 32))
    assert_torch_agrees(result, totals, module, torch.randn(1, 3, 32, 32))
    # the conv holds g (8) and v (8 × 3 × 3 × 3) and its bias: 232, not the 224 of the weight it computes
    conv = next(c for c in result.checks if (c.layer, c.figure) == ("conv", "params"))
    assert conv.ok and conv.measured == 232 == sum(p.numel() for p in module.conv.parameters())


class WeightNormedF(WeightNormed):
    def forward(self, x):  # F.relu, which ptflops patches (torch.relu it does not: the xfail below)
        return self.fc(nn.functional.relu(self.conv(x)).mean((2, 3)))


def test_the_peers_count_a_weight_normed_layer_as_cnncalc_says():
    # ParametrizedConv2d is in no table of thop's or ptflops' (they look a module's exact type up), and
    # holds its parametrizations as submodules (not a leaf, whose tensors alone torchinfo sums): each
    # counts the conv 0, as cnncalc's conventions now say of it
    result, _ = verified(WeightNormedF(), (3, 32, 32))
    assert all(c.ok for c in result.checks if c.figure.endswith(" ops")), \
        [(c.figure, c.expected, c.measured) for c in result.checks if not c.ok]


class TorchRelu(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        return torch.relu(self.conv(x))


def test_ptflops_counts_torch_relu_as_cnncalc_says():
    # ptflops patches torch.nn.functional.relu, not torch.relu: it counts torch.relu's 8 × 30 × 30 = 7,200
    # elements nowhere, and neither does cnncalc's ptflops convention now
    result, totals = verified(TorchRelu(), (3, 32, 32))
    assert totals["ptflops ops"].ok, (totals["ptflops ops"].expected, totals["ptflops ops"].measured)


BOUND_GELU = nn.functional.gelu  # taken when this file is imported, as transformers' ACT2FN does


class ReachedAnotherWay(nn.Module):
    """The functions ptflops patches by their names in torch.nn.functional, called by those names and
    reached other ways: a tensor method, torch's own function, a reference taken before ptflops patches."""

    def __init__(self):
        super().__init__()
        self.fc, self.act = nn.Linear(16, 16), BOUND_GELU

    def forward(self, x):
        x = self.fc(x)
        scores = nn.functional.softmax(x, -1) + x.softmax(-1) + torch.softmax(x, -1)
        return scores + nn.functional.gelu(x) + self.act(x) + nn.functional.relu(x) + x.relu()


def test_ptflops_counts_a_patched_function_only_when_called_by_its_patched_name():
    from conftest import peer_total

    module, x = ReachedAnotherWay().eval(), torch.randn(2, 8, 16)
    # ptflops: the linear's hook (8 × 16 × 16 + 8 × 16 per sample) and F.softmax, F.gelu and F.relu's 2 × 8 × 16 each
    assert peer_total("ptflops", module, (x,)) == 8 * 16 * 17 + 3 * 2 * 8 * 16
    result, totals = verified(module, (8, 16), batch=2)
    assert totals["ptflops ops"].ok, (totals["ptflops ops"].expected, totals["ptflops ops"].measured)
    # the spec exported runs its layers as the module does: the rebuilt model's count is the same
    twin = verify(cnncalc.summary(module, (8, 16)).graph, batch=2)
    assert [c.measured for c in twin.checks if c.layer == "total" and c.figure == "ptflops ops"] == [
        peer_total("ptflops", module, (x,))]


class CalledByName(nn.Module):
    """timm's ConvNeXt scales by x.mul(gamma); torch.add and x.add(eps) beside x + y and x * 2, which torch
    passes on as the same Tensor.add and Tensor.mul: ptflops patches the names, not the operators."""

    def __init__(self):
        super().__init__()
        self.conv, self.gamma = nn.Conv2d(3, 8, 3), nn.Parameter(torch.ones(8))

    def forward(self, x):
        x = self.conv(x)
        y = x.mul(self.gamma.reshape(1, -1, 1, 1)) + x * 2
        y += x
        return torch.add(y, x).add(1e-5) @ torch.matmul(y, x).transpose(-2, -1)


def test_ptflops_counts_an_add_or_mul_called_by_its_name_not_written_as_an_operator():
    from conftest import peer_total

    module, x = CalledByName().eval(), torch.randn(2, 3, 16, 16)
    # the conv's hook (8 × 14 × 14 × 27 + 8 × 14 × 14 per sample); x.mul, torch.add and .add's 2 × 8 × 14 × 14
    # each; torch.matmul's 2 × 8 × 14 × 14 × 14, not @'s
    assert peer_total("ptflops", module, (x,)) == 8 * 14 * 14 * 28 + 3 * 2 * 8 * 14 * 14 + 2 * 8 * 14 ** 3
    result, totals = verified(module, (3, 16, 16), batch=2)
    assert totals["ptflops ops"].ok, (totals["ptflops ops"].expected, totals["ptflops ops"].measured)
    graph = cnncalc.summary(module, (3, 16, 16)).graph
    assert [node.args["operator"] for node in graph.nodes if node.kind in ("add", "mul", "matmul")] == [
        False, True, True, True, False, False, False, True]
    twin = verify(graph, batch=2)  # the spec exported calls torch's functions where the module does
    assert [c.measured for c in twin.checks if c.layer == "total" and c.figure == "ptflops ops"] == [
        peer_total("ptflops", module, (x,))]


def test_token_ids_read_by_an_embedding():
    module = TokenModel()
    result, totals = verified(module, (12,), batch=1, input_dtype="int64")
    assert not result.failed, [f"{c.figure}" for c in result.failed]
    assert totals["trainable_params"].measured == 16 * 32 + 32 + 12 * 32 * 2 + 2
    assert_torch_agrees(result, totals, module, torch.randint(0, 100, (1, 12)))


class Tagger(nn.Module):
    """Token ids through an embedding and an LSTM, its last step classified: PyTorch's tutorials' tagger."""

    def __init__(self):
        super().__init__()
        self.embed, self.lstm, self.head = nn.Embedding(50, 16), nn.LSTM(16, 24, batch_first=True), nn.Linear(24, 3)

    def forward(self, ids):
        output, _ = self.lstm(self.embed(ids))
        return self.head(output[:, -1])


def test_an_lstm_is_counted_on_the_cpu_as_its_steps_products():
    # on the CPU torch runs the LSTM through oneDNN's fused kernel, which FlopCounterMode counts nothing of: verify
    # had measured 72 MACs (the head's) against cnncalc's 46,152 and failed every model holding an LSTM
    module = Tagger()
    ids = torch.randint(0, 50, (1, 12))
    counter = FlopCounterMode(display=False)
    with torch.backends.mkldnn.flags(enabled=False), counter:  # ATen's general path: each step's products
        module(ids)
    steps = counter.get_total_flops() // 2
    assert steps == 12 * 4 * 24 * (16 + 24) + 24 * 3  # each step's gates by the input and the state, then the head
    result, totals = verified(module, (12,), input_dtype="int64")
    assert totals["macs"].ok and totals["macs"].measured == steps
    assert totals["torch ops"].ok


def test_a_module_on_the_meta_device_is_refused():
    with torch.device("meta"):
        module = SpareHead()
    target = load_target(SpareHead(), None, (3, 32, 32))
    with pytest.raises(cnncalc.SpecError, match="meta device"):
        verify(target.graph, module=module)


def test_cli_on_a_file_measures_the_module_and_says_so(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(textwrap.dedent('''
        import torch
        from torch import nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
                self.body.requires_grad_(False)
                self.head = nn.Linear(4, 2)

            def forward(self, x):
                return self.head(self.body(x).flatten(1))
        '''))
    result = run_here("verify", f"{path}:Net", "--input", "3x32x32")
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[0] == "measured: the module itself"
    data = json.loads(run_here("verify", f"{path}:Net", "--input", "3x32x32", "-f", "json").stdout)
    assert data["measured"] == "the module itself"
    totals = {c["figure"]: c["measured"] for c in data["checks"] if c["layer"] == "total"}
    assert (totals["params"], totals["trainable_params"]) == (4 * 3 * 9 + 4 + 4 * 2 + 2, 10)


def test_cli_on_a_spec_says_it_measured_the_built_model():
    result = run_here("verify", "lenet5", "-f", "json")
    assert json.loads(result.stdout)["measured"] == "a model built from the spec"


FROZEN_RESNET = '''
import torchvision
from torch import nn


class FrozenResNet(nn.Module):
    """torchvision's resnet18, every parameter frozen, a new 10-class head."""

    def __init__(self):
        super().__init__()
        self.net = torchvision.models.resnet18(weights=None)
        self.net.requires_grad_(False)
        self.net.fc = nn.Linear(512, 10)

    def forward(self, x):
        return self.net(x)
'''


@pytest.mark.libraries
def test_torchvision_resnet18_frozen_with_a_new_head(tmp_path):
    pytest.importorskip("torchvision")
    import runpy

    path = tmp_path / "frozen_resnet.py"
    path.write_text(FROZEN_RESNET)
    data = json.loads(run_here("verify", f"{path}:FrozenResNet", "--input", "3x64x64", "-f", "json").stdout)
    assert data["measured"] == "the module itself"
    assert data["summary"]["failed"] == 0, [c for c in data["checks"] if not c["ok"]] + data["memory"]
    totals = {c["figure"]: c["measured"] for c in data["checks"] if c["layer"] == "total"}
    module = runpy.run_path(str(path))["FrozenResNet"]()
    expected = truth(module, torch.randn(1, 3, 64, 64))
    assert totals["trainable_params"] == 5_130  # 512 × 10 + 10: the head alone
    assert {figure: totals[figure] for figure in expected} == {**expected, "output_shape": [10]}


class Heads(nn.Module):
    """Self-attention as libraries write it: a projection to heads, scaled_dot_product_attention on
    (batch, heads, L, E), and a projection out."""

    def __init__(self, width: int = 32, heads: int = 2):
        super().__init__()
        self.heads, self.qkv, self.out = heads, nn.Linear(width, 3 * width), nn.Linear(width, width)

    def forward(self, x):
        batch, length, width = x.shape
        queries_keys_values = self.qkv(x).view(batch, length, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        attended = torch.nn.functional.scaled_dot_product_attention(*queries_keys_values.unbind())
        del queries_keys_values  # (a local would hold them to the end, a lifetime the memory walk does not follow)
        return self.out(attended.transpose(1, 2).reshape(batch, length, width))


def test_attention_as_libraries_call_it_is_measured_on_the_kernel_a_run_takes():
    # 512 tokens: the math backend torch counts on would hold 2 × 2 × 512 × 512 scores (2 MB) and their
    # softmax, which the fused kernel a real run takes never holds; fvcore (one traced op it has no
    # handle for) and ptflops (a function it does not patch) count the call 0
    module = Heads()
    result, totals = verified(module, (512, 32), batch=2)
    assert not result.failed, [str(c) for c in result.failed]
    # FlopCounterMode counts the math backend's products (it has no formula for the fused CPU kernel;
    # on CUDA its flash attention formula counts the same)
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel([SDPBackend.MATH]):
        assert_torch_agrees(result, totals, module, torch.randn(2, 512, 32))



class NormAct(nn.BatchNorm2d):
    """timm's BatchNormAct2d: a BatchNorm2d subclass calling F.batch_norm, then its act, a submodule."""

    def __init__(self, channels: int):
        super().__init__(channels)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(nn.functional.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                                 self.training, self.momentum, self.eps))


class ChannelsLastNorm(nn.LayerNorm):
    """torchvision's LayerNorm2d: a subclass with no submodules, F.layer_norm between two permutes."""

    def forward(self, x):
        normed = nn.functional.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps)
        return normed.permute(0, 3, 1, 2)


class KeptForward(nn.BatchNorm2d):
    """A subclass keeping BatchNorm2d's own forward."""


class Subclassed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.norm, self.ln, self.bn = nn.Conv2d(3, 8, 3), NormAct(8), ChannelsLastNorm(8), KeptForward(8)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(self.bn(self.ln(self.norm(self.conv(x)))).mean((2, 3)))


class WeightsTaken(nn.Module):
    """torchvision's Swin attention: F.linear on the weights of its qkv, a Linear never called."""

    def __init__(self):
        super().__init__()
        self.conv, self.qkv = nn.Conv2d(3, 8, 3), nn.Linear(8, 24)

    def forward(self, x):
        # (contiguous: F.linear copies a permuted input, which the memory model does not count yet)
        return nn.functional.linear(self.conv(x).permute(0, 2, 3, 1).contiguous(), self.qkv.weight, self.qkv.bias)


@pytest.mark.parametrize("build", [Subclassed, WeightsTaken])
def test_the_peers_count_library_subclasses_as_cnncalc_says(build):
    # thop and ptflops look a module's exact type up: none of the three norms is counted; torchinfo sums
    # the tensors of leaf modules that ran: NormAct holds its act, so its weights are not counted,
    # ChannelsLastNorm's are, the qkv's of WeightsTaken are not (timm's efficientnet_b0 and torchvision's
    # convnext_tiny failed verify so: thop 825,659,072 against 771,757,504 measured, ptflops 4,497,793,768
    # against 4,496,965,096; swin_t torchinfo 86,024,144 against 68,736,464)
    result, totals = verified(build(), (3, 16, 16), batch=2)
    assert not result.failed, [str(c) for c in result.failed]
    assert_torch_agrees(result, totals, build(), torch.randn(2, 3, 16, 16))


class SelfAttention(nn.Module):
    """torchvision's ViT block's attention: nn.MultiheadAttention, batch first, asked for no weights."""

    def __init__(self, need_weights: bool):
        super().__init__()
        self.norm, self.attention = nn.LayerNorm(32), nn.MultiheadAttention(32, 4, batch_first=True)
        self.need_weights = need_weights

    def forward(self, x):
        x = self.norm(x)
        return self.attention(x, x, x, need_weights=self.need_weights)[0]


@pytest.mark.parametrize("need_weights", [False, True])
def test_multihead_attention_is_counted_as_the_peers_count_its_call(need_weights):
    # without the weights torch attends by scaled_dot_product_attention, which fvcore (one traced op) and
    # ptflops (not patched) count nothing of; ptflops' hook on nn.MultiheadAttention counts either way
    # (torchvision's vit_b_16 failed verify so: fvcore 35,165,480,448 against 33,734,825,472 measured,
    # ptflops 12,747,755,272 against 17,613,292,792)
    module = SelfAttention(need_weights)
    result, _ = verified(module, (50, 32), batch=2)
    assert [str(c) for c in result.checks if not c.ok] == []
    if not need_weights:  # asked for the weights, its memory is an estimate (the test below)
        assert all(m.ok for m in result.memory), [str(m) for m in result.memory]


@pytest.mark.parametrize("need_weights", [False, True])
def test_multihead_attention_holds_its_weights_where_asked(need_weights):
    # asked for its weights, torch forms the 4 × 50 × 50 scores per sample by bmm and keeps their softmax for
    # backward, and returns them averaged over the heads; in inference its fused kernel's own tensors are its
    # scratch (the profiler's records; cnncalc.verify.memory)
    import cnncalc
    from cnncalc.verify.memory import inference_peak, measure_training

    memory = cnncalc.summary(SelfAttention(need_weights).eval(), (50, 32), batch=2, optimizer="adam").memory
    assert memory.estimate == ()
    assert memory.peak_inference_bytes == inference_peak(SelfAttention(need_weights).eval(), (torch.randn(2, 50, 32),))
    assert measure_training(SelfAttention(need_weights), (50, 32), 2, "adam") == pytest.approx(memory.training_bytes,
                                                                                             rel=0.1)


@pytest.mark.libraries
def test_ptflops_counts_timm_vit_attention_by_its_hook_on_the_whole_module():
    # ptflops hooks timm's ViT Attention (timm_attention_counter_hook) and sums no hook inside it
    # (accumulate_flops): its qkv and proj linears count nothing there. vit_tiny_patch16_224 failed verify
    # so: ptflops 1,084,421,608 against 914,702,956 measured at batch 2
    timm = pytest.importorskip("timm")
    from conftest import peer_total

    module = timm.create_model("vit_tiny_patch16_224", img_size=32, patch_size=8, depth=2).eval()
    result, totals = verified(module, (3, 32, 32), batch=2)
    assert not result.failed, [str(c) for c in result.failed]
    assert totals["ptflops ops"].measured == peer_total("ptflops", module, (torch.randn(2, 3, 32, 32),))
    # a twin built from the graph holds torch's linears, which ptflops' sum reaches
    twin = verify(cnncalc.summary(module, (3, 32, 32)).graph, batch=2)
    assert not twin.failed, [str(c) for c in twin.failed]


def test_a_model_holding_its_parameters_itself_verifies_against_torchinfo():
    # torchinfo counts a leaf's parameters named like a bias by its output's first two dims: LeNet written with
    # F.conv2d on parameters the model holds (no modules inside), its biases 6 + 10 times 2 × 10 at batch 2
    from cnncalc.importing.handwritten import FunctionalCNN

    result, totals = verified(FunctionalCNN(), (1, 28, 28), batch=2)
    assert not result.failed, [str(c) for c in result.failed]
    assert totals["torchinfo ops"].measured == 320
