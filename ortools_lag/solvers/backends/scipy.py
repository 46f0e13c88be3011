"""scipy backend: LP through ``linprog`` (HiGHS), MILP through ``milp``, NLP through ``minimize``.

:class:`ScipySolver` dispatches: the LPs and MILPs and their infeasibility and unboundedness
certificates are in :mod:`~ortools_lag.solvers.backends.scipy_lp` (with the sign conventions of
``linprog``'s marginals), the NLPs (SLSQP, trust-constr, the signs of their multipliers) in
:mod:`~ortools_lag.solvers.backends.scipy_nlp`, the options in
:mod:`~ortools_lag.solvers.backends.scipy_options`; their public names are importable from here too.

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2, lb=None)
>>> m.minimize(x[0] + x[1]); _ = m.add("circle", (x * x).sum() == 1)
>>> sol = solve(m, "scipy", method="slsqp")
>>> sol.x["x"].round(6).tolist(), round(float(sol.multipliers["circle"]), 6)
([-0.707107, -0.707107], 0.707107)
"""

from __future__ import annotations

import importlib.util
import time
from typing import TYPE_CHECKING

from ortools_lag.errors import ModelError, NotSupportedError
from ortools_lag.model import to_standard_form
from ortools_lag.result import Solution
from ortools_lag.solvers.backend import finish
from ortools_lag.solvers.backends.nlp_functions import (
    ModelFunctions,
    has_hessian,
    lagrangian_is_convex,
    start_point,
)
from ortools_lag.solvers.backends.rays import NO_POINT, settle
from ortools_lag.solvers.backends.scipy_lp import (
    farkas_certificate,
    solve_lp,
    solve_lp_arrays,
    solve_milp,
    unbounded_ray,
)
from ortools_lag.solvers.backends.scipy_nlp import estimate_multipliers, nlp_solution, solve_nlp
from ortools_lag.solvers.backends.scipy_options import LP_METHODS, NLP_METHODS, ScipyOptions
from ortools_lag.solvers.base import Solver, SolverOptions

if TYPE_CHECKING:
    from ortools_lag.problem import Problem

__all__ = [
    "LP_METHODS",
    "NLP_METHODS",
    "ModelFunctions",
    "ScipyOptions",
    "ScipySolver",
    "estimate_multipliers",
    "farkas_certificate",
    "has_hessian",
    "lagrangian_is_convex",
    "nlp_solution",
    "settle",
    "solve_lp_arrays",
    "start_point",
    "unbounded_ray",
]


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
            raw = solve_milp(sf, options)
        elif method in NLP_METHODS or (method == "auto" and not model.is_linear):
            if model.n == 0:
                raise ModelError("the model has no variables")
            nlp = "slsqp" if method == "auto" else method
            return solve_nlp(model, options, nlp, t0, polish=method == "auto")
        elif not model.is_linear:
            raise NotSupportedError(
                f"method {method!r} is a linprog method and the model is not linear "
                "(valid choices for it: auto, slsqp, trust-constr)"
            )
        else:
            sf = to_standard_form(model)
            raw = solve_lp(sf, options)
        if raw.status in NO_POINT:
            raw = settle(model, sf, raw, options.tolerance)
        secs = time.perf_counter() - t0
        return finish(model, sf, raw, solver=self.name, seconds=secs, tol=options.tolerance)
