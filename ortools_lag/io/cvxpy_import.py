"""A cvxpy ``Problem`` as a Model: ``from_cvxpy``, and the multipliers back as cvxpy duals.

Each cvxpy ``Variable`` becomes a variable block of its shape, named by ``var.name()`` (made
valid and distinct); ``nonneg``/``nonpos``, ``bounds=[lb, ub]``, ``boolean`` and ``integer``
(whole or by index) carry over. Each constraint becomes one group of the constraint's shape,
named by the user's ``names`` (a list parallel to ``problem.constraints``, or a mapping from a
constraint, its position or its ``id`` to a name) or else ``c<id>`` (cvxpy's constraint id):

- ``lhs <= rhs`` and ``lhs >= rhs`` (cvxpy's ``Inequality``, held as ``expr = lhs - rhs <= 0``
  with the sides swapped for ``>=``) give the group ``expr <= 0``; ``NonPos`` the same;
- ``lhs == rhs`` (``Equality``) and ``Zero`` give ``expr == 0``; ``NonNeg`` gives ``expr >= 0``.

Affine expressions are read exactly from cvxpy's own derivatives (``expr.grad`` at zero values:
a sparse matrix per variable) and constant (``expr.value`` at zero), with cvxpy's column-major
order turned into C order; so every affine atom cvxpy has is taken. Quadratic parts are walked:
sums, negation, products by constants, ``multiply`` and ``@`` of affine factors, ``quad_form``,
``sum_squares``/``quad_over_lin`` by a constant, ``square``/``power(., 2)``, ``sum``. Any other
atom (``norm``, ``exp``, cones) raises :class:`~ortools_lag.errors.NotSupportedError` naming it.

Sign conventions. cvxpy's ``dual_value`` of ``expr <= 0`` and of ``expr == 0`` is the
multiplier of the Lagrangian ``f + dual * expr`` of the minimisation (``-f`` for ``Maximize``):
it *is* our multiplier ``lam`` for the groups above (README, "Sign convention"), ``>= 0`` on
inequalities, with no conversion. For ``NonNeg`` (``expr >= 0``) cvxpy's ``dual_value`` is
also ``>= 0`` and equals ``lam`` of the ``>=`` group. :func:`cvxpy_duals` returns them by
constraint.

>>> import cvxpy as cp
>>> from ortools_lag import solve
>>> x = cp.Variable(2, nonneg=True, name="x")
>>> prob = cp.Problem(cp.Maximize(5 * x[0] + 4 * x[1]),
...                   [6 * x[0] + 4 * x[1] <= 24, x[0] + 2 * x[1] <= 6])
>>> m = from_cvxpy(prob, names=["m1", "m2"])
>>> sol = solve(m, "highs")
>>> sol.objective, float(sol.multipliers["m1"]), float(sol.multipliers["m2"])
(21.0, 0.75, 0.5)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Union

import numpy as np
import scipy.sparse as sp

from ortools_lag.errors import BackendUnavailableError, ModelError, NotSupportedError
from ortools_lag.io.row_groups import model_name
from ortools_lag.model import AffineExpr, Expr, Model, Var, quad_form, sum_squares
from ortools_lag.result import Solution

__all__ = ["cvxpy_duals", "from_cvxpy", "group_names"]

Names = Union[Sequence[str], Mapping[Any, str], None]
_REFUSED = ("PSD", "NSD", "symmetric", "diag", "hermitian", "complex", "imag", "sparsity")


def _cvxpy() -> Any:
    try:
        import cvxpy as cp
    except ImportError as exc:  # pragma: no cover - cvxpy is a dependency
        raise BackendUnavailableError("from_cvxpy needs cvxpy: pip install cvxpy") from exc
    return cp


def _c_order(shape: tuple[int, ...]) -> np.ndarray:
    """For each C-order position, the column-major (cvxpy) position."""
    size = int(np.prod(shape)) if shape else 1
    return np.arange(size).reshape(shape or (1,), order="F").ravel(order="C")


def _mask(idx: Any, shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, dtype=bool)
    if isinstance(idx, tuple):  # np.nonzero style
        out[idx] = True
    elif len(idx):
        out[tuple(np.asarray(idx).T)] = True
    return out


class _Blocks:
    """The problem's variables as blocks, and affine cvxpy expressions as AffineExpr."""

    def __init__(self, variables: list[Any], m: Model) -> None:
        self.block: dict[int, Var] = {}
        self.vars = variables
        for v in variables:
            bad = [a for a in _REFUSED if v.attributes.get(a)]
            if bad:
                raise NotSupportedError(f"cvxpy variable {v.name()!r}: attribute {bad[0]!r}")
            shape = tuple(int(s) for s in v.shape)
            lb: Any = 0.0 if v.attributes.get("nonneg") or v.attributes.get("pos") else None
            ub: Any = 0.0 if v.attributes.get("nonpos") or v.attributes.get("neg") else None
            bounds = v.attributes.get("bounds")
            if bounds is not None:
                lo, hi = bounds
                lb = lo if lo is not None else lb
                ub = hi if hi is not None else ub
            ints = _mask(v.integer_idx, shape) if v.attributes.get("integer") else None
            if v.attributes.get("boolean"):
                bools = _mask(v.boolean_idx, shape)
                ints = bools if ints is None else ints | bools
                lo_a = np.broadcast_to(np.asarray(-np.inf if lb is None else lb, float), shape)
                hi_a = np.broadcast_to(np.asarray(np.inf if ub is None else ub, float), shape)
                lb = np.where(bools, np.maximum(lo_a, 0.0), lo_a)
                ub = np.where(bools, np.minimum(hi_a, 1.0), hi_a)
            base, name, k = model_name(v.name()), model_name(v.name()), 2
            while name in m.variables:
                name, k = f"{base}_{k}", k + 1
            self.block[v.id] = m.var(name, shape, lb=lb, ub=ub, integer_mask=ints)

    def affine(self, e: Any) -> AffineExpr:
        """An affine cvxpy expression, exactly: its gradient and its value at zero."""
        shape = tuple(int(s) for s in e.shape)
        rows = _c_order(shape)
        if e.is_constant():
            const = np.asarray(e.value, dtype=float).reshape(shape).ravel()
            return AffineExpr({}, const, shape)
        saved = {v.id: v.value for v in self.vars}
        try:
            for v in self.vars:
                v.value = np.zeros(v.shape)
            const = np.asarray(e.value, dtype=float).reshape(shape).ravel()
            grads = e.grad
        finally:
            for v in self.vars:
                v.value = saved[v.id]
        coeffs: dict[Var, sp.csr_matrix] = {}
        for v, g in grads.items():
            if g is None:
                continue
            J = sp.csr_matrix(g).T.tocsr()  # expression x variable, column-major on both
            b = self.block[v.id]
            cols = _c_order(b.shape)
            J = sp.csr_matrix(J[rows][:, cols])
            J.eliminate_zeros()
            if J.nnz:
                coeffs[b] = J
        return AffineExpr(coeffs, const, shape)


