"""The network library against its peers, each line ours vs the peer in one run, with ratios.

First the table of issue 23 (``--only table`` prints only it): each line times what a user gets
from ``solve(build(...))`` -- build, solve and certificate, asserted certified -- against its
peer, in alternating rounds (best of ``--repeat``), with the ratio and its goal:
assignment n = 1000 / 3000 (dense integer costs 0..1000) by ``lsa`` vs scipy's
``linear_sum_assignment`` (goal <= 1.2x) and by ``auction`` vs OR-Tools'
``SimpleLinearSumAssignment`` (<= 1.0x); shortest path 10^5 / 10^6 (<= 1.5x) and 10^3 / 10^4
(<= 2x) vs scipy's CSR build + ``dijkstra``; min-cost flow 10^4 / 10^5 vs OR-Tools'
``SimpleMinCostFlow`` (<= 1.5x). The goals are for these sizes; ``--quick`` runs small ones,
where fixed costs dominate. Then the detailed sections:

Both sides start from the same numpy arrays (the peer's own structures -- a CSR matrix, a
networkx graph, OR-Tools arcs -- are built inside its timing, as ours are):

- shortest path, 10^5 nodes / 10^6 arcs (no parallel arcs, costs 1..1000): our Problem API
  (build + ``solve``: potentials, the generic KKT certificate and the potentials certificate)
  vs ``scipy.sparse.csgraph.dijkstra`` alone (target <= 2x) and vs networkx (target >= 20x
  faster); also the algorithm alone (``shortest_paths`` + ``check_potentials``);
- assignment, n = 1000 and 3000, dense integer costs 0..1000: ``linear_assignment`` (scipy's
  LSA + exact duals, target <= 2x LSA) and ``auction`` (target <= 3x), vs scipy's
  ``linear_sum_assignment`` and OR-Tools' ``SimpleLinearSumAssignment``; also the Problem API;
- min-cost flow, 10^4 nodes / 10^5 arcs: our Problem API (HiGHS simplex, presolve off and on,
  with potentials and both certificates) vs OR-Tools ``SimpleMinCostFlow`` (target <= 3x) and
  networkx ``network_simplex`` (target >= 10x faster).

``--quick`` runs small sizes (CI: < 30 s); the default runs the sizes above. Times are the best
of ``--repeat`` runs (networkx: one run); the shortest-path lines run ours and scipy in
alternating rounds and also print the spread of the round-by-round ratio. Ratios above 1 mean
ours is slower.

    python benchmarks/bench_networks.py            # full sizes
    python benchmarks/bench_networks.py --quick    # CI
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls, and the last result."""
    out, t = None, float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        t = min(t, time.perf_counter() - t0)
    return t, out


