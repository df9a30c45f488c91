"""Budgets: the limits a spec's `budget:` section (or `cnncalc check --max-...`) sets on its figures."""
from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from ..errors import LayerError, SpecError, did_you_mean, quoted
from .expr import substitute
from .limits import Limits

# budget key → (what it limits, the figure, whether its quantity is bytes)
BUDGETS = {"max_params": ("parameters", "params", False), "max_macs": ("MACs", "macs", False),
           "max_activation_bytes": ("activation bytes", "activation_bytes", True),
           "max_peak_memory": ("peak inference memory", "peak_inference_bytes", True),
           # the table's training step: Adam, at the spec's batch of 1
           "max_training_memory": ("training step memory", "training_bytes", True),
           "max_backward_macs": ("backward MACs", "backward_macs", False)}
# the section's one setting besides limits: the torch.autocast the model trains and runs under, which
# the memory budgets then hold (as `--amp` takes it: bfloat16, cuda:float16, cpu:bfloat16)
AMP = "amp"
_QUANTITY = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)(i?)(b?)\s*$", re.I)


def parse_quantity(value, is_bytes: bool) -> int:
    """25M, 4G, 200MB, 1.5GiB, or a plain number; decimal prefixes unless written with 'i'. Exact at
    any size: the digits are read as a fraction, never through a float (9007199254740995 stays so)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or value < 0:
            raise SpecError(f"a budget is a finite number ≥ 0, got {quoted(value)}")
        return math.floor(Fraction(value))
    match = _QUANTITY.match(str(value))
    if not match or (match.group(4) and not is_bytes):
        raise SpecError(f"cannot read the quantity '{str(value)[:40]}' (write e.g. {'200MB' if is_bytes else '25M'})")
    number, prefix, binary, _ = match.groups()
    return math.floor(Fraction(number) * (1024 if binary else 1000) ** " kmgt".index(prefix.lower() or " "))


def read_budget(value: Any, env: dict, source: str, line: int | None, *,
                limits: Limits = Limits()) -> tuple[dict, int | None]:
    """The optional `budget:` section: limits that `cnncalc check` enforces (its expressions evaluated
    within `limits`, the bounds on reading a spec), and under `amp` the autocast they hold under (an Amp)."""
    if value is None:
        return {}, None
    where = getattr(value, "line", line)
    if not isinstance(value, dict):
        raise SpecError(f"budget must map {', '.join(list(BUDGETS)[:-1])} or {list(BUDGETS)[-1]} to limits",
                        source, where)
    budgets = {}
    for key, limit in value.items():
        if key not in BUDGETS and key != AMP:
            raise SpecError(f"unknown budget '{key}'{did_you_mean(key, [*BUDGETS, AMP])}", source, where)
        try:
            given = substitute(limit, env, limits=limits)
            budgets[key] = _amp(given) if key == AMP else parse_quantity(given, BUDGETS[key][2])
        except (SpecError, LayerError) as error:
            raise SpecError(f"budget {key}: {getattr(error, 'message', error)}", source, where) from None
    return budgets, where


def _amp(given) -> object:
    """`amp:` as --amp reads it; the figures' parser imported only for a budget that states one."""
    from ..figures.amp import parse_amp

    return parse_amp(str(given))
