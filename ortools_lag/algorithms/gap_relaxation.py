"""Generalized assignment: relaxation of the assignment rows, knapsack oracle, heuristics.

Problem (``m`` agents, ``n`` jobs; the max form is the minimisation of ``-c``)::

    min  sum_ij c_ij x_ij
    s.t. sum_i x_ij = 1                 for every job j     (assignment, relaxed)
         sum_j a_ij x_ij <= b_i         for every agent i   (capacity, kept)
         x_ij in {0, 1}

Relaxing the assignment rows, held as ``sum_i x_ij - 1 == 0`` with free multipliers ``lam_j``,
gives ``L(lam) = -sum_j lam_j + sum_i min { sum_j (c_ij + lam_j) x_ij : sum_j a_ij x_ij <= b_i }``:
one 0-1 knapsack per agent with profits ``-(c_ij + lam_j)``, solved together by
:func:`~ortools_lag.algorithms.knapsack.knapsack_01_batch`. ``-lam_j`` is the price of job ``j``:
the cost the bound charges for leaving it unassigned (``lam_j < 0`` when covering it is costly),
and ``sum_i x_ij - 1`` is the subgradient. The knapsacks lack the integrality property, so the
dual is at least the LP bound. The dual is maximised by the trust-region bundle
:func:`~ortools_lag.algorithms.dual_bundle.maximize_dual`; every oracle point is repaired
into an assignment (keep each job's cheapest agent, place the rest by regret) and improved by
shift, swap and two-step ejection-chain moves; an open gap at the end gets a seeded iterated
local search.

>>> import numpy as np
>>> c = np.array([[1.0, 5.0], [4.0, 2.0]]); a = np.ones((2, 2)); b = np.array([1.0, 1.0])
>>> res = solve_gap(c, a, b)
>>> res.objective, res.assignment.tolist(), res.proven_optimal
(3.0, [0, 1], True)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ortools_lag.algorithms.dual_bundle import maximize_dual
from ortools_lag.algorithms.knapsack import KnapsackBatch
from ortools_lag.algorithms.lagrangian_solve import (
    LagrangianOracleResult,
    LagrangianSolveResult,
    check_capacity_data,
)
from ortools_lag.errors import ModelError

__all__ = [
    "GAPOracleResult",
    "GAPResult",
    "gap_lagrangian",
    "gap_local_search",
    "gap_objective",
    "gap_repair",
    "solve_gap",
]


def _gap_arrays(cost: ArrayLike, weight: ArrayLike, capacity: ArrayLike) -> tuple:
    c = np.atleast_2d(np.asarray(cost, dtype=np.float64))
    a = np.atleast_2d(np.asarray(weight, dtype=np.float64))
    b = np.atleast_1d(np.asarray(capacity, dtype=np.float64))
    agree = c.shape == a.shape and b.shape == (c.shape[0],)
    check_capacity_data("GAP", agree, cost=c, weight=a, capacity=b)
    return c, a, b


@dataclass(frozen=True)
class GAPOracleResult(LagrangianOracleResult):
    """The relaxed problem (one knapsack per agent) at multipliers ``lam``.

    ``value`` is ``L(lam) = -sum(lam) + sum_ij (c_ij + lam_j) x_ij`` at the minimiser (a lower
    bound), ``x`` the ``(m, n)`` jobs each agent's knapsack takes and ``subgradient`` the
    ``(n,)`` ``sum_i x_ij - 1``.
    """


@dataclass(frozen=True)
class GAPResult(LagrangianSolveResult):
    """A standalone Lagrangian solve of a generalized assignment problem.

    The fields of :class:`~ortools_lag.algorithms.lagrangian_solve.LagrangianSolveResult`, in
    ``sense`` (``"min"`` or ``"max"``): ``bound`` is a lower bound (min) or an upper bound (max),
    ``L(lam)`` at ``multipliers``, the ``(n,)`` ``lam`` of the rows ``sum_i x_ij - 1 == 0`` of the
    min form (max: of ``-c``); ``objective`` is the cost (profit) of ``assignment``, ``inf``
    (``-inf``) when no feasible one was found, and ``x`` its ``(m, n)`` 0/1 matrix (all zero
    then); ``trace`` is in the min form. Besides:

    Attributes
    ----------
    sense
        ``"min"`` or ``"max"``.
    assignment
        ``(n,)`` the agent of each job (``-1`` when none was found).
    """

    sense: str
    assignment: np.ndarray


def gap_lagrangian(
    cost: ArrayLike, weight: ArrayLike, capacity: ArrayLike, lam: ArrayLike
) -> GAPOracleResult:
    """Minimise the Lagrangian of the assignment rows at ``lam`` (min form).

    Parameters
    ----------
    cost, weight, capacity
        ``(m, n)``, ``(m, n)`` (non-negative integers), ``(m,)``.
    lam
        ``(n,)`` free multipliers of ``sum_i x_ij - 1 == 0``.

    Returns
    -------
    GAPOracleResult

    Examples
    --------
    >>> r = gap_lagrangian([[1, 5], [4, 2]], [[1, 1], [1, 1]], [1, 1], [-3.0, -3.0])
    >>> r.value, r.x.astype(int).tolist(), r.subgradient.tolist()
    (3.0, [[1, 0], [0, 1]], [0.0, 0.0])
    """
    c, a, b = _gap_arrays(cost, weight, capacity)
    return _oracle(c, KnapsackBatch(a, b), np.asarray(lam, dtype=np.float64))


def _oracle(c: np.ndarray, knap: KnapsackBatch, lam_a: np.ndarray) -> GAPOracleResult:
    reduced = c + lam_a[None, :]
    sol = knap.solve(-reduced)
    value = -float(lam_a.sum()) + float(reduced[sol.x].sum())
    return GAPOracleResult(value=value, x=sol.x, subgradient=sol.x.sum(axis=0) - 1.0)


def gap_objective(cost: ArrayLike, assignment: ArrayLike) -> float:
    """The cost of an assignment (``assignment[j]`` = agent of job ``j``).

    Examples
    --------
    >>> gap_objective([[1, 5], [4, 2]], [0, 1])
    3.0
    """
    c = np.atleast_2d(np.asarray(cost, dtype=np.float64))
    idx = np.asarray(assignment, dtype=np.int64)
    return float(c[idx, np.arange(idx.size)].sum())


def _loads(a: np.ndarray, assign: np.ndarray) -> np.ndarray:
    ok = assign >= 0
    return np.bincount(
        assign[ok], weights=a[assign[ok], np.flatnonzero(ok)], minlength=a.shape[0]
    ).astype(np.float64)


def gap_repair(
    cost: ArrayLike, weight: ArrayLike, capacity: ArrayLike, x: ArrayLike
) -> np.ndarray | None:
    """Turn a relaxed point into a feasible assignment, or ``None`` when the greedy fails.

    Each job taken by several agents keeps its cheapest one (an overloaded agent sheds its
    dearest jobs); the jobs left over are placed one at a time by regret (the job whose best
    and second-best feasible agents differ most goes first, to its cheapest agent with room).

    Examples
    --------
    >>> gap_repair([[1, 5], [4, 2]], [[1, 1], [1, 1]], [1, 1], [[1, 1], [0, 0]]).tolist()
    [0, 1]
    """
    c, a, b = _gap_arrays(cost, weight, capacity)
    return _repair(c, a, b, np.asarray(x, dtype=bool))


def _unload(c: np.ndarray, a: np.ndarray, b: np.ndarray, assign: np.ndarray) -> None:
    """Unassign the dearest jobs of every overloaded agent until it fits (in place)."""
    load = _loads(a, assign)
    for i in np.flatnonzero(load > b + 1e-9):
        jobs = np.flatnonzero(assign == i)
        jobs = jobs[np.argsort(c[i, jobs], kind="stable")]
        assign[jobs[np.cumsum(a[i, jobs]) > b[i] + 1e-9]] = -1


def _repair(c: np.ndarray, a: np.ndarray, b: np.ndarray, xb: np.ndarray) -> np.ndarray | None:
    assign = np.where(xb.any(axis=0), np.argmin(np.where(xb, c, np.inf), axis=0), -1)
    _unload(c, a, b, assign)
    load = _loads(a, assign)
    while True:
        left = np.flatnonzero(assign < 0)
        if left.size == 0:
            return assign
        fits = a[:, left] <= (b - load)[:, None] + 1e-9
        if not fits.any(axis=0).all():
            return None
        cf = np.where(fits, c[:, left], np.inf)
        two = np.sort(cf, axis=0)[:2] if cf.shape[0] > 1 else np.vstack([cf, cf + np.inf])
        regret = np.where(np.isfinite(two[1]), two[1] - two[0], np.inf)
        k = int(np.argmax(regret))
        j, i = int(left[k]), int(np.argmin(cf[:, k]))
        assign[j] = i
        load[i] += a[i, j]


def _overload_repair(
    c: np.ndarray, a: np.ndarray, b: np.ndarray, xb: np.ndarray, max_moves: int = 2000
) -> np.ndarray | None:
    """Feasibility search when the greedy repair is stuck: minimise the total overload.

    Every job goes to its relaxed agent (else the agent with most room), then the best shift
    (one job to another agent) or swap (a job of an overloaded agent with any other job) by
    total overload ``sum_i max(0, load_i - b_i)`` is made until none is left; ``None`` if a
    local minimum with overload remains.
    """
    m, n = c.shape
    jobs = np.arange(n)
    assign = np.where(xb.any(axis=0), np.argmax(xb, axis=0), -1)
    left = assign < 0
    assign[left] = np.argmin(a[:, left] / np.maximum(b, 1e-12)[:, None], axis=0)
    load = _loads(a, assign)
    for _ in range(max_moves):
        over = np.maximum(load - b, 0.0)
        if over.sum() <= 1e-9:
            return assign
        cur = a[assign, jobs]
        # shift j from assign[j] to i
        gain_from = np.maximum(load[assign] - cur - b[assign], 0.0) - over[assign]  # (n,)
        to = np.maximum(load[:, None] + a - b[:, None], 0.0) - over[:, None]  # (m, n)
        to[assign, jobs] = np.inf
        shift = to + gain_from[None, :]
        k = int(np.argmin(shift))
        if shift.flat[k] < -1e-9:
            i, j = divmod(k, n)
            load[assign[j]] -= cur[j]
            load[i] += a[i, j]
            assign[j] = i
            continue
        # swap j (on the most overloaded agent) with any k on another agent
        i0 = int(np.argmax(over))
        js = np.flatnonzero(assign == i0)
        ks = np.flatnonzero(assign != i0)
        if js.size == 0 or ks.size == 0:
            return None
        i1 = assign[ks]
        l0 = load[i0] - a[i0, js][:, None] + a[i0, ks][None, :]
        l1 = load[i1][None, :] - a[i1, ks][None, :] + a[i1[None, :], js[:, None]]
        new = np.maximum(l0 - b[i0], 0.0) + np.maximum(l1 - b[i1][None, :], 0.0)
        delta = new - over[i0] - over[i1][None, :]
        q = int(np.argmin(delta))
        if delta.flat[q] >= -1e-9:
            return None
        r, t = divmod(q, ks.size)
        j, kk, ik = int(js[r]), int(ks[t]), int(i1[t])
        load[i0] += a[i0, kk] - a[i0, j]
        load[ik] += a[ik, j] - a[ik, kk]
        assign[j], assign[kk] = ik, i0
    return None


def _best_shift(c: np.ndarray, a: np.ndarray, slack: np.ndarray, assign: np.ndarray) -> tuple:
    jobs = np.arange(assign.size)
    delta = c - c[assign, jobs][None, :]
    ok = (a <= slack[:, None] + 1e-9) & (np.arange(c.shape[0])[:, None] != assign[None, :])
    delta = np.where(ok, delta, np.inf)
    i, j = np.unravel_index(np.argmin(delta), delta.shape)
    return float(delta[i, j]), int(i), int(j)


def _best_swap(c: np.ndarray, a: np.ndarray, slack: np.ndarray, assign: np.ndarray) -> tuple:
    jobs = np.arange(assign.size)
    cur, own = c[assign, jobs], a[assign, jobs]
    # cm[j1, j2] = cost of job j1 at the agent of j2; wm likewise for weight
    cm, wm = c[assign[None, :], jobs[:, None]], a[assign[None, :], jobs[:, None]]
    delta = cm + cm.T - cur[:, None] - cur[None, :]
    room = slack[assign] + own
    ok = (room[None, :] >= wm - 1e-9) & (room[:, None] >= wm.T - 1e-9)
    ok &= assign[:, None] != assign[None, :]
    delta = np.where(ok, delta, np.inf)
    j1, j2 = np.unravel_index(np.argmin(delta), delta.shape)
    return float(delta[j1, j2]), int(j1), int(j2)


def gap_local_search(
    cost: ArrayLike, weight: ArrayLike, capacity: ArrayLike, assignment: ArrayLike
) -> np.ndarray:
    """Improve a feasible assignment by shift, swap and two-step ejection-chain moves.

    Best improvement; the chains (``j1`` into the agent of ``j2``, which moves on) are tried when
    shifts and swaps are exhausted and the instance is small (``m n**2 <= 1e5``).

    Examples
    --------
    >>> gap_local_search([[1, 5], [4, 2]], [[1, 1], [1, 1]], [1, 1], [1, 0]).tolist()
    [0, 1]
    """
    c, a, b = _gap_arrays(cost, weight, capacity)
    return _local_search(c, a, b, np.asarray(assignment, dtype=np.int64).copy())


def _best_chain(c: np.ndarray, a: np.ndarray, slack: np.ndarray, assign: np.ndarray) -> tuple:
    """Best ejection chain of length two: ``j1`` moves into ``a(j2)``, ``j2`` moves on to ``i3``."""
    n, m = assign.size, c.shape[0]
    jobs = np.arange(n)
    cur, own = c[assign, jobs], a[assign, jobs]
    cm, wm = c[assign[None, :], jobs[:, None]], a[assign[None, :], jobs[:, None]]
    first = cm - cur[:, None]  # [j1, j2]: j1 into the agent of j2
    ok2 = (slack[assign][None, :] + own[None, :] >= wm - 1e-9) & (
        assign[:, None] != assign[None, :]
    )
    second = (c - cur[None, :]).T  # [j2, i3]: j2 to agent i3
    home = np.arange(m)[None, None, :] == assign[:, None, None]  # i3 is the agent j1 left
    room3 = slack[None, None, :] + np.where(home, own[:, None, None], 0.0) - a.T[None, :, :]
    ok = ok2[:, :, None] & (room3 >= -1e-9) & (np.arange(m)[None, None, :] != assign[None, :, None])
    delta = np.where(ok, first[:, :, None] + second[None, :, :], np.inf)
    j1, j2, i3 = np.unravel_index(np.argmin(delta), delta.shape)
    return float(delta[j1, j2, i3]), int(j1), int(j2), int(i3)


def _local_search(
    c: np.ndarray, a: np.ndarray, b: np.ndarray, assign: np.ndarray, chains: bool | None = None
) -> np.ndarray:
    if chains is None:
        chains = c.shape[0] * assign.size**2 <= 100_000
    for _ in range(50 * assign.size + 50):
        slack = b - _loads(a, assign)
        d1, i, j = _best_shift(c, a, slack, assign)
        d2, j1, j2 = _best_swap(c, a, slack, assign)
        if min(d1, d2) < -1e-9:
            if d1 <= d2:
                assign[j] = i
            else:
                assign[j1], assign[j2] = assign[j2], assign[j1]
            continue
        if not chains:
            break
        d3, j1, j2, i3 = _best_chain(c, a, slack, assign)
        if d3 >= -1e-9:
            break
        assign[j1], assign[j2] = assign[j2], i3
    return assign


class _Incumbent:
    """The best assignment found so far (min form).

    A relaxed point is repaired when it is new and either violates no more assignment rows than
    the closest point so far, or falls on every ``stride``-th call (``n / 40`` jobs apart), so
    large instances do not spend their time in the heuristic.
    """

    def __init__(self, c: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        self.c, self.a, self.b = c, a, b
        self.assign = np.full(c.shape[1], -1, dtype=np.int64)
        self.value = math.inf
        self.seen: set[bytes] = set()
        self.calls, self.closest = 0, c.shape[1] + 1
        self.stride = max(1, round(c.shape[1] / 40))

    def offer(self, x: np.ndarray) -> None:
        self.calls += 1
        key = np.packbits(x).tobytes()
        violated = int(np.count_nonzero(x.sum(axis=0) != 1))
        if key in self.seen or (violated > self.closest and self.calls % self.stride):
            return
        self.seen.add(key)
        self.closest = min(self.closest, violated)
        start = _repair(self.c, self.a, self.b, x)
        if start is None and not math.isfinite(self.value):
            start = _overload_repair(self.c, self.a, self.b, x)
        if start is None:
            return
        assign = _local_search(self.c, self.a, self.b, start)
        value = gap_objective(self.c, assign)
        if value < self.value - 1e-9:
            self.assign, self.value = assign, value


def _kick(
    c: np.ndarray, a: np.ndarray, b: np.ndarray, assign: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Move three random jobs to random agents with room (a perturbation; feasible or unchanged)."""
    out = assign.copy()
    load = _loads(a, out)
    for j in rng.choice(out.size, size=min(3, out.size), replace=False):
        room = np.flatnonzero((a[:, j] <= b - load + 1e-9) & (np.arange(c.shape[0]) != out[j]))
        if room.size:
            i = int(rng.choice(room))
            load[out[j]] -= a[out[j], j]
            load[i] += a[i, j]
            out[j] = i
    return out


