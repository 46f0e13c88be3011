"""Max flow with its min cut, and min-cost-flow node potentials recovered from any optimal flow.

**Max flow** (source ``s``, sink ``t``)::

    max  F
    s.t. out(v) - in(v) == F * b_v      for every node v    (multiplier pi_v, free)
         0 <= x_a <= cap_a                                  (multiplier eta_a >= 0 of x - cap <= 0)

with ``b_s = 1``, ``b_t = -1``, ``b = 0`` elsewhere. As the minimisation of ``-F``,
``L = -F + sum_v pi_v (out(v) - in(v) - F b_v) + sum_a eta_a (x_a - cap_a) - sum_a zeta_a x_a``;
stationarity reads ``pi_t - pi_s = 1`` (in ``F``) and ``pi_u - pi_v + eta_a - zeta_a = 0`` (in
``x_uv``). A minimum cut ``(S, T)`` gives the optimal multipliers ``pi_v = 0`` on ``S``,
``pi_v = 1`` on ``T``, ``eta_a = 1`` on the arcs from ``S`` to ``T`` (saturated), ``zeta_a = 1``
on the arcs from ``T`` to ``S`` (empty), and the dual bound ``sum_a eta_a cap_a`` = the cut's
capacity = the flow value. :func:`max_flow` returns the cut as ``source_side`` (the nodes
reachable from ``s`` in the residual graph) with these multipliers.

**Min-cost flow**::

    min  sum_a c_a x_a
    s.t. out(v) - in(v) == b_v          (multiplier pi_v, free: the node potential)
         low_a <= x_a <= cap_a          (eta_a >= 0 of x - cap <= 0, zeta_a >= 0 of low - x <= 0)

``L = c.x + sum_v pi_v (out(v) - in(v) - b_v) + sum_a eta_a (x_a - cap_a) + zeta_a (low_a - x_a)``:
the reduced cost ``rc_uv = c_uv + pi_u - pi_v`` must be ``>= 0`` where ``x < cap``, ``<= 0``
where ``x > low``, and ``eta = max(0, -rc)``, ``zeta = max(0, rc)``. A feasible flow is optimal
iff its residual graph (``u -> v`` at cost ``c`` where ``x < cap``, ``v -> u`` at cost ``-c``
where ``x > low``) has no negative cycle; then the shortest distances in it from a virtual root
(0-cost arcs to every node) are such potentials. :func:`flow_potentials` computes them for a flow
from any solver (networkx, OR-Tools, HiGHS), or returns the negative cycle that proves the flow
not optimal.

>>> import numpy as np
>>> tail, head, cap = np.array([0, 0, 1]), np.array([1, 2, 2]), np.array([2.0, 1.0, 1.0])
>>> r = max_flow(3, tail, head, cap, source=0, sink=2)
>>> r.value, r.flow.tolist(), r.source_side.tolist(), r.cut_arcs.tolist()
(2.0, [1.0, 1.0, 1.0], [True, True, False], [1, 2])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from ortools_lag.algorithms.shortest_paths import arc_arrays, bellman_ford, reduced_costs
from ortools_lag.errors import ModelError

__all__ = [
    "FlowPotentials",
    "MaxFlowResult",
    "check_max_flow",
    "check_min_cost_flow",
    "flow_potentials",
    "max_flow",
    "min_cut",
    "node_imbalance",
]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
_INT32_MAX = 2**31 - 1


@dataclass(frozen=True, eq=False)
class MaxFlowResult:
    """A maximum flow and the minimum cut that certifies it.

    Attributes
    ----------
    value
        The flow value ``F`` (net flow out of the source).
    flow
        Flow on each input arc: ``0 <= flow <= cap``, conserved at every other node.
    source_side
        ``S``: nodes reachable from the source in the residual graph; the sink is not in it.
    cut_arcs
        Arcs from ``S`` to ``T``; all saturated, their capacities sum to ``value``.
    """

    value: float
    flow: FloatArray
    source_side: BoolArray
    cut_arcs: IntArray

    @property
    def potential(self) -> FloatArray:
        """``pi_v``: 0 on the source side, 1 on the sink side (``pi_t - pi_s = 1``)."""
        return (~self.source_side).astype(np.float64)

    def capacity_multiplier(self, m: int) -> FloatArray:
        """``eta_a`` of ``x_a - cap_a <= 0``: 1 on the cut arcs, 0 elsewhere (``m`` arcs)."""
        eta = np.zeros(m)
        eta[self.cut_arcs] = 1.0
        return eta


@dataclass(frozen=True, eq=False)
class FlowPotentials:
    """Node potentials certifying a min-cost flow, or the cycle proving it is not optimal.

    Attributes
    ----------
    potential
        ``pi_v``, the multipliers of ``out(v) - in(v) == b_v`` (shortest distances in the
        residual graph from a virtual root, so ``<= 0``); all ``nan`` when not optimal.
    reduced_cost
        ``c_uv + pi_u - pi_v`` per arc: ``>= 0`` below capacity, ``<= 0`` above the lower bound.
    negative_cycle, negative_cycle_arcs, negative_cycle_forward
        When the flow is not optimal: a negative residual cycle's nodes, the input arcs it
        uses, and whether each is used forward (``u -> v``, adding flow) or backward.
    """

    potential: FloatArray
    reduced_cost: FloatArray
    negative_cycle: IntArray | None = None
    negative_cycle_arcs: IntArray | None = None
    negative_cycle_forward: BoolArray | None = None

    @property
    def optimal(self) -> bool:
        """Whether the flow's residual graph has no negative cycle."""
        return self.negative_cycle is None

    @property
    def upper_multiplier(self) -> FloatArray:
        """``eta_a = max(0, -rc_a)``: multiplier of ``x_a - cap_a <= 0``."""
        return np.maximum(-self.reduced_cost, 0.0)

    @property
    def lower_multiplier(self) -> FloatArray:
        """``zeta_a = max(0, rc_a)``: multiplier of ``low_a - x_a <= 0``."""
        return np.maximum(self.reduced_cost, 0.0)


