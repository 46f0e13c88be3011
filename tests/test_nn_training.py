"""The ``nn_training`` problem and the ``adjoint`` solver: structure, optimisers, certificates,
and the digits acceptance test (our own multipliers, torch unimportable)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from ortools_lag import Model, ModelError, SpecError, Status, Termination, kkt, solve
from ortools_lag.errors import NotSupportedError
from ortools_lag.model import functions as F
from ortools_lag.problems import nn_training
from ortools_lag.solvers.nn.adjoint import ReducedSpace, certify_matrix_free, infer_layering

from .certificates import check_solution


def _xor(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def test_build_states_layers_as_equality_groups() -> None:
    X, y = _xor()
    p = nn_training.build(X, y, layers=[5, 3], activation="sigmoid")
    m = p.model
    assert p.kind == "nn_training" and p.default_solver == "adjoint"
    assert list(m.groups) == ["layer1", "layer2", "layer3"]
    assert {g.sense for g in m.groups.values()} == {"=="}
    shapes = {k: v.shape for k, v in m.variables.items()}
    assert shapes["W1"] == (5, 2) and shapes["b2"] == (3,) and shapes["z3"] == (2, 40)
    assert p.relaxation().relax == ("layer1", "layer2", "layer3")
    assert p.data.sizes == (2, 5, 3, 2)


def test_digits_adjoint_reaches_95_percent_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    from sklearn.datasets import load_digits

    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    with pytest.raises(ImportError):
        import torch  # noqa: F401
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    perm = np.random.default_rng(0).permutation(len(y))
    cut = int(0.8 * len(y))
    train, test = perm[:cut], perm[cut:]
    p = nn_training.build(X[train], y[train], layers=[64], activation="tanh")
    sol = solve(p, "adjoint", method="adam", learning_rate=1e-2, epochs=25, batch_size=64, seed=0)
    net = p.decode(sol)
    assert net.accuracy(X[test], y[test]) >= 0.95
    assert sol.termination == Termination.ITERATION_LIMIT and len(sol.history) == 25
    assert sol.multipliers["layer1"].shape == (64, cut) and sol.multipliers["layer2"].shape == (
        10,
        cut,
    )
    check_solution(p.model, sol, duals=False)
    assert sol.kkt.primal_residual <= 1e-12


def test_lbfgs_reaches_a_certified_kkt_point() -> None:
    X, y = _xor(30)
    p = nn_training.build(X, y, layers=[4], weight_decay=0.05)
    sol = solve(p, "adjoint", method="lbfgs", epochs=1000, tolerance=1e-7)
    # XOR with a hidden layer is not convex: a certified KKT point is locally optimal
    assert sol.status == Status.LOCALLY_OPTIMAL and sol.termination == Termination.CONVERGED
    assert sol.kkt.certified and sol.info["gradient_inf_norm"] <= 1e-7
    check_solution(p.model, sol, tol=1e-7)


@pytest.mark.parametrize("method", ["gd", "adam"])
def test_first_order_methods_decrease_the_loss(method: str) -> None:
    X, y = _xor(60, seed=1)
    p = nn_training.build(X, y, layers=[8])
    lr = 0.5 if method == "gd" else 0.05
    sol = solve(p, "adjoint", method=method, learning_rate=lr, momentum=0.0, epochs=30)
    first = solve(p, "adjoint", epochs=0)
    assert sol.objective < 0.8 * first.objective
    assert np.all(np.diff(sol.history.primal) < 1e-12) if method == "gd" else True
    mini = solve(p, "adjoint", method=method, learning_rate=lr / 5, epochs=10, batch_size=16)
    assert mini.objective < first.objective


def test_warm_start_and_time_limit() -> None:
    X, y = _xor()
    p = nn_training.build(X, y, layers=[4])
    a = solve(p, "adjoint", method="lbfgs", epochs=50)
    x0 = {k: v for k, v in a.x.items() if k[0] in "Wb"}
    b = solve(p, "adjoint", epochs=0, x0=x0)
    assert np.isclose(a.objective, b.objective, rtol=1e-12)
    c = solve(p, "adjoint", epochs=10**6, time_limit=0.2)
    assert c.termination == Termination.TIME_LIMIT


def test_matrix_free_certificate_agrees_with_kkt() -> None:
    X, y = _xor(20)
    p = nn_training.build(X, y, layers=[3], loss="mse")
    sol = solve(p, "adjoint", epochs=5, certificate="vjp")
    full = kkt.certify(p.model, dict(sol.x), dict(sol.multipliers), tol=1e-6)
    free = certify_matrix_free(p.model, dict(sol.x), dict(sol.multipliers), tol=1e-6)
    assert np.isclose(full.stationarity, free.stationarity, rtol=1e-12)
    assert np.isclose(full.primal_residual, free.primal_residual, atol=1e-15)
    assert np.isclose(sol.kkt.stationarity, free.stationarity, rtol=1e-12)


def test_decode_returns_a_predictor_of_class_scores() -> None:
    X, y = _xor()
    p = nn_training.build(X, y, layers=[6], activation="relu")
    sol = solve(p, "adjoint", method="lbfgs", epochs=100)
    net = p.decode(sol)
    scores = net(X[:7])
    W, b = sol.x, sol.x
    h = np.maximum(W["W1"] @ X[:7].T + b["b1"][:, None], 0)
    assert np.allclose(scores, (W["W2"] @ h + b["b2"][:, None]).T, rtol=1e-13)
    assert np.allclose(net(X).T, sol.x["z2"], rtol=1e-13)  # the training outputs themselves
    with pytest.raises(ModelError, match="shape"):
        net(np.ones((3, 5)))


def test_reduced_space_gradient_matches_finite_differences() -> None:
    X, y = _xor(15)
    p = nn_training.build(X, y, layers=[3], activation="softplus", weight_decay=0.1)
    space = ReducedSpace(p.model, p.data.layering)
    theta = p.data.layering.init(np.random.default_rng(0))
    g = space.evaluate(theta).gradient["W1"]
    fd = np.zeros_like(g)
    for idx in np.ndindex(g.shape):
        for s in (1, -1):
            t = {k: v.copy() for k, v in theta.items()}
            t["W1"][idx] += s * 1e-6
            fd[idx] += s * space.evaluate(t).objective / 2e-6
    assert np.linalg.norm(g - fd) <= 1e-6 * np.linalg.norm(fd)


def test_read_npz_and_csv(tmp_path) -> None:
    X, y = _xor(12)
    np.savez(tmp_path / "xor.npz", X=X, y=y)
    p = nn_training.read(tmp_path / "xor.npz", layers=[3])
    assert p.model.variables["z2"].shape == (2, 12)
    csv = tmp_path / "xor.csv"
    np.savetxt(csv, np.column_stack([X, y]), delimiter=",")
    assert nn_training.read(csv, layers=[2]).data.sizes == (2, 2, 2)
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,0\n3,x,1\n")
    with pytest.raises(SpecError, match=r"bad\.csv:2"):
        nn_training.read(bad)
    np.savez(tmp_path / "noy.npz", X=X)
    with pytest.raises(SpecError, match="'y' missing"):
        nn_training.read(tmp_path / "noy.npz")


def test_bad_input_raises_model_errors() -> None:
    X, y = _xor(10)
    with pytest.raises(ModelError, match="valid choices"):
        nn_training.build(X, y, activation="swish")
    with pytest.raises(ModelError, match="valid choices"):
        nn_training.build(X, y, loss="hinge")
    with pytest.raises(ModelError, match="integer labels"):
        nn_training.build(X, y + 0.5)
    with pytest.raises(ModelError, match="rows"):
        nn_training.build(X, y[:5])
    with pytest.raises(ModelError, match="positive"):
        nn_training.build(X, y, layers=[0])


def test_layering_is_inferred_for_plain_models() -> None:
    m = Model()
    x, u, v = (m.var(k, lb=None) for k in "xuv")
    m.minimize(v)
    m.add("v_def", v == F.sin(u) * u)  # stated before the group it depends on
    m.add("u_def", u == F.exp(x))
    m.add("x_def", x == 1.0)
    steps = infer_layering(m).steps
    assert [s.group for s in steps] == ["x_def", "u_def", "v_def"]
    sol = solve(m, "adjoint")
    e = np.e
    assert np.isclose(float(sol.multipliers["x_def"]), -(np.cos(e) * e + np.sin(e)) * e, rtol=1e-13)

    cyc = Model()
    a, b = cyc.var("a", lb=None), cyc.var("b", lb=None)
    cyc.minimize(a)
    cyc.add("a_def", a == F.exp(b))
    cyc.add("b_def", b == F.tanh(a))
    with pytest.raises(NotSupportedError, match="depend on each other"):
        solve(cyc, "adjoint")
    ineq = Model()
    w = ineq.var("w", 2, lb=None)
    ineq.minimize(F.sum_squares(w - 1.0))
    ineq.add("budget", F.sum_squares(w) <= 1.0)
    with pytest.raises(ModelError, match="not layers"):
        solve(ineq, "adjoint")
    sol = solve(ineq, "adjoint", method="lbfgs", multipliers={"budget": 1.0})
    assert np.allclose(sol.x["w"], 0.5, atol=1e-7)  # argmin |w-1|^2 + |w|^2
