"""Full-space training (``admm``, ``alm``) against the reduced-space ``adjoint`` on digits.

scikit-learn's 8x8 digits (bundled), a seeded 80/20 split, inputs scaled to [0, 1]; the network
64-h-10 (tanh, softmax cross-entropy, weight decay 1e-4) built once by ``problems.nn_training``:

- ``adjoint``: Adam on mini-batches of 64 (backprop = the layers' multipliers), the reference;
- ``alm``: the augmented Lagrangian with layer-wise block-coordinate sweeps
  (``solvers.fullspace.train_alm``, what ``solve(problem, "alm")`` runs once wired);
- ``admm``: one sweep per multiplier step (``solve(problem, "admm")``).

Printed for each: test accuracy, the final relative violation of the layer constraints
``|z_l - sigma(W_l z_{l-1} + b_l)|_F / |z_l|_F`` (0 for ``adjoint``: it satisfies them exactly),
epochs (passes over the data; sweeps for ``alm``) and the time per epoch. Then the speed-up of
the process executor over serial for ``admm`` (the per-sample blocks cut into one shard per
worker; the pool is started and warmed before timing; same iterates, checked). ``--quick`` runs
a 400-sample subset with a smaller network (CI: under 30 s). Timings depend on the machine's
load: say which machine gave them.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np


def digits(n_train: int | None, seed: int = 0) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_digits

    data = load_digits()
    X, y = data.data / 16.0, data.target
    perm = np.random.default_rng(seed).permutation(len(y))
    cut = int(0.8 * len(y))
    train, test = perm[:cut], perm[cut:]
    if n_train is not None:
        train = train[:n_train]
    return X[train], y[train], X[test], y[test]


def run(name: str, p: Any, epochs: int, **extra: Any) -> tuple[Any, float]:
    from ortools_lag import solve
    from ortools_lag.solvers.nn.fullspace import FullspaceAlmOptions, train_alm

    t0 = time.perf_counter()
    if name == "adjoint":
        sol = solve(p, "adjoint", method="adam", learning_rate=1e-2, epochs=epochs, batch_size=64)
    elif name == "alm":
        sol = train_alm(p, FullspaceAlmOptions(max_iter=epochs, **extra))
    else:
        sol = solve(p, "admm", max_iter=epochs, **extra)
    return sol, time.perf_counter() - t0


def passes(name: str, sol: Any) -> int:
    if name == "alm":
        return int(np.sum(sol.history.extra["sweeps"]))
    return len(sol.history)


def speedup(p: Any, epochs: int, workers: int) -> dict[str, float]:
    """Seconds of ``epochs`` admm epochs serially (one shard, and ``workers`` shards) and on a
    warm process pool of ``workers`` (one shard each), and the largest difference of the
    weights between the sharded serial and the process runs (the same arithmetic)."""
    from ortools_lag.parallel import ProcessExecutor

    _, t_one = run("admm", p, epochs, rho_rule="constant")
    serial, t_serial = run("admm", p, epochs, shards=workers, rho_rule="constant")
    pool = ProcessExecutor(workers)
    try:
        pool.map(abs, list(range(workers)))  # start the workers
        run("admm", p, 1, executor=pool, shards=workers)  # warm: imports in every worker
        par, t_par = run("admm", p, epochs, executor=pool, shards=workers, rho_rule="constant")
    finally:
        pool.close()
    diff = max(float(np.max(np.abs(serial.x[k] - par.x[k]))) for k in serial.x if k[0] in "Wb")
    return {"one": t_one, "sharded": t_serial, "processes": t_par, "diff": diff}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small subset and network (CI)")
    ap.add_argument("--hidden", type=int, default=None, help="hidden width (default 64; 32)")
    ap.add_argument("--workers", type=int, default=2, help="processes for the speed-up")
    ap.add_argument("--speedup-epochs", type=int, default=None)
    ap.add_argument("--speedup-hidden", type=int, default=None, help="hidden width there")
    args = ap.parse_args()
    from ortools_lag.problems import nn_training

    quick = args.quick
    hidden = args.hidden or (32 if quick else 64)
    Xtr, ytr, Xte, yte = digits(400 if quick else None)
    p = nn_training.build(Xtr, ytr, layers=[hidden], activation="tanh", weight_decay=1e-4)
    epochs = (
        {"adjoint": 10, "alm": 60, "admm": 150}
        if quick
        else {
            "adjoint": 25,
            "alm": 200,
            "admm": 300,
        }
    )
    print(f"digits: {len(ytr)} train / {len(yte)} test, network 64-{hidden}-10 tanh")
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"{'solver':8} {'accuracy':>8} {'violation':>10} {'epochs':>6} {'s/epoch':>8} {'s':>7}")
    for name, k in epochs.items():
        sol, secs = run(name, p, k)
        acc = p.decode(sol).accuracy(Xte, yte)
        viol = sol.info.get("violation_max", 0.0)
        n = passes(name, sol)
        print(f"{name:8} {acc:8.4f} {viol:10.2e} {n:6d} {secs / n:8.4f} {secs:7.2f}")
    sh = args.speedup_hidden or hidden
    q = p if sh == hidden else nn_training.build(Xtr, ytr, layers=[sh], weight_decay=1e-4)
    k = args.speedup_epochs or (10 if quick else 40)
    t = speedup(q, k, args.workers)
    print(
        f"admm 64-{sh}-10, {k} epochs: serial {t['one']:.2f} s (1 shard), "
        f"{t['sharded']:.2f} s ({args.workers} shards); processes ({args.workers} workers) "
        f"{t['processes']:.2f} s: speed-up {t['one'] / t['processes']:.2f}x "
        f"(same iterates as the sharded serial run to {t['diff']:.1e})"
    )


if __name__ == "__main__":
    main()
