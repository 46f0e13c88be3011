"""Held–Karp 1-tree bound and tour heuristics on TSPLIB, checked against outside answers.

Known answers: optimal tour lengths and Held–Karp (subtour LP) values of ``data/MANIFEST.md``;
minimum spanning trees from :func:`scipy.sparse.csgraph.minimum_spanning_tree`; every bound is
re-evaluated here from the returned multipliers with scipy's MST (the independent re-evaluation).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.sparse.csgraph import minimum_spanning_tree

from ortools_lag.algorithms.one_tree import held_karp, one_tree, prim_mst, solve_tsp
from ortools_lag.algorithms.tour import (
    heuristic_tour,
    local_search,
    nearest_neighbor_tour,
    nearest_neighbours,
    tour_length,
)
from ortools_lag.errors import ModelError
from ortools_lag.io.tsplib import read_tsplib
from tests.manifest_answers import TSPLIB_DATA, TSPLIB_MANIFEST


def _scipy_lagrangian(w: np.ndarray, pi: np.ndarray) -> float:
    """L(pi) = MST of nodes 1..n-1 + two cheapest edges at node 0 under c + pi_i + pi_j."""
    m = w + pi[:, None] + pi[None, :]
    sub = m[1:, 1:] - m[1:, 1:].min() + 1.0  # positive weights: scipy drops zeros
    tree = minimum_spanning_tree(sub).toarray()
    cost = float((tree[tree != 0] + m[1:, 1:].min() - 1.0).sum())
    cost += float(np.sort(m[0, 1:])[:2].sum())
    return cost - 2.0 * float(pi.sum())


def _euclid(n: int, seed: int) -> np.ndarray:
    pts = np.random.default_rng(seed).random((n, 2)) * 100
    return np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))


@pytest.mark.parametrize("seed", range(5))
def test_prim_matches_scipy_mst(seed: int) -> None:
    w = _euclid(60, seed) + 1.0
    parent = prim_mst(w)
    assert parent[0] == -1
    ours = w[np.arange(1, 60), parent[1:]].sum()
    assert math.isclose(ours, minimum_spanning_tree(w).sum(), rel_tol=1e-12)


def test_prim_masked_variant_for_large_n() -> None:
    w = _euclid(450, 7) + 1.0
    parent = prim_mst(w)
    ours = w[np.arange(1, 450), parent[1:]].sum()
    assert math.isclose(ours, minimum_spanning_tree(w).sum(), rel_tol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_one_tree_value_and_subgradient(seed: int) -> None:
    w = _euclid(40, seed)
    pi = np.random.default_rng(seed).normal(0, 5, 40)
    tree = one_tree(w, pi)
    assert math.isclose(tree.value, _scipy_lagrangian(w, pi), rel_tol=1e-12)
    assert tree.edges.shape == (40, 2) and tree.degree.sum() == 80
    assert np.array_equal(tree.subgradient, tree.degree - 2)
    assert tree.degree[0] == 2


@pytest.mark.parametrize("name", sorted(TSPLIB_MANIFEST))
def test_held_karp_bound_and_tour_on_tsplib(name: str) -> None:
    opt, hk = TSPLIB_MANIFEST[name]
    w = read_tsplib(TSPLIB_DATA / f"{name}.tsp").weights
    res = solve_tsp(w, seed=0)
    # the Lagrangian value itself: never above the subtour LP, within 0.5% of it
    assert res.bound <= hk + 1e-6 * hk
    assert res.bound >= hk * (1 - 0.005)
    # rounded-up bound reported separately; weak duality against the published optimum
    assert res.bound_int == math.ceil(res.bound - 1e-9 * res.bound)
    assert res.bound_int <= opt
    # the tour: a permutation, its length recomputed here, within 2% of the optimum
    assert sorted(res.tour.tolist()) == list(range(w.shape[0]))
    length = int(w[res.tour, np.roll(res.tour, -1)].sum())
    assert length == res.length
    assert length <= 1.02 * opt
    assert math.isclose(res.gap, (length - res.bound_int) / length, abs_tol=1e-12)
    # independent re-evaluation of the bound from the multipliers
    assert math.isclose(
        _scipy_lagrangian(w.astype(float), res.multipliers), res.bound, rel_tol=1e-9
    )
    hist = res.history
    assert len(hist["value"]) == res.iterations
    assert np.all(np.diff(hist["best_bound"]) >= 0)
    assert hist["best_bound"][-1] == res.bound
    assert np.all(hist["value"] <= hk + 1e-6 * hk)


@pytest.mark.parametrize("name", ["berlin52", "ulysses16", "gr17", "burma14"])
def test_optimality_is_proven_where_held_karp_meets_the_optimum(name: str) -> None:
    opt, _ = TSPLIB_MANIFEST[name]
    res = solve_tsp(read_tsplib(TSPLIB_DATA / f"{name}.tsp").weights)
    assert res.length == opt and res.bound_int == opt and res.gap == 0.0


@pytest.mark.parametrize("name", ["st70", "gr17"])
def test_volgenant_jonker_steps_give_a_valid_bound(name: str) -> None:
    opt, hk = TSPLIB_MANIFEST[name]
    w = read_tsplib(TSPLIB_DATA / f"{name}.tsp").weights
    res = held_karp(w, upper_bound=opt, step_rule="volgenant_jonker", max_iter=300)
    assert res.bound <= hk + 1e-6 * hk
    assert res.bound >= 0.99 * hk
    assert math.isclose(_scipy_lagrangian(w.astype(float), res.multipliers), res.bound)


def test_held_karp_stops_on_a_tour_shaped_one_tree() -> None:
    # points on a circle: the 1-tree at pi = 0 is already the optimal tour
    ang = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    pts = np.stack([np.cos(ang), np.sin(ang)], 1)
    w = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    res = held_karp(w, upper_bound=100.0)
    assert res.converged and res.tree.is_tour and res.iterations == 1
    assert math.isclose(res.bound, 12 * 2 * math.sin(math.pi / 12))


def _two_opt_improvable(w: np.ndarray, tour: np.ndarray) -> bool:
    n = tour.size
    base = tour_length(w, tour)
    for i, j in itertools.combinations(range(n), 2):
        cand = tour.copy()
        cand[i + 1 : j + 1] = cand[i + 1 : j + 1][::-1]
        if tour_length(w, cand) < base - 1e-9:
            return True
    return False


def _or_opt_improvable(w: np.ndarray, tour: np.ndarray) -> bool:
    n = tour.size
    base = tour_length(w, tour)
    for start in range(n):
        for seg in (1, 2, 3):
            rolled = np.roll(tour, -start)
            run, rest = rolled[:seg], rolled[seg:]
            for cut in range(1, rest.size):
                for piece in (run, run[::-1]):
                    cand = np.concatenate([rest[:cut], piece, rest[cut:]])
                    if tour_length(w, cand) < base - 1e-9:
                        return True
    return False


@pytest.mark.parametrize("seed", range(4))
def test_local_search_reaches_a_two_opt_and_or_opt_optimum(seed: int) -> None:
    w = _euclid(13, seed)
    start = np.random.default_rng(seed).permutation(13)
    tour = local_search(w, start, k=12)  # complete candidate lists
    assert sorted(tour.tolist()) == list(range(13))
    assert tour_length(w, tour) <= tour_length(w, start)
    assert not _two_opt_improvable(w, tour)
    assert not _or_opt_improvable(w, tour)


def test_heuristic_tour_is_optimal_on_a_small_instance() -> None:
    w = _euclid(8, 3)
    best = min(
        tour_length(w, np.array((0, *p))) for p in itertools.permutations(range(1, 8))
    )  # brute force
    res = heuristic_tour(w, seed=1)
    assert math.isclose(res.length, best)
    assert res.history[0] >= res.history[-1]


def test_nearest_neighbour_helpers() -> None:
    w = _euclid(20, 0)
    tour = nearest_neighbor_tour(w, start=5)
    assert tour[0] == 5 and sorted(tour.tolist()) == list(range(20))
    nb = nearest_neighbours(w, 4)
    assert nb.shape == (20, 4)
    masked = w + np.diag(np.full(20, np.inf))
    assert np.array_equal(nb[:, 0], masked.argmin(axis=1))


def test_bad_weights_raise_model_error() -> None:
    with pytest.raises(ModelError, match="square"):
        solve_tsp(np.ones((3, 4)))
    with pytest.raises(ModelError, match="symmetric"):
        solve_tsp(np.array([[0, 1, 2], [3, 0, 1], [2, 1, 0]]))
    with pytest.raises(ModelError, match="at least 3"):
        held_karp(np.zeros((2, 2)))
    with pytest.raises(ModelError, match="step_rule"):
        held_karp(_euclid(5, 0), step_rule="newton")
