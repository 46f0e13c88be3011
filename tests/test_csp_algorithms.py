"""Constrained shortest path: Dijkstra oracle, exact gap closing, MIP fallback.

Known answers: OR-Library rcsp optima (data/MANIFEST.md), the Ahuja–Magnanti–Orlin example of
the Lagrangian-engine issue (bound 7 at mu = 2, optimum 13 on 1-3-2-4-6), HiGHS (scipy's milp and
linprog) and networkx's simple-path enumeration on synthetic instances.
"""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from ortools_lag.algorithms.csp import CSPData, csp_data, csp_lagrangian, solve_csp
from ortools_lag.algorithms.csp_search import csp_enumerate, csp_mip
from ortools_lag.errors import ModelError
from ortools_lag.io.rcsp import read_rcsp

DATA = Path(__file__).parents[1] / "data" / "rcsp"
RCSP_OPT = [131, 131, 2, 2, 100, 100, 6, 14, 420, 420, 6, 6]

# Ahuja, Magnanti & Orlin (1993), fig. 16.2; the Lagrangian-engine issue's acceptance example
AMO_ARCS = [
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
]


def _amo() -> CSPData:
    a = np.array(AMO_ARCS, dtype=float)
    return csp_data(6, a[:, 0] - 1, a[:, 1] - 1, a[:, 2], a[:, 3:], upper=[14])


def _rcsp(k: int) -> CSPData:
    q = read_rcsp(DATA / f"rcsp{k}.txt")
    return csp_data(
        q.n, q.tails, q.heads, q.cost, q.arc_resources, q.upper, q.lower, q.vertex_resources
    )


def _flow_matrix(d: CSPData) -> sp.csr_matrix:
    m = d.tails.size
    rows = np.r_[d.tails, d.heads]
    cols = np.r_[np.arange(m), np.arange(m)]
    return sp.csr_matrix((np.r_[np.ones(m), -np.ones(m)], (rows, cols)), shape=(d.n, m))


def _lp_value(d: CSPData) -> float:
    """LP relaxation of the flow formulation (= the Lagrangian dual on the path polytope)."""
    b = np.zeros(d.n)
    b[d.source], b[d.target] = 1, -1
    res = linprog(
        d.cost,
        A_eq=_flow_matrix(d),
        b_eq=b,
        A_ub=np.vstack([d.resources.T, -d.resources.T]),
        b_ub=np.r_[d.upper - d.base, d.base - d.lower],
        bounds=(0, 1),
        method="highs",
    )
    return float(res.fun)


def _highs_referee(n, t, h, c, r, q, lo, up) -> float:  # type: ignore[no-untyped-def]
    """Independent MIP: arcs x, MTZ orders u; vertex resources counted per visited vertex."""
    m, k = t.size, r.shape[1]
    src, dst = 0, n - 1
    flow = np.zeros((n, m))
    flow[t, np.arange(m)] += 1
    flow[h, np.arange(m)] -= 1
    b = np.zeros(n)
    b[src], b[dst] = 1, -1
    indeg = np.zeros((n, m))
    indeg[h, np.arange(m)] = 1
    res_rows = (r + q[h]).T  # head vertex of each arc, plus the source's own
    mtz = np.zeros((m, m + n))
    for a in range(m):
        mtz[a, a] = n
        mtz[a, m + t[a]] += 1
        mtz[a, m + h[a]] -= 1
    pad = np.zeros((n, n))
    cons = [
        LinearConstraint(np.hstack([flow, pad]), b, b),
        LinearConstraint(np.hstack([indeg, pad]), -np.inf, 1),
        LinearConstraint(np.hstack([res_rows, np.zeros((k, n))]), lo - q[src], up - q[src]),
        LinearConstraint(mtz[(t != src) & (h != src)], -np.inf, n - 1),
    ]
    x_ub = np.where((h == src) | (t == dst), 0, 1)
    res = milp(
        np.r_[c, np.zeros(n)],
        constraints=cons,
        integrality=np.r_[np.ones(m), np.zeros(n)],
        bounds=Bounds(np.zeros(m + n), np.r_[x_ub, np.full(n, n - 1.0)]),
    )
    return float(res.fun) if res.status == 0 else math.inf


def _brute(n, t, h, c, r, q, lo, up) -> float:  # type: ignore[no-untyped-def]
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(n))
    for a, (u, v) in enumerate(zip(t, h, strict=True)):
        g.add_edge(int(u), int(v), key=a)
    best = math.inf
    for path in nx.all_simple_edge_paths(g, 0, n - 1):
        arcs = [key for (_, _, key) in path]
        nodes = [0] + [int(h[a]) for a in arcs]
        used = r[arcs].sum(axis=0) + q[nodes].sum(axis=0)
        if np.all(used <= up) and np.all(used >= lo):
            best = min(best, float(c[arcs].sum()))
    return best


