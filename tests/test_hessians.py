"""Second derivatives of nonlinear expressions: ``hessian(w, n, z)`` and ``hvp(z, w, v)``.

Every case (elementwise functions, products and quotients, matrix products, quadratic forms
written as graphs, the losses of ``ortools_lag.model.functions``, layer constraints of
``ortools_lag.problems.nn_training``) is checked against central finite differences of the
gradient (``vjp``, Richardson-extrapolated) and against ``torch.autograd.functional.hessian``
(float64), to 1e-7 relative (largest entry error over largest entry); the sparse Hessian must
be exactly symmetric, its structural pattern a superset of the nonzeros, its products equal to
``hvp``. Then: the pattern is computed once per expression, a Hessian takes one product per
colour (few for the sparse Hessians of full-space training), the star colouring recovers any
matrix of its pattern, and the NLP protocol (``ModelFunctions.hess`` / ``rows_hess``) returns the
finite-difference Hessians of a nonlinear model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from ortools_lag import Model, ModelError
from ortools_lag.model import QuadExpr
from ortools_lag.model import functions as F
from ortools_lag.model import hessian as hessian_module
from ortools_lag.model.elementwise import Elementwise
from ortools_lag.model.nonlinear import NonlinearExpr, apply_unary, as_nonlinear, data, matmul
from ortools_lag.model.ops import ones_pattern
from ortools_lag.model.tape import Tape
from ortools_lag.problems import nn_training
from ortools_lag.solvers.backends.nlp_functions import ModelFunctions, has_hessian

RTOL = 1e-7
STEP = 1e-3  # Richardson's extrapolation of central differences: error O(STEP^4)


# -- references ---------------------------------------------------------------------------------
def _rel(a: np.ndarray, ref: np.ndarray) -> float:
    """Largest entry error over the largest reference entry."""
    scale = max(float(np.abs(ref).max(initial=0.0)), 1e-300)
    return float(np.abs(np.asarray(a) - ref).max(initial=0.0)) / scale


def _fd_jacobian(grad: Callable[[np.ndarray], np.ndarray], z: np.ndarray) -> np.ndarray:
    """Columns ``d grad / d z_j`` by central differences, Richardson-extrapolated (two steps)."""

    def central(h: float, j: int) -> np.ndarray:
        d = np.zeros_like(z)
        d[j] = h
        return (grad(z + d) - grad(z - d)) / (2 * h)

    cols = [(4 * central(STEP / 2, j) - central(STEP, j)) / 3 for j in range(len(z))]
    return np.column_stack(cols)


def fd_hessian(e: Any, z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The Hessian of ``w . e`` from finite differences of its gradient ``e.vjp(z, w)``."""
    return _fd_jacobian(lambda x: as_nonlinear(e).vjp(x, w), z)


def torch_hessian(fn: Callable[..., Any], z: np.ndarray) -> np.ndarray:
    """``torch.autograd.functional.hessian`` of ``fn(torch, z)`` in float64."""
    torch = pytest.importorskip("torch")
    zt = torch.tensor(z, dtype=torch.float64)
    return torch.autograd.functional.hessian(lambda x: fn(torch, x), zt).numpy()


def _block(zt: Any, v: Any) -> Any:
    """Variable ``v`` of the flat vector ``zt`` in its shape (numpy or torch)."""
    return zt[v.offset : v.offset + v.size].reshape(v.shape)


@dataclass
class Case:
    """An expression, a point, weights on its entries and the torch form of ``w . e(z)``."""

    expr: NonlinearExpr
    z: np.ndarray
    w: np.ndarray
    torch_fn: Callable[..., Any]

    @property
    def n(self) -> int:
        return len(self.z)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# -- cases: elementwise functions ---------------------------------------------------------------
