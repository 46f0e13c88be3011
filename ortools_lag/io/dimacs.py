"""DIMACS network readers: ``.gr`` shortest path, ``.min`` min-cost flow, ``.max`` max flow.

The formats are those of the DIMACS Implementation Challenges (1st challenge, network flows and
matching, 1991; 9th challenge, shortest paths, 2006). A file is a list of lines, each starting
with a one-letter record type:

- ``c <text>``: a comment (skipped), as are blank lines;
- ``p <problem> <nodes> <arcs>``: the problem line, exactly one, before any ``n`` or ``a`` line;
  ``<problem>`` is ``sp`` (shortest path), ``min`` (min-cost flow) or ``max`` (max flow);
- ``n <id> <value>``: a node descriptor; for ``min`` the value is the node's supply (positive at
  a source, negative at a sink, the nodes not listed have 0); for ``max`` it is ``s`` (the
  source) or ``t`` (the sink);
- ``a <tail> <head> ...``: an arc, nodes numbered ``1..n``; ``sp``: ``a u v cost``;
  ``min``: ``a u v low cap cost``; ``max``: ``a u v cap``.

Nodes are returned 0-based (``tail = u - 1``), numbers as ``float64`` (exact for integers up to
2**53), node indices as ``int64``. In the flow problems built on these arrays the conservation row
of node ``v`` is ``out(v) - in(v) == supply[v]``, the project's sign convention (README).

Malformed input raises :class:`~ortools_lag.errors.SpecError` naming the file, the line and the
field; arc lines are parsed in bulk by numpy and only an error is located line by line.

>>> text = '''c a triangle
... p sp 3 3
... a 1 2 4
... a 2 3 1
... a 1 3 7
... '''
>>> g = parse_dimacs(text)
>>> (g.n, g.tail.tolist(), g.head.tolist(), g.cost.tolist())
(3, [0, 1, 0], [1, 2, 2], [4.0, 1.0, 7.0])
"""

from __future__ import annotations

import gzip
import io
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, Union

import numpy as np
from numpy.typing import NDArray

from ortools_lag.errors import SpecError

__all__ = [
    "MAX_NODES",
    "PROBLEM_TYPES",
    "DimacsInstance",
    "MaxFlowInstance",
    "MinCostFlowInstance",
    "ShortestPathInstance",
    "parse_dimacs",
    "read_dimacs",
    "read_gr",
    "read_max",
    "read_min",
]

PROBLEM_TYPES = ("sp", "min", "max")

MAX_NODES = 100_000_000
"""Most nodes a problem line may declare (the largest DIMACS road graph has 24 million)."""
_RECORDS = ("c", "p", "n", "a")
# Fields of an arc line after the ``a`` tag, per problem type.
_ARC_FIELDS = {
    "sp": ("tail", "head", "cost"),
    "min": ("tail", "head", "low", "cap", "cost"),
    "max": ("tail", "head", "cap"),
}
_BLANK = frozenset(b" \t\r\f\v")


def _frozen(a: NDArray) -> NDArray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class _Arcs:
    """What the three instances share: nodes ``0..n-1`` and arcs ``tail[k] -> head[k]``."""

    n: int
    tail: NDArray[np.int64]
    head: NDArray[np.int64]

    @property
    def m(self) -> int:
        """Number of arcs."""
        return int(self.tail.size)


@dataclass(frozen=True, eq=False)
class ShortestPathInstance(_Arcs):
    """A DIMACS ``p sp`` instance: arcs ``tail[k] -> head[k]`` of length ``cost[k]`` (0-based)."""

    cost: NDArray[np.float64]
    name: str = "<string>"


@dataclass(frozen=True, eq=False)
class MinCostFlowInstance(_Arcs):
    """A DIMACS ``p min`` instance: ``low <= x <= cap``, cost ``cost . x``, supplies ``supply``.

    ``supply[v] > 0`` at a source, ``< 0`` at a sink; conservation reads
    ``out(v) - in(v) == supply[v]``.
    """

    low: NDArray[np.float64]
    cap: NDArray[np.float64]
    cost: NDArray[np.float64]
    supply: NDArray[np.float64]
    name: str = "<string>"


@dataclass(frozen=True, eq=False)
class MaxFlowInstance(_Arcs):
    """A DIMACS ``p max`` instance: capacities ``cap``, 0-based ``source`` and ``sink``."""

    cap: NDArray[np.float64]
    source: int
    sink: int
    name: str = "<string>"


