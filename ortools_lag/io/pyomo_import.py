"""A Pyomo ``ConcreteModel`` as a Model: ``from_pyomo``, and the multipliers back as Pyomo duals.

Each active ``Var`` component becomes a variable block of the same name (``b.x`` for a
sub-block's; names made valid by :func:`~ortools_lag.io.row_groups.model_name`), its entries
labelled by Pyomo's names (``x[1,a]``). An indexed variable over a full product of ordered sets
``I x J`` has shape ``(|I|, |J|)`` (C order = Pyomo's iteration order), another indexed one
shape ``(len,)``, a scalar one shape ``()``. Bounds include the domain's (``NonNegativeReals``,
``Binary``), integer and binary entries are integer, a fixed variable keeps its value as both
bounds (and is a constant inside expressions). Each active ``Constraint`` component becomes a
group of the same name with the same shape rule over its index, its rows labelled by Pyomo's
names; a group whose rows share a sense (all ``<=``, all ``>=``, all ``==``) has it, any other
(a ranged row ``lo <= e <= hi``, mixed senses) is two-sided with one signed multiplier per row.
The one active ``Objective`` gives the objective and its sense.

Expressions go through Pyomo's ``generate_standard_repn`` (linear and quadratic parts, mutable
parameters and fixed variables as their values), assembled into sparse matrices per group.
What remains nonlinear is converted node by node into the expression layer (sums, products,
quotients, constant powers, negation, ``abs``, ``exp``, ``log``, ``sin``, ``cos``, ``tanh``,
``sqrt``); anything else raises :class:`~ortools_lag.errors.NotSupportedError` naming the
component.

Sign conventions. Pyomo's ``dual`` suffix (with its HiGHS interfaces ``appsi_highs`` and
``highs``) holds ``d = d objective / d rhs`` in the model's own sense. Our multiplier ``lam``
of a group (README, "Sign convention") and that ``d`` of each row are related by

    d = -sense * sign * lam,    sense = +1 (min) / -1 (max),  sign = -1 for a ">=" group, else +1

so in a minimisation ``lam = -d`` on ``<=`` and ``==`` rows and ``lam = d`` on ``>=`` rows, and in
a maximisation the opposite (``lam = d`` on ``<=`` rows, the README's shadow prices). For a
two-sided group ``lam`` is the signed row multiplier (positive when the upper side binds) and
``d = -sense * lam``. :func:`pyomo_duals` applies this conversion and :func:`write_duals` stores
the result (or ``lam`` itself) in a ``Suffix``.

>>> import pyomo.environ as pyo
>>> from ortools_lag import solve
>>> pm = pyo.ConcreteModel("reddy_mikks")
>>> pm.x = pyo.Var([1, 2], domain=pyo.NonNegativeReals)
>>> pm.profit = pyo.Objective(expr=5 * pm.x[1] + 4 * pm.x[2], sense=pyo.maximize)
>>> pm.m1 = pyo.Constraint(expr=6 * pm.x[1] + 4 * pm.x[2] <= 24)
>>> pm.m2 = pyo.Constraint(expr=pm.x[1] + 2 * pm.x[2] <= 6)
>>> m = from_pyomo(pm)
>>> sol = solve(m, "highs")
>>> sol.objective, float(sol.multipliers["m1"]), list(m.groups), m.variables["x"].labels
(21.0, 0.75, ['m1', 'm2'], ['x[1]', 'x[2]'])
>>> write_duals(pm, m, sol)
>>> round(pm.dual[pm.m1], 9), round(pm.dual[pm.m2], 9)
(0.75, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.errors import BackendUnavailableError, ModelError, NotSupportedError
from ortools_lag.io.row_groups import group_constraint, model_name
from ortools_lag.model import AffineExpr, Expr, Model, QuadExpr, Var, functions
from ortools_lag.result import Solution

__all__ = ["from_pyomo", "pyomo_duals", "write_duals"]

_FUNCTIONS = ("exp", "log", "sin", "cos", "tanh", "sqrt")


def _pyomo() -> Any:
    try:
        import pyomo.environ as pyo
    except ImportError as exc:  # pragma: no cover - pyomo is a dependency
        raise BackendUnavailableError("from_pyomo needs Pyomo: pip install pyomo") from exc
    return pyo


def _shape(comp: Any) -> tuple[int, ...]:
    """``()`` for a scalar component, the product shape over a full product set, else 1-D."""
    if not comp.is_indexed():
        return ()
    n = len(comp)
    try:
        subsets = list(comp.index_set().subsets())
    except (AttributeError, TypeError):
        return (n,)
    if len(subsets) > 1 and all(s.isordered() and s.isfinite() for s in subsets):
        lens = tuple(len(s) for s in subsets)
        if math.prod(lens) == n and len(comp.index_set()) == n:
            return lens
    return (n,)


def _components(pm: Any, ctype: Any) -> list[Any]:
    return list(pm.component_objects(ctype, active=True, descend_into=True))


def _distinct_names(comps: list[Any]) -> list[str]:
    out: list[str] = []
    for c in comps:
        base = model_name(c.name)
        name, k = base, 2
        while name in out:
            name, k = f"{base}_{k}", k + 1
        out.append(name)
    return out


class _Columns:
    """The Pyomo variables as the model's blocks, and the repn of expressions over them."""

    def __init__(self, pm: Any, m: Model) -> None:
        comps = _components(pm, _pyomo().Var)
        self.col: dict[int, int] = {}
        self.blocks: list[Var] = []
        for comp, name in zip(comps, _distinct_names(comps)):
            data = list(comp.values())
            lb = np.array([-np.inf if v.lb is None else float(v.lb) for v in data], dtype=float)
            ub = np.array([np.inf if v.ub is None else float(v.ub) for v in data], dtype=float)
            fixed = np.array([bool(v.fixed) for v in data], dtype=bool)
            if fixed.any():
                val = np.array([float(v.value) if v.fixed else 0.0 for v in data])
                lb, ub = np.where(fixed, val, lb), np.where(fixed, val, ub)
            ints = np.array([bool(v.is_integer()) for v in data], dtype=bool)
            shape = _shape(comp)
            block = m.var(
                name,
                shape,
                lb=lb.reshape(shape),
                ub=ub.reshape(shape),
                labels=[v.name for v in data],
                integer_mask=ints.reshape(shape) if ints.any() else None,
            )
            self.col.update({id(v): block.offset + k for k, v in enumerate(data)})
            self.blocks.append(block)
        self.n = m.n

    def affine(
        self, rows: Any, cols: Any, vals: Any, const: Any, shape: tuple[int, ...]
    ) -> AffineExpr:
        """``A z + const`` from global triplets, split into the blocks' coefficient matrices."""
        k = int(np.asarray(const).size)
        A = sp.csc_matrix(
            (
                np.asarray(vals, dtype=float),
                (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)),
            ),
            shape=(k, self.n),
        )
        coeffs: dict[Var, sp.csr_matrix] = {}
        for b in self.blocks:
            sub = A[:, b.offset : b.offset + b.size]
            if sub.nnz:
                coeffs[b] = sp.csr_matrix(sub)
        return AffineExpr(coeffs, np.asarray(const, dtype=float), shape)

    def scalar(self, vardata: Any) -> AffineExpr:
        """One variable as a scalar expression."""
        return self.affine([0], [self.col[id(vardata)]], [1.0], [0.0], ())

    def exprs(self, bodies: list[Any], shape: tuple[int, ...], where: str) -> Expr:
        """The Pyomo expressions ``bodies`` as one expression of ``shape`` (C order)."""
        from pyomo.repn import generate_standard_repn

        k = len(bodies)
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        qrow: list[int] = []
        qi: list[int] = []
        qj: list[int] = []
        qv: list[float] = []
        const = np.zeros(k)
        nonlinear: dict[int, Any] = {}
        for r, body in enumerate(bodies):
            repn = generate_standard_repn(body, quadratic=True, compute_values=True)
            const[r] = float(repn.constant)
            rows += [r] * len(repn.linear_vars)
            cols += [self.col[id(v)] for v in repn.linear_vars]
            vals += [float(c) for c in repn.linear_coefs]
            for (a, b), c in zip(repn.quadratic_vars, repn.quadratic_coefs):
                qrow.append(r)
                qi.append(self.col[id(a)])
                qj.append(self.col[id(b)])
                qv.append(float(c))
            if repn.nonlinear_expr is not None:
                nonlinear[r] = repn.nonlinear_expr
        out: Expr = self.affine(rows, cols, vals, const, shape)
        if qv:
            p = len(qv)
            L = self.affine(range(p), qi, np.ones(p), np.zeros(p), (p,))
            R = self.affine(range(p), qj, np.ones(p), np.zeros(p), (p,))
            S = sp.csr_matrix((qv, (qrow, range(p))), shape=(k, p))
            assert isinstance(out, AffineExpr)
            out = QuadExpr(out, [(L, R, S)])
        for r, node in nonlinear.items():  # rows with a nonlinear rest: graph nodes
            e = _to_expr(node, self, where)
            if k > 1:
                unit = np.zeros(k)
                unit[r] = 1.0
                e = (e * unit).reshape(shape)
            out = out + e
        return out


