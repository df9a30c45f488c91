"""The layer graph: inputs as users write them (`--input`), bounded by what torch can hold (int64
element counts), nodes in topological order (Kahn's, spec order kept), and a cycle named."""
from __future__ import annotations

import pytest

from cnncalc.errors import SpecError
from cnncalc.graph import (INPUT, TORCH_INT_MAX, Graph, GivenInputs, Node, OtherInput, parse_inputs, parse_shape,
                           too_large, topological)


def node(name: str, *inputs: str, line: int | None = None) -> Node:
    return Node(name=name, kind="relu", args={}, inputs=inputs, line=line)


def test_torch_counts_elements_in_int64():
    assert TORCH_INT_MAX == 9_223_372_036_854_775_807  # torch.iinfo(torch.int64).max
    assert not too_large((3, 2**31, 2**30)) and too_large((2, 2**31, 2**31))


@pytest.mark.parametrize("text, shape", [("3x224x224", (3, 224, 224)), ("3×32×32", (3, 32, 32)), ("128", (128,)),
                                         ("1X2X3X4", (1, 2, 3, 4))])
def test_a_shape_is_read_as_written(text, shape):
    assert parse_shape(text) == shape


@pytest.mark.parametrize("text, message", [
    ("3x224xa", "--input must look like 3x224x224 or 128:int64, got '3x224xa'"),
    ("3x0x4", "--input must be 1 to 4 positive sizes like 3x224x224, got '3x0x4'"),
    ("1x2x3x4x5", "--input must be 1 to 4 positive sizes like 3x224x224, got '1x2x3x4x5'"),
    (f"2x{2**31}x{2**31}", "--input: more than 2^63 - 1 elements, more than torch can hold"),
])
def test_a_bad_shape_is_named(text, message):
    with pytest.raises(SpecError) as caught:
        parse_shape(text)
    assert message in caught.value.message


def test_inputs_by_name_after_the_first():
    assert parse_inputs([]) == GivenInputs()
    assert parse_inputs(["128:int64"]) == GivenInputs(shape=(128,), dtype="int64")
    given = parse_inputs(["x=3x224x224", "mask=1x224x224", "ids=16:int32"])
    assert given.shape == (3, 224, 224) and given.dtype is None
    assert given.others == (OtherInput(name="mask", shape=(1, 224, 224)),
                            OtherInput(name="ids", shape=(16,), dtype="int32"))


@pytest.mark.parametrize("texts, message", [
    (["3x8x8:float16"], "after ':' comes what the input holds instead of floating values in the model's dtype: "
                        "one of int64, int32, int8, bool"),
    (["3x8x8", "1x8x8"], "the inputs after the first go by forward()'s names, e.g. --input mask=1x224x224"),
    (["3x8x8", "2d=1x8x8"], "the inputs after the first go by forward()'s names"),
])
def test_bad_inputs_are_named(texts, message):
    with pytest.raises(SpecError) as caught:
        parse_inputs(texts)
    assert message in caught.value.message


def test_nodes_written_in_order_stay_in_order():
    nodes = [node("a", INPUT), node("b", "a"), node("c", INPUT), node("d", "b", "c")]
    assert topological(nodes, "net.yaml") == tuple(nodes)


def test_nodes_out_of_order_follow_their_inputs_keeping_spec_order_otherwise():
    nodes = [node("d", "b", "c"), node("b", "a"), node("a", INPUT), node("c", INPUT), node("mask_user", "mask")]
    order = [n.name for n in topological(nodes, "net.yaml", (INPUT, "mask"))]
    assert order == ["a", "b", "c", "d", "mask_user"]


def test_a_cycle_is_named_with_its_first_layer_and_line():
    nodes = [node("a", INPUT), node("b", "a", "d", line=4), node("c", "b", line=5), node("d", "c", line=6)]
    with pytest.raises(SpecError) as caught:
        topological(nodes, "net.yaml")
    assert caught.value.message == "cycle: b → d → c → b"  # each reads the next: b reads d, d reads c, c reads b
    assert (caught.value.file, caught.value.line, caught.value.layer) == ("net.yaml", 4, "b")


def test_another_input_size_keeps_the_ids_the_model_reads():
    graph = Graph(name="g", input_shape=(16,), nodes=(node("a", INPUT),), input_dtype="int64",
                  other_inputs=(OtherInput(name="mask", shape=(16,)),))
    assert graph.with_input((32,)).input_shape == (32,) and graph.with_input((32,)).input_dtype == "int64"
    assert graph.with_input([8], "int32").input_dtype == "int32"
    assert graph.input_names == ("input", "mask")


def test_a_tensor_its_run_held_in_a_local_lives_until_the_run_let_it_go():
    held = Node(name="b", kind="relu", args={}, inputs=("a",), held_through="d")
    early = Node(name="c", kind="relu", args={}, inputs=("b",), held_through="c")
    nodes = (node("a", INPUT), held, early, node("d", "c"), node("e", "d", "c"))
    alive = Graph(name="g", input_shape=(3,), nodes=nodes).alive_until()
    # `b = f(a); c = g(b); d = h(c)`: the run let b go after d; c, held no longer than its readers, to e
    assert alive == {"input": 0, "a": 1, "b": 3, "c": 4, "d": 4, "e": 4}


def test_a_tensor_passed_into_a_block_lives_until_the_block_returns():
    from cnncalc.graph import Scope

    block = (Scope("block", "res"),)
    nodes = (node("stem", INPUT), Node(name="block.conv", kind="relu", args={}, inputs=("stem",), scopes=block),
             Node(name="block.act", kind="relu", args={}, inputs=("block.conv",), scopes=block),
             Node(name="block.out", kind="relu", args={}, inputs=("block.act",), scopes=block),
             node("head", "block.out"))
    alive = Graph(name="g", input_shape=(3,), nodes=nodes).alive_until()
    # `x = self.block(x)`: the caller holds the stem's output until the block's last layer has run
    assert alive == {"input": 0, "stem": 3, "block.conv": 2, "block.act": 3, "block.out": 4, "head": 4}  # returned
