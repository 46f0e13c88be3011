"""The safe expression parser of YAML problem files.

Objective and constraint strings use a Python-like syntax, parsed by :mod:`ast` and evaluated
node by node into model expressions (:mod:`ortools_lag.model`). Nothing is ever handed to
``eval``/``exec``: only the node types below are accepted, names must be declared variables or
parameters (or ``inf`` and ``pi``), and calls must name a listed function.

- numbers, ``+ - * / @ **`` and unary ``-``/``+``;
- comparisons ``<=``, ``>=``, ``==`` build constraints; ``lo <= e <= hi`` is a two-sided group;
- indexing ``x[0]``, ``x[1:3]``, ``A[i, :]``, ``x[idx]`` with an integer parameter ``idx``;
- lists ``[a, b]`` (constants, or expressions inside ``hstack``/``vstack``/``concatenate``);
- functions: :data:`LINEAR_FUNCTIONS` and the elementwise :data:`NONLINEAR_FUNCTIONS` (the latter
  come from ``ortools_lag.model.functions`` when the operand involves variables, from numpy when
  it is a constant).

Attribute access, imports, lambdas, comprehensions, strings and every other node are refused, and
so are names starting with ``__``. Limits: :data:`MAX_CHARS` characters, :data:`MAX_DEPTH`
levels of nesting, :data:`MAX_NODES` nodes, and :data:`MAX_ENTRIES` entries in any result.

>>> import numpy as np
>>> from ortools_lag import Model
>>> m = Model(); x = m.var("x", 2)
>>> scope = Scope(variables=m.variables, parameters={"c": np.array([5.0, 4.0])})
>>> e = parse_expression("c @ x + 1", scope)
>>> e.value(np.array([1.0, 2.0])).tolist()
[14.0]
>>> try:
...     parse_expression("__import__('os')", scope)
... except ExpressionError as exc:
...     print(exc)
name '__import__' is not allowed (names starting with '__' are reserved)
"""

from __future__ import annotations

import ast
import importlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ortools_lag.errors import ModelError, NotSupportedError, SpecError
from ortools_lag.model import Constraint, Expr, as_expr
from ortools_lag.spec.expr_functions import (
    LINEAR_FUNCTIONS,
    LINEAR_SIGNATURES,
    NONLINEAR_FUNCTIONS,
    NUMPY,
    as_int,
)

__all__ = [
    "CONSTANTS",
    "LINEAR_FUNCTIONS",
    "MAX_CHARS",
    "MAX_DEPTH",
    "MAX_ENTRIES",
    "MAX_NODES",
    "NONLINEAR_FUNCTIONS",
    "RESERVED",
    "ExpressionError",
    "Scope",
    "check_syntax",
    "parse_constant",
    "parse_constraint",
    "parse_expression",
]

MAX_CHARS = 10_000
MAX_DEPTH = 100
MAX_NODES = 5_000
MAX_ENTRIES = 5_000_000

#: Names with a fixed value.
CONSTANTS: dict[str, float] = {"inf": float("inf"), "pi": float(np.pi)}

RESERVED = frozenset(CONSTANTS) | frozenset(LINEAR_FUNCTIONS) | frozenset(NONLINEAR_FUNCTIONS)

_BINOPS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.MatMult: "@",
    ast.Pow: "**",
}
_CMPOPS: dict[type, str] = {ast.LtE: "<=", ast.GtE: ">=", ast.Eq: "=="}
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.Call,
    ast.Name,
    ast.Constant,
    ast.Subscript,
    ast.Slice,
    ast.Tuple,
    ast.List,
    ast.keyword,
    ast.Load,
    ast.USub,
    ast.UAdd,
    *_BINOPS,
    *_CMPOPS,
)


class ExpressionError(SpecError):
    """A rejected expression; ``offset`` is the 0-based character where the problem is."""

    def __init__(
        self,
        message: str,
        *,
        offset: int | None = None,
        text: str = "",
        choices: list[str] | None = None,
    ) -> None:
        self.offset = offset
        self.text = text
        super().__init__(message, choices=choices)


