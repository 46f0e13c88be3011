r"""Shortest paths (single pair and single source) whose multipliers are the node potentials.

Formulation, on a directed graph with arc costs ``c`` (arc ``a = (u, v)``, ``N`` the node-arc
incidence matrix: ``+1`` where an arc leaves a node, ``-1`` where it enters)::

    min  sum_a c_a x_a
    s.t. flow:  out(v) - in(v) == b_v        for every node v      (multiplier pi_v, free)
         0 <= x_a (<= u_a when arc_bound is given)

- single pair ``s -> t``: ``b_s = 1``, ``b_t = -1``, ``b = 0`` elsewhere;
- single source ``s``: ``b_v = -1`` at every other node reachable from ``s``,
  ``b_s = (number of them)``, ``b = 0`` at the unreachable nodes (the optimal ``x`` is then the
  shortest-path tree, each tree arc carrying the number of nodes below it).

**Multipliers.** In the project's convention ``L = c.x + sum_v pi_v (out(v) - in(v) - b_v)``,
so the coefficient of ``x_uv`` is the reduced cost ``c_uv + pi_u - pi_v``. Dual feasibility
(``>= 0`` on every arc), complementary slackness (``= 0`` on the arcs that carry flow) and the
dual value ``-sum_v pi_v b_v = pi_t - pi_s`` say that **pi_v is the distance from s to v, up to
an additive constant**: the solver reports ``pi_v = d(s, v)`` (``pi_s = 0``), and finite
potentials that keep every reduced cost ``>= 0`` at the nodes ``s`` cannot reach. In the
single-source problem the dual fixes every reachable ``pi_v - pi_s = d(s, v)``; in the pair
problem only the nodes on a shortest path are fixed, the others lie in an interval whose top is
their distance. The reduced costs are ``Solution.reduced_costs["x"]`` (the bound multipliers).

Negative costs are solved by Johnson's method (Bellman-Ford potentials, then Dijkstra); a
negative-cost cycle makes the LP unbounded: status ``UNBOUNDED``, the cycle's arcs as the ray
(checked by ``kkt.check_ray``) and its nodes in ``info["negative_cycle"]``. An unreachable
target makes the pair LP infeasible: status ``INFEASIBLE`` with the Farkas multipliers ``1`` on
the nodes that can reach ``t`` (checked by ``kkt.check_farkas``).

**Relaxation** ``"flow"`` (the teaching example): conservation moves into the objective, the
arc bounds ``0 <= x <= u`` stay; the structured oracle sets ``x_a = u_a`` where the reduced
cost is negative and ``0`` elsewhere, ``q(pi) = sum_a min(0, rc_a) u_a - pi.b``. Its maximum is
the shortest distance (the LP has no duality gap); without finite arc bounds ``q = -inf`` at
any ``pi`` with a negative reduced cost, so give ``arc_bound`` for the dual methods. The
Lagrangian heuristic is the Dijkstra answer itself (a feasible point, the loop's Polyak target).

The default solver is ``dijkstra`` (:class:`DijkstraSolver`, here); ``network_lp`` and
``highs`` solve the same Model as an LP.

>>> from ortools_lag import solve
>>> p = build([1, 1, 2, 3], [2, 3, 3, 4], [1.0, 4.0, 2.0, 1.0], labels=[1, 2, 3, 4],
...           source=1, target=4)
>>> sol = solve(p)
>>> sol.objective, sol.multipliers["flow"].tolist()
(4.0, [0.0, 1.0, 3.0, 4.0])
>>> ans = p.decode(sol)
>>> ans.path, ans.length
([1, 2, 3, 4], 4.0)
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import depth_first_order

from ortools_lag.algorithms.shortest_paths import (
    ArcGraph,
    arc_graph,
    complete_potentials,
    shortest_paths,
)
from ortools_lag.errors import ModelError, NotSupportedError
from ortools_lag.model import Model
from ortools_lag.problem import Problem
from ortools_lag.problems.graphs import arcs_from, numbered, require_finite, stem
from ortools_lag.problems.lp_certificate import LinearRows, StructuredLP
from ortools_lag.problems.network import (
    Answer,
    ArcData,
    Exact,
    NetworkSolver,
    conservation_oracle,
    flow_rows,
    incidence,
    memo_heuristic,
    multiplier,
)
from ortools_lag.result import Solution, Status

if TYPE_CHECKING:
    import networkx as nx

    from ortools_lag.problem import Heuristic, Oracle
    from ortools_lag.problems.network import Arcs, Arrays, BoolArray, FloatArray, IntArray, Verdict
    from ortools_lag.solvers.base import SolverOptions

__all__ = [
    "DijkstraSolver",
    "ShortestPathAnswer",
    "ShortestPathData",
    "build",
    "read",
    "solve_exact",
    "tree_flow",
]


@dataclass(frozen=True, eq=False)
class ShortestPathData(ArcData, kind="shortest_path", solver="dijkstra"):
    """The arrays behind a shortest-path Problem (0-based nodes).

    Attributes
    ----------
    arcs
        The graph and its node labels.
    cost
        Arc costs.
    source, target
        0-based end nodes (``target`` is ``None`` for single source).
    upper
        Arc bounds ``x <= upper`` (``None``: uncapacitated).
    supply
        ``b``: the right-hand side of the conservation rows.
    reachable
        Nodes reachable from the source.
    graph
        The arcs as a csgraph cost matrix, built once (reachability, Dijkstra).
    """

    cost: FloatArray
    source: int
    target: int | None
    upper: FloatArray | None
    supply: FloatArray
    reachable: NDArray[np.bool_]
    graph: ArcGraph

    @cached_property
    def cost_scale(self) -> float:
        """``max |c_a|`` (0 without arcs)."""
        c = self.cost
        return max(abs(float(c.max())), abs(float(c.min()))) if c.size else 0.0

    @property
    def pair(self) -> bool:
        """Single pair (``True``) or single source."""
        return self.target is not None

    @property
    def scale(self) -> float:
        """``max |c_a| + n``."""
        return self.cost_scale + float(self.arcs.n)

    def check(self, x: Arrays, multipliers: Arrays, reduced_costs: Arrays | None) -> Verdict:
        """Reduced costs ``>= 0`` (below the bound), ``= 0`` on used arcs; conservation; bounds.

        ``reduced_costs["x"]``, when given, is ``c + N^T pi`` as the generic KKT check computed
        it from the model's rows; it is then read on the arcs without flow and recomputed here
        from the arcs, ``c_a + pi_tail(a) - pi_head(a)``, on the arcs with flow (a path or a
        tree: few), where a disagreement counts as a violation.
        """
        a = self.arcs
        z = np.asarray(x["x"], dtype=np.float64)
        pi = np.asarray(multipliers["flow"], dtype=np.float64)
        c = self.cost
        if pi.shape != (a.n,) or not np.all(np.isfinite(pi)):
            return "finite potentials", math.inf
        used = np.flatnonzero(z != 0)  # a path or a tree (a bool mask: twice as fast to scan)
        zu, tu, hu = z[used], a.tail[used], a.head[used]
        rc_used = c[used] + pi[tu] - pi[hu]
        given = None if reduced_costs is None else reduced_costs.get("x")
        if given is not None and np.shape(given) == (a.m,):
            rc = np.asarray(given, dtype=np.float64)
            worst = float(np.max(np.abs(rc[used] - rc_used), initial=0.0))
        else:
            rc = c + pi[a.tail]
            rc -= pi[a.head]
            worst = 0.0
        out = np.bincount(tu, zu, a.n) - np.bincount(hu, zu, a.n)
        worst = max(worst, float(np.max(np.abs(out - self.supply), initial=0.0)))
        worst = max(worst, -float(z.min(initial=0)))
        free = rc
        if self.upper is not None:
            worst = max(worst, float(np.max(z - self.upper, initial=0.0)))
            free = rc[z < self.upper - 1e-9]
        worst = max(worst, -float(free.min(initial=0.0)))  # rc >= 0 where x may grow
        worst = max(worst, float(np.max(rc_used[zu > 1e-9], initial=0.0)))  # rc <= 0 where x > 0
        return "reduced costs >= 0, = 0 on used arcs; conservation; bounds", worst

    def lp(self, z: FloatArray, multipliers: Arrays) -> StructuredLP:
        """The LP from the arcs: conservation ``N z`` over the arcs with flow (a path or a
        tree), ``rc = c + pi_tail - pi_head`` over all arcs; the family certificate
        (:meth:`check`) from the same numbers."""
        a = self.arcs
        pi = np.asarray(multipliers["flow"], dtype=np.float64).ravel()
        used = np.flatnonzero(z)
        zu = z[used]
        out: FloatArray = np.subtract(
            np.bincount(a.tail[used], zu, a.n), np.bincount(a.head[used], zu, a.n), dtype=np.float64
        )
        rc = self.cost + pi[a.tail]
        rc -= pi[a.head]
        r_min, r_max = (float(rc.min()), float(rc.max())) if rc.size else (0.0, 0.0)
        rc_used = rc[used]
        ub = np.broadcast_to(np.inf, (a.m,)) if self.upper is None else self.upper
        rows = (LinearRows("flow", out, self.supply, self.supply, 1.0, pi),)
        lb = np.broadcast_to(0.0, (a.m,))
        worst = max(float(np.max(np.abs(out - self.supply), initial=0.0)), -min(r_min, 0.0))
        worst = max(worst, -float(np.min(zu, initial=0.0)))
        if self.upper is not None:  # rc >= 0 only where x may grow
            free = rc[z < self.upper - 1e-9]
            worst = max(float(np.max(z - self.upper, initial=0.0)), -float(free.min(initial=0.0)))
            worst = max(worst, float(np.max(np.abs(out - self.supply), initial=0.0)))
            worst = max(worst, -float(np.min(zu, initial=0.0)))
        worst = max(worst, float(np.max(rc_used[zu > 1e-9], initial=0.0)))
        if pi.shape != (a.n,) or not np.all(np.isfinite(pi)):
            verdict = ("finite potentials", math.inf)
        else:
            verdict = ("reduced costs >= 0, = 0 on used arcs; conservation; bounds", worst)
        return StructuredLP(z, self.cost, lb, ub, (a.m,), rows, lambda: rc,
                            summary=(r_min, r_max, used, rc_used), verdict=verdict,
                            cost_norm=self.cost_scale)  # fmt: skip

    def oracle(self) -> Oracle | None:
        """``x_a = u_a`` where the reduced cost is negative (finite arc bounds only)."""
        up = self.upper
        if up is None or not np.all(np.isfinite(up)):
            return None
        return conservation_oracle(self.arcs, self.cost, self.supply, 0.0, up)

    def heuristic(self) -> Heuristic:
        """The Dijkstra answer itself."""
        return memo_heuristic(lambda: None if (z := _exact(self).z) is None else {"x": z})

    def decode(self, sol: Solution) -> ShortestPathAnswer:
        """The path (pair) or distances (single source), in the graph's labels."""
        return _decode(self, sol)


