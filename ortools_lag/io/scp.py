"""OR-Library set-covering reader (Beasley 1987; files ``scp41`` ... ``scpnrh5``).

Format, whitespace-separated over any number of lines::

    m n
    c_1 ... c_n                     (column costs)
    for each row i = 1..m:
        k_i  j_1 ... j_{k_i}        (the k_i columns, 1-based, that cover row i)

The instance is ``min c x`` subject to ``A x >= 1``, ``x`` binary, with ``A`` the ``m x n`` 0/1
matrix read here. Bad files raise :class:`~ortools_lag.errors.SpecError` naming file and line.

>>> inst = parse_scp("2 3\\n1 2 3\\n2 1 2\\n1 3\\n")
>>> inst.matrix.toarray().tolist(), inst.costs.tolist()
([[1, 1, 0], [0, 0, 1]], [1.0, 2.0, 3.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ortools_lag.errors import SpecError
from ortools_lag.io.number_tokens import integer_token, need_numbers, parse_numbers, token_line
from ortools_lag.io.text import parse_file_named

__all__ = ["SetCoverInstance", "parse_rail", "parse_scp", "read_rail", "read_scp"]


@dataclass(frozen=True)
class SetCoverInstance:
    """A set-covering instance ``min c x  s.t.  A x >= 1, x in {0, 1}^n``.

    Attributes
    ----------
    name
        The file's stem (or ``"scp"``).
    costs
        ``(n,)`` column costs.
    matrix
        ``(m, n)`` CSR 0/1 ``int8`` matrix: ``matrix[i, j] = 1`` when column ``j`` covers row ``i``.
    """

    name: str
    costs: np.ndarray
    matrix: sp.csr_matrix

    @property
    def shape(self) -> tuple[int, int]:
        """``(m, n)``: rows and columns."""
        return (int(self.matrix.shape[0]), int(self.matrix.shape[1]))


def _rows(values: np.ndarray, start: int, m: int, n: int, text: str, file: str) -> np.ndarray:
    """Parse the ``m`` row blocks from token ``start``; returns ``(rows, cols)`` 0-based."""
    counts = np.empty(m, dtype=np.int64)
    pos = start
    for i in range(m):  # one step per row block: the blocks have variable length
        need_numbers(values, pos + 1, text, file, f"the column count of row {i + 1}")
        counts[i] = integer_token(values, pos, text, file, f"column count of row {i + 1}", 1, n)
        pos += 1 + int(counts[i])
    need_numbers(values, pos, text, file, f"the columns of row {m}")
    if values.size > pos:
        raise SpecError(
            f"{values.size - pos} unexpected numbers after row {m}",
            file=file,
            line=token_line(text, pos),
        )
    heads = start + np.concatenate([[0], np.cumsum(counts + 1)[:-1]])
    keep = np.ones(values.size, dtype=bool)
    keep[:start] = False
    keep[heads] = False
    cols = values[keep]
    bad = (cols != np.round(cols)) | (cols < 1) | (cols > n)
    if bad.any():
        where = int(np.flatnonzero(keep)[int(np.argmax(bad))])
        raise SpecError(
            f"column index must be an integer in 1..{n}, found {values[where]:g}",
            file=file,
            line=token_line(text, where),
        )
    return np.stack([np.repeat(np.arange(m), counts), cols.astype(np.int64) - 1])


def parse_scp(text: str, *, file: str = "<string>", name: str = "scp") -> SetCoverInstance:
    """The instance ``name`` in the text of an OR-Library ``scp`` file (``file``: for errors).

    Non-numbers, a wrong count, a column index out of range or a row with no column raise
    :class:`~ortools_lag.errors.SpecError`.

    >>> parse_scp("1 2\\n5 4\\n2 1 2").costs.tolist()
    [5.0, 4.0]
    """
    values = parse_numbers(text, file)
    need_numbers(values, 2, text, file, "m n")
    m = integer_token(values, 0, text, file, "m (rows)", 1, 10**8)
    n = integer_token(values, 1, text, file, "n (columns)", 1, 10**8)
    need_numbers(values, 2 + n, text, file, f"{n} column costs")
    costs = values[2 : 2 + n].copy()
    if not np.isfinite(costs).all():
        raise SpecError("column costs must be finite", file=file, line=token_line(text, 2))
    rows, cols = _rows(values, 2 + n, m, n, text, file)
    matrix = sp.csr_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(m, n))
    matrix.sum_duplicates()
    matrix.data[:] = 1
    return SetCoverInstance(name=name, costs=costs, matrix=matrix)


def read_scp(path: str | Path) -> SetCoverInstance:
    """Read an OR-Library ``scp`` file, named by its stem (see :func:`parse_scp`).

    >>> from ortools_lag.io.text import example_file
    >>> read_scp(example_file("tiny.txt", "2 2\\n1 1\\n1 1\\n1 2\\n")).shape
    (2, 2)
    """
    return parse_file_named(path, parse_scp)


def parse_rail(text: str, *, file: str = "<string>", name: str = "rail") -> SetCoverInstance:
    """The instance in the text of an OR-Library *rail* file (column-wise format).

    Format: ``m n``, then for each column ``j = 1..n``: its cost ``c_j``, the number ``k_j`` of
    rows it covers and those ``k_j`` rows (1-based). Errors as in :func:`parse_scp`.

    >>> inst = parse_rail("2 3\\n1 1 1\\n2 2 1 2\\n1 1 2\\n")
    >>> inst.matrix.toarray().tolist(), inst.costs.tolist()
    ([[1, 1, 0], [0, 1, 1]], [1.0, 2.0, 1.0])
    """
    values = parse_numbers(text, file)
    need_numbers(values, 2, text, file, "m n")
    m = integer_token(values, 0, text, file, "m (rows)", 1, 10**8)
    n = integer_token(values, 1, text, file, "n (columns)", 1, 10**8)
    counts = np.empty(n, dtype=np.int64)
    pos = 2
    for j in range(n):  # one step per column block: the blocks have variable length
        need_numbers(values, pos + 2, text, file, f"the cost and row count of column {j + 1}")
        counts[j] = integer_token(values, pos + 1, text, file, f"row count of column {j + 1}", 1, m)
        pos += 2 + int(counts[j])
    need_numbers(values, pos, text, file, f"the rows of column {n}")
    if values.size > pos:
        raise SpecError(
            f"{values.size - pos} unexpected numbers after column {n}",
            file=file,
            line=token_line(text, pos),
        )
    heads = 2 + np.concatenate([[0], np.cumsum(counts + 2)[:-1]])
    costs = values[heads].astype(np.float64)
    if not np.isfinite(costs).all():
        raise SpecError("column costs must be finite", file=file, line=token_line(text, 2))
    keep = np.ones(values.size, dtype=bool)
    keep[:2] = False
    keep[heads] = False
    keep[heads + 1] = False
    rows = values[keep]
    bad = (rows != np.round(rows)) | (rows < 1) | (rows > m)
    if bad.any():
        where = int(np.flatnonzero(keep)[int(np.argmax(bad))])
        raise SpecError(
            f"row index must be an integer in 1..{m}, found {values[where]:g}",
            file=file,
            line=token_line(text, where),
        )
    cols = np.repeat(np.arange(n), counts)
    matrix = sp.csr_matrix(
        (np.ones(rows.size, dtype=np.int8), (rows.astype(np.int64) - 1, cols)), shape=(m, n)
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1
    if np.diff(matrix.indptr).min() == 0:
        i = int(np.argmin(np.diff(matrix.indptr)))
        raise SpecError(f"row {i + 1} is covered by no column", file=file, field="rows")
    return SetCoverInstance(name=name, costs=costs, matrix=matrix)


def read_rail(path: str | Path) -> SetCoverInstance:
    """Read an OR-Library *rail* file, named by its stem (see :func:`parse_rail`).

    >>> from ortools_lag.io.text import example_file
    >>> read_rail(example_file("rail_tiny", "1 2\\n1 1 1\\n2 1 1\\n")).shape
    (1, 2)
    """
    return parse_file_named(path, parse_rail)