@dataclass(frozen=True)
class Scope:
    """What an expression may name: variable blocks and parameter arrays.

    Attributes
    ----------
    variables
        Variable blocks by name (``Model.variables``).
    parameters
        Constant arrays by name.
    """

    variables: Mapping[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, np.ndarray] = field(default_factory=dict)

    def names(self) -> list[str]:
        """Every name an expression may use."""
        return [*self.variables, *self.parameters, *CONSTANTS]


def _line_offset(text: str, line: int, col_bytes: int) -> int:
    lines = text.splitlines(keepends=True)
    start = sum(len(s) for s in lines[: line - 1])
    prefix = text[start:].encode("utf-8")[:col_bytes].decode("utf-8", errors="ignore")
    return start + len(prefix)


def _offset(text: str, node: ast.AST) -> int | None:
    line = getattr(node, "lineno", None)
    col = getattr(node, "col_offset", None)
    if line is None or col is None:
        return None
    return _line_offset(text, line, col)


def _describe(node: ast.AST, text: str) -> str:
    seg = ast.get_source_segment(text, node)
    return seg if seg is not None and len(seg) <= 60 else type(node).__name__


def _bracket_depth(text: str) -> int:
    depth = best = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            best = max(best, depth)
        elif ch in ")]}":
            depth -= 1
    return best


def check_syntax(text: str) -> ast.Expression:
    """Parse ``text`` and check its node types, size and depth (no evaluation).

    Raises
    ------
    ExpressionError
        With the offending character offset when known.

    >>> try:
    ...     check_syntax("x.T")
    ... except ExpressionError as exc:
    ...     print(exc)
    attribute access ('x.T') is not allowed; write transpose(x)
    """
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression string, found {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ExpressionError(
            f"expression too long: {len(text)} characters (the limit is {MAX_CHARS})"
        )
    if not text.strip():
        raise ExpressionError("empty expression")
    if _bracket_depth(text) > MAX_DEPTH:
        raise ExpressionError(f"expression nested too deeply (more than {MAX_DEPTH} brackets)")
    body = text.strip()
    lead = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(body, mode="eval")
    except SyntaxError as exc:
        off = None
        if exc.lineno is not None and exc.offset is not None:
            off = lead + _line_offset(body, exc.lineno, max(exc.offset - 1, 0))
        raise ExpressionError(
            f"invalid syntax: {exc.msg} in {body!r}", offset=off, text=text
        ) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"cannot parse the expression: {type(exc).__name__}") from None
    try:
        _check_tree(tree, body)
    except ExpressionError as exc:
        if exc.offset is not None:
            exc.offset += lead
        raise
    return tree


def _check_tree(tree: ast.Expression, text: str) -> None:
    nodes: list[ast.AST] = []
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        nodes.append(node)
        if len(nodes) > MAX_NODES:
            raise ExpressionError(f"expression too large (more than {MAX_NODES} nodes)")
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"expression nested too deeply (depth > {MAX_DEPTH}); "
                "write long sums with sum(...)",
                offset=_offset(text, node),
                text=text,
            )
        children = list(ast.iter_child_nodes(node))
        stack.extend((child, depth + 1) for child in reversed(children))
    # the most telling problem first: reserved names, then attribute access, then the rest
    for first in (
        lambda n: isinstance(n, ast.Name) and n.id.startswith("__"),
        lambda n: isinstance(n, ast.Attribute),
        lambda n: True,
    ):
        for node in nodes:
            if first(node):
                _check_node(node, text)


