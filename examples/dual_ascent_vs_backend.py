"""One generalized assignment problem, two ways: HiGHS (exact MIP) and Lagrangian relaxation.

The instance is OR-Library's gap1, problem 1 (5 agents, 15 jobs; minimisation optimum 261)::

    min  sum_ij c_ij x_ij
    s.t. assignment:  sum_i x_ij == 1        every job j      (lambda_j, free)
         capacity:    sum_j a_ij x_ij <= b_i  every agent i    (kept)
         x binary

HiGHS solves the MIP by branch and bound. The Lagrangian relaxation moves the assignment rows
into the objective; what is left splits into one 0-1 knapsack per agent (a dynamic program),
whose value ``q(lambda)`` is a lower bound for every ``lambda``. Subgradient ascent raises it,
and a Lagrangian heuristic repairs each relaxed point into a feasible assignment: an upper
bound. The optimum lies between them -- ``bound <= optimum <= heuristic value`` -- and the gap
between the two bounds is what the relaxation proves without branching. Costs are integers, so
``ceil(bound)`` is a bound too.

Run: ``python examples/dual_ascent_vs_backend.py`` (writes ``dual_ascent_vs_backend.png``).
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from ortools_lag import solve
from ortools_lag.plot import convergence
from ortools_lag.problems import gap

GAP1 = Path(__file__).resolve().parents[1] / "data" / "gap" / "gap1.txt"


def main() -> None:
    p = gap.read(GAP1, problem=1, sense="min")
    exact = solve(p, "highs")
    lag = solve(p, "subgradient", max_iter=200)
    print("gap1 problem 1 (5 agents x 15 jobs, minimisation; OR-Library optimum 261)")
    print(f"   highs_status = {exact.status.value}")
    print(f"   highs_objective = {exact.objective:.6f}")
    why = f"{lag.termination.value}, {lag.iterations} iterations"
    print(f"   lagrangian_status = {lag.status.value}   ({why})")
    print(f"   lagrangian_bound = {lag.bound:.6f}")
    print(f"   lagrangian_bound_ceil = {math.ceil(lag.bound - 1e-6):.0f}")
    print(f"   heuristic_value = {lag.objective:.6f}")
    print(f"   gap = {lag.gap:.6f}")
    print(f"   agents_of_jobs = {' '.join(map(str, p.decode(lag).agent_of_job))}")
    fig = convergence(lag, title="gap1-1: subgradient on the assignment rows", figsize=(8, 8))
    top = fig.axes[0]
    top.axhline(
        exact.objective, color="k", ls=":", lw=1.2, label=f"HiGHS optimum {exact.objective:.0f}"
    )
    top.set_ylim(exact.objective - 80, exact.objective + 15)
    top.legend(loc="lower right", fontsize="small")
    fig.axes[-1].set_xlabel("iteration")
    fig.savefig("dual_ascent_vs_backend.png", dpi=110)
    print("saved dual_ascent_vs_backend.png")


if __name__ == "__main__":
    main()
