"""Pyomo models imported by ``from_pyomo``: solved by HiGHS and by the bundle method with
``relax=``, against Pyomo's own HiGHS solve (objective and its ``dual`` suffix)."""

from __future__ import annotations

import math

import numpy as np
import pyomo.environ as pyo
import pytest

from ortools_lag import Model, Solution, Status, solve
from ortools_lag.errors import ModelError, NotSupportedError, OptionError
from ortools_lag.io import from_pyomo, pyomo_duals, write_duals

from .certificates import assert_bound, check_solution
from .import_bank import PYOMO_CASES, Case

#: the bundle method closes the gap of an LP exactly; on a QP the dual is flat near its top, so
#: the gap is driven to 1e-12 and the multipliers are as close as that flatness allows
DUAL_OPTIONS: dict[str, dict[str, float]] = {
    "lp": {},
    "milp": {},
    "qp": {"tolerance": 1e-12, "bundle_tolerance": 1e-14, "max_iter": 300},
}
LAM_TOL = {"lp": 1e-6, "qp": 1e-4}


def check_bundle_dual(model: Model, case: Case, ref: float) -> Solution | None:
    """The bundle method on the imported model against the reference optimum ``ref``: for a
    MILP a Lagrangian bound on its side of ``ref`` (``None`` returned, nothing more to check);
    for an LP or QP strong duality, the bound and the objective at ``ref`` (the solution
    returned, its multipliers for the caller to check against the modeller's duals)."""
    dual = solve(model, "bundle", relax=list(case.relax), **DUAL_OPTIONS[case.kind])
    assert_bound(model, dual)
    if case.kind == "milp":  # a Lagrangian bound on the integer optimum, on its side of it
        assert model.sense_sign * (ref - dual.bound) >= -1e-7 * (1 + abs(ref))
        if dual.status == Status.OPTIMAL:
            assert dual.objective == pytest.approx(ref, rel=1e-7)
        return None
    # strong duality: the bound is the optimum
    assert dual.bound == pytest.approx(ref, rel=1e-7, abs=1e-9)
    assert dual.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert dual.objective == pytest.approx(ref, rel=1e-7, abs=1e-9)
    check_solution(model, dual, duals=False)
    return dual


def _reference(case: Case) -> tuple[object, float]:
    """The Pyomo model solved by Pyomo's own HiGHS interface (duals for LP/QP)."""
    pm = case.build()
    if case.kind != "milp":
        pm.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    res = pyo.SolverFactory("highs").solve(pm)
    assert str(res.solver.termination_condition) == "optimal"
    return pm, float(pyo.value(next(pm.component_objects(pyo.Objective, active=True))))


@pytest.mark.parametrize("case", PYOMO_CASES, ids=[c.name for c in PYOMO_CASES])
def test_pyomo_round_trip(case: Case) -> None:
    pm, ref = _reference(case)
    model = from_pyomo(pm)
    sol = solve(model, "highs")
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(ref, rel=1e-7, abs=1e-9)
    check_solution(model, sol, duals=case.kind != "milp")
    if case.kind != "milp":  # d = -sense * sign * lam against Pyomo's dual suffix
        ours = pyomo_duals(pm, model, sol)
        assert set(ours) == {k for k in pm.dual}
        for con, d in ours.items():
            assert d == pytest.approx(pm.dual[con], abs=1e-6), con.name
    dual = check_bundle_dual(model, case, ref)
    if dual is None:
        return
    # the relaxed groups' multipliers are Pyomo's duals
    if case.kind == "lp":
        assert dual.status == Status.OPTIMAL
    for g in case.relax:
        grp = model.groups[g]
        rows = [d for d in pm.component(g).values() if d.active]
        want = np.array([pm.dual[d] for d in rows])
        lam = np.asarray(dual.multipliers[g], dtype=float).ravel()
        assert -model.sense_sign * grp.sign * lam == pytest.approx(want, abs=LAM_TOL[case.kind])


def test_pyomo_names_shapes_and_senses() -> None:
    pm = PYOMO_CASES[0].build()  # transport: x over I x J
    m = from_pyomo(pm)
    assert m.variables["x"].shape == (2, 3)
    assert m.variables["x"].labels[:2] == ["x[seattle,new_york]", "x[seattle,chicago]"]
    assert (m.groups["supply"].sense, m.groups["demand"].sense) == ("<=", ">=")
    assert m.group_labels["demand"] == ["demand[new_york]", "demand[chicago]", "demand[topeka]"]
    blend = from_pyomo(next(c for c in PYOMO_CASES if c.name == "blending").build())
    assert blend.groups["quality"].sense == "range" and blend.groups["total"].sense == "=="
    plants = from_pyomo(next(c for c in PYOMO_CASES if c.name == "plants").build())
    assert "plant_1_.x" in plants.variables and "plant_2_.cap" in plants.groups
    knap = from_pyomo(next(c for c in PYOMO_CASES if c.name == "knapsack").build())
    v = knap.variables["pick"]
    assert v.integer_mask.all() and (v.lb == 0).all() and (v.ub == 1).all()
    assert knap.sense == "max"
    fixed = from_pyomo(next(c for c in PYOMO_CASES if c.name == "params_fixed").build())
    assert float(fixed.variables["z"].lb) == float(fixed.variables["z"].ub) == 2.0