def _check_node(node: ast.AST, text: str) -> None:
    off = _offset(text, node)
    if isinstance(node, ast.Attribute):
        base = _describe(node.value, text)
        known = {"T": "transpose", **{f: f for f in (*LINEAR_FUNCTIONS, *NONLINEAR_FUNCTIONS)}}
        hint = f"write {known[node.attr]}({base})" if node.attr in known else "use functions"
        raise ExpressionError(
            f"attribute access ({_describe(node, text)!r}) is not allowed; {hint}",
            offset=off,
            text=text,
        )
    if isinstance(node, ast.Name) and node.id.startswith("__"):
        raise ExpressionError(
            f"name {node.id!r} is not allowed (names starting with '__' are reserved)",
            offset=off,
            text=text,
        )
    if isinstance(node, ast.Constant) and (
        isinstance(node.value, bool) or not isinstance(node.value, (int, float))
    ):
        raise ExpressionError(
            f"only numbers are allowed as literals, found {node.value!r}", offset=off, text=text
        )
    if isinstance(node, ast.Call) and not isinstance(node.func, ast.Name):
        raise ExpressionError(
            f"only named functions can be called, found {_describe(node.func, text)!r}",
            offset=off,
            text=text,
        )
    if isinstance(node, ast.Compare) and any(type(op) not in _CMPOPS for op in node.ops):
        raise ExpressionError(
            "only the comparisons <=, >= and == are allowed (constraints are not strict)",
            offset=off,
            text=text,
        )
    if not isinstance(node, _ALLOWED):
        raise ExpressionError(
            f"{type(node).__name__} ({_describe(node, text)!r}) is not allowed in expressions",
            offset=off,
            text=text,
        )


