"""PDHG (ours) against HiGHS simplex, HiGHS IPM and OR-Tools PDLP on large transportation LPs
and a min-cost-flow LP, at tolerances 1e-4 and 1e-8, in one run, with time and iteration ratios.

    transportation:  min Σ c_ij x_ij  s.t.  Σ_j x_ij = s_i,  Σ_i x_ij = d_j,  x >= 0
    min-cost flow:   min Σ c_a f_a    s.t.  out(v) − in(v) = b_v,  low_a <= f_a <= cap_a

Costs are uniform(1, 100) from a seeded generator, supplies integers with Σ s = Σ d. The
min-cost-flow LP is NETGEN ``dimacs/netgen-2.min`` (optimal cost 6749969302) from ``--data``.
Every solver runs on the stated number of threads (``--threads``, default 1): ours on numpy
(scipy's sparse products are single-threaded, BLAS limited to ``--threads``), OR-Tools PDLP with
``num_threads``, HiGHS with ``threads``. With a CUDA device (``torch.cuda.is_available()``), ours
also runs on the GPU, and a 3000 × 3000 transportation LP is added at 1e-4.

Ours is timed through ``solve(model, "pdhg")``, the certified path a user gets: its stopping
test is the certificate of ``ortools_lag.kkt`` (each row's violation over ``1 + |b_i|``, each
reduced cost no bound absorbs over ``1 + |c_j|``, the gap to the Lagrangian over ``1 + |p|``).
Termination, like with like: OR-Tools PDLP runs with ``eps_optimal_absolute =
eps_optimal_relative = tol`` and ``optimality_norm = L_INF_COMPONENTWISE``, i.e.
``|Ax − proj(Ax)|_i <= tol (1 + |b_i|)`` per row, ``|c + Aᵀy − λ|_j <= tol (1 + |c_j|)`` per
column and ``|p − d| <= tol (1 + |p| + |d|)``, the same per-row measures (its gap is the looser
one, by up to 2x). PDLP with its default l2 norms (``‖Ax − proj(Ax)‖₂ <= tol (1 + ‖b‖₂)``, ...),
which lets single rows be far off, is listed as well ("OR-Tools PDLP l2"). Both count accepted
steps as iterations. ``--rounds`` alternates ours and PDLP (componentwise) that many times on each
LP and tolerance and reports the median times; the ratio ``ours/PDLP`` is the goal figure.

``--quick`` (CI) runs tiny sizes in well under 30 s. Run ``python benchmarks/bench_pdhg.py``
for the full table (300 × 300 and 1000 × 1000; ``--sizes 300`` for the smaller one only).
"""

from __future__ import annotations

import argparse
import gzip
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

INF = np.inf
DATA = Path(__file__).parents[1] / "data"


@dataclass
class Lp:
    name: str
    c: np.ndarray
    A: sp.csr_matrix
    lo: np.ndarray
    hi: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    known: float | None = None


@dataclass
class Run:
    solver: str
    status: str
    seconds: float
    iterations: int | None
    objective: float


def transportation(m: int, n: int, seed: int = 0) -> Lp:
    """Balanced transportation LP with seeded uniform(1, 100) costs."""
    rng = np.random.default_rng(seed)
    cost = rng.uniform(1.0, 100.0, size=m * n)
    s = rng.integers(1, 100, size=m).astype(float)
    d = rng.multinomial(int(s.sum()), np.ones(n) / n).astype(float)
    rows = np.concatenate([np.repeat(np.arange(m), n), m + np.tile(np.arange(n), m)])
    cols = np.concatenate([np.arange(m * n), np.arange(m * n)])
    A = sp.csr_matrix((np.ones(2 * m * n), (rows, cols)), shape=(m + n, m * n))
    b = np.concatenate([s, d])
    return Lp(f"transport {m}x{n}", cost, A, b, b.copy(), np.zeros(m * n), np.full(m * n, INF))


