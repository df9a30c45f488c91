"""Spec loading: YAML (or a Python spec's data) → validated, expanded Graph."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import LayerError, SpecError
from .expr import substitute
from .graph import INPUT, Graph, Node, Scope, topological
from .layers import REGISTRY
from .yamlload import load_yaml_file

TOP_KEYS = ("name", "description", "input", "layers", "blocks", "params", "variants", "budget")
LAYER_KEYS = frozenset(("name", "from", "repeat", "index", "when", "frozen", "label", "functional"))
FUNCTIONAL_FAMILIES = ("activation", "pool", "dropout", "shape")
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


@dataclass
class _Pending:
    name: str
    kind: str
    args: dict
    inputs: list
    line: int | None
    scopes: tuple[Scope, ...]
    frozen: bool
    used_at: int | None
    functional: bool


def load_spec(path: str | Path, params: dict | None = None, variant: str | None = None) -> Graph:
    """Load a YAML or Python spec file into a Graph; `params` override the spec's parameters."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise SpecError("no such spec file", source)
    if path.suffix == ".py":
        from .pyspec import load_python_spec  # runs user code: only for a .py path the user named
        data = load_python_spec(path, params or {}, variant)
        return build_graph(data, source, {}, None, default_name=variant or path.stem)
    return build_graph(load_yaml_file(path), source, params or {}, variant, default_name=path.stem)


def build_graph(data: Any, source: str, params: dict, variant: str | None = None,
                default_name: str = "model") -> Graph:
    if not isinstance(data, dict):
        raise SpecError("a spec must be a mapping with 'input' and 'layers'", source, 1)
    line = getattr(data, "line", None)
    for key in data:
        if key not in TOP_KEYS:
            raise SpecError(f"unknown top-level key '{key}'{_hint(key, TOP_KEYS)}", source, line)
    env = _parameters(data, source, params, variant)
    for key in ("input", "layers"):
        if key not in data:
            raise SpecError(f"missing '{key}'", source, line)
    input_shape = _input_shape(data["input"], env, source, line)
    blocks = data.get("blocks") or {}
    if not isinstance(blocks, dict):
        raise SpecError("'blocks' must map block names to {params, layers}", source, line)
    expander = _Expander(blocks, source)
    root = _Context("", env, (), INPUT)
    expander.sequence(data["layers"], root, line)
    nodes = expander.resolve()
    if not nodes:
        raise SpecError("'layers' is empty", source, line)
    name = variant or data.get("name") or default_name
    budget, budget_line = _budget(data.get("budget"), env, source, line)
    return Graph(str(name), input_shape, topological(nodes, source), source,
                 str(data.get("description") or "").strip(), budget, budget_line)


def _budget(value: Any, env: dict, source: str, line: int | None) -> tuple[dict, int | None]:
    """The optional `budget:` section: limits that `cnncalc check` enforces."""
    if value is None:
        return {}, None
    from .check import BUDGETS, parse_quantity

    where = getattr(value, "line", line)
    if not isinstance(value, dict):
        raise SpecError("budget must map max_params, max_macs, max_activation_bytes or max_peak_memory to "
                        "limits", source, where)
    limits = {}
    for key, limit in value.items():
        if key not in BUDGETS:
            raise SpecError(f"unknown budget '{key}'{_hint(key, BUDGETS)}", source, where)
        try:
            limits[key] = parse_quantity(substitute(limit, env), BUDGETS[key][2])
        except (SpecError, LayerError) as error:
            raise SpecError(f"budget {key}: {getattr(error, 'message', error)}", source, where) from None
    return limits, where


def _parameters(data: dict, source: str, overrides: dict, variant: str | None) -> dict:
    env = dict(data.get("params") or {})
    variants = data.get("variants") or {}
    if variant is not None:
        if variant not in variants:
            raise SpecError(f"unknown variant '{variant}'{_hint(variant, variants)}", source)
        env.update(variants[variant] or {})
    for key in overrides:
        if key not in env:
            raise SpecError(f"--set {key}: the spec has no parameter '{key}'{_hint(key, env)}"
                            f" (parameters: {', '.join(env) or 'none'})", source)
    env.update(overrides)
    return env


def _input_shape(value: Any, env: dict, source: str, line: int | None) -> tuple[int, ...]:
    try:
        shape = substitute(value, env)
    except LayerError as error:
        raise SpecError(f"input: {error}", source, line) from None
    if (not isinstance(shape, list) or not 1 <= len(shape) <= 4
            or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)):
        raise SpecError(f"input must be a per-sample shape like [3, 224, 224] of positive sizes, got {value!r}",
                        source, line)
    return tuple(shape)


