r"""1-trees on a sparse candidate graph, and the exact 1-tree without an ``n x n`` temporary.

The Held–Karp ascent (:func:`~ortools_lag.algorithms.one_tree.held_karp`) computes one minimum
1-tree per step. On ``n`` nodes the dense Prim costs ``O(n^2)``; the minimum 1-tree of large
instances almost only uses short edges, so the ascent runs on a *candidate graph*: the ``k``
nearest nodes of every node and the edges of the minimum spanning tree under the plain weights
(which keep the graph connected). Its spanning tree under ``c_ij + pi_i + pi_j`` comes from
:func:`scipy.sparse.csgraph.minimum_spanning_tree` (``O(n k log n)``); node 0's two edges are
taken from its complete row.

The tree of a candidate graph weighs at least as much as the true minimum, so its value is only
an estimate of :math:`L(\pi)`; :func:`exact_one_tree` recomputes the true minimum 1-tree at the
final multipliers (Prim over all pairs, each row ``c_v + pi_v + pi`` formed when needed, ``O(n)``
memory), and that value is the bound the ascent reports.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> pts = rng.random((60, 2))
>>> w = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
>>> graph = CandidateGraph.nearest(w, 8)
>>> pi = rng.normal(0, 0.01, 60)
>>> bool(abs(graph.one_tree(pi).value - exact_one_tree(w, pi).value) < 1e-12)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import minimum_spanning_tree

from ortools_lag.algorithms.tour import nearest_neighbours
from ortools_lag.errors import ModelError

__all__ = ["CandidateGraph", "OneTree", "exact_one_tree", "pi_nearest", "tree_of_parents"]


@dataclass(frozen=True)
class OneTree:
    """A minimum 1-tree under the modified costs ``c_ij + pi_i + pi_j``.

    Attributes
    ----------
    edges
        ``(n, 2)`` edges ``(i, j)``; the last two are the edges at node 0.
    degree
        ``(n,)`` degree of each node in the 1-tree.
    cost
        The 1-tree's weight under the modified costs.
    value
        The Lagrangian value ``L(pi) = cost - 2 * sum(pi)`` (a lower bound on every tour).
    subgradient
        ``degree - 2``, a subgradient of ``L`` at ``pi``.
    """

    edges: np.ndarray
    degree: np.ndarray
    cost: float
    value: float
    subgradient: np.ndarray

    @property
    def is_tour(self) -> bool:
        """Whether every degree is 2 (the 1-tree is then an optimal tour)."""
        return bool((self.degree == 2).all())


def _one_tree_from(
    weights: np.ndarray, pi: np.ndarray, child: np.ndarray, parent: np.ndarray
) -> OneTree:
    """The :class:`OneTree` of a spanning tree on 1..n-1."""
    n = weights.shape[0]
    row0 = weights[0, 1:] + pi[0] + pi[1:]
    ends = np.argpartition(row0, 1)[:2] + 1
    edges = np.concatenate(
        [np.stack([child, parent], axis=1), np.stack([np.zeros(2, np.int64), ends], axis=1)]
    ).astype(np.int64)
    cost = float((weights[edges[:, 0], edges[:, 1]] + pi[edges[:, 0]] + pi[edges[:, 1]]).sum())
    degree = np.bincount(edges.ravel(), minlength=n)
    return OneTree(
        edges=edges,
        degree=degree,
        cost=cost,
        value=cost - 2.0 * float(pi.sum()),
        subgradient=(degree - 2).astype(np.float64),
    )


def tree_of_parents(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(child, parent)`` arrays of a tree given by ``parent`` (root: ``parent == -1``).

    >>> [a.tolist() for a in tree_of_parents(np.array([-1, 0, 1]))]
    [[1, 2], [0, 1]]
    """
    child = np.flatnonzero(parent >= 0)
    return child, parent[child]


def exact_one_tree(weights: np.ndarray, pi: np.ndarray):  # type: ignore[no-untyped-def]
    """The minimum 1-tree under ``c_ij + pi_i + pi_j`` over all pairs, in ``O(n)`` extra memory.

    Prim on the nodes ``1..n-1``: each step forms the row of the node just added and lowers the
    keys of the nodes outside the tree.

    Parameters
    ----------
    weights
        ``(n, n)`` symmetric weights, ``n >= 3``.
    pi
        ``(n,)`` node penalties.

    Returns
    -------
    OneTree
        See :class:`~ortools_lag.algorithms.one_tree.OneTree`.

    Examples
    --------
    >>> w = np.array([[0, 1, 1, 2], [1, 0, 2, 1], [1, 2, 0, 1], [2, 1, 1, 0]], dtype=float)
    >>> exact_one_tree(w, np.zeros(4)).value
    4.0
    """
    n = weights.shape[0]
    p = np.asarray(pi, dtype=np.float64)
    sub = p[1:]
    key = weights[1, 1:] + p[1] + sub
    parent = np.full(n - 1, 0, dtype=np.int64)
    parent[0] = -1
    done = np.zeros(n - 1, dtype=bool)
    done[0] = True
    key[0] = np.inf
    row = np.empty(n - 1)
    better = np.empty(n - 1, dtype=bool)
    for _ in range(n - 2):
        v = int(key.argmin())
        done[v] = True
        key[v] = np.inf
        np.add(weights[v + 1, 1:], p[v + 1], out=row)
        row += sub
        np.less(row, key, out=better)
        better &= ~done
        key[better] = row[better]
        parent[better] = v
    child, par = tree_of_parents(parent)
    return _one_tree_from(weights, p, child + 1, par + 1)


