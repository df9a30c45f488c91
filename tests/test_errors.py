"""Bad input: one line on stderr naming file, line and layer; exit code 2; no traceback; no output."""
from __future__ import annotations

import re
import textwrap

import pytest

from conftest import run_cli

CONV = "conv2d: {out_channels: 8, kernel_size: 3}"
CASES = [
    # (name, spec body, line, layer, message fragment)
    ("malformed_yaml", "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 8\n", 4, None,
     "malformed YAML"),
    ("unknown_kind", "input: [3, 8, 8]\nlayers:\n  - conv2: {out_channels: 8}\n", 3, None,
     "unknown layer kind 'conv2' (did you mean 'conv2d'?)"),
    ("unknown_argument", "input: [3, 8, 8]\nlayers:\n  - relu\n  - conv2d: {out_channel: 8, kernel_size: 3}\n",
     4, "1.conv2d", "no argument 'out_channel' (did you mean 'out_channels'?)"),
    ("missing_argument", "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 8}\n", 3, "0.conv2d",
     "needs argument 'kernel_size'"),
    ("kernel_too_large", f"input: [3, 4, 4]\nlayers:\n  - {CONV}\n  - conv2d: {{out_channels: 8, kernel_size: 5}}\n",
     4, "1.conv2d", "larger than the padded input 2×2"),
    ("non_positive_size", "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 0, kernel_size: 3}\n",
     3, "0.conv2d", "out_channels: must be at least 1"),
    ("non_positive_input", "input: [3, 0, 8]\nlayers:\n  - relu\n", 1, None, "positive sizes"),
    ("groups", "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 8, kernel_size: 3, groups: 2}\n",
     3, "0.conv2d", "in_channels 3 is not divisible by groups 2"),
    ("add_broadcast", f"input: [3, 8, 8]\nlayers:\n  - {CONV}\n    name: a\n  - add:\n    from: [input, a]\n",
     5, "1.add", "do not broadcast: 3×8×8, 8×6×6"),
    ("concat_mismatch", f"input: [3, 8, 8]\nlayers:\n  - {CONV}\n    name: a\n  - concat:\n    from: [input, a]\n",
     5, "1.concat", "differ off the concat dim 1"),
    ("unknown_from", f"input: [3, 8, 8]\nlayers:\n  - {CONV}\n    from: stem\n", 3, "0.conv2d",
     "'from' names 'stem', which is no layer"),
    ("cycle", "input: [3, 8, 8]\nlayers:\n  - relu:\n    name: a\n    from: b\n  - relu:\n    name: b\n    from: a\n",
     3, "a", "cycle: a → b → a"),
    ("empty_group_cycle", "input: [3, 8, 8]\nlayers:\n  - relu\n  - sequential: []\n    name: g\n    from: g\n"
                          "  - relu\n", 4, "g", "'from' names 'g', which leads back to itself"),
    ("missing_input", "layers:\n  - relu\n", 1, None, "missing 'input'"),
    ("unknown_top_key", "input: [3, 8, 8]\nlayer:\n  - relu\n", 1, None, "unknown top-level key 'layer' (did you mean 'layers'?)"),
    ("two_kinds", "input: [3, 8, 8]\nlayers:\n  - {relu: null, sigmoid: null}\n", 3, None, "several layer kinds"),
    ("not_run_counts", "input: [3, 8, 8]\nlayers:\n  - relu\nnot_run:\n  aux: {params: -1}\n", 5, "aux",
     "not_run takes {params: N, buffers: N, frozen_params: N ≤ params}"),
    ("not_run_name", "input: [3, 8, 8]\nlayers:\n  - relu:\n    name: aux\nnot_run:\n  aux: {params: 1}\n", 6,
     "aux", "duplicate name 'aux'"),
    ("arity", "input: [3, 8, 8]\nlayers:\n  - add\n", 3, "0.add", "add takes two or more inputs, got 1"),
    ("block_param", "input: [3, 8, 8]\nblocks:\n  b:\n    params: {c: ~}\n    layers:\n      - conv2d: {out_channels: $c, kernel_size: 1}\n"
                    "layers:\n  - b: {d: 3}\n", 8, "0", "block 'b' has no parameter 'd'"),
    ("block_inner_line", "input: [3, 8, 8]\nblocks:\n  b:\n    params: {c: ~}\n    layers:\n      - relu\n"
                         "      - conv2d: {out_channels: $c, kernel_size: 9}\nlayers:\n  - b: {c: 3}\n",
     7, "0.1.conv2d", "(in a block used at line 9)"),
    ("expression", "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: \"${__import__('os')}\", kernel_size: 1}\n",
     3, None, "unsupported expression"),
    ("bare_kind_with_keys", "input: [3, 8, 8]\nlayers:\n  - relu\n    name: a\n", 4, None,
     "needs a colon after its kind"),
    ("bad_expression_value", "input: [3, 8, 8]\nparams: {w: [1, 2]}\nlayers:\n  - conv2d: {out_channels: \"${w[5]}\", kernel_size: 1}\n",
     4, None, "cannot evaluate '${w[5]}': IndexError"),
    ("python_tag", "input: !!python/object/apply:os.system ['echo hacked']\nlayers: [relu]\n", 1, None,
     "malformed YAML"),
]