class _Evaluator:
    """Evaluates a checked tree in a scope (recursion depth bounded by ``MAX_DEPTH``)."""

    def __init__(self, text: str, scope: Scope) -> None:
        self.text = text
        self.scope = scope

    def fail(
        self, message: str, node: ast.AST, choices: list[str] | None = None
    ) -> ExpressionError:
        return ExpressionError(
            message, offset=_offset(self.text, node), text=self.text, choices=choices
        )

    def run(self, node: ast.AST) -> Any:
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
                return self.visit(node)
        except ExpressionError:
            raise
        except (ModelError, NotSupportedError) as exc:
            raise self.fail(str(exc), node) from None
        except FloatingPointError as exc:
            raise self.fail(f"arithmetic error on constants: {exc}", node) from None

    def visit(self, node: ast.AST) -> Any:
        method = getattr(self, f"visit_{type(node).__name__}")
        try:
            return method(node)
        except (ExpressionError, FloatingPointError):
            raise
        except (ModelError, NotSupportedError) as exc:
            raise self.fail(str(exc), node) from None
        except (ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError) as exc:
            raise self.fail(
                f"cannot evaluate {_describe(node, self.text)!r}: {exc}", node
            ) from None

    def visit_Expression(self, node: ast.Expression) -> Any:
        return self.visit(node.body)

    def visit_Constant(self, node: ast.Constant) -> Any:
        return np.float64(node.value)  # type: ignore[arg-type]

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in self.scope.variables:
            return self.scope.variables[node.id]
        if node.id in self.scope.parameters:
            return self.scope.parameters[node.id]
        if node.id in CONSTANTS:
            return np.float64(CONSTANTS[node.id])
        if node.id in RESERVED:
            raise self.fail(f"{node.id!r} is a function: call it as {node.id}(...)", node)
        raise self.fail(f"unknown name {node.id!r}", node, self.scope.names())

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        val = self._operand(self.visit(node.operand), node.operand)
        return -val if isinstance(node.op, ast.USub) else val

    def _operand(self, val: Any, node: ast.AST) -> Any:
        if isinstance(val, list):
            raise self.fail(
                "a list of expressions is only allowed inside hstack/vstack/concatenate", node
            )
        if isinstance(val, Constraint):
            raise self.fail("a constraint cannot be used inside an expression", node)
        return val

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        a = self._operand(self.visit(node.left), node.left)
        b = self._operand(self.visit(node.right), node.right)
        op = _BINOPS[type(node.op)]
        if op == "**":
            return self._power(a, b, node)
        if op == "/" and isinstance(b, Expr):
            raise self.fail("division by an expression is not supported", node)
        size = _result_size(
            op,
            np.shape(a) if not isinstance(a, Expr) else a.shape,
            np.shape(b) if not isinstance(b, Expr) else b.shape,
        )
        if size > MAX_ENTRIES:
            raise self.fail(
                f"this {op!r} would make {size} entries (the limit is {MAX_ENTRIES})", node
            )
        return _apply_binop(op, a, b)

    def _power(self, a: Any, b: Any, node: ast.BinOp) -> Any:
        if isinstance(b, Expr):
            raise self.fail("the exponent must be a constant", node.right)
        if not isinstance(a, Expr):
            return np.power(a, b)
        if np.ndim(b) != 0:
            raise self.fail("the exponent of an expression must be a scalar", node.right)
        p = float(b)
        if p in (1.0, 2.0) and a.degree <= 1:
            return a**p
        return self._nonlinear("power", [a, p], node)

    def visit_Compare(self, node: ast.Compare) -> Any:
        ops = [_CMPOPS[type(o)] for o in node.ops]
        vals = [self._operand(self.visit(v), v) for v in [node.left, *node.comparators]]
        if not any(isinstance(v, Expr) for v in vals):
            raise self.fail("this comparison involves no variable", node)
        if len(ops) == 1:
            return _compare(vals[0], ops[0], vals[1])
        if len(ops) == 2 and ops[0] == ops[1] and ops[0] in ("<=", ">="):
            lo, mid, hi = vals if ops[0] == "<=" else vals[::-1]
            if isinstance(mid, Expr) and not isinstance(lo, Expr) and not isinstance(hi, Expr):
                return mid.between(lo, hi)
        raise self.fail(
            "a chained comparison must read 'lo <= expression <= hi' (or with >=) "
            "with constant lo and hi",
            node,
        )

    def visit_List(self, node: ast.List) -> Any:
        return self._sequence(node.elts)

    def visit_Tuple(self, node: ast.Tuple) -> Any:
        return self._sequence(node.elts)

    def _sequence(self, elts: list[ast.expr]) -> Any:
        items = [self._operand(self.visit(e), e) for e in elts]
        if any(isinstance(i, Expr) for i in items):
            return items
        return np.asarray(items, dtype=float)

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        base = self._operand(self.visit(node.value), node.value)
        key = self._index(node.slice)
        if isinstance(base, Expr):
            return base[key]
        arr = np.asarray(base)
        if arr.ndim == 0:
            raise self.fail("a scalar cannot be indexed", node)
        return arr[key]

    def _index(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Slice):
            parts = [
                None if p is None else self._int(p) for p in (node.lower, node.upper, node.step)
            ]
            if parts[2] == 0:
                raise self.fail("slice step cannot be zero", node)
            return slice(*parts)
        if isinstance(node, ast.Tuple):
            return tuple(self._index(e) for e in node.elts)
        val = self.visit(node)
        if isinstance(val, (Expr, list)):
            raise self.fail("an index must be a constant", node)
        arr = np.asarray(val, dtype=float)
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise self.fail("an index must be an integer (or an array of integers)", node)
        return int(arr) if arr.ndim == 0 else arr.astype(np.int64)

    def _int(self, node: ast.AST) -> int:
        idx = self._index(node)
        if not isinstance(idx, int):
            raise self.fail("slice bounds must be integers", node)
        return idx

    def visit_Call(self, node: ast.Call) -> Any:
        assert isinstance(node.func, ast.Name)
        name = node.func.id
        if name not in LINEAR_FUNCTIONS and name not in NONLINEAR_FUNCTIONS:
            raise self.fail(
                f"unknown function {name!r}", node, [*LINEAR_FUNCTIONS, *NONLINEAR_FUNCTIONS]
            )
        args = [self.visit(a) for a in node.args]
        kwargs = {k.arg: self.visit(k.value) for k in node.keywords if k.arg is not None}
        if any(k.arg is None for k in node.keywords):
            raise self.fail("'**' arguments are not allowed", node)
        if name in LINEAR_FUNCTIONS:
            return self._linear(name, args, kwargs, node)
        if kwargs:
            raise self.fail(f"{name}() takes no keyword arguments", node)
        return self._nonlinear(name, args, node)

    def _linear(self, name: str, args: list[Any], kwargs: dict[str, Any], node: ast.Call) -> Any:
        spec = LINEAR_SIGNATURES[name]
        if len(args) not in spec.nargs:
            counts = " or ".join(str(k) for k in spec.nargs)
            raise self.fail(f"{name}() takes {counts} positional argument(s)", node)
        bad = sorted(set(kwargs) - set(spec.keywords))
        if bad:
            raise self.fail(
                f"{name}() got an unknown keyword {bad[0]!r}", node, list(spec.keywords) or None
            )
        if name not in ("hstack", "vstack", "concatenate"):
            args = [self._operand(a, node) for a in args]
        kw = {k: as_int(v) for k, v in kwargs.items()}
        return spec.func(*args, **kw)

    def _nonlinear(self, name: str, args: list[Any], node: ast.AST) -> Any:
        nargs = 2 if name == "power" else 1
        if len(args) != nargs:
            raise self.fail(f"{name}() takes {nargs} argument(s)", node)
        args = [self._operand(a, node) for a in args]
        if not any(isinstance(a, Expr) for a in args):
            return NUMPY[name](*[np.asarray(a, dtype=float) for a in args])
        try:
            functions = importlib.import_module("ortools_lag.model.functions")
            func = getattr(functions, name)
        except (ImportError, AttributeError):
            raise self.fail(
                f"function {name!r} on variables needs the nonlinear expressions "
                "(ortools_lag.model.functions), which are not installed",
                node,
            ) from None
        return func(*args)


