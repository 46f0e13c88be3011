"""The large LPs users bring: Kennington (ken-*, pds-*, osa-*, cre-*) and the larger Netlib files,
through ``pdhg`` (1e-4, 1e-8, and 1e-4 with crossover) and HiGHS, against the published optima.

The files are the public copies in ``shared/data/scale/netlib`` (``--data``; its
``known_values.csv`` lists the published values: the Netlib readme's, with the CPLEX or MINOS
alternates where the readme gives them; the closest one is used). Every run goes through
``solve(model, ...)``, so each status is the certificate's verdict; ``rel err`` is the objective's
relative distance to the published value, ``ok`` says whether an ``optimal`` lies within
10 x the tolerance of it (``-`` for other statuses).

    python benchmarks/bench_large_lp.py            # every file, ~40 s limit per run
    python benchmarks/bench_large_lp.py --quick    # two small files of data/netlib, seconds
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict
from pathlib import Path

DATA = Path(__file__).parents[2] / "shared" / "data" / "scale" / "netlib"
#: ``--quick`` runs on the repository's own copies (CI has no shared folder): two small Netlib
#: files with their published optima (data/MANIFEST.md, from the Netlib readme)
REPO = Path(__file__).parents[1] / "data" / "netlib"
QUICK = {"afiro.mps.gz": [-4.6475314286e02], "sc50a.mps.gz": [-6.4575077059e01]}


def published(data: Path) -> dict[str, list[float]]:
    """File -> published optimum and alternates, from ``known_values.csv``."""
    out: dict[str, list[float]] = defaultdict(list)
    with open(data / "known_values.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            out[row["file"]].append(float(row["value"]))
    return dict(out)


def configs(quick: bool) -> list[tuple[str, str, dict[str, object]]]:
    """(label, solver, options) of each run on each file."""
    if quick:
        return [("pdhg 1e-4", "pdhg", {"tolerance": 1e-4}), ("highs", "highs", {})]
    return [
        ("pdhg 1e-4", "pdhg", {"tolerance": 1e-4}),
        ("pdhg 1e-8", "pdhg", {"tolerance": 1e-8}),
        ("pdhg 1e-4+crossover", "pdhg", {"tolerance": 1e-4, "crossover": True}),
        ("highs", "highs", {}),
    ]


def main(argv: list[str] | None = None) -> None:
    from ortools_lag import solve
    from ortools_lag.io import read_mps

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA, help="folder with known_values.csv")
    ap.add_argument("--quick", action="store_true", help="two files of data/netlib")
    ap.add_argument("--time-limit", type=float, default=40.0, help="seconds per run")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--files", nargs="*", help="subset of the files (as in known_values.csv)")
    args = ap.parse_args(argv)
    data = REPO if args.quick else args.data
    values = QUICK if args.quick else published(data)
    files = list(args.files or values)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    total: dict[str, float] = defaultdict(float)
    print(f"{'file':30s} {'run':20s} {'status':12s} {'time s':>7s} {'iters':>7s}"
          f" {'objective':>17s} {'rel err':>8s} ok")  # fmt: skip
    for f in files:
        model = read_mps(data / f)
        for label, solver, opts in configs(args.quick):
            extra = {"threads": args.threads} if solver == "pdhg" else {}
            t0 = time.perf_counter()
            sol = solve(model, solver, time_limit=args.time_limit, **opts, **extra)
            el = time.perf_counter() - t0
            err = min(abs(sol.objective - v) / max(1.0, abs(v)) for v in values[f])
            tol = float(opts.get("tolerance", 1e-7))  # type: ignore[arg-type]
            ok = "-" if sol.status.value != "optimal" else ("yes" if err <= 10 * tol else "NO")
            counts[label][sol.status.value] += 1
            total[label] += el
            print(f"{f:30s} {label:20s} {sol.status.value:12s} {el:7.1f} {sol.iterations:7d}"
                  f" {sol.objective:17.10g} {err:8.1e} {ok}", flush=True)  # fmt: skip
    print("\nsummary (counts by status, total time)")
    for label, c in counts.items():
        print(f"  {label:20s} {dict(c)}  {total[label]:.1f} s")


if __name__ == "__main__":
    main()
