"""Graph input shared by the network families: arcs from arrays, networkx or scipy.sparse.

Every network family (``shortest_path``, ``min_cost_flow``, ``max_flow``) takes its graph one of
three ways and turns it into an :class:`Arcs` (0-based ``int64`` end nodes plus the node labels
the user knows, so that answers are decoded back into them):

- arrays ``tail``, ``head`` (and ``n``, or ``labels``): arc ``k`` goes ``tail[k] -> head[k]``;
- a networkx graph: its nodes in ``G.nodes`` order, one arc per edge of a ``DiGraph`` (per
  key of a ``MultiDiGraph``), both directions of every edge of an undirected graph;
- a scipy.sparse matrix ``A``: one arc ``u -> v`` per stored entry ``A[u, v]``, its value the
  arc's number (cost or capacity).

The node-arc incidence matrix ``N`` (``n x m``: ``+1`` where an arc leaves a node, ``-1`` where it
enters) writes flow conservation as ``N x == b`` -- the rows ``out(v) - in(v) == b_v`` of the
project's network convention (DESIGN.md).

>>> import networkx as nx
>>> g = nx.DiGraph(); g.add_edge("a", "b", weight=2.0); g.add_edge("b", "c", weight=1.0)
>>> arcs, (w,) = from_networkx(g, ("weight",))
>>> arcs.tail.tolist(), arcs.head.tolist(), w.tolist(), arcs.index("c")
([0, 1], [1, 2], [2.0, 1.0], 2)
>>> incidence(arcs.n, arcs.tail, arcs.head).toarray().astype(int).tolist()
[[1, 0], [-1, 1], [0, -1]]
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ortools_lag.algorithms.shortest_paths import arc_arrays
from ortools_lag.errors import ModelError

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "Arcs",
    "Table",
    "arcs_from",
    "bipartite_violation",
    "flow_rows",
    "from_arrays",
    "from_networkx",
    "from_sparse",
    "incidence",
    "require_finite",
    "table_from",
]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Arcs:
    """A directed multigraph: ``n`` nodes, arcs ``tail[k] -> head[k]`` (0-based), node labels.

    Attributes
    ----------
    n
        Number of nodes.
    tail, head
        End nodes of each arc.
    labels
        The user's name of each node (``None``: the 0-based index itself).
    """

    n: int
    tail: IntArray
    head: IntArray
    labels: tuple[Hashable, ...] | None = None

    def __post_init__(self) -> None:
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(self.labels))
            object.__setattr__(self, "_where", _lookup(self.labels))

    @property
    def m(self) -> int:
        """Number of arcs."""
        return int(self.tail.size)

    def index(self, label: Hashable) -> int:
        """The 0-based index of the node named ``label``.

        Raises
        ------
        ModelError
            When no node has this label.
        """
        if self.labels is None:
            if isinstance(label, (int, np.integer)) and 0 <= int(label) < self.n:
                return int(label)
            raise ModelError(f"node {label!r} is not in the graph (nodes 0..{self.n - 1})")
        lookup: dict[Hashable, int] = self._where  # type: ignore[attr-defined]
        if label not in lookup:
            shown = ", ".join(map(repr, self.labels[:8])) + (", ..." if self.n > 8 else "")
            raise ModelError(f"node {label!r} is not in the graph (nodes: {shown})")
        return lookup[label]

    def label(self, index: int) -> Hashable:
        """The label of node ``index``."""
        return int(index) if self.labels is None else self.labels[int(index)]

    def names(self, indices: ArrayLike) -> list[Hashable]:
        """Labels of several nodes, in order."""
        idx = np.asarray(indices, dtype=np.int64)
        if self.labels is None:
            return [int(i) for i in idx]
        return [self.labels[int(i)] for i in idx]


def _lookup(labels: Sequence[Hashable]) -> dict[Hashable, int]:
    where = {lab: i for i, lab in enumerate(labels)}
    if len(where) != len(labels):
        raise ModelError("node labels must be distinct")
    return where


def incidence(n: int, tail: ArrayLike, head: ArrayLike) -> sp.csc_matrix:
    """Node-arc incidence matrix ``N`` (``n x m``): ``N[tail[k], k] = 1``, ``N[head[k], k] = -1``.

    Built column by column (CSC: two entries per arc, no sorting), so it costs one pass over
    the arcs; products ``N @ x`` and ``N.T @ pi`` are as fast in this layout as in CSR. A
    self-loop gives an empty column (its ``+1`` and ``-1`` cancel).

    Examples
    --------
    >>> incidence(2, [0, 1], [1, 1]).toarray().tolist()
    [[1.0, 0.0], [-1.0, 0.0]]
    """
    t = np.asarray(tail, dtype=np.int64)
    h = np.asarray(head, dtype=np.int64)
    m = t.size
    loop = t == h
    if np.any(loop):  # drop self-loops' entries: their columns stay empty
        keep = np.flatnonzero(~loop)
        N = incidence(n, t[keep], h[keep])
        indptr = np.zeros(m + 1, dtype=N.indptr.dtype)
        indptr[keep + 1] = 2
        return sp.csc_matrix((N.data, N.indices, np.cumsum(indptr)), shape=(n, m))
    itype = np.int32 if max(n, 2 * m) < np.iinfo(np.int32).max else np.int64
    rows = np.empty(2 * m, dtype=itype)
    rows[0::2] = t
    rows[1::2] = h
    data = np.tile(np.array([1.0, -1.0]), m)
    indptr = np.arange(0, 2 * m + 1, 2, dtype=itype)
    return sp.csc_matrix((data, rows, indptr), shape=(n, m))


def require_finite(name: str, values: ArrayLike) -> FloatArray:
    """``values`` as float64, or a ``ModelError`` naming ``name`` if one is not finite.

    >>> require_finite("cost", [1, 2]).tolist()
    [1.0, 2.0]
    """
    a = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ModelError(f"{name} must be finite")
    return a


def _values(m: int, values: Sequence[ArrayLike], names: Sequence[str]) -> tuple[FloatArray, ...]:
    """Per-arc numbers as float64, one per arc, no NaN (``+-inf`` is left to the family)."""
    out = []
    for k, v in enumerate(values):
        name = names[k] if k < len(names) else f"values[{k}]"
        a = np.asarray(v, dtype=np.float64)
        if a.shape != (m,):
            raise ModelError(f"{name} must have one entry per arc ({m}), got shape {a.shape}")
        if np.any(np.isnan(a)):
            raise ModelError(f"{name} contains NaN")
        out.append(a)
    return tuple(out)


def flow_rows(x: Any, arcs: Arcs, supply: ArrayLike, matrix: sp.csc_matrix | None = None) -> Any:
    """The conservation group ``out(v) - in(v) == b_v``, i.e. ``N x - b == 0``, in one step
    (``matrix``: the arcs' :func:`incidence` ``N`` when the caller built it already).

    Examples
    --------
    >>> from ortools_lag import Model
    >>> m = Model(); x = m.var("x", 2)
    >>> con = flow_rows(x, Arcs(3, np.array([0, 1]), np.array([1, 2])), [1, 0, -1])
    >>> con.sense, con.body.value(np.array([1.0, 1.0])).tolist()
    ('==', [0.0, 0.0, 0.0])
    """
    from ortools_lag.model import AffineExpr, Constraint

    b = np.asarray(supply, dtype=np.float64)
    N = incidence(arcs.n, arcs.tail, arcs.head) if matrix is None else matrix
    body = AffineExpr({x: N}, -b, (arcs.n,))
    zeros = np.zeros(arcs.n)
    return Constraint(body, zeros, zeros.copy(), "==")


def from_arrays(
    tail: ArrayLike,
    head: ArrayLike,
    *values: ArrayLike,
    n: int | None = None,
    labels: Sequence[Hashable] | None = None,
    names: tuple[str, ...] = (),
) -> tuple[Arcs, tuple[FloatArray, ...]]:
    """Arcs from 0-based ``tail``/``head`` arrays (or from labels, when ``labels`` is given).

    Parameters
    ----------
    tail, head
        End nodes: 0-based indices, or labels found in ``labels``.
    *values
        Per-arc numbers (validated: one per arc, no NaN; infinities are the family's call).
    n
        Number of nodes (default: ``len(labels)``, else ``1 + the largest index``).
    labels
        Node labels; ``tail`` and ``head`` then hold labels.
    names
        Names of ``values`` for error messages.

    Examples
    --------
    >>> arcs, (c,) = from_arrays(["x", "y"], ["y", "z"], [1, 2], labels=["x", "y", "z"])
    >>> arcs.tail.tolist(), arcs.head.tolist(), arcs.label(2)
    ([0, 1], [1, 2], 'z')
    """
    if labels is not None:
        lab = tuple(labels)
        look = _lookup(lab)
        try:
            t = np.array([look[u] for u in np.asarray(tail).tolist()], dtype=np.int64)
            h = np.array([look[v] for v in np.asarray(head).tolist()], dtype=np.int64)
        except KeyError as exc:
            raise ModelError(f"arc end {exc.args[0]!r} is not one of the labels") from None
        n = len(lab) if n is None else n
    else:
        lab = None
        t, h = np.asarray(tail), np.asarray(head)
        if n is None:
            n = int(max(t.max(initial=-1), h.max(initial=-1))) + 1
    t, h = arc_arrays(n, t, h)
    return Arcs(int(n), t, h, lab), _values(t.size, values, names)


def from_networkx(
    graph: nx.Graph, attributes: tuple[str, ...], defaults: Mapping[str, float] | None = None
) -> tuple[Arcs, tuple[FloatArray, ...]]:
    """Arcs and per-arc attribute arrays from a networkx graph.

    Parameters
    ----------
    graph
        A ``Graph``, ``DiGraph``, ``MultiGraph`` or ``MultiDiGraph``; an undirected edge gives
        two arcs, ``u -> v`` then ``v -> u``.
    attributes
        Edge attributes to read (``"weight"``, ``"capacity"``...).
    defaults
        Value of an attribute an edge lacks (missing without a default raises).

    Examples
    --------
    >>> import networkx as nx
    >>> arcs, (w,) = from_networkx(nx.path_graph(3), ("weight",), {"weight": 1.0})
    >>> arcs.tail.tolist(), arcs.head.tolist()
    ([0, 1, 1, 2], [1, 0, 2, 1])
    """
    defaults = dict(defaults or {})
    labels = tuple(graph.nodes)
    look = _lookup(labels)
    edges = list(graph.edges(data=True))
    t = np.array([look[u] for u, _, _ in edges], dtype=np.int64)
    h = np.array([look[v] for _, v, _ in edges], dtype=np.int64)
    cols = []
    for a in attributes:
        try:
            cols.append(
                np.array([d[a] if a in d else defaults[a] for _, _, d in edges], dtype=np.float64)
            )
        except KeyError:
            raise ModelError(f"an edge has no {a!r} attribute (and there is no default)") from None
        except (TypeError, ValueError) as exc:
            raise ModelError(f"edge attribute {a!r} must be a number: {exc}") from None
    if not graph.is_directed():
        t, h = np.column_stack((t, h)).ravel(), np.column_stack((h, t)).ravel()
        cols = [np.repeat(c, 2) for c in cols]
    t, h = arc_arrays(len(labels), t, h)
    return Arcs(len(labels), t, h, labels), _values(t.size, cols, attributes)


def from_sparse(matrix: Any) -> tuple[Arcs, FloatArray]:
    """Arcs from the stored entries of a square scipy.sparse matrix, with the entries' values.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> arcs, c = from_sparse(sp.csr_matrix([[0, 3], [0, 0]]))
    >>> arcs.tail.tolist(), arcs.head.tolist(), c.tolist()
    ([0], [1], [3.0])
    """
    if not sp.issparse(matrix) or matrix.shape[0] != matrix.shape[1]:
        raise ModelError("matrix must be a square scipy.sparse matrix (one arc per stored entry)")
    coo = sp.coo_matrix(matrix)
    n = int(coo.shape[0])
    t, h = arc_arrays(n, coo.row, coo.col)
    return Arcs(n, t, h), _values(t.size, [coo.data], ("matrix entries",))[0]


def arcs_from(
    *,
    tail: ArrayLike | None,
    head: ArrayLike | None,
    values: Mapping[str, ArrayLike | None],
    n: int | None,
    labels: Sequence[Hashable] | None,
    graph: nx.Graph | None,
    matrix: Any,
    defaults: Mapping[str, float],
    matrix_value: str,
) -> tuple[Arcs, dict[str, FloatArray]]:
    """The one graph of a builder's arguments: arrays, a networkx ``graph`` or a ``matrix``.

    ``values`` maps each per-arc attribute to its array (array input) or to ``None``; a
    missing array takes ``defaults`` (for every arc), and with a ``matrix`` the attribute named
    ``matrix_value`` takes the stored entries.

    Raises
    ------
    ModelError
        When none or several of the three ways are used, or an attribute has no value.
    """
    given = [tail is not None or head is not None, graph is not None, matrix is not None]
    if sum(given) != 1:
        raise ModelError("give the graph one way: tail and head arrays, graph=, or matrix=")
    names = tuple(values)
    if graph is not None:
        arcs, cols = from_networkx(graph, names, defaults)
        return arcs, dict(zip(names, cols))
    if matrix is not None:
        arcs, entries = from_sparse(matrix)
        out = {matrix_value: entries}
        for k in names:
            if k != matrix_value:
                out[k] = _per_arc(values[k], defaults.get(k), arcs.m, k)
        return arcs, out
    if tail is None or head is None:
        raise ModelError("give both tail and head")
    m = int(np.asarray(tail).size)
    filled = [_per_arc(values[k], defaults.get(k), m, k) for k in names]
    arcs, cols = from_arrays(tail, head, *filled, n=n, labels=labels, names=names)
    return arcs, dict(zip(names, cols))


def _per_arc(value: ArrayLike | None, default: float | None, m: int, name: str) -> FloatArray:
    if value is None:
        if default is None:
            raise ModelError(f"{name} is required")
        return np.full(m, float(default))
    a = np.asarray(value, dtype=np.float64)
    return np.full(m, float(a)) if a.ndim == 0 else a


# -- bipartite problems (transportation, assignment): a dense cost table ------------------------
@dataclass(frozen=True, eq=False)
class Table:
    """A bipartite cost table: ``cost[i, j]`` for row ``i`` and column ``j``, ``inf`` where the
    pair is not allowed, with the labels of the rows and columns."""

    cost: FloatArray
    rows: tuple[Hashable, ...]
    cols: tuple[Hashable, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_allowed", np.isfinite(self.cost))

    @property
    def allowed(self) -> NDArray[np.bool_]:
        """Pairs that may be used (finite cost)."""
        return self._allowed  # type: ignore[attr-defined,no-any-return]

    def filled(self) -> FloatArray:
        """The costs with each forbidden pair at a cost no optimal plan of unit amounts uses:
        more than ``min(rows, cols)`` times the range of the allowed costs above the largest."""
        ok = self.allowed
        if ok.all():
            return self.cost
        vals = self.cost[ok]
        lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 0.0)
        big = hi + (min(self.cost.shape) + 1) * (hi - lo + 1.0)
        return np.where(ok, self.cost, big)


def table_from(
    cost: Any,
    graph: nx.Graph | None,
    rows: Sequence[Hashable] | None,
    weight: str,
) -> Table:
    """A cost table from a dense array (``inf``: forbidden pair), a scipy.sparse matrix (the
    stored entries are the allowed pairs) or a bipartite networkx graph (``rows``: the row
    nodes, default those with node attribute ``bipartite == 0``).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> table_from(sp.csr_matrix([[0, 2], [3, 0]]), None, None, "weight").cost.tolist()
    [[inf, 2.0], [3.0, inf]]
    """
    if (cost is None) == (graph is None):
        raise ModelError("give the costs one way: cost= (array or scipy.sparse) or graph=")
    if graph is not None:
        return _table_from_graph(graph, rows, weight)
    if sp.issparse(cost):
        coo = sp.coo_matrix(cost)
        c = np.full(coo.shape, np.inf)
        c[coo.row, coo.col] = _values(coo.nnz, [coo.data], ("cost",))[0]
    else:
        c = np.array(cost, dtype=np.float64)
    if c.ndim != 2 or 0 in c.shape:
        raise ModelError(f"the cost table must be a non-empty 2-D array, got shape {c.shape}")
    if np.any(np.isnan(c) | (c == -np.inf)):
        raise ModelError("costs must be finite, or +inf for a forbidden pair")
    return Table(c, tuple(range(c.shape[0])), tuple(range(c.shape[1])))


def _table_from_graph(graph: nx.Graph, rows: Sequence[Hashable] | None, weight: str) -> Table:
    if rows is None:
        rows = [v for v, d in graph.nodes(data=True) if d.get("bipartite") == 0]
    row_set = set(rows)
    cols = [v for v in graph.nodes if v not in row_set]
    ri = {v: i for i, v in enumerate(rows)}
    ci = {v: j for j, v in enumerate(cols)}
    c = np.full((len(ri), len(ci)), np.inf)
    for u, v, d in graph.edges(data=True):  # input conversion from Python objects
        if u in ri and v in ci:
            i, j = ri[u], ci[v]
        elif v in ri and u in ci and not graph.is_directed():
            i, j = ri[v], ci[u]
        else:
            raise ModelError(f"edge ({u!r}, {v!r}) does not join a row node to a column node")
        if weight not in d:
            raise ModelError(f"edge ({u!r}, {v!r}) has no {weight!r} attribute")
        c[i, j] = float(d[weight])
    if c.size == 0:
        raise ModelError("the graph needs row and column nodes (rows=, or node bipartite=0/1)")
    return Table(c, tuple(rows), tuple(cols))


def bipartite_violation(
    cost: FloatArray,
    x: FloatArray,
    mult: tuple[FloatArray, FloatArray],
    sense: tuple[str, str],
    rhs: tuple[FloatArray, FloatArray],
    tol: float = 1e-9,
) -> float:
    """Worst violation of the optimality certificate of a bipartite plan (0.0 when exact).

    Rows ``sum_j x_ij (sense_r) rhs_r``, columns ``sum_i x_ij (sense_c) rhs_c`` with multipliers
    ``lam`` (``>= 0`` on ``<=`` and ``>=`` groups, held as in DESIGN.md), so the reduced cost is
    ``rc_ij = c_ij + s_r lam_i + s_c lam_j`` with ``s = -1`` for ``>=``. Checked: ``x >= 0``
    and ``0`` on forbidden pairs (``cost = inf``); the rows and columns; the multipliers' signs;
    ``rc >= 0`` on allowed pairs and ``= 0`` where ``x > tol``; ``lam = 0`` on slack rows.
    """
    ok = np.isfinite(cost)
    every = bool(ok.all())
    worst = float(np.max(-x, initial=0.0))
    if not every:
        worst = max(worst, float(np.max(np.abs(x[~ok]), initial=0.0)))
    sums = (x.sum(axis=1), x.sum(axis=0))
    signs = []
    for k in range(2):
        lam, s, b, v = mult[k], sense[k], rhs[k], sums[k]
        if s == "==":
            worst = max(worst, float(np.max(np.abs(v - b), initial=0.0)))
        else:
            slack = (b - v) if s == "<=" else (v - b)
            worst = max(worst, float(np.max(-slack, initial=0.0)))
            worst = max(worst, float(np.max(-lam, initial=0.0)))
            worst = max(worst, float(np.max(np.abs(lam * slack), initial=0.0)))
        signs.append(-1.0 if s == ">=" else 1.0)
    rc = cost if every else np.where(ok, cost, np.inf)
    rc = rc + signs[0] * mult[0][:, None]
    rc += signs[1] * mult[1][None, :]
    worst = max(worst, -float(rc.min(initial=0.0)))
    i, j = np.nonzero(x > tol)
    used = ok[i, j]
    return max(worst, float(np.max(np.abs(rc[i[used], j[used]]), initial=0.0))) + 0.0
