"""Lagrangian solves whose gap an exact method may close: certificate and history helpers.

The relaxation-classics families (``csp``, ``knapsack``, ``gap``, ``maxcut``) run their own
ascent as one solve, like every :class:`~ortools_lag.solvers.dual.lagrangian_heuristic.
LagrangianHeuristicSolver`. Some of them then close the gap exactly: the constrained shortest path
by enumerating paths in order of Lagrangian length (or a HiGHS MIP fallback), the 0-1 knapsack by
dynamic programming, small max-cut instances by enumerating every cut. The Solution's ``bound``
is then the proven optimum, above the Lagrangian value ``q(lam)`` at the reported multipliers.

:class:`ClosingSolver` keeps both honest. Its
:class:`~ortools_lag.solvers.dual.lagrangian_heuristic.Outcome` carries ``info["lagrangian_bound"]``
= ``q(lam)`` (user's sense) whenever ``bound`` was raised above it; the certificate
(:meth:`ClosingSolver.certify`) re-evaluates **that** value with the engine's
:func:`~ortools_lag.solvers.bound_certificate.certify_bound` (HiGHS on the kept constraints at the
reported multipliers, the multipliers' signs, the point's feasibility and integrality), and
``info["bound_from"]`` names the exact method behind the closed bound. ``info["infeasible"]`` (a
proof of infeasibility by the exact method) makes the status ``INFEASIBLE``. A family whose kept
part falls apart into many independent MIP blocks (one knapsack per agent) sets ``blockwise``:
``q(lam)`` is then re-evaluated by :func:`certify_by_blocks`, the engine's own
:class:`~ortools_lag.lagrangian.Lagrangian` without the family's oracle, which solves each connected
component of the kept rows by HiGHS (one MIP of ``m`` knapsacks is far slower).

:func:`trace_history` turns a :class:`~ortools_lag.algorithms.dual_bundle.DualTrace` into the
Solution's :class:`~ortools_lag.result.History` in the user's sense.

>>> import numpy as np
>>> from ortools_lag.algorithms.dual_bundle import maximize_dual
>>> def q(lam):  # min(lam, 2 - lam): the dual of the minimisation form, maximal at lam = 1
...     return min(lam[0], 2 - lam[0]), np.array([1.0 if lam[0] < 1 else -1.0])
>>> tr = maximize_dual(q, [0.0])
>>> h = trace_history(tr, sense=-1)     # a maximisation held as the minimisation of -f
>>> float(h.bound[-1])
-1.0
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ortools_lag.result import History, KKTReport, Solution, Status, Termination
from ortools_lag.solvers.bound_certificate import bound_report, sign_violation
from ortools_lag.solvers.dual.lagrangian_heuristic import (
    LagrangianHeuristicOptions,
    LagrangianHeuristicSolver,
    Outcome,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ortools_lag.algorithms.dual_bundle import DualTrace
    from ortools_lag.problem import Problem
    from ortools_lag.solvers.base import SolverOptions

__all__ = ["ClosingSolver", "certify_by_blocks", "termination_of", "trace_history"]

_TERMINATION = {
    "converged": Termination.CONVERGED,
    "stopped": Termination.GAP_LIMIT,
    "iteration_limit": Termination.ITERATION_LIMIT,
    "time_limit": Termination.TIME_LIMIT,
    "numerical_error": Termination.NUMERICAL_ERROR,
}


def termination_of(trace: DualTrace | None, closed: bool) -> Termination:
    """The Solution's termination: ``CONVERGED`` once the gap is closed, else the trace's reason.

    >>> termination_of(None, True).value
    'converged'
    """
    if closed or trace is None:
        return Termination.CONVERGED
    return _TERMINATION.get(trace.termination, Termination.UNKNOWN)


def trace_history(trace: DualTrace, sense: int = 1) -> History:
    """The history of a dual maximisation in the user's sense.

    Parameters
    ----------
    trace
        The record of :func:`~ortools_lag.algorithms.dual_bundle.maximize_dual`, whose values
        are those of the minimisation form (``q(lam)`` of ``min sense * f``).
    sense
        The model's ``sense_sign``: ``+1`` for a minimisation, ``-1`` for a maximisation (whose
        bounds are ``-q``).

    Returns
    -------
    History
        ``dual_value`` (``q`` at each point), ``bound`` (best so far), ``primal`` (best feasible
        objective so far, ``nan`` before the first), ``gap`` (``>= 0``), ``step``, ``violation``
        (the norm of the relaxed rows' violation at each point), ``seconds``.
    """
    s = float(sense)
    primal = s * np.asarray(trace.incumbents, dtype=float)
    primal = np.where(np.isfinite(primal), primal, np.nan)
    bound = s * np.asarray(trace.best_values, dtype=float)
    k = bound.size
    return History(
        iteration=np.arange(1, k + 1),
        dual_value=s * np.asarray(trace.values, dtype=float),
        bound=bound,
        primal=primal,
        gap=s * (primal - bound),
        step=np.asarray(trace.steps, dtype=float),
        violation=np.full(k, np.nan)
        if trace.violations is None
        else np.asarray(trace.violations, dtype=float),
        seconds=np.asarray(trace.seconds, dtype=float),
    )


def certify_by_blocks(
    problem: Problem,
    relax: tuple[str, ...],
    multipliers: Mapping[str, Any],
    reported_bound: float,
    *,
    x: Mapping[str, Any] | None = None,
    tol: float = 1e-6,
) -> KKTReport:
    """Re-evaluate a Lagrangian bound by the engine's block decomposition, without any oracle.

    ``q(lam)`` is the proven lower value of :meth:`~ortools_lag.lagrangian.Lagrangian.evaluate`
    (each connected component of the kept rows solved by HiGHS, a MIP block's dual bound), built
    from the model's own expressions; the checks are those of
    :func:`~ortools_lag.solvers.bound_certificate.certify_bound`: the reported bound (user's sense)
    must not be beyond ``q``, the multipliers must have their signs, and ``x`` must be feasible and
    integral.

    Examples
    --------
    >>> from ortools_lag import Model, Problem
    >>> m = Model(); x = m.var("x", 2, ub=1, domain="binary")
    >>> m.minimize(-x[0] - 2 * x[1]); _ = m.add("cap", x.sum() <= 1)
    >>> rep = certify_by_blocks(Problem(m), ("cap",), {"cap": 1.5}, -2.0, x={"x": [0, 1]})
    >>> rep.certified, round(rep.dual_objective, 9)
    (True, -2.0)
    """
    from ortools_lag.lagrangian import Lagrangian

    model = problem.model
    lag = Lagrangian(model, relax)
    notes: list[str] = []
    try:
        lam = lag.join(multipliers)
        sign = sign_violation(lag, lam, tol, notes)
        q = lag.evaluate(lam).lower
    finally:
        lag.close()
    s = model.sense_sign
    if not math.isfinite(q) or s * reported_bound > q + tol * (1.0 + abs(q)):
        notes.append(f"reported bound {reported_bound:.10g} is beyond q(lam) = {s * q:.10g}")
    return bound_report(model, q, reported_bound, sign, notes, x=x, tol=tol)


class ClosingSolver(LagrangianHeuristicSolver):
    """A family's Lagrangian solve whose bound an exact method may raise to the optimum.

    Subclasses implement :meth:`run` (returning ``info["lagrangian_bound"]`` when ``bound`` is
    not the Lagrangian value itself, and ``info["infeasible"] = True`` for a proven-infeasible
    instance) and set ``blockwise`` when the kept part splits into independent MIP blocks.
    """

    blockwise: ClassVar[bool] = False

    def certify(
        self, problem: Problem, out: Outcome, options: LagrangianHeuristicOptions
    ) -> KKTReport:
        """The engine's re-evaluation of ``q(lam)`` (not of the exact method's closed bound)."""
        lag = out.info.get("lagrangian_bound")
        reported = out.bound if lag is None or not out.multipliers else float(lag)
        if self.blockwise and options.certify != "never":
            relax = problem.relaxation(self.relaxation).relax
            return certify_by_blocks(
                problem, relax, out.multipliers, reported, x=out.x, tol=options.tolerance
            )
        return super().certify(problem, replace(out, bound=reported), options)

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        sol = super().solve(problem, options)
        if sol.info.get("infeasible"):
            return replace(
                sol,
                status=Status.INFEASIBLE,
                bound=math.inf * problem.model.sense_sign,
                message=f"{self.name}: proven infeasible by {sol.info.get('bound_from', '?')}",
            )
        return sol
