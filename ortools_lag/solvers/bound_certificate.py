"""The certificate of a Lagrangian bound: ``q(lam)`` re-evaluated independently.

A dual method, a family's structured ascent or a user reports a bound ``q(lam)`` for a
relaxation. :func:`certify_bound` re-evaluates it on the kept-constraint problem as one model
(no decomposition, no oracle) by HiGHS, checks the multipliers' signs and, when a point is
given, its feasibility; :func:`recompute_dual` is the re-evaluation alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from ortools_lag import kkt
from ortools_lag.errors import NotSupportedError
from ortools_lag.lagrangian import Lagrangian, relaxed_group_names
from ortools_lag.model import AffineExpr, Model, QuadExpr, StandardForm
from ortools_lag.problem import Problem
from ortools_lag.result import KKTReport, Status, Termination
from ortools_lag.solvers.backends.highs import HighsOptions, solve_standard_form

__all__ = ["bound_report", "certify_bound", "recompute_dual", "sign_violation"]


def _kept_standard_form(model: Model, relax: tuple[str, ...], lam: np.ndarray) -> StandardForm:
    """The kept-constraint problem at ``lam`` as one standard form (minimisation), built from
    the model's own expressions without the decomposition or any oracle."""
    n = model.n
    z0 = np.zeros(n)
    obj = model.objective
    if not isinstance(obj, (AffineExpr, QuadExpr)):
        raise NotSupportedError("the objective is not linear or quadratic")
    s = model.sense_sign
    c = s * np.asarray(obj.jacobian(z0, n).todense()).ravel()
    offset = s * float(obj.value(z0)[0])
    Q = s * obj.hessian(np.ones(1), n) if isinstance(obj, QuadExpr) else sp.csr_matrix((n, n))
    start, rows, los, his = 0, [], [], []
    for name, g in model.groups.items():
        if name in relax:
            lam_g = lam[start : start + g.size]
            start += g.size
            if not isinstance(g.body, (AffineExpr, QuadExpr)):
                raise NotSupportedError(f"relaxed group {name!r} is not quadratic")
            y = g.sign * lam_g
            c = c + g.body.jacobian(z0, n).T @ y
            offset += float(y @ g.body.value(z0))
            pos, neg = y > 0, y < 0
            offset -= float(np.sum(y[pos] * g.hi[pos]) + np.sum(y[neg] * g.lo[neg]))
            if isinstance(g.body, QuadExpr):
                Q = Q + g.body.hessian(y, n)
        else:
            if not isinstance(g.body, AffineExpr):
                raise NotSupportedError(f"kept group {name!r} is not affine")
            rows.append(g.body.matrix(n))
            lo, hi = g.bounds_without_constant()
            los.append(lo)
            his.append(hi)
    Qc = sp.csc_matrix(Q)
    Qc.eliminate_zeros()
    return StandardForm(
        c=np.asarray(c, dtype=float),
        offset=offset,
        A=sp.csr_matrix(sp.vstack(rows)) if rows else sp.csr_matrix((0, n)),
        row_lo=np.concatenate(los) if los else np.zeros(0),
        row_hi=np.concatenate(his) if his else np.zeros(0),
        lb=model.lower_bounds(),
        ub=model.upper_bounds(),
        integrality=model.integrality(),
        Q=Qc if Qc.nnz else None,
        sense=1,
        var_blocks={},
        row_blocks={},
    )


def recompute_dual(
    model: Model, relax: tuple[str, ...], lam: np.ndarray, time_limit: float | None = None
) -> float:
    """``q(lam)`` (minimisation sense) by HiGHS on the whole kept-constraint problem: the
    optimum of an LP/QP, the dual bound of a MIP; ``+inf`` when the kept part is infeasible,
    ``-inf`` when unbounded, ``nan`` when HiGHS gives no answer.

    >>> from ortools_lag import Model
    >>> m = Model(); x = m.var("x", 2, ub=1)
    >>> m.minimize(-x[0] - 2 * x[1]); _ = m.add("cap", x.sum() <= 1)
    >>> recompute_dual(m, ("cap",), np.array([0.5]))  # -0.5 - 1.5 - 0.5 at x = (1, 1)
    -2.5
    """
    sf = _kept_standard_form(model, relax, lam)
    raw = solve_standard_form(sf, HighsOptions(mip_rel_gap=1e-9, time_limit=time_limit))
    if raw.status == Status.INFEASIBLE:
        return math.inf
    if raw.status in (Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED):
        return -math.inf
    if sf.is_mip:  # HiGHS's dual bound, once its search is complete
        return float(raw.bound) if raw.termination == Termination.CONVERGED else math.nan
    if raw.x is None or raw.status != Status.OPTIMAL:
        return math.nan
    return sf.objective(raw.x)


