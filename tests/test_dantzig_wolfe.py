"""Dantzig-Wolfe column generation (``dantzig_wolfe``) against answers from outside the code.

Known answers: the Dantzig-Wolfe master of gap1-1 written out by enumerating every feasible
knapsack of every agent and solved by scipy's ``linprog``; the min-form Lagrangian duals of
gap1-gap4 listed in the Lagrangian-engine issue (``tests/test_gap.py``'s table); the published
optima of the OR-Library ``cap`` instances, whose LP relaxations are integral (data/MANIFEST.md);
HiGHS on a continuous block LP; and the independent dual method ``bundle`` on the same plan.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from ortools_lag import Model, Status, solve
from ortools_lag.errors import NotSupportedError, OptionError
from ortools_lag.io.gap import read_gap
from ortools_lag.problems import facility_location, gap
from ortools_lag.solvers.column_generation import master as master_module
from tests.certificates import check_solution

ROOT = Path(__file__).parents[1]
GAP = ROOT / "data" / "gap"
UFL = ROOT / "data" / "ufl" / "orlib_uncap"
GAP_DUALS = {  # min-form Lagrangian duals (assignment rows relaxed), the Lagrangian-engine issue
    ("gap1", 1): 260,
    ("gap1", 3): 256,
    ("gap2", 2): 267.75,
    ("gap3", 1): 437.667,
    ("gap4", 3): 425.5,
}
GAP_OPT_MIN = {
    ("gap1", 1): 261,
    ("gap1", 3): 256,
    ("gap2", 2): 269,
    ("gap3", 1): 438,
    ("gap4", 3): 426,
}
UFL_OPT = {"70/cap71": 932615.75, "100/cap101": 796648.4375}  # data/MANIFEST.md, ufl table
TIGHT = {"tolerance": 1e-9}  # drive both dual methods to the dual optimum, not to a 1e-6 gap


def _relaxed_rows_hold(model: Model, name: str, x: dict, tol: float = 1e-8) -> None:
    z = model.join(dict(x))
    g = model.groups[name]
    v = g.body.value(z)
    assert np.all(v >= g.lo - tol) and np.all(v <= g.hi + tol), name


def _explicit_master_gap(path: Path, k: int) -> float:
    """The Dantzig-Wolfe master with *every* column: all feasible 0-1 knapsacks of each agent
    (enumerated), convexity rows, the assignment rows; solved by scipy's linprog."""
    inst = read_gap(path, k)
    m, n = inst.shape
    subsets = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(float)  # 2^n x n
    blocks, costs, points = [], [], []
    for i in range(m):
        ok = subsets[subsets @ inst.weight[i] <= inst.capacity[i]]
        blocks.append(np.full(len(ok), i))
        costs.append(ok @ inst.cost[i])
        points.append(ok)
    block, cost, pts = np.concatenate(blocks), np.concatenate(costs), np.vstack(points)
    conv = sp.csr_matrix((np.ones(block.size), (block, np.arange(block.size))), (m, block.size))
    a_eq = sp.vstack([sp.csr_matrix(pts.T), conv])
    res = linprog(cost, A_eq=a_eq, b_eq=np.ones(n + m), bounds=(0, None), method="highs")
    assert res.status == 0
    return float(res.fun)


def test_gap1_1_bound_equals_the_explicit_master_and_the_issue_value() -> None:
    p = gap.read(GAP / "gap1.txt", 1)
    sol = solve(p, "dantzig_wolfe", **TIGHT)
    explicit = _explicit_master_gap(GAP / "gap1.txt", 1)
    assert explicit == pytest.approx(260.0, abs=1e-7)  # the issue's Lagrangian dual value
    assert sol.bound == pytest.approx(explicit, rel=1e-9)
    assert sol.info["master_value"] == pytest.approx(explicit, rel=1e-9)
    assert sol.info["master_status"] == "optimal" and sol.termination.value == "converged"
    # the reported point: a feasible assignment, no better than the published optimum 261
    check_solution(p.model, sol, duals=False)
    assert sol.objective >= 261 - 1e-9 and sol.status is Status.FEASIBLE
    assert sol.gap == pytest.approx(sol.objective - sol.bound)
    assert sol.kkt.certified and sol.kkt.dual_objective == pytest.approx(sol.bound, rel=1e-7)


SLOW = pytest.mark.slow


