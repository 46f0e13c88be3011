"""The modeling layer: expressions agree with numpy; Jacobians with finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ortools_lag import Model, ModelError
from ortools_lag.model import concatenate, hstack, quad_form, sum_squares, to_standard_form, vstack

RNG = np.random.default_rng(7)


@pytest.fixture()
def setup():
    m = Model()
    X = m.var("X", (3, 4), lb=None)
    y = m.var("y", 4, lb=None)
    z = RNG.normal(size=m.n)
    vals = m.split(z)
    return m, X, y, z, vals["X"], vals["y"]


def test_affine_ops_match_numpy(setup) -> None:
    m, X, y, z, Xv, yv = setup
    M = RNG.normal(size=(5, 3))
    S = sp.random(4, 2, density=0.5, random_state=1, format="csr")
    cases = [
        (X[1:, ::2], Xv[1:, ::2]),
        (X.T, Xv.T),
        (X.sum(axis=0), Xv.sum(axis=0)),
        (X.sum(axis=1), Xv.sum(axis=1)),
        (X.sum(), np.array(Xv.sum())),
        (M @ X, M @ Xv),
        (X @ y.value(z), Xv @ yv),
        (X @ S, Xv @ S.toarray()),
        (S.T @ y, S.T.toarray() @ yv),
        (2 * X - 1 + y, 2 * Xv - 1 + yv),
        (X * np.arange(4.0), Xv * np.arange(4.0)),
        (X / 2.0, Xv / 2.0),
        (X.reshape(12)[[0, 5, 11]], Xv.reshape(12)[[0, 5, 11]]),
        (hstack([y, y[:2]]), np.hstack([yv, yv[:2]])),
        (vstack([y, 2 * y]), np.vstack([yv, 2 * yv])),
        (concatenate([X, X[:1]], axis=0), np.concatenate([Xv, Xv[:1]], axis=0)),
        (concatenate([X, X[:, :1]], axis=1), np.concatenate([Xv, Xv[:, :1]], axis=1)),
    ]
    for expr, want in cases:
        assert expr.shape == np.shape(want)
        np.testing.assert_allclose(expr.value(z), np.ravel(want), atol=1e-12)


def test_quadratic_ops_and_jacobian(setup) -> None:
    m, X, y, z, Xv, yv = setup
    Q = RNG.normal(size=(4, 4))
    cases = [
        (quad_form(y, Q), yv @ Q @ yv),
        (sum_squares(X), (Xv**2).sum()),
        (y @ y + 3 * y.sum(), yv @ yv + 3 * yv.sum()),
        (X @ y, Xv @ yv),
        ((y * y)[1:], (yv * yv)[1:]),
        (concatenate([y * y, y]), np.concatenate([yv * yv, yv])),
    ]
    n = m.n
    for expr, want in cases:
        np.testing.assert_allclose(expr.value(z), np.ravel(want), atol=1e-10)
        J = expr.jacobian(z, n).toarray()
        eye = np.eye(n)
        fd = np.stack(
            [
                (expr.value(z + 1e-6 * eye[j]) - expr.value(z - 1e-6 * eye[j])) / 2e-6
                for j in range(n)
            ],
            axis=1,
        )
        np.testing.assert_allclose(J, fd, atol=1e-6)


def test_numpy_on_the_left_builds_constraints() -> None:
    m = Model()
    x = m.var("x", 3)
    c = np.ones(3) <= x
    assert c.sense == ">=" and c.shape == (3,)
    A = sp.identity(3, format="csr")
    assert (A @ x).shape == (3,)


def test_standard_form_of_a_group_with_constant() -> None:
    m = Model()
    x = m.var("x", 2)
    m.minimize(x.sum() + 5)
    m.add("g", x + 1 <= np.array([3.0, 4.0]))
    m.add("h", x[0] >= 2 * x[1])
    sf = to_standard_form(m)
    assert sf.offset == 5
    np.testing.assert_allclose(sf.row_hi[:2], [2.0, 3.0])
    np.testing.assert_allclose(sf.A.toarray()[2], [1.0, -2.0])
    assert sf.row_blocks["h"].sign == -1


def test_building_a_million_variables_is_vectorised() -> None:
    m = Model()
    x = m.var("x", (1000, 1000))
    C = RNG.random((1000, 1000))
    m.minimize((C * x).sum())
    m.add("supply", x.sum(axis=1) <= 1.0)
    m.add("demand", x.sum(axis=0) >= 0.5)
    sf = to_standard_form(m)
    assert sf.A.nnz == 2_000_000 and sf.n == 1_000_000


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda m, x: m.add("g", np.array([np.nan, 1.0]) @ x <= 1), "NaN"),
        (lambda m, x: m.add("g", np.ones((2, 3)) @ x <= 1), "shape mismatch"),
        (lambda m, x: m.var("bad", 2, lb=3, ub=1), "lb > ub"),
        (lambda m, x: m.var("x", 2), "already exists"),
        (lambda m, x: m.minimize(x), "scalar"),
        (lambda m, x: m.add("g", x.sum(axis=2) <= 1), "axis 2 out of range"),
        (lambda m, x: m.var("v", 2, domain="real"), "valid choices"),
        (lambda m, x: bool(x <= 1), "truth value"),
        (lambda m, x: x + np.ones(3), "do not broadcast"),
    ],
)
def test_bad_models_raise_model_error(build, match) -> None:
    m = Model()
    x = m.var("x", 2)
    with pytest.raises(ModelError, match=match):
        build(m, x)


def test_vector_dot_an_affine_expression_matches_numpy() -> None:
    m = Model()
    x = m.var("x", 3, lb=None)
    y = m.var("y", 2, lb=None)
    c = np.array([1.5, -2.0])
    e = c @ (x[:2] + 2 * y + 1) + np.array([1.0, 0.0, 3.0]) @ x
    z = RNG.normal(size=m.n)
    xv, yv = z[:3], z[3:]
    assert e.value(z)[0] == pytest.approx(c @ (xv[:2] + 2 * yv + 1) + xv[0] + 3 * xv[2])
    assert e.matrix(m.n).toarray().tolist() == [[2.5, -2.0, 3.0, 3.0, -4.0]]


def test_incidence_matrix_with_self_loops_and_parallel_arcs() -> None:
    from ortools_lag.problems.network import incidence

    tail = np.array([0, 1, 2, 2, 0, 3])
    head = np.array([1, 2, 2, 0, 1, 1])  # arc 2 is a self-loop, arcs 0 and 4 are parallel
    dense = np.zeros((4, 6))
    for k, (u, v) in enumerate(zip(tail, head)):
        if u != v:
            dense[u, k], dense[v, k] = 1.0, -1.0
    N = incidence(4, tail, head)
    assert np.array_equal(N.toarray(), dense)
    x = RNG.normal(size=6)
    pi = RNG.normal(size=4)
    assert np.allclose(N @ x, dense @ x) and np.allclose(N.T @ pi, dense.T @ pi)