def _handlers() -> dict[type, Callable[[list[Any], Any], Any]]:
    import pyomo.core.expr as pe

    def unary(args: list[Any], node: Any) -> Any:
        name = node.getname()
        if name not in _FUNCTIONS:
            raise NotSupportedError(f"the function {name!r}")
        return getattr(functions, name)(args[0])

    def power(args: list[Any], node: Any) -> Any:
        if isinstance(args[1], Expr):
            raise NotSupportedError("a power with a variable exponent")
        return args[0] ** float(args[1])

    return {
        pe.SumExpression: lambda a, _: _sum(a),
        pe.LinearExpression: lambda a, _: _sum(a),
        pe.ProductExpression: lambda a, _: a[0] * a[1],
        pe.MonomialTermExpression: lambda a, _: a[0] * a[1],
        pe.DivisionExpression: lambda a, _: a[0] / a[1],
        pe.NegationExpression: lambda a, _: -a[0],
        pe.AbsExpression: lambda a, _: functions.abs(a[0]),
        pe.PowExpression: power,
        pe.UnaryFunctionExpression: unary,
    }


def _sum(args: list[Any]) -> Any:
    total: Any = 0.0
    for a in args:
        total = total + a
    return total


def _to_expr(node: Any, cols: _Columns, where: str) -> Any:
    """A Pyomo expression tree as an expression of the layer (or a float)."""
    pyo = _pyomo()
    if not hasattr(node, "is_potentially_variable") or not node.is_potentially_variable():
        return float(pyo.value(node))
    if node.is_variable_type():
        return float(pyo.value(node)) if node.fixed else cols.scalar(node)
    if node.is_named_expression_type():
        return _to_expr(node.expr, cols, where)
    handlers = _handlers()
    handler = next((handlers[c] for c in type(node).__mro__ if c in handlers), None)
    if handler is None:
        raise NotSupportedError(
            f"{where}: the Pyomo expression {type(node).__name__} ({node}) is not supported"
        )
    args = [_to_expr(a, cols, where) for a in node.args]
    try:
        return handler(args, node)
    except NotSupportedError as exc:
        raise NotSupportedError(f"{where}: {exc} is not supported ({node})") from None


