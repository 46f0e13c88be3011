r"""Sparse Hessians of expression graphs: the structural pattern, its star colouring, and the
values recovered from a few Hessian-vector products.

For an expression ``e`` over ``N`` variables (its own blocks, concatenated) and weights ``w``
on its entries, ``H(w) = sum_i w_i Hessian(e_i)`` is a sum over the graph's nodes of
``J_a^T (g . Hessian(phi)) J_b``: a node couples two variables only where its second-order
rule (:meth:`~ortools_lag.model.ops.Op.vjp_tangent`) pairs argument entries they reach. So

1. :func:`sparsity_pattern` propagates, from the static shapes alone, which variables each
   entry of each node may depend on (0/1 sparse matrices, :meth:`Op.dependencies
   <ortools_lag.model.ops.Op.dependencies>`) and gathers the pairs each nonlinear node may
   couple (:meth:`Op.couplings <ortools_lag.model.ops.Op.couplings>`): ``x * y`` pairs the
   variables of ``x_i`` with those of ``y_i``, ``a @ b`` those of column ``j`` of ``a`` with
   row ``j`` of ``b``, ``f(x)`` those of ``x_i`` among themselves (unless ``f'' = 0``), a
   softmax cross-entropy the scores of one sample. The result is a superset of the nonzeros
   of ``H(w)`` for every ``w`` and every point.
2. :func:`star_coloring` colours the pattern's adjacency graph so that adjacent variables
   differ and every path on four vertices has at least three colours (greedy, in two vertex
   orders, the better kept). Summing the columns of ``H`` of one colour loses nothing that
   symmetry cannot give back: each entry ``H[i, j]`` is ``(H S)[i, colour(j)]`` or
   ``(H S)[j, colour(i)]`` (Gebremedhin, Manne and Pothen, "What color is your Jacobian?
   Graph coloring for computing derivatives", SIAM Review 47, 2005).
3. :class:`HessianStructure` keeps the pattern, the colours and where each entry is read
   (computed once per expression); :meth:`HessianStructure.assemble` builds the symmetric
   sparse matrix from ``B = H S``, one Hessian-vector product per colour
   (:meth:`~ortools_lag.model.tape.Tape.hvp`).

This module holds those three steps; :meth:`NonlinearExpr.hessian
<ortools_lag.model.nonlinear.NonlinearExpr.hessian>` runs them.

>>> from ortools_lag import Model
>>> from ortools_lag.model import functions as F
>>> m = Model(); x = m.var("x", 6, lb=None)
>>> e = (F.exp(x[1:] - x[:-1])).sum()  # a chain: tridiagonal Hessian
>>> s = hessian_structure(e)
>>> s.pattern.nnz, s.n_colors
(16, 3)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.errors import ModelError
from ortools_lag.model.ops import _symmetric, _union, ones_pattern
from ortools_lag.model.tape import topological_order

if TYPE_CHECKING:
    from ortools_lag.model.nonlinear import NonlinearExpr
    from ortools_lag.model.variables import Var

__all__ = [
    "HessianStructure",
    "hessian_structure",
    "recovery_index",
    "sparsity_pattern",
    "star_coloring",
]

Array = Any

#: Neighbour-of-neighbour visits (``sum deg^2``) above which the greedy colouring runs in one
#: vertex order only, and a pattern with a row fuller than :data:`DENSE_ROW` of its variables
#: is not coloured at all (one colour per variable: a colouring would save at most half).
MAX_WORK = 20_000_000
DENSE_ROW = 0.5


# -- 1. the pattern -----------------------------------------------------------------------------
def _blocks(root: NonlinearExpr) -> tuple[tuple[Var, int], ...]:
    out, start = [], 0
    for v in root.variables():
        out.append((v, start))
        start += v.size
    return tuple(out)


def sparsity_pattern(
    root: NonlinearExpr, blocks: tuple[tuple[Var, int], ...] | None = None
) -> sp.csr_matrix:
    """The structural Hessian pattern of ``root`` (``N x N``, symmetric, 0/1) over its
    variables in ``blocks`` order (``(var, local offset)``; default :meth:`variables` order).

    Parameters
    ----------
    root
        The expression.
    blocks
        Its variables and their offsets in the local index space.

    Returns
    -------
    scipy.sparse.csr_matrix
        Entry ``(i, j)`` is 1 where some node's second-order rule may couple variables ``i``
        and ``j`` (a superset of the nonzeros of every weighted Hessian).

    Examples
    --------
    >>> from ortools_lag import Model
    >>> from ortools_lag.model.nonlinear import as_nonlinear
    >>> m = Model(); x = m.var("x", 3, lb=None)
    >>> e = as_nonlinear(x[0] * x[1] + x[2])  # the graph of a quadratic expression
    >>> sparsity_pattern(e).toarray().astype(int).tolist()
    [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
    """
    blocks = _blocks(root) if blocks is None else blocks
    n = sum(v.size for v, _ in blocks)
    start = {v.name: s for v, s in blocks}
    order = topological_order(root)
    readers = Counter(id(a) for node in order for a in node.args)
    deps: dict[int, sp.csr_matrix | None] = {}
    found: list[sp.csr_matrix | None] = []
    for node in order:
        var = node.op.var
        if not node.needs_grad:
            deps[id(node)] = None
        elif var is not None:
            cols = start[var.name] + np.arange(var.size)
            eye = (np.ones(var.size), (np.arange(var.size), cols))
            deps[id(node)] = sp.csr_matrix(eye, shape=(var.size, n))
        else:
            args = [deps[id(a)] for a in node.args]
            deps[id(node)] = node.op.dependencies(node, args)
            found.append(node.op.couplings(node, args))
            for a in node.args:  # free what no later node reads
                readers[id(a)] -= 1
                if readers[id(a)] == 0:
                    deps.pop(id(a), None)
    total = _union(found)
    return sp.csr_matrix((n, n)) if total is None else _symmetric(total)


# -- 2. the colouring ---------------------------------------------------------------------------
def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + l) for s, l in zip(starts, lens)])``, vectorised."""
    before = np.cumsum(lens) - lens
    return np.repeat(starts - before, lens) + np.arange(int(lens.sum()))


def _greedy_star(
    indptr: np.ndarray, indices: np.ndarray, order: np.ndarray, limit: int | None = None
) -> np.ndarray | None:
    """Greedy star colouring in ``order`` (adjacency without the diagonal); ``None`` as soon
    as it needs more than ``limit`` colours.

    Each vertex ``v`` takes the smallest colour that keeps the colouring proper and creates no
    two-coloured path on four vertices: it avoids the colours of its neighbours ``w``; of a
    neighbour's neighbour ``x`` when ``x`` has another neighbour coloured like ``w`` (the path
    ``v-w-x-y``); and of every neighbour ``y`` of a neighbour ``x`` whose colour another
    neighbour ``w`` of ``v`` shares (the path ``w-v-x-y``). ``cnt[x, c]`` counts, saturated at
    2, the coloured neighbours of ``x`` of colour ``c``.
    """
    n = len(indptr) - 1
    col = np.full(n, -1, dtype=np.int64)
    cnt = np.zeros((n, 8), dtype=np.uint8)
    used = 0  # colours used so far
    for v in order:
        nb = indices[indptr[v] : indptr[v + 1]]
        cn = col[nb]
        done = cn >= 0
        c = 0
        if done.any():
            w, cw = nb[done], cn[done]
            lens = indptr[w + 1] - indptr[w]
            xs = indices[_ranges(indptr[w], lens)]
            wc = np.repeat(cw, lens)
            cx = col[xs]
            keep = (cx >= 0) & (xs != v)
            xs, wc, cx = xs[keep], wc[keep], cx[keep]
            bad = cnt[xs, wc] >= 2  # v-w-x-y
            shared = np.bincount(cw, minlength=used) >= 2
            if shared.any():
                bad |= shared[wc]  # w-v-x-y
            forbidden = np.zeros(used + 1, dtype=bool)
            forbidden[cw] = True
            forbidden[cx[bad]] = True
            c = int(np.argmin(forbidden))  # the first free colour (the last one always is)
        col[v] = c
        used = max(used, c + 1)
        if limit is not None and used > limit:
            return None
        if c >= cnt.shape[1]:
            cnt = np.concatenate([cnt, np.zeros_like(cnt)], axis=1)
        cnt[nb, c] = np.minimum(cnt[nb, c] + 1, 2)
    return col


def star_coloring(P: sp.spmatrix) -> np.ndarray:
    """A star colouring of the symmetric pattern ``P``: colour per vertex, ``-1`` for a vertex
    with no entry in ``P``.

    Greedy in two orders (smallest degree first, largest first; the fewer colours kept); past
    :data:`MAX_WORK`, in the first order only, and a nearly dense pattern (a row fuller than
    :data:`DENSE_ROW`) gets one colour per vertex.

    Examples
    --------
    >>> # a star: the hub, then the leaves sharing one colour
    >>> P = sp.csr_matrix(np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 0, 1]]))
    >>> star_coloring(P).tolist()
    [1, 0, 0, 0]
    """
    P = ones_pattern(P)
    n = P.shape[0]
    active = np.flatnonzero(np.diff(P.indptr) > 0)
    col = np.full(n, -1, dtype=np.int64)
    if active.size == 0:
        return col
    A = ones_pattern(P - sp.diags(P.diagonal()))
    deg = np.diff(A.indptr)
    big = float(np.sum(deg.astype(float) ** 2)) > MAX_WORK
    if big and deg.max(initial=0) + 1 > DENSE_ROW * active.size:
        col[active] = np.arange(active.size)
        return col
    orders = [np.argsort(deg[active], kind="stable")]
    if not big:
        orders.append(np.argsort(-deg[active], kind="stable"))
    best = _greedy_star(A.indptr, A.indices, active[orders[0]])
    assert best is not None
    for order in orders[1:]:  # stopped once it needs as many colours as the best
        c = _greedy_star(A.indptr, A.indices, active[order], limit=int(best.max()))
        if c is not None:
            best = c
    col[active] = best[active]
    return col


# -- 3. the recovery ----------------------------------------------------------------------------
def recovery_index(P: sp.csr_matrix, colors: np.ndarray) -> np.ndarray:
    """Where each stored entry of ``P`` (csr order) is read in ``B = H S`` (flat, C order).

    Entry ``(i, j)``, with ``a, b = min, max(i, j)``, is read at ``(a, colour(b))`` when no other
    neighbour of ``a`` has ``b``'s colour, else at ``(b, colour(a))`` (a star colouring makes
    one of them exact); both triangles read the same place, so the result is symmetric.

    Examples
    --------
    >>> P = sp.csr_matrix(np.ones((2, 2)))
    >>> recovery_index(P, np.array([0, 1])).tolist()  # B is 2 x 2
    [0, 1, 1, 3]
    """
    k = int(colors.max(initial=-1)) + 1
    rows = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))
    cols = P.indices.astype(np.int64)
    a, b = np.minimum(rows, cols), np.maximum(rows, cols)
    off = rows != cols
    keys = np.unique(rows[off] * k + colors[cols[off]], return_counts=True)
    want = a * k + colors[b]
    pos = np.searchsorted(keys[0], want)
    pos = np.minimum(pos, max(keys[0].size - 1, 0))
    alone = np.ones(want.size, dtype=bool)
    if keys[0].size:
        alone = (keys[0][pos] != want) | (keys[1][pos] == 1)
    use_a = (a == b) | alone
    return np.where(use_a, want, b * k + colors[a])


