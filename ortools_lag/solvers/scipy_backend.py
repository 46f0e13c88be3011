"""scipy backend: LP through ``linprog`` (HiGHS), MILP through ``milp``, NLP through ``minimize``.

LP. ``linprog`` takes ``A_ub z <= b_ub`` and ``A_eq z == b_eq``; a row ``lo <= a z <= hi`` becomes
an equality (``lo == hi``), an upper row ``a z <= hi`` and a lower row ``-a z <= -lo``. scipy's
``marginals`` are ``d f / d b`` (``<= 0`` on a binding ``<=`` row), so the signed row multiplier
of the project (positive when the upper side binds) is ``y = -marginal_upper + marginal_lower``
and ``y = -marginal`` on an equality.

NLP (SLSQP or trust-constr, the ``method`` option) sees the model only through the expression
protocol (``value``, ``jacobian``, ``hessian`` when present) of the objective and of the stacked
group bodies ``lo <= body(z) <= hi`` (:class:`ModelFunctions`), so nonlinear expressions plug in
unchanged; one gives its Hessian as ``hessian(w, n, z)``, else trust-constr uses BFGS.

- SLSQP's multipliers belong to ``L = f - mu . g`` with ``g >= 0`` rows ``hi - body`` and
  ``body - lo`` and ``g == 0`` rows ``body - lo``: ``y = mu_upper - mu_lower``, ``y = -mu``
  on equalities.
- trust-constr's ``v`` belongs to ``grad f + J^T v = 0``: it is already ``y``.
- For ``min x + y s.t. x^2 + y^2 == 1`` SLSQP reports -0.7071 and trust-constr +0.7071; the
  multiplier is +0.7071 here (stationarity ``1 + 2 lam x = 0`` at ``x = -1/sqrt(2)``).
- Bound multipliers are the reduced costs ``r = grad f + J^T y``.
- A model at most quadratic has a constant Lagrangian Hessian; when it is positive semidefinite
  at the multipliers found, the KKT point minimises the Lagrangian and its value is a proven
  bound (else the bound is ``nan``: a local KKT point).

Infeasible and unbounded LPs are statuses; the certificates are computed by two small LPs
(:func:`farkas_certificate`, :func:`unbounded_ray`) and checked by ``kkt.py``.

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2, lb=None)
>>> m.minimize(x[0] + x[1]); _ = m.add("circle", (x * x).sum() == 1)
>>> sol = solve(m, "scipy", method="slsqp")
>>> sol.x["x"].round(6).tolist(), round(float(sol.multipliers["circle"]), 6)
([-0.707107, -0.707107], 0.707107)
"""

from __future__ import annotations

import importlib.util
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.sparse as sp
from pydantic import Field

from .. import kkt
from ..errors import ModelError, NotSupportedError
from ..model import Model, StandardForm, to_standard_form
from ..result import KKTReport, Solution, Status, Termination
from .backend import RawResult, finish
from .base import Solver, SolverOptions
from .nlp_functions import ModelFunctions, has_hessian, lagrangian_is_convex, start_point

if TYPE_CHECKING:
    from ..problem import Problem

__all__ = [
    "ModelFunctions",
    "ScipyOptions",
    "ScipySolver",
    "certify_infeasible_or_unbounded",
    "estimate_multipliers",
    "farkas_certificate",
    "has_hessian",
    "lagrangian_is_convex",
    "nlp_solution",
    "solve_lp_arrays",
    "start_point",
    "unbounded_ray",
]

log = logging.getLogger(__name__)

LP_METHODS = ("highs", "highs-ds", "highs-ipm")
NLP_METHODS = ("slsqp", "trust-constr")


class ScipyOptions(SolverOptions):
    """Options of the scipy backend; the NLP tolerances are pinned tight by default.

    ``method``: ``"auto"`` (``linprog``/``milp`` for linear models, else SLSQP), a ``linprog``
    HiGHS method, or an NLP method (also usable on an LP). ``x0`` (values by variable name) or a
    seeded point (``seed``, ``start_scale``) starts the NLP methods, which stop when an iterate
    leaves ``|z|_inf <= divergence`` (an unbounded model). trust-constr stops on
    ``xtol`` by default (``gtol = 0``): its ``gtol`` test ignores the barrier term and stops
    interior points ~1e-5 away from the optimum of an inequality-constrained problem.
    """

    method: Literal["auto", "highs", "highs-ds", "highs-ipm", "slsqp", "trust-constr"] = "auto"
    presolve: bool = True
    mip_rel_gap: float = Field(default=1e-6, ge=0)
    primal_feasibility_tolerance: float = Field(default=1e-9, gt=0)
    dual_feasibility_tolerance: float = Field(default=1e-9, gt=0)
    maxiter: int = Field(default=1000, gt=0)
    divergence: float = Field(default=1e10, gt=0)
    ftol: float = Field(default=1e-10, gt=0)
    gtol: float = Field(default=0.0, ge=0)
    xtol: float = Field(default=1e-10, gt=0)
    barrier_tol: float = Field(default=1e-12, gt=0)
    x0: dict[str, Any] | None = None
    seed: int = 0
    start_scale: float = Field(default=0.1, ge=0)


