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
single-commodity flow formulation has a weak LP relaxation: it is the referee for small instances
only (about ``n <= 12`` within seconds). Likewise the engine's re-evaluation of the bound
(:func:`~ortools_lag.solvers.bound_certificate.certify_bound`, HiGHS on the kept part ``root``,
``tree``, ``flow``, ``capacity``) is exact but a MIP: ``held_karp`` runs it up to
``certify_highs_max_nodes`` nodes (default 10), and the generic methods (``subgradient``,
``bundle``) run it at the end of every solve: beyond about 12 nodes pass them ``certify="never"``
and check the bound with :func:`one_tree_certificate` (about 5 s at ``n = 14``, over a minute at ``n
= 17``). For every size ``held_karp`` re-evaluates :math:`L(\pi)` independently from the Model's own
expressions, the reduced costs ``c + J_degree^T pi``, by
:func:`scipy.sparse.csgraph.minimum_spanning_tree` (Kruskal, not our Prim) plus the two cheapest
edges at node 0 (:func:`one_tree_certificate`). The benchmark ``benchmarks/bench_relaxation2.py``
uses HiGHS as referee through its own subtour-cut loop (degree rows, subtour cuts added on integer
solutions).

**Modules.** This one holds the Model, the relaxation, ``build``, ``read`` and ``decode``; the
instance's arrays (:class:`TSPData`) with the points of 1-trees and tours on them are in
:mod:`~ortools_lag.problems.tsp_points`, the certificate in
:mod:`~ortools_lag.problems.tsp_certificate` and the solver in
:mod:`~ortools_lag.problems.tsp_held_karp` (all three re-exported here). The three use
:class:`TSPData` from :mod:`~ortools_lag.problems.tsp_points` and nothing of this module.

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

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from ortools_lag.algorithms.one_tree import one_tree
from ortools_lag.algorithms.tour import check_weights, tour_length
from ortools_lag.errors import ModelError, SpecError
from ortools_lag.io.tsplib import coordinate_distances, read_tour, read_tsplib
from ortools_lag.model import Model
from ortools_lag.problem import Problem, Relaxation
from ortools_lag.problems.tsp_certificate import one_tree_certificate
from ortools_lag.problems.tsp_held_karp import HeldKarpOptions, HeldKarpSolver
from ortools_lag.problems.tsp_points import (
    TSPData,
    point_of_tree,
    tour_edges,
    tour_from_tree,
    tour_order,
)
from ortools_lag.result import Solution

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
            seen[key] = point_of_tree(data, tour_edges(tour_from_tree(data, x)))
        return seen[key]

    return heuristic


def decode(data: TSPData, sol: Solution) -> TourAnswer:
    """The tour of a Solution, from node 0 (raises ``ModelError`` when ``x`` is no tour)."""
    if "x" not in sol.x:
        raise ModelError(f"the solution has no point ({sol.status.value}): {sol.message}")
    order = tour_order(data, sol.x["x"])
    if order is None:
        raise ModelError("the solution's edges do not form a tour")
    return TourAnswer([int(v) for v in order], tour_length(data.weights, order))
