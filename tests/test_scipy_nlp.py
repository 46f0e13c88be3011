"""The NLP path of the scipy backend (SLSQP and trust-constr): multipliers in our convention.

Every known answer here is a hand derivation from the stationarity condition
``grad f + lam * grad c = 0`` (for a maximisation, of ``-f``), written next to each case.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import NonlinearConstraint, minimize

from ortools_lag import Model, NotSupportedError, OptionError, Status, Termination, solve
from ortools_lag.model import Constraint, Expr
from ortools_lag.model.variables import Var
from ortools_lag.solvers.backends.scipy import ModelFunctions, estimate_multipliers, has_hessian

from .certificates import check_solution

METHODS = ["slsqp", "trust-constr"]
R2 = 1 / math.sqrt(2)


def circle(r: float = 1.0) -> Model:
    m = Model("circle")
    x = m.var("x", 2, lb=None)
    m.minimize(x[0] + x[1])
    m.add("circle", (x * x).sum() == r**2)
    return m


@pytest.mark.parametrize("method", METHODS)
def test_circle(method: str) -> None:
    """min x + y s.t. x^2 + y^2 = 1: x = y = -1/sqrt(2); 1 + 2 lam x = 0 gives lam = +1/sqrt(2)."""
    model = circle()
    sol = solve(model, "scipy", method=method)
    assert sol.status == Status.OPTIMAL, sol.message
    np.testing.assert_allclose(sol.x["x"], [-R2, -R2], atol=1e-7)
    lam = float(sol.multipliers["circle"])
    assert lam == pytest.approx(R2, abs=1e-7)
    assert np.abs(1 + 2 * lam * sol.x["x"]).max() <= 1e-6  # stationarity, by hand
    assert sol.kkt is not None and sol.kkt.stationarity <= 1e-6
    # the Lagrangian x + y + lam (x^2 + y^2 - 1) is convex for lam > 0: its minimum -sqrt(2)
    # (at x = y = -1/(2 lam)) is a proven bound, met by the objective
    assert sol.bound == pytest.approx(-math.sqrt(2), abs=1e-7)
    check_solution(model, sol)


def test_scipy_native_signs() -> None:
    """What the adapter converts: scipy's own multipliers for the circle and for
    min x^2 + y^2 s.t. x + y = 1 (SLSQP -0.7071 / +1, trust-constr +0.7071 / -1)."""
    f, g = (lambda z: z[0] + z[1]), (lambda z: np.ones(2))
    eq = {"type": "eq", "fun": lambda z: np.array([z @ z - 1]), "jac": lambda z: 2 * z[None]}
    res = minimize(f, [0.3, -0.2], jac=g, method="SLSQP", constraints=[eq])
    assert res.multipliers[0] == pytest.approx(-R2, abs=1e-6)
    nc = NonlinearConstraint(lambda z: np.array([z @ z]), 1, 1, jac=lambda z: 2 * z[None])
    res = minimize(f, [0.3, -0.2], jac=g, method="trust-constr", constraints=[nc])
    assert res.v[0][0] == pytest.approx(R2, abs=1e-6)
    q, qg = (lambda z: z @ z), (lambda z: 2 * z)
    lin = {"type": "eq", "fun": lambda z: np.array([z.sum() - 1]), "jac": lambda z: np.ones((1, 2))}
    assert minimize(q, [0.0, 0.0], jac=qg, method="SLSQP", constraints=[lin]).multipliers[0] == (
        pytest.approx(1.0, abs=1e-6)
    )
    nl = NonlinearConstraint(lambda z: np.array([z.sum()]), 1, 1, jac=lambda z: np.ones((1, 2)))
    res = minimize(q, [0.0, 0.0], jac=qg, method="trust-constr", constraints=[nl])
    assert res.v[0][0] == pytest.approx(-1.0, abs=1e-6)
    for method in METHODS:  # ours: 2x + lam = 0 at x = 1/2
        m = Model()
        x = m.var("x", 2, lb=None)
        m.minimize((x * x).sum())
        m.add("sum", x.sum() == 1)
        assert float(solve(m, "scipy", method=method).multipliers["sum"]) == pytest.approx(-1.0)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("r", [2.0, 0.5])
def test_circle_of_radius_r(method: str, r: float) -> None:
    """x^2 + y^2 = r^2: x = y = -r/sqrt(2), lam = 1/(r sqrt(2))."""
    sol = solve(circle(r), "scipy", method=method)
    np.testing.assert_allclose(sol.x["x"], [-r * R2, -r * R2], atol=1e-7)
    assert float(sol.multipliers["circle"]) == pytest.approx(R2 / r, abs=1e-7)
    check_solution(circle(r), sol)


def _projection(build: str) -> tuple[Model, list[float], float]:
    """Projections of a point on disks and annuli, with hand-derived x* and multiplier."""
    m = Model(build)
    x = m.var("x", 2, lb=None)
    if build == "disk":  # (2,1) onto x^2+y^2 <= 1: x* = (2,1)/sqrt5; 2(x-a) + 2 lam x = 0
        d = x - np.array([2.0, 1.0])
        m.minimize(d @ d)
        m.add("c", (x * x).sum() <= 1)
        return m, [2 / math.sqrt(5), 1 / math.sqrt(5)], math.sqrt(5) - 1
    if build == "outside":  # (2,1) onto x^2+y^2 >= 9: x* = 3(2,1)/sqrt5; 2(x-a) - 2 lam x = 0
        d = x - np.array([2.0, 1.0])
        m.minimize(d @ d)
        m.add("c", (x * x).sum() >= 9)
        return m, [6 / math.sqrt(5), 3 / math.sqrt(5)], 1 - math.sqrt(5) / 3
    if build == "annulus_lower":  # (0.1,0) onto 1 <= |x|^2 <= 4: (1,0); 1.8 + 2 mu = 0, mu < 0
        d = x - np.array([0.1, 0.0])
        m.minimize(d @ d)
        m.add("c", (x * x).sum().between(1, 4))
        return m, [1.0, 0.0], -0.9
    # max x + 2y on 1 <= |x|^2 <= 4: x* = 2(1,2)/sqrt5; -1 + 2 mu x0 = 0, upper side binds
    m.maximize(x[0] + 2 * x[1])
    m.add("c", (x * x).sum().between(1, 4))
    return m, [2 / math.sqrt(5), 4 / math.sqrt(5)], math.sqrt(5) / 4


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("build", ["disk", "outside", "annulus_lower", "ring_max"])
def test_quadratic_inequalities(method: str, build: str) -> None:
    model, x_star, lam = _projection(build)
    sol = solve(model, "scipy", method=method)
    assert sol.status == Status.OPTIMAL, sol.message
    np.testing.assert_allclose(sol.x["x"], x_star, atol=1e-6)
    assert float(sol.multipliers["c"]) == pytest.approx(lam, abs=1e-6)
    check_solution(model, sol)
    assert sol.info["convex_lagrangian"]  # all four Lagrangians have PSD Hessians here
    assert sol.gap == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("method", METHODS)
def test_bound_multipliers_are_reduced_costs(method: str) -> None:
    """min (x-2)^2 + (y+1)^2 on [0,1]^2 with x^2+y^2 <= 4 inactive: x = 1 at its upper bound,
    y = 0 at its lower bound; reduced costs = gradient = (2(1-2), 2(0+1)) = (-2, 2)."""
    m = Model()
    x = m.var("x", 2, lb=0, ub=1)
    d = x - np.array([2.0, -1.0])
    m.minimize(d @ d)
    m.add("disk", (x * x).sum() <= 4)
    sol = solve(m, "scipy", method=method)
    np.testing.assert_allclose(sol.x["x"], [1.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(sol.reduced_costs["x"], [-2.0, 2.0], atol=1e-6)
    assert float(sol.multipliers["disk"]) == pytest.approx(0.0, abs=1e-7)
    check_solution(m, sol)


class ExpSum(Expr):
    """``sum(exp(x)) - b`` through the expression protocol only (value, jacobian)."""

    def __init__(self, x: Var, b: float) -> None:
        self.x, self.b, self.shape = x, b, ()

    @property
    def degree(self) -> int:
        return 3

    def variables(self) -> list[Var]:
        return [self.x]

    def _slice(self, z: np.ndarray) -> np.ndarray:
        return z[self.x.offset : self.x.offset + self.x.size]

    def value(self, z: np.ndarray) -> np.ndarray:
        return np.array([np.exp(self._slice(z)).sum() - self.b])

    def jacobian(self, z: np.ndarray, n: int) -> sp.csr_matrix:
        J = sp.lil_matrix((1, n))
        J[0, self.x.offset : self.x.offset + self.x.size] = np.exp(self._slice(z))
        return sp.csr_matrix(J)


class ExpSumWithHessian(ExpSum):
    """The same, giving its point-dependent Hessian as ``hessian(w, n, z)``."""

    def hessian(self, w: np.ndarray, n: int, z: np.ndarray) -> sp.csr_matrix:
        d = np.zeros(n)
        d[self.x.offset : self.x.offset + self.x.size] = w[0] * np.exp(self._slice(z))
        return sp.diags(d, format="csr")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("with_hessian", [False, True])
def test_expression_protocol(method: str, with_hessian: bool) -> None:
    """max x + y s.t. exp(x) + exp(y) <= 2: x = y = 0; -1 + lam e^x = 0 gives lam = 1.
    A nonlinear group without ``hessian`` runs trust-constr with a BFGS approximation."""
    m = Model()
    x = m.var("x", 2, lb=None)
    m.maximize(x.sum())
    body = ExpSumWithHessian(x, 2.0) if with_hessian else ExpSum(x, 2.0)
    assert has_hessian(body) == with_hessian
    m.add("budget", Constraint(body, np.array([-np.inf]), np.array([0.0]), "<="))
    sol = solve(m, "scipy", method=method)
    assert sol.status == Status.LOCALLY_OPTIMAL, sol.message
    np.testing.assert_allclose(sol.x["x"], [0.0, 0.0], atol=1e-6)
    assert float(sol.multipliers["budget"]) == pytest.approx(1.0, abs=1e-6)
    assert math.isnan(sol.bound)  # not quadratic: a local KKT point, no bound claimed
    check_solution(m, sol)


def test_unbounded_nonlinear_model_stops_without_an_exception() -> None:
    """min -x - y s.t. x^2 - y <= 0 is unbounded (y -> inf): the divergence guard stops it."""
    m = Model()
    x = m.var("x", 2, lb=None)
    m.minimize(-x[0] - x[1])
    m.add("parabola", x[0] * x[0] - x[1] <= 0)
    for method in METHODS:
        sol = solve(m, "scipy", method=method, divergence=1e6, maxiter=100)
        assert sol.status != Status.OPTIMAL
        assert sol.termination in (Termination.NUMERICAL_ERROR, Termination.ITERATION_LIMIT)


def test_same_seed_same_answer_and_x0() -> None:
    a = solve(circle(), "scipy", method="slsqp", seed=3)
    b = solve(circle(), "scipy", method="slsqp", seed=3)
    assert np.array_equal(a.x["x"], b.x["x"])
    c = solve(circle(), "scipy", method="slsqp", x0={"x": [0.9, -0.6]})
    np.testing.assert_allclose(c.x["x"], [-R2, -R2], atol=1e-7)


def test_option_errors() -> None:
    with pytest.raises(OptionError, match="method"):
        solve(circle(), "scipy", method="newton")
    with pytest.raises(NotSupportedError, match="not linear"):
        solve(circle(), "scipy", method="highs")
    m = Model()
    x = m.var("x", 2, domain="integer", ub=3)
    m.maximize(x.sum())
    m.add("c", x.sum() <= 4.5)
    with pytest.raises(NotSupportedError, match="integer"):
        solve(m, "scipy", method="slsqp")


def test_model_functions_match_finite_differences() -> None:
    """The helpers other solvers reuse: rows and their Jacobian by the expression protocol."""
    model, _, _ = _projection("annulus_lower")
    fn = ModelFunctions(model)
    z = np.array([0.3, -0.7])
    h = 1e-6
    fd = np.column_stack([(fn.rows(z + h * e) - fn.rows(z - h * e)) / (2 * h) for e in np.eye(2)])
    np.testing.assert_allclose(fn.rows_jac(z).toarray(), fd, atol=1e-6)
    g = np.array([(fn.f(z + h * e) - fn.f(z - h * e)) / (2 * h) for e in np.eye(2)])
    np.testing.assert_allclose(fn.grad(z), g, atol=1e-6)
    H = fn.rows_hess(z, np.array([1.0]))
    assert H is not None
    np.testing.assert_allclose(H.toarray(), 2 * np.eye(2))  # Hessian of x^2 + y^2


def test_least_squares_multipliers_agree() -> None:
    model, x_star, lam = _projection("disk")
    fn = ModelFunctions(model)
    y = estimate_multipliers(fn, np.array(x_star))
    assert y[0] == pytest.approx(lam, abs=1e-9)


def test_time_limit_is_a_termination_not_an_exception() -> None:
    sol = solve(circle(), "scipy", method="trust-constr", time_limit=1e-9)
    assert sol.termination == Termination.TIME_LIMIT
    assert sol.status != Status.OPTIMAL
