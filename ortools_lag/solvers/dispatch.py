"""``solve(model_or_problem, solver="auto", **options)``: validate once, then dispatch.

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2)
>>> m.maximize(x[0] + x[1]); _ = m.add("cap", x[0] + 2 * x[1] <= 4); _ = m.add("ub", x[0] <= 2)
>>> sol = solve(m, "highs")
>>> sol.status.value, round(sol.objective, 9), sol.multipliers["cap"].round(9).tolist()
('optimal', 3.0, 0.5)
"""

from __future__ import annotations

from typing import Any

from ortools_lag.errors import BackendUnavailableError, NotSupportedError
from ortools_lag.model import Model
from ortools_lag.problem import Problem, as_problem
from ortools_lag.result import Solution
from ortools_lag.solvers import registry
from ortools_lag.solvers.base import parse_options

__all__ = ["choose_solver", "solve"]


def choose_solver(problem: Problem) -> str:
    """The solver ``"auto"`` picks: the problem's own default, else by the model's kind."""
    if problem.default_solver is not None:
        return problem.default_solver
    m = problem.model
    if m.has_linear_constraints and m.objective.degree <= 2:
        return "highs"
    return "scipy"


def solve(model_or_problem: Model | Problem, solver: str = "auto", **options: Any) -> Solution:
    """Solve a model or a problem and return a certified :class:`~ortools_lag.result.Solution`.

    Parameters
    ----------
    model_or_problem
        A :class:`~ortools_lag.model.Model` or a :class:`~ortools_lag.problem.Problem`.
    solver
        A registered name (``ortools_lag.solvers.registry.names()``) or ``"auto"``.
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
    why = impl.check(problem)
    if why is not None:
        raise NotSupportedError(f"solver {name!r} cannot take this problem: {why}")
    return impl.solve(problem, opts)
