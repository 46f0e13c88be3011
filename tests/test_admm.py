"""``admm`` on separable models (consensus, lasso split, relaxed inequalities).

Known answers: consensus least squares against its closed form (the normal equations of the
stacked problem, multipliers ``-A_i^T (A_i z - b_i)`` by stationarity), the lasso split against
cvxpy (Clarabel), a box-constrained QP with a relaxed inequality against HiGHS, and the
recovered multipliers of kept groups against a hand derivation.
"""

from __future__ import annotations

import numpy as np
import pytest

from ortools_lag import Model, ModelError, Status, Termination, solve
from ortools_lag.errors import NotSupportedError
from ortools_lag.lagrangian import Lagrangian
from ortools_lag.solvers.dual.admm import AdmmMethod, AdmmOptions, kept_multipliers

from .certificates import check_solution


def consensus(K: int = 4, n: int = 3, rows: int = 6, seed: int = 1, bounds: float | None = None):
    """``min sum_i |A_i x_i - b_i|^2 / 2`` s.t. ``x_i == z`` (one row of ``x`` per agent)."""
    rng = np.random.default_rng(seed)
    As = [rng.normal(size=(rows, n)) for _ in range(K)]
    bs = [rng.normal(size=rows) for _ in range(K)]
    m = Model("consensus")
    lb = None if bounds is None else -bounds
    x = m.var("x", (K, n), lb=lb, ub=bounds)
    z = m.var("z", n, lb=None)
    obj = 0
    for i in range(K):
        r = As[i] @ x[i] - bs[i]
        obj = obj + 0.5 * (r @ r)
    m.minimize(obj)
    m.add("consensus", x - z.reshape(1, n) == 0)
    z_star = np.linalg.solve(sum(A.T @ A for A in As), sum(A.T @ b for A, b in zip(As, bs)))
    lam_star = np.array([-(A.T @ (A @ z_star - b)) for A, b in zip(As, bs)])
    return m, z_star, lam_star


def lasso(n: int = 8, rows: int = 20, alpha: float = 2.0, seed: int = 2):
    """``min |A x - b|^2 / 2 + alpha |z|_1`` s.t. ``x == z``, ``|z| <= t`` (kept, with ``z``)."""
    rng = np.random.default_rng(seed)
    A, b = rng.normal(size=(rows, n)), rng.normal(size=rows)
    m = Model("lasso")
    x, z, t = (m.var(k, n, lb=None) for k in ("x", "z", "t"))
    r = A @ x - b
    m.minimize(0.5 * (r @ r) + alpha * t.sum())
    m.add("split", x - z == 0)
    m.add("abs_hi", t - z >= 0)
    m.add("abs_lo", t + z >= 0)
    return m, A, b, alpha


def test_consensus_matches_the_closed_form() -> None:
    m, z_star, lam_star = consensus()
    sol = solve(m, "admm", tolerance=1e-10, max_iter=5000)
    assert sol.termination == Termination.CONVERGED
    np.testing.assert_allclose(sol.x["z"], z_star, atol=1e-6)
    np.testing.assert_allclose(sol.x["x"], np.tile(z_star, (4, 1)), atol=1e-6)
    np.testing.assert_allclose(sol.multipliers["consensus"], lam_star, atol=1e-6)
    assert sol.info["relax"] == ["consensus"]  # the group that ties the blocks x and z
    h = sol.history
    assert {"primal_residual", "dual_residual", "rho"} <= set(h.extra)
    assert h.extra["primal_residual"][-1] < 1e-8 and h.extra["dual_residual"][-1] < 1e-8
    check_solution(m, sol, tol=1e-8)


@pytest.mark.parametrize("rule", ["constant", "growth", "balance"])
def test_penalty_rules_converge(rule: str) -> None:
    m, z_star, _ = consensus(seed=3)
    sol = solve(m, "admm", rho_rule=rule, rho=0.3, rho_warmup=5, tolerance=1e-9, max_iter=5000)
    np.testing.assert_allclose(sol.x["z"], z_star, atol=1e-6)
    rho = sol.history.extra["rho"][1:]
    if rule == "constant":
        assert np.all(rho == 0.3)
    elif rule == "growth":
        assert rho[-1] > rho[0]
    check_solution(m, sol, tol=1e-7)


