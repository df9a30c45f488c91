"""Reading spec files safely: only regular files, of bounded size, as UTF-8; YAML without tags that
run code, duplicate keys or octal surprises, and bounded once aliases are expanded. Every mapping and
list item remembers its line."""
from __future__ import annotations

import os
import re
import stat
from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import SpecError
from .limits import Limits, over

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+$")
# where an anchor could start: "&name" after a line start, a space or a YAML indicator ("Simonyan &
# Zisserman" is none). A false match only costs the walk below.
_ANCHOR = re.compile(r"(?:^|[\s\[\]{},:?-])&[^\s]", re.M)


class LineDict(dict):
    """A mapping from a spec file, with the line it starts on."""
    line: int | None = None


class LineList(list):
    """A list from a spec file, with the line of each item."""
    lines: list[int] = []


class _Refused(yaml.constructor.ConstructorError):
    """Valid YAML that cnncalc refuses (a duplicate key, an octal-looking integer, an alias bomb)."""


def _refuse(message: str, node) -> _Refused:
    return _Refused(None, None, message, node.start_mark)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    nodes = 0  # nodes the parser has made so far: the work of reading the text is bounded before it is done
    limits = Limits()  # the bounds of this read (load_yaml sets them)

    def resolve(self, kind, value, implicit):
        self.nodes += 1
        if self.nodes > self.limits.yaml_nodes:
            raise _Refused(None, None, over(f"the YAML has more than {self.limits.yaml_nodes:,} nodes",
                                            "yaml_nodes"), None)
        return super().resolve(kind, value, implicit)

    def construct_mapping(self, node, deep=False):
        keys = [key.value for key, _ in node.value if key.__class__ is yaml.ScalarNode]
        if len(set(keys)) < len(keys):
            _duplicate_key(node)
        mapping = LineDict(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        return mapping

    def construct_sequence(self, node, deep=False):
        items = LineList(super().construct_sequence(node, deep=True))
        items.lines = [child.start_mark.line + 1 for child in node.value]
        return items

    def construct_yaml_int(self, node):
        text = node.value
        if ":" in text:
            raise _refuse(f"{text} is a base-60 number in YAML 1.1 ({super().construct_yaml_int(node)}): quote it, "
                          "or write the number you mean", node)
        if text[0] in "0+-" and _LEADING_ZERO.match(text):
            raise _refuse(f"integer {text} has a leading zero (YAML would read it as octal): write "
                          f"{int(text.replace('_', ''), 10)}", node)
        if len(text.lstrip("+-").replace("_", "")) > self.limits.integer_digits:
            raise _refuse(over(f"integer of more than {self.limits.integer_digits} digits",
                               "integer_digits"), node)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node):
        if ":" in node.value:
            raise _refuse(f"{node.value} is a base-60 number in YAML 1.1: quote it, or write the number you mean", node)
        return super().construct_yaml_float(node)


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)


def _duplicate_key(node) -> None:
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        if key_node.__class__ is yaml.ScalarNode and key_node.value in seen:
            raise _refuse(f"duplicate key '{key_node.value}' (first on line {seen[key_node.value]})", key_node)
        seen[key_node.value] = key_node.start_mark.line + 1


def _expanded_size(root, limit: int) -> int:
    """Nodes in the document once every alias is replaced by what it names (an alias bomb is a few
    hundred bytes naming billions); a node that contains itself is refused."""
    sizes: dict[int, int] = {}
    stack = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = ([] if isinstance(node, yaml.ScalarNode) else node.value if isinstance(node, yaml.SequenceNode)
                    else [part for pair in node.value for part in pair])
        if done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[key] > limit:
                raise _refuse(over(f"the YAML expands to more than {limit:,} nodes through aliases", "yaml_nodes"),
                              node)
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise _refuse("an alias refers to a node that contains it", node)
        open_nodes.add(key)
        stack.append((node, True))
        stack += [(child, False) for child in children if id(child) not in sizes]
    return sizes[id(root)]


def load_yaml(text: str, file: str, *, limits: Limits = Limits()) -> object:
    """Parse YAML text safely, within `limits`; every problem becomes a SpecError with its line."""
    loader = _Loader(text)
    loader.limits = limits
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _ANCHOR.search(text):  # without anchors no node appears twice: the text's size bounds the document
            _expanded_size(node, limits.yaml_nodes)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        problem = error.problem or error.context
        if isinstance(error, _Refused):
            raise SpecError(problem, file, line) from None
        raise SpecError(f"malformed YAML: {problem}{_hint(problem, text, mark)}", file, line) from None
    except yaml.YAMLError as error:
        raise SpecError(f"malformed YAML: {' '.join(str(error).split())}", file) from None
    except RecursionError:
        raise SpecError("malformed YAML: nested too deeply", file) from None
    finally:
        loader.dispose()


def _hint(problem: str, text: str, mark) -> str:
    """What most often causes a YAML error, where it is the likely cause."""
    if mark and "\t" in "".join(text.splitlines()[mark.line:mark.line + 1]):
        return " (a tab: YAML indents with spaces only)"
    if "mapping values are not allowed" in str(problem):
        return " (a layer with keys needs a colon after its kind: '- relu:' then 'name: ...')"
    return ""


def existing(path: Path, shown: str) -> Path:
    """The path of a spec the user named, which must exist (a link counts: reading it decides)."""
    if not os.path.lexists(path):
        raise SpecError("no such spec file", shown)
    return path


def read_text(path: Path, *, limits: Limits = Limits()) -> str:
    """A spec or lock file's text: a regular file (never a device or FIFO), within the size limit, UTF-8."""
    limit = limits.spec_bytes
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise SpecError(f"cannot read: {error.strerror.lower()}", str(path)) from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            what = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a device, FIFO or socket)"
            raise SpecError(f"{what}: only spec files are read", str(path))
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(descriptor, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(descriptor)
    if len(data) > limit:
        raise SpecError(over(f"larger than {limit:,} bytes", "spec_bytes"), str(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SpecError(f"not UTF-8 text (byte {error.start} is {data[error.start]:#04x})", str(path)) from None


def load_yaml_file(path: Path, *, limits: Limits = Limits()) -> object:
    """A spec file parsed once per process and limits (the zoo index and the loader both read it)."""
    return _parsed(path, limits)


@lru_cache(maxsize=64)
def _parsed(path: Path, limits: Limits) -> object:
    return load_yaml(read_text(path, limits=limits), str(path), limits=limits)


load_yaml_file.cache_clear = _parsed.cache_clear  # type: ignore[attr-defined]  # a benchmark parses afresh
