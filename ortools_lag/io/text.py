"""Reading instance files as text, with errors that name the file.

>>> from pathlib import Path
>>> read_text(Path("no/such/file.txt"))
Traceback (most recent call last):
...
ortools_lag.errors.SpecError: no/such/file.txt: cannot read: No such file or directory
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from ortools_lag.errors import SpecError

__all__ = ["read_text", "select_problem"]

T = TypeVar("T")


def read_text(path: str | Path) -> str:
    """The file's text; a missing or unreadable file raises :class:`SpecError` naming it."""
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"not a text file: {exc.reason}", file=str(path)) from exc


def select_problem(problems: Sequence[T], problem: int, source: str) -> T:
    """The ``problem``-th (1-based) entry of a multi-problem file, or a SpecError with the range.

    >>> select_problem(["a", "b"], 2, "f.txt")
    'b'
    """
    if not 1 <= problem <= len(problems):
        raise SpecError(
            f"problem {problem} is out of range: the file holds problems 1..{len(problems)}",
            file=source,
            field="problem",
            choices=[str(k) for k in range(1, len(problems) + 1)],
        )
    return problems[problem - 1]