@pytest.mark.parametrize("name,body,line,layer,message", CASES, ids=[c[0] for c in CASES])
def test_bad_spec_is_one_line_exit_2(tmp_path, name, body, line, layer, message):
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(body)
    out = tmp_path / "out.json"
    result = run_cli("table", str(spec), "-f", "json", "-o", str(out))
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and not out.exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    error = lines[0]
    assert error.startswith(f"cnncalc: error: {spec}:{line}: "), error
    if layer:
        assert f"layer '{layer}'" in error
    assert message in error
    assert "hacked" not in result.stdout + result.stderr


@pytest.mark.parametrize("args,message", [
    (("table", "missing.yaml"), "missing.yaml: no such spec file"),
    (("table", "lenet"), "unknown model 'lenet' (did you mean 'lenet5'?)"),
    (("table", "vgg16", "--input", "3x224"), None),
    (("table", "vgg16", "--input", "3xabc"), "--input must look like 3x224x224"),
    (("table", "vgg16", "--input", "3x16x16"), "layer 'features.30.maxpool2d'"),
    (("table", "vgg16", "--dtype", "float12"), "unknown dtype 'float12'"),
    (("table", "vgg16", "--format", "xml"), "--format must be table, json, csv or markdown, got 'xml'"),
    (("table", "vgg16", "--set", "depth=12"), "--set depth: vgg16 is depth=16; for depth=12 run the family spec"),
    (("table", "vgg16", "--set", "depth=11"), "--set depth: vgg16 is depth=16; for depth=11 run cnncalc table vgg11"),
    (("table", "resnet50", "--set", "depth=18"), "resnet50 is depth=50; for depth=18 run cnncalc table resnet18"),
    (("table", "vgg16", "--set", "deph=11"), "no parameter 'deph' (did you mean 'depth'?)"),
    (("table", "vgg16", "--depth", "0"), "--depth must be at least 1"),
    (("table", "vgg16", "--batch", "0"), "--batch must be at least 1"),
])
def test_bad_options_exit_2(args, message):
    result = run_cli(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    if message:
        assert len(result.stderr.strip().splitlines()) == 1
        assert message in result.stderr


def test_vgg16_at_16_pixels_names_the_failing_pool(tmp_path):
    # five 2×2 pools need at least 32 pixels: 16 → 8 → 4 → 2 → 1 → the fifth pool has no room
    result = run_cli("table", "vgg16", "--input", "3x16x16")
    assert "larger than the padded input 1×1" in result.stderr
    assert textwrap.dedent(result.stderr).count("\n") == 1


def test_checked_arguments_are_not_confused_across_types(tmp_path):
    # True == 1 in Python: a cache of checked arguments must still reject `kernel_size: true`
    spec = tmp_path / "types.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 1}\n"
                    "  - conv2d: {out_channels: 4, kernel_size: true}\n")
    result = run_cli("table", str(spec))
    assert result.returncode == 2 and "kernel_size: expected an integer, got True" in result.stderr


def write_spec(tmp_path, body: str):
    spec = tmp_path / "many.yaml"
    spec.write_text(textwrap.dedent(body))
    return spec


def error_lines(result) -> list[str]:
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    return result.stderr.splitlines()


