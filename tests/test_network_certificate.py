"""Issue 23: structured network Problems without a generic Model, and their certificate.

The structured solvers (``lsa``, ``auction``, ``dijkstra``) certify from the family's arrays
(``problems/lp_certificate.py``); the generic ``kkt.certify`` on the Model stays the judge, and
here the two agree on random instances -- at optimal points and at perturbed multipliers whose
residuals are not zero. Optima are compared with scipy (``linear_sum_assignment``, ``dijkstra``)
and every Solution goes through ``tests/certificates.py``. The compiled kernels (numba) and the
numpy path are both run.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import dijkstra

from ortools_lag import Model, ModelError, Problem, Status, kkt, solve
from ortools_lag.algorithms.assignment import auction, check_assignment, linear_assignment
from ortools_lag.algorithms.assignment_kernels import kernels, use_numba
from ortools_lag.problems import assignment, shortest_path

from .certificates import check_solution

FIELDS = ("primal_residual", "stationarity", "complementarity", "duality_gap", "sign_violation")


# the compiled path where numba is installed (the fast extra), the numpy path always
PATHS = (["numba"] if importlib.util.find_spec("numba") else []) + ["numpy"]


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest):
    """Run a test with the compiled kernels, then with the numpy path forced."""
    previous = use_numba(request.param == "numba")
    assert (kernels() is not None) == (request.param == "numba")
    yield request.param
    use_numba(previous)


def _agree(report, generic) -> None:
    """The family's report and kkt.certify's: the same residuals (to rounding), same verdict."""
    assert report.certified == generic.certified, (report, generic)
    for name in FIELDS:
        a, b = getattr(report, name), getattr(generic, name)
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (name, a, b)
    assert math.isclose(report.dual_objective, generic.dual_objective, rel_tol=1e-12, abs_tol=1e-9)


def _table(rng: np.random.Generator, n: int, m: int, forbid: float) -> np.ndarray:
    c = rng.integers(0, 50, (n, m)).astype(float)
    if forbid:
        c[rng.random((n, m)) < forbid] = np.inf
        c[np.arange(min(n, m)), np.arange(min(n, m))] = 1.0  # a complete matching exists
    return c


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("solver", ["lsa", "auction"])
def test_assignment_family_report_agrees_with_kkt_certify(seed: int, solver: str, path) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 30))
    m = n + int(rng.integers(-3, 4)) if seed % 2 else n
    m = max(m, 1)
    c = _table(rng, n, m, forbid=0.3 if seed % 3 == 0 else 0.0)
    p = assignment.build(c)
    sol = solve(p, solver)
    assert not p.model_built  # the structured solver never built the Model
    r, k = linear_sum_assignment(np.where(np.isfinite(c), c, 1e6))
    assert sol.objective == pytest.approx(float(c[r, k].sum()), abs=1e-9)
    assert sol.status == Status.OPTIMAL and sol.info["certificate"]["certified"]
    check_solution(p.model, sol)
    _agree(sol.kkt, kkt.certify(p.model, sol.x, sol.multipliers))
    generic, r_flat = kkt.certify_with_reduced_costs(p.model, sol.x, sol.multipliers)
    assert np.allclose(sol.reduced_costs["x"].ravel(), r_flat)
    # perturbed prices: both certificates see the same (non-zero) residuals
    lam = {g: np.asarray(v) + rng.normal(0, 2.0, np.shape(v)) for g, v in sol.multipliers.items()}
    lp = p.data.lp(np.asarray(sol.x["x"], dtype=float).ravel(), lam)
    bad = kkt.certify(p.model, sol.x, lam)
    assert not bad.certified
    _agree(lp.report(1e-6), bad)


@pytest.mark.parametrize("seed", range(6))
def test_shortest_path_family_report_agrees_with_kkt_certify(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n, m = int(rng.integers(5, 60)), int(rng.integers(10, 300))
    t, h = rng.integers(0, n, m), rng.integers(0, n, m)
    c = rng.integers(1, 20, m).astype(float)
    target = None if seed % 2 else int(rng.integers(1, n))
    bound = 1.0 if seed in (0, 4) else None  # a bound of 1 holds a path, not a tree
    p = shortest_path.build(t, h, c, n=n, source=0, target=target, arc_bound=bound)
    sol = solve(p)
    order = np.lexsort((c, h, t))  # the cheapest of parallel arcs first
    key = t[order] * n + h[order]
    first = np.r_[True, key[1:] != key[:-1]]
    sel = order[first]
    dist = dijkstra(sp.csr_matrix((c[sel], (t[sel], h[sel])), shape=(n, n)), indices=0)
    if target is not None and not np.isfinite(dist[target]):
        assert sol.status == Status.INFEASIBLE  # a Farkas ray, checked on the Model
        return
    assert not p.model_built  # an optimal answer is certified without the Model
    pi = sol.multipliers["flow"]
    ok = np.isfinite(dist)
    assert np.allclose(pi[ok], dist[ok])
    check_solution(p.model, sol)
    _agree(sol.kkt, kkt.certify(p.model, sol.x, sol.multipliers))
    wrong = {"flow": pi + rng.normal(0, 3.0, n)}
    lp = p.data.lp(np.asarray(sol.x["x"], dtype=float), wrong)
    bad = kkt.certify(p.model, sol.x, wrong)
    assert not bad.certified
    _agree(lp.report(1e-6), bad)


@pytest.mark.parametrize("n", [1, 2, 3, 40, 120])
def test_assignment_kernels_both_paths_match_scipy(n: int, path) -> None:
    c = np.random.default_rng(n).integers(0, 1000, (n, n)).astype(float)
    r, k = linear_sum_assignment(c)
    best = float(c[r, k].sum())
    exact = linear_assignment(c)
    assert exact.cost == best
    lam, mu = exact.person_multiplier, exact.object_multiplier
    assert check_assignment(c, exact.col_of_row, lam, mu) == 0
    bid = auction(c)
    assert bid.cost == best  # integer costs, eps < 1/n: optimal
    eps_cs = check_assignment(c, bid.col_of_row, bid.person_multiplier, bid.object_multiplier)
    assert eps_cs <= bid.eps * (1 + 1e-9) + 1e-12


def test_auction_rejects_a_non_optimal_matching_in_both_paths(path) -> None:
    from ortools_lag.algorithms.assignment import assignment_duals

    with pytest.raises(ModelError, match="not optimal"):
        assignment_duals(np.array([[1.0, 3.0], [2.0, 9.0]]), [0, 1])


def test_problem_builds_a_deferred_model_once() -> None:
    calls = []

    def build() -> Model:
        calls.append(1)
        m = Model()
        x = m.var("x", 2, ub=1)
        m.minimize(x.sum())
        m.add("cover", x.sum() >= 1)
        return m

    p = Problem(build_model=build, n_vars=2)
    assert not p.model_built and p.num_vars == 2 and not calls
    assert p.model.n == 2 and p.model is p.model and len(calls) == 1
    assert solve(p, "highs").objective == pytest.approx(1.0)
    with pytest.raises(ModelError, match="build_model"):
        Problem()


def test_generic_solver_on_a_structured_problem_builds_the_model() -> None:
    c = np.array([[4.0, 1.0, 3.0], [2.0, 0.0, 5.0], [3.0, 2.0, 2.0]])
    p = assignment.build(c)
    lsa = solve(p)
    assert not p.model_built
    lp = solve(p, "network_lp")  # HiGHS reads the Model: built now
    assert p.model_built and lp.objective == lsa.objective == 5.0
    check_solution(p.model, lp)
