"""One gradient of an MLP by the Lagrange multipliers of its layers vs torch autograd.

The network 64-256-256-10 (tanh, softmax cross-entropy) on a batch of 1024 random samples is
built once by ``problems.nn_training``; one *gradient* is the forward pass, the multipliers of
every layer (the back-substitution of the layers' KKT system) and the weight gradient:

- ours: ``ReducedSpace.evaluate`` on numpy arrays (float64), and on torch tensors through the
  array API (CPU; CUDA when a GPU is available) — the same expression graph;
- torch: the same network written in torch, ``loss.backward()`` (float64, same device).

Printed: the median time of one gradient for each, the ratio ours/torch (target <= 1.5 on CPU)
and the largest relative difference of the weight gradients. ``--quick`` runs a small network
(CI: under 30 s); ``--threads`` pins the threads of torch and of numpy's BLAS alike (default:
each library's own choice; on a busy machine, oversubscribed threads dominate the timings).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def problem(sizes: list[int], batch: int, seed: int = 0) -> tuple[Any, dict[str, np.ndarray]]:
    from ortools_lag.problems import nn_training

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, sizes[0]))
    y = rng.integers(0, sizes[-1], size=batch)
    p = nn_training.build(X, y, layers=sizes[1:-1], activation="tanh")
    theta = p.data.layering.init(np.random.default_rng(seed + 1))
    return p, theta


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    out = fn()  # warm-up (and the result for the agreement check)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def ours(p: Any, theta: dict[str, Any], device: str | None) -> Callable[[], dict[str, Any]]:
    from ortools_lag.solvers.adjoint import ReducedSpace

    space = ReducedSpace(p.model, p.data.layering)
    data = None
    if device is not None:
        import torch

        theta = {k: torch.as_tensor(v, device=device) for k, v in theta.items()}
        data = {k: torch.as_tensor(v, device=device) for k, v in p.data.layering.data.items()}

    def run() -> dict[str, Any]:
        pt = space.evaluate(theta, data)
        if device is not None and device.startswith("cuda"):
            import torch

            torch.cuda.synchronize()
        return pt.gradient

    return run


def torch_autograd(p: Any, theta: dict[str, np.ndarray], device: str) -> Callable[[], Any]:
    import torch

    lay = p.data.layering
    X = torch.as_tensor(lay.data["X"], device=device)
    labels = torch.as_tensor(np.argmax(lay.data["Y"], axis=0), device=device)
    params = {k: torch.as_tensor(v, device=device).requires_grad_() for k, v in theta.items()}
    n_layers = len(lay.steps)

    def run() -> dict[str, Any]:
        for t in params.values():
            t.grad = None
        h = X
        for l in range(1, n_layers + 1):
            a = params[f"W{l}"] @ h + params[f"b{l}"][:, None]
            h = torch.tanh(a) if l < n_layers else a
        loss = torch.nn.functional.cross_entropy(h.T, labels)
        loss.backward()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return {k: t.grad for k, t in params.items()}

    return run


def agreement(a: dict[str, Any], b: dict[str, Any]) -> float:
    from ortools_lag.arrays import to_numpy

    return max(
        float(np.linalg.norm(to_numpy(a[k]) - to_numpy(b[k])) / np.linalg.norm(to_numpy(b[k])))
        for k in b
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small network for CI")
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 256, 10])
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--threads", type=int, default=None, help="threads of torch and of BLAS")
    args = ap.parse_args()
    sizes, batch, repeat = args.sizes, args.batch, args.repeat
    if args.quick:
        sizes, batch, repeat = [16, 32, 32, 4], 128, 5
    import torch

    if args.threads:  # the same number of threads for torch and numpy's BLAS
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads, user_api="blas")
    p, theta = problem(sizes, batch)
    print(f"MLP {'-'.join(map(str, sizes))}, batch {batch}, float64, median of {repeat}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    rows = [("cpu", "numpy", ours(p, theta, None)), ("cpu", "torch tensors", ours(p, theta, "cpu"))]
    if torch.cuda.is_available():
        rows.append(("cuda", "torch tensors", ours(p, theta, "cuda")))
    head = f"{'device':7s} {'ours on':14s} {'ours ms':>9s} {'autograd ms':>12s}"
    print(f"{head} {'ratio':>6s} {'rel diff':>9s}")
    for device, label, fn in rows:
        t_ours, g_ours = timed(fn, repeat)
        t_ref, g_ref = timed(torch_autograd(p, theta, device), repeat)
        diff = agreement(g_ours, g_ref)
        print(
            f"{device:7s} {label:14s} {1e3 * t_ours:9.2f} {1e3 * t_ref:12.2f} "
            f"{t_ours / t_ref:6.2f} {diff:9.1e}"
        )
        assert diff < 1e-10, "the multipliers' weight gradient disagrees with autograd"


if __name__ == "__main__":
    main()
