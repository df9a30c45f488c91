"""Every write is whole or not at all (cnncalc/output/files.py): a temporary file in the target's
folder, synced, then renamed over the target; a read-only target refused as a shell redirect refuses
it; nothing left behind on an error, Ctrl-C or SIGTERM; each spec file its own lock file."""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import cnncalc
from cnncalc.errors import SpecError
from cnncalc.output.files import write_file
from conftest import run_cli, run_here

SMALL = "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 3}\n"  # 112 parameters


def one_line(result, expected: str) -> None:
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnncalc: error: ") and expected in lines[0], result.stderr


def test_a_read_only_target_is_refused_as_a_redirect_refuses_it(tmp_path):
    target = tmp_path / "kept.txt"
    target.write_text("keep me")
    target.chmod(0o444)
    one_line(run_here("table", "lenet5", "-o", str(target)), "kept.txt: cannot write: the file is read-only")
    assert target.read_text() == "keep me" and sorted(tmp_path.iterdir()) == [target]
    target.chmod(0o644)
    assert run_here("table", "lenet5", "-o", str(target)).returncode == 0 and "lenet5 totals" in target.read_text()
    assert os.stat(target).st_mode & 0o777 == 0o644  # the target's mode kept


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_a_write_that_fails_midway_leaves_the_old_file_whole(tmp_path, monkeypatch, failure):
    target = tmp_path / "old.json"
    target.write_text("old")

    def full(_descriptor):  # the disk fills after the bytes went to the temporary file
        raise failure
    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(SpecError if isinstance(failure, OSError) else KeyboardInterrupt) as caught:
        write_file("new", target)
    if isinstance(failure, OSError):
        assert str(caught.value) == f"{target}: cannot write: no space left on device"
    assert target.read_text() == "old" and sorted(tmp_path.iterdir()) == [target]


def test_a_254_byte_name_is_written(tmp_path):
    target = tmp_path / ("n" * 250 + ".txt")  # 254 bytes: the temporary name must be shorter than target+suffix
    assert run_here("table", "lenet5", "-o", str(target)).returncode == 0
    assert "lenet5 totals" in target.read_text() and len(list(tmp_path.iterdir())) == 1


STALLED = """
import os, sys, time
from pathlib import Path

def stalled(descriptor, marker=Path(sys.argv[1])):  # the bytes are in the temporary file: wait there
    marker.write_text("writing")
    time.sleep(60)
os.fsync = stalled
sys.argv = ["cnncalc", *sys.argv[2:]]
from cnncalc.cli import main
main()
"""


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_during_lock_leaves_no_temporary_file(tmp_path, number):
    (tmp_path / "a.yaml").write_text(SMALL)
    lock = tmp_path / "a.yaml.lock.json"
    lock.write_text("{}")
    marker = tmp_path.parent / f"{tmp_path.name}-writing"
    env = dict(os.environ, PYTHONPATH=str(Path(cnncalc.__file__).resolve().parent.parent))
    # a shell's background job (`cmd &`) starts with SIGINT ignored, and Python then leaves it ignored:
    # the signals tested are given their default action, as a terminal's process has them
    process = subprocess.Popen([sys.executable, "-c", STALLED, str(marker), "lock", "a.yaml"], cwd=tmp_path,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(number, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), process.communicate()
    process.send_signal(number)
    _, err = process.communicate(timeout=30)
    assert process.returncode != 0 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "a.yaml.lock.json"]  # no .tmp left
    assert lock.read_text() == "{}"


# ---- a lock file per spec file ------------------------------------------------------------------------


def test_net_yaml_and_net_yml_have_their_own_locks(tmp_path):
    (tmp_path / "net.yaml").write_text(SMALL)
    (tmp_path / "net.yml").write_text(SMALL.replace("out_channels: 4", "out_channels: 8"))  # 224 parameters
    result = run_here("lock", str(tmp_path))
    assert result.returncode == 0 and result.stdout.count("wrote") == 2
    for name, params in (("net.yaml", 112), ("net.yml", 224)):
        data = json.loads((tmp_path / f"{name}.lock.json").read_text())
        assert data["spec"] == name and data["models"]["net"]["totals"]["params"] == params
    assert run_here("check", str(tmp_path)).returncode == 0  # each held to its own