def _hint(name: str, options) -> str:
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Expander:
    """Expands blocks, groups and repeats into pending nodes with deferred `from` references."""

    def __init__(self, blocks: dict, source: str):
        self.blocks, self.source = blocks, source
        self.pending: list[_Pending] = []
        self.outputs: dict[str, Any] = {}  # full group/block name → its output

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
        repeat = self.evaluate(meta["repeat"], context.env, "repeat", line, context) if "repeat" in meta else 1
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 0:
            raise self.error(f"repeat must be a whole number ≥ 0, got {repeat!r}", line, None, context)
        named, counter = meta.get("name"), str(meta.get("index", "i"))
        # a name that does not change per repetition names a group of them: name.0, name.1, ...
        group = None
        if named is not None and repeat > 1 and "$" not in str(named):
            full = context.prefix + str(named)
            group = context.child(full + ".", context.env, Scope(full, f"{kind}×{repeat}"), previous, None)
        for index in range(repeat):
            env = {**context.env, counter: index} if "repeat" in meta or "index" in meta else context.env
            if "when" in meta and not self.evaluate(meta["when"], env, "when", line, context):
                continue
            frozen = "frozen" in meta and bool(self.evaluate(meta["frozen"], env, "frozen", line, context))
            name = None if named is None else str(self.evaluate(named, env, "name", line, context))
            if kind == GROUP and name is None:  # an unnamed group splices in place, like `layers += [...]`
                spliced = replace(context, env=env, frozen=context.frozen or frozen)
                start = self.source_of(meta, env, context, [previous], line, GROUP)
                if len(start) != 1:
                    raise self.error("a sequential takes one input", line, None, context)
                previous, position = self.sequence(value, spliced, line, start[0], position)
                continue
            where = group or context
            label = str(index) if group else str(position) if name is None else name
            shown = f"{label}.{kind}" if name is None and kind in REGISTRY else label
            source = self.source_of(meta, env, where, where.input if group and index == 0 else previous,
                                    line, shown)
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

    def source_of(self, meta: dict, env: dict, context: _Context, previous: Any, line, label) -> Any:
        if "from" not in meta:
            return previous
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
            output, _ = self.sequence(value, inner, line)
        else:
            block_env = self.block_env(kind, value, env, context, full, line)
            inner = context.child(full + ".", block_env, Scope(full, kind), block_input, line, frozen)
            output, _ = self.sequence(self.blocks[kind].get("layers"), inner, line)
        self.outputs[full] = output
        return output

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
                raise self.error(f"block '{kind}' has no parameter '{key}'{_hint(key, declared)}",
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
            args = layer_kind.normalize(substitute(dict(value or {}), env))
        except LayerError as error:
            raise self.error(str(error), line, name, context) from None
        inputs = source if isinstance(source, list) else [source]
        arity = layer_kind.arity
        if (arity is None and len(inputs) < 2) or (arity is not None and len(inputs) != arity):
            wanted = "two or more inputs" if arity is None else f"{arity} input{'s' * (arity > 1)}"
            raise self.error(f"{kind} takes {wanted}, got {len(inputs)} (set 'from')", line, name, context)
        if functional and layer_kind.family not in FUNCTIONAL_FAMILIES:
            raise self.error(f"{kind} has parameters, so it cannot be functional", line, name, context)
        self.pending.append(_Pending(name, kind, args, inputs, line, context.scopes, frozen,
                                     context.use_line, functional))

    def _split(self, entry: Any, line: int | None, context: _Context) -> tuple[str, Any, dict]:
        """An entry is a bare kind string, or a mapping with one kind key plus name/from/repeat/when."""
        if isinstance(entry, str):
            return self._known(entry, line, context, None), None, {}
        if not isinstance(entry, dict):
            raise self.error(f"a layer must be a kind name or a mapping, got {entry!r}", line, None, context)
        kinds = [k for k in entry if k not in LAYER_KEYS]
        label = entry.get("name")
        if len(kinds) != 1:
            what = "no layer kind" if not kinds else f"several layer kinds ({', '.join(map(str, kinds))})"
            raise self.error(f"entry has {what}; write exactly one, e.g. '- relu'", line, label, context)
        kind = self._known(str(kinds[0]), line, context, label)
        if "functional" in entry and kind not in REGISTRY:
            raise self.error("'functional' applies to a single layer", line, label, context)
        if "label" in entry and kind != GROUP:
            raise self.error("'label' names a sequential group; a block is labelled by its own name",
                             line, label, context)
        return kind, entry[kind], {k: entry[k] for k in entry if k in LAYER_KEYS}

    def _known(self, kind: str, line, context: _Context, label) -> str:
        if kind not in REGISTRY and kind not in self.blocks and kind != GROUP:
            known = list(REGISTRY) + list(self.blocks) + [GROUP]
            raise self.error(f"unknown layer kind '{kind}'{_hint(kind, known)}", line, label, context)
        return kind

    def resolve(self) -> list[Node]:
        names = {p.name for p in self.pending}
        nodes = []
        for pending in self.pending:
            if pending.name in self.outputs or pending.name == INPUT:
                raise SpecError(f"duplicate name '{pending.name}'", self.source, pending.line, pending.name)
            inputs = tuple(self.lookup(ref, names) for ref in pending.inputs)
            nodes.append(Node(pending.name, pending.kind, pending.args, inputs, pending.line,
                              pending.scopes, pending.frozen, pending.used_at, pending.functional))
        if len(names) < len(self.pending):
            seen = set()
            for pending in self.pending:
                if pending.name in seen:
                    raise SpecError(f"duplicate name '{pending.name}'", self.source, pending.line, pending.name)
                seen.add(pending.name)
        return nodes

    def lookup(self, ref: Any, names: set[str]) -> str:
        """A node name for a reference: local names first, then enclosing blocks, then full names."""
        while isinstance(ref, _Ref):
            context, target = ref.context, None
            while context is not None and target is None:
                if ref.text == INPUT:
                    target = context.input
                else:
                    target = context.names.get(ref.text)
                context = context.parent if target is None else context
            if target is None:
                target = ref.text if ref.text in names else self.outputs.get(ref.text)
            if target is None:
                raise SpecError(f"'from' names '{ref.text}', which is no layer of this spec"
                                f"{_hint(ref.text, names)}", self.source, ref.line, ref.layer)
            ref = target
        return ref
