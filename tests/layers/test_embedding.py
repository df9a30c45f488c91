"""Lookup tables (cnncalc/layers/embedding.py) against a real torch
forward pass, over a spread of arguments.

Golden figures: torch.nn modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs.
"""
from __future__ import annotations

import pytest

from cnncalc.errors import SpecError
from cnncalc.figures import analyze
from cnncalc.spec import build_graph
from conftest import compare

torch = pytest.importorskip("torch")

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


# F.one_hot of ids, and of a router's choice (argmax over scores of 4 experts), int64 rows of classes
ONE_HOT = {"input": [12], "input_dtype": "int64", "layers": [
    {"onehot": {"num_classes": 5}, "name": "classes"},
    {"embedding": {"num_embeddings": 50, "embedding_dim": 8}, "from": "input"},
    {"linear": {"out_features": 4}}, {"argmax": {"dim": -1}}, {"onehot": {"num_classes": 4}}]}


@pytest.mark.parametrize("batch", [1, 3])
def test_one_hot_rows_match_torch(batch):
    compare(build_graph(ONE_HOT, "<test>", {}), batch)


@pytest.mark.parametrize("args,message", [
    ({"num_embeddings": 10, "embedding_dim": 4, "padding_idx": 10}, "padding_idx 10 is outside the table's 10 rows"),
    ({"num_embeddings": 10, "embedding_dim": 4, "padding_idx": -11}, "padding_idx -11 is outside"),
])
def test_a_padding_row_outside_the_table_is_refused_as_torch_refuses_it(args, message):
    with pytest.raises(AssertionError):  # torch: "Padding_idx must be within num_embeddings"
        torch.nn.Embedding(**args)
    with pytest.raises(SpecError, match=message):
        analyze(build_graph({"input": [5], "input_dtype": "int64", "layers": [{"embedding": args}]}, "<t>", {}))
