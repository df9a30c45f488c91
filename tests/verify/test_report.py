"""The verdict table: every figure keeps its column at 80 columns (short titles and a legend), and the
natural width keeps the full titles for files and pipes."""
from cnncalc.verify.report import TITLES, render_table
from cnncalc.verify.verdict import Check, MemoryCheck, Verification

FIGURES = ("output_shape", "params", "buffers", "activations", "torch ops", "fvcore ops", "torchinfo ops",
           "ptflops ops", "thop ops", "receptive field")


def verification(layers: list[str]) -> Verification:
    checks = [Check(layer, figure, 1, 1) for layer in layers for figure in FIGURES]
    checks += [Check("total", "params", 11_689_512, 11_689_512), Check("layer2.0.downsample.0.conv2d", "params",
                                                                        8_192, 8_193)]
    return Verification("resnet18", "cpu", (3, 224, 224), 1, "float32", (), tuple(checks),
                        (MemoryCheck("training step memory (adam, batch 2)", 231_835_664, 241_106_976),))


def test_every_figure_keeps_its_column_at_80_columns():
    text = render_table(verification(["conv1", "layer2.0.downsample.0.conv2d", "layer4.1.6.relu"]), 80)
    lines = text.splitlines()
    assert max(map(len, lines)) <= 80 and "…" not in text
    assert lines[0].startswith("measured: ")  # the module itself, or a model built from the spec
    assert lines[1].split() == ["Layer", "shape", "prm", "bufs", "acts", "torch", "fvc", "tinfo", "ptfl", "thop",
                                "RF"]
    assert lines[2].split() == ["conv1"] + ["✓"] * 10  # a mark under every title
    legend = " ".join(line for line in lines if " = " in line)
    assert all(f"{TITLES[f][1]} = {f}" in legend for f in ("params", "buffers", "activations", "fvcore ops",
                                                             "torchinfo ops", "ptflops ops", "receptive field"))
    assert "✗ layer2.0.downsample.0.conv2d: params: cnncalc 8,192, measured 8,193" in text
    assert lines[-1] == "resnet18 on cpu: 33 checks, 32 passed, 1 failed"


def test_the_natural_width_has_the_full_titles_and_no_legend():
    text = render_table(verification(["conv1"]))
    assert text.splitlines()[1].split()[:5] == ["Layer", "shape", "params", "buffers", "activations"]
    assert "receptive field" in text.splitlines()[1] and " = " not in text


def test_every_figure_a_layer_is_checked_on_has_its_titles():
    from cnncalc.verify.peers import RUNNERS
    from cnncalc.verify.run import LAYER_FIGURES

    figures = {*LAYER_FIGURES, *(f"{tool} ops" for tool in RUNNERS), "receptive field", "torchvision shape"}
    assert figures == set(TITLES)


def test_every_figure_at_once_fits_80_columns():
    checks = tuple(Check("layer4.1.downsample.0.conv2d", figure, 1, 1) for figure in TITLES)
    text = render_table(Verification("resnet18", "cpu", (3, 224, 224), 1, "float32", (), checks), 80)
    assert max(map(len, text.splitlines())) <= 80 and len(text.splitlines()[1].split()) == 1 + len(TITLES)