# name -> (our function, torch function, domain of the points)
ELEMENTWISE: dict[str, tuple[Callable[[Any], Any], Callable[[Any, Any], Any], tuple]] = {
    "tanh": (F.tanh, lambda T, x: T.tanh(x), (-1.5, 1.5)),
    "sigmoid": (F.sigmoid, lambda T, x: T.sigmoid(x), (-2.0, 2.0)),
    "relu": (F.relu, lambda T, x: T.relu(x), (-2.0, 2.0)),
    "softplus": (F.softplus, lambda T, x: T.nn.functional.softplus(x), (-2.0, 2.0)),
    "exp": (F.exp, lambda T, x: T.exp(x), (-1.0, 1.0)),
    "log": (F.log, lambda T, x: T.log(x), (0.5, 2.0)),
    "sin": (F.sin, lambda T, x: T.sin(x), (-2.0, 2.0)),
    "cos": (F.cos, lambda T, x: T.cos(x), (-2.0, 2.0)),
    "square": (F.square, lambda T, x: x * x, (-2.0, 2.0)),
    "sqrt": (F.sqrt, lambda T, x: T.sqrt(x), (0.5, 2.0)),
    "abs": (F.abs, lambda T, x: T.abs(x), (-2.0, 2.0)),
    "power3": (lambda x: F.power(x, 3), lambda T, x: x**3, (-1.5, 1.5)),
    "power2.5": (lambda x: F.power(x, 2.5), lambda T, x: x**2.5, (0.5, 2.0)),
    "power-1.5": (lambda x: F.power(x, -1.5), lambda T, x: x**-1.5, (0.5, 2.0)),
    "power1": (lambda x: F.power(x, 1), lambda T, x: x, (-2.0, 2.0)),
}


def _elementwise_case(name: str) -> Case:
    """``f(u) * x`` (vector-valued, weighted) with ``u = x + 0.2 A x`` (couples all entries),
    at points away from the kinks of relu and abs (``|u| > 0.1``)."""
    fun, tfun, (lo, hi) = ELEMENTWISE[name]
    m = Model()
    x = m.var("x", 5, lb=None)
    rng = _rng(1)
    A = rng.uniform(0.0, 1.0, (5, 5)) / 5
    while True:
        z = rng.uniform(lo, hi, 5)
        u = z + 0.2 * A @ z
        if np.abs(u).min() > 0.1 and np.abs(z).min() > 0.1:
            break
    expr = fun(x + 0.2 * (A @ x)) * x
    w = rng.normal(size=5)
    At, wt = A, w

    def torch_fn(T: Any, zt: Any) -> Any:
        return (T.tensor(wt) * tfun(T, zt + 0.2 * T.tensor(At) @ zt) * zt).sum()

    return Case(expr, z, w, torch_fn)


# -- cases: products, quotients, matrix products, quadratic forms --------------------------------
def _product() -> Case:
    m = Model()
    x, y = m.var("x", 4, lb=None), m.var("y", 3, lb=None)
    rng = _rng(2)
    z = rng.uniform(-1.0, 1.0, m.n)
    expr = F.exp(x[:3]) * F.sin(y) * x[1:]  # three factors, two blocks
    w = rng.normal(size=3)

    def torch_fn(T: Any, zt: Any) -> Any:
        xt, yt = _block(zt, x), _block(zt, y)
        return (T.tensor(w) * T.exp(xt[:3]) * T.sin(yt) * xt[1:]).sum()

    return Case(expr, z, w, torch_fn)


def _broadcast_product() -> Case:
    m = Model()
    x, y = m.var("x", (3, 1), lb=None), m.var("y", (1, 4), lb=None)
    rng = _rng(3)
    z = rng.uniform(-1.0, 1.0, m.n)
    expr = F.tanh(as_nonlinear(x) * y) * y  # (3, 4) by broadcasting
    w = rng.normal(size=12)

    def torch_fn(T: Any, zt: Any) -> Any:
        xt, yt = _block(zt, x), _block(zt, y)
        return (T.tensor(w.reshape(3, 4)) * T.tanh(xt * yt) * yt).sum()

    return Case(expr, z, w, torch_fn)


def _quotient() -> Case:
    m = Model()
    x, y = m.var("x", 3, lb=None), m.var("y", 3, lb=None)
    rng = _rng(4)
    z = np.concatenate([rng.uniform(-1.0, 1.0, 3), rng.uniform(0.5, 2.0, 3)])
    expr = F.exp(x) / (1.0 + F.square(y)) + as_nonlinear(x) / y + 2.0 / as_nonlinear(x + y + 3.0)
    w = rng.normal(size=3)

    def torch_fn(T: Any, zt: Any) -> Any:
        xt, yt = _block(zt, x), _block(zt, y)
        val = T.exp(xt) / (1.0 + yt * yt) + xt / yt + 2.0 / (xt + yt + 3.0)
        return (T.tensor(w) * val).sum()

    return Case(expr, z, w, torch_fn)