@pytest.mark.parametrize(
    "key",
    [pytest.param(k, marks=[SLOW] if k[0] in ("gap3", "gap4") else []) for k in sorted(GAP_DUALS)],
)
def test_gap_bound_equals_bundle_and_the_listed_dual(key: tuple[str, int]) -> None:
    p = gap.read(GAP / f"{key[0]}.txt", key[1])
    dw = solve(p, "dantzig_wolfe", **TIGHT)
    bundle = solve(p, "bundle", relaxation="assignment", **TIGHT)
    assert dw.bound == pytest.approx(bundle.bound, rel=1e-6)
    assert dw.bound == pytest.approx(GAP_DUALS[key], abs=1e-3)
    assert dw.bound <= GAP_OPT_MIN[key] + 1e-9 <= dw.objective + 2e-9
    check_solution(p.model, dw, duals=False)
    # the master's convex combination satisfies the relaxed rows and the kept ones (a convex
    # combination of knapsack points), and its cost is the master's value (LP duality)
    frac = dw.info["fractional_x"]
    _relaxed_rows_hold(p.model, "assignment", frac)
    _relaxed_rows_hold(p.model, "capacity", frac)
    z = p.model.join(dict(frac))
    assert p.model.objective_value(z) == pytest.approx(dw.info["master_value"], rel=1e-9)
    assert dw.info["master_artificial"] <= 1e-9


def test_gap_maximisation_upper_bound() -> None:
    p = gap.read(GAP / "gap1.txt", 2, sense="max")  # OR-Library gapinfo optimum (max) 327
    dw = solve(p, "dantzig_wolfe", **TIGHT)
    bundle = solve(p, "bundle", relaxation="assignment", **TIGHT)
    assert dw.bound == pytest.approx(bundle.bound, rel=1e-6)
    assert dw.bound >= 327 - 1e-9 >= dw.objective - 2e-9  # an upper bound of a maximisation
    check_solution(p.model, dw, duals=False)
    _relaxed_rows_hold(p.model, "assignment", dw.info["fractional_x"])


@pytest.mark.parametrize(
    "key", [pytest.param(k, marks=[SLOW] if k.startswith("100") else []) for k in sorted(UFL_OPT)]
)
def test_ufl_bound_meets_the_published_optimum(key: str) -> None:
    p = facility_location.read(UFL / f"{key}.txt")
    dw = solve(p, "dantzig_wolfe", **TIGHT)
    # bundle's default first weight stalls on these instances (cost scale 1e5): a smaller one
    bundle = solve(p, "bundle", prox=1e-3, **TIGHT)
    assert dw.bound == pytest.approx(UFL_OPT[key], rel=1e-6)  # the LP is integral here
    assert dw.bound == pytest.approx(bundle.bound, rel=1e-6)
    assert dw.status is Status.OPTIMAL and dw.objective == pytest.approx(UFL_OPT[key], rel=1e-9)
    check_solution(p.model, dw, duals=False)
    frac = dw.info["fractional_x"]
    _relaxed_rows_hold(p.model, "assign", frac)
    _relaxed_rows_hold(p.model, "link", frac)


def test_price_and_branch_gives_the_point_without_a_heuristic() -> None:
    """gap1-4 as a plain Model: HiGHS prices each agent's knapsack (no oracle, no heuristic),
    and the master solved as a MIP over the generated columns supplies the assignment."""
    inst = read_gap(GAP / "gap1.txt", 4)  # its master's convex combinations stay fractional
    m = Model("gap1-4 plain")
    x = m.var("x", inst.shape, domain="binary")
    m.minimize((inst.cost * x).sum())
    m.add("assignment", x.sum(axis=0) == 1)
    m.add("capacity", (inst.weight * x).sum(axis=1) <= inst.capacity)
    dw = solve(m, "dantzig_wolfe", relax=["assignment"], **TIGHT)
    # the bound meets the published optimum 274 (MANIFEST.md); the MIP over the columns found
    # so far is a heuristic: a feasible assignment, not necessarily an optimal one
    assert dw.bound == pytest.approx(274.0, abs=1e-6) and dw.info["blocks"] == 5
    assert "price-and-branch" in dw.info["point_from"]
    check_solution(m, dw, duals=False)
    assert dw.objective >= 274 - 1e-9 and dw.status is Status.FEASIBLE
    off = solve(m, "dantzig_wolfe", relax=["assignment"], price_and_branch=False, **TIGHT)
    assert off.status is Status.NO_SOLUTION and not math.isfinite(off.objective)


def _block_lp() -> Model:
    """Two transportation-like blocks linked by a shared budget (continuous)."""
    rng = np.random.default_rng(3)
    m = Model("blocks")
    x = m.var("x", (2, 6), ub=4)
    cost = rng.uniform(-5.0, 1.0, (2, 6))
    m.minimize((cost * x).sum())
    m.add("supply0", x[0, :3].sum() + x[0, 3:].sum() <= 9)
    m.add("supply1", x[1, :4].sum() - x[1, 4:].sum() <= 3)
    m.add("budget", (rng.uniform(0.5, 2.0, (2, 6)) * x).sum() <= 11)
    m.add("share", x[0].sum() - x[1].sum() == 1)
    return m


