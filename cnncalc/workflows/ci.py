"""`cnncalc check` and `cnncalc lock`: specs in CI — valid, within budget, and unchanged since locked."""
from __future__ import annotations

import glob
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import SpecError
from ..figures.memory import peak_inference_bytes
from ..figures.report import Report, analyze
from ..graph import Graph
from ..spec.budget import BUDGETS
from ..spec.load import load_spec
from ..spec.zoo import SPEC_SUFFIXES, variants

LOCK_SUFFIX = ".lock.json"


@dataclass(frozen=True)
class Finding:
    kind: str              # invalid, budget or drift
    message: str
    line: int | None = None


@dataclass(frozen=True)
class Result:
    file: str
    model: str
    findings: tuple[Finding, ...] = ()
    params: int = 0
    macs: int = 0
    peak_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings


def find_specs(paths: list[str]) -> list[Path]:
    """Files, folders (searched recursively) and glob patterns, in a stable order."""
    found: list[Path] = []
    for text in paths:
        matches = [Path(p) for p in sorted(glob.glob(text, recursive=True))] if any(c in text for c in "*?[") \
            else [Path(text)]
        if not matches:
            raise SpecError(f"no spec matches '{text}'")
        for path in matches:
            if path.is_dir():
                found += sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and not p.name.startswith("_"))
            elif path.is_file():
                found.append(path)
            else:
                raise SpecError("no such spec file or folder", text)
    return list(dict.fromkeys(found))


def models_of(path: Path) -> list[tuple[str, Graph]]:
    """Each model a spec file defines: its variants, or the file itself."""
    names = variants(path)
    return [(name, load_spec(path, variant=name)) for name in names] if names \
        else [(None, load_spec(path))]


def lock_entry(graph: Graph, report: Report, peak: int) -> dict:
    return {"input": list(graph.input_shape),
            "totals": {"params": report.totals.params, "buffers": report.totals.buffers, "macs": report.totals.macs,
                       "activations": report.totals.activations, "peak_inference_bytes": peak},
            "layers": {row.name: {"kind": row.kind, "output_shape": list(row.output_shape), "params": row.params,
                                  "macs": row.macs} for row in report.layers[1:]}}


def lock_path(spec: Path) -> Path:
    return spec.with_name(spec.name.rsplit(".", 1)[0] + LOCK_SUFFIX)


def write_lock(spec: Path) -> Path:
    models = {}
    for _, graph in models_of(spec):
        report = analyze(graph)
        models[graph.name] = lock_entry(graph, report, peak_inference_bytes(graph, report))
    target = lock_path(spec)
    text = json.dumps({"spec": spec.name, "models": models}, indent=2, sort_keys=True) + "\n"
    temporary = target.with_name("." + target.name + ".tmp")
    temporary.write_text(text)
    temporary.replace(target)
    return target


def drift(locked: dict, current: dict, lines: dict) -> list[Finding]:
    """Readable differences: changed figures per layer, added and removed layers, changed totals."""
    findings = []
    for name, before in locked["layers"].items():
        after = current["layers"].get(name)
        if after is None:
            findings.append(Finding("drift", f"{name}: removed"))
            continue
        for key in ("kind", "output_shape", "params", "macs"):
            if before[key] != after[key]:
                findings.append(Finding("drift", f"{name}: {key} {_show(before[key])} → {_show(after[key])}",
                                        lines.get(name)))
    findings += [Finding("drift", f"{name}: added", lines.get(name)) for name in current["layers"]
                 if name not in locked["layers"]]
    for key, before in locked["totals"].items():
        if current["totals"].get(key) != before:
            findings.append(Finding("drift", f"total {key} {_show(before)} → {_show(current['totals'].get(key))}"))
    if locked["input"] != current["input"]:
        findings.append(Finding("drift", f"input {locked['input']} → {current['input']}"))
    return findings


def _show(value) -> str:
    return f"{value:,}" if isinstance(value, int) else "×".join(map(str, value)) if isinstance(value, list) else str(value)


def budget_findings(graph: Graph, report: Report, peak: int, budgets: dict) -> list[Finding]:
    figures = {"params": report.totals.params, "macs": report.totals.macs,
               "activation_bytes": report.totals.activation_bytes, "peak_inference_bytes": peak}
    findings = []
    for key, limit in budgets.items():
        what, figure, is_bytes = BUDGETS[key]
        if figures[figure] > limit:
            unit = " B" if is_bytes else ""
            findings.append(Finding("budget", f"{what} {figures[figure]:,}{unit} exceed the budget of {limit:,}{unit}",
                                    graph.budget_line))
    return findings


def check_spec(path: Path, cli_budgets: dict) -> list[Result]:
    try:
        models = models_of(path)
    except SpecError as error:
        return [Result(str(path), path.stem, (Finding("invalid", error.message if error.layer is None
                                                       else f"layer '{error.layer}': {error.message}",
                                                       error.line),))]
    lock = lock_path(path)
    locked = json.loads(lock.read_text())["models"] if lock.exists() else {}
    results = []
    for _, graph in models:
        try:
            report = analyze(graph)
        except SpecError as error:
            results.append(Result(str(path), graph.name, (Finding("invalid", f"layer '{error.layer}': {error.message}",
                                                                  error.line),)))
            continue
        peak = peak_inference_bytes(graph, report)
        findings = budget_findings(graph, report, peak, {**graph.budget, **cli_budgets})
        if graph.name in locked:
            lines = {node.name: node.line for node in graph.nodes}
            findings += drift(locked[graph.name], lock_entry(graph, report, peak), lines)
        elif locked:
            findings.append(Finding("drift", f"{graph.name} is not in {lock.name}; run `cnncalc lock {path}`"))
        results.append(Result(str(path), graph.name, tuple(findings), report.totals.params, report.totals.macs,
                              peak))
    return results
