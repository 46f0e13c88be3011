"""The scipy backend's LPs and MILPs: ``linprog`` (HiGHS) and ``milp``, with certificates.

``linprog`` takes ``A_ub z <= b_ub`` and ``A_eq z == b_eq``; a row ``lo <= a z <= hi`` becomes
an equality (``lo == hi``), an upper row ``a z <= hi`` and a lower row ``-a z <= -lo``. scipy's
``marginals`` are ``d f / d b`` (``<= 0`` on a binding ``<=`` row), so the signed row multiplier
of the project (positive when the upper side binds) is ``y = -marginal_upper + marginal_lower``
and ``y = -marginal`` on an equality.

Infeasible and unbounded LPs are statuses; the certificates are computed by small LPs
(:func:`farkas_certificate`, :func:`unbounded_ray`, and ``rays.settle`` for the claims) and
checked by ``kkt.py``.

>>> import scipy.sparse as sp
>>> res, y = solve_lp_arrays(np.array([1.0, 1.0]), sp.csr_matrix([[1.0, 1.0]]),
...     np.array([1.0]), np.array([np.inf]), np.zeros(2), np.full(2, np.inf), ScipyOptions())
>>> round(res.fun, 9), y.tolist()
(1.0, [-1.0])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.model import StandardForm
from ortools_lag.result import Status, Termination
from ortools_lag.solvers.backend import RawResult
from ortools_lag.solvers.backends.scipy_options import LP_METHODS, ScipyOptions

__all__ = [
    "NO_POINT",
    "farkas_certificate",
    "row_sides",
    "solve_lp",
    "solve_lp_arrays",
    "solve_milp",
    "solve_phase_one",
    "unbounded_ray",
]


_LP_STATUS: dict[int, tuple[Status, Termination]] = {
    0: (Status.OPTIMAL, Termination.CONVERGED),
    1: (Status.NO_SOLUTION, Termination.ITERATION_LIMIT),
    2: (Status.INFEASIBLE, Termination.CONVERGED),
    3: (Status.UNBOUNDED, Termination.CONVERGED),
    4: (Status.NO_SOLUTION, Termination.NUMERICAL_ERROR),
}


#: statuses that come with a certificate instead of a point
NO_POINT = (Status.INFEASIBLE, Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED)


def _highs_options(opts: ScipyOptions) -> dict[str, Any]:
    out: dict[str, Any] = {
        "disp": bool(opts.verbose),
        "presolve": bool(opts.presolve),
        "primal_feasibility_tolerance": opts.primal_feasibility_tolerance,
        "dual_feasibility_tolerance": opts.dual_feasibility_tolerance,
    }
    if opts.time_limit is not None:
        out["time_limit"] = float(opts.time_limit)
    return out


def row_sides(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of the equality rows (``lo == hi``), then of the other rows' finite upper and
    finite lower sides: how ``lo <= a z <= hi`` rows are split for scipy.

    >>> ie, up, dn = row_sides(np.array([1.0, -np.inf, 0.0]), np.array([1.0, 2.0, 3.0]))
    >>> ie.tolist(), up.tolist(), dn.tolist()
    ([0], [1, 2], [2])
    """
    eq = np.isfinite(lo) & (lo == hi)
    ie = np.flatnonzero(eq)
    up = np.flatnonzero(np.isfinite(hi) & ~eq)
    dn = np.flatnonzero(np.isfinite(lo) & ~eq)
    return ie, up, dn


def solve_lp_arrays(
    c: np.ndarray,
    A: sp.csr_matrix,
    lo: np.ndarray,
    hi: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    opts: ScipyOptions,
) -> tuple[Any, np.ndarray | None]:
    """``min c z s.t. lo <= A z <= hi, lb <= z <= ub`` by ``linprog``.

    Returns
    -------
    res, y
        scipy's result and the signed row multipliers (positive when the upper side binds),
        ``None`` when scipy gave no marginals.
    """
    from scipy.optimize import linprog

    ie, up, dn = row_sides(lo, hi)
    A = sp.csr_matrix(A)
    A_ub = sp.vstack([A[up], -A[dn]], format="csr") if up.size + dn.size else None
    b_ub = np.concatenate([hi[up], -lo[dn]]) if A_ub is not None else None
    A_eq, b_eq = (A[ie], lo[ie]) if ie.size else (None, None)
    method = opts.method if opts.method in LP_METHODS else "highs"
    res = linprog(
        c,
        A_ub=A_ub,
        b_ub=b_ub,
        A_eq=A_eq,
        b_eq=b_eq,
        bounds=np.column_stack([lb, ub]),
        method=method,
        options=_highs_options(opts),
    )
    if res.status != 0 or getattr(res, "ineqlin", None) is None:
        return res, None
    y = np.zeros(A.shape[0])
    if ie.size:
        y[ie] = -np.asarray(res.eqlin.marginals)
    if A_ub is not None:
        marg = np.asarray(res.ineqlin.marginals)
        y[up] -= marg[: up.size]
        y[dn] += marg[up.size :]
    return res, y


