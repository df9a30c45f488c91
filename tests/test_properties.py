"""Property-based differential tests: random layers and small DAGs, cnncalc against torch.

For every generated case either both cnncalc and torch reject it, or every figure of every layer
(shape, parameters, buffers, activations, MACs from FlopCounterMode) is equal, and so is every
peer tool's count under its convention.
"""
from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.errors import SpecError
from cnncalc.spec import build_graph

torch = pytest.importorskip("torch")
from cnncalc.verify.build import build_model  # noqa: E402
from cnncalc.verify.measure import measure  # noqa: E402
from conftest import compare  # noqa: E402
from figures.test_conventions import assert_peers_agree  # noqa: E402

PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(data: dict):
    """(cnncalc's error or None, torch's error or None) for one generated spec."""
    try:
        graph = build_graph(data, "<generated>", {})
        from cnncalc.figures import analyze
        analyze(graph)
    except SpecError as error:
        ours = error
    else:
        ours = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = graph if ours is None else _unchecked(data)
            rows = measure(build_model(graph), graph)
        # torch returns empty tensors where a size reaches 0; cnncalc rejects non-positive sizes
        theirs = next((f"{r.name} is empty" for r in rows if r.activations == 0), None)
    except (RuntimeError, ValueError, TypeError, SpecError, AssertionError) as error:
        theirs = error
    return ours, theirs


def _unchecked(data: dict):
    """The graph without cnncalc's shape checks, so torch gets to judge the same layer."""
    return build_graph(data, "<generated>", {})


def agree(data: dict, batch: int = 1) -> None:
    ours, theirs = outcome(data)
    assert (ours is None) == (theirs is None), f"cnncalc: {ours!r}; torch: {theirs!r}"
    if ours is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = build_graph(data, "<generated>", {})
            compare(graph, batch)
            assert_peers_agree(graph, "generated", batch)


sizes = st.integers(1, 12)
batches = st.integers(1, 3)  # past batch 1 a count may not scale as the batch (ptflops: hooks per sample)
spatial2 = st.tuples(sizes, sizes)


@st.composite
def conv_spec(draw):
    groups = draw(st.sampled_from([1, 2, 3]))
    channels = groups * draw(st.integers(1, 3))
    args = {"out_channels": groups * draw(st.integers(1, 3)), "kernel_size": draw(st.integers(1, 5)),
            "stride": draw(st.integers(1, 3)), "dilation": draw(st.integers(1, 3)), "groups": groups,
            "bias": draw(st.booleans()),
            "padding": draw(st.one_of(st.integers(0, 3), st.sampled_from(["same", "valid"])))}
    return {"input": [channels, *draw(spatial2)], "layers": [{"conv2d": args}]}


@st.composite
def transposed_spec(draw):
    args = {"out_channels": draw(st.integers(1, 4)), "kernel_size": draw(st.integers(1, 4)),
            "stride": draw(st.integers(1, 3)), "padding": draw(st.integers(0, 2)),
            "output_padding": draw(st.integers(0, 2)), "dilation": draw(st.integers(1, 2))}
    return {"input": [draw(st.integers(1, 3)), *draw(spatial2)], "layers": [{"convtranspose2d": args}]}


@st.composite
def pool_spec(draw):
    kind = draw(st.sampled_from(["maxpool2d", "avgpool2d", "maxpool1d", "avgpool1d"]))
    n = int(kind[-2])
    args = {"kernel_size": draw(st.integers(1, 4)), "padding": draw(st.integers(0, 2)),
            "ceil_mode": draw(st.booleans())}
    stride = draw(st.one_of(st.none(), st.integers(1, 3)))
    if stride:
        args["stride"] = stride
    if kind.startswith("max"):
        args["dilation"] = draw(st.integers(1, 2))
    return {"input": [2, *draw(st.lists(sizes, min_size=n, max_size=n))], "layers": [{kind: args}]}


@st.composite
def upsample_spec(draw):
    mode = draw(st.sampled_from(["nearest", "bilinear"]))
    scale = draw(st.sampled_from([0.5, 1.5, 2, 2.5, 3, 0.75]))
    return {"input": [2, *draw(spatial2)], "layers": [{"upsample": {"scale_factor": scale, "mode": mode}}]}


@st.composite
def dag_spec(draw):
    """A chain of conv/pool/norm/activation layers with residual adds and concats off earlier layers."""
    layers, names = [], ["input"]
    for index in range(draw(st.integers(1, 6))):
        choice = draw(st.sampled_from(["conv", "pool", "bn", "relu", "add", "concat"]))
        name = f"l{index}"
        if choice == "conv":
            entry = {"conv2d": {"out_channels": draw(st.integers(1, 4)), "kernel_size": draw(st.sampled_from([1, 3])),
                                "padding": draw(st.integers(0, 1))}}
        elif choice == "pool":
            entry = {"maxpool2d": {"kernel_size": 2, "ceil_mode": draw(st.booleans())}}
        elif choice == "bn":
            entry = {"batchnorm2d": None}
        elif choice == "relu":
            entry = {"relu": None}
        else:
            entry = {choice: None, "from": [names[-1], draw(st.sampled_from(names))]}
        layers.append({**entry, "name": name})
        names.append(name)
    return {"input": [draw(st.integers(1, 3)), *draw(spatial2)], "layers": layers}


@PROFILE
@given(conv_spec(), batches)
def test_random_conv(data, batch):
    agree(data, batch)


@PROFILE
@given(transposed_spec(), batches)
def test_random_transposed_conv(data, batch):
    agree(data, batch)


@PROFILE
@given(pool_spec(), batches)
def test_random_pool(data, batch):
    agree(data, batch)


@PROFILE
@given(upsample_spec(), batches)
def test_random_upsample(data, batch):
    agree(data, batch)


@PROFILE
@given(dag_spec(), batches)
def test_random_dag(data, batch):
    agree(data, batch)