def _constant(e: Any) -> np.ndarray:
    return np.asarray(e.value, dtype=float)


def _handlers(cp: Any) -> dict[type, Callable[[Any, _Blocks], Expr]]:
    from cvxpy.atoms.affine.add_expr import AddExpression
    from cvxpy.atoms.affine.binary_operators import DivExpression, MulExpression, multiply
    from cvxpy.atoms.affine.promote import Promote
    from cvxpy.atoms.affine.sum import Sum
    from cvxpy.atoms.affine.unary_operators import NegExpression
    from cvxpy.atoms.elementwise import power as power_module
    from cvxpy.atoms.quad_form import QuadForm
    from cvxpy.atoms.quad_over_lin import quad_over_lin

    power_cls: Any = getattr(power_module, "Power", None) or power_module.power  # older cvxpy

    def add(e: Any, b: _Blocks) -> Expr:
        out: Any = 0.0
        for a in e.args:
            out = out + _convert(a, b)
        return out.broadcast_to(tuple(e.shape))  # type: ignore[no-any-return]

    def product(e: Any, b: _Blocks) -> Expr:
        x, y = e.args
        if x.is_constant():
            return _convert(y, b).__rmul__(_constant(x))
        if y.is_constant():
            return _convert(x, b) * _constant(y)
        return _convert(x, b) * _convert(y, b)

    def matmul(e: Any, b: _Blocks) -> Expr:
        x, y = e.args
        if x.is_constant():
            return _constant(x) @ _convert(y, b)
        if y.is_constant():
            return _convert(x, b) @ _constant(y)
        return _convert(x, b) @ _convert(y, b)

    def ratio(e: Any, b: _Blocks) -> Expr:
        x, y = e.args
        if not y.is_constant():
            raise NotSupportedError("a quotient by a variable expression")
        return _convert(x, b) / _constant(y)

    def qform(e: Any, b: _Blocks) -> Expr:
        x, P = e.args
        return quad_form(_convert(x, b), _constant(P))

    def qol(e: Any, b: _Blocks) -> Expr:
        x, y = e.args
        if not y.is_constant():
            raise NotSupportedError("quad_over_lin with a variable denominator")
        return sum_squares(_convert(x, b)) / float(_constant(y))

    def pw(e: Any, b: _Blocks) -> Expr:
        p = float(np.asarray(e.p.value if hasattr(e.p, "value") else e.p))
        if p not in (1.0, 2.0):
            raise NotSupportedError(f"power with exponent {p:g} (only 1 and 2)")
        x = _convert(e.args[0], b)
        return x if p == 1.0 else x * x

    def total(e: Any, b: _Blocks) -> Expr:
        out = _convert(e.args[0], b).sum(axis=e.axis)
        return out.reshape(tuple(e.shape)) if out.shape != tuple(e.shape) else out

    return {
        AddExpression: add,
        NegExpression: lambda e, b: -_convert(e.args[0], b),
        multiply: product,
        MulExpression: matmul,
        DivExpression: ratio,
        QuadForm: qform,
        quad_over_lin: qol,
        power_cls: pw,
        Sum: total,
        Promote: lambda e, b: _convert(e.args[0], b).broadcast_to(tuple(e.shape)),
    }


