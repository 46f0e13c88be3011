"""The ``ipopt`` backend (cyipopt): signs, statuses, options and warm starts, against answers
derived by hand, Ipopt's own raw output and the scipy backend."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ortools_lag import Model, Status, Termination, solve
from ortools_lag.errors import OptionError
from ortools_lag.model import functions as F

from .certificates import check_solution

pytestmark = pytest.mark.cyipopt
R = 1 / math.sqrt(2)


def _circle() -> Model:
    m = Model("circle")
    x = m.var("x", 2, lb=None)
    m.minimize(x[0] + x[1])
    m.add("circle", (x * x).sum() == 1)
    return m


def test_circle_multiplier_in_the_project_convention() -> None:
    """Stationarity 1 + 2 lam x = 0 at x = -1/sqrt(2): lam = +1/sqrt(2)."""
    model = _circle()
    sol = solve(model, "ipopt")
    np.testing.assert_allclose(sol.x["x"], [-R, -R], atol=1e-8)
    assert float(sol.multipliers["circle"]) == pytest.approx(R, abs=1e-8)
    assert sol.info["multipliers"] == "solver" and sol.kkt.certified
    assert sol.status == Status.OPTIMAL  # 2 lam I is PSD at lam > 0: the bound is proven
    assert sol.bound == pytest.approx(-2 * R, abs=1e-8)
    check_solution(model, sol)


def test_ipopt_raw_sign_of_the_circle() -> None:
    """Ipopt's own mult_g on the same problem, called without the backend: +1/sqrt(2) too
    (its Lagrangian is f + g^T lam), so the adapter keeps it as it is."""
    cyipopt = pytest.importorskip("cyipopt")

    class Circle:
        def objective(self, x):  # type: ignore[no-untyped-def]
            return x[0] + x[1]

        def gradient(self, x):  # type: ignore[no-untyped-def]
            return np.ones(2)

        def constraints(self, x):  # type: ignore[no-untyped-def]
            return np.array([x @ x])

        def jacobian(self, x):  # type: ignore[no-untyped-def]
            return 2 * x

    nlp = cyipopt.Problem(n=2, m=1, problem_obj=Circle(), lb=[-1e19] * 2, ub=[1e19] * 2,
                          cl=[1.0], cu=[1.0])  # fmt: skip
    nlp.add_option("sb", "yes")
    nlp.add_option("print_level", 0)
    nlp.add_option("hessian_approximation", "limited-memory")
    x, info = nlp.solve(np.array([-0.5, -0.4]))
    assert info["status"] == 0
    assert float(info["mult_g"][0]) == pytest.approx(R, abs=1e-7)  # Ipopt's raw sign
    ours = solve(_circle(), "ipopt")
    assert float(ours.multipliers["circle"]) == pytest.approx(float(info["mult_g"][0]), abs=1e-7)


def test_the_top_of_the_circle_is_a_local_point() -> None:
    m = Model()
    x = m.var("x", 2, lb=None)
    m.maximize(x[0] + x[1])
    m.add("circle", (x * x).sum() == 1)
    sol = solve(m, "ipopt", x0={"x": [0.5, 0.4]})
    np.testing.assert_allclose(sol.x["x"], [R, R], atol=1e-8)
    check_solution(m, sol)
    # min -(x + y): 2 lam x = 1 at x = 1/sqrt(2), lam = 1/sqrt(2) ... the same sign
    assert float(sol.multipliers["circle"]) == pytest.approx(R, abs=1e-8)


def test_inequality_bound_and_two_sided_signs() -> None:
    """min (x - 2)^2 + exp(y) with x <= 1 (a bound), y >= 1 (a group), 0 <= x + y <= 5.

    By hand: x = 1, y = 1; the group ``y >= 1`` is held as 1 - y <= 0 with
    e - lam = 0, lam = e; the bound's reduced cost is 2 (1 - 2) = -2 (upper bound binds);
    the two-sided row is slack (0).
    """
    m = Model()
    x = m.var("x", ub=1.0, lb=None)
    y = m.var("y", lb=None)
    m.minimize(F.square(x - 2) + F.exp(y))
    m.add("floor", y >= 1)
    m.add("band", (x + y).between(0, 5))
    sol = solve(m, "ipopt")
    assert float(sol.x["x"]) == pytest.approx(1.0, abs=1e-8)
    assert float(sol.x["y"]) == pytest.approx(1.0, abs=1e-8)
    assert float(sol.multipliers["floor"]) == pytest.approx(math.e, rel=1e-7)
    assert float(sol.multipliers["band"]) == pytest.approx(0.0, abs=1e-8)
    assert float(sol.reduced_costs["x"]) == pytest.approx(-2.0, abs=1e-7)
    check_solution(m, sol)
    ref = solve(m, "scipy", method="trust-constr")
    for g in ("floor", "band"):
        assert float(sol.multipliers[g]) == pytest.approx(float(ref.multipliers[g]), abs=1e-5)


def test_warm_start_from_a_solution() -> None:
    m = Model()
    x = m.var("x", 3, lb=-2, ub=2)
    m.minimize(F.exp(x[0]) + F.square(x[1] - 1) + x[2] ** 4 - x[2])
    m.add("link", F.tanh(x).sum() == 0.5)
    cold = solve(m, "ipopt")
    assert cold.status in (Status.OPTIMAL, Status.LOCALLY_OPTIMAL)
    warm = solve(m, "ipopt", warm_start=cold)
    assert warm.status == cold.status
    assert warm.iterations < cold.iterations
    np.testing.assert_allclose(warm.x["x"], cold.x["x"], atol=1e-7)
    check_solution(m, warm)


def test_exact_hessians_and_limited_memory_agree() -> None:
    m = Model()
    x = m.var("x", 2, lb=None)
    m.minimize(100 * F.square(x[1] - x[0] ** 2) + F.square(1 - x[0]))  # Rosenbrock
    m.add("disk", (x * x).sum() <= 3)  # slack at the optimum (1, 1): lam = 0
    exact = solve(m, "ipopt", x0={"x": [-1.2, 1.0]})
    lbfgs = solve(m, "ipopt", x0={"x": [-1.2, 1.0]}, hessian_approximation="limited-memory")
    for sol in (exact, lbfgs):
        np.testing.assert_allclose(sol.x["x"], [1.0, 1.0], atol=1e-6)
        check_solution(m, sol)
        assert float(sol.multipliers["disk"]) == pytest.approx(0.0, abs=1e-8)
    assert exact.info["hessian_approximation"] == "exact"


def test_limits_and_options_are_statuses_or_clear_errors() -> None:
    m = _circle()
    short = solve(m, "ipopt", max_iter=1)
    assert short.termination == Termination.ITERATION_LIMIT
    assert short.status not in (Status.OPTIMAL, Status.LOCALLY_OPTIMAL)
    with pytest.raises(OptionError, match="nosuch_option"):
        solve(m, "ipopt", ipopt_options={"nosuch_option": 1})
    with pytest.raises(OptionError, match="unknown option 'tolerence'"):
        solve(m, "ipopt", tolerence=1e-3)
    with pytest.raises(OptionError, match="warm_start takes a Solution"):
        solve(m, "ipopt", warm_start=3)


def test_infeasible_affine_rows_come_with_a_farkas_ray() -> None:
    m = Model()
    x = m.var("x", 2)
    m.minimize(F.exp(x[0]) + x[1])
    m.add("neg", x.sum() <= -1)
    sol = solve(m, "ipopt")
    assert sol.status == Status.INFEASIBLE and sol.kkt.certified and "farkas" in sol.ray
