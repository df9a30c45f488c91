"""Expanding a spec's layers: blocks, groups, repeats and `from` references → nodes, in spec order.

Entries are read by entry.py, names resolved by references.py once everything is expanded, and
repeated groups copied by copies.py.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import ErrorLog, LayerError, SpecError, did_you_mean, quoted, unprintable_name
from ..graph import FROZEN_PARTS, INPUT, TOOL_FLAGS, Node, Scope
from ..layers import REGISTRY
from .copies import ExpandedGroup, GroupTemplate
from .entry import GROUP, Entry, EntryError, parse_entry
from .expr import substitute
from .limits import Limits, over
from .references import Context, Reference, resolve


def expand(layers: Any, blocks: dict, env: dict, source: str, line: int | None,
           inputs: tuple[str, ...] = (INPUT,), *, limits: Limits = Limits()) -> list[Node]:
    """The nodes of a spec's `layers` (in spec order), every `from` resolved to a node name or one of
    the model's `inputs`; the expansion bounded by `limits`."""
    expander = Expander(blocks, source, inputs, limits=limits)
    try:
        expander.sequence(layers, Context(prefix="", env=env, scopes=(), input=INPUT), line)
    except SpecError as error:  # the spec cannot be read further: report it with what came before
        expander.log.raise_errors(error)
    if len(expander.nodes) > expander.max_layers:  # counted after block copies
        raise expander.too_large(line, Context(prefix="", env=env, scopes=(), input=INPUT))
    nodes = expander.resolve()  # its `from` errors are independent of the layers' own
    expander.log.raise_errors()
    return nodes