DimacsInstance = Union[ShortestPathInstance, MinCostFlowInstance, MaxFlowInstance]
_Kind = TypeVar("_Kind", ShortestPathInstance, MinCostFlowInstance, MaxFlowInstance)


@dataclass(frozen=True, eq=False)
class _Lines:
    """The raw lines of a file with the first byte of each (``10`` for an empty line)."""

    lines: list[bytes]
    first: NDArray[np.uint8]
    name: str

    def error(self, index: int, message: str, **kw: object) -> SpecError:
        return SpecError(message, file=self.name, line=index + 1, **kw)  # type: ignore[arg-type]

    def text(self, index: int) -> str:
        return self.lines[index].decode("utf-8", errors="replace").strip()


def _split_lines(data: bytes, name: str) -> _Lines:
    buf = np.frombuffer(data, dtype=np.uint8)
    starts = np.concatenate(([0], np.flatnonzero(buf == 10) + 1))
    first = np.full(starts.size, 10, dtype=np.uint8)
    inside = starts < buf.size
    first[inside] = buf[starts[inside]]
    return _Lines(data.split(b"\n"), first, name)


def _check_record_types(ln: _Lines) -> None:
    """Reject lines whose record type is not ``c p n a`` (blank lines are allowed)."""
    known = np.isin(ln.first, np.frombuffer(b"cpna\n", dtype=np.uint8))
    for i in np.flatnonzero(~known).tolist():
        if ln.first[i] in _BLANK and not ln.lines[i].strip():
            continue
        raise ln.error(
            i,
            f"unknown record type in {ln.text(i)[:40]!r}; a line starts with a record letter",
            field="record",
            choices=_RECORDS,
        )


def _problem_line(ln: _Lines, expected: str | None) -> tuple[int, str, int, int]:
    """Parse the one ``p`` line: returns ``(index, problem, nodes, arcs)``."""
    where = np.flatnonzero(ln.first == ord("p"))
    if where.size == 0:
        raise SpecError("no problem line 'p <type> <nodes> <arcs>'", file=ln.name, field="p")
    if where.size > 1:
        raise ln.error(int(where[1]), "a second problem line; there must be exactly one", field="p")
    i = int(where[0])
    parts = ln.text(i).split()
    if len(parts) != 4 or parts[0] != "p":
        raise ln.error(i, f"expected 'p <type> <nodes> <arcs>', found {ln.text(i)!r}", field="p")
    kind = parts[1].lower()
    if kind not in PROBLEM_TYPES or (expected is not None and kind != expected):
        choices = PROBLEM_TYPES if expected is None else (expected,)
        raise ln.error(i, f"problem type {parts[1]!r} not read here", field="p", choices=choices)
    try:
        nodes, arcs = int(parts[2]), int(parts[3])
    except ValueError:
        msg = f"node and arc counts must be integers, found {ln.text(i)!r}"
        raise ln.error(i, msg, field="p") from None
    if nodes < 0 or arcs < 0:
        raise ln.error(i, "node and arc counts must be >= 0", field="p")
    if nodes > MAX_NODES:
        msg = f"{nodes} nodes declared: the limit is {MAX_NODES} (ortools_lag.io.dimacs.MAX_NODES)"
        raise ln.error(i, msg, field="p")
    data_lines = np.flatnonzero((ln.first == ord("a")) | (ln.first == ord("n")))
    if data_lines.size and data_lines[0] < i:
        raise ln.error(int(data_lines[0]), "a data line before the problem line", field="p")
    return i, kind, nodes, arcs


def _locate_bad_row(ln: _Lines, rows: NDArray[np.intp], fields: tuple[str, ...]) -> SpecError:
    """Find, line by line, the first record that is malformed (error path only)."""
    tag = chr(ln.first[rows[0]])
    for i in rows.tolist():
        parts = ln.text(i).split()
        if parts[0] != tag or len(parts) != len(fields) + 1:
            want = " ".join(f"<{f}>" for f in fields)
            return ln.error(i, f"expected '{tag} {want}', found {ln.text(i)!r}", field=tag)
        for f, token in zip(fields, parts[1:]):
            try:
                float(token)
            except ValueError:
                return ln.error(i, f"{token!r} is not a number", field=f)
    return ln.error(int(rows[0]), "malformed records", field=tag)


