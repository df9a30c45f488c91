"""Import a PyTorch model by running it, and export it as a spec that round-trips."""
from __future__ import annotations

import json
import re
import runpy

import pytest

from conftest import run_here

torch = pytest.importorskip("torch")
nn = torch.nn

MODEL = '''
import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + x)


class MyNet(nn.Module):
    def __init__(self, width=16, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        self.block = Block(width)
        self.side = nn.Conv2d(width, width, 1)
        self.pool = nn.MaxPool2d(2, 2)
        self.head = nn.Linear(2 * width, classes)

    def forward(self, x):
        x = self.block(self.stem(x))
        x = torch.cat([x, self.side(x)], dim=1)
        x = F.adaptive_avg_pool2d(self.pool(x), 1)
        return self.head(torch.flatten(x, 1))


class Viewer(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return self.conv(x).view(x.size(0), -1)


class LeNet(nn.Module):
    """The first network of PyTorch's "Neural Networks" tutorial."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class Reductions(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        y = self.conv(x)
        peak = y.reshape(x.shape[0], 8, -1).amax(dim=-1).sum(1, keepdim=True)
        return self.fc(y.mean((2, 3))) + torch.reshape(peak, (-1, 1))


class Cumulative(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return torch.logcumsumexp(self.conv(x), 2)


class Strided(nn.Module):
    """A tensor made in __init__ and read as a number by forward(), as YOLO's Detect reads its stride."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.stride = torch.tensor([8.0, 16.0, 32.0])

    def forward(self, x):
        step = int(self.stride[0].item()) // 4
        return self.conv(x)[:, :, ::step]


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(4, 8)

    def forward(self, x, meta):
        return self.conv(x) + self.fc(meta)[:, :, None, None]


class Wide(nn.Module):
    """Twenty-five operations cnncalc has no kind for, one of them three times, on a sum over the batch:
    no row can hold them."""

    def forward(self, x):
        x = x.sum(0)
        for name in ["asin", "acosh", "tan", "acos", "arcsin", "arccos", "sinh", "cosh", "asinh", "atan", "erfinv",
                     "erfc", "lgamma", "digamma", "arctan", "atanh", "arcsinh", "exp2", "arccosh", "arctanh", "deg2rad",
                     "i0", "log10", "rad2deg", "sgn", "asin", "asin"]:
            x = getattr(torch, name)(x)
        return x


class Flow(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        y = self.conv(x)
        if y.sum() > 0:  # control flow on a value: fx cannot trace it
            return y
        return -y


class Sized(nn.Module):
    """torchvision's ViT: it checks the input's size, then unpacks a module's output."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        torch._assert(x.shape[-1] == 8, "Wrong image width!")
        y, z = self.conv(x).unbind(1)[:2]
        return y + z


class Heads(nn.Module):
    """googlenet's pattern: an auxiliary head only training calls, and a module nothing calls."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.aux = nn.Sequential(nn.Conv2d(8, 4, 1), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4 * 36, 10))
        self.fc = nn.Linear(8 * 36, 10)
        self.spare = nn.BatchNorm2d(3)

    def forward(self, x):
        y = self.conv(x)
        if self.training:
            return self.fc(y.flatten(1)), self.aux(y)
        return self.fc(y.flatten(1))


class Mismatch(nn.Module):
    """Linear(100, 10) after 6 × 28 × 28 = 4,704 features: torch refuses to run it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 5)
        self.fc = nn.Linear(100, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))
'''


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(MODEL)
    return path


def torch_figures(path, width: int | None, shape, name: str = "MyNet"):
    """Golden figures from the real module: parameters, FlopCounterMode, output shape."""
    from torch.utils.flop_counter import FlopCounterMode

    build = runpy.run_path(str(path))[name]
    module = (build(width=width) if width else build()).eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        out = module(torch.randn(1, *shape))
    return sum(p.numel() for p in module.parameters()), counter.get_total_flops(), list(out.shape[1:])


@pytest.mark.slow  # whole-model passes of a CLI process each (2.3 to 2.9 s)
@pytest.mark.parametrize("width", [8, 16])
def test_imported_model_equals_the_module(model_file, width):
    data = json.loads(run_here("table", f"{model_file}:MyNet", "--input", "3x32x32", "--set", f"width={width}",
                              "-f", "json").stdout)
    params, flops, shape = torch_figures(model_file, width, (3, 32, 32))
    assert data["totals"]["params"] == params
    assert data["totals"]["flops"] == flops
    assert data["layers"][-1]["output_shape"] == shape
    names = [layer["name"] for layer in data["layers"]]
    assert "block.conv1" in names and "stem.0" in names


@pytest.mark.slow  # CLI processes of 2.3 to 3.3 s: README's test command keeps under 5 minutes
def test_export_round_trips(model_file, tmp_path):
    spec = tmp_path / "mynet.yaml"
    assert run_here("export", f"{model_file}:MyNet", "--input", "3x32x32", "-o", str(spec)).returncode == 0
    exported = json.loads(run_here("table", str(spec), "-f", "json").stdout)
    params, flops, _ = torch_figures(model_file, 16, (3, 32, 32))
    assert (exported["totals"]["params"], exported["totals"]["flops"]) == (params, flops)
    result = run_here("verify", str(spec))
    assert result.returncode == 0 and "0 failed" not in result.stdout and "passed" in result.stdout


@pytest.mark.slow  # CLI processes of 1.7 to 2.6 s each
@pytest.mark.parametrize("name, shape", [("Viewer", (3, 8, 8)), ("LeNet", (1, 32, 32)), ("Reductions", (3, 10, 12))])
def test_views_and_reductions_import_exactly(model_file, name, shape):
    data = json.loads(run_here("table", f"{model_file}:{name}", "--input", "x".join(map(str, shape)), "-f",
                              "json").stdout)
    params, flops, out = torch_figures(model_file, None, shape, name)
    assert (data["totals"]["params"], data["totals"]["flops"], data["layers"][-1]["output_shape"]) == \
        (params, flops, out)


@pytest.mark.slow  # CLI processes of 2.3 to 3.3 s: README's test command keeps under 5 minutes
def test_lenet_of_the_tutorial_reads_as_written(model_file):
    # PyTorch's tutorial LeNet: 61,706 parameters; x.view(-1, 16 * 5 * 5) is a reshape of the batch
    data = json.loads(run_here("table", f"{model_file}:LeNet", "--input", "1x32x32", "-f", "json").stdout)
    assert data["totals"]["params"] == 61_706
    assert [layer["kind"] for layer in data["layers"]].count("reshape") == 1


@pytest.mark.slow  # CLI processes of 2.3 to 3.3 s: README's test command keeps under 5 minutes
def test_an_operation_no_kind_states_is_a_row_marked_not_counted(model_file, tmp_path):
    module = runpy.run_path(str(model_file))["Cumulative"]()
    result = run_here("table", f"{model_file}:Cumulative", "--input", "3x8x8", "-f", "json")
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["totals"]["uncounted"] == ["logcumsumexp"]
    assert data["layers"][-1]["kind"] == "uncounted" and data["layers"][-1]["output_shape"] == [4, 6, 6]
    assert data["totals"]["params"] == sum(p.numel() for p in module.parameters())  # what torch holds
    table = run_here("table", f"{model_file}:Cumulative", "--input", "3x8x8").stdout
    assert re.search(r"^logcumsumexp +uncounted +4×6×6 +– +\? ", table, re.M)
    assert "not counted           1 operation: logcumsumexp" in table and "are lower bounds" in table
    # check and verify fail on it, unless allowed
    spec = tmp_path / "cumulative.yaml"
    assert run_here("export", f"{model_file}:Cumulative", "--input", "3x8x8", "-o", str(spec)).returncode == 0
    checked = run_here("check", str(spec))
    assert checked.returncode == 1 and "1 operation: logcumsumexp not counted: the figures are lower bounds" in checked.stdout
    assert run_here("check", str(spec), "--allow-uncounted").returncode == 0
    verified = run_here("verify", str(spec))
    assert verified.returncode == 1 and "not verified (--allow-uncounted verifies the rest)" in verified.stderr
    verified = run_here("verify", str(spec), "--allow-uncounted", "-f", "json")
    assert verified.returncode == 0 and json.loads(verified.stdout)["summary"]["failed"] == 0


@pytest.mark.slow  # CLI processes of 2.3 to 3.3 s: README's test command keeps under 5 minutes
def test_refusals_are_grouped_in_one_short_line_and_listed_with_verbose(model_file):
    result = run_here("table", f"{model_file}:Wide", "--input", "3x8x8")
    (line,) = result.stderr.splitlines()
    assert result.returncode == 2 and len(line) <= 300 + len("cnncalc: error: ")
    assert f"{model_file}: cnncalc cannot map 28 operation(s) of Wide: asin ×3, x.sum, acosh, tan" in line
    more = int(re.search(r"… and (\d+) more \(--verbose lists them\)$", line).group(1))
    assert line.count(", ") + more == 26  # every group is shown or counted
    verbose = run_here("table", f"{model_file}:Wide", "--input", "3x8x8", "--verbose").stderr.splitlines()
    assert verbose[0] == line and len(verbose) == 1 + 28 and "  asin_2: call_function asin" in verbose


