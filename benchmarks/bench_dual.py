"""Dual methods: the loop's overhead beside the oracle's time, and the executors' speed-up.

1. Overhead. On the OR-Library ``gapa`` instances (generalized assignment, the assignment rows
   relaxed) the Lagrangian is minimised by a structured oracle: one 0-1 knapsack per agent by
   the vectorised DP of :mod:`ortools_lag.algorithms.knapsack`. For ``subgradient`` and
   ``bundle``, the time inside the oracle is measured by a wrapper and everything else is
   overhead: the engine's evaluation (multipliers by name, ``L`` recomputed, the supergradient),
   the method's step (for the bundle, its HiGHS master QP) and the shared loop (recovery,
   history, limits). Target: the loop's overhead <= 10% of the oracle's time. The peer,
   ``bundle-fresh``, is the same bundle with a new HiGHS master built (passModel) at every
   iteration, timed in the same run; ``volume`` is the volume algorithm.
2. Speed-up. A relaxation with ``--blocks`` (>= 8) expensive blocks (multi-row 0-1 knapsacks
   solved by HiGHS, the generic block path) is evaluated at the same multipliers serially, in
   processes and on a Dask ``LocalCluster`` of ``--workers`` workers, serial and parallel
   alternating (``--rounds``), with the load average printed beside. Target: >= 1.6x on 2 cores.
3. A cost model of 64-1024 blocks on a cluster (``--part model``): a synchronous iteration costs
   ``max over workers of its blocks' time + per-block send/gather + the master``; an
   asynchronous (incremental) method updates after each finished chunk, so the workers never
   wait for the slowest one nor for the master.

``--quick`` (CI) runs two instances, few iterations and small blocks in well under 30 s.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "data"


def gap_problem(path: Path, k: int):
    """The GAP model and a Problem whose plan has the knapsack-DP oracle, plus a timer."""
    from ortools_lag import Model, Problem, Relaxation
    from ortools_lag.algorithms.knapsack import KnapsackBatch
    from ortools_lag.io.gap import read_gap

    inst = read_gap(path, k)
    m = Model(inst.name)
    x = m.var("x", inst.shape, domain="binary")
    m.minimize((inst.cost * x).sum())
    m.add("assign", x.sum(axis=0) == 1)
    m.add("capacity", (inst.weight * x).sum(axis=1) <= inst.capacity)
    batch = KnapsackBatch(inst.weight, inst.capacity)
    timer = {"seconds": 0.0, "calls": 0}

    def oracle(lam: dict) -> tuple[dict, float]:
        t0 = time.perf_counter()
        lj = np.asarray(lam["assign"])
        sol = batch.solve(-(inst.cost + lj[None, :]))
        value = -float(sol.value.sum()) - float(lj.sum())
        timer["seconds"] += time.perf_counter() - t0
        timer["calls"] += 1
        return {"x": sol.x.astype(float)}, value

    plan = Relaxation(relax=("assign",), oracle=oracle, description="knapsack DP per agent")
    return Problem(m, relaxations={"lr": plan}, default_relaxation="lr"), timer


class _FreshMaster:
    """The peer: the bundle master rebuilt (a new Highs, passModel) at every iteration."""

    def __init__(self, m: int) -> None:
        self.m = m

    def sync(self, ids: np.ndarray, G: np.ndarray, b: np.ndarray) -> None:
        self.G, self.b = G, b

    def solve(self, c, u, d_lo, d_hi, qc=0.0):  # type: ignore[no-untyped-def]
        from ortools_lag.solvers.dual.bundle import solve_master

        return solve_master(self.G, self.b + self.G @ c - qc, u, d_lo, d_hi)


def overhead(data: Path, instances: list[int], iters: int) -> list[dict]:
    from ortools_lag import solve
    from ortools_lag.solvers.dual import bundle

    warm, _ = gap_problem(data / "gap" / "gapa.txt", 1)
    solve(warm, "bundle", max_iter=2)  # imports and first calls out of the timings
    rows = []
    for k in instances:
        for method in ("subgradient", "bundle", "bundle-fresh", "volume"):
            prob, timer = gap_problem(data / "gap" / "gapa.txt", k)
            keep = bundle.Master
            if method == "bundle-fresh":
                bundle.Master = _FreshMaster  # type: ignore[misc, assignment]
            try:
                name = method.split("-")[0]
                sol = solve(prob, name, max_iter=iters, certify="never", gap_limit=0.0)
            finally:
                bundle.Master = keep  # type: ignore[misc]
            assert sol.history is not None
            wall = float(sol.history.seconds[-1])  # the iterations, without set-up and report
            its = max(sol.iterations, 1)
            oracle = timer["seconds"]
            loop = float(sol.info["loop_seconds"])
            rows.append(
                {
                    "instance": f"gapa-{k}",
                    "method": method,
                    "iterations": its,
                    "oracle_us": 1e6 * oracle / its,
                    "overhead_us": 1e6 * (wall - oracle) / its,
                    "loop_us": 1e6 * loop / its,
                    "loop_pct": 100.0 * loop / oracle,
                    "overhead_pct": 100.0 * (wall - oracle) / oracle,
                    "bound": sol.bound,
                }
            )
    return rows


def block_model(blocks: int, items: int, rows: int, seed: int = 0):
    """``blocks`` independent multi-row 0-1 knapsacks linked by one relaxed cover row."""
    from ortools_lag import Model

    rng = np.random.default_rng(seed)
    m = Model("blocks")
    x = m.var("x", (blocks, items), domain="binary")
    value = rng.integers(10, 100, (blocks, items)).astype(float)
    m.minimize(-(value * x).sum())
    for b in range(blocks):
        w = rng.integers(5, 60, (rows, items)).astype(float)
        m.add(f"knap{b}", w @ x[b] <= w.sum(axis=1) / 3)
    m.add("link", x.sum(axis=0) <= 1)
    return m


def speedup(
    blocks: int, items: int, rows: int, workers: int, evals: int, dask: bool, rounds: int = 1
) -> dict:
    from ortools_lag.lagrangian import Lagrangian
    from ortools_lag.parallel import DaskExecutor, ProcessExecutor

    model = block_model(blocks, items, rows)
    rng = np.random.default_rng(1)
    lams = [rng.uniform(0, 30, items) for _ in range(evals)]
    out: dict = {"blocks": blocks, "items": items, "rows": rows, "workers": workers}
    executors = [("serial", None), ("processes", ProcessExecutor(workers))]
    if dask:
        executors.append(("dask", DaskExecutor(workers=workers)))
    values: dict = {}
    lags = {name: Lagrangian(model, relax=["link"], executor=ex) for name, ex in executors}
    for lag in lags.values():
        lag.evaluate(lams[0])  # build the block models (and start the workers)
    times: dict = {name: [] for name in lags}
    for _ in range(rounds):  # alternating, so that a change of load hits every executor
        for name, lag in lags.items():
            t0 = time.perf_counter()
            values[name] = [lag.evaluate(lam).lower for lam in lams]
            times[name].append((time.perf_counter() - t0) / evals)
    for name, ex in executors:
        out[f"{name}_s"] = min(times[name])
        lags[name].close()
        if ex is not None:
            ex.close()
    out["block_ms"] = 1e3 * out["serial_s"] / blocks
    for name in values:
        assert np.allclose(values[name], values["serial"]), f"{name} disagrees with serial"
        out[f"{name}_speedup"] = out["serial_s"] / out[f"{name}_s"]
        out[f"{name}_efficiency"] = out[f"{name}_speedup"] / (1 if name == "serial" else workers)
    return out


def cluster_model(block_ms: float, comm_ms: float, master_ms: float, workers: int) -> list[dict]:
    """Milliseconds per pass over all blocks (every block evaluated once) for 64-1024 blocks on
    ``workers`` single-threaded workers, block times spread +-50% at random.

    Synchronous (one master step per pass): ``max_w(its blocks' time)`` (the slowest worker)
    ``+ blocks * comm`` (gathering on the driver) ``+ master``. Asynchronous (an incremental
    bundle or subgradient step after each worker's chunk: ``workers`` steps per pass): the
    workers never wait, so a pass takes ``max(mean_w(load), blocks * comm + workers * master)``;
    the driver (gathers and master steps) is the bottleneck when the second term is larger.
    """
    rng = np.random.default_rng(0)
    rows = []
    for nb in (64, 128, 256, 512, 1024):
        t = block_ms * rng.uniform(0.5, 1.5, nb)
        per = np.array([t[w::workers].sum() for w in range(workers)])
        driver_sync = nb * comm_ms + master_ms
        sync = float(per.max()) + driver_sync
        driver_async = nb * comm_ms + workers * master_ms
        asyn = max(float(per.mean()), driver_async)
        rows.append({"blocks": nb, "sync_ms": sync, "async_ms": asyn,
                     "sync_master_share": driver_sync / sync,
                     "async_master_bound": driver_async >= per.mean(),
                     "updates": workers})  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="CI size: < 30 s")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the data/ directory")
    ap.add_argument("--iters", type=int, default=None, help="dual iterations per run")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--blocks", type=int, default=8)
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask cluster (--quick does)")
    ap.add_argument("--part", choices=["all", "overhead", "speedup", "model"], default="all")
    ap.add_argument("--rounds", type=int, default=None, help="alternating timing rounds")
    ap.add_argument("--items", type=int, default=None, help="items per block")
    args = ap.parse_args()
    iters = args.iters or (20 if args.quick else 100)
    instances = [3] if args.quick else [1, 2, 3, 4, 5, 6]
    if args.part in ("all", "overhead"):
        print(f"== loop overhead beside the oracle (gapa, knapsack DP oracle, {iters} iterations)")
        print(
            f"{'instance':10} {'method':12} {'its':>4} {'oracle us':>10} {'overhead us':>12} "
            f"{'loop us':>8} {'loop %':>7} {'all %':>7} {'bound':>10}"
        )
        for r in overhead(args.data, instances, iters):
            print(
                f"{r['instance']:10} {r['method']:12} {r['iterations']:4d} {r['oracle_us']:10.0f} "
                f"{r['overhead_us']:12.0f} {r['loop_us']:8.0f} {r['loop_pct']:7.2f} "
                f"{r['overhead_pct']:7.2f} {r['bound']:10.2f}"
            )
    if args.part in ("all", "speedup"):
        items, rows, evals = (12, 2, 1) if args.quick else (args.items or 60, 4, 4)
        rounds = args.rounds or (1 if args.quick else 3)
        blocks = max(args.blocks, 8)
        print(
            f"== executors: {blocks} HiGHS knapsack blocks ({rows} rows x {items} items), "
            f"{args.workers} workers, {evals} evaluations"
        )
        dask = not (args.no_dask or args.quick)
        r = speedup(blocks, items, rows, args.workers, evals, dask=dask, rounds=rounds)
        print(f"load average {os.getloadavg()}; {r['block_ms']:.1f} ms per block (serial)")
        for name in ("serial", "processes", "dask"):
            if f"{name}_s" in r:
                print(
                    f"{name:10} {r[name + '_s'] * 1e3:10.1f} ms/evaluation  "
                    f"speed-up {r[name + '_speedup']:.2f}x  "
                    f"efficiency {100 * r[name + '_efficiency']:.0f}%"
                )
    if args.part in ("all", "model"):
        print("== cost model: passes over all blocks of 50 ms, 0.2 ms send/gather per block")
        for workers in (16, 64):
            for master in (5.0, 50.0, 200.0):
                for row in cluster_model(50.0, 0.2, master, workers):
                    print(
                        f"workers {workers:3d} master {master:6.1f} ms blocks {row['blocks']:5d}"
                        f"  sync {row['sync_ms']:8.1f} ms/pass (driver "
                        f"{100 * row['sync_master_share']:4.1f}%, 1 update)  async "
                        f"{row['async_ms']:8.1f} ms/pass ({row['updates']} updates"
                        f"{', driver-bound' if row['async_master_bound'] else ''})"
                    )


if __name__ == "__main__":
    main()
