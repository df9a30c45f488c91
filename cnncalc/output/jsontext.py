"""`json.dumps(value, indent=2)`, the same text, several times faster.

Python's json module writes indented JSON with its pure-Python encoder (its C encoder only writes
compact JSON), a generator per value: most of `table -f json`'s time on a large model. This writes
each container in one loop, the leaves (strings through json's own C function, integers, floats,
booleans, null) inline, and a list of integers (a shape) in one join."""
from __future__ import annotations

from json.encoder import encode_basestring_ascii as _string

_INFINITY = float("inf")
_KEYS: dict[str, str] = {}  # a key → its JSON text: a table's rows repeat the same keys


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
        separator, keys, deeper = "{" + inner, _KEYS, inner + step
        for key, item in value.items():
            name = keys.get(key) if type(key) is str else None
            if name is None:
                name = _key(key)
                if type(key) is str and len(keys) < 4096:
                    keys[key] = name
            kind = type(item)
            if kind is int:
                append(f"{separator}{name}: {int.__repr__(item)}")
            elif kind is str:
                append(f"{separator}{name}: {_string(item)}")
            elif item is None:
                append(f"{separator}{name}: null")
            elif kind is list and not item:
                append(f"{separator}{name}: []")
            elif kind is list and all(type(each) is int for each in item):  # a shape: one join
                append(f"{separator}{name}: [{deeper}{(',' + deeper).join(map(int.__repr__, item))}{inner}]")
            elif kind is list and all(type(each) is str for each in item):  # names: one join
                append(f"{separator}{name}: [{deeper}{(',' + deeper).join(map(_string, item))}{inner}]")
            else:
                text = _leaf(item)
                append(f"{separator}{name}: {text}" if text is not None else f"{separator}{name}: ")
                if text is None:
                    _write(item, out, inner, step)
            separator = "," + inner
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