@pytest.mark.slow  # CLI processes of 2.3 to 3.3 s: README's test command keeps under 5 minutes
def test_control_flow_on_data_runs_on_the_cpu_and_says_where_meta_stopped(model_file):
    # a branch on a value: the meta device has none, so the model runs once on the CPU, as peers run it
    module = runpy.run_path(str(model_file))["Flow"]()
    data = json.loads(run_here("table", f"{model_file}:Flow", "--input", "3x8x8", "-f", "json").stdout)
    assert data["totals"]["params"] == sum(p.numel() for p in module.parameters())
    assert data["layers"][-1]["output_shape"] == list(module(torch.randn(1, 3, 8, 8)).shape[1:])  # torch's own run
    line_number = next(i for i, text in enumerate(MODEL.splitlines(), 1) if "if y.sum() > 0" in text)
    assert data["ran_on_cpu"] == f"the meta device stops at model.py:{line_number} (if y.sum() > 0:  # control flow " \
                                 "on a value: fx cannot trace it)"
    table = run_here("table", f"{model_file}:Flow", "--input", "3x8x8").stdout
    assert f"on the CPU on random data: the meta device stops at model.py:{line_number}" in table


def test_a_model_that_fails_at_the_input_is_named_where_it_fails(model_file):
    # control flow after the failure has no value to follow: the first failure is what the user needs
    result = run_here("table", f"{model_file}:Sized", "--input", "3x9x9")
    line_number = next(i for i, text in enumerate(MODEL.splitlines(), 1) if "torch._assert(x.shape" in text)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert f"Sized fails at this input at model.py:{line_number} (torch._assert(x.shape[-1] == 8, " \
           '"Wrong image width!")): AssertionError: Wrong image width!' in result.stderr


class OneAtATime(torch.nn.Module):
    """A decoder's sequence classifier with no padding token: it finds each sequence's last token only in a
    batch of one (transformers' GenericForSequenceClassification), and says so for any other batch."""

    def __init__(self):
        super().__init__()
        self.embedding, self.score = torch.nn.Embedding(50, 8), torch.nn.Linear(8, 3)

    def forward(self, ids):
        logits = self.score(self.embedding(ids))
        if ids.shape[0] != 1:
            raise ValueError("Cannot handle batch sizes > 1 if no padding token is defined.")
        return logits[torch.arange(ids.shape[0]), -1]


