"""Python specs: a .py file exposing `spec` (data or a function of keyword arguments) and optional
`variants`. Running it runs user code, so this happens only for a .py path the user named or the
zoo's own files. The zoo's files (part of cnncalc) run in this process; any other runs in a child
process (isolation.py), confined and bounded in time and memory, and only its data comes back."""
from __future__ import annotations

import inspect
import runpy
import traceback
from functools import lru_cache
from pathlib import Path

from ..errors import SpecError, quoted
from .limits import Limits, over
from .variants import refuse_fixed
from .yamlfile import read_text


@lru_cache(maxsize=32)
def _namespace(path: Path, limits: Limits) -> dict:
    return run_file(path, limits)


def run_file(path: Path, limits: Limits) -> dict:
    """The spec file (read within `limits`) run as a module: its globals."""
    read_text(path, limits=limits)  # a regular file within the size limit, like any spec
    return _run(lambda: runpy.run_path(str(path), run_name=f"cnncalc_spec_{path.stem}"), path, limits)


def _run(action, path: Path, limits: Limits):
    """Run the spec's code; whatever it raises, or an exit it calls, is one error about the file."""
    try:
        return action()
    except SpecError:
        raise
    except SystemExit as exit_:
        raise SpecError(f"the spec called exit({quoted(exit_.code)}) while cnncalc ran it", str(path)) from None
    except MemoryError:  # past the child's limit (isolation.py)
        raise SpecError(over(f"the spec needed more than {limits.python_bytes:,} bytes of memory",
                             "python_bytes"), str(path)) from None
    except Exception as error:  # user code: report where in the spec file it failed, in one line
        raise _located(error, path) from None


def _located(error: Exception, path: Path) -> SpecError:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename) == path]
    line = frames[-1].lineno if frames else None
    return SpecError(f"{type(error).__name__}: {' '.join(str(error).split())[:300]}", str(path), line)


def _in_zoo(path: Path) -> bool:
    from .shipped import zoo_dir

    return path.parent == zoo_dir().resolve()


def python_variants(path: Path, *, limits: Limits = Limits()) -> list[str]:
    path = path.resolve()
    if _in_zoo(path):
        return list(_namespace(path, limits).get("variants") or {})
    return list(_every_model(path, limits)["variants"])


def load_python_spec(path: Path, params: dict, variant: str | None = None, *, limits: Limits = Limits()) -> dict:
    """Evaluate the spec file (read and run within `limits`) and return its data, as a YAML file would give it."""
    source, path = str(path), path.resolve()
    if _in_zoo(path):
        return evaluate(_namespace(path, limits), path, params, variant, limits)
    if not params and (str(path), limits) in _EVERY:  # `check` asked for every model of the file: one run answered
        for model in _EVERY[str(path), limits]["models"]:
            if model["variant"] == variant:
                if "errors" in model:
                    raise model["errors"]
                return model["data"]
    return _in_child(path, source, limits, params=params, variant=variant, every=False)["data"]


def _in_child(path: Path, source: str, limits: Limits, **arguments) -> dict:
    """The spec file run in a child process (isolation.py), once this process has held it to the size
    limit, as it holds any spec, before any of it runs."""
    from ..isolation import run_isolated

    read_text(path, limits=limits)
    return run_isolated("spec", {"path": str(path), **arguments}, source, limits=limits)


_EVERY: dict[tuple[str, Limits], dict] = {}


def _every_model(path: Path, limits: Limits) -> dict:
    """Every model a (non-zoo) Python spec file defines, from one run of it in a child process:
    {"variants": names, "models": [{"variant", "data" or "errors"}]}."""
    key = str(path)
    if (key, limits) not in _EVERY:
        answer = _in_child(path, key, limits, params={}, variant=None, every=True)
        try:
            names = [str(name) for name in answer["variants"]]
            models = [{"variant": None if model["variant"] is None else str(model["variant"]),
                       **({"errors": _errors(model["errors"], key)} if "errors" in model else {"data": model["data"]})}
                      for model in answer["models"]]
        except (KeyError, TypeError, ValueError, AttributeError):
            raise SpecError("the spec gave cnncalc an answer it cannot read", key) from None
        _EVERY[key, limits] = {"variants": names, "models": models}
    return _EVERY[key, limits]


def _errors(records, source: str) -> SpecError:
    from ..errors import SpecErrors
    from ..isolation import error_of

    errors = [error_of(record, source) for record in list(records)[:20]] or [SpecError("failed", source)]
    return errors[0] if len(errors) == 1 else SpecErrors(errors)


def evaluate(namespace: dict, path: Path, params: dict, variant: str | None, limits: Limits) -> dict:
    """The data of the spec a file's globals define, at `params` (and `variant`'s arguments)."""
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
        spec = _run(lambda: build(**settings), path, limits)
    elif settings:
        raise SpecError("this Python spec takes no parameters (`spec` is not a function)", str(path))
    if variant is not None and isinstance(spec, dict):
        spec = {**spec, "name": variant}
    return spec
