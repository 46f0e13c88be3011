"""Large-instance machinery of the TSP: candidate-graph 1-trees, compiled moves, time limits.

Known answers: TSPLIB optimal tour lengths and Held–Karp values (data/MANIFEST.md), and the
dense Prim 1-tree as an independent evaluation of ``L(pi)`` (scipy's MST in the other tests).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.sparse.csgraph import minimum_spanning_tree

from ortools_lag import solve
from ortools_lag.algorithms import tour_moves
from ortools_lag.algorithms.one_tree import held_karp, one_tree, solve_tsp
from ortools_lag.algorithms.one_tree_sparse import CandidateGraph, exact_one_tree, pi_nearest
from ortools_lag.algorithms.tour import nearest_neighbor_tour, nearest_neighbours, tour_length
from ortools_lag.io.tsplib import read_tsplib
from ortools_lag.problems import tsp
from tests.certificates import check_solution
from tests.manifest_answers import TSPLIB_DATA, TSPLIB_MANIFEST


def _euclid(n: int, seed: int) -> np.ndarray:
    pts = np.random.default_rng(seed).random((n, 2)) * 100
    return np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))


def _scipy_value(w: np.ndarray, pi: np.ndarray) -> float:
    """L(pi) by scipy's MST on nodes 1..n-1 plus node 0's two cheapest edges."""
    m = w + pi[:, None] + pi[None, :]
    shift = m[1:, 1:] - m[1:, 1:].min() + 1.0
    np.fill_diagonal(shift, 0.0)
    tree = minimum_spanning_tree(shift)
    cost = float(tree.sum()) + (m[1:, 1:].min() - 1.0) * (w.shape[0] - 2)
    return cost + float(np.sort(m[0, 1:])[:2].sum()) - 2.0 * float(pi.sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_one_tree_matches_the_dense_prim_and_scipy(seed: int) -> None:
    w = _euclid(80, seed)
    pi = np.random.default_rng(seed).normal(0, 3, 80)
    exact = exact_one_tree(w, pi)
    assert np.isclose(exact.value, one_tree(w, pi).value, rtol=1e-12)
    assert np.isclose(exact.value, _scipy_value(w, pi), rtol=1e-10)
    assert exact.degree.sum() == 2 * 80


def test_candidate_graph_tree_is_never_below_the_exact_one() -> None:
    w = _euclid(120, 3)
    graph = CandidateGraph.nearest(w, 5)
    rng = np.random.default_rng(0)
    for _ in range(5):
        pi = rng.normal(0, 2, 120)
        assert graph.one_tree(pi).value >= exact_one_tree(w, pi).value - 1e-9


def test_pi_nearest_is_the_k_nearest_under_modified_costs() -> None:
    w = _euclid(50, 4)
    pi = np.random.default_rng(1).normal(0, 5, 50)
    edges = pi_nearest(w, pi, 4, block=7)
    m = w + pi[:, None] + pi[None, :]
    np.fill_diagonal(m, np.inf)
    expect = np.sort(np.argsort(m, axis=1)[:, :4], axis=1)
    assert (np.sort(edges[:, 1].reshape(50, 4), axis=1) == expect).all()


@pytest.mark.parametrize("name", ["kroA100", "st70", "eil51"])
def test_sparse_ascent_meets_the_published_held_karp_value(name: str) -> None:
    optimum, hk = TSPLIB_MANIFEST[name]
    w = read_tsplib(TSPLIB_DATA / f"{name}.tsp").weights.astype(float)
    res = held_karp(w, upper_bound=float(optimum), candidates=8)
    # the reported bound is the exact L(pi) (scipy re-evaluation) and within 0.1% of HK
    assert np.isclose(res.bound, _scipy_value(w, res.multipliers), rtol=1e-9)
    assert res.bound <= hk * (1 + 1e-9)
    assert res.bound >= 0.999 * hk
    assert res.history["best_bound"][-1] == res.bound


def test_time_limit_stops_the_ascent_and_the_tour_search() -> None:
    w = _euclid(400, 5)
    start = time.perf_counter()
    res = solve_tsp(w, time_limit=0.5, max_iter=10**6, kicks=10**7)
    elapsed = time.perf_counter() - start
    assert elapsed < 10.0  # generous: compile time and the final O(n^2) check come on top
    assert res.iterations < 10**6
    assert res.bound <= res.length


@pytest.mark.skipif(not tour_moves.HAVE_NUMBA, reason="needs the optional numba (fast extra)")
@pytest.mark.parametrize("name", ["berlin52", "kroA100"])
def test_compiled_search_finds_near_optimal_tsplib_tours(name: str) -> None:
    optimum, _ = TSPLIB_MANIFEST[name]
    w = read_tsplib(TSPLIB_DATA / f"{name}.tsp").weights.astype(float)
    nb = nearest_neighbours(w, 10)
    start = nearest_neighbor_tour(w)
    tour = tour_moves.descend(w, start, nb)
    assert sorted(tour.tolist()) == list(range(w.shape[0]))
    assert tour_length(w, tour) <= tour_length(w, start)
    tour = tour_moves.iterated_descent(w, tour, nb, kicks=5000, seed=1)
    assert sorted(tour.tolist()) == list(range(w.shape[0]))
    assert optimum <= tour_length(w, tour) <= 1.02 * optimum


def test_python_kernels_agree_with_a_known_optimum() -> None:
    """The kernels' plain-Python bodies (what Numba compiles) on a 5-node instance."""
    pts = np.array([[0, 0], [2, 0], [1, 0], [2, 1], [0, 1]], dtype=float)
    w = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    nb = np.argsort(w, axis=1)[:, 1:].astype(np.int64)
    descent = getattr(tour_moves._descent, "py_func", tour_moves._descent)
    t = np.array([0, 3, 1, 4, 2], dtype=np.int64)
    pos = np.empty(5, dtype=np.int64)
    pos[t] = np.arange(5)
    before = tour_length(w, t)
    delta = descent(
        w,
        t,
        pos,
        nb,
        t.copy(),
        np.ones(5, bool),
        np.array([0, 5]),
        np.empty(5, np.int64),
        1e-12,
        1000,
    )
    assert np.isclose(tour_length(w, t), 6.0)  # the optimum: the rectangle's perimeter
    assert np.isclose(before + delta, 6.0)


