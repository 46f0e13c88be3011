"""Why a Lagrangian-heuristic ascent stopped, as a :class:`~ortools_lag.result.Termination`.

The problem-specific solvers built on
:class:`~ortools_lag.solvers.dual.lagrangian_heuristic.LagrangianHeuristicSolver` (``held_karp``,
``beasley``, ``ufl_lagrangian``) run their own ascent and report why it stopped the same way.

>>> ascent_termination(0.0, 10, 100).value, ascent_termination(0.5, 100, 100).value
('converged', 'iteration_limit')
"""

from __future__ import annotations

from ortools_lag.result import Termination

__all__ = ["ascent_termination"]


def ascent_termination(
    gap: float, iterations: int, max_iter: int, *, gap_tol: float = 0.0, timed_out: bool = False
) -> Termination:
    """The ascent's termination, tested in this order.

    Parameters
    ----------
    gap
        The final gap between the best point and the best bound.
    iterations, max_iter
        Iterations used and allowed.
    gap_tol
        A gap at most this closes the ascent (``CONVERGED``: optimality proven).
    timed_out
        The ascent stopped at its time limit (``TIME_LIMIT``).

    Returns
    -------
    Termination
        ``CONVERGED``, ``TIME_LIMIT``, ``ITERATION_LIMIT`` (``iterations >= max_iter``), else
        ``STALLED`` (the step fell below its minimum).
    """
    if gap <= gap_tol:
        return Termination.CONVERGED
    if timed_out:
        return Termination.TIME_LIMIT
    if iterations >= max_iter:
        return Termination.ITERATION_LIMIT
    return Termination.STALLED
