"""Numbers of OR-Library text files, with the line of every token for error messages.

:class:`NumberTokens` reads a whitespace-separated number stream in order (the ``gap``,
``mknap``, ``rcsp`` and ``rudy`` readers), rows that start with two vertices included;
:func:`parse_numbers` and :func:`token_line` read a whole file at once (``scp``, ``ufl``), and
:func:`need_numbers` and :func:`integer_token` check its counts; :func:`parse_problems` and
:func:`parse_problem` read all or one of the ``P`` problems of a multi-problem file's text.

>>> parse_numbers("1 2 capacity 3", allow_word="capacity").tolist()
[1.0, 2.0, nan, 3.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from ortools_lag.errors import SpecError
from ortools_lag.io.text import select_problem

__all__ = [
    "NumberTokens",
    "integer_token",
    "need_numbers",
    "parse_numbers",
    "parse_problem",
    "parse_problems",
    "token_line",
]

T = TypeVar("T")

#: The largest integer a count or an index token may hold: beyond ``2**53`` a float is no longer
#: an exact integer (and a count that large could not be read anyway).
MAX_INTEGER = 2**53


def token_line(text: str, index: int) -> int:
    """1-based line of whitespace-separated token ``index`` of ``text`` (past the end: last line).

    Examples
    --------
    >>> token_line("1 2\\n3\\n\\n4", 3)
    4
    """
    counts = np.cumsum([len(line.split()) for line in text.splitlines()] or [0])
    return min(int(np.searchsorted(counts, index, side="right")), len(counts) - 1) + 1


def parse_numbers(text: str, file: str = "<string>", allow_word: str | None = None) -> np.ndarray:
    """Every token of ``text`` as a float; ``allow_word`` tokens (any case) become ``nan``; any
    other word raises :class:`~ortools_lag.errors.SpecError` with its line."""
    tokens = text.split()
    allowed = np.zeros(len(tokens), dtype=bool)
    if allow_word is not None:
        allowed = np.array([t.lower() == allow_word for t in tokens], dtype=bool)
        tokens = ["nan" if a else t for t, a in zip(tokens, allowed, strict=True)]
    try:
        values = np.array(tokens, dtype=np.float64)
    except ValueError:
        bad = next(i for i, t in enumerate(tokens) if not _is_number(t))
        raise SpecError(
            f"expected a number, found {tokens[bad]!r}", file=file, line=token_line(text, bad)
        ) from None
    odd = np.flatnonzero(~np.isfinite(values) & ~allowed)
    if odd.size:
        k = int(odd[0])
        raise SpecError(
            f"expected a finite number, found {tokens[k]!r}", file=file, line=token_line(text, k)
        )
    return values


def need_numbers(values: np.ndarray, count: int, text: str, file: str, what: str) -> None:
    """Raise :class:`~ortools_lag.errors.SpecError` (at the last line) when ``values``, the numbers
    of ``text``, are fewer than ``count``: the file ends before ``what``.

    >>> need_numbers(parse_numbers("1 2\\n3"), 4, "1 2\\n3", "f.txt", "the costs")
    Traceback (most recent call last):
    ...
    ortools_lag.errors.SpecError: f.txt:2: file ends early: expected the costs
    """
    if values.size < count:
        raise SpecError(
            f"file ends early: expected {what}", file=file, line=token_line(text, values.size)
        )


def integer_token(
    values: np.ndarray,
    index: int,
    text: str,
    file: str,
    what: str,
    lo: int = 1,
    hi: int | None = None,
) -> int:
    """Number ``index`` of ``values`` (those of ``text``) as an integer in ``lo..hi``; else a
    :class:`~ortools_lag.errors.SpecError` at its line (without ``hi``: a positive integer).

    >>> integer_token(parse_numbers("3 2.5"), 1, "3 2.5", "f.txt", "n", 1, 10)
    Traceback (most recent call last):
    ...
    ortools_lag.errors.SpecError: f.txt:1: n must be an integer in 1..10, found 2.5
    """
    value = values[index]
    top = math.inf if hi is None else hi
    if not math.isfinite(value) or value != int(value) or not lo <= value <= top:
        need = "a positive integer" if hi is None else f"an integer in {lo}..{hi}"
        raise SpecError(
            f"{what} must be {need}, found {value:g}", file=file, line=token_line(text, index)
        )
    return int(value)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def parse_problems(
    text: str, source: str, read_one: Callable[[NumberTokens, int, str], T]
) -> list[T]:
    """Every problem of a multi-problem ``text`` (``source`` names it): their count ``P`` first,
    then ``read_one(tok, k, stem)`` for ``k = 1..P`` (``stem``: the stem of ``source``); nothing
    may follow.

    >>> parse_problems("2 7 8", "<string>", lambda t, k, stem: (stem, k, t.int("x")))
    [('<string>', 1, 7), ('<string>', 2, 8)]
    """
    tok = NumberTokens(text, source)
    count = tok.int("problems", minimum=1)
    stem = Path(source).stem
    problems = [read_one(tok, k, stem) for k in range(1, count + 1)]
    tok.expect_end(f"the {count} problems announced on line 1")
    return problems


def parse_problem(
    text: str, problem: int, source: str, read_one: Callable[[NumberTokens, int, str], T]
) -> T:
    """The ``problem``-th (1-based) problem of a multi-problem ``text``, read by ``read_one``.

    >>> parse_problem("2 7 8", 2, "f.txt", lambda t, k, stem: t.int("x"))
    8
    """
    return select_problem(parse_problems(text, source, read_one), problem, source)


class NumberTokens:
    """Whitespace-separated numbers of a text, read in order, each remembering its line.

    Parameters
    ----------
    text
        The whole file.
    source
        The file name used in error messages.

    Examples
    --------
    >>> tok = NumberTokens("3 4\\n5.5\\n", source="f.txt")
    >>> tok.ints(2, "size").tolist(), tok.floats(1, "value").tolist(), tok.exhausted
    ([3, 4], [5.5], True)
    """

    def __init__(self, text: str, source: str = "<string>") -> None:
        rows = [line.split() for line in text.splitlines()]
        counts = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        self.source = source
        self._words = [w for r in rows for w in r]
        self._lines = np.repeat(np.arange(1, len(rows) + 1), counts)
        self._last_line = len(rows) if rows else 1
        try:
            self._values = np.array(self._words, dtype=np.float64)
        except ValueError:
            bad = next(k for k, word in enumerate(self._words) if not _is_number(word))
            raise SpecError(
                f"expected a number, found {self._words[bad]!r}",
                file=self.source,
                line=int(self._lines[bad]),
            ) from None
        self.pos = 0

    @property
    def exhausted(self) -> bool:
        """Whether every token has been read."""
        return self.pos >= len(self._values)

    def line(self, offset: int = 0) -> int:
        """The line of the token ``offset`` places after the current one (or the last line)."""
        k = self.pos + offset
        return int(self._lines[k]) if k < len(self._lines) else self._last_line

    def floats(self, count: int, field: str) -> np.ndarray:
        """Read ``count`` numbers; a short file raises ``SpecError`` naming ``field``."""
        if count < 0:
            raise SpecError(
                f"expected a count >= 0, found {count}",
                file=self.source,
                line=self.line(),
                field=field,
            )
        stop = self.pos + count
        if stop > len(self._values):
            raise SpecError(
                f"file ended early: expected {count} numbers, found {len(self._values) - self.pos}",
                file=self.source,
                line=self._last_line,
                field=field,
            )
        out = self._values[self.pos : stop]
        bad = np.flatnonzero(~np.isfinite(out))
        if bad.size:
            raise SpecError(
                f"expected a finite number, found {self._words[self.pos + bad[0]]!r}",
                file=self.source,
                line=self.line(int(bad[0])),
                field=field,
            )
        self.pos = stop
        return out.copy()

    def nonnegative_floats(self, count: int, field: str, what: str) -> np.ndarray:
        """Read ``count`` numbers that must be ``>= 0`` (``what`` names them in the error,
        which points at the line of the first of them)."""
        first_line = self.line()
        out = self.floats(count, field)
        if np.any(out < 0):
            raise SpecError(f"{what} must be >= 0", file=self.source, line=first_line, field=field)
        return out

    def vertex_rows(
        self, count: int, width: int, n: int, field: str, noun: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Read ``count`` rows of ``width`` numbers, each starting with two vertices in ``1..n``.

        Returns the ``(count,)`` first and second vertices, 0-based, and the
        ``(count, width - 2)`` rest; a vertex out of range raises ``SpecError`` at its row
        (``noun`` and ``field`` name it).

        >>> tails, heads, rest = NumberTokens("1 2 5\\n2 3 6").vertex_rows(2, 3, 3, "edges", "edge")
        >>> tails.tolist(), heads.tolist(), rest.tolist()
        ([0, 1], [1, 2], [[5.0], [6.0]])
        """
        start = self.pos
        block = self.floats(count * width, field).reshape(count, width)
        ends = block[:, :2]
        bad = np.flatnonzero(np.any((ends != np.round(ends)) | (ends < 1) | (ends > n), axis=1))
        if bad.size:
            row = int(bad[0])
            self.pos = start + row * width
            raise SpecError(
                f"{noun} {row + 1}: vertices must be integers in 1..{n}, found "
                f"{ends[row, 0]:g} {ends[row, 1]:g}",
                file=self.source,
                line=self.line(),
                field=f"{field}[{row + 1}]",
            )
        ij = ends.astype(np.int64) - 1
        return ij[:, 0].copy(), ij[:, 1].copy(), block[:, 2:]

    def ints(self, count: int, field: str, minimum: int | None = None) -> np.ndarray:
        """Read ``count`` integers (at least ``minimum`` when given)."""
        start = self.pos
        out = self.floats(count, field)
        bad = np.flatnonzero((out != np.round(out)) | (np.abs(out) > MAX_INTEGER))
        if minimum is not None:
            bad = np.union1d(bad, np.flatnonzero(out < minimum))
        if bad.size:
            k = int(bad[0])
            need = "an integer" if minimum is None else f"an integer >= {minimum}"
            if abs(out[k]) > MAX_INTEGER:
                need += f" of at most {MAX_INTEGER}"
            raise SpecError(
                f"expected {need}, found {self._words[start + k]!r}",
                file=self.source,
                line=int(self._lines[start + k]),
                field=field,
            )
        return out.astype(np.int64)

    def int(self, field: str, minimum: int | None = None) -> int:
        """Read one integer."""
        return int(self.ints(1, field, minimum)[0])

    def expect_end(self, what: str) -> None:
        """Raise ``SpecError`` if tokens are left after ``what``."""
        if not self.exhausted:
            raise SpecError(
                f"unexpected data after {what}: {self._words[self.pos]!r}",
                file=self.source,
                line=self.line(),
            )