class Expander:
    """Expands blocks, groups and repeats into nodes; `from` references are resolved at the end."""

    def __init__(self, blocks: dict, source: str, inputs: tuple[str, ...] = (INPUT,), *, limits: Limits = Limits()):
        self.blocks, self.source, self.inputs, self.limits = blocks, source, inputs, limits
        self.nodes: list[Node] = []
        self.unresolved: list[int] = []  # indices of nodes with a `from` reference among their inputs
        self.outputs: dict[str, Any] = {}  # full group/block name → its output
        self.groups: dict[tuple, list[ExpandedGroup]] = {}  # groups expanded so far, for copies
        # the expansion is bounded: layers, and repetitions (of empty groups too)
        self.work, self.max_layers, self.max_work = 0, limits.layers, 10 * limits.layers
        self.parsed: dict[int, Entry] = {}  # id of a raw entry of the spec (alive while expanding) → it, read
        self.log = ErrorLog()  # a layer's bad arguments: reported, and the expansion goes on
        self.left_out: set[str] = set()  # layers reported and left out: what reads them is not reported again

    def error(self, message: str, line: int | None, layer: str | None, context: Context) -> SpecError:
        if context.use_line:
            message += f" (in a block used at line {context.use_line})"
        return SpecError(message, self.source, line, layer)

    def sequence(self, entries: Any, context: Context, line: int | None, previous: Any = None,
                 position: int = 0) -> tuple[Any, int]:
        """Expand a list of entries; returns the last output and the next free position."""
        if not isinstance(entries, list):
            raise self.error("'layers' must be a list", line, None, context)
        lines = getattr(entries, "lines", None) or [line] * len(entries)
        previous = context.input if previous is None else previous
        for raw, entry_line in zip(entries, lines):
            line = getattr(raw, "line", None) or entry_line
            entry = self.parsed.get(id(raw))
            if entry is None or entry.line != line:
                try:
                    entry = self.parse(raw, line, context)
                except SpecError as error:  # an unknown kind, a bad key: reported, and the next entry reads
                    self.log.add(error)     # what this one would have
                    self.leave_out(raw, context, previous)
                    position += 1
                    continue
            if entry.once:
                previous, position = self.repetition(entry, context.env, 0, None, context, previous, position)
            else:
                previous, position = self.entry(entry, context, previous, position)
        return previous, position

    def leave_out(self, raw: Any, context: Context, previous: Any) -> None:
        """An entry that cannot be read: a name it gives stands for its input, so a `from` naming it
        is not reported again."""
        name = raw.get("name") if isinstance(raw, dict) else None
        if isinstance(name, str) and "$" not in name:
            context.names[name] = previous
            self.left_out.add(context.prefix + name)

    def parse(self, raw: Any, line: int | None, context: Context) -> Entry:
        """A raw entry, read once however often a repeated group or block expands it."""
        try:
            self.parsed[id(raw)] = entry = parse_entry(raw, line, self.blocks)
        except EntryError as error:
            raise self.error(error.message, line, error.layer, context) from None
        return entry

    def entry(self, entry: Entry, context: Context, previous: Any, position: int) -> tuple[Any, int]:
        """Every repetition of one entry written with `repeat`, `index` or `when`."""
        repeat = 1
        if "repeat" in entry.keys:
            repeat = self.evaluate(entry.keys["repeat"], context.env, "repeat", entry.line, context)
            if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 0:
                raise self.error(f"repeat must be a whole number ≥ 0, got {quoted(repeat)}", entry.line, None,
                                 context)
            if repeat > self.max_layers:
                raise self.error(over(f"repeat {repeat:,} is more than the {self.max_layers:,} layers a spec may "
                                      "have", "layers"), entry.line, None, context)
        counter = str(entry.keys.get("index", "i")) if entry.repeated else None
        # a name that does not change per repetition names a group of them: name.0, name.1, ...
        group = None
        if entry.name is not None and repeat > 1 and "$" not in str(entry.name):
            full = context.prefix + str(entry.name)
            group = context.child(full + ".", context.env, Scope(full, f"{entry.kind}×{repeat}"), previous, None)
        for index in range(repeat):
            env = context.env if counter is None else {**context.env, counter: index}
            if "when" in entry.keys and not self.flag(entry, "when", env, context):
                continue
            previous, position = self.repetition(entry, env, index, group, context, previous, position)
        if group:
            self.outputs[group.prefix.rstrip(".")] = previous
            context.names[str(entry.name)] = previous
        return previous, position

    def repetition(self, entry: Entry, env: dict, index: int, group: Context | None, context: Context,
                   previous: Any, position: int) -> tuple[Any, int]:
        """One repetition of an entry: an unnamed group spliced in place, or one placed entry."""
        line = entry.line
        self.work += 1
        if self.work > self.max_work or len(self.nodes) > self.max_layers:
            raise self.too_large(line, context)
        frozen = "frozen" in entry.keys and self.frozen(entry, env, context)
        name = entry.name
        if name is not None and (type(name) is not str or "$" in name):
            name = str(self.evaluate(entry.name, env, "name", line, context))
        if name is not None and unprintable_name("name", name):
            raise self.error(unprintable_name("name", name), line, None, context)
        if entry.kind == GROUP and name is None:  # an unnamed group splices in place, like `layers += [...]`
            spliced = context.spliced(env, frozen)
            start = self.source_of(entry, env, context, GROUP) if "from" in entry.keys else [previous]
            if len(start) != 1:
                raise self.error("a sequential takes one input", line, None, context)
            return self.sequence(entry.value, spliced, line, start[0], position)
        where = group or context
        label = str(index) if group else str(position) if name is None else name
        source = where.input if group and index == 0 else previous
        if "from" in entry.keys:
            shown = f"{label}.{entry.kind}" if name is None and entry.is_layer else label
            source = self.source_of(entry, env, where, shown)
        output = self.place(entry, label, name is None, where, env, source, frozen)
        if name is not None and not group:
            context.names[name] = output
        return output, position + 1

    def flag(self, entry: Entry, key: str, env: dict, context: Context) -> bool:
        """`when` or `frozen`: true or false, written so or computed by an expression."""
        value = self.evaluate(entry.keys[key], env, key, entry.line, context)
        if not isinstance(value, bool):
            raise self.error(f"{key} must be true or false (or an expression giving one), got {quoted(value)}",
                             entry.line, entry.name, context)
        return value

    def frozen(self, entry: Entry, env: dict, context: Context) -> bool | str:
        """`frozen`: true or false (or an expression giving one); on a layer also "weights" or "biases", the
        part of its parameters frozen."""
        value = self.evaluate(entry.keys["frozen"], env, "frozen", entry.line, context)
        if entry.is_layer and value in FROZEN_PARTS:
            return value
        if not isinstance(value, bool):
            parts = ', "weights" or "biases"' if entry.is_layer else ""
            raise self.error(f"frozen must be true{parts} or false (or an expression giving one), got {quoted(value)}",
                             entry.line, entry.name, context)
        return value

    def too_large(self, line: int | None, context: Context) -> SpecError:
        return self.error(over(f"the spec expands to more than {self.max_layers:,} layers", "layers"), line, None,
                          context)

    def evaluate(self, value: Any, env: dict, what: str, line: int | None, context: Context) -> Any:
        try:
            return substitute(value, env, limits=self.limits)
        except LayerError as error:
            raise self.error(f"{what}: {error}", line, None, context) from None

    def source_of(self, entry: Entry, env: dict, context: Context, label: str) -> list[Reference]:
        """The layers an entry's `from` names, as references resolved once the spec is expanded."""
        try:
            value = substitute(entry.keys["from"], env, limits=self.limits)
        except LayerError as error:
            raise self.error(f"from: {error}", entry.line, label, context) from None
        refs = value if isinstance(value, list) else [value]
        return [Reference(text=str(r), context=context, line=entry.line, layer=context.prefix + label) for r in refs]

    def place(self, entry: Entry, label: str, automatic: bool, context: Context, env: dict, source: Any,
              frozen: bool) -> Any:
        """Expand one repetition of an entry in its context: a layer (`<position>.<kind>` when
        `automatic`), a block use or a sequential group, reading `source` (the previous output or
        the references its `from` names)."""
        line = entry.line
        full = context.prefix + (f"{label}.{entry.kind}" if automatic and entry.is_layer else label)
        if len(full) > self.limits.name_chars:  # names are copied into every layer below: their length is work
            raise self.error(over(f"a full name longer than {self.limits.name_chars:,} characters", "name_chars"),
                             line, full, context)
        if entry.is_layer:
            self.layer(entry, full, context, env, source, frozen)
            return full
        if len(context.scopes) >= self.limits.nesting:
            raise self.error(over(f"blocks and groups nest more than {self.limits.nesting} deep", "nesting"),
                             line, full, context)
        if entry.kind in self.blocks and any(scope.kind == entry.kind for scope in context.scopes):
            raise self.error(f"block '{entry.kind}' uses itself", line, full, context)
        block_input = source[0] if isinstance(source, list) and len(source) == 1 else source
        if isinstance(block_input, list):
            raise self.error(f"a {entry.kind} takes one input; 'from' names {len(source)}", line, full, context)
        if entry.kind == GROUP:
            inner = context.child(full + ".", env, Scope(full, entry.keys.get("label") or GROUP), block_input,
                                  None, frozen)
            output = self.group(entry.value, inner, line)
        else:
            block_env = self.block_env(entry.kind, entry.value, env, context, full, line)
            inner = context.child(full + ".", block_env, Scope(full, entry.kind), block_input, line, frozen)
            output = self.group(self.blocks[entry.kind].get("layers"), inner, line)
        self.outputs[full] = output
        return output

    def group(self, entries: Any, inner: Context, line: int | None) -> Any:
        """Expand a group's entries, or copy an equal group expanded before (a repeated block)."""
        key = (line, inner.scopes[-1].kind, inner.use_line, inner.frozen)
        earlier = next((g for g in self.groups.get(key, ()) if g.matches(entries, inner.env)), None)
        template = earlier and earlier.template(self.nodes, self.outputs)
        if template:
            return self.copy(template, inner)
        nodes, outputs = len(self.nodes), len(self.outputs)
        output, _ = self.sequence(entries, inner, line)
        if earlier is None:
            self.groups.setdefault(key, []).append(ExpandedGroup(
                entries=entries, inner=inner, output=output, nodes=range(nodes, len(self.nodes)),
                outputs=range(outputs, len(self.outputs))))
        return output

    def copy(self, template: GroupTemplate, inner: Context) -> Any:
        """The nodes of a template under the new group's name, scopes and input."""
        nodes, outputs, output = template.instantiate(inner)
        if not isinstance(inner.input, str):  # the group's input is a `from` still to resolve
            self.unresolved += [len(self.nodes) + i for i in range(len(nodes)) if template.reads_group_input(i)]
        self.nodes += nodes
        if len(self.nodes) > self.max_layers:  # the bound counts what copies add too
            raise self.too_large(inner.use_line, inner)
        self.outputs.update(outputs)
        return output

    def block_env(self, kind: str, value: Any, env: dict, context: Context, full: str, line) -> dict:
        block = self.blocks[kind]
        if not isinstance(block, dict) or "layers" not in block:
            raise self.error(f"block '{kind}' needs 'layers'", line, full, context)
        declared = dict(block.get("params") or {})
        given = value or {}
        if not isinstance(given, dict):
            raise self.error(f"block '{kind}' takes a mapping of parameters, got {quoted(given)}", line, full, context)
        for key in given:
            if key not in declared:
                raise self.error(f"block '{kind}' has no parameter '{key}'{did_you_mean(key, declared)}",
                                 line, full, context)
        try:
            values = substitute(dict(given), env, limits=self.limits)
        except LayerError as error:
            raise self.error(str(error), line, full, context) from None
        missing = [k for k, default in declared.items() if default is None and k not in values]
        if missing:
            raise self.error(f"block '{kind}' needs parameter '{missing[0]}'", line, full, context)
        root = context
        while root.parent:
            root = root.parent
        return {**root.env, **declared, **values}

    def layer(self, entry: Entry, name: str, context: Context, env: dict, source: Any, frozen: bool) -> None:
        """A node for a layer entry. A layer whose arguments are wrong is logged and left out, and the
        expansion goes on, so that every independent error of the spec shows in one run."""
        kind, value, line = REGISTRY[entry.kind], entry.value, entry.line
        try:
            if value is not None and not isinstance(value, dict):
                raise LayerError(f"{entry.kind} takes a mapping of arguments, got {quoted(value)}")
            args = kind.normalize(substitute(value, env, limits=self.limits) if value else {})
        except LayerError as error:
            return self.reject(name, self.error(str(error), line, name, context))
        inputs = tuple(source) if isinstance(source, list) else (source,)
        if not kind.reads_unless_told(args) and "from" not in entry.keys:
            inputs = ()
        wrong = kind.wrong_inputs(args, len(inputs))
        if wrong:
            return self.reject(name, self.error(f"{entry.kind} {wrong}, got {len(inputs)} (set 'from')", line, name, context))
        functional = bool(entry.keys.get("functional"))
        if functional and not kind.can_be_functional:
            return self.reject(name, self.error(f"{entry.kind} has parameters, so it cannot be functional", line,
                                                name, context))
        per_row = entry.keys.get("per_row", False)
        if not isinstance(per_row, bool) or per_row and len(inputs) != 1:
            wrong = f"is true or false, got {quoted(per_row)}" if not isinstance(per_row, bool) else \
                f"is for a layer of one input; this {entry.kind} takes {len(inputs) or 'none'}"
            return self.reject(name, self.error(f"per_row {wrong}", line, name, context))
        hooks = {key: entry.keys.get(key, False) for key in TOOL_FLAGS}
        for key, value in hooks.items():
            if not isinstance(value, bool):
                return self.reject(name, self.error(f"{key} is true or false, got {quoted(value)}", line, name, context))
        weights_of, module = entry.keys.get("weights_of"), entry.keys.get("module")
        for key, value in (("weights_of", weights_of), ("module", module)):
            if value is not None and not isinstance(value, str):
                what = "a layer" if key == "weights_of" else "the module class it runs as"
                return self.reject(name, self.error(f"{key} names {what}, got {quoted(value)}", line, name, context))
            if value is not None and unprintable_name(key, value):
                return self.reject(name, self.error(unprintable_name(key, value), line, name, context))
        if Reference in map(type, inputs):
            self.unresolved.append(len(self.nodes))
        self.nodes.append(Node.of({"name": name, "kind": entry.kind, "args": args, "inputs": inputs, "line": line,
                                   "scopes": context.scopes, "frozen": context.frozen or frozen,
                                   "used_at": context.use_line, "functional": functional, "weights_of": weights_of,
                                   "per_row": per_row, "module": module, **hooks}))

    def reject(self, name: str, error: SpecError) -> None:
        """A layer whose arguments are wrong: reported, and left out."""
        self.left_out.add(name)
        self.log.add(error)

    def resolve(self) -> list[Node]:
        """The expanded nodes, each `from` reference replaced by the name of the node it means; each name
        that cannot be resolved is reported, and the others still are."""
        nodes = self.nodes
        names = {node.name for node in nodes} | self.left_out
        if len(names) < len(nodes) + len(self.left_out) or not names.isdisjoint(self.inputs) \
                or not names.isdisjoint(self.outputs):
            seen = set()
            for node in nodes:
                if node.name in seen or node.name in self.outputs or node.name in self.inputs:
                    self.log.add(SpecError(f"duplicate name '{node.name}'", self.source, node.line, node.name))
                seen.add(node.name)
        names |= set(self.inputs[1:])  # the model's other inputs, read by name
        for index in self.unresolved:
            node = nodes[index]
            try:
                nodes[index] = replace(node, inputs=tuple(resolve(ref, names, self.outputs, self.source)
                                                          for ref in node.inputs))
            except SpecError as error:
                self.log.add(error)
        self._check_weights_of(nodes)
        return [_read_once(node) for node in nodes]

    def _check_weights_of(self, nodes: list[Node]) -> None:
        """A layer using another's weights names an earlier layer (whose sizes analyze holds it to)."""
        earlier: set[str] = set()
        for node in nodes:
            if node.weights_of and node.weights_of not in earlier and node.weights_of not in self.left_out:
                self.log.add(SpecError(f"weights_of: '{node.weights_of}' is no earlier layer", self.source, node.line,
                                       node.name))
            earlier.add(node.name)


def _read_once(node: Node) -> Node:
    """A layer given one tensor as several of its operands, reading it once (LayerKind.read_once): `from: [q, q, q]`
    is self-attention, in every copy of a repeated block too."""
    layer = REGISTRY.get(node.kind)
    inputs = layer.read_once(node.args, node.inputs) if layer is not None else node.inputs
    return node if inputs == node.inputs else replace(node, inputs=inputs)
