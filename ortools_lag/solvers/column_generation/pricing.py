r"""The pricing side of Dantzig-Wolfe: the kept part's blocks and the columns one evaluation gives.

The kept constraints split into blocks, the connected components of the graph whose nodes are
the variables and the kept rows (:func:`partition`); a variable that no kept row touches is
*free* and enters the master as itself. Pricing at multipliers ``lam`` is one evaluation of the
Lagrangian, :meth:`~ortools_lag.lagrangian.Lagrangian.evaluate`, by whatever solves its inner
problem: the relaxation plan's oracle (knapsack DP, shortest path, 1-tree...) or HiGHS on each
block. Because the inner problem is separable over the blocks, the minimiser's restriction to
block ``b`` minimises block ``b``'s part, and it is block ``b``'s new column
(:meth:`Pricer.columns`): cost ``c . x_b``, relaxed-row coefficients ``A_R x_b``. Its reduced
cost at the master's duals ``(y, sigma)`` is

.. math::

    \bar c_b = c \cdot x_b + y \cdot (A_R x_b) - \sigma_b ,

and when ``lam`` are the master's own multipliers, ``q(lam) = z_{RMP} + \sum_b \bar c_b``: the
master's value plus the blocks' reduced costs is the Lagrangian bound.

>>> from ortools_lag import Model
>>> from ortools_lag.lagrangian import Lagrangian
>>> m = Model(); x = m.var("x", 4, ub=1)
>>> m.minimize(-x.sum()); _ = m.add("pair", x[0] + x[1] <= 1); _ = m.add("cap", x.sum() <= 2)
>>> part = partition(Lagrangian(m, relax=["cap"]))
>>> part.label.tolist(), part.n_blocks, part.free.tolist()
([0, 0, -1, -1], 1, [2, 3])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ortools_lag.lagrangian_inner import kept_rows

if TYPE_CHECKING:
    from ortools_lag.lagrangian import Lagrangian

__all__ = ["BlockPartition", "Columns", "Pricer", "partition"]


@dataclass(frozen=True)
class BlockPartition:
    """The blocks of the kept part.

    Attributes
    ----------
    label
        ``(n,)`` the block of each variable (``-1``: free, in no kept row).
    n_blocks
        Number of blocks.
    free
        The free variables' indices.
    indicator
        ``n x n_blocks`` 0/1 matrix: variable ``j`` belongs to block ``label[j]``.
    """

    label: np.ndarray
    n_blocks: int
    free: np.ndarray
    indicator: sp.csr_matrix


def partition(lag: Lagrangian) -> BlockPartition:
    """Connected components of the variables and the kept rows of ``lag``'s model."""
    n = lag.model.n
    A, _, _ = kept_rows(lag.model, None, lag.kept)
    A = sp.csr_matrix(A)
    A.eliminate_zeros()
    m = A.shape[0]
    pattern = sp.csr_matrix((np.ones(A.nnz), A.indices, A.indptr), shape=(m, n))
    graph = sp.bmat([[None, pattern], [pattern.T, None]], format="csr")  # rows first, then vars
    _, comp = connected_components(graph, directed=False)
    var_comp = comp[m:]
    touched = np.diff(sp.csc_matrix(pattern).indptr) > 0
    label = np.full(n, -1, dtype=np.int64)
    _, label[touched] = np.unique(var_comp[touched], return_inverse=True)
    nb = int(label.max()) + 1 if touched.any() else 0
    cols = np.flatnonzero(touched)
    indicator = sp.csr_matrix((np.ones(cols.size), (cols, label[cols])), shape=(n, nb))
    return BlockPartition(label, nb, np.flatnonzero(~touched), indicator)


@dataclass(frozen=True)
class Columns:
    """One column per block from one minimiser.

    Attributes
    ----------
    cost
        ``(n_blocks,)`` ``c . x_b``.
    A
        ``rows x n_blocks`` relaxed-row coefficients ``A_R x_b``.
    points
        ``n x n_blocks`` the blocks' parts of the minimiser.
    """

    cost: np.ndarray
    A: sp.csc_matrix
    points: sp.csc_matrix

    def reduced_costs(self, y: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """``c . x_b + y . (A_R x_b) - sigma_b`` for every block."""
        return self.cost + np.asarray(self.A.T @ y).ravel() - sigma

    def select(self, keep: np.ndarray) -> Columns:
        """The columns of the blocks ``keep`` (indices)."""
        return Columns(self.cost[keep], self.A[:, keep], self.points[:, keep])


class Pricer:
    """Turns a minimiser of the Lagrangian into the blocks' columns.

    Parameters
    ----------
    lag
        The Lagrangian (linear objective, affine relaxed rows).
    part
        Its block partition.
    """

    def __init__(self, lag: Lagrangian, part: BlockPartition) -> None:
        self.c = lag.c
        self.A_R = sp.csr_matrix(lag.A_R)
        self.part = part

    def columns(self, z: np.ndarray) -> Columns:
        """The columns of every block at the point ``z`` (a global vector)."""
        P = self.part.indicator
        pts = sp.csc_matrix(P.multiply(np.asarray(z, dtype=float)[:, None]))
        pts.eliminate_zeros()
        cost = np.asarray(pts.T @ self.c).ravel()
        return Columns(cost, sp.csc_matrix(self.A_R @ pts), pts)
