"""The reflected Halpern variant (``method="halpern"``) and the preconditioning pieces it and the
default method share: known answers from HiGHS, published Netlib optima, closed forms and numpy's
own dense norms."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ortools_lag.errors import OptionError
from ortools_lag.solvers.pdhg.scaling import diagonal_scaling, power_norm

from .test_pdhg_core import (
    NETLIB,
    _infeasible_lps,
    _unbounded_lps,
    check_optimal_certificate,
    farkas_value,
    highs_solve,
    random_lp,
    ray_value,
    read_netlib,
    solve,
    transportation_lp,
)


@pytest.mark.parametrize("seed", range(4))
def test_random_feasible_lps_match_highs(seed: int) -> None:
    lp = random_lp(seed)
    status, obj, _ = highs_solve(lp)
    assert status == "Optimal"
    for tol in (1e-4, 1e-7):
        res = solve(lp, tolerance=tol, method="halpern")
        check_optimal_certificate(lp, res, tol)
        assert res.objective == pytest.approx(obj, rel=10 * tol, abs=10 * tol)


def test_transportation_multipliers_match_highs() -> None:
    lp = transportation_lp(6, 8, seed=3)
    res = solve(lp, accuracy="high", method="halpern")
    check_optimal_certificate(lp, res, 1e-8)
    assert res.objective == pytest.approx(highs_solve(lp)[1], rel=1e-7)


@pytest.mark.parametrize("name", ["afiro", "blend", "sc50a", "sc50b", "sc105", "recipe"])
def test_netlib_at_1e4(name: str) -> None:
    res = solve(read_netlib(name), tolerance=1e-4, method="halpern")
    assert res.status == "optimal"
    assert res.objective == pytest.approx(NETLIB[name], rel=1e-3)


@pytest.mark.parametrize("name", ["two_rows", "by_bounds", "planted"])
def test_primal_infeasible_with_farkas_certificate(name: str) -> None:
    lp = _infeasible_lps()[name]
    res = solve(lp, method="halpern")
    assert res.status == "primal_infeasible" and res.certificate is not None
    d0, viol = farkas_value(lp, res.certificate)
    assert d0 > 0 and viol <= 1e-7 * d0


@pytest.mark.parametrize("name", ["ray", "free", "planted"])
def test_dual_infeasible_with_primal_ray(name: str) -> None:
    lp = _unbounded_lps()[name]
    res = solve(lp, method="halpern")
    assert res.status == "dual_infeasible" and res.certificate is not None
    cd, viol = ray_value(lp, res.certificate)
    assert cd < 0 and viol <= 1e-7 * -cd


def test_torch_cpu_and_numpy_reach_the_same_point() -> None:
    pytest.importorskip("torch")
    lp = random_lp(21, m=20, n=30)
    a = solve(lp, tolerance=1e-12, method="halpern")
    b = solve(lp, tolerance=1e-12, method="halpern", backend="torch", device="cpu", threads=1)
    assert a.status == b.status == "optimal"
    assert np.abs(a.x - b.x).max() <= 1e-8 and np.abs(a.y - b.y).max() <= 1e-8


def test_warm_start_takes_fewer_iterations_and_limits_are_statuses() -> None:
    lp = transportation_lp(20, 25, seed=1)
    first = solve(lp, tolerance=1e-6, method="halpern")
    c2 = lp["c"] * (1 + 0.01 * np.random.default_rng(5).uniform(-1, 1, lp["c"].size))
    lp2 = dict(lp, c=c2)
    cold = solve(lp2, tolerance=1e-6, method="halpern")
    warm = solve(lp2, tolerance=1e-6, method="halpern", warm_start=(first.x, first.y))
    assert cold.status == warm.status == "optimal"
    assert warm.iterations < cold.iterations
    assert warm.objective == pytest.approx(highs_solve(lp2)[1], rel=1e-5)
    res = solve(lp2, accuracy="high", method="halpern", max_iter=100)
    assert res.status == "iteration_limit" and res.iterations == 100


def test_unknown_method_raises() -> None:
    with pytest.raises(OptionError, match="unknown method"):
        solve(random_lp(0), method="nesterov")


def test_spectral_norm_on_a_clustered_spectrum_matches_numpy() -> None:
    # the scaled transportation matrix has a top singular value above a large cluster: a power
    # iteration stopped on a small relative change stalls at the cluster (3.76 instead of 5.32)
    A = sp.csr_matrix(transportation_lp(400, 400, seed=0)["A"])
    As, _, _ = diagonal_scaling(A, l2_rescaling=True)
    gram = (As @ As.T).toarray()  # 800 x 800: LAPACK's dense eigenvalues as the reference
    want = float(np.sqrt(np.linalg.eigvalsh(gram)[-1]))
    assert want == pytest.approx(5.3183, abs=1e-4)
    assert power_norm(As, seed=1) == pytest.approx(want, rel=1e-8)
    thin = sp.csr_matrix(As[:5])
    assert power_norm(thin, seed=1) == pytest.approx(np.linalg.norm(thin.toarray(), 2), rel=1e-10)


def test_l2_rescaling_closed_form_on_a_rank_one_matrix() -> None:
    # all ones, m x n: row l2 norms sqrt(n), column l2 norms sqrt(m), so one l2 pass divides
    # rows by n^(1/4) and columns by m^(1/4): every entry becomes (m n)^(-1/4)
    m, n = 3, 7
    As, d_row, d_col = diagonal_scaling(
        sp.csr_matrix(np.ones((m, n))),
        ruiz_iterations=0,
        pock_chambolle_alpha=None,
        l2_rescaling=True,
    )
    np.testing.assert_allclose(d_row, n**-0.25)
    np.testing.assert_allclose(d_col, m**-0.25)
    np.testing.assert_allclose(As.toarray(), (m * n) ** -0.25)


@pytest.mark.parametrize("method", ["adaptive", "halpern"])
def test_scalar_zero_bounds_on_numpy_and_torch(method: str) -> None:
    # all lower bounds 0 (the transportation LP), and all upper bounds 0 with some lower ones
    # finite (its mirror image, x <= 0): the bound that is 0 everywhere is clipped as a number
    pytest.importorskip("torch")
    lp = transportation_lp(10, 12, seed=1)
    n = lp["c"].size
    mirror = dict(lp, c=-lp["c"], A=-lp["A"], ub=np.zeros(n))
    mirror["lb"] = np.where(np.arange(n) % 3 == 0, -50.0, -np.inf)
    for case in (lp, mirror):
        want = highs_solve(case)[1]
        for backend in ("numpy", "torch"):
            res = solve(case, tolerance=1e-8, method=method, backend=backend, threads=1)
            check_optimal_certificate(case, res, 1e-8)
            assert res.objective == pytest.approx(want, rel=1e-7)
