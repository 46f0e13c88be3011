"""The ``knapsack`` family through the public API: ``solve(problem)`` and its certificate.

Known answers: OR-Library mknap1 optima (printed in the file, data/MANIFEST.md) and the
LP-relaxation values of issue 8's acceptance; scipy's ``linprog`` / ``milp`` (HiGHS) and brute
force on small random instances; a hand enumeration (docstring of dantzig.yaml).
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from ortools_lag import Status, solve
from ortools_lag.problems import knapsack
from ortools_lag.solvers.bound_certificate import recompute_dual
from tests.certificates import check_solution

DATA = Path(__file__).parents[1] / "data" / "mknap" / "mknap1.txt"
OPT = [3800, 8706.1, 4015, 6120, 12400, 10618, 16537]
LP = [4134.07, 9297.71, 4127.89, 6155.33, 12462.10, 10672.35, 16612.82]


def _lp(p: np.ndarray, w: np.ndarray, b: np.ndarray) -> float:
    return -float(linprog(-p, A_ub=w, b_ub=b, bounds=(0, 1), method="highs").fun)


def _reevaluated(problem, sol) -> None:  # type: ignore[no-untyped-def]
    """The Lagrangian bound is at least q(mu) recomputed by HiGHS (max: ``-q`` bounds above)."""
    assert sol.kkt.kind == "lagrangian" and sol.kkt.certified, sol.kkt.notes
    q = -recompute_dual(problem.model, ("capacity",), sol.multipliers["capacity"])
    lag = sol.info.get("lagrangian_bound", sol.bound)
    assert lag >= q - 1e-6 * (1 + abs(q))
    assert np.all(sol.multipliers["capacity"] >= 0)


@pytest.mark.parametrize("k", range(1, 8))
def test_mknap1_bound_is_the_lp_bound_and_the_heuristic_within_one_percent(k: int) -> None:
    p = knapsack.read(DATA, problem=k)
    sol = solve(p)
    assert sol.solver == "mknap_lagrangian"
    assert p.metadata["optimum"] == pytest.approx(OPT[k - 1])
    assert abs(sol.bound - LP[k - 1]) <= 1e-3 * LP[k - 1]  # within 0.1% of the LP value
    assert sol.bound >= OPT[k - 1] - 1e-9
    d = p.data
    assert sol.bound == pytest.approx(_lp(d.profit, d.weight, d.capacity), rel=1e-7)
    assert OPT[k - 1] * 0.99 <= sol.objective <= OPT[k - 1] + 1e-9
    check_solution(p.model, sol, duals=False)
    _reevaluated(p, sol)
    assert sol.info["bound_from"] == "lagrangian_bundle" and "greedy" in sol.info["point_from"]
    assert sol.history is not None and np.all(np.diff(sol.history.bound) <= 1e-9)
    assert np.all(sol.history.gap[np.isfinite(sol.history.gap)] >= -1e-9)


def test_dp_is_exact_against_brute_force_and_its_bound_is_dantzigs() -> None:
    rng = np.random.default_rng(3)
    for _ in range(8):
        n = int(rng.integers(4, 11))
        v = rng.integers(1, 40, n).astype(float)
        w = rng.integers(1, 20, n).astype(float)
        cap = float(rng.integers(10, 50))
        best = max(
            float(v[np.array(bits, bool)].sum())
            for bits in product([0, 1], repeat=n)
            if w[np.array(bits, bool)].sum() <= cap
        )
        p = knapsack.build(v, w, cap)
        sol = solve(p)
        assert sol.solver == "knapsack_dp" and sol.status == Status.OPTIMAL
        assert sol.objective == best and sol.bound == best and sol.gap == 0
        assert sol.info["lagrangian_bound"] == pytest.approx(_lp(v, w[None, :], np.array([cap])))
        check_solution(p.model, sol, duals=False)
        _reevaluated(p, sol)
        ans = p.decode(sol)
        assert ans.profit == best and ans.load[0] <= cap


def test_multirow_random_instances_against_milp() -> None:
    rng = np.random.default_rng(11)
    for _ in range(4):
        n, m = 15, 3
        v = rng.integers(5, 50, n).astype(float)
        w = rng.integers(1, 30, (m, n)).astype(float)
        b = 0.4 * w.sum(axis=1)
        ref = milp(
            -v,
            constraints=[LinearConstraint(w, -np.inf, b)],
            integrality=np.ones(n),
            bounds=Bounds(0, 1),
        )
        opt = -float(ref.fun)
        p = knapsack.build(v, w, b)
        sol = solve(p)
        assert sol.bound >= opt - 1e-6 and sol.objective <= opt + 1e-9
        assert sol.objective >= 0.95 * opt
        check_solution(p.model, sol, duals=False)
        assert solve(p, "highs").objective == pytest.approx(opt)


def test_generic_dual_methods_take_the_relaxation() -> None:
    p = knapsack.read(DATA, problem=3)
    sol = solve(p, "bundle", max_iter=100)
    assert sol.bound == pytest.approx(LP[2], rel=1e-3) and sol.objective <= OPT[2]
    check_solution(p.model, sol, duals=False)


def test_fractional_weights_use_the_lagrangian_solver() -> None:
    p = knapsack.build([3.0, 4.0, 5.0], [1.5, 2.5, 3.5], 4.0)
    assert p.default_solver == "mknap_lagrangian"
    sol = solve(p)
    assert sol.objective == 7.0 and sol.bound >= 7.0  # by hand: items 0 and 1 (weight 4.0)
    with pytest.raises(Exception, match="integer weights"):
        solve(p, "knapsack_dp")


def test_bad_data() -> None:
    with pytest.raises(Exception, match="shapes"):
        knapsack.build([1.0, 2.0], [[1.0]], [1.0])
    with pytest.raises(Exception, match=">= 0"):
        knapsack.build([1.0], [-1.0], 1.0)
