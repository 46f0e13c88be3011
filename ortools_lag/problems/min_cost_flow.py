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

from ortools_lag.algorithms.flows import check_min_cost_flow
from ortools_lag.algorithms.shortest_paths import reduced_costs
from ortools_lag.errors import ModelError
from ortools_lag.model import Model
from ortools_lag.problem import Problem
from ortools_lag.problems.graphs import arcs_from, numbered, require_finite, stem
from ortools_lag.problems.network import (
    Answer,
    ArcData,
    conservation_oracle,
    flow_rows,
    multiplier,
    plan_of,
)
from ortools_lag.result import Solution

if TYPE_CHECKING:
    import networkx as nx

    from ortools_lag.problem import Oracle
    from ortools_lag.problems.network import Arcs, Arrays, FloatArray, Verdict

__all__ = ["FlowAnswer", "MinCostFlowData", "build", "read"]


@dataclass(frozen=True, eq=False)
class MinCostFlowData(ArcData, kind="min_cost_flow", solver="network_lp"):
    """The arrays behind a min-cost-flow Problem (0-based nodes).

    Attributes
    ----------
    arcs, cost
        The graph and its node labels; the arc costs.
    low, cap
        The arc bounds (``cap`` may be ``inf``).
    supply
        ``b``: the right-hand side of the conservation rows.
    """

    cost: FloatArray
    low: FloatArray
    cap: FloatArray
    supply: FloatArray

    @property
    def scale(self) -> float:
        """The largest of the costs, supplies and finite bounds, in absolute value."""
        finite = np.concatenate((self.cost, self.supply, self.low, self.cap[np.isfinite(self.cap)]))
        return float(np.max(np.abs(finite), initial=0.0))

    def check(self, x: Arrays, multipliers: Arrays, reduced_costs: Arrays | None) -> Verdict:
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
        return "bounds; conservation; reduced costs >= 0 below cap, <= 0 above low", worst

    def oracle(self) -> Oracle | None:
        """Each arc at its upper bound where ``rc < 0``, else at its lower bound (finite
        capacities only)."""
        if not np.all(np.isfinite(self.cap)):
            return None
        return conservation_oracle(self.arcs, self.cost, self.supply, self.low, self.cap)

    def decode(self, sol: Solution) -> FlowAnswer:
        """Flow per arc, potentials and reduced costs, and the used arcs in the graph's labels."""
        a = self.arcs
        x = plan_of(sol, a.m, np.nan)
        pot = multiplier(sol, "flow")
        rc = None if pot is None else reduced_costs(a.tail, a.head, self.cost, pot)
        return FlowAnswer(sol.status.value, sol.objective, x, pot, rc, a.carrying(x))


@dataclass(frozen=True)
class FlowAnswer(Answer):
    """A decoded min-cost-flow Solution, with the potentials and reduced costs per arc.

    Attributes
    ----------
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
    if graph is not None and low is not None:
        raise ModelError("with a graph, lower bounds are not supported: give arrays")
    c_key, u_key = (weight, capacity) if graph is not None else ("cost", "cap")
    values: dict[str, npt.ArrayLike | None] = {c_key: cost, u_key: cap}
    arcs, vals = arcs_from(tail, head, n, labels, graph, matrix, values, {u_key: np.inf})
    c, u = vals[c_key], vals[u_key]
    lo = np.zeros(arcs.m) if low is None else np.broadcast_to(np.asarray(low, float), (arcs.m,))
    b = _supply(supply, arcs, graph, demand)
    return _problem(arcs, c, np.array(lo, dtype=np.float64), u, b, name)


def read(path: str | Path) -> Problem:
    """A DIMACS ``.min`` file (``p min``) as a min-cost-flow Problem (nodes keep ids ``1..n``).

    Raises
    ------
    SpecError
        A malformed ``.min`` file: its message names the file, line and field.
    """
    from ortools_lag.io.dimacs import read_min

    g = read_min(path)
    low, cap = np.asarray(g.low), np.asarray(g.cap)
    return _problem(numbered(g), np.asarray(g.cost), low, cap, g.supply, stem(path))


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
    relaxation = "conservation dualised; each arc at a bound by the sign of its reduced cost"
    return data.problem(m, relaxation, {"nodes": arcs.n, "arcs": arcs.m})
