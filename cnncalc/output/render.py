"""Rendering figures as a text table, JSON, CSV or Markdown. Nothing here computes figures."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict

from ..figures.conventions import CONVENTIONS, DEFAULT
from ..figures.memory import Memory
from ..figures.report import UNCOUNTED, LayerFigures, Report
from ..layers.registry import format_shape
from .columns import Column, Step, layout, wrap
from .jsontext import dumps
from .escape import csv_cell, github_data, github_property, markdown, shown
from .units import human, percent

FORMATS = ("table", "json", "csv", "markdown")
LAYER_KEYS = ("name", "kind", "inputs", "output_shape", "weights", "biases", "params", "buffers",
              "activations", "activation_bytes", "macs", "flops", "ops", "backward_macs", "backward_ops")
TOTAL_KEYS = ("params", "trainable_params", "buffers", "param_bytes", "activations", "activation_bytes",
              "macs", "flops", "ops", "convention", "uncounted", "backward_macs", "backward_flops", "backward_ops",
              "training_step_macs", "training_step_flops", "recompute_macs", "recompute_flops")
MEMORY_KEYS = ("param_bytes", "buffer_bytes", "gradient_bytes", "optimizer_bytes", "activation_bytes",
               "peak_activation_bytes", "peak_inference_bytes", "saved_bytes", "training_bytes", "optimizer",
               "checkpoint", "estimate")


def _others(report: Report) -> str:
    """The model's other inputs, by name: ', mask 1×224×224'."""
    return "".join(f", {shown(row.name)} {format_shape(row.output_shape)}" for row in report.layers[1:report.inputs])


def _held(input_dtype: str | None) -> str:
    """What the input holds where the model's own dtype does not say it: ' int64' for token ids."""
    return f" {input_dtype}" if input_dtype else ""


def to_dict(report: Report, memory: Memory) -> dict:
    layers = []
    for row, bytes_ in zip(report.layers, memory.layers):
        # LAYER_KEYS in their order, then the rest, and LayerMemory's fields as asdict would give them
        item = {"name": row.name, "kind": row.kind, "inputs": list(row.inputs), "output_shape": list(row.output_shape),
                "weights": row.weights, "biases": row.biases, "params": row.params, "buffers": row.buffers,
                "activations": row.activations, "activation_bytes": row.activation_bytes, "macs": row.macs,
                "flops": row.flops, "ops": row.ops, "backward_macs": row.backward_macs,
                "backward_ops": row.backward_ops, "trainable_params": row.trainable_params,
                "allocates": row.allocates, "recompute_macs": row.recompute_macs, "dropped": list(row.dropped),
                "line": row.line, "block": row.scopes[-1].name if row.scopes else None, "module": row.module,
                "param_bytes": bytes_.param_bytes, "gradient_bytes": bytes_.gradient_bytes,
                "optimizer_bytes": bytes_.optimizer_bytes}
        if report.amp:
            item["dtype"] = row.dtype
        if row.explain:
            item["explain"] = list(row.explain)
        layers.append(item)
    totals = {key: getattr(report.totals, key) for key in TOTAL_KEYS}
    totals["memory"] = {key: getattr(memory, key) for key in MEMORY_KEYS}
    totals["memory"]["checkpoint"] = list(memory.checkpoint)
    totals["memory"]["estimate"] = list(memory.estimate)
    return {"model": report.model, "input": list(report.input_shape), "batch": report.batch,
            "dtype": report.dtype, **({"amp": str(report.amp)} if report.amp else {}), "layers": layers,
            "totals": totals,
            **({"not_run": [asdict(held) for held in report.not_run]} if report.not_run else {}),
            "outputs": list(report.outputs),
            **({"ran_on_cpu": report.ran_on_cpu} if report.ran_on_cpu else {})}


def render(report: Report, fmt: str, memory: Memory, width: int | None = None, fields: dict | None = None,
           modules: bool = False) -> str:
    if fmt == "table":
        explained = any(row.explain for row in report.layers)
        return render_explained(report, memory, width) if explained else \
            render_table(report, width, memory, fields, modules)
    if fmt == "json":
        return render_json(report, memory)
    return {"csv": render_csv, "markdown": render_markdown}[fmt](report)