@dataclass(frozen=True)
class ShortestPathAnswer(Answer):
    """A decoded shortest-path Solution, in the graph's node labels.

    Attributes
    ----------
    source, target
        End nodes (``target`` ``None`` for single source).
    length
        The objective: the path's cost (pair) or the tree's total ``sum_a c_a x_a``.
    path, path_arcs
        Pair: the nodes from source to target and the arcs' indices (empty when none).
    potential
        The multipliers ``pi`` of the ``flow`` rows, by node index.
    distance
        Single source: ``pi_v - pi_s`` at the reachable nodes, ``inf`` elsewhere.
    negative_cycle
        The nodes of a negative cycle when the problem is unbounded.
    """

    source: Hashable
    target: Hashable | None
    length: float
    path: list[Hashable]
    path_arcs: IntArray
    potential: FloatArray | None
    distance: FloatArray | None
    negative_cycle: list[Hashable] | None


def build(
    tail: npt.ArrayLike | None = None,
    head: npt.ArrayLike | None = None,
    cost: npt.ArrayLike | None = None,
    *,
    arc_bound: float | npt.ArrayLike | None = None,
    source: Any = 0,
    target: Any = None,
    n: int | None = None,
    labels: Sequence[Hashable] | None = None,
    graph: nx.Graph | None = None,
    weight: str = "weight",
    matrix: Any = None,
    name: str = "shortest_path",
) -> Problem:
    """The shortest-path Problem from arrays, a networkx graph or a scipy.sparse matrix.

    Parameters
    ----------
    tail, head, cost
        Arc ``k`` goes ``tail[k] -> head[k]`` at cost ``cost[k]`` (0-based indices, or labels
        when ``labels`` is given).
    arc_bound
        Upper bound(s) on the arc flows (the relaxation ``"flow"`` needs them finite).
    source, target
        End nodes (labels); ``target=None`` for the single-source problem.
    n, labels
        Number of nodes (default ``1 + largest index``) or the node labels.
    graph, weight
        A networkx graph instead of arrays (undirected edges give two arcs) and its edge
        attribute holding the cost (missing: 1, as in networkx).
    matrix
        A square scipy.sparse matrix instead: one arc per stored entry, the entry its cost.
    name
        The name of the model.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph([("s", "a", {"weight": 2}), ("a", "t", {"weight": 2}),
    ...                 ("s", "t", {"weight": 5})])
    >>> p = build(graph=g, source="s", target="t")
    >>> p.model.n, list(p.model.groups), p.default_solver
    (3, ['flow'], 'dijkstra')
    """
    key = weight if graph is not None else "cost"
    unit = {key: 1.0} if graph is not None else {}  # networkx: an edge without weight costs 1
    arcs, vals = arcs_from(tail, head, n, labels, graph, matrix, {key: cost}, unit)
    c = vals[key]
    s = arcs.index(source)
    t = None if target is None else arcs.index(target)
    upper = None
    if arc_bound is not None:
        upper = np.broadcast_to(np.asarray(arc_bound, dtype=np.float64), (arcs.m,)).copy()
        if np.any(upper < 0) or np.any(np.isnan(upper)):
            raise ModelError("arc_bound must be >= 0")
    return _problem(arcs, c, s, t, upper, name)


