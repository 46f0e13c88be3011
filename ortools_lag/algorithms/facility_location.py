r"""Uncapacitated facility location: Lagrangian relaxation of the assignment rows.

With ``m`` facilities (opening cost :math:`f_i`) and ``n`` customers (cost :math:`c_{ij}` of
serving customer ``j`` from facility ``i``):

.. math::

    \min \sum_i f_i y_i + \sum_{i,j} c_{ij} x_{ij} \quad\text{s.t.}\quad
    \sum_i x_{ij} = 1 \;(j = 1..n), \quad x_{ij} \le y_i, \quad x, y \in \{0, 1\}.

The assignment rows are held as ``sum_i x_ij - 1 == 0`` with free multipliers
:math:`\lambda_j`. Relaxing them leaves one closed-form problem per facility:

.. math::

    L(\lambda) = -\sum_j \lambda_j + \sum_i \min\Big(0,\;
        f_i + \sum_j \min(0, c_{ij} + \lambda_j)\Big),

open ``i`` when the bracket is negative and then serve from it every ``j`` with
:math:`c_{ij} + \lambda_j < 0`. The subgradient is :math:`g_j = \sum_i x_{ij} - 1`.
:math:`v_j = -\lambda_j` is the price customer ``j`` pays in the dual (Erlenkotter's DUALOC
variable): the most it is worth to serve ``j``; at an optimum :math:`v_j` lies between the
cost from ``j``'s serving facility and the cost from its second choice. :math:`\max L` equals
the LP relaxation's value (the relaxed problem has the integrality property).

:func:`solve_facility_location` maximises ``L`` by subgradient steps on :math:`v`
(Polyak target: the best solution's cost, halving the step factor when the bound stalls);
:func:`open_close_swap` is the heuristic: open the facilities the relaxation opens, serve each
customer from its cheapest open facility, then apply the best open, close or swap move until
none helps.

>>> import numpy as np
>>> f = np.array([3.0, 3.0])
>>> c = np.array([[0.0, 1.0, 5.0], [5.0, 1.0, 0.0]])
>>> res = solve_facility_location(f, c)
>>> res.open.tolist(), res.objective, round(res.bound, 6)
([True, True], 7.0, 7.0)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ortools_lag.algorithms.progress import tick
from ortools_lag.errors import ModelError

__all__ = [
    "UFLRelaxation",
    "UFLResult",
    "assignment_cost",
    "lagrangian_oracle",
    "open_close_swap",
    "solve_facility_location",
]


@dataclass(frozen=True)
class UFLRelaxation:
    """The Lagrangian subproblem's answer at ``lam``.

    Attributes
    ----------
    value
        ``L(lam)``, a lower bound on the optimal cost.
    open
        ``(m,)`` bool ``y``: the facilities whose bracket is negative.
    x
        ``(m, n)`` bool assignment of the relaxed problem.
    subgradient
        ``(n,)`` ``sum_i x_ij - 1``.
    facility_terms
        ``(m,)`` ``f_i + sum_j min(0, c_ij + lam_j)``.
    """

    value: float
    open: np.ndarray
    x: np.ndarray
    subgradient: np.ndarray
    facility_terms: np.ndarray


@dataclass(frozen=True)
class UFLResult:
    """Result of :func:`solve_facility_location`.

    Attributes
    ----------
    bound
        The best ``L(multipliers)`` found.
    multipliers
        ``(n,)`` ``lam`` of the assignment rows ``sum_i x_ij - 1 == 0`` (``-lam`` are the
        customers' prices).
    open
        ``(m,)`` bool facilities open in the best solution.
    assignment
        ``(n,)`` serving facility of each customer.
    objective
        Its cost.
    gap
        ``(objective - bound) / |objective|``.
    iterations
        Lagrangian subproblems solved.
    history
        Per iteration: ``value``, ``best_bound``, ``best_primal``, ``step`` arrays.
    seconds
        Wall-clock time.
    """

    bound: float
    multipliers: np.ndarray
    open: np.ndarray
    assignment: np.ndarray
    objective: float
    gap: float
    iterations: int
    history: dict[str, np.ndarray]
    seconds: float


def _check(fixed: np.ndarray, costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(fixed, dtype=np.float64)
    c = np.asarray(costs, dtype=np.float64)
    if c.ndim != 2 or f.ndim != 1 or c.shape[0] != f.size:
        raise ModelError(f"fixed costs {f.shape} and costs {c.shape} must be (m,) and (m, n)")
    if c.shape[0] == 0 or c.shape[1] == 0:
        raise ModelError("need at least one facility and one customer")
    if not (np.isfinite(f).all() and np.isfinite(c).all()):
        raise ModelError("costs must be finite")
    return f, c


def lagrangian_oracle(fixed: np.ndarray, costs: np.ndarray, lam: np.ndarray) -> UFLRelaxation:
    """Solve the relaxed problem at ``lam`` (closed form per facility).

    Parameters
    ----------
    fixed
        ``(m,)`` opening costs.
    costs
        ``(m, n)`` service costs.
    lam
        ``(n,)`` multipliers of ``sum_i x_ij - 1 == 0``.

    Returns
    -------
    UFLRelaxation

    Examples
    --------
    >>> r = lagrangian_oracle(np.array([1.0]), np.array([[2.0, 3.0]]), np.array([-4.0, -4.0]))
    >>> r.value, r.open.tolist(), r.subgradient.tolist()
    (6.0, [True], [0.0, 0.0])
    """
    f = np.asarray(fixed, dtype=np.float64)
    red = np.asarray(costs, dtype=np.float64) + np.asarray(lam, dtype=np.float64)[None, :]
    neg = np.minimum(red, 0.0)
    terms = f + neg.sum(axis=1)
    y = terms < 0
    x = (red < 0) & y[:, None]
    value = float(np.minimum(terms, 0.0).sum() - np.sum(lam))
    return UFLRelaxation(value, y, x, x.sum(axis=0) - 1.0, terms)


def assignment_cost(fixed: np.ndarray, costs: np.ndarray, is_open: np.ndarray) -> float:
    """Cost of opening ``is_open`` and serving every customer from its cheapest open facility.

    Examples
    --------
    >>> assignment_cost(np.array([1.0, 2.0]), np.array([[1.0, 5.0], [4.0, 1.0]]), [True, True])
    5.0
    """
    o = np.asarray(is_open, dtype=bool)
    if not o.any():
        return float("inf")
    c = np.asarray(costs, dtype=np.float64)
    return float(np.asarray(fixed, dtype=np.float64)[o].sum() + c[o].min(axis=0).sum())


def _best_two(c: np.ndarray, o: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per customer: cheapest open facility, its cost, and the second cheapest open cost."""
    masked = np.where(o[:, None], c, np.inf)
    first = masked.argmin(axis=0)
    cols = np.arange(c.shape[1])
    d1 = masked[first, cols]
    masked[first, cols] = np.inf
    return first, d1, masked.min(axis=0)


def _best_move(f: np.ndarray, c: np.ndarray, o: np.ndarray) -> tuple[float, int, int]:
    """Best open / close / swap move: (delta, close, open), ``-1`` where none."""
    first, d1, d2 = _best_two(c, o)
    opened, closed = np.flatnonzero(o), np.flatnonzero(~o)
    best = (0.0, -1, -1)
    if closed.size:  # open k
        gain = f[closed] + np.minimum(c[closed] - d1, 0.0).sum(axis=1)
        k = int(np.argmin(gain))
        best = min(best, (float(gain[k]), -1, int(closed[k])))
    if opened.size > 1:  # close i
        loss = -f[opened] + np.where(first == opened[:, None], d2 - d1, 0.0).sum(axis=1)
        k = int(np.argmin(loss))
        best = min(best, (float(loss[k]), int(opened[k]), -1))
    if closed.size and opened.size:  # close i, open k
        base = np.where(first == opened[:, None], d2, d1)  # (|S|, n) cost without i
        new = np.minimum(base[:, None, :], c[closed][None, :, :]).sum(axis=2)
        delta = new - d1.sum() + f[closed][None, :] - f[opened][:, None]
        i, k = (int(v) for v in np.unravel_index(int(np.argmin(delta)), delta.shape))
        best = min(best, (float(delta[i, k]), int(opened[i]), int(closed[k])))
    return best


def open_close_swap(
    fixed: np.ndarray, costs: np.ndarray, is_open: np.ndarray, *, max_moves: int | None = None
) -> tuple[np.ndarray, float]:
    """Local search from ``is_open``: apply the best open/close/swap move while it helps.

    Each pass evaluates every move at once (the swaps as an ``(open, closed, n)`` array).

    Parameters
    ----------
    fixed
        ``(m,)`` opening costs.
    costs
        ``(m, n)`` service costs.
    is_open
        ``(m,)`` bool start (if none is open, the facility of least total cost is opened).
    max_moves
        Most moves (default ``10 m``).

    Returns
    -------
    tuple
        ``(open, cost)``: the local optimum and its cost.

    Examples
    --------
    >>> f = np.array([1.0, 1.0, 10.0])
    >>> c = np.array([[0.0, 9.0], [9.0, 0.0], [1.0, 1.0]])
    >>> o, cost = open_close_swap(f, c, np.array([False, False, True]))
    >>> o.tolist(), cost
    ([True, True, False], 2.0)
    """
    f, c = _check(fixed, costs)
    o = np.array(is_open, dtype=bool)
    if not o.any():
        o[int(np.argmin(f + c.sum(axis=1)))] = True
    scale = max(1.0, float(np.abs(c).max()), float(np.abs(f).max()))
    for _ in range(10 * f.size if max_moves is None else max_moves):
        delta, close, open_ = _best_move(f, c, o)
        if delta >= -1e-12 * scale:
            break
        if close >= 0:
            o[close] = False
        if open_ >= 0:
            o[open_] = True
    return o, assignment_cost(f, c, o)


@dataclass
class _Track:
    """Mutable bookkeeping of one run."""

    best: float
    best_lam: np.ndarray
    open: np.ndarray
    objective: float
    values: list[float]
    bests: list[float]
    primals: list[float]
    steps: list[float]
    violations: list[float] = field(default_factory=list)


def _heuristic(f: np.ndarray, c: np.ndarray, relax: UFLRelaxation, track: _Track) -> None:
    """Open what the relaxation opens, improve by open/close/swap, keep when cheaper."""
    if track.open.size and np.array_equal(relax.open, track.open):
        return
    o, cost = open_close_swap(f, c, relax.open)
    if cost < track.objective:
        track.open, track.objective = o, cost


def solve_facility_location(
    fixed: np.ndarray,
    costs: np.ndarray,
    *,
    max_iter: int = 5000,
    alpha0: float = 2.0,
    alpha_min: float = 1e-6,
    patience: int = 20,
    heuristic_every: int = 10,
    gap_tol: float = 1e-9,
    lam0: np.ndarray | None = None,
    time_limit: float | None = None,
) -> UFLResult:
    """Lagrangian solve of an uncapacitated facility-location problem.

    Subgradient ascent on the assignment multipliers with the Polyak step
    ``t = alpha (Z - L(lam)) / |g|^2`` (``Z``: the best solution's cost), ``alpha`` halved
    after ``patience`` steps without a better bound; the heuristic :func:`open_close_swap`
    runs from the relaxation's open set every ``heuristic_every`` steps and whenever the bound
    improves. It stops when the relative gap falls to ``gap_tol`` (optimality proven), when
    ``alpha < alpha_min``, or after ``max_iter`` steps.

    Parameters
    ----------
    fixed
        ``(m,)`` opening costs.
    costs
        ``(m, n)`` service costs.
    max_iter, alpha0, alpha_min, patience, heuristic_every, gap_tol
        See above.
    lam0
        Start multipliers (default ``-min_i c_ij``: each customer priced at its cheapest
        service cost, where ``L`` is the sum of those costs).
    time_limit
        Wall-clock seconds (checked after every subproblem).

    Returns
    -------
    UFLResult

    Examples
    --------
    >>> f = np.array([4.0, 4.0, 4.0])
    >>> c = np.array([[0.0, 2.0, 6.0, 6.0], [6.0, 2.0, 0.0, 2.0], [6.0, 6.0, 2.0, 0.0]])
    >>> res = solve_facility_location(f, c)
    >>> res.objective, res.gap <= 1e-9
    (12.0, True)
    """
    start = time.perf_counter()
    f, c = _check(fixed, costs)
    lam = -c.min(axis=0) if lam0 is None else np.array(lam0, dtype=np.float64)
    track = _Track(-np.inf, lam.copy(), np.zeros(0, bool), np.inf, [], [], [], [])
    alpha, since = alpha0, 0
    for it in range(max_iter):
        relax = lagrangian_oracle(f, c, lam)
        improved = relax.value > track.best
        if improved:
            track.best, track.best_lam = relax.value, lam.copy()
        since = 0 if improved else since + 1
        if since >= patience:
            alpha, since = alpha / 2.0, 0
        if improved or it % heuristic_every == 0:
            _heuristic(f, c, relax, track)
        g = relax.subgradient
        norm = float(g @ g)
        step = 0.0 if norm == 0 else alpha * (track.objective - relax.value) / norm
        track.values.append(relax.value)
        track.bests.append(track.best)
        track.primals.append(track.objective)
        track.steps.append(step)
        track.violations.append(float(np.sqrt(norm)))  # assignment rows: equalities
        tick(len(track.values), track.best, track.objective)
        gap = (track.objective - track.best) / max(abs(track.objective), 1e-300)
        if gap <= gap_tol or alpha < alpha_min or norm == 0:
            break
        if time_limit is not None and time.perf_counter() - start >= time_limit:
            break
        lam = lam + step * g
    assignment = np.where(track.open[:, None], c, np.inf).argmin(axis=0)
    return UFLResult(
        bound=track.best,
        multipliers=track.best_lam,
        open=track.open,
        assignment=assignment,
        objective=track.objective,
        gap=max(0.0, (track.objective - track.best) / max(abs(track.objective), 1e-300)),
        iterations=len(track.values),
        history={
            "value": np.asarray(track.values),
            "best_bound": np.asarray(track.bests),
            "best_primal": np.asarray(track.primals),
            "step": np.asarray(track.steps),
            "violation": np.asarray(track.violations),
        },
        seconds=time.perf_counter() - start,
    )
