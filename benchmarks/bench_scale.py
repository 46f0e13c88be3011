"""Large-instance families: our Lagrangian solvers beside HiGHS MIP, same time limit, one run.

Per instance it prints our bound, our point (heuristic) and gap, then HiGHS MIP's (through
``scipy.optimize.milp``, the same wall-clock limit) and the published value:

- TSP (TSPLIB, n = 1000..7397): :func:`~ortools_lag.algorithms.one_tree.solve_tsp` with
  ``time_limit`` (candidate-graph 1-tree ascent, compiled 2-opt/Or-opt with Numba). HiGHS is
  not run above 150 nodes: the single-commodity-flow MIP has ``n^2`` variables. Also random
  Euclidean n = 100 / 150 / 1000 against a long ascent (a proxy for the subtour LP);
- set covering (rail507/516/582, scpnre1..nrh1): :func:`solve_set_cover` (core columns,
  reduced-cost fixing) vs HiGHS MIP, and the LP bound by HiGHS;
- GAP (Yagiura C, D, E): :func:`solve_gap` vs HiGHS MIP;
- UFL (Kratica MQ, MR): :func:`solve_facility_location` vs HiGHS MIP (strong formulation).

``--data`` is the folder of the scale instances (default ``../shared/data/scale`` beside the
repository); ``--quick`` runs small instances from ``data/`` with a 5 s limit (seconds in all).
``--families`` picks families, ``--limit`` the instances per family, ``--time-limit`` the
seconds given to each side. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from ortools_lag.algorithms.facility_location import solve_facility_location
from ortools_lag.algorithms.gap_relaxation import solve_gap
from ortools_lag.algorithms.one_tree import held_karp, solve_tsp
from ortools_lag.algorithms.set_cover import solve_set_cover
from ortools_lag.io.gap import read_gap, read_gap_single
from ortools_lag.io.scp import read_rail, read_scp
from ortools_lag.io.tsplib import read_tsplib
from ortools_lag.io.ufl import read_ufl

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "scale"
Row = tuple[str, float, float, float, str, float, float, float]  # name, ours..., peer..., best


def _known(folder: Path) -> dict[str, float]:
    """file -> published value (optimal or best-known rows only) of a known_values.csv."""
    out: dict[str, float] = {}
    path = folder / "known_values.csv"
    if not path.exists():
        return out
    with path.open() as fh:
        for rec in csv.DictReader(fh):
            if rec["value_kind"] in ("optimal", "best-known") and rec["file"] not in out:
                out[rec["file"]] = float(rec["value"])
    return out


def _highs(
    c: np.ndarray, cons: list[LinearConstraint], n_int: int, limit: float
) -> tuple[float, float, float]:
    """HiGHS MIP: (bound, objective, seconds); objective inf when it found no point."""
    start = time.perf_counter()
    integrality = np.zeros(c.size)
    integrality[:n_int] = 1
    res = milp(
        c,
        constraints=cons,
        integrality=integrality,
        bounds=Bounds(0, 1),
        options={"time_limit": limit, "disp": False},
    )
    obj = float(res.fun) if res.x is not None else float("inf")
    bound = _num(getattr(res, "mip_dual_bound", None))
    return bound, obj, time.perf_counter() - start


def _num(v: object) -> float:
    return float(v) if isinstance(v, (int, float, np.floating)) else float("nan")


def _gap(obj: float, bound: float) -> float:
    return (obj - bound) / abs(obj) if np.isfinite(obj) and obj else float("inf")


def _print(family: str, rows: list[Row], limit: float) -> None:
    print(f"\n== {family} (time limit {limit:g} s each side) ==")
    head = "instance  ours: bound  point  gap%  s | HiGHS MIP: bound  point  gap%  s | best"
    print(head)
    for name, b, o, t, _, hb, ho, ht_best in rows:
        ht, best = ht_best if isinstance(ht_best, tuple) else (ht_best, float("nan"))
        print(
            f"{name:10s} {b:12.2f} {o:12.2f} {100 * _gap(o, b):6.3f} {t:6.1f} | "
            f"{hb:12.2f} {ho:12.2f} {100 * _gap(ho, hb):6.3f} {ht:6.1f} | {best:g}"
            f"  point/best-1 {100 * (o / best - 1):+.3f}%  bound/best {100 * b / best:.3f}%"
        )


def _tsp_mip(w: np.ndarray, limit: float) -> tuple[float, float, float]:
    """Single-commodity-flow TSP MIP (edges binary, flows from node 0)."""
    n = w.shape[0]
    iu, ju = np.triu_indices(n, 1)
    m = iu.size
    arcs_i = np.concatenate([iu, ju])
    arcs_j = np.concatenate([ju, iu])
    na = arcs_i.size
    c = np.concatenate([w[iu, ju], np.zeros(na)])
    deg = sp.csr_matrix(
        (np.ones(2 * m), (np.concatenate([iu, ju]), np.tile(np.arange(m), 2))), shape=(n, m + na)
    )
    out_ = sp.csr_matrix((np.ones(na), (arcs_i, m + np.arange(na))), shape=(n, m + na))
    in_ = sp.csr_matrix((np.ones(na), (arcs_j, m + np.arange(na))), shape=(n, m + na))
    flow = (in_ - out_)[1:]  # every node but 0 keeps one unit
    edge_of_arc = np.tile(np.arange(m), 2)
    cap = sp.csr_matrix(
        (
            np.concatenate([np.ones(na), -(n - 1) * np.ones(na)]),
            (np.tile(np.arange(na), 2), np.concatenate([m + np.arange(na), edge_of_arc])),
        ),
        shape=(na, m + na),
    )
    cons = [
        LinearConstraint(deg, 2, 2),
        LinearConstraint(flow, 1, 1),
        LinearConstraint(cap, -np.inf, 0),
    ]
    start = time.perf_counter()
    res = milp(
        c,
        constraints=cons,
        integrality=np.concatenate([np.ones(m), np.zeros(na)]),
        bounds=Bounds(np.zeros(m + na), np.concatenate([np.ones(m), np.full(na, n - 1.0)])),
        options={"time_limit": limit, "disp": False},
    )
    obj = float(res.fun) if res.x is not None else float("inf")
    return _num(getattr(res, "mip_dual_bound", None)), obj, time.perf_counter() - start


def _random_euclid(n: int, seed: int) -> np.ndarray:
    pts = np.random.default_rng(seed).random((n, 2)) * 1000
    return np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))


def bench_random_tsp(sizes: list[int], limit: float) -> None:
    """Default solve vs a long ascent (30000 steps, patience 300) on random Euclidean points."""
    print(f"\n== Held-Karp, random Euclidean (default solve_tsp, time limit {limit:g} s) ==")
    print("n  seconds  bound  long-run bound  shortfall%  tour  tour/long-1%")
    for n in sizes:
        w = _random_euclid(n, 0)
        start = time.perf_counter()
        res = solve_tsp(w, time_limit=limit)
        sec = time.perf_counter() - start
        ref = held_karp(w, upper_bound=res.length, max_iter=30000, patience=300, alpha_min=1e-7)
        long = max(ref.bound, res.bound)
        print(
            f"{n:5d} {sec:7.2f} {res.bound:12.3f} {long:12.3f} "
            f"{100 * (long - res.bound) / long:8.4f} {res.length:12.3f} "
            f"{100 * (res.length / long - 1):7.3f}"
        )


def _tsp_rows(files: list[Path], known: dict[str, float], limit: float) -> Iterator[Row]:
    for path in files:
        w = read_tsplib(path).weights.astype(np.float64)
        start = time.perf_counter()
        res = solve_tsp(w, time_limit=limit)
        sec = time.perf_counter() - start
        peer = _tsp_mip(w, limit) if w.shape[0] <= 150 else (np.nan, np.inf, 0.0)
        best = known.get(path.name, np.nan)
        yield (path.stem, res.bound, res.length, sec, "", peer[0], peer[1], (peer[2], best))


def _cover_rows(
    items: list[tuple[str, object]], known: dict[str, float], limit: float
) -> Iterator[Row]:
    for key, inst in items:
        c, a = inst.costs, inst.matrix.astype(np.float64)  # type: ignore[attr-defined]
        start = time.perf_counter()
        res = solve_set_cover(c, a, lns_rounds=5000, time_limit=limit)
        sec = time.perf_counter() - start
        peer = _highs(c, [LinearConstraint(a, 1, np.inf)], c.size, limit)
        lp = linprog(c, A_ub=-a, b_ub=-np.ones(a.shape[0]), bounds=(0, 1), method="highs")
        print(f"  {key}: LP {lp.fun:.4f}, our bound / LP = {res.bound / lp.fun:.5f}")
        yield (
            Path(key).name,
            res.bound,
            res.objective,
            sec,
            "",
            peer[0],
            peer[1],
            (peer[2], known.get(key, np.nan)),
        )


def _gap_rows(
    items: list[tuple[str, object]], known: dict[str, float], limit: float
) -> Iterator[Row]:
    for key, g in items:
        m, n = g.shape  # type: ignore[attr-defined]
        start = time.perf_counter()
        res = solve_gap(g.cost, g.weight, g.capacity, time_limit=limit)  # type: ignore[attr-defined]
        sec = time.perf_counter() - start
        assign = sp.kron(sp.csr_matrix(np.ones((1, m))), sp.identity(n), format="csr")
        cap = sp.kron(sp.identity(m), sp.csr_matrix(np.ones((1, n))), format="csr")
        cap = cap.multiply(g.weight.ravel()[None, :]).tocsr()  # type: ignore[attr-defined]
        cons = [LinearConstraint(assign, 1, 1), LinearConstraint(cap, -np.inf, g.capacity)]  # type: ignore[attr-defined]
        peer = _highs(g.cost.ravel(), cons, m * n, limit)  # type: ignore[attr-defined]
        yield (
            key,
            res.bound,
            res.objective,
            sec,
            "",
            peer[0],
            peer[1],
            (peer[2], known.get(key, np.nan)),
        )


def _ufl_rows(
    items: list[tuple[str, object]], known: dict[str, float], limit: float
) -> Iterator[Row]:
    for key, u in items:
        f, c = u.fixed_costs, u.costs  # type: ignore[attr-defined]
        m, n = c.shape
        start = time.perf_counter()
        res = solve_facility_location(f, c, time_limit=limit)
        sec = time.perf_counter() - start
        # variables: y (m) then x (m n, row-major by facility); sum_i x_ij = 1, x_ij <= y_i
        assign = sp.hstack([sp.csr_matrix((n, m)), sp.kron(np.ones((1, m)), sp.identity(n))])
        link = sp.hstack([-sp.kron(sp.identity(m), np.ones((n, 1))), sp.identity(m * n)])
        cons = [LinearConstraint(assign.tocsr(), 1, 1), LinearConstraint(link.tocsr(), -np.inf, 0)]
        peer = _highs(np.concatenate([f, c.ravel()]), cons, m, limit)
        cc = np.concatenate([f, c.ravel()])
        a_all = sp.vstack([cons[0].A, cons[1].A]).tocsr()
        lo = np.concatenate([np.ones(n), np.full(m * n, -np.inf)])
        hi = np.concatenate([np.ones(n), np.zeros(m * n)])
        lp = milp(cc, constraints=[LinearConstraint(a_all, lo, hi)], bounds=Bounds(0, 1))
        print(f"  {key}: LP {lp.fun:.4f}, our bound / LP = {res.bound / lp.fun:.5f}")
        yield (
            Path(key).name,
            res.bound,
            res.objective,
            sec,
            "",
            peer[0],
            peer[1],
            (peer[2], known.get(key, np.nan)),
        )


def _run(family: str, rows: Callable[[], Iterator[Row]], limit: float) -> None:
    _print(family, list(rows()), limit)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--quick", action="store_true", help="small data/ instances, 5 s limit")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--limit", type=int, default=None, help="instances per family")
    ap.add_argument(
        "--families", default="random,tsp,scp,gap,ufl", help="comma list of families to run"
    )
    args = ap.parse_args(argv)
    fams = set(args.families.split(","))
    lim = 5.0 if args.quick else args.time_limit
    k = args.limit
    if args.quick:
        data = ROOT / "data"
        tsp_files = [data / "tsplib" / "kroA100.tsp", data / "tsplib" / "berlin52.tsp"]
        tsp_known = {"kroA100.tsp": 21282.0, "berlin52.tsp": 7542.0}  # data/MANIFEST.md
        scp_items = [("scp41", read_scp(data / "scp" / "scp41.txt"))]
        scp_known = {"scp41": 429.0}
        gap_items = [("gapa-1", read_gap(data / "gap" / "gapa.txt", 1))]
        gap_known = {"gapa-1": 1698.0}
        ufl_items = [("cap71", read_ufl(data / "ufl" / "orlib_uncap" / "70" / "cap71.txt"))]
        ufl_known = {"cap71": 932615.75}
        sizes = [100, 150]
    else:
        d = args.data
        tsp_known = _known(d / "tsplib")
        tsp_files = sorted((d / "tsplib").glob("*.tsp"), key=lambda p: p.stat().st_size)[:k]
        scp_known = _known(d / "scp")
        scp_items = [
            (
                key,
                read_rail(d / "scp" / key) if key.startswith("rail") else read_scp(d / "scp" / key),
            )
            for key in scp_known
            if (d / "scp" / key).exists()
        ][:k]
        gap_known = _known(d / "gap")
        gap_items = [
            (key, read_gap_single(d / "gap" / key))
            for key in gap_known
            if (d / "gap" / key).exists() and int(key[-4:].lstrip("0") or 0) >= 400
        ][:k]
        ufl_known = _known(d / "ufl")
        ufl_items = [
            (key, read_ufl(d / "ufl" / key)) for key in ufl_known if (d / "ufl" / key).exists()
        ][:k]
        sizes = [100, 150, 1000]
    if "random" in fams:
        bench_random_tsp(sizes, lim)
    if "tsp" in fams:
        _run("TSP (TSPLIB)", lambda: _tsp_rows(tsp_files, tsp_known, lim), lim)
    if "scp" in fams:
        _run("set covering", lambda: _cover_rows(scp_items, scp_known, lim), lim)
    if "gap" in fams:
        _run("GAP (min)", lambda: _gap_rows(gap_items, gap_known, lim), lim)
    if "ufl" in fams:
        _run("UFL", lambda: _ufl_rows(ufl_items, ufl_known, lim), lim)


if __name__ == "__main__":
    main()
