"""Sensitivity ranging of an LP: how far each cost and each row bound may move before the
optimal basis changes, and the objective's slope over that interval.

For a cost coefficient ``c_j`` the point ``x`` stays optimal over ``[lower, upper]``, so the
objective moves with slope ``x_j``. For a row's active bound ``b_i`` (its right-hand side with
the constants of the left moved across) the basis stays optimal, its point moving linearly, and
the objective's slope is the shadow price ``d f / d b_i`` (``sol.shadow_prices``). An inactive
row's bound may move up to the row's activity (slope 0). Everything is in the user's sense:
the cost of a maximisation is the coefficient the user wrote.

With HiGHS the intervals are HiGHS's own ranging (``Highs.getRanging``), at the basis of the
solution (handed to HiGHS, which confirms it optimal); otherwise they are computed here from
that basis: with ``B`` the basis matrix, ``pi = B^{-T} c_B`` and the reduced costs ``d``, a
basic cost moves the reduced costs by ``-delta * (B^{-1} N)_p`` (ratio test against the signs
of ``d``), a nonbasic one only its own ``d_j``; a nonbasic row bound moves the basic values by
``delta * B^{-1} e_i`` (ratio test against their bounds).

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2); m.maximize(5 * x[0] + 4 * x[1])
>>> _ = m.add("m1", 6 * x[0] + 4 * x[1] <= 24); _ = m.add("m2", x[0] + 2 * x[1] <= 6)
>>> _ = m.add("m3", x[1] - x[0] <= 1); _ = m.add("m4", x[1] <= 2)  # Reddy Mikks (Taha)
>>> rg = ranging(m, solve(m, "highs"))
>>> rg.costs["x"].lower.round(6).tolist(), rg.costs["x"].upper.round(6).tolist()
([2.0, 3.333333], [6.0, 10.0])
>>> rg.rows["m1"].lower.tolist(), rg.rows["m1"].upper.tolist(), rg.rows["m1"].slope.tolist()
(20.0, 36.0, 0.75)
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ortools_lag.analysis.basis import (
    Basis,
    basis_from_highs,
    basis_of_solution,
    basis_to_highs,
    point_of,
)
from ortools_lag.analysis.labels import entry_name
from ortools_lag.errors import NotSupportedError, OptionError
from ortools_lag.highs_model import new_highs, pass_model
from ortools_lag.model import Model, StandardForm, to_standard_form
from ortools_lag.problem import Problem, as_problem
from ortools_lag.result import Solution, Status

__all__ = ["Range", "Ranging", "ranging", "with_ranging"]

log = logging.getLogger(__name__)

METHODS = ("auto", "highs", "basis")
_CHUNK = 256


@dataclass(frozen=True)
class Range:
    """Ranges of one variable block's costs or one group's row bounds, in the block's shape.

    Attributes
    ----------
    value
        The current cost coefficient, or the row's bound that is ranged (the active side; for
        an inactive row the side nearest its activity).
    lower, upper
        The interval of ``value`` over which the basis stays optimal (``-inf``/``inf`` open).
    slope
        d objective / d value over the interval: ``x_j`` for a cost, the shadow price for a
        bound (0 for an inactive row).
    """

    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    slope: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """Plain lists (infinite ends as the strings ``"inf"`` / ``"-inf"``)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _plain(a: np.ndarray) -> Any:
    flat = [v if np.isfinite(v) else str(v) for v in np.asarray(a, dtype=float).ravel().tolist()]
    return flat[0] if np.ndim(a) == 0 else np.asarray(flat, dtype=object).reshape(a.shape).tolist()


