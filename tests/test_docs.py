"""The documentation site: its generators, and a small Sphinx build of the generated pages.

The full build (``python docs/build.py``: HTML with warnings as errors, then the pages'
doctests) runs in ``.ci/run``; here the pieces that generate pages from the code are checked
against the code they read: every option of every registered solver's pydantic model in its
table with its default, every status and termination on the statuses page, every teaching
script in the gallery with its figure, and one Sphinx build (``-W``) of the solver catalogue,
an options table and a ``--help`` page.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ortools_lag.result import Status, Termination
from ortools_lag.solvers import registry

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import ortools_lag_docs as gen  # noqa: E402


@pytest.mark.parametrize("name", registry.names())
def test_options_table_lists_every_field_of_the_schema(name: str) -> None:
    schema = registry.get(name).Options
    rows = gen.schema_rows(schema)
    assert [r[0] for r in rows] == list(schema.model_fields)
    defaults = {r[0]: r[2] for r in rows}
    for field, info in schema.model_fields.items():
        if info.default_factory is None and info.is_required() is False:
            assert defaults[field] == repr(info.default)
    # the options every solver takes are described (by SolverOptions' docstring or a subclass's)
    desc = {r[0]: r[4] for r in rows}
    assert all(desc[k] for k in ("time_limit", "tolerance", "verbose"))


def test_type_and_constraint_text() -> None:
    from typing import Literal

    from pydantic import BaseModel, Field

    class Demo(BaseModel):
        """Demo.

        Attributes
        ----------
        rule, step
            The rule and its step.
        """

        rule: Literal["a", "b"] = "a"
        step: float | None = Field(default=None, gt=0, le=2)
        sizes: list[int] = Field(default_factory=list)

    assert gen.schema_rows(Demo) == [
        ("rule", "'a' | 'b'", "'a'", "", "The rule and its step."),
        ("step", "float | None", "None", "> 0, ≤ 2", "The rule and its step."),
        ("sizes", "list[int]", "[]", "", ""),
    ]


def test_statuses_page_names_every_status_and_termination() -> None:
    page = (DOCS / "statuses.rst").read_text(encoding="utf-8")
    for value in [*Status, *Termination]:
        assert f"   * - ``{value.value}``" in page, value


def test_gallery_has_every_example_with_its_figure() -> None:
    examples = list(gen._examples())
    assert sorted(p.name for p in examples) == sorted(p.name for p in ROOT.glob("examples/*.py"))
    for path in examples:
        assert (ROOT / "examples" / "figures" / f"{path.stem}.png").exists(), path.name


def test_every_page_is_in_the_toctree() -> None:
    index = (DOCS / "index.rst").read_text(encoding="utf-8")
    pages = {p.stem for p in DOCS.glob("*.rst")} - {"index"}
    assert all(f"   {page}\n" in index for page in pages), pages


def test_readme_says_how_to_build_the_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Documentation" in readme and "python docs/build.py" in readme
    assert "python docs/build.py" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_generated_pages_build_without_warnings(tmp_path: Path) -> None:
    """A small Sphinx project with the extension's directives, built with ``-W``."""
    from sphinx.cmd.build import build_main

    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(DOCS / '_ext')!r})\n"
        "extensions = ['sphinx.ext.autodoc', 'ortools_lag_docs']\n",
        encoding="utf-8",
    )
    (src / "index.rst").write_text(
        "Solvers\n=======\n\n.. solver-catalogue::\n\nSchema\n======\n\n"
        ".. options-table:: ortools_lag.spec.yaml_schema:ExpectSpec\n\n"
        "Help\n====\n\n.. cli-help:: solve\n",
        encoding="utf-8",
    )
    out = tmp_path / "html"
    code = build_main(["-W", "-q", "-b", "html", str(src), str(out)])
    assert code == 0
    page = (out / "index.html").read_text(encoding="utf-8")
    for name in registry.names():
        assert f'id="{name.replace("_", "-")}"' in page, name
    assert "mip_rel_gap" in page and "polyak_factor" in page  # highs' and subgradient's options
    assert "--report HTML" in page  # the solve command's help, printed by the program
