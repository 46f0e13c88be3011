"""MIP duals by fixing (``ortools_lag.analysis.fixed_duals``).

Known answers: the fixed LP is re-solved independently with ``scipy.optimize.linprog`` on
matrices written out here, and its marginals (``d objective / d b``) must equal our shadow
prices; the multipliers pass ``tests/certificates.check_solution`` on the fixed LP. Two
hand-derived values: the knapsack with one divisible item prices capacity at that item's value
per unit of weight (3 / 2), and the facility model prices demand at the open facility's unit
cost (1: facility 0 is open with spare capacity).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from ortools_lag import Model, Solution, Status, Termination, solve
from ortools_lag.analysis import fixed_duals, fixed_lp
from ortools_lag.errors import NotSupportedError
from tests.certificates import check_solution


def knapsack() -> Model:
    """max 10a + 7b + 4c + 3z, 5a + 4b + 3c + 2z <= 10, a, b, c binary, z in [0, 1]:
    a = b = 1 fills 9 of 10, z = 1/2; value 18.5 (hand enumeration of the 8 choices)."""
    m = Model("knapsack_divisible")
    x = m.var("x", 3, domain="binary")
    z = m.var("z", ub=1.0)
    m.maximize(10 * x[0] + 7 * x[1] + 4 * x[2] + 3 * z)
    m.add("capacity", 5 * x[0] + 4 * x[1] + 3 * x[2] + 2 * z <= 10)
    return m


def facility() -> Model:
    """Open facilities (fixed cost 3 and 5) serve demand 4 at unit cost 1 and 2, capacity 5
    each: open facility 0 alone, cost 3 + 4 = 7."""
    m = Model("facility")
    y = m.var("open", 2, domain="binary")
    x = m.var("x", 2)
    m.minimize(3 * y[0] + 5 * y[1] + x[0] + 2 * x[1])
    m.add("demand", x.sum() >= 4)
    m.add("link", x <= 5 * y)
    return m


def test_plain_mip_solution_has_no_multipliers() -> None:
    sol = solve(knapsack(), "highs")
    assert sol.objective == pytest.approx(18.5)
    assert dict(sol.multipliers) == {}


def test_knapsack_capacity_price_is_the_divisible_items_ratio() -> None:
    m = knapsack()
    mip = solve(m, "highs")
    check_solution(m, mip)
    sol = fixed_duals(m, mip)
    assert sol.info["duals"] == "fixed_lp" and "fixed LP" in sol.info["duals_note"]
    assert sol.objective == mip.objective and sol.status == mip.status  # the MILP's answer
    assert float(sol.multipliers["capacity"]) == pytest.approx(1.5)  # 3 / 2
    assert float(sol.shadow_prices["capacity"]) == pytest.approx(1.5)
    check_solution(fixed_lp(m, mip), sol)
    # scipy: min -(3z) + const, 2z <= 10 - 5 - 4, 0 <= z <= 1 (a = b = 1, c = 0 fixed)
    ref = linprog([-3.0], A_ub=[[2.0]], b_ub=[1.0], bounds=[(0, 1)], method="highs")
    assert -ref.ineqlin.marginals[0] == pytest.approx(float(sol.shadow_prices["capacity"]))


def test_facility_duals_match_scipy_on_the_fixed_lp() -> None:
    m = facility()
    mip = solve(m, "highs")
    assert mip.objective == pytest.approx(7.0)
    np.testing.assert_allclose(mip.x["open"], [1.0, 0.0], atol=1e-9)
    sol = solve(m, "highs", fixed_duals=True)  # the option
    check_solution(fixed_lp(m, mip), sol)
    assert float(sol.multipliers["demand"]) == pytest.approx(1.0)
    # scipy on the fixed LP: min x0 + 2 x1, -x0 - x1 <= -4, x0 <= 5, x1 <= 0, x >= 0
    ref = linprog(
        [1.0, 2.0], A_ub=[[-1, -1], [1, 0], [0, 1]], b_ub=[-4, 5, 0], bounds=[(0, None)] * 2,
        method="highs",
    )  # fmt: skip
    # d f / d rhs of demand (x0 + x1 >= 4) is minus the marginal of -x0 - x1 <= -4
    assert float(sol.shadow_prices["demand"]) == pytest.approx(-ref.ineqlin.marginals[0])
    np.testing.assert_allclose(sol.shadow_prices["link"], ref.ineqlin.marginals[1:], atol=1e-9)
    assert ref.fun + 3.0 == pytest.approx(sol.objective)


def test_fixed_lp_through_a_second_backend_agrees() -> None:
    m = facility()
    mip = solve(m, "highs")
    a = fixed_duals(m, mip)
    b = fixed_duals(m, mip, solver="scipy")
    check_solution(fixed_lp(m, mip), b)
    # demand and link[0] have unique prices; link[1] (x1 <= 0 with x1 >= 0) is degenerate
    assert float(a.shadow_prices["demand"]) == pytest.approx(float(b.shadow_prices["demand"]))
    assert a.shadow_prices["link"][0] == pytest.approx(b.shadow_prices["link"][0], abs=1e-9)


def test_lp_is_left_alone_and_errors_are_clear() -> None:
    m = Model()
    x = m.var("x", 2)
    m.maximize(x.sum())
    m.add("cap", x.sum() <= 3)
    lp = solve(m, "highs", fixed_duals=True)
    assert float(lp.multipliers["cap"]) == pytest.approx(1.0) and "duals" not in lp.info
    stopped = Solution(Status.NO_SOLUTION, Termination.TIME_LIMIT)
    with pytest.raises(NotSupportedError, match="no point"):
        fixed_lp(knapsack(), stopped)
