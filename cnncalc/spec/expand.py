"""Expanding a spec's layers: blocks, groups, repeats and `from` references → nodes.

A group equal to one expanded before (a repeated block: the same entries, lines and parameters) is
copied from the first expansion, renamed, instead of being expanded again.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import LayerError, SpecError, did_you_mean
from ..graph import INPUT, Node, Scope
from ..layers import REGISTRY
from .expr import substitute

LAYER_KEYS = frozenset(("name", "from", "repeat", "index", "when", "frozen", "label", "functional"))
GROUP = "sequential"


@dataclass
class _Context:
    """Where an entry is expanded: its name prefix, parameters, scopes and local names."""
    prefix: str
    env: dict
    scopes: tuple[Scope, ...]
    input: Any                      # a node name, or a _Ref still to resolve
    parent: "_Context | None" = None
    names: dict = field(default_factory=dict)
    use_line: int | None = None     # where the enclosing block was used
    frozen: bool = False            # everything inside is excluded from training

    def child(self, prefix: str, env: dict, scope: Scope, input_: Any, use_line: int | None,
              frozen: bool = False) -> "_Context":
        return _Context(prefix, env, self.scopes + (scope,), input_, self,
                        use_line=use_line or self.use_line, frozen=self.frozen or frozen)


@dataclass(frozen=True)
class _Ref:
    """A `from` name, resolved once the whole spec is expanded (so forward names and cycles show)."""
    text: str
    context: _Context = field(compare=False)
    line: int | None
    layer: str


def _scoped(ref: _Ref, last: _Context | None) -> Any:
    """What a reference names in its own context or an enclosing one, up to `last` (None: the root)."""
    context = ref.context
    while context is not None:
        target = context.input if ref.text == INPUT else context.names.get(ref.text)
        if target is not None or context is last:
            return target
        context = context.parent
    return None


_GROUP_INPUT = object()  # in a template: the input of the group


@dataclass(frozen=True)
class _Template:
    """A group's nodes relative to the group: names without its prefix, inputs inside it or its input."""
    nodes: tuple    # (relative name, kind, args, inputs, line, tail, frozen, used_at, functional)
    tails: tuple    # the scopes below the group's own, as (relative name, kind) pairs
    outputs: tuple  # (relative name, relative output) of the groups inside
    output: Any


@dataclass
class _Expanded:
    """A group as first expanded: the nodes and outputs it added, and (once needed) its template."""
    entries: Any
    inner: _Context
    output: Any
    nodes_from: int
    nodes_to: int
    outputs_from: int
    outputs_to: int
    lines: list | None = None
    built: "_Template | None | bool" = False

    def matches(self, entries: Any, env: dict) -> bool:
        """Equal entries from the same lines with equal parameters expand alike."""
        if entries is not self.entries:
            if entries != self.entries:
                return False
            if self.lines is None:
                self.lines = _lines(self.entries)
            if _lines(entries) != self.lines:
                return False
        return env is self.inner.env or env == self.inner.env

    def template(self, nodes: list[Node], outputs: dict) -> "_Template | None":
        if self.built is False:
            self.built = self._build(nodes, list(outputs.items())[self.outputs_from:self.outputs_to])
        return self.built

    def _build(self, nodes: list[Node], outputs: list) -> "_Template | None":
        """None where a node reads from outside the group: such a copy would need its own lookup."""
        prefix, depth, tails, relative_nodes = self.inner.prefix, len(self.inner.scopes), {}, []
        for node in nodes[self.nodes_from:self.nodes_to]:
            inputs = tuple(self.relative(i) for i in node.inputs)
            if None in inputs:
                return None
            tail = tails.setdefault(node.scopes[depth:], len(tails))
            relative_nodes.append((node.name[len(prefix):], node.kind, node.args, inputs, node.line, tail,
                                   node.frozen, node.used_at, node.functional))
        relative_outputs = tuple((name[len(prefix):], self.relative(output)) for name, output in outputs)
        output = self.relative(self.output)
        if output is None or any(out is None for _, out in relative_outputs):
            return None
        relative_tails = tuple(tuple((s.name[len(prefix):], s.kind) for s in tail) for tail in tails)
        return _Template(tuple(relative_nodes), relative_tails, relative_outputs, output)

    def relative(self, value: Any) -> Any:
        """A name inside the group without its prefix, _GROUP_INPUT, or None (outside the group)."""
        inner, seen = self.inner, set()
        while isinstance(value, _Ref) and value is not inner.input and id(value) not in seen:
            seen.add(id(value))
            value = _scoped(value, inner)
        if value is inner.input or (isinstance(value, str) and value == inner.input):
            return _GROUP_INPUT
        if isinstance(value, str) and value.startswith(inner.prefix):
            return value[len(inner.prefix):]
        return None


