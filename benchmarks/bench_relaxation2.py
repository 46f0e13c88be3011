"""Relaxation classics II: our default solves vs HiGHS MIP (and OR-Tools routing for tours).

For every instance the same run times, side by side:

- ``ours``: ``solve(problem)`` through the public API, i.e. the family's default solver
  (``held_karp`` for TSPLIB, ``beasley`` for OR-Library ``scp``, ``ufl_lagrangian`` for the
  ``cap`` facility-location instances), its bound certified by the project (the model is built
  outside the timing);
- ``highs-mip``: HiGHS through ``scipy.optimize.milp`` on the textbook MIP: for the TSP the
  degree rows with subtour cuts added on integer solutions (the DFJ loop, HiGHS as referee),
  for set covering ``A x >= 1``, for facility location the strong formulation ``x_ij <= y_i``;
- ``ortools-routing`` (TSP only): OR-Tools' routing solver, path-cheapest-arc start and guided
  local search for ``--routing-limit`` seconds (a tour, no bound).

Columns: wall and CPU seconds, bound, objective, the relative gap ``(objective - bound) /
objective`` (for ours also with the rounded bound ``ceil(bound)`` where costs are integers),
the gap of the objective to the published optimum of ``data/MANIFEST.md``, and the time ratio
``peer / ours``. Targets of the issue: TSP with ``n <= 100`` in <= 1 s, set covering <= 10 s
each. ``--quick`` (CI) runs one instance per family with short limits, well under 30 s.

Usage: ``python benchmarks/bench_relaxation2.py [--quick] [--data DIR] [--mip-limit S]``
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "data"

# data/MANIFEST.md: published optima
OPTIMA = {
    "att48": 10628, "berlin52": 7542, "burma14": 3323, "eil51": 426, "gr17": 2085,
    "kroA100": 21282, "st70": 675, "ulysses16": 6859,
    "scp41": 429, "scp42": 512, "scp43": 516, "scp44": 494, "scp45": 512, "scp51": 253,
    "scp52": 302, "scp61": 138, "scpa1": 253,
    "cap71": 932615.750, "cap72": 977799.400, "cap73": 1010641.450, "cap74": 1034976.975,
    "cap101": 796648.4375,
}  # fmt: skip
QUICK = {"tsp": ["burma14"], "scp": ["scp41"], "ufl": ["cap71"]}


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """``(result, wall seconds, CPU seconds of this process)``."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def row(name: str, solver: str, wall: float, cpu: float, bound: float, obj: float,
        ours_wall: float, extra: str = "") -> None:  # fmt: skip
    """Print one line of the table."""
    gap = (obj - bound) / abs(obj) if math.isfinite(bound) and math.isfinite(obj) else math.nan
    opt = OPTIMA.get(name, math.nan)
    to_opt = (obj - opt) / opt if math.isfinite(obj) else math.nan
    print(
        f"{name:10s} {solver:16s} wall={wall:7.3f}s cpu={cpu:7.3f}s bound={bound:14.4f} "
        f"obj={obj:14.4f} gap={gap:9.2e} obj/opt-1={to_opt:9.2e} "
        f"ratio={wall / ours_wall:7.1f}x {extra}",
        flush=True,
    )


# -- peers --------------------------------------------------------------------------------------
def tsp_highs(w: np.ndarray, limit: float) -> tuple[float, float]:
    """DFJ: degree rows, subtour cuts added on integer solutions (HiGHS via scipy.milp)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse.csgraph import connected_components

    n = w.shape[0]
    iu = np.triu_indices(n, 1)
    m = iu[0].size
    deg = sp.csr_matrix(
        (np.ones(2 * m), (np.concatenate(iu), np.tile(np.arange(m), 2))), shape=(n, m)
    )
    rows: list[np.ndarray] = []
    rhs: list[float] = []
    start = time.perf_counter()
    while True:
        cons = [LinearConstraint(deg, 2, 2)]
        if rows:
            cons.append(LinearConstraint(sp.csr_matrix(np.array(rows)), -np.inf, np.array(rhs)))
        left = limit - (time.perf_counter() - start)
        if left <= 0:
            return math.nan, math.nan
        res = milp(w[iu].astype(float), constraints=cons, integrality=np.ones(m),
                   bounds=Bounds(0, 1), options={"time_limit": left})  # fmt: skip
        if res.x is None:
            return math.nan, math.nan
        x = res.x > 0.5
        g = sp.csr_matrix((np.ones(int(x.sum())), (iu[0][x], iu[1][x])), shape=(n, n))
        k, lab = connected_components(g, directed=False)
        if k == 1:
            return float(res.fun), float(res.fun)
        for comp in range(k):  # sum of x inside S <= |S| - 1 for every component S
            inside = (lab[iu[0]] == comp) & (lab[iu[1]] == comp)
            rows.append(inside.astype(float))
            rhs.append(float((lab == comp).sum() - 1))


def tsp_ortools(w: np.ndarray, limit: int) -> float:
    """OR-Tools routing: one vehicle, guided local search for ``limit`` seconds."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = w.shape[0]
    mgr = pywrapcp.RoutingIndexManager(n, 1, 0)
    routing = pywrapcp.RoutingModel(mgr)
    wi = np.rint(w).astype(int)
    cb = routing.RegisterTransitCallback(
        lambda a, b: int(wi[mgr.IndexToNode(a), mgr.IndexToNode(b)])
    )
    routing.SetArcCostEvaluatorOfAllVehicles(cb)
    p = pywrapcp.DefaultRoutingSearchParameters()
    p.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    p.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    p.time_limit.seconds = int(limit)
    sol = routing.SolveWithParameters(p)
    return float(sol.ObjectiveValue()) if sol is not None else math.nan


