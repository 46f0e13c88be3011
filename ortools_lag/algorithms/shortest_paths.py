"""Shortest paths with their node potentials: Dijkstra, Bellman-Ford/Johnson, negative cycles.

Formulation (single source ``s``; a single pair ``s -> t`` is the same with ``b_t = -1`` and
``b = 0`` elsewhere)::

    min  sum_a c_a x_a
    s.t. out(v) - in(v) == b_v          for every node v        (multiplier pi_v, free)
         x_a >= 0

with ``b_s = (number of nodes reachable from s) - 1`` and ``b_v = -1`` at the other reachable
nodes. The Lagrangian in the project's convention (the README's) is
``L = c.x + sum_v pi_v (out(v) - in(v) - b_v)``, so the coefficient of ``x_uv`` is the
*reduced cost* ``c_uv + pi_u - pi_v``; dual feasibility is ``c_uv + pi_u - pi_v >= 0`` on every
arc, complementary slackness ``= 0`` on every arc that carries flow (the tree arcs), and the dual
value is ``-sum_v pi_v b_v``. The distances ``pi_v = d(s, v)`` satisfy all three, with
``pi_s = 0``: **the multiplier of node v's conservation row is its distance from the source**
(unique up to an additive constant, fixed here by ``pi_s = 0``). Nodes not reachable from ``s``
get ``pi = inf``; :func:`complete_potentials` replaces these by finite values that keep every
reduced cost ``>= 0``.

A negative-cost cycle (anywhere in the graph) makes the LP unbounded and rules out any feasible
potential; it is then *extracted* and returned as a list of nodes.

Algorithms: Dijkstra from ``scipy.sparse.csgraph`` for non-negative costs; for negative costs,
Johnson: a vectorised Bellman-Ford (queue-free: each round relaxes, in numpy, the arcs leaving
the nodes improved in the round before) from a virtual root computes feasible potentials ``h`` or
finds a negative cycle in the predecessor graph, then Dijkstra runs on ``c + h_u - h_v >= 0``.

>>> import numpy as np
>>> tail, head = np.array([0, 0, 1, 2]), np.array([1, 2, 2, 3])
>>> cost = np.array([1.0, 4.0, 2.0, 1.0])
>>> tree = shortest_paths(4, tail, head, cost, source=0)
>>> tree.potential.tolist()
[0.0, 1.0, 3.0, 4.0]
>>> reduced_costs(tail, head, cost, tree.potential).tolist()
[0.0, 1.0, 0.0, 0.0]
>>> tree.path_to(3)[0].tolist()
[0, 1, 2, 3]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import dijkstra

from ortools_lag.errors import ModelError

__all__ = [
    "ArcGraph",
    "BellmanFordResult",
    "ShortestPathTree",
    "arc_arrays",
    "arc_graph",
    "bellman_ford",
    "check_potentials",
    "complete_potentials",
    "find_negative_cycle",
    "reduced_costs",
    "shortest_path",
    "shortest_paths",
]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def arc_arrays(
    n: int, tail: ArrayLike, head: ArrayLike, *values: ArrayLike, names: tuple[str, ...] = ()
) -> tuple[NDArray, ...]:
    """Validate an arc list and return ``(tail, head, *values)`` as int64 / float64 arrays.

    Parameters
    ----------
    n
        Number of nodes; ``tail`` and ``head`` must lie in ``0..n-1``.
    tail, head
        0-based end nodes of each arc.
    *values
        Per-arc numbers (cost, capacity, ...), each of the arcs' length; must be finite.
    names
        Names of ``values`` for error messages.

    Raises
    ------
    ModelError
        Wrong shapes, out-of-range nodes, non-finite values.

    Examples
    --------
    >>> t, h, c = arc_arrays(2, [0], [1], [2.5])
    >>> (t.dtype.name, c.tolist())
    ('int64', [2.5])
    """
    if int(n) != n or n < 0:
        raise ModelError(f"the number of nodes must be an integer >= 0, got {n!r}")
    t = np.asarray(tail)
    h = np.asarray(head)
    if t.ndim != 1 or t.shape != h.shape:
        raise ModelError(f"tail and head must be 1-D of one length, got {t.shape} and {h.shape}")
    for name, a in (("tail", t), ("head", h)):
        if a.size and (not np.issubdtype(a.dtype, np.integer) and np.any(a != np.round(a))):
            raise ModelError(f"{name} must hold integer node indices")
        if a.size and (a.min() < 0 or a.max() >= n):
            raise ModelError(f"{name} has a node outside 0..{n - 1}")
    out: list[NDArray] = [t.astype(np.int64, copy=False), h.astype(np.int64, copy=False)]
    for k, v in enumerate(values):
        name = names[k] if k < len(names) else f"values[{k}]"
        a = np.asarray(v, dtype=np.float64)
        if a.shape != t.shape:
            raise ModelError(f"{name} must have one entry per arc ({t.size}), got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ModelError(f"{name} must be finite")
        out.append(a)
    return tuple(out)


@dataclass(frozen=True, eq=False)
class ShortestPathTree:
    """Distances from ``source`` = node potentials, with the shortest-path tree.

    Attributes
    ----------
    source
        The root.
    potential
        ``pi_v = d(source, v)``: the multiplier of node v's row ``out(v) - in(v) == b_v``;
        ``pi_source = 0``, ``inf`` where v is unreachable, all ``nan`` when unbounded.
    predecessor
        The node before v on a shortest path; -1 at the source and unreachable nodes.
    pred_arc
        Index (into the input arcs) of the tree arc entering v; -1 where there is none.
    negative_cycle, negative_cycle_arcs
        When a negative cycle exists: its nodes ``v_0 .. v_{k-1}`` and arcs
        (``negative_cycle_arcs[i]`` goes from ``v_i`` to ``v_{i+1 mod k}``); else ``None``.
    """

    source: int
    potential: FloatArray
    predecessor: IntArray
    pred_arc: IntArray
    negative_cycle: IntArray | None = None
    negative_cycle_arcs: IntArray | None = None

    @property
    def unbounded(self) -> bool:
        """Whether a negative cycle makes the problem unbounded."""
        return self.negative_cycle is not None

    def path_to(self, target: int) -> tuple[IntArray, IntArray]:
        """Nodes and arc indices of the tree path ``source -> target`` (empty if unreachable).

        Examples
        --------
        >>> import numpy as np
        >>> tree = shortest_paths(3, np.array([0, 1]), np.array([1, 2]), np.ones(2), source=0)
        >>> [a.tolist() for a in tree.path_to(2)]
        [[0, 1, 2], [0, 1]]
        """
        if self.unbounded or not np.isfinite(self.potential[target]):
            return np.empty(0, np.int64), np.empty(0, np.int64)
        nodes = [int(target)]
        while nodes[-1] != self.source:  # one step per path arc: the output's own size
            nodes.append(int(self.predecessor[nodes[-1]]))
        path = np.array(nodes[::-1], dtype=np.int64)
        return path, self.pred_arc[path[1:]]


@dataclass(frozen=True, eq=False)
class BellmanFordResult:
    """Distances from a root (or from a virtual root joined to every node by 0-cost arcs).

    ``distance`` is a feasible potential (``c_uv + d_u - d_v >= 0`` on arcs with ``d_u < inf``)
    when ``negative_cycle`` is ``None``; ``pred_arc[v]`` is the arc that set ``d_v`` (-1: none).
    """

    distance: FloatArray
    pred_arc: IntArray
    rounds: int
    negative_cycle: IntArray | None = None
    negative_cycle_arcs: IntArray | None = None


def reduced_costs(tail: ArrayLike, head: ArrayLike, cost: ArrayLike, pi: ArrayLike) -> FloatArray:
    """Reduced costs ``c_uv + pi_u - pi_v`` of the arcs under node potentials ``pi``.

    This is the coefficient of ``x_uv`` in ``L = c.x + sum_v pi_v (out(v) - in(v) - b_v)``;
    ``nan`` where both ends have ``pi = inf`` (both unreachable).

    Examples
    --------
    >>> reduced_costs([0], [1], [5.0], [0.0, 3.0]).tolist()
    [2.0]
    """
    p = np.asarray(pi, dtype=np.float64)
    t, h = np.asarray(tail, dtype=np.int64), np.asarray(head, dtype=np.int64)
    c = np.asarray(cost, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out: FloatArray = c + p[t] - p[h]
    return out


def _ranges(starts: IntArray, counts: IntArray) -> IntArray:
    """Concatenate ``arange(s, s + c)`` for each pair, vectorised."""
    total = int(counts.sum())
    offsets = np.repeat(starts - np.cumsum(counts) + counts, counts)
    return offsets + np.arange(total)


def _pred_cycle(pred_node: IntArray) -> IntArray | None:
    """A cycle of the functional graph ``v -> pred_node[v]`` (-1 = root), as nodes, or None."""
    n = pred_node.size
    p = np.append(np.where(pred_node < 0, n, pred_node), n)
    q = p
    for _ in range(max(1, math.ceil(math.log2(n + 1)))):  # q = p^(2^k), 2^k >= n + 1 steps
        q = q[q]
    on_cycle = np.flatnonzero(q[:n] != n)
    if on_cycle.size == 0:
        return None
    start = int(q[on_cycle[0]])
    walk = [start]
    v = int(p[start])
    while v != start:  # one step per cycle node: the output's own size
        walk.append(v)
        v = int(p[v])
    cycle = np.array(walk[::-1], dtype=np.int64)
    return np.roll(cycle, -int(np.argmin(cycle)))  # start at the smallest node


def bellman_ford(
    n: int,
    tail: ArrayLike,
    head: ArrayLike,
    cost: ArrayLike,
    source: int | None = None,
    *,
    check_every: int = 8,
) -> BellmanFordResult:
    """Vectorised Bellman-Ford with negative-cycle extraction.

    Each round relaxes, at once in numpy, the arcs leaving the nodes improved in the previous
    round. Every ``check_every`` rounds (and every round after ``n``) the predecessor graph is
    searched for a cycle by pointer jumping; any such cycle has negative cost.

    Parameters
    ----------
    n, tail, head, cost
        The graph (0-based arcs ``tail[k] -> head[k]`` of cost ``cost[k]``).
    source
        The root; ``None`` for a virtual root with 0-cost arcs to every node (Johnson's
        potentials, and detection of a negative cycle anywhere in the graph).
    check_every
        Rounds between predecessor-graph cycle checks.

    Returns
    -------
    BellmanFordResult

    Examples
    --------
    >>> import numpy as np
    >>> r = bellman_ford(3, np.array([0, 1, 2]), np.array([1, 2, 1]), np.array([1.0, 1.0, -3.0]))
    >>> r.negative_cycle.tolist(), r.negative_cycle_arcs.tolist()
    ([1, 2], [1, 2])
    """
    t, h, c = arc_arrays(n, tail, head, cost, names=("cost",))
    if source is not None and not 0 <= source < n:
        raise ModelError(f"source {source} is not a node (0..{n - 1})")
    order = np.argsort(t, kind="stable")
    ts, hs, cs = t[order], h[order], c[order]
    indptr = np.searchsorted(ts, np.arange(n + 1))
    d = np.zeros(n) if source is None else np.full(n, np.inf)
    pred = np.full(n, -1, dtype=np.int64)  # position in the sorted order
    if source is not None:
        d[source] = 0.0
    active = np.arange(n) if source is None else np.array([source], dtype=np.int64)
    rounds = 0
    while active.size:
        rounds += 1
        arcs = _ranges(indptr[active], indptr[active + 1] - indptr[active])
        cand = d[ts[arcs]] + cs[arcs]
        better = cand < d[hs[arcs]]
        arcs, cand = arcs[better], cand[better]
        if arcs.size == 0:
            break
        hv = hs[arcs]
        o = np.lexsort((cand, hv))
        first = np.ones(o.size, dtype=bool)
        first[1:] = hv[o[1:]] != hv[o[:-1]]
        win = o[first]
        active = hv[win]
        d[active] = cand[win]
        pred[active] = arcs[win]
        if rounds % check_every == 0 or rounds >= n:
            cycle = _pred_cycle(np.where(pred >= 0, ts[np.maximum(pred, 0)], -1))
            if cycle is not None:
                into = order[pred[np.roll(cycle, -1)]]
                nan = np.full(n, np.nan)
                return BellmanFordResult(nan, _arc_ids(order, pred), rounds, cycle, into)
    return BellmanFordResult(d, _arc_ids(order, pred), rounds)


def _arc_ids(order: IntArray, pred: IntArray) -> IntArray:
    out = np.full(pred.size, -1, dtype=np.int64)
    has = pred >= 0
    out[has] = order[pred[has]]
    return out


def find_negative_cycle(
    n: int, tail: ArrayLike, head: ArrayLike, cost: ArrayLike
) -> tuple[IntArray, IntArray] | None:
    """A negative-cost cycle anywhere in the graph as ``(nodes, arcs)``, or ``None``.

    ``arcs[i]`` goes from ``nodes[i]`` to ``nodes[(i + 1) % k]``; its cost sum is ``< 0``.

    Examples
    --------
    >>> import numpy as np
    >>> find_negative_cycle(2, np.array([0, 1]), np.array([1, 0]), np.array([1.0, -2.0]))[0]
    array([0, 1])
    >>> find_negative_cycle(2, np.array([0, 1]), np.array([1, 0]), np.array([1.0, 2.0])) is None
    True
    """
    r = bellman_ford(n, tail, head, cost)
    if r.negative_cycle is None or r.negative_cycle_arcs is None:
        return None
    return r.negative_cycle, r.negative_cycle_arcs


@dataclass(frozen=True, eq=False)
class ArcGraph:
    """The arcs as a CSR cost matrix for ``scipy.sparse.csgraph``: the cheapest arc of each
    ``(u, v)`` (zero-cost arcs kept as explicit entries); ``dropped``: the other parallel arcs.

    Build it once with :func:`arc_graph` and hand it to :func:`shortest_paths` (and to
    reachability searches) to skip the conversion.
    """

    matrix: sp.csr_matrix
    dropped: IntArray


def arc_graph(n: int, tail: IntArray, head: IntArray, cost: FloatArray) -> ArcGraph:
    """The :class:`ArcGraph` of arcs ``tail[k] -> head[k]`` with costs ``cost[k]``.

    Examples
    --------
    >>> import numpy as np
    >>> g = arc_graph(2, np.array([0, 0]), np.array([1, 1]), np.array([3.0, 2.0]))
    >>> g.matrix.toarray().tolist(), g.dropped.tolist()
    ([[0.0, 2.0], [0.0, 0.0]], [0])
    """
    matrix = sp.csr_matrix((cost, (tail, head)), shape=(n, n))  # sums parallel arcs
    if matrix.nnz == tail.size:  # no parallel arcs: entries are the arcs' costs
        return ArcGraph(matrix, np.empty(0, dtype=np.int64))
    # The real part sums the costs of parallel arcs, the imaginary part counts them.
    tagged = sp.csr_matrix((cost + 1j, (tail, head)), shape=(n, n))
    matrix = sp.csr_matrix((tagged.data.real.copy(), tagged.indices, tagged.indptr), shape=(n, n))
    dup = np.flatnonzero(tagged.data.imag > 1.5)  # entries of parallel arcs, in key order
    rows = np.searchsorted(tagged.indptr, dup, side="right") - 1
    dup_keys = rows * n + tagged.indices[dup]
    marked = np.zeros(n, dtype=bool)
    marked[rows] = True
    cand = np.flatnonzero(marked[tail])
    cand = cand[np.isin(tail[cand] * n + head[cand], dup_keys)]
    keys = tail[cand] * n + head[cand]
    cand = cand[np.lexsort((cost[cand], keys))]
    keys = tail[cand] * n + head[cand]
    first = np.ones(cand.size, dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    matrix.data[dup] = cost[cand[first]]  # the cheapest of each group, groups in key order
    return ArcGraph(matrix, cand[~first])


def _dijkstra(
    n: int,
    tail: IntArray,
    head: IntArray,
    cost: FloatArray,
    source: int,
    graph: ArcGraph | None = None,
) -> tuple[FloatArray, IntArray, IntArray]:
    g = arc_graph(n, tail, head, cost) if graph is None else graph
    dist, pred = dijkstra(g.matrix, indices=source, return_predecessors=True)
    pred = pred.astype(np.int64)
    pred[pred < 0] = -1
    on_tree = tail == pred[head]
    on_tree[g.dropped] = False  # now one arc pred[v] -> v per node v
    arcs = np.flatnonzero(on_tree)
    pred_arc = np.full(n, -1, dtype=np.int64)
    pred_arc[head[arcs]] = arcs
    return dist, pred, pred_arc


def shortest_paths(
    n: int,
    tail: ArrayLike,
    head: ArrayLike,
    cost: ArrayLike,
    source: int,
    *,
    method: Literal["auto", "dijkstra", "johnson"] = "auto",
    graph: ArcGraph | None = None,
) -> ShortestPathTree:
    """Single-source shortest paths with the node potentials that certify them.

    Parameters
    ----------
    n, tail, head, cost
        The directed graph: arc ``k`` goes ``tail[k] -> head[k]`` (0-based) with cost ``cost[k]``;
        parallel arcs and self-loops are allowed.
    source
        The root.
    method
        ``"dijkstra"`` (costs must be ``>= 0``), ``"johnson"`` (any costs; negative cycles
        detected and extracted) or ``"auto"``: Dijkstra unless a cost is negative.
    graph
        The :func:`arc_graph` of these arcs and costs, when the caller already has it and
        has validated the arrays (Dijkstra then skips both).

    Returns
    -------
    ShortestPathTree
        ``potential`` = distances (the conservation rows' multipliers, ``pi_source = 0``); when
        the graph has a negative cycle, ``unbounded`` is true and the cycle is given.

    Examples
    --------
    >>> import numpy as np
    >>> t, h, c = np.array([0, 0, 1]), np.array([1, 2, 2]), np.array([2.0, 1.0, -3.0])
    >>> shortest_paths(3, t, h, c, source=0).potential.tolist()
    [0.0, 2.0, -1.0]
    """
    if graph is None:
        t, h, c = arc_arrays(n, tail, head, cost, names=("cost",))
    else:  # the caller validated these arrays when it built their graph
        t, h, c = np.asarray(tail), np.asarray(head), np.asarray(cost, dtype=np.float64)
    if not 0 <= source < n:
        raise ModelError(f"source {source} is not a node (0..{n - 1})")
    negative = bool(c.size) and float(c.min()) < 0
    if method == "dijkstra" and negative:
        raise ModelError("Dijkstra needs costs >= 0; use method='johnson' or 'auto'")
    if method not in ("auto", "dijkstra", "johnson"):
        raise ModelError(f"unknown method {method!r}; choose auto, dijkstra or johnson")
    if not negative:
        dist, pred, pred_arc = _dijkstra(n, t, h, c, source, graph)
        return ShortestPathTree(source, dist, pred, pred_arc)
    bf = bellman_ford(n, t, h, c)
    if bf.negative_cycle is not None:
        nan = np.full(n, np.nan)
        none = np.full(n, -1, dtype=np.int64)
        return ShortestPathTree(source, nan, none, none, bf.negative_cycle, bf.negative_cycle_arcs)
    pot = bf.distance
    reweighted = np.maximum(c + pot[t] - pot[h], 0.0)  # >= 0 up to rounding
    dist, pred, pred_arc = _dijkstra(n, t, h, reweighted, source)
    dist = dist + pot - pot[source]
    dist[source] = 0.0
    return ShortestPathTree(source, dist, pred, pred_arc)


def shortest_path(
    n: int, tail: ArrayLike, head: ArrayLike, cost: ArrayLike, source: int, target: int
) -> tuple[float, IntArray, IntArray, ShortestPathTree]:
    """Single pair ``source -> target``: ``(length, nodes, arcs, tree)``.

    The tree's potentials certify the pair too: the dual value of the pair LP
    (``b_source = 1``, ``b_target = -1``) is ``pi_target - pi_source = length``. ``length`` is
    ``inf`` when the target is unreachable and ``-inf`` when a negative cycle exists.

    Examples
    --------
    >>> import numpy as np
    >>> length, nodes, arcs, _ = shortest_path(
    ...     3, np.array([0, 1, 0]), np.array([1, 2, 2]), np.array([1.0, 1.0, 5.0]), 0, 2)
    >>> length, nodes.tolist(), arcs.tolist()
    (2.0, [0, 1, 2], [0, 1])
    """
    if not 0 <= target < n:
        raise ModelError(f"target {target} is not a node (0..{n - 1})")
    tree = shortest_paths(n, tail, head, cost, source)
    if tree.unbounded:
        empty = np.empty(0, np.int64)
        return -math.inf, empty, empty, tree
    nodes, arcs = tree.path_to(target)
    return float(tree.potential[target]), nodes, arcs, tree


def complete_potentials(
    n: int, tail: ArrayLike, head: ArrayLike, cost: ArrayLike, pi: ArrayLike
) -> FloatArray:
    """Replace ``inf`` potentials (unreachable nodes) by finite ones, keeping reduced costs >= 0.

    With ``U`` the unreachable nodes and ``h`` any feasible potential (``0`` for costs ``>= 0``,
    else Johnson's), ``pi_U = h_U + K`` with ``K`` large enough for the arcs from ``U`` to the
    reachable nodes (no arc goes the other way). Needed where a multiplier must be finite.

    Examples
    --------
    >>> import numpy as np
    >>> complete_potentials(3, [0, 2], [1, 1], [1.0, 1.0], [0.0, 1.0, np.inf]).tolist()
    [0.0, 1.0, 0.0]
    """
    p = np.array(pi, dtype=np.float64)
    unreached = ~np.isfinite(p)
    if not unreached.any():
        return p
    t, h, c = arc_arrays(n, tail, head, cost, names=("cost",))
    base = np.zeros(n)
    if c.size and c.min() < 0:
        bf = bellman_ford(n, t, h, c)
        if bf.negative_cycle is not None:
            raise ModelError("no feasible potentials: the graph has a negative cycle")
        base = bf.distance
    cross = unreached[t] & ~unreached[h]
    need = p[h[cross]] - c[cross] - base[t[cross]]
    shift = float(need.max()) if need.size else 0.0
    p[unreached] = base[unreached] + shift
    return p


def check_potentials(
    tail: ArrayLike,
    head: ArrayLike,
    cost: ArrayLike,
    pi: ArrayLike,
    *,
    source: int | None = None,
    pred_arc: ArrayLike | None = None,
) -> float:
    """Worst violation of the shortest-path certificate (0.0 for an exact certificate).

    Checks dual feasibility (``c_uv + pi_u - pi_v >= 0`` on every arc whose tail has a finite
    potential; an arc from a finite to an infinite potential counts ``inf``); with ``source``,
    ``pi_source = 0``; with ``pred_arc``, that the tree arcs have reduced cost 0 and form no
    cycle, and (given ``source``) that each node of finite potential but the source has one,
    the source none: then ``pi`` are the exact distances.

    Examples
    --------
    >>> import numpy as np
    >>> check_potentials([0, 1], [1, 2], [1.0, 1.0], [0.0, 1.0, 2.0], source=0,
    ...                  pred_arc=[-1, 0, 1])
    0.0
    >>> check_potentials([0, 1], [1, 2], [1.0, 1.0], [0.0, 1.0, 3.0])
    1.0
    """
    t, h = np.asarray(tail, dtype=np.int64), np.asarray(head, dtype=np.int64)
    p = np.asarray(pi, dtype=np.float64)
    if np.any(np.isnan(p) | (p == -np.inf)):
        return math.inf
    rc = reduced_costs(t, h, cost, p)
    live = np.isfinite(p[t])
    worst = float(np.max(-rc[live], initial=0.0))
    if source is not None:
        worst = max(worst, abs(float(p[source])))
    if pred_arc is not None:
        worst = max(worst, _tree_violation(t, h, rc, p, source, np.asarray(pred_arc)))
    return max(worst, 0.0) + 0.0  # no -0.0


def _tree_violation(
    t: IntArray, h: IntArray, rc: FloatArray, p: FloatArray, source: int | None, pred_arc: NDArray
) -> float:
    n = p.size
    has = pred_arc >= 0
    if np.any(h[pred_arc[has]] != np.flatnonzero(has)):
        return math.inf
    if source is not None:  # every other node of finite potential needs its tree arc
        rootless = np.isfinite(p) & ~has
        rootless[source] = False
        if rootless.any():
            return math.inf
    worst = float(np.max(np.abs(rc[pred_arc[has]]), initial=0.0))
    parent = np.where(has, t[np.maximum(pred_arc, 0)], -1)
    if source is not None and parent[source] >= 0:
        return math.inf
    if _pred_cycle(parent) is not None:
        return math.inf
    return worst if n else 0.0
