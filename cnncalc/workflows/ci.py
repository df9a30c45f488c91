"""`cnncalc check` and `cnncalc lock`: specs in CI — valid, within budget, and unchanged since locked."""
from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import NotASpec, SpecError, every_error
from ..figures.amp import Amp
from ..figures.memory import memory, peak_inference_bytes
from ..figures.report import Report, analyze
from ..graph import Graph
from ..spec.budget import AMP, BUDGETS
from ..output.files import write_file
from ..spec.limits import Limits, over
from ..output.render import uncounted_text
from ..spec.load import load_spec
from ..spec.yamlfile import read_text
from ..spec.zoo import SPEC_SUFFIXES, variants

LOCK_SUFFIX = ".lock.json"


@dataclass(frozen=True)
class Finding:
    kind: str              # invalid, budget, drift or uncounted
    message: str
    line: int | None = None


@dataclass(frozen=True, kw_only=True)
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


@dataclass(frozen=True)
class Found:
    """The spec files to check, the Python specs left out because running them needs consent, and the
    folders that could not be walked (each an error naming it)."""
    specs: tuple[Path, ...]
    python_skipped: tuple[Path, ...]
    unwalked: tuple[SpecError, ...] = ()


# check's exit status is its worst finding's: a spec or lock file that cannot be read is worse than a figure
EXIT_STATUS = {"invalid": 2, "budget": 1, "drift": 1, "uncounted": 1}


@dataclass(frozen=True, kw_only=True)
class Checked:
    """What `check` found: each model's result, and the files it did not check."""
    results: tuple[Result, ...]
    python_skipped: tuple[Path, ...]
    not_specs: tuple[Path, ...]  # files that hold no spec (a workflow file, a config)

    @property
    def exit_status(self) -> int:
        """2 when a spec or lock file is invalid; 1 on any other finding, or when nothing was checked (a gate
        that checked nothing has not passed); else 0."""
        if not self.results and self.python_skipped:
            return 1
        return max((EXIT_STATUS[finding.kind] for result in self.results for finding in result.findings), default=0)


def check_paths(paths: list[str], budgets: dict, allow_python: bool = False, allow_uncounted: bool = False, *,
                limits: Limits = Limits()) -> Checked:
    """Every spec the paths name, checked (each read within `limits`); see check_spec."""
    found = find_specs(paths, allow_python)
    # YAML specs and their lock files are read and checked before any Python spec runs: were the system
    # unable to stop its code writing files (confine.py), it could change none of theirs in time
    order = sorted(found.specs, key=lambda path: path.suffix.lower() == ".py")
    checked = {path: check_spec(path, budgets, allow_uncounted, limits=limits) for path in order}
    results = [result for path in found.specs for result in checked[path] or ()]
    return Checked(results=tuple(results + unwalked_results(found)),
                   python_skipped=found.python_skipped,
                   not_specs=tuple(path for path in found.specs if checked[path] is None))


def find_specs(paths: list[str], allow_python: bool = False) -> Found:
    """Files, folders and glob patterns, in a stable order. A path that exists is that path, never a
    pattern (`big[a].yaml` is checked, not a decoy `biga.yaml`). Folders are walked without following
    symbolic links and without hidden folders; Python specs run code, so only with allow_python."""
    found: list[Path] = []
    unwalked: list[SpecError] = []
    for text in paths:
        pattern = any(c in text for c in "*?[") and not os.path.lexists(text)
        matches = [Path(p) for p in sorted(glob.glob(text, recursive=True))] if pattern else [Path(text)]
        if not matches:
            raise SpecError(f"no spec matches '{text}'")
        for path in matches:
            if path.is_dir() and (not path.is_symlink() or path == Path(text)):
                inside = _walk(path, unwalked)
                if not inside and not unwalked:
                    raise SpecError(f"no spec files under {text}")
                found += inside
            elif os.path.lexists(path):
                found.append(path)
            else:
                raise SpecError("no such spec file or folder", text)
    found = list(dict.fromkeys(found))
    skipped = [] if allow_python else [p for p in found if p.suffix.lower() == ".py"]
    return Found(specs=tuple(p for p in found if p not in skipped), python_skipped=tuple(skipped),
                 unwalked=tuple(unwalked))


FOLDER_DEPTH = 100  # folders inside a checked one; deeper ones are reported, never silently left out


