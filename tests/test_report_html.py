"""The HTML solve report (``ortools-lag solve FILE --report out.html``) and the notebook reprs.

Known answers from outside the code: Reddy Mikks (``problems/model/reddy_mikks.yaml``, a hand
derivation: both rows bind at x = (3, 1.5), objective 21, multipliers 0.75 and 0.5) and the
six-node constrained shortest path with its time budget relaxed
(``problems/model/csp_six_nodes_lagrangian.yaml``, a hand derivation of L(μ): its maximum 7 at
μ = 2). The page is opened in a real headless Chromium (Debian's ``chromium``, installed by
``.ci/run``): no console error, no request leaving the page, the multipliers table present and
sortable, the figure decoded, the MathML laid out, and a full-page screenshot that is not blank.
Set ``ORTOOLS_LAG_REPORT_SHOTS=DIR`` to keep the screenshots.
"""

from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from ortools_lag import Model, solve
from ortools_lag.cli.explain import explain
from ortools_lag.cli.main import main
from ortools_lag.report import report_html, write_report
from ortools_lag.report.mathml import latex_to_html
from ortools_lag.result import Solution
from ortools_lag.spec.loader import load_file

from .certificates import check_solution

ROOT = Path(__file__).resolve().parents[1]
REDDY = ROOT / "problems" / "model" / "reddy_mikks.yaml"
CSP = ROOT / "problems" / "model" / "csp_six_nodes_lagrangian.yaml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _solved(path: Path) -> tuple[object, Solution]:
    loaded = load_file(path)
    sol = solve(loaded.problem, loaded.solver.name, **dict(loaded.solver.options))
    return loaded.problem, sol


def _cells(page: str, table: str) -> list[list[str]]:
    """The text of each body row of the table with id ``table``."""
    body = page.split(f'id="{table}"', 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], flags=re.S)
    return [re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S) for r in rows]


def test_report_of_reddy_mikks_holds_its_known_answer() -> None:
    problem, sol = _solved(REDDY)
    check_solution(problem.model, sol)  # type: ignore[attr-defined]
    page = report_html(problem, sol, conditions=explain(problem, latex=True))  # type: ignore[arg-type]
    for section in ("certificate", "model", "multipliers", "convergence", "conditions"):
        assert f'<section id="{section}">' in page
    rows = {r[0]: float(r[2].split()[0]) for r in _cells(page, "multiplier-rows")}
    assert rows == pytest.approx({"m1": 0.75, "m2": 0.5}, abs=1e-9)  # hand derivation
    assert "<td>21</td>" in page  # the objective, in the facts table
    assert page.count("<math") >= 4 and 'display="block"' in page
    # self-contained: nothing is fetched from the network
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    # a non-iterative solver: the figure section says so instead
    assert "No convergence figure: solver 'highs' is not iterative" in html.unescape(page)


def test_report_of_an_infeasible_model_shows_its_farkas_ray() -> None:
    problem, sol = _solved(ROOT / "problems" / "model" / "infeasible_rows.yaml")
    assert sol.status == "infeasible" and sol.kkt is not None and sol.kkt.certified
    page = report_html(problem, sol)  # type: ignore[arg-type]
    assert '<span class="status infeasible">infeasible</span>' in page
    # by hand: x0 + x1 <= 1 plus 2 - (x0 + x1) <= 0 gives 1 <= 0, the ray y = (1, 1)
    rays = {r[1]: float(r[3].split()[0]) for r in _cells(page, "ray")}
    assert rays == pytest.approx({"at_most_one": 1.0, "at_least_two": 1.0})


def test_report_rows_keep_the_largest_multipliers_per_group() -> None:
    m = Model("caps")
    x = m.var("x", 6, ub=1)
    m.maximize((np.arange(1, 7) * x).sum())  # a bigger price for a later variable
    m.add("cap", x <= np.full(6, 0.5))  # λ_i = i: the objective's coefficient, by hand
    sol = solve(m, "highs")
    check_solution(m, sol)
    page = report_html(m, sol, max_rows=3)
    rows = _cells(page, "multiplier-rows")
    assert [r[1] for r in rows] == ["3", "4", "5"]  # rows of λ = 4, 5, 6, in row order
    assert [float(r[2]) for r in rows] == pytest.approx([4.0, 5.0, 6.0])
    assert "3 rows not shown" in page