def _iterated_search(
    c: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    assign: np.ndarray,
    rounds: int,
    seed: int,
    deadline: float,
) -> np.ndarray:
    """Iterated local search: kick, descend, accept when not worse; keep the best."""
    rng = np.random.default_rng(seed)
    cur = best = assign
    cur_v = best_v = gap_objective(c, assign)
    for _ in range(rounds):
        if time.perf_counter() > deadline:
            break
        cand = _local_search(c, a, b, _kick(c, a, b, cur, rng))
        val = gap_objective(c, cand)
        if val <= cur_v + 1e-9:
            cur, cur_v = cand, val
            if val < best_v - 1e-9:
                best, best_v = cand, val
    return best


def solve_gap(
    cost: ArrayLike,
    weight: ArrayLike,
    capacity: ArrayLike,
    sense: str = "min",
    *,
    method: str = "bundle",
    max_iter: int = 2000,
    time_limit: float | None = 10.0,
    tol: float = 1e-7,
    gap_tol: float = 5e-4,
    kicks: int = 100,
    seed: int = 0,
) -> GAPResult:
    """Lagrangian solve of a generalized assignment problem (assignment rows relaxed).

    Parameters
    ----------
    cost, weight, capacity
        ``(m, n)`` costs (profits for ``sense="max"``), ``(m, n)`` non-negative integer
        weights, ``(m,)`` capacities.
    sense
        ``"min"`` or ``"max"``.
    method
        ``"bundle"`` or ``"subgradient"`` (see
        :func:`~ortools_lag.algorithms.dual_bundle.maximize_dual`).
    max_iter, time_limit, tol
        Limits of the dual maximisation.
    gap_tol
        With integer costs, stop the dual once the rounded bound proves the assignment optimal
        and the bound is within ``gap_tol`` (relative) of it; otherwise the dual runs until it
        converges (or meets the objective exactly).
    kicks, seed
        When the gap is still open after the dual, an iterated local search (``kicks`` random
        three-job moves, seeded by ``seed``, each followed by shift/swap descent) polishes the
        best assignment.

    Returns
    -------
    GAPResult

    Examples
    --------
    >>> res = solve_gap([[1, 5], [4, 2]], [[1, 1], [1, 1]], [1, 1], sense="max")
    >>> res.objective, res.assignment.tolist(), res.bound >= res.objective
    (9.0, [1, 0], True)
    """
    start = time.perf_counter()
    c0, a, b = _gap_arrays(cost, weight, capacity)
    if sense not in ("min", "max"):
        raise ModelError(f"unknown sense {sense!r} (valid choices: min, max)")
    c = c0 if sense == "min" else -c0
    inc = _Incumbent(c, a, b)
    knap = KnapsackBatch(a, b)

    def oracle(lam: np.ndarray) -> tuple[float, np.ndarray]:
        r = _oracle(c, knap, lam)
        inc.offer(r.x)
        return r.value, r.subgradient

    integral = bool(np.all(c == np.round(c)))
    point = "lagrangian_repair+local_search"

    def closed(dual: float) -> bool:
        ub = inc.value
        if dual >= ub - 1e-9 * (1.0 + abs(ub)):
            return True
        proven = integral and math.ceil(dual - 1e-6) >= ub
        return proven and ub - dual <= gap_tol * max(1.0, abs(ub))

    budget = None if time_limit is None else 0.98 * time_limit - (time.perf_counter() - start)
    trace = maximize_dual(
        oracle,
        -c.min(axis=0),
        method=method,
        max_iter=max_iter,
        time_limit=budget,
        tol=tol,
        target=lambda: inc.value,
        stop=closed,
    )
    if not closed(trace.value) and np.all(inc.assign >= 0):
        end = math.inf if time_limit is None else start + 0.99 * time_limit
        better = _iterated_search(c, a, b, inc.assign, kicks, seed, end)
        if gap_objective(c, better) < inc.value - 1e-9:
            inc.assign, inc.value = better, gap_objective(c, better)
            point += "+iterated_local_search"
    lb, ub = trace.value, inc.value
    rounded = math.ceil(lb - 1e-6) if integral else lb
    sign = 1.0 if sense == "min" else -1.0
    x = np.zeros(c.shape)
    if np.all(inc.assign >= 0):
        x[inc.assign, np.arange(c.shape[1])] = 1.0
    return GAPResult(
        sense=sense,
        bound=sign * lb,
        objective=sign * ub,
        assignment=inc.assign,
        x=x,
        multipliers=trace.lam,
        gap=abs(ub - lb) / max(1.0, abs(ub)) if math.isfinite(ub) else math.inf,
        proven_optimal=bool(rounded >= ub - 1e-9),
        bound_method=f"lagrangian_{trace.method}",
        point_method=point,
        trace=trace,
        seconds=time.perf_counter() - start,
    )
