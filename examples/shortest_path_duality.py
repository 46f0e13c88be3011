"""Shortest-path duality on the road network of Rome: potentials are distances.

The shortest path from ``s`` to ``t`` is the LP (``N`` the node-arc incidence matrix)::

    min  c . x   s.t.   flow:  out(v) - in(v) == b_v  (pi_v, free),   x >= 0

with ``b_s = 1``, ``b_t = -1``. In the Lagrangian ``L = c.x + sum_v pi_v (out(v) - in(v) - b_v)``
the coefficient of ``x_uv`` is the **reduced cost** ``c_uv + pi_u - pi_v``: dual feasibility is
``rc >= 0`` on every arc, complementary slackness ``rc = 0`` on the arcs of the path, and the
dual value ``pi_t - pi_s`` is the length. So the multipliers are the distances from ``s`` (up
to a constant). Two sensitivities follow, checked here by re-solving:

- sending ``eps`` more flow from ``s`` to a node ``v`` costs ``eps (pi_v - pi_s)``;
- changing an arc's cost by ``delta`` changes the distance by ``delta * x_a`` (its flow, 1 on
  the path and 0 off it; the decrease is shown, for ties could hide an increase).

Data: the 9th DIMACS Challenge road network of Rome (3353 nodes, 8870 arcs, metres).

Run: ``python examples/shortest_path_duality.py`` (writes ``shortest_path_duality.png``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np

from ortools_lag import solve
from ortools_lag.problems import min_cost_flow, shortest_path

ROME = Path(__file__).resolve().parents[1] / "data" / "dimacs" / "rome99.gr"
SOURCE, TARGET = 1, 3353  # DIMACS node numbers
EPS, DELTA = 0.01, -0.5


def main() -> None:
    p = shortest_path.read(ROME, source=SOURCE, target=TARGET)
    sol = solve(p)
    ans = p.decode(sol)
    d = p.data
    tail, head, cost = d.arcs.tail, d.arcs.head, d.cost
    pi = np.asarray(sol.multipliers["flow"])
    rc = cost + pi[tail] - pi[head]
    x = np.asarray(sol.x["x"])
    on_path = x > 0.5
    print(f"Rome road network: {d.arcs.n} nodes, {d.arcs.m} arcs; s = {SOURCE}, t = {TARGET}")
    print(f"   status = {sol.status.value}   solver = {sol.solver}")
    print(f"   distance = {ans.length:.1f}")
    print(f"   path_nodes = {len(ans.path)}")
    print(f"   potential_difference = {pi[d.target] - pi[d.source]:.1f}")
    print(f"   min_reduced_cost = {rc.min():.6f}")
    print(f"   max_reduced_cost_on_path = {np.abs(rc[on_path]).max():.6f}")
    print(f"   tight_arcs = {int(np.sum(rc == 0))}")

    # single source: every potential is fixed, pi_v - pi_s = d(s, v); networkx agrees
    tree = solve(shortest_path.read(ROME, source=SOURCE))
    pot = np.asarray(tree.multipliers["flow"])
    pot = pot - pot[d.source]
    graph = nx.MultiDiGraph()  # parallel arcs kept: Dijkstra takes the cheaper one
    graph.add_weighted_edges_from(zip(tail.tolist(), head.tolist(), cost.tolist()))
    dist = nx.single_source_dijkstra_path_length(graph, int(d.source))
    reach = np.array(sorted(dist))
    gap = np.max(np.abs(pot[reach] - np.array([dist[v] for v in reach])))
    print(f"   reachable_nodes = {reach.size}")
    print(f"   potentials_vs_networkx_dijkstra_max_abs_diff = {gap:.3e}")

    probes, measured = shadow_price_probes(p, pot)
    err = np.max(np.abs(measured - pot[probes]))
    print(f"   shadow_price_max_abs_err = {err:.3e}   ({probes.size} nodes, eps = {EPS})")

    on, off = arcs_to_perturb(rc, on_path)
    for label, a in (("on_path", on), ("off_path", off)):
        c2 = cost.copy()
        c2[a] += DELTA
        q = shortest_path.build(tail, head, c2, n=d.arcs.n, source=d.source, target=d.target)
        change = solve(q).objective - sol.objective
        print(
            f"   arc_{label}_flow = {x[a]:.0f}   arc_{label}_distance_change = {change:.6f}"
            f"   (delta = {DELTA}, rc = {rc[a]:.1f})"
        )
    draw(ans, pi, cost, rc, pot, probes, measured)


def shadow_price_probes(p, pot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Re-solve with ``eps`` more units sent from s to each probe node: (nodes, cost / eps)."""
    d = p.data
    order = np.argsort(pot)  # eight nodes spread over the range of distances
    probes = order[np.linspace(1, pot.size - 1, 8).astype(int)]
    base = solve(p).objective
    measured = []
    for v in probes:
        b = np.zeros(d.arcs.n)
        b[d.source], b[d.target] = 1.0 + EPS, -1.0
        b[v] -= EPS
        flow = min_cost_flow.build(d.arcs.tail, d.arcs.head, d.cost, supply=b, n=d.arcs.n)
        measured.append((solve(flow).objective - base) / EPS)
    return probes, np.array(measured)


