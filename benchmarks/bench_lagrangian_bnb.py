"""``lagrangian_bnb`` against HiGHS's MIP on the OR-Library GAP instances (min form).

For each instance of ``data/gap`` (gap1–gap4 and gapa; the assignment rows relaxed, one knapsack
per agent by dynamic programming) both solvers run in alternating rounds (ours, HiGHS, ours,
HiGHS...), so that a load from other processes falls on both alike. Printed per instance: the
published optimum (data/MANIFEST.md), each solver's objective and status, the median seconds of
each (ours including the re-evaluation of every leaf's bound by HiGHS), the nodes of our tree and
the ratio ours / HiGHS. ``--quick`` (CI, a few seconds) runs gap1 problem 1 and gapa problem 1,
one round.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

DATA = Path(__file__).parents[1] / "data" / "gap"
OPT = {  # data/MANIFEST.md, gap table, optimum (min)
    "gap1": [261, 269, 256, 274, 251],
    "gap2": [277, 269, 260, 269, 267],
    "gap3": [438, 415, 446, 430, 411],
    "gap4": [423, 424, 426, 395, 406],
    "gapa": [1698, 3235, 1360, 2623, 1158, 2339],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two instances, one round (CI)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per instance")
    args = parser.parse_args()

    from ortools_lag import solve
    from ortools_lag.problems import gap

    cases = (
        [("gap1", 1), ("gapa", 1)]
        if args.quick
        else [(f, k) for f, opts in OPT.items() for k in range(1, len(opts) + 1)]
    )
    rounds = 1 if args.quick else args.rounds
    print(
        f"{'instance':<9} {'opt':>6} {'ours':>6} {'highs':>6} {'ours s':>8} {'highs s':>8} "
        f"{'nodes':>6} {'ratio':>7}"
    )
    ratios = []
    for f, k in cases:
        p = gap.read(DATA / f"{f}.txt", problem=k)
        times: dict[str, list[float]] = {"lagrangian_bnb": [], "highs": []}
        sols = {}
        for _ in range(rounds):
            for name in times:
                t0 = time.perf_counter()
                sols[name] = solve(p, name, time_limit=60)
                times[name].append(time.perf_counter() - t0)
        ours, ref = sols["lagrangian_bnb"], sols["highs"]
        t_ours, t_ref = (statistics.median(times[n]) for n in times)
        ratio = t_ours / max(t_ref, 1e-9)
        ratios.append(ratio)
        flag = "" if ours.status.value == "optimal" and ours.objective == OPT[f][k - 1] else " !"
        print(
            f"{f}-{k:<4} {OPT[f][k - 1]:>6} {ours.objective:>6.0f} {ref.objective:>6.0f} "
            f"{t_ours:>8.3f} {t_ref:>8.3f} {ours.info['nodes']:>6} {ratio:>7.1f}{flag}"
        )
    print(f"median ratio ours/highs: {statistics.median(ratios):.1f} over {len(ratios)} instances")


if __name__ == "__main__":
    main()
