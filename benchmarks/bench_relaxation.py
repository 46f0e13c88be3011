"""Relaxation classics I: our default solve against HiGHS's MIP on the same instances, in one run.

For every family of issue 8 — constrained shortest path (OR-Library ``rcsp``), multidimensional
knapsack (``mknap1``), generalized assignment (``gap1``–``gap4`` both senses, ``gapa``) and
max-cut (random weighted graphs, a frustrated Ising ring) — each instance is built once by its
family module and solved twice:

- **ours**: ``solve(problem)``, the family's default solver (Lagrangian dual, heuristic, exact
  gap closing where the family has one; no MIP solver except the CSP fallback, which the Solution
  names), certificate included, under the issue's per-instance limits (rcsp 5 s, gapa 10 s);
- **HiGHS**: ``solve(problem, "highs")``, the family's Model as a MIP (``--highs-limit`` seconds).

Printed per instance: time, bound, objective and relative gap of both, the time ratio
HiGHS / ours, the published optimum and whether each side reached it; then a summary per family
(geometric-mean ratio, optima reached, largest gap). ``--quick`` (CI) runs one small instance
per family in well under 30 s.

    python benchmarks/bench_relaxation.py --quick
    python benchmarks/bench_relaxation.py --data ../shared/data --json relaxation.json
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "data"
RCSP_OPT = [131, 131, 2, 2, 100, 100, 6, 14, 420, 420, 6, 6]
MKNAP_OPT = [3800, 8706.1, 4015, 6120, 12400, 10618, 16537]
GAP_MIN = {
    "gap1": [261, 269, 256, 274, 251],
    "gap2": [277, 269, 260, 269, 267],
    "gap3": [438, 415, 446, 430, 411],
    "gap4": [423, 424, 426, 395, 406],
}
GAP1_MAX = [336, 327, 339, 341, 326]
GAPA_MIN = [1698, 3235, 1360, 2623, 1158, 2339]


@dataclass
class Case:
    """One instance: its family, name, builder, our time limit and the known optimum."""

    family: str
    name: str
    build: Callable[[], Any]
    limit: float | None
    optimum: float | None
    source: str


def _ring(n: int) -> np.ndarray:
    j = np.zeros((n, n))
    idx = np.arange(n)
    j[idx, (idx + 1) % n] = j[(idx + 1) % n, idx] = 1.0
    j[0, n - 1] = j[n - 1, 0] = -1.0
    return j


def _random_graph(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = np.triu((rng.random((n, n)) < 0.5) * rng.integers(1, 10, (n, n)), 1).astype(float)
    return w + w.T


def cases(data: Path, quick: bool) -> Iterator[Case]:
    """The instances of the run (one per family with ``quick``)."""
    from ortools_lag.problems import csp, gap, knapsack, maxcut

    rcsp = [1, 7] if quick else range(1, 13)
    for k in rcsp:
        path = data / "rcsp" / f"rcsp{k}.txt"
        yield Case("csp", f"rcsp{k}", lambda p=path: csp.read(p), 5.0, RCSP_OPT[k - 1], "MANIFEST")
    for k in [1] if quick else range(1, 8):
        path = data / "mknap" / "mknap1.txt"
        yield Case(
            "knapsack",
            f"mknap1-{k}",
            lambda p=path, k=k: knapsack.read(p, problem=k),
            None,
            MKNAP_OPT[k - 1],
            "MANIFEST",
        )
    stems = {"gap1": GAP_MIN["gap1"][:1]} if quick else GAP_MIN
    for stem, opts in stems.items():
        path = data / "gap" / f"{stem}.txt"
        for k, opt in enumerate(opts, start=1):
            yield Case(
                "gap", f"{stem}-{k}", lambda p=path, k=k: gap.read(p, k), None, opt, "MANIFEST"
            )
    if not quick:
        path = data / "gap" / "gap1.txt"
        for k, opt in enumerate(GAP1_MAX, start=1):
            yield Case(
                "gap",
                f"gap1-{k}-max",
                lambda p=path, k=k: gap.read(p, k, sense="max"),
                None,
                opt,
                "MANIFEST",
            )
        path = data / "gap" / "gapa.txt"
        for k, opt in enumerate(GAPA_MIN, start=1):
            yield Case(
                "gap", f"gapa-{k}", lambda p=path, k=k: gap.read(p, k), 10.0, opt, "MANIFEST"
            )
    yield Case(
        "maxcut", "ring12", lambda: maxcut.build(couplings=_ring(12)), None, 0.0, "closed form"
    )
    for n in [] if quick else [12, 16, 20, 30, 40]:
        yield Case(
            "maxcut",
            f"random{n}",
            lambda n=n: maxcut.build(_random_graph(n, n), name=f"random{n}"),
            None,
            None,
            "none",
        )


def _row(sol: Any, seconds: float) -> dict[str, Any]:
    ok = sol.status.value in ("optimal", "feasible")
    return {
        "seconds": seconds,
        "status": sol.status.value,
        "objective": float(sol.objective) if ok else math.nan,
        "bound": float(sol.bound),
        "rel_gap": float(sol.rel_gap) if ok and math.isfinite(sol.gap) else math.nan,
        "bound_from": str(sol.info.get("bound_from", "")),
    }


def run_case(case: Case, highs_limit: float) -> dict[str, Any]:
    """Solve one instance both ways and time each (the model is built once, outside both)."""
    from ortools_lag import solve

    problem = case.build()
    opts = {} if case.limit is None else {"time_limit": case.limit}
    t0 = time.perf_counter()
    ours = solve(problem, **opts)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    highs = solve(problem, "highs", time_limit=highs_limit)
    t_highs = time.perf_counter() - t0
    return {
        "family": case.family,
        "instance": case.name,
        "optimum": case.optimum,
        "limit": case.limit,
        "solver": ours.solver,
        "ours": _row(ours, t_ours),
        "highs": _row(highs, t_highs),
        "ratio": t_highs / t_ours,
    }


def _hit(value: float, optimum: float | None) -> str:
    if optimum is None or not math.isfinite(value):
        return " "
    return "*" if abs(value - optimum) <= 1e-6 * max(1.0, abs(optimum)) else "-"


def _gap(g: float) -> float:
    return 0.0 if abs(g) < 1e-9 else g  # no "-0.0000" for a closed gap


def _print_row(r: dict[str, Any]) -> None:
    o, h, opt = r["ours"], r["highs"], r["optimum"]
    ours = f"{o['seconds']:>8.2f}{o['bound']:>12.2f}{o['objective']:>11.2f}"
    ours += f"{_hit(o['objective'], opt)}{_gap(o['rel_gap']):>9.4f}"
    ref = f"{h['seconds']:>8.2f}{h['bound']:>12.2f}{h['objective']:>11.2f}"
    ref += f"{_hit(h['objective'], opt)}{_gap(h['rel_gap']):>9.4f}"
    known = "" if opt is None else f"{opt:g}"
    print(
        f"{r['instance']:<13}{ours} | {ref} |{r['ratio']:>8.2f}  {known}",
        flush=True,
    )


def _summary(rows: list[dict[str, Any]]) -> None:
    print("\nfamily     n  geo-mean ratio  ours: optimum reached / max gap / time  | HiGHS: same")
    for fam in dict.fromkeys(r["family"] for r in rows):
        sub = [r for r in rows if r["family"] == fam]
        ratio = math.exp(float(np.mean([math.log(r["ratio"]) for r in sub])))
        parts = []
        for side in ("ours", "highs"):
            hits = sum(_hit(r[side]["objective"], r["optimum"]) == "*" for r in sub)
            known = sum(r["optimum"] is not None for r in sub)
            gaps = [_gap(r[side]["rel_gap"]) for r in sub if math.isfinite(r[side]["rel_gap"])]
            secs = sum(r[side]["seconds"] for r in sub)
            parts.append(f"{hits}/{known} / {max(gaps, default=math.nan):.4f} / {secs:.1f} s")
        print(f"{fam:<9}{len(sub):>3}{ratio:>16.2f}  {parts[0]:<34}| {parts[1]}")


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the benchmark and print its table; return the rows."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one small instance per family (CI)")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the instances")
    ap.add_argument("--highs-limit", type=float, default=None, help="HiGHS seconds per instance")
    ap.add_argument("--json", type=Path, default=None, help="write the rows to this file")
    args = ap.parse_args(argv)
    limit = args.highs_limit if args.highs_limit is not None else (10.0 if args.quick else 60.0)
    from ortools_lag import solve
    from ortools_lag.problems import knapsack, maxcut

    solve(knapsack.build([1.0, 2.0], [[1.0, 1.0], [1.0, 0.0]], [1.0, 1.0]))  # imports and first
    solve(maxcut.build(couplings=_ring(4)))  # calls (cvxpy's) out of the timings
    print(f"ours = solve(problem) (default solver); HiGHS = solve(problem, 'highs'), {limit:g} s")
    print("limits of ours: rcsp 5 s, gapa 10 s; '*' = the published optimum; ratio = HiGHS/ours")
    head = f"{'instance':<13}{'ours s':>8}{'bound':>12}{'objective':>12}{'gap':>9} |"
    print(head + f"{'HiGHS s':>9}{'bound':>12}{'objective':>12}{'gap':>9} |{'ratio':>8}  optimum")
    rows = []
    for case in cases(args.data, args.quick):
        row = run_case(case, limit)
        _print_row(row)
        rows.append(row)
    _summary(rows)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1, default=str))
    return rows


if __name__ == "__main__":
    main()