def _matmul_vector() -> Case:
    m = Model()
    W, x = m.var("W", (3, 4), lb=None), m.var("x", 4, lb=None)
    rng = _rng(5)
    z = rng.normal(size=m.n)
    expr = matmul(W, x)  # bilinear: W[i, j] meets x[j]
    w = rng.normal(size=3)

    def torch_fn(T: Any, zt: Any) -> Any:
        return (T.tensor(w) * (_block(zt, W) @ _block(zt, x))).sum()

    return Case(expr, z, w, torch_fn)


def _matmul_matrix() -> Case:
    m = Model()
    W, Z, u = m.var("W", (2, 3), lb=None), m.var("Z", (3, 4), lb=None), m.var("u", 3, lb=None)
    rng = _rng(6)
    z = 0.5 * rng.normal(size=m.n)
    expr = F.tanh(matmul(W, Z)) + matmul(u, Z).reshape(1, 4) * 0.5  # 2-D @ 2-D and 1-D @ 2-D
    w = rng.normal(size=8)

    def torch_fn(T: Any, zt: Any) -> Any:
        Wt, Zt, ut = _block(zt, W), _block(zt, Z), _block(zt, u)
        val = T.tanh(Wt @ Zt) + (ut @ Zt).reshape(1, 4) * 0.5
        return (T.tensor(w.reshape(2, 4)) * val).sum()

    return Case(expr, z, w, torch_fn)


def _matmul_transpose() -> Case:
    m = Model()
    W = m.var("W", (3, 2), lb=None)
    rng = _rng(7)
    z = rng.normal(size=m.n)
    expr = F.sin(matmul(as_nonlinear(W).T, W))  # W^T W: both operands one block
    w = rng.normal(size=4)

    def torch_fn(T: Any, zt: Any) -> Any:
        Wt = _block(zt, W)
        return (T.tensor(w.reshape(2, 2)) * T.sin(Wt.T @ Wt)).sum()

    return Case(expr, z, w, torch_fn)


def _quad_form_graph() -> Case:
    """``x @ Q @ x + c x0 x1`` of the polynomial algebra, as a graph (``as_nonlinear``)."""
    m = Model()
    x = m.var("x", 4, lb=None)
    rng = _rng(8)
    Q = rng.normal(size=(4, 4))
    z = rng.normal(size=4)
    quad = x @ Q @ x + 3.0 * x[0] * x[1]
    expr = as_nonlinear(quad)
    w = np.array([1.5])

    def torch_fn(T: Any, zt: Any) -> Any:
        return 1.5 * (zt @ T.tensor(Q) @ zt + 3.0 * zt[0] * zt[1])

    return Case(expr, z, w, torch_fn)


def _quad_form_matmul() -> Case:
    """``x @ (Q @ x)`` and ``sum((A x - b)^2)`` built with graph operations."""
    m = Model()
    x = m.var("x", 4, lb=None)
    rng = _rng(9)
    Q, A, b = rng.normal(size=(4, 4)), rng.normal(size=(3, 4)), rng.normal(size=3)
    z = rng.normal(size=4)
    expr = matmul(x, matmul(Q, x)) + F.square(as_nonlinear(A @ x) - b).sum()
    w = np.array([-0.7])

    def torch_fn(T: Any, zt: Any) -> Any:
        r = T.tensor(A) @ zt - T.tensor(b)
        return -0.7 * (zt @ (T.tensor(Q) @ zt) + (r * r).sum())

    return Case(expr, z, w, torch_fn)


# -- cases: losses and networks -----------------------------------------------------------------
def _net(seed: int) -> tuple[Model, Any, Any, np.ndarray, np.ndarray, np.ndarray]:
    """A layer ``W @ X + b`` on data ``X`` (4 x 6), labels of 3 classes, targets ``Y``."""
    m = Model()
    W, b = m.var("W", (3, 4), lb=None), m.var("b", 3, lb=None)
    rng = _rng(seed)
    X = rng.normal(size=(4, 6))
    labels = rng.integers(0, 3, 6)
    return m, W, b, X, labels, F.one_hot(labels, 3)