@pytest.mark.parametrize("fast", [True, False])
def test_numpy_and_compiled_paths_both_solve_berlin52(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if fast and not tour_moves.HAVE_NUMBA:
        pytest.skip("needs the optional numba (fast extra)")
    monkeypatch.setattr(tour_moves, "HAVE_NUMBA", fast)
    optimum, hk = TSPLIB_MANIFEST["berlin52"]
    res = solve_tsp(read_tsplib(TSPLIB_DATA / "berlin52.tsp").weights, seed=0)
    assert res.bound_int <= optimum <= res.length <= 1.02 * optimum
    assert res.bound >= 0.999 * hk


def test_solver_honours_time_limit_and_certifies() -> None:
    p = tsp.read(TSPLIB_DATA / "kroA100.tsp")
    sol = solve(p, "held_karp", time_limit=2.0)
    check_solution(p.model, sol, duals=False)
    optimum, hk = TSPLIB_MANIFEST["kroA100"]
    assert sol.bound <= hk * (1 + 1e-9) and sol.objective >= optimum


@pytest.mark.slow
def test_pr1002_bound_and_tour_within_the_targets() -> None:
    """data/MANIFEST.md: pr1002 optimum 259045 (its optimal tour's length)."""
    inst = read_tsplib(TSPLIB_DATA / "pr1002.tsp")
    w = inst.weights.astype(float)
    res = solve_tsp(w, time_limit=20.0)
    assert np.isclose(res.bound, exact_one_tree(w, res.multipliers).value)
    assert 0.985 * 259045 <= res.bound <= 259045
    assert 259045 <= res.length <= 1.03 * 259045
