"""Safe YAML reading that remembers where every node is, for errors a person can act on.

:class:`PositionLoader` is a safe YAML loader (``yaml.CSafeLoader`` when libyaml is there, else
``yaml.SafeLoader``: no Python objects, no tags beyond the safe ones) that builds plain data
while recording the line and column of every node and key by its path in the document. Duplicate
keys, non-scalar keys, oversized files and alias bombs are refused.

>>> doc = Located.from_text("a:\\n  b: [1, 2]\\n", "f.yaml")
>>> doc.data, doc.positions[("a", "b", 1)]
({'a': {'b': [1, 2]}}, (2, 10))
>>> str(doc.error(("a", "b", 1), "expected a string"))
'f.yaml:2:10: a.b[1]: expected a string'
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ortools_lag.errors import SpecError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "Located",
    "PositionLoader",
    "format_path",
    "is_readable_file",
    "parse_value",
    "read_yaml",
    "short_name",
]

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 500_000

Path_ = tuple[str | int, ...]
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def is_readable_file(path: Path) -> bool:
    """``path.is_file()``, but False (not an ``OSError``) for a name the system refuses.

    >>> is_readable_file(Path("x" * 5000))
    False
    """
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long, or holding a NUL byte
        return False


def short_name(name: object, limit: int = 120) -> str:
    """``str(name)`` cut to ``limit`` characters for messages (long names say how long).

    >>> short_name("a" * 300, 10)
    'aaaaaaaaaa...(300 characters)'
    """
    text = str(name)
    return text if len(text) <= limit else f"{text[:limit]}...({len(text)} characters)"


def format_path(path: Path_) -> str:
    """``('a', 'b', 1)`` -> ``'a.b[1]'``."""
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
            continue
        text = str(seg)
        if not text.isprintable():  # a key holding a newline or a control character
            text = repr(text)
        out += f".{text}" if out else text
    return out


class PositionLoader(_Base):  # type: ignore[misc]
    """A safe loader recording ``(line, column)`` (1-based) of every node by document path.

    Booleans are YAML 1.2's ``true``/``false`` only: ``presolve: off`` stays the string "off".
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.positions: dict[Path_, tuple[int, int]] = {}
        self.key_positions: dict[Path_, tuple[int, int]] = {}
        self.scalars: dict[Path_, tuple[str | None, int, int, int]] = {}
        self._count = 0

    def load_document(self) -> Any:
        """Compose the single document and build it with positions."""
        node = self.get_single_node()
        return None if node is None else self._build(node, ())

    def _mark(self, node: yaml.Node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def _build(self, node: yaml.Node, path: Path_) -> Any:
        self._count += 1
        if self._count > MAX_NODES:
            raise SpecError(f"document too large (more than {MAX_NODES} nodes; aliases count)")
        self.positions[path] = self._mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self._build(item, (*path, i)) for i, item in enumerate(node.value)]
        start, end = node.start_mark, node.end_mark
        self.scalars[path] = (getattr(node, "style", None), start.line, start.column, end.line)
        return self.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        self.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                line, col = self._mark(key_node)
                raise SpecError("a key must be a plain name", line=line, column=col)
            key = self.construct_object(key_node)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                key = str(key)
            sub = (*path, key)
            if key in out:
                line, col = self._mark(key_node)
                raise SpecError(
                    f"duplicate key {key!r}", line=line, column=col, field=format_path(sub)
                )
            self.key_positions[sub] = self._mark(key_node)
            out[key] = self._build(value_node, sub)
        return out


_BOOL = "tag:yaml.org,2002:bool"
PositionLoader.yaml_implicit_resolvers = {
    key: [r for r in resolvers if r[0] != _BOOL]
    for key, resolvers in _Base.yaml_implicit_resolvers.items()
}
PositionLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse_value(text: str) -> Any:
    """One YAML value (a ``--set`` right-hand side) with the loader's rules.

    >>> parse_value("off"), parse_value("[1, 2]"), parse_value("true")
    ('off', [1, 2], True)
    """
    return Located.from_text(text, "--set").data


