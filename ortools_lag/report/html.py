"""A solve as one self-contained HTML page: model, status, certificate, multipliers, figure, KKT.

The page needs no network and no files beside it: the style and the small table-sorting script
are inlined, the convergence figure of :func:`ortools_lag.plot.convergence` is embedded as a
PNG, and the Lagrangian and KKT conditions (LaTeX, as ``ortools-lag explain --latex`` writes
them) are converted to MathML, which browsers render natively. ``ortools-lag solve FILE
--report out.html`` writes one.

Sections, each an element with a fixed ``id`` (the tests and a reader's links use them):
``model`` (kind, sense, sizes, variable blocks, constraint groups with their multipliers' sign
rule), ``certificate`` (status, termination, objective, bound, gap and the KKT residuals of
:class:`ortools_lag.result.KKTReport`), ``multipliers`` (per group, then one sortable row per
constraint row, the largest ``|λ|`` first when a group has more rows than the page shows),
``convergence`` (the figure, for an iterative solver) and ``conditions``.

>>> from ortools_lag import Model, solve
>>> m = Model("tiny"); x = m.var("x", 2)
>>> m.minimize(x.sum()); _ = m.add("cover", x[0] + x[1] >= 1)
>>> page = report_html(m, solve(m, "highs"))
>>> page.startswith("<!DOCTYPE html>"), 'id="multipliers"' in page
(True, True)
"""

from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Iterable, Sequence
from html import escape
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ortools_lag.errors import ModelError, SpecError

if TYPE_CHECKING:
    from ortools_lag.model import Model
    from ortools_lag.problem import Problem
    from ortools_lag.result import Solution

__all__ = ["report_html", "write_report"]

#: The multiplier sign rule of each group sense (the README's sign convention).
SIGN_RULE = {"<=": "λ ≥ 0", ">=": "λ ≥ 0", "==": "λ free", "range": "signed (+ upper binds)"}

_KKT_FIELDS = (
    ("primal_residual", "primal residual"),
    ("stationarity", "stationarity"),
    ("complementarity", "complementarity"),
    ("duality_gap", "duality gap (relative)"),
    ("sign_violation", "sign violation"),
    ("integrality", "integrality"),
    ("dual_objective", "dual objective"),
    ("tolerance", "tolerance"),
)


def _asset(name: str) -> str:
    return resources.files("ortools_lag.report").joinpath(name).read_text(encoding="utf-8")


def _num(value: Any) -> str:
    """A number for a cell: 10 significant digits, ``n/a`` for NaN or a missing value."""
    if value is None:
        return "n/a"
    v = float(value)
    if math.isnan(v):
        return "n/a"
    return f"{v + 0.0:.10g}"


def _table(
    head: Sequence[str], rows: Iterable[Sequence[str]], *, css: str = "", ident: str = ""
) -> str:
    """An HTML table from already escaped cells (a cell may carry its own ``<td ...>``)."""
    attrs = (f' id="{ident}"' if ident else "") + (f' class="{css}"' if css else "")
    th = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    body = "\n".join(
        "<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in r) + "</tr>"
        for r in rows
    )
    return f"<table{attrs}><thead><tr>{th}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"


def _pairs(items: Iterable[tuple[str, str]]) -> str:
    rows = "\n".join(f'<tr><th scope="row">{escape(k)}</th><td>{v}</td></tr>' for k, v in items)
    return f'<table class="facts"><tbody>\n{rows}\n</tbody></table>'


def _numeric_cell(value: float) -> str:
    data = "NaN" if math.isnan(value) else repr(float(value))
    return f'<td class="num" data-value="{data}">{_num(value)}</td>'


def _max_abs(values: Any) -> float:
    arr = np.abs(np.asarray(values, dtype=float))
    return float(np.nanmax(arr)) if arr.size and np.isfinite(arr).any() else math.nan


# -- sections ------------------------------------------------------------------------------------
def _model_section(model: Model, problem: Problem, relaxed: Sequence[str]) -> str:
    kind = problem.kind
    facts = [
        ("name", escape(str(model.name))),
        ("kind", escape(kind)),
        ("sense", "maximise" if model.sense == "max" else "minimise"),
        ("variables", f"{model.n} in {len(model.variables)} blocks"),
        ("constraints", f"{model.m} rows in {len(model.groups)} groups"),
        ("integer", "yes" if model.is_integer else "no"),
        ("relaxed groups", escape(", ".join(relaxed)) or "none"),
    ]
    blocks = [
        (escape(v.name), escape(str(v.shape)), str(v.size), escape(v.domain))
        for v in model.variables.values()
    ]
    groups = [
        (
            escape(name),
            escape(g.sense),
            str(g.size),
            escape(SIGN_RULE.get(g.sense, "")),
            "yes" if name in relaxed else "no",
        )
        for name, g in model.groups.items()
    ]
    return (
        '<section id="model"><h2>Model</h2>'
        + _pairs(facts)
        + "<h3>Variable blocks</h3>"
        + _table(("block", "shape", "entries", "domain"), blocks, css="plain")
        + "<h3>Constraint groups</h3>"
        + _table(("group", "sense", "rows", "multiplier", "relaxed"), groups, css="plain")
        + "</section>"
    )


