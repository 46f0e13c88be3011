"""The ``maxcut`` family through the public API: ``solve(problem)`` and its certificate.

Known answers: closed forms (a frustrated ±J ring of n spins has exactly 2n ground states, one
bond unsatisfied in each; an odd cycle's maximum cut leaves one edge uncut; ``K_n``'s maximum cut
is ``floor(n/2) ceil(n/2)``), brute force over all sides (numpy, written here), and HiGHS solving
the linear MIP.
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from ortools_lag import Status, solve
from ortools_lag.problems import maxcut
from ortools_lag.solvers.bound_certificate import certify_bound
from tests.certificates import check_solution


def _ring(n: int) -> np.ndarray:
    j = np.zeros((n, n))
    idx = np.arange(n)
    j[idx, (idx + 1) % n] = j[(idx + 1) % n, idx] = 1.0
    j[0, n - 1] = j[n - 1, 0] = -1.0  # one antiferromagnetic bond: the ring is frustrated
    return j


def _brute(w: np.ndarray) -> tuple[float, int]:
    """Maximum cut and the number of spin vectors reaching it (both s and -s)."""
    n = w.shape[0]
    s = np.array(list(product([-1.0, 1.0], repeat=n)))
    cuts = (w.sum() - np.einsum("ki,ij,kj->k", s, w, s)) / 4.0
    best = cuts.max()
    return float(best), int(np.sum(cuts >= best - 1e-9))


def _random(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = np.triu((rng.random((n, n)) < 0.5) * rng.integers(1, 10, (n, n)), 1).astype(float)
    return w + w.T


def _reevaluated(problem, sol) -> None:  # type: ignore[no-untyped-def]
    """sum(u) passes the engine's re-evaluation on the spin model, and bounds the cut."""
    assert sol.kkt.kind == "lagrangian" and sol.kkt.certified, sol.kkt.notes
    lag = sol.info["lagrangian_bound"]
    rep = certify_bound(problem.data.spin_model, ["unit"], sol.multipliers, lag)
    assert rep.certified and rep.dual_objective == pytest.approx(lag, rel=1e-6)
    assert lag >= sol.bound - 1e-9 >= sol.objective - 2e-9


@pytest.mark.parametrize("n", range(5, 13))
def test_frustrated_ring_has_two_n_ground_states(n: int) -> None:
    p = maxcut.build(couplings=_ring(n))
    sol = solve(p)
    assert sol.status == Status.OPTIMAL and sol.info["ground_states"] == 2 * n
    assert sol.info["maximum_cuts"] == n and "enumeration" in sol.info["bound_from"]
    assert p.decode(sol).energy == -(n - 2)  # n bonds, one unsatisfied
    check_solution(p.model, sol, duals=False)
    _reevaluated(p, sol)


@pytest.mark.parametrize(("n", "seed"), [(12, 0), (14, 1), (16, 2), (18, 3), (20, 4)])
def test_random_graphs_sdp_bound_and_gw_within_five_percent(n: int, seed: int) -> None:
    w = _random(n, seed)
    p = maxcut.build(w)
    exact = solve(p)
    assert exact.status == Status.OPTIMAL
    if n <= 14:
        assert exact.objective == _brute(w)[0]
    opt = exact.objective
    rounded = solve(p, exact_max_n=0, seed=seed)  # no enumeration: SDP bound, GW + one-flip
    assert rounded.bound == pytest.approx(rounded.info["lagrangian_bound"])
    assert rounded.info["sdp_bound"] >= opt - 1e-9
    assert rounded.info["lagrangian_eigenvalue_bound"] >= rounded.info["sdp_bound"] - 1e-4
    assert rounded.info["eigenvalue_bound"] >= rounded.info["lagrangian_eigenvalue_bound"] - 1e-6
    assert rounded.objective >= 0.95 * opt
    for sol in (exact, rounded):
        check_solution(p.model, sol, duals=False)
        _reevaluated(p, sol)
    h = rounded.history
    assert h is not None and len(h) == rounded.iterations and np.all(np.diff(h.bound) <= 1e-9)


def test_graph_builder_complete_graph_and_highs_agree() -> None:
    g = nx.complete_graph(7)
    p = maxcut.build(graph=g)
    sol = solve(p)
    assert sol.objective == 12 and sol.info["maximum_cuts"] == 35  # 3 x 4; C(7, 3) cuts
    assert solve(p, "highs").objective == pytest.approx(12.0)
    ans = p.decode(sol)
    assert len(ans.shore) in (3, 4) and ans.cut == 12 and ans.energy is None


def test_generic_dual_method_takes_the_linear_relaxation() -> None:
    p = maxcut.build(graph=nx.cycle_graph(7))
    sol = solve(p, "subgradient", max_iter=30)
    assert sol.objective == 6 and sol.bound >= 6 - 1e-9  # C7: all edges but one
    check_solution(p.model, sol, duals=False)


def test_read_rudy_file(tmp_path: Path) -> None:
    f = tmp_path / "k4.txt"
    f.write_text("4 6\n1 2 1\n1 3 1\n1 4 1\n2 3 1\n2 4 1\n3 4 1\n")
    sol = solve(maxcut.read(f))
    assert sol.objective == 4 and sol.info["maximum_cuts"] == 3  # K4: the three 2-2 splits


def test_bad_input() -> None:
    with pytest.raises(Exception, match="exactly one"):
        maxcut.build([[0, 1], [1, 0]], couplings=[[0, 1], [1, 0]])
    with pytest.raises(Exception, match="no edge"):
        maxcut.build(np.zeros((3, 3)))
    with pytest.raises(Exception, match="symmetric"):
        maxcut.build([[0, 1], [2, 0]])