def test_a_model_that_takes_one_sample_at_a_time_is_read_from_a_run_of_one():
    # it had been refused, where every peer, given a batch of one, runs it
    import cnncalc
    from torch.utils.flop_counter import FlopCounterMode

    module = OneAtATime()
    summary = cnncalc.summary(module, (16,), input_dtype=torch.long)
    with FlopCounterMode(display=False) as counter:
        module(torch.randint(0, 50, (1, 16)))
    assert (summary.totals.params, summary.totals.macs) == (sum(p.numel() for p in module.parameters()),
                                                            counter.get_total_flops() // 2) == (427, 384)
    assert summary.report.ran_on_cpu.startswith("one sample: at a batch of 2 forward() fails at test_importer.py:")
    assert [row.kind for row in summary.layers[-2:]] == ["select", "clone"]  # x[arange(B), -1] copies x[:, -1]
    assert summary.verify().failed == ()  # its training step measured at a batch of one


class UnreadProduct(torch.nn.Module):
    """MiniMax's last block given no cache: an attention state computed, then read by nothing."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(8, 8)

    def forward(self, x):
        h = self.linear(x)
        state = h.transpose(-1, -2) @ h  # noqa: F841 (for a cache forward() was not given)
        return h


def test_a_product_nobody_reads_is_counted_as_torch_runs_it():
    # it had been dropped, unsaid: 1,024 MACs where FlopCounterMode counts 2,048
    import cnncalc
    from torch.utils.flop_counter import FlopCounterMode

    module = UnreadProduct()
    with FlopCounterMode(display=False) as counter:
        module(torch.randn(1, 16, 8))
    summary = cnncalc.summary(module, (16, 8))
    assert summary.totals.macs == counter.get_total_flops() // 2 == 2_048
    assert summary.verify(optimizer=None).failed == ()


class CastRouter(torch.nn.Module):
    """GLM4-MoE's and DeepSeek-V3's router: F.linear given its input and its weight cast by .type(torch.float32)."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(4, 8))

    def forward(self, x):
        return torch.nn.functional.linear(x.type(torch.float32), self.weight.type(torch.float32))


def test_a_weight_cast_by_type_is_the_layers_own():
    # the cast and the product had been rows not counted: 0 MACs of FlopCounterMode's 512
    import cnncalc
    from torch.utils.flop_counter import FlopCounterMode

    module = CastRouter()
    with FlopCounterMode(display=False) as counter:
        module(torch.randn(1, 16, 8))
    summary = cnncalc.summary(module, (16, 8))
    assert (summary.totals.macs, summary.totals.params) == (counter.get_total_flops() // 2, 32) == (512, 32)
    assert [row.kind for row in summary.layers] == ["input", "identity", "linear"]


class ExpertSlices(torch.nn.Module):
    """Experts held as one 3-d weight, each given its slice (transformers' eager experts, JetMoE's):
    F.linear(x, self.weight[i])."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(2, 6, 8))

    def forward(self, x):
        return torch.nn.functional.linear(x, self.weight[0]) + torch.nn.functional.linear(x, self.weight[1])


def test_a_linear_given_a_slice_of_a_weight_is_the_product_it_is():
    # each had been a row not counted: 0 MACs of FlopCounterMode's 3,072
    import cnncalc
    from torch.utils.flop_counter import FlopCounterMode

    module = torch.nn.Sequential(torch.nn.Linear(8, 8), ExpertSlices())
    with FlopCounterMode(display=False) as counter:
        module(torch.randn(2, 16, 8))
    summary = cnncalc.summary(module, (16, 8), batch=2)
    assert summary.totals.macs == counter.get_total_flops() // 2 == 2 * 16 * 8 * (8 + 6 + 6)
    assert summary.totals.params == sum(p.numel() for p in module.parameters())
    assert "uncounted" not in {row.kind for row in summary.layers}
    assert summary.verify().failed == ()


@pytest.mark.libraries
def test_a_slice_the_data_picks_is_no_einsum_of_the_whole_weight():
    # Mixtral's eager experts: F.linear on self.gate_up_proj[expert_idx], a 0-d index the router chose; read as the
    # einsum of a constant, it had named the whole 3-d weight and refused the model
    import cnncalc

    transformers = pytest.importorskip("transformers")
    config = transformers.MixtralConfig(vocab_size=1000, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                        num_key_value_heads=2, intermediate_size=64, num_local_experts=4)
    config._experts_implementation = "eager"
    module = transformers.MixtralForCausalLM(config).eval()
    summary = cnncalc.summary(module, (16,), input_dtype=torch.long)
    assert summary.totals.params == sum(p.numel() for p in module.parameters())


class SortedExperts(torch.nn.Module):
    """JetMoe's experts: every token of the batch sorted by its expert, split by how many each has (a count only
    the data says: one token for expert 1), each expert's weight on its share, put back in place."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(2, 8, 8))

    def forward(self, x):
        tokens = x.reshape(-1, 8)
        expert = (torch.arange(tokens.shape[0]) == 0).long()
        order = expert.argsort(stable=True)
        pieces = tokens[order].split(torch.bincount(expert, minlength=2).tolist())
        out = torch.cat([torch.nn.functional.linear(piece, self.weight[i]) for i, piece in enumerate(pieces)])
        return torch.zeros_like(tokens).index_add(0, order, out).view_as(x)


def test_a_run_whose_data_mixes_the_samples_is_read_from_one_sample():
    # it had been refused (11 tokens of the batch's 12 for one expert: rows no sample's own), where peers count it
    import cnncalc

    module = SortedExperts()
    summary = cnncalc.summary(module, (6, 8))
    assert summary.totals.params == sum(p.numel() for p in module.parameters())
    assert summary.report.ran_on_cpu.startswith("one seeded sample, as at a batch of 2 the data mixes the samples")
    assert "uncounted" in {row.kind for row in summary.layers}  # the experts' products, said to be left out


class BatchNumbers(torch.nn.Module):
    """Each sample's rows centred and scaled by numbers of the whole batch: x.mean() and x.abs().max()."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(16, 16)

    def forward(self, x):
        x = self.linear(x)
        return (x - x.mean()) / x.abs().max()


def test_a_number_of_the_whole_batch_is_read_from_one_sample():
    # it had been refused at the analysis (layer 'sub': operands have different ranks: 6×16, scalar), where torch
    # and every peer run it; verify holds its figures to torch's run at a batch of 3, memory included
    import cnncalc

    summary = cnncalc.summary(BatchNumbers(), (32, 16), batch=3)
    assert summary.report.ran_on_cpu == ("one seeded sample, as at a batch of 2 mean() is a number of the whole "
                                         "batch that sub() meets each sample's tensors with")
    assert {row.kind for row in summary.layers} >= {"mean", "amax", "sub", "div"}
    assert not summary.verify().failed


class LastToken(torch.nn.Module):
    """A decoder's sequence classifier with a padding token: the logits of each sequence's last token before its
    padding, picked per sample (transformers' GenericForSequenceClassification; CLIP's text pooling)."""

    def __init__(self):
        super().__init__()
        self.embedding, self.score = torch.nn.Embedding(50, 8), torch.nn.Linear(8, 3)

    def forward(self, ids):
        logits = self.score(self.embedding(ids))
        last = (torch.arange(ids.shape[-1]) * (ids != 0).int()).argmax(-1)
        return logits[torch.arange(ids.shape[0]), last]


def test_positions_picked_per_sample_are_counted():
    # the pick had been a row not counted, its totals said to be lower bounds
    import cnncalc

    module = LastToken()
    summary = cnncalc.summary(module, (16,), input_dtype=torch.long, batch=2)
    assert summary.layers[-1].kind == "indextensor" and summary.layers[-1].output_shape == (3,)
    assert "uncounted" not in {row.kind for row in summary.layers}
    assert summary.verify().failed == ()


def test_a_text_model_given_floating_input_is_told_to_give_token_ids():
    # torch's embedding refuses float indices; the user gave a shape and no dtype
    result = run_here("table", "handwritten:TextClassifier", "--input", "16")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert result.stderr.rstrip().endswith("give token ids: --input 16:int64, or input_dtype=torch.long in Python")
    assert run_here("table", "handwritten:TextClassifier", "--input", "16:int64").returncode == 0


def test_import_needs_an_input_shape(model_file):
    result = run_here("table", f"{model_file}:MyNet")
    assert result.returncode == 2 and "needs --input" in result.stderr


def test_a_declared_size_the_input_breaks_is_an_error(model_file):
    build = runpy.run_path(str(model_file))["Mismatch"]
    with pytest.raises(RuntimeError, match="4704x100|1x4704 and 100x10"):  # torch's own refusal
        build()(torch.randn(1, 3, 32, 32))
    # the error names the line that builds the layer
    built = model_file.read_text().splitlines().index("        self.fc = nn.Linear(100, 10)") + 1
    for command in ("table", "verify"):
        result = run_here(command, f"{model_file}:Mismatch", "--input", "3x32x32")
        assert result.returncode == 2, command
        assert result.stderr == (f"cnncalc: error: {model_file}:{built}: layer 'fc': in_features is 100, but the "
                                 "input has 4,704 (input 4704)\n")


@pytest.mark.slow  # CLI processes of 2.3 to 3.3 s: README's test command keeps under 5 minutes
def test_declared_sizes_are_kept_and_exported(model_file, tmp_path):
    spec = tmp_path / "mynet.yaml"
    assert run_here("export", f"{model_file}:MyNet", "--input", "3x32x32", "-o", str(spec)).returncode == 0
    text = spec.read_text()
    assert "in_channels: 3" in text and "in_features: 32" in text and "num_features: 16" in text
    # the same spec at another input size still holds: the declared sizes do not depend on it
    assert run_here("table", str(spec), "--input", "3x64x48").returncode == 0
    broken = run_here("table", str(spec), "--input", "4x32x32")
    assert broken.returncode == 2 and "in_channels is 3, but the input has 4" in broken.stderr


@pytest.mark.slow  # a CLI process of 2.1 s
def test_every_parameter_counts_modules_not_run_included(model_file, tmp_path):
    module = runpy.run_path(str(model_file))["Heads"]()
    data = json.loads(run_here("table", f"{model_file}:Heads", "--input", "3x8x8", "-f", "json").stdout)
    assert data["totals"]["params"] == sum(p.numel() for p in module.parameters())  # 4,614
    assert data["totals"]["buffers"] == sum(b.numel() for b in module.buffers())  # 16
    aux = sum(p.numel() for p in module.aux.parameters())
    assert data["not_run"] == [{"name": "aux", "params": aux, "buffers": 9, "frozen_params": 0, "why": "not run"},
                               {"name": "spare", "params": 6, "buffers": 7, "frozen_params": 0, "why": "not run"}]
    table = run_here("table", f"{model_file}:Heads", "--input", "3x8x8").stdout
    assert re.search(r"^aux +module +\(not run\) +1,494 ", table, re.M)
    assert "held apart            2 modules, 1,500 parameters" in table
    spec = tmp_path / "heads.yaml"
    assert run_here("export", f"{model_file}:Heads", "--input", "3x8x8", "-o", str(spec)).returncode == 0
    assert json.loads(run_here("table", str(spec), "-f", "json").stdout)["totals"] == data["totals"]
    verified = run_here("verify", str(spec), "-f", "json")
    checks = {check["figure"]: check for check in json.loads(verified.stdout)["checks"] if check["layer"] == "total"}
    assert verified.returncode == 0 and checks["params"]["measured"] == checks["params"]["cnncalc"] == 4_614


class Frozen(torch.nn.Module):
    """A backbone frozen for fine-tuning, a new head, and a function reading a frozen parameter."""

    def __init__(self):
        super().__init__()
        self.backbone = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.ReLU())
        self.scale = torch.nn.Parameter(torch.ones(8, 1, 1))
        self.head = torch.nn.Linear(8, 10)
        self.backbone.requires_grad_(False)
        self.scale.requires_grad_(False)

    def forward(self, x):
        return self.head((self.backbone(x) * self.scale).mean((2, 3)))


class DeadEnds(torch.nn.Module):
    """A layer run whose output nobody reads (a final norm beside returned hidden states)."""

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Linear(8, 8)
        self.norm = torch.nn.LayerNorm(8)

    def forward(self, x):
        hidden = self.body(x)
        self.norm(hidden)
        return hidden


class Parametrized(torch.nn.Module):
    """weight_norm keeps a magnitude and a direction; spectral_norm keeps power-iteration vectors."""

    def __init__(self):
        super().__init__()
        from torch.nn.utils.parametrizations import spectral_norm, weight_norm

        self.conv = weight_norm(torch.nn.Conv2d(3, 8, 3))
        self.fc = spectral_norm(torch.nn.Linear(8, 4))
        self.conv.parametrizations.weight.original0.requires_grad_(False)

    def forward(self, x):
        return self.fc(self.conv(x).mean((2, 3)))


class BitFit(torch.nn.Module):
    """BitFit's fine-tuning: every weight frozen, the biases trained; and a norm whose weight alone trains."""

    def __init__(self):
        super().__init__()
        self.conv, self.norm, self.fc = torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.Linear(8, 4)
        for name, parameter in self.named_parameters():
            parameter.requires_grad_(name.endswith("bias") != name.startswith("norm"))

    def forward(self, x):
        return self.fc(self.norm(self.conv(x)).mean((2, 3)))


class HookParametrized(torch.nn.Module):
    """The older weight_norm and spectral_norm (locuslab's TCN, SN-GAN): a hook before forward() computes
    `weight` from `weight_g` and `weight_v`, or from `weight_orig` and the buffers `weight_u` and `weight_v`."""

    def __init__(self):
        super().__init__()
        from torch.nn.utils import spectral_norm, weight_norm

        self.conv = weight_norm(torch.nn.Conv2d(3, 8, 3))
        self.fc = spectral_norm(torch.nn.Linear(8, 4))

    def forward(self, x):
        return self.fc(self.conv(x).mean((2, 3)))


@pytest.mark.parametrize("build", [Frozen, DeadEnds, Parametrized, HookParametrized, BitFit])
def test_totals_are_the_tensors_the_module_holds(build):
    import cnncalc

    module = build()
    totals = cnncalc.summary(module, (3, 8, 8) if build is not DeadEnds else (8,)).report.totals
    # what torch itself holds: sum(p.numel()) over parameters, the trainable ones, and the buffers
    assert totals.params == sum(p.numel() for p in module.parameters())
    assert totals.trainable_params == sum(p.numel() for p in module.parameters() if p.requires_grad)
    assert totals.buffers == sum(b.numel() for b in module.buffers())


def test_a_layer_frozen_in_part_trains_the_rest_as_torch_does():
    # its weights frozen, its biases not: it had counted the whole layer as trained (304 of torch's 208 here);
    # verify holds the figures, the training step's memory and the backward's included, to torch's run
    import cnncalc

    module = BitFit()
    summary = cnncalc.summary(module, (3, 8, 8), batch=2)
    # torch's requires_grad, module by module: conv's bias 8, norm's weight 8, fc's bias 4
    assert [(row.name, row.trainable_params) for row in summary.layers if row.params] == [
        (name, sum(p.numel() for p in part.parameters() if p.requires_grad)) for name, part in module.named_children()]
    assert not summary.verify().failed


class Recurrent(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(4, 4, batch_first=True)

    def forward(self, x):
        return self.lstm(x)[0]


def test_a_layer_frozen_in_part_of_its_weights_is_refused_by_name():
    import cnncalc
    from cnncalc.errors import SpecError

    module = Recurrent()
    module.lstm.weight_hh_l0.requires_grad_(False)  # and weight_ih_l0 trains
    with pytest.raises(SpecError, match="lstm: some of its weights are frozen and some not"):
        cnncalc.summary(module, (3, 4))


def test_frozen_layers_hold_no_gradient_or_optimizer_state():
    import cnncalc

    module = Frozen()
    result = cnncalc.summary(module, (3, 8, 8), optimizer="adam")
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)  # the head: 90
    assert result.memory.gradient_bytes == 4 * trainable
    assert sum(layer.optimizer_bytes for layer in result.memory.layers) == 2 * 4 * trainable  # adam: exp_avg, exp_avg_sq
    assert [row.name for row in result.report.layers if row.params and not row.trainable_params] == \
        ["backbone.0", "backbone.1", "scale"]


def test_a_layer_whose_output_nobody_reads_is_a_row_as_torch_runs_it():
    import cnncalc

    module = DeadEnds()
    report = cnncalc.summary(module, (8,)).report
    assert not report.not_run and [row.name for row in report.layers[1:]] == ["body", "norm"]
    assert report.totals.params == sum(p.numel() for p in module.parameters()) == 88
    assert [row.name for row in report.output_rows] == ["body"]  # what forward() returns, not the last row


class DeadWeighting(torch.nn.Module):
    """A parameter read by work whose result nobody reads (D-FINE's box weighting, made of its `up`)."""

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Linear(8, 8)
        self.up = torch.nn.Parameter(torch.ones(1), requires_grad=False)

    def forward(self, x):
        abs(self.up[0]) * 2
        return self.body(x)


def test_a_parameter_read_by_work_nobody_reads_is_counted_as_held():
    import cnncalc

    module = DeadWeighting()
    report = cnncalc.summary(module, (8,)).report
    assert report.totals.params == sum(p.numel() for p in module.parameters()) == 73  # it had been 72
    assert [(held.name, held.frozen_params, held.why) for held in report.not_run] == [("up", 1, "output unused")]


def test_the_model_dtype_is_its_own_unless_asked():
    import cnncalc

    module = Frozen().to(torch.float16)
    assert cnncalc.summary(module, (3, 8, 8)).report.dtype == "float16"
    assert cnncalc.summary(module, (3, 8, 8)).report.totals.param_bytes == 2 * sum(p.numel() for p in module.parameters())
    assert cnncalc.summary(module, (3, 8, 8), dtype="float32").report.dtype == "float32"


def test_rows_are_named_as_print_model_names_them(model_file):
    import cnncalc

    module = runpy.run_path(str(model_file))["MyNet"]()
    names = [row.name for row in cnncalc.summary(module, (3, 32, 32)).report.layers[1:]]
    assert names == ["stem.0", "stem.1", "stem.2", "block.conv1", "block.bn1", "block.relu", "block.conv2",
                     "block.bn2", "block.add", "block.relu(2)", "side", "cat", "pool", "adaptive_avg_pool2d",
                     "flatten", "head"]
    modules = dict(module.named_modules())  # a module's row is its path in the model, a function's row its module's
    assert all(name in modules or name.rpartition(".")[0] in modules for name in names)


def test_depth_collapses_by_the_module_tree_as_torchinfo_does(model_file):
    import cnncalc
    import torchinfo

    module = runpy.run_path(str(model_file))["MyNet"]()
    rows = cnncalc.summary(module, (3, 32, 32), depth=1).report.layers[1:]
    # torchinfo's depth-1 rows: the top-level modules, their class names and parameters
    theirs = [(info.var_name, info.class_name, info.trainable_params) for info in
              torchinfo.summary(module, input_size=(1, 3, 32, 32), depth=1, verbose=0).summary_list if info.depth == 1]
    ours = [(row.name, row.kind, row.params) for row in rows if row.name in {name for name, _, _ in theirs}]
    assert ours == [(name, kind.lower() if kind in ("Conv2d", "Linear", "MaxPool2d") else kind, params)
                    for name, kind, params in theirs]


def test_a_torchinfo_input_size_is_told_to_drop_the_batch(model_file):
    import cnncalc
    from cnncalc.errors import SpecError

    module = runpy.run_path(str(model_file))["MyNet"]()
    with pytest.raises(SpecError, match=r"in_channels is 3, but the input has 1 .*; input_size is per sample: if 1 is "
                                         r"the batch, as torchinfo counts it, give input_size=\(3, 32, 32\)"):
        cnncalc.summary(module, (1, 3, 32, 32))


def test_a_constructor_tensor_read_as_a_number_is_read(model_file):
    # cnncalc builds a model of a file on the meta device; a tensor its forward() reads as a number
    # has no value there, so it is built again on the CPU
    module = runpy.run_path(str(model_file))["Strided"]()
    data = json.loads(run_here("table", f"{model_file}:Strided", "--input", "3x16x16", "-f", "json").stdout)
    assert data["totals"]["params"] == sum(p.numel() for p in module.parameters())
    assert data["layers"][-1]["output_shape"] == list(module(torch.zeros(1, 3, 16, 16)).shape[1:])  # torch's own run


@pytest.mark.slow  # CLI processes of 2.3 to 3.3 s: README's test command keeps under 5 minutes
def test_a_second_input_is_named_not_met_as_none(model_file):
    result = run_here("table", f"{model_file}:TwoInputs", "--input", "3x8x8")
    assert result.returncode == 2
    assert "TwoInputs: forward() takes 2 inputs (x, meta): give each, e.g. --input x=3x224x224 --input meta=" \
        in result.stderr
    # given by name, each input is read as torch runs it: the sum's parameters and FlopCounterMode's count
    from torch.utils.flop_counter import FlopCounterMode

    module = runpy.run_path(str(model_file))["TwoInputs"]()
    counter = FlopCounterMode(display=False)
    with counter:
        module(torch.randn(1, 3, 8, 8), torch.randn(1, 4))
    result = run_here("table", f"{model_file}:TwoInputs", "--input", "x=3x8x8", "--input", "meta=4", "-f", "json")
    data = json.loads(result.stdout)
    assert result.returncode == 0 and [row["name"] for row in data["layers"][:2]] == ["input", "meta"]
    assert (data["totals"]["params"], data["totals"]["flops"]) == (sum(p.numel() for p in module.parameters()),
                                                                   counter.get_total_flops())


@pytest.mark.slow  # four CLI processes of 1.3 to 1.5 s
@pytest.mark.parametrize("code, message, line", [
    ("import torch\nclass Net(torch.nn.Module):\n    def __init__(self):\n        super().__init__(\n",
     "broken.py cannot be run: SyntaxError: '(' was never closed", 4),
    ("import nosuchpackage\n", "broken.py cannot be run: ModuleNotFoundError: No module named 'nosuchpackage'", 1),
    ("import torch\nclass Net(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
     "        raise ValueError('bad width')\n", "cannot build Net: ValueError: bad width", 5),
    ("import torch\nclass Net(torch.nn.Module):\n    def __init__(self, width, *, depth, classes=10):\n"
     "        super().__init__()\n", "Net needs width and depth: give them with --set width=VALUE --set depth=VALUE",
     3),
])
def test_a_broken_model_file_is_one_line_naming_its_line(tmp_path, code, message, line):
    path = tmp_path / "broken.py"
    path.write_text(code)
    # every command that reads a model, once; the other failures through table
    for command in ("table", "verify", "export", "rf", "graph") if line == 4 else ("table",):
        result = run_here(command, f"{path}:Net", "--input", "3x8x8")
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
        where = f"{path}:{line}: " if line else f"{path}: "
        assert result.stderr.startswith(f"cnncalc: error: {where}") and message in result.stderr


@pytest.mark.slow  # CLI processes of 2.3 to 3.3 s: README's test command keeps under 5 minutes
def test_sweep_and_sizes_read_a_pytorch_model_at_its_input(model_file):
    swept = run_here("sweep", f"{model_file}:MyNet", "--sizes", "32:64:32", "--input", "3x32x32", "-f", "json")
    assert swept.returncode == 0, swept.stderr
    points = json.loads(swept.stdout)
    # MyNet's MACs grow with the input's area: 4x from 32 to 64 (every layer before the global pool)
    assert points[1]["macs"] - 320 == 4 * (points[0]["macs"] - 320)  # the head's Linear(32, 10) does not grow
    assert run_here("sizes", f"{model_file}:MyNet", "--input", "3x32x32", "--max", "40").returncode == 0


class Detections(torch.nn.Module):
    """A detector's post-processing per image: rows scored, the best k by topk (values, and the rows
    at their indices), the rows over a threshold by a boolean mask, both joined along the rows; the
    best k of those kept, or as many as were kept if fewer (torchvision's _topk_min); the rows at the
    positions torch.where(mask) gives."""

    def __init__(self, threshold: float = 0.0, k: int = 3):
        super().__init__()
        self.fc = torch.nn.Linear(8, 5)
        self.threshold, self.k = threshold, k

    def forward(self, x):
        found = []
        for sample in x:
            rows = self.fc(sample)
            top = rows[:, 0].sigmoid().topk(self.k)
            kept = rows[rows[:, 0] > self.threshold]
            joined = torch.cat([kept, rows[top.indices]], 0)
            best_kept = kept[:, 0].topk(min(self.k, kept.size(0)))  # k: as many as there are, if fewer (none)
            where = torch.where(rows[:, 0] > self.threshold)[0]  # the positions of those kept
            found.append({"boxes": joined[:, 1:] * 2, "scores": top.values, "best": rows.index_select(0, top.indices),
                          "kept": kept, "best_kept": best_kept.values, "where": rows[where]})
        return found


def read_one_sample(module, shape):
    """The module as cnncalc reads a detector (its work decided by its data): one run of one seeded sample."""
    from cnncalc.figures import analyze
    from cnncalc.importing.importer import read_module

    return analyze(read_module(module, type(module).__name__, shape, "<test>", data_dependent=True))


def torch_one_sample(module, shape):
    """torch's own run of the seeded sample the importer draws (tracing.PROBE_SEED): FlopCounterMode's
    count and each output tensor's shape, the sample's whole."""
    from torch.utils.flop_counter import FlopCounterMode

    from cnncalc.verify.own import tensors
    from cnncalc.importing.tracing import PROBE_SEED

    x = torch.randn(1, *shape, generator=torch.Generator().manual_seed(PROBE_SEED))
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        output = module.eval()(x)
    return counter.get_total_flops(), [tuple(t.shape) for t in tensors(output)]


# the threshold keeps some rows of the seeded sample, or none: an empty selection is a row of 0 rows;
# the best one is a row too, not the batch of one
@pytest.mark.parametrize("threshold, k", [(0.0, 3), (1e9, 3), (0.0, 1)], ids=["some", "none", "one"])
def test_a_detectors_selections_read_as_the_run_made_them(threshold, k):
    import math

    torch.manual_seed(0)  # its weights: the rows the threshold keeps are the same each run
    module = Detections(threshold, k)
    report = read_one_sample(module, (10, 8))
    flops, shapes = torch_one_sample(module, (10, 8))
    assert [row.output_shape for row in report.output_rows] == shapes
    assert (report.totals.flops, report.totals.params) == (flops, sum(p.numel() for p in module.parameters()))
    assert sum(math.prod(row.output_shape) for row in report.output_rows) == sum(map(math.prod, shapes))
    assert {row.kind for row in report.layers} >= {"topk", "booleanmask", "indexselect", "concat", "nonzero"}
    assert not report.totals.uncounted
    assert (shapes[-3][0] == 0) == (threshold > 0)  # the mask kept none: torch's own (0, 5)


class PerBox(torch.nn.Module):
    """A detector's heads in brief, on the sample's own rows (here its channels): the best `keep` kept,
    shaped into a map each, split per image as the box counts say, then Keypoint R-CNN's per-box
    upsampling (maps[i][:, None]) and Mask R-CNN's probabilities (mask_prob[:, None], split per image)."""

    def __init__(self, keep: int, shaped: str):
        super().__init__()
        self.keep, self.shaped = keep, shaped
        self.features = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.head = torch.nn.Conv2d(4, 3, 1)

    def forward(self, x):
        rows = self.features(x)[0].flatten(1)  # (4, 64): the sample's own rows
        kept = rows[rows.sum(1).topk(self.keep).indices]
        maps = self.head(PER_BOX_MAPS[self.shaped](kept))  # (keep, 3, 8, 2)
        points = [torch.nn.functional.interpolate(piece[i][:, None], size=(8, 8), mode="bicubic")[:, 0]
                  for piece in maps.split([kept.shape[0]]) for i in range(piece.shape[0])]
        masks = maps.sigmoid()[:, 0][:, None].split([kept.shape[0]])
        return {"points": torch.stack(points), "masks": masks[0] * 2}


# each row shaped into a map: to -1 or the rows' count first, which keeps them rows (a view to a literal 1
# first, boxes.view(1, -1, 4), puts a batch of one in front)
PER_BOX_MAPS = {"view": lambda kept: kept.view(-1, 4, 8, 2),
                "reshape": lambda kept: kept.reshape(kept.shape[0], 4, 8, 2),
                "unflatten": lambda kept: kept.unflatten(1, (4, 8, 2))}


# kept to one box, the rows are still the sample's own, not its batch: once the heatmaps split per image
# read as row 0 of each sample (56×1×56 into a bicubic upsampling), and mask_prob[:, None] as x[None]
@pytest.mark.parametrize("keep", [1, 2])
@pytest.mark.parametrize("shaped", sorted(PER_BOX_MAPS))
def test_a_detectors_boxes_kept_to_one_stay_the_samples_rows(keep, shaped):
    torch.manual_seed(0)
    module = PerBox(keep, shaped)
    report = read_one_sample(module, (3, 8, 8))
    flops, shapes = torch_one_sample(module, (3, 8, 8))
    assert sorted(row.output_shape for row in report.output_rows) == sorted(shapes)
    assert (report.totals.flops, report.totals.params) == (flops, sum(p.numel() for p in module.parameters()))
    assert not report.totals.uncounted


class EmptyPiece(torch.nn.Module):
    """x[:, :0]: a tensor with no elements along a dim of the sample, which no layer states."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, x):
        return self.fc(x)[:, :0]


def test_an_empty_output_no_layer_states_is_refused_never_shown_as_another_row():
    import cnncalc
    from cnncalc.errors import SpecError

    assert EmptyPiece()(torch.randn(1, 8)).shape == (1, 0)  # torch's: nothing per sample
    with pytest.raises(SpecError, match=r"returns a tensor with no elements \(getitem, 0 per sample\)"):
        cnncalc.summary(EmptyPiece(), (8,))


class BestPerImage(torch.nn.Module):
    """The RPN's choice per image: the k best scores among each image's rows (topk along dim 1), then
    the rows at them, x[batch_idx, top] with batch_idx = torch.arange(B)[:, None]."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, x):
        made = self.fc(x)
        top = made[..., 0].topk(3, dim=1).indices
        batch_idx = torch.arange(x.shape[0], device=x.device)[:, None]
        return made[batch_idx, top], made[..., 0][batch_idx, top]


def test_each_images_own_positions_pick_its_rows():
    torch.manual_seed(0)
    module = BestPerImage()
    report = read_one_sample(module, (10, 8))
    flops, shapes = torch_one_sample(module, (10, 8))
    assert [(1, *row.output_shape) for row in report.output_rows] == shapes == [(1, 3, 5), (1, 3)]
    assert (report.totals.flops, report.totals.params) == (flops, sum(p.numel() for p in module.parameters()))
    assert [row.kind for row in report.layers].count("indexselect") == 2 and not report.totals.uncounted


class PastedInPlace(torch.nn.Module):
    """Mask R-CNN's last steps per image: each box's mask of its own class (mask_prob[torch.arange(N),
    labels]), padded, given a batch of one (mask.expand((1, 1, -1, -1))), resized to the box and
    written into an empty image between the box's corners, each a number its data decided
    (im[y_0:y_1, x_0:x_1] = mask[y_0 - box[1]:y_1 - box[1], …]); as paste_mask_in_image does."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(8, 4 + 2 * 9)

    def forward(self, x):
        found = []
        for rows in x:
            made = self.fc(rows)
            boxes = (made[:, :4].sigmoid() * 20).to(dtype=torch.int64)
            labels = made[:, 4].topk(made.shape[0]).indices % 2
            masks = made[:, 4:].reshape(-1, 2, 3, 3).sigmoid()[torch.arange(made.shape[0]), labels][:, None]
            pasted = []
            for mask, box in zip(torch.nn.functional.pad(masks, (1,) * 4), boxes):
                w, h = max(int(box[2] - box[0] + 1), 1), max(int(box[3] - box[1] + 1), 1)
                mask = torch.nn.functional.interpolate(mask.expand((1, 1, -1, -1)), size=(h, w), mode="bilinear")
                image = torch.zeros((24, 24), dtype=mask.dtype)
                x_0, x_1, y_0, y_1 = max(box[0], 0), min(box[2] + 1, 24), max(box[1], 0), min(box[3] + 1, 24)
                image[y_0:y_1, x_0:x_1] = mask[0][0][(y_0 - box[1]):(y_1 - box[1]), (x_0 - box[0]):(x_1 - box[0])]
                pasted.append(image)
            found.append(torch.stack(pasted)[:, None])
        return found


def test_masks_pasted_where_the_boxes_say_read_as_the_run_made_them():
    torch.manual_seed(0)
    module = PastedInPlace()
    report = read_one_sample(module, (5, 8))
    flops, shapes = torch_one_sample(module, (5, 8))
    assert [row.output_shape for row in report.output_rows] == shapes == [(5, 1, 24, 24)]
    assert (report.totals.flops, report.totals.params) == (flops, sum(p.numel() for p in module.parameters()))
    assert "indextensor" in {row.kind for row in report.layers} and not report.totals.uncounted


class OneAnchor(torch.nn.Module):
    """RetinaNet's decoding of the boxes kept: the anchors (made without the input) at the kept rows,
    anchors[kept], their widths (boxes[:, 2] - boxes[:, 0]); one kept, a row of one, not the batch."""

    def __init__(self, k: int):
        super().__init__()
        self.fc, self.k = torch.nn.Linear(8, 1), k

    def forward(self, x):
        found = []
        for rows in x:
            kept = self.fc(rows)[:, 0].topk(self.k).indices
            anchors = torch.arange(rows.shape[0] * 4, dtype=rows.dtype).reshape(-1, 4)[kept]
            found.append(anchors[:, 2] - anchors[:, 0])
        return found


@pytest.mark.parametrize("k", [1, 3])
def test_an_anchor_table_at_the_kept_rows_keeps_their_rows(k):
    torch.manual_seed(0)
    module = OneAnchor(k)
    report = read_one_sample(module, (6, 8))
    flops, shapes = torch_one_sample(module, (6, 8))
    assert [row.output_shape for row in report.output_rows] == shapes == [(k,)]
    assert (report.totals.flops, report.totals.params) == (flops, sum(p.numel() for p in module.parameters()))


class NoneKept(torch.nn.Module):
    """A detector's last steps when it keeps no box: the rois of none, each row its image's id beside
    its box (torch.cat([ids, boxes], 1), the ids full_like(boxes[:, :1]), a column of no rows), and
    keypoints made from nothing, torch.zeros((len(boxes), 3, 2)) written and permuted, as
    MultiScaleRoIAlign and Keypoint R-CNN make them."""

    def __init__(self, threshold: float):
        super().__init__()
        self.fc, self.threshold = torch.nn.Linear(8, 5), threshold

    def forward(self, x):
        found = []
        for rows in x:
            made = self.fc(rows)
            boxes = made[made[:, 0] > self.threshold][:, 1:]
            rois = torch.cat([torch.full_like(boxes[:, :1], 0), boxes], 1)
            keypoints = torch.zeros((len(boxes), 3, 2))
            keypoints[..., 1] = 1
            found.append({"rois": rois, "keypoints": keypoints.permute(0, 2, 1)})
        return found


def test_a_column_of_no_rows_joins_the_rest_and_none_kept_is_made_from_nothing():
    torch.manual_seed(0)
    module = NoneKept(threshold=1e9)
    report = read_one_sample(module, (6, 8))
    flops, shapes = torch_one_sample(module, (6, 8))
    assert [row.output_shape for row in report.output_rows] == shapes == [(0, 5), (0, 2, 3)]
    assert (report.totals.flops, report.totals.params) == (flops, sum(p.numel() for p in module.parameters()))
    assert not report.totals.uncounted


class Pooler(torch.nn.Module):
    """MultiScaleRoIAlign's way, per image: torch.zeros(rows, C, 2, 2) filled level by level with the
    rows each level pools (result[kept] = level(rows[kept])), then a conv head on the whole."""

    def __init__(self):
        super().__init__()
        self.levels = torch.nn.ModuleList([torch.nn.Linear(8, 24), torch.nn.Linear(8, 24)])
        self.head = torch.nn.Conv2d(6, 3, 2)

    def forward(self, x):
        found = []
        for rows in x:
            result = torch.zeros(rows.shape[0], 6, 2, 2)
            for kept, level in zip((rows[:, 0] > 0, rows[:, 0] <= 0), self.levels):
                result[kept] = level(rows[kept]).view(-1, 6, 2, 2)
            found.append(self.head(result))
        return found


def test_a_tensor_filled_in_place_is_read_as_its_writes_made_it():
    torch.manual_seed(0)  # its weights: the rows the threshold keeps are the same each run
    module = Pooler()
    report = read_one_sample(module, (10, 8))
    flops, shapes = torch_one_sample(module, (10, 8))
    assert [row.output_shape for row in report.output_rows] == shapes
    assert (report.totals.flops, report.totals.params) == (flops, sum(p.numel() for p in module.parameters()))
    assert [row.kind for row in report.layers].count("indexput") == 2 and not report.totals.uncounted


class Pasted(torch.nn.Module):
    """Mask R-CNN's last steps per image: the best k boxes, each box's coordinates (box[2] - box[0]),
    its mask resized as a batch of one (mask.expand(1, 1, -1, -1), interpolate, [0][0]), the masks
    stacked; none kept: masks.new_empty((0, 4, 4)), made without the input and returned."""

    def __init__(self, k: int):
        super().__init__()
        self.fc, self.k = torch.nn.Linear(8, 13), k

    def forward(self, x):
        found = []
        for rows in x:
            made = self.fc(rows)
            kept = made[made[:, 0].topk(self.k).indices]
            boxes, masks = kept[:, :4], kept[:, 4:].reshape(-1, 3, 3)
            if masks.numel() == 0:
                found.append(masks.new_empty((0, 4, 4)))
                continue
            pasted = []
            for mask, box in zip(masks, boxes):
                mask = torch.nn.functional.interpolate(mask.expand(1, 1, -1, -1), size=(4, 4))[0][0]
                pasted.append(mask * (box[2] - box[0]))
            found.append(torch.stack(pasted))
        return found


# k boxes kept: 3, one (a row, not the batch of one) or none (a tensor made without the input)
@pytest.mark.parametrize("k", [3, 1, 0])
def test_each_kept_box_reads_as_a_row_of_the_sample(k):
    torch.manual_seed(0)  # its weights: the rows the threshold keeps are the same each run
    module = Pasted(k)
    report = read_one_sample(module, (10, 8))
    flops, shapes = torch_one_sample(module, (10, 8))
    assert [row.output_shape for row in report.output_rows] == shapes == [(k, 4, 4)]
    assert (report.totals.flops, report.totals.params) == (flops, sum(p.numel() for p in module.parameters()))


class Suppressed(torch.nn.Module):
    """A detector's last steps with torchvision's ops: a box per feature-map position, each pooled by
    roi_align and scored by a head, nms, and the boxes and labels it keeps (labels made without the
    input, full_like, picked by the rows nms keeps)."""

    def __init__(self):
        super().__init__()
        self.conv, self.head = torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.Linear(16, 1)

    def forward(self, x):
        import torchvision

        features = self.conv(x)
        rows = features.flatten(2).transpose(1, 2)[0]
        corners = rows[:, :2].sigmoid() * 4
        boxes = torch.cat([corners, corners + 1 + rows[:, 2:].sigmoid() * 4], 1)
        rois = torch.cat([torch.full_like(boxes[:, :1], 0), boxes], 1)
        pooled = torchvision.ops.roi_align(features, rois, (2, 2), 1.0, 2, True)
        scores = self.head(pooled.flatten(1))[:, 0].sigmoid()
        keep = torchvision.ops.nms(boxes, scores, 0.3)
        labels = torch.full_like(scores, 3, dtype=torch.int64)
        return boxes[keep], labels[keep]


@pytest.mark.libraries
def test_torchvisions_nms_and_roi_align_read_as_the_run_made_them():
    pytest.importorskip("torchvision")
    torch.manual_seed(0)
    module = Suppressed()
    report = read_one_sample(module, (3, 8, 8))
    flops, shapes = torch_one_sample(module, (3, 8, 8))
    assert [row.output_shape for row in report.output_rows] == shapes and 0 < shapes[0][0] < 64
    assert (report.totals.flops, report.totals.params) == (flops, sum(p.numel() for p in module.parameters()))
    assert {"nms", "roialign", "indexselect"} <= {row.kind for row in report.layers} and not report.totals.uncounted


class ClassSuppressed(torch.nn.Module):
    """RetinaNet's last steps per image: each score over the threshold, its class (index % classes) and
    its box (index // classes), boxes clipped as clip_boxes_to_image does (stack, reshape(boxes.shape)),
    then torchvision's batched_nms: over 1,000 boxes, nms once per class the boxes hold (torch.unique,
    idxs == class_id, the kept sorted by score); fewer, once on boxes moved apart by class (boxes.max());
    none, an empty tensor of indices made without the input."""

    def __init__(self, threshold: float, classes: int = 4):
        super().__init__()
        self.fc, self.threshold, self.classes = torch.nn.Linear(8, 4 + classes), threshold, classes

    def forward(self, x):
        import torchvision

        found = []
        for rows in x:
            made = self.fc(rows)
            scores = made[:, 4:].sigmoid().flatten()
            kept = torch.where(scores > self.threshold)[0]
            scores, labels = scores[kept], kept % self.classes
            made = made[torch.div(kept, self.classes, rounding_mode="floor")]
            corners = made[:, :2].sigmoid() * 50
            boxes = torch.cat([corners, corners + 1 + made[:, 2:4].sigmoid() * 30], 1)
            boxes = torch.stack((boxes[..., 0::2].clamp(0, 60), boxes[..., 1::2].clamp(0, 60)), dim=-1).reshape(
                boxes.shape)
            keep = torchvision.ops.batched_nms(boxes, scores, labels, 0.5)[:100]
            found.append({"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]})
        return found


# 1,200 rows: 2,484 boxes over the threshold, nms per class; 30 rows: 66, moved apart; none over it
@pytest.mark.libraries
@pytest.mark.parametrize("rows, threshold", [(1200, 0.5), (30, 0.5), (30, 1.1)], ids=["per-class", "moved", "none"])
def test_torchvisions_batched_nms_reads_as_the_run_made_it(rows, threshold):
    pytest.importorskip("torchvision")
    torch.manual_seed(0)
    module = ClassSuppressed(threshold)
    report = read_one_sample(module, (rows, 8))
    flops, shapes = torch_one_sample(module, (rows, 8))
    assert [row.output_shape for row in report.output_rows] == shapes
    assert (shapes[0][0] == 0) == (threshold > 1) and shapes[0][0] <= 100
    assert (report.totals.flops, report.totals.params) == (flops, sum(p.numel() for p in module.parameters()))
    assert not report.totals.uncounted
    # per class: the classes torch.unique finds, the kept boxes by score (sort's indices, argsort)
    assert ({"unique", "argsort"} <= {row.kind for row in report.layers}) == (rows > 1000)


class CorrelationLookup(torch.nn.Module):
    """RAFT's lookup: two images through one encoder (torch.cat([image1, image2], 0), chunk(2, 0)),
    their correlation volume as a row per pixel (B·H·W rows), pooled (F.avg_pool2d), sampled at a 3 × 3
    grid around each pixel (F.grid_sample), and gated as its ConvGRU is, (1 - z) * h."""

    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, image1, image2):
        f1, f2 = self.encoder(torch.cat([image1, image2], dim=0)).chunk(2, dim=0)
        b, c, h, w = f1.shape
        corr = (f1.flatten(2).transpose(1, 2) @ f2.flatten(2)).reshape(b * h * w, 1, h, w)
        pooled = torch.nn.functional.avg_pool2d(corr, 2, 2)
        delta = torch.stack(torch.meshgrid(torch.linspace(-1, 1, 3), torch.linspace(-1, 1, 3), indexing="ij"), -1)
        grid = f1.permute(0, 2, 3, 1)[..., :2].reshape(b * h * w, 1, 1, 2).tanh() + delta.view(1, 3, 3, 2)
        sampled = torch.nn.functional.grid_sample(pooled, grid, align_corners=True).view(b, h, w, -1)
        z = sampled.sigmoid()
        return (1 - z) * sampled


def test_a_correlation_volume_of_a_row_per_pixel_is_read_as_torch_runs_it():
    import cnncalc
    from torch.utils.flop_counter import FlopCounterMode

    module, shape = CorrelationLookup(), (3, 16, 16)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        output = module(torch.randn(1, *shape), torch.randn(1, *shape))
    report = cnncalc.summary(module, {"image1": shape, "image2": shape}).report
    assert [row.output_shape for row in report.output_rows] == [tuple(output.shape[1:])]
    assert (report.totals.flops, report.totals.params) == (counter.get_total_flops(),
                                                           sum(p.numel() for p in module.parameters()))
    assert {"stack", "select", "avgpool2d", "gridsample", "rsub"} <= {row.kind for row in report.layers}
    assert not report.totals.uncounted


class EmptyCache(torch.nn.Module):
    """A key cache as transformers' DynamicCache starts it: an empty tensor made from nothing, which the
    first keys are concatenated to (torch.cat skips an empty 1-d tensor)."""

    def __init__(self):
        super().__init__()
        self.key = torch.nn.Linear(8, 8)

    def forward(self, x):
        return torch.cat([torch.tensor([], device=x.device), self.key(x)], dim=-2)


def test_an_empty_cache_the_keys_join_is_no_row():
    import cnncalc

    module = EmptyCache()
    report = cnncalc.summary(module, (5, 8)).report
    assert not report.totals.uncounted, report.totals.uncounted
    assert [row.output_shape for row in report.output_rows] == [tuple(module(torch.randn(1, 5, 8)).shape[1:])]
    assert report.totals.params == sum(p.numel() for p in module.parameters())


# --- what torch's kernels do on the run's strides: golden figures, the peaks torch measures
# (cnncalc.verify.memory: the CPU allocator's records), batch 2

class TalkingHeads(torch.nn.Module):
    """CaiT's talking heads: the products read the heads' queries and keys as transposed views, a linear
    over heads reads the scores permuted, and the weighted sum reads them permuted back: torch's
    matmul copies each to a contiguous one, and autograd keeps the copies."""

    def __init__(self):
        super().__init__()
        self.q, self.k, self.v = (torch.nn.Linear(16, 16) for _ in range(3))
        self.heads = torch.nn.Linear(4, 4)

    def split(self, x, linear):
        return linear(x).reshape(x.shape[0], -1, 4, 4).transpose(1, 2)  # (B, heads, N, C')

    def forward(self, x):
        q, k, v = self.split(x, self.q), self.split(x, self.k), self.split(x, self.v)
        attn = self.heads((q @ k.transpose(-2, -1)).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return (attn.softmax(-1) @ v).transpose(1, 2).flatten(2)


def test_an_input_torch_copies_inside_a_linear_or_matmul_is_held_and_saved():
    import cnncalc
    from cnncalc.verify.memory import measure_inference, measure_training

    module = TalkingHeads().eval()
    memory = cnncalc.summary(module, (96, 16), batch=2, optimizer="sgd").memory
    assert measure_inference(module, (96, 16), 2) == pytest.approx(memory.peak_inference_bytes, rel=0.005)
    assert measure_training(module, (96, 16), 2, "sgd") == pytest.approx(memory.training_bytes, rel=0.005)


class OneHotPositions(torch.nn.Module):
    """Gemma 4's position embedding: int64 one-hot positions made for each sample, permuted and cast to
    float, times a (2, P, E) table whose batch the positions broadcast: torch copies the permuted
    positions and the table, once per sample, to batch them."""

    def __init__(self):
        super().__init__()
        self.table, self.proj = torch.nn.Parameter(torch.randn(2, 512, 16)), torch.nn.Linear(16, 10)

    def forward(self, x):
        grid = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
        places = torch.stack([grid[0].flatten(), grid[1].flatten()], -1).unsqueeze(0).expand(x.shape[0], -1, -1)
        positions = torch.nn.functional.one_hot(places, num_classes=512).permute(0, 2, 1, 3).to(self.table)
        return self.proj(x + (positions @ self.table).sum(dim=1))


class RelativeBias(torch.nn.Module):
    """SAM's decomposed relative position bias: einsum gives permuted strides, the broadcast add keeps
    them, and the reshape to (B, heads, N, N) copies; attention then reads it as a mask."""

    def __init__(self):
        super().__init__()
        self.qkv, self.rel = torch.nn.Linear(16, 48), torch.nn.Parameter(torch.randn(8, 8, 8))

    def forward(self, x):  # (B, 8, 8, 16): two heads of 8
        q, k, v = self.qkv(x).reshape(x.shape[0], 64, 3, 2, 8).permute(2, 0, 3, 1, 4).unbind(0)
        r = q.reshape(x.shape[0], 2, 8, 8, 8)
        h, w = torch.einsum("bnhwc,hkc->bnhwk", r, self.rel), torch.einsum("bnhwc,wkc->bnhwk", r, self.rel)
        bias = (h[..., :, None] + w[..., None, :]).reshape(x.shape[0], 2, 64, 64)
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)


def test_a_one_hot_made_per_sample_and_a_table_broadcast_to_the_batch_are_held_as_torch_holds_them():
    import cnncalc
    from cnncalc.verify.memory import measure_inference, measure_training

    module = OneHotPositions().eval()
    memory = cnncalc.summary(module, (64, 16), batch=2, optimizer="adam").memory
    assert measure_inference(module, (64, 16), 2) == pytest.approx(memory.peak_inference_bytes, rel=0.005)
    assert measure_training(module, (64, 16), 2, "adam") == pytest.approx(memory.training_bytes, rel=0.005)


def test_a_reshape_torch_copies_has_its_own_storage_and_a_trained_mask_is_an_estimate():
    import cnncalc
    from cnncalc.verify.memory import measure_inference, measure_training

    module = RelativeBias().eval()
    memory = cnncalc.summary(module, (8, 8, 16), batch=2, optimizer="sgd").memory
    assert measure_inference(module, (8, 8, 16), 2) == pytest.approx(memory.peak_inference_bytes, rel=0.005)
    assert memory.estimate == ("scaleddotproductattention: an attn_mask that requires grad (a bias made of "
                               "parameters) runs torch's math path in training, which holds the scores and their "
                               "softmax; the figures follow the fused kernels",)
    # why: the math path holds the 64 × 64 scores per head and their softmax, which the fused kernel never makes
    assert measure_training(module, (8, 8, 16), 2, "sgd") > 1.1 * memory.training_bytes


class BlockedAttention(torch.nn.Module):
    """NesT's attention: queries, keys and values of (B, heads, blocks, N, C'), 5 dims."""

    def forward(self, x):
        q = x.unflatten(1, (4, 16)).unflatten(-1, (2, 8)).transpose(1, 3)
        return torch.nn.functional.scaled_dot_product_attention(q, q, q)


def test_attention_on_five_dims_is_an_estimate():
    import cnncalc
    from cnncalc.verify.memory import measure_inference

    memory = cnncalc.summary(BlockedAttention(), (64, 16), batch=2).memory
    assert memory.estimate == ("scaleddotproductattention: queries, keys and values of other than 4 dims run "
                               "torch's math path (3-d ones up to torch 2.13), which holds the scores and their "
                               "softmax; the figures follow the fused kernels",)
    # why: torch holds the 16 × 16 scores per block and head, which the fused kernels never make
    assert measure_inference(BlockedAttention(), (64, 16), 2) > 1.1 * memory.peak_inference_bytes


class TokenTypes(torch.nn.Module):
    """BERT's embeddings: token types from a buffer, expanded to the batch, looked up for each sample."""

    def __init__(self):
        super().__init__()
        self.words, self.types = torch.nn.Embedding(50, 64), torch.nn.Embedding(2, 64)
        self.register_buffer("token_type_ids", torch.zeros(1, 96, dtype=torch.long))

    def forward(self, ids):
        types = self.token_type_ids[:, :ids.shape[1]].expand(ids.shape[0], ids.shape[1])
        return self.words(ids) + self.types(types)


