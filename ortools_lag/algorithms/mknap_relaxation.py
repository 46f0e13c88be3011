"""Multidimensional 0-1 knapsack: relaxed capacity rows, greedy fill and local search.

Problem (``n`` items, ``m`` capacity rows), a maximisation held as the minimisation of ``-p x``::

    max  sum_j p_j x_j
    s.t. sum_j w_ij x_j <= b_i     for every row i   (capacity, relaxed: multiplier mu_i >= 0)
         x_j in {0, 1}

With the rows held as ``W x - b <= 0`` and ``L = -p x + mu (W x - b)``, the relaxed problem splits
by item: ``x_j = 1`` exactly when the reduced profit ``p_j - mu W_j`` is positive, and the bound
on the maximum is ``mu b + sum_j max(0, p_j - mu W_j)``. ``mu_i`` is the price of a unit of
capacity ``i`` (its shadow price); ``W x - b`` is the subgradient. The relaxed problem has the
integrality property, so the best bound equals the LP relaxation value. The heuristic fills the
knapsack greedily by the ratio ``p_j / (mu W_j)`` (Lagrangian pseudo-utilities), then improves
it by add, drop-add (1-1) and drop-add-add (1-2) exchanges.

The dual is maximised by :func:`~ortools_lag.algorithms.dual_bundle.maximize_dual` (the
trust-region bundle shared by the standalone Lagrangian solves of this package).

>>> res = solve_mknap([10, 7, 8], [[5, 4, 3]], [8])
>>> res.objective, res.x.tolist(), round(res.bound, 4)
(18.0, [True, False, True], 18.0)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ortools_lag.algorithms.dual_bundle import maximize_dual
from ortools_lag.algorithms.lagrangian_solve import (
    LagrangianOracleResult,
    LagrangianSolveResult,
    check_capacity_data,
)

__all__ = [
    "MKnapOracleResult",
    "MKnapResult",
    "mknap_greedy",
    "mknap_lagrangian",
    "mknap_local_search",
    "solve_mknap",
]


def _mknap_arrays(profit: ArrayLike, weight: ArrayLike, capacity: ArrayLike) -> tuple:
    p = np.asarray(profit, dtype=np.float64).ravel()
    w = np.atleast_2d(np.asarray(weight, dtype=np.float64))
    b = np.atleast_1d(np.asarray(capacity, dtype=np.float64))
    check_capacity_data("mknap", w.shape == (b.size, p.size), profit=p, weight=w, capacity=b)
    return p, w, b


@dataclass(frozen=True)
class MKnapOracleResult(LagrangianOracleResult):
    """The relaxed problem at multipliers ``mu``: ``value`` is ``L(mu) = -p x + mu (W x - b)`` at
    the minimiser (min form; ``-value`` bounds the maximum), ``x`` the ``(n,)`` items with
    positive reduced profit ``p_j - mu W_j`` and ``subgradient`` the ``(m,)`` ``W x - b``."""

    @property
    def upper_bound(self) -> float:
        """The bound on the maximum, ``mu b + sum_j max(0, p_j - mu W_j)``."""
        return -self.value


@dataclass(frozen=True)
class MKnapResult(LagrangianSolveResult):
    """A standalone Lagrangian solve of a multidimensional knapsack (max sense).

    The fields of :class:`~ortools_lag.algorithms.lagrangian_solve.LagrangianSolveResult`:
    ``bound`` is the upper bound ``-L(mu)`` on the maximum at ``multipliers``, the ``(m,)``
    ``mu >= 0`` of the capacity rows ``W x - b <= 0``; ``objective`` is the profit of ``x``, the
    ``(n,)`` boolean best feasible packing found; ``gap`` is ``(bound - objective) /
    max(1, |objective|)`` and ``proven_optimal`` rounds the bound down first when the profits are
    integers.
    """


def mknap_lagrangian(
    profit: ArrayLike, weight: ArrayLike, capacity: ArrayLike, mu: ArrayLike
) -> MKnapOracleResult:
    """Minimise the Lagrangian of the capacity rows at ``mu >= 0``.

    Examples
    --------
    >>> r = mknap_lagrangian([10, 7, 8], [[5, 4, 3]], [8], [2.0])
    >>> r.upper_bound, r.x.tolist(), r.subgradient.tolist()
    (18.0, [False, False, True], [-5.0])
    """
    p, w, b = _mknap_arrays(profit, weight, capacity)
    mu_a = np.asarray(mu, dtype=np.float64)
    reduced = p - mu_a @ w
    x = reduced > 0
    value = -(float(mu_a @ b) + float(reduced[x].sum()))
    return MKnapOracleResult(value=value, x=x, subgradient=w[:, x].sum(axis=1) - b)


def mknap_greedy(
    profit: ArrayLike, weight: ArrayLike, capacity: ArrayLike, mu: ArrayLike | None = None
) -> np.ndarray:
    """Fill the knapsack greedily by the pseudo-utility ``p_j / (mu W_j)``.

    Without ``mu`` the weights are scaled by the capacities (``mu_i = 1 / b_i``).

    Examples
    --------
    >>> mknap_greedy([10, 7, 8], [[5, 4, 3]], [8]).tolist()
    [True, False, True]
    """
    p, w, b = _mknap_arrays(profit, weight, capacity)
    price = 1.0 / np.maximum(b, 1e-12) if mu is None else np.asarray(mu, dtype=np.float64) + 1e-9
    score = p / np.maximum(price @ w, 1e-12)
    x = np.zeros(p.size, dtype=bool)
    slack = b.copy()
    for j in np.argsort(-score, kind="stable"):
        if p[j] > 0 and np.all(w[:, j] <= slack + 1e-9):
            x[j] = True
            slack -= w[:, j]
    return x


def _best_move(p: np.ndarray, w: np.ndarray, slack: np.ndarray, x: np.ndarray) -> tuple:
    tol = 1e-9
    inn, out = np.flatnonzero(x), np.flatnonzero(~x)
    best: tuple = (tol, (), ())
    fits = np.all(w[:, out] <= slack[:, None] + tol, axis=0)
    if fits.any():
        j = out[fits][np.argmax(p[out[fits]])]
        if p[j] > best[0]:
            best = (p[j], (), (j,))
    if inn.size == 0 or out.size == 0:
        return best
    need = w[:, None, out] - w[:, inn, None]  # (m, in, out)
    ok = np.all(need <= slack[:, None, None] + tol, axis=0)
    gain = np.where(ok, p[None, out] - p[inn, None], -np.inf)
    i, j = np.unravel_index(np.argmax(gain), gain.shape)
    if gain[i, j] > best[0]:
        best = (gain[i, j], (inn[i],), (out[j],))
    if inn.size * out.size**2 * max(1, w.shape[0]) <= 4_000_000:
        need2 = need[:, :, :, None] + w[:, None, None, out]  # (m, in, out, out)
        ok2 = np.all(need2 <= slack[:, None, None, None] + tol, axis=0)
        ok2 &= out[None, :, None] < out[None, None, :]
        gain2 = np.where(ok2, gain[:, :, None] + p[None, None, out], -np.inf)
        i, j, k = np.unravel_index(np.argmax(gain2), gain2.shape)
        if gain2[i, j, k] > best[0]:
            best = (gain2[i, j, k], (inn[i],), (out[j], out[k]))
    return best


def mknap_local_search(
    profit: ArrayLike, weight: ArrayLike, capacity: ArrayLike, x: ArrayLike
) -> np.ndarray:
    """Improve a feasible packing by add, 1-1 and 1-2 exchanges (best improvement).

    Examples
    --------
    >>> mknap_local_search([10, 7, 8], [[5, 4, 3]], [8], [False, True, True]).tolist()
    [True, False, True]
    """
    p, w, b = _mknap_arrays(profit, weight, capacity)
    cur = np.asarray(x, dtype=bool).copy()
    for _ in range(10 * p.size + 10):
        slack = b - w[:, cur].sum(axis=1)
        _, drop, add = _best_move(p, w, slack, cur)
        if not add:
            break
        cur[list(drop)] = False
        cur[list(add)] = True
    return cur


class _Packing:
    """The best packing found so far."""

    def __init__(self, p: np.ndarray, x: np.ndarray) -> None:
        self.p, self.x, self.value = p, x, float(p[x].sum())

    def offer(self, x: np.ndarray) -> None:
        value = float(self.p[x].sum())
        if value > self.value:
            self.x, self.value = x, value


def solve_mknap(
    profit: ArrayLike,
    weight: ArrayLike,
    capacity: ArrayLike,
    *,
    method: str = "bundle",
    max_iter: int = 500,
    time_limit: float | None = None,
    tol: float = 1e-9,
) -> MKnapResult:
    """Lagrangian solve of a multidimensional 0-1 knapsack (capacity rows relaxed).

    Parameters
    ----------
    profit, weight, capacity
        ``(n,)``, ``(m, n)``, ``(m,)``; weights and capacities non-negative.
    method
        ``"bundle"`` or ``"subgradient"`` (see :func:`maximize_dual`).
    max_iter, time_limit, tol
        Limits of the dual maximisation.

    Returns
    -------
    MKnapResult

    Examples
    --------
    >>> res = solve_mknap([6, 5, 4], [[2, 2, 1], [1, 2, 2]], [3, 3])
    >>> res.objective, res.x.tolist(), res.bound >= res.objective
    (10.0, [True, False, True], True)
    """
    start = time.perf_counter()
    p, w, b = _mknap_arrays(profit, weight, capacity)
    best = _Packing(p, mknap_local_search(p, w, b, mknap_greedy(p, w, b)))

    def oracle(mu: np.ndarray) -> tuple[float, np.ndarray]:
        r = mknap_lagrangian(p, w, b, mu)
        best.offer(mknap_local_search(p, w, b, mknap_greedy(p, w, b, mu)))
        return r.value, r.subgradient

    integral = bool(np.all(p == np.round(p)))
    trace = maximize_dual(
        oracle,
        np.zeros(b.size),
        0.0,
        np.inf,
        method=method,
        max_iter=max_iter,
        time_limit=time_limit,
        tol=tol,
        target=lambda: -best.value,
        stop=lambda dual: -dual <= best.value + 1e-9 * (1.0 + abs(best.value)),
    )
    bound, obj = -trace.value, best.value
    rounded = math.floor(bound + 1e-9) if integral else bound
    return MKnapResult(
        bound=bound,
        objective=obj,
        x=best.x,
        multipliers=trace.lam,
        gap=(bound - obj) / max(1.0, abs(obj)),
        proven_optimal=bool(rounded <= obj + 1e-9 * (1.0 + abs(obj))),
        bound_method=f"lagrangian_{trace.method}",
        point_method="lagrangian_greedy+local_search",
        trace=trace,
        seconds=time.perf_counter() - start,
    )
