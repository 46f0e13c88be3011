"""Exact gap closing of the constrained shortest path: best-first enumeration, MIP fallback.

The instance and its Lagrangian are those of :mod:`ortools_lag.algorithms.csp_instance` (vertex
resources folded into the arcs; multipliers ``lam = [mu, nu]`` of ``R - upper <= 0`` and
``lower - R <= 0``). Any valid multipliers turn the arc lengths into Lagrangian lengths
``c + (mu - nu) r'``, and every feasible path costs at least its Lagrangian length
``sum_{a in P} (c_a + (mu - nu) r'_a) + const`` (the relaxed rows are non-positive on it).

:func:`csp_enumerate` extends partial paths best-first by ``g + h`` (A*: ``g`` the Lagrangian
length so far, ``h`` the exact Lagrangian distance to the target, by one backward Dijkstra or
Bellman–Ford), pruning a label whose ``g + h + const`` reaches the incumbent (minus one when costs
are integers) or whose resources cannot stay within the limits on the way to the target. The
first label popped at or past the incumbent proves it optimal; an empty queue with no incumbent
proves the instance infeasible. :func:`csp_mip` is the fallback past a label or time limit: the
flow formulation with binary arcs solved by HiGHS, Miller–Tucker–Zemlin rows on cyclic graphs.

>>> from ortools_lag.algorithms.csp_instance import csp_data
>>> d = csp_data(3, [0, 0, 1], [2, 1, 2], [5, 1, 1], [1, 2, 2], [3])
>>> e = csp_enumerate(d, [0.0])
>>> e.cost, e.arcs.tolist(), e.proven
(5.0, [0], True)
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from ortools_lag.algorithms.csp_instance import (
    CSPData,
    reach_bounds,
    shortest_distances,
    split_multipliers,
)

__all__ = ["CSPEnumeration", "csp_enumerate", "csp_mip"]


@dataclass(frozen=True)
class CSPEnumeration:
    """Outcome of the best-first path enumeration.

    Attributes
    ----------
    arcs
        The best feasible path found (arc indices), empty when none.
    cost
        Its cost (``inf`` when none; the given incumbent when it was not improved).
    bound
        A lower bound on the optimum: ``cost`` when ``proven``, else the smallest Lagrangian
        length left in the queue (capped by ``cost``).
    proven
        Whether the enumeration finished, so ``cost`` is optimal (``inf``: infeasible).
    labels
        How many partial paths were created.
    """

    arcs: np.ndarray
    cost: float
    bound: float
    proven: bool
    labels: int


class _Labels:
    """Partial paths of the enumeration: parallel lists indexed by label id."""

    def __init__(self, data: CSPData) -> None:
        self.node: list[int] = [data.source]
        self.g: list[float] = [0.0]
        self.cost: list[float] = [0.0]
        self.res: list[np.ndarray] = [data.base.copy()]
        self.parent: list[int] = [-1]
        self.arc: list[int] = [-1]
        self.words = 0 if data.acyclic else (data.n + 63) // 64
        first = np.zeros(self.words, dtype=np.uint64)
        if self.words:
            first[data.source >> 6] |= np.uint64(1) << np.uint64(data.source & 63)
        self.seen: list[np.ndarray] = [first]

    def unvisited(self, lid: int, v: np.ndarray) -> np.ndarray:
        if not self.words:
            return np.ones(v.size, dtype=bool)
        bits = self.seen[lid][v >> 6] >> (v & 63).astype(np.uint64)
        return (bits & np.uint64(1)) == 0

    def add(self, lid: int, v: int, g: float, cost: float, res: np.ndarray, arc: int) -> int:
        self.node.append(v)
        self.g.append(g)
        self.cost.append(cost)
        self.res.append(res)
        self.parent.append(lid)
        self.arc.append(arc)
        seen = self.seen[lid]
        if self.words:
            seen = seen.copy()
            seen[v >> 6] |= np.uint64(1) << np.uint64(v & 63)
        self.seen.append(seen)
        return len(self.node) - 1

    def path(self, lid: int) -> np.ndarray:
        arcs = []
        while self.parent[lid] >= 0:
            arcs.append(self.arc[lid])
            lid = self.parent[lid]
        return np.array(arcs[::-1], dtype=np.int64)


def csp_enumerate(
    data: CSPData,
    lam: ArrayLike,
    incumbent: float = math.inf,
    incumbent_arcs: ArrayLike | None = None,
    *,
    max_labels: int = 200_000,
    time_limit: float | None = None,
) -> CSPEnumeration:
    """Enumerate paths best-first by Lagrangian length, pruned by the incumbent; prove optimality.

    Parameters
    ----------
    data
        The instance.
    lam
        ``[mu, nu]`` (or ``mu``) used for the lengths; any valid multipliers work, better
        ones prune more.
    incumbent, incumbent_arcs
        The best known feasible cost and path (``inf`` / ``None`` when none).
    max_labels, time_limit
        Give up (``proven=False``) past this many partial paths or seconds.

    Returns
    -------
    CSPEnumeration

    Examples
    --------
    >>> from ortools_lag.algorithms.csp_instance import csp_data
    >>> d = csp_data(3, [0, 0, 1], [2, 1, 2], [5, 1, 1], [1, 2, 2], [3])
    >>> e = csp_enumerate(d, [0.0])
    >>> e.cost, e.arcs.tolist(), e.proven
    (5.0, [0], True)
    """
    start = time.perf_counter()
    mu, nu = split_multipliers(data, lam)
    w = data.cost + data.resources @ (mu - nu)
    const = float((mu - nu) @ data.base - mu @ data.upper + nu @ data.lower)
    h = shortest_distances(data, w, data.target, reverse=True)[0]
    rmin, rmax = reach_bounds(data)
    integral = bool(np.all(data.cost == np.round(data.cost)))
    order = np.argsort(data.tails, kind="stable")
    ptr = np.searchsorted(data.tails[order], np.arange(data.n + 1))
    slack_up = data.upper + 1e-9 * np.maximum(1.0, np.abs(data.upper))
    slack_lo = data.lower - 1e-9 * np.maximum(1.0, np.abs(data.lower))
    best = np.asarray(incumbent_arcs if incumbent_arcs is not None else [], dtype=np.int64)
    ub = float(incumbent)
    labels = _Labels(data)
    heap: list[tuple[float, int]] = [(float(h[data.source]), 0)]

    def cutoff() -> float:
        edge = ub - 1.0 if integral and math.isfinite(ub) else ub
        return edge - 1e-9 * (1.0 + abs(ub)) if math.isfinite(ub) else math.inf

    while heap and heap[0][0] + const <= cutoff() and np.isfinite(heap[0][0]):
        if len(labels.node) > max_labels or (
            time_limit is not None and time.perf_counter() - start > time_limit
        ):
            low = min(ub, heap[0][0] + const)
            if integral and math.isfinite(low):
                low = math.ceil(low - 1e-9)
            return CSPEnumeration(best, ub, low, False, len(labels.node))
        _, lid = heapq.heappop(heap)
        u = labels.node[lid]
        if u == data.target:
            if labels.cost[lid] < ub and data.feasible(labels.res[lid]):
                ub, best = labels.cost[lid], labels.path(lid)
            continue
        arcs = order[ptr[u] : ptr[u + 1]]
        v = data.heads[arcs]
        g2 = labels.g[lid] + w[arcs]
        f2 = g2 + h[v]
        r2 = labels.res[lid] + data.resources[arcs]
        ok = (f2 + const <= cutoff()) & np.isfinite(f2) & labels.unvisited(lid, v)
        ok &= np.all(r2 + rmin[v] <= slack_up, axis=1) & np.all(r2 + rmax[v] >= slack_lo, axis=1)
        c2 = labels.cost[lid] + data.cost[arcs]
        for k in np.flatnonzero(ok):
            new = labels.add(lid, int(v[k]), float(g2[k]), float(c2[k]), r2[k], int(arcs[k]))
            heapq.heappush(heap, (float(f2[k]), new))
    return CSPEnumeration(best, ub, ub, True, len(labels.node))


def _mip_rows(data: CSPData) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    n, m, arcs = data.n, data.tails.size, np.arange(data.tails.size)
    flow = sp.csr_matrix(
        (np.r_[np.ones(m), -np.ones(m)], (np.r_[data.tails, data.heads], np.r_[arcs, arcs])),
        shape=(n, m),
    )
    supply = np.zeros(n)
    supply[data.source], supply[data.target] = 1.0, -1.0
    indeg = sp.csr_matrix((np.ones(m), (data.heads, arcs)), shape=(n, m))
    blocks = [flow, indeg, sp.csr_matrix(data.resources.T)]
    lo = [supply, np.full(n, -np.inf), data.lower - data.base]
    hi = [supply, np.ones(n), data.upper - data.base]
    if not data.acyclic:
        keep = np.flatnonzero((data.tails != data.source) & (data.heads != data.source))
        rows = np.arange(keep.size)
        x_part = sp.csr_matrix((np.full(keep.size, float(n)), (rows, keep)), shape=(keep.size, m))
        u_part = sp.csr_matrix(
            (
                np.r_[np.ones(keep.size), -np.ones(keep.size)],
                (np.r_[rows, rows], np.r_[data.tails[keep], data.heads[keep]]),
            ),
            shape=(keep.size, n),
        )
        blocks = [sp.hstack([b, sp.csr_matrix((b.shape[0], n))]) for b in blocks]
        blocks.append(sp.hstack([x_part, u_part]))
        lo.append(np.full(keep.size, -np.inf))
        hi.append(np.full(keep.size, n - 1.0))
    return sp.vstack(blocks, format="csr"), np.concatenate(lo), np.concatenate(hi)


def csp_mip(data: CSPData, time_limit: float | None = None) -> CSPEnumeration:
    """Solve the CSP as a MIP with HiGHS (the fallback of :func:`solve_csp`).

    Flow conservation ``out - in = b`` with binary arc variables, in-degree at most one, the
    resource rows, and Miller–Tucker–Zemlin rows on cyclic graphs so that no cycle can be added
    to meet a lower limit.

    Examples
    --------
    >>> from ortools_lag.algorithms.csp_instance import csp_data
    >>> d = csp_data(3, [0, 0, 1], [2, 1, 2], [5, 1, 1], [1, 2, 2], [3])
    >>> r = csp_mip(d)
    >>> r.cost, r.arcs.tolist(), r.proven
    (5.0, [0], True)
    """
    import highspy

    from ortools_lag.highs_model import new_highs

    m, n = data.tails.size, data.n
    ncol = m if data.acyclic else m + n
    a, lo, hi = _mip_rows(data)
    h = new_highs()  # quiet: no banner on stdout
    h.setOptionValue("output_flag", False)
    if time_limit is not None:
        h.setOptionValue("time_limit", max(float(time_limit), 0.1))
    inf = highspy.kHighsInf
    xu = np.where((data.heads == data.source) | (data.tails == data.target), 0.0, 1.0)
    cl = np.zeros(ncol)
    cu = np.r_[xu, np.full(ncol - m, n - 1.0)]
    h.addVars(ncol, cl, cu)
    h.changeColsCost(m, np.arange(m, dtype=np.int32), data.cost)
    h.changeColsIntegrality(
        m, np.arange(m, dtype=np.int32), np.full(m, highspy.HighsVarType.kInteger)
    )
    h.addRows(
        a.shape[0],
        np.where(np.isfinite(lo), lo, -inf),
        np.where(np.isfinite(hi), hi, inf),
        a.nnz,
        a.indptr[:-1].astype(np.int32),
        a.indices.astype(np.int32),
        a.data,
    )
    h.run()
    status = h.getModelStatus()
    proven = status in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kInfeasible)
    if h.getInfo().primal_solution_status != 2:  # no feasible point
        return CSPEnumeration(
            np.zeros(0, dtype=np.int64), math.inf, math.inf if proven else -math.inf, proven, 0
        )
    x = np.asarray(h.getSolution().col_value[:m]) > 0.5
    arcs, node = [], data.source
    while node != data.target:
        a_id = int(np.flatnonzero(x & (data.tails == node))[0])
        arcs.append(a_id)
        node = int(data.heads[a_id])
    cost = float(data.cost[arcs].sum())
    bound = cost if proven else float(h.getInfo().mip_dual_bound)
    return CSPEnumeration(np.array(arcs, dtype=np.int64), cost, bound, proven, 0)
