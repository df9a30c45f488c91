"""The bounds on reading a spec are a value handed down (`limits=`), never state a load leaves behind:
two loads with other limits in one process each keep their own."""
import dataclasses

import pytest
from typer.testing import CliRunner

from cnncalc.errors import SpecError
from cnncalc.spec.limits import Limits, over, parse_limits
from cnncalc.spec.load import load_spec

DEEP = "input: [3, 8, 8]\nlayers:\n  - relu:\n    repeat: 20\n"  # 20 layers once expanded
WIDE = "input: [3, 8, 8]\nlayers:\n" + "  - relu\n" * 12  # 12 layers as written: 20 YAML nodes


def test_settings_give_a_value_and_leave_the_defaults_as_they_were():
    assert parse_limits([]) == Limits()
    assert parse_limits(["layers=7", "nesting=3"]) == dataclasses.replace(Limits(), layers=7, nesting=3)
    assert Limits().layers == 50_000  # the default, whatever was parsed before
    with pytest.raises(dataclasses.FrozenInstanceError):
        Limits().layers = 1  # type: ignore[misc]


@pytest.mark.parametrize("setting, message", [
    ("layer=5", "--limit: unknown limit 'layer' (did you mean 'layers'?) (limits: spec_bytes, yaml_nodes, layers,"),
    ("layers=0", "--limit layers takes a positive whole number, got '0'"),
    ("layers=-3", "--limit layers takes a positive whole number, got '-3'"),
    ("layers", "--limit layers takes a positive whole number, got ''"),
])
def test_a_bad_setting_is_named(setting, message):
    with pytest.raises(SpecError) as caught:
        parse_limits([setting])
    assert message in str(caught.value)


def test_a_bound_reached_names_the_setting_that_raises_it():
    assert over("more than 9 layers", "layers") == \
        "more than 9 layers (raise it with --limit layers=N for a trusted spec)"


def test_two_loads_with_other_limits_in_one_process_do_not_leak(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text(DEEP)
    for _ in range(2):  # tight, then the default, then tight again: each load keeps its own bound
        with pytest.raises(SpecError, match=r"repeat 20 is more than the 10 layers a spec may have \(raise it with "
                                             r"--limit layers=N"):
            load_spec(path, limits=Limits(layers=10))
        assert len(load_spec(path).nodes) == 20
        assert len(load_spec(path, limits=Limits(layers=30)).nodes) == 20


def test_a_file_parsed_once_is_held_to_the_limits_of_each_load(tmp_path):
    # the parsed file is cached: a file read within the defaults is still refused under a tighter bound
    path = tmp_path / "wide.yaml"
    path.write_text(WIDE)
    assert len(load_spec(path).nodes) == 12
    with pytest.raises(SpecError, match=r"more than 15 nodes \(raise it with --limit yaml_nodes=N"):
        load_spec(path, limits=Limits(yaml_nodes=15))
    with pytest.raises(SpecError, match=r"larger than 10 bytes \(raise it with --limit spec_bytes=N"):
        load_spec(path, limits=Limits(spec_bytes=10))
    assert len(load_spec(path).nodes) == 12


def test_a_python_spec_run_once_is_held_to_the_limits_of_each_load(tmp_path):
    path = tmp_path / "net.py"
    path.write_text('spec = {"input": [3, 8, 8], "layers": ["relu"] * 4}\n')
    assert len(load_spec(path).nodes) == 4
    with pytest.raises(SpecError, match=r"larger than 10 bytes"):
        load_spec(path, limits=Limits(spec_bytes=10))
    with pytest.raises(SpecError, match=r"more than 3 layers"):
        load_spec(path, limits=Limits(layers=3))
    assert len(load_spec(path).nodes) == 4


def test_two_command_lines_in_one_process_each_get_their_own_limits(tmp_path):
    from cnncalc.cli import app

    path = tmp_path / "deep.yaml"
    path.write_text(DEEP)
    runner = CliRunner()
    for _ in range(2):
        assert runner.invoke(app, ["--limit", "layers=10", "table", str(path)]).exit_code == 2
        assert runner.invoke(app, ["table", str(path), "-f", "csv"]).exit_code == 0
