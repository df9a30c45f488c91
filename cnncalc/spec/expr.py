"""Safe evaluation of `${...}` expressions in specs: arithmetic, comparisons, lookups; no calls.

Specs may come from strangers, so the work is bounded: expressions are short, and an operation whose
result would pass the limits (a power of a thousand digits, a string repeated ten billion times,
`%` formatting) is refused before it is computed."""
from __future__ import annotations

import ast
import operator
import re
from functools import lru_cache
from typing import Any, Mapping

from ..errors import LayerError
from .limits import Limits, over

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.Pow: operator.pow}
_BITS_PER_DIGIT = 3.33  # log2(10), rounded up enough for a bound
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
            ast.NotIn: lambda a, b: a not in b}
_WHOLE = re.compile(r"^\$\{([^}]*)\}$|^\$([A-Za-z_]\w*)$")
_PART = re.compile(r"\$\{([^}]*)\}|\$([A-Za-z_]\w*)")


@lru_cache(maxsize=1024)  # a repeated block evaluates the same few expressions many times
def _parse(text: str) -> ast.expr:
    try:
        return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise LayerError(f"cannot parse expression '${{{_shown(text)}}}'") from None


def _shown(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def evaluate(text: str, env: Mapping[str, Any], *, limits: Limits = Limits()) -> Any:
    """Evaluate one expression against the block's parameters, within `limits`."""
    if len(text) > limits.expression_chars:
        limit = limits.expression_chars
        raise LayerError(over(f"expression longer than {limit:,} characters", "expression_chars"))
    tree = _parse(text)
    try:
        return _eval(tree, env, limits)
    except LayerError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError, OverflowError) as error:
        raise LayerError(f"cannot evaluate '${{{_shown(text)}}}': {type(error).__name__} {error}") from None


def _eval(node: ast.AST, env: Mapping[str, Any], limits: Limits) -> Any:
    match node:
        case ast.Constant(value=value):
            return value
        case ast.Name(id=name):
            if name not in env:
                raise LayerError(f"unknown parameter '{name}' (known: {', '.join(sorted(env)) or 'none'})")
            return env[name]
        case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
            return _binary(type(op), _eval(left, env, limits), _eval(right, env, limits), limits)
        case ast.UnaryOp(op=op, operand=operand) if type(op) in _UNARY:
            return _UNARY[type(op)](_eval(operand, env, limits))
        case ast.BoolOp(op=op, values=values):
            # as Python: the operand that settles it, not a bool (`(0 or 16) * 2` is 32)
            for operand in values[:-1]:
                value = _eval(operand, env, limits)
                if bool(value) == isinstance(op, ast.Or):
                    return value
            return _eval(values[-1], env, limits)
        case ast.Compare(left=left, ops=ops, comparators=rights):
            values = [_eval(left, env, limits)] + [_eval(r, env, limits) for r in rights]
            for value in values:
                _check_compared(value, limits)
            return all(_COMPARE[type(op)](a, b) for op, a, b in zip(ops, values, values[1:]))
        case ast.IfExp(test=test, body=body, orelse=orelse):
            return _eval(body, env, limits) if _eval(test, env, limits) else _eval(orelse, env, limits)
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            return [_eval(e, env, limits) for e in elts]
        case ast.Subscript(value=value, slice=index):
            return _eval(value, env, limits)[_eval(index, env, limits)]
    raise LayerError(f"unsupported expression '{ast.unparse(node)}' (arithmetic, comparisons, "
                     "'a if c else b' and indexing only)")


def _binary(op: type, a: Any, b: Any, limits: Limits) -> Any:
    """One arithmetic operation, refused before it runs when its result would pass the limits."""
    if op is ast.Mod and isinstance(a, str):
        raise LayerError("'%' formatting of strings is not allowed in expressions")
    if op is ast.Mult and isinstance(b, (str, list)):
        a, b = b, a
    if op is ast.Mult and isinstance(a, (str, list)) and isinstance(b, int):
        _check_length(len(a) * max(b, 0), limits)
    elif op is ast.Add and isinstance(a, (str, list)) and isinstance(b, (str, list)):
        _check_length(len(a) + len(b), limits)
    elif op is ast.Pow and _is_int(a) and _is_int(b) and abs(a) > 1 and b > 0:
        _check_bits((abs(a).bit_length() - 1) * b, limits)  # at least this many bits: refused before computing
    elif op is ast.Mult and _is_int(a) and _is_int(b):
        _check_bits(abs(a).bit_length() + abs(b).bit_length() - 1, limits)
    result = _BINARY[op](a, b)
    if _is_int(result) and abs(result) >= _power_of_ten(limits.integer_digits):
        _too_many_digits(limits)
    return result


@lru_cache(maxsize=4)
def _power_of_ten(digits: int) -> int:
    return 10 ** digits


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_bits(bits: int, limits: Limits) -> None:
    if bits > limits.integer_digits * _BITS_PER_DIGIT + 4:
        _too_many_digits(limits)


def _too_many_digits(limits: Limits):
    digits = limits.integer_digits
    raise LayerError(over(f"the result would have more than {digits} digits", "integer_digits"))


def _check_length(length: int, limits: Limits) -> None:
    if length > limits.sequence_length:
        raise LayerError(over(f"the result would be longer than {limits.sequence_length:,} items",
                              "sequence_length"))


def _check_compared(value: Any, limits: Limits) -> None:
    """Python compares lists item by item, nested ones recursively: a compared value is bounded as a
    list an expression builds (items counted through every level, and levels as blocks nest)."""
    items, stack = 0, [(value, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            items += len(value)
            if depth >= limits.nesting:
                raise LayerError(over(f"a compared value nests more than {limits.nesting} deep", "nesting"))
            _check_length(items, limits)
            stack += [(item, depth + 1) for item in (value.values() if isinstance(value, dict) else value)
                      if isinstance(item, (list, dict))]


def substitute(value: Any, env: Mapping[str, Any], *, limits: Limits = Limits()) -> Any:
    """Replace `$name` / `${expr}` in a value (recursively); a whole-string expression keeps its type."""
    if isinstance(value, str) and "$" in value:
        whole = _WHOLE.match(value)
        if whole:
            return evaluate(whole.group(1) or whole.group(2), env, limits=limits)
        return _PART.sub(lambda m: str(evaluate(m.group(1) or m.group(2), env, limits=limits)), value)
    if isinstance(value, list):
        return [substitute(v, env, limits=limits) if isinstance(v, _NESTED) else v for v in value]
    if isinstance(value, dict):
        for item in value.values():
            if isinstance(item, _NESTED):
                return {k: substitute(v, env, limits=limits) if isinstance(v, _NESTED) else v
                        for k, v in value.items()}
        return value  # nothing to substitute: most layers' arguments are plain numbers
    return value


_NESTED = (str, list, dict)