@dataclass
class Located:
    """A YAML document with the position of every node.

    Attributes
    ----------
    data
        The plain document (dicts, lists, scalars).
    file
        The file name used in messages.
    positions, key_positions
        ``(line, column)`` of every value and mapping key, by document path.
    scalars
        ``(style, start line, start column, end line)`` of scalar nodes (0-based lines),
        used to place errors inside expression strings.
    lines
        The source lines.
    overridden
        Paths set from the command line (``--set``).
    """

    data: Any
    file: str
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    scalars: dict[Path_, tuple[str | None, int, int, int]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    overridden: set[Path_] = field(default_factory=set)

    @classmethod
    def from_text(cls, text: str, file: str) -> Located:
        """Parse ``text``; YAML syntax errors become SpecErrors with line and column."""
        loader = PositionLoader(text)
        try:
            data = loader.load_document()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            what = exc.problem or "malformed YAML"
            if exc.context and exc.context_mark is not None:
                cm = exc.context_mark
                what = f"{exc.context} (from line {cm.line + 1}, column {cm.column + 1}): {what}"
            elif exc.context:
                what = f"{exc.context}: {what}"
            raise SpecError(
                f"YAML syntax error: {what}",
                file=file,
                line=None if mark is None else mark.line + 1,
                column=None if mark is None else mark.column + 1,
            ) from None
        except yaml.reader.ReaderError as exc:  # a control character: libyaml gives an offset
            before = text[: exc.position]
            line = before.count("\n") + 1
            column = exc.position - (before.rfind("\n") + 1) + 1
            char = exc.character if isinstance(exc.character, str) else chr(exc.character)
            raise SpecError(
                f"YAML error: character {char!r} (U+{ord(char):04X}) is not allowed "
                "(control characters cannot appear in YAML text)",
                file=file,
                line=line,
                column=column,
            ) from None
        except yaml.YAMLError as exc:
            one_line = " ".join(str(exc).split())
            raise SpecError(f"YAML error: {one_line}", file=file) from None
        except SpecError as exc:
            raise SpecError(
                exc.reason, file=file, line=exc.line, column=exc.column, field=exc.field
            ) from None
        except RecursionError:
            raise SpecError("YAML document nested too deeply", file=file) from None
        finally:
            loader.dispose()
        return cls(
            data,
            file,
            loader.positions,
            loader.key_positions,
            loader.scalars,
            text.splitlines(),
        )

    def where(self, path: Path_, *, at_key: bool = False) -> tuple[int, int] | None:
        """Position of ``path``, else of its nearest ancestor that has one."""
        if at_key and path in self.key_positions:
            return self.key_positions[path]
        for k in range(len(path), -1, -1):
            if path[:k] in self.positions:
                return self.positions[path[:k]]
        return None

    def error(
        self,
        path: Path_,
        message: str,
        *,
        choices: Iterable[str] | None = None,
        at_key: bool = False,
        offset: int | None = None,
    ) -> SpecError:
        """A SpecError naming this file, the line and column of ``path``, and the field."""
        if any(path[: len(p)] == p for p in self.overridden):
            return SpecError(
                f"{message} (value given by --set)",
                file=self.file,
                field=format_path(path) or None,
                choices=choices,
            )
        pos = self.expression_position(path, offset) if offset is not None else None
        pos = pos or self.where(path, at_key=at_key)
        return SpecError(
            message,
            file=self.file,
            line=None if pos is None else pos[0],
            column=None if pos is None else pos[1],
            field=format_path(path) or None,
            choices=choices,
        )

    def expression_position(self, path: Path_, offset: int) -> tuple[int, int] | None:
        """Line and column of character ``offset`` of the string scalar at ``path``."""
        if path not in self.scalars:
            return None
        style, line, col, end = self.scalars[path]
        if style in (None, "", "'", '"') and line == end:
            return line + 1, col + 1 + offset + (1 if style in ("'", '"') else 0)
        if style == "|" and line + 1 < len(self.lines):
            value = self.data_at(path)
            if not isinstance(value, str):
                return None
            before = value[:offset]
            k = before.count("\n")
            first = self.lines[line + 1]
            indent = len(first) - len(first.lstrip(" "))
            return line + 2 + k, indent + 1 + len(before) - (before.rfind("\n") + 1)
        return None

    def data_at(self, path: Path_) -> Any:
        """The value at ``path`` (``None`` when absent)."""
        cur = self.data
        for seg in path:
            try:
                cur = cur[seg]
            except (KeyError, IndexError, TypeError):
                return None
        return cur

    def set_path(self, path: tuple[str, ...], value: Any) -> None:
        """Set ``value`` at a dotted path (creating mappings), remembered as overridden."""
        if not isinstance(self.data, dict):
            raise SpecError("--set needs a mapping at the top of the file", file=self.file)
        cur = self.data
        for seg in path[:-1]:
            nxt = cur.get(seg)
            if nxt is None:
                nxt = cur[seg] = {}
            if not isinstance(nxt, dict):
                raise SpecError(f"--set {'.'.join(path)}: {seg!r} is not a mapping", file=self.file)
            cur = nxt
        cur[path[-1]] = value
        self.overridden.add(tuple(path))


def read_yaml(path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES) -> Located:
    """Read a YAML file with positions, refusing files over ``max_bytes``.

    Raises
    ------
    SpecError
        Missing file, oversized file, undecodable text or a YAML syntax error.
    """
    p = Path(path)
    if not is_readable_file(p):
        raise SpecError("file not found", file=short_name(p))
    size = p.stat().st_size
    if size > max_bytes:
        raise SpecError(f"file too large: {size} bytes (the limit is {max_bytes})", file=str(p))
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text: {exc.reason} at byte {exc.start}", file=str(p)) from None
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc.strerror}", file=str(p)) from None
    return Located.from_text(text, str(p))
