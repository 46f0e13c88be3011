"""``explain``: the Lagrangian and the KKT conditions of the model in hand, in text and LaTeX."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from matplotlib.mathtext import MathTextParser

from ortools_lag import Model, ModelError
from ortools_lag.cli.explain import explain_model, kkt_conditions
from ortools_lag.spec.loader import load_file

ROOT = Path(__file__).parents[1]
SHIPPED = sorted((ROOT / "problems").rglob("*.yaml"))
#: A small file of each folder (every family, the models, MPS) runs always, the rest slow.
FAST = {
    ROOT / "problems" / name
    for name in (
        "model/reddy_mikks.yaml",
        "model/projection_qp.yaml",
        "model/exp_pair_nlp.yaml",
        "mps/afiro.yaml",
        "nn_training/linear_fit.yaml",
        "knapsack/dantzig.yaml",
        "gap/gap1_1_min.yaml",
        "csp/six_nodes.yaml",
        "shortest_path/six_nodes.yaml",
        "facility_location/two_sites.yaml",
        "maxcut/five_cycle.yaml",
        "max_flow/clrs.yaml",
        "min_cost_flow/networkx_example.yaml",
        "transportation/pandt.yaml",
        "assignment/scipy_example.yaml",
        "set_cover/four_rows.yaml",
        "tsp/five_points.yaml",
    )
}
CASES = [p if p in FAST else pytest.param(p, marks=pytest.mark.slow) for p in SHIPPED]
PARSER = MathTextParser("agg")


def _parses(formula: str) -> None:
    """matplotlib's mathtext is strict: an unknown command or an unbalanced brace fails."""
    PARSER.parse(f"${formula}$")


def test_the_latex_check_can_fail() -> None:
    with pytest.raises(ValueError):
        _parses(r"x \le 1")  # mathtext knows \leq only: the check is real
    with pytest.raises(ValueError):
        _parses(r"\left( x")


def _tiny() -> Model:
    m = Model("tiny")
    x = m.var("x", 2)
    m.minimize(x.sum())
    m.add("cover", x[0] + x[1] >= 1)
    return m


def test_conditions_of_a_hand_derived_model() -> None:
    # min x0 + x1, x0 + x1 >= 1, x >= 0: held as c = 1 - (x0 + x1) <= 0, so J = -A and
    # stationarity reads c_x - A^T λ = r_x with λ >= 0, λ c = 0, r_x >= 0, r_x x = 0.
    ex = kkt_conditions(_tiny())
    assert ex.find("held", "cover").text == "c_cover(x) = b_cover - A_cover x <= 0"
    assert ex.find("sign", "cover").text == "λ_cover >= 0"
    assert ex.find("complementarity", "cover").text == "λ_cover · c_cover(x) = 0"
    assert ex.find("stationarity", "x").text == "c_x - A_coverᵀ λ_cover = r_x"
    assert ex.find("bounds", "x").text == "r_x >= 0,  r_x ⊙ x = 0"
    assert ex.section("lagrangian")[0].text == "L(x, λ) = φ(x) + λ_cover · c_cover(x)"
    with pytest.raises(ModelError, match="unknown format 'html'"):
        explain_model(_tiny(), fmt="html")  # type: ignore[arg-type]


def test_reddy_mikks_as_written() -> None:
    text = explain_model(load_file(ROOT / "problems/model/reddy_mikks.yaml").problem)
    assert "φ(x) = -(profit @ x)" in text  # a maximisation held as min -f
    assert "c_m1(x) = 6 * x[0] + 4 * x[1] - 24 <= 0" in text
    assert "x: ∇_x φ(x) + A_m1ᵀ λ_m1 + A_m2ᵀ λ_m2 = r_x" in text
    assert "m2: λ_m2 >= 0" in text and "m1: λ_m1 · c_m1(x) = 0" in text


def test_no_stray_zero_and_equalities() -> None:
    m = Model("balance")
    x = m.var("x", 2, lb=None)
    m.minimize((x * x).sum())
    m.add("balance", x[0] + x[1] == 0)
    ex = kkt_conditions(m)
    assert ex.find("held", "balance").text == "c_balance(x) = A_balance x = 0"  # no "- 0"
    assert ex.find("sign", "balance").text == "λ_balance ∈ ℝ^1 free"
    assert ex.find("bounds", "x").text == "r_x = 0"  # free variables
    assert not ex.section("complementarity")  # an equality has none


def test_tsp_blocks_and_objective_agree() -> None:
    ex = kkt_conditions(load_file(ROOT / "problems/tsp/burma14.yaml").problem)
    text = ex.to_text()
    held = ex.section("held")
    assert held[0].text == "φ(x, f) = c_xᵀx" and len(held) == 6  # objective + 5 groups
    assert "z" not in held[0].text and "f(x)" not in text
    assert ex.find("stationarity", "f").text == "A_flowᵀ λ_flow + A_capacity,fᵀ λ_capacity = r_f"
    assert "L(x, f, λ) = φ(x, f) + λ_degreeᵀ c_degree(x)" in text
    assert "X: the kept groups root, tree, flow, capacity, the bounds and the domains" in text


def test_mps_two_sided_rows_summarised_by_group() -> None:
    ex = kkt_conditions(load_file(ROOT / "problems/mps/sc50b.yaml").problem)
    assert len(ex.conditions) < 20  # 50 rows, one group: never row by row
    sign = [c.text for c in ex.section("sign")]
    assert any("μ⁺" in t and "μ⁻" in t for t in sign)
    assert "μ⁺_rowsᵀ (A_rows x - u_rows)" in ex.section("lagrangian")[0].text


@pytest.mark.parametrize("path", CASES, ids=lambda p: str(p.relative_to(ROOT / "problems")))
def test_every_shipped_file_explains_in_text_and_latex(path: Path) -> None:
    problem = load_file(path).problem
    ex = kkt_conditions(problem)
    m = problem.model
    for g in m.groups:  # every group has its sign, every block its stationarity and bounds
        assert ex.find("sign", g).text
    for b in m.variables:
        assert ex.find("stationarity", b).text.endswith(f"= r_{b}")
        assert ex.find("bounds", b).text
    for c in ex.conditions:
        _parses(c.latex)
        assert " - 0 " not in c.text + " " and "- 0 =" not in c.text
    doc = ex.to_latex()
    assert doc.count("\\begin{align*}") == doc.count("\\end{align*}") >= 5
    for block in re.findall(r"\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}", doc, re.S):
        for row in block.split(" \\\\\n"):
            formula, _, note = row.strip().lstrip("&").partition("&&")
            _parses(formula)
            if note:
                _parses(note)
    assert "f(x) &= f(x)" not in doc and "bounds, bounds" not in doc
