"""Sphinx directives that generate the pages of the docs from the code, at build time.

Nothing here is copied by hand: the solver catalogue and each solver's options table come from
the solver registry and the solver's pydantic options model; the problem families from
``ortools_lag.problems.KINDS`` and each family module's docstring; the gallery from the scripts
in ``examples/`` and their figures; the YAML tables from the file schema's pydantic models; the
command line from ``ortools-lag COMMAND --help``.

Directives: ``solver-catalogue``, ``options-table MODULE:CLASS``, ``problem-families``,
``example-gallery``, ``cli-help [COMMAND]``.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import os
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from pydantic import BaseModel
from pydantic_core import PydanticUndefined
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]

_CONSTRAINTS = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "min_length": "length ≥",
                "max_length": "length ≤", "multiple_of": "multiple of"}  # fmt: skip


# -- pydantic schemas as tables ------------------------------------------------------------------
def type_text(annotation: Any) -> str:
    """A readable type: ``float | None``, ``'polyak' | 'constant'``, ``list[int]``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_text(a) for a in args)
    if origin is typing.Annotated:
        return type_text(args[0])
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(type_text(a) for a in args)}]" if args else name
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _attribute_docs(schema: type[BaseModel]) -> dict[str, str]:
    """Descriptions of fields from the numpydoc ``Attributes`` sections along the MRO."""
    from numpydoc.docscrape import NumpyDocString

    out: dict[str, str] = {}
    for cls in reversed(schema.__mro__):
        doc = cls.__dict__.get("__doc__")
        if not doc or cls.__module__.split(".")[0] in ("pydantic", "builtins"):
            continue
        for param in NumpyDocString(inspect.cleandoc(doc))["Attributes"]:
            text = " ".join(line.strip() for line in param.desc)
            for name in param.name.split(","):
                out[name.strip()] = text
    return out


def _default_text(field: Any) -> str:
    if field.default_factory is not None:
        return repr(field.default_factory())
    if field.default is PydanticUndefined:
        return "(required)"
    return repr(field.default)


def _constraint_text(field: Any) -> str:
    parts = []
    for item in field.metadata:
        for attr, symbol in _CONSTRAINTS.items():
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{symbol} {value}")
    return ", ".join(parts)


def schema_rows(schema: type[BaseModel]) -> list[tuple[str, str, str, str, str]]:
    """One row per field: name, type, default, constraints, description (docstring or Field)."""
    docs = _attribute_docs(schema)
    return [
        (
            name,
            type_text(field.annotation),
            _default_text(field),
            _constraint_text(field),
            field.description or docs.get(name, ""),
        )
        for name, field in schema.model_fields.items()
    ]


def _literal(text: str) -> str:
    """Text for a ``list-table`` cell shown as code (backquotes cannot nest in reST)."""
    text = text.replace("`", "'")
    return f"``{text}``" if text else ""


def table_lines(schema: type[BaseModel], caption: str) -> list[str]:
    """reST lines of a ``list-table`` of a schema's fields."""
    lines = [
        f".. list-table:: {caption}",
        "   :header-rows: 1",
        "   :widths: 18 22 14 12 34",
        "",
        "   * - option",
        "     - type",
        "     - default",
        "     - constraint",
        "     - meaning",
    ]
    for name, typ, default, constraint, desc in schema_rows(schema):
        desc = " ".join(desc.split()) or "(not described in the options docstring)"
        lines += [
            f"   * - ``{name}``",
            f"     - {_literal(typ)}",
            f"     - {_literal(default)}",
            f"     - {constraint}",
            f"     - {desc}",
        ]
    return [*lines, ""]


