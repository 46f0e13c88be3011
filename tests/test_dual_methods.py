"""The dual methods (subgradient, bundle, alm) and the shared loop.

Known answers: the constrained shortest path of Ahuja, Magnanti & Orlin (ch. 16; every path and
its Lagrangian line enumerated by hand in ``test_csp_paths_by_hand``), Geoffrion's theorem
(Lagrangian bound = LP bound from HiGHS when the kept part has the integrality property), strong
duality on a plain LP (HiGHS), and closed-form KKT points for the augmented Lagrangian.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from ortools_lag import Model, ModelError, OptionError, Problem, Relaxation, Status, solve
from ortools_lag.lagrangian import Lagrangian
from ortools_lag.solvers import registry
from ortools_lag.solvers.dual.loop import DualSolver
from ortools_lag.solvers.dual.protocol import DualState
from ortools_lag.solvers.dual.subgradient import SubgradientOptions

from .certificates import check_solution

# (tail, head, cost, time)
ARCS = np.array(
    [
        (1, 2, 1, 10),
        (1, 3, 10, 3),
        (2, 4, 1, 1),
        (2, 5, 2, 3),
        (3, 2, 1, 2),
        (3, 4, 5, 7),
        (3, 5, 12, 3),
        (4, 5, 10, 1),
        (4, 6, 1, 7),
        (5, 6, 2, 2),
    ],
    dtype=float,
)
TAIL, HEAD = ARCS[:, 0].astype(int) - 1, ARCS[:, 1].astype(int) - 1
COST, TIME = ARCS[:, 2], ARCS[:, 3]


def csp_model(T: float, domain: str = "binary") -> Model:
    """Arc variables, conservation ``out - in == b`` from node 1 to node 6, time <= T."""
    na = len(ARCS)
    cols = np.arange(na)
    N = sp.csr_matrix(
        (np.r_[np.ones(na), -np.ones(na)], (np.r_[TAIL, HEAD], np.r_[cols, cols])), shape=(6, na)
    )
    b = np.zeros(6)
    b[0], b[5] = 1.0, -1.0
    m = Model(f"csp_T{T:g}")
    x = m.var("x", na, ub=1, domain=domain)
    m.minimize(COST @ x)
    m.add("flow", N @ x == b)
    m.add("time", TIME @ x <= T)
    return m


def dijkstra_oracle(T: float):
    """The Lagrangian minimiser by Dijkstra on costs ``c + mu t`` (scipy.sparse.csgraph)."""
    arc_id = np.full((6, 6), -1)
    arc_id[TAIL, HEAD] = np.arange(len(ARCS))

    def oracle(lam: dict) -> tuple[dict, float]:
        mu = float(lam["time"])
        w = COST + mu * TIME
        G = sp.csr_matrix((w, (TAIL, HEAD)), shape=(6, 6))
        dist, pred = dijkstra(G, indices=0, return_predecessors=True)
        x = np.zeros(len(ARCS))
        node = 5
        while node != 0:
            x[arc_id[pred[node], node]] = 1.0
            node = pred[node]
        return {"x": x}, float(dist[5] - mu * T)

    return oracle


def csp_problem(T: float) -> Problem:
    return Problem(
        csp_model(T),
        relaxations={"time": Relaxation(relax=("time",), oracle=dijkstra_oracle(T))},
        default_relaxation="time",
    )


PATHS = {  # path: (cost, time), enumerated by hand from the arc list
    "1-2-4-6": (3, 18),
    "1-2-5-6": (5, 15),
    "1-2-4-5-6": (14, 14),
    "1-3-2-4-6": (13, 13),
    "1-3-2-5-6": (15, 10),
    "1-3-2-4-5-6": (24, 9),
    "1-3-4-6": (16, 17),
    "1-3-4-5-6": (27, 13),
    "1-3-5-6": (24, 8),
}


def test_csp_paths_by_hand() -> None:
    # q(mu) = min over paths of cost + mu (time - T); T = 14: max at mu = 2, value 7
    mus = np.linspace(0, 10, 10001)
    lines = np.array([[c + mu * (t - 14) for mu in mus] for c, t in PATHS.values()])
    q = lines.min(axis=0)
    assert q.max() == pytest.approx(7.0) and mus[q.argmax()] == pytest.approx(2.0)
    never = list(PATHS).index("1-3-2-4-6")
    assert not np.any(lines[never] <= q + 1e-12)  # the optimum 13 is never a minimiser


CSP_CASES = [("subgradient", False), ("subgradient", True), ("bundle", False), ("bundle", True)]


@pytest.mark.parametrize(("solver", "with_oracle"), CSP_CASES)
def test_csp_gap_T14(solver: str, with_oracle: bool) -> None:
    target = csp_problem(14) if with_oracle else csp_model(14)
    model = csp_model(14)
    relax = None if with_oracle else ["time"]
    sol = solve(target, solver, relax=relax, max_iter=300)
    tol = 1e-3 if solver == "subgradient" else 1e-6
    assert sol.bound == pytest.approx(7.0, abs=tol)
    assert float(sol.multipliers["time"]) == pytest.approx(2.0, abs=10 * tol)
    assert sol.objective == 15.0 and sol.gap == pytest.approx(8.0, abs=tol)
    assert sol.status == Status.FEASIBLE
    assert sol.info["point_from"] == "lagrangian minimiser"
    np.testing.assert_array_equal(np.flatnonzero(sol.x["x"]), [1, 3, 4, 9])  # 1-3-2-5-6
    assert sol.kkt is not None and sol.kkt.kind == "lagrangian" and sol.kkt.certified
    check_solution(model, sol, duals=False)


@pytest.mark.parametrize(("solver", "with_oracle"), CSP_CASES)
def test_csp_closed_T10(solver: str, with_oracle: bool) -> None:
    target = csp_problem(10) if with_oracle else csp_model(10)
    sol = solve(target, solver, relax=None if with_oracle else ["time"], max_iter=200)
    assert sol.status == Status.OPTIMAL and sol.termination.value == "converged"
    assert sol.bound == pytest.approx(15.0, abs=1e-6) and sol.objective == 15.0
    np.testing.assert_array_equal(np.flatnonzero(sol.x["x"]), [1, 3, 4, 9])
    check_solution(csp_model(10), sol, duals=False)


def lp_relaxation_value(model: Model) -> float:
    """The LP bound by HiGHS: the same model with its integrality dropped."""
    from ortools_lag.model import to_standard_form
    from ortools_lag.solvers.backends.highs import HighsOptions, solve_standard_form

    sf = dataclasses.replace(to_standard_form(model), integrality=np.zeros(model.n, dtype=bool))
    raw = solve_standard_form(sf, HighsOptions())
    assert raw.x is not None
    return sf.sense * sf.objective(raw.x)


def assignment_budget(n: int = 5, seed: int = 3) -> Model:
    """An assignment problem (totally unimodular) with a relaxed budget row."""
    rng = np.random.default_rng(seed)
    c, w = rng.integers(1, 20, (n, n)).astype(float), rng.integers(1, 10, (n, n)).astype(float)
    m = Model("assignment_budget")
    x = m.var("x", (n, n), domain="binary")
    m.minimize((c * x).sum())
    m.add("rows", x.sum(axis=1) == 1)
    m.add("cols", x.sum(axis=0) == 1)
    m.add("budget", (w * x).sum() <= float(np.sort(w, axis=1)[:, 1].sum()))
    return m


@pytest.mark.parametrize("solver", ["bundle", "subgradient"])
@pytest.mark.parametrize(
    "build", [lambda: csp_problem(14), assignment_budget], ids=["csp", "assign"]
)
def test_geoffrion_lagrangian_bound_is_lp_bound(solver: str, build) -> None:
    target = build()  # the shortest-path rows (Dijkstra) or the assignment rows (HiGHS) kept
    model = target.model if isinstance(target, Problem) else target
    relax = ["time"] if "time" in model.groups else ["budget"]
    lp = lp_relaxation_value(model)
    sol = solve(target, solver, relax=relax, max_iter=300)
    assert sol.bound == pytest.approx(lp, abs=1e-6 if solver == "bundle" else 1e-3)
    assert sol.bound <= lp + 1e-6
    if sol.ok:
        check_solution(model, sol, duals=False)


def random_lp(seed: int = 0) -> Model:
    rng = np.random.default_rng(seed)
    n = 8
    x0 = rng.uniform(0, 5, n)
    A1, A2 = rng.normal(size=(3, n)), rng.normal(size=(2, n))
    m = Model("random_lp")
    x = m.var("x", n, lb=0, ub=10)
    m.minimize(rng.normal(size=n) @ x)
    m.add("cap", A1 @ x <= A1 @ x0 + 1.0)
    m.add("bal", A2 @ x == A2 @ x0)
    return m


@pytest.mark.parametrize("relax", [["cap"], ["cap", "bal"]])
def test_strong_duality_on_a_plain_lp(relax: list[str]) -> None:
    model = random_lp()
    ref = solve(model, "highs")
    sol = solve(model, "bundle", relax=relax, max_iter=300)
    assert sol.bound == pytest.approx(ref.objective, abs=1e-6 * (1 + abs(ref.objective)))
    for g in relax:
        np.testing.assert_allclose(sol.multipliers[g], ref.multipliers[g], atol=1e-4)
    sub = solve(model, "subgradient", relax=relax, max_iter=400)
    assert sub.bound == pytest.approx(ref.objective, abs=1e-3 * (1 + abs(ref.objective)))
    assert sub.bound <= ref.objective + 1e-9
    for s in (sol, sub):
        if s.ok:
            check_solution(model, s, duals=False)


def test_maximisation_bound_is_upper() -> None:
    # max p.x, w.x <= 14, x binary: optimum 21 (enumerated); relaxed bound = Dantzig LP bound 22
    m = Model()
    x = m.var("x", 4, domain="binary")
    p, w = np.array([8.0, 11.0, 6.0, 4.0]), np.array([5.0, 7.0, 4.0, 3.0])
    m.maximize(p @ x)
    m.add("budget", w @ x <= 14)
    best = max(p @ np.array(s) for s in itertools.product([0, 1], repeat=4) if w @ s <= 14)
    sol = solve(m, "bundle", relax=["budget"])
    assert best == 21 and sol.bound == pytest.approx(22.0, abs=1e-6)
    assert sol.bound >= sol.objective and sol.gap >= 0
    check_solution(m, sol, duals=False)


# -- the augmented Lagrangian ------------------------------------------------------------------
def alm_cases() -> list[tuple[str, Model, dict[str, float], dict[str, list[float]]]]:
    qp = Model("qp")
    x = qp.var("x", 2, lb=None)
    qp.minimize((x * x).sum())
    qp.add("sum", x.sum() == 1)  # 2 x + lam = 0 at x = (1/2, 1/2): lam = -1
    circ = Model("circle")
    y = circ.var("y", 2, lb=None)
    circ.minimize(y.sum())
    circ.add("circle", (y * y).sum() == 1)  # 1 + 2 lam y = 0 at y = -1/sqrt(2): lam = 1/sqrt(2)
    ineq = Model("two_inequalities")
    z = ineq.var("z", 2, lb=None)
    d = z - np.array([2.0, 1.0])
    ineq.minimize(d @ d)
    ineq.add("active", z.sum() <= 2)  # projection of (2, 1): (1.5, 0.5), 2 (1.5 - 2) + lam = 0
    ineq.add("inactive", z[0] >= -3)
    r = 1 / math.sqrt(2)
    return [
        ("qp", qp, {"sum": -1.0}, {"x": [0.5, 0.5]}),
        ("circle", circ, {"circle": r}, {"y": [-r, -r]}),
        ("ineq", ineq, {"active": 1.0, "inactive": 0.0}, {"z": [1.5, 0.5]}),
    ]


@pytest.mark.parametrize("case", alm_cases(), ids=lambda c: c[0])
def test_alm_known_multipliers(case) -> None:
    _, model, lam, xs = case
    sol = solve(model, "alm")
    assert sol.status == Status.OPTIMAL, sol.message
    for g, v in lam.items():
        assert float(sol.multipliers[g]) == pytest.approx(v, abs=1e-6)
    for k, v in xs.items():
        np.testing.assert_allclose(sol.x[k], v, atol=1e-6)
    assert sol.kkt is not None and sol.kkt.kind == "kkt"
    check_solution(model, sol, duals=True)


# -- the contract of every registered dual method ------------------------------------------------
def _dual_names() -> list[str]:
    out = []
    for name in registry.names():
        try:
            impl = registry.get(name)
        except Exception:  # another family's module that is not written yet
            continue
        if isinstance(impl, DualSolver):
            out.append(name)
    return out


def contract_model() -> Model:
    m = Model("contract")
    x = m.var("x", 2, lb=-5, ub=5)
    d = x - np.array([2.0, 1.0])
    m.minimize(d @ d)
    m.add("sum", x.sum() <= 2)
    m.add("diff", x[0] - x[1] == 0.5)
    return m


def test_every_method_is_registered() -> None:
    assert {"subgradient", "bundle", "alm"} <= set(_dual_names())


@pytest.mark.parametrize("name", _dual_names())
def test_init_step_contract(name: str) -> None:
    model = contract_model()
    optimum = solve(model, "highs").objective
    lag = Lagrangian(model, relax=["sum", "diff"])
    method = registry.get(name).method()  # type: ignore[attr-defined]
    state = method.init(lag, np.array([-1.0, 3.0]))
    for k in range(6):
        assert isinstance(state, DualState) and state.iteration == k + 1
        with pytest.raises(dataclasses.FrozenInstanceError):
            state.iteration = 0  # type: ignore[misc]
        assert state.lam[0] >= 0  # the <= group's multiplier
        assert state.bound <= optimum + 1e-9
        if state.converged:
            break
        state = method.step(lag, state)
    lag.close()


# -- the loop: callback, warm start, interrupt, options ------------------------------------------
def test_callback_stops_after_five_iterations() -> None:
    seen: list[int] = []

    def stop(progress) -> bool:
        seen.append(progress.iteration)
        assert progress.bound <= 7.0 + 1e-9
        return progress.iteration >= 5

    sol = solve(csp_problem(14), "subgradient", callback=stop)
    assert sol.termination.value == "callback" and sol.iterations == 5 and seen == [1, 2, 3, 4, 5]
    assert len(sol.history) == 5


@pytest.mark.parametrize("solver", ["bundle", "subgradient"])
def test_warm_start_needs_fewer_iterations(solver: str) -> None:
    cold = solve(csp_problem(10), solver, max_iter=300)
    warm = solve(csp_problem(10), solver, max_iter=300, warm_start=cold)
    assert cold.status == warm.status == Status.OPTIMAL
    assert warm.iterations < cold.iterations
    assert warm.bound == pytest.approx(cold.bound, abs=1e-6)


def test_warm_start_on_an_lp() -> None:
    model = random_lp(1)
    cold = solve(model, "subgradient", relax=["cap", "bal"], max_iter=400, gap_limit=1e-4)
    warm = solve(
        model, "subgradient", relax=["cap", "bal"], max_iter=400, gap_limit=1e-4, warm_start=cold
    )
    assert warm.iterations < cold.iterations
    assert warm.bound >= cold.bound - 1e-4 * (1 + abs(cold.bound))


def test_interrupt_returns_best_so_far() -> None:
    def interrupt(progress) -> None:
        if progress.iteration == 3:
            raise KeyboardInterrupt

    sol = solve(csp_problem(14), "subgradient", callback=interrupt)
    assert sol.termination.value == "interrupted" and sol.iterations == 3
    assert sol.bound == pytest.approx(float(np.max(sol.history.bound)))
    assert sol.status in (Status.FEASIBLE, Status.NO_SOLUTION)
    if sol.ok:
        check_solution(csp_model(14), sol, duals=False)


def test_step_rules_give_valid_bounds() -> None:
    model = csp_model(14)
    prob = csp_problem(14)
    for rule in ("constant", "diminishing", "sqrt"):
        sol = solve(prob, "subgradient", step_rule=rule, step_size=0.5, max_iter=60)
        assert sol.bound <= 7.0 + 1e-9 and sol.bound > 5.0
        check_solution(model, sol, duals=False)
    target = solve(prob, "subgradient", polyak_target=15.0, max_iter=200)
    assert target.bound == pytest.approx(7.0, abs=1e-2)


def test_named_relaxation_plan() -> None:
    prob = csp_problem(10)
    prob.relaxations = {**prob.relaxations, "generic": Relaxation(relax=("time",))}
    by_oracle = solve(prob, "bundle")
    by_highs = solve(prob, "bundle", relaxation="generic")
    assert by_oracle.info["inner"] == "oracle" and by_highs.info["inner"] == "highs blocks (1)"
    assert by_highs.bound == pytest.approx(by_oracle.bound, abs=1e-6)


def test_bad_options_raise() -> None:
    with pytest.raises(OptionError, match="valid options"):
        solve(csp_model(14), "subgradient", relax=["time"], steps=3)
    with pytest.raises(ModelError, match="relax="):
        solve(csp_model(14), "bundle")
    with pytest.raises(ModelError, match="warm_start"):
        solve(csp_model(14), "bundle", relax=["time"], warm_start="zero")
    assert SubgradientOptions(step_rule="sqrt").step_rule == "sqrt"


# -- volume algorithm and the persistent bundle master (issue 25) ----------------------------
def _gap_lp() -> tuple[Model, float]:
    """The LP relaxation of OR-Library gap1 problem 1 and HiGHS's optimum of it (strong
    duality: the Lagrangian dual of the assignment rows equals it)."""
    from .test_dual_gap import gap_model, lp_bound

    binary = gap_model("gap1", 1)
    value, _ = lp_bound(binary)
    m = Model("gap1_1_lp")
    c = binary.objective.jacobian(np.zeros(binary.n), binary.n).toarray().reshape(5, 15)
    from ortools_lag.io.gap import read_gap

    from .test_dual_gap import DATA

    inst = read_gap(DATA / "gap" / "gap1.txt", 1)
    x = m.var("x", inst.shape, ub=1)
    m.minimize((c * x).sum())
    m.add("assign", x.sum(axis=0) == 1)
    m.add("capacity", (inst.weight * x).sum(axis=1) <= inst.capacity)
    return m, value


def test_volume_reaches_the_lp_bound_with_a_primal_estimate() -> None:
    m, lp = _gap_lp()
    seen: list[np.ndarray] = []
    sol = solve(
        m, "volume", relax=["assign"], max_iter=3000, tolerance=1e-4,
        callback=lambda p: seen.append(p.state.primal_estimate),
    )  # fmt: skip
    assert sol.bound <= lp + 1e-6
    assert sol.bound == pytest.approx(lp, rel=2e-3)
    assert sol.kkt is not None and sol.kkt.certified
    assert sol.kkt.dual_objective == pytest.approx(sol.bound, rel=1e-6)
    lag = Lagrangian(m, relax=["assign"])
    x_bar = seen[-1]
    first, last = lag.infeasibility(seen[1])[0], lag.infeasibility(x_bar)[0]
    assert last <= 1e-2 and last < first  # x_bar: nearly feasible for the LP
    assert lag.objective_min(x_bar) == pytest.approx(lp, rel=1e-2)  # and near its optimum


def test_bundle_master_persists_across_iterations() -> None:
    from ortools_lag.solvers.dual.bundle import Master, solve_master

    rng = np.random.default_rng(3)
    G, b = rng.normal(size=(6, 4)), rng.normal(size=6)
    mp = Master(4)
    lo, hi = np.full(4, -np.inf), np.full(4, np.inf)
    for k, keep in [(3, [0, 1, 2]), (6, [0, 2, 3, 4, 5]), (6, [2, 4, 5])]:
        ids = np.array(keep)
        mp.sync(ids, G[ids], b[ids])
        c = rng.normal(size=4)
        d, r, alpha = mp.solve(c, 0.5 + k, lo, hi, 0.1)
        d0, r0, alpha0 = solve_master(G[ids], b[ids] + G[ids] @ c - 0.1, 0.5 + k, lo, hi)
        np.testing.assert_allclose(d, d0, atol=1e-6)  # the fresh model's answer
        assert r == pytest.approx(r0, abs=1e-6)


def test_bundle_solves_gap_lp_to_the_highs_value() -> None:
    m, lp = _gap_lp()
    sol = solve(m, "bundle", relax=["assign"], max_iter=500)
    assert sol.bound == pytest.approx(lp, rel=1e-6)
    assert sol.kkt is not None and sol.kkt.certified
