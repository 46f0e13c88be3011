"""PDHG on torch/CUDA beside HiGHS on the CPU: a 1000 x 1000 transportation LP and a
Kennington LP, at 1e-4 and 1e-8, as one command on a CUDA machine.

    python benchmarks/bench_pdhg_gpu.py                 # transport 1000x1000 + ken-11
    python benchmarks/bench_pdhg_gpu.py --lp osa-14     # another Kennington file

Without CUDA (``torch.cuda.is_available()`` false, or torch missing) it says so and exits with
status 2, running nothing. Ours goes through ``solve(model, "pdhg", device="cuda")`` (the
certified path, the first call also warms CUDA up on a tiny LP, not timed); HiGHS runs its dual
simplex on ``--threads`` CPU threads. Objectives are compared with the published value
(Kennington, ``known_values.csv``) or HiGHS's (transportation).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_large_lp import DATA, published
from bench_pdhg import transportation


def cuda_ready() -> str | None:
    """``None`` when a CUDA device is usable, else why not."""
    try:
        import torch
    except ImportError:
        return "torch is not installed (pip install -e '.[torch]')"
    if not torch.cuda.is_available():
        return "torch sees no CUDA device (torch.cuda.is_available() is False)"
    return None


def _row(name: str, run: str, status: str, secs: float, its: int, obj: float, ref: float) -> None:
    err = abs(obj - ref) / max(1.0, abs(ref))
    print(f"{name:24s} {run:22s} {status:10s} {secs:8.2f} {its:8d} {obj:18.10g} {err:8.1e}",
          flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=int, default=1000, help="transportation LP size n x n")
    ap.add_argument("--lp", default="ken-11", help="Kennington file name (without .mps.gz)")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--tols", type=float, nargs="+", default=[1e-4, 1e-8])
    ap.add_argument("--threads", type=int, default=1, help="HiGHS threads")
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument(
        "--quick",
        action="store_true",
        help="CI's smoke run: a 50 x 50 transportation LP at 1e-4 only; without CUDA, say so "
        "and exit 0",
    )
    args = ap.parse_args(argv)
    why = cuda_ready()
    if why is not None:
        print(f"bench_pdhg_gpu: no CUDA, nothing run: {why}", file=sys.stderr)
        return 0 if args.quick else 2
    if args.quick:
        args.size, args.tols, args.lp = 50, [1e-4], None
    import torch

    from ortools_lag import Model, solve
    from ortools_lag.io import read_mps

    print(f"device: {torch.cuda.get_device_name(0)}; torch {torch.__version__}")
    tiny = Model()
    v = tiny.var("x", 2)
    tiny.minimize(v.sum())
    tiny.add("c", v.sum() >= 1)
    solve(tiny, "pdhg", device="cuda")  # CUDA context and kernels, not timed
    lps = []
    lp = transportation(args.size, args.size, seed=args.size)
    m = Model(lp.name)
    x = m.var("x", lp.A.shape[1], lb=lp.lb, ub=lp.ub)
    m.minimize(lp.c @ x)
    m.add("rows", (lp.A @ x).between(lp.lo, lp.hi))
    lps.append((lp.name, m, None))
    if args.lp is not None:  # --quick: the transportation LP only (CI has no shared folder)
        f = f"kennington/{args.lp}.mps.gz"
        vals = published(args.data).get(f)
        lps.append((args.lp, read_mps(args.data / f), vals[0] if vals else None))
    print(f"{'LP':24s} {'run':22s} {'status':10s} {'time s':>8s} {'iters':>8s}"
          f" {'objective':>18s} {'rel err':>8s}")  # fmt: skip
    for name, model, known in lps:
        t0 = time.perf_counter()
        ref = solve(model, "highs", threads=args.threads, time_limit=args.time_limit)
        el = time.perf_counter() - t0
        target = known if known is not None else ref.objective
        _row(name, f"HiGHS ({args.threads} CPU thr)", ref.status.value, el, ref.iterations,
             ref.objective, target)  # fmt: skip
        for tol in args.tols:
            t0 = time.perf_counter()
            sol = solve(model, "pdhg", tolerance=tol, device="cuda", time_limit=args.time_limit)
            torch.cuda.synchronize()
            el = time.perf_counter() - t0
            _row(name, f"pdhg cuda {tol:g}", sol.status.value, el, sol.iterations,
                 sol.objective, target)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
