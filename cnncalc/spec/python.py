"""Python specs: a .py file exposing `spec` (data or a function of keyword arguments) and optional
`variants`. Running it runs user code, so this happens only for a .py path the user named or the
zoo's own files."""
from __future__ import annotations

import inspect
import runpy
import traceback
from functools import lru_cache
from pathlib import Path

from ..errors import SpecError, quoted
from .limits import Limits
from .variants import refuse_fixed
from .yamlfile import read_text


def _namespace(path: Path, limits: Limits) -> dict:
    """What the spec file defines; it is read within `limits` (each bound once), and run once per process."""
    _within(path, limits)
    return _ran(path)


@lru_cache(maxsize=32)
def _within(path: Path, limits: Limits) -> None:
    read_text(path, limits=limits)  # a regular file within the size limit, like any spec


@lru_cache(maxsize=32)
def _ran(path: Path) -> dict:
    return _run(lambda: runpy.run_path(str(path), run_name=f"cnncalc_spec_{path.stem}"), path)


def _run(action, path: Path):
    """Run the spec's code; whatever it raises, or an exit it calls, is one error about the file."""
    try:
        return action()
    except SpecError:
        raise
    except SystemExit as exit_:
        raise SpecError(f"the spec called exit({quoted(exit_.code)}) while cnncalc ran it", str(path)) from None
    except Exception as error:  # user code: report where in the spec file it failed, in one line
        raise _located(error, path) from None


def _located(error: Exception, path: Path) -> SpecError:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename) == path]
    line = frames[-1].lineno if frames else None
    return SpecError(f"{type(error).__name__}: {' '.join(str(error).split())}", str(path), line)


def python_variants(path: Path, *, limits: Limits = Limits()) -> list[str]:
    return list(_namespace(path.resolve(), limits).get("variants") or {})


def load_python_spec(path: Path, params: dict, variant: str | None = None, *, limits: Limits = Limits()) -> dict:
    """Evaluate the spec file (read within `limits`) and return its data, as a YAML file would give it."""
    path = path.resolve()
    namespace = _namespace(path, limits)
    spec = namespace.get("spec")
    if spec is None:
        raise SpecError("a Python spec must define `spec` (a Spec(...) or a function returning one)", str(path))
    settings = dict(params)
    if variant is not None:
        variants = namespace.get("variants") or {}
        if variant not in variants:
            raise SpecError(f"unknown variant '{variant}'", str(path))
        refuse_fixed(variant, variants[variant], params, variants, str(path))
        settings = {**variants[variant], **params}
    if callable(spec):
        accepted = inspect.signature(spec).parameters
        for key in settings:
            if key not in accepted:
                raise SpecError(f"--set {key}: the spec has no parameter '{key}' "
                                f"(parameters: {', '.join(accepted) or 'none'})", str(path))
        build = spec
        spec = _run(lambda: build(**settings), path)
    elif settings:
        raise SpecError("this Python spec takes no parameters (`spec` is not a function)", str(path))
    if variant is not None and isinstance(spec, dict):
        spec = {**spec, "name": variant}
    return spec
