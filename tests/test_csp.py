"""The ``csp`` family through the public API: ``solve(problem)`` and its certificate.

Known answers: OR-Library rcsp optima (data/MANIFEST.md); the Ahuja–Magnanti–Orlin example of the
Lagrangian-engine issue (bound 7 at mu = 2, optimum 13 on 1-3-2-4-6, by hand enumeration in
problems/model/csp_six_nodes.yaml); an independent scipy.milp (HiGHS) formulation and networkx's
simple-path enumeration on synthetic instances with lower limits and vertex resources.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from ortools_lag import Status, solve
from ortools_lag.errors import NotSupportedError
from ortools_lag.problems import csp
from ortools_lag.solvers.bound_certificate import recompute_dual
from tests.certificates import check_solution
from tests.test_csp_algorithms import _brute, _highs_referee

DATA = Path(__file__).parents[1] / "data" / "rcsp"
RCSP_OPT = [131, 131, 2, 2, 100, 100, 6, 14, 420, 420, 6, 6]
AMO = dict(
    tails=[0, 0, 1, 1, 2, 2, 2, 3, 3, 4],
    heads=[1, 2, 3, 4, 1, 3, 4, 4, 5, 5],
    cost=[1, 10, 1, 2, 1, 5, 12, 10, 1, 2],
    resources=[10, 3, 1, 3, 2, 7, 3, 1, 7, 2],
)


def _reevaluated(problem, sol) -> None:  # type: ignore[no-untyped-def]
    """The Lagrangian part of the bound is at most q(mu, nu) recomputed by HiGHS (min form)."""
    assert sol.kkt.kind == "lagrangian" and sol.kkt.certified, sol.kkt.notes
    lam = np.r_[sol.multipliers["upper"], sol.multipliers["lower"]]
    q = recompute_dual(problem.model, ("upper", "lower"), lam)
    lag = sol.info["lagrangian_bound"]
    assert lag <= q + 1e-6 * (1 + abs(q))
    assert lag <= sol.bound + 1e-9 and sol.bound <= sol.objective + 1e-9


@pytest.mark.parametrize("k", range(1, 13))
def test_rcsp_published_optimum_proven(k: int) -> None:
    p = csp.read(DATA / f"rcsp{k}.txt")
    sol = solve(p)
    assert sol.solver == "csp_exact" and sol.status == Status.OPTIMAL
    assert sol.objective == RCSP_OPT[k - 1] and sol.bound == sol.objective and sol.gap == 0
    check_solution(p.model, sol, duals=False)
    _reevaluated(p, sol)
    assert sol.info["bound_from"].startswith(("lagrangian_", "highs_mip_fallback"))
    assert sol.info["point_from"] in ("lagrangian_oracle", "lagrangian_enumeration")
    assert not sol.info["mip_fallback"]  # the default path closed the gap without a MIP
    assert sol.history is not None and len(sol.history) == sol.iterations >= 1
    assert np.all(np.diff(sol.history.bound) >= 0)
    path = p.decode(sol)
    assert path.path[0] == 0 and path.path[-1] == 99 + 100 * (k > 8)
    assert path.cost == RCSP_OPT[k - 1] and len(set(path.path)) == len(path.path)
    assert np.all(np.asarray(path.resources) <= p.data.instance.upper + 1e-9)


def test_six_node_example_gap_closing_finds_thirteen() -> None:
    p = csp.build(**AMO, upper=14)
    sol = solve(p)
    assert sol.status == Status.OPTIMAL and sol.objective == 13 and sol.bound == 13
    assert sol.info["lagrangian_bound"] == pytest.approx(7.0, abs=1e-6)
    assert sol.multipliers["upper"][0] == pytest.approx(2.0, abs=1e-6)
    assert sol.multipliers["lower"][0] == 0.0
    assert sol.info["bound_from"] == "lagrangian_enumeration"
    assert [v + 1 for v in p.decode(sol).path] == [1, 3, 2, 4, 6]
    check_solution(p.model, sol, duals=False)
    _reevaluated(p, sol)


def test_six_node_example_generic_methods_and_highs() -> None:
    p = csp.build(**AMO, upper=14)
    dual = solve(p, "bundle", max_iter=60)
    assert dual.bound == pytest.approx(7.0, abs=1e-4) and dual.objective >= 13
    assert dual.multipliers["upper"][0] == pytest.approx(2.0, abs=1e-3)
    check_solution(p.model, dual, duals=False)
    exact = solve(p, "highs")
    assert exact.status == Status.OPTIMAL and exact.objective == pytest.approx(13.0)


def test_synthetic_lower_limits_and_vertex_resources_match_highs() -> None:
    rng = np.random.default_rng(7)
    checked = ordered = 0
    for trial in range(16):
        n = int(rng.integers(6, 9))
        m = int(rng.integers(2 * n, 3 * n))
        t, h = rng.integers(0, n, m), rng.integers(0, n, m)
        t, h = t[t != h], h[t != h]
        if trial % 2:
            t, h = np.minimum(t, h), np.maximum(t, h)  # acyclic half of the trials
        c = rng.integers(0, 20, t.size).astype(float)
        r = rng.integers(0, 10, (t.size, 2)).astype(float)
        q = rng.integers(0, 4, (n, 2)).astype(float)
        up = rng.integers(12, 30, 2).astype(float)
        lo = np.floor(up * rng.uniform(0.2, 0.6, 2))
        p = csp.build(t, h, c, r, up, lower=lo, vertex_resources=q, n=n)
        sol = solve(p)
        ref = _highs_referee(n, t, h, c, r, q, lo, up)
        assert ref == _brute(n, t, h, c, r, q, lo, up)
        ordered += p.data.ordered
        if math.isinf(ref):
            assert sol.status == Status.INFEASIBLE
            continue
        assert sol.status == Status.OPTIMAL and sol.objective == ref
        check_solution(p.model, sol, duals=False)
        _reevaluated(p, sol)
        assert solve(p, "highs").objective == pytest.approx(ref)  # the Model itself is exact
        checked += 1
    assert checked >= 6 and ordered >= 1


def test_enumeration_limit_falls_back_to_highs_and_the_solution_names_it() -> None:
    p = csp.read(DATA / "rcsp7.txt")
    sol = solve(p, max_labels=1)
    assert sol.info["bound_from"] == "highs_mip_fallback" and sol.info["mip_fallback"]
    assert sol.status == Status.OPTIMAL and sol.objective == RCSP_OPT[6]
    check_solution(p.model, sol, duals=False)
    stopped = solve(p, max_labels=1, fallback=False)
    assert stopped.status in (Status.FEASIBLE, Status.NO_SOLUTION)  # not proven, says so
    assert stopped.bound <= RCSP_OPT[6] and not stopped.info["mip_fallback"]


def test_infeasible_instance_is_a_status() -> None:
    p = csp.build([0, 1], [1, 2], [1, 1], [5, 5], upper=4)
    sol = solve(p)
    assert sol.status == Status.INFEASIBLE and math.isnan(sol.objective)


def test_wrong_kind_and_bad_data() -> None:
    from ortools_lag.problems import knapsack

    with pytest.raises(NotSupportedError):
        solve(knapsack.build([1.0], [1.0], 1.0), "csp_exact")
    with pytest.raises(Exception, match="0..2"):
        csp.build([0], [3], [1], [1], upper=4, n=3)