def _certificate_section(sol: Solution, sense: str) -> str:
    side = "an upper bound" if sense == "max" else "a lower bound"
    facts = [
        ("status", f'<span class="status {escape(sol.status.value)}">{sol.status.value}</span>'),
        ("termination", escape(sol.termination.value)),
        ("solver", escape(sol.solver)),
        ("objective", _num(sol.objective)),
        ("bound", _num(sol.bound) + (f" ({side})" if math.isfinite(sol.bound) else "")),
        ("gap", _num(sol.gap)),
        ("relative gap", _num(sol.rel_gap) if math.isfinite(sol.gap) else "n/a"),
        ("iterations", str(sol.iterations)),
        ("seconds", f"{sol.seconds:.3g}"),
    ]
    if sol.message:
        facts.append(("message", escape(sol.message)))
    kkt = sol.kkt
    if kkt is None:
        cert = "<p>No certificate was computed for this solution.</p>"
    else:
        verdict = "certified" if kkt.certified else "not certified"
        rows = [
            ("kind", escape(kkt.kind)),
            ("verdict", f'<span class="{verdict}">{verdict}</span>'),
        ]
        rows += [(label, _num(getattr(kkt, key))) for key, label in _KKT_FIELDS]
        notes = "".join(f"<li>{escape(n)}</li>" for n in kkt.notes)
        cert = _pairs(rows) + (f'<ul class="notes">{notes}</ul>' if notes else "")
    if sol.ray:
        rays = [
            (escape(kind), escape(name), str(np.size(v)), _numeric_cell(_max_abs(v)))
            for kind, arrays in sol.ray.items()
            for name, v in arrays.items()
        ]
        head = ("ray", "of", "entries", "max |entry|")
        cert += "<h3>Ray</h3>" + _table(head, rays, css="plain", ident="ray")
    return (
        '<section id="certificate"><h2>Status and certificate</h2>'
        + _pairs(facts)
        + "<h3>Certificate (computed from the model, not taken from the solver)</h3>"
        + cert
        + "</section>"
    )


def _row_names(name: str, shape: tuple[int, ...], idx: np.ndarray, model: Model) -> list[str]:
    labels = model.group_labels.get(name)
    if labels is not None and len(labels) == int(np.prod(shape, dtype=int)):
        return [str(labels[i]) for i in idx]
    if len(shape) <= 1:
        return [str(i) for i in idx]
    coords = np.stack(np.unravel_index(idx, shape), axis=1)
    return [",".join(map(str, c)) for c in coords]


