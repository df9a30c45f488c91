"""Products and attention (cnncalc/layers/attention.py) against a real torch
forward pass, over a spread of arguments.

Golden figures: torch.nn modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs.
"""
from __future__ import annotations

import pytest

from cnncalc.spec import build_graph
from conftest import compare, one_layer

torch = pytest.importorskip("torch")

CASES = [
    ("multiheadattention", {"num_heads": 4, "batch_first": True}, (10, 64)),
    ("multiheadattention", {"num_heads": 2, "batch_first": True, "bias": False, "add_bias_kv": True,
                            "add_zero_attn": True}, (7, 32)),
]


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))


# query, key and value from different branches: 6 queries of 16 features, 9 keys of 12, values of 20
# queries, keys and values of 4 heads; keys transposed for a plain product
PRODUCTS = [
    {"input": [4, 10, 8], "layers": [{"relu": None, "name": "q"}, {"sigmoid": None, "from": "input", "name": "k"},
                                     {"linear": {"out_features": 6}, "from": "input", "name": "v"},
                                     {"scaleddotproductattention": {"is_causal": True}, "from": ["q", "k", "v"]}]},
    # a relative position bias of 4 heads as attn_mask
    {"input": [4, 10, 8], "layers": [{"parameter": {"shape": [4, 10, 10]}, "name": "bias"},
                                     {"scaleddotproductattention": None, "from": ["input", "input", "input", "bias"]}]},
    # grouped-query attention (Llama's): 4 query heads sharing 2 heads of keys and values
    {"input": [4, 10, 8], "layers": [{"narrow": {"dim": 1, "start": 0, "length": 2}, "name": "k"},
                                     {"sigmoid": None, "from": "k", "name": "v"},
                                     {"scaleddotproductattention": {"is_causal": True, "enable_gqa": True},
                                      "from": ["input", "k", "v"]}]},
    {"input": [4, 10, 8], "layers": [{"transpose": {"dim0": -2, "dim1": -1}, "name": "kt"},
                                     {"matmul": None, "from": ["input", "kt"]}]},
    # written q @ kt: Tensor.__matmul__, which ptflops does not patch (it counts torch.matmul's)
    {"input": [4, 10, 8], "layers": [{"transpose": {"dim0": -2, "dim1": -1}, "name": "kt"},
                                     {"matmul": {"operator": True}, "from": ["input", "kt"]}]},
    {"input": [10, 8], "layers": [{"parameter": {"shape": [8, 5]}, "name": "w"},
                                  {"matmul": None, "from": ["input", "w"]}]},
    # a sample's vector times a matrix (pooled @ self.proj), and a matrix times a vector
    {"input": [8], "layers": [{"parameter": {"shape": [8, 5]}, "name": "w"},
                              {"matmul": None, "from": ["input", "w"]}]},
    {"input": [4, 8], "layers": [{"parameter": {"shape": [8]}, "name": "v"},
                                 {"matmul": None, "from": ["input", "v"]}]},
    # a relative position bias gathered from a table by a buffer of positions (torch: table[index])
    {"input": [30, 6], "layers": [{"parameter": {"shape": [49], "buffer": True}, "name": "index"},
                                  {"indexselect": {"dim": 1}, "from": ["input", "index"]}]},
    # einsum: MViT's relative positions (a batched operand and a parameter), and letters one operand
    # alone sums away
    {"input": [4, 10, 8], "layers": [{"parameter": {"shape": [10, 6, 8]}, "name": "rel"},
                                     {"einsum": {"equation": "hid,ijd->hij"}, "from": ["input", "rel"]}]},
    {"input": [4, 10, 8], "layers": [{"relu": None, "name": "r"},
                                     {"einsum": {"equation": "h i d, h j k -> h i j"}, "from": ["input", "r"]}]},
    # an outer product (no letter summed: fvcore halves numpy's count) and SAM's decomposed position bias
    {"input": [3, 5], "layers": [{"sigmoid": None, "name": "s"},
                                 {"einsum": {"equation": "hi,hj->hij"}, "from": ["input", "s"]}]},
    {"input": [4, 4, 8], "layers": [{"parameter": {"shape": [4, 3, 8]}, "name": "rel"},
                                    {"einsum": {"equation": "hwc,hkc->hwk"}, "from": ["input", "rel"]}]},
    # fvcore's own form of a batched product, and a count numpy prints rounded to four digits
    {"input": [6, 5], "layers": [{"relu": None, "name": "r"},
                                 {"einsum": {"equation": "ic,id->cd"}, "from": ["input", "r"]}]},
    {"input": [37, 53], "layers": [{"sigmoid": None, "name": "s"},
                                   {"einsum": {"equation": "hi,hj->hij"}, "from": ["input", "s"]}]},
    # torch.baddbmm: scores added to a bias of the same batch, scaled (attention given ALiBi), and to a
    # parameter one row of which broadcasts to every row (its factors have the batch: torch broadcasts none)
    {"input": [10, 8], "layers": [{"sigmoid": None, "name": "q"},
                                  {"transpose": {"dim0": -2, "dim1": -1}, "from": "input", "name": "kt"},
                                  {"matmul": None, "from": ["q", "kt"], "name": "bias"},
                                  {"baddbmm": {"beta": 0.5, "alpha": 0.125}, "from": ["bias", "q", "kt"]}]},
    {"input": [10, 8], "layers": [{"parameter": {"shape": [1, 10]}, "name": "bias"},
                                  {"transpose": {"dim0": -2, "dim1": -1}, "from": "input", "name": "kt"},
                                  {"baddbmm": None, "from": ["bias", "input", "kt"]}]},
    # torch.cdist: a vector quantizer's distances from 30 rows to a codebook of 40 (the matrix-product
    # path, past 25 rows), the direct kernel on few rows and at p = 1, and the product path asked for
    {"input": [30, 3], "layers": [{"parameter": {"shape": [40, 3]}, "name": "codebook"},
                                  {"cdist": None, "from": ["input", "codebook"]}]},
    {"input": [4, 10, 8], "layers": [{"relu": None, "name": "r"}, {"cdist": None, "from": ["input", "r"]}]},
    {"input": [30, 6], "layers": [{"sigmoid": None, "name": "s"}, {"cdist": {"p": 1.0}, "from": ["input", "s"]}]},
    {"input": [7, 5], "layers": [{"relu": None, "name": "r"},
                                 {"cdist": {"compute_mode": "use_mm_for_euclid_dist"}, "from": ["input", "r"]}]},
    # ConvNeXt V2's global response norm, channels last: x + addcmul(bias, weight, x · x_n)
    {"input": [5, 5, 8], "layers": [{"norm": {"p": 2, "dim": [1, 2], "keepdim": True}, "name": "g"},
                                    {"mean": {"dim": -1, "keepdim": True}, "name": "m"},
                                    {"add": {"other": 1e-6}, "name": "me"},
                                    {"div": None, "from": ["g", "me"], "name": "n"},
                                    {"mul": None, "from": ["input", "n"], "name": "xn"},
                                    {"parameter": {"shape": [1, 1, 8]}, "name": "w"},
                                    {"parameter": {"shape": [1, 1, 8]}, "name": "b"},
                                    {"addcmul": {"value": 0.5}, "from": ["b", "w", "xn"], "name": "y"},
                                    {"add": None, "from": ["input", "y"]}]},
    # filters given as the second input (timm's weight-standardized convs: F.conv2d(x, weight)), made from
    # 6·4·3·3 parameters, and a fixed blur filter kept as a buffer, one per channel
    {"input": [4, 10, 10], "layers": [{"constant": {"shape": [6, 4, 3, 3], "params": 216}, "name": "w"},
                                      {"conv2d": {"out_channels": 6, "kernel_size": 3, "padding": 1},
                                       "from": ["input", "w"], "name": "c"},
                                      {"parameter": {"shape": [6, 1, 3, 3], "buffer": True}, "name": "blur"},
                                      {"conv2d": {"out_channels": 6, "kernel_size": 3, "stride": 2, "groups": 6,
                                                  "bias": False}, "from": ["c", "blur"]}]},
]


