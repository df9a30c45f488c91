"""Rendering figures as a text table, JSON, CSV or Markdown. Nothing here computes figures."""
from __future__ import annotations

import csv
import io
import json
import textwrap
from dataclasses import asdict

from ..figures.conventions import DEFAULT
from ..figures.memory import Memory
from ..figures.report import LayerFigures, Report
from ..layers.registry import format_shape

FORMATS = ("table", "json", "csv", "markdown")
LAYER_KEYS = ("name", "kind", "inputs", "output_shape", "weights", "biases", "params", "buffers",
              "activations", "activation_bytes", "macs", "flops", "ops")
TOTAL_KEYS = ("params", "trainable_params", "buffers", "param_bytes", "activations", "activation_bytes",
              "macs", "flops", "ops", "convention")
MEMORY_KEYS = ("param_bytes", "buffer_bytes", "gradient_bytes", "optimizer_bytes", "activation_bytes",
               "peak_activation_bytes", "peak_inference_bytes", "saved_bytes", "training_bytes", "optimizer")


PREFIXES = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


def human(value: int, unit: str = "") -> str:
    """138357544 → '138.4 M'; bytes use decimal prefixes, as torchinfo does."""
    for factor, prefix in PREFIXES:
        if abs(value) >= factor:
            return f"{value / factor:.1f} {prefix}{unit}"
    return f"{value} {unit}".rstrip() if unit else str(value)


def to_dict(report: Report, memory: Memory) -> dict:
    layers = []
    for row, bytes_ in zip(report.layers, memory.layers):
        item = {key: getattr(row, key) for key in LAYER_KEYS}
        item.update(inputs=list(row.inputs), output_shape=list(row.output_shape),
                    trainable_params=row.trainable_params, allocates=row.allocates,
                    dropped=list(row.dropped), line=row.line,
                    block=row.scopes[-1].name if row.scopes else None, **asdict(bytes_))
        if row.explain:
            item["explain"] = list(row.explain)
        layers.append(item)
    totals = {key: getattr(report.totals, key) for key in TOTAL_KEYS}
    totals["memory"] = {key: getattr(memory, key) for key in MEMORY_KEYS}
    return {"model": report.model, "input": list(report.input_shape), "batch": report.batch,
            "dtype": report.dtype, "layers": layers, "totals": totals}


def render(report: Report, fmt: str, memory: Memory, width: int | None = None, fields: dict | None = None) -> str:
    if fmt == "table":
        explained = any(row.explain for row in report.layers)
        return render_explained(report, memory) if explained else render_table(report, width, memory, fields)
    if fmt == "json":
        return render_json(report, memory)
    return {"csv": render_csv, "markdown": render_markdown}[fmt](report)


def render_json(report: Report, memory: Memory) -> str:
    return json.dumps(to_dict(report, memory), indent=2) + "\n"


def render_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LAYER_KEYS)
    for row in report.layers:
        writer.writerow([_csv_cell(row, key) for key in LAYER_KEYS])
    return out.getvalue()


def _csv_cell(row: LayerFigures, key: str):
    value = getattr(row, key)
    if key == "inputs":
        return " ".join(value)
    if key == "output_shape":
        return "x".join(map(str, value))
    return value


def render_markdown(report: Report) -> str:
    header = "| layer | kind | output | params | MACs | activations |"
    lines = [f"**{report.model}**, input {format_shape(report.input_shape)}, batch {report.batch}, "
             f"{report.dtype}", "", header, "|---|---|---|---:|---:|---:|"]
    for row in report.layers:
        stored = f"{row.activations:,}" if row.allocates else "(shared)"  # so the column sums to the total
        lines.append(f"| {row.name} | {row.kind} | {format_shape(row.output_shape)} | {row.params:,} | "
                     f"{row.macs:,} | {stored} |")
    t = report.totals
    lines.append(f"| **total** | | | **{t.params:,}** | **{t.macs:,}** | **{t.activations:,}** |")
    return "\n".join(lines) + "\n"


def render_rf(report: Report, fields: dict, fmt: str, width: int | None = None) -> str:
    """The `rf` command: receptive field size, effective stride and padding per layer and axis."""
    from ..figures.rf import describe, number

    if fmt == "json":
        layers = [{"name": row.name, "kind": row.kind, "size": [number(v) for v in fields[row.name].size],
                   "stride": [number(v) for v in fields[row.name].stride],
                   "padding": [number(v) for v in fields[row.name].padding],
                   "aligned": fields[row.name].aligned, "whole_input": fields[row.name].whole}
                  for row in report.layers]
        return json.dumps({"model": report.model, "input": list(report.input_shape), "layers": layers},
                          indent=2) + "\n"
    rows: list[list[str]] = []
    open_scopes: list[str] = []
    for row in report.layers:
        field = fields[row.name]
        rows += _block_headers(row, open_scopes, 6)
        rows.append([_layer_cell(row), row.kind, format_shape(row.output_shape), describe(field),
                     "×".join(str(number(v)) for v in field.stride), "×".join(str(number(v)) for v in field.padding)])
    header = ["Layer", "Kind", "Output", "RF size", "stride", "padding"]
    return "\n".join(_columns(header, rows, {3, 4, 5}, width or 100)) + "\n"