def _table(ln: _Lines, rows: NDArray[np.intp], fields: tuple[str, ...]) -> NDArray[np.float64]:
    """Parse the records at ``rows`` (each ``tag f1 f2 ...``) into a ``(len(rows), k)`` array."""
    k = len(fields)
    if rows.size == 0:
        return np.empty((0, k))
    picked = operator.itemgetter(*rows.tolist())(ln.lines)
    if rows.size == 1:
        picked = (picked,)
    tag = b"\n" + bytes([ln.first[rows[0]]])
    block = (b"\n" + b"\n".join(picked)).replace(tag, b"\n ")
    try:
        table = np.loadtxt(io.BytesIO(block), dtype=np.float64, ndmin=2)
    except ValueError:
        raise _locate_bad_row(ln, rows, fields) from None
    if table.shape != (rows.size, k):
        raise _locate_bad_row(ln, rows, fields)
    return table


def _node_ids(ln: _Lines, rows: NDArray[np.intp], values: NDArray, n: int, field: str) -> NDArray:
    """Check 1-based node ids (integers in ``1..n``) and return them 0-based."""
    bad = (values != np.round(values)) | (values < 1) | (values > n)
    if bad.any():
        k = int(np.argmax(bad))
        raise ln.error(int(rows[k]), f"node {values[k]:g} is not an integer in 1..{n}", field=field)
    return values.astype(np.int64) - 1


def _arcs(ln: _Lines, kind: str, n: int, m: int, p_index: int) -> tuple[NDArray, ...]:
    fields = _ARC_FIELDS[kind]
    rows = np.flatnonzero(ln.first == ord("a"))
    if rows.size != m:
        raise ln.error(
            p_index, f"the problem line declares {m} arcs, the file has {rows.size}", field="arcs"
        )
    table = _table(ln, rows, fields)
    tail = _node_ids(ln, rows, table[:, 0], n, "tail")
    head = _node_ids(ln, rows, table[:, 1], n, "head")
    values = [np.ascontiguousarray(table[:, j]) for j in range(2, len(fields))]
    for f, v in zip(fields[2:], values):
        bad = ~np.isfinite(v) | ((v < 0) if f == "cap" else False)
        if np.any(bad):
            k = int(np.argmax(bad))
            rule = "finite and >= 0" if f == "cap" else "finite"
            raise ln.error(int(rows[k]), f"{f} {v[k]:g} must be {rule}", field=f)
    if kind == "min":
        low, cap = values[0], values[1]
        bad = low > cap
        if bad.any():
            k = int(np.argmax(bad))
            raise ln.error(int(rows[k]), f"low {low[k]:g} > cap {cap[k]:g}", field="low")
    return (tail, head, *values)


def _supplies(ln: _Lines, n: int) -> NDArray[np.float64]:
    rows = np.flatnonzero(ln.first == ord("n"))
    table = _table(ln, rows, ("id", "supply"))
    ids = _node_ids(ln, rows, table[:, 0], n, "id")
    order = np.argsort(ids, kind="stable")
    dup = np.flatnonzero(ids[order][1:] == ids[order][:-1])
    if dup.size:
        i = int(rows[order[dup[0] + 1]])
        raise ln.error(i, f"node {ids[order[dup[0]]] + 1} listed twice", field="id")
    bad = ~np.isfinite(table[:, 1])
    if bad.any():
        raise ln.error(int(rows[np.argmax(bad)]), "supply must be finite", field="supply")
    supply = np.zeros(n)
    supply[ids] = table[:, 1]
    return supply


def _terminals(ln: _Lines, n: int) -> tuple[int, int]:
    rows = np.flatnonzero(ln.first == ord("n")).tolist()
    found: dict[str, int] = {}
    for i in rows:  # a max-flow file has two node lines
        parts = ln.text(i).split()
        if len(parts) != 3 or parts[2].lower() not in ("s", "t"):
            raise ln.error(
                i, f"expected 'n <id> s' or 'n <id> t', found {ln.text(i)!r}", choices=("s", "t")
            )
        role = parts[2].lower()
        if role in found:
            raise ln.error(i, f"a second '{role}' node line", field="id")
        try:
            node = int(parts[1])
        except ValueError:
            node = 0
        if not 1 <= node <= n:
            raise ln.error(i, f"node {parts[1]!r} is not an integer in 1..{n}", field="id")
        found[role] = node - 1
    for role, what in (("s", "source"), ("t", "sink")):
        if role not in found:
            raise SpecError(f"no {what} line 'n <id> {role}'", file=ln.name, field="n")
    if found["s"] == found["t"]:
        raise ln.error(rows[-1], "the source and the sink are the same node", field="id")
    return found["s"], found["t"]