def render_json(report: Report, memory: Memory) -> str:
    return dumps(to_dict(report, memory)) + "\n"


def render_csv(report: Report) -> str:
    # under autocast each row's activation bytes are in the dtype it runs in, which a last column names
    keys = (*LAYER_KEYS, "dtype") if report.amp else LAYER_KEYS
    out = io.StringIO()
    out.write(",".join(keys) + "\n")
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)  # text quoted, numbers bare
    for row in report.layers:
        writer.writerow([_csv_cell(row, key) for key in keys])
    return out.getvalue()


def _csv_cell(row: LayerFigures, key: str):
    value = getattr(row, key)
    if key == "inputs":
        return csv_cell(" ".join(value))
    if key == "output_shape":
        return "x".join(map(str, value))
    return csv_cell(value) if isinstance(value, str) else value


def render_markdown(report: Report) -> str:
    header = "| layer | kind | output | params | MACs | activations |"
    lines = [f"**{markdown(report.model)}**, input {format_shape(report.input_shape)}, batch {report.batch}, "
             f"{report.dtype}{_autocast(report)}", "", header, "|---|---|---|---:|---:|---:|"]
    for row in report.layers:
        stored = f"{row.activations:,}" if row.allocates else "(shared)"  # so the column sums to the total
        lines.append(f"| {markdown(row.name)} | {markdown(row.kind)} | {format_shape(row.output_shape)} | "
                     f"{row.params:,} | {row.macs:,} | {stored} |")
    lines += [f"| {markdown(held.name)} | module | ({markdown(held.why)}) | {held.params:,} | 0 | – |"
              for held in report.not_run]
    t = report.totals
    lines.append(f"| **total** | | | **{t.params:,}** | **{t.macs:,}** | **{t.activations:,}** |")
    return "\n".join(lines) + "\n"


def render_rf(report: Report, fields: dict, fmt: str, width: int | None = None) -> str:
    """The `rf` command: receptive field size, effective stride and padding per layer and axis."""
    from ..figures.rf import describe, number

    if fmt == "json":
        layers = [{"name": row.name, "kind": row.kind, **_field_json(fields[row.name])} for row in report.layers]
        return dumps({"model": report.model, "input": list(report.input_shape), "layers": layers}) + "\n"
    rows: list[list[str]] = []
    open_scopes: list[str] = []
    for row in report.layers:
        field = fields[row.name]
        rows += _block_headers(row, open_scopes, 6)
        if field is None:  # a parameter: it sees no input
            rows.append([_layer_cell(row), row.kind, format_shape(row.output_shape), "none", "–", "–"])
            continue
        stride, padding = ("×".join(str(number(v)) for v in values) if field.affine else "–"  # means, wrong per unit
                           for values in (field.stride, field.padding))
        rows.append([_layer_cell(row), row.kind, format_shape(row.output_shape), describe(field), stride, padding])
    return "\n".join(layout(RF_COLUMNS, rows, width, (Step("drop", ("kind",)), Step("drop", ("output",))))) + "\n"


RF_COLUMNS = [Column("layer", "Layer", False), Column("kind", "Kind", False), Column("output", "Output", False),
              Column("size", "RF size", True), Column("stride", "stride", True), Column("padding", "padding", True)]
# Narrower and narrower: the kind goes first (names say it), then exact counts become K/M/G
TABLE_STEPS = (Step("drop", ("kind",)), Step("shorten", ("params", "macs")), Step("drop", ("rf",)),
               Step("drop", ("memory",)))


AXES = {1: ("cols",), 2: ("rows", "cols")}  # other ranks: "axes", one interval each