def test_lasso_split_matches_cvxpy() -> None:
    import cvxpy as cp

    m, A, b, alpha = lasso()
    sol = solve(m, "admm", relax=["split"], tolerance=1e-9, max_iter=5000)
    xv = cp.Variable(A.shape[1])
    ref = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(A @ xv - b) + alpha * cp.norm1(xv)))
    ref.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    np.testing.assert_allclose(sol.x["x"], xv.value, atol=1e-6)
    assert sol.objective == pytest.approx(ref.value, abs=1e-7)
    # the blocks: x alone, z with t (tied by the kept |z| <= t groups), solved by HiGHS
    assert sol.ok and sol.kkt.stationarity <= 1e-6
    assert np.all(np.abs(sol.multipliers["split"]) <= alpha + 1e-6)  # the subgradient of |.|
    assert sol.bound <= sol.objective + 1e-7  # the iterate is feasible to 1e-9 only
    check_solution(m, sol, tol=1e-7)


def test_relaxed_inequality_matches_highs() -> None:
    m = Model("box_qp")
    x = m.var("x", 2, lb=-5, ub=5)
    d = x - np.array([2.0, 1.0])
    m.minimize(d @ d)
    m.add("sum", x.sum() <= 2)
    m.add("diff", x[0] - x[1] == 0.5)
    ref = solve(m, "highs")
    sol = solve(m, "admm", relax=["sum", "diff"], tolerance=1e-9)
    assert sol.status == Status.OPTIMAL  # the dual bound closes the gap
    assert sol.objective == pytest.approx(ref.objective, abs=1e-7)
    for g in ("sum", "diff"):
        assert float(sol.multipliers[g]) == pytest.approx(float(ref.multipliers[g]), abs=1e-5)
    check_solution(m, sol, tol=1e-7)


def test_blocks_through_executors_agree() -> None:
    m, z_star, _ = consensus(bounds=10.0)  # bounded x_i: one HiGHS block per agent
    serial = solve(m, "admm", tolerance=1e-9, max_iter=3000)
    threads = solve(m, "admm", tolerance=1e-9, max_iter=3000, executor="threads", workers=2)
    np.testing.assert_allclose(serial.x["z"], z_star, atol=1e-6)
    np.testing.assert_allclose(threads.x["z"], serial.x["z"], atol=1e-9)
    assert threads.iterations == serial.iterations
    check_solution(m, threads, tol=1e-7)


def test_kept_multipliers_by_hand() -> None:
    # min (v0^2 + v1^2) s.t. v0 >= 1 (kept), v0 + v1 == 1 (relaxed): v = (1, 0), and
    # stationarity 2 v + lam_eq (1, 1) - mu (1, 0) = 0 gives lam_eq = 0, mu = 2.
    m = Model()
    v = m.var("v", 2, lb=None)
    m.minimize((v * v).sum())
    m.add("floor", v[0] >= 1)
    m.add("total", v.sum() == 1)
    out = kept_multipliers(m, {"v": np.array([1.0, 0.0])}, {"total": 0.0}, ["floor"])
    assert float(out["floor"]) == pytest.approx(2.0, abs=1e-12)
    sol = solve(m, "admm", relax=["total"], tolerance=1e-10, max_iter=3000)
    assert float(sol.multipliers["floor"]) == pytest.approx(2.0, abs=1e-6)
    assert float(sol.multipliers["total"]) == pytest.approx(0.0, abs=1e-6)
    check_solution(m, sol, tol=1e-7)


def test_init_and_step_are_frozen_and_project() -> None:
    m, _, _ = consensus(K=2, n=2)
    lag = Lagrangian(m, relax=["consensus"])
    method = AdmmMethod(AdmmOptions())
    assert method.check(lag) is None
    s0 = method.init(lag, np.zeros(lag.size))
    s1 = method.step(lag, s0)
    assert s1.iteration == 2 and s1.primal_residual >= 0 and s1.x is not s0.x
    lag.close()


def test_bad_models_and_blocks() -> None:
    m, _, _ = consensus(K=2, n=2)
    with pytest.raises(ModelError, match="valid choices"):
        solve(m, "admm", blocks=[["x", "w"]])
    lm, *_ = lasso(n=3)
    with pytest.raises(NotSupportedError, match="ties ADMM blocks"):
        solve(lm, "admm", relax=["split"], blocks=[["x"], ["z"], ["t"]])
    q = Model()
    k = q.var("k", 2, ub=3, domain="integer")
    q.minimize(k.sum())
    q.add("c", k.sum() >= 1)
    with pytest.raises(NotSupportedError, match="integer"):
        solve(q, "admm")
