"""`--memory` as `cnncalc fit` reads it: bytes with an unmistakable unit (GiB = 1024³, GB = 1000³), read
exactly, or a GPU by name at what nvidia-smi reports for it."""
from __future__ import annotations

import re

import pytest

from cnncalc.errors import SpecError
from cnncalc.figures.devices import DEVICES, memory_budget
from conftest import run_cli


@pytest.mark.parametrize(("text", "expected"), [
    ("24GiB", 24 * 2**30), ("24GB", 24 * 10**9), ("24gb", 24 * 10**9), ("1.5GiB", 3 * 2**29),
    ("512MiB", 2**29), ("25769803776B", 25769803776), ("9007199254740993B", 2**53 + 1),
    ("0.5KiB", 512), ("1 TB", 10**12)])
def test_memory_amounts_are_read_exactly(text, expected):
    assert memory_budget(text).bytes == expected

@pytest.mark.parametrize(("text", "message"), [
    ("24G", "say which unit: 24GiB or 24GB"), ("24", "say which unit: 24GiB, 24GB or 24B"),
    ("24Gi", "say which unit"), ("24 gigs", "say which unit"), ("-1GB", "takes an amount"),
    ("0.1B", "at least one byte"), ("a100", "which one? a100-40gb or a100-80gb"),
    ("h10", "did you mean 'h100'"), ("1e9B", "takes an amount"), ("", "takes an amount")])
def test_ambiguous_or_bad_memory_is_refused(text, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        memory_budget(text)

def test_bad_memory_is_one_line_and_exit_2():
    result = run_cli("fit", "resnet18", "--memory", "24G")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == ["cnncalc: error: --memory 24G: say which unit: 24GiB or 24GB "
                                          "(GiB = 1024³ bytes, GB = 1000³)"]

def test_each_device_has_a_little_less_than_its_name_says():
    """nvidia-smi's totals sit just under the marketed size read as GiB (ECC and firmware reserve the rest:
    a T4 16GB reports 15,360 MiB, an H200 141GB 143,771 MiB): a typo in the table falls outside."""
    for name, device in DEVICES.items():
        nominal = int(re.search(r"(\d+)GB", device.label).group(1)) * 1024
        assert 0.93 <= device.mib / nominal <= 1.0, name
        assert memory_budget(name.upper()).bytes == device.mib * 2**20