def render_unit(field, fmt: str) -> str:
    """`rf --layer NAME --unit I,J`: the input interval the unit sees along each axis."""
    names = AXES.get(len(field.spans))
    spans = [None if span is None else list(span) for span in field.spans]
    clipped = [None if span is None else list(span) for span in field.clipped]
    if fmt == "json":
        sides = (dict(zip(names, spans)), dict(zip(names, clipped))) if names else ({"axes": spans}, {"axes": clipped})
        return json.dumps({"model": field.model, "layer": field.layer, "unit": list(field.unit), **sides[0],
                           "clipped": sides[1]}, indent=2) + "\n"
    where = f"unit ({', '.join(map(str, field.unit))})" if field.unit else "all units together"
    lines = [f"{field.model} {field.layer} ({format_shape(field.shape)}), {where}, sees in the input "
             f"{format_shape(_seen_size(field))}:"]
    for name, span, cut in zip(names or [f"axis {i}" for i in range(len(spans))], spans, clipped):
        seen = "nothing" if span is None else f"{span[0]} … {span[1]}"
        inside = "outside the image" if cut is None else f"{cut[0]} … {cut[1]}"
        lines.append(f"  {name:<6} {seen:<16} clipped to the image: {inside}")
    return "\n".join(lines) + "\n"


def _seen_size(field) -> tuple:
    return tuple(span[1] - span[0] + 1 if span else 0 for span in field.spans)


def render_table(report: Report, width: int | None = None, memory: Memory | None = None,
                 fields: dict | None = None, modules: bool = False) -> str:
    """The table; `fields` adds the receptive-field column, `modules` the module class each row runs as."""
    convention = report.totals.convention
    columns = [Column("layer", "Layer", False), *([Column("module", "Module", False)] if modules else []),
               Column("kind", "Kind", False), Column("output", "Output", False),
               Column("params", "Params", True),
               Column("macs", "MACs" if convention == DEFAULT else f"{convention} ops", True),
               Column("memory", "Memory", True)] + ([Column("rf", "RF", True)] if fields else [])
    rows: list[list[str]] = []
    open_scopes: list[str] = []
    for row in report.layers:
        rows += _block_headers(row, open_scopes, len(columns))
        stored = human(row.activation_bytes, "B") if row.allocates else "(shared)"
        shape = format_shape(row.output_shape) + (" ⚠" if any(row.dropped) else "")
        rf_cell = [_rf_cell(fields[row.name])] if fields else []
        rows.append([_layer_cell(row), *([row.module or "–"] if modules else []), row.kind, shape, _count(row.params),
                     "?" if row.kind == UNCOUNTED else _count(row.macs if convention == DEFAULT else row.ops), stored,
                     *rf_cell])
    rows += [[held.name, *(["–"] if modules else []), "module", f"({held.why})", _count(held.params), "–", "–",
              *(["–"] if fields else [])] for held in report.not_run]
    lines = layout(columns, rows, width, TABLE_STEPS)
    lines += _panel(_totals_text(report, memory).splitlines(), f"{report.model} totals")
    lines += wrap([f"⚠ {r.name}: flooring leaves {_dropped(r)} input rows/columns unused" for r in report.layers
                   if any(r.dropped)], width)
    return "\n".join(lines) + "\n"


