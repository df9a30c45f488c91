"""The command line as a user meets it: formats, options, list, show, files, python -m."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest

from cnncalc.spec.zoo import zoo_dir
from conftest import ZOO, compare, run_cli

torchvision_vgg16 = {"params": 138_357_544, "macs": 15_470_264_320}  # torchvision's published table


def table_json(*args: str) -> dict:
    result = run_cli("table", *args, "-f", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_table_renders_in_100_columns(tmp_path):
    result = run_cli("table", "vgg16", cwd=tmp_path)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert "138,357,544 (138.4 M)" in result.stdout and "15,470,264,320 (15.5 G)" in result.stdout
    # the seeds' VGG walk-through: (3×3×3)×64 = 1,728 weights + 64 biases; 224·224·64 outputs × 27 MACs
    assert any(re.match(r"\s+0\.conv2d\s+conv2d\s+64×224×224\s+1,792\s+86,704,128", line) for line in lines)


def test_json_contract():
    data = table_json("vgg16")
    assert {"model", "input", "batch", "dtype", "layers", "totals"} <= set(data)
    assert {"name", "kind", "inputs", "output_shape", "weights", "biases", "params", "buffers",
            "activations", "activation_bytes", "macs", "flops"} <= set(data["layers"][1])
    assert set(data["totals"]) >= {"params", "trainable_params", "buffers", "param_bytes", "activations",
                                   "activation_bytes", "macs", "flops"}
    assert (data["totals"]["params"], data["totals"]["macs"]) == tuple(torchvision_vgg16.values())
    assert data["layers"][1]["inputs"] == ["input"] and data["layers"][1]["output_shape"] == [64, 224, 224]


def test_batch_and_dtype_scale_what_they_scale():
    one, four = table_json("alexnet"), table_json("alexnet", "--batch", "4", "--dtype", "float16")
    assert four["totals"]["params"] == one["totals"]["params"]
    assert four["totals"]["param_bytes"] == one["totals"]["param_bytes"] // 2
    assert four["totals"]["macs"] == 4 * one["totals"]["macs"]
    assert four["totals"]["activations"] == 4 * one["totals"]["activations"]
    assert four["totals"]["activation_bytes"] == 2 * four["totals"]["activations"]


def test_input_override_matches_torch_at_that_size():
    pytest.importorskip("torch")
    from cnncalc.spec.zoo import load_model
    data = table_json("alexnet", "--input", "3x256x200")
    assert data["input"] == [3, 256, 200]
    compare(load_model("alexnet").with_input((3, 256, 200)))


def test_depth_collapses_blocks_and_keeps_totals():
    full, collapsed = table_json("vgg16"), table_json("vgg16", "--depth", "1")
    names = [layer["name"] for layer in collapsed["layers"]]
    assert names == ["input", "features", "avgpool", "2.flatten", "classifier"]
    assert sum(layer["params"] for layer in collapsed["layers"]) == full["totals"]["params"]
    assert sum(layer["macs"] for layer in collapsed["layers"]) == full["totals"]["macs"]
    assert collapsed["layers"][1]["output_shape"] == [512, 7, 7]
    assert collapsed["totals"] == full["totals"]


def test_explain_shows_formulas():
    result = run_cli("table", "alexnet_original", "--explain")
    assert "out: (227 − 11 + 2·0)/4 + 1 = 55" in result.stdout
    assert "im2col: filter matrix 128×1200 · image matrix 1200×729 per group (×2) = 128×729" in result.stdout
    data = table_json("conv_example", "--explain")
    assert "weights: 10 × 3 × 5 × 5 = 750; biases: 10" in data["layers"][1]["explain"]


def test_flooring_is_marked(tmp_path):
    spec = tmp_path / "floor.yaml"
    spec.write_text("input: [3, 224, 224]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 3, stride: 2}\n")
    result = run_cli("table", str(spec))
    assert "4×111×111 ⚠" in result.stdout
    assert "0.conv2d: flooring leaves 1/1 input rows/columns unused" in result.stdout


def test_csv_and_markdown():
    rows = list(csv.DictReader(io.StringIO(run_cli("table", "lenet5", "-f", "csv").stdout)))
    assert rows[1]["name"] == "0.conv2d" and rows[1]["output_shape"] == "6x28x28" and rows[1]["params"] == "156"
    markdown = run_cli("table", "lenet5", "-f", "markdown").stdout
    assert "| 0.conv2d | conv2d | 6×28×28 | 156 |" in markdown and "| **total** | | | **61,706** |" in markdown


def test_output_file(tmp_path):
    out = tmp_path / "vgg.json"
    assert run_cli("table", "vgg11", "-f", "json", "-o", str(out)).stdout == ""
    assert json.loads(out.read_text())["model"] == "vgg11"


def test_list_and_show():
    listing = run_cli("list", "-f", "json")
    models = {row["model"]: row for row in json.loads(listing.stdout)}
    assert set(models) == set(ZOO)
    assert models["vgg16"]["params"] == torchvision_vgg16["params"]
    shown = run_cli("show", "lenet5")
    assert shown.returncode == 0 and "linear: {out_features: 120}" in shown.stdout


def test_spec_path_and_set(tmp_path):
    data = table_json(str(zoo_dir() / "vgg.yaml"), "--set", "depth=11", "--set", "batch_norm=true")
    assert data["totals"]["params"] == 132_868_840  # torchvision's vgg11_bn


def test_help_lists_commands():
    result = run_cli("--help")
    assert result.returncode == 0 and all(c in result.stdout for c in ("table", "list", "show"))


@pytest.mark.parametrize("name", ["table", "check", "diff", "coverage"])
def test_help_names_what_options_take_and_nothing_beside_flags(name, capsys, monkeypatch):
    from cnncalc.cli import main

    monkeypatch.setattr("sys.argv", ["cnncalc", name, "--help"])
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit):
        main()
    text = capsys.readouterr().out
    assert not re.search(r"<(str|bool|int|path|list)", text), text  # typer 0.29 shows Python's types by default
    assert re.search(r"--verbose\s+-v\s+│?\s*On an error", text) and re.search(r"--help\s+-h\s+Show this", text)
    assert re.search(r"--format\s+-f\s+FORMAT\s", text)


def test_version_is_the_package_version():
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    version = tomllib.loads(pyproject.read_text())["project"]["version"]
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout == f"cnncalc {version}\n"


@pytest.mark.slow  # 5 s: a process per command
def test_every_command_takes_h():
    from cnncalc.cli import app

    names = [command.name or command.callback.__name__ for command in app.registered_commands]
    assert len(names) >= 12
    for name in names:
        result = run_cli(name, "-h")
        assert result.returncode == 0 and "Usage:" in result.stdout, name


@pytest.mark.parametrize("name, first", [("out.json", "{"), ("out.csv", "name,kind,inputs"), ("out.md", "**lenet5**"),
                                         ("out.txt", "Layer"), ("out", "Layer")])
def test_the_output_suffix_chooses_the_format(tmp_path, name, first):
    assert run_cli("table", "lenet5", "-o", str(tmp_path / name)).returncode == 0
    assert (tmp_path / name).read_text().startswith(first)
    # --format wins over the suffix
    assert run_cli("table", "lenet5", "-f", "csv", "-o", str(tmp_path / "x.json")).returncode == 0
    assert (tmp_path / "x.json").read_text().startswith("name,kind,inputs")


def test_markdown_activations_sum_to_the_total():
    lines = run_cli("table", "resnet18", "-f", "markdown").stdout.splitlines()
    cells = [line.split("|")[6].strip() for line in lines if line.startswith("| ") and "**total**" not in line][1:]
    total = next(line for line in lines if "**total**" in line).split("|")[6].strip().strip("*")
    assert "(shared)" in cells  # in-place ReLUs and flatten store nothing of their own
    assert sum(int(c.replace(",", "")) for c in cells if c != "(shared)") == int(total.replace(",", ""))


@pytest.mark.slow  # 2 s: CLI processes
def test_a_missing_model_file_is_named(tmp_path):
    result = run_cli("table", str(tmp_path / "nofile.py") + ":MyNet", "--input", "3x8x8")
    assert result.returncode == 2 and result.stderr.strip().endswith("nofile.py: no such file")


@pytest.mark.parametrize("option, value", [("--batch", "x"), ("--depth", "2.5")])
def test_a_bad_integer_option_is_a_usage_error(option, value):
    result = run_cli("table", "lenet5", option, value)
    assert result.returncode == 2 and f"'{value}' is not a valid integer" in result.stderr


def test_options_arrive_converted():
    data = json.loads(run_cli("table", "alexnet", "--batch", "3", "--depth", "1", "--format", "json").stdout)
    # torch.utils.flop_counter on torchvision's alexnet: 1,428,376,960 FLOPs = 2 × MACs per sample
    assert data["batch"] == 3 and data["totals"]["macs"] == 3 * 1_428_376_960 // 2


@pytest.mark.parametrize("argv, name", [(["table", "vgg16"], "table"), (["--limit", "layers=9", "rf", "x"], "rf"),
                                        (["--version"], None), (["-h"], None), (["--limit=layers=9", "list"], "list")])
def test_the_invoked_command_is_found_past_group_options(argv, name):
    from cnncalc.cli import invoked

    assert invoked(argv) == name


def test_group_options_before_the_command_still_apply(tmp_path):
    spec = tmp_path / "deep.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - relu:\n    repeat: 20\n")
    assert run_cli("--limit", "layers=10", "table", str(spec)).returncode == 2
    assert run_cli("--limit", "layers=30", "table", str(spec)).returncode == 0


def test_a_family_spec_lists_the_values_a_parameter_may_take():
    result = run_cli("table", str(zoo_dir() / "vgg.yaml"), "--set", "depth=17")
    assert result.returncode == 2 and "depth must be one of 11, 13, 16, 19, got 17" in result.stderr


def test_a_changed_model_is_named_with_its_settings():
    data = table_json("vgg16", "--set", "num_classes=10")
    # torchvision's vgg16 (138,357,544) with the last layer 4096×10 + 10 instead of 4096×1000 + 1000
    assert (data["model"], data["totals"]["params"]) == ("vgg16 (num_classes=10)", 138_357_544 - 4_097_000 + 40_970)


def test_o_writes_what_its_suffix_names_or_refuses(tmp_path):
    # graph -o r18.png wrote Mermaid text, table -o x.html the text table: now refused, pointing elsewhere
    for command, name, hint in (("graph", "r18.png", "cnncalc plot draws PNG"), ("table", "x.html", "cnncalc report"),
                                ("table", "x.xyz", "this command writes .json, .csv, .md, .txt")):
        result = run_cli(command, "lenet5", "-o", str(tmp_path / name))
        assert result.returncode == 2 and hint in result.stderr and not (tmp_path / name).exists()
    assert run_cli("table", "lenet5", "-o", str(tmp_path / "x.csv")).returncode == 0
    assert (tmp_path / "x.csv").read_text().startswith("name,kind,")


def test_token_ids_are_int64_on_the_command_line_and_in_a_spec(tmp_path):
    # 16 int64 ids: 128 bytes (torch.empty(16, dtype=torch.long).nbytes); the table, 1000 × 64 floats
    spec = tmp_path / "text.yaml"
    spec.write_text("input: [16]\ninput_dtype: int64\nlayers:\n  - embedding: {num_embeddings: 1000, embedding_dim: 64}\n")
    result = run_cli("table", str(spec), "--format", "json")
    data = json.loads(result.stdout)
    assert data["layers"][0]["activation_bytes"] == 128 and data["totals"]["params"] == 64_000
    assert "16 int64 × batch 1" in run_cli("table", str(spec)).stdout
    spec.write_text("input: [16]\ninput_dtype: float16\nlayers:\n  - relu:\n")
    result = run_cli("table", str(spec))
    assert result.returncode == 2 and "input_dtype must be one of int64, int32, int8, bool" in result.stderr
    result = run_cli("table", "lenet5", "--input", "1x32x32:float16")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "one of int64, int32, int8, bool" in result.stderr


def test_the_module_column_names_each_rows_class(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 3}\n    module: Conv2d\n"
                    "  - relu:\n")
    lines = run_cli("table", str(spec), "--columns", "module").stdout.splitlines()
    assert lines[0].split()[:3] == ["Layer", "Module", "Kind"] and lines[2].split()[:3] == ["0.conv2d", "Conv2d", "conv2d"]
    assert json.loads(run_cli("table", str(spec), "--format", "json").stdout)["layers"][1]["module"] == "Conv2d"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 3}\n    module: 3\n")
    result = run_cli("table", str(spec))
    assert result.returncode == 2 and "module names the module class it runs as, got 3" in result.stderr
    result = run_cli("table", str(spec), "--columns", "nosuch")
    assert result.returncode == 2 and "--columns knows rf and module" in result.stderr