# -- the structure, kept on the expression ------------------------------------------------------
@dataclass(frozen=True)
class HessianStructure:
    """What the sparse Hessian of one expression needs besides values (built once).

    Attributes
    ----------
    blocks
        The expression's variables and their offsets in the local index space.
    columns
        The global index (in the model's ``z``) of each local variable.
    pattern
        The local structural pattern (``N x N``, symmetric, canonical csr).
    colors
        Star colour of each local variable (``-1``: no entry).
    source
        For each stored entry of ``pattern``, its flat index in ``B = H S`` (``N x n_colors``).
    """

    blocks: tuple[tuple[Var, int], ...]
    columns: np.ndarray
    pattern: sp.csr_matrix
    colors: np.ndarray
    source: np.ndarray

    @property
    def size(self) -> int:
        """``N``: the expression's variable count."""
        return int(self.columns.size)

    @property
    def n_colors(self) -> int:
        """Number of colours: Hessian-vector products per Hessian."""
        return int(self.colors.max(initial=-1)) + 1

    def seed(self, color: int) -> np.ndarray:
        """The local direction of one colour (1 on the variables of that colour)."""
        return (self.colors == color).astype(float)

    def split(self, u: Array) -> dict[str, Array]:
        """A local vector as arrays by variable name."""
        return {v.name: u[s : s + v.size].reshape(v.shape) for v, s in self.blocks}

    def gather(self, parts: Mapping[str, Array]) -> np.ndarray:
        """Arrays by variable name (missing: zero) as a local numpy vector."""
        out = np.zeros(self.size)
        for v, s in self.blocks:
            if v.name in parts:
                out[s : s + v.size] = np.asarray(parts[v.name], dtype=float).reshape(-1)
        return out

    def assemble(self, B: np.ndarray, n: int) -> sp.csr_matrix:
        """The symmetric ``n x n`` Hessian from ``B = H S`` (``N x n_colors``).

        Raises
        ------
        ModelError
            When ``n`` is smaller than a variable's global index.
        """
        if self.size and int(self.columns.max()) >= n:
            raise ModelError(f"hessian: n = {n} is smaller than the model's variable count")
        P = self.pattern
        vals = np.asarray(B, dtype=float).reshape(-1)[self.source]
        rows = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))
        r, c = self.columns[rows], self.columns[P.indices]
        return sp.csr_matrix((vals, (r, c)), shape=(n, n))

    def global_pattern(self, n: int) -> sp.csr_matrix:
        """The pattern placed in the model's ``n x n`` index space."""
        return self.assemble(np.ones((self.size, max(self.n_colors, 1))), n)


def hessian_structure(root: NonlinearExpr) -> HessianStructure:
    """The pattern, the star colouring and the recovery map of ``root``'s Hessians.

    Examples
    --------
    >>> from ortools_lag import Model
    >>> from ortools_lag.model.nonlinear import matmul
    >>> m = Model(); W = m.var("W", (2, 3), lb=None); z = m.var("z", 3, lb=None)
    >>> s = hessian_structure(matmul(W, z).sum())  # W[i, j] meets z[j]: 12 entries
    >>> s.pattern.nnz, s.n_colors, s.size  # a star around each z[j]: two colours, not nine
    (12, 2, 9)
    """
    blocks = _blocks(root)
    columns = np.concatenate(
        [np.zeros(0, dtype=np.int64)] + [v.offset + np.arange(v.size) for v, _ in blocks]
    )
    P = sparsity_pattern(root, blocks)
    colors = star_coloring(P)
    return HessianStructure(
        blocks=blocks,
        columns=columns,
        pattern=P,
        colors=colors,
        source=recovery_index(P, colors),
    )