def node_imbalance(n: int, tail: ArrayLike, head: ArrayLike, flow: ArrayLike) -> FloatArray:
    """``out(v) - in(v)`` of a flow at every node.

    Examples
    --------
    >>> node_imbalance(3, [0, 1], [1, 2], [2.0, 2.0]).tolist()
    [2.0, 0.0, -2.0]
    """
    x = np.asarray(flow, dtype=np.float64)
    out = np.bincount(np.asarray(tail), weights=x, minlength=n).astype(np.float64)
    return out - np.bincount(np.asarray(head), weights=x, minlength=n)


def _integral_capacities(t: IntArray, cap: FloatArray, source: int) -> NDArray[np.int32]:
    if np.any(cap < 0):
        raise ModelError("capacities must be >= 0")
    if np.any(cap != np.round(cap)):
        raise ModelError("max_flow needs integer capacities (scipy.sparse.csgraph.maximum_flow)")
    if float(cap[t == source].sum()) > _INT32_MAX or (cap.size and cap.max() > _INT32_MAX):
        raise ModelError(
            f"capacities out of the source sum to more than {_INT32_MAX}: "
            "scipy's maximum_flow computes in 32-bit integers"
        )
    return cap.astype(np.int32)


def _split_pair_flow(t: IntArray, h: IntArray, cap: FloatArray, pair: FloatArray) -> FloatArray:
    """Share the net flow ``pair`` of each ``(u, v)`` among its parallel arcs, cap by cap."""
    key = t * (max(int(t.max(initial=0)), int(h.max(initial=0))) + 1) + h
    order = np.argsort(key, kind="stable")
    ks = key[order]
    start = np.ones(ks.size, dtype=bool)
    start[1:] = ks[1:] != ks[:-1]
    csum = np.cumsum(cap[order])
    group_start = np.maximum.accumulate(np.where(start, np.arange(ks.size), 0))
    before = csum - cap[order] - (csum[group_start] - cap[order][group_start])
    share = np.clip(pair[order] - before, 0.0, cap[order])
    out = np.empty_like(share)
    out[order] = share
    return out


def _entries(matrix: sp.spmatrix, rows: IntArray, cols: IntArray) -> FloatArray:
    """``matrix[rows[k], cols[k]]`` for each k (0 where no entry is stored)."""
    coo = sp.coo_matrix(matrix)
    if coo.nnz == 0:
        return np.zeros(rows.size)
    n = matrix.shape[1]
    keys = coo.row.astype(np.int64) * n + coo.col
    order = np.argsort(keys)
    keys, data = keys[order], coo.data[order].astype(np.float64)
    want = rows * n + cols
    at = np.minimum(np.searchsorted(keys, want), keys.size - 1)
    return np.where(keys[at] == want, data[at], 0.0)