# -- the model as functions of the global vector (expression protocol only) -----------------


_LP_STATUS: dict[int, tuple[Status, Termination]] = {
    0: (Status.OPTIMAL, Termination.CONVERGED),
    1: (Status.NO_SOLUTION, Termination.ITERATION_LIMIT),
    2: (Status.INFEASIBLE, Termination.CONVERGED),
    3: (Status.UNBOUNDED, Termination.CONVERGED),
    4: (Status.NO_SOLUTION, Termination.NUMERICAL_ERROR),
}


_NO_POINT = (Status.INFEASIBLE, Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED)


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

    eq = np.isfinite(lo) & (lo == hi)
    up = np.flatnonzero(np.isfinite(hi) & ~eq)
    dn = np.flatnonzero(np.isfinite(lo) & ~eq)
    ie = np.flatnonzero(eq)
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
    if res.x is not None and status not in _NO_POINT:
        raw.x = np.asarray(res.x, dtype=float)
        raw.y = y
        if status == Status.NO_SOLUTION:
            raw.status = Status.FEASIBLE
    return raw


def farkas_certificate(sf: StandardForm, opts: ScipyOptions | None = None) -> np.ndarray | None:
    """Signed row multipliers proving ``sf``'s rows and bounds infeasible, or ``None``.

    They are the multipliers of the phase-one LP ``min 1.(p + q)`` subject to
    ``lo <= A z + p - q <= hi``, ``lb <= z <= ub``, ``p, q >= 0``: when its value is positive,
    its Lagrangian dual value (that of the Farkas check in ``kkt.check_farkas``) is too.
    """
    opts = opts or ScipyOptions()
    m, n = sf.m, sf.n
    if m == 0:
        return None
    eye = sp.identity(m, format="csr")
    A1 = sp.hstack([sf.A, eye, -eye], format="csr")
    c1 = np.concatenate([np.zeros(n), np.ones(2 * m)])
    lb1 = np.concatenate([sf.lb, np.zeros(2 * m)])
    ub1 = np.concatenate([sf.ub, np.full(2 * m, np.inf)])
    res, y = solve_lp_arrays(c1, A1, sf.row_lo, sf.row_hi, lb1, ub1, opts)
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


def certify_infeasible_or_unbounded(raw: RawResult, sf: StandardForm) -> RawResult:
    """Settle an infeasible/unbounded claim by computing a Farkas vector, else a ray."""
    lp = replace(sf, integrality=np.zeros(sf.n, dtype=bool), Q=None)
    farkas = farkas_certificate(lp)
    if farkas is not None:
        raw.status, raw.farkas = Status.INFEASIBLE, farkas
        return raw
    ray = unbounded_ray(lp) if sf.Q is None else None
    if ray is not None:
        raw.status, raw.ray = Status.UNBOUNDED, ray
    return raw


def _solve_lp(sf: StandardForm, opts: ScipyOptions) -> RawResult:
    res, y = solve_lp_arrays(sf.c, sf.A, sf.row_lo, sf.row_hi, sf.lb, sf.ub, opts)
    raw = _lp_raw(res, y)
    raw.info = {"method": opts.method if opts.method in LP_METHODS else "highs"}
    if raw.status in (Status.INFEASIBLE, Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED):
        raw = certify_infeasible_or_unbounded(raw, sf)
    return raw


def _solve_milp(sf: StandardForm, opts: ScipyOptions) -> RawResult:
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
    if status in (Status.INFEASIBLE, Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED):
        return certify_infeasible_or_unbounded(raw, sf)
    if res.x is not None:
        raw.x = np.asarray(res.x, dtype=float)
        if status == Status.NO_SOLUTION:
            raw.status = Status.FEASIBLE
    bound = getattr(res, "mip_dual_bound", None)
    if bound is not None and math.isfinite(float(bound)):
        raw.bound = sf.sense * (float(bound) + sf.offset)
    raw.iterations = int(getattr(res, "mip_node_count", 0) or 0)
    return raw


