"""Bounds on the work one spec may ask for. Specs can come from strangers (a pull request), so
reading one never does unbounded work: past a bound it is a one-line error naming the bound, which
`--limit NAME=N` raises for trusted input. The bounds are a value, passed down to what reads a spec
(`limits=`, `Limits()` unless given): nothing here changes while cnncalc runs."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

from ..errors import SpecError, did_you_mean


@dataclass(frozen=True)
class Limits:
    spec_bytes: int = 10_000_000      # a spec or lock file
    yaml_nodes: int = 250_000         # YAML nodes, as written and once aliases are expanded
    layers: int = 50_000              # layers after blocks, repeats and copies are expanded
    name_chars: int = 500             # a layer's or group's full name
    nesting: int = 100                # blocks and named groups inside each other
    expression_chars: int = 1_000     # one ${...} expression
    integer_digits: int = 300         # an integer in a spec or an expression result
    sequence_length: int = 10_000     # a string or list an expression builds
    sizes: int = 10_000               # input sizes one sweep or sizes run analyses
    analyses: int = 500_000           # layers one sweep or sizes run analyses: its sizes × the model's layers
    python_seconds: int = 60          # a Python spec or model file, run in a child process: its wall time
    python_bytes: int = 4 << 30       # and its address space (4 GiB)


def parse_limits(settings: list[str]) -> Limits:
    """The bounds `--limit NAME=N` settings give (the others take their defaults)."""
    names = [f.name for f in fields(Limits)]
    changes = {}
    for setting in settings:
        name, _, value = setting.partition("=")
        if name not in names:
            raise SpecError(f"--limit: unknown limit '{name}'{did_you_mean(name, names)} (limits: {', '.join(names)})")
        if not value.isdigit() or int(value) < 1:
            raise SpecError(f"--limit {name} takes a positive whole number, got '{value}'")
        changes[name] = int(value)
    return replace(Limits(), **changes)


def over(what: str, limit: str) -> str:
    """The message for a bound that was reached."""
    return f"{what} (raise it with --limit {limit}=N for a trusted spec)"
