"""Constrained (resource-constrained) shortest path: Lagrangian bound and exact gap closing.

Problem (Beasley & Christofides 1989; Ahuja, Magnanti & Orlin 1993, ch. 16): a path ``P`` from
``s`` to ``t`` in a directed graph with arc costs ``c_a`` and resources ``r_ak``, vertex resources
``q_vk`` (consumed by every vertex on the path, both ends included), minimising ``c(P)`` subject to
``lower_k <= R_k(P) <= upper_k`` where ``R_k(P) = sum_{a in P} r_ak + sum_{v in P} q_vk``.

Vertex resources are folded into the arcs (``r'_(u,v) = r_(u,v) + q_v``, plus ``q_s`` once). The
resource rows are relaxed, each side on its own, held as ``R_k - upper_k <= 0`` with multiplier
``mu_k >= 0`` and ``lower_k - R_k <= 0`` with ``nu_k >= 0`` (the multiplier vector is
``lam = [mu, nu]``)::

    L(mu, nu) = min_P  sum_{a in P} (c_a + (mu - nu) r'_a) + (mu - nu) q_s - mu upper + nu lower

a shortest path on the arc lengths ``c + (mu - nu) r'`` (Dijkstra; Bellman–Ford when lower limits
make some lengths negative). ``mu_k`` is the price of a unit of resource ``k`` when its upper
limit binds (the cost saved per unit of limit added), ``nu_k`` the premium paid for a unit when
the lower limit binds; the subgradient is ``[R - upper, lower - R]`` at the path found.

:func:`solve_csp` maximises the dual (:func:`~ortools_lag.algorithms.dual_bundle.maximize_dual`),
then closes the gap exactly with :mod:`ortools_lag.algorithms.csp_search`: paths enumerated
best-first in order of their Lagrangian length, pruned by the incumbent and by resource
reachability, so the incumbent is proven optimal when the queue's smallest Lagrangian length
reaches it; past the enumeration's label or time limit a HiGHS MIP finishes the job, and the
result names it.

>>> tails, heads = [0, 0, 1, 1, 2, 2, 2, 3, 3, 4], [1, 2, 3, 4, 1, 3, 4, 4, 5, 5]
>>> cost = [1, 10, 1, 2, 1, 5, 12, 10, 1, 2]
>>> time = [[10], [3], [1], [3], [2], [7], [3], [1], [7], [2]]
>>> data = csp_data(6, tails, heads, cost, time, upper=[14])
>>> csp_lagrangian(data, [2.0]).value
7.0
>>> res = solve_csp(data)
>>> res.objective, res.nodes.tolist(), res.proven_optimal
(13.0, [0, 2, 1, 3, 5], True)
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.sparse.csgraph import (
    NegativeCycleError,
    bellman_ford,
    connected_components,
    dijkstra,
)

from ortools_lag.algorithms.dual_bundle import DualTrace, InvalidPoint, maximize_dual
from ortools_lag.errors import ModelError

__all__ = [
    "CSPData",
    "CSPOracleResult",
    "CSPResult",
    "csp_data",
    "csp_lagrangian",
    "reach_bounds",
    "shortest_distances",
    "solve_csp",
    "split_multipliers",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CSPData:
    """A constrained shortest path instance with vertex resources folded into the arcs.

    Attributes
    ----------
    n, source, target
        Vertices ``0..n-1``; the path runs from ``source`` to ``target``.
    tails, heads, cost
        ``(m,)`` arcs and their costs.
    resources
        ``(m, K)`` resources of each arc plus those of its head vertex.
    base
        ``(K,)`` resources of the source vertex (consumed by every path).
    lower, upper
        ``(K,)`` limits on the total resource use.
    acyclic
        Whether the graph has no directed cycle.
    """

    n: int
    source: int
    target: int
    tails: np.ndarray
    heads: np.ndarray
    cost: np.ndarray
    resources: np.ndarray
    base: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    acyclic: bool

    @property
    def num_resources(self) -> int:
        """``K``."""
        return int(self.upper.size)

    def path_resources(self, arcs: np.ndarray) -> np.ndarray:
        """``R(P)``: total resources of the path given by its arc indices."""
        return self.base + self.resources[arcs].sum(axis=0)

    def feasible(self, resources: np.ndarray, tol: float = 1e-9) -> bool:
        """Whether ``lower <= R <= upper`` (with a relative tolerance)."""
        slack = tol * np.maximum(1.0, np.abs(self.upper))
        return bool(
            np.all(resources <= self.upper + slack) and np.all(resources >= self.lower - slack)
        )


def csp_data(
    n: int,
    tails: ArrayLike,
    heads: ArrayLike,
    cost: ArrayLike,
    arc_resources: ArrayLike,
    upper: ArrayLike,
    lower: ArrayLike | None = None,
    vertex_resources: ArrayLike | None = None,
    source: int = 0,
    target: int | None = None,
) -> CSPData:
    """Validate a CSP instance and fold its vertex resources into the arcs.

    Parameters
    ----------
    n
        Number of vertices.
    tails, heads, cost
        ``(m,)`` arcs (0-based) and costs.
    arc_resources
        ``(m, K)`` (or ``(m,)`` for one resource).
    upper, lower
        ``(K,)`` limits; ``lower`` defaults to zeros.
    vertex_resources
        ``(n, K)``, consumed by every vertex on the path; default zeros.
    source, target
        End vertices (``target`` defaults to ``n - 1``).

    Returns
    -------
    CSPData

    Examples
    --------
    >>> d = csp_data(3, [0, 1], [1, 2], [1, 1], [1, 1], [5], vertex_resources=[[1], [2], [3]])
    >>> d.resources.ravel().tolist(), d.base.tolist()
    ([3.0, 4.0], [1.0])
    """
    t = np.asarray(tails, dtype=np.int64).ravel()
    h = np.asarray(heads, dtype=np.int64).ravel()
    c = np.asarray(cost, dtype=np.float64).ravel()
    r = np.asarray(arc_resources, dtype=np.float64).reshape(t.size, -1)
    up = np.atleast_1d(np.asarray(upper, dtype=np.float64))
    k = up.size
    lo = np.zeros(k) if lower is None else np.atleast_1d(np.asarray(lower, dtype=np.float64))
    q = np.zeros((n, k)) if vertex_resources is None else np.asarray(vertex_resources, float)
    tgt = n - 1 if target is None else int(target)
    if h.size != t.size or c.size != t.size or r.shape != (t.size, k) or lo.shape != (k,):
        raise ModelError("CSP arrays disagree in length (arcs or resources)")
    if q.shape != (n, k):
        raise ModelError(f"vertex_resources must have shape ({n}, {k}), got {q.shape}")
    if t.size and (min(t.min(), h.min()) < 0 or max(t.max(), h.max()) >= n):
        raise ModelError(f"arc ends must lie in 0..{n - 1}")
    if not (0 <= source < n and 0 <= tgt < n) or source == tgt:
        raise ModelError("source and target must be two different vertices")
    if not all(np.all(np.isfinite(a)) for a in (c, r, q, lo, up)) or np.any(lo > up):
        raise ModelError("CSP data must be finite with lower <= upper")
    graph = sp.csr_matrix((np.ones(t.size), (t, h)), shape=(n, n))
    ncomp, _ = connected_components(graph, directed=True, connection="strong")
    acyclic = ncomp == n and not np.any(t == h)
    return CSPData(
        n=int(n),
        source=int(source),
        target=tgt,
        tails=t,
        heads=h,
        cost=c,
        resources=r + q[h],
        base=q[source].copy(),
        lower=lo,
        upper=up,
        acyclic=bool(acyclic),
    )


def _graph(data: CSPData, w: np.ndarray, reverse: bool = False) -> tuple[sp.csr_matrix, np.ndarray]:
    """The graph with arc lengths ``w``, parallel arcs reduced to the shortest; and their ids."""
    tails, heads = (data.heads, data.tails) if reverse else (data.tails, data.heads)
    order = np.lexsort((w, heads, tails))
    key = tails[order] * data.n + heads[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    ids = order[first]
    mat = sp.csr_matrix((w[ids], (tails[ids], heads[ids])), shape=(data.n, data.n))
    return mat, ids


def shortest_distances(
    data: CSPData, w: np.ndarray, origin: int, reverse: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shortest distances from ``origin`` with arc lengths ``w`` (to ``origin`` when ``reverse``).

    Dijkstra (scipy.sparse.csgraph); Bellman–Ford when some length is negative.

    Returns
    -------
    (dist, pred, ids)
        ``(n,)`` distances, ``(n,)`` predecessors, and the arc ids kept among parallel arcs.

    Raises
    ------
    InvalidPoint
        When the lengths have a negative cycle.

    Examples
    --------
    >>> d = csp_data(3, [0, 0, 1], [2, 1, 2], [5, 1, 1], [1, 2, 2], [3])
    >>> shortest_distances(d, d.cost, 0)[0].tolist()
    [0.0, 1.0, 2.0]
    """
    mat, ids = _graph(data, w, reverse)
    if w.size and w.min() < 0:
        try:
            dist, pred = bellman_ford(mat, indices=origin, return_predecessors=True)
        except NegativeCycleError:
            raise InvalidPoint("negative Lagrangian cycle") from None
    else:
        dist, pred = dijkstra(mat, indices=origin, return_predecessors=True)
    return dist, pred, ids