def test_a_constant_expanded_to_the_batch_is_made_for_each_sample():
    # BERT's token_type_embeddings counted once per batch: 98,304 activations against torch's 196,608
    import cnncalc
    from cnncalc.verify.memory import inference_peak

    module = TokenTypes().eval()
    ids = torch.randint(0, 50, (3, 96))
    report = cnncalc.summary(module, (96,), batch=3, input_dtype="int64").report
    assert next(row for row in report.layers if row.name == "types").activations == module.types(
        module.token_type_ids.expand(3, 96)).numel()
    memory = cnncalc.summary(module, (96,), batch=3, input_dtype="int64").memory
    assert inference_peak(module, (ids,)) == pytest.approx(memory.peak_inference_bytes, rel=0.01)
    assert module(ids).shape[1:] == report.output_rows[0].output_shape


class ClipPad(nn.Module):
    """Swin3D's pad of a channels-last clip (B, T, H, W, C): eight values, the channels' pair and the
    fourth pair padding nothing."""

    def forward(self, x):
        return nn.functional.pad(x, (0, 0, 0, 1, 0, 2, 0, 0))


def test_a_pad_of_more_pairs_than_a_3d_pad_states_reads_as_one_when_the_rest_pad_nothing():
    import cnncalc

    module = ClipPad()
    rows = cnncalc.summary(module, (4, 5, 6, 3)).layers
    assert [row.kind for row in rows[1:]] == ["zeropad3d"]  # not a row marked not counted
    assert rows[-1].output_shape == tuple(module(torch.randn(1, 4, 5, 6, 3)).shape[1:])  # torch: (4, 7, 7, 3)