def _panel(lines: list[str], title: str) -> list[str]:
    """Lines in a rounded box with the title centred in its top edge."""
    title = shown(title)
    inner = max(len(title) + 2, *map(len, lines))
    excess = inner - len(title)
    return (["╭" + "─" * (excess // 2) + f" {title} " + "─" * (excess - excess // 2) + "╮"]
            + [f"│ {line.ljust(inner)} │" for line in lines] + ["╰" + "─" * (inner + 2) + "╯"])


def render_explained(report: Report, memory: Memory | None = None, width: int | None = None) -> str:
    """The --explain listing: each layer's figures, then its formulas with the numbers put in."""
    out = []
    for row in report.layers:
        inputs = f" ← {', '.join(row.inputs)}" if len(row.inputs) > 1 else ""
        out.append(f"{row.name}  [{row.kind}]{inputs}  → {format_shape(row.output_shape)}   "
                   f"params {row.params:,}   MACs {row.macs:,}")
        out.extend(f"    {line}" for line in row.explain)
    return "\n".join(wrap(out, width)) + "\n\n" + _totals_text(report, memory) + "\n"


def _field_json(field) -> dict:
    from ..figures.rf import number

    if field is None:  # a parameter: it sees no input
        return {"size": None, "stride": None, "padding": None, "aligned": True, "whole_input": False, "affine": True}
    return {"size": [number(v) for v in field.size], "stride": [number(v) for v in field.stride],
            "padding": [number(v) for v in field.padding], "aligned": field.aligned, "whole_input": field.whole,
            "affine": field.affine}


def _rf_cell(field) -> str:
    from ..figures.rf import number

    if field is None:
        return "none"

    size = "×".join(str(number(v)) for v in dict.fromkeys(field.size))
    return "all" if field.whole and field.global_ else size + ("*" if not field.aligned else "")


def _layer_cell(row: LayerFigures) -> str:
    """A row's name indented under its blocks, with what it joins."""
    return "  " * len(row.scopes) + short_name(row) + _joins(row)


def short_name(row: LayerFigures) -> str:
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


def uncounted_text(names: tuple[str, ...], room: int = 40) -> str:
    """The operations the totals leave out, as many named as fit in about `room` characters."""
    named = []
    for name in map(shown, names):
        if named and len(", ".join([*named, name])) > room:
            break
        named.append(name)
    more = f", … {len(names) - len(named)} more" if len(named) < len(names) else ""
    return f"{len(names)} operation{'s' * (len(names) > 1)}: {', '.join(named)}{more}"


def _dropped(row: LayerFigures) -> str:
    return "/".join(str(d) for d in row.dropped)


def _autocast(report: Report) -> str:
    """' (autocast cuda:bfloat16)' after the model's dtype, where it runs under torch.autocast."""
    return f" (autocast {report.amp})" if report.amp else ""


def _names(names: tuple[str, ...], shown_at_most: int = 6) -> str:
    """Blocks by name, the first few and how many more: 'layer1, layer2, … (12 in all)'."""
    listed = ", ".join(shown(name) for name in names[:shown_at_most])
    return listed + (f", … ({len(names)} in all)" if len(names) > shown_at_most else "")


def _totals_text(report: Report, memory: Memory | None = None) -> str:
    t = report.totals
    frozen = f" ({t.trainable_params:,} trainable)" if t.trainable_params != t.params else ""
    lines = [
        ("input", f"{format_shape(report.input_shape)}{_held(report.input_dtype)}{_others(report)} "
                  f"× batch {report.batch}, {report.dtype}{_autocast(report)}"),
        ("parameters", f"{t.params:,} ({human(t.params)}){frozen}"),
        ("buffers", f"{t.buffers:,}"),
        ("parameter memory", f"{t.param_bytes:,} B ({human(t.param_bytes, 'B')})"),
        ("activations", f"{t.activations:,} ({human(t.activation_bytes, 'B')})"),
        ("MACs", f"{t.macs:,} ({human(t.macs)})"),
        ("FLOPs", f"{t.flops:,} ({human(t.flops)})"),
        ("backward MACs", f"{t.backward_macs:,} ({human(t.backward_macs)})"),
        ("training step MACs", f"{t.training_step_macs:,} ({human(t.training_step_macs)}: forward + backward"
                               f"{' + recomputation' if report.checkpoint else ''})"),
    ]
    if report.checkpoint:
        lines.append(("recompute MACs", f"{t.recompute_macs:,} ({human(t.recompute_macs)}: checkpointed blocks' "
                                        "forward, run again in backward)"))
    if report.not_run:
        held = sum(n.params for n in report.not_run)
        lines.append(("held apart", f"{len(report.not_run)} module{'s' * (len(report.not_run) > 1)}, {held:,} parameters"))
    if len(report.outputs) > 1:
        lines.append(("outputs", ", ".join(f"{shown(row.name)} {format_shape(row.output_shape)}"
                                           for row in report.output_rows)))
    if report.ran_on_cpu:
        lines.append(("ran", f"on the CPU on random data: {report.ran_on_cpu}"))
    if t.convention != DEFAULT:
        lines.append((f"{t.convention} ops", f"{t.ops:,} ({human(t.ops)})"))
        lines.append((f"{t.convention} backward ops", f"{t.backward_ops:,} ({human(t.backward_ops)})")
                     if CONVENTIONS[t.convention].counts_backward else
                     ("", f"{t.convention} counts the forward pass only"))
    if t.uncounted:
        lines += [("not counted", uncounted_text(t.uncounted)), ("", "MACs, FLOPs and memory are lower bounds")]
    if memory:
        estimate = " estimate" if memory.estimate else ""
        lines.append(("peak inference",
                      f"{memory.peak_inference_bytes:,} B ({human(memory.peak_inference_bytes, 'B')}){estimate}"))
        lines.append((f"training step ({memory.optimizer})",
                      f"{memory.training_bytes:,} B ({human(memory.training_bytes, 'B')}){estimate}"))
        lines += [("estimate" if k == 0 else "", reason) for k, reason in enumerate(memory.estimate)]
        if memory.checkpoint:
            lines.append(("checkpointed", _names(memory.checkpoint)))
    width = max(len(k) for k, _ in lines)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in lines)


def render_check(results: list, fmt: str, python_skipped: tuple = (), width: int | None = None,
                 not_specs: tuple = ()) -> str:
    """One line per model (✓ or ✗ with the reasons), a summary; or JSON; or GitHub annotations, every
    value escaped as GitHub documents so no spec can inject a workflow command."""
    failed = [r for r in results if not r.ok]
    summary = f"{len(results)} models checked, {len(results) - len(failed)} passed, {len(failed)} failed"
    skipped = (f"{len(python_skipped)} Python spec{'s' * (len(python_skipped) != 1)} not run "
               "(--allow-python runs their code: only for trusted repositories)") if python_skipped else ""
    if not_specs:
        listed = ", ".join(str(p) for p in not_specs[:3]) + (", …" if len(not_specs) > 3 else "")
        skipped = "; ".join(filter(None, [skipped, f"{len(not_specs)} file{'s' * (len(not_specs) != 1)} skipped: "
                                                    f"not cnncalc specs ({listed})"]))
    if fmt == "json":
        return json.dumps({"results": [{"file": r.file, "model": r.model, "ok": r.ok, "params": r.params,
                                        "macs": r.macs, "peak_inference_bytes": r.peak_bytes,
                                        "findings": [asdict(f) for f in r.findings]} for r in results],
                           "summary": {"checked": len(results), "passed": len(results) - len(failed),
                                       "failed": len(failed)},
                           "python_skipped": [str(p) for p in python_skipped],
                           "not_specs": [str(p) for p in not_specs]}, indent=2) + "\n"
    lines = []
    for result in results:
        if fmt == "github":
            lines += [f"::error file={github_property(result.file)}" + (f",line={f.line}" if f.line else "")
                      + f",title={github_property('cnncalc ' + f.kind)}::"
                      + github_data(f"{result.model}: {f.message}") for f in result.findings]
        elif result.ok:
            lines.append(f"✓ {result.file} {result.model}: {result.params:,} params, {human(result.macs)} MACs, "
                         f"{human(result.peak_bytes, 'B')} peak")
        else:
            count = len(result.findings)
            lines.append(f"✗ {result.file} {result.model}: {count} problem{'s' * (count > 1)}")
            lines += [f"    {f.message}" + (f" (line {f.line})" if f.line else "") for f in result.findings]
    if skipped:
        lines.append(f"::warning title=cnncalc::{github_data(skipped)}" if fmt == "github" else skipped)
    # wrap keeps each line one line, whatever a file name or a spec string holds
    return "\n".join(lines + [summary] if fmt == "github" else wrap(lines + [summary], width)) + "\n"


SWEEP_COLUMNS = [Column("size", "size", True), Column("batch", "batch", True), Column("params", "params", True),
                 Column("macs", "MACs", True), Column("activations", "activations", True),
                 Column("peak", "peak", True)]


def render_sweep(points: list, fmt: str, width: int | None = None) -> str:
    if fmt == "json":
        return json.dumps([asdict(p) | {"dropped": list(p.dropped)} for p in points], indent=2) + "\n"
    rows, notes = [], []
    for p in points:
        if not p.valid:
            rows.append([str(p.size), str(p.batch), "invalid", "", "", ""])
            notes.append(f"✗ {p.reason}")
            continue
        notes.append(f"⚠ floors in {len(p.dropped)} layer(s): {p.dropped[0]}…" if p.dropped else "")
        rows.append([str(p.size), str(p.batch), f"{p.params:,}", f"{p.macs:,}", human(p.activation_bytes, "B"),
                     human(p.peak_bytes, "B")])
    header, *lines = layout(SWEEP_COLUMNS, rows, width, (Step("shorten", ("params", "macs")),))
    out = [header + "  note"]
    for line, note in zip(lines, notes):  # a note that does not fit beside its row goes under it
        beside = f"{line.ljust(len(header))}  {note}".rstrip()
        out += [beside] if width is None or len(beside) <= width else [line, *wrap([f"      {note}"], width)]
    return "\n".join(out) + "\n"


DIFF_COLUMNS = [Column("stage", "stage", False), Column("params_a", "params A", True),
                Column("params_b", "params B", True), Column("params_ratio", "ratio", True),
                Column("macs_a", "MACs A", True), Column("macs_b", "MACs B", True), Column("macs_ratio", "ratio", True)]
DIFF_TOTALS = [Column("total", "total", False), Column("a", "A", True), Column("b", "B", True),
               Column("ratio", "ratio", True), Column("change", "change", True)]
DIFF_STEPS = (Step("shorten", ("params_a", "params_b", "macs_a", "macs_b")), Step("drop", ("params_ratio",)),
              Step("drop", ("macs_ratio",)))


def render_diff(diff, fmt: str, width: int | None = None) -> str:
    """`diff`: stages side by side with ratios, the totals with their change, and the layers only one side has."""
    if fmt == "json":
        return dumps(_diff_json(diff)) + "\n"
    rows = [[row.label, _cell(row.a, "params"), _cell(row.b, "params"), _ratio(row, "params"), _cell(row.a, "macs"),
             _cell(row.b, "macs"), _ratio(row, "macs")] for row in (*diff.stages, diff.totals)]
    totals, total_rows = diff.totals, []
    for key, label, unit in (("params", "parameters", ""), ("macs", "MACs", ""), ("activations", "activations", ""),
                             ("peak_bytes", "peak memory", "B")):
        change = totals.delta[key]
        total_rows.append([label, human(getattr(totals.a, key), unit), human(getattr(totals.b, key), unit),
                           _ratio(totals, key), f"Δ {'+' if change >= 0 else '−'}{human(abs(change), unit)}"])
    lines = [f"A: {diff.a} ({format_shape(diff.inputs[0])})", f"B: {diff.b} ({format_shape(diff.inputs[1])})", ""]
    lines += layout(DIFF_COLUMNS, rows, width, DIFF_STEPS) + [""] + layout(DIFF_TOTALS, total_rows, width) + [""]
    for names, side in ((diff.only_in_a, "A"), (diff.only_in_b, "B")):
        if names:
            listed = ", ".join(names[:6]) + (f", … ({len(names)} in all)" if len(names) > 6 else "")
            lines += wrap([f"only in {side}: {listed}"], width)
    return "\n".join(lines) + "\n"


def _diff_json(diff) -> dict:
    def side(figures) -> dict:
        return {key: value for key, value in asdict(figures).items() if value is not None} if figures else {}

    def stage(row) -> dict:
        return {"stage": row.label, "a": side(row.a), "b": side(row.b), "delta": row.delta}

    return {"a": diff.a, "b": diff.b, "inputs": [list(shape) for shape in diff.inputs],
            "stages": [stage(row) for row in diff.stages], "totals": stage(diff.totals),
            "pairs": [asdict(pair) | {key: list(getattr(pair, key)) for key in ("params", "macs", "activations")}
                      for pair in diff.pairs],
            "only_in_a": list(diff.only_in_a), "only_in_b": list(diff.only_in_b)}


def _cell(side, key: str) -> str:
    return f"{getattr(side, key):,}" if side else "–"


def _ratio(row, key: str) -> str:
    if not row.a or not row.b or not getattr(row.a, key):
        return ""
    return f"{getattr(row.b, key) / getattr(row.a, key):.2f}×"


def render_zoo(rows: list, fmt: str, width: int | None = None) -> str:
    """`cnncalc list`: every zoo model with its input, parameters, MACs and spec file."""
    if fmt == "json":
        return json.dumps([asdict(row) | {"input": list(row.input)} for row in rows], indent=2) + "\n"
    cells = [[row.model, format_shape(row.input), f"{row.params:,}", f"{row.macs:,}", row.spec] for row in rows]
    # numbers shorten before the spec file goes: 138.4 M still says how big a model is
    return "\n".join(layout(ZOO_COLUMNS, cells, width, (Step("shorten", ("params", "macs")), Step("drop", ("spec",)))))\
        + "\n"


ZOO_COLUMNS = [Column("model", "model", False), Column("input", "input", True), Column("params", "parameters", True),
               Column("macs", "MACs", True), Column("spec", "spec", False)]


def render_sizes(model: str, sizes: range, exact: list[int], rule: str, fmt: str, width: int | None = None) -> str:
    """`cnncalc sizes`: the exact input sizes in a range, and their rule."""
    if fmt == "json":
        return json.dumps({"model": model, "min": sizes.start, "max": sizes.stop - 1, "sizes": exact, "rule": rule},
                          indent=2) + "\n"
    listed = ", ".join(map(str, exact[:12])) + (", …" if len(exact) > 12 else "")
    return "\n".join(wrap([f"{model}: {rule}", f"{len(exact)} sizes in {sizes.start}…{sizes.stop - 1}: {listed}"],
                          width)) + "\n"


COVERAGE_COLUMNS = [Column("library", "Library", False), Column("family", "Family", False),
                    Column("model", "Model", False), Column("peers", "Counted by", False),
                    Column("result", "Result", False, flexible=True)]


def render_coverage(outcomes: list, shares: dict, fmt: str, width: int | None = None, peers: dict | None = None,
                    unread: list = ()) -> str:
    """`coverage`: each model exact or why not and the peer tools that gave it a total; then each
    library's share exact and how many of its models each peer counted (`peers`: library → tool →
    models), and the models refused that a peer counts (`unread`)."""
    peers = peers or {}
    if fmt == "json":
        return json.dumps({"models": [vars(o) for o in outcomes],
                           "libraries": {name: {"exact": exact, "of": total, "unit": unit, "peers": peers.get(name, {}),
                                                "refused_yet_counted": [o.model for o in unread if o.library == name]}
                                         for name, (exact, total, unit) in shares.items()}}, indent=2) + "\n"
    summary = [f"{name}: {exact} of {total} {unit} exact ({percent(exact, total)}%)"
               + _peer_counts(peers.get(name, {})) for name, (exact, total, unit) in shares.items()]
    summary += [f"refused, yet counted by {', '.join(_counted_by(o))}: {o.library} {o.model}" for o in unread]
    columns = [c for c in COVERAGE_COLUMNS if c.key != "peers" or any(o.peers for o in outcomes)]  # --no-peers
    rows = [[_coverage_cells(o)[c.key] for c in columns] for o in outcomes]
    if fmt == "markdown":
        return "\n".join(["| " + " | ".join(c.title.lower() for c in columns) + " |", "|" + "---|" * len(columns),
                          *("| " + " | ".join(map(markdown, row)) + " |" for row in rows), "",
                          *(f"- {line}" for line in summary)]) + "\n"
    return "\n".join(layout(columns, rows, width, (Step("drop", ("family",)), Step("drop", ("peers",))))
                     + wrap(summary, width)) + "\n"


def _coverage_cells(outcome) -> dict[str, str]:
    counted = _counted_by(outcome)
    # "all": most models are, and the column stays narrow beside the reasons
    peers = "all" if len(counted) == len(outcome.peers) else " ".join(counted) or "none"
    return {"library": outcome.library, "family": outcome.family, "model": outcome.model, "peers": peers,
            "result": "exact" if outcome.exact else outcome.reason}


def _counted_by(outcome) -> list[str]:
    return [tool for tool, failed in outcome.peers.items() if not failed]


def _peer_counts(counts: dict) -> str:
    """"; torchinfo ran 95, fvcore 93, …" after a library's share exact, or nothing where no peer ran."""
    if not counts:
        return ""
    (first, ran), *others = counts.items()
    return "; " + ", ".join([f"{first} ran {ran}", *(f"{tool} {each}" for tool, each in others)])