def _walk(folder: Path, unwalked: list[SpecError]) -> list[Path]:
    """The spec files under a folder; a folder that cannot be read or nests past FOLDER_DEPTH is an
    error naming it (os.walk would skip it silently, or recurse past Python's stack)."""
    specs: list[Path] = []
    pending = [(folder, 0)]
    while pending:
        root, depth = pending.pop()
        if depth > FOLDER_DEPTH:
            unwalked.append(SpecError(f"folders nest more than {FOLDER_DEPTH} deep here: not checked", str(root)))
            continue
        try:
            with os.scandir(root) as entries:
                entries = sorted(entries, key=lambda entry: entry.name)
        except OSError as error:
            unwalked.append(SpecError(f"cannot read this folder: {(error.strerror or str(error)).lower()}", str(root)))
            continue
        # every file that looks like a spec, whatever its case (net.YAML) or name (_base.yaml); no link
        specs += [Path(root) / entry.name for entry in entries
                  if entry.is_file(follow_symlinks=False) and not entry.name.startswith(".")
                  and Path(entry.name).suffix.lower() in SPEC_SUFFIXES]
        pending += [(Path(root) / entry.name, depth + 1) for entry in reversed(entries)
                    if entry.is_dir(follow_symlinks=False) and not entry.name.startswith(".")]
    return specs


def models_of(path: Path, *, limits: Limits = Limits()) -> list[tuple[str, Graph]]:
    """Each model a spec file defines: its variants, or the file itself; read within `limits`."""
    names = variants(path, limits=limits)
    return [(name, load_spec(path, variant=name, limits=limits)) for name in names] if names \
        else [(None, load_spec(path, limits=limits))]


def lock_entry(graph: Graph, report: Report, peak: int) -> dict:
    return {"input": list(graph.input_shape),
            "totals": {"params": report.totals.params, "buffers": report.totals.buffers, "macs": report.totals.macs,
                       "activations": report.totals.activations, "peak_inference_bytes": peak},
            "layers": {row.name: {"kind": row.kind, "output_shape": list(row.output_shape), "params": row.params,
                                  "macs": row.macs} for row in report.node_rows}}


def lock_path(spec: Path) -> Path:
    """A spec file's lock: its whole name and .lock.json, so net.yaml and net.yml each have their own."""
    return spec.with_name(spec.name + LOCK_SUFFIX)


def lock_of(spec: Path, *, limits: Limits = Limits()) -> Path:
    """The lock check holds a spec to: its own, else the one an older cnncalc named by the spec's stem
    (net.lock.json, which net.yaml and net.yml shared) when that one records this spec file."""
    own, older = lock_path(spec), spec.with_name(spec.name.rsplit(".", 1)[0] + LOCK_SUFFIX)
    return older if not os.path.lexists(own) and _records(older, spec, limits) else own


