"""Dantzig-Wolfe column generation against the bundle method: the same bound, iterations and time.

On OR-Library generalized assignment (``data/gap``: the assignment rows relaxed, one knapsack per
agent by the DP oracle) and uncapacitated facility location (``data/ufl`` ``cap*``: the
assignment rows relaxed, a closed form per facility) instances, ``dantzig_wolfe`` and ``bundle``
run on the same relaxation plan, both to the dual optimum (``tolerance=1e-9``, no final
certificate: it is the same re-evaluation for both). Each instance is timed in ``--rounds``
rounds that alternate the order of the two methods (bundle first in even rounds), and the
median wall time is reported beside the iteration counts (evaluations of the dual function,
the same unit for both) and the master's columns. The check: the two bounds agree to 1e-6
relative; the script exits with status 1 otherwise.

On the ``cap`` instances the bundle starts from ``prox=1e-3``: its default first weight
``||g0|| / ||c||_inf`` stalls there (costs of order 1e5).

``--quick`` (CI) runs gap1-1 and cap71, two rounds, in a few seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ortools_lag import Problem, Solution

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "data"
TOL = 1e-6


def instances(data: Path, quick: bool) -> list[tuple[str, Problem, dict]]:
    """``(name, problem, bundle options)`` for the run."""
    from ortools_lag.problems import facility_location, gap

    gaps = [("gap1", 1)] if quick else [(f"gap{i}", k) for i in (1, 2, 3, 4) for k in (1, 3)]
    gaps += [] if quick else [("gapa", k) for k in range(1, 7)]
    ufl = ["70/cap71"] if quick else ["70/cap71", "70/cap72", "70/cap73", "70/cap74", "100/cap101"]
    out: list[tuple[str, Problem, dict]] = [
        (f"{stem}-{k}", gap.read(data / "gap" / f"{stem}.txt", k), {"relaxation": "assignment"})
        for stem, k in gaps
    ]
    out += [
        (
            Path(key).name,
            facility_location.read(data / "ufl" / "orlib_uncap" / f"{key}.txt"),
            {"prox": 1e-3},
        )
        for key in ufl
    ]
    return out


def run_one(problem: Problem, solver: str, options: dict) -> tuple[float, Solution]:
    from ortools_lag import solve

    t0 = time.perf_counter()
    sol = solve(problem, solver, tolerance=1e-9, certify="never", **options)
    return time.perf_counter() - t0, sol


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="CI size: a few seconds")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the data/ directory")
    ap.add_argument("--rounds", type=int, default=None, help="timed rounds (alternating order)")
    args = ap.parse_args()
    rounds = args.rounds or (2 if args.quick else 3)
    runs = instances(args.data, args.quick)
    run_one(runs[0][1], "dantzig_wolfe", {"max_iter": 2})  # imports out of the timings
    print(f"== dantzig_wolfe vs bundle, same plan, {rounds} alternating rounds (median seconds)")
    print(
        f"{'instance':10} {'dw bound':>14} {'bundle bound':>14} {'rel diff':>9} {'dw its':>6} "
        f"{'bun its':>7} {'columns':>7} {'dw s':>7} {'bundle s':>8}"
    )
    failed = []
    for name, problem, bundle_opts in runs:
        secs: dict[str, list[float]] = {"dantzig_wolfe": [], "bundle": []}
        sols: dict[str, Solution] = {}
        for r in range(rounds):
            order = ("bundle", "dantzig_wolfe") if r % 2 == 0 else ("dantzig_wolfe", "bundle")
            for solver in order:
                opts = bundle_opts if solver == "bundle" else {"price_and_branch": False}
                t, sols[solver] = run_one(problem, solver, opts)
                secs[solver].append(t)
        dw, bu = sols["dantzig_wolfe"], sols["bundle"]
        diff = abs(dw.bound - bu.bound) / max(1.0, abs(bu.bound))
        if not diff <= TOL:
            failed.append(name)
        t_dw, t_bu = statistics.median(secs["dantzig_wolfe"]), statistics.median(secs["bundle"])
        print(
            f"{name:10} {dw.bound:14.6f} {bu.bound:14.6f} {diff:9.1e} {dw.iterations:6d} "
            f"{bu.iterations:7d} {dw.info['columns']:7d} {t_dw:7.2f} {t_bu:8.2f}"
        )
    if failed:
        print(f"FAIL: the bounds differ by more than {TOL:g} relative on {', '.join(failed)}")
        return 1
    print(f"ok: the Dantzig-Wolfe bound equals bundle's to {TOL:g} relative on every instance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
