"""Nonlinear expressions: values against numpy's closed forms, derivatives against central finite
differences (step 1e-6, 1e-6 relative), the adjoint (vjp), tangent (jvp) and sparse Jacobian paths
against each other, on numpy arrays and on torch tensors."""

from __future__ import annotations

import numpy as np
import pytest

from ortools_lag import Model, ModelError, kkt
from ortools_lag.model import functions as F
from ortools_lag.model.functions import matmul
from ortools_lag.model.nonlinear import NonlinearExpr, as_nonlinear, data, jvp, vjp

STEP, RTOL = 1e-6, 1e-6

# name -> (our function, numpy reference, domain of the test points)
ELEMENTWISE = {
    "tanh": (F.tanh, np.tanh, (-2.0, 2.0)),
    "sigmoid": (F.sigmoid, lambda x: 1.0 / (1.0 + np.exp(-x)), (-3.0, 3.0)),
    "relu": (F.relu, lambda x: np.maximum(x, 0.0), (-2.0, 2.0)),
    "softplus": (F.softplus, lambda x: np.log1p(np.exp(x)), (-3.0, 3.0)),
    "exp": (F.exp, np.exp, (-1.0, 1.0)),
    "log": (F.log, np.log, (0.5, 3.0)),
    "sin": (F.sin, np.sin, (-3.0, 3.0)),
    "cos": (F.cos, np.cos, (-3.0, 3.0)),
    "square": (F.square, np.square, (-2.0, 2.0)),
    "sqrt": (F.sqrt, np.sqrt, (0.5, 3.0)),
    "abs": (F.abs, np.abs, (-2.0, 2.0)),
    "power3": (lambda x: F.power(x, 3), lambda x: x**3, (-2.0, 2.0)),
    "power-1.5": (lambda x: F.power(x, -1.5), lambda x: x**-1.5, (0.5, 2.0)),
}


