"""The ``facility_location`` family through the public API: ``solve(problem)`` on OR-Library
``cap71``-``cap74`` and ``cap101``.

Known answers come from outside the code: the optima of ``data/MANIFEST.md`` and of the ``.opt``
files, HiGHS on the Model (MIP) and on its LP relaxation, a hand-derived example, and ``L(lam)``
recomputed here with numpy.
"""

from __future__ import annotations

import math
from pathlib import Path

import highspy
import numpy as np
import pytest

from ortools_lag import Problem, Status, solve
from ortools_lag.errors import ModelError
from ortools_lag.lagrangian import Lagrangian
from ortools_lag.model import to_standard_form
from ortools_lag.problems import facility_location
from ortools_lag.solvers.bound_certificate import certify_bound, recompute_dual
from tests.certificates import check_solution

DATA = Path(__file__).parents[1] / "data" / "ufl" / "orlib_uncap"

# data/MANIFEST.md, ufl table: optimum
OPTIMUM = {
    "70/cap71": 932615.750,
    "70/cap72": 977799.400,
    "70/cap73": 1010641.450,
    "70/cap74": 1034976.975,
    "100/cap101": 796648.4375,  # its .opt file: 796648.4375 (MANIFEST rounds to 796648.437)
}


def _lagrangian(f: np.ndarray, c: np.ndarray, lam: np.ndarray) -> float:
    """L(lam) = -sum lam + sum_i min(0, f_i + sum_j min(0, c_ij + lam_j)), by numpy here."""
    return float(-lam.sum() + np.minimum(f + np.minimum(c + lam, 0.0).sum(axis=1), 0.0).sum())


def _lp_value(p: Problem) -> float:
    """The LP relaxation of the Model by highspy (integrality dropped)."""
    sf = to_standard_form(p.model)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    a = sf.A.tocsc()
    h.passModel(_lp(sf.c, sf.lb, sf.ub, sf.row_lo, sf.row_hi, a.indptr, a.indices, a.data))
    h.run()
    return float(h.getInfo().objective_function_value) + sf.offset


def _lp(*arrays: np.ndarray) -> highspy.HighsLp:
    """A column-wise HighsLp from c, lb, ub, row_lo, row_hi and the CSC arrays of A."""
    c, lb, ub, lo, hi, start, index, value = arrays
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(c), len(lo)
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = c, lb, ub
    lp.row_lower_, lp.row_upper_ = lo, hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = start, index, value
    return lp


def _random(seed: int, m: int = 5, n: int = 12) -> Problem:
    rng = np.random.default_rng(seed)
    return facility_location.build(
        rng.uniform(20, 60, m).round(), rng.uniform(0, 40, (m, n)).round()
    )


def test_hand_example() -> None:
    """f = (3, 3), c = [[0, 1, 5], [5, 1, 0]]: opening one facility costs 3 + 6 = 9, both
    3 + 3 + 0 + 1 + 0 = 7. LP = 7 too: lam = (-3, -1, -3) gives brackets 3 - 3 - 0 - 0 = 0 and
    0, so L = 3 + 1 + 3 = 7 (a bound equal to a feasible cost)."""
    p = facility_location.build([3.0, 3.0], [[0.0, 1.0, 5.0], [5.0, 1.0, 0.0]])
    assert _lagrangian(p.data.fixed_costs, p.data.costs, np.array([-3.0, -1.0, -3.0])) == 7.0
    sol = solve(p)
    check_solution(p.model, sol, duals=False)
    assert sol.status == Status.OPTIMAL and sol.objective == 7.0
    assert sol.bound == pytest.approx(7.0, abs=1e-6)
    ans = p.decode(sol)
    assert ans.open == [0, 1] and ans.assignment[0] == 0 and ans.assignment[2] == 1
    assert ans.cost == 7.0


@pytest.mark.parametrize("seed", range(3))
def test_oracle_equals_highs_on_the_kept_part(seed: int) -> None:
    p = _random(seed)
    lag = Lagrangian(p)
    lam = -np.random.default_rng(seed).uniform(0, 40, 12)
    q, xs, g = lag.dual_value({"assign": lam})
    assert q == pytest.approx(recompute_dual(p.model, ("assign",), lam), abs=1e-9)
    assert q == pytest.approx(_lagrangian(p.data.fixed_costs, p.data.costs, lam), abs=1e-9)
    assert np.allclose(g["assign"], xs["x"].sum(axis=0) - 1)


@pytest.mark.parametrize("seed", range(3))
def test_small_instances_against_highs(seed: int) -> None:
    p = _random(seed)
    ref = solve(p, "highs")
    sol = solve(p)
    check_solution(p.model, sol, duals=False)
    assert sol.objective == pytest.approx(ref.objective)
    assert sol.bound <= ref.objective + 1e-6
    assert sol.bound == pytest.approx(_lp_value(p), rel=1e-6)


@pytest.mark.parametrize("solver", ["subgradient"])
def test_generic_dual_methods_take_the_relaxation(solver: str) -> None:
    p = _random(4)
    ref = solve(p, "highs")
    sol = solve(p, solver, max_iter=300)
    check_solution(p.model, sol, duals=False)
    assert sol.kkt.certified and sol.bound <= ref.objective + 1e-6
    assert sol.objective == pytest.approx(ref.objective)


@pytest.mark.parametrize("key", sorted(OPTIMUM))
def test_orlib_instances_are_proven_optimal(key: str) -> None:
    p = facility_location.read(DATA / f"{key}.txt")
    sol = solve(p)
    check_solution(p.model, sol, duals=False)
    opt = OPTIMUM[key]
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(opt, rel=1e-9)
    assert sol.bound <= opt * (1 + 1e-12) and sol.gap <= 1e-6 * opt
    assert p.metadata["optimum"] == pytest.approx(opt, rel=1e-9)  # the .opt file
    lam = np.asarray(sol.multipliers["assign"])
    assert sol.bound <= _lagrangian(p.data.fixed_costs, p.data.costs, lam) + 1e-6 * opt
    assert sol.kkt.kind == "lagrangian" and sol.kkt.certified, sol.kkt.notes
    rep = certify_bound(p.model, ["assign"], sol.multipliers, sol.bound, x=sol.x)  # the engine's
    assert rep.certified and rep.dual_objective == pytest.approx(opt, rel=1e-9)
    ans = p.decode(sol)
    assert ans.cost == pytest.approx(sol.objective, rel=1e-12)
    c = p.data.costs
    assert np.allclose(c[ans.assignment, np.arange(c.shape[1])], c[ans.open].min(axis=0))


def test_highs_agrees_on_cap71() -> None:
    p = facility_location.read(DATA / "70" / "cap71.txt")
    ref = solve(p, "highs")
    assert ref.status == Status.OPTIMAL
    assert ref.objective == pytest.approx(OPTIMUM["70/cap71"], rel=1e-9)
    assert _lp_value(p) == pytest.approx(OPTIMUM["70/cap71"], rel=1e-9)  # the LP is integral


def test_build_errors() -> None:
    with pytest.raises(ModelError):
        facility_location.build([1.0], [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ModelError):
        facility_location.build([1.0], [[math.inf]])
    with pytest.raises(ModelError):
        facility_location.build([1.0], np.zeros((1, 0)))
