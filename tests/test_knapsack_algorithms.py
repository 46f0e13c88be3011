"""0-1 knapsack DP and the multidimensional knapsack relaxation.

Referees: brute force over all subsets, HiGHS (scipy.optimize.milp / linprog use HiGHS), and the
optima printed in OR-Library's mknap1.txt (data/MANIFEST.md).
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from ortools_lag.algorithms.dual_bundle import maximize_dual
from ortools_lag.algorithms.knapsack import KnapsackBatch, knapsack_01, knapsack_01_batch
from ortools_lag.algorithms.mknap_relaxation import mknap_lagrangian, solve_mknap
from ortools_lag.errors import ModelError
from ortools_lag.io.mknap import read_mknap_all

DATA = Path(__file__).parents[1] / "data"

# LP-relaxation values of mknap1's seven problems (the issue's acceptance figures)
MKNAP1_LP = [4134.07, 9297.71, 4127.89, 6155.33, 12462.10, 10672.35, 16612.82]


def _brute(v: np.ndarray, w: np.ndarray, cap: float) -> float:
    best = 0.0
    for bits in product([0, 1], repeat=v.size):
        x = np.array(bits, dtype=bool)
        if w[x].sum() <= cap:
            best = max(best, float(v[x].sum()))
    return best


def test_knapsack_matches_brute_force() -> None:
    rng = np.random.default_rng(11)
    for _ in range(150):
        n = int(rng.integers(1, 10))
        v = rng.integers(-5, 30, n).astype(float)
        w = rng.integers(0, 12, n).astype(float)
        cap = float(rng.integers(0, 40))
        sol = knapsack_01(v, w, cap)
        assert sol.value == pytest.approx(_brute(v, w, cap))
        assert w[sol.x].sum() <= cap and sol.value == pytest.approx(v[sol.x].sum())
        assert not np.any(sol.x & (v <= 0))


def test_knapsack_matches_highs_milp() -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        n = 60
        v, w = rng.uniform(1, 100, n), rng.integers(1, 50, n).astype(float)
        cap = float(w.sum() // 3)
        ref = milp(
            -v,
            constraints=LinearConstraint(w[None, :], -np.inf, cap),
            integrality=np.ones(n),
            bounds=Bounds(0, 1),
        )
        assert knapsack_01(v, w, cap).value == pytest.approx(-ref.fun, rel=1e-9)


def test_batch_equals_one_knapsack_per_row() -> None:
    rng = np.random.default_rng(5)
    v = rng.normal(5, 4, (6, 25))
    w = rng.integers(1, 20, (6, 25))
    cap = rng.integers(10, 120, 6)
    batch = knapsack_01_batch(v, w, cap)
    again = KnapsackBatch(w, cap).solve(v)
    for i in range(6):
        one = knapsack_01(v[i], w[i], cap[i])
        assert batch.value[i] == pytest.approx(one.value)
        assert batch.value[i] == pytest.approx(again.value[i])
        assert batch.weight[i] <= cap[i]


def test_non_integer_weights_raise_a_clear_error() -> None:
    with pytest.raises(ModelError, match="integer weights"):
        knapsack_01([1, 2], [1.5, 2], 3)
    with pytest.raises(ModelError, match=">= 0"):
        knapsack_01([1, 2], [1, 2], -1)
    with pytest.raises(ModelError, match="shapes"):
        knapsack_01_batch([[1, 2]], [[1, 2, 3]], [3])


@pytest.fixture(scope="module")
def mknap1() -> list:
    return read_mknap_all(DATA / "mknap" / "mknap1.txt")


@pytest.fixture(scope="module")
def mknap1_solved(mknap1: list) -> list:
    return [solve_mknap(q.profit, q.weight, q.capacity) for q in mknap1]


def test_mknap1_bounds_equal_the_lp_relaxation(mknap1: list, mknap1_solved: list) -> None:
    for q, res, lp_listed in zip(mknap1, mknap1_solved, MKNAP1_LP, strict=True):
        lp = linprog(-q.profit, A_ub=q.weight, b_ub=q.capacity, bounds=(0, 1), method="highs")
        assert -lp.fun == pytest.approx(lp_listed, abs=0.006)
        assert abs(res.bound - lp_listed) <= 1e-3 * lp_listed
        assert res.bound >= -lp.fun - 1e-6 * abs(lp.fun)  # a Lagrangian bound is never below
        assert res.bound >= q.optimum


def test_mknap1_heuristic_within_one_percent(mknap1: list, mknap1_solved: list) -> None:
    for q, res in zip(mknap1, mknap1_solved, strict=True):
        assert np.all(q.weight[:, res.x].sum(axis=1) <= q.capacity + 1e-9)
        assert res.objective == pytest.approx(q.profit[res.x].sum())
        assert q.optimum * 0.99 <= res.objective <= q.optimum + 1e-6
        assert res.gap >= 0 and res.bound_method == "lagrangian_bundle"
        tr = res.trace
        assert tr.values.size == tr.best_values.size == tr.incumbents.size == tr.iterations
        assert np.all(np.diff(tr.best_values) >= 0)


def test_mknap_oracle_is_weak_duality_and_its_multipliers_reevaluate(mknap1: list) -> None:
    rng = np.random.default_rng(2)
    q = mknap1[3]
    for _ in range(20):
        mu = rng.uniform(0, 3, q.capacity.size)
        r = mknap_lagrangian(q.profit, q.weight, q.capacity, mu)
        direct = mu @ q.capacity + np.maximum(q.profit - mu @ q.weight, 0).sum()
        assert r.upper_bound == pytest.approx(direct)
        assert r.upper_bound >= q.optimum
    res = solve_mknap(q.profit, q.weight, q.capacity)
    again = mknap_lagrangian(q.profit, q.weight, q.capacity, res.multipliers)
    assert again.upper_bound == pytest.approx(res.bound, rel=1e-12)
    assert np.all(res.multipliers >= 0)


def test_mknap_small_instance_against_highs_milp() -> None:
    rng = np.random.default_rng(8)
    p = rng.integers(10, 60, 30).astype(float)
    w = rng.integers(1, 30, (3, 30)).astype(float)
    b = w.sum(axis=1) / 2
    ref = milp(
        -p,
        constraints=LinearConstraint(w, -np.inf, b),
        integrality=np.ones(30),
        bounds=Bounds(0, 1),
    )
    res = solve_mknap(p, w, b)
    assert res.bound >= -ref.fun - 1e-6
    assert res.objective >= 0.99 * -ref.fun


def test_maximize_dual_on_a_two_piece_function() -> None:
    # min(5 + x, 13 - x) over x >= 0: maximum 9 at x = 4 (hand derivation)
    def f(lam: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = 5 + lam[0], 13 - lam[0]
        return min(a, b), np.array([1.0 if a <= b else -1.0])

    for method in ("bundle", "subgradient"):
        tr = maximize_dual(f, [0.0], 0.0, method=method, max_iter=200)
        assert tr.value == pytest.approx(9.0, abs=1e-3)
    with pytest.raises(ModelError, match="valid choices"):
        maximize_dual(f, [0.0], method="newton")
