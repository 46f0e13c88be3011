"""The TSP instance's arrays and the points of its model: 1-trees and tours as ``{x, f}``.

:class:`TSPData` holds the weights and the edge order that indexes ``x``. The Model of
:mod:`ortools_lag.problems.tsp` has edge variables ``x`` and arc flows ``f`` among the nodes
``1..n-1``; :func:`point_of_tree` turns a 1-tree (or a tour) into that point,
with the flows its subtree sizes, :func:`tour_order` reads a tour back from ``x`` and
:func:`tour_from_tree` makes a tour out of a 1-tree (the Lagrangian heuristic).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, depth_first_order
from scipy.sparse.linalg import spsolve_triangular

from ortools_lag.algorithms.tour import local_search, nearest_neighbor_tour, nearest_neighbours
from ortools_lag.errors import ModelError

__all__ = ["TSPData", "point_of_tree", "tour_edges", "tour_from_tree", "tour_order"]


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
    >>> from ortools_lag.problems.tsp import build
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


def tour_edges(tour: npt.ArrayLike) -> np.ndarray:
    """The ``(n, 2)`` edges of a tour given by its visiting order (the last one closes it).

    >>> tour_edges([0, 2, 1]).tolist()
    [[0, 2], [2, 1], [1, 0]]
    """
    t = np.asarray(tour, dtype=np.int64)
    return np.stack([t, np.roll(t, -1)], axis=1)


def tour_order(data: TSPData, x: np.ndarray) -> np.ndarray | None:
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
    >>> from ortools_lag.problems.tsp import build
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