def test_cli_report_writes_the_page(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["solve", str(CSP), "--quiet", "--report", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert 'id="convergence-figure"' in page and "data:image/png;base64," in page
    rows = _cells(page, "multiplier-rows")
    assert [r[0] for r in rows] == ["budget"] and float(rows[0][2]) == pytest.approx(2, abs=1e-3)


def test_cli_report_to_an_unwritable_place_exits_2(tmp_path: Path) -> None:
    assert main(["solve", str(REDDY), "--quiet", "--report", str(tmp_path / "no" / "r.html")]) == 2


def test_latex_without_a_reader_stays_visible() -> None:
    out = latex_to_html("% a comment\nText with $\\left( x$ broken.\n\\section{Part}")
    assert "a comment" not in out and "<h3>Part</h3>" in out
    assert '<code class="tex">\\left( x</code>' in out  # shown as its source
    # words in \text{...} keep their spaces (as no-break spaces), a leading digit included
    assert "<mtext>6\u00a0rows,\u00a0kept</mtext>" in latex_to_html("$x \\ \\text{6 rows, kept}$")


def test_notebook_reprs() -> None:
    m = Model("reddy_mikks")
    x = m.var("x", 2)
    m.maximize(5 * x[0] + 4 * x[1])
    m.add("m1", 6 * x[0] + 4 * x[1] <= 24)
    m.add("m2", x[0] + 2 * x[1] <= 6)
    sol = solve(m, "highs")
    check_solution(m, sol)
    assert "<td>λ m1</td><td>0.75</td>" in sol._repr_html_()
    assert "<td>objective</td><td>21</td>" in sol._repr_html_()
    assert m._repr_html_().count("<tr><td>group</td>") == 2


def _nonblank(png: Path) -> tuple[float, int]:
    """Pixel standard deviation and number of distinct colours of a PNG."""
    import matplotlib.image as mpimg

    img = mpimg.imread(png)[..., :3]
    flat = (img.reshape(-1, 3) * 255).astype(np.uint8)
    return float(img.std()), int(np.unique(flat, axis=0).shape[0])


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_report_in_headless_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    problem, sol = _solved(CSP)
    check_solution(problem.model, sol, duals=False)  # type: ignore[attr-defined]
    assert sol.bound == pytest.approx(7, abs=1e-4)  # hand derivation: max L(μ) = L(2) = 7
    out = write_report(
        tmp_path / "report.html", problem, sol, conditions=explain(problem, latex=True)
    )  # type: ignore[arg-type]
    shots = Path(os.environ.get("ORTOOLS_LAG_REPORT_SHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    messages: list[str] = []
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: messages.append(f"requestfailed: {r.url}"))
        page.on(
            "request",
            lambda r: None if r.url.startswith(("file:", "data:")) else outside.append(r.url),
        )
        page.goto(out.as_uri(), wait_until="load")
        assert page.title().startswith("csp_six_nodes_lagrangian")
        rows = page.locator("#multiplier-rows tbody tr")
        assert rows.count() == 1
        assert float(rows.first.locator("td").nth(2).inner_text()) == pytest.approx(2, abs=1e-3)
        figure = page.locator("img#convergence-figure")
        assert figure.evaluate("img => img.complete && img.naturalWidth") > 300
        math_boxes = page.locator("#conditions math").evaluate_all(
            "ms => ms.map(m => m.getBoundingClientRect().height)"
        )
        assert len(math_boxes) >= 4 and min(math_boxes) > 0  # MathML laid out natively
        # sorting: the constraint-group table by rows, twice (descending after ascending)
        head = page.locator("#multiplier-groups thead th").nth(2)
        head.click()
        head.click()
        assert head.get_attribute("aria-sort") == "descending"
        shot = shots / "report_csp_six_nodes.png"
        page.screenshot(path=str(shot), full_page=True)
        figure.screenshot(path=str(shots / "report_figure.png"))
        page.set_content(sol._repr_html_() + problem.model._repr_html_())  # type: ignore[attr-defined]
        assert page.locator("table").count() == 2
        page.screenshot(path=str(shots / "notebook_reprs.png"))
        browser.close()
    assert messages == [] and outside == []
    std, colours = _nonblank(shot)
    assert std > 0.05 and colours > 50, (std, colours)
    std, colours = _nonblank(shots / "report_figure.png")
    assert std > 0.05 and colours > 20, (std, colours)
