"""`cnncalc check` and `cnncalc lock` as CI uses them: exit codes, budgets, drift, annotations, hook."""
from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import yaml

from cnncalc.spec.zoo import zoo_dir
from conftest import ZOO, run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_the_zoo_checks_clean():
    result = run_cli("check", str(zoo_dir()), "--allow-python")  # the zoo's own Python specs: trusted
    assert result.returncode == 0
    assert result.stdout.strip().splitlines()[-1] == f"{len(ZOO)} models checked, {len(ZOO)} passed, 0 failed"


def test_python_specs_run_only_when_allowed():
    result = run_cli("check", str(zoo_dir()))
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    # resnet.py, densenet.py and mobilenet_v3.py define 17 of the 37 zoo models
    assert lines[-2].startswith("3 Python specs not run (--allow-python")
    assert lines[-1] == f"{len(ZOO) - 17} models checked, {len(ZOO) - 17} passed, 0 failed"


def test_cli_budget_fails_with_exit_1():
    result = run_cli("check", str(zoo_dir() / "vgg.yaml"), "--max-params", "135M", "--max-macs", "12G")
    assert result.returncode == 1
    # torchvision's published vgg16: 138,357,544 parameters, 15.47 GMACs
    assert "parameters 138,357,544 exceed the budget of 135,000,000" in result.stdout
    assert "MACs 15,470,264,320 exceed the budget of 12,000,000,000" in result.stdout
    assert "✓" in result.stdout and "vgg11:" in result.stdout  # 132.9 M parameters, 7.6 GMACs


def test_spec_budget_section_points_at_its_line(tmp_path):
    spec = tmp_path / "small.yaml"
    spec.write_text("input: [1, 28, 28]\nbudget:\n  max_params: 50K\nlayers:\n  - flatten\n"
                    "  - linear: {out_features: 100}\n")
    result = run_cli("check", str(spec), "--format", "github")
    assert result.returncode == 1
    # 28·28·100 + 100 = 78,500 parameters
    assert f"::error file={spec},line=3,title=cnncalc budget::small: parameters 78,500 exceed the budget of 50,000" \
        in result.stdout


def test_lock_then_drift(tmp_path):
    spec = tmp_path / "lenet5.yaml"
    shutil.copy(zoo_dir() / "lenet5.yaml", spec)
    assert run_cli("lock", str(spec)).returncode == 0
    lock = tmp_path / "lenet5.yaml.lock.json"
    first = lock.read_text()
    run_cli("lock", str(spec))
    assert lock.read_text() == first  # stable: no timestamps, sorted keys
    assert run_cli("check", str(spec)).returncode == 0
    spec.write_text(spec.read_text().replace("out_features: 120", "out_features: 100"))
    result = run_cli("check", str(spec))
    assert result.returncode == 1
    # d2l's LeNet: the first dense layer has 400·120 + 120 = 48,120 parameters; with 100 outputs 40,100
    assert "7.linear: params 48,120 → 40,100 (line 14)" in result.stdout
    assert "total params 61,706 → 52,006" in result.stdout
    data = json.loads(run_cli("check", str(spec), "-f", "json").stdout)
    assert data["summary"] == {"checked": 1, "passed": 0, "failed": 1}
    assert {f["kind"] for f in data["results"][0]["findings"]} == {"drift"}


def test_invalid_spec_exits_2_and_names_its_line(tmp_path):
    (tmp_path / "good.yaml").write_text("input: [3, 8, 8]\nlayers:\n  - relu\n")
    (tmp_path / "bad.yaml").write_text("input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 9}\n")
    result = run_cli("check", str(tmp_path), "-f", "github")
    assert result.returncode == 2
    assert f"::error file={tmp_path / 'bad.yaml'},line=3,title=cnncalc invalid::bad: layer '0.conv2d'" in result.stdout
    assert run_cli("check", str(tmp_path / "nothing*.yaml")).returncode == 2


def test_pre_commit_hook_entry(tmp_path):
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    entry = shlex.split(hooks[0]["entry"])
    assert entry[0] == "cnncalc"
    (tmp_path / "ok.yaml").write_text("input: [3, 8, 8]\nlayers:\n  - relu\n")
    (tmp_path / "broken.yaml").write_text("input: [3, 8, 8]\nlayers:\n  - relu: {nope: 1}\n")
    assert run_cli(*entry[1:], str(tmp_path / "ok.yaml")).returncode == 0
    assert run_cli(*entry[1:], str(tmp_path / "ok.yaml"), str(tmp_path / "broken.yaml")).returncode == 2


SMALL = "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 3}\n"  # 112 parameters (torch: 108 + 4)


def test_a_path_that_exists_is_checked_not_globbed(tmp_path):
    # `big[a].yaml` as a glob matches `biga.yaml`: a decoy within budget would pass in its place
    (tmp_path / "big[a].yaml").write_text(SMALL.replace("out_channels: 4", "out_channels: 400"))
    (tmp_path / "biga.yaml").write_text(SMALL)
    result = run_cli("check", str(tmp_path / "big[a].yaml"), "--max-params", "1000")
    assert result.returncode == 1 and "parameters 11,200 exceed the budget of 1,000" in result.stdout