def _import(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


# -- directives ----------------------------------------------------------------------------------
class _Generated(SphinxDirective):
    """A directive whose body is reST produced by ``lines()``, parsed in place."""

    def lines(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        node = nodes.section() if self.has_sections() else nodes.container()
        node.document = self.state.document
        content = StringList(self.lines(), source=f"<{self.name}>")
        if self.has_sections():
            from sphinx.util.nodes import nested_parse_with_titles

            nested_parse_with_titles(self.state, content, node)
        else:
            self.state.nested_parse(content, self.content_offset, node)
        return list(node.children)

    def has_sections(self) -> bool:
        return True


def _summary(doc: str | None) -> str:
    """The first paragraph of a docstring, on one line."""
    text = inspect.cleandoc(doc or "")
    return " ".join(text.split("\n\n", 1)[0].split())


class SolverCatalogue(_Generated):
    """Every registered solver: name, family, what it solves and its options table."""

    def lines(self) -> list[str]:
        from ortools_lag.solvers import registry

        out: list[str] = []
        for name in registry.names():
            target = registry.REGISTRY[name]
            cls = _import(target)
            qual = target.replace(":", ".")
            opts = cls.Options
            self.env.note_dependency(inspect.getsourcefile(cls) or "")
            out += [
                name,
                "-" * len(name),
                "",
                f"``solve(model, {name!r}, ...)`` — :class:`{qual}`, family *{cls.family}*.",
                "",
                cls.description or _summary(cls.__doc__),
                "",
                f"Options: :class:`{opts.__module__}.{opts.__qualname__}`.",
                "",
                *table_lines(opts, f"Options of ``{name}``"),
            ]
        return out


class OptionsTable(_Generated):
    """The field table of one pydantic model: ``.. options-table:: module:Class``."""

    required_arguments = 1

    def has_sections(self) -> bool:
        return False

    def lines(self) -> list[str]:
        schema = _import(self.arguments[0])
        return table_lines(schema, f"Fields of ``{schema.__name__}``")


class ProblemFamilies(_Generated):
    """Every problem kind of the library: its module docstring (the formula, the multipliers)."""

    def lines(self) -> list[str]:
        from ortools_lag.problems import BUILTIN, KINDS

        out: list[str] = []
        for kind, module in KINDS.items():
            if kind in BUILTIN:
                continue
            out += [
                kind,
                "-" * len(kind),
                "",
                f"``kind: {kind}`` in a YAML file; ``ortools_lag.problems.{kind}.build(...)``.",
                "",
                f".. automodule:: {module}",
                "   :no-index:",
                "   :no-members:",
                "",
            ]
        return out


def _examples() -> Iterator[Path]:
    """The teaching scripts in the order of ``examples/README.md``'s table."""
    readme = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| \[`([A-Za-z0-9_]+\.py)`\]", readme, flags=re.M)
    rest = sorted(p.name for p in (ROOT / "examples").glob("*.py") if p.name not in listed)
    for name in [*listed, *rest]:
        yield ROOT / "examples" / name


class ExampleGallery(_Generated):
    """The teaching scripts: the docstring, the figure the script saves, and the source."""

    def lines(self) -> list[str]:
        out: list[str] = []
        rel = os.path.relpath(ROOT, Path(self.env.srcdir))
        for path in _examples():
            self.env.note_dependency(str(path))
            doc = inspect.cleandoc(_module_doc(path))
            title, _, body = doc.partition("\n")
            title = title.strip().rstrip(".")
            out += [title, "~" * len(title), "", f"``python examples/{path.name}``", ""]
            out += [*body.strip().splitlines(), ""]
            figure = ROOT / "examples" / "figures" / f"{path.stem}.png"
            if figure.exists():
                out += [
                    f".. figure:: {rel}/examples/figures/{figure.name}",
                    "   :width: 100%",
                    f"   :alt: the figure of {path.name}",
                    "",
                    f"   The figure ``{path.stem}.png`` that the script saves.",
                    "",
                ]
            out += [
                ".. collapse-source::",
                "",
                f"   .. literalinclude:: {rel}/examples/{path.name}",
                "      :language: python",
                "",
            ]
        return out


def _module_doc(path: Path) -> str:
    import ast

    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or path.stem


class CollapseSource(SphinxDirective):
    """A ``<details>`` block (HTML) holding the directive's content; plain content elsewhere."""

    has_content = True

    def run(self) -> list[nodes.Node]:
        node = nodes.container(classes=["example-source"])
        self.state.nested_parse(self.content, self.content_offset, node)
        open_ = nodes.raw("", "<details><summary>Source</summary>", format="html")
        close = nodes.raw("", "</details>", format="html")
        return [open_, node, close]


class CliHelp(SphinxDirective):
    """``ortools-lag [COMMAND] --help``, as the program prints it."""

    optional_arguments = 1

    def run(self) -> list[nodes.Node]:
        from ortools_lag.cli.main import main

        argv = [*self.arguments, "--help"]
        buf = io.StringIO()
        old = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "96"
        try:
            with contextlib.redirect_stdout(buf):
                main(argv)
        finally:
            if old is None:
                os.environ.pop("COLUMNS", None)
            else:
                os.environ["COLUMNS"] = old
        text = buf.getvalue().replace("usage: __main__.py", "usage: ortools-lag")
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def skip_type_aliases(app: Sphinx, what: str, name: str, obj: Any, skip: bool, options: Any) -> Any:
    """Leave out module-level aliases such as ``Verdict = tuple[str, float]``.

    autodoc takes a subscripted builtin for a class and cannot format its signature; the alias
    is named in the annotations and docstrings of the functions that use it.
    """
    if isinstance(obj, types.GenericAlias):
        return True
    return None


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("autodoc-skip-member", skip_type_aliases)
    app.add_directive("solver-catalogue", SolverCatalogue)
    app.add_directive("options-table", OptionsTable)
    app.add_directive("problem-families", ProblemFamilies)
    app.add_directive("example-gallery", ExampleGallery)
    app.add_directive("collapse-source", CollapseSource)
    app.add_directive("cli-help", CliHelp)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
