"""The scipy backend's NLPs: SLSQP and trust-constr through ``minimize``, with multipliers.

The methods see the model only through the expression protocol (``value``, ``jacobian``,
``hessian`` when present) of the objective and of the stacked group bodies
``lo <= body(z) <= hi`` (:class:`ModelFunctions`), so nonlinear expressions plug in unchanged;
one gives its Hessian as ``hessian(w, n, z)``, else trust-constr uses BFGS.

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

>>> import time
>>> from ortools_lag import Model
>>> m = Model(); x = m.var("x", 2, lb=None)
>>> m.minimize(x[0] + x[1]); _ = m.add("circle", (x * x).sum() == 1)
>>> sol = solve_nlp(m, ScipyOptions(), "trust-constr", time.perf_counter())
>>> sol.status.value, round(float(sol.multipliers["circle"]), 6)
('optimal', 0.707107)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from ortools_lag import kkt
from ortools_lag.model import Model, to_standard_form
from ortools_lag.result import KKTReport, Solution, Status, Termination
from ortools_lag.solvers.backend import RawResult, finish, signed_gap
from ortools_lag.solvers.backends.nlp_functions import (
    ModelFunctions,
    has_hessian,
    lagrangian_is_convex,
    start_point,
)
from ortools_lag.solvers.backends.rays import direction_defect, improving_direction
from ortools_lag.solvers.backends.scipy_lp import farkas_certificate, row_sides
from ortools_lag.solvers.backends.scipy_options import ScipyOptions

__all__ = ["NlpRun", "estimate_multipliers", "nlp_round_trip", "nlp_solution", "solve_nlp"]


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


def _bounds(model: Model) -> Any:
    from scipy.optimize import Bounds

    lb, ub = model.lower_bounds(), model.upper_bounds()
    return Bounds(lb, ub) if (np.isfinite(lb).any() or np.isfinite(ub).any()) else None


def _slsqp(fn: ModelFunctions, z0: np.ndarray, opts: ScipyOptions) -> tuple[Any, np.ndarray | None]:
    from scipy.optimize import minimize

    lo, hi = fn.lo, fn.hi
    ie, up, dn = row_sides(fn.lo, fn.hi)
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
        gap=signed_gap(model, f, bound),
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


def solve_nlp(
    model: Model, opts: ScipyOptions, method: str, t0: float, *, polish: bool = False
) -> Solution:
    """Run an NLP method of scipy (``"slsqp"`` or ``"trust-constr"``) through
    :func:`nlp_round_trip`.

    With ``polish`` (the ``"auto"`` method), a feasible SLSQP point that does not certify
    (SLSQP's stopping test is on the objective, not on stationarity) is polished by
    trust-constr from that point, with exact Hessians where the model gives them; the polished
    answer is kept when it certifies, else SLSQP's.
    """
    z0 = start_point(model, opts.x0, opts.seed, opts.start_scale)
    info: dict[str, Any] = {"method": method}

    def run(fn: ModelFunctions, z: np.ndarray) -> tuple[Any, ...]:
        if method == "trust-constr":
            info["hessian"] = "exact" if fn.exact_hessians else "BFGS"
        out = _run_nlp(fn, z, opts, method)
        return _polished(fn, out, opts, info) if polish and method == "slsqp" else out

    return nlp_round_trip(model, run, z0, opts, solver="scipy", t0=t0, info=info)


def _polished(
    fn: ModelFunctions, out: tuple[Any, ...], opts: ScipyOptions, info: dict[str, Any]
) -> tuple[Any, ...]:
    """SLSQP's answer, or trust-constr's from SLSQP's point when only that one certifies."""
    z, y, term, message, _ = out
    _, rep, _ = _certify_nlp(fn, z, y, opts.tolerance)
    feasible = rep.primal_residual <= opts.tolerance
    if (rep.certified and term == Termination.CONVERGED) or not feasible:
        return out
    z2, y2, term2, message2, its2 = _run_nlp(fn, z, opts, "trust-constr")
    if not _certify_nlp(fn, z2, y2, opts.tolerance)[1].certified:
        return out
    info.update(polished_by="trust-constr", hessian="exact" if fn.exact_hessians else "BFGS")
    return z2, y2, term2, f"{message}; polished: {message2}", its2


#: ``run(functions, z0) -> (point, signed row multipliers or None, termination, message,
#: iterations)``
NlpRun = Callable[[ModelFunctions, np.ndarray], tuple[Any, ...]]


def nlp_round_trip(
    model: Model,
    run: NlpRun,
    z0: np.ndarray,
    opts: ScipyOptions,
    *,
    solver: str,
    t0: float,
    info: Mapping[str, Any] | None = None,
) -> Solution:
    """The round trip of every NLP backend: run the method, then certify its answer.

    Affine rows are first checked by the phase-one LP (an infeasible model is proved so, with
    its Farkas ray, not searched); the method's point and multipliers go through
    :func:`nlp_solution`; a linear objective that did not reach a certified optimum gets its
    unbounded ray when there is one. ``opts`` serves the LPs (HiGHS through ``linprog``) and
    gives the certificate's tolerance.
    """
    sf = None
    if model.has_linear_constraints:  # the feasible set alone, whatever the objective
        rows = to_standard_form(model, objective=model.degree <= 2)
        farkas = farkas_certificate(replace(rows, integrality=np.zeros(rows.n, dtype=bool)), opts)
        if farkas is not None:
            raw = RawResult(Status.INFEASIBLE, Termination.CONVERGED, farkas=farkas)
            raw.message = f"{solver}: the phase-one LP proves the constraints infeasible"
            secs = time.perf_counter() - t0
            return finish(model, rows, raw, solver=solver, seconds=secs, tol=opts.tolerance)
        sf = rows if model.degree <= 2 else None
    fn = ModelFunctions(model)
    z, y, term, message, its = run(fn, z0)
    sol = nlp_solution(
        fn,
        z,
        y,
        term=term,
        message=message,
        solver=solver,
        tol=opts.tolerance,
        t0=t0,
        iterations=its,
        info=info,
    )
    if sol.status != Status.OPTIMAL and sf is not None:
        ray = improving_direction(sf, opts)  # Q d = 0, c d < 0: a convex QP falls along it
        if ray is not None and direction_defect(sf, ray) is None:
            raw = RawResult(Status.UNBOUNDED, term, ray=ray, iterations=its, message=message)
            secs = time.perf_counter() - t0
            return finish(model, sf, raw, solver=solver, seconds=secs, tol=opts.tolerance)
    return sol