def _lines(entries: Any) -> list:
    """The line of every entry, groups within included: what == on the entries does not compare."""
    lines = [getattr(entries, "lines", None)]
    for entry in entries:
        lines.append(getattr(entry, "line", None))
        if isinstance(entry, dict) and isinstance(entry.get(GROUP), list):
            lines.append(_lines(entry[GROUP]))
    return lines


def expand(layers: Any, blocks: dict, env: dict, source: str, line: int | None) -> list[Node]:
    """The nodes of a spec's `layers` (in spec order), every `from` resolved to a node name."""
    expander = _Expander(blocks, source)
    expander.sequence(layers, _Context("", env, (), INPUT), line)
    return expander.resolve()


class _Expander:
    """Expands blocks, groups and repeats into nodes; `from` references are resolved at the end."""

    def __init__(self, blocks: dict, source: str):
        self.blocks, self.source = blocks, source
        self.nodes: list[Node] = []
        self.unresolved: list[int] = []  # indices of nodes with a `from` reference among their inputs
        self.outputs: dict[str, Any] = {}  # full group/block name → its output
        self.groups: dict[tuple, list[_Expanded]] = {}  # groups expanded so far, for copies

    def error(self, message: str, line: int | None, layer: str | None, context: _Context) -> SpecError:
        if context.use_line:
            message += f" (in a block used at line {context.use_line})"
        return SpecError(message, self.source, line, layer)

    def sequence(self, entries: Any, context: _Context, line: int | None, previous: Any = None,
                 position: int = 0) -> tuple[Any, int]:
        """Expand a list of entries; returns the last output and the next free position."""
        if not isinstance(entries, list):
            raise self.error("'layers' must be a list", line, None, context)
        lines = getattr(entries, "lines", None) or [line] * len(entries)
        previous = context.input if previous is None else previous
        for entry, entry_line in zip(entries, lines):
            previous, position = self.entry(entry, getattr(entry, "line", None) or entry_line,
                                            context, previous, position)
        return previous, position

    def entry(self, entry: Any, line: int | None, context: _Context, previous: Any, position: int):
        kind, value, meta = self._split(entry, line, context)
        repeat = 1
        if "repeat" in meta:
            repeat = self.evaluate(meta["repeat"], context.env, "repeat", line, context)
            if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 0:
                raise self.error(f"repeat must be a whole number ≥ 0, got {repeat!r}", line, None, context)
        named = meta.get("name")
        counter = str(meta.get("index", "i")) if "repeat" in meta or "index" in meta else None
        # a name that does not change per repetition names a group of them: name.0, name.1, ...
        group = None
        if named is not None and repeat > 1 and "$" not in str(named):
            full = context.prefix + str(named)
            group = context.child(full + ".", context.env, Scope(full, f"{kind}×{repeat}"), previous, None)
        for index in range(repeat):
            env = context.env if counter is None else {**context.env, counter: index}
            if "when" in meta and not self.evaluate(meta["when"], env, "when", line, context):
                continue
            frozen = "frozen" in meta and bool(self.evaluate(meta["frozen"], env, "frozen", line, context))
            name = named
            if name is not None and (type(name) is not str or "$" in name):
                name = str(self.evaluate(named, env, "name", line, context))
            if kind == GROUP and name is None:  # an unnamed group splices in place, like `layers += [...]`
                spliced = replace(context, env=env, frozen=context.frozen or frozen)
                start = self.source_of(meta, env, context, line, GROUP) if "from" in meta else [previous]
                if len(start) != 1:
                    raise self.error("a sequential takes one input", line, None, context)
                previous, position = self.sequence(value, spliced, line, start[0], position)
                continue
            where = group or context
            label = str(index) if group else str(position) if name is None else name
            source = where.input if group and index == 0 else previous
            if "from" in meta:
                shown = f"{label}.{kind}" if name is None and kind in REGISTRY else label
                source = self.source_of(meta, env, where, line, shown)
            previous = self.place(kind, value, label, name is None, where, env, source, line, frozen,
                                  meta.get("label"), bool(meta.get("functional")))
            if name is not None and not group:
                context.names[name] = previous
            position += 1
        if group:
            self.outputs[group.prefix.rstrip(".")] = previous
            context.names[str(named)] = previous
        return previous, position

    def evaluate(self, value: Any, env: dict, what: str, line: int | None, context: _Context) -> Any:
        try:
            return substitute(value, env)
        except LayerError as error:
            raise self.error(f"{what}: {error}", line, None, context) from None

    def source_of(self, meta: dict, env: dict, context: _Context, line, label) -> list["_Ref"]:
        """The layers an entry's `from` names, as references resolved once the spec is expanded."""
        try:
            value = substitute(meta["from"], env)
        except LayerError as error:
            raise self.error(f"from: {error}", line, label, context) from None
        refs = value if isinstance(value, list) else [value]
        return [_Ref(str(r), context, line, context.prefix + label) for r in refs]

    def place(self, kind: str, value: Any, label: str, auto: bool, context: _Context, env: dict,
              source: Any, line: int | None, frozen: bool, group_label: str | None = None,
              functional: bool = False) -> Any:
        """Expand one (non-repeated) entry: a layer, a block use or a sequential group."""
        if kind in REGISTRY:
            name = context.prefix + (f"{label}.{kind}" if auto else label)
            self.layer(kind, value, name, context, env, source, line, frozen or context.frozen, functional)
            return name
        full = context.prefix + label
        block_input = source[0] if isinstance(source, list) and len(source) == 1 else source
        if isinstance(block_input, list):
            raise self.error(f"a {kind} takes one input; 'from' names {len(source)}", line, full, context)
        if kind == GROUP:
            inner = context.child(full + ".", env, Scope(full, group_label or GROUP), block_input, None,
                                  frozen)
            output = self.group(value, inner, line)
        else:
            block_env = self.block_env(kind, value, env, context, full, line)
            inner = context.child(full + ".", block_env, Scope(full, kind), block_input, line, frozen)
            output = self.group(self.blocks[kind].get("layers"), inner, line)
        self.outputs[full] = output
        return output

    def group(self, entries: Any, inner: _Context, line: int | None) -> Any:
        """Expand a group's entries, or copy an equal group expanded before (a repeated block)."""
        key = (line, inner.scopes[-1].kind, inner.use_line, inner.frozen)
        earlier = next((g for g in self.groups.get(key, ()) if g.matches(entries, inner.env)), None)
        template = earlier and earlier.template(self.nodes, self.outputs)
        if template:
            return self.copy(template, inner)
        nodes, outputs = len(self.nodes), len(self.outputs)
        output, _ = self.sequence(entries, inner, line)
        if earlier is None:
            self.groups.setdefault(key, []).append(
                _Expanded(entries, inner, output, nodes, len(self.nodes), outputs, len(self.outputs)))
        return output

    def copy(self, template: "_Template", inner: _Context) -> Any:
        """The nodes of a template under the new group's name, scopes and input."""
        prefix, group_input = inner.prefix, inner.input

        def name(relative: Any) -> Any:
            return group_input if relative is _GROUP_INPUT else prefix + relative
        scopes = [inner.scopes + tuple(Scope(prefix + n, kind) for n, kind in tail) for tail in template.tails]
        pending = not isinstance(group_input, str)  # the group's input is a `from` still to resolve
        for relative, kind, args, inputs, line, tail, frozen, used_at, functional in template.nodes:
            if pending and _GROUP_INPUT in inputs:
                self.unresolved.append(len(self.nodes))
            self.nodes.append(Node(prefix + relative, kind, args, tuple([name(i) for i in inputs]), line,
                                   scopes[tail], frozen, used_at, functional))
        for relative, output in template.outputs:
            self.outputs[prefix + relative] = name(output)
        return name(template.output)

    def block_env(self, kind: str, value: Any, env: dict, context: _Context, full: str, line) -> dict:
        block = self.blocks[kind]
        if not isinstance(block, dict) or "layers" not in block:
            raise self.error(f"block '{kind}' needs 'layers'", line, full, context)
        declared = dict(block.get("params") or {})
        given = value or {}
        if not isinstance(given, dict):
            raise self.error(f"block '{kind}' takes a mapping of parameters, got {given!r}", line, full, context)
        for key in given:
            if key not in declared:
                raise self.error(f"block '{kind}' has no parameter '{key}'{did_you_mean(key, declared)}",
                                 line, full, context)
        try:
            values = substitute(dict(given), env)
        except LayerError as error:
            raise self.error(str(error), line, full, context) from None
        missing = [k for k, default in declared.items() if default is None and k not in values]
        if missing:
            raise self.error(f"block '{kind}' needs parameter '{missing[0]}'", line, full, context)
        root = context
        while root.parent:
            root = root.parent
        return {**root.env, **declared, **values}

    def layer(self, kind: str, value: Any, name: str, context: _Context, env: dict, source: Any, line,
              frozen: bool, functional: bool):
        layer_kind = REGISTRY[kind]
        try:
            if value is not None and not isinstance(value, dict):
                raise LayerError(f"{kind} takes a mapping of arguments, got {value!r}")
            args = layer_kind.normalize(substitute(value, env) if value else {})
        except LayerError as error:
            raise self.error(str(error), line, name, context) from None
        inputs = tuple(source) if isinstance(source, list) else (source,)
        arity = layer_kind.arity
        if (arity is None and len(inputs) < 2) or (arity is not None and len(inputs) != arity):
            wanted = "two or more inputs" if arity is None else f"{arity} input{'s' * (arity > 1)}"
            raise self.error(f"{kind} takes {wanted}, got {len(inputs)} (set 'from')", line, name, context)
        if functional and not layer_kind.can_be_functional:
            raise self.error(f"{kind} has parameters, so it cannot be functional", line, name, context)
        if _Ref in map(type, inputs):
            self.unresolved.append(len(self.nodes))
        self.nodes.append(Node(name, kind, args, inputs, line, context.scopes, frozen, context.use_line,
                               functional))

    def _split(self, entry: Any, line: int | None, context: _Context) -> tuple[str, Any, dict]:
        """An entry is a bare kind string, or a mapping with one kind key plus name/from/repeat/when."""
        if isinstance(entry, str):
            return self._known(entry, line, context, None), None, {}
        if not isinstance(entry, dict):
            raise self.error(f"a layer must be a kind name or a mapping, got {entry!r}", line, None, context)
        kinds, meta = [], {}
        for key, value in entry.items():
            if key in LAYER_KEYS:
                meta[key] = value
            else:
                kinds.append(key)
        label = meta.get("name")
        if len(kinds) != 1:
            what = "no layer kind" if not kinds else f"several layer kinds ({', '.join(map(str, kinds))})"
            raise self.error(f"entry has {what}; write exactly one, e.g. '- relu'", line, label, context)
        kind = kinds[0]
        if kind not in REGISTRY:
            kind = self._known(str(kind), line, context, label)
            if "functional" in meta:
                raise self.error("'functional' applies to a single layer", line, label, context)
        if "label" in meta and kind != GROUP:
            raise self.error("'label' names a sequential group; a block is labelled by its own name",
                             line, label, context)
        return kind, entry[kinds[0]], meta

    def _known(self, kind: str, line, context: _Context, label) -> str:
        if kind not in REGISTRY and kind not in self.blocks and kind != GROUP:
            known = list(REGISTRY) + list(self.blocks) + [GROUP]
            raise self.error(f"unknown layer kind '{kind}'{did_you_mean(kind, known)}", line, label, context)
        return kind

    def resolve(self) -> list[Node]:
        """The expanded nodes, each `from` reference replaced by the name of the node it means."""
        nodes = self.nodes
        names = {node.name for node in nodes}
        if len(names) < len(nodes) or INPUT in names or not names.isdisjoint(self.outputs):
            seen = set()
            for node in nodes:
                if node.name in seen or node.name in self.outputs or node.name == INPUT:
                    raise SpecError(f"duplicate name '{node.name}'", self.source, node.line, node.name)
                seen.add(node.name)
        for index in self.unresolved:
            node = nodes[index]
            nodes[index] = replace(node, inputs=tuple(self.lookup(ref, names) for ref in node.inputs))
        return nodes

    def lookup(self, ref: Any, names: set[str]) -> str:
        """A node name for a reference: local names first, then enclosing blocks, then full names."""
        seen = set()
        while isinstance(ref, _Ref):
            if id(ref) in seen:  # empty groups fed, in a circle, by each other's names
                raise SpecError(f"'from' names '{ref.text}', which leads back to itself through empty groups",
                                self.source, ref.line, ref.layer)
            seen.add(id(ref))
            target = _scoped(ref, None)
            if target is None:
                target = ref.text if ref.text in names else self.outputs.get(ref.text)
            if target is None:
                raise SpecError(f"'from' names '{ref.text}', which is no layer of this spec"
                                f"{did_you_mean(ref.text, names)}", self.source, ref.line, ref.layer)
            ref = target
        return ref
