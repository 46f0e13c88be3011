"""The ``tsp`` family through the public API: ``solve(problem)`` on TSPLIB and small instances.

Known answers come from outside the code: optimal tour lengths and Held–Karp (subtour LP)
values of ``data/MANIFEST.md``, the ``.opt.tour`` files, brute-force enumeration of every tour
of small instances, HiGHS on the Model, the subtour LP solved here with highspy plus networkx's
Stoer–Wagner minimum cut for separation, and ``L(pi)`` re-evaluated here with networkx's MST.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import highspy
import networkx as nx
import numpy as np
import pytest

from ortools_lag import Status, solve
from ortools_lag.errors import ModelError, SpecError
from ortools_lag.lagrangian import Lagrangian
from ortools_lag.problems import tsp
from ortools_lag.solvers.bound_certificate import certify_bound, recompute_dual
from tests.certificates import assert_signs, check_solution
from tests.manifest_answers import TSPLIB_DATA, TSPLIB_MANIFEST


def _points(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 100, (n, 2))


def _brute_force(w: np.ndarray) -> float:
    """Shortest tour by enumerating every permutation of the nodes 1..n-1."""
    n = w.shape[0]
    best = math.inf
    for perm in itertools.permutations(range(1, n)):
        if perm[0] < perm[-1]:  # each cycle once
            t = (0, *perm)
            best = min(best, sum(w[t[i], t[(i + 1) % n]] for i in range(n)))
    return float(best)


def _networkx_lagrangian(w: np.ndarray, pi: np.ndarray) -> float:
    """L(pi) with networkx: MST of nodes 1..n-1 plus the two cheapest edges at node 0."""
    n = w.shape[0]
    m = w + pi[:, None] + pi[None, :]
    g = nx.Graph()
    g.add_weighted_edges_from((i, j, m[i, j]) for i in range(1, n) for j in range(i + 1, n))
    tree = nx.minimum_spanning_tree(g).size(weight="weight")
    return float(tree + np.sort(m[0, 1:])[:2].sum() - 2 * pi.sum())


def _subtour_lp(w: np.ndarray) -> float:
    """Held–Karp value: the subtour LP by highspy, cuts from networkx's Stoer–Wagner min cut."""
    n = w.shape[0]
    iu = np.triu_indices(n, 1)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for c in w[iu]:
        h.addVar(0.0, 1.0)
        h.changeColCost(h.getNumCol() - 1, float(c))
    for v in range(n):
        idx = np.flatnonzero((iu[0] == v) | (iu[1] == v)).astype(np.int32)
        h.addRow(2.0, 2.0, idx.size, idx, np.ones(idx.size))
    for _ in range(200):
        h.run()
        x = np.asarray(h.getSolution().col_value)
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_weighted_edges_from((int(i), int(j), x[e]) for e, (i, j) in enumerate(zip(*iu)))
        cut, (side, _) = nx.stoer_wagner(g) if nx.is_connected(g) else (0.0, (None, None))
        if side is None:  # disconnected support: a component is a violated set
            side = list(next(iter(nx.connected_components(g))))
        elif cut >= 2 - 1e-9:
            return float(h.getInfo().objective_function_value)
        s = np.isin(iu[0], side) & np.isin(iu[1], side)
        idx = np.flatnonzero(s).astype(np.int32)
        h.addRow(-highspy.kHighsInf, len(side) - 1.0, idx.size, idx, np.ones(idx.size))
    raise AssertionError("subtour LP did not converge")


# -- the Model and the relaxation ----------------------------------------------------------------
def test_model_groups_and_sizes() -> None:
    p = tsp.build(coords=_points(6, 0))
    n, m, k = 6, 15, 10
    assert p.model.variables["x"].size == m and p.model.variables["f"].size == 2 * k
    sizes = {name: g.size for name, g in p.model.groups.items()}
    assert sizes == {"degree": n, "root": 1, "tree": 1, "flow": n - 1, "capacity": 2 * k}
    assert p.relaxation().relax == ("degree",) and p.kind == "tsp"


@pytest.mark.parametrize("seed", range(3))
def test_oracle_equals_highs_on_the_kept_part(seed: int) -> None:
    """The Model's kept part (root, tree, flow, capacity) is exactly the set of 1-trees: HiGHS
    on it at random pi gives the oracle's value (so the Model states the relaxation)."""
    p = tsp.build(coords=_points(7, seed))
    rng = np.random.default_rng(seed)
    lag = Lagrangian(p)
    for _ in range(2):
        pi = rng.normal(0, 10, 7)
        q, xs, g = lag.dual_value({"degree": pi})
        assert math.isclose(recompute_dual(p.model, ("degree",), pi), q, abs_tol=1e-6)
        assert math.isclose(q, _networkx_lagrangian(p.data.weights, pi), abs_tol=1e-6)
        deg = np.bincount(p.data.edges[xs["x"] > 0.5].ravel(), minlength=7)
        assert np.allclose(g["degree"], deg - 2)


