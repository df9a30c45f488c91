"""Every worked number of the lecture notes in shared/seeds comes out of cnncalc.

Golden figures are the notes' own, quoted with their place: 001 is the EECS 498 lecture slides,
000 the notes with the AlexNet im2col example and the cs231n VGG-16 walk-through.
"""
from __future__ import annotations

import math

from cnncalc.figures import analyze
from cnncalc.spec.zoo import load_model
from conftest import one_layer


def test_conv_example_760_parameters_768000_macs():
    # 001, "Convolution Example": 3×32×32 input, 10 5×5 filters, stride 1, pad 2
    report = analyze(load_model("conv_example"), explain=True)
    conv = report.layers[1]
    assert conv.output_shape == (10, 32, 32)
    assert (conv.weights, conv.biases, conv.params) == (750, 10, 760)  # "10 * 76 = 760"
    assert conv.macs == 768_000                                        # "75*10240 = 768K"
    assert "out: (32 − 5 + 2·2)/1 + 1 = 32" in conv.explain            # "(32+2*2-5)/1+1 = 32"
    assert "MACs: 10,240 outputs × 75 = 768,000" in conv.explain


def test_alexnet_first_conv_227_to_55_with_im2col_matrices():
    # 000: 227×227×3 image, 11×11×3 filters at stride 4 → 55×55; 90 filters → 90×363 filter matrix,
    # 363×3025 image matrix, 55×55×90 neurons, 90×11×11×3 shared weights and 90 biases
    report = analyze(one_layer("conv2d", {"out_channels": 90, "kernel_size": 11, "stride": 4},
                               (3, 227, 227)), explain=True)
    conv = report.layers[1]
    assert conv.output_shape == (90, 55, 55)
    assert conv.activations == 55 * 55 * 90
    assert (conv.weights, conv.biases) == (90 * 11 * 11 * 3, 90)
    assert "out: (227 − 11 + 2·0)/4 + 1 = 55" in conv.explain
    assert "im2col: filter matrix 90×363 · image matrix 363×3025 = 90×3025" in conv.explain


def test_alexnet_original_first_layer():
    report = analyze(load_model("alexnet_original"), explain=True)
    conv = report.layers[1]
    assert conv.output_shape == (96, 55, 55)
    assert "weights: 96 × 3 × 11 × 11 = 34,848; biases: 96" in conv.explain


# 001, "Example: LeNet-5": (layer, output size, weight size)
LENET_TABLE = [
    ("conv2d", (20, 28, 28), (20, 1, 5, 5)), ("relu", (20, 28, 28), None),
    ("maxpool2d", (20, 14, 14), None), ("conv2d", (50, 14, 14), (50, 20, 5, 5)),
    ("relu", (50, 14, 14), None), ("maxpool2d", (50, 7, 7), None), ("flatten", (2450,), None),
    ("linear", (500,), (2450, 500)), ("relu", (500,), None), ("linear", (10,), (500, 10)),
]


def test_lenet5_table_of_the_lecture():
    rows = analyze(load_model("lenet5_eecs498")).layers
    assert rows[0].output_shape == (1, 28, 28)
    for row, (kind, shape, weight) in zip(rows[1:], LENET_TABLE, strict=True):
        assert (row.kind, row.output_shape) == (kind, shape)
        assert row.weights == (math.prod(weight) if weight else 0)


def test_d2l_lenet5_shapes():
    # 002, section 3.6: 6 then 16 channels; the second conv (no padding) loses 4 pixels; 120/84/10
    shapes = [row.output_shape for row in analyze(load_model("lenet5")).layers]
    assert shapes == [(1, 28, 28), (6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 10, 10),
                      (16, 5, 5), (400,), (120,), (120,), (84,), (84,), (10,)]


# 000, the cs231n VGG-16 walk-through: (row, memory = output elements, weights)
VGG_WALKTHROUGH = [
    ("INPUT", 224 * 224 * 3, 0),
    ("CONV3-64", 224 * 224 * 64, 1_728), ("CONV3-64", 224 * 224 * 64, 36_864),
    ("POOL2", 112 * 112 * 64, 0),
    ("CONV3-128", 112 * 112 * 128, 73_728), ("CONV3-128", 112 * 112 * 128, 147_456),
    ("POOL2", 56 * 56 * 128, 0),
    ("CONV3-256", 56 * 56 * 256, 294_912), ("CONV3-256", 56 * 56 * 256, 589_824),
    ("CONV3-256", 56 * 56 * 256, 589_824), ("POOL2", 28 * 28 * 256, 0),
    ("CONV3-512", 28 * 28 * 512, 1_179_648), ("CONV3-512", 28 * 28 * 512, 2_359_296),
    ("CONV3-512", 28 * 28 * 512, 2_359_296), ("POOL2", 14 * 14 * 512, 0),
    ("CONV3-512", 14 * 14 * 512, 2_359_296), ("CONV3-512", 14 * 14 * 512, 2_359_296),
    ("CONV3-512", 14 * 14 * 512, 2_359_296), ("POOL2", 7 * 7 * 512, 0),
    ("FC", 4096, 102_760_448), ("FC", 4096, 16_777_216), ("FC", 1000, 4_096_000),
]
WALKTHROUGH_KINDS = {"input", "conv2d", "maxpool2d", "linear"}


def test_vgg16_memory_walkthrough_row_by_row():
    rows = [r for r in analyze(load_model("vgg16"), explain=True).layers if r.kind in WALKTHROUGH_KINDS]
    for row, (label, memory, weights) in zip(rows, VGG_WALKTHROUGH, strict=True):
        assert (row.activations, row.weights) == (memory, weights), label
        assert f"= {memory:,}" in row.explain[-1], label
    # the notes round each row (150K, 3.2M, ...); their exact sum is 15,237,608, not the "24M" they state
    assert sum(memory for _, memory, _ in VGG_WALKTHROUGH) == 15_237_608
    assert sum(r.activations for r in rows) == 15_237_608
    assert sum(r.params for r in rows) == 138_357_544  # "TOTAL params: 138M"
