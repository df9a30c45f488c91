"""Every layer kind declares everything cnncalc knows about it, in its one registration.

The receptive-field rule of each kind is proven by torch gradients: the kind followed by a 3×3 conv,
positive weights, and the input pixels the centre unit's gradient reaches.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import fnmatch
import inspect
import re
from pathlib import Path

import pytest

from cnncalc import builder
from cnncalc.figures import analyze
from cnncalc.figures.conventions import CONVENTIONS
from cnncalc.figures.rf import receptive_fields
from cnncalc.layers import REGISTRY
from cnncalc.layers.facts import CONSTANT, Exact, FieldProbe, MERGE, MemoryFacts, TorchForms, UNTRACKED, WHOLE, Window
from cnncalc.layers.registry import register
from cnncalc.spec import build_graph
from conftest import one_layer
from layers.test_kinds_vs_torch import CASES, JOIN_CASES

README = Path(__file__).resolve().parents[2] / "README.md"


def test_registration_states_every_fact():
    # no defaults: a registration that leaves a fact out fails when the module is imported
    required = [name for name, p in inspect.signature(register).parameters.items()
                if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    assert {"family", "torch", "receptive_field", "memory"} <= set(required)
    for record in (MemoryFacts, TorchForms, Window):
        assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(record)), record
    with pytest.raises(TypeError, match="memory"):
        register("nothing", family="shape", torch=REGISTRY["relu"].torch,
                 receptive_field=REGISTRY["relu"].receptive_field)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_kind_declares_each_fact(name):
    kind = REGISTRY[name]
    assert isinstance(kind.torch, TorchForms) and kind.torch.module.count(".") >= 2
    assert "{n}" not in kind.torch.module
    assert isinstance(kind.memory, MemoryFacts) and isinstance(kind.field_probe, FieldProbe)
    assert callable(kind.receptive_field) and callable(kind.calculate)


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_receptive_field_rule_answers_for_every_case(kind, args, shape):
    graph = one_layer(kind, args, shape)
    report = analyze(graph)
    node = graph.nodes[0]
    hash(node.args)  # normalized arguments hash by content: equal layers share their figures
    out = report.layers[1].output_shape
    geometry = REGISTRY[kind].receptive_field(node.args, (shape,), out)
    if isinstance(geometry, Exact):  # the mean windows, and every unit's exact reads within the input
        assert all(isinstance(w, Window) for w in geometry.windows)
        for axis, (size, out_size) in enumerate(zip(shape[1:], out[1:])):
            for unit in range(out_size):
                reads = geometry.reads(axis, unit, unit, size, out_size)
                assert reads is None or 0 <= reads[0] <= reads[1] <= size - 1, (axis, unit, reads)
    else:
        assert geometry in (WHOLE, MERGE, CONSTANT, UNTRACKED) or all(isinstance(w, Window) for w in geometry)


def test_arguments_are_read_only_and_hash_by_content():
    given = {"out_channels": 8, "kernel_size": [3, 3]}  # a list and a tuple: remembered apart, each normalized
    first, second = REGISTRY["conv2d"].normalize(given), REGISTRY["conv2d"].normalize({**given, "kernel_size": (3, 3)})
    assert first is not second and first == second and hash(first) == hash(second)
    assert first != REGISTRY["conv2d"].normalize({**given, "stride": 2})
    with pytest.raises(TypeError, match="read-only"):
        first["stride"] = (2, 2)


@pytest.mark.parametrize("kind,args,shape,left,right", JOIN_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(JOIN_CASES)])
def test_every_join_merges_or_maps_its_first_input(kind, args, shape, left, right):
    graph = build_graph({"input": list(shape), "layers": [{**left, "name": "a", "from": "input"},
                                                          {**right, "name": "b", "from": "input"},
                                                          {kind: args, "from": ["a", "b"]}]}, "<test>", {})
    rows = {row.name: row.output_shape for row in analyze(graph).layers}
    node = graph.nodes[-1]
    geometry = REGISTRY[kind].receptive_field(node.args, (rows["a"], rows["b"]), rows[node.name])
    assert geometry in (MERGE, WHOLE) or all(isinstance(w, Window) for w in geometry)  # stack: WHOLE
    assert receptive_fields(graph, analyze(graph))[node.name].size  # the walk handles the join


def installed(path: str) -> bool:
    """Whether the library a form belongs to is here (torchvision and timm are optional); in the
    environment with them, .ci/run's library tests check their forms too. An op under torch.ops is
    its library's (torch.ops.torchvision.nms), there once the library is imported."""
    parts = path.split(".")
    library = parts[2] if parts[:2] == ["torch", "ops"] else parts[0]
    if importlib.util.find_spec(library) is None:
        return False
    importlib.import_module(library)
    return True


def test_torch_forms_name_real_torch_objects():
    torch = pytest.importorskip("torch")
    from cnncalc.importing.forms import resolve

    for name, kind in REGISTRY.items():
        assert issubclass(resolve(kind.torch.module), torch.nn.Module), name
        for call in kind.torch.functions:
            if installed(call.path):
                assert callable(resolve(call.path)), (name, call.path)
        for alias in kind.torch.aliases:
            if installed(alias.path):
                assert issubclass(resolve(alias.path), torch.nn.Module), (name, alias.path)
        for call in kind.torch.methods:
            assert callable(getattr(torch.Tensor, call.path)), (name, call.path)


@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
def test_convention_patterns_name_real_kinds(convention):
    rules = CONVENTIONS[convention].rules
    for pattern, _ in rules:
        assert fnmatch.filter(REGISTRY, pattern), f"{convention}: '{pattern}' matches no kind"
    # the tool's rule for any other kind is stated, not implied
    assert callable(CONVENTIONS[convention].otherwise)
    assert "otherwise" in [f.name for f in dataclasses.fields(type(CONVENTIONS[convention]))
                           if f.default is dataclasses.MISSING]