def test_continuous_lp_matches_highs_with_its_multipliers() -> None:
    m = _block_lp()
    exact = solve(m, "highs")
    dw = solve(m, "dantzig_wolfe", relax=["budget", "share"], **TIGHT)
    assert dw.bound == pytest.approx(exact.objective, rel=1e-8)
    assert dw.status is Status.OPTIMAL  # the convex combination solves an LP
    assert dw.objective == pytest.approx(exact.objective, rel=1e-8)
    check_solution(m, dw, duals=False)
    for g in ("budget", "share"):  # this LP's duals are unique (checked by HiGHS's basis)
        assert np.allclose(dw.multipliers[g], exact.multipliers[g], atol=1e-6)
    assert dw.info["blocks"] == 2 and "HiGHS" not in dw.info["inner"]


def test_no_smoothing_bound_is_master_value_plus_reduced_costs() -> None:
    """At ``smoothing = 0`` every price is the master's own duals: q(lam_RMP) <= z_RMP (weak
    duality), and the gap closes at the end; the history carries the columns."""
    p = gap.read(GAP / "gap1.txt", 3)
    dw = solve(
        p, "dantzig_wolfe", smoothing=0.0, adaptive_smoothing=False, price_and_branch=False, **TIGHT
    )
    h = dw.history
    master, cols = h.extra["master_value"], h.extra["columns"]
    ok = np.isfinite(master)
    assert ok[1:].all() and np.all(h.dual_value[ok] <= master[ok] + 1e-9)
    assert master[-1] - dw.bound <= 1e-9 * (1 + abs(master[-1]))
    assert np.all(np.diff(cols) >= 0) and cols[-1] <= dw.info["columns"]
    assert dw.bound == pytest.approx(256.0, abs=1e-9)  # = the published optimum (MANIFEST.md)


def test_one_master_kept_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    made = []
    real = master_module.new_highs
    monkeypatch.setattr(master_module, "new_highs", lambda: made.append(1) or real())
    p = gap.read(GAP / "gap1.txt", 1)
    dw = solve(p, "dantzig_wolfe", price_and_branch=False, certify="never")
    assert len(made) == 1 and dw.iterations > 5 and dw.info["columns"] > 5


def test_convergence_plot_draws_the_history() -> None:
    pytest.importorskip("matplotlib")
    from ortools_lag.plot import convergence

    sol = solve(gap.read(GAP / "gap1.txt", 1), "dantzig_wolfe", certify="never")
    fig = convergence(sol)
    assert len(fig.axes) >= 3 and len(sol.history) == sol.iterations


def test_progress_bar_follows_the_iterations() -> None:
    from ortools_lag.cli.progress import ProgressBar

    bar = ProgressBar.for_solver("dantzig_wolfe", {})
    assert bar is not None
    with bar:
        sol = solve(gap.read(GAP / "gap1.txt", 1), "dantzig_wolfe", callback=bar.callback)
    assert bar.calls >= sol.iterations > 1


def test_warm_start_from_bundle_multipliers() -> None:
    p = gap.read(GAP / "gap1.txt", 1)
    bundle = solve(p, "bundle", relaxation="assignment", **TIGHT)
    dw = solve(p, "dantzig_wolfe", warm_start=bundle, **TIGHT)
    assert dw.history.dual_value[0] == pytest.approx(bundle.bound, rel=1e-9)
    assert dw.bound == pytest.approx(260.0, abs=1e-7)


def test_infeasible_relaxed_rows_are_not_hidden() -> None:
    m = Model()
    x = m.var("x", 2, ub=1)
    m.minimize(x.sum())
    m.add("pair", x[0] + x[1] <= 1)
    m.add("cover", x.sum() >= 3)  # impossible over the kept part's hull
    sol = solve(m, "dantzig_wolfe", relax=["cover"], max_iter=200)
    assert sol.status in (Status.NO_SOLUTION, Status.INFEASIBLE)
    assert "artificial" in sol.message or sol.status is Status.INFEASIBLE
    assert not math.isfinite(sol.objective)


def test_errors_name_the_option_and_the_reason() -> None:
    m = Model()
    x = m.var("x", 2, ub=1)
    m.minimize((x * x).sum() - x[0])
    m.add("pair", x[0] + x[1] <= 1)
    m.add("cap", x.sum() <= 1.5)
    with pytest.raises(NotSupportedError, match="objective must be linear"):
        solve(m, "dantzig_wolfe", relax=["cap"])
    with pytest.raises(OptionError, match="smoothing"):
        solve(m, "dantzig_wolfe", relax=["cap"], smoothing=1.0)
    with pytest.raises(OptionError, match="unknown option 'smothing'"):
        solve(m, "dantzig_wolfe", relax=["cap"], smothing=0.5)
