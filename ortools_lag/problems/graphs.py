"""Graph input of the network families: arcs from arrays, networkx or scipy.sparse; cost tables.

Every arc family (``shortest_path``, ``min_cost_flow``, ``max_flow``) takes its graph one of
three ways and turns it into an :class:`~ortools_lag.problems.network.Arcs` (0-based ``int64``
end nodes plus the node labels the user knows, so that answers are decoded back into them):

- arrays ``tail``, ``head`` (and ``n``, or ``labels``): arc ``k`` goes ``tail[k] -> head[k]``;
- a networkx graph: its nodes in ``G.nodes`` order, one arc per edge of a ``DiGraph`` (per
  key of a ``MultiDiGraph``), both directions of every edge of an undirected graph;
- a scipy.sparse matrix ``A``: one arc ``u -> v`` per stored entry ``A[u, v]``, its value the
  arc's number (cost or capacity);

and a DIMACS file's graph keeps the file's node ids ``1..n`` (:func:`numbered`). The bipartite
families (``transportation``, ``assignment``) take a cost table the same three ways
(:func:`table_from`). What the graph means -- conservation rows, certificates -- is
:mod:`ortools_lag.problems.network`.

>>> import networkx as nx
>>> g = nx.DiGraph(); g.add_edge("a", "b", weight=2.0); g.add_edge("b", "c", weight=1.0)
>>> arcs, (w,) = from_networkx(g, ("weight",))
>>> arcs.tail.tolist(), arcs.head.tolist(), w.tolist(), arcs.index("c")
([0, 1], [1, 2], [2.0, 1.0], 2)
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ortools_lag.algorithms.shortest_paths import arc_arrays
from ortools_lag.errors import ModelError
from ortools_lag.problems.network import Arcs, Table, node_index

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "arcs_from",
    "from_arrays",
    "from_networkx",
    "from_sparse",
    "numbered",
    "require_finite",
    "stem",
    "table_from",
]

FloatArray = NDArray[np.float64]


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
        look = node_index(lab)
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
    look = node_index(labels)
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
    tail: ArrayLike | None,
    head: ArrayLike | None,
    n: int | None,
    labels: Sequence[Hashable] | None,
    graph: nx.Graph | None,
    matrix: Any,
    values: Mapping[str, ArrayLike | None],
    defaults: Mapping[str, float] | None = None,
    matrix_value: str = "cost",
) -> tuple[Arcs, dict[str, FloatArray]]:
    """The one graph of a builder's arguments ``tail, head, n, labels, graph, matrix`` (passed
    on in that order): arrays, a networkx ``graph`` or a ``matrix``.

    ``values`` maps each per-arc attribute to its array (array input) or to ``None``; a
    missing array takes ``defaults`` (for every arc), and with a ``matrix`` the attribute named
    ``matrix_value`` takes the stored entries.

    Raises
    ------
    ModelError
        When none or several of the three ways are used, or an attribute has no value.

    Examples
    --------
    >>> arcs, vals = arcs_from([0, 1], [1, 2], None, None, None, None, {"cost": [1.0, 2.0]})
    >>> arcs.n, vals["cost"].tolist()
    (3, [1.0, 2.0])
    """
    defaults = defaults or {}
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


def numbered(graph: Any) -> Arcs:
    """The arcs of a DIMACS graph (``n``, ``tail``, ``head``), its nodes keeping the file's ids
    ``1..n`` as labels."""
    return Arcs(graph.n, graph.tail, graph.head, tuple(range(1, graph.n + 1)))


def stem(path: str | Path) -> str:
    """An instance's name: the file name up to its first dot.

    >>> stem("data/road.ny.gr.gz")
    'road'
    """
    return Path(path).name.split(".")[0]


# -- bipartite problems (transportation, assignment): a dense cost table ------------------------
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
    table = Table(c, tuple(range(c.shape[0])), tuple(range(c.shape[1])))
    low = table.extremes[0]  # nan propagates: one reduction finds a nan or a -inf
    if math.isnan(low) or low == -math.inf:
        raise ModelError("costs must be finite, or +inf for a forbidden pair")
    return table


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