def test_pyomo_relax_by_pattern_and_suffix_write_back() -> None:
    pm = PYOMO_CASES[0].build()
    m = from_pyomo(pm)
    sol = solve(m, "bundle", relax=["dem*"])
    assert set(sol.multipliers) == {"demand"}
    write_duals(pm, m, sol, suffix="lam", convention="ortools_lag")
    for k, d in enumerate(pm.demand.values()):
        assert pm.lam[d] == pytest.approx(float(np.ravel(sol.multipliers["demand"])[k]))
    with pytest.raises(OptionError, match="valid choices: pyomo, ortools_lag"):
        write_duals(pm, m, sol, convention="cvxpy")
    with pytest.raises(ModelError, match="valid choices"):
        solve(m, "bundle", relax=["capacity*"])


def test_pyomo_nonlinear_converted_and_refused() -> None:
    pm = pyo.ConcreteModel("nl")
    pm.x = pyo.Var([0, 1], bounds=(0.1, 3), initialize=1.0)
    pm.obj = pyo.Objective(expr=pyo.exp(pm.x[0]) + pm.x[1] ** 3 / pm.x[0] - pyo.log(pm.x[1]))
    pm.c = pyo.Constraint(expr=pyo.sqrt(pm.x[0] * pm.x[1]) + abs(pm.x[0] - 2) <= 2.5)
    m = from_pyomo(pm)
    assert m.degree == 3
    rng = np.random.default_rng(0)
    for z in rng.uniform(0.2, 2.5, size=(5, 2)):
        pm.x[0].value, pm.x[1].value = z
        assert m.objective_value(z) == pytest.approx(pyo.value(pm.obj), rel=1e-12)
        assert m.groups["c"].body.value(z)[0] + 0 == pytest.approx(
            pyo.value(pm.c.body) - 2.5, rel=1e-12
        )
    sol = solve(m, "scipy")
    assert sol.status in (Status.OPTIMAL, Status.LOCALLY_OPTIMAL)
    check_solution(m, sol)
    pm.bad = pyo.Constraint(expr=pyo.atan(pm.x[0]) <= 1)
    with pytest.raises(NotSupportedError, match="constraint 'bad'.*'atan'"):
        from_pyomo(pm)
    two = pyo.ConcreteModel()
    two.x = pyo.Var()
    two.a, two.b = pyo.Objective(expr=two.x), pyo.Objective(expr=-two.x)
    with pytest.raises(ModelError, match="exactly one active objective, found 2"):
        from_pyomo(two)
    with pytest.raises(ModelError, match="expects a Pyomo ConcreteModel"):
        from_pyomo(object())


def test_pyomo_dual_conversion_by_hand() -> None:
    """Hand-derived: min x + y s.t. x + y >= 2 (lam = 1), x - y == 0 (lam = 0), x <= 5."""
    pm = pyo.ConcreteModel()
    pm.x = pyo.Var([0, 1], domain=pyo.NonNegativeReals)
    pm.obj = pyo.Objective(expr=pm.x[0] + 2 * pm.x[1])
    pm.cover = pyo.Constraint(expr=pm.x[0] + pm.x[1] >= 2)  # binding: lam = 1.5 at (1, 1)
    pm.tie = pyo.Constraint(expr=pm.x[0] - pm.x[1] == 0)  # lam = 0.5
    m = from_pyomo(pm)
    sol = solve(m, "highs")
    assert sol.objective == pytest.approx(3.0)
    assert float(sol.multipliers["cover"]) == pytest.approx(1.5)
    assert float(sol.multipliers["tie"]) == pytest.approx(0.5)
    d = pyomo_duals(pm, m, sol)  # min: d = lam on >=, -lam on ==
    assert (d[pm.cover], d[pm.tie]) == pytest.approx((1.5, -0.5))
    assert not math.isnan(sol.bound)


def test_example_pyomo_relaxation(tmp_path) -> None:
    """examples/pyomo_relaxation.py: Pyomo's own solve = HiGHS on the import; bound <= it."""
    from .test_examples import _check_png, _run

    proc, folder = _run("pyomo_relaxation", tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_png(folder / "pyomo_relaxation.png")
    vals = dict(line.strip().split(" = ", 1) for line in proc.stdout.splitlines() if " = " in line)
    ref = float(vals["pyomo_objective"])
    assert float(vals["highs_objective"]) == pytest.approx(ref, rel=1e-7)
    assert float(vals["bundle_bound"]) <= ref + 1e-6
    assert float(vals["bundle_bound"]) == pytest.approx(ref, rel=1e-6)
