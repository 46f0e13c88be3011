"""Readers of bipartite instances: OR-Library assignment files and transportation tables.

Both formats are whitespace-separated numbers (line breaks anywhere); lines starting with ``#``
are comments. Numbers are read in bulk by numpy; an error is located line by line and raised as
:class:`~ortools_lag.errors.SpecError` naming the file, the line and the field.

- **assignment** (OR-Library ``assign*.txt``, J. E. Beasley, "assigninfo"): the number of
  agents ``n``, then for each agent ``i`` the cost of assigning it each job ``j = 1..n``
  (``n * n`` numbers, row by row). ``.gz`` files are read too.
- **transportation**: ``m n`` (sources, destinations), the ``m`` supplies, the ``n`` demands,
  then the ``m x n`` unit shipping costs row by row.

>>> import tempfile
>>> from pathlib import Path
>>> f = Path(tempfile.mkdtemp()) / "t.txt"
>>> _ = f.write_text("# two plants, three markets\\n2 3\\n5 4\\n3 3 3\\n1 2 3\\n4 5 6\\n")
>>> inst = read_transportation(f)
>>> inst.supply.tolist(), inst.demand.tolist(), inst.cost.shape
([5.0, 4.0], [3.0, 3.0, 3.0], (2, 3))
"""

from __future__ import annotations

import gzip
import math
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ortools_lag.errors import SpecError

__all__ = ["AssignmentInstance", "TransportationInstance", "read_assignment", "read_transportation"]


@dataclass(frozen=True, eq=False)
class AssignmentInstance:
    """An ``n x n`` assignment cost matrix (agent ``i``, job ``j``)."""

    cost: NDArray[np.float64]
    name: str


@dataclass(frozen=True, eq=False)
class TransportationInstance:
    """Supplies (``m``), demands (``n``) and unit costs (``m x n``)."""

    supply: NDArray[np.float64]
    demand: NDArray[np.float64]
    cost: NDArray[np.float64]
    name: str


class _Tokens:
    """The numbers of a file, and where each one is (computed only to report an error)."""

    def __init__(self, path: str | Path) -> None:
        self.file = str(path)
        try:
            raw = Path(path).read_bytes()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            raise SpecError(f"cannot read the file: {exc}", file=self.file) from None
        self.lines = raw.decode("utf-8", errors="replace").splitlines()
        kept = [ln if not ln.lstrip().startswith("#") else "" for ln in self.lines]
        try:
            self.values = np.array(" ".join(kept).split(), dtype=np.float64)
        except ValueError:
            raise self._bad_token(kept) from None

    def _bad_token(self, kept: list[str]) -> SpecError:
        for i, line in enumerate(kept):
            for tok in line.split():
                try:
                    float(tok)
                except ValueError:
                    return SpecError(
                        f"expected a number, found {tok!r}", file=self.file, line=i + 1
                    )
        return SpecError("unreadable numbers", file=self.file)

    def line_of(self, k: int) -> int:
        """1-based line of the ``k``-th number (the last line when ``k`` is past the end)."""
        seen = 0
        for i, line in enumerate(self.lines):
            if not line.lstrip().startswith("#"):
                seen += len(line.split())
            if seen > k:
                return i + 1
        return max(len(self.lines), 1)

    def count(self, k: int, field: str) -> int:
        """The ``k``-th number as a count (a positive integer)."""
        if k >= self.values.size:
            raise SpecError(
                "the file ends early", file=self.file, line=self.line_of(k), field=field
            )
        v = float(self.values[k])
        if not math.isfinite(v) or v != int(v) or v < 1:
            msg = f"expected a positive integer, found {v:g}"
            raise SpecError(msg, file=self.file, line=self.line_of(k), field=field)
        return int(v)

    def block(self, start: int, size: int, field: str) -> NDArray[np.float64]:
        """``size`` numbers from position ``start``, all finite."""
        if self.values.size < start + size:
            found = self.values.size - start
            msg = f"expected {size} numbers, found {max(found, 0)}"
            raise SpecError(msg, file=self.file, line=self.line_of(self.values.size), field=field)
        out = self.values[start : start + size]
        bad = np.flatnonzero(~np.isfinite(out))
        if bad.size:
            line = self.line_of(start + int(bad[0]))
            raise SpecError("numbers must be finite", file=self.file, line=line, field=field)
        return out

    def finish(self, used: int) -> None:
        """Refuse numbers beyond the ``used`` expected ones."""
        if self.values.size > used:
            extra = self.values.size - used
            msg = f"{extra} number(s) after the expected data"
            raise SpecError(msg, file=self.file, line=self.line_of(used), field="end of data")


def read_assignment(path: str | Path) -> AssignmentInstance:
    """Read an OR-Library assignment file: ``n``, then the ``n x n`` costs row by row.

    Raises
    ------
    SpecError
        Naming the file, line and field of a bad or missing number.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> f = Path(tempfile.mkdtemp()) / "assign2.txt"
    >>> _ = f.write_text(" 2\\n 4 1\\n 2 3\\n")
    >>> read_assignment(f).cost.tolist()
    [[4.0, 1.0], [2.0, 3.0]]
    """
    tok = _Tokens(path)
    n = tok.count(0, "n")
    cost = tok.block(1, n * n, "cost").reshape(n, n)
    tok.finish(1 + n * n)
    return AssignmentInstance(cost.copy(), Path(path).name.split(".")[0])


def read_transportation(path: str | Path) -> TransportationInstance:
    """Read a transportation table: ``m n``, supplies, demands, the ``m x n`` unit costs.

    Raises
    ------
    SpecError
        Naming the file, line and field of a bad or missing number (supplies and demands must
        be ``>= 0``).
    """
    tok = _Tokens(path)
    m, n = tok.count(0, "m"), tok.count(1, "n")
    supply = tok.block(2, m, "supply")
    demand = tok.block(2 + m, n, "demand")
    for field, start, arr in (("supply", 2, supply), ("demand", 2 + m, demand)):
        bad = np.flatnonzero(arr < 0)
        if bad.size:
            line = tok.line_of(start + int(bad[0]))
            raise SpecError("must be >= 0", file=tok.file, line=line, field=field)
    cost = tok.block(2 + m + n, m * n, "cost").reshape(m, n)
    tok.finish(2 + m + n + m * n)
    name = Path(path).name.split(".")[0]
    return TransportationInstance(supply.copy(), demand.copy(), cost.copy(), name)