def read_dimacs_min(path: Path) -> Lp:
    """A DIMACS ``p min`` file as the LP ``out − in = b, low <= f <= cap``."""
    opener = gzip.open if path.suffix == ".gz" else open
    supply: dict[int, float] = {}
    arcs: list[tuple[int, int, float, float, float]] = []
    n = 0
    with opener(path, "rt") as fh:
        for line in fh:
            f = line.split()
            if not f or f[0] == "c":
                continue
            if f[0] == "p":
                n = int(f[2])
            elif f[0] == "n":
                supply[int(f[1])] = float(f[2])
            elif f[0] == "a":
                u, v = int(f[1]), int(f[2])
                arcs.append((u, v, float(f[3]), float(f[4]), float(f[5])))
    a = np.array(arcs)
    tail, head = a[:, 0].astype(int) - 1, a[:, 1].astype(int) - 1
    k = len(arcs)
    A = sp.csr_matrix(
        (np.r_[np.ones(k), -np.ones(k)], (np.r_[tail, head], np.r_[np.arange(k), np.arange(k)])),
        shape=(n, k),
    )
    b = np.zeros(n)
    for node, val in supply.items():
        b[node - 1] = val
    known = 6749969302.0 if path.name.startswith("netgen-2") else None
    return Lp(f"mincostflow {path.stem}", a[:, 4], A, b, b.copy(), a[:, 2], a[:, 3], known)