def _convert(e: Any, b: _Blocks) -> Expr:
    """A cvxpy expression (affine, or quadratic through the atoms above) as an expression."""
    if e.is_affine():
        return b.affine(e)
    handlers = _handlers(_cvxpy())
    handler = next((handlers[c] for c in type(e).__mro__ if c in handlers), None)
    if handler is None:
        raise NotSupportedError(f"the cvxpy atom {type(e).__name__} ({e})")
    return handler(e, b)


def group_names(problem: Any, names: Names = None) -> list[str]:
    """The group name of each constraint of ``problem`` (``names`` as in :func:`from_cvxpy`).

    Raises
    ------
    ModelError
        When a list of names has the wrong length, or a name repeats.
    """
    cons = list(problem.constraints)
    if names is None:
        out = [f"c{c.id}" for c in cons]
    elif isinstance(names, Mapping):
        by_id = {}
        for key, value in names.items():
            if isinstance(key, (int, np.integer)):
                k = int(key)
                by_id[cons[k].id if 0 <= k < len(cons) else k] = value
            else:
                by_id[key.id] = value
        out = [by_id.get(c.id, f"c{c.id}") for c in cons]
    else:
        out = list(names)
        if len(out) != len(cons):
            raise ModelError(
                f"names: {len(out)} names for {len(cons)} constraints (give one per constraint)"
            )
    if len(set(out)) != len(out):
        raise ModelError(f"names: a constraint group name repeats in {out}")
    return out


def _group(c: Any, b: _Blocks, cp: Any) -> Any:
    from cvxpy.constraints import NonNeg, NonPos, Zero

    if isinstance(c, (cp.constraints.Inequality, NonPos)):
        body = _convert(c.expr if isinstance(c, cp.constraints.Inequality) else c.args[0], b)
        return body <= 0
    if isinstance(c, (cp.constraints.Equality, Zero)):
        body = _convert(c.expr if isinstance(c, cp.constraints.Equality) else c.args[0], b)
        return body == 0
    if isinstance(c, NonNeg):
        return _convert(c.args[0], b) >= 0
    raise NotSupportedError(f"the cvxpy constraint {type(c).__name__}")


def from_cvxpy(problem: Any, names: Names = None, name: str = "cvxpy") -> Model:
    """A cvxpy Problem as a Model (variables with their shapes, one group per constraint).

    Parameters
    ----------
    problem
        The cvxpy problem (``Minimize`` or ``Maximize`` of an affine or quadratic objective).
    names
        Group names: a list parallel to ``problem.constraints``, or a mapping from a
        constraint (or its position, or its id) to a name; others are ``c<id>``.
    name
        The model's name.

    Raises
    ------
    BackendUnavailableError
        When cvxpy is not installed.
    NotSupportedError
        For an atom, constraint or variable attribute the layer cannot represent.
    ModelError
        For bad ``names``.
    """
    cp = _cvxpy()
    if not isinstance(problem, cp.Problem):
        raise ModelError(f"from_cvxpy expects a cvxpy Problem, got {type(problem).__name__}")
    labels = group_names(problem, names)
    m = Model(name)
    blocks = _Blocks(list(problem.variables()), m)
    try:
        obj = _convert(problem.objective.args[0], blocks)
    except NotSupportedError as exc:
        raise NotSupportedError(f"objective: {exc} is not supported") from None
    if isinstance(problem.objective, cp.Maximize):
        m.maximize(obj)
    else:
        m.minimize(obj)
    for label, c in zip(labels, problem.constraints):
        try:
            con = _group(c, blocks, cp)
        except NotSupportedError as exc:
            raise NotSupportedError(f"constraint {label!r}: {exc} is not supported") from None
        m.add(model_name(label), con)
    return m


def cvxpy_duals(problem: Any, model: Model, solution: Solution, names: Names = None) -> list[Any]:
    """The solution's multipliers in cvxpy's ``dual_value`` convention, one per constraint
    of ``problem`` (in its order and shapes): the same numbers (see the module's docstring).

    Raises
    ------
    ModelError
        When a constraint's group is not in the solution.
    """
    out = []
    for label in group_names(problem, names):
        key = model_name(label)
        if key not in solution.multipliers:
            raise ModelError(f"group {key!r} is not in the solution (groups: {list(model.groups)})")
        out.append(np.asarray(solution.multipliers[key], dtype=float))
    return out