def test_a_lock_an_older_cnncalc_wrote_is_read_and_then_replaced(tmp_path):
    (tmp_path / "net.yaml").write_text(SMALL)
    assert run_here("lock", str(tmp_path / "net.yaml")).returncode == 0
    older = tmp_path / "net.lock.json"  # the name lock gave before: the spec's stem
    (tmp_path / "net.yaml.lock.json").rename(older)
    (tmp_path / "net.yaml").write_text(SMALL.replace("out_channels: 4", "out_channels: 8"))
    result = run_cli("check", str(tmp_path / "net.yaml"))  # a process of its own reads the spec changed
    assert result.returncode == 1 and "total params 112 → 224" in result.stdout
    (tmp_path / "net.yml").write_text(SMALL.replace("out_channels: 4", "out_channels: 2"))
    assert run_here("check", str(tmp_path / "net.yml")).returncode == 0  # the older lock records net.yaml
    assert run_cli("lock", str(tmp_path / "net.yaml")).returncode == 0
    assert not older.exists() and (tmp_path / "net.yaml.lock.json").exists()


# ---- plot ------------------------------------------------------------------------------------------------

HOSTILE_RC = "text.usetex: True\nbackend: module://nowhere\nsavefig.format: pdf\n"


def run_plot(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """`cnncalc ARGS` in its own process, in `folder`, with a home folder of its own to watch."""
    home = folder / "home"
    home.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MPL", "XDG_"))}
    env.update(HOME=str(home), PYTHONPATH=str(Path(cnncalc.__file__).resolve().parent.parent))
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.slow  # 5 s: matplotlib imported in a process of its own
def test_plot_draws_in_its_own_style_and_writes_only_its_picture(tmp_path):
    pytest.importorskip("matplotlib")
    (tmp_path / "matplotlibrc").write_text(HOSTILE_RC)  # usetex runs latex (absent: it would fail)
    (tmp_path / "m.yaml").write_text('input: [3, 8, 8]\nlayers:\n  - relu:\n    name: "$\\\\frac{$"\n'
                                     '  - relu:\n    name: "a $^$ b"\n')
    result = run_plot(tmp_path, "plot", "m.yaml", "-o", "m.png")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "m.png").read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "m.png", "m.yaml", "matplotlibrc"]
    assert list((tmp_path / "home").rglob("*")) == []  # no font cache under the home folder
    result = run_plot(tmp_path, "sweep", "m.yaml", "--sizes", "8:12:2", "--plot", "s.svg")
    assert result.returncode == 0 and (tmp_path / "s.svg").read_text().startswith("<?xml")
    one_line(run_plot(tmp_path, "plot", "m.yaml", "-o", "missing/m.png"), "cannot write: no folder")
    (tmp_path / "folder.png").mkdir()
    one_line(run_plot(tmp_path, "plot", "m.yaml", "-o", "folder.png"), "cannot write: it is a folder")
    one_line(run_plot(tmp_path, "sweep", "m.yaml", "--sizes", "8:12:2", "--plot", "folder.png"), "it is a folder")


def test_plot_leaves_the_callers_rcparams_as_they_were(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    from cnncalc.figures.report import analyze
    from cnncalc.output.plot import plot_layers
    from cnncalc.spec.zoo import load_model

    with matplotlib.rc_context({"text.usetex": True, "svg.fonttype": "path"}):
        plot_layers(analyze(load_model("lenet5")), tmp_path / "l.svg")
        assert matplotlib.rcParams["text.usetex"] and matplotlib.rcParams["svg.fonttype"] == "path"
    assert "<text" in (tmp_path / "l.svg").read_text()  # drawn in cnncalc's style: text stays text