# -- NLP through minimize ---------------------------------------------------------------------


class _Stop(Exception):
    """Raised by the guarded objective: the time limit passed or the iterates diverged."""

    def __init__(self, z: np.ndarray, term: Termination, why: str) -> None:
        super().__init__(why)
        self.z, self.term, self.why = z, term, why


def _guarded(fun: Any, opts: ScipyOptions) -> Any:
    """Wrap the objective: stop at the time limit, or when ``|z|_inf > opts.divergence``."""
    deadline = time.perf_counter() + opts.time_limit if opts.time_limit else math.inf

    def wrapped(z: np.ndarray) -> Any:
        if time.perf_counter() > deadline:
            raise _Stop(np.array(z, dtype=float), Termination.TIME_LIMIT, "time limit reached")
        if np.abs(z).max(initial=0.0) > opts.divergence:
            why = f"iterates diverged (|z| > {opts.divergence:g})"
            raise _Stop(np.array(z, dtype=float), Termination.NUMERICAL_ERROR, why)
        return fun(z)

    return wrapped


def _row_sets(fn: ModelFunctions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    eq = np.isfinite(fn.lo) & (fn.lo == fn.hi)
    ie = np.flatnonzero(eq)
    up = np.flatnonzero(np.isfinite(fn.hi) & ~eq)
    dn = np.flatnonzero(np.isfinite(fn.lo) & ~eq)
    return ie, up, dn


def _bounds(model: Model) -> Any:
    from scipy.optimize import Bounds

    lb, ub = model.lower_bounds(), model.upper_bounds()
    return Bounds(lb, ub) if (np.isfinite(lb).any() or np.isfinite(ub).any()) else None


def _slsqp(fn: ModelFunctions, z0: np.ndarray, opts: ScipyOptions) -> tuple[Any, np.ndarray | None]:
    from scipy.optimize import minimize

    lo, hi = fn.lo, fn.hi
    ie, up, dn = _row_sets(fn)
    cons: list[dict[str, Any]] = []
    if ie.size:
        cons.append(
            {
                "type": "eq",
                "fun": lambda z: fn.rows(z)[ie] - lo[ie],
                "jac": lambda z: fn.rows_jac(z)[ie].toarray(),
            }
        )
    if up.size + dn.size:
        cons.append(
            {
                "type": "ineq",
                "fun": lambda z: np.concatenate([hi[up] - fn.rows(z)[up], fn.rows(z)[dn] - lo[dn]]),
                "jac": lambda z: sp.vstack([-fn.rows_jac(z)[up], fn.rows_jac(z)[dn]]).toarray(),
            }
        )
    res = minimize(
        _guarded(fn.f, opts),
        z0,
        jac=fn.grad,
        method="SLSQP",
        bounds=_bounds(fn.model),
        constraints=cons,
        options={"ftol": opts.ftol, "maxiter": opts.maxiter, "disp": False},
    )
    mult = getattr(res, "multipliers", None)
    if mult is None:
        return res, None
    mult = np.asarray(mult, dtype=float)
    y = np.zeros(fn.m)
    y[ie] = -mult[: ie.size]
    mu = mult[ie.size :]
    y[up] += mu[: up.size]
    y[dn] -= mu[up.size :]
    return res, y


def _trust_constr(fn: ModelFunctions, z0: np.ndarray, opts: ScipyOptions) -> tuple[Any, np.ndarray]:
    from scipy.optimize import BFGS, NonlinearConstraint, minimize

    hess: Any = fn.hess if has_hessian(fn.model.objective) else BFGS()
    cons = []
    if fn.m:
        rows_ok = all(has_hessian(g.body) for g in fn.model.groups.values())
        rhess: Any = fn.rows_hess if rows_ok else BFGS()
        cons.append(NonlinearConstraint(fn.rows, fn.lo, fn.hi, jac=fn.rows_jac, hess=rhess))
    res = minimize(
        _guarded(fn.f, opts),
        z0,
        jac=fn.grad,
        hess=hess,
        method="trust-constr",
        bounds=_bounds(fn.model),
        constraints=cons,
        options={
            "gtol": opts.gtol,
            "xtol": opts.xtol,
            "barrier_tol": opts.barrier_tol,
            "maxiter": opts.maxiter,
            "verbose": 0,
        },
    )
    y = np.asarray(res.v[0], dtype=float) if fn.m else np.zeros(0)
    return res, y


def estimate_multipliers(fn: ModelFunctions, z: np.ndarray, active_tol: float = 1e-7) -> np.ndarray:
    """Signed row multipliers by sign-constrained least squares on stationarity at ``z``.

    Rows and bounds are active within ``active_tol`` (relative); the multipliers of inactive
    rows are zero. Used when a method reports none (scipy < 1.16's SLSQP) or to polish them.
    """
    from scipy.optimize import lsq_linear

    model = fn.model
    vals, J, g = fn.rows(z), fn.rows_jac(z), fn.grad(z)
    lb, ub = model.lower_bounds(), model.upper_bounds()
    near = lambda a, b: np.isfinite(b) & (np.abs(a - b) <= active_tol * (1 + np.abs(b)))  # noqa: E731
    at_hi, at_lo = near(vals, fn.hi), near(vals, fn.lo)
    rows = np.flatnonzero(at_hi | at_lo)
    cl, cu = near(z, lb), near(z, ub)
    cols = np.flatnonzero(cl | cu)
    M = sp.hstack([J[rows].T, -sp.identity(fn.n, format="csr")[:, cols]], format="csr")
    lo_b = np.concatenate([np.where(at_lo[rows], -np.inf, 0.0), np.where(cu[cols], -np.inf, 0.0)])
    hi_b = np.concatenate([np.where(at_hi[rows], np.inf, 0.0), np.where(cl[cols], np.inf, 0.0)])
    y = np.zeros(fn.m)
    if M.shape[1] == 0:
        return y
    res = lsq_linear(M, -g, bounds=(lo_b, hi_b), lsmr_tol="auto", tol=1e-14)
    y[rows] = res.x[: rows.size]
    return y


_SLSQP_TERM = {0: Termination.CONVERGED, 9: Termination.ITERATION_LIMIT}
_TRUST_TERM = {0: Termination.ITERATION_LIMIT, 1: Termination.CONVERGED, 2: Termination.CONVERGED}


def _run_nlp(
    fn: ModelFunctions, z0: np.ndarray, opts: ScipyOptions, method: str
) -> tuple[np.ndarray, np.ndarray | None, Termination, str, int]:
    """Run one NLP method; returns the point, ``y``, why it stopped, its message, iterations."""
    try:
        if method == "slsqp":
            res, y = _slsqp(fn, z0, opts)
            term = _SLSQP_TERM.get(int(res.status), Termination.NUMERICAL_ERROR)
        else:
            res, y = _trust_constr(fn, z0, opts)
            term = _TRUST_TERM.get(int(res.status), Termination.UNKNOWN)
    except _Stop as stop:
        return stop.z, None, stop.term, f"scipy {method}: {stop.why}", 0
    its = int(getattr(res, "nit", 0) or 0)
    return np.asarray(res.x, dtype=float), y, term, f"scipy {method}: {res.message}", its


def _certify_nlp(
    fn: ModelFunctions, z: np.ndarray, y: np.ndarray | None, tol: float
) -> tuple[np.ndarray, KKTReport, str]:
    """Certify the reported multipliers; fall back to (or polish with) a least-squares estimate."""
    source = "solver"
    if y is None or not np.all(np.isfinite(y)):
        y, source = estimate_multipliers(fn, z), "least-squares estimate"
    rep = kkt.certify(fn.model, z, fn.unpack_rows(y), tol=tol)
    if not rep.certified and rep.primal_residual <= tol and source == "solver":
        y2 = estimate_multipliers(fn, z)
        rep2 = kkt.certify(fn.model, z, fn.unpack_rows(y2), tol=tol)
        if rep2.certified:
            y, rep, source = y2, rep2, "least-squares estimate (the solver's did not certify)"
    return y, rep, source


def nlp_solution(
    fn: ModelFunctions,
    z: np.ndarray,
    y: np.ndarray | None,
    *,
    term: Termination,
    message: str,
    solver: str,
    tol: float,
    t0: float,
    iterations: int = 0,
    info: Mapping[str, Any] | None = None,
) -> Solution:
    """A certified Solution from a point and signed row multipliers of any NLP method.

    The status is ``optimal`` when the method converged, ``kkt.certify`` accepts the point and
    multipliers, and the Lagrangian is convex there (so its value is a proven bound). A certified
    KKT point without that proof (a local point of a non-convex model, such as the top of a
    circle) is ``locally_optimal`` and its bound is ``nan``.
    """
    model = fn.model
    y, rep, source = _certify_nlp(fn, z, y, tol)
    lam = fn.unpack_rows(y)
    convex = rep.certified and lagrangian_is_convex(model, fn, z, y)
    bound = rep.dual_objective if convex else math.nan
    f = model.objective_value(z)
    if term == Termination.CONVERGED and rep.certified:
        status = Status.OPTIMAL if convex else Status.LOCALLY_OPTIMAL
    elif rep.primal_residual <= tol and not rep.integrality > tol:
        status = Status.FEASIBLE
    else:
        status = Status.NO_SOLUTION
    if not rep.certified:
        message = f"{message}; not certified: {'; '.join(rep.notes)}"
    return Solution(
        status=status,
        termination=term,
        objective=f,
        bound=bound,
        gap=model.sense_sign * (f - bound) if math.isfinite(bound) else math.nan,
        x=model.split(z),
        multipliers=lam,
        reduced_costs=model.split(fn.reduced_costs(z, y)),
        shadow_prices=kkt.shadow_prices(model, lam),
        kkt=rep,
        solver=solver,
        iterations=iterations,
        seconds=time.perf_counter() - t0,
        message=message,
        info={**(info or {}), "multipliers": source, "convex_lagrangian": convex},
    )


def _solve_nlp(model: Model, opts: ScipyOptions, method: str, t0: float) -> Solution:
    """Run an NLP method. Affine rows are first checked by the phase-one LP (an infeasible
    model is proved so, not searched), and a linear objective that diverged gets its ray."""
    affine = model.has_linear_constraints and model.degree <= 2
    sf = to_standard_form(model) if affine else None
    if sf is not None:
        farkas = farkas_certificate(replace(sf, integrality=np.zeros(sf.n, dtype=bool)), opts)
        if farkas is not None:
            raw = RawResult(Status.INFEASIBLE, Termination.CONVERGED, farkas=farkas)
            raw.message = "scipy: the phase-one LP proves the constraints infeasible"
            secs = time.perf_counter() - t0
            return finish(model, sf, raw, solver="scipy", seconds=secs, tol=opts.tolerance)
    fn = ModelFunctions(model)
    z0 = start_point(model, opts.x0, opts.seed, opts.start_scale)
    z, y, term, message, its = _run_nlp(fn, z0, opts, method)
    info = {"method": method}
    sol = nlp_solution(
        fn,
        z,
        y,
        term=term,
        message=message,
        solver="scipy",
        tol=opts.tolerance,
        t0=t0,
        iterations=its,
        info=info,
    )
    if sol.status != Status.OPTIMAL and sf is not None and sf.Q is None:
        ray = unbounded_ray(sf, opts)
        if ray is not None:
            raw = RawResult(Status.UNBOUNDED, term, ray=ray, iterations=its, message=message)
            secs = time.perf_counter() - t0
            return finish(model, sf, raw, solver="scipy", seconds=secs, tol=opts.tolerance)
    return sol


class ScipySolver(Solver):
    """scipy.optimize: ``linprog`` (HiGHS) for LP, ``milp`` for MILP, ``minimize`` for NLP."""

    name = "scipy"
    family = "backend"
    description = "scipy.optimize: linprog/milp (HiGHS), SLSQP and trust-constr with multipliers"
    Options = ScipyOptions

    def available(self) -> str | None:
        if importlib.util.find_spec("scipy") is None:
            return "scipy is not installed: pip install scipy"
        return None

    def check(self, problem: Problem) -> str | None:
        m = problem.model
        if m.is_integer and not m.is_linear:
            return "scipy's milp takes linear objectives and constraints only (this MILP is not)"
        return None

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        assert isinstance(options, ScipyOptions)
        t0 = time.perf_counter()
        model = problem.model
        method = options.method
        if model.is_integer:
            if method in NLP_METHODS:
                raise NotSupportedError(f"method {method!r} does not take integer variables")
            sf = to_standard_form(model)
            raw = _solve_milp(sf, options)
        elif method in NLP_METHODS or (method == "auto" and not model.is_linear):
            if model.n == 0:
                raise ModelError("the model has no variables")
            return _solve_nlp(model, options, "slsqp" if method == "auto" else method, t0)
        elif not model.is_linear:
            raise NotSupportedError(
                f"method {method!r} is a linprog method and the model is not linear "
                "(valid choices for it: auto, slsqp, trust-constr)"
            )
        else:
            sf = to_standard_form(model)
            raw = _solve_lp(sf, options)
        secs = time.perf_counter() - t0
        return finish(model, sf, raw, solver=self.name, seconds=secs, tol=options.tolerance)
