"""One small generalized assignment problem seen three ways: Lagrangian dual, Dantzig-Wolfe
master, branch-and-bound tree.

The instance is OR-Library's gap1, problem 1 (5 agents, 15 jobs; minimisation optimum 261)::

    min  sum_ij c_ij x_ij
    s.t. assignment:  sum_i x_ij == 1        every job j      (lambda_j, free)
         capacity:    sum_j a_ij x_ij <= b_i  every agent i    (kept: one knapsack per agent)
         x binary

1. **Lagrangian dual.** Relaxing the assignment rows leaves one 0-1 knapsack per agent;
   ``q(lambda) = -sum_j lambda_j + sum_i min_knapsack_i sum_j (c_ij + lambda_j) x_ij`` is a lower
   bound for every ``lambda``. The bundle method maximises it: ``q* = 260``.
2. **Dantzig-Wolfe master.** The same plan read the other way: a column is one filling of one
   agent's knapsack, the master LP chooses a convex combination of fillings per agent that
   covers every job exactly once. Its optimum is ``q*`` again (LP duality: the master's duals
   on the assignment rows are the multipliers), its columns are priced by the same knapsack DP,
   and its solution is *fractional*: some agents mix two fillings. The value 260 < 261 is the
   duality gap that no multiplier closes.
3. **Branch-and-bound.** ``lagrangian_bnb`` branches on the variables that the relaxation leaves
   fractional and bounds each node by its own Lagrangian dual: the tree closes the gap and
   proves 261 optimal (HiGHS's MIP agrees).

Run: ``python examples/gap_three_ways.py`` (writes ``gap_three_ways.png``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from ortools_lag import solve
from ortools_lag.problems import gap

GAP1 = Path(__file__).resolve().parents[1] / "data" / "gap" / "gap1.txt"


def main() -> None:
    p = gap.read(GAP1, problem=1, sense="min")
    exact = solve(p, "highs")
    dual = solve(p, "bundle", relaxation="assignment", tolerance=1e-9)
    dw = solve(p, "dantzig_wolfe", tolerance=1e-9)
    bnb = solve(p, "lagrangian_bnb")
    frac = np.asarray(dw.info["fractional_x"]["x"]).reshape(p.data.cost.shape)
    relaxed = np.abs(frac.sum(axis=0) - 1.0).max()
    load = (p.data.weight * frac).sum(axis=1) - p.data.capacity
    split = np.flatnonzero((frac > 1e-9).sum(axis=0) > 1)  # jobs shared between agents
    q_dw = p.model.objective_value(p.model.join({"x": frac}))

    print("gap1 problem 1 (5 agents x 15 jobs, minimisation; OR-Library optimum 261)")
    print(f"   highs_status = {exact.status.value}   highs_objective = {exact.objective:.6f}")
    print("1. Lagrangian dual (bundle on the assignment rows, a knapsack DP per agent)")
    print(f"   bundle_bound = {dual.bound:.9f}   bundle_iterations = {dual.iterations}")
    print(f"   bundle_heuristic_value = {dual.objective:.6f}")
    print("2. Dantzig-Wolfe master (columns: knapsack fillings, priced by the same DP)")
    print(f"   dw_bound = {dw.bound:.9f}   dw_iterations = {dw.iterations}")
    print(f"   dw_master_value = {dw.info['master_value']:.9f}   dw_columns = {dw.info['columns']}")
    print(f"   dw_certified_bound = {dw.info['certified_bound']:.9f}")
    print(f"   fractional_cost = {q_dw:.9f}   relaxed_rows_max_violation = {relaxed:.3g}")
    print(f"   capacity_max_excess = {load.max():.3g}   fractional_jobs = {split.size}")
    print(f"   dw_point_value = {dw.objective:.6f}   dw_point_from = {dw.info['point_from']}")
    print("3. Branch-and-bound on Lagrangian bounds")
    print(f"   bnb_status = {bnb.status.value}   bnb_objective = {bnb.objective:.6f}")
    print(f"   bnb_bound = {bnb.bound:.6f}   bnb_nodes = {bnb.info['nodes']}")
    print(f"   bnb_root_bound = {bnb.info['root_bound']:.6f}   bnb_depth = {bnb.info['max_depth']}")
    print(f"   agents_of_jobs = {' '.join(map(str, p.decode(bnb).agent_of_job))}")

    fig, axes = plt.subplots(1, 3, figsize=(16, 5.2))
    ax = axes[0]
    hd, hw = dual.history, dw.history
    ax.plot(hd.iteration, hd.dual_value, ".", color="0.6", ms=3, label="bundle: q(λ)")
    ax.plot(hd.iteration, hd.bound, "-", color="C0", label="bundle: best bound")
    ax.plot(hw.iteration, hw.bound, "-", color="C2", label="DW: best Lagrangian bound")
    ax.plot(hw.iteration, hw.extra["master_value"], "--", color="C3", label="DW: master value")
    ax.axhline(261, color="k", ls=":", lw=1.2, label="optimum 261")
    ax.set_ylim(240, 275)
    ax.set_xlabel("evaluations of q")
    ax.set_ylabel("objective")
    ax.set_title("1-2. the dual from below, the master from above: 260")
    ax.legend(loc="lower right", fontsize="small")

    ax = axes[1]
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i, j in zip(*np.nonzero(frac > 1e-9)):
        ax.text(j, i, f"{frac[i, j]:.2g}", ha="center", va="center", fontsize=7,
                color="w" if frac[i, j] > 0.6 else "k")  # fmt: skip
    for j in split:
        ax.axvline(j, color="C3", alpha=0.25, lw=8)
    ax.set_xlabel("job")
    ax.set_ylabel("agent")
    ax.set_title(f"2. the master's convex combination ({split.size} jobs split)")
    fig.colorbar(im, ax=ax, fraction=0.04)

    ax = axes[2]
    hb = bnb.history
    ax.step(hb.iteration, hb.bound, where="post", color="C0", label="tree bound")
    ax.step(hb.iteration, hb.primal, where="post", color="C3", label="incumbent")
    ax.axhline(dw.bound, color="C2", ls="--", lw=1, label=f"root dual {dw.bound:.0f}")
    ax.axhline(261, color="k", ls=":", lw=1.2, label="optimum 261")
    ax.set_xlabel("node")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"3. branch-and-bound: {bnb.info['nodes']} nodes close the gap")
    ax.set_ylim(255, 270)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    fig.savefig("gap_three_ways.png", dpi=110)
    print("saved gap_three_ways.png")


if __name__ == "__main__":
    main()
