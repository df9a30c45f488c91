"""What a kind declares besides its counts: the declarations refuse what is no fact, a product's
backward is as large as its forward per factor that needs a gradient (C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC,
as torch's FlopCounterMode counts them), and a form written for any dims names torch's module for each."""
from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import pytest

from cnncalc.layers.facts import (FIRST_INPUT_ONLY, NO_PRODUCTS, PRODUCTS, SAVES_OUTPUT, WHOLE, BackwardFacts, Call,
                                  Gradients, MemoryFacts, TorchForms, Window, always, kept_or_whole, never, no_bytes,
                                  parameter_gradients, unit_window)


def test_a_declaration_that_names_no_fact_is_refused():
    with pytest.raises(ValueError, match="saved must be one of"):
        MemoryFacts(aliases=never, aliases_in_training=never, saved="weights", gradient="each input",
                    extra_saved=no_bytes, transient=no_bytes, last_saved="made", workspace=parameter_gradients,
                    copies=None, estimate=None)
    with pytest.raises(TypeError, match="workspace"):  # no default: every kind states what it holds besides
        MemoryFacts(aliases=never, aliases_in_training=never, saved="input", gradient="each input",
                    extra_saved=no_bytes, transient=no_bytes, last_saved="made", copies=None, estimate=None)
    with pytest.raises(ValueError, match="differentiates must be one of"):
        BackwardFacts(differentiates="second input", work=PRODUCTS.work)


def test_what_the_arguments_decide_is_read_from_them():
    assert SAVES_OUTPUT.aliases({"inplace": True}) and not SAVES_OUTPUT.aliases({})  # nn.ReLU(inplace=True)
    facts = MemoryFacts(aliases=always, aliases_in_training=never, saved=lambda args: "nothing" if args else "input",
                        gradient="passed", extra_saved=no_bytes, transient=no_bytes,
                        last_saved=lambda args: "read" if args else "made", workspace=parameter_gradients,
                        copies=None, estimate=None)
    assert facts.saved_by({"other": 2}) == "nothing" and facts.saved_by({}) == "input"
    assert facts.gradient_of({}) == "passed"
    assert facts.last_saved_by({"other": 2}) == "read" and facts.last_saved_by({}) == "made"


def test_gradients_flow_to_every_input_or_the_first():
    assert NO_PRODUCTS.differentiated(3) == (True, True, True)
    assert FIRST_INPUT_ONLY.differentiated(2) == (True, False)  # a crop reads its second input's shape only


@pytest.mark.parametrize("needs", [(True, True), (True, False), (False, True)])
def test_a_products_backward_is_torchs(needs):
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    a, b = torch.randn(4, 5, requires_grad=needs[0]), torch.randn(5, 3, requires_grad=needs[1])
    forward = 4 * 5 * 3
    counter = FlopCounterMode(display=False)
    with counter:
        (a @ b).sum().backward()
    backward_macs = (counter.get_total_flops() - 2 * forward) // 2
    work = PRODUCTS.work(((4, 5), (5, 3)), {}, SimpleNamespace(macs=forward), Gradients(inputs=needs, parameters=False))
    assert (work.inputs, work.parameters) == (backward_macs, 0)
    assert NO_PRODUCTS.work((), {}, None, Gradients(inputs=needs, parameters=True)).inputs == 0


def test_a_unit_window_moves_or_scales_units_only():
    assert unit_window(2) == Window(kernel=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1))
    upsample = unit_window(1, stride=[Fraction(1, 2)])
    assert upsample.stride == (Fraction(1, 2),) and upsample.kernel == (1,)
    assert kept_or_whole({}, ((3, 4, 4),), (3, 4, 4)) == () and kept_or_whole({}, ((3, 1, 4),), (3, 4, 4)) is WHOLE


def test_forms_for_any_dims_name_torchs_modules():
    torch = pytest.importorskip("torch")
    forms = TorchForms(module="torch.nn.Conv{n}d", inferred=None, functions=(Call("torch.nn.functional.conv{n}d"),),
                       methods=(), aliases=(), given_weight="torch.nn.Conv{n}d")
    for n in (1, 2, 3):
        named = forms.for_dims(n)
        assert named.module == f"torch.nn.Conv{n}d" and getattr(torch.nn, f"Conv{n}d")
        assert callable(getattr(torch.nn.functional, named.functions[0].path.rpartition(".")[2]))
    assert Call("torch.linalg.vector_norm", keywords=(("p", "ord"),)).keyword("p") == "ord"
    assert Call("torch.linalg.vector_norm").keyword("dim") == "dim"


@pytest.mark.parametrize("seed", range(4))
def test_a_copy_is_read_off_strides_as_torch_views_refuse_one(seed):
    import random

    from cnncalc.layers.facts import merged_by_a_copy

    torch = pytest.importorskip("torch")
    draw = random.Random(seed)
    for _ in range(200):
        tensor = torch.empty([draw.choice([1, 2, 3, 4]) for _ in range(draw.randint(2, 5))])
        order = list(range(tensor.dim()))
        draw.shuffle(order)
        tensor = tensor.permute(order)[..., ::draw.choice([1, 2])]
        for dims in range(2, tensor.dim() + 1):
            try:  # the golden answer: torch's own view of the first `dims` dims as one
                tensor.view(-1, *tensor.shape[dims:])
                copied = False
            except RuntimeError:
                copied = True
            laid_out = (tuple(tensor.shape), tensor.stride())
            assert merged_by_a_copy(laid_out, dims) == copied, (laid_out, dims)


@pytest.mark.parametrize("seed", range(4))
def test_a_matmul_copies_the_operands_torch_cannot_batch_as_views(seed):
    import random

    from cnncalc.layers.facts import batched_by_a_copy

    torch = pytest.importorskip("torch")
    draw = random.Random(seed)

    def operand(batch):
        """Some of the batch's trailing dims (some held once), two matrix dims, in a random layout."""
        shape = [draw.choice([size, 1]) for size in batch[draw.randint(0, len(batch) - 1):]] + [3, 2]
        order = list(range(len(shape)))
        draw.shuffle(order)
        laid = torch.empty([shape[i] for i in order])
        return laid.permute([order.index(i) for i in range(len(shape))])

    for _ in range(200):
        batch = [draw.choice([1, 2, 3]) for _ in range(draw.randint(1, 3))]
        first, second = operand(batch), operand(batch).mT
        wanted = torch.broadcast_shapes(first.shape[:-2], second.shape[:-2])
        # the golden answer: torch's own expand and reshape, as matmul batches each operand for bmm
        copied = tuple(tensor.expand(*wanted, *tensor.shape[-2:]).reshape(-1, *tensor.shape[-2:])
                       .untyped_storage()._cdata != tensor.untyped_storage()._cdata for tensor in (first, second))
        laid_out = tuple((tuple(tensor.shape), tensor.stride()) for tensor in (first, second))
        assert batched_by_a_copy(laid_out) == copied, laid_out