def _points(lo: float, hi: float, size: int, seed: int = 0) -> np.ndarray:
    """Seeded points away from kinks (|x| > 0.1), as relu and abs need."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(lo, hi, size)
    return np.where(np.abs(x) < 0.1, x + 0.3, x)


def _fd_gradient(fun, z: np.ndarray) -> np.ndarray:
    """Central differences of a scalar function, one coordinate at a time."""
    g = np.zeros(len(z))
    for j in range(len(z)):
        d = 0 * z  # numpy or torch, like z
        d[j] = STEP
        g[j] = (fun(z + d) - fun(z - d)) / (2 * STEP)
    return g


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.ravel(a) - np.ravel(b)) / max(np.linalg.norm(b), 1e-300))


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_value_and_gradient_numpy(name: str) -> None:
    fun, ref, (lo, hi) = ELEMENTWISE[name]
    m = Model()
    x = m.var("x", 6, lb=None)
    w = np.linspace(0.5, 1.5, 6)
    e = (fun(x) * w).sum()  # weights make every entry's derivative count
    z = _points(lo, hi, 6)
    assert np.allclose(fun(x).value(z), ref(z), rtol=1e-14, atol=1e-14)
    fd = _fd_gradient(lambda v: float(np.sum(ref(v) * w)), z)
    assert _rel(e.vjp(z, 1.0), fd) <= RTOL
    assert _rel(np.asarray(e.jacobian(z, m.n).todense()).ravel(), fd) <= RTOL
    assert _rel(fun(x).jvp(z, np.ones(6)), np.ravel(fd / w)) <= RTOL


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_value_and_gradient_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    fun, ref, (lo, hi) = ELEMENTWISE[name]
    m = Model()
    x = m.var("x", 6, lb=None)
    w = np.linspace(0.5, 1.5, 6)
    e = (fun(x) * w).sum()
    z = torch.tensor(_points(lo, hi, 6, seed=1), dtype=torch.float64)
    val = fun(x).value(z)
    assert isinstance(val, torch.Tensor) and val.dtype == torch.float64
    assert np.allclose(val.numpy(), ref(z.numpy()), rtol=1e-14, atol=1e-14)
    g = e.vjp(z, torch.tensor(1.0, dtype=torch.float64))
    assert isinstance(g, torch.Tensor)
    fd = _fd_gradient(lambda v: float(e.value(v)[0]), z)  # our torch values, differenced
    assert _rel(g.numpy(), fd) <= RTOL


def test_graph_operations_against_finite_differences() -> None:
    m = Model()
    x = m.var("x", 3, lb=None)
    W = m.var("W", (2, 3), lb=None)
    Z = m.var("Z", (3, 4), lb=None)
    b = m.var("b", 2, lb=None)
    D = data("D", np.arange(12.0).reshape(3, 4) / 10)
    exprs = [
        F.exp(x).sum() + x[0] * x[1],
        W @ Z,
        F.sigmoid(W @ Z + b.reshape(2, 1)).sum(axis=0),
        x / (x + 5),
        F.softplus(x) * x,
        F.norm(W @ Z),
        F.norm(F.tanh(x), ord=1),
        F.softmax_cross_entropy(W @ Z, np.array([0, 1, 1, 0])),
        (W @ Z).T,
        x * x * x,
        F.relu(x) @ x,
        (W @ Z).mean(axis=1),
        W @ D,
        W.T @ F.tanh(b),
        F.tanh(x)[[0, 0, 2]] * 2,
        (W @ Z) * b.reshape(2, 1),
        1.0 / (2.0 + F.square(x)),
        F.mean(F.tanh(W)),
    ]
    rng = np.random.default_rng(0)
    z = rng.normal(size=m.n)
    for e in exprs:
        J = e.jacobian(z, m.n).toarray()
        Jfd = np.column_stack(
            [
                (e.value(z + STEP * np.eye(m.n)[j]) - e.value(z - STEP * np.eye(m.n)[j]))
                / (2 * STEP)
                for j in range(m.n)
            ]
        )
        assert _rel(J, Jfd) <= RTOL, e
        w, v = rng.normal(size=e.size), rng.normal(size=m.n)
        assert np.allclose(vjp(e, z, w), J.T @ w, rtol=1e-12, atol=1e-12), e
        assert np.allclose(jvp(e, z, v), J @ v, rtol=1e-12, atol=1e-12), e


def test_torch_evaluation_matches_numpy() -> None:
    torch = pytest.importorskip("torch")
    m = Model()
    W = m.var("W", (2, 3), lb=None)
    Z = m.var("Z", (3, 4), lb=None)
    b = m.var("b", 2, lb=None)
    e = F.softmax_cross_entropy(F.tanh(W @ Z + b.reshape(2, 1)), np.array([0, 1, 1, 0]))
    e = e + 0.5 * F.sum_squares(W) + (3 * b + 1).sum()  # quadratic and affine parts too
    z = np.random.default_rng(2).normal(size=m.n)
    zt = torch.tensor(z)
    assert abs(float(e.value(zt)[0]) - float(e.value(z)[0])) <= 1e-14
    w = torch.tensor(1.0, dtype=torch.float64)
    assert np.allclose(e.vjp(zt, w).numpy(), e.vjp(z, 1.0), rtol=1e-13, atol=1e-15)
    assert np.allclose(vjp(3 * W, zt, torch.ones(6, dtype=torch.float64)).numpy()[:6], 3.0)


def test_hooks_in_affine_expressions_build_graphs() -> None:
    m = Model()
    x = m.var("x", 2, lb=None)
    y = m.var("y", 2, lb=None)
    A = m.var("A", (2, 2), lb=None)
    z = np.array([1.0, 2.0, 3.0, 4.0, 0.5, -1.0, 2.0, 1.5])
    xv, yv, Av = z[:2], z[2:4], z[4:].reshape(2, 2)
    assert isinstance(x**3, NonlinearExpr) and np.allclose((x**3).value(z), xv**3)
    assert np.allclose((x / y).value(z), xv / yv)
    assert np.allclose((x * y * x).value(z), xv * yv * xv)  # degree 3
    assert np.allclose((A @ A).value(z), (Av @ Av).ravel())  # product of two blocks
    assert np.allclose((A @ F.tanh(x)).value(z), Av @ np.tanh(xv))
    assert np.allclose((2.0 + F.exp(x) - x).value(z), 2 + np.exp(xv) - xv)
    assert np.allclose((np.array([1.0, 2.0]) * F.exp(x)).value(z), [1, 2] * np.exp(xv))
    assert np.allclose((x - F.exp(x)).value(z), xv - np.exp(xv))
    c = y == F.exp(x)
    assert c.sense == "==" and np.allclose(c.body.value(z), yv - np.exp(xv))


def test_data_leaves_take_batches_of_any_size() -> None:
    m = Model()
    W = m.var("W", (2, 3), lb=None)
    b = m.var("b", 2, lb=None)
    X = data("X", np.ones((3, 5)))
    e = F.mean(F.tanh(W @ X + b.reshape(2, 1)).sum(axis=0))
    vals = {"W": np.full((2, 3), 0.1), "b": np.array([0.2, -0.3])}
    Xb = np.random.default_rng(0).normal(size=(3, 7))
    tape = e.forward(vals, {"X": Xb})
    ref = np.mean(np.tanh(vals["W"] @ Xb + vals["b"][:, None]).sum(axis=0))
    assert abs(float(tape.value) - ref) <= 1e-15
    grads = tape.backward()
    assert grads["W"].shape == (2, 3) and grads["b"].shape == (2,)


def test_shared_subexpressions_are_differentiated_once_per_use() -> None:
    m = Model()
    x = m.var("x", lb=None)
    u = F.exp(x)
    e = u * u + u  # u used three times: d/dx = 2 e^{2x} + e^x
    z = np.array([0.3])
    assert np.isclose(e.vjp(z, 1.0)[0], 2 * np.exp(0.6) + np.exp(0.3), rtol=1e-15)


def test_nonlinear_stationarity_in_kkt() -> None:
    """min exp(x0) + (x1 - 1)^2 s.t. tanh(x0) + tanh(x1) == 0.5, at a point solved by hand."""
    from scipy.optimize import brentq

    m = Model()
    x = m.var("x", 2, lb=None)
    m.minimize(F.exp(x[0]) + F.square(x[1] - 1))
    m.add("link", F.tanh(x).sum() == 0.5)

    # stationarity: exp(x0) + lam (1 - tanh^2 x0) = 0 and 2 (x1 - 1) + lam (1 - tanh^2 x1) = 0
    def x1_of(x0: float) -> float:
        return float(np.arctanh(0.5 - np.tanh(x0)))

    def lam_of(x0: float) -> float:
        return -np.exp(x0) / (1 - np.tanh(x0) ** 2)

    def resid(x0: float) -> float:
        x1 = x1_of(x0)
        return 2 * (x1 - 1) + lam_of(x0) * (1 - np.tanh(x1) ** 2)

    x0 = brentq(resid, -0.54, 0.4, xtol=1e-15)
    point = {"x": np.array([x0, x1_of(x0)])}
    rep = kkt.certify(m, point, {"link": lam_of(x0)}, tol=1e-9)
    assert rep.certified, rep.notes
    bad = kkt.certify(m, point, {"link": lam_of(x0) * 1.01}, tol=1e-9)
    assert not bad.certified and bad.stationarity > 1e-4


def test_errors_are_model_errors() -> None:
    m = Model()
    x = m.var("x", 3, lb=None)
    W = m.var("W", (2, 2), lb=None)
    with pytest.raises(ModelError, match="shape mismatch"):
        _ = F.exp(x) + np.ones(2)
    with pytest.raises(ModelError, match="shape mismatch in @"):
        _ = matmul(W, F.exp(x))
    with pytest.raises(ModelError, match="unsupported ord"):
        F.norm(F.exp(x), ord=3)
    with pytest.raises(ModelError, match="labels must lie"):
        F.softmax_cross_entropy(F.exp(W), np.array([0, 5]))
    with pytest.raises(ModelError, match="no value for variable"):
        F.exp(x).evaluate({})
    with pytest.raises(ModelError, match="axis"):
        F.exp(x).sum(axis=2)
    with pytest.raises(ModelError, match="not finite"):
        F.power(x, np.inf)
    assert as_nonlinear(2.0).degree == 3


def test_functions_on_plain_arrays_return_numbers() -> None:
    assert np.isclose(float(F.tanh(0.5)), np.tanh(0.5))
    assert np.isclose(float(F.softmax_cross_entropy(np.zeros((3, 2)), np.array([0, 2]))), np.log(3))
    assert F.norm(np.array([3.0, 4.0]), ord=1) == 7.0


@pytest.mark.gpu  # deselected by conftest.py where no CUDA device is present
def test_cuda_tensors_give_the_numpy_values_and_multipliers() -> None:
    import torch

    from ortools_lag.problems import nn_training
    from ortools_lag.solvers.nn.adjoint import ReducedSpace

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 6)), rng.integers(0, 3, size=50)
    p = nn_training.build(X, y, layers=[16, 8])
    space = ReducedSpace(p.model, p.data.layering)
    theta = p.data.layering.init(np.random.default_rng(1))
    ref = space.evaluate(theta)
    cuda = {k: torch.tensor(v, device="cuda") for k, v in theta.items()}
    data_cuda = {k: torch.tensor(v, device="cuda") for k, v in p.data.layering.data.items()}
    out = space.evaluate(cuda, data_cuda)
    assert abs(out.objective - ref.objective) <= 1e-12 * abs(ref.objective)
    for g, lam in ref.multipliers.items():
        assert out.multipliers[g].is_cuda
        assert _rel(out.multipliers[g].cpu().numpy(), lam) <= 1e-12
    for k, g in ref.gradient.items():
        assert _rel(out.gradient[k].cpu().numpy(), g) <= 1e-12
