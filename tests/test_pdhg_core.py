"""The PDHG core on plain arrays: known answers from HiGHS, published Netlib optima, hand
derivations and certificates checked with this file's own arithmetic."""

from __future__ import annotations

from pathlib import Path

import highspy
import numpy as np
import pytest
import scipy.sparse as sp

from ortools_lag.errors import ModelError, OptionError
from ortools_lag.solvers.pdhg.restarted import STATUSES, PdhgResult, pdhg_solve

DATA = Path(__file__).parents[1] / "data" / "netlib"
INF = np.inf

# published optima (Netlib lp/data/readme, MINOS 5.3; data/MANIFEST.md). e226: the value with the
# file's objective constant, which highspy reads as the LP's offset; scagr7: the CPLEX value.
NETLIB = {
    "adlittle": 2.2549496316e05,
    "afiro": -4.6475314286e02,
    "blend": -3.0812149846e01,
    "boeing1": -3.3521356751e02,
    "bore3d": 1.3730803942e03,
    "brandy": 1.5185098965e03,
    "e226": -11.638929066,
    "grow7": -4.7787811815e07,
    "israel": -8.9664482186e05,
    "kb2": -1.7499001299e03,
    "lotfi": -2.5264706062e01,
    "recipe": -2.6661600000e02,
    "sc105": -5.2202061212e01,
    "sc50a": -6.4575077059e01,
    "sc50b": -7.0000000000e01,
    "scagr7": -2.3313898243e06,
    "share2b": -4.1573224074e02,
    "stocfor1": -4.1131976219e04,
}
HIGH_ACCURACY = ["afiro", "adlittle", "blend", "sc50a", "sc50b", "sc105", "share2b", "kb2"]
QUICK_HIGH = ["afiro", "blend", "sc50a", "sc50b", "sc105"]
QUICK_LOW = ["afiro", "blend", "recipe", "sc50a", "sc50b", "sc105"]


# --- helpers


