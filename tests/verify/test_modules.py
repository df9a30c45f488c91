"""The torch modules cnncalc defines for kinds torch.nn has no module for compute what the torch call
they stand for computes (torch.add, torch.cat, x.narrow, x[..., a:b], x.mean, ...), and hold what the
library module they stand for holds (timm's LayerScale2d: one factor per channel)."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from cnncalc.verify import modules  # noqa: E402


@pytest.fixture
def x():
    torch.manual_seed(0)
    return torch.randn(3, 4, 6, 6)


def test_arithmetic_is_pythons_operator_on_tensors_or_a_number(x):
    y = torch.randn_like(x)
    assert torch.equal(modules.Add()(x, y), torch.add(x, y)) and torch.equal(modules.Sub()(x, y, y), x - y - y)
    assert torch.equal(modules.Mul(other=2.0)(x), x * 2) and torch.equal(modules.Pow(other=2)(x), x ** 2)
    assert torch.equal(modules.Ne()(x, y), torch.ne(x, y))


def test_joins_are_torchs(x):
    parameter = torch.randn(1, 2, 6, 6)  # a batch of one meets the others' batch, as expand(B, ...) makes it
    assert torch.equal(modules.Concat(1)(x, parameter), torch.cat([x, parameter.expand(3, -1, -1, -1)], 1))
    assert torch.equal(modules.Stack(-1)(x, x), torch.stack([x, x], -1))
    # U-Net's skip: a 6×6 map cropped to 4×4 is rows and columns 1…4
    assert torch.equal(modules.Crop()(x, torch.zeros(3, 4, 4, 4)), x[:, :, 1:5, 1:5])


def test_reshapes_slices_and_reductions_are_the_tensor_methods(x):
    assert torch.equal(modules.Reshape(["batch", -1])(x), x.reshape(x.size(0), -1))
    assert torch.equal(modules.Narrow(dim=2, start=1, length=3)(x), x.narrow(2, 1, 3))
    assert torch.equal(modules.Slice(dim=-1, start=1, end=None, step=2)(x), x[..., 1::2])
    assert torch.equal(modules.Mean([2, 3], keepdim=True)(x), x.mean((2, 3), keepdim=True))
    assert torch.equal(modules.Amax([1])(x), x.amax(1))
    assert torch.equal(modules.Cumsum(dim=1)(x), torch.cumsum(x, 1))


def test_what_a_library_module_holds_it_holds(x):
    scale = modules.LayerScale(4, init_values=0.1)
    assert [p.numel() for p in scale.parameters()] == [4]
    assert torch.allclose(scale(x), x * 0.1)
    drop = modules.StochasticDepth(0.5).eval()
    assert drop(x) is x  # torchvision's StochasticDepth in eval: the input itself
    assert modules.StochasticDepth(0.0).train()(x) is x
