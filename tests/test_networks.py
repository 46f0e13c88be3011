"""Issue 7 acceptance: the network library through the public API, certified by this file's code.

Known answers come from outside our code: the netgen-2 optimum of data/MANIFEST.md, networkx's
Dijkstra, HiGHS on the generic Model, and the six-node graph's distances worked out by hand
(problems/shortest_path/six_nodes.yaml). Every Solution goes through tests/certificates.py.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from ortools_lag import Status, solve
from ortools_lag.io.dimacs import read_gr, read_min
from ortools_lag.lagrangian import Lagrangian
from ortools_lag.problems import min_cost_flow, shortest_path
from ortools_lag.solvers.bound_certificate import certify_bound

from .certificates import check_solution

DATA = Path(__file__).parents[1] / "data" / "dimacs"
NETGEN2_OPTIMUM = 6749969302  # data/MANIFEST.md (networkx test_mincost.py::test_large)

# The six-node graph (issue 4's example, costs only); distances from node 1 by hand:
# d(2) = 1, d(4) = 2 (1-2-4), d(5) = 3 (1-2-5), d(6) = 3 (1-2-4-6), d(3) = 10 (only arc 1-3).
SIX = dict(
    labels=[1, 2, 3, 4, 5, 6],
    tail=[1, 1, 2, 2, 3, 3, 3, 4, 4, 5],
    head=[2, 3, 4, 5, 2, 4, 5, 5, 6, 6],
    cost=[1, 10, 1, 2, 1, 5, 12, 10, 1, 2],
)
SIX_DISTANCE = np.array([0.0, 1.0, 10.0, 2.0, 3.0, 3.0])


def _reduced(tail: np.ndarray, head: np.ndarray, cost: np.ndarray, pi: np.ndarray) -> np.ndarray:
    return cost + pi[tail] - pi[head]


def _dual_value_box(p, pi: np.ndarray) -> float:
    """q(pi) of the pair problem with 0 <= x <= u, by this test's own arithmetic."""
    d = p.data
    rc = _reduced(d.arcs.tail, d.arcs.head, d.cost, pi)
    return float(np.minimum(rc, 0.0) @ d.upper - pi @ d.supply)


# -- rome99 ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rome() -> tuple:
    g = read_gr(DATA / "rome99.gr")
    p = shortest_path.read(DATA / "rome99.gr", source=1)
    return g, p, solve(p)


def test_rome99_potentials_certify_every_distance(rome: tuple) -> None:
    g, p, sol = rome
    assert sol.solver == "dijkstra" and sol.status == Status.OPTIMAL
    check_solution(p.model, sol)
    pi = sol.multipliers["flow"]
    x = sol.x["x"]
    rc = _reduced(g.tail, g.head, g.cost, pi)
    scale = 1e-9 * (1 + np.abs(pi).max())
    assert pi[0] == 0.0  # node 1
    assert rc.min() >= -scale  # no negative reduced cost
    tree = x > 0
    assert np.abs(rc[tree]).max() <= scale  # zero on the tree arcs
    # every node reached by the tree has exactly one tree arc in; the distances agree with networkx
    assert np.all(np.bincount(g.head[tree], minlength=g.n)[1:] == 1)
    ref = nx.single_source_dijkstra_path_length(_digraph(g), 0)
    nodes = np.fromiter(ref.keys(), dtype=np.int64)
    assert np.allclose(pi[nodes], np.fromiter(ref.values(), dtype=float), rtol=0, atol=1e-6)
    assert sol.info["certificate"]["certified"]


def _digraph(g) -> nx.DiGraph:
    G = nx.DiGraph()
    G.add_nodes_from(range(g.n))
    for u, v, c in zip(g.tail.tolist(), g.head.tolist(), g.cost.tolist()):
        if not G.has_edge(u, v) or G[u][v]["weight"] > c:  # the cheapest of parallel arcs
            G.add_edge(u, v, weight=c)
    return G


def test_rome99_lp_route_through_highs_gives_the_same_distance(rome: tuple) -> None:
    g, p, sol = rome
    dist = p.decode(sol).distance
    far = int(np.argmax(np.where(np.isfinite(dist), dist, -1.0)))
    pair = shortest_path.read(DATA / "rome99.gr", source=1, target=far + 1)
    lp = solve(pair, "highs")
    assert lp.status == Status.OPTIMAL
    check_solution(pair.model, lp)
    assert lp.objective == pytest.approx(dist[far], abs=1e-6)
    exact = solve(pair)
    check_solution(pair.model, exact)
    path = pair.decode(exact)
    assert path.path[0] == 1 and path.path[-1] == far + 1
    assert float(g.cost[path.path_arcs].sum()) == pytest.approx(lp.objective, abs=1e-6)