def best_interleaved(
    fns: dict[str, Callable[[], Any]], repeat: int
) -> tuple[dict[str, float], dict[str, Any], dict[str, list[float]]]:
    """Best wall time of each function over ``repeat`` rounds that run them one after another
    (so a slow spell of a shared machine hits ours and the peer alike), the last results,
    and every round's times."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    outs: dict[str, Any] = {}
    for _ in range(repeat):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            outs[k] = fn()
            times[k].append(time.perf_counter() - t0)
    return {k: min(v) for k, v in times.items()}, outs, times


def line(label: str, ours: float, peer_name: str, peer: float) -> None:
    """One comparison: ours, the peer, and ours / peer."""
    print(
        f"  {label:<46} {ours:8.3f} s   {peer_name:<24} {peer:8.3f} s   ratio {ours / peer:6.2f}x"
    )


def simple_graph(n: int, m: int, seed: int, both_ways: bool = False) -> tuple[np.ndarray, ...]:
    """About ``m`` distinct arcs, no self-loops, no parallel arcs, plus the path
    0 -> 1 -> ... -> n-1 (and its reverse when ``both_ways``)."""
    rng = np.random.default_rng(seed)
    keys = [
        rng.integers(0, n, m) * n + rng.integers(0, n, m),
        np.arange(n - 1) * n + np.arange(1, n),
    ]
    if both_ways:
        keys.append(np.arange(1, n) * n + np.arange(n - 1))
    key = np.unique(np.concatenate(keys))
    tail, head = key // n, key % n
    keep = tail != head
    return tail[keep], head[keep]


# -- shortest path ------------------------------------------------------------------------------
def bench_shortest_path(n: int, m: int, repeat: int, seed: int = 0) -> None:
    import networkx as nx
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    from ortools_lag import solve
    from ortools_lag.algorithms.shortest_paths import check_potentials, shortest_paths
    from ortools_lag.problems import shortest_path

    tail, head = simple_graph(n, m - n, seed)  # m arcs in all, with the path
    cost = np.random.default_rng(seed + 1).integers(1, 1000, tail.size).astype(float)
    print(f"shortest path: {n} nodes, {tail.size} arcs, single source")

    def scipy_run() -> np.ndarray:
        return dijkstra(sp.csr_matrix((cost, (tail, head)), shape=(n, n)), indices=0)

    def api() -> Any:
        p = shortest_path.build(tail, head, cost, n=n, source=0)
        return p, solve(p)

    def algorithm() -> float:
        tree = shortest_paths(n, tail, head, cost, 0)
        return check_potentials(tail, head, cost, tree.potential, source=0, pred_arc=tree.pred_arc)

    p0 = shortest_path.build(tail, head, cost, n=n, source=0)
    t, out, rounds = best_interleaved(
        {"scipy": scipy_run, "api": api, "solve": lambda: solve(p0), "alg": algorithm}, repeat
    )
    t_sp, t_api, t_solve, t_alg = t["scipy"], t["api"], t["solve"], t["alg"]
    dist, (_, sol), violation = out["scipy"], out["api"], out["alg"]
    per_round = np.array(rounds["api"]) / np.array(rounds["scipy"])
    pi = sol.multipliers["flow"]
    ok = np.isfinite(dist)
    assert sol.kkt is not None and sol.kkt.certified and sol.info["certificate"]["certified"]
    assert np.allclose(pi[ok], dist[ok]) and violation == 0.0
    line("Problem API: build + solve, certified", t_api, "scipy dijkstra", t_sp)
    line("Problem API: solve a built problem", t_solve, "scipy dijkstra", t_sp)
    line("shortest_paths + check_potentials", t_alg, "scipy dijkstra", t_sp)
    print(
        f"  build + solve / scipy, round by round: median {np.median(per_round):.2f}x, "
        f"range {per_round.min():.2f}x - {per_round.max():.2f}x over {per_round.size} rounds"
    )

    def nx_run() -> dict:
        g = nx.DiGraph()
        g.add_nodes_from(range(n))
        g.add_weighted_edges_from(zip(tail.tolist(), head.tolist(), cost.tolist()))
        return nx.single_source_dijkstra_path_length(g, 0)

    t_nx, ref = best(nx_run, 1)
    assert len(ref) == int(ok.sum())
    line("Problem API: build + solve, certified", t_api, "networkx (build+dijkstra)", t_nx)
    line("shortest_paths + check_potentials", t_alg, "networkx (build+dijkstra)", t_nx)
    print(f"  -> ours is {t_nx / t_api:.1f}x (Problem API) / {t_nx / t_alg:.1f}x (algorithm) "
          "faster than networkx (target >= 20x)")  # fmt: skip


# -- assignment ---------------------------------------------------------------------------------
def _ortools_assignment(cost: np.ndarray) -> float:
    from ortools.graph.python import linear_sum_assignment as lsa

    n = cost.shape[0]
    a = lsa.SimpleLinearSumAssignment()
    a.add_arcs_with_cost(np.repeat(np.arange(n), n), np.tile(np.arange(n), n), cost.ravel())
    assert a.solve() == a.OPTIMAL
    return float(a.optimal_cost())


def bench_assignment(n: int, repeat: int, api: bool, seed: int = 0) -> None:
    from scipy.optimize import linear_sum_assignment

    from ortools_lag import solve
    from ortools_lag.algorithms.assignment import auction, check_assignment, linear_assignment
    from ortools_lag.problems import assignment

    icost = np.random.default_rng(seed).integers(0, 1001, (n, n))
    cost = icost.astype(float)
    print(f"assignment: n = {n}, dense integer costs 0..1000")

    def scipy_run() -> float:
        r, c = linear_sum_assignment(cost)
        return float(cost[r, c].sum())

    t_lsa, opt = best(scipy_run, repeat)
    t_ort, ort = best(lambda: _ortools_assignment(icost), repeat)
    t_dual, r1 = best(lambda: linear_assignment(cost), repeat)
    t_auc, r2 = best(lambda: auction(cost), repeat)
    assert r1.cost == opt == ort == r2.cost
    assert check_assignment(cost, r1.col_of_row, r1.person_multiplier, r1.object_multiplier) == 0
    eps_cs = check_assignment(cost, r2.col_of_row, r2.person_multiplier, r2.object_multiplier)
    assert eps_cs <= r2.eps + 1e-9  # 0 <= rc <= eps on the matching, up to rounding
    line("linear_assignment (LSA + exact duals)", t_dual, "scipy LSA", t_lsa)
    line("auction (eps-scaling, eps-CS prices)", t_auc, "scipy LSA", t_lsa)
    line("linear_assignment (LSA + exact duals)", t_dual, "OR-Tools assignment", t_ort)
    line("auction (eps-scaling, eps-CS prices)", t_auc, "OR-Tools assignment", t_ort)
    if not api:
        return

    def api_run(solver: str) -> Any:
        p = assignment.build(cost)
        return solve(p, solver)

    for solver in ("lsa", "auction"):
        t_api, sol = best(lambda s=solver: api_run(s), 1)
        assert sol.objective == opt and sol.kkt.certified and sol.info["certificate"]["certified"]
        line(f"Problem API ({solver}): build + solve, certified", t_api, "scipy LSA", t_lsa)


# -- min-cost flow ------------------------------------------------------------------------------
def mcf_instance(n: int, m: int, seed: int) -> tuple[np.ndarray, ...]:
    """Random arcs + a high-cost path both ways (always feasible); 5% sources, 5% sinks."""
    rng = np.random.default_rng(seed)
    tail, head = simple_graph(n, m - 2 * n, seed, both_ways=True)  # m arcs in all
    backbone = np.abs(head - tail) == 1
    cost = np.where(backbone, 1000, rng.integers(1, 100, tail.size))
    cap = np.where(backbone, 10**6, rng.integers(1, 50, tail.size))
    k = max(1, n // 20)
    nodes = rng.permutation(n)
    supply = np.zeros(n, dtype=np.int64)
    supply[nodes[:k]] = 200
    supply[nodes[k : 2 * k]] = -200
    return tail, head, cost.astype(np.int64), cap.astype(np.int64), supply


def _ortools_mcf(tail, head, cost, cap, supply) -> float:
    from ortools.graph.python import min_cost_flow

    f = min_cost_flow.SimpleMinCostFlow()
    f.add_arcs_with_capacity_and_unit_cost(tail, head, cap, cost)
    f.set_nodes_supplies(np.arange(supply.size), supply)
    assert f.solve() == f.OPTIMAL
    return float(f.optimal_cost())


def bench_min_cost_flow(n: int, m: int, repeat: int, seed: int = 0) -> None:
    import networkx as nx

    from ortools_lag import solve
    from ortools_lag.problems import min_cost_flow

    tail, head, cost, cap, supply = mcf_instance(n, m, seed)
    print(f"min-cost flow: {n} nodes, {tail.size} arcs")
    t_ort, opt = best(lambda: _ortools_mcf(tail, head, cost, cap, supply), repeat)
    fc, fu, fb = cost.astype(float), cap.astype(float), supply.astype(float)

    def api(presolve: str) -> Any:
        p = min_cost_flow.build(tail, head, fc, supply=fb, cap=fu, n=n)
        return solve(p, "network_lp", presolve=presolve)

    for presolve in ("off", "on"):
        t_api, sol = best(lambda ps=presolve: api(ps), repeat)
        assert abs(sol.objective - opt) <= 1e-6 * abs(opt), (sol.objective, opt)
        assert sol.kkt.certified and sol.info["certificate"]["certified"]
        line(
            f"Problem API (HiGHS, presolve {presolve}), certified",
            t_api,
            "OR-Tools min cost flow",
            t_ort,
        )

    def nx_run() -> float:
        g = nx.DiGraph()
        g.add_nodes_from((v, {"demand": -int(b)}) for v, b in enumerate(supply.tolist()))
        for u, v, c, k in zip(tail.tolist(), head.tolist(), cost.tolist(), cap.tolist()):
            g.add_edge(u, v, weight=c, capacity=k)
        return float(nx.network_simplex(g)[0])

    t_nx, ref = best(nx_run, 1)
    assert ref == opt
    t_off, _ = best(lambda: api("off"), 1)
    line("Problem API (HiGHS, presolve off), certified", t_off, "networkx network_simplex", t_nx)
    print(f"  -> ours is {t_nx / t_off:.1f}x faster than networkx (target >= 10x)")


# -- the table: build + solve + certificate vs the peer, alternating rounds ----------------
def _table_lines(quick: bool) -> list[tuple[str, Callable[[], Any], str, Callable[[], Any], float]]:
    """``(label, ours, peer name, peer, goal ratio)`` for each line of the table."""
    import scipy.sparse as sp
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse.csgraph import dijkstra

    from ortools_lag import solve
    from ortools_lag.problems import assignment, min_cost_flow, shortest_path

    out: list[tuple[str, Callable[[], Any], str, Callable[[], Any], float]] = []
    for n in (100, 300) if quick else (1000, 3000):
        icost = np.random.default_rng(n).integers(0, 1001, (n, n))
        cost = icost.astype(float)

        def lsa_peer(c: np.ndarray = cost) -> float:
            r, k = linear_sum_assignment(c)
            return float(c[r, k].sum())

        def ours(solver: str, c: np.ndarray = cost) -> float:
            sol = solve(assignment.build(c), solver)
            assert sol.kkt is not None and sol.kkt.certified, sol.message
            return float(sol.objective)

        out.append((f"assignment n={n}, exact (lsa)", lambda o=ours: o("lsa"),
                    "scipy linear_sum_assignment", lsa_peer, 1.2))  # fmt: skip
        out.append((f"assignment n={n}, auction", lambda o=ours: o("auction"),
                    "OR-Tools SimpleLinearSumAssignment",
                    lambda ic=icost: _ortools_assignment(ic), 1.0))  # fmt: skip
    for n, m, goal in ((2_000, 20_000, 1.5), (300, 3_000, 2.0)) if quick else (
        (100_000, 1_000_000, 1.5), (1_000, 10_000, 2.0)):  # fmt: skip
        tail, head = simple_graph(n, m - n, 0)
        cost = np.random.default_rng(1).integers(1, 1000, tail.size).astype(float)

        def sp_peer(t=tail, h=head, c=cost, k=n) -> np.ndarray:  # type: ignore[no-untyped-def]
            return dijkstra(sp.csr_matrix((c, (t, h)), shape=(k, k)), indices=0)

        def sp_ours(t=tail, h=head, c=cost, k=n) -> float:  # type: ignore[no-untyped-def]
            sol = solve(shortest_path.build(t, h, c, n=k, source=0))
            assert sol.kkt is not None and sol.kkt.certified, sol.message
            return float(sol.objective)

        out.append((f"shortest path {n} nodes / {tail.size} arcs", sp_ours,
                    "scipy CSR build + dijkstra", sp_peer, goal))  # fmt: skip
    n, m = (1_000, 10_000) if quick else (10_000, 100_000)
    tail, head, icost, icap, isup = mcf_instance(n, m, 0)

    def mcf_ours() -> float:
        p = min_cost_flow.build(tail, head, icost.astype(float), supply=isup.astype(float),
                                cap=icap.astype(float), n=n)  # fmt: skip
        sol = solve(p)
        assert sol.kkt is not None and sol.kkt.certified, sol.message
        return float(sol.objective)

    out.append((f"min-cost flow {n} / {tail.size} (NETGEN-like)", mcf_ours,
                "OR-Tools SimpleMinCostFlow",
                lambda: _ortools_mcf(tail, head, icost, icap, isup), 1.5))  # fmt: skip
    return out


def bench_table(quick: bool, repeat: int) -> None:
    """The issue's table: each line times ``solve(build(...))`` (certified) and its peer in
    alternating rounds and prints the best times, the ratio and the goal."""
    print(f"{'line':<44} {'ours':>10} {'peer':>10}  {'ratio':>6}  goal   peer")
    for label, ours, peer_name, peer, goal in _table_lines(quick):
        t, outs, _ = best_interleaved({"ours": ours, "peer": peer}, repeat)
        if isinstance(outs["peer"], float):
            assert abs(outs["ours"] - outs["peer"]) <= 1e-9 * max(1.0, abs(outs["peer"]))
        ratio = t["ours"] / t["peer"]
        mark = "ok" if ratio <= goal else "MISS"
        print(f"{label:<44} {1e3 * t['ours']:8.1f}ms {1e3 * t['peer']:8.1f}ms  {ratio:5.2f}x  "
              f"<={goal:.1f}x {mark:<4} {peer_name}", flush=True)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (CI)")
    ap.add_argument("--repeat", type=int, default=None, help="runs per timing (best is kept)")
    ap.add_argument("--only", choices=["table", "shortest_path", "assignment", "min_cost_flow"])
    args = ap.parse_args()
    repeat = args.repeat or (2 if args.quick else 3)
    if args.only in (None, "table"):
        bench_table(args.quick, repeat)
        if args.only == "table":
            return
    if args.quick:
        sp_size, sizes, mcf_size = (2_000, 20_000), [100], (1_000, 10_000)
    else:
        sp_size, sizes, mcf_size = (100_000, 1_000_000), [1000, 3000], (10_000, 100_000)
    if args.only in (None, "shortest_path"):
        bench_shortest_path(*sp_size, repeat)
    if args.only in (None, "assignment"):
        for n in sizes:
            bench_assignment(n, repeat if n <= 1000 else 1, api=True)
    if args.only in (None, "min_cost_flow"):
        bench_min_cost_flow(*mcf_size, repeat)


if __name__ == "__main__":
    main()