CROSS_ATTENTION = {"input": [9, 12], "layers": [
    {"linear": {"out_features": 20}, "name": "value"},
    {"narrow": {"dim": 1, "start": 0, "length": 6}, "from": "input"},
    {"linear": {"out_features": 16}, "name": "query"},
    {"multiheadattention": {"num_heads": 4, "batch_first": True, "kdim": 12, "vdim": 20},
     "from": ["query", "input", "value"]}]}


PRODUCT_IDS = ["attention", "attention-mask", "attention-grouped", "matmul", "matmul-operator", "matmul-parameter",
               "matmul-vector-first", "matmul-vector-second", "indexselect", "einsum-parameter", "einsum-summed", "einsum-outer",
               "einsum-position-bias", "einsum-batched-product", "einsum-rounded", "baddbmm-scaled", "baddbmm-parameter",
               "cdist-codebook", "cdist-direct",
               "cdist-p1", "cdist-products", "global-response-norm",
               "conv-given-filters"]


@pytest.mark.parametrize("spec", PRODUCTS, ids=PRODUCT_IDS)
def test_products_match_torch(spec):
    compare(build_graph(spec, "<test>", {}))


def test_cross_attention_matches_torch():
    compare(build_graph(CROSS_ATTENTION, "<test>", {}))