def pi_nearest(weights: np.ndarray, pi: np.ndarray, k: int, block: int = 512) -> np.ndarray:
    """Edges to the ``k`` nearest nodes of each node under ``c_ij + pi_i + pi_j``, ``(n k, 2)``.

    Rows are handled ``block`` at a time (``O(block n)`` memory).

    >>> w = np.array([[0, 5, 1], [5, 0, 2], [1, 2, 0]], dtype=float)
    >>> pi_nearest(w, np.zeros(3), 1).tolist()
    [[0, 2], [1, 2], [2, 0]]
    """
    n = weights.shape[0]
    k = int(min(max(k, 1), n - 1))
    out = np.empty((n, k), dtype=np.int64)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        m = weights[lo:hi] + pi[lo:hi, None] + pi[None, :]
        m[np.arange(hi - lo), np.arange(lo, hi)] = np.inf
        out[lo:hi] = np.argpartition(m, k - 1, axis=1)[:, :k]
    return np.stack([np.repeat(np.arange(n), k), out.ravel()], axis=1)


@dataclass
class CandidateGraph:
    """A sparse set of edges among the nodes ``1..n-1`` on which the ascent's 1-trees are built.

    Attributes
    ----------
    weights
        ``(n, n)`` the instance's weights (only rows are read).
    u, v
        ``(m,)`` the edges ``u < v`` (both ``>= 1``).
    """

    weights: np.ndarray
    u: np.ndarray
    v: np.ndarray

    def __post_init__(self) -> None:
        self._build()

    def _build(self) -> None:
        n = self.weights.shape[0]
        key = np.unique(self.u * n + self.v)
        self.u, self.v = key // n, key % n
        self.cost = self.weights[self.u, self.v].astype(np.float64)
        ids = np.arange(1, self.u.size + 1, dtype=np.float64)
        g = sp.csr_matrix((ids, (self.u - 1, self.v - 1)), shape=(n - 1, n - 1))
        self._perm = g.data.astype(np.int64) - 1
        self._graph = g

    @classmethod
    def nearest(
        cls, weights: np.ndarray, k: int, extra: np.ndarray | None = None
    ) -> CandidateGraph:
        """The ``k`` nearest nodes of each node (among ``1..n-1``) plus the plain MST's edges.

        ``extra`` (an ``(m, 2)`` array) adds more edges.
        """
        n = weights.shape[0]
        if n < 4:
            raise ModelError(f"a candidate graph needs at least 4 nodes, got {n}")
        sub = weights[1:, 1:]
        nb = nearest_neighbours(sub, min(k, n - 2)) + 1
        rows = np.repeat(np.arange(1, n), nb.shape[1])
        mst = exact_one_tree(weights, np.zeros(n)).edges[:-2]
        parts = [np.stack([rows, nb.ravel()], axis=1), mst]
        if extra is not None:
            parts.append(np.asarray(extra, dtype=np.int64).reshape(-1, 2))
        e = np.concatenate(parts)
        e = e[(e[:, 0] != 0) & (e[:, 1] != 0) & (e[:, 0] != e[:, 1])]
        return cls(weights, e.min(axis=1), e.max(axis=1))

    def add(self, edges: np.ndarray) -> int:
        """Add edges (``(m, 2)``; those at node 0 are ignored); returns how many were new."""
        e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        e = e[(e[:, 0] != 0) & (e[:, 1] != 0) & (e[:, 0] != e[:, 1])]
        before = self.u.size
        self.u = np.concatenate([self.u, e.min(axis=1)])
        self.v = np.concatenate([self.v, e.max(axis=1)])
        self._build()
        return int(self.u.size - before)

    def one_tree(self, pi: np.ndarray):  # type: ignore[no-untyped-def]
        """The minimum 1-tree of the candidate graph under ``c_ij + pi_i + pi_j``."""
        mod = self.cost + pi[self.u] + pi[self.v]
        shifted = mod - (float(mod.min()) - 1.0)  # scipy drops zero weights: keep them >= 1
        g = self._graph
        g.data[:] = shifted[self._perm]
        tree = minimum_spanning_tree(g).tocoo()
        n = self.weights.shape[0]
        if tree.nnz != n - 2:
            raise ModelError("the candidate graph does not connect the nodes 1..n-1")
        return _one_tree_from(self.weights, pi, tree.row + 1, tree.col + 1)