class Distinct(nn.Module):
    """Eight layers, each asked of its kind's calculator at sizes no other test uses."""
    def __init__(self):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(3, 7, 3), nn.BatchNorm2d(7)
        self.c2, self.fc = nn.Conv2d(7, 13, 3, stride=2), nn.Linear(13, 11)

    def forward(self, x):
        x = torch.relu(self.b1(self.c1(x)))
        x = self.c2(x) + 1.0
        return self.fc(x.mean((2, 3))).softmax(-1)


def test_each_layer_is_worked_out_once(monkeypatch):
    # the run works a module out, the mapping asks its kind again, and the figures ask once more: a
    # kind's calculator answers what it was asked before from memory (each real answer is held to
    # torch's size limit once: registry.bounded)
    import cnncalc
    from cnncalc.layers import registry

    answers = []
    monkeypatch.setattr(registry, "too_large", lambda shape: answers.append(shape) or False)
    summary = cnncalc.summary(Distinct(), (3, 37, 41))
    assert len(summary.layers) == 1 + 8 and len(answers) == 8  # the input is a row too


@pytest.mark.slow  # a child process of about 2 s
def test_a_model_file_read_in_its_child_process_is_the_graph_read_here(model_file):
    # the child sends spec data and, beside it, what a spec cannot say: each layer's scopes and run facts
    # come back as the in-process read has them, and the lines that build it
    from dataclasses import replace

    from cnncalc.model import read_pytorch

    child = read_pytorch(f"{model_file}:MyNet", {}, (3, 32, 32))
    here = read_pytorch(runpy.run_path(str(model_file))["MyNet"](), {}, (3, 32, 32))
    assert [replace(node, line=None) for node in child.nodes] == [replace(node, line=None) for node in here.nodes]
    assert any(node.scopes for node in child.nodes) and all(node.line is not None for node in child.nodes)