def _records(lock: Path, spec: Path, limits: Limits) -> bool:
    try:
        data = json.loads(read_text(lock, limits=limits))
    except (SpecError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("spec") == spec.name


def write_lock(spec: Path, *, limits: Limits = Limits()) -> Path:
    """Write the lock of a spec file (read within `limits`, as is the lock `check` then reads)."""
    models = {}
    for _, graph in models_of(spec, limits=limits):
        report = analyze(graph)
        models[graph.name] = lock_entry(graph, report, peak_inference_bytes(graph, report))
    older, target = lock_of(spec, limits=limits), lock_path(spec)
    text = json.dumps({"spec": spec.name, "models": models}, indent=2, sort_keys=True) + "\n"
    if len(text.encode()) > limits.spec_bytes:  # check reads no larger file: such a lock could never pass
        raise SpecError(over(f"its lock file would be {len(text.encode()):,} bytes, more than check reads",
                             "spec_bytes"), str(spec))
    write_file(text, target, follow_links=False)
    if older != target:  # the spec's lock under its older name: replaced by this one
        older.unlink()
    return target


def read_lock(lock: Path, *, limits: Limits = Limits()) -> dict:
    """The models a lock file holds, checked against the shape `lock` writes; {} when there is none."""
    if not os.path.lexists(lock):
        return {}
    try:
        data = json.loads(read_text(lock, limits=limits))
    except json.JSONDecodeError as error:
        raise SpecError(f"{lock.name} is not valid JSON (line {error.lineno}): run `cnncalc lock` again") from None
    except (ValueError, RecursionError):  # an integer past Python's 4,300 digits; arrays nested 200,000 deep
        raise SpecError(f"{lock.name} holds what no lock file does (nesting past Python's limit or an integer of "
                        "thousands of digits): run `cnncalc lock` again") from None
    if not _is_lock(data):
        raise SpecError(f"{lock.name} is not a cnncalc lock file: run `cnncalc lock` again")
    return data["models"]


def _is_lock(data) -> bool:
    def ints(value) -> bool:
        return isinstance(value, list) and all(type(v) is int for v in value)

    def model(entry) -> bool:
        return (isinstance(entry, dict) and ints(entry.get("input")) and isinstance(entry.get("totals"), dict)
                and all(type(v) is int for v in entry["totals"].values()) and isinstance(entry.get("layers"), dict)
                and all(isinstance(layer, dict) and isinstance(layer.get("kind"), str)
                        and ints(layer.get("output_shape")) and type(layer.get("params")) is int
                        and type(layer.get("macs")) is int for layer in entry["layers"].values()))
    return (isinstance(data, dict) and isinstance(data.get("models"), dict)
            and all(model(entry) for entry in data["models"].values()))


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
    """The limits `budgets` sets that the report's figures exceed; its bytes under autocast where the
    report runs under it (their finding says so)."""
    figures = {"params": report.totals.params, "macs": report.totals.macs,
               "activation_bytes": report.totals.activation_bytes, "peak_inference_bytes": peak,
               "backward_macs": report.totals.backward_macs}
    if "max_training_memory" in budgets:  # the training step as the table shows it (Adam)
        figures["training_bytes"] = memory(graph, report).training_bytes
    findings = []
    for key, limit in budgets.items():
        what, figure, is_bytes = BUDGETS[key]
        if figures[figure] > limit:
            unit, under = (" B", f" (autocast {report.amp})" if report.amp else "") if is_bytes else ("", "")
            findings.append(Finding("budget", f"{what}{under} {figures[figure]:,}{unit} exceed the budget of "
                                              f"{limit:,}{unit}", graph.budget_line))
    return findings


def _budgets(graph: Graph, cli_budgets: dict) -> tuple[dict, Amp | None]:
    """The limits that hold, the tighter of the spec's own and the command line's, and the autocast
    they hold under: the command line's, else the spec's."""
    given = (graph.budget, cli_budgets)
    limits = {key: min(budget[key] for budget in given if key in budget)
              for key in {**graph.budget, **cli_budgets} if key != AMP}
    return limits, cli_budgets.get(AMP) or graph.budget.get(AMP)


def unwalked_results(found: Found) -> list[Result]:
    """A verdict for each folder that could not be walked: the check fails as for a broken spec."""
    return [Result(file=str(error.file), model=Path(str(error.file)).name, findings=invalid(error))
            for error in found.unwalked]


def invalid(error: SpecError) -> tuple[Finding, ...]:
    """A finding for each error of a spec that cannot be read."""
    return tuple(Finding("invalid", each.message if each.layer is None else f"layer '{each.layer}': {each.message}",
                         each.line) for each in every_error(error))


def uncounted_findings(graph: Graph, report: Report) -> list[Finding]:
    """Operations no kind states: the budgets were held to lower bounds."""
    if not report.totals.uncounted:
        return []
    first = next(node.line for node in graph.nodes if node.name == report.totals.uncounted[0])
    return [Finding("uncounted", f"{uncounted_text(report.totals.uncounted)} not counted: the figures are lower "
                                 "bounds (--allow-uncounted accepts them)", first)]


def check_spec(path: Path, cli_budgets: dict, allow_uncounted: bool = False, *,
               limits: Limits = Limits()) -> list[Result] | None:
    """Every model of one spec file: valid, within budget, as locked, every operation counted (unless
    allowed); None for a file that holds no spec. A broken file is a finding about that file; checking
    goes on with the others. The spec and its lock are read within `limits`."""
    try:
        models = models_of(path, limits=limits)
        lock = lock_of(path, limits=limits)
        locked = read_lock(lock, limits=limits)
    except NotASpec:
        return None
    except SpecError as error:
        return [Result(file=str(path), model=path.stem, findings=invalid(error))]
    except RecursionError:  # a last guard: whatever nests past the checks, this file's verdict alone
        return [Result(file=str(path), model=path.stem,
                       findings=(Finding("invalid", "the spec nests too deeply to read"),))]
    results = []
    for _, graph in models:
        budgets, amp = _budgets(graph, cli_budgets)
        try:
            report = analyze(graph)
            held = analyze(graph, amp=amp) if amp else report
        except SpecError as error:
            results.append(Result(file=str(path), model=graph.name, findings=invalid(error)))
            continue
        peak = peak_inference_bytes(graph, report)
        findings = budget_findings(graph, held, peak_inference_bytes(graph, held) if amp else peak, budgets)
        findings += [] if allow_uncounted else uncounted_findings(graph, report)
        if graph.name in locked:
            lines = {node.name: node.line for node in graph.nodes}
            findings += drift(locked[graph.name], lock_entry(graph, report, peak), lines)
        elif locked:
            findings.append(Finding("drift", f"{graph.name} is not in {lock.name}; run `cnncalc lock {path}`"))
        results.append(Result(file=str(path), model=graph.name, findings=tuple(findings),
                              params=report.totals.params, macs=report.totals.macs, peak_bytes=peak))
    return results
