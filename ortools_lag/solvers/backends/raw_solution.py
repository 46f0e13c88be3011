"""A backend's raw result as a certified Solution, for the backends that solve any model.

cvxpy and Pyomo hand back a :class:`~ortools_lag.solvers.backend.RawResult` both for models
with a standard form (affine rows, at most quadratic objective) and for nonlinear ones;
:func:`solution_from_raw` finishes either: through the standard form (an infeasible or
unbounded claim settled by a Farkas vector or a ray first), or through the NLP certification
of :func:`~ortools_lag.solvers.backends.scipy_nlp.nlp_solution`.
"""

from __future__ import annotations

import time

from ortools_lag.model import Model, StandardForm
from ortools_lag.result import Solution
from ortools_lag.solvers.backend import RawResult, finish
from ortools_lag.solvers.backends.nlp_functions import ModelFunctions
from ortools_lag.solvers.backends.rays import NO_POINT, settle
from ortools_lag.solvers.backends.scipy_nlp import nlp_solution

__all__ = ["solution_from_raw"]


def solution_from_raw(
    model: Model, sf: StandardForm | None, raw: RawResult, *, solver: str, tol: float, t0: float
) -> Solution:
    """The certified Solution of ``raw`` (``t0``: when the solve began, for its seconds).

    With a standard form ``sf`` the result goes through :func:`~ortools_lag.solvers.backend.finish`;
    without one, a result with no point is returned as it is (status and message) and one with a
    point is certified as an NLP point with the multipliers ``raw.y``.
    """
    if sf is not None:
        if raw.status in NO_POINT:
            raw = settle(model, sf, raw, tol)
        secs = time.perf_counter() - t0
        return finish(model, sf, raw, solver=solver, seconds=secs, tol=tol)
    if raw.x is None:
        return Solution(
            status=raw.status,
            termination=raw.termination,
            solver=solver,
            message=raw.message,
            seconds=time.perf_counter() - t0,
            info=raw.info,
        )
    return nlp_solution(
        ModelFunctions(model),
        raw.x,
        raw.y,
        term=raw.termination,
        message=raw.message,
        solver=solver,
        tol=tol,
        t0=t0,
        info=raw.info,
    )