def render_table(report: Report, width: int | None = None, memory: Memory | None = None,
                 fields: dict | None = None) -> str:
    convention = report.totals.convention
    header = ["Layer", "Kind", "Output", "Params", "MACs" if convention == DEFAULT else f"{convention} ops",
              "Memory"] + (["RF"] if fields else [])
    rows: list[list[str]] = []
    open_scopes: list[str] = []
    for row in report.layers:
        rows += _block_headers(row, open_scopes, len(header))
        stored = human(row.activation_bytes, "B") if row.allocates else "(shared)"
        shape = format_shape(row.output_shape) + (" ⚠" if any(row.dropped) else "")
        rf_cell = [_rf_cell(fields[row.name])] if fields else []
        rows.append([_layer_cell(row), row.kind, shape, _count(row.params),
                     _count(row.macs if convention == DEFAULT else row.ops), stored, *rf_cell])
    lines = _columns(header, rows, set(range(3, len(header))), width or 100)
    lines += _panel(_totals_text(report, memory).splitlines(), f"{report.model} totals")
    lines += [f"⚠ {r.name}: flooring leaves {_dropped(r)} input rows/columns unused" for r in report.layers
              if any(r.dropped)]
    return "\n".join(lines) + "\n"


def _columns(header: list[str], rows: list[list[str]], right: set[int], width: int) -> list[str]:
    """A table without rules: columns two spaces apart, each as wide as its widest cell. The first
    (layer names, at least 24 wide) narrows to fit `width`, wrapping only the cells that are longer.

    Laid out here rather than by rich's Table, which measures every cell: 0.3 ms a row, 3 s for
    10,000 layers."""
    widths = [max(map(len, column)) for column in zip(header, *rows)]
    rest = sum(widths[1:]) + 2 * (len(widths) - 1)
    widths[0] = max(24, min(widths[0], width - rest))
    lines = []
    for cells in [header, *rows]:
        first = [cells[0]]
        if len(cells[0]) > widths[0]:
            indent = cells[0][:len(cells[0]) - len(cells[0].lstrip())]
            first = textwrap.wrap(cells[0], widths[0], subsequent_indent=indent + "    ",
                                  break_long_words=False)
        aligned = [cell.rjust(w) if i in right else cell.ljust(w)
                   for i, (cell, w) in enumerate(zip([first[0], *cells[1:]], widths))]
        lines.append("  ".join(aligned).rstrip())
        lines += first[1:]
    return lines


