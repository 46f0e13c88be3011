"""Max-cut / Ising: enumeration with ground-state counts, eigenvalue and SDP bounds, GW rounding.

Known answers: closed forms (frustrated ring: 2n ground states; complete graph K_n: maximum cut
floor(n/2) ceil(n/2), SDP and eigenvalue bound n^2/4; 5-cycle: maximum cut 4, SDP bound
(25 + 5 sqrt 5) / 8, Goemans & Williamson 1995), and brute force over all spin vectors.
"""

from __future__ import annotations

from itertools import product
from math import comb, sqrt

import networkx as nx
import numpy as np
import pytest

from ortools_lag.algorithms.maxcut import (
    cut_values,
    eigenvalue_bound,
    enumerate_ising,
    enumerate_maxcut,
    goemans_williamson,
    ising_energies,
    laplacian,
    one_flip_local_search,
    sdp_bound,
    solve_maxcut,
    weights_from_couplings,
    weights_from_graph,
)
from ortools_lag.errors import ModelError


def _frustrated_ring(n: int) -> np.ndarray:
    j = np.zeros((n, n))
    for i in range(n):
        j[i, (i + 1) % n] = j[(i + 1) % n, i] = 1.0
    j[0, n - 1] = j[n - 1, 0] = -1.0  # the one antiferromagnetic bond
    return j


def _random_graph(n: int, seed: int) -> np.ndarray:
    g = nx.gnp_random_graph(n, 0.45, seed=seed)
    rng = np.random.default_rng(seed)
    for u, v in g.edges:
        g.edges[u, v]["weight"] = float(rng.integers(1, 10))
    return weights_from_graph(g)


@pytest.mark.parametrize("n", range(5, 13))
def test_frustrated_ring_has_exactly_2n_ground_states(n: int) -> None:
    res = enumerate_ising(_frustrated_ring(n))
    assert res.count == 2 * n
    assert res.energy == pytest.approx(-(n - 2))  # n bonds, exactly one broken
    assert res.states.shape == (2 * n, n)
    assert len({tuple(s) for s in res.states}) == 2 * n
    np.testing.assert_allclose(ising_energies(_frustrated_ring(n), res.states), res.energy)


def test_enumeration_matches_brute_force_with_and_without_fields() -> None:
    rng = np.random.default_rng(7)
    for n in (3, 6, 9):
        j = rng.integers(-2, 3, (n, n)).astype(float)
        j = np.triu(j, 1) + np.triu(j, 1).T
        for h in (None, rng.integers(-1, 2, n).astype(float)):
            spins = np.array(list(product([-1.0, 1.0], repeat=n)))
            e = ising_energies(j, spins, h)
            res = enumerate_ising(j, h)
            assert res.energy == pytest.approx(e.min())
            assert res.count == int(np.sum(np.isclose(e, e.min())))


def test_complete_graph_closed_forms() -> None:
    for n in (4, 5, 6, 7):
        w = np.ones((n, n)) - np.eye(n)
        res = enumerate_maxcut(w)
        assert res.value == (n // 2) * ((n + 1) // 2)
        half = comb(n, n // 2)
        assert res.count == (half // 2 if n % 2 == 0 else half)
        assert eigenvalue_bound(w) == pytest.approx(n * n / 4)
        assert sdp_bound(w).bound == pytest.approx(n * n / 4, rel=1e-5)


def test_five_cycle_sdp_bound_closed_form() -> None:
    w = weights_from_graph(nx.cycle_graph(5))
    assert enumerate_maxcut(w).value == 4
    sdp = sdp_bound(w)
    assert sdp.bound == pytest.approx((25 + 5 * sqrt(5)) / 8, rel=1e-5)
    # the multipliers certify it: diag(u) - L/4 is positive semidefinite, sum(u) = bound
    gap = np.linalg.eigvalsh(np.diag(sdp.multipliers) - laplacian(w) / 4)[0]
    assert gap >= -1e-6 and sdp.multipliers.sum() == pytest.approx(sdp.bound, rel=1e-5)


@pytest.mark.parametrize("n", range(12, 21))
def test_random_graphs_sdp_bound_and_gw_within_five_percent(n: int) -> None:
    w = _random_graph(n, seed=n)
    exact = enumerate_maxcut(w, max_states=4)
    assert np.all(cut_values(w, exact.states) == pytest.approx(exact.value))
    sdp = sdp_bound(w)
    assert sdp.bound >= exact.value - 1e-6
    assert eigenvalue_bound(w) >= sdp.bound - 1e-6 * sdp.bound
    spins, value = goemans_williamson(w, sdp.X, seed=np.random.default_rng(n))
    assert value == pytest.approx(cut_values(w, spins)[0])
    assert value >= 0.95 * exact.value and value <= exact.value + 1e-9


def test_solve_maxcut_reports_methods_and_counts() -> None:
    w = weights_from_couplings(_frustrated_ring(8))
    res = solve_maxcut(w)
    assert res.exact and res.count == 8  # 16 ground states = 8 cuts
    assert res.bound_method == "enumeration" and res.gap == pytest.approx(0.0)
    assert res.sdp_bound >= res.objective - 1e-6
    big = solve_maxcut(_random_graph(14, 3), exact_max_n=10)
    assert not big.exact and big.bound_method == "sdp_cvxpy" and big.bound >= big.objective


def test_one_flip_local_search_reaches_a_local_optimum() -> None:
    w = _random_graph(12, 5)
    s = one_flip_local_search(w, np.ones(12))
    gains = s * (w @ s)  # flipping i changes the cut by s_i (w s)_i
    assert np.all(gains <= 1e-9)


def test_bad_input() -> None:
    with pytest.raises(ModelError, match="symmetric"):
        laplacian([[0, 1], [2, 0]])
    with pytest.raises(ModelError, match="1..24"):
        enumerate_ising(np.zeros((30, 30)))