def read(
    path: str | Path,
    source: int = 1,
    target: int | None = None,
    arc_bound: float | None = None,
) -> Problem:
    """A DIMACS ``.gr`` file (``p sp``) as a shortest-path Problem.

    Nodes keep the file's numbering (``1..n``): ``source``/``target`` and the decoded paths
    use it.

    Raises
    ------
    SpecError
        A malformed ``.gr`` file, with the file, line and field in the message.
    """
    from ortools_lag.io.dimacs import read_gr

    g = read_gr(path)
    arcs = numbered(g)
    s = arcs.index(source)
    t = None if target is None else arcs.index(target)
    upper = None if arc_bound is None else np.full(arcs.m, float(arc_bound))
    return _problem(arcs, np.asarray(g.cost), s, t, upper, stem(path))


def _reach(n: int, tail: IntArray, head: IntArray, start: int, graph: Any = None) -> BoolArray:
    """Nodes reachable from ``start`` (depth-first search on ``graph``'s structure: csgraph's
    is several times faster than its breadth-first search)."""
    if graph is None:
        graph = sp.csr_matrix((np.ones(tail.size), (tail, head)), shape=(n, n))
    seen = np.zeros(n, dtype=bool)
    seen[depth_first_order(graph, start, directed=True, return_predecessors=False)] = True
    return seen


