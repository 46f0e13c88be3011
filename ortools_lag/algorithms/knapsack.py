"""0-1 knapsack by dynamic programming over the capacity, vectorised with numpy.

Problem (one knapsack, integer weights ``w_j >= 0``, integer capacity ``b >= 0``)::

    max  sum_j v_j x_j   s.t.  sum_j w_j x_j <= b,   x_j in {0, 1}.

``dp[c]`` is the best value with total weight at most ``c``; item ``j`` updates every capacity at
once, ``dp[c] <- max(dp[c], dp[c - w_j] + v_j)``, so the work is ``O(n b)`` numpy operations over
whole rows, and the items taken are recovered from the stored decisions. The batched form solves
``m`` knapsacks over the same items at once (one row per knapsack), which is the Lagrangian
oracle of the generalized assignment problem: one knapsack per agent. Items whose value is not
positive are never taken. There is no multiplier here: the relaxations that call this module
document theirs.

Weights and capacities must be integral (capacities are floored); other weights raise
:class:`~ortools_lag.errors.ModelError` — scale them to integers first.

>>> sol = knapsack_01([10, 7, 8], [5, 4, 3], 8)
>>> sol.value, sol.x.tolist()
(18.0, [True, False, True])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ortools_lag.errors import ModelError

__all__ = [
    "BatchKnapsackSolution",
    "KnapsackBatch",
    "KnapsackSolution",
    "knapsack_01",
    "knapsack_01_batch",
]

#: Largest decision table (items x knapsacks x capacities) the DP will allocate.
MAX_TABLE = 200_000_000


@dataclass(frozen=True)
class KnapsackSolution:
    """An optimal 0-1 knapsack solution.

    Attributes
    ----------
    value
        The optimal value ``sum v_j x_j``.
    x
        ``(n,)`` boolean: the items taken.
    weight
        The weight used, ``sum w_j x_j``.
    """

    value: float
    x: np.ndarray
    weight: float


@dataclass(frozen=True)
class BatchKnapsackSolution:
    """Optimal solutions of ``m`` knapsacks solved together.

    Attributes
    ----------
    value
        ``(m,)`` optimal values.
    x
        ``(m, n)`` boolean: item ``j`` taken in knapsack ``i``.
    weight
        ``(m,)`` weights used.
    """

    value: np.ndarray
    x: np.ndarray
    weight: np.ndarray


def _integral(a: np.ndarray, what: str) -> np.ndarray:
    if not np.all(np.isfinite(a)):
        raise ModelError(f"knapsack {what} must be finite")
    r = np.round(a)
    if np.any(np.abs(a - r) > 1e-9 * np.maximum(1.0, np.abs(a))):
        raise ModelError(
            f"the knapsack DP needs integer {what}; scale them to integers "
            "(multiply by a power of ten and round) before calling it"
        )
    if np.any(r < 0):
        raise ModelError(f"knapsack {what} must be >= 0")
    return r.astype(np.int64)


def _check(values: ArrayLike, weights: ArrayLike, capacities: ArrayLike) -> tuple:
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    w = _integral(np.atleast_2d(np.asarray(weights, dtype=np.float64)), "weights")
    cap = np.atleast_1d(np.asarray(capacities, dtype=np.float64))
    if v.shape != w.shape or cap.shape != (v.shape[0],):
        raise ModelError(
            f"knapsack shapes disagree: values {v.shape}, weights {w.shape}, capacities {cap.shape}"
        )
    if not np.all(np.isfinite(v)):
        raise ModelError("knapsack values must be finite")
    if np.any(cap < 0) or not np.all(np.isfinite(cap)):
        raise ModelError("knapsack capacities must be finite and >= 0")
    cap_int = np.floor(cap + 1e-9).astype(np.int64)
    size = v.shape[0] * v.shape[1] * (int(cap_int.max(initial=0)) + 1)
    if size > MAX_TABLE:
        raise ModelError(
            f"the knapsack DP table would hold {size} entries (limit {MAX_TABLE}); "
            "scale the weights down or use a MIP solver"
        )
    return v, w, cap_int


class KnapsackBatch:
    """``m`` knapsacks over the same ``n`` items, prepared once and solved for many value arrays.

    The gather indices of the DP (``c - w_ij`` for every capacity, or a ``-inf`` sentinel column
    when the item does not fit) depend on the weights only, so an oracle that re-solves the
    knapsacks with new values at every iteration builds them once.

    Parameters
    ----------
    weights
        ``(m, n)`` non-negative integer weights.
    capacities
        ``(m,)`` non-negative capacities (floored to integers).

    Examples
    --------
    >>> kb = KnapsackBatch([[1, 2, 3]], [3])
    >>> kb.solve([[3, 4, 5]]).value.tolist(), kb.solve([[3, -1, 5]]).value.tolist()
    ([7.0], [5.0])
    """

    def __init__(self, weights: ArrayLike, capacities: ArrayLike) -> None:
        w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
        _, self.w, self.cap = _check(np.zeros(w.shape), w, capacities)
        m, n = self.w.shape
        self.width = width = int(self.cap.max(initial=0)) + 1
        cols = np.arange(width)
        src = cols[None, None, :] - self.w.T[:, :, None]  # (n, m, width)
        offset = (np.arange(m) * (width + 1))[None, :, None]
        self.gather = (np.where(src >= 0, src, width) + offset).astype(np.intp)

    def solve(self, values: ArrayLike) -> BatchKnapsackSolution:
        """Solve the knapsacks for ``(m, n)`` values; items with ``v <= 0`` are never taken."""
        v = np.atleast_2d(np.asarray(values, dtype=np.float64))
        if v.shape != self.w.shape:
            raise ModelError(f"knapsack shapes disagree: values {v.shape}, weights {self.w.shape}")
        if not np.all(np.isfinite(v)):
            raise ModelError("knapsack values must be finite")
        m, n = v.shape
        useful = (v > 0) & (self.w <= self.cap[:, None])
        k = int(useful.sum(axis=1).max(initial=0))
        x = np.zeros((m, n), dtype=bool)
        if k:
            # per knapsack, only its useful items (padded with -inf gains): k rounds, not n
            order = np.argsort(~useful, axis=1, kind="stable")[:, :k]
            rows = np.arange(m)[:, None]
            gain = np.where(useful[rows, order], v[rows, order], -np.inf)
            keep = self._table(gain, self.gather[order.T, np.arange(m)[None, :]])
            c = self.cap.copy()
            idx = np.arange(m)
            for j in range(k - 1, -1, -1):
                took = keep[j, idx, c]
                x[idx[took], order[took, j]] = True
                c = c - np.where(took, self.w[idx, order[:, j]], 0)
        value = np.where(x, v, 0.0).sum(axis=1)
        used = np.where(x, self.w, 0).sum(axis=1).astype(np.float64)
        return BatchKnapsackSolution(value=value, x=x, weight=used)

    def _table(self, gain: np.ndarray, gather: np.ndarray) -> np.ndarray:
        """The DP over ``k`` rounds; ``keep[j, i, c]``: round ``j`` improved capacity ``c``."""
        k, m = gather.shape[0], gain.shape[0]
        table = np.full((m, self.width + 1), -np.inf)
        table[:, : self.width] = 0.0
        dp = table[:, : self.width]
        keep = np.empty((k, m, self.width), dtype=bool)
        for j in range(k):
            cand = table.take(gather[j]) + gain[:, j : j + 1]
            np.greater(cand, dp, out=keep[j])
            np.maximum(dp, cand, out=dp)
        return keep


def knapsack_01_batch(
    values: ArrayLike, weights: ArrayLike, capacities: ArrayLike
) -> BatchKnapsackSolution:
    """Solve ``m`` 0-1 knapsacks over ``n`` items at once.

    Parameters
    ----------
    values
        ``(m, n)`` value of item ``j`` in knapsack ``i``; items with ``v <= 0`` are never taken.
    weights
        ``(m, n)`` non-negative integer weights.
    capacities
        ``(m,)`` non-negative capacities (floored to integers).

    Returns
    -------
    BatchKnapsackSolution

    Examples
    --------
    >>> sol = knapsack_01_batch([[3, 4, 5], [5, 1, 1]], [[1, 2, 3], [3, 1, 1]], [3, 2])
    >>> sol.value.tolist(), sol.x.astype(int).tolist()
    ([7.0, 2.0], [[1, 1, 0], [0, 1, 1]])
    """
    return KnapsackBatch(weights, capacities).solve(values)


def knapsack_01(values: ArrayLike, weights: ArrayLike, capacity: float) -> KnapsackSolution:
    """Solve one 0-1 knapsack exactly by dynamic programming.

    Parameters
    ----------
    values
        ``(n,)`` item values; items with ``v <= 0`` are never taken.
    weights
        ``(n,)`` non-negative integer weights.
    capacity
        Non-negative capacity (floored to an integer).

    Returns
    -------
    KnapsackSolution

    Examples
    --------
    >>> knapsack_01([60, 100, 120], [10, 20, 30], 50).value
    220.0
    """
    sol = knapsack_01_batch(
        np.asarray(values, dtype=np.float64)[None, :],
        np.asarray(weights, dtype=np.float64)[None, :],
        [capacity],
    )
    return KnapsackSolution(value=float(sol.value[0]), x=sol.x[0], weight=float(sol.weight[0]))
