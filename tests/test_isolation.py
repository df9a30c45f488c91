"""Running the user's Python in a child process (cnncalc/isolation.py): only plain data crosses, one
child answers all that `check` asks of a file, and a model file read there gives the figures of the
module read in this process."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cnncalc.isolation import plain, unplain
from cnncalc.spec.limits import Limits
from cnncalc.spec.yamlfile import LineDict, LineList

from test_child import SPEC


@pytest.mark.slow  # 4 s: a child process imports torch
def test_a_model_file_read_in_a_child_gives_the_figures_of_the_module(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    import cnncalc

    (tmp_path / "model.py").write_text(
        "from torch import nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())\n"
        "    def forward(self, x):\n        return self.body(x).mean((2, 3))\n")
    monkeypatch.chdir(tmp_path)
    from_file = cnncalc.summary("model.py:Net", (3, 16, 16))
    namespace: dict = {}
    exec(compile((tmp_path / "model.py").read_text(), "model.py", "exec"), namespace)
    in_process = cnncalc.summary(namespace["Net"](), (3, 16, 16))  # a module object: read in this process
    assert from_file.to_dict()["totals"] == in_process.to_dict()["totals"]
    assert [row.name for row in from_file.layers] == [row.name for row in in_process.layers]
    assert [scope.name for scope in from_file.graph.nodes[0].scopes] == ["body"]
    held = cnncalc.summary("model.py:Net")  # no input: what it holds, read in a child too
    assert held.params == 3 * 8 * 9 + 8 + 16 and held.buffers == 17


def test_plain_data_crosses_and_nothing_else():
    entry = LineDict({"conv2d": {"out_channels": 4, "kernel_size": (3, 3)}, "name": "c"})
    entry.line = 7
    items = LineList([1, 2])
    items.lines = [3, 4]
    data = {"input": [3, 8, 8], "layers": [entry, "relu"], 1: None, "x": [1.5, float("inf"), True, items]}
    back = unplain(json.loads(json.dumps(plain(data, Limits()))))
    assert back == data and type(back["layers"][0]) is LineDict and back["layers"][0].line == 7
    assert back["layers"][0]["conv2d"]["kernel_size"] == (3, 3) and back["x"][3].lines == [3, 4]
    for value in (object(), {1, 2}, b"bytes", Path("x")):
        with pytest.raises(Exception, match="not|holds"):
            plain({"layers": [value]}, Limits())
    with pytest.raises(Exception, match="more than 300 digits"):
        plain(10 ** 400, Limits())
    for forged in ({"tuple": 1}, {"dict": [[[1], 2]]}, {"dict": [[1]]}, {"dict": [], "line": "7"}, {"x": 1}):
        with pytest.raises(ValueError):
            unplain(forged)


def test_a_python_spec_is_read_once_by_check(tmp_path, monkeypatch):
    """`check` asks a Python spec for its variants and each one's data: one child answers all."""
    import cnncalc.isolation as isolation
    from cnncalc.workflows.ci import check_paths

    (tmp_path / "family.py").write_text(SPEC + "variants = {'small': {'width': 2}, 'large': {'width': 8}}\n"
                                        "def spec(width=4):\n    return Spec([3, 8, 8], [Conv2d(width, 3)])\n")
    spawned = []
    original = isolation._spawn
    monkeypatch.setattr(isolation, "_spawn", lambda *args: spawned.append(1) or original(*args))
    checked = check_paths([str(tmp_path / "family.py")], {}, allow_python=True)
    assert [(result.model, result.params) for result in checked.results] == [("small", 56), ("large", 224)]
    assert len(spawned) == 1 and checked.exit_status == 0
    assert os.path.exists(tmp_path / "family.py")