def _problem(
    arcs: Arcs, cost: FloatArray, s: int, t: int | None, upper: FloatArray | None, name: str
) -> Problem:
    cost = require_finite("cost", cost)

    def search() -> tuple[ArcGraph, BoolArray]:
        g = arc_graph(arcs.n, arcs.tail, arcs.head, cost)
        return g, _reach(arcs.n, arcs.tail, arcs.head, s, g.matrix)

    graph, reachable = search()
    b = np.zeros(arcs.n)
    if t is not None:
        b[s] += 1.0
        b[t] -= 1.0
    else:
        b[reachable] = -1.0
        b[s] = float(reachable.sum() - 1)
    data = ShortestPathData(arcs, cost, s, t, upper, b, reachable, graph)

    def model() -> Model:  # built on demand: dijkstra reads only the arrays
        m = Model(name)
        x = m.var("x", arcs.m, lb=0.0, ub=upper)
        m.minimize(cost @ x)
        m.add("flow", flow_rows(x, arcs, b, matrix=incidence(arcs.n, arcs.tail, arcs.head)))
        return m

    target = None if t is None else arcs.label(t)
    meta = {"source": arcs.label(s), "target": target, "nodes": arcs.n, "arcs": arcs.m}
    relaxation = "conservation dualised; x_a at its bound where the reduced cost is < 0"
    return data.problem(model, relaxation, meta, n_vars=arcs.m)


