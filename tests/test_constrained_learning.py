"""Constrained learning: the multiplier of a norm budget found by dual ascent.

For least squares the multiplier must be the ridge weight whose closed-form solution meets the
budget, found here independently by root-finding on the secular equation ``||w(a)||^2 = c``."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from ortools_lag import ModelError, Status, solve
from ortools_lag.problems import nn_training
from ortools_lag.problems.constrained_learning import (
    add_weight_budget,
    dual_ascent,
    norm_budget_least_squares,
)

from .certificates import check_solution


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 8))
    y = X @ rng.normal(size=8) + 0.3 * rng.normal(size=60)
    return X, y


def _ridge(X: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    return np.linalg.solve(X.T @ X + alpha * np.eye(X.shape[1]), X.T @ y)


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.9])
def test_budget_multiplier_is_the_ridge_weight(fraction: float) -> None:
    X, y = _data()
    w_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    c = fraction * float(w_ls @ w_ls)

    def secular(a: float) -> float:
        w = _ridge(X, y, a)
        return float(w @ w) - c

    alpha = brentq(secular, 0.0, 1e8, xtol=1e-13, rtol=1e-14)
    p = norm_budget_least_squares(X, y, c)
    sol = dual_ascent(p)
    lam = float(sol.multipliers["budget"])
    assert abs(lam - alpha) <= 1e-6 * alpha
    assert np.allclose(sol.x["w"], _ridge(X, y, alpha), rtol=1e-8, atol=1e-10)
    assert sol.status == Status.OPTIMAL and sol.kkt.certified
    check_solution(p.model, sol)
    assert sol.bound <= sol.objective + 1e-9 * sol.objective  # weak duality
    assert sol.gap <= 1e-6 * sol.objective
    # the shadow price of the budget: one more unit of squared norm lowers the loss by lambda
    assert np.isclose(float(sol.shadow_prices["budget"]), -lam)


def test_slack_budget_has_zero_multiplier_and_least_squares_solution() -> None:
    X, y = _data(1)
    w_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    p = norm_budget_least_squares(X, y, 2.0 * float(w_ls @ w_ls))
    sol = dual_ascent(p)
    assert float(sol.multipliers["budget"]) == 0.0  # complementarity
    assert np.allclose(sol.x["w"], w_ls, rtol=1e-10, atol=1e-12)
    assert sol.status == Status.OPTIMAL
    check_solution(p.model, sol)


def test_constant_steps_reach_the_same_multiplier() -> None:
    X, y = _data(2)
    w_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    c = 0.5 * float(w_ls @ w_ls)
    alpha = brentq(lambda a: float(_ridge(X, y, a) @ _ridge(X, y, a)) - c, 0.0, 1e8, xtol=1e-13)
    secant = dual_ascent(norm_budget_least_squares(X, y, c))
    const = dual_ascent(norm_budget_least_squares(X, y, c), step=2.0, max_iter=2000, tol=1e-10)
    assert abs(float(const.multipliers["budget"]) - alpha) <= 1e-6 * alpha
    assert secant.iterations < const.iterations  # the secant steps use the dual's curvature
    assert np.all(np.diff(const.history.bound) >= -1e-9)  # the best dual value never falls


def test_weight_budget_of_a_network_by_dual_ascent() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(16, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    p = nn_training.build(X, y, layers=[3], weight_decay=0.01)
    free = solve(p, "adjoint", method="lbfgs", epochs=500, tolerance=1e-9)
    norm_free = float(np.sum(free.x["W1"] ** 2))
    budget = 0.25 * norm_free
    add_weight_budget(p, "W1", budget)
    sol = dual_ascent(
        p, tol=1e-7, inner_options={"x0": {k: free.x[k] for k in "W1 b1 W2 b2".split()}}
    )
    mu = float(sol.multipliers["budget"])
    assert mu > 0 and np.isclose(float(np.sum(sol.x["W1"] ** 2)), budget, rtol=1e-6)
    assert sol.status == Status.OPTIMAL and sol.kkt.certified, sol.message
    check_solution(p.model, sol)  # stationarity in the weights includes mu * grad ||W1||^2
    assert set(sol.multipliers) == {"budget", "layer1", "layer2"}


def test_bad_requests_raise() -> None:
    X, y = _data()
    with pytest.raises(ModelError, match="non-negative"):
        norm_budget_least_squares(X, y, -1.0)
    with pytest.raises(ModelError, match="do not match"):
        norm_budget_least_squares(X, y[:5], 1.0)
    p = nn_training.build(X[:10, :2], (y[:10] > 0).astype(int), layers=[2])
    with pytest.raises(ModelError, match="nothing to relax"):
        dual_ascent(p)
    with pytest.raises(ModelError, match="unknown variable"):
        add_weight_budget(p, "W9", 1.0)