@pytest.mark.parametrize("seed", range(3))
def test_default_solve_and_highs_agree_with_enumeration(seed: int) -> None:
    p = tsp.build(coords=_points(7, seed))
    best = _brute_force(p.data.weights)
    sol = solve(p)
    check_solution(p.model, sol, duals=False)
    assert sol.solver == "held_karp" and sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(best) and sol.bound <= best + 1e-9
    assert "HiGHS" in sol.info["bound_check"] and sol.kkt.certified  # n <= 10: both checks
    ref = solve(p, "highs")
    assert ref.status == Status.OPTIMAL and ref.objective == pytest.approx(best)


@pytest.mark.parametrize("solver", ["subgradient", "bundle"])
def test_generic_dual_methods_take_the_relaxation(solver: str) -> None:
    p = tsp.build(coords=_points(8, 3))
    best = _brute_force(p.data.weights)
    sol = solve(p, solver, max_iter=100)
    check_solution(p.model, sol, duals=False)
    assert sol.kkt.kind == "lagrangian" and sol.kkt.certified, sol.kkt.notes
    assert sol.bound <= best + 1e-6 and sol.objective >= best - 1e-9
    assert sol.objective <= 1.02 * best


# -- TSPLIB acceptance -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(TSPLIB_MANIFEST))
def test_tsplib_bound_tour_and_certificate(name: str) -> None:
    optimum, held_karp = TSPLIB_MANIFEST[name]
    p = tsp.read(TSPLIB_DATA / f"{name}.tsp")
    sol = solve(p)
    check_solution(p.model, sol, duals=False)
    assert_signs(p.model, sol)
    # the unrounded Lagrangian value: never above Held–Karp, within 0.5% of it
    assert sol.bound <= held_karp * (1 + 1e-12)
    assert sol.bound >= 0.995 * held_karp
    # the rounded-up bound, reported separately
    assert sol.info["bound_int"] == math.ceil(sol.bound - 1e-9) <= optimum
    # the bound re-evaluated independently: here with networkx, in the solver with scipy
    pi = np.asarray(sol.multipliers["degree"])
    assert sol.bound <= _networkx_lagrangian(p.data.weights, pi) + 1e-6
    assert sol.kkt.kind == "lagrangian" and sol.kkt.certified, sol.kkt.notes
    assert sol.kkt.dual_objective == pytest.approx(sol.bound, abs=1e-6)
    # the tour: a permutation, its length recomputed here, within 2% of the optimum
    ans = p.decode(sol)
    assert sorted(ans.tour) == list(range(p.data.n))
    t = np.asarray(ans.tour)
    length = float(p.data.weights[t, np.roll(t, -1)].sum())
    assert length == sol.objective == ans.length
    assert optimum <= length <= 1.02 * optimum
    assert sol.history is not None and len(sol.history) == sol.iterations
    if (TSPLIB_DATA / f"{name}.opt.tour").exists():
        assert p.metadata["optimal_tour_length"] == optimum
    if sol.status == Status.OPTIMAL:
        assert length == optimum


@pytest.mark.parametrize("name", ["burma14", "ulysses16", "gr17"])
def test_manifest_held_karp_values_by_an_independent_subtour_lp(name: str) -> None:
    p = tsp.read(TSPLIB_DATA / f"{name}.tsp")
    assert _subtour_lp(p.data.weights) == pytest.approx(TSPLIB_MANIFEST[name][1], abs=1e-6)


def test_volgenant_jonker_option() -> None:
    p = tsp.read(TSPLIB_DATA / "eil51.tsp")
    sol = solve(p, step_rule="volgenant_jonker")
    assert 0.995 * 422.5 <= sol.bound <= 422.5 and sol.kkt.certified
    assert sol.objective <= 1.02 * 426


# -- the certificate and errors -------------------------------------------------------------------
def test_certificate_refuses_a_bound_above_the_one_tree_value() -> None:
    p = tsp.build(coords=_points(6, 1))
    pi = np.zeros(6)
    q = _networkx_lagrangian(p.data.weights, pi)
    assert tsp.one_tree_certificate(p, pi, q).certified
    bad = tsp.one_tree_certificate(p, pi, q + 1.0)
    assert not bad.certified and "beyond" in bad.notes[0]
    rep = certify_bound(p.model, ["degree"], {"degree": pi}, q + 1.0)  # HiGHS agrees
    assert not rep.certified


def test_decode_and_build_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        tsp.build([[0, 1], [1, 0]])
    with pytest.raises(ModelError):
        tsp.build([[0, 1, 2], [3, 0, 1], [2, 1, 0]])  # not symmetric
    with pytest.raises(ModelError):
        tsp.build()
    atsp = tmp_path / "a.atsp"
    atsp.write_text(
        "NAME: a\nTYPE: ATSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\n"
        "EDGE_WEIGHT_FORMAT: FULL_MATRIX\nEDGE_WEIGHT_SECTION\n0 1 2\n1 0 3\n2 3 0\nEOF\n"
    )
    with pytest.raises(SpecError) as err:
        tsp.read(atsp)
    assert "a.atsp" in str(err.value)
    p = tsp.build(coords=_points(5, 0))
    sol = solve(p, "highs")
    bad = sol.__class__(sol.status, sol.termination, x={"x": np.zeros(10), "f": np.zeros(12)})
    with pytest.raises(ModelError):
        p.decode(bad)