# -- netgen-2 ----------------------------------------------------------------------------------
def test_netgen2_min_cost_with_its_potential_certificate() -> None:
    g = read_min(DATA / "netgen-2.min")
    p = min_cost_flow.read(DATA / "netgen-2.min")
    sol = solve(p)
    assert sol.solver == "network_lp" and sol.status == Status.OPTIMAL
    check_solution(p.model, sol)
    assert sol.objective == pytest.approx(NETGEN2_OPTIMUM, abs=0.5)
    x, pi = sol.x["x"], sol.multipliers["flow"]
    rc = _reduced(g.tail, g.head, g.cost, pi)
    tol = 1e-7 * (1 + np.abs(g.cost).max())
    assert np.all(rc[x < g.cap - 1e-9] >= -tol)  # may grow: not cheaper to push more
    assert np.all(rc[x > g.low + 1e-9] <= tol)  # may shrink: not cheaper to push less
    out = np.bincount(g.tail, weights=x, minlength=g.n) - np.bincount(
        g.head, weights=x, minlength=g.n
    )
    assert np.allclose(out, g.supply)
    assert np.all(x >= g.low - 1e-9) and np.all(x <= g.cap + 1e-9)
    # the potentials' dual value (with the capacity multipliers max(0, -rc)) is the optimum
    dual = -pi @ g.supply - np.maximum(-rc, 0) @ g.cap + np.maximum(rc, 0) @ g.low
    assert dual == pytest.approx(NETGEN2_OPTIMUM, abs=1e-3)


def test_netgen2_same_cost_through_the_generic_model_and_highs() -> None:
    p = min_cost_flow.read(DATA / "netgen-2.min")
    sol = solve(p.model, "highs")
    assert sol.status == Status.OPTIMAL
    check_solution(p.model, sol)
    assert sol.objective == pytest.approx(NETGEN2_OPTIMUM, abs=0.5)
    presolved = solve(p, "network_lp", presolve="on")
    assert presolved.objective == pytest.approx(NETGEN2_OPTIMUM, abs=0.5)


# -- the teaching check ------------------------------------------------------------------------
def test_dijkstra_multipliers_are_the_hand_distances() -> None:
    p = shortest_path.build(**SIX, source=1, target=6)
    sol = solve(p)
    check_solution(p.model, sol)
    assert sol.objective == 3.0
    assert np.array_equal(sol.multipliers["flow"], SIX_DISTANCE)
    assert p.decode(sol).path == [1, 2, 4, 6]


@pytest.mark.parametrize(("method", "tol"), [("bundle", 1e-6), ("subgradient", 1e-3)])
def test_teaching_pair_bound_reaches_the_distance(method: str, tol: float) -> None:
    p = shortest_path.build(**SIX, source=1, target=6, arc_bound=1.0)
    assert np.all(p.model.variables["x"].ub == 1.0)
    sol = solve(p, method, max_iter=500)
    assert sol.iterations <= 500
    assert abs(sol.bound - 3.0) <= tol
    check_solution(p.model, sol, duals=False)
    pi = sol.multipliers["flow"]
    # the bound is q at the reported multipliers (this file's arithmetic), and HiGHS agrees
    assert _dual_value_box(p, pi) == pytest.approx(sol.bound, abs=1e-9)
    rep = certify_bound(p, ["flow"], {"flow": pi}, sol.bound)
    assert rep.certified and rep.dual_objective == pytest.approx(sol.bound, abs=1e-9)
    assert sol.kkt is not None and sol.kkt.kind == "lagrangian" and sol.kkt.certified
    # the distances are an optimal dual point too: q(d) = d(6) = 3
    assert _dual_value_box(p, SIX_DISTANCE) == 3.0
    assert sol.info["bound_from"].startswith(method) and sol.history is not None


@pytest.mark.parametrize(("method", "tol"), [("bundle", 1e-6), ("subgradient", 1e-3)])
def test_teaching_multipliers_are_the_distances_up_to_a_constant(method: str, tol: float) -> None:
    """In the pair problem the dual fixes only part of pi (see the module docstring of
    problems.shortest_path); from the source to every node (b = -1 at each, bounds 0 <= x <= 6
    so that the tree's flows fit) the dual optimum is unique: pi - pi_1 = the distances."""
    p = shortest_path.build(**SIX, source=1, arc_bound=6.0)
    sol = solve(p, method, max_iter=500, tolerance=1e-10)
    assert sol.iterations <= 500
    assert abs(sol.bound - SIX_DISTANCE.sum()) <= tol
    pi = sol.multipliers["flow"]
    assert np.allclose(pi - pi[0], SIX_DISTANCE, rtol=0, atol=tol)
    check_solution(p.model, sol, duals=False)


def test_oracle_value_matches_the_engines_independent_reevaluation() -> None:
    p = shortest_path.build(**SIX, source=1, target=6, arc_bound=1.0)
    rel = p.relaxation("flow")
    assert rel.oracle is not None
    lag = Lagrangian(p)
    rng = np.random.default_rng(7)
    for _ in range(5):
        pi = rng.normal(scale=4.0, size=6)
        x, value = rel.oracle({"flow": pi})
        assert value == pytest.approx(lag.value(x, {"flow": pi}), abs=1e-9)
        rep = certify_bound(p, ["flow"], {"flow": pi}, value)
        assert rep.dual_objective == pytest.approx(value, abs=1e-9)  # HiGHS finds no lower L