def _result_size(op: str, sa: tuple[int, ...], sb: tuple[int, ...]) -> int:
    """Entries of ``a op b`` from the operands' shapes, before anything is computed (0 when the
    shapes do not combine: the operation itself then reports why)."""
    try:
        if op == "@":
            if len(sa) == 0 or len(sb) == 0:
                return 0
            outer = (*sa[:-1], *sb[1:]) if len(sb) <= 2 else (*sa[:-1], *sb[:-2], sb[-1])
            return math.prod(outer)
        return math.prod(np.broadcast_shapes(sa, sb))
    except ValueError:
        return 0


def _apply_binop(op: str, a: Any, b: Any) -> Any:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    return a @ b


def _compare(a: Any, op: str, b: Any) -> Constraint:
    if not isinstance(a, Expr):
        a, b = b, a
        op = {"<=": ">=", ">=": "<=", "==": "=="}[op]
    return Constraint.compare(a, op, b)


def parse_expression(text: str, scope: Scope) -> Any:
    """Parse and evaluate ``text`` in ``scope``.

    Returns
    -------
    Expr, Constraint or numpy.ndarray
        An expression, a constraint (for a comparison) or a constant array.

    Raises
    ------
    ExpressionError
        Naming what is wrong and where (``offset``), with the valid choices for unknown names.
    """
    tree = check_syntax(text)
    body = text.strip()
    try:
        result = _Evaluator(body, scope).run(tree)
    except ExpressionError as exc:
        if exc.offset is not None:
            exc.offset += len(text) - len(text.lstrip())
        raise
    if isinstance(result, list):
        raise ExpressionError("a list of expressions is not a value: use hstack([...])")
    return result


def parse_constraint(text: str, scope: Scope) -> Constraint:
    """Parse a comparison into a :class:`~ortools_lag.model.Constraint`.

    >>> from ortools_lag import Model
    >>> m = Model(); x = m.var("x", 2)
    >>> parse_constraint("0 <= x[0] + x[1] <= 4", Scope(m.variables)).sense
    'range'
    """
    result = parse_expression(text, scope)
    if not isinstance(result, Constraint):
        raise ExpressionError(
            "expected a constraint (a comparison with <=, >= or ==), found an expression"
        )
    return result


def parse_constant(text: str, scope: Scope) -> np.ndarray:
    """Parse an expression of parameters and numbers into a constant array.

    >>> parse_constant("-inf", Scope()).item()
    -inf
    """
    result = parse_expression(text, scope)
    if isinstance(result, (Expr, Constraint)):
        raise ExpressionError("expected a constant (numbers and parameters only), found variables")
    return np.asarray(result, dtype=float)


def as_objective(result: Any) -> Expr:
    """Check that a parsed objective is a scalar expression."""
    if isinstance(result, Constraint):
        raise ExpressionError("the objective is a comparison: expected an expression")
    e = as_expr(result)
    if e.size != 1:
        raise ExpressionError(f"the objective must be a scalar, found shape {e.shape}")
    return e
