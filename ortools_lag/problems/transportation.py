r"""The transportation problem: the demand rows' multipliers are delivered prices.

Formulation (``m`` sources with supplies ``s``, ``n`` destinations with demands ``d``, unit
costs ``c[i, j]``; ``inf`` marks a route that does not exist, held as the bound ``x_ij <= 0``)::

    min  sum_ij c_ij x_ij
    s.t. supply:  sum_j x_ij <= s_i     for each source i        (multiplier u_i >= 0)
         demand:  sum_i x_ij >= d_j     for each destination j   (multiplier v_j >= 0)
         x >= 0

**Multipliers.** Held as ``sum_j x_ij - s_i <= 0`` and ``d_j - sum_i x_ij <= 0``,
``L = c.x + sum_i u_i (sum_j x_ij - s_i) + sum_j v_j (d_j - sum_i x_ij)``: the reduced cost of
a route is ``rc_ij = c_ij + u_i - v_j``, ``>= 0`` on every route and ``= 0`` on the routes used.
These are node potentials of the bipartite network (the network convention ``out - in``
with ``pi = u`` at the sources and ``pi = v`` at the destinations): **v_j is the delivered
price at destination j** (the cost of one more unit of demand there) and **u_i the scarcity
rent of source i** (what one more unit of supply there would save; ``0`` where supply is left
over). The dual value is ``sum_j v_j d_j - sum_i u_i s_i``. Total supply below total demand
makes the LP infeasible: status ``INFEASIBLE`` with a Farkas certificate.

The default solver is ``network_lp`` (HiGHS simplex, presolve off), certified by
``kkt.certify`` and the family certificate (rows, signs, ``rc >= 0``, ``= 0`` on used routes,
``u = 0`` on slack sources). **Relaxation** ``"demand"``: the demand rows dualised with prices
``v >= 0``; each source sends its whole supply to its cheapest route at ``c_ij - v_j`` when that
is negative (the oracle); the heuristic trims the over-served destinations of the relaxed plan
and fills the unmet demand from the cheapest sources with supply left, in rounds.

>>> from ortools_lag import solve
>>> p = build([[4, 6], [5, 3]], supply=[10, 10], demand=[8, 7])
>>> sol = solve(p)
>>> sol.objective, sol.multipliers["demand"].tolist(), sol.multipliers["supply"].tolist()
(53.0, [4.0, 3.0], [0.0, 0.0])
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from ortools_lag.errors import ModelError
from ortools_lag.model import Model
from ortools_lag.problem import Problem
from ortools_lag.problems.graphs import require_finite, table_from
from ortools_lag.problems.network import Answer, TableData, bipartite_violation, multiplier, plan_of
from ortools_lag.result import Solution

if TYPE_CHECKING:
    import networkx as nx

    from ortools_lag.problem import Heuristic, Oracle
    from ortools_lag.problems.network import Arrays, FloatArray, Table, Verdict

__all__ = ["ShipmentPlan", "TransportationData", "build", "read"]


@dataclass(frozen=True, eq=False)
class TransportationData(TableData, kind="transportation", solver="network_lp", relaxed="demand"):
    """The table, supplies and demands behind a transportation Problem.

    Attributes
    ----------
    table
        The unit costs (``inf``: no route) and the labels of the sources and destinations.
    supply, demand
        ``s`` and ``d``.
    """

    supply: FloatArray
    demand: FloatArray

    @property
    def scale(self) -> float:
        """The largest of the allowed costs, supplies and demands, in absolute value."""
        c = self.table.cost[self.table.allowed]
        return float(np.max(np.abs(np.concatenate((c, self.supply, self.demand))), initial=0.0))

    def check(self, x: Arrays, multipliers: Arrays, reduced_costs: Arrays | None) -> Verdict:
        """Rows, signs, ``rc = c + u - v >= 0`` and ``= 0`` on used routes, ``u s-slack = 0``.

        Everything is recomputed from the data (``reduced_costs`` is not read).
        """
        worst = bipartite_violation(
            self.table.cost,
            np.asarray(x["x"], dtype=np.float64),
            (np.asarray(multipliers["supply"]), np.asarray(multipliers["demand"])),
            ("<=", ">="),
            (self.supply, self.demand),
        )
        return "supply/demand rows; rc = c + u - v >= 0, = 0 on used routes; slack", worst

    def oracle(self) -> Oracle:
        """Each source sends its whole supply to its cheapest route at ``c - v`` if negative."""
        s, d = self.supply, self.demand
        m, n = self.table.cost.shape
        rows = np.arange(m)

        def oracle(lam: Arrays) -> tuple[dict[str, np.ndarray], float]:
            v = np.asarray(lam["demand"], dtype=np.float64)
            j, best = self.table.cheapest(-v)
            ship = np.isfinite(best) & (best < 0)
            x = np.zeros((m, n))
            x[rows[ship], j[ship]] = s[ship]
            return {"x": x}, float(best[ship] @ s[ship] + v @ d)

        return oracle

    def heuristic(self) -> Heuristic:
        """Trim the over-served destinations and over-used sources of the relaxed plan, then
        fill the unmet demand from the cheapest sources with supply left (:func:`_fill`)."""
        cost, ok = self.table.cost, self.table.allowed
        s, d = self.supply, self.demand
        tol = 1e-9 * (1.0 + float(max(s.max(initial=0.0), d.max(initial=0.0))))

        def heuristic(relaxed: Arrays) -> dict[str, np.ndarray] | None:
            x = np.where(ok, np.maximum(np.asarray(relaxed["x"], dtype=np.float64), 0.0), 0.0)
            for axis, cap in ((0, d), (1, s)):  # trim over-served destinations, over-used sources
                total = x.sum(axis=axis)
                scale = np.where(total > cap, cap / np.where(total > 0, total, 1.0), 1.0)
                x *= scale[None, :] if axis == 0 else scale[:, None]
            return _fill(cost, ok, s - x.sum(axis=1), d - x.sum(axis=0), x, tol)

        return heuristic

    def decode(self, sol: Solution) -> ShipmentPlan:
        """The plan, the routes used (in the labels) and the prices of ``sol``."""
        t = self.table
        x = plan_of(sol, t.cost.shape)
        i, j = np.nonzero(x > 1e-9)
        shipments = [(t.rows[a], t.cols[b], float(x[a, b])) for a, b in zip(i, j)]
        u, v = multiplier(sol, "supply"), multiplier(sol, "demand")
        return ShipmentPlan(sol.status.value, sol.objective, x, shipments, u, v)


@dataclass(frozen=True)
class ShipmentPlan(Answer):
    """The shipments of a decoded transportation Solution, and the prices at both ends.

    Attributes
    ----------
    cost, plan
        ``sum c x`` and the ``(m, n)`` shipments ``x``.
    shipments
        ``(source, destination, amount)`` of the routes used, in the labels.
    supply_price, demand_price
        ``u`` and ``v``: the multipliers of the supply and demand rows.
    """

    cost: float
    plan: FloatArray
    shipments: list[tuple[Hashable, Hashable, float]]
    supply_price: FloatArray | None
    demand_price: FloatArray | None


def build(
    cost: npt.ArrayLike | Any = None,
    supply: npt.ArrayLike | None = None,
    demand: npt.ArrayLike | None = None,
    *,
    graph: nx.Graph | None = None,
    weight: str = "weight",
    rows: Sequence[Hashable] | None = None,
    name: str = "transportation",
) -> Problem:
    """The transportation Problem from a cost table, a scipy.sparse matrix or a graph.

    Parameters
    ----------
    cost
        ``(m, n)`` unit costs (``inf``: no route), or a scipy.sparse matrix whose stored
        entries are the routes.
    supply, demand
        ``s`` (``m``) and ``d`` (``n``), ``>= 0``.
    graph
        A bipartite networkx graph instead: edge attribute ``weight`` is the unit cost, node
        attribute ``demand`` the networkx convention (``< 0`` at a source: its supply is
        ``-demand``); the sources are ``rows`` (default: the nodes with ``demand < 0``).
    weight
        The networkx edge attribute holding the unit costs.
    rows
        The source nodes of ``graph``.
    name
        The model's name.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph([("plant", "shop", {"weight": 2})])
    >>> nx.set_node_attributes(g, {"plant": -5, "shop": 5}, "demand")
    >>> __import__("ortools_lag").solve(build(graph=g)).objective
    10.0
    """
    if graph is not None:
        if rows is None:
            rows = [v for v, d in graph.nodes(data=True) if float(d.get("demand", 0)) < 0]
        table = table_from(None, graph, rows, weight)
        if supply is None:
            supply = [-float(graph.nodes[v].get("demand", 0)) for v in table.rows]
        if demand is None:
            demand = [float(graph.nodes[v].get("demand", 0)) for v in table.cols]
    else:
        table = table_from(cost, None, None, weight)
    if supply is None or demand is None:
        raise ModelError("supply and demand are required")
    return _problem(table, np.asarray(supply, float), np.asarray(demand, float), name)


def read(path: str | Path) -> Problem:
    """A transportation table file (``m n``, supplies, demands, costs) as a Problem.

    Raises
    ------
    SpecError
        A table file that does not parse, naming the file, the line and the field.
    """
    from ortools_lag.io.bipartite import read_transportation

    inst = read_transportation(path)
    table = table_from(inst.cost, None, None, "weight")
    return _problem(table, inst.supply, inst.demand, inst.name)


def _problem(table: Table, s: FloatArray, d: FloatArray, name: str) -> Problem:
    m, n = table.cost.shape
    s, d = require_finite("supply", s).ravel(), require_finite("demand", d).ravel()
    if s.shape != (m,) or d.shape != (n,):
        raise ModelError(f"supply needs {m} and demand {n} numbers, got {s.size} and {d.size}")
    if np.any(s < 0) or np.any(d < 0):
        raise ModelError("supplies and demands must be >= 0")
    data = TransportationData(table, s, d)
    model = Model(name)
    x = table.plan(model)
    model.add("supply", x.sum(axis=1) <= s)
    model.add("demand", x.sum(axis=0) >= d)
    relaxation = "demand rows dualised (prices v); each source ships to its cheapest c - v"
    return data.problem(model, relaxation, {"sources": m, "destinations": n})


def _fill(
    cost: FloatArray,
    ok: NDArray[np.bool_],
    left: FloatArray,
    need: FloatArray,
    x: FloatArray,
    tol: float,
) -> dict[str, np.ndarray] | None:
    """Serve ``need`` from ``left`` in rounds: each unmet destination asks its cheapest source
    with supply left; a source serves its requests cheapest first while it has supply."""
    m, n = cost.shape
    for _ in range(m + n + 1):  # each round serves a destination or exhausts a source
        want = np.flatnonzero(need > tol)
        if want.size == 0:
            return {"x": x}
        masked = np.where(ok[:, want] & (left > tol)[:, None], cost[:, want], np.inf)
        src = masked.argmin(axis=0)
        price = masked[src, np.arange(want.size)]
        live = np.isfinite(price)
        if not live.any():
            return None
        src, dst, price = src[live], want[live], price[live]
        order = np.lexsort((price, src))
        src, dst = src[order], dst[order]
        amount = need[dst]
        csum = np.cumsum(amount)
        start = np.ones(src.size, dtype=bool)
        start[1:] = src[1:] != src[:-1]
        first = np.maximum.accumulate(np.where(start, np.arange(src.size), 0))
        before = csum - amount - (csum[first] - amount[first])
        give = np.clip(left[src] - before, 0.0, amount)
        x[src, dst] += give
        np.subtract.at(left, src, give)
        need[dst] -= give
    return None