def _parse(data: bytes, name: str, expected: str | None) -> DimacsInstance:
    ln = _split_lines(data, name)
    _check_record_types(ln)
    p_index, kind, n, m = _problem_line(ln, expected)
    arrays = [_frozen(a) for a in _arcs(ln, kind, n, m, p_index)]
    if kind == "sp":
        if np.any(ln.first == ord("n")):
            i = int(np.flatnonzero(ln.first == ord("n"))[0])
            raise ln.error(i, "node lines are not part of a 'p sp' file", field="n")
        return ShortestPathInstance(n, arrays[0], arrays[1], arrays[2], name)
    if kind == "min":
        supply = _frozen(_supplies(ln, n))
        tail, head, low, cap, cost = arrays
        return MinCostFlowInstance(n, tail, head, low, cap, cost, supply, name)
    source, sink = _terminals(ln, n)
    return MaxFlowInstance(n, arrays[0], arrays[1], arrays[2], source, sink, name)


def parse_dimacs(text: str | bytes, name: str = "<string>") -> DimacsInstance:
    """Parse DIMACS text of any of the three problem types (see the module docstring).

    Parameters
    ----------
    text
        The file's content.
    name
        What error messages call the input.

    Returns
    -------
    ShortestPathInstance | MinCostFlowInstance | MaxFlowInstance
        By the problem line's type; arrays are read-only.

    Raises
    ------
    SpecError
        Malformed input, naming the line and the field.

    Examples
    --------
    >>> f = parse_dimacs("p max 3 2\\nn 1 s\\nn 3 t\\na 1 2 5\\na 2 3 4\\n")
    >>> (f.source, f.sink, f.cap.tolist())
    (0, 2, [5.0, 4.0])
    """
    data = text.encode() if isinstance(text, str) else text
    return _parse(data, name, None)


def _read_bytes(path: str | Path) -> bytes:
    p = Path(path)
    try:
        if p.suffix == ".gz":
            with gzip.open(p, "rb") as fh:
                return fh.read()
        return p.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc.strerror or exc}", file=str(p)) from None


def read_dimacs(path: str | Path) -> DimacsInstance:
    """Read a DIMACS ``.gr`` / ``.min`` / ``.max`` file (``.gz`` too), typed by its problem line.

    >>> from ortools_lag.io.text import example_file
    >>> f = example_file("tiny.max", "p max 2 1\\nn 1 s\\nn 2 t\\na 1 2 3\\n")
    >>> read_dimacs(f).cap.tolist()
    [3.0]
    """
    return _parse(_read_bytes(path), str(path), None)


def _read_kind(path: str | Path, kind: str, cls: type[_Kind]) -> _Kind:
    """The file at ``path`` as a ``p <kind>`` instance (another problem line is an error)."""
    out = _parse(_read_bytes(path), str(path), kind)
    assert isinstance(out, cls)
    return out


def read_gr(path: str | Path) -> ShortestPathInstance:
    """Read a DIMACS shortest-path file (``p sp``, arcs ``a u v cost``).

    >>> from ortools_lag.io.text import example_file
    >>> f = example_file("tiny.gr", "p sp 2 1\\na 1 2 3\\n")
    >>> read_gr(f).cost.tolist()
    [3.0]
    """
    return _read_kind(path, "sp", ShortestPathInstance)


def read_min(path: str | Path) -> MinCostFlowInstance:
    """Read a DIMACS min-cost-flow file (``p min``, ``n id supply``, ``a u v low cap cost``).

    >>> from ortools_lag.io.text import example_file
    >>> f = example_file("tiny.min", "p min 2 1\\nn 1 4\\nn 2 -4\\na 1 2 0 9 2\\n")
    >>> g = read_min(f)
    >>> (g.supply.tolist(), g.cap.tolist(), g.cost.tolist())
    ([4.0, -4.0], [9.0], [2.0])
    """
    return _read_kind(path, "min", MinCostFlowInstance)


def read_max(path: str | Path) -> MaxFlowInstance:
    """Read a DIMACS max-flow file (``p max``, ``n id s``, ``n id t``, ``a u v cap``).

    >>> from ortools_lag.io.text import example_file
    >>> f = example_file("tiny.max", "p max 2 1\\nn 2 t\\nn 1 s\\na 1 2 3\\n")
    >>> g = read_max(f)
    >>> (g.source, g.sink)
    (0, 1)
    """
    return _read_kind(path, "max", MaxFlowInstance)
