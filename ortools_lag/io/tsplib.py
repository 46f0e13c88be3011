"""TSPLIB95 reader: ``.tsp`` instances and ``.opt.tour`` tours.

An instance is read into a dense ``(n, n)`` weight matrix that follows the TSPLIB95 rules
(Reinelt 1991, *TSPLIB 95*, section 2):

- ``EUC_2D`` / ``EUC_3D``: ``nint(sqrt(dx**2 + dy**2 [+ dz**2]))`` with ``nint(x) = int(x + 0.5)``;
- ``CEIL_2D``: the Euclidean distance rounded up;
- ``MAN_2D`` / ``MAN_3D``: ``nint(|dx| + |dy| [+ |dz|])``;
- ``MAX_2D`` / ``MAX_3D``: ``max(nint(|dx|), nint(|dy|) [, nint(|dz|)])``;
- ``ATT`` (pseudo-Euclidean): ``r = sqrt((dx**2 + dy**2) / 10)``, ``t = nint(r)``, ``t + 1`` if
  ``t < r`` else ``t``;
- ``GEO``: coordinates are ``DDD.MM`` (degrees and minutes); ``deg = int(x)`` (truncation, as in
  the TSPLIB FAQ), ``rad = PI * (deg + 5 * (x - deg) / 3) / 180`` with ``PI = 3.141592``, and
  ``d = int(RRR * acos(0.5 * ((1 + q1) * q2 - (1 - q1) * q3)) + 1)`` with ``RRR = 6378.388``;
- ``EXPLICIT``: the ``EDGE_WEIGHT_SECTION`` in one of the formats ``FULL_MATRIX``,
  ``UPPER_ROW``, ``LOWER_ROW``, ``UPPER_DIAG_ROW``, ``LOWER_DIAG_ROW``, ``UPPER_COL``,
  ``LOWER_COL``, ``UPPER_DIAG_COL``, ``LOWER_DIAG_COL``.

Bad files raise :class:`~ortools_lag.errors.SpecError` naming the file, the line and the field.

>>> text = '''NAME: tri
... TYPE: TSP
... DIMENSION: 3
... EDGE_WEIGHT_TYPE: EUC_2D
... NODE_COORD_SECTION
... 1 0 0
... 2 3 0
... 3 3 4.2
... EOF'''
>>> inst = parse_tsplib(text)
>>> inst.weights.tolist()
[[0, 3, 5], [3, 0, 4], [5, 4, 0]]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ortools_lag.errors import SpecError
from ortools_lag.io.text import parse_file

__all__ = [
    "MAX_ABS_VALUE",
    "WEIGHT_FORMATS",
    "WEIGHT_TYPES",
    "TSPLIBInstance",
    "coordinate_distances",
    "explicit_weights",
    "parse_tour",
    "parse_tsplib",
    "read_tour",
    "read_tsplib",
]

MAX_ABS_VALUE = 1e15
"""Largest magnitude of a number in a TSPLIB file (distances are exact 64-bit integers)."""

WEIGHT_TYPES = (
    "EUC_2D",
    "EUC_3D",
    "CEIL_2D",
    "MAN_2D",
    "MAN_3D",
    "MAX_2D",
    "MAX_3D",
    "ATT",
    "GEO",
    "EXPLICIT",
)
WEIGHT_FORMATS = (
    "FULL_MATRIX",
    "UPPER_ROW",
    "LOWER_ROW",
    "UPPER_DIAG_ROW",
    "LOWER_DIAG_ROW",
    "UPPER_COL",
    "LOWER_COL",
    "UPPER_DIAG_COL",
    "LOWER_DIAG_COL",
)
_SECTIONS = (
    "NODE_COORD_SECTION",
    "DEPOT_SECTION",
    "DEMAND_SECTION",
    "EDGE_DATA_SECTION",
    "FIXED_EDGES_SECTION",
    "DISPLAY_DATA_SECTION",
    "TOUR_SECTION",
    "EDGE_WEIGHT_SECTION",
)
_KEYWORD = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*(?::\s*(.*))?$")
_GEO_PI = 3.141592
_GEO_RRR = 6378.388


@dataclass(frozen=True)
class TSPLIBInstance:
    """A TSPLIB instance read into a dense weight matrix.

    Attributes
    ----------
    name, comment, problem_type
        ``NAME``, ``COMMENT`` and ``TYPE`` of the file (``TSP``, ``ATSP`` ...).
    dimension
        Number of nodes ``n``.
    edge_weight_type, edge_weight_format
        ``EDGE_WEIGHT_TYPE`` and ``EDGE_WEIGHT_FORMAT`` (``None`` when absent).
    weights
        ``(n, n)`` distances, ``int64`` when every weight is integral, zero diagonal.
    coords
        ``(n, 2)`` or ``(n, 3)`` node coordinates, or ``None`` for explicit instances
        without display data.
    fixed_edges
        ``(k, 2)`` 0-based edges of ``FIXED_EDGES_SECTION`` (empty when absent).
    file
        The path read, or ``None``.
    """

    name: str
    comment: str
    problem_type: str
    dimension: int
    edge_weight_type: str
    edge_weight_format: str | None
    weights: np.ndarray
    coords: np.ndarray | None
    fixed_edges: np.ndarray
    file: str | None = None


@dataclass
class _Section:
    """Numeric tokens of one data section and the line each line of them starts on."""

    name: str
    line: int
    lines: list[str]
    line_numbers: list[int]


def _nint(x: np.ndarray) -> np.ndarray:
    """TSPLIB ``nint``: ``(int)(x + 0.5)`` for the non-negative values used here."""
    return np.floor(x + 0.5).astype(np.int64)


def _geo_radians(x: np.ndarray) -> np.ndarray:
    deg = np.trunc(x)
    return _GEO_PI * (deg + 5.0 * (x - deg) / 3.0) / 180.0


def coordinate_distances(coords: np.ndarray, edge_weight_type: str) -> np.ndarray:
    """Dense distance matrix of ``coords`` under a TSPLIB ``EDGE_WEIGHT_TYPE``.

    Parameters
    ----------
    coords
        ``(n, 2)`` or ``(n, 3)`` coordinates (``GEO``: latitude, longitude in ``DDD.MM``).
    edge_weight_type
        One of :data:`WEIGHT_TYPES` other than ``EXPLICIT``.

    Returns
    -------
    numpy.ndarray
        ``(n, n)`` ``int64`` distances with a zero diagonal.

    Examples
    --------
    >>> coordinate_distances(np.array([[0.0, 0.0], [1.0, 1.0]]), "CEIL_2D").tolist()
    [[0, 2], [2, 0]]
    """
    x = np.asarray(coords, dtype=np.float64)
    if x.size and (not np.isfinite(x).all() or np.ptp(x, axis=0).sum() > MAX_ABS_VALUE):
        raise SpecError(
            f"coordinates must be finite and span at most {MAX_ABS_VALUE:.0e} "
            "(the distances are 64-bit integers)",
            field="NODE_COORD_SECTION",
        )
    kind = edge_weight_type.upper()
    if kind == "GEO":
        lat, lon = _geo_radians(x[:, 0]), _geo_radians(x[:, 1])
        q1 = np.cos(lon[:, None] - lon[None, :])
        q2 = np.cos(lat[:, None] - lat[None, :])
        q3 = np.cos(lat[:, None] + lat[None, :])
        arg = np.clip(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3), -1.0, 1.0)
        d = (_GEO_RRR * np.arccos(arg) + 1.0).astype(np.int64)
    else:
        diff = np.abs(x[:, None, :] - x[None, :, :])
        if kind in ("EUC_2D", "EUC_3D"):
            d = _nint(np.sqrt((diff**2).sum(axis=2)))
        elif kind == "CEIL_2D":
            d = np.ceil(np.sqrt((diff**2).sum(axis=2))).astype(np.int64)
        elif kind in ("MAN_2D", "MAN_3D"):
            d = _nint(diff.sum(axis=2))
        elif kind in ("MAX_2D", "MAX_3D"):
            d = _nint(diff).max(axis=2)
        elif kind == "ATT":
            r = np.sqrt((diff**2).sum(axis=2) / 10.0)
            t = _nint(r)
            d = np.where(t < r, t + 1, t)
        else:
            raise SpecError(
                f"unsupported EDGE_WEIGHT_TYPE {edge_weight_type!r}",
                field="EDGE_WEIGHT_TYPE",
                choices=WEIGHT_TYPES,
            )
    np.fill_diagonal(d, 0)
    return d


def _triangle(n: int, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """Row/column indices, in file order, of the entries a triangular format lists."""
    if fmt in ("UPPER_ROW", "LOWER_COL"):
        return np.triu_indices(n, 1)
    if fmt in ("LOWER_ROW", "UPPER_COL"):
        return np.tril_indices(n, -1)
    if fmt in ("UPPER_DIAG_ROW", "LOWER_DIAG_COL"):
        return np.triu_indices(n, 0)
    return np.tril_indices(n, 0)  # LOWER_DIAG_ROW, UPPER_DIAG_COL


def explicit_weights(values: np.ndarray, n: int, edge_weight_format: str) -> np.ndarray:
    """Dense ``(n, n)`` matrix from the numbers of an ``EDGE_WEIGHT_SECTION``.

    Parameters
    ----------
    values
        The section's numbers in file order; their count must match the format.
    n
        The dimension.
    edge_weight_format
        One of :data:`WEIGHT_FORMATS`.

    Returns
    -------
    numpy.ndarray
        Symmetric (triangular formats) or as-given (``FULL_MATRIX``) float matrix.

    Examples
    --------
    >>> explicit_weights(np.array([0, 1, 0, 2, 3, 0.0]), 3, "LOWER_DIAG_ROW").tolist()
    [[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]]
    """
    fmt = edge_weight_format.upper()
    if fmt not in WEIGHT_FORMATS:
        raise SpecError(
            f"unsupported EDGE_WEIGHT_FORMAT {edge_weight_format!r}",
            field="EDGE_WEIGHT_FORMAT",
            choices=WEIGHT_FORMATS,
        )
    values = np.asarray(values, dtype=np.float64)
    if fmt == "FULL_MATRIX":
        return values.reshape(n, n).copy()
    rows, cols = _triangle(n, fmt)
    w = np.zeros((n, n))
    w[rows, cols] = values
    w[cols, rows] = values
    return w


def _expected_count(n: int, fmt: str) -> int:
    if fmt == "FULL_MATRIX":
        return n * n
    if "DIAG" in fmt:
        return n * (n + 1) // 2
    return n * (n - 1) // 2


def _split(text: str, file: str) -> tuple[dict[str, tuple[str, int]], dict[str, _Section]]:
    """Split a TSPLIB file into its header fields and its data sections."""
    header: dict[str, tuple[str, int]] = {}
    sections: dict[str, _Section] = {}
    current: _Section | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _KEYWORD.match(line)
        key = match.group(1).upper() if match else ""
        if key in _SECTIONS or key == "EOF":
            if key == "EOF":
                break
            current = _Section(key, number, [], [])
            sections[key] = current
            continue
        if current is not None and not line[0].isalpha():
            current.lines.append(line)
            current.line_numbers.append(number)
            continue
        if match is None or match.group(2) is None:
            raise SpecError(f"expected 'KEY : value', found {line!r}", file=file, line=number)
        current = None
        header[key] = (match.group(2).strip(), number)
    return header, sections


def _numbers(section: _Section, file: str, *, integer: bool = False) -> np.ndarray:
    """All numbers of a section as one array; a bad, non-finite or oversized token is reported
    with its line."""
    tokens = " ".join(section.lines).split()
    try:
        values = np.array(tokens, dtype=np.float64)
    except ValueError:
        values = None
    if values is None or (integer and not np.all(values == np.round(values))):
        kind = "an integer" if integer else "a number"
        k = next(i for i, t in enumerate(tokens) if not _is_token(t, integer))
        raise SpecError(
            f"expected {kind}, found {tokens[k]!r}",
            file=file,
            line=_line_of(section, k),
            field=section.name,
        )
    bad = np.flatnonzero(~np.isfinite(values) | (np.abs(values) > MAX_ABS_VALUE))
    if bad.size:
        k = int(bad[0])
        raise SpecError(
            f"expected a finite number of magnitude <= {MAX_ABS_VALUE:.0e}, found {tokens[k]!r}",
            file=file,
            line=_line_of(section, k),
            field=section.name,
        )
    return values.astype(np.int64) if integer else values


def _is_token(token: str, integer: bool) -> bool:
    try:
        int(token) if integer else float(token)
    except ValueError:
        return False
    return True


def _line_of(section: _Section, token_index: int) -> int:
    """The line that holds token ``token_index`` of ``section`` (end of section if past it)."""
    counts = np.cumsum([len(text.split()) for text in section.lines])
    pos = int(np.searchsorted(counts, token_index, side="right"))
    return (
        section.line_numbers[min(pos, len(section.line_numbers) - 1)]
        if counts.size
        else (section.line)
    )


def _header_int(header: dict[str, tuple[str, int]], key: str, file: str) -> int:
    if key not in header:
        raise SpecError(f"missing {key}", file=file, field=key)
    value, line = header[key]
    try:
        result = int(value)
    except ValueError:
        raise SpecError(
            f"expected an integer, found {value!r}", file=file, line=line, field=key
        ) from None
    if result < 1:
        raise SpecError(f"must be positive, found {result}", file=file, line=line, field=key)
    return result


def _indexed_rows(section: _Section, n: int, width: int, file: str) -> np.ndarray:
    """``n`` lines ``index v1 .. v_width`` (1-based, any order) as an ``(n, width)`` array."""
    values = _numbers(section, file)
    if values.size != n * (width + 1):
        raise SpecError(
            f"expected {n} lines of 1 index and {width} values ({n * (width + 1)} numbers), "
            f"found {values.size} numbers",
            file=file,
            line=_line_of(section, min(values.size, n * (width + 1))),
            field=section.name,
        )
    table = values.reshape(n, width + 1)
    index = table[:, 0]
    ok = (index == np.round(index)) & (index >= 1) & (index <= n)
    seen = np.zeros(n + 1, dtype=np.int64)
    np.add.at(seen, np.where(ok, index, 0).astype(np.int64), 1)
    if not ok.all() or (seen[1:] != 1).any():
        bad = int(np.argmax(~ok)) if not ok.all() else int(np.argmax(seen[1:] != 1))
        raise SpecError(
            f"node indices must be 1..{n}, each once (problem near node {bad + 1})",
            file=file,
            line=_line_of(section, bad * (width + 1)) if not ok.all() else section.line,
            field=section.name,
        )
    out = np.empty((n, width))
    out[index.astype(np.int64) - 1] = table[:, 1:]
    return out


def _coord_width(header: dict[str, tuple[str, int]], kind: str) -> int:
    coord_type = header.get("NODE_COORD_TYPE", ("", 0))[0].upper()
    if coord_type == "THREED_COORDS" or kind.endswith("_3D"):
        return 3
    return 2


def _weights_from_file(
    header: dict[str, tuple[str, int]],
    sections: dict[str, _Section],
    n: int,
    kind: str,
    file: str,
) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """Weights, coordinates and weight format of a split file."""
    coords = None
    fmt_entry = header.get("EDGE_WEIGHT_FORMAT")
    fmt = fmt_entry[0].upper() if fmt_entry else None
    if kind != "EXPLICIT":
        if "NODE_COORD_SECTION" not in sections:
            raise SpecError(f"{kind} needs a NODE_COORD_SECTION", file=file, field=kind)
        section = sections["NODE_COORD_SECTION"]
        coords = _indexed_rows(section, n, _coord_width(header, kind), file)
        try:
            return coordinate_distances(coords, kind), coords, fmt
        except SpecError as exc:
            raise SpecError(exc.reason, file=file, line=section.line, field=section.name) from None
    if fmt is None or fmt not in WEIGHT_FORMATS:
        raise SpecError(
            f"EXPLICIT weights need a known EDGE_WEIGHT_FORMAT, found {fmt!r}",
            file=file,
            line=fmt_entry[1] if fmt_entry else None,
            field="EDGE_WEIGHT_FORMAT",
            choices=WEIGHT_FORMATS,
        )
    if "EDGE_WEIGHT_SECTION" not in sections:
        raise SpecError("EXPLICIT weights need an EDGE_WEIGHT_SECTION", file=file, field=kind)
    section = sections["EDGE_WEIGHT_SECTION"]
    values = _numbers(section, file)
    expected = _expected_count(n, fmt)
    if values.size != expected:
        raise SpecError(
            f"{fmt} of dimension {n} needs {expected} weights, found {values.size}",
            file=file,
            line=_line_of(section, min(values.size, expected)),
            field="EDGE_WEIGHT_SECTION",
        )
    if "DISPLAY_DATA_SECTION" in sections:
        coords = _indexed_rows(sections["DISPLAY_DATA_SECTION"], n, 2, file)
    weights = explicit_weights(values, n, fmt)
    np.fill_diagonal(weights, 0.0)
    if np.all(weights == np.round(weights)):
        return weights.astype(np.int64), coords, fmt
    return weights, coords, fmt


def _fixed_edges(sections: dict[str, _Section], n: int, file: str) -> np.ndarray:
    if "FIXED_EDGES_SECTION" not in sections:
        return np.zeros((0, 2), dtype=np.int64)
    section = sections["FIXED_EDGES_SECTION"]
    values = _numbers(section, file, integer=True)
    if values.size and values[-1] == -1:
        values = values[:-1]
    if values.size % 2 or ((values < 1) | (values > n)).any():
        raise SpecError(
            f"expected pairs of nodes in 1..{n} ended by -1",
            file=file,
            line=section.line,
            field="FIXED_EDGES_SECTION",
        )
    return values.reshape(-1, 2) - 1


def parse_tsplib(
    text: str, *, file: str = "<string>", max_dimension: int = 20_000
) -> TSPLIBInstance:
    """Parse the text of a TSPLIB ``.tsp`` (or ``.atsp``) file, named ``file`` in errors.

    The weights are held as a dense matrix: a ``DIMENSION`` above ``max_dimension`` is refused,
    as are a missing or malformed field, an unsupported weight type or format and a wrong count
    (:class:`~ortools_lag.errors.SpecError`).

    >>> text = "DIMENSION: 3\\nEDGE_WEIGHT_TYPE: EXPLICIT\\n"
    >>> text += "EDGE_WEIGHT_FORMAT: UPPER_ROW\\nEDGE_WEIGHT_SECTION\\n1 2\\n3\\nEOF\\n"
    >>> parse_tsplib(text).weights.tolist()
    [[0, 1, 2], [1, 0, 3], [2, 3, 0]]
    """
    header, sections = _split(text, file)
    n = _header_int(header, "DIMENSION", file)
    if n > max_dimension:
        raise SpecError(
            f"DIMENSION {n} exceeds max_dimension={max_dimension}",
            file=file,
            line=header["DIMENSION"][1],
            field="DIMENSION",
        )
    kind_entry = header.get("EDGE_WEIGHT_TYPE")
    if kind_entry is None:
        raise SpecError("missing EDGE_WEIGHT_TYPE", file=file, field="EDGE_WEIGHT_TYPE")
    kind = kind_entry[0].upper()
    if kind not in WEIGHT_TYPES:
        raise SpecError(
            f"unsupported EDGE_WEIGHT_TYPE {kind_entry[0]!r}",
            file=file,
            line=kind_entry[1],
            field="EDGE_WEIGHT_TYPE",
            choices=WEIGHT_TYPES,
        )
    weights, coords, fmt = _weights_from_file(header, sections, n, kind, file)
    return TSPLIBInstance(
        name=header.get("NAME", (Path(file).stem, 0))[0],
        comment=header.get("COMMENT", ("", 0))[0],
        problem_type=header.get("TYPE", ("TSP", 0))[0].upper(),
        dimension=n,
        edge_weight_type=kind,
        edge_weight_format=fmt,
        weights=weights,
        coords=coords,
        fixed_edges=_fixed_edges(sections, n, file),
        file=None if file == "<string>" else file,
    )


def read_tsplib(path: str | Path, *, max_dimension: int = 20_000) -> TSPLIBInstance:
    """Read a TSPLIB ``.tsp`` file (see :func:`parse_tsplib`).

    >>> from ortools_lag.io.text import example_file
    >>> text = "DIMENSION: 2\\nEDGE_WEIGHT_TYPE: ATT\\nNODE_COORD_SECTION\\n1 0 0\\n2 10 0\\n"
    >>> read_tsplib(example_file("two.tsp", text)).weights[0, 1]  # sqrt(10) = 3.16 -> 3 < 3.16 -> 4
    np.int64(4)
    """
    return parse_file(
        path, lambda text, file: parse_tsplib(text, file=file, max_dimension=max_dimension)
    )


def parse_tour(text: str, *, file: str = "<string>", dimension: int | None = None) -> np.ndarray:
    """Parse a TSPLIB ``.tour`` file into a 0-based permutation (``int64``, in tour order).

    The text is a header and a ``TOUR_SECTION`` of 1-based nodes ended by ``-1``; ``dimension``,
    the number of nodes, defaults to the file's ``DIMENSION``; ``file`` names it in errors.

    >>> parse_tour("DIMENSION : 3\\nTOUR_SECTION\\n1 3\\n2\\n-1\\nEOF\\n").tolist()
    [0, 2, 1]
    """
    header, sections = _split(text, file)
    if "TOUR_SECTION" not in sections:
        raise SpecError("missing TOUR_SECTION", file=file, field="TOUR_SECTION")
    section = sections["TOUR_SECTION"]
    nodes = _numbers(section, file, integer=True)
    ends = np.flatnonzero(nodes == -1)
    nodes = nodes[: ends[0]] if ends.size else nodes
    n = dimension if dimension is not None else nodes.size
    if dimension is None and "DIMENSION" in header:
        n = _header_int(header, "DIMENSION", file)
    counts = np.bincount(np.clip(nodes, 0, n + 1), minlength=n + 2)
    if nodes.size != n or counts[0] or counts[n + 1] or (counts[1 : n + 1] != 1).any():
        raise SpecError(
            f"the tour must list the nodes 1..{n} once each, found {nodes.size} entries",
            file=file,
            line=section.line,
            field="TOUR_SECTION",
        )
    return nodes - 1


def read_tour(path: str | Path, *, dimension: int | None = None) -> np.ndarray:
    """Read a TSPLIB ``.tour`` / ``.opt.tour`` file (see :func:`parse_tour`).

    >>> from ortools_lag.io.text import example_file
    >>> p = example_file("t.opt.tour", "TYPE : TOUR\\nDIMENSION : 2\\nTOUR_SECTION\\n2\\n1\\n-1\\n")
    >>> read_tour(p).tolist()
    [1, 0]
    """
    return parse_file(path, lambda text, file: parse_tour(text, file=file, dimension=dimension))