@dataclass(frozen=True)
class Ranging:
    """Cost and right-hand-side ranging of an optimal LP basis.

    Attributes
    ----------
    costs
        By variable name: the range of each objective coefficient.
    rows
        By group name: the range of each row's bound.
    method
        ``"highs"`` (HiGHS's ranging) or ``"basis"`` (computed here from the basis).
    """

    costs: dict[str, Range]
    rows: dict[str, Range]
    method: str

    def table(self) -> list[dict[str, Any]]:
        """One record per cost and per row: ``kind``, ``name`` (``cap[3]``), ``value``,
        ``lower``, ``upper``, ``slope``."""
        out: list[dict[str, Any]] = []
        for kind, blocks in (("cost", self.costs), ("rhs", self.rows)):
            for name, rg in blocks.items():
                shape = np.shape(rg.value)
                cols = [np.asarray(getattr(rg, k), dtype=float).ravel() for k in _COLS]
                for i in range(cols[0].size):
                    rec: dict[str, Any] = {"kind": kind, "name": entry_name(name, shape, i)}
                    rec.update({k: float(c[i]) for k, c in zip(_COLS, cols)})
                    out.append(rec)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready values: ``method``, ``costs`` by variable, ``rows`` by group (arrays
        in their shapes) and ``table`` (the records of :meth:`table`); infinite ends as the
        strings ``"inf"`` / ``"-inf"``."""
        return {
            "method": self.method,
            "costs": {k: v.to_dict() for k, v in self.costs.items()},
            "rows": {k: v.to_dict() for k, v in self.rows.items()},
            "table": [
                {
                    k: (v if not isinstance(v, float) or np.isfinite(v) else str(v))
                    for k, v in r.items()
                }
                for r in self.table()
            ],
        }


_COLS = ("value", "lower", "upper", "slope")


# -- the computation in the standard form (minimisation) ----------------------------------------
@dataclass
class _Flat:
    """Flat ranges in the standard form's minimisation: costs then rows."""

    cost_lo: np.ndarray
    cost_hi: np.ndarray
    x: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray
    pi: np.ndarray


def _factor(sf: StandardForm, basis: Basis) -> Any:
    if basis.size != sf.m:
        raise NotSupportedError(f"a basis needs {sf.m} basic variables, this one has {basis.size}")
    try:
        return spla.splu(basis.matrix(sf.A))
    except RuntimeError as exc:
        raise NotSupportedError(f"the basis matrix is singular ({exc})") from None


def _values(sf: StandardForm, basis: Basis, lu: Any) -> tuple[np.ndarray, np.ndarray]:
    """Column values and row activities of the basic solution."""
    n = sf.n
    x = np.where(basis.col_upper, sf.ub, sf.lb).astype(float)
    x[basis.col_basic] = 0.0
    x = np.where(np.isfinite(x), x, 0.0)
    r = np.where(basis.row_upper, sf.row_hi, sf.row_lo).astype(float)
    r = np.where(basis.row_basic | ~np.isfinite(r), 0.0, r)
    full = sp.hstack([sf.A, -sp.identity(sf.m, format="csr")], format="csr")
    xb = lu.solve(-(full @ np.r_[x, r]))
    P = np.flatnonzero(basis.col_basic)
    x[P] = xb[: P.size]
    r[basis.row_basic] = xb[P.size :]
    return x[:n], r


