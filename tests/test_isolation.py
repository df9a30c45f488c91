"""A Python spec or model file runs in a child process (cnncalc/isolation.py): whatever its code does
(exit, print, patch cnncalc or sys, write files, loop, fill its memory, signal cnncalc), that file
gets its own verdict, the other files are still checked, the exit code is the worst of them, and
nothing it printed reaches cnncalc's output.

Each case is a crafted file in a temporary folder, checked with `cnncalc check --allow-python` in a
process of its own, bounded in time and memory (test_untrusted.run)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cnncalc.confine import confined
from cnncalc.isolation import plain, unplain
from cnncalc.spec.yamlfile import LineDict, LineList

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


def test_a_python_spec_cannot_write_a_file(tmp_path):
    if not confined()["files"]:
        pytest.skip("no Landlock on this system: the child can write no byte, but could still remove a file")
    target = tmp_path / "precious.yaml"
    target.write_text(SMALL + "  - relu\n")
    (tmp_path / "net.py").write_text(
        "import os\nfor act in (lambda: os.remove('precious.yaml'), lambda: os.rename('precious.yaml', 'x'),\n"
        "            lambda: open('precious.yaml', 'w'), lambda: open('new.txt', 'x'), lambda: os.mkdir('d')):\n"
        "    try:\n        act()\n    except PermissionError:\n        pass\n    else:\n"
        "        raise SystemExit('not confined')\n" + GOOD)
    code, out, err = run("check", "net.py", "precious.yaml", "--allow-python", cwd=tmp_path)
    assert code == 0, out + err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["net.py", "precious.yaml"]


def test_what_a_failing_spec_printed_is_its_errors_detail(tmp_path):
    (tmp_path / "net.py").write_text("print('::error::from the spec\\x1b[31m')\nraise KeyError('x')\n")
    code, out, err = run("table", "net.py", "--verbose", cwd=tmp_path)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == "cnncalc: error: net.py:2: KeyError: 'x'", lines
    assert lines[1] == "  printed: ::error::from the spec\\x1b[31m", lines  # shown escaped


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
    back = unplain(json.loads(json.dumps(plain(data))))
    assert back == data and type(back["layers"][0]) is LineDict and back["layers"][0].line == 7
    assert back["layers"][0]["conv2d"]["kernel_size"] == (3, 3) and back["x"][3].lines == [3, 4]
    for value in (object(), {1, 2}, b"bytes", Path("x")):
        with pytest.raises(Exception, match="not|holds"):
            plain({"layers": [value]})
    with pytest.raises(Exception, match="more than 300 digits"):
        plain(10 ** 400)
    for forged in ({"tuple": 1}, {"dict": [[[1], 2]]}, {"dict": [[1]]}, {"dict": [], "line": "7"}, {"x": 1}):
        with pytest.raises(ValueError):
            unplain(forged)


def test_the_zoos_own_python_specs_run_in_process(monkeypatch):
    import cnncalc.isolation as isolation
    from cnncalc.spec.zoo import load_model

    monkeypatch.setattr(isolation, "_spawn", lambda *args: pytest.fail("the zoo ran in a child"))
    assert load_model("resnet18").name == "resnet18"


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


def test_the_seccomp_filter_lets_a_process_signal_itself_alone():
    """Where Landlock cannot scope signals (Linux before 6.12), the filter does: the child's code may
    signal itself (Python's own signals) and nothing else, its own children, its group and -1 included."""
    import subprocess
    import sys

    from cnncalc.confine import _seccomp_arch

    if _seccomp_arch() is None:
        pytest.skip("no seccomp filter for this system")
    code = (
        "import os, signal, subprocess, threading\n"
        "from cnncalc.confine import _seccomp\n"
        "sleeper = subprocess.Popen(['sleep', '30'])\n"
        "print(sleeper.pid, flush=True)\n"
        "_seccomp()\n"
        "os.kill(os.getpid(), 0)\n"
        "signal.pthread_kill(threading.get_ident(), 0)\n"
        "caught = []\n"
        "signal.signal(signal.SIGUSR1, lambda *_: caught.append(1))\n"
        "signal.raise_signal(signal.SIGUSR1)\n"
        "assert caught\n"
        "for target in (os.getppid(), sleeper.pid, -1, 0):\n"
        "    try:\n"
        "        os.kill(target, 0)\n"
        "    except PermissionError:\n"
        "        continue\n"
        "    raise SystemExit(f'signalled {target}')\n"
        "print('confined')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    sleeper = int(result.stdout.split()[0])
    os.kill(sleeper, 9)  # the one process it started, which it could not end itself
    assert result.returncode == 0 and result.stdout.split()[1] == "confined", result.stdout + result.stderr