def test_builder_has_a_constructor_per_kind():
    by_kind = {name: getattr(builder, kind.torch.module.rpartition(".")[2], None) for name, kind in REGISTRY.items()}
    assert all(by_kind.values()), [k for k, v in by_kind.items() if v is None]
    assert builder.Conv2d(8, 3)["conv2d"] == {"out_channels": 8, "kernel_size": 3}


def test_readme_lists_every_kind():
    text = README.read_text(encoding="utf-8")
    listing = text[text.index("Layer kinds:"):].split("\n\n")[0]
    named = set()
    for word in re.findall(r"[a-z0-9/]+", listing.replace("Layer kinds", "")):
        stem = re.sub(r"[123]d(/[123]d)*$", "", word)
        named |= {stem + d for d in re.findall(r"[123]d", word)} or {word}
    assert named == set(REGISTRY)


def gradient_interval(graph, axis: int) -> tuple[int, int, int]:
    """Input rows the centre output unit's gradient reaches (positive weights, double precision)."""
    torch = pytest.importorskip("torch")
    from cnncalc.verify.build import build_model

    model = build_model(graph).double()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.fill_(0.0 if name.endswith("bias") else 1.0)
    x = torch.rand((1, *graph.input_shape), dtype=torch.float64, requires_grad=True)
    out = model(x + 1)  # positive everywhere: ReLU-like kinds pass gradients
    centre = [size // 2 for size in out.shape[2:]]
    out[(0, slice(None), *centre)].sum().backward()
    spatial = x.grad[0].abs().sum(0)
    others = [d for d in range(spatial.dim()) if d != axis]
    reached = (spatial.sum(others) if others else spatial).nonzero()
    return int(reached.min()), int(reached.max()), centre[axis]


# Left out, each for its reason: through upsampling, transposed convs and adaptive pooling whose
# sizes do not divide, a unit's field is not an affine function of its index, so the per-layer
# stride describes the average unit, not the centre one (issue 13); a linear layer, flatten, reshape
# or reduction over spatial dims (a norm's too) is reported as seeing the whole input rather than its
# true extent (issue 13); max
# pooling passes gradients to one input of each window; norms that compute statistics from the
# input reach every position by design, which receptive fields leave out (Araujo et al. treat them
# as element-wise); select, permute and transpose leave no per-axis field (an axis is gone, or
# channels sit among the axes the next layer reads as spatial); expand's and tile's axes are reported
# as the whole input; a parameter or constant sees no input (tests/figures/test_rf.py); unsqueeze and squeeze change
# how many axes the next layer reads as spatial (and Tensor.unfold's windows a dim of their own); unfold's
# columns gather whole blocks, and RMS norm
# computes statistics as the other norms do; no gradient flows through a comparison (eq, ne, gt, ...)
# nor through floor, ceil, trunc and sign (step functions, whose gradient is zero); topk's and sort's units are ordered
# by value along a dim, wherever the data puts them, and flip's mirrored (reported as the whole input); a
# running sum's (or product's) prefix is no window (test_cumsum_field_is_where_gradients_reach checks it unit by
# unit); logit is NaN above 1, where the probe's inputs are (x + 1), and a NaN gradient reaches every unit.
LEFT_OUT = ("upsample", "convtranspose", "adaptiveavg", "linear", "flatten", "unflatten", "reshape", "mean", "sum", "prod",
            "cumprod",
            "amax", "amin", "var", "std", "logsumexp", "rmsnorm", "unfold", "maxpool", "adaptivemax", "layernorm", "groupnorm", "instancenorm",
            "select", "permute", "transpose", "expand", "tile", "parameter", "constant", "unsqueeze", "squeeze", "eq",
            "ne", "cumsum", "topk", "sort", "flip", "tensorunfold", "logit")
NO_GRADIENT = ("norm", "gt", "ge", "lt", "le", "floor", "ceil", "trunc", "sign", "argsort")  # by whole name: "le" would leave out leakyrelu
SPATIAL_CASES = [c for c in CASES if len(c[2]) == 3 and not c[0].startswith(LEFT_OUT) and c[0] not in NO_GRADIENT
                 and (c[1] or {}).get("track_running_stats") is not False]


@pytest.mark.parametrize("kind,args,shape", SPATIAL_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(SPATIAL_CASES)])
def test_receptive_field_is_where_gradients_reach(kind, args, shape):
    pytest.importorskip("torch")
    # a larger input than the case's, so the centre unit's field lies inside it
    graph = one_layer(kind, args, (shape[0], 2 * shape[1] + 4, 2 * shape[2] + 4),
                      [{"conv2d": {"out_channels": 2, "kernel_size": 3}}])
    field = receptive_fields(graph, analyze(graph))[graph.nodes[-1].name]
    for axis, length in enumerate(graph.input_shape[1:]):
        first, last, centre = gradient_interval(graph, axis)
        start = centre * field.stride[axis] - field.padding[axis]
        expected = (max(int(start), 0), min(int(start + field.size[axis] - 1), length - 1))
        assert (first, last) == expected, f"axis {axis}: gradients reach {first}…{last}, cnncalc says {expected}"


def test_pixel_unshuffle_widens_the_next_field():
    # the example: 2×2 unshuffle then a 3×3 conv sees 6×6 input pixels
    graph = one_layer("pixelunshuffle", {"downscale_factor": 2}, (1, 8, 8),
                      [{"conv2d": {"out_channels": 1, "kernel_size": 3}}])
    assert receptive_fields(graph, analyze(graph))[graph.nodes[-1].name].size == (6, 6)
