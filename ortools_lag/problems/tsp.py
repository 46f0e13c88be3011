r"""Symmetric travelling salesman: the Held–Karp 1-tree relaxation of the degree rows.

**Model** (exact and compact, Gavish–Graves single-commodity flow). Nodes ``0..n-1``, edges
``e = (i, j)``, ``i < j``, in the row-major order of ``numpy.triu_indices(n, 1)``; the edges at
node 0 come first. Variables: ``x[e]`` binary (edge in the tour) and ``f[a] >= 0``, the flow on
the arcs ``a`` of the edges among the nodes ``1..n-1`` (``f[:k]`` runs ``i -> j``, ``f[k:]``
``j -> i``, ``k = (n-1)(n-2)/2``)::

    min  sum_e c_e x_e
    s.t. degree:    sum_{e at v} x_e           == 2       every node v     (pi_v, free)
         root:      sum_{e at 0} x_e           == 2       (kept)
         tree:      sum_{e not at 0} x_e       == n - 2   (kept)
         flow:      out_f(v) - in_f(v)         == b_v     v = 1..n-1, b_1 = n-2, else -1 (kept)
         capacity:  f_a - (n - 2) x_{e(a)}     <= 0       (kept)

``tree``, ``flow`` and ``capacity`` say that the edges among ``1..n-1`` form a connected graph
with ``n - 2`` edges, a spanning tree: with ``root`` the kept part is exactly the set of
**1-trees**; with ``degree`` as well it is exactly the set of tours.

**Relaxation** ``"degree"`` (the default; Held & Karp 1970, 1971). The degree rows are held as
``sum_{e at v} x_e - 2 == 0`` with free multipliers :math:`\pi_v`:

.. math::

    L(\pi) = \min_{T \text{ 1-tree}} \sum_{(i,j) \in T} (c_{ij} + \pi_i + \pi_j)
             - 2 \sum_v \pi_v \;\le\; \text{every tour's length},

computed by the structured oracle as a minimum spanning tree of ``1..n-1`` (dense vectorised
Prim) plus the two cheapest edges at node 0 under the modified costs, the flows being the
subtree sizes of the tree rooted at node 1. Its subgradient is ``degree_T(v) - 2``. **pi_v is
node v's penalty**: raising it makes every edge at ``v`` dearer by ``pi_v``, which pushes a node
of tree-degree above 2 out of the tree's favour; ``max L`` is the subtour-elimination LP value.
When the weights are integers, ``ceil(L)`` is a bound too (``info["bound_int"]``).

**Solvers.** The default ``held_karp`` (:class:`HeldKarpSolver`) runs
:func:`~ortools_lag.algorithms.one_tree.solve_tsp`: a nearest-neighbour tour improved by
2-opt/Or-opt, the Held–Karp subgradient ascent (Polyak / Held–Wolfe–Crowder steps by default, or
Volgenant–Jonker's schedule), and an iterated local search on candidate lists of the modified
costs. No MIP solver is called. The generic dual methods (``subgradient``, ``bundle``) take the same
relaxation through the oracle, with the Lagrangian heuristic :func:`tour_from_tree` (the double
tree of the 1-tree, then 2-opt/Or-opt).

**What HiGHS solves.** ``solve(problem, "highs")`` solves the Model above exactly, but the
single-commodity flow formulation has a weak LP relaxation: it is the referee for small
instances only (about ``n <= 12`` within seconds). Likewise the engine's re-evaluation of the
bound (:func:`~ortools_lag.solvers.loop.certify_bound`, HiGHS on the kept part ``root``,
``tree``, ``flow``, ``capacity``) is exact but a MIP: ``held_karp`` runs it up to
``certify_highs_max_nodes`` nodes (default 10), and the generic methods (``subgradient``,
``bundle``) run it at the end of every solve: beyond about 12 nodes pass them
``certify="never"`` and check the bound with :func:`one_tree_certificate` (about 5 s at
``n = 14``, over a minute at ``n = 17``). For every size ``held_karp`` re-evaluates
:math:`L(\pi)` independently from the Model's own expressions, the reduced costs
``c + J_degree^T pi``, by :func:`scipy.sparse.csgraph.minimum_spanning_tree` (Kruskal, not our
Prim) plus the two cheapest edges at node 0 (:func:`one_tree_certificate`). The benchmark
``benchmarks/bench_relaxation2.py`` uses HiGHS as referee through its own subtour-cut loop
(degree rows, subtour cuts added on integer solutions).

>>> import numpy as np
>>> from ortools_lag import solve
>>> pts = np.array([[0, 0], [4, 0], [4, 3], [0, 3], [2, 5]], dtype=float)
>>> p = build(coords=pts, metric="EUC_2D")
>>> sol = solve(p)
>>> sol.solver, sol.status.value, sol.objective, sol.info["bound_int"]
('held_karp', 'optimal', 16.0, 16.0)
>>> p.decode(sol).tour
[0, 1, 2, 4, 3]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from pydantic import Field
from scipy.sparse.csgraph import breadth_first_order, depth_first_order, minimum_spanning_tree
from scipy.sparse.linalg import spsolve_triangular

from ..algorithms.one_tree import one_tree, solve_tsp
from ..algorithms.tour import (
    check_weights,
    local_search,
    nearest_neighbor_tour,
    nearest_neighbours,
    tour_length,
)
from ..errors import ModelError, SpecError
from ..io.tsplib import coordinate_distances, read_tour, read_tsplib
from ..kkt import certify_feasible
from ..model import Model
from ..problem import Problem, Relaxation
from ..result import KKTReport, Solution, Termination
from ..solvers.lagrangian_heuristic import (
    LagrangianHeuristicOptions,
    LagrangianHeuristicSolver,
    Outcome,
    ascent_history,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "HeldKarpOptions",
    "HeldKarpSolver",
    "TSPData",
    "TourAnswer",
    "build",
    "decode",
    "one_tree_certificate",
    "point_of_tree",
    "read",
    "tour_from_tree",
]


@dataclass(frozen=True, eq=False)
class TSPData:
    """The arrays behind a TSP Problem.

    Attributes
    ----------
    weights
        ``(n, n)`` symmetric weights (float).
    edges
        ``(m, 2)`` edges ``(i, j)``, ``i < j``, the index of ``x``.
    name
        Instance name.
    """

    weights: np.ndarray
    edges: np.ndarray
    name: str

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.weights.shape[0])

    @property
    def k(self) -> int:
        """Number of edges among the nodes ``1..n-1`` (``f`` has ``2 k`` arcs)."""
        return (self.n - 1) * (self.n - 2) // 2

    @property
    def integral(self) -> bool:
        """Every weight is an integer (tour lengths are then integers)."""
        return bool(np.all(self.weights == np.round(self.weights)))

    def edge_index(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Index in ``x`` of the edges ``{i, j}`` (any order, ``i != j``)."""
        a, b = np.minimum(i, j).astype(np.int64), np.maximum(i, j).astype(np.int64)
        return a * self.n - a * (a + 1) // 2 + (b - a - 1)


