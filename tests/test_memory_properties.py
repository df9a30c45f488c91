"""The memory model on random graphs of every kind decoders use: hypothesis builds DAGs of
upsampling (each mode), transposed convs, pixel shuffle, joins, pools and norms, and torch's
measured peaks (inference, and a steady-state Adam training step) must be within 10% of cnncalc's."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnncalc.errors import SpecError
from cnncalc.figures import analyze
from cnncalc.spec import build_graph

torch = pytest.importorskip("torch")
from cnncalc.verify.build import build_model  # noqa: E402
from cnncalc.verify.memory import check_memory  # noqa: E402


def _layer(draw, channels: int) -> dict:
    """One layer that keeps the channel count (so joins of branches can meet) or sets it."""
    kind = draw(st.sampled_from(["conv", "convtranspose", "upsample", "shuffle", "maxpool", "avgpool", "bn",
                                 "relu", "inplace relu", "sigmoid", "gelu", "dropout"]))
    if kind == "conv":
        return {"conv2d": {"out_channels": channels, "kernel_size": 3, "padding": 1,
                           "stride": draw(st.sampled_from([1, 2]))}}
    if kind == "convtranspose":
        return {"convtranspose2d": {"out_channels": channels, "kernel_size": 2, "stride": 2}}
    if kind == "upsample":
        mode = draw(st.sampled_from(["nearest", "bilinear", "bicubic", "nearest-exact"]))
        return {"upsample": {"scale_factor": 2, "mode": mode}}
    if kind == "shuffle":  # to 4C channels at half size and back: pixelunshuffle then pixelshuffle
        return {"sequential": [{"pixelunshuffle": {"downscale_factor": 2}},
                               {"pixelshuffle": {"upscale_factor": 2}}]}
    if kind in ("maxpool", "avgpool"):
        return {f"{kind}2d": {"kernel_size": 2}}
    if kind == "bn":
        return {"batchnorm2d": None}
    if kind == "inplace relu":
        return {"relu": {"inplace": True}}
    return {kind: None}


@st.composite
def decoder_spec(draw):
    """A chain of layers, skip joins (add, mul, concat with an earlier layer) and forks (two layers
    reading one, joined): every output feeds a later layer, as in a model, and a last 1×1 conv gives
    backward something to train."""
    channels = draw(st.integers(4, 8))
    layers, names = [], ["input"]

    def add(entry: dict) -> None:
        layers.append({**entry, "name": f"l{len(layers)}"})
        names.append(layers[-1]["name"])

    for _ in range(draw(st.integers(1, 5))):
        step = draw(st.sampled_from(["layer", "layer", "skip", "fork"]))
        if step == "layer":
            add({**_layer(draw, channels), "from": names[-1]})
        elif step == "skip":
            # an earlier layer: x * x, a tensor joined with itself, is not a decoder's join
            add({draw(st.sampled_from(["add", "mul", "concat"])): None,
                 "from": [names[-1], draw(st.sampled_from(names[:-1] or names))]})
        else:
            start = names[-1]
            add({**_layer(draw, channels), "from": start})
            add({**_layer(draw, channels), "from": start})
            add({draw(st.sampled_from(["add", "mul", "concat"])): None, "from": names[-2:]})
    add({"conv2d": {"out_channels": channels, "kernel_size": 1}, "from": names[-1]})
    size = draw(st.sampled_from([16, 24, 32]))
    return {"input": [channels, size, size], "layers": layers}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(decoder_spec())
def test_memory_within_ten_percent_on_random_decoders(data):
    try:
        graph = build_graph(data, "<generated>", {})
        report = analyze(graph)
    except SpecError:
        assume(False)  # branches of different shapes: not a model
    try:
        checks = check_memory(graph, build_model(graph), report, lambda what: None)
    except RuntimeError as error:  # torch cannot train it: an in-place ReLU on a tensor a gradient needs
        assume("modified by an inplace operation" not in str(error))
        raise
    for check in checks:
        assert 0.9 <= check.ratio <= 1.1, f"{check.figure}: predicted {check.predicted:,}, measured " \
                                          f"{check.measured:,} ({check.ratio:.3f}) for {data}"
