"""Full-space network training (``admm`` and ``alm`` over the layer constraints).

Known answers: the block updates against brute force and independent solvers (a grid for the
one-dimensional pre-activation problems, scipy's minimiser for the loss's proximal map, numpy's
least squares for the weights); the two views meet: at convergence the full-space multipliers
equal the reduced-space ones at the same weights (backprop, ``ReducedSpace``) and the output
multiplier equals ``-(softmax(z_L) - Y) / N`` computed here by hand; digits (scikit-learn's 8x8
digits, seeded 80/20 split) trained to >= 90% test accuracy with the violation below 1e-3.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy.optimize import minimize

from ortools_lag import ModelError, OptionError, Solution, Status, Termination, solve
from ortools_lag.errors import NotSupportedError
from ortools_lag.model import Model
from ortools_lag.problems import nn_training
from ortools_lag.solvers import registry
from ortools_lag.solvers.nn.adjoint import ReducedSpace
from ortools_lag.solvers.nn.fullspace import (
    FullspaceAlmOptions,
    Network,
    is_network,
    train_alm,
    uses_layers,
)
from ortools_lag.solvers.nn.fullspace_blocks import (
    _a_update,
    _output_update,
    activation,
    forward,
    weight_update,
)

from .certificates import check_solution


def _small(n: int = 20, seed: int = 0, **kw) -> tuple[np.ndarray, np.ndarray, object]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    opts = {"layers": [3], "activation": "tanh", "weight_decay": 0.1, **kw}
    return X, y, nn_training.build(X, y, **opts)


def _digits(n_train: int | None = None):
    from sklearn.datasets import load_digits

    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    perm = np.random.default_rng(0).permutation(len(y))
    cut = int(0.8 * len(y))
    train, test = perm[:cut], perm[cut:]
    if n_train is not None:
        train = train[:n_train]
    return X[train], y[train], X[test], y[test]


# -- the block updates against independent answers ---------------------------------------------
@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softplus", "relu", "identity"])
def test_pre_activation_update_is_the_global_minimiser(name: str) -> None:
    rng = np.random.default_rng(1)
    u, v = rng.normal(scale=2.0, size=60), rng.normal(scale=1.5, size=60)
    a = _a_update(name, rng.normal(size=60), u, v)
    grid = np.linspace(-12, 12, 240001)
    for i in range(60):
        f = 0.5 * (grid - u[i]) ** 2 + 0.5 * (v[i] - activation(name, grid)[0]) ** 2
        mine = 0.5 * (a[i] - u[i]) ** 2 + 0.5 * (v[i] - activation(name, np.array([a[i]]))[0]) ** 2
        assert mine[0] <= f.min() + 1e-9


def test_activation_derivatives_match_finite_differences() -> None:
    a = np.linspace(-3, 3, 13) + 0.05
    for name in ("tanh", "sigmoid", "softplus"):
        s, d1, d2 = activation(name, a)
        h = 1e-6
        sp, sm = activation(name, a + h), activation(name, a - h)
        np.testing.assert_allclose(d1, (sp[0] - sm[0]) / (2 * h), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(d2, (sp[1] - sm[1]) / (2 * h), rtol=1e-6, atol=1e-8)
    with pytest.raises(ModelError, match="valid choices"):
        activation("swish", a)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_output_update_is_the_proximal_map_of_the_loss(loss: str) -> None:
    rng = np.random.default_rng(2)
    C, n, rho = 4, 5, 0.7
    Y = np.eye(C)[:, rng.integers(0, C, n)]
    lam, p, z0 = rng.normal(size=(C, n)), rng.normal(size=(C, n)), np.zeros((C, n))
    z = _output_update(loss, z0, Y, lam, p, rho)
    for j in range(n):

        def f(w: np.ndarray, j: int = j) -> float:
            if loss == "mse":
                val = 0.5 * np.sum((w - Y[:, j]) ** 2)
            else:
                val = np.log(np.sum(np.exp(w))) - w @ Y[:, j]
            return float(val + lam[:, j] @ (w - p[:, j]) + 0.5 * rho * np.sum((w - p[:, j]) ** 2))

        ref = minimize(f, np.zeros(C), method="BFGS", options={"gtol": 1e-12}).x
        np.testing.assert_allclose(z[:, j], ref, atol=1e-6)


def test_weight_update_is_ridge_least_squares() -> None:
    rng = np.random.default_rng(3)
    z, target, mult = rng.normal(size=(3, 40)), rng.normal(size=(2, 40)), rng.normal(size=(2, 40))
    rho, decay = 2.0, 0.5
    ext = np.vstack([z, np.ones((1, 40))])
    W, b = weight_update(
        [(ext @ ext.T, ext @ target.T, ext @ mult.T)], rho, decay, [np.zeros((2, 3))], [np.zeros(2)]
    )
    # min rho/2 |target + mult/rho - W z - b|^2 + decay/2 |W|^2 as one stacked least squares
    T = target + mult / rho
    A = np.vstack([np.sqrt(rho) * ext.T, np.hstack([np.sqrt(decay) * np.eye(3), np.zeros((3, 1))])])
    B = np.vstack([np.sqrt(rho) * T.T, np.zeros((3, 2))])
    ref = np.linalg.lstsq(A, B, rcond=None)[0]
    np.testing.assert_allclose(W[0], ref[:3].T, atol=1e-12)
    np.testing.assert_allclose(b[0], ref[3], atol=1e-12)


# -- the two views meet -----------------------------------------------------------------------
@functools.cache
def _converged(solver: str) -> Solution:
    """The small network trained to convergence (one hidden layer, 20 samples)."""
    _, _, p = _small()
    if solver == "admm":
        return solve(p, "admm", rho_rule="constant", rho=10.0, max_iter=4000, tolerance=1e-9)
    opts = FullspaceAlmOptions(
        rho=10.0,
        rho_growth=1.0001,
        max_iter=1500,
        inner_max_iter=3,
        inner_tolerance=1e-10,
        tolerance=1e-9,
    )
    return train_alm(p, opts)


@pytest.mark.parametrize("solver", ["admm", "alm"])
def test_full_space_multipliers_equal_backprop_at_convergence(solver: str) -> None:
    X, y, p = _small()
    sol = _converged(solver)
    assert sol.info["violation_max"] <= 1e-8
    theta = {k: v for k, v in sol.x.items() if k[0] in "Wb"}
    reduced = ReducedSpace(p.model, p.data.layering).evaluate(theta)
    for group, lam in reduced.multipliers.items():
        err = np.linalg.norm(sol.multipliers[group] - lam) / np.linalg.norm(lam)
        assert err <= 1e-4, (group, err)
    # the output layer by hand: lambda_L = -(softmax(z_L) - Y) / N
    zL = sol.x["z2"]
    s = np.exp(zL - zL.max(axis=0))
    s /= s.sum(axis=0)
    Y = np.eye(2)[:, y]
    np.testing.assert_allclose(sol.multipliers["layer2"], -(s - Y) / len(y), atol=1e-8)
    assert sol.kkt.stationarity <= 1e-5 and sol.kkt.primal_residual <= 1e-12
    local = solve(p, "adjoint", epochs=0, x0=theta, tolerance=1e-5)  # same weights, tol 1e-5
    assert local.kkt.certified  # the reduced space certifies the same weights
    check_solution(p.model, sol, duals=True, tol=1e-5)
    assert sol.history.violation[-1] <= 1e-8


def test_small_network_reaches_the_adjoint_optimum() -> None:
    """The same local minimum as the reduced-space solver (L-BFGS to a certified KKT point)."""
    _, _, p = _small()
    ref = solve(p, "adjoint", method="lbfgs", epochs=2000, tolerance=1e-7)
    assert ref.kkt.certified  # a KKT point of the reduced space
    for solver in ("admm", "alm"):
        sol = _converged(solver)
        assert sol.objective == pytest.approx(ref.objective, abs=1e-7)
        check_solution(p.model, sol, duals=False)


# -- digits --------------------------------------------------------------------------------------
def test_digits_subset_admm_and_alm_train_quickly() -> None:
    Xtr, ytr, Xte, yte = _digits(400)
    p = nn_training.build(Xtr, ytr, layers=[32], activation="tanh", weight_decay=1e-4)
    admm = solve(p, "admm", max_iter=300)
    alm = train_alm(p, FullspaceAlmOptions(max_iter=120))
    for sol in (admm, alm):
        assert p.decode(sol).accuracy(Xte, yte) >= 0.90
        assert sol.info["violation_max"] <= 1e-3
        assert sol.multipliers["layer1"].shape == (32, 400)
        assert len(sol.history) == sol.iterations and np.isfinite(sol.history.violation).all()
        assert sol.termination == Termination.ITERATION_LIMIT
        check_solution(p.model, sol, duals=False)
    assert {"primal_residual", "dual_residual", "rho", "violation_layer1"} <= set(
        admm.history.extra
    )


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["admm", "alm"])
def test_digits_full_space_reaches_90_percent(solver: str) -> None:
    Xtr, ytr, Xte, yte = _digits()
    p = nn_training.build(Xtr, ytr, layers=[64], activation="tanh", weight_decay=1e-4)
    ref = solve(p, "adjoint", method="adam", learning_rate=1e-2, epochs=25, batch_size=64)
    if solver == "admm":
        sol = solve(p, "admm", max_iter=300)
    else:
        sol = train_alm(p, FullspaceAlmOptions(max_iter=200))
    acc = p.decode(sol).accuracy(Xte, yte)
    assert acc >= 0.90 and acc >= p.decode(ref).accuracy(Xte, yte) - 0.03
    assert sol.info["violation_max"] <= 1e-3
    check_solution(p.model, sol, duals=False)


# -- executors, batches, warm starts, the reported point ----------------------------------------
def test_executors_give_the_same_iterates() -> None:
    from dask.distributed import Client

    _, _, p = _small(60)
    base = solve(p, "admm", max_iter=15)
    runs = {"threads": solve(p, "admm", max_iter=15, executor="threads", workers=2)}
    runs["processes"] = solve(p, "admm", max_iter=15, executor="processes", workers=2)
    with Client(processes=False, n_workers=1, threads_per_worker=2) as client:
        runs["dask"] = solve(p, "admm", max_iter=15, executor=client, shards=3)
    for name, sol in runs.items():
        assert sol.info["executor"] == name and sol.info["shards"] >= 2
        for k, v in base.x.items():
            np.testing.assert_allclose(sol.x[k], v, rtol=1e-9, atol=1e-12)
        for k, v in base.multipliers.items():
            np.testing.assert_allclose(sol.multipliers[k], v, rtol=1e-9, atol=1e-12)


def test_mini_batches_decrease_the_loss() -> None:
    _, _, p = _small(64)
    first = solve(p, "adjoint", epochs=0)
    sol = solve(p, "admm", max_iter=30, batch_size=16, seed=3)
    assert sol.info["batches"] == 4 and len(sol.history) == 30
    assert sol.objective < first.objective
    check_solution(p.model, sol, duals=False)


def test_warm_start_and_reported_point() -> None:
    _, _, p = _small()
    a = solve(p, "admm", max_iter=40, point="iterate")
    assert a.kkt.primal_residual > 0  # the iterate is not exactly on the layers
    b = solve(p, "admm", max_iter=1, warm_start=a, rho=a.info["rho"], rho_rule="constant")
    assert b.history.extra["loss"][0] == pytest.approx(a.history.extra["loss"][-1], rel=1e-2)
    c = solve(p, "admm", max_iter=40)  # the forward pass of the same weights
    np.testing.assert_allclose(c.x["W1"], a.x["W1"])
    assert c.kkt.primal_residual <= 1e-14 and c.status in (Status.FEASIBLE, Status.LOCALLY_OPTIMAL)
    _, out = forward(
        "tanh", [c.x["W1"], c.x["W2"]], [c.x["b1"], c.x["b2"]], p.data.layering.data["X"]
    )
    np.testing.assert_allclose(c.x["z2"], out[1])


def test_time_limit_and_callback() -> None:
    _, _, p = _small()
    sol = solve(p, "admm", max_iter=10**6, time_limit=0.3)
    assert sol.termination == Termination.TIME_LIMIT
    seen = []

    def stop(progress) -> bool:
        seen.append(progress.iteration)
        return progress.iteration >= 3

    sol = solve(p, "admm", callback=stop)
    assert sol.termination == Termination.CALLBACK and seen == [1, 2, 3]


# -- dispatch and errors ------------------------------------------------------------------------
@pytest.fixture
def alm_fullspace(monkeypatch: pytest.MonkeyPatch):
    """``alm`` registered as the full-space-aware solver (what the lead wires in registry.py)."""
    target = "ortools_lag.solvers.nn.fullspace:FullspaceAlmSolver"
    monkeypatch.setitem(registry.REGISTRY, "alm", target)
    registry.get.cache_clear()
    yield
    registry.get.cache_clear()


def test_alm_dispatches_networks_to_the_full_space_method(alm_fullspace) -> None:
    _, _, p = _small(30)
    sol = solve(p, "alm", inner="layers", max_iter=20, seed=1)
    assert sol.solver == "alm" and "full space" in sol.info["method"]
    # "auto": layers from layers_from variables on (digits: 110k), L-BFGS-B below
    assert not uses_layers(p, FullspaceAlmOptions()) and p.model.n < 5000
    assert uses_layers(p, FullspaceAlmOptions(layers_from=100))
    m = Model()
    x = m.var("x", 2, lb=None)
    m.minimize((x * x).sum())
    m.add("sum", x.sum() == 1)
    plain = solve(m, "alm")  # every other model: the general method of multipliers
    assert plain.status == Status.OPTIMAL and float(plain.multipliers["sum"]) == pytest.approx(-1)
    with pytest.raises(NotSupportedError, match="nn_training"):
        solve(m, "alm", inner="layers")
    with pytest.raises(OptionError, match="valid options"):
        solve(p, "alm", epochs=3)


def test_network_detection_and_errors() -> None:
    _, _, p = _small()
    assert is_network(p) and Network.from_problem(p).weight_decay == pytest.approx(0.1)
    m = Model()
    x = m.var("x", 2)
    m.minimize(x.sum())
    m.add("c", x.sum() >= 1)
    from ortools_lag.problem import Problem

    with pytest.raises(NotSupportedError, match="nn_training"):
        Network.from_problem(Problem(m))
    with pytest.raises(OptionError, match="valid options"):
        solve(p, "admm", epochs=3)
    with pytest.raises(ModelError, match="warm_start"):
        solve(p, "admm", warm_start="zeros")
