"""The Held-Karp bound: 1-trees with node penalties rise to the optimal tour of berlin52.

A tour is a 1-tree (a spanning tree of nodes ``1..n-1`` plus two edges at node 0) in which every
node has degree 2. Relaxing the degree rows ``sum_{e at v} x_e - 2 == 0`` with free multipliers
``pi_v`` (Held & Karp 1970, 1971)::

    L(pi) = min_{1-tree T} sum_{(i,j) in T} (c_ij + pi_i + pi_j) - 2 sum_v pi_v  <=  every tour,

a minimum spanning tree on the penalised costs. ``pi_v`` is node ``v``'s penalty: raising it
makes every edge at ``v`` dearer, which pushes a node of tree-degree 3 or more out of the tree's
favour (the subgradient is ``degree_T(v) - 2``). On berlin52 (TSPLIB, 52 locations in Berlin)
the ascent lifts the plain 1-tree's 6172 to the optimal tour length 7542: no gap, and at the
final penalties the 1-tree *is* a tour.

Run: ``python examples/held_karp.py`` (writes ``held_karp.png``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ortools_lag import solve
from ortools_lag.problems import tsp

BERLIN = Path(__file__).resolve().parents[1] / "data" / "tsplib" / "berlin52.tsp"
OPTIMUM = 7542  # TSPLIB's published optimal tour length


def coordinates(path: Path) -> np.ndarray:
    """The NODE_COORD_SECTION of a TSPLIB file, for drawing (the distances come from tsp.read)."""
    lines = path.read_text().splitlines()
    start = next(i for i, s in enumerate(lines) if s.strip() == "NODE_COORD_SECTION") + 1
    rows = [s.split() for s in lines[start:] if s.strip() and s.strip() != "EOF"]
    return np.array([[float(r[1]), float(r[2])] for r in rows])


def main() -> None:
    p = tsp.read(BERLIN)
    sol = solve(p)  # held_karp: 1-tree subgradient ascent + tour local search
    tour = p.decode(sol)
    pi = np.asarray(sol.multipliers["degree"])
    oracle = p.relaxation().oracle
    x0, plain = oracle({"degree": np.zeros_like(pi)})  # the 1-tree without penalties
    x1, final = oracle({"degree": pi})
    edges = p.data.edges
    deg0 = np.bincount(edges[np.asarray(x0["x"]) > 0.5].ravel(), minlength=pi.size)
    deg1 = np.bincount(edges[np.asarray(x1["x"]) > 0.5].ravel(), minlength=pi.size)
    print(f"berlin52: {pi.size} nodes, TSPLIB optimum {OPTIMUM}")
    print(f"   status = {sol.status.value}   solver = {sol.solver}   iterations = {sol.iterations}")
    print(
        f"   plain_one_tree = {plain:.4f}   (pi = 0; {int(np.sum(deg0 != 2))} nodes of degree != 2)"
    )
    print(f"   held_karp_bound = {sol.bound:.4f}")
    print(f"   bound_gap_percent = {100 * (OPTIMUM - sol.bound) / OPTIMUM:.4f}")
    print(
        f"   one_tree_at_final_pi = {final:.4f}   ({int(np.sum(deg1 != 2))} nodes of degree != 2)"
    )
    print(f"   tour_length = {tour.length:.1f}")
    print(f"   tour = {' '.join(map(str, tour.tour))}")
    print(f"   pi_range = [{pi.min():.2f}, {pi.max():.2f}]")
    draw(coordinates(BERLIN), edges, x0, tour.tour, pi, sol)


def _segments(ax, xy: np.ndarray, pairs: np.ndarray, **kw) -> None:
    from matplotlib.collections import LineCollection

    ax.add_collection(LineCollection(xy[pairs], **kw))


def draw(xy, edges, x0, order, pi, sol) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2), width_ratios=[1, 1.15, 1])
    ax = axes[0]
    chosen = edges[np.asarray(x0["x"]) > 0.5]
    deg = np.bincount(chosen.ravel(), minlength=len(xy))
    _segments(ax, xy, chosen, colors="C0", lw=1.2, label="1-tree edges (π = 0)")
    ax.scatter(*xy[deg == 2].T, s=14, color="0.3", zorder=3, label="degree 2")
    ax.scatter(*xy[deg == 1].T, s=30, color="C2", zorder=3, label="degree 1 (a leaf)")
    ax.scatter(*xy[deg >= 3].T, s=40, color="C3", zorder=3, label="degree ≥ 3")
    ax.set_title(f"The plain 1-tree: L(0) = {sol.history.dual_value[0]:.0f}")
    ax.legend(fontsize="small", loc="upper left", ncol=2)
    ax = axes[1]
    cyc = np.array([*order, order[0]])
    ax.plot(*xy[cyc].T, color="0.4", lw=1, zorder=1, label="optimal tour")
    lim = float(np.max(np.abs(pi)))
    sc = ax.scatter(
        *xy.T,
        c=pi,
        cmap="coolwarm",
        vmin=-lim,
        vmax=lim,
        s=45,
        edgecolors="k",
        zorder=3,
        label="node, coloured by π_v",
    )
    fig.colorbar(sc, ax=ax, label="node penalty π_v")
    ax.set_title(f"Tour of length {OPTIMUM}; the penalties π on the map")
    ax.legend(fontsize="small", loc="upper left", ncol=2)
    for a in axes[:2]:
        a.set_xlabel("x")
        a.set_ylabel("y")
        a.set_aspect("equal")
        a.set_xlim(-50, 1800)
        a.set_ylim(-50, 1500)  # room for the legend above the city
    ax = axes[2]
    h = sol.history
    ax.plot(h.iteration, h.dual_value, ".", ms=2, color="0.6", label="L(π_k)")
    ax.plot(h.iteration, h.bound, color="C0", label="best bound")
    ax.plot(h.iteration, h.primal, color="C3", label="best tour found")
    ax.axhspan(OPTIMUM * 0.995, OPTIMUM, color="C2", alpha=0.2, label="within 0.5% of 7542")
    ax.set_ylim(6000, 8200)
    ax.set_xlabel("subgradient iteration")
    ax.set_ylabel("tour length / bound")
    ax.set_title("The Held–Karp bound rises to the optimum")
    ax.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    fig.savefig("held_karp.png", dpi=110)
    print("saved held_karp.png")


if __name__ == "__main__":
    main()