def _scipy_status(res: Any) -> tuple[Status, Termination]:
    """linprog/milp status codes, refined by the message (time limit, "unbounded or
    infeasible" which both report under other codes)."""
    status, term = _LP_STATUS.get(int(res.status), (Status.NO_SOLUTION, Termination.UNKNOWN))
    text = str(res.message).lower()
    if int(res.status) == 1 and "time" in text:
        term = Termination.TIME_LIMIT
    if "unbounded or infeasible" in text or "infeasible or unbounded" in text:
        status, term = Status.INFEASIBLE_OR_UNBOUNDED, Termination.CONVERGED
    return status, term


def _lp_raw(res: Any, y: np.ndarray | None) -> RawResult:
    status, term = _scipy_status(res)
    raw = RawResult(status, term, iterations=int(getattr(res, "nit", 0) or 0))
    raw.message = f"scipy linprog: {res.message}"
    if res.x is not None and status not in NO_POINT:
        raw.x = np.asarray(res.x, dtype=float)
        raw.y = y
        if status == Status.NO_SOLUTION:
            raw.status = Status.FEASIBLE
    return raw


def solve_phase_one(sf: StandardForm, opts: ScipyOptions) -> tuple[Any, np.ndarray | None]:
    """The phase-one LP of ``sf``, ``min 1.(p + q)`` subject to ``lo <= A z + p - q <= hi``,
    ``lb <= z <= ub``, ``p, q >= 0``, solved: the result (``x`` stacks ``z, p, q``) and the row
    multipliers, as :func:`solve_lp_arrays` returns them."""
    n, m = sf.n, sf.m
    eye = sp.identity(m, format="csr")
    A1 = sp.hstack([sf.A, eye, -eye], format="csr")
    c1 = np.concatenate([np.zeros(n), np.ones(2 * m)])
    lb1 = np.concatenate([sf.lb, np.zeros(2 * m)])
    ub1 = np.concatenate([sf.ub, np.full(2 * m, np.inf)])
    return solve_lp_arrays(c1, A1, sf.row_lo, sf.row_hi, lb1, ub1, opts)


def farkas_certificate(sf: StandardForm, opts: ScipyOptions | None = None) -> np.ndarray | None:
    """Signed row multipliers proving ``sf``'s rows and bounds infeasible, or ``None``.

    They are the multipliers of the phase-one LP ``min 1.(p + q)`` subject to
    ``lo <= A z + p - q <= hi``, ``lb <= z <= ub``, ``p, q >= 0``: when its value is positive,
    its Lagrangian dual value (that of the Farkas check in ``kkt.check_farkas``) is too.
    """
    opts = opts or ScipyOptions()
    if sf.m == 0:
        return None
    res, y = solve_phase_one(sf, opts)
    scale = 1.0 + max(float(np.abs(sf.row_lo[np.isfinite(sf.row_lo)]).max(initial=0)), 1.0)
    if y is None or res.status != 0 or res.fun <= 1e-9 * scale:
        return None
    return y


def unbounded_ray(sf: StandardForm, opts: ScipyOptions | None = None) -> np.ndarray | None:
    """A direction ``d`` (``|d| <= 1``) in the recession cone with ``c d < 0``, or ``None``."""
    opts = opts or ScipyOptions()
    lo = np.where(np.isfinite(sf.row_lo), 0.0, -np.inf)
    hi = np.where(np.isfinite(sf.row_hi), 0.0, np.inf)
    lb = np.where(np.isfinite(sf.lb), 0.0, -1.0)
    ub = np.where(np.isfinite(sf.ub), 0.0, 1.0)
    res, _ = solve_lp_arrays(sf.c, sf.A, lo, hi, lb, ub, opts)
    if res.status != 0 or res.fun >= -1e-9 * (1.0 + float(np.abs(sf.c).max(initial=0))):
        return None
    return np.asarray(res.x, dtype=float)


def solve_lp(sf: StandardForm, opts: ScipyOptions) -> RawResult:
    """An LP by ``linprog`` (an infeasible or unbounded claim is settled by ``rays.settle``)."""
    res, y = solve_lp_arrays(sf.c, sf.A, sf.row_lo, sf.row_hi, sf.lb, sf.ub, opts)
    raw = _lp_raw(res, y)
    raw.info = {"method": opts.method if opts.method in LP_METHODS else "highs"}
    return raw


def solve_milp(sf: StandardForm, opts: ScipyOptions) -> RawResult:
    """A MILP by ``milp`` (HiGHS); its dual bound, when finite, is the bound."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    cons = [LinearConstraint(sf.A, sf.row_lo, sf.row_hi)] if sf.m else []
    options = _highs_options(opts)
    options.pop("primal_feasibility_tolerance")
    options.pop("dual_feasibility_tolerance")
    options["mip_rel_gap"] = opts.mip_rel_gap
    res = milp(
        sf.c,
        integrality=sf.integrality.astype(int),
        bounds=Bounds(sf.lb, sf.ub),
        constraints=cons,
        options=options,
    )
    status, term = _scipy_status(res)
    raw = RawResult(status, term, message=f"scipy milp: {res.message}", info={"method": "milp"})
    if status in NO_POINT:
        return raw
    if res.x is not None:
        raw.x = np.asarray(res.x, dtype=float)
        if status == Status.NO_SOLUTION:
            raw.status = Status.FEASIBLE
    bound = getattr(res, "mip_dual_bound", None)
    if bound is not None and math.isfinite(float(bound)):
        raw.bound = sf.sense * (float(bound) + sf.offset)
    raw.iterations = int(getattr(res, "mip_node_count", 0) or 0)
    return raw
