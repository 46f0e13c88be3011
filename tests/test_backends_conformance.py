"""The known-answer bank against every backend that accepts each problem: one answer, one shape.

Same status, objective within 1e-7 relative, multipliers within 1e-6 where the optimum is
non-degenerate (the bank's hand-derived values, and agreement with HiGHS), certificate checks on
every solution, and certified Farkas vectors / rays for the infeasible and unbounded cases.
"""

from __future__ import annotations

import functools
import math
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import ortools_lag
from ortools_lag import (
    BackendUnavailableError,
    Model,
    NotSupportedError,
    Solution,
    Status,
    kkt,
    solve,
)
from ortools_lag.problem import as_problem
from ortools_lag.solvers import registry

from .certificates import check_solution
from .known_answers import BANK, KnownAnswer

# backend name, options, label; the scipy NLP methods also run the bank (LP/QP, not MILP)
VARIANTS: list[tuple[str, dict[str, Any], str]] = [
    ("highs", {}, "highs"),
    ("scipy", {}, "scipy"),
    ("scipy", {"method": "slsqp"}, "scipy-slsqp"),
    ("scipy", {"method": "trust-constr"}, "scipy-trust-constr"),
    ("cvxpy", {}, "cvxpy"),
    ("cvxpy", {"cvxpy_solver": "CLARABEL"}, "cvxpy-clarabel"),
    ("pyomo", {}, "pyomo"),
]


def _accepts(backend: str, opts: dict[str, Any], case: KnownAnswer) -> bool:
    if case.kind == "milp" and opts.get("method") in ("slsqp", "trust-constr"):
        return False
    if case.kind == "milp" and opts.get("cvxpy_solver") == "CLARABEL":
        return False
    return registry.get(backend).check(as_problem(case.build())) is None


# the Ipopt path runs where an ipopt executable is on PATH; CI (without one) tests the error path
needs_ipopt = [
    pytest.mark.ipopt,
]

CASES = [
    pytest.param(b, o, c, id=f"{label}-{c.name}")
    for b, o, label in VARIANTS
    for c in BANK
    if _accepts(b, o, c)
]


@pytest.mark.parametrize(("backend", "opts", "case"), CASES)
def test_bank(backend: str, opts: dict[str, Any], case: KnownAnswer) -> None:
    model = case.build()
    sol = solve(model, backend, **opts)
    assert sol.status.value == case.status, sol.message
    if case.status == "infeasible":
        assert kkt.check_farkas(model, sol.ray["farkas"]).certified
        return
    if case.status == "unbounded":
        assert kkt.check_ray(model, sol.ray["direction"]).certified
        return
    check_solution(model, sol, duals=case.kind != "milp")
    assert sol.kkt is not None and sol.kkt.certified, sol.message
    assert sol.objective == pytest.approx(case.objective, rel=1e-7, abs=1e-9)
    if not case.degenerate:
        for k, v in case.x.items():
            np.testing.assert_allclose(sol.x[k], v, atol=1e-6)
    for k, v in case.multipliers.items():
        np.testing.assert_allclose(sol.multipliers[k], v, atol=1e-6)
    if case.kind == "milp":
        assert sol.status == Status.OPTIMAL and math.isfinite(sol.bound)
        return
    assert sol.gap == pytest.approx(0.0, abs=1e-6 * (1 + abs(sol.objective)))
    if not case.degenerate:  # one sign convention: HiGHS's multipliers, reduced costs, prices
        ref = _highs(case.name)
        for part in ("multipliers", "reduced_costs", "shadow_prices"):
            for k, v in getattr(ref, part).items():
                np.testing.assert_allclose(getattr(sol, part)[k], v, atol=1e-6, err_msg=part)


@functools.cache
def _highs(name: str) -> Solution:
    return solve(next(c for c in BANK if c.name == name).build(), "highs")


def test_reduced_costs_are_bound_multipliers() -> None:
    """bounded(): x0 = 2 at its upper bound with reduced cost -2 + 1 = -1 (hand derivation)."""
    from .known_answers import bounded

    for backend, opts, _ in VARIANTS:
        sol = solve(bounded(), backend, **opts)
        np.testing.assert_allclose(sol.reduced_costs["x"], [-1.0, 0.0], atol=1e-6)


def test_capital_budget_bound_is_the_optimum() -> None:
    """The MILP backends report the solver's dual bound; at optimality it meets z = 21."""
    from .known_answers import capital_budget

    for backend in ("scipy", "cvxpy", "pyomo"):
        sol = solve(capital_budget(), backend)
        assert sol.status == Status.OPTIMAL
        assert sol.bound >= 21.0 - 1e-9 and sol.gap == pytest.approx(0.0, abs=21e-6)
        check_solution(capital_budget(), sol, duals=False)


