"""Infeasibility diagnosis: IIS by group (``ortools_lag.analysis.iis``) and the elastic
relaxation (``ortools_lag.analysis.elastic``).

Ten constructed infeasible models whose conflict is known by hand (each docstring says why),
LPs and MILPs; for each, the reported subset is checked with ``scipy.optimize.milp`` on the
model's own data: the subset alone is infeasible, and removing any one member makes it
feasible. Then the rcsp-style instance: no infeasible rcsp file is shipped (data/rcsp holds
rcsp1-rcsp12, all feasible, and ../shared/data has no other), so rcsp1's arcs are kept and its
resource limit is set one below the least resource of any path (networkx's Dijkstra on the
resource weights), which makes it infeasible by construction.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from ortools_lag import Model, solve
from ortools_lag.analysis import elastic, iis
from ortools_lag.analysis.conflict import IIS
from ortools_lag.cli import main
from ortools_lag.errors import ModelError, NotSupportedError
from ortools_lag.io.rcsp import read_rcsp
from ortools_lag.model import to_standard_form
from ortools_lag.problems import csp

DATA = Path(__file__).resolve().parents[1] / "data"


def feasible(model: Model, rows: set[int], lower: set[int], upper: set[int]) -> bool:
    """scipy's verdict on the rows ``rows`` and the bounds ``lower``/``upper`` of ``model``."""
    sf = to_standard_form(model, objective=False)
    r = sorted(rows)
    lb = np.array([sf.lb[j] if j in lower else -np.inf for j in range(sf.n)])
    ub = np.array([sf.ub[j] if j in upper else np.inf for j in range(sf.n)])
    cons = [LinearConstraint(sf.A[r], sf.row_lo[r], sf.row_hi[r])] if r else []
    res = milp(np.zeros(sf.n), constraints=cons, bounds=Bounds(lb, ub), integrality=sf.integrality)
    assert res.status in (0, 2), res.message
    return bool(res.status == 0)


def check_irreducible(model: Model, found: IIS, *, only_rows: bool = False) -> None:
    rows = {m.position for m in found.members if m.kind == "row"}
    lower = {m.position for m in found.members if m.kind == "lower"}
    upper = {m.position for m in found.members if m.kind == "upper"}
    assert not feasible(model, rows, lower, upper), "the subset is feasible"
    for m in found.members:
        if only_rows and m.kind != "row":
            continue
        sets = {"row": rows, "lower": lower, "upper": upper}
        less = {k: v - {m.position} if k == m.kind else v for k, v in sets.items()}
        assert feasible(model, less["row"], less["lower"], less["upper"]), f"{m.label} not needed"


def m_demand_over_capacity() -> tuple[Model, tuple[str, ...], tuple[str, ...]]:
    """x0 + x1 >= 5 but each x <= 2 (a group): 4 < 5. The ``spare`` group plays no part."""
    m = Model("demand")
    x = m.var("x", 2)
    m.add("need", x.sum() >= 5)
    m.add("cap", x <= 2)
    m.add("spare", x[0] - x[1] <= 7)
    return m, ("need", "cap[0]", "cap[1]"), ()


def m_two_rows() -> tuple[Model, tuple[str, ...], tuple[str, ...]]:
    """x0 + x1 <= 1 and x0 + x1 >= 2 (the problem file infeasible_rows.yaml)."""
    m = Model("rows")
    x = m.var("x", 2, lb=None)
    m.add("at_most_one", x.sum() <= 1)
    m.add("at_least_two", x.sum() >= 2)
    return m, ("at_most_one", "at_least_two"), ()


def m_equality_over_bound() -> tuple[Model, tuple[str, ...], tuple[str, ...]]:
    """y == 5 with y <= 3 as a variable bound."""
    m = Model("eq")
    y = m.var("y", 3, ub=3)
    m.add("fix", y[1] == 5)
    m.add("other", y[0] + y[2] <= 4)
    return m, ("fix",), ("y[1] <= 3",)


def m_cycle() -> tuple[Model, tuple[str, ...], tuple[str, ...]]:
    """a <= b - 1, b <= c - 1, c <= a - 1: summing gives 0 <= -3 (free variables)."""
    m = Model("cycle")
    v = m.var("v", 3, lb=None)
    m.add("order", [v[0] - v[1] <= -1, v[1] - v[2] <= -1, v[2] - v[0] <= -1])
    m.add("box", v.between(-10, 10))
    return m, ("order[0]", "order[1]", "order[2]"), ()


def m_range_row() -> tuple[Model, tuple[str, ...], tuple[str, ...]]:
    """0 <= x0 + x1 <= 1 (two-sided) against x0 + 2 x1 >= 3 with the bound x1 <= 1:
    x0 + 2 x1 = (x0 + x1) + x1 <= 1 + 1 = 2 < 3."""
    m = Model("range")
    x = m.var("x", 2, ub=1)
    m.add("window", (x[0] + x[1]).between(0, 1))
    m.add("reach", x[0] + 2 * x[1] >= 3)
    return m, ("window", "reach"), ("x[1] <= 1",)


def m_parity() -> tuple[Model, tuple[str, ...], tuple[str, ...]]:
    """2 k == 1 for an integer k (LP relaxation feasible: k = 1/2)."""
    m = Model("parity")
    k = m.var("k", 2, lb=-5, ub=5, domain="integer")
    m.add("odd", 2 * k[0] == 1)
    m.add("loose", k[0] + k[1] <= 8)
    return m, ("odd",), ()


def m_integer_window() -> tuple[Model, tuple[str, ...], tuple[str, ...]]:
    """1.5 <= x + y <= 1.8 for integers: no integer in the window (LP feasible)."""
    m = Model("window")
    b = m.var("b", 2, domain="binary")
    m.add("low", b.sum() >= 1.5)
    m.add("high", b.sum() <= 1.8)
    return m, ("low", "high"), ()