def _loss_case(name: str) -> Case:
    m, W, b, X, labels, Y = _net(10)
    rng = _rng(11)
    z = 0.5 * rng.normal(size=m.n)
    S = matmul(W, data("X", X)) + b.reshape(3, 1)
    w = np.array([1.0])
    Xt, Yt = X, Y

    def scores(T: Any, zt: Any) -> Any:
        return _block(zt, W) @ T.tensor(Xt) + _block(zt, b).reshape(3, 1)

    def sce(T: Any, s: Any, t: Any, axis: int) -> Any:
        return (t * (T.logsumexp(s, axis, keepdim=True) - s)).sum()

    if name == "mean":
        expr = F.mean(F.tanh(S))
        fn = lambda T, zt: T.tanh(scores(T, zt)).mean()  # noqa: E731
    elif name == "mean_axis":  # vector-valued: one mean per sample, weighted
        expr = F.mean(F.square(F.tanh(S)), axis=0)
        w = rng.normal(size=6)
        fn = lambda T, zt: (T.tensor(w) * T.tanh(scores(T, zt)).square().mean(0)).sum()  # noqa: E731
    elif name == "sum_squares":
        expr = F.sum_squares(F.sigmoid(S) - Y)
        fn = lambda T, zt: ((T.sigmoid(scores(T, zt)) - T.tensor(Yt)) ** 2).sum()  # noqa: E731
    elif name == "norm2":
        expr = F.norm(F.tanh(S) - Y)
        fn = lambda T, zt: T.linalg.norm(T.tanh(scores(T, zt)) - T.tensor(Yt))  # noqa: E731
    elif name == "norm1":  # away from the kinks: tanh(S) - 0.01 has no zero entry here
        expr = F.norm(F.tanh(S) - 0.01, ord=1)
        fn = lambda T, zt: (T.tanh(scores(T, zt)) - 0.01).abs().sum()  # noqa: E731
    elif name == "sce_axis0":
        expr = F.softmax_cross_entropy(S, labels)
        fn = lambda T, zt: sce(T, scores(T, zt), T.tensor(Yt), 0) / 6  # noqa: E731
    elif name == "sce_axis1_sum":
        expr = F.softmax_cross_entropy(S.T, labels, axis=1, reduction="sum")
        fn = lambda T, zt: sce(T, scores(T, zt).T, T.tensor(Yt).T, 1)  # noqa: E731
    elif name == "sce_expression_targets":  # soft targets that are expressions: s-t coupling
        V = m.var("V", (3, 6), lb=None)
        z = 0.5 * rng.normal(size=m.n)
        expr = F.softmax_cross_entropy(F.tanh(S), F.sigmoid(V))

        def fn(T: Any, zt: Any) -> Any:
            return sce(T, T.tanh(scores(T, zt)), T.sigmoid(_block(zt, V)), 0) / 6

    else:
        raise AssertionError(name)
    return Case(expr, z, w, fn)


def _mlp() -> Case:
    """Reduced-space training loss: SCE of a two-layer tanh network, with weight decay."""
    m, W, b, X, labels, Y = _net(12)
    W2, b2 = m.var("W2", (3, 3), lb=None), m.var("b2", 3, lb=None)
    rng = _rng(13)
    z = 0.5 * rng.normal(size=m.n)
    hidden = F.tanh(matmul(W, data("X", X)) + b.reshape(3, 1))
    expr = F.softmax_cross_entropy(matmul(W2, hidden) + b2.reshape(3, 1), labels)
    expr = expr + 0.05 * F.sum_squares(W) + 0.05 * F.sum_squares(W2)

    def fn(T: Any, zt: Any) -> Any:
        h = T.tanh(_block(zt, W) @ T.tensor(X) + _block(zt, b).reshape(3, 1))
        s = _block(zt, W2) @ h + _block(zt, b2).reshape(3, 1)
        loss = (T.tensor(Y) * (T.logsumexp(s, 0, keepdim=True) - s)).sum() / 6
        return loss + 0.05 * (_block(zt, W) ** 2).sum() + 0.05 * (_block(zt, W2) ** 2).sum()

    return Case(as_nonlinear(expr), z, np.array([1.0]), fn)


def _nn_problem(activation: str = "tanh") -> Any:
    rng = _rng(14)
    X = rng.normal(size=(5, 2))
    y = np.array([0, 1, 2, 1, 0])
    return nn_training.build(X, y, layers=[3], activation=activation, weight_decay=0.1)


