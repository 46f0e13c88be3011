r"""Min-cost flow: node supplies, arc bounds and costs; node potentials as multipliers.

Formulation (``N`` the node-arc incidence matrix: ``+1`` where an arc leaves a node, ``-1``
where it enters)::

    min  sum_a c_a x_a
    s.t. flow:  out(v) - in(v) == b_v      for every node v     (multiplier pi_v, free)
         low_a <= x_a <= cap_a                                  (bounds; uncapacitated: cap = inf)

with ``b_v > 0`` at a source (supply), ``< 0`` at a sink (networkx's node ``demand`` is ``-b``).

**Multipliers.** ``L = c.x + sum_v pi_v (out(v) - in(v) - b_v)``: the coefficient of ``x_uv`` is
the reduced cost ``rc_uv = c_uv + pi_u - pi_v``, and ``pi`` are **node potentials**: an optimal
flow has ``rc >= 0`` on arcs below capacity and ``rc <= 0`` on arcs above their lower bound
(so ``rc = 0`` strictly between). ``pi_v`` is the marginal cost of one more unit of supply at
``v`` (``-pi_v`` the price of the commodity there, up to a constant: the dual is invariant
under ``pi + const`` when supplies balance). The reduced costs are the bound multipliers,
``Solution.reduced_costs["x"]``: ``max(0, -rc)`` prices a capacity, ``max(0, rc)`` a lower bound.

Supplies that cannot be routed (unbalanced, or beyond the capacities) make the LP infeasible:
status ``INFEASIBLE`` with a Farkas certificate (a cut whose capacity is below what must cross
it), checked by ``kkt.check_farkas``.

The default solver is ``network_lp`` (HiGHS dual simplex, presolve off: measured faster on
these LPs, see ``benchmarks/bench_networks.py``); the family certificate checks bounds,
conservation and complementary slackness of the reduced costs
(:func:`~ortools_lag.algorithms.flows.check_min_cost_flow`). Relaxation ``"flow"``:
conservation dualised, the arc bounds kept; the structured oracle puts each arc at its upper
bound where ``rc < 0`` and at its lower bound elsewhere (it needs finite capacities).

>>> from ortools_lag import solve
>>> p = build([0, 0, 1], [1, 2, 2], [1.0, 3.0, 1.0], supply=[2, 0, -2], cap=[1, 5, 5])
>>> sol = solve(p)
>>> sol.objective, p.decode(sol).flow.tolist(), sol.info["certificate"]["certified"]
(5.0, [1.0, 1.0, 1.0], True)
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from ortools_lag.algorithms.flows import check_min_cost_flow
from ortools_lag.algorithms.shortest_paths import reduced_costs
from ortools_lag.errors import ModelError
from ortools_lag.model import Model
from ortools_lag.problem import Problem, Relaxation
from ortools_lag.problems.graphs import Arcs, arcs_from, flow_rows, require_finite
from ortools_lag.result import Solution

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["FlowAnswer", "MinCostFlowData", "build", "read"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class MinCostFlowData:
    """The arrays behind a min-cost-flow Problem (0-based nodes)."""

    arcs: Arcs
    cost: FloatArray
    low: FloatArray
    cap: FloatArray
    supply: FloatArray

    def certificate(
        self,
        x: Mapping[str, np.ndarray],
        multipliers: Mapping[str, np.ndarray],
        reduced_costs: Mapping[str, np.ndarray] | None = None,
    ) -> tuple[str, float, float]:
        """Bounds, conservation, and ``rc >= 0`` below capacity / ``<= 0`` above the bound.

        Everything is recomputed from the data (``reduced_costs`` is not read).
        """
        a = self.arcs
        worst = check_min_cost_flow(
            a.n,
            a.tail,
            a.head,
            self.cost,
            self.supply,
            x["x"],
            multipliers["flow"],
            low=self.low,
            cap=self.cap,
        )
        finite = np.concatenate((self.cost, self.supply, self.low, self.cap[np.isfinite(self.cap)]))
        scale = float(np.max(np.abs(finite), initial=0.0))
        return "bounds; conservation; reduced costs >= 0 below cap, <= 0 above low", worst, scale


@dataclass(frozen=True)
class FlowAnswer:
    """A decoded min-cost-flow Solution.

    Attributes
    ----------
    status
        The Solution's status.
    cost
        ``sum_a c_a x_a``.
    flow
        Flow on each arc (input order).
    potential
        ``pi``: the multipliers of the ``flow`` rows, by node index.
    reduced_cost
        ``c_uv + pi_u - pi_v`` per arc.
    arcs
        ``(u, v, flow)`` for the arcs that carry flow, in the graph's labels.
    """

    status: str
    cost: float
    flow: FloatArray
    potential: FloatArray | None
    reduced_cost: FloatArray | None
    arcs: list[tuple[Hashable, Hashable, float]]


def _supply(
    supply: npt.ArrayLike | Mapping[Hashable, float] | None, arcs: Arcs, graph: Any, demand: str
) -> FloatArray:
    if supply is None and graph is not None:
        return 0.0 - np.array([float(d.get(demand, 0.0)) for _, d in graph.nodes(data=True)])
    if supply is None:
        raise ModelError("supply is required (one number per node, > 0 at sources)")
    if isinstance(supply, Mapping):
        b = np.zeros(arcs.n)
        for label, value in supply.items():
            b[arcs.index(label)] = float(value)
        return b
    b = np.asarray(supply, dtype=np.float64).ravel()
    if b.shape != (arcs.n,) or not np.all(np.isfinite(b)):
        raise ModelError(f"supply must hold {arcs.n} finite numbers (one per node), got {b.shape}")
    return b


def build(
    tail: npt.ArrayLike | None = None,
    head: npt.ArrayLike | None = None,
    cost: npt.ArrayLike | None = None,
    *,
    supply: npt.ArrayLike | Mapping[Hashable, float] | None = None,
    cap: npt.ArrayLike | None = None,
    low: npt.ArrayLike | None = None,
    n: int | None = None,
    labels: Sequence[Hashable] | None = None,
    graph: nx.Graph | None = None,
    matrix: Any = None,
    weight: str = "weight",
    capacity: str = "capacity",
    demand: str = "demand",
    name: str = "min_cost_flow",
) -> Problem:
    """The min-cost-flow Problem from arrays, a networkx graph or a scipy.sparse cost matrix.

    Parameters
    ----------
    tail, head, cost
        Arc ``k`` goes ``tail[k] -> head[k]`` at unit cost ``cost[k]``.
    supply
        ``b_v`` per node (array, or a mapping label -> value; default with a graph: minus the
        node attribute ``demand``, the networkx convention).
    cap, low
        Arc bounds (default ``inf`` and ``0``); with a graph, the edge attribute ``capacity``
        (missing: ``inf``).
    n, labels
        Number of nodes, or their labels (``tail``/``head`` then hold labels).
    graph, matrix
        A networkx graph, or a square scipy.sparse matrix of costs (one arc per stored entry),
        instead of arrays.
    weight, capacity, demand
        networkx attribute names.
    name
        The model's name.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph()
    >>> g.add_node("a", demand=-4); g.add_node("d", demand=4)
    >>> g.add_edge("a", "b", weight=4, capacity=4); g.add_edge("a", "c", weight=2)
    >>> g.add_edge("b", "d", weight=1); g.add_edge("c", "d", weight=6, capacity=2)
    >>> p = build(graph=g)
    >>> p.data.supply.tolist(), p.data.cap.tolist()
    ([4.0, -4.0, 0.0, 0.0], [4.0, inf, inf, 2.0])
    """
    values: dict[str, npt.ArrayLike | None] = {weight: cost, capacity: cap}
    if graph is not None and low is not None:
        raise ModelError("with a graph, lower bounds are not supported: give arrays")
    arcs, vals = arcs_from(
        tail=tail,
        head=head,
        values=values if graph is not None else {"cost": cost, "cap": cap},
        n=n,
        labels=labels,
        graph=graph,
        matrix=matrix,
        defaults={capacity: np.inf} if graph is not None else {"cap": np.inf},
        matrix_value="cost",
    )
    c = vals[weight] if graph is not None else vals["cost"]
    u = vals[capacity] if graph is not None else vals["cap"]
    lo = np.zeros(arcs.m) if low is None else np.broadcast_to(np.asarray(low, float), (arcs.m,))
    b = _supply(supply, arcs, graph, demand)
    return _problem(arcs, c, np.array(lo, dtype=np.float64), u, b, name)


def read(path: str | Path) -> Problem:
    """A DIMACS ``.min`` file (``p min``) as a min-cost-flow Problem (nodes keep ids ``1..n``).

    Raises
    ------
    SpecError
        A malformed file (naming the file, line and field).
    """
    from ortools_lag.io.dimacs import read_min

    g = read_min(path)
    arcs = Arcs(g.n, g.tail, g.head, tuple(range(1, g.n + 1)))
    name = Path(path).name.split(".")[0]
    return _problem(arcs, np.asarray(g.cost), np.asarray(g.low), np.asarray(g.cap), g.supply, name)


def _problem(
    arcs: Arcs, cost: FloatArray, low: FloatArray, cap: FloatArray, b: FloatArray, name: str
) -> Problem:
    if np.any(np.isnan(cap)) or np.any(low > cap) or not np.all(np.isfinite(low)):
        raise ModelError("arc bounds must satisfy -inf < low <= cap")
    cost = require_finite("cost", cost)
    data = MinCostFlowData(arcs, cost, low, cap, require_finite("supply", b))
    m = Model(name)
    x = m.var("x", arcs.m, lb=low, ub=cap)
    m.minimize(cost @ x)
    m.add("flow", flow_rows(x, arcs, data.supply))
    finite = bool(np.all(np.isfinite(cap)))
    relax = Relaxation(
        relax=("flow",),
        oracle=_oracle(data) if finite else None,
        description="conservation dualised; each arc at a bound by the sign of its reduced cost",
    )
    return Problem(
        m,
        relaxations={"flow": relax},
        default_relaxation="flow",
        decode=lambda sol: _decode(data, sol),
        kind="min_cost_flow",
        default_solver="network_lp",
        data=data,
        metadata={"nodes": arcs.n, "arcs": arcs.m},
    )


def _oracle(data: MinCostFlowData) -> Any:
    t, h, c, b = data.arcs.tail, data.arcs.head, data.cost, data.supply
    low, cap = data.low, data.cap

    def oracle(lam: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], float]:
        pi = np.asarray(lam["flow"], dtype=np.float64)
        rc = c + pi[t] - pi[h]
        x = np.where(rc < 0, cap, low)
        return {"x": x}, float(rc @ x - pi @ b)

    return oracle


def _decode(data: MinCostFlowData, sol: Solution) -> FlowAnswer:
    """Flow per arc, potentials and reduced costs, and the used arcs in the graph's labels."""
    a = data.arcs
    x = np.asarray(sol.x.get("x", np.full(a.m, np.nan)), dtype=np.float64)
    pi = sol.multipliers.get("flow")
    pot = None if pi is None else np.asarray(pi, dtype=np.float64)
    rc = None if pot is None else reduced_costs(a.tail, a.head, data.cost, pot)
    used = np.flatnonzero(np.abs(x) > 1e-9)
    tails, heads = a.names(a.tail[used]), a.names(a.head[used])
    return FlowAnswer(
        status=sol.status.value,
        cost=sol.objective,
        flow=x,
        potential=pot,
        reduced_cost=rc,
        arcs=[(u, v, float(f)) for u, v, f in zip(tails, heads, x[used])],
    )
