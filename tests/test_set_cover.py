"""The ``set_cover`` family through the public API: ``solve(problem)`` on OR-Library ``scp``.

Known answers come from outside the code: the optima of ``data/MANIFEST.md``, the LP relaxation
solved here by ``scipy.optimize.linprog`` (HiGHS), HiGHS on the Model, a hand-derived example,
and ``L(u)`` recomputed here with numpy from the instance's matrix.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from ortools_lag import Problem, Status, solve
from ortools_lag.errors import ModelError, NotSupportedError
from ortools_lag.lagrangian import Lagrangian
from ortools_lag.problems import set_cover
from ortools_lag.solvers.bound_certificate import certify_bound, recompute_dual
from tests.certificates import assert_signs, check_solution
from tests.manifest_answers import SCP_DATA, SCP_OPTIMA, SCP_SLOW, cover_lagrangian, cover_lp_value


def _random(seed: int, m: int = 12, n: int = 20) -> Problem:
    rng = np.random.default_rng(seed)
    a = (rng.random((m, n)) < 0.25).astype(float)
    a[np.arange(m), rng.integers(n, size=m)] = 1.0
    return set_cover.build(rng.integers(1, 10, n).astype(float), a)


def test_hand_example() -> None:
    """Rows {0,2}, {0,1}, {1,2}, {0,1,2}; costs 2, 2, 3. No single column covers rows 0-2, any
    two do: the optimum is {0, 1} at 4. LP = 3.5: x = (1/2, 1/2, 1/2) covers every row at 3.5,
    and u = (1.5, 0.5, 1.5, 0) is dual feasible (column sums 2, 2, 3) with sum 3.5; at that u
    every Lagrangian cost is 0 and L(u) = 3.5."""
    c = np.array([2.0, 2.0, 3.0])
    a = np.array([[1, 0, 1], [1, 1, 0], [0, 1, 1], [1, 1, 1]])
    p = set_cover.build(c, a)
    sol = solve(p)
    check_solution(p.model, sol, duals=False)
    assert sol.status == Status.OPTIMAL and sol.objective == 4.0
    assert p.decode(sol).columns == [0, 1] and p.decode(sol).cost == 4.0
    assert sol.bound <= 3.5 + 1e-9 and sol.info["bound_int"] == 4.0
    assert cover_lp_value(c, sp.csr_matrix(a, dtype=float)) == pytest.approx(3.5)
    u = np.array([1.5, 0.5, 1.5, 0.0])
    assert cover_lagrangian(c, sp.csr_matrix(a, dtype=float), u) == 3.5


@pytest.mark.parametrize("seed", range(3))
def test_oracle_equals_highs_on_the_kept_part(seed: int) -> None:
    p = _random(seed)
    lag = Lagrangian(p)
    u = np.random.default_rng(seed).uniform(0, 3, p.data.matrix.shape[0])
    q, xs, g = lag.dual_value({"cover": u})
    assert q == pytest.approx(recompute_dual(p.model, ("cover",), u), abs=1e-9)
    assert q == pytest.approx(cover_lagrangian(p.data.costs, p.data.matrix, u), abs=1e-9)
    assert np.allclose(g["cover"], 1.0 - p.data.matrix @ xs["x"])


@pytest.mark.parametrize("seed", range(3))
def test_small_instances_against_highs(seed: int) -> None:
    p = _random(seed)
    ref = solve(p, "highs")
    sol = solve(p)
    check_solution(p.model, sol, duals=False)
    assert sol.objective == pytest.approx(ref.objective)
    assert sol.bound <= ref.objective + 1e-9
    assert sol.bound == pytest.approx(cover_lp_value(p.data.costs, p.data.matrix), rel=1e-3)


@pytest.mark.parametrize("solver", ["subgradient", "bundle"])
def test_generic_dual_methods_take_the_relaxation(solver: str) -> None:
    p = _random(7, m=30, n=60)
    ref = solve(p, "highs")
    sol = solve(p, solver, max_iter=200)
    check_solution(p.model, sol, duals=False)
    assert_signs(p.model, sol)
    assert sol.kkt.certified and sol.bound <= ref.objective + 1e-6
    assert sol.bound >= cover_lp_value(p.data.costs, p.data.matrix) * (1 - 1e-2)


def _orlib_case(name: str) -> None:
    p = set_cover.read(SCP_DATA / f"{name}.txt")
    c, a = p.data.costs, p.data.matrix
    sol = solve(p)
    check_solution(p.model, sol, duals=False)
    assert_signs(p.model, sol)  # u >= 0 on the cover rows
    opt, lp = SCP_OPTIMA[name], cover_lp_value(c, a)
    assert sol.objective <= 1.02 * opt
    assert sol.bound <= opt and abs(sol.bound - lp) <= 1e-3 * lp
    assert sol.info["bound_int"] == math.ceil(sol.bound - 1e-9) <= opt
    u = np.asarray(sol.multipliers["cover"])
    assert sol.bound <= cover_lagrangian(c, a, u) + 1e-6
    assert sol.kkt.kind == "lagrangian" and sol.kkt.certified, sol.kkt.notes
    rep = certify_bound(p.model, ["cover"], sol.multipliers, sol.bound, x=sol.x)  # the engine's
    assert rep.certified and rep.dual_objective == pytest.approx(
        cover_lagrangian(c, a, u), abs=1e-6
    )
    cover = p.decode(sol)
    x = np.zeros(c.size)
    x[cover.columns] = 1.0
    assert (a @ x >= 1).all() and cover.cost == sol.objective


@pytest.mark.parametrize("name", sorted(set(SCP_OPTIMA) - SCP_SLOW))
def test_orlib_heuristic_and_bound(name: str) -> None:
    _orlib_case(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCP_SLOW))
def test_orlib_heuristic_and_bound_large(name: str) -> None:
    _orlib_case(name)


def test_build_errors() -> None:
    with pytest.raises(ModelError):
        set_cover.build([1.0, 2.0], [[1, 0], [0, 0]])  # row 1 uncovered
    with pytest.raises(ModelError):
        set_cover.build([1.0, -2.0], [[1, 1]])
    with pytest.raises(ModelError):
        set_cover.build([1.0], rows=[[3]])
    with pytest.raises(ModelError):
        set_cover.build([1.0, 2.0], [[1, 1]], rows=[[0]])
    p = set_cover.build([1.0, 2.0], rows=[[0, 1], [1]])
    assert p.data.matrix.toarray().tolist() == [[1.0, 1.0], [0.0, 1.0]]
    with pytest.raises(NotSupportedError, match="held_karp"):
        solve(p, "held_karp")