def dijkstra_refuses(data: ShortestPathData) -> str | None:
    """Why ``dijkstra`` cannot take these data (``None`` when it can).

    Examples
    --------
    >>> dijkstra_refuses(build([0], [1], [-1.0], source=0, target=1, arc_bound=1).data)
    'with arc bounds and negative costs this is a min-cost flow: use network_lp'
    """
    if data.upper is not None and data.cost.size and float(data.cost.min()) < 0:
        return "with arc bounds and negative costs this is a min-cost flow: use network_lp"
    return None


def solve_exact(problem: Problem) -> Exact:
    """The ``dijkstra`` solver's work: distances, tree or path, potentials (uncertified).

    Examples
    --------
    >>> ex = solve_exact(build([0, 1], [1, 2], [2.0, 3.0], source=0, target=2))
    >>> ex.status.value, ex.z.tolist(), ex.multipliers["flow"].tolist()
    ('optimal', [1.0, 1.0], [0.0, 2.0, 5.0])
    """
    data = problem.data
    if not isinstance(data, ShortestPathData):
        raise ModelError("not a shortest-path problem built by problems.shortest_path")
    why = dijkstra_refuses(data)
    if why is not None:
        raise NotSupportedError(f"solver 'dijkstra': {why}")
    return _exact(data)


def _exact(data: ShortestPathData) -> Exact:
    a, c = data.arcs, data.cost
    if data.target is not None and not data.reachable[data.target]:
        y = _reach(a.n, a.head, a.tail, data.target).astype(np.float64)  # nodes that reach t
        msg = f"target {a.label(data.target)!r} is not reachable from {a.label(data.source)!r}"
        return Exact(Status.INFEASIBLE, farkas={"flow": y}, message=msg, info=_info("bfs"))
    negative = bool(c.size) and float(c.min()) < 0
    method: Literal["johnson", "dijkstra"] = "johnson" if negative else "dijkstra"
    tree = shortest_paths(a.n, a.tail, a.head, c, data.source, method=method, graph=data.graph)
    if tree.negative_cycle is not None and tree.negative_cycle_arcs is not None:
        ray = np.zeros(a.m)
        ray[tree.negative_cycle_arcs] = 1.0
        info = _info(method)
        info["negative_cycle"] = a.names(tree.negative_cycle)
        info["negative_cycle_arcs"] = tree.negative_cycle_arcs.tolist()
        return Exact(Status.UNBOUNDED, ray=ray, message="negative-cost cycle", info=info)
    pi = complete_potentials(a.n, a.tail, a.head, c, tree.potential)
    if data.target is not None:
        z = np.zeros(a.m)
        z[tree.path_to(data.target)[1]] = 1.0
    else:
        weight = data.reachable.astype(np.float64)
        weight[data.source] = 0.0
        z = tree_flow(a.n, a.tail, tree.pred_arc, weight, tree.predecessor)
    return Exact(Status.OPTIMAL, z=z, multipliers={"flow": pi}, message=method, info=_info(method))


def _info(method: str) -> dict[str, Any]:
    return {
        "method": method,
        "bound_from": "dual value -pi.b of the node potentials (distances), by kkt.certify",
        "point_from": f"shortest-path tree of {method}",
    }


