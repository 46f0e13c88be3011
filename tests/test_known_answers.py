"""The known-answer bank against the HiGHS backend, with certificate checks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ortools_lag import Status, kkt, solve

from .certificates import check_solution
from .known_answers import BANK, KnownAnswer


@pytest.mark.parametrize("case", BANK, ids=[c.name for c in BANK])
def test_bank_highs(case: KnownAnswer) -> None:
    model = case.build()
    sol = solve(model, "highs")
    assert sol.status.value == case.status, sol.message
    if case.status == "infeasible":
        assert kkt.check_farkas(model, sol.ray["farkas"]).certified
        return
    if case.status == "unbounded":
        assert kkt.check_ray(model, sol.ray["direction"]).certified
        return
    check_solution(model, sol, duals=case.kind != "milp")
    assert sol.objective == pytest.approx(case.objective, rel=1e-7, abs=1e-9)
    for k, v in case.x.items():
        if not case.degenerate:
            np.testing.assert_allclose(sol.x[k], v, atol=1e-6)
    for k, v in case.multipliers.items():
        np.testing.assert_allclose(sol.multipliers[k], v, atol=1e-6)
    assert sol.kkt is not None and sol.kkt.certified


def test_capital_budget_enumerated() -> None:
    w, p = np.array([5, 7, 4, 3]), np.array([8, 11, 6, 4])
    best = max(
        p @ np.array(s) for s in itertools.product([0, 1], repeat=4) if w @ np.array(s) <= 14
    )
    assert best == 21
    sol = solve(BANK[8].build(), "highs")
    assert sol.status == Status.OPTIMAL and sol.gap == pytest.approx(0, abs=1e-9)


def test_shadow_prices_match_resolve() -> None:
    """d objective / d rhs from the multipliers equals a finite difference of re-solves."""
    from .known_answers import diet

    base = solve(diet(), "highs")
    m = diet()
    m.groups.pop("cov")
    x = m.variables["x"]
    m.add("cov", x[0] + x[1] >= 4 + 1e-3)
    moved = solve(m, "highs")
    fd = (moved.objective - base.objective) / 1e-3
    assert base.shadow_prices["cov"] == pytest.approx(fd, rel=1e-6)


def test_reduced_costs_bounded() -> None:
    from .known_answers import bounded

    sol = solve(bounded(), "highs")
    np.testing.assert_allclose(sol.reduced_costs["x"], [-1.0, 0.0], atol=1e-9)