def _nn_layer(group: str, activation: str) -> Case:
    """A layer constraint ``z_l - sigma(W_l z_{l-1} + b_l)`` of ``nn_training`` (weighted)."""
    p = _nn_problem(activation)
    m = p.model
    body = p.model.groups[group].body
    V = m.variables
    rng = _rng(15)
    z = 0.5 * rng.normal(size=m.n)
    w = rng.normal(size=body.size)
    X = np.ascontiguousarray(p.data.layering.data["X"])
    act = {"tanh": lambda T, u: T.tanh(u), "softplus": lambda T, u: T.nn.functional.softplus(u)}

    def fn(T: Any, zt: Any) -> Any:
        if group == "layer1":
            u = _block(zt, V["W1"]) @ T.tensor(X) + _block(zt, V["b1"]).reshape(3, 1)
            val = _block(zt, V["z1"]) - act[activation](T, u)
        else:
            u = _block(zt, V["W2"]) @ _block(zt, V["z1"]) + _block(zt, V["b2"]).reshape(3, 1)
            val = _block(zt, V["z2"]) - u
        return (T.tensor(w.reshape(val.shape)) * val).sum()

    return Case(as_nonlinear(body), z, w, fn)


CASES: dict[str, Callable[[], Case]] = {
    **{f"elementwise_{k}": functools.partial(_elementwise_case, k) for k in ELEMENTWISE},
    "product": _product,
    "broadcast_product": _broadcast_product,
    "quotient": _quotient,
    "matmul_vector": _matmul_vector,
    "matmul_matrix": _matmul_matrix,
    "matmul_transpose": _matmul_transpose,
    "quad_form_graph": _quad_form_graph,
    "quad_form_matmul": _quad_form_matmul,
    **{
        f"loss_{k}": functools.partial(_loss_case, k)
        for k in (
            "mean",
            "mean_axis",
            "sum_squares",
            "norm2",
            "norm1",
            "sce_axis0",
            "sce_axis1_sum",
            "sce_expression_targets",
        )
    },
    "mlp": _mlp,
    "nn_layer1_tanh": lambda: _nn_layer("layer1", "tanh"),
    "nn_layer1_softplus": lambda: _nn_layer("layer1", "softplus"),
    "nn_layer2": lambda: _nn_layer("layer2", "tanh"),
}


# -- the checks ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CASES))
def test_hessian_matches_finite_differences(name: str) -> None:
    """(a) The sparse Hessian against differences of the gradient; symmetric; its pattern
    covers every nonzero; ``hvp`` equals ``hessian @ v``."""
    c = CASES[name]()
    H = c.expr.hessian(c.w, c.n, c.z)
    assert isinstance(H, sp.csr_matrix) and H.shape == (c.n, c.n)
    assert (H != H.T).nnz == 0  # exactly symmetric
    ref = fd_hessian(c.expr, c.z, c.w)
    assert _rel(H.toarray(), ref) <= RTOL
    pattern = c.expr.hessian_pattern(c.n).toarray() != 0
    assert not np.any((np.abs(ref) > 1e-6 * np.abs(ref).max()) & ~pattern)
    assert not np.any((H.toarray() != 0) & ~pattern)
    v = _rng(99).normal(size=c.n)
    np.testing.assert_allclose(c.expr.hvp(c.z, c.w, v), H @ v, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hessian_matches_torch(name: str) -> None:
    """(b) The sparse Hessian against ``torch.autograd.functional.hessian`` (float64)."""
    pytest.importorskip("torch")
    c = CASES[name]()
    H = c.expr.hessian(c.w, c.n, c.z).toarray()
    ref = torch_hessian(c.torch_fn, c.z)
    assert np.abs(ref).max() > 0
    assert _rel(H, ref) <= RTOL


def test_hvp_on_torch_tensors_matches_numpy() -> None:
    torch = pytest.importorskip("torch")
    c = _mlp()
    v = _rng(1).normal(size=c.n)
    out = c.expr.hvp(torch.tensor(c.z), torch.tensor(c.w), torch.tensor(v))
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), c.expr.hvp(c.z, c.w, v), rtol=1e-12, atol=1e-14)


def test_quadratic_graph_equals_the_quadratic_hessian() -> None:
    """A quadratic form as a graph has the (constant) Hessian of the polynomial algebra."""
    m = Model()
    x = m.var("x", 4, lb=None)
    Q = _rng(8).normal(size=(4, 4))
    quad = x @ Q @ x + 3.0 * x[0] * x[1]
    assert isinstance(quad, QuadExpr)
    exact = quad.hessian(np.array([2.0]), 4).toarray()
    for z in (np.zeros(4), _rng(0).normal(size=4)):
        H = as_nonlinear(quad).hessian(np.array([2.0]), 4, z).toarray()
        np.testing.assert_allclose(H, exact, rtol=1e-14, atol=1e-14)


