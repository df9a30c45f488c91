"""Spec loading: YAML (or a Python spec's data) → validated, expanded Graph."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import ErrorLog, LayerError, NotASpec, SpecError, did_you_mean, quoted, unprintable_name
from ..graph import DTYPE_BYTES, HELD_APART, ID_DTYPE_BYTES, INPUT, Graph, NotRun, OtherInput, too_large, topological
from ..layers import REGISTRY
from .budget import read_budget
from .entry import GROUP
from .variants import refuse_fixed
from .expand import expand
from .expr import substitute
from .limits import Limits
from .yamlfile import existing, load_yaml_file

TOP_KEYS = ("name", "description", "input", "layers", "blocks", "params", "choices", "variants", "budget",
            "not_run", "dtype", "input_dtype", "other_inputs", "outputs")


def load_spec(path: str | Path, params: dict | None = None, variant: str | None = None, *,
              limits: Limits = Limits()) -> Graph:
    """Load a YAML or Python spec file into a Graph; `params` override the spec's parameters; reading
    it is bounded by `limits`."""
    path = existing(Path(path), str(path))
    source = str(path)
    if path.suffix.lower() == ".py":
        from .python import load_python_spec  # runs user code: only for a .py path the user named
        data = load_python_spec(path, params or {}, variant, limits=limits)
        graph = build_graph(data, source, {}, None, default_name=variant or path.stem, limits=limits)
    else:
        graph = build_graph(load_yaml_file(path, limits=limits), source, params or {}, variant,
                            default_name=path.stem, limits=limits)
    # the report names what it is: vgg16 with ten classes is "vgg16 (num_classes=10)"
    settings = ", ".join(f"{key}={value}" for key, value in (params or {}).items())
    return replace(graph, name=f"{graph.name} ({settings})") if settings else graph


def build_graph(data: Any, source: str, params: dict, variant: str | None = None,
                default_name: str = "model", *, limits: Limits = Limits()) -> Graph:
    """The Graph of spec data (as a YAML file or a Python spec gives it), its expansion bounded by `limits`."""
    if not isinstance(data, dict) or not {"input", "layers", "variants"} & set(data):
        raise NotASpec("not a cnncalc spec: a spec is a mapping with 'input' and 'layers'", source, 1)
    line = getattr(data, "line", None)
    log = ErrorLog()  # independent errors (a top-level key, the input, the layers) are reported together
    for key in data:
        if key not in TOP_KEYS:
            log.add(SpecError(f"unknown top-level key '{key}'{did_you_mean(key, TOP_KEYS)}", source, line))
    missing = [key for key in ("input", "layers") if key not in data]
    if missing:  # beside a misspelt key, the key it misspells is what is missing: said once
        log.raise_errors(None if log.errors else SpecError(f"missing '{missing[0]}'", source, line))
    try:  # without these, nothing else can be read
        env = _parameters(data, source, params, variant)
        blocks = data.get("blocks") or {}
        if not isinstance(blocks, dict):
            raise SpecError("'blocks' must map block names to {params, layers}", source, line)
        for block in blocks:
            where = getattr(blocks[block], "line", None) or getattr(blocks, "line", line)
            if block in REGISTRY or block == GROUP:  # a use of it would mean two things
                raise SpecError(f"block {quoted(block)} has the name of a layer kind: name it otherwise", source,
                                where)
            if isinstance(block, str) and unprintable_name("block", block):
                raise SpecError(unprintable_name("block", block), source, where)
        others = _other_inputs(data.get("other_inputs"), env, source, limits)
    except SpecError as error:
        log.raise_errors(error)
    inputs = (INPUT, *(other.name for other in others))
    input_shape = log.attempt(_input_shape, data["input"], env, source, line, limits)
    nodes = log.attempt(expand, data["layers"], blocks, env, source, line, inputs, limits=limits)
    log.raise_errors()
    if not nodes:
        raise SpecError("'layers' is empty", source, line)
    name = str(variant or data.get("name") or default_name)
    if unprintable_name("name", name):
        raise SpecError(unprintable_name("name", name), source, line)
    budget, budget_line = read_budget(data.get("budget"), env, source, line, limits=limits)
    dtype, input_dtype = (_dtype(data, key, allowed, default, source, line) for key, allowed, default in
                          (("dtype", DTYPE_BYTES, "float32"), ("input_dtype", ID_DTYPE_BYTES, None)))
    return Graph(name=name, input_shape=input_shape, nodes=topological(nodes, source, inputs), source=source,
                 description=str(data.get("description") or "").strip(), budget=budget, budget_line=budget_line,
                 not_run=_not_run(data.get("not_run"), {node.name for node in nodes}, source), dtype=dtype,
                 input_dtype=input_dtype, other_inputs=others,
                 outputs=_outputs(data.get("outputs"), [node.name for node in nodes], source, line))


def _outputs(value: Any, layers: list[str], source: str, line: int | None) -> tuple[str, ...]:
    """`outputs: [boxes, features]`: the layers whose tensors the model returns, in its order (a
    tuple's, a dict's); none given: the last layer."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value or not all(isinstance(name, str) for name in value):
        raise SpecError("outputs lists the names of the layers the model returns", source,
                        getattr(value, "line", None) or line)
    for name in value:
        if name not in layers:
            raise SpecError(f"outputs: no layer {quoted(name)}{did_you_mean(name, layers)}", source,
                            getattr(value, "line", None) or line)
    return tuple(value)