def random_flow(nodes: int, arcs: int, seed: int = 0) -> Lp:
    """A small seeded min-cost-flow LP (a cycle through all nodes keeps it feasible)."""
    rng = np.random.default_rng(seed)
    tail = np.r_[np.arange(nodes), rng.integers(0, nodes, arcs)]
    head = np.r_[(np.arange(nodes) + 1) % nodes, rng.integers(0, nodes, arcs)]
    keep = tail != head
    tail, head = tail[keep], head[keep]
    k = tail.size
    A = sp.csr_matrix(
        (np.r_[np.ones(k), -np.ones(k)], (np.r_[tail, head], np.r_[np.arange(k), np.arange(k)])),
        shape=(nodes, k),
    )
    b = np.zeros(nodes)
    b[0], b[nodes // 2] = 10.0, -10.0
    cap = np.where(np.arange(k) < nodes, 100.0, rng.uniform(1, 20, k))
    c = rng.uniform(1, 100, k)
    return Lp(f"mincostflow random {nodes}", c, A, b, b.copy(), np.zeros(k), cap)


def as_model(lp: Lp) -> Any:
    """The LP as an ``ortools_lag`` Model (one variable block, one row group)."""
    from ortools_lag import Model

    m = Model(lp.name)
    x = m.var("x", lp.A.shape[1], lb=lp.lb, ub=lp.ub)
    m.minimize(lp.c @ x)
    m.add("rows", (lp.A @ x).between(lp.lo, lp.hi))
    return m


def run_ours(
    lp: Lp, tol: float, threads: int, limit: float, device: str | None = None, method: str = "",
    crossover: bool = False, model: Any = None,
) -> Run:  # fmt: skip
    """``solve(model, "pdhg")``: the certified status (model building is not timed)."""
    from ortools_lag import solve

    model = as_model(lp) if model is None else model
    backend = "torch" if device else "numpy"
    t0 = time.perf_counter()
    sol = solve(
        model, "pdhg", tolerance=tol, time_limit=limit, backend=backend, device=device,
        threads=threads, method=method or "adaptive", crossover=crossover,
    )  # fmt: skip
    el = time.perf_counter() - t0
    tag = f"{backend}{'/' + device if device else ''}{', ' + method if method else ''}"
    name = f"ours ({tag}{', crossover' if crossover else ''})"
    return Run(name, sol.status.value, el, sol.iterations, sol.objective)


def run_highs(lp: Lp, tol: float, threads: int, limit: float, solver: str) -> Run:
    import highspy

    A = sp.csc_matrix(lp.A)
    hlp = highspy.HighsLp()
    hlp.num_col_, hlp.num_row_ = A.shape[1], A.shape[0]
    hlp.col_cost_, hlp.col_lower_, hlp.col_upper_ = lp.c, lp.lb, lp.ub
    hlp.row_lower_, hlp.row_upper_ = lp.lo, lp.hi
    hlp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    hlp.a_matrix_.start_, hlp.a_matrix_.index_, hlp.a_matrix_.value_ = (
        A.indptr, A.indices, A.data,
    )  # fmt: skip
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", threads)
    h.setOptionValue("time_limit", float(limit))
    h.setOptionValue("solver", solver)
    if solver == "ipm":  # IPM to the requested tolerance, no crossover
        h.setOptionValue("run_crossover", "off")
        h.setOptionValue("ipm_optimality_tolerance", max(tol, 1e-10))
    h.passModel(hlp)
    t0 = time.perf_counter()
    h.run()
    el = time.perf_counter() - t0
    info = h.getInfo()
    its = info.simplex_iteration_count if solver == "simplex" else info.ipm_iteration_count
    status = h.modelStatusToString(h.getModelStatus())
    return Run(f"HiGHS {solver}", status, el, its, info.objective_function_value)


def run_ortools(lp: Lp, tol: float, threads: int, limit: float, norm: str = "componentwise") -> Run:
    from ortools.pdlp import solve_log_pb2, solvers_pb2
    from ortools.pdlp.python import pdlp

    qp = pdlp.QuadraticProgram()
    qp.resize_and_initialize(lp.A.shape[1], lp.A.shape[0])
    qp.objective_vector = lp.c
    qp.constraint_matrix = sp.csc_matrix(lp.A)
    qp.constraint_lower_bounds, qp.constraint_upper_bounds = lp.lo, lp.hi
    qp.variable_lower_bounds, qp.variable_upper_bounds = lp.lb, lp.ub
    p = solvers_pb2.PrimalDualHybridGradientParams()
    p.num_threads = threads
    crit = p.termination_criteria
    name = "L_INF_COMPONENTWISE" if norm == "componentwise" else "L2"
    crit.optimality_norm = solvers_pb2.OptimalityNorm.Value(f"OPTIMALITY_NORM_{name}")
    crit.simple_optimality_criteria.eps_optimal_relative = tol
    crit.simple_optimality_criteria.eps_optimal_absolute = tol
    crit.time_sec_limit = float(limit)
    t0 = time.perf_counter()
    r = pdlp.primal_dual_hybrid_gradient(qp, p)
    el = time.perf_counter() - t0
    reason = solve_log_pb2.TerminationReason.Name(r.solve_log.termination_reason)
    obj = float(lp.c @ np.asarray(r.primal_solution))
    label = "OR-Tools PDLP" if norm == "componentwise" else "OR-Tools PDLP l2"
    return Run(label, reason.replace("TERMINATION_REASON_", "").lower(), el,
               r.solve_log.iteration_count, obj)  # fmt: skip


def alternate(lp: Lp, tol: float, args: argparse.Namespace) -> tuple[Run, Run]:
    """Ours and PDLP (componentwise) in alternating rounds; the runs with the median times."""
    model = as_model(lp)
    ours, pdlp = [], []
    for _ in range(max(args.rounds, 1)):
        ours.append(run_ours(lp, tol, args.threads, args.time_limit, model=model))
        if not args.no_ortools:
            pdlp.append(run_ortools(lp, tol, args.threads, args.time_limit))

    def median(runs: list[Run]) -> Run:
        return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]

    return median(ours), (median(pdlp) if pdlp else ours[0])