class FunctionalAttention(torch.nn.Module):
    """Attention as transformers' WavLM writes it: F.multi_head_attention_forward given its projections'
    weights (modules never called) and torch.cat of their biases, sequence first."""

    def __init__(self, embed: int = 8, heads: int = 2):
        super().__init__()
        self.embed, self.heads = embed, heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (torch.nn.Linear(embed, embed) for _ in range(4))
        self.norm = torch.nn.LayerNorm(embed)

    def forward(self, x):
        query = self.norm(x).transpose(0, 1)
        attended, _ = torch.nn.functional.multi_head_attention_forward(
            query, query, query, self.embed, self.heads, torch.empty([0]),
            torch.cat((self.q_proj.bias, self.k_proj.bias, self.v_proj.bias)), None, None, False, 0.0,
            self.out_proj.weight, self.out_proj.bias, training=False, use_separate_proj_weight=True,
            q_proj_weight=self.q_proj.weight, k_proj_weight=self.k_proj.weight, v_proj_weight=self.v_proj.weight)
        return attended.transpose(0, 1)


def test_a_call_no_kind_states_given_parameters_and_constants_is_a_row_not_counted():
    # it had refused the whole model ("cannot map getitem"): the call reads a layer and tensors made without the
    # input, which it holds as its own
    import cnncalc

    module = FunctionalAttention()
    report = cnncalc.summary(module, (5, 8)).report
    rows = [row for row in report.layers if row.kind == "uncounted"]
    assert [row.inputs for row in rows] == [("transpose",)] and report.totals.uncounted
    assert rows[0].params == sum(p.numel() for name, p in module.named_parameters() if "proj" in name)
    assert report.totals.params == sum(p.numel() for p in module.parameters()) and not report.not_run
    assert [row.output_shape for row in report.output_rows] == [tuple(module(torch.randn(1, 5, 8)).shape[1:])]


