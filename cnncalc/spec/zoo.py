"""The zoo of specs shipped with cnncalc, and resolving a MODEL argument to a spec file."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from ..errors import SpecError, did_you_mean
from .limits import Limits
from .shipped import zoo_dir
from .yamlfile import existing

SPEC_SUFFIXES = (".yaml", ".yml", ".py")


def zoo_index(*, limits: Limits = Limits()) -> dict[str, tuple[Path, str | None]]:
    """Zoo name → (spec file, variant): a file's own stem, or each of its `variants` in their order;
    files in name order; the files read within `limits`."""
    return _zoo_index(limits)


@lru_cache(maxsize=1)
def _zoo_index(limits: Limits) -> dict[str, tuple[Path, str | None]]:
    index = {name: entry for suffix in SPEC_SUFFIXES for name, entry in _index(suffix, limits).items()}
    return dict(sorted(index.items(), key=lambda item: item[1][0].name))


@lru_cache(maxsize=None)
def _index(suffix: str, limits: Limits) -> dict[str, tuple[Path, str | None]]:
    """The zoo's files of one kind; YAML is read first, so naming a YAML model runs no Python spec."""
    index: dict[str, tuple[Path, str | None]] = {}
    for path in sorted(zoo_dir().glob(f"*{suffix}")):
        if path.name.startswith(("_", ".")):
            continue
        names = variants(path, limits=limits)
        for name in names or [path.stem]:
            index[name] = (path, name if names else None)
    return index


def variants(path: Path, *, limits: Limits = Limits()) -> list[str]:
    """The names of the models a spec file defines under `variants`, in their order (none: the file is
    one); the file read within `limits`."""
    if path.suffix.lower() == ".py":
        from .python import python_variants
        return python_variants(path, limits=limits)
    from .yamlfile import load_yaml_file
    data = load_yaml_file(path, limits=limits)
    found = data.get("variants") if isinstance(data, dict) else None
    return [name for name in found if isinstance(name, str)] if isinstance(found, dict) else []


def resolve(model: str, *, limits: Limits = Limits()) -> tuple[Path, str | None]:
    """A path the user gave, or a zoo name; unknown names suggest the closest zoo name. A zoo name wins
    over a file of the same name in the working folder unless the argument looks like a path. The zoo's
    files are read within `limits`."""
    path = Path(model)
    if path.suffix in SPEC_SUFFIXES or "/" in model or os.sep in model:
        return existing(path, model), None
    for suffix in SPEC_SUFFIXES:  # fast path: a zoo file named after the model
        candidate = zoo_dir() / f"{model}{suffix}"
        if candidate.is_file():
            return candidate, None
    for family in _families_of(model):  # fast path: vgg16 is a variant of vgg.yaml
        if model in variants(family, limits=limits):
            return family, model
    for suffix in SPEC_SUFFIXES:
        if model in _index(suffix, limits):
            return _index(suffix, limits)[model]
    index = zoo_index(limits=limits)
    if model in index:
        return index[model]
    if os.path.lexists(path):
        return existing(path, model), None
    raise SpecError(f"unknown model '{model}'{did_you_mean(model, index)}; `cnncalc list` shows the zoo, "
                    "or give a spec path")


def _families_of(model: str) -> list[Path]:
    """The zoo's YAML files whose name begins the model's name, longest first."""
    return sorted((path for path in zoo_dir().glob("*.yaml")
                   if model.startswith(path.stem) and not path.name.startswith(("_", "."))),
                  key=lambda path: -len(path.stem))


def load_model(model: str, params: dict | None = None, *, limits: Limits = Limits()):
    """The Graph of a zoo name or spec path, read within `limits`."""
    from .load import load_spec

    path, variant = resolve(model, limits=limits)
    return load_spec(path, params, variant, limits=limits)