# the weights nn.MultiheadAttention returns beside its output (averaged over the heads), both read on: a key
# more for add_bias_kv, and one for add_zero_attn
WEIGHTED = {"input": [7, 16], "layers": [
    {"multiheadattention": {"num_heads": 4, "batch_first": True, "add_bias_kv": True, "add_zero_attn": True},
     "name": "attention"},
    {"attentionweights": {"keys": 9}, "from": "attention", "name": "weights"},
    {"flatten": None, "from": "weights"}, {"linear": {"out_features": 3}, "name": "read_weights"},
    {"flatten": None, "from": "attention"}, {"linear": {"out_features": 3}, "name": "read_output"},
    {"add": None, "from": ["read_weights", "read_output"]}]}


def test_attention_weights_match_torch():
    # torch.nn.MultiheadAttention(16, 4, add_bias_kv=True, add_zero_attn=True) on 7 tokens: weights 7 × 9 a sample
    graph = build_graph(WEIGHTED, "<test>", {})
    compare(graph, batch=3)
    from cnncalc.figures import analyze

    assert analyze(graph).layers[2].output_shape == (7, 9)


def test_each_heads_weights_match_torch():
    # average_attn_weights=False: the weights each head's, heads × L × S per sample, read on
    heads = {"num_heads": 4, "average_attn_weights": False}
    spec = {**WEIGHTED, "layers": [{**WEIGHTED["layers"][0], "multiheadattention": {
        **WEIGHTED["layers"][0]["multiheadattention"], **heads}},
        {**WEIGHTED["layers"][1], "attentionweights": {"keys": 9, **heads}}, *WEIGHTED["layers"][2:]]}
    graph = build_graph(spec, "<test>", {})
    compare(graph, batch=3)
    from cnncalc.figures import analyze

    assert analyze(graph).layers[2].output_shape == (4, 7, 9)
    from cnncalc.errors import SpecError

    with pytest.raises(SpecError, match="need num_heads"):
        analyze(build_graph({**spec, "layers": [spec["layers"][0], {**spec["layers"][1], "attentionweights": {
            "keys": 9, "average_attn_weights": False}}]}, "<test>", {}))


def test_cross_attention_on_a_memory_matches_torch():
    # two operands: the query, then one tensor as key and value (a decoder's memory, half as long)
    compare(build_graph(_attending("memory", {"num_heads": 4}, (12, 16)), "<test>", {}), batch=2)


