"""The constrained shortest path instance, its shortest paths and its Lagrangian oracle.

:class:`CSPData` holds an instance with the vertex resources folded into the arcs
(``r'_(u,v) = r_(u,v) + q_v``, plus ``q_s`` once, in ``base``); :func:`csp_data` validates and
builds it. :func:`shortest_distances` runs Dijkstra (Bellman–Ford on negative lengths) on it,
:func:`csp_lagrangian` is the relaxed problem at ``lam = [mu, nu]`` (a shortest path on the
lengths ``c + (mu - nu) r'``) and :func:`reach_bounds` the least and most resource left on the
way to the target. The dual solve (:mod:`ortools_lag.algorithms.csp`) and the exact gap closing
(:mod:`ortools_lag.algorithms.csp_search`) both work on these.

>>> d = csp_data(3, [0, 0, 1], [2, 1, 2], [5, 1, 1], [1, 2, 2], [3])
>>> csp_lagrangian(d, [1.0]).value
3.0
"""

from __future__ import annotations

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

from ortools_lag.algorithms.dual_bundle import InvalidPoint
from ortools_lag.errors import ModelError

__all__ = [
    "CSPData",
    "CSPOracleResult",
    "csp_data",
    "csp_lagrangian",
    "reach_bounds",
    "shortest_distances",
    "split_multipliers",
]


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