def table(lp: Lp, tol: float, runs: list[Run], ref: float | None) -> None:
    """One LP and tolerance: each run, and ours over it in time and iterations."""
    ours = next((r for r in runs if r.solver.startswith("ours (numpy")), runs[0])
    print(f"\n{lp.name}: {lp.A.shape[0]} rows, {lp.A.shape[1]} columns, {lp.A.nnz} nonzeros;"
          f" tolerance {tol:g}")  # fmt: skip
    print(f"  {'solver':24s} {'status':16s} {'time s':>9s} {'iters':>8s} {'rel obj err':>11s}"
          f" {'ours/time':>9s} {'ours/iters':>10s}")  # fmt: skip
    for r in runs:
        err = abs(r.objective - ref) / max(1.0, abs(ref)) if ref is not None else float("nan")
        pdlp = r.solver.startswith("OR-Tools PDLP")
        it_ratio = (  # ours' iterations over PDLP's
            f"{ours.iterations / r.iterations:10.2f}"
            if pdlp and r.iterations and ours.iterations is not None
            else f"{'':10s}"
        )
        its = "" if r.iterations is None else str(r.iterations)
        print(f"  {r.solver:24s} {r.status:16s} {r.seconds:9.2f} {its:>8s} {err:11.1e}"
              f" {ours.seconds / r.seconds:9.2f} {it_ratio}")  # fmt: skip


def bench(lp: Lp, tols: list[float], args: argparse.Namespace, cuda: bool) -> None:
    ref_run = run_highs(lp, 1e-8, args.threads, args.time_limit, "simplex")
    ref = lp.known if lp.known is not None else ref_run.objective
    for tol in tols:
        ours, pdlp = alternate(lp, tol, args)
        runs = [ours]
        if args.halpern:
            runs.append(run_ours(lp, tol, args.threads, args.time_limit, method="halpern"))
        if cuda:
            runs.append(run_ours(lp, tol, args.threads, args.time_limit, device="cuda"))
        runs.append(ref_run)
        runs.append(run_highs(lp, tol, args.threads, args.time_limit, "ipm"))
        if not args.no_ortools:
            runs.append(pdlp)
            runs.append(run_ortools(lp, tol, args.threads, args.time_limit, norm="l2"))
        table(lp, tol, runs, ref)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes (CI), well under 30 s")
    ap.add_argument("--data", type=Path, default=DATA, help="data folder (dimacs/netgen-2.min)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[300, 1000])
    ap.add_argument("--tols", type=float, nargs="+", default=[1e-4, 1e-8])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds ours / PDLP")
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--no-ortools", action="store_true", help="skip OR-Tools PDLP")
    ap.add_argument("--no-flow", action="store_true", help="skip the min-cost-flow LP")
    ap.add_argument("--halpern", action="store_true", help="also ours with method='halpern'")
    args = ap.parse_args(argv)
    try:
        import torch

        cuda = bool(torch.cuda.is_available())
    except ImportError:
        cuda = False
    try:
        import ortools

        ortools_version = ortools.__version__
    except ImportError:
        ortools_version, args.no_ortools = "not installed", True
    print(
        f"threads: {args.threads} for every solver (ours: numpy, scipy sparse products on one"
        f" thread, BLAS <= {args.threads}); OR-Tools {ortools_version}; CUDA: {cuda}"
    )
    sizes = [20] if args.quick else args.sizes
    if args.quick:
        args.rounds = 1
    for n in sizes:
        bench(transportation(n, n, seed=n), args.tols, args, cuda)
    if not args.no_flow:
        path = args.data / "dimacs" / "netgen-2.min"
        flow = random_flow(60, 300) if args.quick or not path.exists() else read_dimacs_min(path)
        bench(flow, args.tols, args, cuda)
    if cuda and not args.quick:
        lp = transportation(3000, 3000, seed=3000)
        runs = [run_ours(lp, 1e-4, args.threads, args.time_limit, device="cuda")]
        runs.append(run_highs(lp, 1e-4, args.threads, args.time_limit, "simplex"))
        table(lp, 1e-4, runs, runs[-1].objective)


if __name__ == "__main__":
    main()