@dataclass(frozen=True)
class TourAnswer:
    """A decoded TSP Solution.

    Attributes
    ----------
    tour
        Nodes in visiting order, from node 0 (0-based).
    length
        The tour's length under the instance's weights.
    """

    tour: list[int]
    length: float


# -- building -------------------------------------------------------------------------------------
def build(
    weights: npt.ArrayLike | None = None,
    *,
    coords: npt.ArrayLike | None = None,
    metric: str = "EUC_2D",
    name: str = "tsp",
) -> Problem:
    """The TSP Problem from a symmetric weight matrix or from coordinates.

    Parameters
    ----------
    weights
        ``(n, n)`` symmetric finite weights, ``n >= 3`` (the diagonal is ignored).
    coords
        ``(n, 2)`` (or ``(n, 3)``) coordinates instead, measured by ``metric``.
    metric
        A TSPLIB ``EDGE_WEIGHT_TYPE`` for ``coords``: ``EUC_2D`` (rounded to the nearest
        integer), ``CEIL_2D``, ``ATT``, ``GEO``, ``MAN_2D`` ...
    name
        The model's name.

    Examples
    --------
    >>> p = build([[0, 1, 2], [1, 0, 1], [2, 1, 0]])
    >>> p.model.n, list(p.model.groups), p.default_solver
    (5, ['degree', 'root', 'tree', 'flow', 'capacity'], 'held_karp')
    """
    if (weights is None) == (coords is None):
        raise ModelError("give exactly one of weights and coords")
    if coords is not None:
        try:
            w = coordinate_distances(np.asarray(coords, dtype=np.float64), metric)
        except (SpecError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot measure coords with metric {metric!r}: {exc}") from None
    else:
        w = np.asarray(weights, dtype=np.float64)
    w = check_weights(w).copy()
    np.fill_diagonal(w, 0.0)
    iu = np.triu_indices(w.shape[0], 1)
    data = TSPData(w, np.stack(iu, axis=1).astype(np.int64), name)
    return _problem(data)


def read(path: str | Path, *, max_dimension: int = 20_000) -> Problem:
    """A TSPLIB ``.tsp`` file (type ``TSP``) as a TSP Problem.

    The TSPLIB rounding rules of :mod:`ortools_lag.io.tsplib` apply. When ``<stem>.opt.tour``
    lies beside the file, its length is recorded in ``metadata["optimal_tour_length"]``.

    Examples
    --------
    >>> from ortools_lag import __file__ as pkg
    >>> p = read(Path(pkg).parents[1] / "data" / "tsplib" / "burma14.tsp")
    >>> p.data.n, p.metadata["edge_weight_type"]
    (14, 'GEO')
    """
    inst = read_tsplib(path, max_dimension=max_dimension)
    kind = inst.problem_type.strip().upper()
    if kind and not kind.startswith("TSP"):
        raise SpecError(
            f"TYPE {inst.problem_type} is not a symmetric TSP", file=str(path), field="TYPE"
        )
    problem = build(inst.weights, name=inst.name or Path(path).stem)
    problem.metadata.update(
        {"file": str(path), "edge_weight_type": inst.edge_weight_type, "comment": inst.comment}
    )
    opt = Path(path).with_name(Path(path).name.removesuffix(".tsp") + ".opt.tour")
    if opt.is_file():
        tour = read_tour(opt, dimension=inst.dimension)
        problem.metadata["optimal_tour_length"] = tour_length(problem.data.weights, tour)
        problem.metadata["optimal_tour_source"] = str(opt)
    return problem


def _incidence(data: TSPData) -> sp.csr_matrix:
    """``(n, m)`` node-edge incidence: 1 where node ``v`` is an end of edge ``e``."""
    m = data.edges.shape[0]
    cols = np.tile(np.arange(m), 2)
    return sp.csr_matrix((np.ones(2 * m), (data.edges.T.ravel(), cols)), shape=(data.n, m))


def _arcs(data: TSPData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tails, heads and edge indices of the ``2 k`` arcs among the nodes ``1..n-1``."""
    inner = data.edges[data.n - 1 :]
    eidx = np.arange(data.n - 1, data.edges.shape[0])
    tail = np.concatenate([inner[:, 0], inner[:, 1]])
    head = np.concatenate([inner[:, 1], inner[:, 0]])
    return tail, head, np.concatenate([eidx, eidx])


def _model(data: TSPData) -> Model:
    n, m, k = data.n, data.edges.shape[0], data.k
    mdl = Model(data.name)
    x = mdl.var("x", m, ub=1, domain="binary")
    f = mdl.var("f", 2 * k, ub=n - 2)
    mdl.minimize(data.weights[data.edges[:, 0], data.edges[:, 1]] @ x)
    mdl.add("degree", _incidence(data) @ x == 2)
    mdl.add("root", x[: n - 1].sum() == 2)
    mdl.add("tree", x[n - 1 :].sum() == n - 2)
    tail, head, eidx = _arcs(data)
    arcs = np.arange(2 * k)
    out_in = sp.csr_matrix(
        (np.r_[np.ones(2 * k), -np.ones(2 * k)], (np.r_[tail, head] - 1, np.r_[arcs, arcs])),
        shape=(n - 1, 2 * k),
    )
    supply = np.full(n - 1, -1.0)
    supply[0] = n - 2
    mdl.add("flow", out_in @ f == supply)
    link = sp.csr_matrix((np.full(2 * k, float(n - 2)), (arcs, eidx)), shape=(2 * k, m))
    mdl.add("capacity", f - link @ x <= 0)
    return mdl


def _problem(data: TSPData) -> Problem:
    relax = Relaxation(
        relax=("degree",),
        oracle=_oracle(data),
        heuristic=_heuristic(data),
        description="degree rows relaxed: Held-Karp 1-tree bound (MST + two edges at node 0)",
    )
    return Problem(
        _model(data),
        relaxations={"degree": relax},
        default_relaxation="degree",
        decode=lambda sol: decode(data, sol),
        kind="tsp",
        default_solver="held_karp",
        data=data,
        metadata={"name": data.name, "n": data.n},
    )


# -- points: 1-trees and tours --------------------------------------------------------------------
def _subtree_sizes(
    n_nodes: int, u: np.ndarray, v: np.ndarray, root: int
) -> tuple[np.ndarray, np.ndarray]:
    """Parent of each node of the tree ``(u, v)`` rooted at ``root`` and each subtree's size.

    One BFS (scipy) and one sparse triangular solve ``(I - C) s = 1`` in BFS order, ``C`` the
    parent-to-child matrix.
    """
    g = sp.csr_matrix((np.ones(u.size), (u, v)), shape=(n_nodes, n_nodes))
    order, pred = breadth_first_order(g, root, directed=False, return_predecessors=True)
    if order.size != n_nodes:
        raise ModelError("the edges among nodes 1..n-1 do not form a spanning tree")
    pos = np.empty(n_nodes, dtype=np.int64)
    pos[order] = np.arange(n_nodes)
    kids = order[1:]
    c = sp.csr_matrix((-np.ones(kids.size), (pos[pred[kids]], pos[kids])), shape=(n_nodes, n_nodes))
    sizes_in_order = spsolve_triangular(
        (sp.identity(n_nodes, format="csr") + c).tocsr(),
        np.ones(n_nodes),
        lower=False,
        unit_diagonal=True,
    )
    sizes = np.empty(n_nodes)
    sizes[order] = sizes_in_order
    return pred, sizes


def point_of_tree(data: TSPData, edges: np.ndarray) -> dict[str, np.ndarray]:
    """The Model's point ``{x, f}`` of a 1-tree (or a tour) given by its ``n`` edges.

    ``f`` carries, on each tree arc among ``1..n-1`` directed away from node 1, the number of
    nodes below it (the subtree size): the flow that ``flow`` asks for.

    Examples
    --------
    >>> p = build([[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]])
    >>> pt = point_of_tree(p.data, [[0, 1], [1, 2], [2, 3], [3, 0]])
    >>> pt["x"].tolist(), pt["f"].tolist()
    ([1.0, 0.0, 1.0, 1.0, 0.0, 1.0], [2.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    """
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    n, k = data.n, data.k
    x = np.zeros(data.edges.shape[0])
    x[data.edge_index(e[:, 0], e[:, 1])] = 1.0
    inner = e[(e != 0).all(axis=1)]
    pred, sizes = _subtree_sizes(n - 1, inner[:, 0] - 1, inner[:, 1] - 1, 0)
    child = np.arange(1, n - 1)  # 0-based among 1..n-1; node 1 (index 0) is the root
    parent = pred[child]
    f = np.zeros(2 * k)
    pos = data.edge_index(parent + 1, child + 1) - (n - 1)
    forward = parent < child  # the arc parent -> child is i -> j of its edge
    f[np.where(forward, pos, pos + k)] = sizes[child]
    return {"x": x, "f": f}


def _tour_edges(tour: np.ndarray) -> np.ndarray:
    t = np.asarray(tour, dtype=np.int64)
    return np.stack([t, np.roll(t, -1)], axis=1)


def _cycle(data: TSPData, x: np.ndarray) -> np.ndarray | None:
    """The visiting order (from node 0) of the edges ``x > 1/2`` when they form one tour."""
    used = data.edges[np.asarray(x).reshape(-1) > 0.5]
    n = data.n
    if used.shape[0] != n or np.bincount(used.ravel(), minlength=n).tolist() != [2] * n:
        return None
    g = sp.csr_matrix((np.ones(n), (used[:, 0], used[:, 1])), shape=(n, n))
    order = depth_first_order(g, 0, directed=False, return_predecessors=False)
    return order if order.size == n else None


def tour_from_tree(data: TSPData, x: np.ndarray, *, k: int = 8) -> np.ndarray:
    """A tour from a 1-tree ``x``: its depth-first order (the double-tree shortcut), then
    2-opt/Or-opt on the ``k`` nearest neighbours (nearest neighbour when ``x`` is no 1-tree).

    Examples
    --------
    >>> p = build(coords=[[0, 0], [4, 0], [4, 3], [0, 3], [2, 5]])
    >>> x = p.relaxation().oracle({"degree": [0.0] * 5})[0]["x"]
    >>> sorted(tour_from_tree(p.data, x).tolist())
    [0, 1, 2, 3, 4]
    """
    w, n = data.weights, data.n
    used = data.edges[np.asarray(x).reshape(-1) > 0.5]
    g = sp.csr_matrix((np.ones(used.shape[0]), (used[:, 0], used[:, 1])), shape=(n, n))
    order = depth_first_order(g, 0, directed=False, return_predecessors=False)
    start = order if order.size == n else nearest_neighbor_tour(w)
    return local_search(w, start, neighbours=nearest_neighbours(w, k))


# -- relaxation: oracle and heuristic -------------------------------------------------------------
def _oracle(data: TSPData) -> Any:
    def oracle(lam: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], float]:
        pi = np.asarray(lam["degree"], dtype=np.float64).reshape(-1)
        tree = one_tree(data.weights, pi)
        return point_of_tree(data, tree.edges), tree.value

    return oracle


def _heuristic(data: TSPData) -> Any:
    seen: dict[bytes, dict[str, np.ndarray]] = {}

    def heuristic(point: Mapping[str, np.ndarray]) -> dict[str, np.ndarray] | None:
        x = np.asarray(point["x"]).reshape(-1) > 0.5
        key = np.packbits(x).tobytes()
        if key not in seen:  # the same 1-tree recurs often near the optimum
            if len(seen) > 256:
                seen.clear()
            seen[key] = point_of_tree(data, _tour_edges(tour_from_tree(data, x)))
        return seen[key]

    return heuristic


def decode(data: TSPData, sol: Solution) -> TourAnswer:
    """The tour of a Solution, from node 0 (raises ``ModelError`` when ``x`` is no tour)."""
    if "x" not in sol.x:
        raise ModelError(f"the solution has no point ({sol.status.value}): {sol.message}")
    order = _cycle(data, sol.x["x"])
    if order is None:
        raise ModelError("the solution's edges do not form a tour")
    return TourAnswer([int(v) for v in order], tour_length(data.weights, order))


# -- the certificate: L(pi) re-evaluated from the model by scipy's MST ---------------------------
def _reduced_costs(model: Model, pi: np.ndarray) -> tuple[np.ndarray, float]:
    """``c + J^T y`` over all variables and the constant of ``L(., pi)``, from the Model."""
    n = model.n
    z0 = np.zeros(n)
    g = model.groups["degree"]
    y = g.sign * pi
    c = np.asarray(model.objective.jacobian(z0, n).todense()).ravel()
    r = c + g.body.jacobian(z0, n).T @ y
    const = float(model.objective.value(z0)[0]) + float(y @ g.body.value(z0)) - float(y @ g.hi)
    return np.asarray(r), const


def _min_one_tree(data: TSPData, r: np.ndarray) -> float:
    """Least ``sum r_e`` over 1-trees: scipy's MST of ``1..n-1`` + the two least root edges."""
    n = data.n
    inner = data.edges[n - 1 :] - 1
    shift = 1.0 - float(r[n - 1 :].min(initial=0.0))  # csgraph drops zero entries: make r >= 1
    dense = np.zeros((n - 1, n - 1))
    dense[inner[:, 0], inner[:, 1]] = r[n - 1 :] + shift
    tree = float(minimum_spanning_tree(dense).sum()) - (n - 2) * shift
    return tree + float(np.sort(r[: n - 1])[:2].sum())


def one_tree_certificate(
    problem: Problem,
    pi: npt.ArrayLike,
    bound: float,
    x: Mapping[str, Any] | None = None,
    *,
    tol: float = 1e-6,
) -> KKTReport:
    """Re-evaluate the Held–Karp bound at ``pi`` independently (a ``"lagrangian"`` report).

    ``L(pi)`` is recomputed from the Model's objective and ``degree`` rows (reduced costs
    ``c + J^T pi`` and constant ``-2 sum pi``) as scipy's minimum spanning tree of the nodes
    ``1..n-1`` plus the two cheapest edges at node 0 (the flows have no cost, so they do not
    change the minimum); ``bound`` must not exceed it. The point ``x``, when given, is checked
    for feasibility and integrality by :func:`ortools_lag.kkt.certify_feasible`.

    Examples
    --------
    >>> p = build([[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]])
    >>> rep = one_tree_certificate(p, [0.0] * 4, 4.0)
    >>> rep.certified, rep.dual_objective
    (True, 4.0)
    """
    model, data = problem.model, problem.data
    lam = np.asarray(pi, dtype=np.float64).reshape(-1)
    notes: list[str] = []
    r, const = _reduced_costs(model, lam)
    xv = model.variables["x"]
    r_x = r[xv.offset : xv.offset + xv.size]
    r_f = np.delete(r, np.arange(xv.offset, xv.offset + xv.size))
    if np.any(np.abs(r_f) > 0):
        notes.append("bound not re-evaluated: the flows carry costs")
        q = math.nan
    else:
        q = _min_one_tree(data, r_x) + const
        if bound > q + tol * (1.0 + abs(q)):
            notes.append(f"reported bound {bound:.10g} is beyond q(pi) = {q:.10g}")
    primal = integ = gap = math.nan
    if x is not None:
        rep = certify_feasible(model, x, bound=bound, tol=tol, gap_tol=math.inf)
        primal, integ, gap = rep.primal_residual, rep.integrality, rep.duality_gap
        notes += [f"point: {note}" for note in rep.notes]
    return KKTReport(
        primal_residual=primal,
        duality_gap=gap,
        sign_violation=0.0,  # free multipliers (equality rows)
        integrality=integ,
        dual_objective=q,
        tolerance=tol,
        certified=not notes,
        kind="lagrangian",
        notes=tuple(notes),
    )


# -- the default solver ---------------------------------------------------------------------------
class HeldKarpOptions(LagrangianHeuristicOptions):
    """Options of ``held_karp``.

    Attributes
    ----------
    step_rule
        ``"polyak"`` (the default; Held–Wolfe–Crowder: ``t = alpha (U - L) / |g|^2``, ``alpha``
        halved on stalls; ``max_iter`` default ``max(1000, 10 n)``) or ``"volgenant_jonker"``
        (the step falls along Volgenant and Jonker's quadratic schedule to 0 at ``max_iter``,
        default ``max(150, n^2/50 + n + 16)``, their iteration count).
    kicks
        Kicks of the iterated local search (default ``max(50, 2 n)``).
    neighbours
        Candidate-list length of the local search.
    certify_highs_max_nodes
        Up to this many nodes, the bound is also re-evaluated by the engine's
        :func:`~ortools_lag.solvers.loop.certify_bound` (HiGHS, a MIP on the kept part).
    """

    step_rule: Literal["polyak", "volgenant_jonker"] = "polyak"
    kicks: int | None = Field(default=None, ge=0)
    neighbours: int = Field(default=8, ge=1)
    certify_highs_max_nodes: int = Field(default=10, ge=0)


class HeldKarpSolver(LagrangianHeuristicSolver):
    """Held–Karp 1-tree bound by subgradient ascent, tour by 2-opt/Or-opt local search."""

    name = "held_karp"
    description = "Held-Karp 1-tree bound by subgradient ascent; 2-opt/Or-opt tour (tsp)"
    kinds = ("tsp",)
    relaxation = "degree"
    Options = HeldKarpOptions

    def run(self, problem: Problem, options: LagrangianHeuristicOptions) -> Outcome:
        assert isinstance(options, HeldKarpOptions)
        data: TSPData = problem.data
        n = data.n
        if options.max_iter is not None:
            max_iter = options.max_iter
        elif options.step_rule == "volgenant_jonker":
            max_iter = max(150, n * n // 50 + n + 16)
        else:
            max_iter = max(1000, 10 * n)
        res = solve_tsp(
            data.weights,
            seed=options.seed,
            kicks=options.kicks,
            k=options.neighbours,
            step_rule=options.step_rule,
            max_iter=max_iter,
        )
        if res.gap <= 0.0:
            term = Termination.CONVERGED
        elif res.iterations >= max_iter:
            term = Termination.ITERATION_LIMIT
        else:
            term = Termination.STALLED
        return Outcome(
            bound=res.bound,
            multipliers={"degree": res.multipliers},
            x=point_of_tree(data, _tour_edges(res.tour)),
            history=ascent_history(res.history, res.seconds),
            iterations=res.iterations,
            termination=term,
            integral=data.integral,
            point_from="tour heuristic: nearest neighbour, 2-opt/Or-opt, iterated local search",
            info={"step_rule": options.step_rule, "bound_check": self._check_name(data, options)},
        )

    @staticmethod
    def _check_name(data: TSPData, options: HeldKarpOptions) -> str:
        if options.certify == "never":
            return "none"
        mst = "L(pi) by scipy.sparse.csgraph.minimum_spanning_tree on the model's reduced costs"
        if options.certify == "always" or data.n <= options.certify_highs_max_nodes:
            return mst + "; q(pi) by HiGHS on the kept constraints (loop.certify_bound)"
        return mst

    def certify(
        self, problem: Problem, out: Outcome, options: LagrangianHeuristicOptions
    ) -> KKTReport:
        """scipy's MST re-evaluation always; the engine's HiGHS one on small instances."""
        assert isinstance(options, HeldKarpOptions)
        if options.certify == "never":
            return KKTReport(kind="lagrangian", notes=("certification switched off",))
        pi = out.multipliers["degree"]
        rep = one_tree_certificate(problem, pi, out.bound, out.x, tol=options.tolerance)
        small = problem.data.n <= options.certify_highs_max_nodes
        if options.certify == "always" or small:
            highs = super().certify(problem, out, options)
            rep = replace(
                highs,
                certified=highs.certified and rep.certified,
                notes=highs.notes + tuple(n for n in rep.notes if not n.startswith("point:")),
            )
        return rep
