"""``lagrangian_bnb``: branch-and-bound on Lagrangian bounds.

Known answers: OR-Library optima (data/MANIFEST.md: gap min form, mknap1, cap7x/cap101, rcsp),
enumeration of every 0-1 point of small hand-made models, and HiGHS's MIP (scipy ``milp``) on
random GAP instances with fractional weights (no family oracle: the engine's inner solve).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from ortools_lag import Model, Status, Termination, solve
from ortools_lag.errors import ModelError
from ortools_lag.lagrangian import Lagrangian
from ortools_lag.problems import csp, facility_location, gap, knapsack
from tests.certificates import check_solution

DATA = Path(__file__).parents[1] / "data"
OPT_GAP1 = [261, 269, 256, 274, 251]  # data/MANIFEST.md, gap table, min form
OPT_GAP4 = [423, 424, 426, 395, 406]
OPT_GAPA = [1698, 3235, 1360, 2623, 1158, 2339]
MKNAP1 = [3800, 8706.1, 4015, 6120, 12400, 10618, 16537]  # printed in mknap1.txt
RCSP = {
    1: 131,
    2: 131,
    3: 2,
    4: 2,
    5: 100,
    6: 100,
    7: 6,
    8: 14,
    9: 420,
    10: 420,
    11: 6,
    12: 6,
}  # MANIFEST


def _optimal(problem, sol, optimum: float) -> None:  # type: ignore[no-untyped-def]
    assert sol.status == Status.OPTIMAL, sol.message
    assert sol.termination == Termination.CONVERGED
    assert math.isclose(sol.objective, optimum, rel_tol=1e-9, abs_tol=1e-6)
    assert math.isclose(sol.bound, optimum, rel_tol=1e-9, abs_tol=1e-6)  # proven zero gap
    assert sol.kkt is not None and sol.kkt.certified, sol.kkt.notes
    assert sol.info["leaves_certified"] == sol.info["leaves"]
    check_solution(problem.model, sol, duals=False)


def _gap_milp(cost: np.ndarray, weight: np.ndarray, cap: np.ndarray) -> OptimizeResult:
    """The GAP (each job to one agent, agents' capacities) solved by HiGHS through scipy."""
    m_, n_ = cost.shape
    return milp(
        cost.ravel(),
        constraints=[
            LinearConstraint(np.kron(np.ones((1, m_)), np.eye(n_)), 1, 1),
            LinearConstraint(np.kron(np.eye(m_), np.ones((1, n_))) * weight.ravel(), -np.inf, cap),
        ],
        integrality=np.ones(m_ * n_),
        bounds=Bounds(0, 1),
    )


def _knapsack_model() -> Model:
    m = Model("knap")
    x = m.var("x", 4, ub=1, domain="binary")
    m.maximize(7 * x[0] + 4 * x[1] + 5 * x[2] + 3 * x[3])
    m.add("cap", 4 * x[0] + 3 * x[1] + 3 * x[2] + 2 * x[3] <= 7)
    m.add("pair", x[0] + x[2] <= 1)
    return m


def test_plain_model_matches_enumeration() -> None:
    m = _knapsack_model()
    best = max(
        7 * a + 4 * b + 5 * c + 3 * d
        for a, b, c, d in itertools.product((0, 1), repeat=4)
        if 4 * a + 3 * b + 3 * c + 2 * d <= 7 and a + c <= 1
    )
    sol = solve(m, "lagrangian_bnb", relax=["cap"])
    assert sol.status == Status.OPTIMAL and sol.objective == best == 11
    assert sol.bound == best
    assert sol.info["inner"].startswith("engine")
    check_solution(m, sol, duals=False)
    assert sol.multipliers["cap"] >= 0  # the root's multipliers, in the sign convention


def test_plain_model_needs_a_relaxation() -> None:
    with pytest.raises(ModelError, match="relax"):
        solve(_knapsack_model(), "lagrangian_bnb")


@pytest.mark.parametrize("k", range(1, 6))
def test_gap1_min_proven(k: int) -> None:
    p = gap.read(DATA / "gap" / "gap1.txt", problem=k)
    sol = solve(p, "lagrangian_bnb", time_limit=60)
    _optimal(p, sol, OPT_GAP1[k - 1])
    assert sol.info["inner"] == "oracle with bounds"
    h = sol.history
    assert h is not None and len(h) == sol.info["nodes"]
    assert h.bound[-1] == sol.bound and h.primal[-1] == sol.objective


def test_gap_capacity_relaxation_agrees_with_highs() -> None:
    cost = np.array([[9.0, 4, 7, 3, 8], [5, 6, 2, 9, 4], [3, 8, 6, 5, 2]])
    weight = np.array([[4.0, 3, 5, 2, 4], [3, 5, 2, 4, 3], [5, 2, 4, 3, 5]])
    cap = np.array([6.0, 6, 6])
    p = gap.build(cost, weight, cap)
    sol = solve(p, "lagrangian_bnb", relaxation="capacity")
    ref = _gap_milp(cost, weight, cap)
    _optimal(p, sol, ref.fun)
    assert sol.info["relax"] == ["capacity"] and sol.info["inner"] == "oracle with bounds"


def test_gap_max_form() -> None:
    p = gap.read(DATA / "gap" / "gap1.txt", problem=1, sense="max")
    sol = solve(p, "lagrangian_bnb", time_limit=60)
    _optimal(p, sol, 336)  # data/MANIFEST.md, gap1 problem 1, optimum (max)


@pytest.mark.slow
@pytest.mark.parametrize("k", range(1, 6))
def test_gap4_min_proven(k: int) -> None:
    p = gap.read(DATA / "gap" / "gap4.txt", problem=k)
    sol = solve(p, "lagrangian_bnb", time_limit=60)
    _optimal(p, sol, OPT_GAP4[k - 1])
    assert sol.seconds <= 60


@pytest.mark.slow
@pytest.mark.parametrize("k", range(1, 7))
def test_gapa_proven(k: int) -> None:
    p = gap.read(DATA / "gap" / "gapa.txt", problem=k)
    sol = solve(p, "lagrangian_bnb", time_limit=60)
    _optimal(p, sol, OPT_GAPA[k - 1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fractional_weights_agree_with_highs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m_, n_ = 3, 7
    cost = rng.integers(5, 30, size=(m_, n_)).astype(float)
    weight = rng.uniform(1.0, 6.0, size=(m_, n_)).round(2)
    cap = weight.sum(axis=1) / 2.2
    p = gap.build(cost, weight, cap)  # fractional weights: no DP oracle, the engine's blocks
    sol = solve(p, "lagrangian_bnb")
    ref = _gap_milp(cost, weight, cap)
    if ref.status == 2:  # infeasible: the tree closes with no point
        assert sol.status == Status.INFEASIBLE
        return
    _optimal(p, sol, ref.fun)
    assert sol.info["inner"].startswith("engine")


def test_node_limit_reports_feasible_with_gap() -> None:
    p = gap.read(DATA / "gap" / "gap1.txt", problem=1)
    sol = solve(p, "lagrangian_bnb", max_nodes=1)
    assert sol.status == Status.FEASIBLE
    assert sol.termination == Termination.NODE_LIMIT and sol.info["limit"] == "node_limit"
    assert sol.bound <= OPT_GAP1[0] <= sol.objective
    assert sol.gap == sol.objective - sol.bound > 0
    assert sol.kkt is not None and sol.kkt.certified  # the open leaves' bounds re-evaluated
    check_solution(p.model, sol, duals=False)


def test_callback_sees_every_node_and_can_stop() -> None:
    seen: list[dict[str, float]] = []

    def stop_after_two(rec: dict[str, float]) -> bool:
        seen.append(rec)
        return len(seen) >= 2

    p = gap.read(DATA / "gap" / "gap1.txt", problem=1)
    sol = solve(p, "lagrangian_bnb", callback=stop_after_two, dive=False)
    assert [r["nodes"] for r in seen] == [1.0, 2.0]
    assert sol.termination == Termination.CALLBACK and sol.status == Status.FEASIBLE


@pytest.mark.parametrize("method", ["subgradient", "bundle"])
def test_depth_first_and_bundle(method: str) -> None:
    p = gap.read(DATA / "gap" / "gap1.txt", problem=3)
    sol = solve(p, "lagrangian_bnb", method=method, node_selection="depth_first")
    _optimal(p, sol, OPT_GAP1[2])


@pytest.mark.parametrize("k", [1, 2, 4])
def test_mknap1_proven(k: int) -> None:
    p = knapsack.read(DATA / "mknap" / "mknap1.txt", problem=k)
    sol = solve(p, "lagrangian_bnb", time_limit=60)
    _optimal(p, sol, MKNAP1[k - 1])


@pytest.mark.slow
@pytest.mark.parametrize("k", [3, 5, 6, 7])
def test_mknap1_proven_larger(k: int) -> None:
    p = knapsack.read(DATA / "mknap" / "mknap1.txt", problem=k)
    sol = solve(p, "lagrangian_bnb", time_limit=60)
    _optimal(p, sol, MKNAP1[k - 1])


@pytest.mark.parametrize("name", ["70/cap71", "70/cap73", "100/cap101"])
def test_ufl_proven(name: str) -> None:
    p = facility_location.read(DATA / "ufl" / "orlib_uncap" / f"{name}.txt")
    sol = solve(p, "lagrangian_bnb", time_limit=60)
    _optimal(p, sol, p.metadata["optimum"])


@pytest.mark.parametrize("k", [3, 5, 8])
def test_rcsp_by_generic_tree(k: int) -> None:
    p = csp.read(DATA / "rcsp" / f"rcsp{k}.txt")
    sol = solve(p, "lagrangian_bnb", time_limit=60)
    _optimal(p, sol, RCSP[k])
    assert sol.solver == "lagrangian_bnb"


@pytest.mark.slow
@pytest.mark.parametrize("k", [1, 2, 4, 6, 7, 9, 10, 11, 12])
def test_rcsp_by_generic_tree_slow(k: int) -> None:
    p = csp.read(DATA / "rcsp" / f"rcsp{k}.txt")
    sol = solve(p, "lagrangian_bnb", time_limit=60)
    _optimal(p, sol, RCSP[k])


def _random_bounds(model: Model, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    lb, ub = model.lower_bounds().copy(), model.upper_bounds().copy()
    pick = rng.random(model.n) < 0.15
    one = rng.random(model.n) < 0.3
    lb[pick & one], ub[pick & ~one] = 1.0, 0.0
    return lb, ub


@pytest.mark.parametrize(
    "build",
    [
        lambda: gap.read(DATA / "gap" / "gap1.txt", problem=1),
        lambda: knapsack.read(DATA / "mknap" / "mknap1.txt", problem=2),
        lambda: facility_location.build(
            [3.0, 4.0, 2.0], [[1, 5, 2, 7], [4, 1, 3, 2], [6, 2, 1, 3]]
        ),
    ],
)
def test_family_oracles_respect_bounds_as_highs_does(build) -> None:  # type: ignore[no-untyped-def]
    """Each family oracle under branching bounds agrees with HiGHS on the kept rows."""
    p = build()
    plan = p.relaxation()
    rng = np.random.default_rng(3)
    for _ in range(6):
        lb, ub = _random_bounds(p.model, rng)
        engine = Lagrangian(p.model, plan.relax)
        engine.lb, engine.ub = lb, ub
        lam = rng.normal(0.0, 5.0, engine.size)
        lam = engine.project(lam)
        ref = engine.evaluate(lam)
        engine.close()
        bounds = {k: (p.model.split(lb)[k], p.model.split(ub)[k]) for k in p.model.variables}
        xs, value = plan.oracle(engine.split(lam), bounds=bounds)
        if ref.status == "infeasible":
            assert value == math.inf
            continue
        z = p.model.join(dict(xs))
        assert np.all(z >= lb) and np.all(z <= ub)
        own = Lagrangian(p.model, plan.relax).value(z, engine.split(lam)) * p.model.sense_sign
        assert math.isclose(own, ref.lower, rel_tol=1e-9, abs_tol=1e-6)
        assert math.isclose(value, ref.lower, rel_tol=1e-9, abs_tol=1e-6)


def test_convergence_plot_draws_the_history() -> None:
    from ortools_lag.plot import convergence

    p = gap.read(DATA / "gap" / "gap1.txt", problem=1)
    fig = convergence(solve(p, "lagrangian_bnb"))
    assert fig.axes


def test_reduced_cost_fixing_and_propagation_shrink_a_gap_tree() -> None:
    p = gap.read(DATA / "gap" / "gap3.txt", problem=1)
    plain = solve(p, "lagrangian_bnb", time_limit=60)
    fixed = solve(p, "lagrangian_bnb", time_limit=60, fixing=True)
    _optimal(p, plain, 438)  # data/MANIFEST.md, gap3 problem 1, optimum (min)
    _optimal(p, fixed, 438)
    assert fixed.info["fixed_by_reduced_cost"] > 0 and fixed.info["fixed_by_propagation"] > 0
    assert fixed.info["leaf_kinds"]["fixing"] > 0 and fixed.info["leaf_kinds"]["rows"] > 0
    assert fixed.info["nodes"] < plain.info["nodes"]


def test_round_and_repair_finds_the_incumbent_without_a_plan_heuristic() -> None:
    """No family heuristic (fractional weights: the engine's blocks): the repair MIP runs, and
    the tree closes at HiGHS's optimum."""
    rng = np.random.default_rng(7)
    m_, n_ = 3, 8
    cost = rng.integers(5, 30, size=(m_, n_)).astype(float)
    weight = rng.uniform(1.0, 6.0, size=(m_, n_)).round(2)
    cap = weight.sum(axis=1) / 2.0
    p = gap.build(cost, weight, cap)
    sol = solve(p, "lagrangian_bnb", relax=["assignment"], heuristic=False)
    ref = _gap_milp(cost, weight, cap)
    _optimal(p, sol, ref.fun)
    assert sol.info["repair_calls"] >= 1


def test_callback_sees_the_model_sense() -> None:
    seen: list[dict[str, float]] = []
    p = gap.read(DATA / "gap" / "gap1.txt", problem=1, sense="max")
    sol = solve(p, "lagrangian_bnb", callback=lambda rec: seen.append(rec))
    assert seen[-1]["primal"] == sol.objective == 336  # data/MANIFEST.md, gap1-1 (max)
    assert seen[-1]["bound"] >= sol.objective  # an upper bound of a maximisation


@pytest.mark.parametrize("k", [8, 5])  # rcsp8: acyclic graph; rcsp5: with cycles (flow LP)
def test_csp_oracle_with_forced_arcs_agrees_with_highs(k: int) -> None:
    p = csp.read(DATA / "rcsp" / f"rcsp{k}.txt")
    d, plan = p.data.instance, p.relaxation()
    rng = np.random.default_rng(k)
    kinds = set()
    for t in range(6):
        engine = Lagrangian(p.model, plan.relax)
        lam = np.r_[np.abs(rng.normal(0.0, 0.5, d.num_resources)), np.zeros(d.num_resources)]
        lam_g = {"upper": lam[: d.num_resources], "lower": lam[d.num_resources :]}
        path = plan.oracle(lam_g)[0]["x"]  # the unrestricted shortest path
        lb, ub = engine.lb.copy(), engine.ub.copy()
        on = np.flatnonzero(path > 0.5)
        lb[rng.choice(on, 2, replace=False)] = 1.0
        if t % 2:  # an arc off the path forced too
            lb[rng.choice(np.flatnonzero(ub > 0), 1)] = 1.0
        ub[rng.choice(np.flatnonzero(lb < 1), 3, replace=False)] = 0.0
        engine.lb, engine.ub = lb, ub
        ref = engine.evaluate(engine.join(lam_g))
        engine.close()
        xs, value = plan.oracle(lam_g, bounds={"x": (lb, ub)})
        kinds.add(ref.status)
        if ref.status == "infeasible":
            assert value == math.inf
            continue
        assert ref.status == "optimal"
        assert np.all(xs["x"] >= lb) and np.all(xs["x"] <= ub)
        assert math.isclose(value, ref.lower, rel_tol=1e-9, abs_tol=1e-6)
    assert "optimal" in kinds
