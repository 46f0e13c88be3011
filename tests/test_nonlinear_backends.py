"""Nonlinear models through the ``scipy`` backend and the ``alm`` dual method (full space).

Both see the model only through the expression protocol (``value``, ``jacobian``); their KKT
points must carry the multipliers that the layered back-substitution (``adjoint``) computes at
the same weights: the full-space and reduced-space views of one Lagrangian."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from ortools_lag import Model, Status, solve
from ortools_lag.model import functions as F
from ortools_lag.problems import nn_training
from ortools_lag.solvers.nn.adjoint import ReducedSpace

from .certificates import check_solution


def _link_model() -> Model:
    """min exp(x0) + (x1 - 1)^2  s.t.  tanh(x0) + tanh(x1) == 0.5."""
    m = Model()
    x = m.var("x", 2, lb=None)
    m.minimize(F.exp(x[0]) + F.square(x[1] - 1))
    m.add("link", F.tanh(x).sum() == 0.5)
    return m


def _link_answer() -> tuple[np.ndarray, float]:
    """By hand: x1 = artanh(0.5 - tanh x0), lam = -exp(x0) / (1 - tanh^2 x0), and the second
    stationarity equation 2 (x1 - 1) + lam (1 - tanh^2 x1) = 0 solved for x0."""

    def parts(x0: float) -> tuple[float, float]:
        return float(np.arctanh(0.5 - np.tanh(x0))), -np.exp(x0) / (1 - np.tanh(x0) ** 2)

    def resid(x0: float) -> float:
        x1, lam = parts(x0)
        return 2 * (x1 - 1) + lam * (1 - np.tanh(x1) ** 2)

    x0 = brentq(resid, -0.54, 0.4, xtol=1e-15)
    x1, lam = parts(x0)
    return np.array([x0, x1]), lam


@pytest.mark.parametrize("method", ["slsqp", "trust-constr"])
def test_scipy_solves_a_nonlinear_model(method: str) -> None:
    m = _link_model()
    x, lam = _link_answer()
    sol = solve(m, "scipy", method=method)
    assert sol.status == Status.LOCALLY_OPTIMAL, sol.message
    check_solution(m, sol)
    assert np.allclose(sol.x["x"], x, atol=1e-6)
    assert math.isclose(float(sol.multipliers["link"]), lam, rel_tol=1e-5)


def test_scipy_on_vieiras_example() -> None:
    m = Model("vieira")
    v = {k: m.var(k, lb=None) for k in "xabcdef"}
    m.minimize(v["f"])
    m.add("input", v["x"] == 0.3)
    m.add("a_def", v["a"] == F.exp(v["x"]))
    m.add("b_def", v["b"] == v["a"] ** 2)
    m.add("c_def", v["c"] == v["a"] + v["b"])
    m.add("d_def", v["d"] == F.exp(v["c"]))
    m.add("e_def", v["e"] == F.sin(v["c"]))
    m.add("f_def", v["f"] == v["d"] + v["e"])
    sol = solve(m, "scipy")
    assert sol.status == Status.LOCALLY_OPTIMAL
    check_solution(m, sol)
    assert math.isclose(float(sol.multipliers["input"]), -114.14044497283, rel_tol=1e-8)


def _small_network() -> tuple[object, object]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 2))
    y = (X[:, 0] > 0).astype(int)
    p = nn_training.build(X, y, layers=[2], weight_decay=0.1)
    ref = solve(p, "adjoint", method="lbfgs", epochs=500, tolerance=1e-10)
    return p, ref


def _reduced_multipliers(p, sol) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """The back-substitution's multipliers at the weights the full-space solver found."""
    space = ReducedSpace(p.model, p.data.layering)
    theta = {k: v for k, v in sol.x.items() if k[0] in "Wb"}
    return space.evaluate(theta).multipliers


def test_scipy_full_space_network_matches_the_adjoint_solution() -> None:
    p, ref = _small_network()
    rng = np.random.default_rng(1)
    x0 = {k: v + 0.05 * rng.normal(size=np.shape(v)) for k, v in ref.x.items()}
    sol = solve(p, "scipy", x0=x0, ftol=1e-15)  # SLSQP's ftol: its stopping test
    assert sol.status == Status.LOCALLY_OPTIMAL, sol.message
    check_solution(p.model, sol)
    assert math.isclose(sol.objective, ref.objective, rel_tol=1e-9)
    red = _reduced_multipliers(p, sol)
    for g in ("layer1", "layer2"):
        assert np.allclose(sol.multipliers[g], red[g], atol=1e-7)
        assert np.allclose(sol.multipliers[g], ref.multipliers[g], atol=1e-5)


def test_alm_on_nonlinear_models() -> None:
    m = _link_model()
    x, lam = _link_answer()
    sol = solve(m, "alm")
    assert sol.ok and sol.kkt.certified, sol.message
    check_solution(m, sol)
    assert np.allclose(sol.x["x"], x, atol=1e-6)
    assert math.isclose(float(sol.multipliers["link"]), lam, rel_tol=1e-5)

    p, _ = _small_network()
    net = solve(p, "alm")  # from the zero start: a KKT point of the full-space problem
    assert net.ok and net.kkt.certified, net.message
    check_solution(p.model, net)
    red = _reduced_multipliers(p, net)
    for g in ("layer1", "layer2"):
        assert np.allclose(net.multipliers[g], red[g], atol=1e-6)