def tree_flow(
    n: int,
    tail: IntArray,
    pred_arc: IntArray,
    weight: FloatArray,
    parent: IntArray | None = None,
) -> FloatArray:
    """Flow on a tree's arcs when node ``v`` consumes ``weight[v]`` (supplied by the root).

    The arc into ``v`` carries the total weight ``S(v)`` of ``v``'s subtree. With ``A_k(v)`` the
    weight of the descendants less than ``2^k`` levels below ``v`` and ``up_k(u)`` the ancestor
    ``2^k`` levels above ``u``, ``A_{k+1}(v) = A_k(v) + sum of A_k(u) over up_k(u) = v`` and
    ``up_{k+1} = up_k o up_k``: ``log2(depth)`` rounds of one gather and one ``bincount``.
    ``parent`` (``tail[pred_arc[v]]``, -1 at roots), when the caller has it, saves a gather.

    Examples
    --------
    >>> import numpy as np
    >>> tail = np.array([0, 1, 1])                 # arcs 0->1, 1->2, 1->3
    >>> tree_flow(4, tail, np.array([-1, 0, 1, 2]), np.array([0.0, 1, 1, 1])).tolist()
    [3.0, 1.0, 1.0]
    """
    has = pred_arc >= 0
    if parent is None:
        up = np.full(n, -1, dtype=np.int64)
        up[has] = tail[pred_arc[has]]
    else:
        up = np.where(has, parent, -1)
    size = np.array(weight, dtype=np.float64)
    live = np.flatnonzero(has)  # nodes with an ancestor 2^k levels up
    while live.size:
        anc = up[live]
        size += np.bincount(anc, size[live], minlength=n)
        up[live] = up[anc]
        live = live[up[live] >= 0]
    flow = np.zeros(tail.size)
    flow[pred_arc[has]] = size[has]
    return flow


def _successors(data: ShortestPathData, x: FloatArray) -> IntArray:
    """For each node, the used out-arc carrying the most flow (-1: none)."""
    a = data.arcs
    used = np.flatnonzero(x > 1e-9)
    order = used[np.lexsort((-x[used], a.tail[used]))]
    first = np.ones(order.size, dtype=bool)
    first[1:] = a.tail[order[1:]] != a.tail[order[:-1]]
    nxt = np.full(a.n, -1, dtype=np.int64)
    nxt[a.tail[order[first]]] = order[first]
    return nxt


def _walk(data: ShortestPathData, x: FloatArray) -> tuple[list[int], list[int]]:
    assert data.target is not None
    nxt = _successors(data, x)
    nodes: list[int] = [data.source]
    arcs: list[int] = []
    while nodes[-1] != data.target and len(arcs) < data.arcs.n:  # one step per path arc
        k = int(nxt[nodes[-1]])
        if k < 0:
            return [], []
        arcs.append(k)
        nodes.append(int(data.arcs.head[k]))
    return (nodes, arcs) if nodes[-1] == data.target else ([], [])


def _decode(data: ShortestPathData, sol: Solution) -> ShortestPathAnswer:
    a = data.arcs
    cycle = sol.info.get("negative_cycle")
    pot = multiplier(sol, "flow")
    path: list[Hashable] = []
    arcs: list[int] = []
    if data.target is not None and "x" in sol.x:
        nodes, arcs = _walk(data, np.asarray(sol.x["x"], dtype=np.float64))
        path = a.names(nodes)
    dist = None
    if data.target is None and pot is not None:
        dist = np.where(data.reachable, pot - pot[data.source], math.inf)
    return ShortestPathAnswer(
        status=sol.status.value,
        source=a.label(data.source),
        target=None if data.target is None else a.label(data.target),
        length=sol.objective,
        path=path,
        path_arcs=np.asarray(arcs, dtype=np.int64),
        potential=pot,
        distance=dist,
        negative_cycle=list(cycle) if cycle is not None else None,
    )


class DijkstraSolver(NetworkSolver):
    """Shortest paths with node potentials (Dijkstra; Johnson for negative costs)."""

    name = "dijkstra"
    description = "shortest path: Dijkstra/Johnson (scipy.csgraph), potentials as multipliers"
    kinds = ("shortest_path",)

    def check(self, problem: Problem) -> str | None:
        return super().check(problem) or dijkstra_refuses(problem.data)

    def run(self, problem: Problem, options: SolverOptions) -> Exact:
        return solve_exact(problem)