def cover_highs(c: np.ndarray, a: sp.csr_matrix, limit: float) -> tuple[float, float]:
    from scipy.optimize import Bounds, LinearConstraint, milp

    res = milp(c, constraints=LinearConstraint(a, lb=1), integrality=np.ones(c.size),
               bounds=Bounds(0, 1), options={"time_limit": limit})  # fmt: skip
    bound = getattr(res, "mip_dual_bound", None)
    obj = float(res.fun) if res.x is not None else math.nan
    return (float(bound) if bound is not None else math.nan), obj


def ufl_highs(f: np.ndarray, c: np.ndarray, limit: float) -> tuple[float, float]:
    from scipy.optimize import Bounds, LinearConstraint, milp

    m, n = c.shape
    cost = np.concatenate([f, c.ravel()])
    assign = sp.hstack([sp.csr_matrix((n, m)), sp.kron(np.ones((1, m)), sp.eye(n))])
    link = sp.hstack([-sp.kron(sp.eye(m), np.ones((n, 1))), sp.eye(m * n)])
    res = milp(cost, constraints=[LinearConstraint(assign, 1, 1),
                                  LinearConstraint(link, -np.inf, 0)],
               integrality=np.ones(cost.size), bounds=Bounds(0, 1),
               options={"time_limit": limit})  # fmt: skip
    bound = getattr(res, "mip_dual_bound", None)
    obj = float(res.fun) if res.x is not None else math.nan
    return (float(bound) if bound is not None else math.nan), obj


# -- families -----------------------------------------------------------------------------------
def ours(problem: Any) -> tuple[Any, float, float]:
    from ortools_lag import solve

    return timed(partial(solve, problem))


def _ours_row(name: str, sol: Any, wall: float, cpu: float) -> None:
    extra = f"status={sol.status.value} certified={sol.kkt.certified}"
    bint = sol.info.get("bound_int", sol.bound)
    if bint != sol.bound:
        extra += f" bound_int={bint:g} gap_int={(sol.objective - bint) / sol.objective:.2e}"
    row(name, f"ours({sol.solver})", wall, cpu, sol.bound, sol.objective, wall, extra)


def run_tsp(files: list[Path], a: argparse.Namespace) -> None:
    from ortools_lag.problems import tsp

    for f in files:
        p = tsp.read(f)
        sol, wall, cpu = ours(p)
        _ours_row(f.stem, sol, wall, cpu)
        w = p.data.weights
        (b, o), w2, c2 = timed(partial(tsp_highs, w, a.mip_limit))
        row(f.stem, "highs-mip(DFJ)", w2, c2, b, o, wall)
        o3, w3, c3 = timed(partial(tsp_ortools, w, a.routing_limit))
        row(f.stem, "ortools-routing", w3, c3, math.nan, o3, wall)


def run_scp(files: list[Path], a: argparse.Namespace) -> None:
    from ortools_lag.problems import set_cover

    for f in files:
        p = set_cover.read(f)
        sol, wall, cpu = ours(p)
        _ours_row(f.stem, sol, wall, cpu)
        (b, o), w2, c2 = timed(partial(cover_highs, p.data.costs, p.data.matrix, a.mip_limit))
        row(f.stem, "highs-mip", w2, c2, b, o, wall)


def run_ufl(files: list[Path], a: argparse.Namespace) -> None:
    from ortools_lag.problems import facility_location

    for f in files:
        p = facility_location.read(f)
        sol, wall, cpu = ours(p)
        _ours_row(f.stem, sol, wall, cpu)
        d = p.data
        (b, o), w2, c2 = timed(partial(ufl_highs, d.fixed_costs, d.costs, a.mip_limit))
        row(f.stem, "highs-mip", w2, c2, b, o, wall)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of data/MANIFEST.md")
    ap.add_argument("--quick", action="store_true", help="one instance per family (CI)")
    ap.add_argument("--mip-limit", type=float, default=None, help="HiGHS time limit (s)")
    ap.add_argument("--routing-limit", type=int, default=None, help="OR-Tools limit (s)")
    ap.add_argument("--only", choices=["tsp", "scp", "ufl"], nargs="*", default=None)
    a = ap.parse_args()
    a.mip_limit = a.mip_limit or (10.0 if a.quick else 120.0)
    a.routing_limit = a.routing_limit or 1
    families = a.only or ["tsp", "scp", "ufl"]

    def pick(kind: str, files: list[Path]) -> list[Path]:
        return [f for f in files if f.stem in QUICK[kind]] if a.quick else files

    from ortools_lag import solve
    from ortools_lag.problems import facility_location

    solve(facility_location.build([1.0], [[1.0]]))  # imports out of the timings
    print(f"data: {a.data}   HiGHS limit {a.mip_limit:g} s   OR-Tools limit {a.routing_limit} s")
    if "tsp" in families:
        run_tsp(pick("tsp", sorted((a.data / "tsplib").glob("*.tsp"))), a)
    if "scp" in families:
        run_scp(pick("scp", sorted((a.data / "scp").glob("scp*.txt"))), a)
    if "ufl" in families:
        run_ufl(pick("ufl", sorted((a.data / "ufl").rglob("cap*.txt"))), a)


if __name__ == "__main__":
    main()