def _dtype(data: dict, key: str, allowed: dict, default: str | None, source: str, line: int | None) -> str | None:
    """`dtype: float16` (the parameters', float32 unless given), `input_dtype: int64` (token ids; none
    given: floating values in the parameters' dtype)."""
    dtype = data.get(key, default)
    if dtype is not default and dtype not in allowed:
        raise SpecError(f"{key} must be one of {', '.join(allowed)}, got {quoted(dtype)}", source, line)
    return dtype


def _parameters(data: dict, source: str, overrides: dict, variant: str | None) -> dict:
    env = dict(_mapping(data.get("params"), "params", "parameter names to values", source))
    variants = _mapping(data.get("variants"), "variants", "model names to parameter values", source)
    if variant is not None:
        if variant not in variants:
            raise SpecError(f"unknown variant '{variant}'{did_you_mean(variant, variants)}", source)
        fixed = _mapping(variants[variant], f"variant {variant}", "parameter names to values", source)
        refuse_fixed(variant, fixed, overrides, variants, source)
        env.update(fixed)
    for key in overrides:
        if key not in env:
            raise SpecError(f"--set {key}: the spec has no parameter '{key}'{did_you_mean(key, env)}"
                            f" (parameters: {', '.join(env) or 'none'})", source)
    env.update(overrides)
    _check_choices(data.get("choices"), env, source)
    return env


def _check_choices(value: Any, env: dict, source: str) -> None:
    """`choices: {depth: [11, 13, 16, 19]}`: the values a parameter may take."""
    for key, allowed in _mapping(value, "choices", "parameter names to their allowed values", source).items():
        if not isinstance(allowed, list):
            raise SpecError(f"choices: {key} must list its values", source, getattr(value, "line", None))
        if key in env and env[key] not in allowed:
            raise SpecError(f"{key} must be one of {quoted(allowed)[1:-1]}, got {quoted(env[key])}", source)


def _mapping(value: Any, key: str, what: str, source: str) -> dict:
    """An optional section that maps names to something: {} when absent."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(name, str) for name in value):
        got = "a list" if isinstance(value, list) else repr(value)[:40]
        raise SpecError(f"'{key}' must map {what}, got {got}", source, getattr(value, "line", None))
    return value


NOT_RUN_COUNTS = ("params", "buffers", "frozen_params")


def _not_run(value: Any, layers: set[str], source: str) -> tuple[NotRun, ...]:
    """`not_run: {aux1: {params: 2117000, buffers: 0}}`: tensors held apart from the layers (modules
    never called, by default), `frozen_params` of them frozen, `why` they are apart."""
    entries = _mapping(value, "not_run", "module names to {params, buffers}", source)
    held = []
    for name, counts in entries.items():
        line = getattr(counts, "line", None) or getattr(entries, "line", None)
        if not isinstance(counts, dict) or set(counts) - {*NOT_RUN_COUNTS, "why"} or not all(
                type(counts.get(key, 0)) is int and counts.get(key, 0) >= 0 for key in NOT_RUN_COUNTS) \
                or counts.get("frozen_params", 0) > counts.get("params", 0) \
                or counts.get("why", HELD_APART[0]) not in HELD_APART:
            raise SpecError("not_run takes {params: N, buffers: N, frozen_params: N ≤ params}: whole numbers ≥ 0, "
                            f"and why: {', '.join(HELD_APART)}", source, line, name)
        if unprintable_name("not_run", name):
            raise SpecError(unprintable_name("not_run", name), source, line)
        if name in layers or name == INPUT:
            raise SpecError(f"duplicate name '{name}'", source, line, name)
        held.append(NotRun(name=name, why=counts.get("why", HELD_APART[0]),
                           **{key: counts.get(key, 0) for key in NOT_RUN_COUNTS}))
    return tuple(held)


def _other_inputs(value: Any, env: dict, source: str, limits: Limits) -> tuple[OtherInput, ...]:
    """`other_inputs: {mask: [1, 224, 224], ids: {shape: [16], dtype: int64}}`: the model's inputs after
    its first, in forward()'s order, which layers read by name."""
    others = []
    for name, given in _mapping(value, "other_inputs", "input names to shapes", source).items():
        line = getattr(given, "line", None) or getattr(value, "line", None)
        shape, dtype = (given.get("shape"), given.get("dtype")) if isinstance(given, dict) else (given, None)
        if unprintable_name("other_inputs", name):
            raise SpecError(unprintable_name("other_inputs", name), source, line)
        if name == INPUT or isinstance(given, dict) and set(given) - {"shape", "dtype"} \
                or dtype is not None and dtype not in ID_DTYPE_BYTES:
            raise SpecError(f"other_inputs: {name} takes a shape like [1, 224, 224], or {{shape, dtype}} with dtype "
                            f"one of {', '.join(ID_DTYPE_BYTES)}", source, line, name)
        others.append(OtherInput(name=name, shape=_input_shape(shape, env, source, line, limits), dtype=dtype))
    return tuple(others)


def _input_shape(value: Any, env: dict, source: str, line: int | None, limits: Limits) -> tuple[int, ...]:
    try:
        shape = substitute(value, env, limits=limits)
    except LayerError as error:
        raise SpecError(f"input: {error}", source, line) from None
    if (not isinstance(shape, list) or not 1 <= len(shape) <= 4
            or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)):
        raise SpecError(f"input must be a per-sample shape like [3, 224, 224] of positive sizes, got {quoted(value)}",
                        source, line)
    if too_large(shape):
        raise SpecError(f"input {quoted(value)} has more than 2^63 - 1 elements, more than torch can hold", source,
                        line)
    return tuple(shape)