def certify_bound(
    model: Model | Problem,
    relax: Iterable[str] | str,
    lam: Mapping[str, Any],
    reported_bound: float,
    *,
    x: Mapping[str, Any] | None = None,
    tol: float = 1e-6,
    time_limit: float | None = None,
    max_vars: int | None = 20000,
) -> KKTReport:
    """Re-evaluate a relaxation bound independently (a :class:`KKTReport` of kind
    ``"lagrangian"``).

    ``q(lam)`` is recomputed by HiGHS on the kept-constraint problem at the reported ``lam``
    (one model: no decomposition, no oracle), and checked against ``reported_bound`` (user's
    sense: it must not exceed ``q`` for a minimisation, nor be below it for a maximisation);
    the multipliers' signs are checked, and the primal feasibility of ``x`` when given.
    Stationarity and complementarity are not demanded (a duality gap may exist).

    Parameters
    ----------
    model, relax, lam
        The problem, the relaxed groups and their multipliers by group name.
    reported_bound
        The bound to check, in the user's sense.
    x
        The reported feasible point (by variable name), if any.
    tol
        Relative tolerance of every check.
    time_limit, max_vars
        Limits of the HiGHS re-solve; beyond ``max_vars`` variables the bound is not
        re-evaluated (said in the notes, and not certified).

    Examples
    --------
    >>> from ortools_lag import Model
    >>> m = Model(); x = m.var("x", 2, ub=1)
    >>> m.minimize(-x[0] - 2 * x[1]); _ = m.add("cap", x.sum() <= 1)
    >>> rep = certify_bound(m, ["cap"], {"cap": 1.5}, -2.0, x={"x": [0, 1]})
    >>> rep.kind, rep.certified, round(rep.dual_objective, 9)
    ('lagrangian', True, -2.0)
    """
    mdl = model.model if isinstance(model, Problem) else model
    shape = Lagrangian(mdl, relaxed_group_names(mdl, relax))
    lam_f = shape.join(lam)
    notes: list[str] = []
    sign_v = sign_violation(shape, lam_f, tol, notes)
    q = _recomputed(shape, lam_f, reported_bound, tol, time_limit, max_vars, notes)
    return bound_report(mdl, q, reported_bound, sign_v, notes, x=x, tol=tol)


def bound_report(
    model: Model,
    q: float,
    reported_bound: float,
    sign: float,
    notes: list[str],
    *,
    x: Mapping[str, Any] | None,
    tol: float,
) -> KKTReport:
    """The ``"lagrangian"`` report of a bound re-evaluated as ``q`` (minimisation sense), with
    the multipliers' sign violation ``sign`` and the notes so far; ``x``, when given, is checked
    for feasibility and integrality (its failures added to the notes)."""
    primal = integ = gap = math.nan
    if x is not None:
        frep = kkt.certify_feasible(model, x, bound=reported_bound, tol=tol)
        primal, integ, gap = frep.primal_residual, frep.integrality, frep.duality_gap
        if not primal <= tol:
            notes.append(f"primal residual {primal:.3g} > {tol:g}")
        if model.is_integer and not integ <= tol:
            notes.append(f"integrality violation {integ:.3g}")
    return KKTReport(
        primal_residual=primal,
        duality_gap=gap,
        sign_violation=sign,
        integrality=integ,
        dual_objective=model.sense_sign * q,
        tolerance=tol,
        certified=not notes,
        kind="lagrangian",
        notes=tuple(notes),
    )


def sign_violation(shape: Lagrangian, lam: np.ndarray, tol: float, notes: list[str]) -> float:
    """The multipliers' largest sign violation relative to ``1 + max |lam|`` (a note when it is
    beyond ``tol``)."""
    scale = 1.0 + float(np.max(np.abs(lam), initial=0.0))
    out = np.maximum(shape.lam_lo - lam, lam - shape.lam_hi)
    v = float(np.max(out, initial=0.0)) / scale
    if v > tol:
        notes.append(f"multipliers of the wrong sign by {v:.3g} (relative)")
    return v


def _recomputed(
    shape: Lagrangian,
    lam: np.ndarray,
    reported: float,
    tol: float,
    time_limit: float | None,
    max_vars: int | None,
    notes: list[str],
) -> float:
    """``q(lam)`` by HiGHS (minimisation sense), a note when it is not comparable or when the
    reported bound (user's sense) is beyond it."""
    mdl = shape.model
    if max_vars is not None and mdl.n > max_vars:
        notes.append(f"bound not re-evaluated: {mdl.n} variables > max_vars={max_vars}")
        return math.nan
    try:
        q = recompute_dual(mdl, shape.relax, shape.project(lam), time_limit)
    except NotSupportedError as exc:
        notes.append(f"bound not re-evaluated: {exc}")
        return math.nan
    if math.isnan(q):
        notes.append("HiGHS gave no value for the kept-constraint problem")
    elif mdl.sense_sign * reported > q + tol * (1.0 + (abs(q) if math.isfinite(q) else 0.0)):
        s = mdl.sense_sign
        notes.append(f"reported bound {reported:.10g} is beyond q(lam) = {s * q:.10g}")
    return q