def max_flow(
    n: int,
    tail: ArrayLike,
    head: ArrayLike,
    cap: ArrayLike,
    source: int,
    sink: int,
    *,
    method: str = "dinic",
) -> MaxFlowResult:
    """Maximum ``source -> sink`` flow (scipy.sparse.csgraph.maximum_flow) with a minimum cut.

    Parameters
    ----------
    n, tail, head, cap
        The network; capacities must be integers ``>= 0`` (those out of the source summing
        below ``2**31``); parallel and antiparallel arcs and self-loops are allowed.
    source, sink
        Distinct nodes.
    method
        ``"dinic"`` or ``"edmonds_karp"`` (scipy's methods).

    Returns
    -------
    MaxFlowResult

    Examples
    --------
    >>> import numpy as np
    >>> r = max_flow(2, np.array([0, 0]), np.array([1, 1]), np.array([2.0, 3.0]), 0, 1)
    >>> r.value, r.flow.tolist()
    (5.0, [2.0, 3.0])
    """
    t, h, c = arc_arrays(n, tail, head, cap, names=("cap",))
    if not (0 <= source < n and 0 <= sink < n) or source == sink:
        raise ModelError(f"source {source} and sink {sink} must be distinct nodes in 0..{n - 1}")
    icap = _integral_capacities(t, c, source)
    loop = t == h
    keep = ~loop
    graph = sp.csr_matrix((icap[keep], (t[keep], h[keep])), shape=(n, n))
    result = maximum_flow(graph, source, sink, method=method)
    pair = np.zeros(t.size)
    pair[keep] = np.maximum(_entries(result.flow, t[keep], h[keep]), 0.0)
    parallel = graph.nnz < int(keep.sum())
    flow = _split_pair_flow(t, h, c, pair) if parallel else np.minimum(pair, c)
    flow[loop] = 0.0
    side = min_cut(n, t, h, c, flow, source)
    cut = np.flatnonzero(side[t] & ~side[h])
    return MaxFlowResult(float(result.flow_value), flow, side, cut)


def _capacities(cap: ArrayLike, shape: tuple[int, ...]) -> NDArray[np.float64]:
    """Arc capacities: one per arc, ``>= 0``, ``+inf`` allowed (an arc without a limit)."""
    c = np.asarray(cap, dtype=np.float64)
    if c.shape != shape:
        raise ModelError(f"cap must have one entry per arc ({shape[0]}), got {c.shape}")
    if np.isnan(c).any() or (c < 0).any():
        raise ModelError("cap must be >= 0 (+inf for an arc without a limit)")
    return c


def min_cut(
    n: int, tail: ArrayLike, head: ArrayLike, cap: ArrayLike, flow: ArrayLike, source: int
) -> BoolArray:
    """Source side of the cut: nodes reachable from ``source`` in the residual graph of ``flow``.

    For a maximum flow this is a minimum cut; its capacity equals the flow value.

    Examples
    --------
    >>> min_cut(3, [0, 1], [1, 2], [1.0, 1.0], [1.0, 1.0], 0).tolist()
    [True, False, False]
    """
    t, h, x = arc_arrays(n, tail, head, flow, names=("flow",))
    c = _capacities(cap, t.shape)
    fwd = x < c
    back = x > 0
    rt = np.concatenate((t[fwd], h[back]))
    rh = np.concatenate((h[fwd], t[back]))
    residual = sp.csr_matrix((np.ones(rt.size), (rt, rh)), shape=(n, n))
    side = np.zeros(n, dtype=bool)
    side[breadth_first_order(residual, source, directed=True, return_predecessors=False)] = True
    return side


def flow_potentials(
    n: int,
    tail: ArrayLike,
    head: ArrayLike,
    cost: ArrayLike,
    flow: ArrayLike,
    *,
    low: ArrayLike | None = None,
    cap: ArrayLike | None = None,
    tol: float = 1e-9,
) -> FlowPotentials:
    """Node potentials (the conservation rows' multipliers) certifying a min-cost flow.

    Parameters
    ----------
    n, tail, head, cost
        The network.
    flow
        A feasible flow from any solver.
    low, cap
        Arc bounds (default ``0`` and ``inf``).
    tol
        An arc is at a bound when within ``tol`` of it.

    Returns
    -------
    FlowPotentials
        Potentials and reduced costs, or the negative residual cycle if the flow is not optimal.

    Examples
    --------
    >>> import numpy as np
    >>> t, h = np.array([0, 0, 1]), np.array([1, 2, 2])
    >>> fp = flow_potentials(3, t, h, [1.0, 3.0, 1.0], [2.0, 0.0, 2.0], cap=[5.0, 5.0, 5.0])
    >>> fp.optimal, fp.reduced_cost.tolist()
    (True, [0.0, 1.0, 0.0])
    """
    m = np.asarray(tail).size
    lo = np.zeros(m) if low is None else low
    hi = np.full(m, np.inf) if cap is None else np.asarray(cap, dtype=np.float64)
    t, h, c, x, lo_ = arc_arrays(n, tail, head, cost, flow, lo, names=("cost", "flow", "low"))
    fwd = np.flatnonzero(x < hi - tol)
    back = np.flatnonzero(x > lo_ + tol)
    rt = np.concatenate((t[fwd], h[back]))
    rh = np.concatenate((h[fwd], t[back]))
    rc = np.concatenate((c[fwd], -c[back]))
    bf = bellman_ford(n, rt, rh, rc)
    if bf.negative_cycle_arcs is not None:
        res = bf.negative_cycle_arcs
        arcs = np.concatenate((fwd, back))[res]
        nan = np.full(n, np.nan)
        return FlowPotentials(nan, np.full(m, np.nan), bf.negative_cycle, arcs, res < fwd.size)
    pi = bf.distance
    return FlowPotentials(pi, reduced_costs(t, h, c, pi))