def test_amo_example_bound_seven_at_mu_two_and_optimum_thirteen() -> None:
    d = _amo()
    assert csp_lagrangian(d, [2.0]).value == pytest.approx(7.0)
    res = solve_csp(d)
    assert res.lagrangian_bound == pytest.approx(7.0, abs=1e-6)
    assert res.multipliers[0] == pytest.approx(2.0, abs=1e-6)
    assert res.objective == 13 and res.status == "optimal" and res.gap == 0
    assert (res.nodes + 1).tolist() == [1, 3, 2, 4, 6]
    assert res.bound_method == "lagrangian_enumeration"
    assert res.resources.tolist() == [13.0]


@pytest.mark.parametrize("k", range(1, 13))
def test_rcsp_published_optimum_proven(k: int) -> None:
    d = _rcsp(k)
    res = solve_csp(d)
    assert res.status == "optimal" and res.proven_optimal
    assert res.objective == RCSP_OPT[k - 1] and res.bound == res.objective and res.gap == 0
    assert res.objective == pytest.approx(d.cost[res.arcs].sum())
    assert d.feasible(d.path_resources(res.arcs))
    assert res.nodes[0] == 0 and res.nodes[-1] == d.n - 1 and len(set(res.nodes)) == res.nodes.size
    lp = _lp_value(d)
    assert res.lagrangian_bound <= lp + 1e-6 * (1 + abs(lp))
    if res.trace is not None and res.trace.termination == "converged":
        assert res.lagrangian_bound == pytest.approx(lp, rel=1e-6, abs=1e-6)
    again = csp_lagrangian(d, res.multipliers).value
    assert again == pytest.approx(res.lagrangian_bound, rel=1e-9, abs=1e-9)


def test_synthetic_lower_limits_and_vertex_resources_match_highs() -> None:
    rng = np.random.default_rng(2024)
    checked = 0
    for trial in range(24):
        n = int(rng.integers(6, 9))
        m = int(rng.integers(2 * n, 3 * n))
        t, h = rng.integers(0, n, m), rng.integers(0, n, m)
        keep = t != h
        t, h = t[keep], h[keep]
        if trial % 2:
            t, h = np.minimum(t, h), np.maximum(t, h)  # acyclic half of the trials
        c = rng.integers(0, 20, t.size).astype(float)
        r = rng.integers(0, 10, (t.size, 2)).astype(float)
        q = rng.integers(0, 4, (n, 2)).astype(float)
        up = rng.integers(12, 30, 2).astype(float)
        lo = np.floor(up * rng.uniform(0.2, 0.6, 2))
        d = csp_data(n, t, h, c, r, up, lo, q)
        res = solve_csp(d)
        ref = _highs_referee(n, t, h, c, r, q, lo, up)
        assert ref == _brute(n, t, h, c, r, q, lo, up)
        assert res.objective == ref
        assert res.status == ("infeasible" if ref == math.inf else "optimal")
        if math.isfinite(ref):
            assert d.feasible(d.path_resources(res.arcs))
            checked += 1
    assert checked >= 10


def test_enumeration_limit_falls_back_to_highs_and_says_so() -> None:
    d = _rcsp(7)
    partial = csp_enumerate(d, np.zeros(2 * d.num_resources), max_labels=1)
    assert not partial.proven and partial.bound <= RCSP_OPT[6]
    res = solve_csp(d, max_labels=1, time_limit=60.0)
    assert res.bound_method == "highs_mip_fallback" and res.status == "optimal"
    assert res.objective == RCSP_OPT[6]
    amo = _amo()
    mip = csp_mip(amo)
    assert mip.proven and mip.cost == 13 and amo.heads[mip.arcs].tolist() == [2, 1, 3, 5]


def test_infeasible_and_unreachable_are_statuses() -> None:
    d = csp_data(3, [0, 1], [1, 2], [1, 1], [[5], [5]], upper=[4])
    assert solve_csp(d).status == "infeasible"
    d = csp_data(3, [0], [1], [1], [[1]], upper=[4])
    res = solve_csp(d)
    assert res.status == "infeasible" and res.objective == math.inf


def test_bad_data_raises_model_error() -> None:
    with pytest.raises(ModelError, match="0..2"):
        csp_data(3, [0], [3], [1], [[1]], upper=[4])
    with pytest.raises(ModelError, match="different"):
        csp_data(3, [0], [1], [1], [[1]], upper=[4], target=0)
    with pytest.raises(ModelError, match="lower <= upper"):
        csp_data(3, [0], [1], [1], [[1]], upper=[4], lower=[5])