class ScaledEmbedding(torch.nn.Embedding):
    """BART's: the table looked up by nn.Embedding's forward, then scaled; no kind states the module, so
    F.embedding is the layer."""

    def forward(self, ids):
        return super().forward(ids) * 2.0


class SharedTables(torch.nn.Module):
    """An encoder's and a decoder's embeddings tied to one shared table the model never calls itself, looked up
    by calls (BART's scaled embeddings) or by the modules themselves (LED's)."""

    def __init__(self, scaled: bool):
        super().__init__()
        embedding = ScaledEmbedding if scaled else torch.nn.Embedding
        self.shared = torch.nn.Embedding(100, 8)
        self.encoder, self.decoder = embedding(100, 8), embedding(100, 8)
        self.encoder.weight = self.decoder.weight = self.shared.weight
        self.body = torch.nn.Linear(8, 8)

    def forward(self, ids):
        return self.body(self.encoder(ids)) + self.decoder(ids)


@pytest.mark.parametrize("scaled", [True, False], ids=["looked-up-by-calls", "looked-up-by-modules"])
def test_a_table_tied_to_several_embeddings_counts_once(scaled):
    # it had counted 1,672: the table once a lookup by a call, or again as not run under the shared path
    import cnncalc

    module = SharedTables(scaled)
    summary = cnncalc.summary(module, (5,), input_dtype=torch.long, batch=2)
    assert summary.totals.params == sum(p.numel() for p in module.parameters()) == 872
    assert not summary.report.not_run
    assert summary.verify(optimizer=None).failed == ()


