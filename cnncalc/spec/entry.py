"""One entry of a spec's `layers`: a layer, a block use or a group, with its keys as written."""
from __future__ import annotations

from typing import Any

from ..errors import did_you_mean, quoted, unprintable_name
from ..graph import TOOL_FLAGS
from ..layers import REGISTRY
from ..record import record

# the keys an entry may carry besides its kind
ENTRY_KEYS = frozenset(("name", "from", "repeat", "index", "when", "frozen", "label", "functional", "weights_of",
                        "per_row", "module", *TOOL_FLAGS))
GROUP = "sequential"


class EntryError(Exception):
    """An entry that is no layer, block use or group; the expander adds where it is."""

    def __init__(self, message: str, layer: Any):
        super().__init__(message)
        self.message, self.layer = message, layer


@record
class Entry:
    """An entry before expansion: its kind, the value under the kind key (a layer's arguments, a
    block's parameters or a group's entries) and its other keys, unevaluated."""
    kind: str
    value: Any
    line: int | None
    keys: dict            # name, from, repeat, index, when, frozen, label, functional: those written
    name: Any             # as written: a string, or an expression to evaluate per repetition
    repeated: bool        # it has a counter: written with `repeat` or `index`
    once: bool            # placed once, unconditionally: no `repeat`, `index` or `when`
    is_layer: bool        # a registered kind (not a block or a group)


def parse_entry(raw: Any, line: int | None, blocks: dict) -> Entry:
    """A bare kind string, or a mapping with one kind key plus name/from/repeat/when/..."""
    if isinstance(raw, str):
        kind = _known(raw, blocks, None)
        return Entry.of({"kind": kind, "value": None, "line": line, "keys": {}, "name": None, "repeated": False,
                         "once": True, "is_layer": kind in REGISTRY})
    if not isinstance(raw, dict):
        raise EntryError(f"a layer must be a kind name or a mapping, got {quoted(raw)}", None)
    kinds, keys = [], {}
    for key, value in raw.items():
        if key in ENTRY_KEYS:
            keys[key] = value
        else:
            kinds.append(key)
    label = keys.get("name")
    if len(kinds) != 1:
        what = "no layer kind" if not kinds else f"several layer kinds ({', '.join(map(str, kinds))})"
        raise EntryError(f"entry has {what}; write exactly one, e.g. '- relu'", label)
    kind = kinds[0]
    if kind not in REGISTRY:
        kind = _known(str(kind), blocks, label)
        for key in ("functional", "weights_of", "per_row", "module", *TOOL_FLAGS):
            if key in keys:
                raise EntryError(f"'{key}' applies to a single layer", label)
    if "label" in keys and kind != GROUP:
        raise EntryError("'label' names a sequential group; a block is labelled by its own name", label)
    if "label" in keys and keys["label"] is not None:
        if not isinstance(keys["label"], str):
            raise EntryError(f"'label' is a name, got {quoted(keys['label'])}", label)
        if unprintable_name("label", keys["label"]):
            raise EntryError(unprintable_name("label", keys["label"]), label)
    repeated = "repeat" in keys or "index" in keys
    return Entry.of({"kind": kind, "value": raw[kinds[0]], "line": line, "keys": keys, "name": label,
                     "repeated": repeated, "once": not repeated and "when" not in keys, "is_layer": kind in REGISTRY})


def _known(kind: str, blocks: dict, label: Any) -> str:
    if kind not in REGISTRY and kind not in blocks and kind != GROUP:
        known = list(REGISTRY) + list(blocks) + [GROUP]
        raise EntryError(f"unknown layer kind '{kind}'{did_you_mean(kind, known)}", label)
    return kind