def test_every_independent_error_of_a_file_is_reported_once(tmp_path):
    spec = write_spec(tmp_path, """\
        input: [3, 32, 32]
        blocks:
          pair:
            layers:
              - conv2d: {out_channels: 8, kernel_size: 3, stide: 1}
        layers:
          - conv2d: {out_channels: 8, kernel_size: 3, stide: 1}
          - pair:
            repeat: 3
          - maxpool2d: {kernel_sise: 2}
          - conv2d: {out_channels: 16, kernel_size: 40}
            name: big
            from: input
          - linear: {out_features: 10}
            from: big
          - add:
            from: [input]
        """)
    lines = error_lines(run_cli("table", str(spec)))
    assert lines == [  # the block's error once, not once per use
        f"cnncalc: error: {spec}:7: layer '0.conv2d': conv2d has no argument 'stide' (did you mean 'stride'?)",
        f"cnncalc: error: {spec}:5: layer '1.0.conv2d': conv2d has no argument 'stide' (did you mean "
        "'stride'?) (in a block used at line 8)",
        f"cnncalc: error: {spec}:10: layer '4.maxpool2d': maxpool2d has no argument 'kernel_sise' (did you mean "
        "'kernel_size'?)",
        f"cnncalc: error: {spec}:16: layer '7.add': add takes two or more inputs, got 1 (set 'from')"]
    spec.write_text(spec.read_text().replace("stide", "stride").replace("sise", "size")
                    .replace("from: [input]", "from: [input, 0.conv2d]"))
    lines = error_lines(run_cli("table", str(spec)))
    # shapes: the 40×40 kernel fails, the linear reading it is not checked, the broadcast fails on its own
    assert [re.search(r":(\d+): layer '([^']+)'", line).groups() for line in lines] == [("11", "big"), ("16", "7.add")]
    assert "larger than the padded input 32×32" in lines[0] and "do not broadcast" in lines[1]


def test_errors_of_different_kinds_are_all_reported(tmp_path):
    spec = write_spec(tmp_path, """\
        input: [3, 32, 0]
        budgt: {max_params: 1M}
        layers:
          - conv2d: {out_channels: 8, kernel_size: 3, stride: -1}
            name: stem
          - reluu:
            name: act
          - maxpool2d: {kernel_size: 2}
            from: nosuch
          - conv2d: {out_channels: 8, kernel_size: 3}
            from: stem
          - sigmoid:
            from: act
          - linear: {out_features: 10}
            weights_of: stem
        """)
    lines = error_lines(run_cli("table", str(spec)))
    assert [re.match(r"cnncalc: error: (.+?:\d+): ", line).group(1) for line in lines] == \
        [f"{spec}:1"] * 2 + [f"{spec}:{n}" for n in (4, 6, 8)]
    assert "unknown top-level key 'budgt' (did you mean 'budget'?)" in lines[0]
    assert "input must be a per-sample shape" in lines[1]
    assert "layer 'stem': conv2d: stride: must be at least 1, got -1" in lines[2]
    assert "unknown layer kind 'reluu' (did you mean 'relu'?)" in lines[3]
    assert "layer '2.maxpool2d': 'from' names 'nosuch', which is no layer of this spec" in lines[4]
    # what reads a layer left out (stem, act) is not reported again


def test_a_misspelt_top_level_key_is_not_also_missing(tmp_path):
    lines = error_lines(run_cli("table", str(write_spec(tmp_path, "input: [3, 8, 8]\nlayer:\n  - relu\n"))))
    assert len(lines) == 1 and "unknown top-level key 'layer' (did you mean 'layers'?)" in lines[0]


def test_at_most_twenty_errors(tmp_path):
    body = "input: [3, 8, 8]\nlayers:\n" + "".join("  - relu: {inplac: true}\n" for _ in range(30))
    lines = error_lines(run_cli("table", str(write_spec(tmp_path, body))))
    assert len(lines) == 20 and all(f":{i + 3}: layer '{i}.relu'" in line for i, line in enumerate(lines))


def test_check_reports_each_error_as_a_finding(tmp_path):
    spec = write_spec(tmp_path, "input: [3, 8, 8]\nlayers:\n  - relu: {inplac: true}\n  - sigmoid: {x: 1}\n")
    result = run_cli("check", str(spec), "--format", "github")
    assert result.returncode == 2
    assert re.findall(r"^::error file=[^,]+,line=(\d+)", result.stdout, re.M) == ["3", "4"]
