"""``solve(model_or_problem, solver="auto", **options)``: validate once, then dispatch.

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2)
>>> m.maximize(x[0] + x[1]); _ = m.add("cap", x[0] + 2 * x[1] <= 4); _ = m.add("ub", x[0] <= 2)
>>> sol = solve(m, "highs")
>>> sol.status.value, round(sol.objective, 9), sol.multipliers["cap"].round(9).tolist()
('optimal', 3.0, 0.5)

A model with no variables has one answer whatever the solver: ``optimal``, its objective the
constant, with an empty (certified) certificate; the solver is not called (only its name and
options are checked).

>>> empty = solve(Model(), "bundle")
>>> empty.status.value, empty.objective, empty.bound, empty.kkt.certified
('optimal', 0.0, 0.0, True)
"""

from __future__ import annotations

import importlib
import math
from typing import Any

import numpy as np

from ortools_lag import kkt
from ortools_lag.errors import BackendUnavailableError, NotSupportedError
from ortools_lag.model import Model
from ortools_lag.problem import Problem, as_problem
from ortools_lag.result import Solution, Status, Termination
from ortools_lag.solvers import registry
from ortools_lag.solvers.base import parse_options

__all__ = ["AFTER", "choose_solver", "empty_solution", "solve"]

#: Analyses run after the solve on request (``solve(m, ranging=True)``), by name: like the
#: registry, ``"module:function"`` imported lazily (the analysis package sits above solvers).
AFTER: dict[str, str] = {
    "fixed_duals": "ortools_lag.analysis.fixing:with_fixed_duals",
    "ranging": "ortools_lag.analysis.sensitivity:with_ranging",
}


def choose_solver(problem: Problem) -> str:
    """The solver ``"auto"`` picks: the problem's own default, else by the model's kind."""
    if problem.default_solver is not None:
        return problem.default_solver
    m = problem.model
    if m.has_linear_constraints and m.objective.degree <= 2:
        return "highs"
    return "scipy"


def empty_solution(model: Model, solver: str) -> Solution:
    """The answer for a model with no variables: ``optimal`` at the empty point, objective and
    bound the constant, when its constant groups hold; ``infeasible`` with the violated rows'
    Farkas multipliers (checked by ``kkt.check_farkas``) when one does not."""
    z = np.zeros(0)
    f = model.objective_value(z)
    bad = {}
    for name, g in model.groups.items():
        v = np.asarray(g.body.value(z), dtype=float).reshape(g.lo.shape)
        y = np.where(v > g.hi, 1.0, np.where(v < g.lo, -1.0, 0.0))
        if y.any():
            bad[name] = (g.sign * y).reshape(g.shape)
    common: dict[str, Any] = dict(termination=Termination.CONVERGED, solver=solver)
    if bad:
        lam = {k: bad.get(k, np.zeros(g.shape)) for k, g in model.groups.items()}
        rep = kkt.check_farkas(model, lam)
        msg = f"no variables; constant groups {sorted(bad)} do not hold"
        inf = model.sense_sign * math.inf
        return Solution(Status.INFEASIBLE, objective=inf, kkt=rep, ray={"farkas": lam},
                        message=msg, **common)  # fmt: skip
    lam = {k: np.zeros(g.shape) for k, g in model.groups.items()}
    rep = kkt.certify(model, z, lam)
    return Solution(Status.OPTIMAL, objective=f, bound=f, gap=0.0, multipliers=lam, kkt=rep,
                    message="no variables: the objective is its constant", **common)  # fmt: skip


def solve(
    model_or_problem: Model | Problem,
    solver: str = "auto",
    *,
    ranging: bool = False,
    fixed_duals: bool = False,
    **options: Any,
) -> Solution:
    """Solve a model or a problem and return a certified :class:`~ortools_lag.result.Solution`.

    Parameters
    ----------
    model_or_problem
        A :class:`~ortools_lag.model.Model` or a :class:`~ortools_lag.problem.Problem`.
    solver
        A registered name (``ortools_lag.solvers.registry.names()``) or ``"auto"``.
    ranging
        Fill ``sol.ranging`` (an optimal LP's cost and right-hand-side ranging,
        :func:`ortools_lag.analysis.ranging`).
    fixed_duals
        For a MILP: the multipliers of the LP with the integer variables fixed at the
        incumbent (:func:`ortools_lag.analysis.fixed_duals`); an LP is left as it is.
    **options
        The solver's options; unknown ones are refused with the list of valid ones.

    Raises
    ------
    UnknownSolverError, OptionError, BackendUnavailableError, NotSupportedError
        Bad input; infeasible or unbounded problems are statuses, not errors.
    """
    problem = as_problem(model_or_problem)
    name = choose_solver(problem) if solver == "auto" else solver
    impl = registry.get(name)
    opts = parse_options(name, impl.Options, options)
    reason = impl.available()
    if reason is not None:
        raise BackendUnavailableError(f"solver {name!r} is not available: {reason}")
    if problem.num_vars == 0:  # a deferred model is not built to learn its size
        return empty_solution(problem.model, name)
    why = impl.check(problem)
    if why is not None:
        raise NotSupportedError(f"solver {name!r} cannot take this problem: {why}")
    sol = impl.solve(problem, opts)
    for key, wanted in (("fixed_duals", fixed_duals), ("ranging", ranging)):
        if wanted:
            module, _, func = AFTER[key].partition(":")
            sol = getattr(importlib.import_module(module), func)(problem, sol)
    return sol
