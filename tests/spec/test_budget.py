"""Budgets: quantities as people write them (25M, 200MB, 1.5GiB: decimal prefixes unless 'i'), read
exactly at any size, and a spec's `budget:` section read with its line."""
from __future__ import annotations

import pytest

from cnncalc.errors import SpecError
from cnncalc.spec.budget import BUDGETS, parse_quantity, read_budget
from cnncalc.spec.limits import Limits
from cnncalc.spec.yamlfile import load_yaml


@pytest.mark.parametrize("text, is_bytes, value", [
    ("25M", False, 25_000_000), ("4G", False, 4_000_000_000), ("1.5k", False, 1_500), ("7", False, 7),
    ("200MB", True, 200_000_000), ("1.5GiB", True, 1_610_612_736), ("1KiB", True, 1_024), ("2T", True, 2 * 10**12),
    (" 64 mb ", True, 64_000_000), ("9007199254740995", False, 9_007_199_254_740_995),  # 2^53 + 3: no float
    (1_000, False, 1_000), (2.5, False, 2), (0, True, 0),
])
def test_a_quantity_is_read_exactly(text, is_bytes, value):
    assert parse_quantity(text, is_bytes) == value


@pytest.mark.parametrize("value, is_bytes, message", [
    ("200MB", False, "cannot read the quantity '200MB' (write e.g. 25M)"),
    ("lots", True, "cannot read the quantity 'lots' (write e.g. 200MB)"),
    ("1.5.2M", False, "cannot read the quantity '1.5.2M'"),
    (-1, False, "a budget is a finite number ≥ 0, got -1"),
    (float("inf"), False, "a budget is a finite number ≥ 0, got inf"),
])
def test_what_is_no_quantity_is_refused(value, is_bytes, message):
    with pytest.raises(SpecError) as caught:
        parse_quantity(value, is_bytes)
    assert caught.value.message.startswith(message)


def test_the_section_is_read_with_its_line_and_its_expressions():
    data = load_yaml("name: net\nbudget:\n  max_params: ${width}M\n  max_peak_memory: 1GiB\n", "net.yaml")
    budget, line = read_budget(data["budget"], {"width": 25}, "net.yaml", 1)
    assert budget == {"max_params": 25_000_000, "max_peak_memory": 1 << 30} and line == 3
    assert read_budget(None, {}, "net.yaml", 1) == ({}, None)


@pytest.mark.parametrize("section, message", [
    ({"max_param": "1M"}, "unknown budget 'max_param' (did you mean 'max_params'?)"),
    ({"max_macs": "4GB"}, "budget max_macs: cannot read the quantity '4GB' (write e.g. 25M)"),
    ({"max_macs": "${nope}G"}, "budget max_macs: unknown parameter 'nope' (known: none)"),
    (["max_params"], "budget must map max_params, max_macs, max_activation_bytes, max_peak_memory, "
                     "max_training_memory or max_backward_macs to limits"),
])
def test_a_wrong_section_is_named(section, message):
    with pytest.raises(SpecError) as caught:
        read_budget(section, {}, "net.yaml", 2)
    assert caught.value.message == message and caught.value.file == "net.yaml"


def test_its_expressions_are_bounded_by_the_limits_given():
    with pytest.raises(SpecError, match=r"expression longer than 5 characters"):
        read_budget({"max_params": "${1000000}"}, {}, "net.yaml", 2, limits=Limits(expression_chars=5))


def test_every_budget_names_a_figure_and_whether_it_is_bytes():
    assert {key: is_bytes for key, (_, _, is_bytes) in BUDGETS.items()} == {
        "max_params": False, "max_macs": False, "max_activation_bytes": True, "max_peak_memory": True,
        "max_training_memory": True, "max_backward_macs": False}


def test_the_section_names_the_autocast_its_memory_budgets_hold_under():
    from cnncalc.figures.amp import Amp

    data = load_yaml("name: net\nbudget:\n  amp: cpu:bfloat16\n  max_training_memory: 1GB\n", "net.yaml")
    budget, _ = read_budget(data["budget"], {}, "net.yaml", 1)
    assert budget == {"amp": Amp(dtype="bfloat16", device="cpu"), "max_training_memory": 10**9}
    with pytest.raises(SpecError, match=r"budget amp: --amp takes float16 or bfloat16"):
        read_budget({"amp": "float32"}, {}, "net.yaml", 2)
