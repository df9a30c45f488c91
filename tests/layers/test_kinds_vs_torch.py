"""Every layer kind, over a spread of arguments, against a real torch forward pass.

Golden figures: torch.nn modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs.
"""
from __future__ import annotations

import pytest

from cnncalc.errors import SpecError
from cnncalc.figures import analyze
from cnncalc.layers import REGISTRY
from cnncalc.spec import build_graph
from conftest import compare, one_layer

torch = pytest.importorskip("torch")

CASES = [
    ("conv1d", {"out_channels": 8, "kernel_size": 3}, (4, 20)),
    ("conv1d", {"out_channels": 6, "kernel_size": 5, "stride": 2, "padding": 2,
                "dilation": 2, "groups": 2, "bias": False}, (4, 33)),
    ("conv2d", {"out_channels": 10, "kernel_size": 5, "padding": 2}, (3, 32, 32)),
    ("conv2d", {"out_channels": 16, "kernel_size": [3, 5], "stride": [2, 1], "padding": [1, 0],
                "dilation": [1, 2], "groups": 4}, (8, 17, 19)),
    ("conv2d", {"out_channels": 8, "kernel_size": 4, "padding": "same", "dilation": 3}, (2, 11, 9)),
    ("conv2d", {"out_channels": 8, "kernel_size": 3, "padding": "valid"}, (2, 5, 5)),
    ("conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1, "padding_mode": "reflect"}, (2, 6, 6)),
    ("conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 2, "padding_mode": "circular"}, (2, 6, 6)),
    ("conv2d", {"out_channels": 32, "kernel_size": 3, "groups": 32, "padding": 1}, (32, 7, 7)),
    ("conv3d", {"out_channels": 4, "kernel_size": [2, 3, 3], "stride": 2, "padding": 1}, (2, 5, 8, 8)),
    ("convtranspose1d", {"out_channels": 3, "kernel_size": 4, "stride": 2, "padding": 1}, (6, 10)),
    ("convtranspose2d", {"out_channels": 2, "kernel_size": 2, "stride": 2}, (4, 7, 7)),
    ("convtranspose2d", {"out_channels": 6, "kernel_size": 3, "stride": 3, "padding": 1,
                         "output_padding": 2, "groups": 2, "dilation": 2, "bias": False}, (4, 5, 6)),
    ("convtranspose3d", {"out_channels": 2, "kernel_size": 3, "stride": [1, 2, 2]}, (3, 3, 4, 4)),
    ("maxpool1d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}, (3, 10)),
    ("maxpool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, (4, 112, 112)),
    ("maxpool2d", {"kernel_size": 2, "stride": 2, "ceil_mode": True}, (4, 7, 9)),
    ("maxpool2d", {"kernel_size": 3, "stride": 3, "padding": 1, "ceil_mode": True, "dilation": 2}, (1, 10, 13)),
    ("maxpool3d", {"kernel_size": 2}, (2, 4, 6, 6)),
    ("avgpool1d", {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True}, (2, 11)),
    ("avgpool2d", {"kernel_size": 2, "stride": 2}, (6, 28, 28)),
    ("avgpool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                   "count_include_pad": False, "divisor_override": 2}, (3, 8, 8)),
    ("avgpool3d", {"kernel_size": [1, 2, 2]}, (2, 3, 4, 4)),
    ("adaptiveavgpool1d", {"output_size": 5}, (3, 17)),
    ("adaptiveavgpool2d", {"output_size": [7, None]}, (3, 10, 9)),
    ("adaptiveavgpool3d", {"output_size": 1}, (3, 2, 4, 4)),
    ("adaptivemaxpool1d", {"output_size": 3}, (3, 7)),
    ("adaptivemaxpool2d", {"output_size": 2}, (3, 5, 5)),
    ("adaptivemaxpool3d", {"output_size": [1, 2, 3]}, (3, 2, 4, 6)),
    ("linear", {"out_features": 7}, (12,)),
    ("linear", {"out_features": 5, "bias": False}, (3, 4, 9)),
    ("flatten", None, (3, 4, 5)),
    ("flatten", {"start_dim": 2, "end_dim": 3}, (3, 4, 5)),
    ("batchnorm1d", None, (6,)),
    ("batchnorm1d", {"affine": False}, (6, 10)),
    ("batchnorm2d", None, (8, 5, 5)),
    ("batchnorm2d", {"track_running_stats": False}, (8, 5, 5)),
    ("batchnorm3d", {"momentum": None}, (3, 2, 2, 2)),
    ("layernorm", {"normalized_shape": 10}, (4, 10)),
    ("rmsnorm", {"normalized_shape": 10}, (4, 10)),
    ("rmsnorm", {"normalized_shape": [4, 4], "elementwise_affine": False, "eps": 1e-6}, (3, 4, 4)),
    ("layernorm", {"normalized_shape": [3, 4, 4], "bias": False}, (3, 4, 4)),
    ("layernorm", {"normalized_shape": [4], "elementwise_affine": False}, (2, 4)),
    ("instancenorm1d", None, (3, 9)),
    ("instancenorm2d", {"affine": True, "track_running_stats": True}, (3, 5, 5)),
    ("instancenorm3d", {"affine": True}, (2, 3, 3, 3)),
    ("groupnorm", {"num_groups": 4}, (8, 5, 5)),
    ("groupnorm", {"num_groups": 3, "affine": False}, (6, 10)),
    ("localresponsenorm", {"size": 5, "alpha": 0.0001, "beta": 0.75, "k": 2}, (8, 6, 6)),
    ("layerscale", {"init_values": 0.1}, (8, 6, 6)),
    ("dropout", {"p": 0.3}, (5, 5)),
    ("dropout1d", None, (4, 9)),
    ("dropout2d", {"p": 0.1}, (4, 5, 5)),
    ("dropout3d", None, (4, 2, 5, 5)),
    ("alphadropout", None, (7,)),
    ("relu", {"inplace": True}, (3, 4, 4)),
    ("relu6", None, (3, 4)),
    ("leakyrelu", {"negative_slope": 0.2}, (5,)),
    ("elu", {"alpha": 0.5}, (2, 3, 3)),
    ("gelu", {"approximate": "tanh"}, (8,)),
    ("silu", None, (2, 3)),
    ("sigmoid", None, (2, 3)),
    ("tanh", None, (2, 3)),
    ("hardswish", None, (2, 3)),
    ("hardsigmoid", None, (2, 3)),
    ("softmax", {"dim": 1}, (10,)),
    ("logsoftmax", {"dim": -1}, (3, 10)),
    ("identity", None, (3, 3)),
    ("zeropad1d", {"padding": [1, 2]}, (3, 5)),
    ("zeropad2d", {"padding": 2}, (3, 5, 5)),
    ("zeropad2d", {"padding": [1, 0, 2, -1]}, (3, 5, 5)),
    ("constantpad2d", {"padding": [0, 1, 0, 1], "value": float("-inf")}, (3, 5, 5)),
    ("constantpad1d", {"padding": 2, "value": 1.5}, (3, 5)),
    ("constantpad3d", {"padding": [1, 0, 0, 1, 2, 2], "value": -2}, (2, 3, 4, 4)),
    ("zeropad3d", {"padding": 1}, (2, 3, 3, 3)),
    ("zeropad3d", {"padding": [0, 0, 1, 1, 2, 0]}, (5, 5, 4)),  # channels-last: F.pad(x, (0, 0, 0, r, 0, b))
    ("upsample", {"scale_factor": 2}, (3, 5, 5)),
    ("upsample", {"size": [9, 11], "mode": "bilinear", "align_corners": True}, (3, 5, 5)),
    ("upsample", {"scale_factor": 1.5, "mode": "bilinear"}, (3, 7, 5)),
    ("upsample", {"scale_factor": [2, 3], "mode": "nearest"}, (2, 3, 4)),
    ("upsample", {"scale_factor": 2, "mode": "linear"}, (3, 7)),
    ("upsample", {"size": 4, "mode": "trilinear"}, (1, 2, 3, 2)),
    ("upsample", {"scale_factor": 2, "mode": "bicubic"}, (1, 3, 3)),
    ("pixelshuffle", {"upscale_factor": 2}, (12, 4, 5)),
    ("pixelunshuffle", {"downscale_factor": 2}, (3, 4, 6)),
    ("channelshuffle", {"groups": 3}, (6, 4, 4)),
    ("unfold", {"kernel_size": 3, "padding": 1, "stride": 2}, (4, 7, 8)),
    ("unfold", {"kernel_size": [2, 3], "dilation": [1, 2]}, (3, 6, 9)),
    ("fold", {"output_size": [5, 6], "kernel_size": 2}, (12, 20)),
    ("fold", {"output_size": 7, "kernel_size": 3, "padding": 1, "stride": 2}, (18, 16)),
    ("reshape", {"shape": [-1, 400]}, (16, 5, 5)),
    ("reshape", {"shape": ["batch", 4, -1, 3]}, (6, 4, 4)),
    ("mean", {"dim": [2, 3]}, (8, 5, 7)),
    ("mean", {"dim": -1, "keepdim": True}, (3, 4, 6)),
    ("sum", {"dim": 1}, (5, 4, 4)),
    ("amax", {"dim": [-2, -1], "keepdim": True}, (4, 3, 5)),
    ("norm", {"p": 2, "dim": [1, 2], "keepdim": True}, (6, 5, 4)),  # ConvNeXt V2's, channels last
    ("norm", {"dim": -1}, (3, 7)),
    ("norm", {"p": 1, "dim": [2, 3]}, (4, 5, 6)),
    ("reflectionpad2d", {"padding": [1, 2, 3, 0]}, (3, 8, 8)),
    ("reflectionpad1d", {"padding": 3}, (2, 5)),
    ("reflectionpad3d", {"padding": 1}, (2, 3, 4, 4)),
    ("replicationpad1d", {"padding": [0, 4]}, (3, 6)),
    ("replicationpad2d", {"padding": 2}, (3, 5, 5)),
    ("replicationpad3d", {"padding": [1, 0, 0, 1, 2, 2]}, (2, 3, 4, 4)),
    ("normalize", None, (4, 6, 6)),
    ("normalize", {"p": 1.0, "dim": -1}, (4, 6)),
    ("stochasticdepth", {"p": 0.2}, (4, 6, 6)),
    ("stochasticdepth", {"p": 0.1, "mode": "batch"}, (10,)),
    ("narrow", {"dim": 1, "start": 2, "length": 3}, (8, 5, 5)),
    ("narrow", {"dim": -1, "start": -4, "length": 3}, (3, 6, 7)),
    ("slice", {"dim": 2, "start": 1, "step": 2}, (3, 8, 8)),
    ("slice", {"dim": -1, "start": 1, "end": -2, "step": 3}, (3, 6, 9)),
    ("slice", {"dim": 1, "end": 2}, (5, 4, 4)),
    ("select", {"dim": 1, "index": 0}, (5, 7)),
    ("select", {"dim": -1, "index": -1}, (3, 4, 6)),
    ("permute", {"dims": [0, 2, 3, 1]}, (4, 5, 6)),
    ("permute", {"dims": [0, -1, 1, 2]}, (4, 5, 6)),
    ("transpose", {"dim0": 1, "dim1": 2}, (3, 8)),
    ("contiguous", None, (3, 4, 5)),
    ("clone", None, (2, 6)),
    ("neg", None, (3, 4, 5)),
    ("rsqrt", None, (6, 4)),
    ("sqrt", None, (2, 3, 3)),
    ("exp", None, (5,)),
    ("sin", None, (4, 3)),
    ("cos", None, (2, 5)),
    ("prelu", None, (3, 6, 6)),
    ("prelu", {"num_parameters": 4, "init": 0.1}, (4, 5)),
    ("clamp", {"min": -0.5, "max": 3.0}, (3, 4, 4)),
    ("clamp", {"max": 2.0}, (6,)),
    ("roll", {"shifts": [-3, 2], "dims": [1, 2]}, (6, 7, 4)),
    ("roll", {"shifts": 1, "dims": -1}, (3, 5)),
    ("unsqueeze", {"dim": -1}, (3, 4, 5)),
    ("unsqueeze", {"dim": 1}, (6,)),
    ("squeeze", {"dim": 2}, (3, 1, 5)),
    ("squeeze", {"dim": -1}, (3, 4)),
    ("expand", {"size": [-1, 4, -1, 6]}, (4, 1, 6)),
    ("tile", {"dims": [1, 2, 1, 3]}, (4, 2, 5)),
    ("parameter", {"shape": [17, 8]}, (3, 4, 4)),
    ("parameter", {"shape": [1, 1, 6], "buffer": True}, (3, 4, 4)),
    ("constant", {"shape": [4, 5, 5]}, (3, 4, 4)),
    ("constant", {"shape": [2, 9, 9], "params": 338, "buffers": 81}, (3, 4, 4)),
    ("add", {"other": 1.5}, (3, 4, 4)),
    ("sub", {"other": 2}, (6,)),
    ("mul", {"other": 0.5}, (3, 4, 4)),
    ("div", {"other": 6.0}, (2, 5)),
    ("pow", {"other": 2}, (3, 4, 4)),
    ("ne", {"other": 0.0}, (3, 4, 4)),
    ("eq", {"other": 1.5}, (6,)),
    ("cumsum", {"dim": 1}, (3, 5)),
    ("cumsum", {"dim": -1}, (2, 4, 6)),
    ("multiheadattention", {"num_heads": 4, "batch_first": True}, (10, 64)),
    ("multiheadattention", {"num_heads": 2, "batch_first": True, "bias": False, "add_bias_kv": True,
                            "add_zero_attn": True}, (7, 32)),
    ("lstm", {"hidden_size": 16, "batch_first": True, "bidirectional": True}, (7, 12)),
    ("lstm", {"hidden_size": 16, "batch_first": True, "num_layers": 2, "proj_size": 5, "bias": False}, (7, 12)),
    ("lstm", {"hidden_size": 8, "batch_first": True, "num_layers": 3, "bidirectional": True, "proj_size": 3}, (4, 5)),
    ("gru", {"hidden_size": 10, "batch_first": True, "num_layers": 2, "bidirectional": True}, (5, 6)),
    ("rnn", {"hidden_size": 10, "batch_first": True, "nonlinearity": "relu"}, (5, 6)),
]
JOIN_CASES = [
    # (kind, args, input shape, branch a, branch b)
    ("add", None, (4, 6, 6), {"conv2d": {"out_channels": 4, "kernel_size": 3, "padding": 1}}, {"relu": None}),
    ("mul", None, (4, 6, 6), {"adaptiveavgpool2d": {"output_size": 1}}, {"relu": None}),
    ("sub", None, (4, 6, 6), {"avgpool2d": {"kernel_size": 3, "stride": 1, "padding": 1}}, {"identity": None}),
    ("div", None, (4, 6, 6), {"relu": None}, {"sigmoid": None}),
    ("stack", {"dim": -1}, (4, 6, 6), {"relu": None}, {"sigmoid": None}),
    ("pow", None, (4, 6, 6), {"sigmoid": None}, {"relu": None}),
    ("concat", None, (4, 6, 6), {"conv2d": {"out_channels": 3, "kernel_size": 1}}, {"relu": None}),
    ("concat", {"dim": 3}, (4, 6, 6), {"maxpool2d": {"kernel_size": [1, 2]}}, {"relu": None}),
    ("concat", {"dim": -2}, (4, 6, 6), {"maxpool2d": {"kernel_size": [2, 1]}}, {"relu": None}),
    ("crop", None, (2, 9, 9), {"identity": None}, {"conv2d": {"out_channels": 2, "kernel_size": 3}}),
    ("ne", None, (4, 6, 6), {"relu": None}, {"sigmoid": None}),
]
ONE_INPUT_JOINS = [("concat", None, (4, 6, 6))]  # torch.cat([x], 1): a copy
# query, key and value from different branches: 6 queries of 16 features, 9 keys of 12, values of 20
# queries, keys and values of 4 heads; keys transposed for a plain product
PRODUCTS = [
    {"input": [4, 10, 8], "layers": [{"relu": None, "name": "q"}, {"sigmoid": None, "from": "input", "name": "k"},
                                     {"linear": {"out_features": 6}, "from": "input", "name": "v"},
                                     {"scaleddotproductattention": {"is_causal": True}, "from": ["q", "k", "v"]}]},
    # a relative position bias of 4 heads as attn_mask
    {"input": [4, 10, 8], "layers": [{"parameter": {"shape": [4, 10, 10]}, "name": "bias"},
                                     {"scaleddotproductattention": None, "from": ["input", "input", "input", "bias"]}]},
    {"input": [4, 10, 8], "layers": [{"transpose": {"dim0": -2, "dim1": -1}, "name": "kt"},
                                     {"matmul": None, "from": ["input", "kt"]}]},
    {"input": [10, 8], "layers": [{"parameter": {"shape": [8, 5]}, "name": "w"},
                                  {"matmul": None, "from": ["input", "w"]}]},
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


@pytest.mark.parametrize("kind,args,shape", ONE_INPUT_JOINS)
def test_join_of_one_input_matches_torch(kind, args, shape):
    compare(build_graph({"input": list(shape), "layers": [{"relu": None}, {kind: args}]}, "<test>", {}))


@pytest.mark.parametrize("spec", PRODUCTS, ids=["attention", "attention-mask", "matmul", "matmul-parameter",
                                                 "indexselect", "einsum-parameter", "einsum-summed",
                                                 "einsum-outer", "einsum-position-bias", "einsum-batched-product",
                                                 "einsum-rounded", "global-response-norm", "conv-given-filters"])
def test_products_match_torch(spec):
    compare(build_graph(spec, "<test>", {}))


def test_cross_attention_matches_torch():
    compare(build_graph(CROSS_ATTENTION, "<test>", {}))


# lookup tables read int64 token ids (a per-sample sequence, or a bag per sample); RoBERTa's positions
# from its ids (ids.ne(pad), cumsum, times the mask, as long, plus pad) and its token types gathered
# at them
LOOKUPS = [
    ("embedding", {"num_embeddings": 50, "embedding_dim": 8}, (12,)),
    ("embedding", {"num_embeddings": 30, "embedding_dim": 6, "padding_idx": -1}, (3, 5)),
    ("embeddingbag", {"num_embeddings": 40, "embedding_dim": 7}, (9,)),
    ("embeddingbag", {"num_embeddings": 40, "embedding_dim": 7, "mode": "max", "padding_idx": 0}, (9,)),
]


@pytest.mark.parametrize("kind,args,shape", LOOKUPS, ids=[f"{c[0]}-{i}" for i, c in enumerate(LOOKUPS)])
@pytest.mark.parametrize("batch", [1, 3])
def test_lookup_tables_match_torch(kind, args, shape, batch):
    spec = {"input": list(shape), "input_dtype": "int64", "layers": [{kind: args}, {"linear": {"out_features": 4}}]}
    compare(build_graph(spec, "<test>", {}), batch)


POSITIONS = {"input": [12], "input_dtype": "int64", "layers": [
    {"ne": {"other": 1}, "name": "mask"}, {"cumsum": {"dim": 1}, "name": "running"},
    {"mul": None, "from": ["running", "mask"]},
    {"add": {"other": 1}, "name": "positions"},
    {"parameter": {"shape": [12], "buffer": True}, "name": "types"},
    {"gather": {"dim": 1}, "from": ["types", "input"]}]}


def test_positions_numbered_from_ids_match_torch():
    compare(build_graph(POSITIONS, "<test>", {}))


@pytest.mark.parametrize("args,message", [
    ({"num_embeddings": 10, "embedding_dim": 4, "padding_idx": 10}, "padding_idx 10 is outside the table's 10 rows"),
    ({"num_embeddings": 10, "embedding_dim": 4, "padding_idx": -11}, "padding_idx -11 is outside"),
])
def test_a_padding_row_outside_the_table_is_refused_as_torch_refuses_it(args, message):
    with pytest.raises(AssertionError):  # torch: "Padding_idx must be within num_embeddings"
        torch.nn.Embedding(**args)
    with pytest.raises(SpecError, match=message):
        analyze(build_graph({"input": [5], "input_dtype": "int64", "layers": [{"embedding": args}]}, "<t>", {}))


def test_every_kind_has_a_case():
    products = {"matmul", "scaleddotproductattention", "einsum", "indexselect", "addcmul", "gather"}
    # uncounted computes nothing of its own: it is held to torch where the importer makes it
    # (test_import_vocabulary.py: test_what_no_kind_states_is_a_row_not_counted)
    covered = {kind for kind, *_ in CASES + JOIN_CASES + LOOKUPS} | products | {"uncounted"}
    assert covered == set(REGISTRY)


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))


@pytest.mark.parametrize("kind,args,shape,left,right", JOIN_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(JOIN_CASES)])
def test_join_matches_torch(kind, args, shape, left, right):
    layers = [{**left, "name": "a", "from": "input"}, {**right, "name": "b", "from": "input"},
              {kind: args, "from": ["a", "b"]}]
    compare(build_graph({"input": list(shape), "layers": layers}, "<test>", {}))


@pytest.mark.parametrize("batch", [1, 3])
def test_batch_scales_macs_and_activations(batch):
    compare(one_layer("conv2d", {"out_channels": 4, "kernel_size": 3}, (2, 8, 8),
                      [{"flatten": None}, {"linear": {"out_features": 3}}]), batch)


def test_frozen_layers_are_not_trainable():
    compare(one_layer("conv2d", {"out_channels": 4, "kernel_size": 3}, (2, 8, 8),
                      [{"batchnorm2d": None, "frozen": True}]))


def test_what_parameters_alone_make_is_made_once_per_batch():
    # a parameter and a product of parameters (a position bias) are one tensor for the whole batch:
    # torch counts their elements and MACs once at batch 3, not three times
    spec = {"input": [10, 8], "layers": [{"parameter": {"shape": [8, 5]}, "name": "w"},
                                         {"parameter": {"shape": [5, 5]}, "name": "p"},
                                         {"matmul": None, "from": ["w", "p"], "name": "wp"},
                                         {"matmul": None, "from": ["input", "wp"]}]}
    compare(build_graph(spec, "<test>", {}), batch=3)


# Arguments torch refuses at the input given, refused by cnncalc at load: torch's own error is the
# golden answer (softmax: "Dimension out of range"; F.pad circular: "Padding value causes wrapping
# around more than once").
REFUSED = [
    ("softmax", {"dim": 7}, (3, 8, 8), lambda torch: torch.nn.Softmax(dim=7)),
    ("softmax", {"dim": -5}, (3, 8, 8), lambda torch: torch.nn.Softmax(dim=-5)),
    ("logsoftmax", {"dim": -9}, (3, 8, 8), lambda torch: torch.nn.LogSoftmax(dim=-9)),
    ("logsoftmax", {"dim": 2}, (5,), lambda torch: torch.nn.LogSoftmax(dim=2)),
    ("conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 7, "padding_mode": "circular"}, (2, 6, 6),
     lambda torch: torch.nn.Conv2d(2, 4, 3, padding=7, padding_mode="circular")),
    ("conv1d", {"out_channels": 4, "kernel_size": 3, "padding": [6], "padding_mode": "circular"}, (2, 5),
     lambda torch: torch.nn.Conv1d(2, 4, 3, padding=6, padding_mode="circular")),
    ("conv1d", {"out_channels": 2, "kernel_size": 9, "padding": "same", "padding_mode": "circular"}, (2, 3),
     lambda torch: torch.nn.Conv1d(2, 2, 9, padding="same", padding_mode="circular")),
]
# and their edges, which torch takes: the last dim either way, circular padding as wide as the input
ACCEPTED_EDGES = [
    ("softmax", {"dim": -4}, (3, 8, 8)),
    ("logsoftmax", {"dim": 3}, (3, 8, 8)),
    ("conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 6, "padding_mode": "circular"}, (2, 6, 6)),
    ("conv1d", {"out_channels": 2, "kernel_size": 7, "padding": "same", "padding_mode": "circular"}, (2, 3)),
]


@pytest.mark.parametrize("kind,args,shape,module", REFUSED, ids=[f"{c[0]}-{i}" for i, c in enumerate(REFUSED)])
def test_what_torch_refuses_is_refused(kind, args, shape, module):
    import torch

    from cnncalc.errors import SpecError
    from cnncalc.figures import analyze

    with pytest.raises((IndexError, RuntimeError)):
        module(torch)(torch.zeros(1, *shape))
    with pytest.raises(SpecError):
        analyze(one_layer(kind, args, shape))


@pytest.mark.parametrize("kind,args,shape", ACCEPTED_EDGES, ids=[f"{c[0]}-{i}" for i, c in enumerate(ACCEPTED_EDGES)])
def test_the_edges_torch_takes_match_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))
