"""The sliding-window output size of convolutions and pooling: torch's documented rule
⌊(size + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1 (ceil in ceil mode, the last window
starting inside the input or its left padding), the rows flooring leaves unread, and the explanation
in the lecture notes' form (W − K + 2P)/S + 1. Golden figures: torch's own output sizes."""
from __future__ import annotations

import itertools

import pytest

from cnncalc.layers.registry import LayerError
from cnncalc.layers.window import explain_windows, sliding_window


def test_the_notes_examples():
    # cs231n: a 7×7 input, 3×3 filter, stride 2, no padding → 3×3; AlexNet's first conv 227 → 55 (11, stride 4)
    assert sliding_window((7, 7), (3, 3), (2, 2), (0, 0), (1, 1), False) == ((3, 3), (0, 0))
    assert sliding_window((227,), (11,), (4,), (0,), (1,), False) == ((55,), (0,))
    # 224 with an 11×11 kernel at stride 4: (224 − 11)/4 + 1 = 54.25 → 54; the last window starts at row
    # 53·4 = 212 and ends at 222, so row 223 is never read
    assert sliding_window((224,), (11,), (4,), (0,), (1,), False) == ((54,), (1,))


def test_a_kernel_larger_than_the_padded_input_is_refused():
    with pytest.raises(LayerError, match=r"kernel 5 \(dilation 1\) is larger than the padded input 4"):
        sliding_window((2,), (5,), (1,), (1,), (1,), False)


def test_the_explanation_shows_the_rounding_and_what_it_leaves_out():
    out, dropped = sliding_window((224,), (11,), (4,), (0,), (1,), False)
    assert explain_windows((224,), (11,), (4,), (0,), (1,), out, dropped, False) == [
        "out: (224 − 11 + 2·0)/4 + 1 = 213/4 + 1 → 54 (floor; 1 input row(s) unused)"]
    assert explain_windows((32, 32), (3, 3), (1, 1), (1, 1), (1, 1), (32, 32), (0, 0), False) == [
        "out: (32 − 3 + 2·1)/1 + 1 = 32"]  # one line for equal axes


# torch's pooling takes padding of at most half the kernel
SIZES = [case for case in itertools.product([5, 8, 13], [1, 2, 3], [1, 2, 3], [0, 1], [1, 2]) if 2 * case[3] <= case[1]]


@pytest.mark.parametrize("size, kernel, stride, padding, dilation", SIZES)
def test_output_sizes_are_torchs(size, kernel, stride, padding, dilation):
    torch = pytest.importorskip("torch")
    x = torch.zeros(1, 1, size)
    for ceil_mode in (False, True):
        try:
            mine = sliding_window((size,), (kernel,), (stride,), (padding,), (dilation,), ceil_mode)[0]
        except LayerError:
            mine = None
        pool = torch.nn.MaxPool1d(kernel, stride, padding, dilation, ceil_mode=ceil_mode)
        try:
            theirs = (pool(x).shape[-1],)
        except RuntimeError:  # torch: "Output size is too small"
            theirs = None
        assert mine == theirs, ceil_mode