def read_netlib(name: str) -> dict:
    """The LP of a Netlib file as highspy reads it (columns, rows, offset)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(DATA / f"{name}.mps.gz"))
    lp = h.getLp()
    a = lp.a_matrix_
    shape = (lp.num_row_, lp.num_col_)
    if a.format_ == highspy.MatrixFormat.kColwise:
        A = sp.csc_matrix((a.value_, a.index_, a.start_), shape=shape).tocsr()
    else:
        A = sp.csr_matrix((a.value_, a.index_, a.start_), shape=shape)
    return dict(
        c=np.array(lp.col_cost_),
        A=A,
        row_lo=np.array(lp.row_lower_),
        row_hi=np.array(lp.row_upper_),
        lb=np.array(lp.col_lower_),
        ub=np.array(lp.col_upper_),
        offset=float(lp.offset_),
    )


def highs_solve(lp: dict) -> tuple[str, float, np.ndarray]:
    """HiGHS's status, objective and row multipliers in the project's sign convention."""
    A = sp.csc_matrix(lp["A"])
    hlp = highspy.HighsLp()
    hlp.num_col_, hlp.num_row_ = A.shape[1], A.shape[0]
    hlp.col_cost_ = lp["c"]
    hlp.col_lower_, hlp.col_upper_ = lp["lb"], lp["ub"]
    hlp.row_lower_, hlp.row_upper_ = lp["row_lo"], lp["row_hi"]
    hlp.offset_ = lp.get("offset", 0.0)
    hlp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    hlp.a_matrix_.start_, hlp.a_matrix_.index_ = A.indptr, A.indices
    hlp.a_matrix_.value_ = A.data
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(hlp)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    # HiGHS reports c - Aᵀ(row_dual) as reduced costs: the project's y is -row_dual
    y = -np.array(h.getSolution().row_dual)
    return status, h.getInfo().objective_function_value, y


def random_lp(seed: int, m: int = 30, n: int = 50, density: float = 0.3) -> dict:
    """A random LP, feasible (a point x0 inside every bound) and dual feasible (c built from
    multipliers of the right signs), so it has an optimum; every row and bound type occurs."""
    rng = np.random.default_rng(seed)
    A = sp.random(m, n, density=density, random_state=rng, format="csr")
    A.data = rng.uniform(-1.0, 1.0, A.nnz)
    A = sp.csr_matrix(A + sp.eye(m, n, format="csr"))  # no empty row
    vkind = rng.integers(0, 4, n)  # 0 box, 1 lower only, 2 upper only, 3 free
    x0 = rng.uniform(-1.0, 1.0, n)
    lb = np.where((vkind == 0) | (vkind == 1), x0 - rng.uniform(0, 1, n), -INF)
    ub = np.where((vkind == 0) | (vkind == 2), x0 + rng.uniform(0, 1, n), INF)
    ax = A @ x0
    rkind = rng.integers(0, 4, m)  # 0 <=, 1 >=, 2 ==, 3 ranged
    lo = np.where((rkind == 1) | (rkind == 3), ax - rng.uniform(0, 1, m), -INF)
    hi = np.where((rkind == 0) | (rkind == 3), ax + rng.uniform(0, 1, m), INF)
    lo = np.where(rkind == 2, ax, lo)
    hi = np.where(rkind == 2, ax, hi)
    y = rng.uniform(0.1, 1.0, m) * np.where(rkind == 0, 1, np.where(rkind == 1, -1, 0))
    y += np.where(rkind >= 2, rng.uniform(-1, 1, m), 0.0)
    r = rng.uniform(0.1, 1.0, n) * np.where(vkind == 1, 1, np.where(vkind == 2, -1, 0))
    r += np.where(vkind == 0, rng.uniform(-1, 1, n), 0.0)
    c = r - A.T @ y  # so that c + Aᵀy = r: dual feasible
    return dict(c=c, A=A, row_lo=lo, row_hi=hi, lb=lb, ub=ub)


def transportation_lp(m: int, n: int, seed: int) -> dict:
    """A balanced transportation LP: rows ``Σ_j x_ij = s_i`` and ``Σ_i x_ij = d_j``, x >= 0."""
    rng = np.random.default_rng(seed)
    s = rng.integers(1, 50, m).astype(float)
    d = rng.multinomial(int(s.sum()), np.ones(n) / n).astype(float)
    rows = np.concatenate([np.repeat(np.arange(m), n), m + np.tile(np.arange(n), m)])
    cols = np.concatenate([np.arange(m * n), np.arange(m * n)])
    A = sp.csr_matrix((np.ones(2 * m * n), (rows, cols)), shape=(m + n, m * n))
    b = np.concatenate([s, d])
    return dict(
        c=rng.uniform(1.0, 100.0, m * n),
        A=A,
        row_lo=b,
        row_hi=b.copy(),
        lb=np.zeros(m * n),
        ub=np.full(m * n, INF),
    )


def check_optimal_certificate(lp: dict, res: PdhgResult, tol: float) -> None:
    """Feasibility, multiplier signs, reduced costs and weak duality, recomputed here."""
    A, c, x, y = lp["A"], lp["c"], res.x, res.y
    lo, hi, lb, ub = lp["row_lo"], lp["row_hi"], lp["lb"], lp["ub"]
    assert res.status == "optimal" and res.tolerance_met == res.tolerance
    ax = A @ x
    bscale = 1 + np.linalg.norm(np.where(np.isfinite(lo), lo, 0) + np.where(np.isfinite(hi), hi, 0))
    viol = np.maximum(lo - ax, 0) + np.maximum(ax - hi, 0)
    assert np.linalg.norm(viol) <= 2 * tol * bscale
    assert np.all(x >= lb - 1e-12 * (1 + np.abs(lb))) and np.all(x <= ub + 1e-12 * (1 + np.abs(ub)))
    assert np.allclose(res.reduced_costs, c + A.T @ y, rtol=1e-12, atol=1e-12)
    # y_i > 0 needs a finite upper side, y_i < 0 a finite lower side
    assert np.all(y[~np.isfinite(hi)] <= 0) and np.all(y[~np.isfinite(lo)] >= 0)
    obj = float(c @ x) + lp.get("offset", 0.0)
    assert obj == pytest.approx(res.objective, rel=1e-12, abs=1e-12)
    scale = 1 + abs(res.objective) + abs(res.dual_objective)
    assert res.dual_objective <= res.objective + 2 * tol * scale


def farkas_value(lp: dict, y: np.ndarray) -> tuple[float, float]:
    """``(D₀(y), violation)`` of a Farkas candidate: ``D₀ > 0`` with zero violation proves
    ``lo <= Ax <= hi, lb <= x <= ub`` empty (for every feasible x, yᵀAx <= σ(y) < (Aᵀy)ᵀx)."""
    A, lo, hi, lb, ub = lp["A"], lp["row_lo"], lp["row_hi"], lp["lb"], lp["ub"]
    g = A.T @ y
    gp, gm, yp, ym = np.maximum(g, 0), np.maximum(-g, 0), np.maximum(y, 0), np.maximum(-y, 0)
    fin = lambda v: np.where(np.isfinite(v), v, 0.0)  # noqa: E731
    viol = max(
        np.abs(gp[~np.isfinite(lb)]).max(initial=0),
        np.abs(gm[~np.isfinite(ub)]).max(initial=0),
        np.abs(yp[~np.isfinite(hi)]).max(initial=0),
        np.abs(ym[~np.isfinite(lo)]).max(initial=0),
    )
    d0 = fin(lb) @ gp - fin(ub) @ gm - (fin(hi) @ yp - fin(lo) @ ym)
    return float(d0), float(viol)


def ray_value(lp: dict, d: np.ndarray) -> tuple[float, float]:
    """``(cᵀd, violation)`` of a primal ray: ``cᵀd < 0`` with ``Ad`` in the recession cone of
    the rows and ``d`` in that of the bounds proves the LP unbounded (given a feasible point)."""
    A, lo, hi, lb, ub = lp["A"], lp["row_lo"], lp["row_hi"], lp["lb"], lp["ub"]
    ad = A @ d
    viol = max(
        np.maximum(ad[np.isfinite(hi)], 0).max(initial=0),
        np.maximum(-ad[np.isfinite(lo)], 0).max(initial=0),
        np.maximum(-d[np.isfinite(lb)], 0).max(initial=0),
        np.maximum(d[np.isfinite(ub)], 0).max(initial=0),
    )
    return float(lp["c"] @ d), float(viol)


def solve(lp: dict, **kw: object) -> PdhgResult:
    return pdhg_solve(
        lp["c"], lp["A"], lp["row_lo"], lp["row_hi"], lp["lb"], lp["ub"],
        offset=lp.get("offset", 0.0), **kw,
    )  # fmt: skip


# --- known answers


def test_hand_derived_multipliers_and_reduced_costs() -> None:
    # min -x1 - 2 x2  s.t.  x1 + x2 <= 4,  x1 >= 1,  0 <= x2 <= 10.  By hand: x = (1, 3);
    # the <= row binds with y1 = 2 (c2 + y1 = 0), the >= row binds at its lower side with
    # y2 = -1 (c1 + y1 + y2 = 0); reduced costs r = c + Aᵀy = (0, 0); objective -7.
    A = np.array([[1.0, 1.0], [1.0, 0.0]])
    res = pdhg_solve([-1, -2], A, [-INF, 1], [4, INF], [-INF, 0], [INF, 10], accuracy="high")
    assert res.status == "optimal"
    assert res.objective == pytest.approx(-7, abs=1e-6)
    assert res.x == pytest.approx([1, 3], abs=1e-6)
    assert res.y == pytest.approx([2, -1], abs=1e-6)
    assert res.r == pytest.approx([0, 0], abs=1e-6)


def test_reduced_cost_signs_at_bounds() -> None:
    # min x1 - x2, 0 <= x <= 1, one slack row x1 + x2 <= 5: x = (0, 1), y = 0, r = c:
    # r1 = 1 >= 0 at the lower bound, r2 = -1 <= 0 at the upper bound (by hand)
    res = pdhg_solve([1, -1], np.array([[1.0, 1.0]]), [-INF], [5], [0, 0], [1, 1], accuracy="high")
    assert res.x == pytest.approx([0, 1], abs=1e-7)
    assert res.y == pytest.approx([0], abs=1e-7)
    assert res.r == pytest.approx([1, -1], abs=1e-7)
    assert res.dual_objective == pytest.approx(-1, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_random_feasible_lps_match_highs(seed: int) -> None:
    lp = random_lp(seed)
    status, obj, _ = highs_solve(lp)
    assert status == "Optimal"
    for tol in (1e-4, 1e-7):
        res = solve(lp, tolerance=tol)
        check_optimal_certificate(lp, res, tol)
        assert res.objective == pytest.approx(obj, rel=10 * tol, abs=10 * tol)


def test_multipliers_match_highs_on_a_transportation_lp() -> None:
    lp = transportation_lp(6, 8, seed=3)
    status, obj, _ = highs_solve(lp)
    res = solve(lp, accuracy="high")
    check_optimal_certificate(lp, res, 1e-8)
    assert res.objective == pytest.approx(obj, rel=1e-7)
    # flow on an arc only where its reduced cost is 0 (complementary slackness)
    assert np.all(np.abs(res.r[res.x > 1e-5]) <= 1e-5 * (1 + np.abs(lp["c"]).max()))
    assert np.all(res.r >= -1e-6 * (1 + np.abs(lp["c"]).max()))


# --- infeasible / unbounded


def _infeasible_lps() -> dict[str, dict]:
    two_rows = dict(  # x1 + x2 >= 3 and x1 + x2 <= 1, x >= 0
        c=np.array([1.0, 1.0]), A=sp.csr_matrix([[1.0, 1.0], [1.0, 1.0]]),
        row_lo=np.array([3.0, -INF]), row_hi=np.array([INF, 1.0]),
        lb=np.zeros(2), ub=np.full(2, INF),
    )  # fmt: skip
    by_bounds = dict(  # x1 + x2 == 5 with 0 <= x <= 1
        c=np.array([1.0, -1.0]), A=sp.csr_matrix([[1.0, 1.0]]),
        row_lo=np.array([5.0]), row_hi=np.array([5.0]), lb=np.zeros(2), ub=np.ones(2),
    )  # fmt: skip
    rng = np.random.default_rng(11)  # Ax = b, x >= 0 with a planted Farkas vector
    A = rng.standard_normal((15, 30))
    yf = rng.standard_normal(15)
    A[:, A.T @ yf < 0] *= -1  # now Aᵀyf >= 0
    b = A @ rng.uniform(0, 1, 30)
    b -= yf * (yf @ b + 1.0) / (yf @ yf)  # now yfᵀb = -1 < 0: no x >= 0 with Ax = b
    planted = dict(
        c=rng.uniform(0, 1, 30), A=sp.csr_matrix(A), row_lo=b, row_hi=b.copy(),
        lb=np.zeros(30), ub=np.full(30, INF),
    )  # fmt: skip
    return {"two_rows": two_rows, "by_bounds": by_bounds, "planted": planted}


def _unbounded_lps() -> dict[str, dict]:
    ray = dict(  # min -x1 - x2, x1 - x2 <= 1, x >= 0: ray (1, 1)
        c=np.array([-1.0, -1.0]), A=sp.csr_matrix([[1.0, -1.0]]),
        row_lo=np.array([-INF]), row_hi=np.array([1.0]), lb=np.zeros(2), ub=np.full(2, INF),
    )  # fmt: skip
    free = dict(  # min x1, x1 + x2 >= 0, x1 free, x2 >= 0: ray (-1, 1)
        c=np.array([1.0, 0.0]), A=sp.csr_matrix([[1.0, 1.0]]),
        row_lo=np.array([0.0]), row_hi=np.array([INF]),
        lb=np.array([-INF, 0.0]), ub=np.full(2, INF),
    )  # fmt: skip
    rng = np.random.default_rng(12)  # Ax <= b, x >= 0, column 0 of A <= 0 and c_0 < 0
    A = rng.uniform(-1, 1, (10, 20))
    A[:, 0] = -rng.uniform(0.1, 1, 10)
    c = rng.uniform(0, 1, 20)
    c[0] = -0.5
    planted = dict(
        c=c, A=sp.csr_matrix(A), row_lo=np.full(10, -INF), row_hi=rng.uniform(1, 2, 10),
        lb=np.zeros(20), ub=np.full(20, INF),
    )  # fmt: skip
    return {"ray": ray, "free": free, "planted": planted}


@pytest.mark.parametrize("name", ["two_rows", "by_bounds", "planted"])
def test_primal_infeasible_with_farkas_certificate(name: str) -> None:
    lp = _infeasible_lps()[name]
    assert highs_solve(lp)[0] == "Infeasible"
    res = solve(lp)
    assert res.status == "primal_infeasible" and res.tolerance_met is None
    assert res.certificate is not None and np.abs(res.certificate).max() == pytest.approx(1.0)
    d0, viol = farkas_value(lp, res.certificate)
    assert d0 > 0 and viol <= 1e-7 * d0


@pytest.mark.parametrize("name", ["ray", "free", "planted"])
def test_dual_infeasible_with_primal_ray(name: str) -> None:
    lp = _unbounded_lps()[name]
    assert highs_solve(lp)[0] == "Unbounded"
    res = solve(lp)
    assert res.status == "dual_infeasible"
    assert res.certificate is not None
    cd, viol = ray_value(lp, res.certificate)
    assert cd < 0 and viol <= 1e-7 * -cd


# --- backends, warm start, options


def test_torch_cpu_and_numpy_reach_the_same_point() -> None:
    pytest.importorskip("torch")
    lp = random_lp(21, m=20, n=30)
    a = solve(lp, tolerance=1e-12)
    b = solve(lp, tolerance=1e-12, backend="torch", device="cpu", threads=1)
    assert a.status == b.status == "optimal"
    assert (a.backend, b.backend) == ("numpy", "torch")
    assert np.abs(a.x - b.x).max() <= 1e-8
    assert np.abs(a.y - b.y).max() <= 1e-8


@pytest.mark.gpu  # deselected by conftest.py where no CUDA device is present
def test_cuda_and_numpy_reach_the_same_point() -> None:
    lp = random_lp(21, m=20, n=30)
    a = solve(lp, tolerance=1e-12)
    b = solve(lp, tolerance=1e-12, device="cuda")
    assert b.backend == "torch" and b.device.startswith("cuda") and b.status == "optimal"
    assert np.abs(a.x - b.x).max() <= 1e-8 and np.abs(a.y - b.y).max() <= 1e-8
    lp = transportation_lp(200, 200, seed=2)
    c = solve(lp, tolerance=1e-4, device="cuda")
    check_optimal_certificate(lp, c, 1e-4)
    assert c.objective == pytest.approx(highs_solve(lp)[1], rel=1e-3)


def test_warm_start_after_a_small_cost_change_takes_fewer_iterations() -> None:
    lp = transportation_lp(20, 25, seed=1)
    first = solve(lp, tolerance=1e-6)
    c2 = lp["c"] * (1 + 0.01 * np.random.default_rng(5).uniform(-1, 1, lp["c"].size))
    lp2 = dict(lp, c=c2)
    cold = solve(lp2, tolerance=1e-6)
    warm = solve(lp2, tolerance=1e-6, warm_start=(first.x, first.y))
    assert cold.status == warm.status == "optimal"
    assert warm.iterations < cold.iterations
    assert warm.objective == pytest.approx(highs_solve(lp2)[1], rel=1e-5)


def test_warm_start_at_the_optimum_stops_at_once() -> None:
    lp = random_lp(4)
    first = solve(lp, accuracy="high")
    again = solve(lp, accuracy="high", warm_start=(first.x, first.y))
    assert again.status == "optimal" and again.iterations == 0


def test_polishing_and_constant_steps_reach_the_same_optimum() -> None:
    lp = random_lp(7)
    obj = highs_solve(lp)[1]
    options = ({"polish": True}, {"step_rule": "constant"}, {"averaging": False})
    for kw in (*options, {"method": "halpern", "polish": True}):
        res = solve(lp, tolerance=1e-6, **kw)
        check_optimal_certificate(lp, res, 1e-6)
        assert res.objective == pytest.approx(obj, rel=1e-5), kw


def test_limits_are_statuses() -> None:
    lp = random_lp(2)
    res = solve(lp, accuracy="high", max_iter=10)
    assert res.status == "iteration_limit" and res.iterations == 10
    assert res.tolerance_met is None
    res = solve(lp, accuracy="high", time_limit=0.0)
    assert res.status == "time_limit"
    assert set(STATUSES) >= {res.status}


def test_bad_input_raises() -> None:
    A = np.eye(2)
    with pytest.raises(ModelError, match="c has shape"):
        pdhg_solve([1.0], A, [0, 0], [1, 1])
    with pytest.raises(ModelError, match="NaN"):
        pdhg_solve([1.0, np.nan], A, [0, 0], [1, 1])
    with pytest.raises(ModelError, match="empty"):
        pdhg_solve([1.0, 1.0], A, [0, 0], [1, 1], [2, 0], [1, 1])
    with pytest.raises(ModelError, match="empty"):
        pdhg_solve([1.0, 1.0], A, [2, 0], [1, 1])
    with pytest.raises(OptionError, match="valid choices"):
        pdhg_solve([1.0, 1.0], A, [0, 0], [1, 1], accuracy="extreme")
    with pytest.raises(OptionError, match="valid choices"):
        pdhg_solve([1.0, 1.0], A, [0, 0], [1, 1], backend="jax")
    with pytest.raises(OptionError):
        pdhg_solve([1.0, 1.0], A, [0, 0], [1, 1], backend="numpy", device="cuda")


# --- Netlib


@pytest.mark.parametrize("name", QUICK_LOW)
def test_netlib_quick_at_1e4(name: str) -> None:
    res = solve(read_netlib(name), tolerance=1e-4)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(NETLIB[name], rel=1e-3)


@pytest.mark.parametrize("name", QUICK_HIGH)
def test_netlib_quick_at_1e8(name: str) -> None:
    lp = read_netlib(name)
    res = solve(lp, accuracy="high")
    check_optimal_certificate(lp, res, 1e-8)
    assert res.objective == pytest.approx(NETLIB[name], rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(HIGH_ACCURACY) - set(QUICK_HIGH)))
def test_netlib_slow_at_1e8(name: str) -> None:
    res = solve(read_netlib(name), accuracy="high", max_iter=300_000)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(NETLIB[name], rel=1e-6)


@pytest.mark.slow
def test_netlib_sweep_at_1e4() -> None:
    good, wrong = [], []
    for name, want in NETLIB.items():
        res = solve(read_netlib(name), tolerance=1e-4, max_iter=100_000)
        close = abs(res.objective - want) <= 1e-3 * abs(want)
        if res.status == "optimal":
            (good if close else wrong).append(name)
    assert not wrong, f"claimed optimal with a wrong objective: {wrong}"
    assert len(good) >= 15, f"only {len(good)} of 18 optimal: {sorted(good)}"