def _path_arcs(data: CSPData, pred: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Arc indices of the tree path ``source -> target`` given by predecessors."""
    nodes = [data.target]
    while nodes[-1] != data.source:
        nodes.append(int(pred[nodes[-1]]))
        if nodes[-1] < 0 or len(nodes) > data.n:
            raise ModelError("broken predecessor tree")  # pragma: no cover
    seq = np.array(nodes[::-1], dtype=np.int64)
    keys = data.tails[ids] * data.n + data.heads[ids]
    return ids[np.searchsorted(keys, seq[:-1] * data.n + seq[1:])]


@dataclass(frozen=True)
class CSPOracleResult:
    """The relaxed problem at ``lam = [mu, nu]``.

    Attributes
    ----------
    value
        ``L(mu, nu)`` (a lower bound on the optimum).
    arcs
        Arc indices of the shortest Lagrangian path, in order.
    cost
        ``c(P)``.
    resources
        ``(K,)`` ``R(P)``.
    subgradient
        ``(2K,)`` ``[R - upper, lower - R]``.
    """

    value: float
    arcs: np.ndarray
    cost: float
    resources: np.ndarray
    subgradient: np.ndarray


def split_multipliers(data: CSPData, lam: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``(mu, nu)`` from ``[mu, nu]`` (``2K`` entries) or ``mu`` alone (``K``; ``nu = 0``).

    Examples
    --------
    >>> d = csp_data(3, [0, 1], [1, 2], [1, 1], [1, 1], [5])
    >>> [a.tolist() for a in split_multipliers(d, [2.0])]
    [[2.0], [0.0]]
    """
    lam_a = np.asarray(lam, dtype=np.float64).ravel()
    k = data.num_resources
    if lam_a.size == k:
        return lam_a, np.zeros(k)
    if lam_a.size != 2 * k:
        raise ModelError(f"CSP multipliers must have {k} or {2 * k} entries, got {lam_a.size}")
    return lam_a[:k], lam_a[k:]


def csp_lagrangian(data: CSPData, lam: ArrayLike) -> CSPOracleResult:
    """Shortest path on the Lagrangian arc lengths ``c + (mu - nu) r'``.

    Parameters
    ----------
    data
        The instance.
    lam
        ``[mu, nu]`` (``2K`` entries) or ``mu`` alone (``K`` entries, ``nu = 0``).

    Returns
    -------
    CSPOracleResult

    Raises
    ------
    InvalidPoint
        When the lengths have a negative cycle (only possible with ``nu > 0`` on cyclic graphs).

    Examples
    --------
    >>> d = csp_data(3, [0, 0, 1], [2, 1, 2], [5, 1, 1], [1, 2, 2], [3])
    >>> r = csp_lagrangian(d, [0.0])
    >>> r.value, r.arcs.tolist(), r.subgradient.tolist()
    (2.0, [1, 2], [1.0, -4.0])
    """
    mu, nu = split_multipliers(data, lam)
    delta = mu - nu
    w = data.cost + data.resources @ delta
    dist, pred, ids = shortest_distances(data, w, data.source)
    if not np.isfinite(dist[data.target]):
        raise ModelError("the target cannot be reached from the source")
    arcs = _path_arcs(data, pred, ids)
    res = data.path_resources(arcs)
    const = float(delta @ data.base - mu @ data.upper + nu @ data.lower)
    return CSPOracleResult(
        value=float(dist[data.target]) + const,
        arcs=arcs,
        cost=float(data.cost[arcs].sum()),
        resources=res,
        subgradient=np.r_[res - data.upper, data.lower - res],
    )


def reach_bounds(data: CSPData) -> tuple[np.ndarray, np.ndarray]:
    """Per vertex and resource: the least and (a bound on) the most resource to the target.

    The most is computed only where a lower limit can bind on an acyclic graph (else ``inf``).

    Examples
    --------
    >>> d = csp_data(3, [0, 0, 1], [2, 1, 2], [5, 1, 1], [1, 2, 2], [3])
    >>> reach_bounds(d)[0].ravel().tolist()
    [1.0, 2.0, 0.0]
    """
    k = data.num_resources
    rmin, rmax = np.zeros((data.n, k)), np.full((data.n, k), np.inf)
    for j in range(k):
        r_j = data.resources[:, j]
        rmin[:, j] = shortest_distances(data, r_j, data.target, reverse=True)[0]
        if data.lower[j] > data.base[j] and data.acyclic:
            rmax[:, j] = -shortest_distances(data, -r_j, data.target, reverse=True)[0]
    return rmin, rmax


@dataclass(frozen=True)
class CSPResult:
    """A standalone solve of a constrained shortest path.

    Attributes
    ----------
    status
        ``"optimal"`` (proven), ``"feasible"``, ``"infeasible"`` (proven) or ``"unknown"``.
    objective
        Cost of ``arcs`` (``inf`` when no feasible path was found).
    bound
        The best proven lower bound (``objective`` when optimal).
    lagrangian_bound
        ``L(lam)`` at ``multipliers`` (the Lagrangian dual value reached).
    gap
        ``(objective - bound) / max(1, |objective|)``.
    arcs, nodes
        The path as arc indices and as vertices.
    resources
        ``(K,)`` its resource use ``R(P)``.
    multipliers
        ``(2K,)`` ``[mu, nu]`` of the rows ``R - upper <= 0`` and ``lower - R <= 0``.
    proven_optimal
        ``status == "optimal"``.
    bound_method, point_method
        What produced the bound and the path: ``"lagrangian_bundle"``,
        ``"lagrangian_enumeration"``, ``"highs_mip_fallback"``, ``"lagrangian_oracle"``.
    labels
        Partial paths created by the enumeration.
    trace
        The dual iterations (history arrays).
    seconds
        Wall time.
    """

    status: str
    objective: float
    bound: float
    lagrangian_bound: float
    gap: float
    arcs: np.ndarray
    nodes: np.ndarray
    resources: np.ndarray
    multipliers: np.ndarray
    proven_optimal: bool
    bound_method: str
    point_method: str
    labels: int
    trace: DualTrace | None
    seconds: float


class _Best:
    """The incumbent path of a solve."""

    def __init__(self) -> None:
        self.cost = math.inf
        self.arcs = np.zeros(0, dtype=np.int64)
        self.method = "none"

    def offer(self, cost: float, arcs: np.ndarray, method: str) -> None:
        if cost < self.cost - 1e-12:
            self.cost, self.arcs, self.method = cost, arcs, method


def _result(data: CSPData, best: _Best, bound: float, how: str, extra: dict) -> CSPResult:
    proven = math.isfinite(best.cost) and bound >= best.cost - 1e-9 * (1 + abs(best.cost))
    infeasible = not math.isfinite(best.cost) and bound == math.inf
    status = (
        "optimal"
        if proven
        else "infeasible"
        if infeasible
        else ("feasible" if math.isfinite(best.cost) else "unknown")
    )
    nodes = np.r_[data.source, data.heads[best.arcs]] if best.arcs.size else np.zeros(0, int)
    gap = (best.cost - bound) / max(1.0, abs(best.cost)) if math.isfinite(best.cost) else math.inf
    return CSPResult(
        status=status,
        objective=best.cost,
        bound=min(bound, best.cost),
        gap=max(gap, 0.0),
        arcs=best.arcs,
        nodes=nodes.astype(np.int64),
        resources=data.path_resources(best.arcs)
        if best.arcs.size
        else np.full(data.lower.size, np.nan),
        proven_optimal=proven,
        bound_method=how,
        point_method=best.method,
        **extra,
    )


def _dual(data: CSPData, best: _Best, method: str, max_iter: int, limit: float) -> DualTrace:
    k = data.num_resources
    rmin_s = reach_bounds(data)[0][data.source] + data.base
    nu_cap = np.where(data.lower > rmin_s + 1e-9, np.inf, 0.0)
    integral = bool(np.all(data.cost == np.round(data.cost)))

    def oracle(lam: np.ndarray) -> tuple[float, np.ndarray]:
        r = csp_lagrangian(data, lam)
        if data.feasible(r.resources):
            best.offer(r.cost, r.arcs, "lagrangian_oracle")
        return r.value, r.subgradient

    def closed(dual: float) -> bool:
        low = math.ceil(dual - 1e-9) if integral else dual
        return low >= best.cost - 1e-9 * (1 + abs(best.cost))

    return maximize_dual(
        oracle,
        np.zeros(2 * k),
        0.0,
        np.r_[np.full(k, np.inf), nu_cap],
        method=method,
        max_iter=max_iter,
        time_limit=limit,
        tol=1e-7,
        target=lambda: best.cost,
        stop=closed,
    )


def solve_csp(
    data: CSPData,
    *,
    method: str = "bundle",
    max_iter: int = 300,
    time_limit: float = 5.0,
    max_labels: int = 200_000,
    fallback: bool = True,
) -> CSPResult:
    """Solve a constrained shortest path exactly: Lagrangian dual, enumeration, MIP fallback.

    Parameters
    ----------
    data
        From :func:`csp_data`.
    method
        Dual method: ``"bundle"`` or ``"subgradient"``.
    max_iter
        Dual iterations.
    time_limit
        Seconds for the whole solve (the dual gets 30%, the enumeration up to 60%).
    max_labels
        Partial paths the enumeration may create before the MIP takes over.
    fallback
        Whether to call the HiGHS MIP when the enumeration gives up.

    Returns
    -------
    CSPResult

    Examples
    --------
    >>> d = csp_data(3, [0, 0, 1], [2, 1, 2], [5, 1, 1], [1, 2, 2], [3])
    >>> r = solve_csp(d)
    >>> r.status, r.objective, r.bound
    ('optimal', 5.0, 5.0)
    """
    from ortools_lag.algorithms.csp_search import csp_enumerate, csp_mip  # it imports this module

    start = time.perf_counter()
    best = _Best()
    reach = dijkstra(_graph(data, np.ones(data.tails.size))[0], indices=data.source)
    rmin_s = reach_bounds(data)[0][data.source] + data.base
    if not np.isfinite(reach[data.target]) or np.any(rmin_s > data.upper + 1e-9):
        return _result(data, best, math.inf, "reachability", _extra(data, None, 0, start))
    trace = _dual(data, best, method, max_iter, 0.3 * time_limit)
    if trace.termination == "stopped":
        integral = bool(np.all(data.cost == np.round(data.cost)))
        low = math.ceil(trace.value - 1e-9) if integral else trace.value
        how = f"lagrangian_{trace.method}" + ("+integer_rounding" if low > trace.value else "")
        return _result(data, best, low, how, _extra(data, trace, 0, start))
    left = time_limit - (time.perf_counter() - start)
    enum = csp_enumerate(
        data,
        trace.lam,
        best.cost,
        best.arcs,
        max_labels=max_labels,
        time_limit=max(0.6 * left, 0.0) if fallback else left,
    )
    best.offer(enum.cost, enum.arcs, "lagrangian_enumeration")
    bound, how = max(trace.value, enum.bound), "lagrangian_enumeration"
    if not enum.proven and fallback:
        log.info("CSP enumeration stopped after %d labels; HiGHS MIP fallback", enum.labels)
        mip = csp_mip(data, time_limit=time_limit - (time.perf_counter() - start))
        best.offer(mip.cost, mip.arcs, "highs_mip_fallback")
        bound, how = max(bound, mip.bound), "highs_mip_fallback"
    return _result(data, best, bound, how, _extra(data, trace, enum.labels, start))


def _extra(data: CSPData, trace: DualTrace | None, labels: int, start: float) -> dict:
    k = data.num_resources
    return dict(
        lagrangian_bound=trace.value if trace is not None else -math.inf,
        multipliers=trace.lam if trace is not None else np.zeros(2 * k),
        labels=labels,
        trace=trace,
        seconds=time.perf_counter() - start,
    )
