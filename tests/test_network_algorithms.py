"""Network algorithms and their dual certificates, checked by this file's own arithmetic.

Known answers come from outside our code: networkx (Dijkstra, Bellman-Ford, max flow, network
simplex), scipy's linear_sum_assignment, the published netgen-2 optimum (MANIFEST.md) and small
graphs worked out by hand.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from ortools_lag.algorithms.assignment import (
    assignment_duals,
    auction,
    check_assignment,
    linear_assignment,
)
from ortools_lag.algorithms.flows import (
    check_max_flow,
    check_min_cost_flow,
    flow_potentials,
    max_flow,
    min_cut,
    node_imbalance,
)
from ortools_lag.algorithms.shortest_paths import (
    bellman_ford,
    check_potentials,
    complete_potentials,
    find_negative_cycle,
    reduced_costs,
    shortest_path,
    shortest_paths,
)
from ortools_lag.errors import ModelError
from ortools_lag.io.dimacs import read_gr, read_min
from ortools_lag.problems.shortest_path import tree_flow

DATA = Path(__file__).parents[1] / "data" / "dimacs"
NETGEN2_OPTIMUM = 6749969302  # MANIFEST.md (networkx test_mincost.py::test_large)
RANDOM = settings(max_examples=25, deadline=None, derandomize=True)


def _multidigraph(n: int, tail, head, cost) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(zip(tail.tolist(), head.tolist(), cost.tolist()))
    return g


def _random_graph(seed: int, n: int, m: int, low: int, high: int):
    rng = np.random.default_rng(seed)
    tail = rng.integers(0, n, m)
    head = rng.integers(0, n, m)
    cost = rng.integers(low, high, m).astype(float)
    return tail, head, cost


# ---------------------------------------------------------------- shortest paths


def test_rome99_potentials_certify_every_distance() -> None:
    g = read_gr(DATA / "rome99.gr")
    tree = shortest_paths(g.n, g.tail, g.head, g.cost, source=0)  # node 1 of the file
    pi = tree.potential
    assert pi[0] == 0.0 and np.all(np.isfinite(pi))  # rome99 is strongly connected from 1
    # dual feasibility, by hand: no arc has a negative reduced cost
    rc = g.cost + pi[g.tail] - pi[g.head]
    assert rc.min() >= 0.0
    # complementary slackness: every node but the source enters by a tight tree arc ...
    others = np.flatnonzero(np.arange(g.n) != 0)
    arcs = tree.pred_arc[others]
    assert np.all(arcs >= 0) and np.all(g.head[arcs] == others)
    assert np.all(g.cost[arcs] + pi[g.tail[arcs]] - pi[others] == 0.0)
    # ... and the tree arcs lead back to the source (no cycle): pi are lengths of real paths
    parent = np.full(g.n, -1)
    parent[others] = g.tail[arcs]
    reached = np.zeros(g.n, dtype=bool)
    reached[0] = True
    for _ in range(g.n):
        reached |= (parent >= 0) & reached[np.maximum(parent, 0)]
        if reached.all():
            break
    assert reached.all()
    # networkx's Dijkstra, independently
    nxd = nx.single_source_dijkstra_path_length(_multidigraph(g.n, g.tail, g.head, g.cost), 0)
    assert len(nxd) == g.n
    assert np.array_equal(pi, np.array([nxd[v] for v in range(g.n)]))
    assert check_potentials(g.tail, g.head, g.cost, pi, source=0, pred_arc=tree.pred_arc) == 0.0


def test_rome99_single_pair_to_farthest_node() -> None:
    g = read_gr(DATA / "rome99.gr")
    tree = shortest_paths(g.n, g.tail, g.head, g.cost, source=0)
    far = int(np.argmax(tree.potential))
    length, nodes, arcs, _ = shortest_path(g.n, g.tail, g.head, g.cost, 0, far)
    graph = _multidigraph(g.n, g.tail, g.head, g.cost)
    assert length == nx.dijkstra_path_length(graph, 0, far)
    assert nodes[0] == 0 and nodes[-1] == far
    assert np.array_equal(g.tail[arcs], nodes[:-1]) and np.array_equal(g.head[arcs], nodes[1:])
    assert g.cost[arcs].sum() == length


def test_hand_graph_with_parallel_zero_cost_arcs_and_unreachable_node() -> None:
    # 0 -> 1 twice (5 and 2), 1 -> 2 at 0, 0 -> 2 at 3, 3 -> 0 at 1 (3 unreachable from 0)
    tail = np.array([0, 0, 1, 0, 3])
    head = np.array([1, 1, 2, 2, 0])
    cost = np.array([5.0, 2.0, 0.0, 3.0, 1.0])
    tree = shortest_paths(4, tail, head, cost, source=0)
    assert tree.potential.tolist() == [0.0, 2.0, 2.0, np.inf]
    assert tree.pred_arc.tolist() == [-1, 1, 2, -1]
    assert tree.path_to(3)[0].size == 0
    finite = complete_potentials(4, tail, head, cost, tree.potential)
    assert np.all(np.isfinite(finite)) and finite[:3].tolist() == [0.0, 2.0, 2.0]
    assert reduced_costs(tail, head, cost, finite).min() >= 0.0


@RANDOM
@given(seed=st.integers(0, 2**31), n=st.integers(2, 40), density=st.integers(1, 6))
def test_random_dijkstra_matches_networkx(seed: int, n: int, density: int) -> None:
    tail, head, cost = _random_graph(seed, n, n * density, 0, 20)
    tree = shortest_paths(n, tail, head, cost, source=0)
    nxd = nx.single_source_dijkstra_path_length(_multidigraph(n, tail, head, cost), 0)
    expect = np.array([nxd.get(v, np.inf) for v in range(n)])
    assert np.array_equal(tree.potential, expect)
    assert check_potentials(tail, head, cost, tree.potential, source=0, pred_arc=tree.pred_arc) == 0


@RANDOM
@given(seed=st.integers(0, 2**31), n=st.integers(2, 30), density=st.integers(1, 4))
def test_random_negative_costs_match_networkx(seed: int, n: int, density: int) -> None:
    rng = np.random.default_rng(seed)
    tail, head, cost = _random_graph(seed, n, n * density, 0, 30)
    h = rng.integers(-50, 50, n).astype(float)  # a potential shift: negative arcs, no cycle
    cost = cost + h[tail] - h[head]
    graph = _multidigraph(n, tail, head, cost)
    assert not nx.negative_edge_cycle(graph)
    tree = shortest_paths(n, tail, head, cost, source=0)
    assert not tree.unbounded
    nxd = nx.single_source_bellman_ford_path_length(graph, 0)
    expect = np.array([nxd.get(v, np.inf) for v in range(n)])
    assert np.allclose(tree.potential, expect, rtol=0, atol=1e-9)
    pi = tree.potential
    live = np.isfinite(pi[tail])
    assert np.all(cost[live] + pi[tail[live]] - pi[head[live]] >= -1e-9)


@RANDOM
@given(seed=st.integers(0, 2**31), n=st.integers(2, 25), density=st.integers(1, 4))
def test_random_negative_cycles_agree_with_networkx(seed: int, n: int, density: int) -> None:
    tail, head, cost = _random_graph(seed, n, n * density, -6, 20)
    expect = nx.negative_edge_cycle(_multidigraph(n, tail, head, cost))
    found = find_negative_cycle(n, tail, head, cost)
    assert (found is not None) == expect
    if found is not None:
        nodes, arcs = found
        assert np.array_equal(tail[arcs], nodes)
        assert np.array_equal(head[arcs], np.roll(nodes, -1))
        assert cost[arcs].sum() < 0
        assert np.unique(nodes).size == nodes.size  # a simple cycle


def test_negative_cycle_built_into_a_road_network() -> None:
    g = read_gr(DATA / "rome99.gr")
    # add the cycle 10 -> 20 -> 30 -> 10 of cost 1 + 1 - 5 = -3 (nodes far apart in the file)
    tail = np.concatenate((g.tail, [10, 20, 30]))
    head = np.concatenate((g.head, [20, 30, 10]))
    cost = np.concatenate((g.cost, [1.0, 1.0, -5.0]))
    tree = shortest_paths(g.n, tail, head, cost, source=0)
    assert tree.unbounded
    assert tree.negative_cycle is not None and tree.negative_cycle_arcs is not None
    assert tree.negative_cycle.tolist() == [10, 20, 30]
    assert tree.negative_cycle_arcs.tolist() == [g.m, g.m + 1, g.m + 2]
    length, nodes, _, _ = shortest_path(g.n, tail, head, cost, 0, 5)
    assert length == -np.inf and nodes.size == 0


def test_negative_self_loop_is_a_cycle() -> None:
    r = bellman_ford(3, np.array([0, 1, 1]), np.array([1, 1, 2]), np.array([1.0, -1.0, 1.0]))
    assert r.negative_cycle is not None and r.negative_cycle.tolist() == [1]
    assert r.negative_cycle_arcs is not None and r.negative_cycle_arcs.tolist() == [1]


def test_shortest_path_input_errors() -> None:
    with pytest.raises(ModelError, match="outside"):
        shortest_paths(2, [0], [2], [1.0], source=0)
    with pytest.raises(ModelError, match="Dijkstra needs"):
        shortest_paths(2, [0], [1], [-1.0], source=0, method="dijkstra")
    with pytest.raises(ModelError, match="finite"):
        shortest_paths(2, [0], [1], [np.nan], source=0)
    with pytest.raises(ModelError, match="source"):
        shortest_paths(2, [0], [1], [1.0], source=5)


def test_check_potentials_flags_bad_certificates() -> None:
    tail, head, cost = np.array([0, 1]), np.array([1, 2]), np.array([1.0, 1.0])
    good = np.array([0.0, 1.0, 2.0])
    assert check_potentials(tail, head, cost, good, source=0, pred_arc=[-1, 0, 1]) == 0.0
    assert check_potentials(tail, head, cost, [0.0, 1.0, 3.0]) == 1.0  # rc of arc 1 is -1
    assert check_potentials(tail, head, cost, [0.0, 1.0, np.inf]) == np.inf  # 2 is reachable
    assert check_potentials(tail, head, cost, [0.0, 1.0, 1.5], pred_arc=[-1, 0, 1]) == 0.5
    assert check_potentials(tail, head, cost, good, source=0, pred_arc=[-1, 0, -1]) == np.inf
    assert check_potentials([0, 1], [1, 0], [0.0, 0.0], [0.0, 0.0], pred_arc=[1, 0]) == np.inf


# ---------------------------------------------------------------- min-cost flow


def test_netgen2_network_simplex_flow_gets_a_potential_certificate() -> None:
    g = read_min(DATA / "netgen-2.min")
    graph = nx.DiGraph()
    for v in range(g.n):
        graph.add_node(v, demand=-int(g.supply[v]))  # networkx: demand = in - out
    for u, v, cap, cost in zip(g.tail.tolist(), g.head.tolist(), g.cap, g.cost):
        graph.add_edge(u, v, capacity=int(cap), weight=int(cost))
    assert graph.number_of_edges() == g.m and g.low.max() == 0
    value, flow_dict = nx.network_simplex(graph)
    assert value == NETGEN2_OPTIMUM
    x = np.array([flow_dict[u][v] for u, v in zip(g.tail.tolist(), g.head.tolist())], float)
    fp = flow_potentials(g.n, g.tail, g.head, g.cost, x, low=g.low, cap=g.cap)
    assert fp.optimal
    pi = fp.potential
    # the certificate, by hand: feasibility, then reduced costs against the arc bounds
    assert np.all(x >= 0) and np.all(x <= g.cap)
    out = np.bincount(g.tail, weights=x, minlength=g.n)
    into = np.bincount(g.head, weights=x, minlength=g.n)
    assert np.array_equal(out - into, g.supply)
    rc = g.cost + pi[g.tail] - pi[g.head]
    assert np.all(rc[x < g.cap] >= 0) and np.all(rc[x > 0] <= 0)
    # strong duality: -pi.b - sum cap * max(0, -rc) equals the published optimum
    dual = -pi @ g.supply - g.cap @ np.maximum(-rc, 0.0)
    assert dual == NETGEN2_OPTIMUM == g.cost @ x
    assert check_min_cost_flow(g.n, g.tail, g.head, g.cost, g.supply, x, pi, cap=g.cap) == 0.0


def test_non_optimal_flow_yields_an_improving_cycle() -> None:
    # 0 -> 1 direct at cost 5, or 0 -> 2 -> 1 at cost 1 + 1; 2 units sent the expensive way
    tail, head = np.array([0, 0, 2]), np.array([1, 2, 1])
    cost, cap = np.array([5.0, 1.0, 1.0]), np.array([2.0, 2.0, 2.0])
    fp = flow_potentials(3, tail, head, cost, [2.0, 0.0, 0.0], cap=cap)
    assert not fp.optimal
    assert fp.negative_cycle_arcs is not None and fp.negative_cycle_forward is not None
    assert sorted(fp.negative_cycle_arcs.tolist()) == [0, 1, 2]
    forward = dict(zip(fp.negative_cycle_arcs.tolist(), fp.negative_cycle_forward.tolist()))
    assert forward == {0: False, 1: True, 2: True}  # take flow off arc 0, put it on 1 and 2
    good = flow_potentials(3, tail, head, cost, [0.0, 2.0, 2.0], cap=cap)
    assert good.optimal
    supply, x = [2.0, -2.0, 0.0], [0.0, 2.0, 2.0]
    assert check_min_cost_flow(3, tail, head, cost, supply, x, good.potential, cap=cap) == 0.0


@RANDOM
@given(seed=st.integers(0, 2**31), n=st.integers(3, 25), density=st.integers(2, 5))
def test_random_min_cost_flow_certified(seed: int, n: int, density: int) -> None:
    rng = np.random.default_rng(seed)
    tail, head, cost = _random_graph(seed, n, n * density, 0, 30)
    keep = tail != head
    tail, head, cost = tail[keep], head[keep], cost[keep]
    cap = rng.integers(1, 10, tail.size).astype(float)
    # supplies from a random feasible flow, so that the instance is feasible
    x0 = np.floor(rng.random(tail.size) * (cap + 1))
    supply = node_imbalance(n, tail, head, x0)
    graph = nx.MultiDiGraph()
    for v in range(n):
        graph.add_node(v, demand=-int(supply[v]))
    for k, (u, v) in enumerate(zip(tail.tolist(), head.tolist())):
        graph.add_edge(u, v, key=k, capacity=int(cap[k]), weight=int(cost[k]))
    value, flow_dict = nx.network_simplex(graph)
    x = np.array([flow_dict[u][v][k] for k, (u, v) in enumerate(zip(tail, head))], float)
    fp = flow_potentials(n, tail, head, cost, x, cap=cap)
    assert fp.optimal
    assert check_min_cost_flow(n, tail, head, cost, supply, x, fp.potential, cap=cap) == 0.0
    rc = cost + fp.potential[tail] - fp.potential[head]
    dual = -fp.potential @ supply - cap @ np.maximum(-rc, 0.0)
    assert dual == pytest.approx(value, abs=1e-6) and cost @ x == value


# ---------------------------------------------------------------- max flow


def test_max_flow_hand_example_with_parallel_and_antiparallel_arcs() -> None:
    # s=0, t=3: 0->1 (2 and 1 in parallel), 0->2 (2), 1->2 (1), 2->1 (1), 1->3 (2), 2->3 (3)
    tail = np.array([0, 0, 0, 1, 2, 1, 2])
    head = np.array([1, 1, 2, 2, 1, 3, 3])
    cap = np.array([2.0, 1.0, 2.0, 1.0, 1.0, 2.0, 3.0])
    r = max_flow(4, tail, head, cap, 0, 3)
    assert r.value == 5.0  # the cut around the source: 2 + 1 + 2
    assert r.source_side.tolist() == [True, False, False, False]
    assert sorted(r.cut_arcs.tolist()) == [0, 1, 2]
    assert np.all(r.flow >= 0) and np.all(r.flow <= cap)
    assert check_max_flow(4, tail, head, cap, 0, 3, r.flow, r.source_side) == 0.0
    assert r.potential.tolist() == [0.0, 1.0, 1.0, 1.0]
    assert r.capacity_multiplier(7).tolist() == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]


@RANDOM
@given(seed=st.integers(0, 2**31), n=st.integers(2, 30), density=st.integers(1, 6))
def test_random_max_flow_value_and_cut(seed: int, n: int, density: int) -> None:
    rng = np.random.default_rng(seed)
    tail, head, _ = _random_graph(seed, n, n * density, 0, 1)
    cap = rng.integers(0, 20, tail.size).astype(float)
    r = max_flow(n, tail, head, cap, 0, n - 1)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    for u, v, c in zip(tail.tolist(), head.tolist(), cap.tolist()):
        if u != v:  # parallel arcs add up
            old = graph.edges[u, v]["capacity"] if graph.has_edge(u, v) else 0.0
            graph.add_edge(u, v, capacity=old + c)
    assert r.value == nx.maximum_flow_value(graph, 0, n - 1)
    side = r.source_side
    assert side[0] and not side[n - 1]
    cut = side[tail] & ~side[head]
    assert cap[cut].sum() == r.value
    assert np.array_equal(np.flatnonzero(cut), r.cut_arcs)
    assert np.all(r.flow[cut] == cap[cut]) and np.all(r.flow[~side[tail] & side[head]] == 0)
    net = node_imbalance(n, tail, head, r.flow)
    assert net[0] == r.value and np.all(net[1 : n - 1] == 0)
    assert check_max_flow(n, tail, head, cap, 0, n - 1, r.flow, side) == 0.0


def test_min_cut_of_a_given_flow_and_errors() -> None:
    side = min_cut(3, [0, 1], [1, 2], [1.0, 5.0], [1.0, 1.0], 0)
    assert side.tolist() == [True, False, False]
    with pytest.raises(ModelError, match="integer"):
        max_flow(2, [0], [1], [1.5], 0, 1)
    with pytest.raises(ModelError, match="distinct"):
        max_flow(2, [0], [1], [1.0], 0, 0)
    with pytest.raises(ModelError, match="32-bit"):
        max_flow(2, [0, 0], [1, 1], [2.0**31 - 1, 2.0**31 - 1], 0, 1)


# ---------------------------------------------------------------- assignment


def _assert_dual_certificate(c: np.ndarray, col, lam, mu, eps: float) -> None:
    n = c.shape[0]
    rc = c + lam[:, None] + mu[None, :]
    tol = 1e-9 * max(1.0, float(np.abs(c).max()))
    assert rc.min() >= -tol  # dual feasible
    matched = rc[np.arange(n), col]
    assert matched.max() <= eps + tol  # (eps-)complementary slackness
    assert np.unique(col).size == n


@RANDOM
@given(seed=st.integers(0, 2**31), n=st.integers(1, 40), high=st.sampled_from([2, 10, 1000]))
def test_random_assignment_auction_and_exact_match_scipy(seed: int, n: int, high: int) -> None:
    c = np.random.default_rng(seed).integers(0, high, (n, n)).astype(float)
    rows, cols = linear_sum_assignment(c)
    optimum = c[rows, cols].sum()
    au = auction(c)
    assert au.cost == optimum == c[np.arange(n), au.col_of_row].sum()
    assert au.eps < 1.0 / n
    _assert_dual_certificate(c, au.col_of_row, au.person_multiplier, au.prices, au.eps)
    assert optimum - n * au.eps - 1e-9 <= au.dual_value <= optimum + 1e-9
    ex = linear_assignment(c)
    assert ex.cost == optimum
    _assert_dual_certificate(c, ex.col_of_row, ex.person_multiplier, ex.object_multiplier, 0.0)
    assert ex.dual_value == pytest.approx(optimum, abs=1e-9)
    lam, mu, _ = assignment_duals(c, au.col_of_row, object_multiplier=au.prices)
    assert check_assignment(c, au.col_of_row, lam, mu) == 0.0


@RANDOM
@given(seed=st.integers(0, 2**31), n=st.integers(1, 15), extra=st.integers(1, 10))
def test_random_rectangular_assignment_prices(seed: int, n: int, extra: int) -> None:
    c = np.random.default_rng(seed).integers(0, 50, (n, n + extra)).astype(float)
    rows, cols = linear_sum_assignment(c)
    r = linear_assignment(c)
    assert r.cost == c[rows, cols].sum()
    _assert_dual_certificate(c, r.col_of_row, r.person_multiplier, r.object_multiplier, 0.0)
    unused = np.setdiff1d(np.arange(n + extra), r.col_of_row)
    assert np.all(r.object_multiplier >= 0) and np.all(r.object_multiplier[unused] == 0)
    assert r.dual_value == pytest.approx(r.cost, abs=1e-9)


def test_auction_on_real_costs_is_eps_optimal() -> None:
    c = np.random.default_rng(7).random((60, 60))
    r = auction(c)
    rows, cols = linear_sum_assignment(c)
    optimum = c[rows, cols].sum()
    assert optimum <= r.cost <= optimum + 60 * r.eps + 1e-12
    _assert_dual_certificate(c, r.col_of_row, r.person_multiplier, r.prices, r.eps)


def test_assignment_hand_example_and_errors() -> None:
    c = np.array([[1.0, 3.0], [2.0, 9.0]])  # optimum: 0 -> 1, 1 -> 0, cost 5
    r = linear_assignment(c)
    assert r.col_of_row.tolist() == [1, 0] and r.cost == 5.0
    # by hand: v = -mu solves v_0 <= v_1 + 1 - 3, v_1 <= v_0 + 9 - 2, max v = 0
    assert r.object_multiplier.tolist() == [2.0, 0.0]
    assert r.person_multiplier.tolist() == [-3.0, -4.0]
    assert check_assignment(c, [0, 1], [-1.0, -9.0], [0.0, 0.0]) > 0  # CS holds, not feasible
    with pytest.raises(ModelError, match="not optimal"):
        assignment_duals(c, [0, 1])
    with pytest.raises(ModelError, match="square"):
        auction(np.ones((2, 3)))
    with pytest.raises(ModelError, match="finite"):
        linear_assignment(np.array([[np.inf]]))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 80), st.booleans())
def test_tree_flow_is_the_subtree_weight_of_each_arc(seed: int, n: int, deep: bool) -> None:
    rng = np.random.default_rng(seed)
    nodes = rng.permutation(n)  # nodes[0] is the root; a parent comes before its children
    below = np.arange(1, n)
    at = below - 1 if deep else rng.integers(0, np.maximum(below, 1))  # deep: a path
    parent = np.full(n, -1)
    parent[nodes[1:]] = nodes[at]
    child = nodes[1:]
    extra = rng.integers(0, n, (2, 4))  # arcs off the tree carry nothing
    tail = np.concatenate((parent[child], extra[0]))
    head = np.concatenate((child, extra[1]))
    shuffle = rng.permutation(tail.size)
    tail, head = tail[shuffle], head[shuffle]
    pred_arc = np.full(n, -1)
    pred_arc[head[np.argsort(shuffle)[: child.size]]] = np.argsort(shuffle)[: child.size]
    weight = rng.random(n)
    flow = tree_flow(n, tail, pred_arc, weight)
    tree = nx.DiGraph((int(parent[v]), int(v)) for v in child)
    expect = np.zeros(tail.size)
    for v in child.tolist():
        expect[pred_arc[v]] = weight[v] + sum(weight[u] for u in nx.descendants(tree, v))
    assert np.allclose(flow, expect)
    assert np.allclose(tree_flow(n, tail, pred_arc, weight, parent), expect)  # parents given
