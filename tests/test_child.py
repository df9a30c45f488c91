"""The child process (cnncalc/child.py) runs a Python spec or model file: whatever its code does
(exit, print, patch cnncalc or sys, write files, loop, fill its memory, signal cnncalc), that file
gets its own verdict, the other files are still checked, the exit code is the worst of them, and
nothing it printed reaches cnncalc's output.

Each case is a crafted file in a temporary folder, checked with `cnncalc check --allow-python` in a
process of its own, bounded in time and memory (test_untrusted.run)."""
from __future__ import annotations

import json

import pytest

from cnncalc.confine import confined

from test_untrusted import SMALL, run

SPEC = "from cnncalc.builder import Conv2d, ReLU, Spec\n"
GOOD = SPEC + "spec = Spec([3, 8, 8], [Conv2d(4, 3), ReLU()])\n"  # 112 parameters

# file → (its code, what its verdict says)
HOSTILE = {
    "exits_from_a_dict_method.py": (
        SPEC + "class Data(dict):\n    def items(self):\n        raise SystemExit(0)\n"
        "spec = Data(Spec([3, 8, 8], [Conv2d(4, 3)]))\n", "called exit(0)"),
    "exits_at_once.py": ("import sys\nsys.exit(0)\n", "called exit(0)"),
    "ends_its_process.py": ("import os\nos._exit(0)\n", "ended its process before cnncalc had its answer"),
    "prints.py": ("import sys\nprint('::error::forged by print')\nprint('##[error]forged')\n"
                  "sys.stderr.write('\\n::add-mask::forged on stderr\\n')\nsys.stdout.flush()\n"
                  "os = __import__('os')\nos.write(1, b'\\n::error::forged on fd 1\\n')\n"
                  "os.write(2, b'\\n::error::forged on fd 2\\n')\n" + GOOD, "✓"),
    "patches.py": (  # cnncalc and sys patched in the child change nothing in cnncalc: over the budget still
        "import sys, cnncalc.workflows.ci as ci, cnncalc.spec.python as python\n"
        "ci.EXIT_STATUS.update(invalid=0, budget=0, drift=0)\nci.check_spec = lambda *a, **k: []\n"
        "sys.exit = lambda *a: None\nsys.stdout.write = lambda text: 0\n"
        + SPEC + "spec = Spec([3, 8, 8], [Conv2d(400, 3)])\n", "exceed the budget of 1,000"),
    "writes.py": ("open('good.yaml', 'a').write('  - nosuchkind\\n')\n" + GOOD,
                  "Error"),  # PermissionError under Landlock; OSError (file too large) where only RLIMIT_FSIZE holds
    "loops.py": ("while True:\n    pass\n", "ran longer than 2 s"),
    "fills_its_memory.py": ("keep = []\nwhile True:\n    keep.append(bytearray(1 << 28))\n", "bytes of memory"),
    "raises.py": (SPEC + "def spec():\n    raise ValueError('\\x1b]52;c;eA==\\x07::error::in a message')\n",
                  "ValueError: \\x1b]52;c;eA==\\x07::error::in a message"),
}
if confined()["signals"]:  # Landlock's signal scope (Linux 6.12), or seccomp: the child cannot signal cnncalc
    HOSTILE["kills_cnncalc.py"] = ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n", "PermissionError")


def test_each_hostile_python_spec_gets_its_own_verdict(tmp_path):
    for name, (code, _) in HOSTILE.items():
        (tmp_path / name).write_text(code)
    (tmp_path / "good.yaml").write_text(SMALL + "  - relu\n")
    (tmp_path / "good.py").write_text(GOOD)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    code, out, err = run("--limit", "python_seconds=2", "--limit", "python_bytes=400000000", "check", ".",
                         "--allow-python", "--max-params", "1000", cwd=tmp_path, seconds=4 * len(HOSTILE))
    assert code == 2, out + err  # the worst verdict: a spec that could not be read
    lines = (out + err).splitlines()
    assert all(not line.lstrip().startswith("::") and "##[" not in line and line.isprintable() for line in lines), \
        lines
    assert "forged" not in out + err  # what the code printed is shown nowhere
    for name, (_, verdict) in HOSTILE.items():
        at = next(i for i, line in enumerate(lines) if f" {name} " in line)
        assert verdict in lines[at] + lines[at + 1], (name, lines[at:at + 2])
    assert any(line.startswith("✓ good.yaml good") for line in lines), lines
    assert any(line.startswith("✓ good.py good") for line in lines), lines
    assert f"{len(HOSTILE) + 2} models checked" in out
    after = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    if confined()["files"]:  # Landlock: the child can create, write, truncate, rename or remove no file
        assert after == before
    else:  # RLIMIT_FSIZE alone: not a byte written
        assert after["good.yaml"] in (before["good.yaml"], b"")


def test_what_a_failing_spec_printed_is_its_errors_detail(tmp_path):
    (tmp_path / "net.py").write_text("print('::error::from the spec\\x1b[31m')\nraise KeyError('x')\n")
    code, out, err = run("table", "net.py", "--verbose", cwd=tmp_path)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == "cnncalc: error: net.py:2: KeyError: 'x'", lines
    assert lines[1] == "  printed: ::error::from the spec\\x1b[31m", lines  # shown escaped


@pytest.mark.slow  # 4 s: a child process imports torch
def test_a_model_file_runs_in_a_child(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "model.py").write_text(
        "import sys\nfrom torch import nn\nprint('::error::forged')\n"
        "class Net(nn.Module):\n    def __init__(self, width=4):\n        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, width, 3)\n    def forward(self, x):\n        return self.conv(x)\n"
        "class Exits(nn.Module):\n    def __init__(self):\n        sys.exit(0)\n")
    code, out, err = run("table", "model.py:Net", "--input", "3x8x8", "--set", "width=5", "-f", "json",
                         cwd=tmp_path, seconds=30, megabytes=8000)
    assert code == 0 and "forged" not in out + err, err
    assert json.loads(out)["totals"]["params"] == 5 * 3 * 9 + 5
    code, out, err = run("table", "model.py:Exits", "--input", "3x8x8", cwd=tmp_path, seconds=30, megabytes=8000)
    assert code == 2 and out == "" and "forged" not in err
    assert err.strip() == "cnncalc: error: model.py:12: the model file called exit(0) while cnncalc ran it"


def test_a_library_that_looks_a_library_up_as_it_is_imported_reads(tmp_path):
    # torch's CUDA builds, timm and transformers call ctypes.util.find_library on import, whose compiler probe
    # writes a temporary file: in the confined child that had raised PermissionError, and no model file of theirs
    # could be read; it now finds nothing, as on a machine with no compiler
    pytest.importorskip("torch")
    (tmp_path / "model.py").write_text(
        "import ctypes.util\nfrom torch import nn\nFOUND = ctypes.util.find_library('cnncalc_no_such_library')\n"
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(8, 4 if FOUND is None else 5)\n    def forward(self, x):\n        return self.fc(x)\n")
    code, out, err = run("table", "model.py:Net", "--input", "8", "-f", "json", cwd=tmp_path, seconds=30,
                         megabytes=8000)
    assert code == 0, err
    assert json.loads(out)["totals"]["params"] == 8 * 4 + 4
