"""Specs from strangers: every hostile input ends with exit 2 and one line (exit 1 only for a failed
check), within 5 s and 500 MB, running nothing and writing nothing outside -o.

Each case runs `python -m cnncalc` in its own process, timed, with its address space limited to
500 MB (RLIMIT_AS: past it Python raises MemoryError, a traceback the case would fail on)."""
from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.confine import confined
from cnncalc.spec.zoo import zoo_dir

SECONDS, MEGABYTES = 5, 500
BOMB = "".join(f"{a}: &{a} [{', '.join(['*' + p] * 9 if p else ['lol'] * 9)}]\n"
               for a, p in zip("abcdefg", ["", "a", "b", "c", "d", "e", "f"]))


def run(*args: str, cwd: Path, seconds: float = SECONDS, megabytes: int = MEGABYTES) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one cnncalc process, which must end within the bounds (`seconds`
    for a run over many files: SECONDS each; `megabytes` for one that runs torch)."""
    env = dict(os.environ, PYTHONPATH=str(Path(cnncalc.__file__).resolve().parent.parent), COLUMNS="100")
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.monotonic()
        process = subprocess.Popen([sys.executable, "-m", "cnncalc", *args], cwd=cwd, env=env, text=True,
                                   stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                   preexec_fn=lambda: _bounded(megabytes))
        timer = threading.Timer(seconds + 2, process.kill)
        timer.start()
        _, status, _ = os.wait4(process.pid, 0)
        timer.cancel()
        elapsed = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        texts = out.read(), err.read()
    assert elapsed < seconds, f"cnncalc {' '.join(args)[:80]} took {elapsed:.1f} s"
    return os.waitstatus_to_exitcode(status), *texts


def _bounded(megabytes: int = MEGABYTES) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))


def one_line_error(code: int, err: str, expected: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnncalc: error: "), err
    assert expected in lines[0], lines[0]
    assert len(lines[0]) < 1_500, lines[0][:200]  # a message quotes a few hundred characters of input at most


def spec(tmp_path: Path, text: str, name: str = "hostile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


SMALL = "input: [3, 8, 8]\nlayers:\n"
HOSTILE = {
    "alias bomb as input": (BOMB + "input: *g\nlayers: [relu]\n", "expands to more than 250,000 nodes"),
    # YAML 1.1 reads 3:3 as 183 and 1:04 as 64: refused, as 064 is
    "base-60 integer": (SMALL + "  - conv2d: {out_channels: 4, kernel_size: 3:3}\n",
                        "3:3 is a base-60 number in YAML 1.1 (183)"),
    "base-60 float": (SMALL + "  - dropout: {p: 0:0.5}\n", "0:0.5 is a base-60 number in YAML 1.1"),
    "alias bomb as argument": (BOMB + SMALL + "  - conv2d: {out_channels: 4, kernel_size: *g}\n",
                               "expands to more than 250,000 nodes"),
    "alias that contains itself": ("a: &a [1, *a]\n" + SMALL + "  - relu\n", "contains it"),
    "a billion repeats": (SMALL + "  - relu:\n    repeat: 1000000000\n", "repeat 1,000,000,000 is more than"),
    "nested blocks repeated 300 times": (
        "input: [3, 8, 8]\nblocks:\n  a: {layers: [{b: , repeat: 300}]}\n  b: {layers: [{c: , repeat: 300}]}\n"
        "  c: {layers: [{relu: , repeat: 300}]}\nlayers:\n  - a\n", "expands to more than 50,000 layers"),
    "a block that uses itself": ("input: [3, 8, 8]\nblocks:\n  a: {layers: [a]}\nlayers:\n  - a\n",
                                 "block 'a' uses itself"),
    "9**9**9": (SMALL + '  - conv2d: {out_channels: "${9**9**9}", kernel_size: 3}\n', "more than 300 digits"),
    "a string repeated 10**10 times": (SMALL + "  - conv2d: {out_channels: \"${'a' * 10**10}\", kernel_size: 3}\n",
                                       "longer than 10,000 items"),
    "% formatting": (SMALL + "  - conv2d: {out_channels: \"${'%999999999d' % 1}\", kernel_size: 3}\n",
                     "'%' formatting"),
    "a 100,000-term sum": (SMALL + f'  - conv2d: {{out_channels: "${{{"+".join(["1"] * 100_000)}}}", '
                           "kernel_size: 3}\n", "longer than 1,000 characters"),
    "a 4,400-digit integer": (SMALL + f"  - conv2d: {{out_channels: {'9' * 4400}, kernel_size: 3}}\n",
                              "more than 300 digits"),
    "duplicate keys": (SMALL + "  - conv2d: {out_channels: 4, kernel_size: 3, out_channels: 400}\n",
                       "duplicate key 'out_channels'"),
    "a leading zero": (SMALL + "  - conv2d: {out_channels: 064, kernel_size: 3}\n", "leading zero"),
    "when as a string": (SMALL + "  - relu:\n    when: \"false\"\n", "when must be true or false"),
    "dropout p of 5": (SMALL + "  - dropout: {p: 5}\n", "must be between 0 and 1"),
    "scale_factor .nan": (SMALL + "  - upsample: {scale_factor: .nan}\n", "finite number"),
    "params as a list": ("params: [1]\n" + SMALL + "  - relu\n", "'params' must map"),
    "variants as a list": ("variants: [a, b]\n" + SMALL + "  - relu\n", "'variants' must map"),
    "a budget of .inf": ("budget: {max_params: .inf}\n" + SMALL + "  - relu\n", "finite number"),
    "a name with a newline": ('name: "x\\n::stop-commands::y"\n' + SMALL + "  - relu\n",
                              "hostile.yaml:1: name 'x\\n::stop-commands::y' holds \\n, a control character"),
    "a layer name with a newline": (SMALL + '  - relu:\n    name: "a\\nb"\n', "hostile.yaml:3: name 'a\\nb' holds \\n"),
    # one rule for every name a spec gives: no control, bidi or zero-width character, named as an escape
    "a layer name with an OSC 52": (SMALL + '  - relu:\n    name: "a\\e]52;c;eA==\\a"\n',
                                    "hostile.yaml:3: name 'a\\x1b]52;c;eA==\\x07' holds \\x1b, a control character"),
    "a group name with a bidi isolate": (SMALL + '  - sequential: [relu]\n    name: "g\\u2066"\n',
                                         "hostile.yaml:3: name 'g\\u2066' holds \\u2066 (LEFT-TO-RIGHT ISOLATE)"),
    "a sequential label with a bidi override": (
        SMALL + '  - sequential: [relu]\n    name: g\n    label: "a\\u202eb"\n',
        "hostile.yaml:3: layer 'g': label 'a\\u202eb' holds \\u202e (RIGHT-TO-LEFT OVERRIDE), a bidi control"),
    "a label that is no name": (SMALL + "  - sequential: [relu]\n    label: [1]\n", "'label' is a name, got [1]"),
    "a block name with a zero-width space": (
        'input: [3, 8, 8]\nblocks:\n  "b\\u200bx": {layers: [relu]}\nlayers:\n  - "b\\u200bx"\n',
        "hostile.yaml:3: block 'b\\u200bx' holds \\u200b (ZERO WIDTH SPACE), a zero-width character"),
    "a computed name with a zero-width joiner": (SMALL + "  - relu:\n    name: \"${'a' + '\\u200d'}\"\n",
                                                 "holds \\u200d (ZERO WIDTH JOINER)"),
    "a not_run name with a bidi mark": ('not_run: {"a\\u200f": {params: 1, buffers: 0}}\n' + SMALL + "  - relu\n",
                                        "not_run 'a\\u200f' holds \\u200f (RIGHT-TO-LEFT MARK)"),
    "an input name with a line separator": ('other_inputs: {"m\\u2028": [1, 8, 8]}\n' + SMALL + "  - relu\n",
                                            "other_inputs 'm\\u2028' holds \\u2028 (LINE SEPARATOR)"),
    "a module class with a bidi override": (SMALL + '  - relu:\n    module: "M\\u202e"\n',
                                            "module 'M\\u202e' holds \\u202e"),
    "deep nesting": ("input: [3, 8, 8]\nlayers: " + "[" * 5000 + "]" * 5000 + "\n", "malformed YAML"),
    # arguments torch refuses at this input (tests/layers/test_kinds_vs_torch.py holds them to torch)
    "softmax over dim 7": (SMALL + "  - softmax: {dim: 7}\n", "dim 7 is out of range"),
    "logsoftmax over dim -9": (SMALL + "  - logsoftmax: {dim: -9}\n", "dim -9 is out of range"),
    "circular padding wider than the input": (
        SMALL + "  - conv2d: {out_channels: 4, kernel_size: 3, padding: 9, padding_mode: circular}\n",
        "wraps around more than once"),
    "a block named like a kind": ("input: [3, 8, 8]\nblocks:\n  relu: {layers: [sigmoid]}\nlayers:\n  - relu\n",
                                  "hostile.yaml:3: block 'relu' has the name of a layer kind"),
    # sizes past what torch holds: every figure would be past printing
    "tile to 10^54 elements": (SMALL + "  - tile: {dims: [1, 1000000000000000000, 1000000000000000000, "
                               "1000000000000000000]}\n", "more than 2^63 - 1 elements"),
    "an input of 10^598 elements": (f"input: [3, {10 ** 299}, {10 ** 299}]\nlayers: [relu]\n",
                                    "more than 2^63 - 1 elements"),
    "padding of 10^299": (SMALL + f"  - conv2d: {{out_channels: 4, kernel_size: 3, padding: {10 ** 299}}}\n",
                          "at most 2^63 - 1"),
    "scale_factor 1e308": (SMALL + "  - upsample: {scale_factor: 1.0e+308}\n", "more than torch can hold"),
    # work an argument drives
    "nested lists compared": (SMALL + '  - relu:\n    when: "${[[0] * 9000] * 9000 == [[0] * 9000] * 9000}"\n',
                              "longer than 10,000 items"),
    "a name of 9,000 characters per repetition": (
        SMALL + "  - relu:\n    name: \"${'a' * 9000}${i}\"\n    repeat: 40000\n", "longer than 500 characters"),
    "more layers than the bound once a block is copied": (
        "input: [3, 8, 8]\nblocks:\n  a: {layers: [{relu: , repeat: 30000}]}\nlayers:\n  - a\n  - a\n",
        "expands to more than 50,000 layers"),
    "a 5 MB list of numbers": (SMALL + "  - relu: {inplace: [" + ", ".join(["1"] * 1_000_000) + "]}\n",
                               "more than 250,000 nodes"),
    "a list of 10^8 items in a message": (
        SMALL + '  - conv2d: {out_channels: "${[[0] * 10000] * 10000}", kernel_size: 3}\n',
        "expected an integer, got [[0, 0, 0"),
}


# one of each kind of hostility in the default set (a process each, a third of a second); all in the slow set
IN_THE_DEFAULT_SET = {"alias bomb as input", "base-60 integer", "a billion repeats", "nested blocks repeated 300 times",
                      "9**9**9", "a string repeated 10**10 times", "a 4,400-digit integer", "duplicate keys",
                      "a name with a newline", "a layer name with an OSC 52", "a group name with a bidi isolate",
                      "deep nesting", "tile to 10^54 elements", "an input of 10^598 elements",
                      "more layers than the bound once a block is copied", "a list of 10^8 items in a message"}


def test_the_hostile_specs_the_default_set_runs_are_named_as_written():
    assert IN_THE_DEFAULT_SET <= set(HOSTILE)  # a name written wrong would send its spec to the slow set unseen


@pytest.mark.parametrize("name", [name if name in IN_THE_DEFAULT_SET else pytest.param(name, marks=pytest.mark.slow)
                                  for name in HOSTILE])
def test_hostile_spec_is_one_line_exit_2(tmp_path, name):
    text, expected = HOSTILE[name]
    path = spec(tmp_path, text)
    code, _, err = run("table", str(path), cwd=tmp_path)
    one_line_error(code, err, expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.yaml"]  # nothing written


@pytest.mark.parametrize("data, expected", [
    (b"\xff\xfei\x00n\x00", "not UTF-8 text"), ("input: [3, 8, 8]  # caf\xe9\n".encode("latin-1"), "not UTF-8"),
    (bytes(range(256)), "not UTF-8"), (b"input: [3, 8, 8]\x00\nlayers: [relu]\n", "malformed YAML")])
def test_binary_and_foreign_encodings(tmp_path, data, expected):
    (tmp_path / "x.yaml").write_bytes(data)
    one_line_error(*run("table", "x.yaml", cwd=tmp_path)[::2], expected)


def test_files_that_are_not_files(tmp_path):
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "fifo.yaml")
    for name in ("zero.yaml", "fifo.yaml"):
        one_line_error(*run("table", name, cwd=tmp_path)[::2], "not a regular file")
        one_line_error(*run("show", name, cwd=tmp_path)[::2], "not a regular file")
    # a lock file that is a FIFO is a finding about that spec; the other spec is still checked
    (tmp_path / "a.yaml").write_text(SMALL + "  - relu\n")
    os.mkfifo(tmp_path / "a.yaml.lock.json")
    (tmp_path / "b.yaml").write_text(SMALL + "  - relu\n")
    code, out, _ = run("check", "a.yaml", "b.yaml", cwd=tmp_path)
    assert code == 2 and "✗ a.yaml a: 1 problem" in out and "✓ b.yaml b" in out


def test_python_under_a_checked_folder_runs_only_when_allowed(tmp_path):
    folder = tmp_path / "specs"
    (folder / ".hidden").mkdir(parents=True)
    marker = tmp_path / "ran"
    for path in (folder / "setup.py", folder / ".hidden" / "model.yaml", folder / "helper.py"):
        path.write_text(f"open({str(marker)!r}, 'w').write('x')\nimport sys\nsys.exit(0)\n")
    (folder / "good.yaml").write_text(SMALL + "  - relu\n")
    (folder / "bad.yaml").write_text(SMALL + "  - nosuchkind\n")
    code, out, _ = run("check", "specs", cwd=tmp_path)
    assert code == 2 and not marker.exists()
    assert "2 Python specs not run" in out and "2 models checked, 1 passed, 1 failed" in out
    # allowed: each runs in a child process that can write no file, so its attempt is an error about that
    # file (as an exit would be), and the others are still checked
    code, out, _ = run("check", "specs", "--allow-python", cwd=tmp_path)
    assert code == 2 and "✓ specs/good.yaml good" in out
    assert out.count("Error: ") == 2 and "✗ specs/setup.py setup: 1 problem" in out
    if confined()["files"]:
        assert not marker.exists()
    (folder / "setup.py").write_text("import sys\nsys.exit(0)\n")
    code, out, _ = run("check", "specs", "--allow-python", cwd=tmp_path)
    assert code == 2 and "the spec called exit(0)" in out and "✓ specs/good.yaml good" in out


@pytest.mark.parametrize("command", ["table", "report", "rf", "graph", "export"])
@pytest.mark.parametrize("name", ["evil.py:Net.yaml", "a.py:v2/net.yaml", "evil.py:Net"])
def test_a_file_name_never_runs_python(tmp_path, command, name):
    """A spec whose name holds `.py:` is read as the spec it is; only `FILE.py:Class` that names no
    existing file reads a model, so a CI loop over specs/*.yaml runs nothing a pull request added."""
    marker = tmp_path / "ran"
    for script in ("evil.py", "a.py"):
        spec(tmp_path, f"open({str(marker)!r}, 'w').write('x')\nclass Net: pass\n", script)
    (tmp_path / "a.py:v2").mkdir()
    spec(tmp_path, SMALL + "  - relu\n", name)
    code, _, err = run(command, name, *(["-o", "out.html"] if command == "report" else []), cwd=tmp_path)
    assert not marker.exists()
    assert code == (2 if command == "export" else 0), err


def test_a_library_or_file_reference_still_reads_a_model():
    from cnncalc.model_reference import model_reference

    assert model_reference("torchvision:resnet18").in_library
    assert model_reference("models/net.py:Net").source == "models/net.py"
    for text in ("evil.py:Net.yaml", "a.py:v2/net.yaml", "net.pyc:Net", "x.py:", "x.py:1Net", "net.yaml"):
        assert model_reference(text) is None, text


def test_a_python_spec_that_exits_is_exit_2(tmp_path):
    spec(tmp_path, "import sys\nsys.exit(5)\n", "x.py")
    one_line_error(*run("table", "x.py", cwd=tmp_path)[::2], "the spec called exit(5)")


@pytest.mark.parametrize("args", [
    ["table", "lenet5", "\n::error::x"], ["##[group]x"], ["table", "--\x1b]52;c;eA==\x07"],
    ["table", "lenet5", "\u202e::warning::x"], ["--bogus\n::add-mask::y"], ["check"],
    ["table", "lenet5", "--batch", "\n##[error]x\u200b"], ["table", "\r::error::x", "--depth", "\x1b[2J"]])
def test_usage_errors_are_escaped_like_every_error(tmp_path, args):
    """An unknown option, a missing or stray argument: click's own errors, quoting the command line, are
    one line escaped as all output is."""
    code, out, err = run(*args, cwd=tmp_path)
    one_line_error(code, err, "")
    assert out == "" and "##[" not in err and err.isascii(), err
    assert "(see python -m cnncalc" in err and "-h)" in err


def test_symlinked_folders_are_not_walked(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(SMALL + "  - relu\n")
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "link").symlink_to(outside)
    (folder / "linked.yaml").symlink_to(outside / "secret.yaml")
    (folder / "own.yaml").write_text(SMALL + "  - relu\n")
    code, out, _ = run("check", "specs", cwd=tmp_path)
    assert code == 0 and "1 models checked" in out and "secret" not in out


@pytest.mark.parametrize("lock", [b'{"spec": "a.yaml", "models": {"a": {"inp', b"\xff\xfe{}", b"[1, 2]",
                                  b'{"spec": "a.yaml", "models": {"a": {"input": "x"}}}'])
def test_broken_lock_files_are_findings(tmp_path, lock):
    (tmp_path / "a.yaml").write_text(SMALL + "  - relu\n")
    (tmp_path / "a.yaml.lock.json").write_bytes(lock)
    (tmp_path / "b.yaml").write_text(SMALL + "  - relu\n")
    code, out, err = run("check", "a.yaml", "b.yaml", cwd=tmp_path)
    assert code == 2 and "Traceback" not in err and "✓ b.yaml b" in out
    assert "run `cnncalc lock` again" in out or "not UTF-8" in out


def test_lock_replaces_a_planted_link_instead_of_following_it(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    (tmp_path / "a.yaml").write_text(SMALL + "  - relu\n")
    (tmp_path / "a.yaml.lock.json").symlink_to(target)
    (tmp_path / ".a.lock.json.tmp").symlink_to(target)  # the old fixed temporary name
    code, _, _ = run("lock", "a.yaml", cwd=tmp_path)
    assert code == 0 and target.read_text() == "keep me"
    lock = tmp_path / "a.yaml.lock.json"
    assert not lock.is_symlink() and '"spec": "a.yaml"' in lock.read_text()


def test_output_as_a_shell_redirect_would(tmp_path):
    # a device is written through, never replaced by a file
    assert run("table", "lenet5", "-o", "/dev/null", cwd=tmp_path)[0] == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    code, out, _ = run("table", "lenet5", "-f", "json", "-o", "/dev/stdout", cwd=tmp_path)
    assert code == 0 and '"model": "lenet5"' in out
    one_line_error(*run("table", "lenet5", "-o", "missing/out.txt", cwd=tmp_path)[::2], "no folder")
    (tmp_path / "folder").mkdir()
    one_line_error(*run("table", "lenet5", "-o", "folder", cwd=tmp_path)[::2], "it is a folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]  # no temporary file left behind
    old = os.umask(0o027)
    try:
        assert run("table", "lenet5", "-o", "new.txt", cwd=tmp_path)[0] == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.txt").st_mode) == 0o640  # 0666 less the umask


def test_github_annotations_cannot_be_injected(tmp_path):
    from cnncalc.output.render import render_check
    from cnncalc.workflows.ci import Finding, Result

    result = Result(file="a,b:c.yaml", model="m",
                    findings=(Finding(kind="invalid", message="100% bad\n::stop-commands::x", line=3),))
    line = render_check([result], "github").splitlines()[0]
    # GitHub's toolkit escaping: % %25, CR %0D, LF %0A; in properties also : %3A and , %2C
    assert line == "::error file=a%2Cb%3Ac.yaml,line=3,title=cnncalc invalid::m: 100%25 bad%0A::stop-commands::x"


def test_graph_labels_are_quoted(tmp_path):
    path = spec(tmp_path, SMALL + "  - relu:\n    name: 'say \"hi\" <b>'\n")
    mermaid = run("graph", str(path), cwd=tmp_path)[1]
    assert '["say #quot;hi#quot; #lt;b#gt;<br/>relu"]' in mermaid
    dot = run("graph", str(path), "-f", "dot", cwd=tmp_path)[1]
    assert 'label="say \\"hi\\" <b>\\nrelu"' in dot


def test_options_that_would_crash(tmp_path):
    one_line_error(*run("table", "vgg", "--set", "depth=[1", cwd=tmp_path)[::2], "--set depth")
    one_line_error(*run("table", "vgg", "--set", "depth=" + "9" * 4400, cwd=tmp_path)[::2], "--set depth")
    one_line_error(*run("sweep", "vgg16", "--batch", "0", cwd=tmp_path)[::2], "at least 1")
    one_line_error(*run("sweep", "vgg16", "--sizes", "1:100000000:1", cwd=tmp_path)[::2], "--limit sizes=N")
    one_line_error(*run("--limit", "layers=x", "table", "vgg16", cwd=tmp_path)[::2], "positive whole number")
    one_line_error(*run("sweep", "vgg16", "--sizes", "28:29:1:5", cwd=tmp_path)[::2], "--sizes takes START:STOP:STEP")
    one_line_error(*run("table", "vgg16", "--batch", "9" * 330, cwd=tmp_path)[::2], "at most 2^63 - 1")
    one_line_error(*run("sweep", "vgg16", "--sizes", "28:29", "--batch", "1," + "9" * 330, cwd=tmp_path)[::2],
                   "at most 2^63 - 1")
    one_line_error(*run("sizes", "vgg16", "--max", "9" * 30, cwd=tmp_path)[::2], "at most 2^63 - 1")
    one_line_error(*run("table", "vgg16", "--input", f"3x{10 ** 299}x{10 ** 299}", cwd=tmp_path)[::2],
                   "more than 2^63 - 1 elements")


def test_a_lock_file_check_could_not_read_is_not_written(tmp_path):
    path = spec(tmp_path, SMALL + "  - relu:\n    repeat: 40\n")
    one_line_error(*run("--limit", "spec_bytes=2000", "lock", str(path), cwd=tmp_path)[::2], "more than check reads")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.yaml"]


@pytest.mark.parametrize("kind", ["roll: {shifts: 3, dims: 2}", "reflectionpad1d: {padding: 2}",
                                  "replicationpad1d: {padding: [1, 4]}"])
def test_exact_fields_of_long_inputs_are_closed_form(tmp_path, kind):
    # each unit's exact interval was a walk over every unit: 1.9 GB and a MemoryError on [1, 1e8]
    path = spec(tmp_path, f"input: [1, 100000000]\nlayers:\n  - {kind}\n")
    code, out, err = run("rf", str(path), "-f", "json", cwd=tmp_path)  # bounded: 5 s, 500 MB
    assert code == 0 and "Traceback" not in err, err


def test_work_an_argument_drives_is_closed_form(tmp_path):
    # nn.LSTM(8, 4, num_layers=L): 4 gates of 4 × (8 + 4) weights first, 4 × (4 + 4) in each layer above,
    # and two biases of 16 per layer (torch's parameter shapes)
    layers = 10 ** 9
    path = spec(tmp_path, f"input: [10, 8]\nlayers:\n  - lstm: {{hidden_size: 4, num_layers: {layers}, "
                          "batch_first: true}\n")
    code, out, err = run("table", str(path), "-f", "json", cwd=tmp_path)
    assert code == 0, err
    assert f'"params": {16 * 12 + (layers - 1) * 16 * 8 + layers * 32}' in out
    for convention in ("ptflops", "thop"):  # their counts loop over the layers as their hooks do: in closed form
        assert run("table", str(path), "-c", convention, cwd=tmp_path)[0] == 0


def test_work_over_many_points_or_rows_is_bounded(tmp_path):
    # a sweep analyses every layer at every size: 31 default sizes × 20,000 layers is past the bound
    many = spec(tmp_path, SMALL + "  - relu:\n    repeat: 20000\n")
    one_line_error(*run("sweep", str(many), cwd=tmp_path)[::2], "--limit analyses=N")
    one_line_error(*run("sizes", str(many), cwd=tmp_path)[::2], "--limit analyses=N")
    # two specs of 10,000 rows whose kinds alternate out of step: every relu equals every relu, which a
    # sequence alignment weighs pair by pair (5·10^7 pairs); bounded, each row is paired or named as one
    # side's own
    a = spec(tmp_path, SMALL + "  - relu\n  - sigmoid\n" * 5_000, "a.yaml")
    b = spec(tmp_path, SMALL + "  - sigmoid\n  - relu\n" * 5_000, "b.yaml")
    code, out, err = run("diff", str(a), str(b), "-f", "json", cwd=tmp_path)
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows["pairs"]) + len(rows["only_in_a"]) == len(rows["pairs"]) + len(rows["only_in_b"]) == 10_000


@pytest.mark.slow  # 5 s of the default set's 5 minutes
def test_a_spec_at_the_layer_limit_prints_its_json_within_the_memory_bound(tmp_path):
    """49,000 layers of names near the length limit: 78 MB of JSON, written within 500 MB (Python's own
    indented JSON writer needed more, and about twice the time: output/jsontext.py). The time allowed
    is a loaded machine's; on an idle one it takes about 3 s."""
    path = spec(tmp_path, "input: [3, 8, 8]\nblocks:\n  unit:\n    layers:\n"
                          "      - conv2d: {out_channels: 4, kernel_size: 3, padding: 1}\n        name: \"${'c' * 240}\"\n"
                          "      - batchnorm2d:\n        name: \"${'b' * 240}\"\n"
                          "      - relu:\n        name: \"${'r' * 240}\"\n"
                          "layers:\n  - unit:\n    name: \"${'u' * 240}${i}\"\n    repeat: 16300\n")
    code, out, err = run("table", str(path), "-f", "json", cwd=tmp_path, seconds=6 * SECONDS)
    assert code == 0, err[-300:]
    data = json.loads(out)
    assert len(data["layers"]) == 1 + 3 * 16300 and data["totals"]["params"] == 112 + 16299 * 148 + 16300 * 8  # convs 3→4, then 4→4; norms


def crafted_repository(folder: Path) -> dict[str, str]:
    """A pull request's files: each spec or folder that must get its own verdict → what it says."""
    broken = {"softmax.yaml": SMALL + "  - softmax: {dim: 7}\n",
              "shadow.yaml": "input: [3, 8, 8]\nblocks:\n  relu: {layers: [sigmoid]}\nlayers:\n  - relu\n",
              "tile.yaml": SMALL + "  - tile: {dims: [1, 4000000000, 4000000000, 4000000000]}\n",
              "names.yaml": SMALL + "  - relu:\n    name: \"${'a' * 9000}${i}\"\n    repeat: 40000\n",
              "lstm.yaml": "input: [10, 8]\nlayers:\n  - lstm: {hidden_size: 4, num_layers: 1000000000000000000000, "
                           "batch_first: true}\n",
              "numbers.yaml": SMALL + "  - relu: {inplace: [" + ", ".join(["1"] * 1_000_000) + "]}\n",
              "nested.yaml": SMALL + "  - relu\n", "digits.yaml": SMALL + "  - relu\n",
              "\x1b]52;c;x\x07::error::x.yaml": SMALL + "  - nosuchkind\n",
              "good.yaml": SMALL + "  - relu\n",
              "over.yaml": "budget: {max_params: 1}\n" + SMALL + "  - conv2d: {out_channels: 4, kernel_size: 3}\n"}
    for name, text in broken.items():
        spec(folder, text, name)
    (folder / "nested.yaml.lock.json").write_text('{"models": ' + "[" * 200_000 + "]" * 200_000 + "}")
    (folder / "digits.yaml.lock.json").write_text('{"models": {"digits": {"input": [' + "9" * 4400 + "]}}}")
    deep = folder
    for _ in range(1_100):  # made level by level: Path.mkdir(parents=True) recurses past Python's stack
        deep = deep / "d"
        deep.mkdir()
    (deep / "deep.yaml").write_text(SMALL + "  - relu\n")
    return {**{name: "✗" for name in broken}, "good.yaml": "✓", "over.yaml": "exceed the budget",
            "d/d/d": "100 deep"}


def test_a_hostile_repository(tmp_path):
    """A folder as a pull request would bring it: every file gets its own verdict, in bounded time and
    memory, with nothing written and nothing a terminal or GitHub would act on."""
    verdicts = crafted_repository(tmp_path)
    try:
        _check_hostile_repository(tmp_path, verdicts)
    finally:  # pytest's own clean-up (shutil.rmtree) recurses past Python's stack in the deep folder
        _remove_deep_folder(tmp_path / "d")


def _remove_deep_folder(top: Path) -> None:
    deep = top
    while (deep / "d").is_dir():
        deep = deep / "d"
    (deep / "deep.yaml").unlink(missing_ok=True)
    while deep != top.parent:
        deep.rmdir()
        deep = deep.parent


def _check_hostile_repository(tmp_path: Path, verdicts: dict) -> None:
    before = _listing(tmp_path)
    code, out, err = run("check", ".", cwd=tmp_path, seconds=SECONDS * len(verdicts))
    assert code == 2 and "Traceback" not in err + out, err
    lines = (out + err).splitlines()
    assert all(not line.startswith("::") and line.isprintable() for line in lines), lines
    for name, verdict in verdicts.items():  # each its own verdict: on its line, or the line below it
        shown = name.replace("\x1b", "\\x1b").replace("\x07", "\\x07")
        assert any(shown in line and verdict in line + below for line, below in zip(lines, lines[1:] + [""])), \
            (name, out)
    assert _listing(tmp_path) == before  # nothing written


def _listing(folder: Path) -> list[str]:
    """Every path under a folder, walked without recursion (Path.rglob recurses past Python's stack)."""
    paths, pending = [], [str(folder)]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                paths.append(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
    return sorted(paths)


def test_a_zoo_name_wins_over_a_file_unless_it_looks_like_a_path(tmp_path):
    (tmp_path / "vgg16").write_text("input: [1, 28, 28]\n")
    assert '"model": "vgg16"' in run("table", "vgg16", "-f", "json", cwd=tmp_path)[1]
    one_line_error(*run("table", "./vgg16", cwd=tmp_path)[::2], "missing 'layers'")


def test_limits_are_set_per_run(tmp_path):
    path = spec(tmp_path, SMALL + "  - relu:\n    repeat: 2000\n")
    one_line_error(*run("--limit", "layers=1000", "table", str(path), cwd=tmp_path)[::2], "--limit layers=N")
    code, out, _ = run("--limit", "layers=3000", "table", str(path), "-f", "csv", cwd=tmp_path)
    assert code == 0 and out.count("\n") == 2002  # header, input and 2,000 ReLUs


# ---- fuzz: the zoo's YAML specs, mutated ----

ZOO_YAML = sorted(zoo_dir().glob("*.yaml"))
HOSTILE_VALUES = ["0", "-1", "064", ".nan", ".inf", "1e400", "9" * 400, '"${9**9**9}"', "[1, [2, [3]]]", "{a: 1}",
                  "true", '"$nothing"', '"${1/0}"', "*x", "&x 1", "~", "''", "\"\\u0000\"", "1000000000"]


@st.composite
def mutated_spec(draw) -> str:
    lines = draw(st.sampled_from(ZOO_YAML)).read_text().splitlines()
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["value", "delete", "duplicate", "indent"]))
        if action == "value" and ":" in lines[index]:
            head = lines[index].rsplit(":", 1)[0]
            lines[index] = f"{head}: {draw(st.sampled_from(HOSTILE_VALUES))}"
        elif action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        else:
            lines[index] = "  " + lines[index]
        if not lines:
            lines = ["x"]
    return "\n".join(lines) + "\n"


@pytest.mark.slow  # the fuzzing runs in the slow set, which .ci/run runs too
@settings(max_examples=300, deadline=SECONDS * 1000, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_spec(), st.sampled_from([["table"], ["rf"], ["check"], ["table", "-f", "json"]]))
def test_mutated_zoo_specs_end_cleanly(tmp_path_factory, text, command):
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "m.yaml").write_text(text)
    before = set(folder.iterdir())
    result = CliRunner().invoke(app, [*command, str(folder / "m.yaml")])
    assert result.exit_code in (0, 1, 2)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert set(folder.iterdir()) == before  # nothing written beside the spec


@pytest.mark.slow
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mutated_spec())
def test_mutated_specs_stay_within_time_and_memory(tmp_path, text):
    (tmp_path / "m.yaml").write_text(text)
    code, _, err = run("check", "m.yaml", cwd=tmp_path)  # bounded: 5 s, 500 MB
    assert code in (0, 1, 2) and "Traceback" not in err



ACTING = st.sampled_from(["\n", "\r", "\x1b]52;c;", "\x1b[31m", "\u202e", "\u200b", "\u2028", "\x85", "\x07"])


@pytest.mark.slow  # 10 s: three processes an example
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.one_of(ACTING, st.sampled_from(["::error::x", "::add-mask::y", "a", "%0A"])),
                      min_size=1, max_size=6))
def test_no_file_name_or_spec_string_acts_on_a_terminal_or_ci(tmp_path, parts):
    # a pull request names a spec so that its name, printed raw, starts a workflow command or an escape
    name = "".join(parts) + ".yaml"
    folder = tmp_path / str(len(list(tmp_path.iterdir())))
    folder.mkdir()
    spec(folder, SMALL + "  - nosuchkind\n", name)
    spec(folder, SMALL + "  - relu\n", "good.yaml")
    for args in (("check", "."), ("lock", "."), ("table", name)):
        code, out, err = run(*args, cwd=folder)
        for line in (out + err).splitlines():
            assert not line.startswith("::") and line.isprintable(), (args, line)