def _panel(lines: list[str], title: str) -> list[str]:
    """Lines in a rounded box with the title centred in its top edge."""
    inner = max(len(title) + 2, *map(len, lines))
    excess = inner - len(title)
    return (["╭" + "─" * (excess // 2) + f" {title} " + "─" * (excess - excess // 2) + "╮"]
            + [f"│ {line.ljust(inner)} │" for line in lines] + ["╰" + "─" * (inner + 2) + "╯"])


def render_explained(report: Report, memory: Memory | None = None) -> str:
    """The --explain listing: each layer's figures, then its formulas with the numbers put in."""
    out = []
    for row in report.layers:
        inputs = f" ← {', '.join(row.inputs)}" if len(row.inputs) > 1 else ""
        out.append(f"{row.name}  [{row.kind}]{inputs}  → {format_shape(row.output_shape)}   "
                   f"params {row.params:,}   MACs {row.macs:,}")
        out.extend(f"    {line}" for line in row.explain)
    return "\n".join(out) + "\n\n" + _totals_text(report, memory) + "\n"


def _rf_cell(field) -> str:
    from ..figures.rf import number

    size = "×".join(str(number(v)) for v in dict.fromkeys(field.size))
    return "all" if field.whole and field.global_ else size + ("*" if not field.aligned else "")


def _layer_cell(row: LayerFigures) -> str:
    """A row's name indented under its blocks, with what it joins."""
    return "  " * len(row.scopes) + _short_name(row) + _joins(row)


def _short_name(row: LayerFigures) -> str:
    """A row's name inside its block, which the header row above it already names."""
    prefix = row.scopes[-1].name + "." if row.scopes else ""
    return row.name[len(prefix):] if prefix and row.name.startswith(prefix) else row.name


def _block_headers(row: LayerFigures, open_scopes: list[str], columns: int) -> list[list[str]]:
    """A header row for each block this row enters: its name and `[kind]`."""
    names = [s.name for s in row.scopes]
    while open_scopes and open_scopes[-1] not in names:
        open_scopes.pop()
    headers = []
    for depth, scope in enumerate(row.scopes):
        if scope.name in open_scopes:
            continue
        open_scopes.append(scope.name)
        label = scope.name.rsplit(".", 1)[-1] if depth else scope.name
        headers.append(["  " * depth + label, f"[{scope.kind}]"] + [""] * (columns - 2))
    return headers


def _joins(row: LayerFigures) -> str:
    """What a join joins, named relative to the block it sits in."""
    if len(row.inputs) < 2:
        return ""
    prefix = row.scopes[-1].name + "." if row.scopes else ""
    return " (" + ", ".join(name[len(prefix):] if name.startswith(prefix) else name
                            for name in row.inputs) + ")"


def _count(value: int) -> str:
    return f"{value:,}" if value else "–"


def _dropped(row: LayerFigures) -> str:
    return "/".join(str(d) for d in row.dropped)


def _totals_text(report: Report, memory: Memory | None = None) -> str:
    t = report.totals
    frozen = f" ({t.trainable_params:,} trainable)" if t.trainable_params != t.params else ""
    lines = [
        ("input", f"{format_shape(report.input_shape)} × batch {report.batch}, {report.dtype}"),
        ("parameters", f"{t.params:,} ({human(t.params)}){frozen}"),
        ("buffers", f"{t.buffers:,}"),
        ("parameter memory", f"{t.param_bytes:,} B ({human(t.param_bytes, 'B')})"),
        ("activations", f"{t.activations:,} ({human(t.activation_bytes, 'B')})"),
        ("MACs", f"{t.macs:,} ({human(t.macs)})"),
        ("FLOPs", f"{t.flops:,} ({human(t.flops)})"),
    ]
    if t.convention != DEFAULT:
        lines.append((f"{t.convention} ops", f"{t.ops:,} ({human(t.ops)})"))
    if memory:
        lines.append(("peak inference", f"{memory.peak_inference_bytes:,} B ({human(memory.peak_inference_bytes, 'B')})"))
        lines.append((f"training step ({memory.optimizer})",
                      f"{memory.training_bytes:,} B ({human(memory.training_bytes, 'B')})"))
    width = max(len(k) for k, _ in lines)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in lines)


def render_check(results: list, fmt: str, python_skipped: tuple = ()) -> str:
    """One line per model (✓ or ✗ with the reasons), a summary; or JSON; or GitHub annotations, every
    value escaped as GitHub documents so no spec can inject a workflow command."""
    failed = [r for r in results if not r.ok]
    summary = f"{len(results)} models checked, {len(results) - len(failed)} passed, {len(failed)} failed"
    skipped = (f"{len(python_skipped)} Python spec{'s' * (len(python_skipped) != 1)} not run "
               "(--allow-python runs their code: only for trusted repositories)") if python_skipped else ""
    if fmt == "json":
        return json.dumps({"results": [{"file": r.file, "model": r.model, "ok": r.ok, "params": r.params,
                                        "macs": r.macs, "peak_inference_bytes": r.peak_bytes,
                                        "findings": [asdict(f) for f in r.findings]} for r in results],
                           "summary": {"checked": len(results), "passed": len(results) - len(failed),
                                       "failed": len(failed)},
                           "python_skipped": [str(p) for p in python_skipped]}, indent=2) + "\n"
    lines = []
    for result in results:
        if fmt == "github":
            lines += [f"::error file={_github_property(result.file)}" + (f",line={f.line}" if f.line else "")
                      + f",title={_github_property('cnncalc ' + f.kind)}::"
                      + _github_data(f"{result.model}: {f.message}") for f in result.findings]
        elif result.ok:
            lines.append(f"✓ {result.file} {result.model}: {result.params:,} params, {human(result.macs)} MACs, "
                         f"{human(result.peak_bytes, 'B')} peak")
        else:
            count = len(result.findings)
            lines.append(f"✗ {result.file} {result.model}: {count} problem{'s' * (count > 1)}")
            lines += [f"    {f.message}" + (f" (line {f.line})" if f.line else "") for f in result.findings]
    if skipped:
        lines.append(f"::warning title=cnncalc::{_github_data(skipped)}" if fmt == "github" else skipped)
    return "\n".join(lines + [summary]) + "\n"


def _github_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's toolkit does (%, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    """A workflow command's property value: also ':' and ','."""
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def render_sweep(points: list, fmt: str) -> str:
    if fmt == "json":
        return json.dumps([asdict(p) | {"dropped": list(p.dropped)} for p in points], indent=2) + "\n"
    lines = [f"{'size':>6} {'batch':>5}  {'params':>13}  {'MACs':>17}  {'activations':>11}  {'peak':>10}  note"]
    for p in points:
        if not p.valid:
            lines.append(f"{p.size:>6} {p.batch:>5}  {'invalid':>13}  {'':>17}  {'':>11}  {'':>10}  ✗ {p.reason}")
            continue
        note = f"⚠ floors in {len(p.dropped)} layer(s): {p.dropped[0]}…" if p.dropped else ""
        lines.append(f"{p.size:>6} {p.batch:>5}  {p.params:>13,}  {p.macs:>17,}  "
                     f"{human(p.activation_bytes, 'B'):>11}  {human(p.peak_bytes, 'B'):>10}  {note}")
    return "\n".join(lines) + "\n"


def render_diff(comparison: dict, fmt: str) -> str:
    if fmt == "json":
        def side(c):
            return {"stage": c.label, "a": c.a, "b": c.b, "delta": c.delta}
        return json.dumps({**comparison, "stages": [side(c) for c in comparison["stages"]],
                           "totals": side(comparison["totals"])}, indent=2) + "\n"
    a, b = comparison["a"], comparison["b"]
    header = f"{'stage':<22} {'params ' + a:>18} {'params ' + b:>18} {'ratio':>7} {'MACs ' + a:>18} {'MACs ' + b:>18} {'ratio':>7}"
    lines = [f"{a} ({format_shape(tuple(comparison['inputs'][0]))}) vs {b} "
             f"({format_shape(tuple(comparison['inputs'][1]))})", "", header]
    for row in comparison["stages"] + [comparison["totals"]]:
        lines.append(f"{row.label:<22} {_cell(row.a, 'params'):>18} {_cell(row.b, 'params'):>18} "
                     f"{_ratio(row, 'params'):>7} {_cell(row.a, 'macs'):>18} {_cell(row.b, 'macs'):>18} "
                     f"{_ratio(row, 'macs'):>7}")
    totals = comparison["totals"]
    for key, unit in (("params", ""), ("macs", ""), ("activations", ""), ("peak_bytes", "B")):
        change = totals.delta[key]
        lines.append(f"{'total ' + key.replace('_bytes', ' memory'):<22} {human(totals.a[key], unit):>18} "
                     f"{human(totals.b[key], unit):>18} {_ratio(totals, key):>7}   "
                     f"Δ {'+' if change >= 0 else '−'}{human(abs(change), unit)}")
    for key in ("removed", "added"):
        names = comparison[key]
        if names:
            shown = ", ".join(names[:6]) + (f", … ({len(names)} in all)" if len(names) > 6 else "")
            lines.append(f"{key} in {b if key == 'added' else a}: {shown}")
    return "\n".join(lines) + "\n"


def _cell(side: dict, key: str) -> str:
    return f"{side[key]:,}" if side else "–"


def _ratio(row, key: str) -> str:
    if not row.a or not row.b or not row.a[key]:
        return ""
    return f"{row.b[key] / row.a[key]:.2f}×"


def render_zoo(rows: list, fmt: str) -> str:
    """`cnncalc list`: every zoo model with its input, parameters, MACs and spec file."""
    if fmt == "json":
        return json.dumps([asdict(row) | {"input": list(row.input)} for row in rows], indent=2) + "\n"
    width = max(len(row.model) for row in rows)
    lines = [f"{'model':<{width}}  {'input':>11}  {'parameters':>13}  {'MACs':>16}  spec"]
    lines += [f"{row.model:<{width}}  {format_shape(row.input):>11}  {row.params:>13,}  {row.macs:>16,}  {row.spec}"
              for row in rows]
    return "\n".join(lines) + "\n"


def render_sizes(model: str, sizes: range, exact: list[int], rule: str, fmt: str) -> str:
    """`cnncalc sizes`: the exact input sizes in a range, and their rule."""
    if fmt == "json":
        return json.dumps({"model": model, "min": sizes.start, "max": sizes.stop - 1, "sizes": exact, "rule": rule},
                          indent=2) + "\n"
    shown = ", ".join(map(str, exact[:12])) + (", …" if len(exact) > 12 else "")
    return f"{model}: {rule}\n{len(exact)} sizes in {sizes.start}…{sizes.stop - 1}: {shown}\n"