def m_transport_short() -> tuple[Model, tuple[str, ...], tuple[str, ...]]:
    """Supplies 10 + 15 < demands 12 + 20: summing all rows gives 32 <= 25, even for free x."""
    m = Model("transport")
    x = m.var("x", (2, 2))
    m.add("supply", x.sum(axis=1) <= [10.0, 15.0])
    m.add("demand", x.sum(axis=0) >= [12.0, 20.0])
    return m, ("supply[0]", "supply[1]", "demand[0]", "demand[1]"), ()


def m_bounds_and_row() -> tuple[Model, tuple[str, ...], tuple[str, ...]]:
    """x0 + x1 <= -1 with x >= 0 (both lower bounds take part)."""
    m = Model("signs")
    x = m.var("x", 3)
    m.add("neg", x[0] + x[1] <= -1)
    m.add("pos", x[2] <= 4)
    return m, ("neg",), ("x[0] >= 0", "x[1] >= 0")


def m_knapsack_count() -> tuple[Model, tuple[str, ...], tuple[str, ...]]:
    """Binary items of weight 2, capacity 3, at least 1.5 items: two items weigh 4 > 3, but the
    LP takes 1.5 items of weight 3."""
    m = Model("count")
    x = m.var("x", 3, domain="binary")
    m.add("weight", 2 * x.sum() <= 3)
    m.add("count", x.sum() >= 1.5)
    return m, ("weight", "count"), ()


MODELS = [
    m_demand_over_capacity,
    m_two_rows,
    m_equality_over_bound,
    m_cycle,
    m_range_row,
    m_parity,
    m_integer_window,
    m_transport_short,
    m_bounds_and_row,
    m_knapsack_count,
]


@pytest.mark.parametrize("build", MODELS, ids=lambda f: f.__name__[2:])
@pytest.mark.parametrize("method", ["auto", "deletion"])
def test_iis_is_the_known_conflict(build, method: str) -> None:
    model, rows, bounds = build()
    assert solve(model, "highs").status.value in ("infeasible", "infeasible_or_unbounded")
    found = iis(model, method=method)
    assert set(found.rows) == set(rows)
    assert set(found.bounds) == set(bounds)
    check_irreducible(model, found)
    if method == "auto" and not model.is_integer:
        assert found.method == "highs"


def test_elastic_relaxes_the_cheapest_groups() -> None:
    model, _, _ = m_demand_over_capacity()
    e = elastic(model)
    assert e.feasible and e.total == pytest.approx(1.0)  # 5 - 4: one unit short
    e = elastic(model, relax=["cap"])
    assert e.groups == ("cap",) and e.total == pytest.approx(1.0)
    e = elastic(model, relax=["need", "cap"], weights={"need": 5.0})
    assert e.groups == ("cap",)
    assert not elastic(model, relax=["spare"]).feasible
    model, _, _ = m_transport_short()
    e = elastic(model, weights={"demand": 2.0})
    assert e.groups == ("supply",) and e.total == pytest.approx(7.0)  # 32 - 25 of supply
    with pytest.raises(ModelError, match="unknown groups"):
        elastic(model, relax=["nope"])


def test_feasible_model_has_no_iis() -> None:
    m = Model()
    x = m.var("x", 2)
    m.add("c", x.sum() <= 1)
    with pytest.raises(NotSupportedError, match="feasible"):
        iis(m)
    assert elastic(m).total == 0.0 and elastic(m).groups == ()


def rcsp_infeasible() -> tuple[csp.Problem, float]:
    inst = read_rcsp(DATA / "rcsp" / "rcsp1.txt")
    use = inst.arc_resources.reshape(inst.tails.size, -1)[:, 0]
    assert not np.any(inst.vertex_resources)  # rcsp1 charges resources on arcs only
    g = nx.DiGraph()
    for t, h, r in zip(inst.tails.tolist(), inst.heads.tolist(), use.tolist()):
        if not g.has_edge(t, h) or g[t][h]["w"] > r:
            g.add_edge(t, h, w=r)
    least = nx.dijkstra_path_length(g, 0, inst.n - 1, weight="w")
    p = csp.build(
        inst.tails, inst.heads, inst.cost, inst.arc_resources, least - 1, lower=inst.lower, n=inst.n
    )
    return p, least


@pytest.mark.slow
def test_rcsp_style_instance() -> None:
    problem, least = rcsp_infeasible()
    model = problem.model
    assert solve(model, "highs").status.value == "infeasible"
    found = iis(problem)
    assert "upper" in found.groups and "flow" in found.groups and "lower" not in found.groups
    check_irreducible(model, found)
    e = elastic(problem)
    assert e.groups == ("upper",) and e.total == pytest.approx(1.0)  # one unit over the limit


def test_cli_diagnose(tmp_path: Path, capsys) -> None:
    f = tmp_path / "short.yaml"
    f.write_text(
        "schema_version: 1\nkind: model\nname: short\nvariables:\n  x: {shape: 2}\n"
        "minimize: x[0] + x[1]\nconstraints:\n  need: x[0] + x[1] >= 5\n"
        "  cap0: x[0] <= 2\n  cap1: x[1] <= 2\n  spare: x[0] <= 9\n"
    )
    assert main(["diagnose", str(f)]) == 0
    out = capsys.readouterr().out
    assert "IIS" in out and "need, cap0, cap1" in out and "elastic" in out
    assert main(["diagnose", str(f), "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "infeasible" and doc["iis"]["groups"] == ["need", "cap0", "cap1"]
    assert doc["elastic"]["total"] == pytest.approx(1.0)
