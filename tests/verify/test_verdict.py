"""A verification's verdicts and verify's exit policy, as plain records (torch-free): a figure is
checked against what was measured, memory within 10 %, and a model with operations cnncalc does not
count is not verified unless they are allowed, and then not its memory."""
from __future__ import annotations

import pytest

from cnncalc.model import load_graph
from cnncalc.verify.verdict import Admission, Check, MemoryCheck, Verification, admit
from conftest import run_cli

ODD = """name: odd
input: [3, 8, 8]
layers:
  - conv2d: {out_channels: 4, kernel_size: 3}
  - uncounted: {operation: cumsum, shape: [4, 6, 6]}
    name: cumsum
  - uncounted: {operation: histc, shape: [4, 6, 6]}
    name: histc
"""


def verification(checks=(), memory=()) -> Verification:
    return Verification(model="m", device="cpu", input_shape=(3, 8, 8), batch=1, dtype="float32", peers=(),
                        checks=tuple(checks), memory=tuple(memory))


def test_a_check_holds_when_the_figures_are_equal():
    assert Check("conv", "params", 112, 112).ok
    assert not Check("conv", "params", 112, 108).ok
    assert not Check("total", "output_shape", (4, 6, 6), (4, 6, 5)).ok


@pytest.mark.parametrize("predicted, measured, ok", [(100, 100, True), (100, 95, True), (100, 105, True),
                                                     (100, 120, False), (100, 80, False), (0, 5, False)])
def test_memory_holds_within_ten_percent(predicted, measured, ok):
    check = MemoryCheck("peak inference", predicted, measured)
    assert check.ok is ok
    assert check.as_dict()["ok"] is ok and check.as_dict()["measured"] == measured


def test_a_verification_fails_on_any_figure_or_memory_that_differs():
    good, bad = Check("conv", "params", 1, 1), Check("conv", "macs", 2, 3)
    assert verification([good]).exit_status == 0 and verification([good]).count == 1
    assert verification([good, bad]).failed == (bad,) and verification([good, bad]).exit_status == 1
    memory = MemoryCheck("peak inference", 100, 200)
    assert verification([good], [memory]).failed == (memory,) and verification([good], [memory]).exit_status == 1
    assert verification([good], [memory]).count == 2


def test_a_model_with_uncounted_operations_is_not_verified_unless_allowed(tmp_path):
    spec = tmp_path / "odd.yaml"
    spec.write_text(ODD)
    refused = admit(load_graph(str(spec)))
    assert refused == Admission(model="odd", uncounted=("cumsum", "histc"), allowed=False)
    assert refused.exit_status == 1
    assert refused.note == ("odd: 2 operations: cumsum, histc not counted, so not verified "
                            "(--allow-uncounted verifies the rest)")
    allowed = admit(load_graph(str(spec)), allow_uncounted=True)
    assert allowed.exit_status == 0
    assert allowed.note == "odd: 2 operations: cumsum, histc not counted: memory not checked"
    assert allowed.optimizer("adam") is None  # the build stands in zeros for them: memory is not the model's


def test_a_counted_model_is_verified_whole():
    admission = admit(load_graph("lenet5"), allow_uncounted=False)
    assert admission.uncounted == () and admission.exit_status == 0 and admission.note is None
    assert admission.optimizer("sgd") == "sgd"


def test_verify_refuses_before_it_needs_torch(tmp_path):
    spec = tmp_path / "odd.yaml"
    spec.write_text(ODD)
    result = run_cli("verify", str(spec))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == ("cnncalc: odd: 2 operations: cumsum, histc not counted, so not verified "
                             "(--allow-uncounted verifies the rest)\n")
