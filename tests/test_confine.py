"""The child's confinement (cnncalc/confine.py): no file written or removed where Landlock holds, and
no signal sent out of the process where Landlock's signal scope or the seccomp filter holds."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from cnncalc.confine import confined

from test_child import GOOD
from test_untrusted import SMALL, run


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
        # its pipes not the parent's: run() would wait for them to close, 30 s
        "sleeper = subprocess.Popen(['sleep', '30'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
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