def _ratio(e: np.ndarray, a: np.ndarray, tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """For ``e - delta * a >= 0`` (``e >= 0``, columns of ``a`` independent problems): the
    largest ``delta >= 0`` and the smallest ``delta <= 0``."""
    e = np.maximum(e, 0.0)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = e / a
    up = np.where(a > tol, q, np.inf).min(axis=0, initial=np.inf)
    dn = np.where(a < -tol, q, -np.inf).max(axis=0, initial=-np.inf)
    return up, dn


def own_ranging(sf: StandardForm, basis: Basis) -> _Flat:
    """Ranges computed from ``basis`` (see the module docstring); min-form, flat."""
    lu = _factor(sf, basis)
    n, m = sf.n, sf.m
    P, Q = np.flatnonzero(basis.col_basic), np.flatnonzero(basis.row_basic)
    x, act = _values(sf, basis, lu)
    pi = lu.solve(np.r_[sf.c[P], np.zeros(Q.size)], trans="T")
    d_col, d_row = sf.c - sf.A.T @ pi, pi  # reduced costs of columns and row activities
    NC, NR = np.flatnonzero(~basis.col_basic), np.flatnonzero(~basis.row_basic)
    fixed = np.r_[sf.lb[NC] == sf.ub[NC], sf.row_lo[NR] == sf.row_hi[NR]]
    sigma = np.where(np.r_[basis.col_upper[NC], basis.row_upper[NR]], -1.0, 1.0)
    sigma[fixed] = 0.0  # a fixed nonbasic entry never limits a cost
    e = sigma * np.r_[d_col[NC], d_row[NR]]
    # costs of nonbasic columns: only their own reduced cost moves
    cost_lo, cost_hi = np.full(n, -np.inf), np.full(n, np.inf)
    dj = d_col[NC]
    at_up = basis.col_upper[NC]
    free = ~fixed[: NC.size]
    cost_lo[NC] = np.where(free & ~at_up, sf.c[NC] - np.maximum(dj, 0.0), -np.inf)
    cost_hi[NC] = np.where(free & at_up, sf.c[NC] - np.minimum(dj, 0.0), np.inf)
    # costs of basic columns: row p of B^{-1} N, in chunks
    AN = sf.A.tocsc()[:, NC]
    for k in range(0, P.size, _CHUNK):
        pos = np.arange(k, min(k + _CHUNK, P.size))
        E = np.zeros((m, pos.size))
        E[pos, np.arange(pos.size)] = 1.0
        U = lu.solve(E, trans="T")
        alpha = np.vstack([AN.T @ U, -U[NR, :]])
        up, dn = _ratio(e, sigma[:, None] * alpha)
        cost_hi[P[pos]] = sf.c[P[pos]] + up
        cost_lo[P[pos]] = sf.c[P[pos]] + dn
    # bounds of nonbasic rows: the basic values move along B^{-1} e_i
    lo_b = np.r_[sf.lb[P], sf.row_lo[Q]]
    hi_b = np.r_[sf.ub[P], sf.row_hi[Q]]
    xb = np.r_[x[P], act[Q]]
    row_lo, row_hi = _inactive_rows(sf, basis, act)
    for k in range(0, NR.size, _CHUNK):
        rows = NR[k : k + _CHUNK]
        E = np.zeros((m, rows.size))
        E[rows, np.arange(rows.size)] = 1.0
        W = lu.solve(E)
        up1, dn1 = _ratio(hi_b - xb, W)  # x_B + delta W <= hi
        up2, dn2 = _ratio(xb - lo_b, -W)  # x_B + delta W >= lo
        up, dn = np.minimum(up1, up2), np.maximum(dn1, dn2)
        b = np.where(basis.row_upper[rows], sf.row_hi[rows], sf.row_lo[rows])
        width = sf.row_hi[rows] - sf.row_lo[rows]
        eq = width == 0
        up = np.where(~eq & ~basis.row_upper[rows], np.minimum(up, width), up)
        dn = np.where(~eq & basis.row_upper[rows], np.maximum(dn, -width), dn)
        row_lo[rows], row_hi[rows] = b + dn, b + up
    return _Flat(cost_lo, cost_hi, x, row_lo, row_hi, pi)


def _inactive_rows(
    sf: StandardForm, basis: Basis, act: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Ranges of basic rows: the nearer finite side may move to the activity (slope 0)."""
    upper_side = _upper_side(sf, act)
    lo = np.where(basis.row_basic & upper_side, act, -np.inf)
    hi = np.where(basis.row_basic & ~upper_side, act, np.inf)
    eq = basis.row_basic & (sf.row_lo == sf.row_hi)
    return np.where(eq, sf.row_lo, lo), np.where(eq, sf.row_hi, hi)


def _upper_side(sf: StandardForm, act: np.ndarray) -> np.ndarray:
    hi_fin, lo_fin = np.isfinite(sf.row_hi), np.isfinite(sf.row_lo)
    with np.errstate(invalid="ignore"):
        nearer = np.abs(sf.row_hi - act) <= np.abs(act - sf.row_lo)
    return hi_fin & (~lo_fin | nearer)


def highs_ranging(sf: StandardForm, basis: Basis) -> tuple[_Flat, Basis]:
    """HiGHS's ranging at ``basis`` (HiGHS confirms it optimal, or moves to one that is)."""
    h = new_highs()
    h.setOptionValue("presolve", "off")
    h.setOptionValue("solver", "simplex")
    pass_model(h, sf)
    h.setBasis(basis_to_highs(basis))
    h.run()
    name = h.getModelStatus().name
    if name != "kOptimal":
        raise NotSupportedError(f"HiGHS could not confirm the basis optimal ({name})")
    its = int(h.getInfo().simplex_iteration_count)
    if its:
        log.info("HiGHS moved %d simplex iterations from the solution's basis", its)
    final = basis_from_highs(h.getBasis())
    status, rg = h.getRanging()
    if status.name == "kError" or not rg.valid:
        raise NotSupportedError("HiGHS gave no ranging for this LP")
    sol = h.getSolution()
    x = np.asarray(sol.col_value, dtype=float)
    act = np.asarray(sol.row_value, dtype=float)
    pi = np.asarray(sol.row_dual, dtype=float)
    cost_lo = np.asarray(rg.col_cost_dn.value_, dtype=float)[: sf.n]
    cost_hi = np.asarray(rg.col_cost_up.value_, dtype=float)[: sf.n]
    row_lo, row_hi = _inactive_rows(sf, final, act)
    nb = ~final.row_basic
    row_lo[nb] = np.asarray(rg.row_bound_dn.value_, dtype=float)[: sf.m][nb]
    row_hi[nb] = np.asarray(rg.row_bound_up.value_, dtype=float)[: sf.m][nb]
    big = 1e30  # HiGHS writes its infinity (kHighsInf) as a large finite number in places
    flat = _Flat(cost_lo, cost_hi, x, row_lo, row_hi, pi)
    for k in ("cost_lo", "row_lo"):
        setattr(flat, k, np.where(getattr(flat, k) <= -big, -np.inf, getattr(flat, k)))
    for k in ("cost_hi", "row_hi"):
        setattr(flat, k, np.where(getattr(flat, k) >= big, np.inf, getattr(flat, k)))
    return flat, final


def _to_user(model: Model, sf: StandardForm, flat: _Flat, basis: Basis, method: str) -> Ranging:
    s = sf.sense
    c_user = s * sf.c
    lo, hi = (flat.cost_lo, flat.cost_hi) if s > 0 else (-flat.cost_hi, -flat.cost_lo)
    act = sf.A @ flat.x
    b = np.where(basis.row_upper, sf.row_hi, sf.row_lo)
    side = _upper_side(sf, act)
    b = np.where(basis.row_basic, np.where(side, sf.row_hi, sf.row_lo), b)
    slope = np.where(basis.row_basic, 0.0, s * flat.pi)
    costs = {
        k: Range(*(a[v.start : v.stop].reshape(v.shape) for a in (c_user, lo, hi, flat.x)))
        for k, v in sf.var_blocks.items()
    }
    rows = {
        k: Range(
            *(a[g.start : g.stop].reshape(g.shape) for a in (b, flat.row_lo, flat.row_hi, slope))
        )
        for k, g in sf.row_blocks.items()
    }
    return Ranging(costs=costs, rows=rows, method=method)


def ranging(
    model: Model | Problem, sol: Solution, *, method: Literal["auto", "highs", "basis"] = "auto"
) -> Ranging:
    """Cost and right-hand-side ranging of the optimal LP solution ``sol`` of ``model``.

    Parameters
    ----------
    model
        The LP (a :class:`~ortools_lag.model.Model` or a Problem); no integer variables, no
        quadratic objective.
    sol
        An optimal solution of it with multipliers (any backend that ends at a vertex).
    method
        ``"highs"``: HiGHS's ranging at the solution's basis; ``"basis"``: computed here from
        the basis; ``"auto"``: HiGHS where ``sol`` came from HiGHS, else ``"basis"``.

    Returns
    -------
    Ranging
        By variable and by group, each entry's interval and the objective's slope over it.

    Raises
    ------
    NotSupportedError
        For a MILP or QP, a solution that is not optimal, or a point that is not a vertex.
    OptionError
        For an unknown ``method``.
    """
    if method not in METHODS:
        raise OptionError(f"ranging: unknown method {method!r} (valid choices: {METHODS})")
    mdl = as_problem(model).model
    if mdl.is_integer:
        raise NotSupportedError(
            "ranging is for LPs: this model has integer variables (fix them first: "
            "ortools_lag.analysis.fixed_lp, then range the fixed LP)"
        )
    if sol.status != Status.OPTIMAL:
        raise NotSupportedError(f"ranging needs an optimal solution, got {sol.status.value!r}")
    sf = to_standard_form(mdl)
    if sf.Q is not None:
        raise NotSupportedError("ranging is for LPs: the objective is quadratic")
    point_of(mdl, sf, sol)
    basis = basis_of_solution(mdl, sf, sol)
    use = ("highs" if sol.solver == "highs" else "basis") if method == "auto" else method
    if use == "highs":
        flat, basis = highs_ranging(sf, basis)
    else:
        flat = own_ranging(sf, basis)
    return _to_user(mdl, sf, flat, basis, use)


def with_ranging(model: Model | Problem, sol: Solution) -> Solution:
    """``sol`` with :attr:`~ortools_lag.result.Solution.ranging` filled (the ``ranging=True``
    option of :func:`~ortools_lag.solve`)."""
    return dataclasses.replace(sol, ranging=ranging(model, sol))
