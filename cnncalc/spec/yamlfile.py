"""Safe YAML loading that remembers the line of every mapping and list item."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import SpecError

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict):
    """A mapping from a spec file, with the line it starts on."""
    line: int | None = None


class LineList(list):
    """A list from a spec file, with the line of each item."""
    lines: list[int] = []


class _Loader(_Base):  # type: ignore[misc, valid-type]
    def construct_mapping(self, node, deep=False):
        mapping = LineDict(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        return mapping

    def construct_sequence(self, node, deep=False):
        items = LineList(super().construct_sequence(node, deep=True))
        items.lines = [child.start_mark.line + 1 for child in node.value]
        return items


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_sequence)


def load_yaml(text: str, file: str) -> object:
    """Parse YAML text safely (no tags that run code); syntax errors become SpecErrors."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        problem = error.problem or error.context
        if "mapping values are not allowed" in str(problem):
            problem += " (a layer with keys needs a colon after its kind: '- relu:' then 'name: ...')"
        raise SpecError(f"malformed YAML: {problem}", file, line) from None
    except yaml.YAMLError as error:
        raise SpecError(f"malformed YAML: {error}", file) from None


@lru_cache(maxsize=64)
def load_yaml_file(path: Path) -> object:
    """A spec file parsed once per process (the zoo index and the loader both read it)."""
    return load_yaml(path.read_text(encoding="utf-8"), str(path))