class TiedHead(torch.nn.Module):
    """A language model's head on its embedding's table, with a bias of its own (BERT's decoder), as a module
    whose weight is the table's or as F.linear given the table; called twice where `again`."""

    def __init__(self, functional: bool, again: bool = False):
        super().__init__()
        self.functional, self.again = functional, again
        self.embedding, self.body = torch.nn.Embedding(100, 8), torch.nn.Linear(8, 8)
        self.head = torch.nn.Linear(8, 100)
        self.head.weight = self.embedding.weight

    def forward(self, ids):
        x = self.body(self.embedding(ids))
        head = (lambda x: torch.nn.functional.linear(x, self.embedding.weight, self.head.bias)) if self.functional \
            else self.head
        return head(x) + head(x) if self.again else head(x)


@pytest.mark.parametrize("functional,again", [(False, False), (True, False), (False, True)],
                         ids=["module", "functional", "called-twice"])
def test_a_head_tied_to_an_embedding_counts_the_table_once_and_its_bias(functional, again):
    # five masked language models of transformers (BERT's, RoBERTa's, DistilBERT's, ALBERT's, ELECTRA's) had
    # counted the table twice: the head holds it and a bias of its own, and no layer held all its tensors
    import cnncalc

    module = TiedHead(functional, again)
    summary = cnncalc.summary(module, (5,), input_dtype=torch.long, batch=2)
    assert summary.totals.params == sum(p.numel() for p in module.parameters()) == 800 + 72 + 100
    assert summary.verify().failed == ()


class QuantizedTable(torch.nn.Module):
    """I-BERT's QuantEmbedding out of quantization: F.embedding on its weight, beside an integer copy of the
    weight and its scale, buffers its forward() never reads."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(100, 8))
        self.register_buffer("weight_integer", torch.zeros(100, 8))
        self.register_buffer("weight_scaling_factor", torch.zeros(1))

    def forward(self, ids):
        return torch.nn.functional.embedding(ids, self.weight)


def test_buffers_a_module_that_ran_never_read_are_held_as_not_read():
    # they had been left out of the totals: the module counted as held whole by the embedding given its weight
    import cnncalc

    module = torch.nn.Sequential(QuantizedTable(), torch.nn.Linear(8, 8))
    report = cnncalc.summary(module, (5,), input_dtype=torch.long).report
    assert (report.totals.params, report.totals.buffers) == (sum(p.numel() for p in module.parameters()),
                                                             sum(b.numel() for b in module.buffers())) == (872, 801)
    assert [(held.name, held.buffers, held.why) for held in report.not_run] == \
        [("0.weight_integer", 800, "not read"), ("0.weight_scaling_factor", 1, "not read")]


class Projection(nn.Module):
    """A parameter multiplied directly, x @ w.t(): the meta kernel's output is the stand-in's shape."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(4, 8))

    def forward(self, x):
        return x @ self.w.t()


def test_a_parameter_changed_in_place_is_stood_in_for_anew():
    # a run keeps the meta stand-ins of the model's tensors for the next while they live and are alike: one given
    # new data since (the same Parameter, now 6 × 8) is read at its new shape, torch's x @ w.t() of 6 columns
    import cnncalc

    model = Projection()
    assert cnncalc.summary(model, (8,)).layers[-1].output_shape == (4,)
    model.w.data = torch.randn(6, 8)
    assert (model(torch.randn(1, 8)).shape[1:], cnncalc.summary(model, (8,)).layers[-1].output_shape) == ((6,), (6,))