def _multipliers_section(sol: Solution, model: Model, max_rows: int) -> str:
    groups = [(n, np.asarray(v, dtype=float)) for n, v in sol.multipliers.items()]
    if not groups:
        return (
            '<section id="multipliers"><h2>Multipliers</h2>'
            "<p>This solution carries no multipliers.</p></section>"
        )
    per_group = max(1, max_rows // len(groups))
    summary, detail, cut = [], [], 0
    for name, lam in groups:
        flat = lam.ravel()
        g = model.groups.get(name)
        sense = g.sense if g is not None else ""
        finite = flat[np.isfinite(flat)]
        summary.append(
            (
                escape(name),
                escape(sense),
                str(flat.size),
                _numeric_cell(float(finite.min()) if finite.size else math.nan),
                _numeric_cell(float(finite.max()) if finite.size else math.nan),
                _numeric_cell(float(np.abs(finite).max()) if finite.size else math.nan),
                str(int(np.count_nonzero(np.abs(finite) > 1e-9))),
            )
        )
        order = np.argsort(-np.abs(np.nan_to_num(flat, nan=0.0)), kind="stable")[:per_group]
        idx = np.sort(order)
        cut += flat.size - idx.size
        shadow = np.asarray(sol.shadow_prices.get(name, np.full(flat.size, np.nan)), dtype=float)
        shadow = shadow.ravel() if shadow.size == flat.size else np.full(flat.size, np.nan)
        names = _row_names(name, lam.shape, idx, model)
        detail += [
            (escape(name), escape(r), _numeric_cell(flat[i]), _numeric_cell(shadow[i]))
            for r, i in zip(names, idx)
        ]
    note = (
        f"<p class='note'>{cut} rows not shown: each group lists its {per_group} rows of "
        "largest |λ|.</p>"
        if cut
        else ""
    )
    return (
        '<section id="multipliers"><h2>Multipliers</h2>'
        "<p>Sign convention: for a minimisation L = f + Σ λ·c with each group held as "
        "c(x) ≤ 0 or c(x) = 0; λ ≥ 0 on inequalities, free on equalities. "
        "Click a column heading to sort.</p>"
        + _table(
            ("group", "sense", "rows", "min λ", "max λ", "max |λ|", "nonzero"),
            summary,
            css="sortable",
            ident="multiplier-groups",
        )
        + "<h3>By row</h3>"
        + note
        + _table(
            ("group", "row", "λ", "shadow price"), detail, css="sortable", ident="multiplier-rows"
        )
        + "</section>"
    )


def _figure_png(sol: Solution) -> tuple[str | None, str]:
    """The convergence figure as base64 PNG, or ``None`` and why there is none."""
    from ortools_lag import plot

    if sol.history is None or len(sol.history) == 0:
        return None, (
            f"solver {sol.solver!r} is not iterative (a dual method such as subgradient, bundle "
            "or alm records the history it draws)"
        )
    try:
        fig = plot.convergence(sol)
    except ModelError as exc:  # a history the figure cannot draw (one iteration, say)
        return None, re.sub(r"^no convergence figure:\s*", "", str(exc), flags=re.IGNORECASE)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return base64.b64encode(buf.getvalue()).decode("ascii"), ""


def _convergence_section(sol: Solution) -> str:
    png, why = _figure_png(sol)
    if png is None:
        body = f"<p>No convergence figure: {escape(why)}.</p>"
    else:
        body = (
            '<figure><img id="convergence-figure" alt="convergence of the bound, the best '
            f'feasible objective and the gap" src="data:image/png;base64,{png}">'
            "<figcaption>The Lagrangian bound, the best feasible objective and the gap between "
            "them; the step size; the violation of the relaxed constraints.</figcaption></figure>"
        )
    return f'<section id="convergence"><h2>Convergence</h2>{body}</section>'


def _conditions_section(conditions: str | None) -> str:
    from ortools_lag.report.mathml import latex_to_html

    if not conditions:
        body = "<p>No conditions were given for this report.</p>"
    else:
        body = latex_to_html(conditions)
    return (
        '<section id="conditions"><h2>The Lagrangian and the KKT conditions</h2>'
        + body
        + "</section>"
    )


# -- the page ------------------------------------------------------------------------------------
def report_html(
    problem: Problem | Model,
    solution: Solution,
    *,
    conditions: str | None = None,
    relaxed: Sequence[str] = (),
    title: str | None = None,
    source: str | None = None,
    max_rows: int = 2000,
) -> str:
    """The HTML report of one solve, as a string (one self-contained page).

    Parameters
    ----------
    problem
        The Problem (or bare Model) that was solved.
    solution
        Its Solution.
    conditions
        The Lagrangian and KKT conditions in LaTeX (``ortools-lag explain --latex``), rendered
        as MathML; ``None`` leaves the section with a note.
    relaxed
        Names of the relaxed groups, marked in the model's table (default: the problem's
        default relaxation).
    title
        The page title (default: the model's name).
    source
        Where the problem came from (a file name), shown under the title.
    max_rows
        At most this many multiplier rows in the by-row table (split evenly between groups,
        the largest ``|λ|`` of each kept).

    Returns
    -------
    str
        The page, starting with ``<!DOCTYPE html>``.
    """
    from ortools_lag.problem import as_problem

    prob = as_problem(problem)
    model = prob.model
    if not relaxed and prob.default_relaxation is not None:
        relaxed = tuple(prob.relaxation().relax)
    name = title or str(model.name)
    sub = f"<p class='source'>{escape(source)}</p>" if source else ""
    sections = [
        _certificate_section(solution, model.sense),
        _model_section(model, prob, list(relaxed)),
        _multipliers_section(solution, model, max_rows),
        _convergence_section(solution),
        _conditions_section(conditions),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{escape(name)}: ortools-lag report</title>"
        f"<style>{_asset('page.css')}</style></head>\n"
        f"<body><header><h1>{escape(name)}</h1>{sub}</header><main>\n"
        + "\n".join(sections)
        + f"\n</main><script>{_asset('page.js')}</script></body></html>\n"
    )


def write_report(
    path: str | Path, problem: Problem | Model, solution: Solution, **options: Any
) -> Path:
    """Write :func:`report_html` to ``path``; returns the path.

    Raises
    ------
    SpecError
        When the file cannot be written (naming it).
    """
    target = Path(path)
    page = report_html(problem, solution, **options)
    try:
        target.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot write the report: {exc.strerror}", file=str(target)) from None
    return target