def arcs_to_perturb(rc: np.ndarray, on_path: np.ndarray) -> tuple[int, int]:
    """The middle arc of the path, and the off-path arc of least reduced cost above 1."""
    path_arcs = np.flatnonzero(on_path)
    on = int(path_arcs[path_arcs.size // 2])
    off_candidates = np.flatnonzero(~on_path & (rc > 1.0))
    off = int(off_candidates[np.argmin(rc[off_candidates])])
    return on, off


def draw(ans, pi, cost, rc, pot, probes, measured) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    ax = axes[0]
    nodes = np.asarray(ans.path) - 1  # DIMACS numbers -> 0-based indices
    walked = np.concatenate([[0.0], np.cumsum(cost[ans.path_arcs])])
    ax.plot(
        range(len(nodes)), pi[nodes] - pi[nodes[0]], "o-", ms=4, label="π_v − π_s along the path"
    )
    ax.plot(range(len(nodes)), walked, "x", color="k", ms=5, label="length walked so far")
    ax.axhline(ans.length, color="C3", ls="--", label=f"distance d(s, t) = {ans.length:.0f} m")
    ax.set_xlabel("position on the shortest path (node count)")
    ax.set_ylabel("potential π_v − π_s (m)")
    ax.set_title("Potentials rise along the path to the distance")
    ax.legend(fontsize="small")
    ax = axes[1]
    pos = rc[rc > 0]
    bins = np.logspace(np.log10(pos.min()), np.log10(pos.max()), 40)
    ax.hist(pos, bins=bins, color="C0", label=f"rc > 0: {pos.size} arcs")
    ax.set_xscale("log")
    ax.set_xlabel("reduced cost c_uv + π_u − π_v (m)")
    ax.set_ylabel("number of arcs")
    ax.set_title(f"Reduced costs ≥ 0; {int(np.sum(rc == 0))} tight (= 0), path included")
    ax.legend(fontsize="small")
    ax = axes[2]
    lim = [0.0, float(max(pot[probes].max(), measured.max())) * 1.05]
    ax.plot(lim, lim, "k--", lw=0.8, label="Δcost/ε = π_v − π_s")
    ax.plot(pot[probes], measured, "o", color="C1", label=f"re-solved min-cost flow (ε = {EPS})")
    ax.set_xlabel("potential difference π_v − π_s (m)")
    ax.set_ylabel("(cost with ε more to v − cost) / ε")
    ax.set_title("Shadow price of sending ε more to v")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig("shortest_path_duality.png", dpi=110)
    print("saved shortest_path_duality.png")


if __name__ == "__main__":
    main()