def test_weights_on_a_vector_expression_are_linear() -> None:
    """``H(w1 + 2 w2) = H(w1) + 2 H(w2)``, and ``H(e_i)`` is the Hessian of entry ``i``."""
    c = _elementwise_case("tanh")
    w1, w2 = _rng(1).normal(size=5), _rng(2).normal(size=5)
    H = lambda w: c.expr.hessian(w, c.n, c.z).toarray()  # noqa: E731
    np.testing.assert_allclose(H(w1 + 2 * w2), H(w1) + 2 * H(w2), rtol=1e-12, atol=1e-13)
    entry = c.expr[2]
    assert isinstance(entry, NonlinearExpr)
    np.testing.assert_allclose(
        H(np.eye(5)[2]), entry.hessian(np.ones(1), c.n, c.z).toarray(), rtol=1e-13, atol=1e-15
    )


def test_relu_and_abs_are_flat_away_from_the_kink() -> None:
    """Piecewise linear functions: zero second derivative, no couplings in the pattern."""
    m = Model()
    x = m.var("x", 4, lb=None)
    z = np.array([-1.0, 0.5, 2.0, -0.3])
    for f in (F.relu, F.abs):
        e = f(x + 0.5 * x[::-1]).sum()
        assert e.hessian_structure().pattern.nnz == 0
        assert e.hessian(np.ones(1), 4, z).nnz == 0
        np.testing.assert_array_equal(e.hvp(z, 1.0, np.ones(4)), np.zeros(4))


def test_a_function_without_a_second_derivative_is_an_error() -> None:
    m = Model()
    x = m.var("x", 3, lb=None)
    op = Elementwise("cube", lambda xp, v: v**3, lambda xp, v, y: 3 * v**2)
    e = apply_unary(op, x).sum()
    with pytest.raises(ModelError, match="second derivative"):
        e.hessian(np.ones(1), 3, np.ones(3))


