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

This module holds the solve (:func:`solve_csp`, :class:`CSPResult`); the instance, its shortest
paths and the Lagrangian oracle are in :mod:`ortools_lag.algorithms.csp_instance` and the gap
closing in :mod:`ortools_lag.algorithms.csp_search` (both use the first; the instance's names are
re-exported here).

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

from ortools_lag.algorithms.csp_instance import (
    CSPData,
    CSPOracleResult,
    csp_data,
    csp_lagrangian,
    reach_bounds,
    shortest_distances,
    split_multipliers,
)
from ortools_lag.algorithms.csp_search import csp_enumerate, csp_mip
from ortools_lag.algorithms.dual_bundle import DualTrace, maximize_dual

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


def _dual(
    data: CSPData, best: _Best, rmin_s: np.ndarray, method: str, max_iter: int, limit: float
) -> DualTrace:
    """The dual ascent; ``rmin_s`` is the least resource use of a path (from the source)."""
    k = data.num_resources
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
    start = time.perf_counter()
    best = _Best()
    reach = shortest_distances(data, np.ones(data.tails.size), data.source)[0]
    rmin_s = reach_bounds(data)[0][data.source] + data.base
    if not np.isfinite(reach[data.target]) or np.any(rmin_s > data.upper + 1e-9):
        return _result(data, best, math.inf, "reachability", _extra(data, None, 0, start))
    trace = _dual(data, best, rmin_s, method, max_iter, 0.3 * time_limit)
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