def _nonconvex_circle() -> Model:
    m = Model("circle")
    x = m.var("x", 2, lb=None)
    m.minimize(x[0] + x[1])
    m.add("circle", (x * x).sum() == 1)
    return m


def test_cvxpy_names_the_nonconvex_group() -> None:
    with pytest.raises(NotSupportedError, match="'circle'"):
        solve(_nonconvex_circle(), "cvxpy")


def test_cvxpy_rejects_a_concave_minimisation() -> None:
    m = Model()
    x = m.var("x", 2, lb=None)
    m.minimize(-(x * x).sum())
    m.add("box", x.sum() <= 1)
    with pytest.raises(NotSupportedError, match="objective is not convex"):
        solve(m, "cvxpy")


def test_pyomo_nlp_without_ipopt_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI has no ipopt: the error path names the executable and how to install it."""
    monkeypatch.setattr("shutil.which", lambda name, *a, **k: None)
    with pytest.raises(BackendUnavailableError, match="ipopt") as err:
        solve(_nonconvex_circle(), "pyomo")
    assert "PATH" in str(err.value) and "install" in str(err.value)


def test_pyomo_builds_quadratic_groups_exactly() -> None:
    """What Ipopt would receive: the Pyomo rows and objective equal the model's at a point."""
    import pyomo.environ as pyo

    from ortools_lag.model import quad_form
    from ortools_lag.solvers.backends.pyomo import build_concrete

    m = Model()
    x = m.var("x", (2, 2), lb=None)
    y = m.var("y", 2, lb=-1, ub=1)
    Q = np.array([[2.0, 0.5], [0.5, 1.0]])
    m.maximize(x[0, 0] - quad_form(y, Q) + 3)
    m.add("disks", (x * x).sum(axis=1) + y <= 1)
    m.add("bilinear", (x[:, 0] * x[:, 1]).between(-1, 2))
    m.add("lin", x.sum() == 1)
    pm = build_concrete(m)
    z = np.random.default_rng(7).standard_normal(m.n)
    for v, val in zip(pm.z.values(), z):
        v.set_value(float(val), skip_validation=True)
    assert pyo.value(pm.obj.expr) == pytest.approx(-m.objective_value(z))  # held as min -f
    for name, g in m.groups.items():
        rows = [pyo.value(c.body) for c in getattr(pm, f"g_{name}").values()]
        np.testing.assert_allclose(rows, g.body.value(z), rtol=1e-12, atol=1e-12)


@pytest.mark.ipopt
def test_pyomo_ipopt_circle() -> None:
    """min x + y on the unit circle through Ipopt: x = y = -1/sqrt(2), multiplier +1/sqrt(2)."""
    model = _nonconvex_circle()
    sol = solve(model, "pyomo", pyomo_solver="ipopt")
    r = 1 / math.sqrt(2)
    np.testing.assert_allclose(sol.x["x"], [-r, -r], atol=1e-6)
    assert float(sol.multipliers["circle"]) == pytest.approx(r, abs=1e-6)
    assert sol.info["multipliers"] == "solver"
    check_solution(model, sol)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=needs_ipopt, id=c.name)
        for c in BANK
        if c.kind != "milp" and c.status == "optimal"
    ],
)
def test_pyomo_ipopt_bank(case: KnownAnswer) -> None:
    model = case.build()
    sol = solve(model, "pyomo", pyomo_solver="ipopt")
    check_solution(model, sol)
    assert sol.objective == pytest.approx(case.objective, rel=1e-7, abs=1e-9)
    for k, v in case.multipliers.items():
        np.testing.assert_allclose(sol.multipliers[k], v, atol=1e-6)


def test_available_reports_every_backend() -> None:
    avail = ortools_lag.solvers.available()
    for name in ("highs", "scipy", "cvxpy", "pyomo"):
        assert avail[name] is None, avail[name]


def test_available_says_why_not(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from ortools_lag.solvers.backends.cvxpy import CvxpySolver
    from ortools_lag.solvers.backends.pyomo import PyomoSolver

    real = importlib.util.find_spec
    missing = {"cvxpy", "pyomo"}
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in missing else real(name, *a)
    )
    assert CvxpySolver().available() == "cvxpy is not installed: pip install cvxpy"
    assert PyomoSolver().available() == "pyomo is not installed: pip install pyomo"
    with pytest.raises(BackendUnavailableError, match="pip install cvxpy"):
        solve(BANK[0].build(), "cvxpy")


def test_package_import_does_not_import_backends() -> None:
    code = (
        "import sys, ortools_lag, ortools_lag.solvers as s; s.available(); "
        "print(sorted(k for k in ('cvxpy', 'pyomo') if k in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_cvxpy_solver_lists_the_installed_ones() -> None:
    from ortools_lag import OptionError

    with pytest.raises(OptionError, match="valid choices"):
        solve(BANK[0].build(), "cvxpy", cvxpy_solver="NO_SUCH_SOLVER")
