"""Issue 7 acceptance on random instances (seeded, hypothesis, bounded sizes).

Each optimum is compared with an independent library -- scipy's linear_sum_assignment,
networkx's maximum_flow_value, network_simplex and negative_edge_cycle -- and each Solution goes
through tests/certificates.py and the family certificate.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from ortools_lag import Status, solve
from ortools_lag.problems import assignment, max_flow, min_cost_flow, shortest_path

from .certificates import check_solution

RANDOM = settings(max_examples=20, deadline=None, derandomize=True)
SEEDS = st.integers(0, 2**31 - 1)


def _certified(problem, sol) -> None:
    check_solution(problem.model, sol)
    assert sol.status == Status.OPTIMAL
    assert sol.info["certificate"]["certified"], sol.info["certificate"]


@RANDOM
@given(
    seed=SEEDS,
    n=st.integers(1, 9),
    extra=st.integers(-3, 3),
    solver=st.sampled_from(["lsa", "auction"]),
)
def test_assignment_optimum_equals_scipys(seed: int, n: int, extra: int, solver: str) -> None:
    rng = np.random.default_rng(seed)
    m = max(1, n + extra)
    cost = rng.integers(-20, 60, size=(n, m)).astype(float)
    rows, cols = linear_sum_assignment(cost)
    p = assignment.build(cost)
    sol = solve(p, solver)
    _certified(p, sol)
    assert sol.objective == pytest.approx(cost[rows, cols].sum(), abs=1e-9)
    matching = p.decode(sol)
    assert len(matching.pairs) == min(n, m)
    rc = cost + sol.multipliers["person"][:, None] + sol.multipliers["object"]
    assert rc.min() >= -1e-9


@RANDOM
@given(seed=SEEDS, n=st.integers(2, 12), density=st.floats(0.1, 0.6))
def test_max_flow_value_equals_networkxs(seed: int, n: int, density: float) -> None:
    rng = np.random.default_rng(seed)
    mask = (rng.random((n, n)) < density) & ~np.eye(n, dtype=bool)
    tail, head = np.nonzero(mask)
    cap = rng.integers(0, 20, tail.size).astype(float)
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(zip(tail.tolist(), head.tolist(), cap.tolist()), weight="capacity")
    ref = nx.maximum_flow_value(g, 0, n - 1)
    p = max_flow.build(tail, head, cap, n=n, source=0, sink=n - 1)
    sol = solve(p)
    _certified(p, sol)
    assert sol.objective == pytest.approx(ref, abs=1e-9)
    cut = p.decode(sol)
    assert cut.cut_capacity == pytest.approx(ref, abs=1e-9)
    assert 0 in cut.source_side and n - 1 in cut.sink_side


@RANDOM
@given(seed=SEEDS, n=st.integers(2, 10), density=st.floats(0.2, 0.7))
def test_min_cost_flow_equals_network_simplex(seed: int, n: int, density: float) -> None:
    rng = np.random.default_rng(seed)
    mask = (rng.random((n, n)) < density) & ~np.eye(n, dtype=bool)
    mask[np.arange(n - 1), np.arange(1, n)] = True  # a path keeps it feasible
    tail, head = np.nonzero(mask)
    cost = rng.integers(0, 30, tail.size).astype(float)
    cap = rng.integers(5, 15, tail.size).astype(float)
    cap[head == tail + 1] = 100.0
    supply = np.zeros(n)
    supply[0], supply[-1] = 7.0, -7.0
    g = nx.DiGraph()
    for v in range(n):
        g.add_node(v, demand=-supply[v])
    for u, v, c, k in zip(tail.tolist(), head.tolist(), cost.tolist(), cap.tolist()):
        g.add_edge(u, v, weight=c, capacity=k)
    ref, _ = nx.network_simplex(g)
    p = min_cost_flow.build(tail, head, cost, supply=supply, cap=cap, n=n)
    sol = solve(p)
    _certified(p, sol)
    assert sol.objective == pytest.approx(ref, abs=1e-9)
    same = solve(min_cost_flow.build(graph=g))
    assert same.objective == pytest.approx(ref, abs=1e-9)


@RANDOM
@given(seed=SEEDS, n=st.integers(2, 9), density=st.floats(0.2, 0.6))
def test_negative_cycles_are_detected(seed: int, n: int, density: float) -> None:
    rng = np.random.default_rng(seed)
    mask = (rng.random((n, n)) < density) & ~np.eye(n, dtype=bool)
    mask[np.arange(n - 1), np.arange(1, n)] = True  # node n-1 reachable from 0
    tail, head = np.nonzero(mask)
    cost = rng.integers(-6, 15, tail.size).astype(float)
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(tail.tolist(), head.tolist(), cost.tolist()))
    p = shortest_path.build(tail, head, cost, n=n, source=0, target=n - 1)
    sol = solve(p)
    if nx.negative_edge_cycle(g):
        assert sol.status == Status.UNBOUNDED
        assert sol.kkt is not None and sol.kkt.kind == "ray" and sol.kkt.certified
        d = sol.ray["direction"]["x"]
        out = np.bincount(tail, weights=d, minlength=n) - np.bincount(head, weights=d, minlength=n)
        assert np.allclose(out, 0) and np.all(d >= 0) and cost @ d < 0  # a negative circulation
        cycle = sol.info["negative_cycle"]
        arcs = sol.info["negative_cycle_arcs"]
        assert [int(tail[a]) for a in arcs] == cycle and cost[arcs].sum() < 0
    else:
        _certified(p, sol)
        assert sol.objective == pytest.approx(nx.bellman_ford_path_length(g, 0, n - 1), abs=1e-9)