def _attending(operands: str, args: dict, shape: tuple[int, int]) -> dict:
    """A spec of multi-head attention after a linear, on itself ("self"), on a memory half as long ("memory":
    key and value one tensor), on a memory of 12 features ("narrow memory": projected apart), or on three tensors
    ("three": keys of 12 features, values of 20), a linear head after it."""
    length, features = shape
    branches = {"self": [], "memory": [{"narrow": {"dim": 1, "start": 0, "length": length // 2}, "from": "input",
                                        "name": "memory"}],
                "narrow memory": [{"linear": {"out_features": 12}, "from": "input", "name": "memory"}],
                "three": [{"linear": {"out_features": 12}, "from": "input", "name": "k"},
                          {"linear": {"out_features": 20}, "from": "input", "name": "v"}]}[operands]
    attended = {"self": ["q"], "memory": ["q", "memory"], "narrow memory": ["q", "memory"],
                "three": ["q", "k", "v"]}[operands]
    dims = {"three": {"kdim": 12, "vdim": 20}, "narrow memory": {"kdim": 12, "vdim": 12}}.get(operands, {})
    return {"input": list(shape), "layers": [
        {"linear": {"out_features": features}, "name": "q"}, *branches,
        {"multiheadattention": {"batch_first": True, **dims, **args}, "from": attended},
        {"linear": {"out_features": 10}}]}


# Memory: cnncalc's prediction against torch's CPU allocator (cnncalc.verify.memory: the profiler's records)
# over an inference pass and a steady-state training step, float32, as for the recurrent layers. Each case
# takes another of torch's paths: inference by the fused _native_multi_head_attention (self-attention, even
# heads) or the general path (odd heads, bias_kv, a memory, three operands); training by bmm where the weights
# are asked for (the default), by scaled_dot_product_attention's fused kernel, or with dropout by its math path
ATTENTION_MEMORY = [
    ("self", {"num_heads": 4}, (32, 64), "adam"),
    ("self", {"num_heads": 8, "dropout": 0.1}, (96, 32), "sgd"),
    ("self", {"num_heads": 4, "need_weights": False}, (96, 32), "adam"),
    ("self", {"num_heads": 4, "need_weights": False, "dropout": 0.1}, (32, 64), "adam"),
    ("self", {"num_heads": 3}, (24, 48), "sgd"),
    ("self", {"num_heads": 2}, (16, 128), "sgd"),  # its projections' gradients one at a time: 0.862 all at once
    ("self", {"num_heads": 4, "add_bias_kv": True, "add_zero_attn": True, "dropout": 0.1}, (24, 32), "adam"),
    ("memory", {"num_heads": 8, "need_weights": False}, (48, 32), "adam"),
    ("memory", {"num_heads": 4, "dropout": 0.1}, (32, 64), "sgd"),
    ("narrow memory", {"num_heads": 4}, (20, 32), "adam"),
    ("three", {"num_heads": 4}, (16, 32), "adam"),
    ("three", {"num_heads": 2, "need_weights": False, "add_bias_kv": True}, (16, 32), "sgd"),
]


@pytest.mark.parametrize("operands,args,shape,optimizer", ATTENTION_MEMORY,
                         ids=[f"{case[0]}-{index}" for index, case in enumerate(ATTENTION_MEMORY)])
def test_attention_memory_follows_torch(operands, args, shape, optimizer):
    # inference to the byte; a training step within 10% (its backward's temporaries are fitted)
    from cnncalc.figures import analyze
    from cnncalc.verify.build import build_model
    from cnncalc.verify.memory import check_memory

    graph = build_graph(_attending(operands, args, shape), "<test>", {})
    inference, training = check_memory(graph, build_model(graph), analyze(graph, 4), lambda text: None, optimizer)
    assert inference.predicted == inference.measured and training.ok, [inference.as_dict(), training.as_dict()]


@pytest.mark.parametrize("given,read", [(["q", "q", "q"], ("q",)), (["q", "q"], ("q",)), (["q", "m", "m"], ("q", "m")),
                                        (["q", "q", "m"], ("q", "q", "m"))])
def test_a_tensor_given_as_several_operands_is_read_once(given, read):
    # one tensor as query, key and value takes torch's fused inference path, as self-attention does (an import
    # before reading attn(x, x, x) once wrote from: [q, q, q]); a spec saying so is read as the same layer
    from cnncalc.figures import analyze
    from cnncalc.verify.build import build_model
    from cnncalc.verify.memory import check_memory

    memory = [{"linear": {"out_features": 32}, "from": "input", "name": "m"}] if "m" in given else []
    spec = {"input": [16, 32], "layers": [{"linear": {"out_features": 32}, "name": "q"}, *memory,
                                          {"multiheadattention": {"batch_first": True, "num_heads": 4}, "from": given,
                                           "name": "attention"}]}
    graph = build_graph(spec, "<test>", {})
    assert next(node.inputs for node in graph.nodes if node.name == "attention") == read
    inference, _ = check_memory(graph, build_model(graph), analyze(graph, 2), lambda text: None, "sgd")
    assert inference.predicted == inference.measured


@pytest.mark.parametrize("given", [["input", "input", "input"], ["q", "kv", "kv", "mask"]])
def test_scaled_dot_product_attention_keeps_its_operands(given):
    # F.scaled_dot_product_attention takes query, key and value apart, then a mask: none is read once
    spec = {"input": [4, 10, 8], "layers": [{"relu": None, "name": "q"}, {"sigmoid": None, "from": "input", "name": "kv"},
                                            {"parameter": {"shape": [4, 10, 10]}, "name": "mask"},
                                            {"scaleddotproductattention": None, "from": given, "name": "attention"}]}
    graph = build_graph(spec, "<test>", {})
    assert graph.nodes[-1].inputs == tuple(given)


def test_a_repeated_block_reads_its_operands_once_in_every_copy():
    spec = {"input": [16, 32], "blocks": {"attend": {"layers": [
                {"linear": {"out_features": 32}, "name": "q"},
                {"multiheadattention": {"batch_first": True, "num_heads": 4}, "from": ["q", "q", "q"],
                 "name": "attention"}]}},
            "layers": [{"attend": None, "repeat": 3, "name": "block"}]}
    graph = build_graph(spec, "<test>", {})
    assert [node.inputs for node in graph.nodes if node.kind == "multiheadattention"] == [
        (f"block.{index}.q",) for index in range(3)]


def test_a_kind_taking_three_or_more_inputs_says_so():
    from cnncalc.layers import REGISTRY

    layer = REGISTRY["scaleddotproductattention"]
    assert layer.wrong_inputs(layer.normalize({}), 1) == "takes three or more inputs"


def test_attention_on_an_input_requiring_no_grad_is_an_estimate():
    # the fit of its backward is taken on a tracked input; on the model's own input torch's backward holds more
    from cnncalc.figures import analyze
    from cnncalc.figures.memory import memory

    reason = "its input requires no grad"
    for layers, said in (([], True), ([{"linear": {"out_features": 32}}], False)):
        graph = build_graph({"input": [16, 32], "layers": [*layers, {"multiheadattention": {"num_heads": 4,
                                                                                            "batch_first": True}}]},
                            "<test>", {})
        assert any(reason in estimate for estimate in memory(graph, analyze(graph, 2)).estimate) == said


def test_a_spec_says_its_mask_holds_floats():
    # attn_mask: float, an additive mask of floats, keeps torch off its fused inference path, whose q, k, v and
    # output the general path holds beside its own (torch's measure: tests/verify/test_memory.py, float-mask)
    from cnncalc.figures import analyze
    from cnncalc.figures.memory import memory

    def peak(given) -> int:
        spec = {"input": [24, 32], "layers": [
            {"linear": {"out_features": 32}, "name": "q"}, {"transpose": {"dim0": 1, "dim1": 2}, "name": "keys"},
            {"matmul": None, "from": ["q", "keys"], "name": "bias"},
            {"multiheadattention": {"batch_first": True, "num_heads": 4, "need_weights": False, "attn_mask": given},
             "from": ["q", "bias"]}]}
        graph = build_graph(spec, "<test>", {})
        return memory(graph, analyze(graph, 2)).peak_inference_bytes

    assert peak("float") > peak(True)
