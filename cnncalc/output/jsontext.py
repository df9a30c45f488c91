"""`json.dumps(value, indent=2)`, the same text, several times faster.

Python's json module writes indented JSON with its pure-Python encoder (its C encoder only writes
compact JSON), a generator per value: most of `table -f json`'s time on a large model. This writes
each container in one loop, the leaves (strings through json's own C function, integers, floats,
booleans, null) inline, and a list of integers (a shape) in one join."""
from __future__ import annotations

from json.encoder import encode_basestring_ascii as _string

_INFINITY = float("inf")
_PREFIXES: dict[tuple, list[str]] = {}  # a mapping's keys and indent → what precedes each of its values


def dumps(value, indent: int = 2) -> str:
    """Exactly `json.dumps(value, indent=indent)` (ensure_ascii, no sorting) for dicts, lists, tuples,
    strings, integers, floats, booleans and None; a TypeError for anything else, as json gives."""
    out: list[str] = []
    _write(value, out, "\n", " " * indent)
    return "".join(out)


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _leaf(value) -> str | None:
    """A value that is no container, as JSON; None for a container (or what JSON cannot hold)."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is float:
        return _float(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    return None


def _key(key) -> str:
    if isinstance(key, str):
        return _string(key)
    if key is True or key is False or key is None or isinstance(key, (int, float)):
        return _string(_leaf(key))  # json writes a non-string key as the text of its value
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _prefixes(value: dict, inner: str) -> list[str]:
    """What precedes each value of a mapping: its separator, line, indent and key. A table's rows have
    the same keys in the same order: made once for them."""
    keys = tuple(value)
    found = _PREFIXES.get((keys, inner))
    if found is None:
        found = [("{" if index == 0 else ",") + inner + _key(key) + ": " for index, key in enumerate(keys)]
        if len(_PREFIXES) < 256 and all(type(key) is str for key in keys):  # 0 == False: only strings kept
            _PREFIXES[keys, inner] = found
    return found


def _write(value, out: list[str], newline: str, step: str) -> None:
    """Append `value` written at the indentation `newline` holds (a line end and the current indent)."""
    leaf = _leaf(value)
    if leaf is not None:
        out.append(leaf)
        return
    append, inner = out.append, newline + step
    if isinstance(value, dict):
        if not value:
            append("{}")
            return
        deeper, between = inner + step, "," + inner + step
        for prefix, item in zip(_prefixes(value, inner), value.values()):
            kind = type(item)
            if kind is int:
                append(prefix + int.__repr__(item))
            elif kind is str:
                append(prefix + _string(item))
            elif item is None:
                append(prefix + "null")
            elif kind is list and not item:
                append(prefix + "[]")
            elif kind is list and all(type(each) is int for each in item):  # a shape: one join
                append(f"{prefix}[{deeper}{between.join(map(int.__repr__, item))}{inner}]")
            elif kind is list and all(type(each) is str for each in item):  # names: one join
                append(f"{prefix}[{deeper}{between.join(map(_string, item))}{inner}]")
            else:
                text = _leaf(item)
                append(prefix + text if text is not None else prefix)
                if text is None:
                    _write(item, out, inner, step)
        append(newline + "}")
        return
    if isinstance(value, (list, tuple)):
        if not value:
            append("[]")
            return
        if all(type(item) is int for item in value):  # a shape: one join
            append("[" + inner + ("," + inner).join(map(int.__repr__, value)) + newline + "]")
            return
        separator = "[" + inner
        for item in value:
            text = _leaf(item)
            if text is None:  # a container (a table's row): joined on its own, so `out` holds one string per row
                part = [separator]
                _write(item, part, inner, step)
                text = "".join(part)
            else:
                text = separator + text
            append(text)
            separator = "," + inner
        append(newline + "]")
        return
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