def _constraint_components(pm: Any) -> list[tuple[str, Any, list[Any]]]:
    """The active Constraint components: (group name, component, its active rows)."""
    comps = [c for c in _components(pm, _pyomo().Constraint) if any(d.active for d in c.values())]
    return [
        (name, c, [d for d in c.values() if d.active])
        for c, name in zip(comps, _distinct_names(comps))
    ]


def from_pyomo(pm: Any, name: str | None = None) -> Model:
    """A Pyomo ``ConcreteModel`` as a Model (blocks and groups named as in Pyomo).

    Parameters
    ----------
    pm
        The Pyomo model: one active objective, any active variables and constraints.
    name
        The model's name (default: the Pyomo model's).

    Raises
    ------
    BackendUnavailableError
        When Pyomo is not installed.
    ModelError
        For a model without exactly one active objective, or not a Pyomo block.
    NotSupportedError
        For an expression the layer cannot represent, naming its component.
    """
    pyo = _pyomo()
    if not hasattr(pm, "component_objects"):
        raise ModelError(f"from_pyomo expects a Pyomo ConcreteModel, got {type(pm).__name__}")
    m = Model(name or model_name(pm.name))
    cols = _Columns(pm, m)
    objectives = [o for o in _components(pm, pyo.Objective)]
    data = [d for o in objectives for d in o.values() if d.active]
    if len(data) != 1:
        raise ModelError(
            f"from_pyomo needs exactly one active objective, found {len(data)} "
            f"({', '.join(o.name for o in objectives) or 'none'})"
        )
    obj = cols.exprs([data[0].expr], (), f"objective {data[0].name!r}")
    (m.maximize if data[0].sense == pyo.maximize else m.minimize)(obj)
    for gname, comp, rows in _constraint_components(pm):
        shape = _shape(comp) if len(rows) == len(comp) else (len(rows),)
        body = cols.exprs([d.body for d in rows], shape, f"constraint {comp.name!r}")
        lo = np.array([-np.inf if d.lb is None else float(d.lb) for d in rows])
        hi = np.array([np.inf if d.ub is None else float(d.ub) for d in rows])
        m.add(gname, group_constraint(body, lo, hi), labels=[d.name for d in rows])
    return m


