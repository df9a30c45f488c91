"""Safe evaluation of `${...}` expressions in specs: arithmetic, comparisons, lookups; no calls."""
from __future__ import annotations

import ast
import operator
import re
from functools import lru_cache
from typing import Any, Mapping

from ..errors import LayerError

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.Pow: operator.pow}
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
    except SyntaxError:
        raise LayerError(f"cannot parse expression '${{{text}}}'") from None


def evaluate(text: str, env: Mapping[str, Any]) -> Any:
    """Evaluate one expression against the block's parameters."""
    tree = _parse(text)
    try:
        return _eval(tree, env)
    except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError, OverflowError) as error:
        raise LayerError(f"cannot evaluate '${{{text}}}': {type(error).__name__} {error}") from None


def _eval(node: ast.AST, env: Mapping[str, Any]) -> Any:
    match node:
        case ast.Constant(value=value):
            return value
        case ast.Name(id=name):
            if name not in env:
                raise LayerError(f"unknown parameter '{name}' (known: {', '.join(sorted(env)) or 'none'})")
            return env[name]
        case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
            return _BINARY[type(op)](_eval(left, env), _eval(right, env))
        case ast.UnaryOp(op=op, operand=operand) if type(op) in _UNARY:
            return _UNARY[type(op)](_eval(operand, env))
        case ast.BoolOp(op=ast.And(), values=values):
            return all(_eval(v, env) for v in values)
        case ast.BoolOp(op=ast.Or(), values=values):
            return any(_eval(v, env) for v in values)
        case ast.Compare(left=left, ops=ops, comparators=rights):
            values = [_eval(left, env)] + [_eval(r, env) for r in rights]
            return all(_COMPARE[type(op)](a, b) for op, a, b in zip(ops, values, values[1:]))
        case ast.IfExp(test=test, body=body, orelse=orelse):
            return _eval(body, env) if _eval(test, env) else _eval(orelse, env)
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            return [_eval(e, env) for e in elts]
        case ast.Subscript(value=value, slice=index):
            return _eval(value, env)[_eval(index, env)]
    raise LayerError(f"unsupported expression '{ast.unparse(node)}' (arithmetic, comparisons, "
                     "'a if c else b' and indexing only)")


def substitute(value: Any, env: Mapping[str, Any]) -> Any:
    """Replace `$name` / `${expr}` in a value (recursively); a whole-string expression keeps its type."""
    if isinstance(value, str) and "$" in value:
        whole = _WHOLE.match(value)
        if whole:
            return evaluate(whole.group(1) or whole.group(2), env)
        return _PART.sub(lambda m: str(evaluate(m.group(1) or m.group(2), env)), value)
    if isinstance(value, list):
        return [substitute(v, env) if isinstance(v, _NESTED) else v for v in value]
    if isinstance(value, dict):
        for item in value.values():
            if isinstance(item, _NESTED):
                return {k: substitute(v, env) if isinstance(v, _NESTED) else v for k, v in value.items()}
        return value  # nothing to substitute: most layers' arguments are plain numbers
    return value


_NESTED = (str, list, dict)
