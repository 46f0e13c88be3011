"""The network family modules: builders, readers, statuses, decoders and relaxations.

Known answers: networkx (Dijkstra, Bellman-Ford, maximum flow), scipy (linear_sum_assignment,
linprog), HiGHS on the generic Model, and textbook instances (Hillier & Lieberman's P & T
Company, 152535). Every optimal Solution goes through tests/certificates.py.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment, linprog

from ortools_lag import ModelError, NotSupportedError, SpecError, Status, solve
from ortools_lag.io.bipartite import read_assignment, read_transportation
from ortools_lag.problems import (
    assignment,
    max_flow,
    min_cost_flow,
    module,
    shortest_path,
    transportation,
)

from .certificates import check_solution

PANDT_COST = [[464, 513, 654, 867], [352, 416, 690, 791], [995, 682, 388, 685]]
PANDT_SUPPLY, PANDT_DEMAND = [75, 125, 100], [80, 65, 70, 85]
PANDT_OPTIMUM = 152535  # Hillier & Lieberman, Introduction to Operations Research, section 9.1


def _ok(problem, sol) -> None:
    assert sol.status == Status.OPTIMAL, sol.message
    check_solution(problem.model, sol)
    if "certificate" in sol.info:
        assert sol.info["certificate"]["certified"], sol.info["certificate"]


def _random_graph(seed: int, n: int, m: int, low: float = 1, high: float = 20):
    rng = np.random.default_rng(seed)
    tail, head = rng.integers(0, n, m), rng.integers(0, n, m)
    return tail, head, rng.integers(low, high, m).astype(float)


def test_every_network_kind_is_registered_and_installed() -> None:
    for kind in ("shortest_path", "min_cost_flow", "max_flow", "transportation", "assignment"):
        assert module(kind).__name__.endswith(kind)


# -- shortest path -----------------------------------------------------------------------------
def test_shortest_path_builders_agree_with_networkx() -> None:
    tail, head, cost = _random_graph(1, 30, 120)
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(30))
    g.add_weighted_edges_from(zip(tail.tolist(), head.tolist(), cost.tolist()))
    ref = nx.single_source_dijkstra_path_length(g, 0)
    target = max(ref, key=ref.__getitem__)
    by_arrays = shortest_path.build(tail, head, cost, n=30, source=0, target=target)
    by_graph = shortest_path.build(graph=g, source=0, target=target)
    keep = np.unique(tail * 30 + head, return_index=True)[1]  # a matrix holds one arc per pair
    cheapest = np.lexsort((cost, tail * 30 + head))
    first = cheapest[np.r_[True, np.diff((tail * 30 + head)[cheapest]) != 0]]
    assert keep.size == first.size
    mat = sp.csr_matrix((cost[first], (tail[first], head[first])), shape=(30, 30))
    by_matrix = shortest_path.build(matrix=mat, source=0, target=target)
    for p in (by_arrays, by_graph, by_matrix):
        sol = solve(p)
        _ok(p, sol)
        assert sol.objective == pytest.approx(ref[target])
        path = p.decode(sol)
        assert path.path[0] == 0 and path.path[-1] == target


def test_single_source_tree_and_unreachable_nodes() -> None:
    p = shortest_path.build([0, 0, 1, 3], [1, 2, 2, 2], [2.0, 5.0, 1.0, 1.0], n=4, source=0)
    sol = solve(p)
    _ok(p, sol)
    x, pi = sol.x["x"], sol.multipliers["flow"]
    assert x.tolist() == [2.0, 0.0, 1.0, 0.0]  # arc 0->1 carries nodes 1 and 2
    ans = p.decode(sol)
    assert ans.distance.tolist() == [0.0, 2.0, 3.0, np.inf]
    assert np.isfinite(pi[3]) and 1.0 + pi[3] - pi[2] >= 0  # node 3 unreachable, rc >= 0


def test_shortest_path_certificate_reads_the_kkt_reduced_costs_and_checks_them() -> None:
    p = shortest_path.build([0, 0, 1, 3], [1, 2, 2, 2], [2.0, 5.0, 1.0, 1.0], n=4, source=0)
    sol = solve(p)
    _ok(p, sol)
    pi, r = sol.multipliers["flow"], sol.reduced_costs["x"]
    own = np.array([2.0, 5.0, 1.0, 1.0]) + pi[[0, 0, 1, 3]] - pi[[1, 2, 2, 2]]
    assert np.allclose(r, own)  # the generic check's c + N^T pi is the arcs' formula
    data = p.data
    assert data.certificate(sol.x, sol.multipliers, sol.reduced_costs)[1] == 0.0
    assert data.certificate(sol.x, sol.multipliers)[1] == 0.0
    wrong_used = r.copy()
    wrong_used[0] += 0.5  # arc 0 carries flow: recomputed there, the disagreement counts
    assert data.certificate(sol.x, sol.multipliers, {"x": wrong_used})[1] == 0.5
    wrong_free = r.copy()
    wrong_free[1] = -0.25  # arc 1 carries none: a negative reduced cost is read and flagged
    assert data.certificate(sol.x, sol.multipliers, {"x": wrong_free})[1] == 0.25
    assert data.certificate(sol.x, sol.multipliers, {"x": r[:2]})[1] == 0.0  # wrong shape: own


@pytest.mark.parametrize("threads", [1, 2])
def test_large_single_source_build_with_and_without_its_background_search(threads: int) -> None:
    from scipy.sparse.csgraph import dijkstra

    from ortools_lag.model import ufunc_threads

    n, m = 20_000, 160_000  # over background()'s size: the graph search runs beside the build
    rng = np.random.default_rng(7)
    key = np.unique(rng.integers(0, n * n, m))  # distinct pairs: scipy's matrix below sums twins
    tail, head = key // n, key % n
    cost = rng.integers(1, 50, key.size).astype(float)
    ufunc_threads.set_num_threads(threads)
    try:
        p = shortest_path.build(tail, head, cost, n=n, source=3)
        sol = solve(p)
    finally:
        ufunc_threads.set_num_threads(None)
    _ok(p, sol)
    dist = dijkstra(sp.csr_matrix((cost, (tail, head)), shape=(n, n)), indices=3)
    reach = np.isfinite(dist)
    assert np.array_equal(p.data.reachable, reach)
    assert np.allclose(sol.multipliers["flow"][reach] - sol.multipliers["flow"][3], dist[reach])
    assert sol.objective == pytest.approx(dist[reach].sum())  # each node's path, one unit each


def test_undirected_graph_gives_both_directions() -> None:
    g = nx.Graph()
    g.add_weighted_edges_from([("a", "b", 1.0), ("b", "c", 2.0)])
    p = shortest_path.build(graph=g, source="c", target="a")
    sol = solve(p)
    _ok(p, sol)
    assert sol.objective == 3.0 and p.decode(sol).path == ["c", "b", "a"]


def test_negative_costs_by_johnson_match_bellman_ford() -> None:
    tail, head, cost = np.array([0, 0, 1, 2, 3]), np.array([1, 2, 3, 1, 4]), np.zeros(5)
    cost[:] = [4.0, 1.0, 1.0, -2.0, 2.0]
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(tail.tolist(), head.tolist(), cost.tolist()))
    p = shortest_path.build(tail, head, cost, source=0, target=4)
    sol = solve(p)
    _ok(p, sol)
    assert sol.objective == nx.bellman_ford_path_length(g, 0, 4) == 2.0


def test_unreachable_target_is_infeasible_with_a_farkas_certificate() -> None:
    p = shortest_path.build([0, 1], [1, 0], [1.0, 1.0], n=3, source=0, target=2)
    sol = solve(p)
    assert sol.status == Status.INFEASIBLE
    assert sol.kkt is not None and sol.kkt.kind == "farkas" and sol.kkt.certified
    assert solve(p, "highs").status == Status.INFEASIBLE


def test_shortest_path_errors() -> None:
    with pytest.raises(ModelError, match="not in the graph"):
        shortest_path.build([0], [1], [1.0], source=5)
    with pytest.raises(ModelError, match="finite"):
        shortest_path.build([0], [1], [np.inf], source=0)
    with pytest.raises(ModelError, match="one way"):
        shortest_path.build([0], [1], [1.0], graph=nx.DiGraph([(0, 1)]), source=0)
    bounded = shortest_path.build([0, 1], [1, 0], [1.0, -2.0], source=0, target=1, arc_bound=1)
    with pytest.raises(NotSupportedError, match="network_lp"):
        solve(bounded, "dijkstra")
    lp = solve(bounded, "network_lp")  # a bounded negative cycle: a min-cost flow LP
    _ok(bounded, lp)
    assert lp.objective == pytest.approx(1.0)  # x_01 <= 1: the cycle 0->1->0 cannot be added
    mcf = min_cost_flow.build([0], [1], [1.0], supply=[1, -1])
    with pytest.raises(NotSupportedError, match="shortest_path"):
        solve(mcf, "dijkstra")


# -- min-cost flow -----------------------------------------------------------------------------
def test_min_cost_flow_from_networkx_with_demands() -> None:
    g = nx.DiGraph()
    g.add_node("a", demand=-5)
    g.add_node("d", demand=5)
    g.add_edge("a", "b", weight=3, capacity=4)
    g.add_edge("a", "c", weight=6, capacity=10)
    g.add_edge("b", "d", weight=1, capacity=9)
    g.add_edge("c", "d", weight=2, capacity=5)
    p = min_cost_flow.build(graph=g)
    sol = solve(p)
    _ok(p, sol)
    assert sol.objective == nx.min_cost_flow_cost(g) == 24
    used = {(u, v): f for u, v, f in p.decode(sol).arcs}
    assert used == {("a", "b"): 4.0, ("a", "c"): 1.0, ("b", "d"): 4.0, ("c", "d"): 1.0}


@pytest.mark.parametrize("supply", [[3.0, -2.0], [3.0, -3.0]])
def test_min_cost_flow_infeasible_supplies_are_a_status(supply: list[float]) -> None:
    p = min_cost_flow.build([0], [1], [1.0], supply=supply, cap=[2.0])
    sol = solve(p)
    assert sol.status == Status.INFEASIBLE
    assert sol.kkt is not None and sol.kkt.kind == "farkas" and sol.kkt.certified


def test_min_cost_flow_relaxation_bound_reaches_the_optimum() -> None:
    tail, head, cost = _random_graph(3, 8, 30)
    cap = np.full(tail.size, 6.0)
    supply = np.zeros(8)
    supply[[0, 1]], supply[[6, 7]] = 4.0, -4.0
    tail = np.concatenate((tail, np.arange(7)))
    head = np.concatenate((head, np.arange(1, 8)))
    cost = np.concatenate((cost, np.full(7, 50.0)))
    cap = np.concatenate((cap, np.full(7, 20.0)))
    p = min_cost_flow.build(tail, head, cost, supply=supply, cap=cap, n=8)
    exact = solve(p)
    _ok(p, exact)
    lr = solve(p, "bundle", max_iter=300)
    assert lr.bound == pytest.approx(exact.objective, rel=1e-6)
    assert lr.kkt is not None and lr.kkt.kind == "lagrangian" and lr.kkt.certified


# -- max flow ----------------------------------------------------------------------------------
def test_max_flow_fractional_capacities_fall_back_to_highs() -> None:
    g = nx.DiGraph()
    g.add_edge("s", "a", capacity=2.5)
    g.add_edge("a", "t", capacity=1.25)
    g.add_edge("s", "t", capacity=0.5)
    p = max_flow.build(graph=g, source="s", sink="t")
    sol = solve(p)
    _ok(p, sol)
    assert sol.solver == "maxflow" and "fallback" in sol.info
    assert sol.objective == nx.maximum_flow_value(g, "s", "t") == 1.75
    cut = p.decode(sol)
    assert cut.cut_capacity == 1.75 and cut.source_side == ["s", "a"]


def test_max_flow_from_a_sparse_matrix_and_the_cut_multipliers() -> None:
    mat = sp.csr_matrix(np.array([[0, 3, 2, 0], [0, 0, 1, 2], [0, 0, 0, 3], [0, 0, 0, 0]]))
    p = max_flow.build(matrix=mat, source=0, sink=3)
    sol = solve(p)
    _ok(p, sol)
    assert sol.objective == 5.0
    pi = sol.multipliers["flow"]
    assert pi[3] - pi[0] == 1.0  # stationarity in F
    rc = sol.reduced_costs["x"]  # -1 on the saturated cut arcs, as pi_u - pi_v
    cut = p.decode(sol)
    assert np.all(rc[cut.cut_arcs] == -1.0)
    lp = solve(p, "highs")
    assert lp.objective == pytest.approx(5.0)


def test_max_flow_needs_a_sink_and_distinct_ends() -> None:
    with pytest.raises(ModelError, match="sink"):
        max_flow.build([0], [1], [1.0], source=0)
    with pytest.raises(ModelError, match="differ"):
        max_flow.build([0], [1], [1.0], source=1, sink=1)


# -- transportation ----------------------------------------------------------------------------
def test_pandt_from_a_file_and_its_prices(tmp_path: Path) -> None:
    f = tmp_path / "pandt.txt"
    rows = "\n".join(" ".join(map(str, r)) for r in PANDT_COST)
    f.write_text(f"# P & T Co.\n3 4\n{' '.join(map(str, PANDT_SUPPLY))}\n"
                 f"{' '.join(map(str, PANDT_DEMAND))}\n{rows}\n")  # fmt: skip
    p = transportation.read(f)
    sol = solve(p)
    _ok(p, sol)
    assert sol.objective == PANDT_OPTIMUM
    plan = p.decode(sol)
    assert {(i, j): a for i, j, a in plan.shipments} == {
        (0, 1): 20.0, (0, 3): 55.0, (1, 0): 80.0, (1, 1): 45.0, (2, 2): 70.0, (2, 3): 30.0,
    }  # fmt: skip
    u, v = plan.supply_price, plan.demand_price
    rc = np.array(PANDT_COST) + u[:, None] - v[None, :]
    assert rc.min() >= -1e-9 and np.all(np.abs(rc[plan.plan > 0]) <= 1e-9)
    assert v @ PANDT_DEMAND - u @ PANDT_SUPPLY == pytest.approx(PANDT_OPTIMUM)


def test_transportation_matches_linprog_with_forbidden_routes() -> None:
    rng = np.random.default_rng(5)
    cost = rng.integers(1, 40, (6, 8)).astype(float)
    cost[rng.random((6, 8)) < 0.25] = np.inf
    cost[:, 0] = 30.0  # every destination keeps a route from source 0 ...
    cost[0, :] = 30.0  # ... and source 0 reaches all
    supply = rng.integers(20, 40, 6).astype(float)
    demand = np.full(8, supply.sum() / 8 * 0.8)
    ok = np.isfinite(cost)
    res = linprog(
        np.where(ok, cost, 0).ravel(),
        A_ub=np.vstack((np.kron(np.eye(6), np.ones(8)), -np.kron(np.ones(6), np.eye(8)))),
        b_ub=np.concatenate((supply, -demand)),
        bounds=[(0, None) if a else (0, 0) for a in ok.ravel()],
        method="highs",
    )
    p = transportation.build(cost, supply=supply, demand=demand)
    sol = solve(p)
    _ok(p, sol)
    assert sol.objective == pytest.approx(res.fun, rel=1e-9)
    assert np.all(sol.x["x"][~ok] == 0)
    lr = solve(p, "bundle", max_iter=300)
    assert lr.bound == pytest.approx(res.fun, rel=1e-6) and lr.objective >= lr.bound - 1e-6
    assert lr.kkt is not None and lr.kkt.certified
    check_solution(p.model, lr, duals=False)


def test_transportation_short_supply_is_infeasible() -> None:
    p = transportation.build(PANDT_COST, supply=[75, 125, 10], demand=PANDT_DEMAND)
    sol = solve(p)
    assert sol.status == Status.INFEASIBLE and sol.kkt is not None and sol.kkt.certified


def test_transportation_heuristic_repairs_a_relaxed_plan() -> None:
    p = transportation.build(PANDT_COST, supply=PANDT_SUPPLY, demand=PANDT_DEMAND)
    rel = p.relaxation("demand")
    assert rel.oracle is not None and rel.heuristic is not None
    x, _ = rel.oracle({"demand": np.array([900.0, 900.0, 900.0, 900.0])})
    fixed = rel.heuristic(x)
    assert fixed is not None
    plan = fixed["x"]
    assert np.all(plan.sum(axis=1) <= np.array(PANDT_SUPPLY) + 1e-9)
    assert np.all(plan.sum(axis=0) >= np.array(PANDT_DEMAND) - 1e-9) and plan.min() >= 0


def test_transportation_from_a_networkx_graph() -> None:
    g = nx.DiGraph()
    g.add_node("p1", demand=-4)
    g.add_node("p2", demand=-4)
    g.add_node("m1", demand=3)
    g.add_node("m2", demand=5)
    g.add_weighted_edges_from([("p1", "m1", 1), ("p1", "m2", 4), ("p2", "m2", 2)])
    p = transportation.build(graph=g)
    sol = solve(p)
    _ok(p, sol)
    assert sol.objective == nx.min_cost_flow_cost(g) == 3 + 4 + 8
    assert p.decode(sol).shipments == [("p1", "m1", 3.0), ("p1", "m2", 1.0), ("p2", "m2", 4.0)]


# -- assignment --------------------------------------------------------------------------------
def test_assignment_with_forbidden_pairs_matches_scipy() -> None:
    rng = np.random.default_rng(11)
    cost = rng.integers(0, 50, (7, 7)).astype(float)
    cost[rng.random((7, 7)) < 0.3] = np.inf
    np.fill_diagonal(cost, 60.0)  # a complete assignment exists
    rows, cols = linear_sum_assignment(cost)
    mat = sp.csr_matrix((cost[np.isfinite(cost)], np.nonzero(np.isfinite(cost))), shape=(7, 7))
    for p in (assignment.build(cost), assignment.build(mat)):
        for solver in ("lsa", "auction", "network_lp"):
            sol = solve(p, solver)
            _ok(p, sol)
            assert sol.objective == cost[rows, cols].sum()
            assert np.all(sol.x["x"][~np.isfinite(cost)] == 0)


def test_assignment_infeasible_pattern_is_a_status() -> None:
    cost = np.array([[1.0, np.inf, np.inf], [2.0, np.inf, np.inf], [1.0, 1.0, 1.0]])
    sol = solve(assignment.build(cost))
    assert sol.status == Status.INFEASIBLE
    assert sol.kkt is not None and sol.kkt.kind == "farkas" and sol.kkt.certified


def test_assignment_auction_records_its_eps_cs_certificate() -> None:
    cost = np.random.default_rng(2).integers(0, 100, (40, 40))
    p = assignment.build(cost)
    sol = solve(p, "auction")
    _ok(p, sol)
    assert sol.info["eps_cs"] and sol.info["eps"] < 1 / 40
    approx = solve(p, "auction", exact_duals=False)
    assert approx.objective == sol.objective  # integer costs: eps < 1/n gives the optimum
    assert approx.bound <= approx.objective and approx.objective - approx.bound < 1.0


def test_assignment_more_persons_than_objects_and_a_bipartite_graph() -> None:
    cost = np.array([[5.0, 1.0], [2.0, 9.0], [1.0, 1.5]])
    p = assignment.build(cost)
    sol = solve(p)
    _ok(p, sol)
    assert sol.objective == 2.0 and p.decode(sol).col_of_row.tolist() == [1, -1, 0]
    assert np.all(sol.multipliers["person"] >= 0)  # person rows are <= 1 here
    g = nx.Graph()
    g.add_nodes_from(["ann", "bob"], bipartite=0)
    g.add_weighted_edges_from([("ann", "desk", 3), ("ann", "lab", 1), ("bob", "desk", 2)])
    q = assignment.build(graph=g)
    assert q.decode(solve(q)).pairs == [("ann", "lab"), ("bob", "desk")]


def test_assignment_relaxation_reaches_the_optimum(tmp_path: Path) -> None:
    f = tmp_path / "assign6.txt"
    cost = np.random.default_rng(4).integers(1, 30, (6, 6))
    f.write_text("6\n" + "\n".join(" ".join(map(str, r)) for r in cost) + "\n")
    p = assignment.read(f)
    rows, cols = linear_sum_assignment(cost)
    for method in ("bundle", "subgradient"):
        lr = solve(p, method, max_iter=500)
        assert lr.bound == pytest.approx(cost[rows, cols].sum(), abs=1e-3)
        assert lr.objective == cost[rows, cols].sum()  # the heuristic's repaired matching
        check_solution(p.model, lr, duals=False)


# -- readers -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("2\n1 2\n3 x\n", 3, None),
        ("2\n1 2\n3\n", 3, "cost"),
        ("2\n1 2\n3 4\n5\n", 4, "end of data"),
        ("0\n", 1, "n"),
    ],
)
def test_assignment_reader_names_file_and_line(
    tmp_path: Path, text: str, line: int, field: str | None
) -> None:
    f = tmp_path / "bad.txt"
    f.write_text(text)
    with pytest.raises(SpecError) as err:
        read_assignment(f)
    assert err.value.file == str(f) and err.value.line == line and err.value.field == field


def test_transportation_reader_refuses_negative_supply(tmp_path: Path) -> None:
    f = tmp_path / "t.txt"
    f.write_text("2 1\n3\n-1\n2\n1\n1\n")
    with pytest.raises(SpecError) as err:
        read_transportation(f)
    assert err.value.line == 3 and err.value.field == "supply"


def test_dimacs_max_file_and_a_gr_pair(tmp_path: Path) -> None:
    f = tmp_path / "tiny.max"
    f.write_text("c CLRS Figure 26.1\np max 6 9\nn 1 s\nn 6 t\n"
                 "a 1 2 16\na 1 3 13\na 2 4 12\na 3 2 4\na 3 5 14\n"
                 "a 4 3 9\na 4 6 20\na 5 4 7\na 5 6 4\n")  # fmt: skip
    p = max_flow.read(f)
    sol = solve(p)
    _ok(p, sol)
    cut = p.decode(sol)
    assert sol.objective == 23.0 and cut.source_side == [1, 2, 3, 5]  # CLRS Figure 26.5
    g = tmp_path / "tiny.gr"
    g.write_text("p sp 3 3\na 1 2 4\na 2 3 1\na 1 3 7\n")
    pair = shortest_path.read(g, source=1, target=3)
    path = solve(pair)
    _ok(pair, path)
    assert path.objective == 5.0 and pair.decode(path).path == [1, 2, 3]


def test_auction_on_real_costs_keeps_a_certified_answer() -> None:
    cost = np.random.default_rng(8).random((30, 30))
    rows, cols = linear_sum_assignment(cost)
    p = assignment.build(cost)
    sol = solve(p, "auction")
    assert sol.objective == pytest.approx(cost[rows, cols].sum(), abs=30 * 1e-9 * 2)
    assert sol.bound <= sol.objective + 1e-12
    check_solution(p.model, sol, duals=sol.status == Status.OPTIMAL)
