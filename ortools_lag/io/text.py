"""Reading instance files as text, with errors that name the file.

:func:`read_text` reads a file; :func:`parse_file` and :func:`parse_file_named` hand its text and
its name to a parser (the ``read_*`` functions of the readers); :func:`select_problem` picks one
problem of a multi-problem file; :func:`example_file` writes the small files of the examples.

>>> read_text(Path("no/such/file.txt"))
Traceback (most recent call last):
...
ortools_lag.errors.SpecError: no/such/file.txt: cannot read: No such file or directory
"""

from __future__ import annotations

import gzip
import tempfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from ortools_lag.errors import SpecError

__all__ = [
    "example_file",
    "not_utf8",
    "parse_file",
    "parse_file_named",
    "read_text",
    "select_problem",
]

T = TypeVar("T")


def read_text(path: str | Path) -> str:
    """The file's text; a missing or unreadable file raises :class:`SpecError` naming it."""
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"not a text file: {exc.reason}", file=str(path)) from exc


def not_utf8(path: str | Path, exc: UnicodeDecodeError) -> SpecError:
    """The error for a file whose names are not UTF-8 (HiGHS reads them, Python decodes them):
    the line of the first byte that is not, counted in the gunzipped text of a ``.gz`` file.

    >>> f = example_file("m.mps", "NAME\\n")
    >>> _ = f.write_bytes(b"NAME\\nROWS\\n N  \\xe9\\n")
    >>> err = not_utf8(f, UnicodeDecodeError("utf-8", b"\\xe9", 0, 1, "invalid start byte"))
    >>> err.line, err.reason
    (3, 'names must be UTF-8 text (invalid start byte)')
    """
    line = None
    try:
        data = Path(path).read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        line = data.count(b"\n", 0, bad.start) + 1
    except (OSError, EOFError, zlib.error):
        pass
    return SpecError(f"names must be UTF-8 text ({exc.reason})", file=str(path), line=line)


def parse_file(path: str | Path, parse: Callable[[str, str], T]) -> T:
    """``parse(text, name)`` of the file at ``path``: its text, and the name its errors give.

    >>> parse_file(example_file("n.txt", "4 2"), lambda text, name: (text, Path(name).name))
    ('4 2', 'n.txt')
    """
    file = Path(path)
    return parse(read_text(file), str(file))


def parse_file_named(path: str | Path, parse: Callable[..., T]) -> T:
    """``parse(text, file=name, name=stem)`` of the file at ``path``: for the parsers that name
    the instance after the file's stem (``scp``, ``ufl``).

    >>> parse_file_named(example_file("a.txt", "1"), lambda text, file, name: (text, name))
    ('1', 'a')
    """
    path = Path(path)
    return parse(read_text(path), file=str(path), name=path.stem)


def example_file(name: str, text: str) -> Path:
    """A new file ``name`` holding ``text`` in a fresh temporary folder (for the examples).

    >>> example_file("t.txt", "1 2").read_text()
    '1 2'
    """
    path = Path(tempfile.mkdtemp()) / name
    path.write_text(text)
    return path


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