def test_pattern_is_computed_once_per_expression(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    original = hessian_module.sparsity_pattern

    def counted(*args: Any, **kwargs: Any) -> sp.csr_matrix:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(hessian_module, "sparsity_pattern", counted)
    c = _mlp()
    rng = _rng(3)
    for _ in range(3):
        c.expr.hessian(rng.normal(size=1), c.n, rng.normal(size=c.n))
    c.expr.hessian_pattern(c.n)
    assert len(calls) == 1
    p = _nn_problem()
    fn = ModelFunctions(p.model)
    for _ in range(3):
        z = rng.normal(size=fn.n)
        fn.hess(z)
        fn.rows_hess(z, rng.normal(size=fn.m))
    assert len(calls) == 1 + 1 + len(p.model.groups)  # the objective, then each group once


def test_a_hessian_takes_one_product_per_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """Full-space training: the loss is block diagonal (one block per sample), the layers
    bipartite between weights and layer values. A handful of colours serve thousands of
    variables; one forward pass per Hessian, one ``Tape.hvp`` per colour."""
    rng = _rng(5)
    X = rng.normal(size=(200, 3))
    y = rng.integers(0, 4, 200)
    p = nn_training.build(X, y, layers=[8], activation="tanh", weight_decay=0.1)
    m = p.model
    counts = {"hvp": 0}
    original = Tape.hvp

    def counted(self: Tape, *args: Any, **kwargs: Any) -> Any:
        counts["hvp"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Tape, "hvp", counted)
    exprs = [as_nonlinear(m.objective)] + [as_nonlinear(g.body) for g in m.groups.values()]
    z = 0.3 * rng.normal(size=m.n)
    for e in exprs:
        st = e.hessian_structure()
        counts["hvp"] = 0
        H = e.hessian(rng.normal(size=e.size), m.n, z)
        assert counts["hvp"] == st.n_colors
        assert st.n_colors <= 5 < st.size // 100  # at most classes + 1 colours
        assert H.nnz <= st.pattern.nnz


def _star_ok(P: sp.csr_matrix, colors: np.ndarray) -> None:
    """Recovering a random matrix with pattern ``P`` from ``H S`` is exact."""
    rng = _rng(0)
    U = sp.triu(P, format="coo")
    H = sp.coo_matrix((rng.normal(size=U.nnz), (U.row, U.col)), shape=P.shape)
    H = sp.csr_matrix(H + sp.triu(H, 1).T)
    k = int(colors.max()) + 1
    S = np.zeros((P.shape[0], k))
    S[colors >= 0, colors[colors >= 0]] = 1.0
    B = H @ S
    vals = B.reshape(-1)[hessian_module.recovery_index(P, colors)]
    R = sp.csr_matrix((vals, P.indices, P.indptr), shape=P.shape)
    np.testing.assert_array_equal(R.toarray(), H.toarray())


@pytest.mark.parametrize("seed", range(4))
def test_star_colouring_recovers_any_matrix_of_its_pattern(seed: int) -> None:
    rng = _rng(seed)
    n = 60
    A = sp.random(n, n, density=0.05, random_state=rng, format="csr")
    P = ones_pattern(A + A.T + sp.diags(rng.integers(0, 2, n).astype(float)))
    colors = hessian_module.star_coloring(P)
    used = np.diff(P.indptr) > 0
    assert np.all(colors[used] >= 0) and np.all(colors[~used] == -1)
    assert colors.max() + 1 < n // 2  # far fewer products than columns
    _star_ok(P, colors)


def test_star_colouring_of_chains_arrows_and_dense_patterns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    n = 30
    chain = ones_pattern(sp.diags([1.0, 1.0, 1.0], [-1, 0, 1], shape=(n, n)))
    arrow = sp.lil_matrix((n, n))
    arrow[0, :] = 1
    arrow[:, 0] = 1
    arrow.setdiag(1)
    arrow = ones_pattern(arrow)
    for P, most in ((chain, 3), (arrow, 2)):
        colors = hessian_module.star_coloring(P)
        assert colors.max() + 1 <= most
        _star_ok(P, colors)
    dense = ones_pattern(np.ones((n, n)))
    monkeypatch.setattr(hessian_module, "MAX_WORK", 0)  # dense and large: one colour each
    colors = hessian_module.star_coloring(dense)
    assert sorted(colors) == list(range(n))
    _star_ok(dense, colors)


def test_constant_and_partial_expressions() -> None:
    """No variable: an empty Hessian; a block of a larger model: placed at its offsets."""
    m = Model()
    m.var("a", 3, lb=None)  # a block the expression does not use, before x
    x = m.var("x", 2, lb=None)
    const = as_nonlinear(np.ones(3)) * 2.0
    assert const.hessian(np.ones(3), m.n, np.zeros(m.n)).nnz == 0
    e = F.exp(as_nonlinear(x) * x[::-1]).sum()
    z = np.array([9.0, 9.0, 9.0, 0.5, -1.0])
    H = e.hessian(np.ones(1), m.n, z).toarray()
    assert np.all(H[:3] == 0) and np.all(H[:, :3] == 0)
    assert _rel(H, fd_hessian(e, z, np.ones(1))) <= RTOL
    with pytest.raises(ModelError, match="smaller"):
        e.hessian(np.ones(1), 4, z)


# -- the NLP protocol ---------------------------------------------------------------------------
def test_model_functions_give_the_hessians_of_a_nonlinear_model() -> None:
    """``ModelFunctions.hess`` and ``rows_hess`` return matrices, equal to the finite-difference
    Hessians of the objective and of ``v . rows``."""
    p = _nn_problem()
    m = p.model
    fn = ModelFunctions(m)
    assert has_hessian(m.objective)
    assert all(has_hessian(g.body) for g in m.groups.values())
    rng = _rng(21)
    z = 0.5 * rng.normal(size=fn.n)
    v = rng.normal(size=fn.m)
    Hf, Hr = fn.hess(z), fn.rows_hess(z, v)
    assert Hf is not None and Hr is not None
    assert isinstance(Hf, sp.csr_matrix) and Hf.shape == (fn.n, fn.n)
    assert _rel(Hf.toarray(), _fd_jacobian(fn.grad, z)) <= RTOL
    ref = _fd_jacobian(lambda x: fn.rows_jac(x).T @ v, z)
    assert _rel(Hr.toarray(), ref) <= RTOL
    assert (Hf != Hf.T).nnz == 0 and (Hr != Hr.T).nnz == 0