def pyomo_duals(pm: Any, model: Model, solution: Solution) -> dict[Any, float]:
    """The solution's multipliers as Pyomo would report its ``dual`` suffix, by ConstraintData.

    ``d = -sense * sign * lam`` (see the module's docstring). Groups without multipliers in
    the solution (the kept groups of a dual method) are left out.

    Raises
    ------
    ModelError
        When ``model`` is not the import of ``pm`` (groups or rows differ).
    """
    out: dict[Any, float] = {}
    for gname, _, rows in _constraint_components(pm):
        g = model.groups.get(gname)
        if g is None or g.size != len(rows):
            raise ModelError(f"group {gname!r} of the Pyomo model is not in this model")
        if gname not in solution.multipliers:  # a dual method reports its relaxed groups only
            continue
        lam = np.asarray(solution.multipliers[gname], dtype=float).ravel()
        d = -model.sense_sign * g.sign * lam
        out.update(zip(rows, (float(v) + 0.0 for v in d)))
    return out


def write_duals(
    pm: Any, model: Model, solution: Solution, suffix: str = "dual", convention: str = "pyomo"
) -> None:
    """Store the multipliers in the Suffix ``suffix`` of ``pm`` (created when missing).

    ``convention="pyomo"`` stores what Pyomo's own ``dual`` suffix would hold (``d``);
    ``"ortools_lag"`` stores our ``lam`` as it is.

    Raises
    ------
    OptionError
        For another convention.
    """
    from ortools_lag.errors import OptionError

    conventions = ("pyomo", "ortools_lag")
    if convention not in conventions:
        raise OptionError(
            f"convention {convention!r} is not known (valid choices: {', '.join(conventions)})"
        )
    pyo = _pyomo()
    target = pm.component(suffix)
    if target is None:
        target = pyo.Suffix(direction=pyo.Suffix.IMPORT)
        pm.add_component(suffix, target)
    duals = pyomo_duals(pm, model, solution)
    if convention == "ortools_lag":
        scale = {}
        for gname, _, rows in _constraint_components(pm):
            s = -model.sense_sign * model.groups[gname].sign  # its own inverse: d <-> lam
            scale.update(dict.fromkeys(rows, s))
        duals = {k: v * scale[k] for k, v in duals.items()}
    for k, v in duals.items():
        target[k] = v
