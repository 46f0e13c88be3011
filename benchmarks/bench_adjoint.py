"""One gradient of an MLP by the Lagrange multipliers of its layers vs torch autograd.

The network 64-256-256-10 (tanh, softmax cross-entropy) on a batch of 1024 random samples is
built once by ``problems.nn_training``; one *gradient* is the forward pass, the multipliers of
every layer (the back-substitution of the layers' KKT system) and the weight gradient:

- ours: ``ReducedSpace.evaluate`` on numpy arrays, and on torch tensors through the array API
  (CPU; CUDA when a GPU is available) — the same expression graph;
- torch: the same network written in torch, ``loss.backward()`` (same dtype, same device).

Printed: the median time of one gradient for each, the ratio ours/torch (target <= 1.5 on CPU,
float64: the dtype of the acceptance tests) and the largest relative difference of the weight
gradients; then the same in float32 (torch's default dtype). Ours and torch alternate in blocks
of 5 calls (each after a pause), so that a load from other processes falls on both alike.
``--quick`` runs a small network (CI: under 30 s); ``--threads`` pins the threads of torch, of
numpy's BLAS and of our elementwise kernels alike (default: each library's own choice; on a busy
machine, oversubscribed threads dominate the timings).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

TOL = {"float64": 1e-10, "float32": 1e-4}  # weight gradients, relative to autograd's
PAUSE = 0.25  # seconds before each block: the other library's threads stop spinning


def problem(sizes: list[int], batch: int, seed: int = 0) -> tuple[Any, dict[str, np.ndarray]]:
    from ortools_lag.problems import nn_training

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, sizes[0]))
    y = rng.integers(0, sizes[-1], size=batch)
    p = nn_training.build(X, y, layers=sizes[1:-1], activation="tanh")
    theta = p.data.layering.init(np.random.default_rng(seed + 1))
    return p, theta


def timed_pair(
    fa: Callable[[], Any], fb: Callable[[], Any], repeat: int, block: int = 5
) -> tuple[float, float, Any, Any]:
    """Median seconds of ``fa`` and ``fb``, timed in alternating blocks of ``block`` calls.

    Blocks, rather than single calls, and a pause before each keep one library's idle threads
    (OpenBLAS's workers spin-wait for a while after each product, torch's OpenMP pool too) from
    landing on the other's timings; the first call of each block is an untimed warm-up.
    """
    out_a, out_b = fa(), fb()  # the results for the agreement check
    ta: list[float] = []
    tb: list[float] = []
    while len(ta) < repeat:
        for fn, times in ((fa, ta), (fb, tb)):
            time.sleep(PAUSE)
            fn()
            for _ in range(min(block, repeat - len(times))):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb), out_a, out_b


def ours(p: Any, theta: dict[str, Any], device: str | None, dtype: str) -> Callable[[], Any]:
    from ortools_lag.solvers.nn.adjoint import ReducedSpace

    space = ReducedSpace(p.model, p.data.layering)
    theta = {k: v.astype(dtype) for k, v in theta.items()}
    data = {k: v.astype(dtype) for k, v in p.data.layering.data.items()}
    if device is not None:
        import torch

        theta = {k: torch.as_tensor(v, device=device) for k, v in theta.items()}
        data = {k: torch.as_tensor(v, device=device) for k, v in data.items()}

    def run() -> dict[str, Any]:
        pt = space.evaluate(theta, data)
        if device is not None and device.startswith("cuda"):
            import torch

            torch.cuda.synchronize()
        return pt.gradient

    return run


def torch_autograd(
    p: Any, theta: dict[str, np.ndarray], device: str, dtype: str
) -> Callable[[], Any]:
    import torch

    lay = p.data.layering
    X = torch.as_tensor(lay.data["X"].astype(dtype), device=device)
    labels = torch.as_tensor(np.argmax(lay.data["Y"], axis=0), device=device)
    params = {
        k: torch.as_tensor(v.astype(dtype), device=device).requires_grad_()
        for k, v in theta.items()
    }
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

    def f64(x: Any) -> np.ndarray:
        return np.asarray(to_numpy(x), dtype=np.float64)

    return max(float(np.linalg.norm(f64(a[k]) - f64(b[k])) / np.linalg.norm(f64(b[k]))) for k in b)


def set_threads(n: int) -> None:
    """The same number of threads for torch, numpy's BLAS and our elementwise kernels."""
    import torch
    from threadpoolctl import threadpool_limits

    from ortools_lag.model.ufunc_threads import set_num_threads

    torch.set_num_threads(n)
    threadpool_limits(n, user_api="blas")
    set_num_threads(n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small network for CI")
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 256, 10])
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--threads", type=int, default=None, help="threads of torch, BLAS and ours")
    ap.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    args = ap.parse_args()
    sizes, batch, repeat = args.sizes, args.batch, args.repeat
    if args.quick:
        sizes, batch, repeat = [16, 32, 32, 4], 128, 5
    import torch

    from ortools_lag.model.ufunc_threads import get_num_threads

    if args.threads:
        set_threads(args.threads)
    p, theta = problem(sizes, batch)
    print(
        f"MLP {'-'.join(map(str, sizes))}, batch {batch}, median of {repeat} (alternating blocks)"
    )
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"our elementwise kernels: {get_num_threads()} threads"
    )
    devices = [("cpu", "numpy", None), ("cpu", "torch tensors", "cpu")]
    if torch.cuda.is_available():
        devices.append(("cuda", "torch tensors", "cuda"))
    head = f"{'dtype':8s} {'device':7s} {'ours on':14s} {'ours ms':>9s} {'autograd ms':>12s}"
    print(f"{head} {'ratio':>6s} {'rel diff':>9s}")
    for dtype in args.dtypes:
        for device, label, dev in devices:
            fa = ours(p, theta, dev, dtype)
            fb = torch_autograd(p, theta, device, dtype)
            t_ours, t_ref, g_ours, g_ref = timed_pair(fa, fb, repeat)
            diff = agreement(g_ours, g_ref)
            print(
                f"{dtype:8s} {device:7s} {label:14s} {1e3 * t_ours:9.2f} {1e3 * t_ref:12.2f} "
                f"{t_ours / t_ref:6.2f} {diff:9.1e}"
            )
            assert diff < TOL[dtype], "the multipliers' weight gradient disagrees with autograd"


if __name__ == "__main__":
    main()
