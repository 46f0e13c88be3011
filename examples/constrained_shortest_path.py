"""Lagrangian relaxation of a constrained shortest path: a lower envelope of lines, and its gap.

The 6-node example of Ahuja, Magnanti & Orlin (*Network Flows*, 1993, ch. 16): find the
cheapest path from node 1 to node 6 (here 0 to 5) whose total time is at most ``T = 14``::

    min  c . x   s.t.   x a path from 0 to 5,   upper:  t . x <= T       (mu >= 0)

Relaxing the time limit gives ``L(mu) = min_P c_P + mu (t_P - T)``: for each path ``P`` a line
in ``mu`` of slope ``t_P - T``, and ``L`` is their **lower envelope** -- concave, piecewise
linear, a lower bound on the optimum for every ``mu >= 0``. Its maximum is ``L(2) = 7``, where
the infeasible path 0-1-4-5 (cost 5, time 15) and the feasible 0-2-1-4-5 (cost 15, time 10)
tie. The optimum, 0-2-1-3-5 (cost 13, time 13), has the line ``13 - mu``, which stays above the
envelope for every ``mu``: no Lagrangian minimiser is the optimum and the duality gap is
``13 - 7 = 6``. The ``csp`` family closes it exactly by enumerating paths in order of
Lagrangian length within the gap.

Run: ``python examples/constrained_shortest_path.py`` (writes ``constrained_shortest_path.png``).
"""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np

from ortools_lag import solve
from ortools_lag.problems import csp

TAILS = [0, 0, 1, 1, 2, 2, 2, 3, 3, 4]
HEADS = [1, 2, 3, 4, 1, 3, 4, 4, 5, 5]
COST = [1, 10, 1, 2, 1, 5, 12, 10, 1, 2]
TIME = [10, 3, 1, 3, 2, 7, 3, 1, 7, 2]
LIMIT = 14


def all_paths() -> list[tuple[list[int], int, int]]:
    """Every simple path 0 -> 5 with its cost and time (networkx enumeration)."""
    g = nx.DiGraph()
    for u, v, c, t in zip(TAILS, HEADS, COST, TIME):
        g.add_edge(u, v, cost=c, time=t)
    out = []
    for path in nx.all_simple_paths(g, 0, 5):
        arcs = list(itertools.pairwise(path))
        out.append(
            (path, sum(g[u][v]["cost"] for u, v in arcs), sum(g[u][v]["time"] for u, v in arcs))
        )
    return sorted(out, key=lambda p: p[1])


def main() -> None:
    paths = all_paths()
    mu = np.linspace(0.0, 5.0, 5001)
    lines = np.array([c + mu * (t - LIMIT) for _, c, t in paths])
    envelope = lines.min(axis=0)
    k = int(np.argmax(envelope))
    best = min((c for _, c, t in paths if t <= LIMIT))
    opt_line = next(i for i, (_, c, t) in enumerate(paths) if c == best and t <= LIMIT)
    closest = lines[opt_line] - envelope
    print(f"{len(paths)} paths from 0 to 5; time limit T = {LIMIT}")
    for nodes, c, t in paths:
        tag = "feasible" if t <= LIMIT else ""
        print(f"   {'-'.join(map(str, nodes)):<14} cost {c:>3}  time {t:>3}  {tag}")
    print(f"   envelope_max = {envelope[k]:.6f}")
    print(f"   envelope_argmax_mu = {mu[k]:.6f}")
    print(f"   best_feasible_by_enumeration = {best}")
    where = mu[np.argmin(closest)]
    print(
        f"   optimum_line_min_height_above_envelope = {closest.min():.6f}   (at mu = {where:.3f})"
    )

    p = csp.build(TAILS, HEADS, COST, TIME, upper=LIMIT)
    iterates: list[float] = []
    sub = solve(
        p,
        "subgradient",
        step_rule="diminishing",
        step_size=2.0,
        normalize=True,
        max_iter=20,
        callback=lambda pr: iterates.append(float(pr.lam["upper"][0])),
    )
    print(f"   subgradient_bound = {sub.bound:.6f}   (20 iterations, diminishing steps)")
    print(f"   subgradient_heuristic = {sub.objective:.6f}   (best feasible path it met)")
    exact = solve(p)  # csp_exact: dual bundle, then enumeration within the gap
    print(f"   exact_solver = {exact.solver}   status = {exact.status.value}")
    print(f"   exact_objective = {exact.objective:.6f}")
    print(f"   exact_bound = {exact.bound:.6f}")
    print(f"   exact_lagrangian_bound = {exact.info['lagrangian_bound']:.6f}")
    print(f"   exact_path = {'-'.join(map(str, p.decode(exact).path))}")
    draw(paths, mu, lines, envelope, opt_line, iterates, sub, exact)


def draw(paths, mu, lines, envelope, opt_line, iterates, sub, exact) -> None:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5.5), width_ratios=[1.3, 1])
    colors = iter(f"C{i}" for i in (0, 1, 2, 4, 5, 6, 7, 8, 9))  # C3 marks the optimum
    ax1.plot(mu, envelope, color="k", lw=5, alpha=0.25, label="L(μ): lower envelope")
    for i, (p, c, t) in enumerate(paths):
        name = f"{'-'.join(map(str, p))} (c={c}, t={t})"
        if i == opt_line:
            ax1.plot(mu, lines[i], color="C3", lw=2.2, label=f"optimum {name}: 13 − μ")
        else:
            style = "-" if t <= LIMIT else "--"
            ax1.plot(mu, lines[i], lw=0.9, ls=style, color=next(colors), label=name)
    it = np.array(iterates)
    env_at = np.interp(it, mu, envelope)
    ax1.plot(it, env_at, "o", color="k", ms=5, label="subgradient iterates μ_k")
    ax1.annotate(
        "max L = 7 at μ = 2", xy=(2, 7), xytext=(0.4, -3.0), arrowprops={"arrowstyle": "->"}
    )
    ax1.set_xlim(0, 5)
    ax1.set_ylim(-5, 30)
    ax1.set_xlabel("multiplier μ of the time limit")
    ax1.set_ylabel("c_P + μ (t_P − 14)")
    ax1.set_title("One line per path (dashed: too slow); L(μ) is their lower envelope")
    ax1.legend(fontsize=7, loc="upper left", ncol=2)
    h = sub.history
    ax2.plot(h.iteration, h.dual_value, "o-", ms=3, color="0.5", label="L(μ_k)")
    ax2.plot(h.iteration, h.bound, color="C0", label="best bound (→ 7)")
    ax2.plot(h.iteration, h.primal, color="C1", label="best feasible path met (15)")
    ax2.axhline(
        exact.objective,
        color="C3",
        ls="--",
        label=f"optimum {exact.objective:.0f}: found by {exact.solver} (gap closing)",
    )
    ax2.set_ylim(-5, 20)
    ax2.set_xlabel("subgradient iteration")
    ax2.set_ylabel("value")
    ax2.set_title("Subgradient ascent: bound 7, duality gap 6")
    ax2.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    fig.savefig("constrained_shortest_path.png", dpi=110)
    print("saved constrained_shortest_path.png")


if __name__ == "__main__":
    main()