def check_max_flow(
    n: int,
    tail: ArrayLike,
    head: ArrayLike,
    cap: ArrayLike,
    source: int,
    sink: int,
    flow: ArrayLike,
    source_side: ArrayLike,
) -> float:
    """Worst violation of the max-flow / min-cut certificate (0.0 when exact).

    Checks ``0 <= flow <= cap``, conservation at every node but ``source`` and ``sink``, that
    the cut separates them, that its arcs ``S -> T`` are saturated and ``T -> S`` empty, and
    ``|cut capacity - flow value|``.

    Examples
    --------
    >>> check_max_flow(2, [0], [1], [3.0], 0, 1, [3.0], [True, False])
    0.0
    """
    t, h, x = arc_arrays(n, tail, head, flow, names=("flow",))
    c = _capacities(cap, t.shape)
    side = np.asarray(source_side, dtype=bool)
    if not side[source] or side[sink]:
        return math.inf
    worst = float(np.max(np.maximum(-x, x - c), initial=0.0))
    imbalance = node_imbalance(n, t, h, x)
    inner = np.ones(n, dtype=bool)
    inner[[source, sink]] = False
    worst = max(worst, float(np.max(np.abs(imbalance[inner]), initial=0.0)))
    forward = side[t] & ~side[h]
    backward = ~side[t] & side[h]
    worst = max(worst, float(np.max(c[forward] - x[forward], initial=0.0)))
    worst = max(worst, float(np.max(x[backward], initial=0.0)))
    worst = max(worst, abs(float(c[forward].sum()) - float(imbalance[source])))
    return worst + 0.0


def check_min_cost_flow(
    n: int,
    tail: ArrayLike,
    head: ArrayLike,
    cost: ArrayLike,
    supply: ArrayLike,
    flow: ArrayLike,
    potential: ArrayLike,
    *,
    low: ArrayLike | None = None,
    cap: ArrayLike | None = None,
    tol: float = 1e-9,
) -> float:
    """Worst violation of the min-cost-flow certificate (0.0 when exact).

    The largest of: bound violations ``max(low - x, x - cap)``; conservation
    ``|out(v) - in(v) - supply_v|``; and complementary slackness of the reduced costs
    ``rc = c_uv + pi_u - pi_v``: ``-rc`` where ``x < cap - tol``, ``rc`` where ``x > low + tol``.

    Examples
    --------
    >>> check_min_cost_flow(2, [0], [1], [4.0], [1.0, -1.0], [1.0], [0.0, 4.0])
    0.0
    """
    m = np.asarray(tail).size
    lo = np.zeros(m) if low is None else low
    hi = np.full(m, np.inf) if cap is None else np.asarray(cap, dtype=np.float64)
    t, h, c, x, lo_ = arc_arrays(n, tail, head, cost, flow, lo, names=("cost", "flow", "low"))
    b = np.asarray(supply, dtype=np.float64)
    pi = np.asarray(potential, dtype=np.float64)
    if pi.shape != (n,) or b.shape != (n,) or not np.all(np.isfinite(pi)):
        return math.inf
    worst = float(np.max(np.maximum(lo_ - x, x - hi), initial=0.0))
    worst = max(worst, float(np.max(np.abs(node_imbalance(n, t, h, x) - b), initial=0.0)))
    rc = reduced_costs(t, h, c, pi)
    below = x < hi - tol
    above = x > lo_ + tol
    worst = max(worst, float(np.max(-rc[below], initial=0.0)))
    worst = max(worst, float(np.max(rc[above], initial=0.0)))
    return max(worst, 0.0) + 0.0