def test_every_spec_under_a_folder_is_checked(tmp_path):
    for name in ("_base.yaml", "upper.YAML", "mixed.Yml"):
        (tmp_path / name).write_text(SMALL.replace("out_channels: 4", "out_channels: 400"))
    result = run_cli("check", str(tmp_path), "--max-params", "1000")
    assert result.returncode == 1 and result.stdout.count("exceed the budget") == 3


def test_budgets_are_exact_beyond_two_to_the_53(tmp_path):
    from cnncalc.spec.budget import parse_quantity

    assert parse_quantity("9007199254740995", False) == 9_007_199_254_740_995  # a float reads ...996
    assert parse_quantity("1.5GiB", True) == 1_610_612_736 and parse_quantity("0.3K", False) == 300
    assert parse_quantity(2 ** 70, False) == 2 ** 70


def test_a_check_that_checked_nothing_fails(tmp_path):
    (tmp_path / "net.py").write_text("raise SystemExit(0)\n")
    result = run_cli("check", str(tmp_path / "net.py"))
    assert result.returncode == 1 and "nothing was checked" in result.stderr


def test_the_tighter_budget_holds(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text(SMALL + "budget: {max_params: 100}\n")  # 112 parameters: over the spec's own 100
    loose = run_cli("check", str(spec), "--max-params", "50M")
    assert loose.returncode == 1 and "parameters 112 exceed the budget of 100" in loose.stdout
    tight = run_cli("check", str(spec), "--max-params", "110")
    assert tight.returncode == 1 and "exceed the budget of 100" in tight.stdout  # 100 is still the tighter


def test_lock_locks_every_good_spec_and_reports_every_bad_one(tmp_path):
    for name in ("a_bad.yaml", "b_good.yaml", "c_bad.yaml", "d_good.yaml"):
        (tmp_path / name).write_text(SMALL + ("  - nosuchkind\n" if "bad" in name else ""))
    result = run_cli("lock", str(tmp_path))
    assert result.returncode == 2
    assert sorted(path.name for path in tmp_path.glob("*.lock.json")) == ["b_good.yaml.lock.json",
                                                                           "d_good.yaml.lock.json"]
    lines = result.stderr.splitlines()  # each broken spec, by file and line
    assert len(lines) == 2 and "a_bad.yaml:4: " in lines[0] and "c_bad.yaml:4: " in lines[1]


def test_a_file_that_is_no_spec_is_named_and_skipped(tmp_path):
    # what the hook passes on a commit touching a workflow (YAML 1.1 reads `on:` as the key True)
    (tmp_path / "ci.yml").write_text("on: [push]\njobs: {}\n")
    (tmp_path / "net.yaml").write_text(SMALL)
    result = run_cli("check", str(tmp_path / "ci.yml"), str(tmp_path / "net.yaml"))
    assert result.returncode == 0 and "1 file skipped: not cnncalc specs" in result.stdout
    assert "1 models checked, 1 passed" in result.stdout and "True" not in result.stdout
    named = run_cli("table", str(tmp_path / "ci.yml"))
    assert named.returncode == 2 and "not a cnncalc spec" in named.stderr


def test_the_exit_status_is_the_worst_findings():
    from cnncalc.workflows.ci import Checked, Finding, Result

    def checked(*kinds, skipped=()):
        results = tuple(Result(file="a.yaml", model="a", findings=(Finding(kind=kind, message="m"),)) for kind in kinds)
        return Checked(results=results or (Result(file="b.yaml", model="b"),) * (not skipped),
                       python_skipped=skipped, not_specs=())

    assert checked().exit_status == 0
    assert checked("budget").exit_status == checked("drift").exit_status == checked("uncounted").exit_status == 1
    assert checked("budget", "invalid", "drift").exit_status == 2
    assert checked(skipped=(Path("net.py"),)).exit_status == 1  # nothing checked has not passed


def test_memory_budgets_hold_under_the_autocast_a_spec_or_the_command_line_names(tmp_path):
    # a 3×32×32 float32 input, a conv to 16×32×32 and its ReLU: 12,288 + 65,536 + 65,536 B of activations
    # in float32; under torch.autocast the conv runs in bfloat16 (on autocast's lower list) and the ReLU
    # in its input's dtype: 12,288 + 32,768 + 32,768 = 77,824 B
    body = "input: [3, 32, 32]\nlayers:\n  - conv2d: {out_channels: 16, kernel_size: 3, padding: 1}\n  - relu\n"
    spec = tmp_path / "net.yaml"
    spec.write_text("budget:\n  max_activation_bytes: 100KB\n" + body)
    plain = run_cli("check", str(spec))
    assert plain.returncode == 1 and "activation bytes 143,360 B exceed the budget of 100,000 B" in plain.stdout
    assert run_cli("check", str(spec), "--amp", "bfloat16").returncode == 0
    spec.write_text("budget:\n  amp: bfloat16\n  max_activation_bytes: 70KB\n" + body)
    held = run_cli("check", str(spec))
    assert held.returncode == 1 and \
        "activation bytes (autocast cuda:bfloat16) 77,824 B exceed the budget of 70,000 B (line 2)" in held.stdout
    spec.write_text("budget:\n  amp: half\n" + body)
    refused = run_cli("check", str(spec))
    assert refused.returncode == 2 and "budget amp: --amp takes float16 or bfloat16" in refused.stdout
