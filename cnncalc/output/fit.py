"""`cnncalc fit` as text or JSON. Nothing here computes figures."""
from __future__ import annotations

import json
from dataclasses import asdict

from ..figures.fit import Fit
from ..layers.registry import format_shape
from .escape import shown
from .units import human, percent


def render_fit(fit: Fit, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(asdict(fit), indent=2) + "\n"
    return "\n".join([*_answer(fit), "", *_breakdown(fit), "", *_holders(fit)]) + "\n"


def _bytes(value: int, estimate: bool = False) -> str:
    return f"{value:,} B ({human(value, 'B')}){' estimate' if estimate else ''}"


def _answer(fit: Fit) -> list[str]:
    budget = fit.budget
    lines = [f"{shown(fit.model)}: input {format_shape(fit.input_shape)}, {fit.dtype}, {fit.optimizer}; "
             f"memory {shown(budget.label)} = {budget.bytes:,} B"] + ([f"({budget.note})"] if budget.note else [])
    if fit.checkpoint:
        listed = ", ".join(shown(name) for name in fit.checkpoint[:6])
        more = f", … ({len(fit.checkpoint)} in all)" if len(fit.checkpoint) > 6 else ""
        lines.append(f"checkpointed: {listed}{more} (their activations recomputed in backward)")
    if fit.amp:
        lines.append(f"autocast: {fit.amp} (activations in the dtype each layer runs in; float32 parameters, "
                     "gradients and optimizer state)")
    step = fit.step
    if fit.training_batch:
        micro = " per micro-batch" if fit.accumulate > 1 else ""
        lines.append(f"training   batch {fit.training_batch:,}{micro}: {_bytes(step.total_bytes, bool(fit.estimate))}; "
                     f"batch {fit.training_batch + 1:,} needs {fit.next_training_bytes:,} B")
    else:
        lines.append(f"training   nothing fits: batch 1 needs {_bytes(step.total_bytes, bool(fit.estimate))}")
    if fit.accumulate > 1 and fit.training_batch:
        lines.append(f"           accumulating {fit.accumulate} micro-batches: effective batch "
                     f"{fit.effective_batch:,} (the gradients persist across them, counted once)")
    if fit.inference_batch:
        lines.append(f"inference  batch {fit.inference_batch:,}: {_bytes(fit.inference_bytes, bool(fit.estimate))}; "
                     f"batch {fit.inference_batch + 1:,} needs {fit.next_inference_bytes:,} B")
    else:
        lines.append(f"inference  nothing fits: batch 1 needs {_bytes(fit.inference_bytes, bool(fit.estimate))}")
    return lines + [f"estimate: {reason}" for reason in fit.estimate]


def _breakdown(fit: Fit) -> list[str]:
    step = fit.step
    parts = [("parameters", step.param_bytes), ("buffers", step.buffer_bytes), ("gradients", step.gradient_bytes),
             (f"optimizer state ({fit.optimizer})", step.optimizer_bytes), ("saved activations", step.saved_bytes),
             ("working memory", step.working_bytes), ("total", step.total_bytes)]
    name = max(len(label) for label, _ in parts)
    size = max(len(f"{value:,}") for _, value in parts)
    lines = [f"a training step at batch {step.batch:,}:"]
    lines += [f"  {label:<{name}}  {value:>{size},} B  {human(value, 'B'):>9}  {percent(value, step.total_bytes):>5}%"
              for label, value in parts]
    return lines


def _holders(fit: Fit) -> list[str]:
    if not fit.layers:
        return []
    name = max(len(shown(layer.name)) for layer in fit.layers)
    kind = max(len(layer.kind) for layer in fit.layers)
    lines = [f"the {len(fit.layers)} layers holding the most (parameters, gradients, optimizer state, "
             "saved activations):"]
    lines += [f"  {shown(layer.name):<{name}}  {layer.kind:<{kind}}  {human(layer.total_bytes, 'B'):>9}  "
              f"{percent(layer.total_bytes, fit.step.total_bytes):>5}%" for layer in fit.layers]
    return lines
