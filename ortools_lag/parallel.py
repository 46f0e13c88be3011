"""Executors for the blocks of a Lagrangian relaxation: serial, threads, processes, Dask.

A decomposable relaxation (one subproblem per agent, facility, scenario...) evaluates its
independent blocks through an executor: serially (the default), in threads or processes on one
machine, or on a Dask distributed cluster. The code is the same whichever executor; only where
the blocks run changes, and the results do not.

Every executor has ``map(fn, items) -> list`` (results in the order of ``items``),
``run_resident`` (the blocks' chunks kept in the workers) and ``close()``. :func:`make_executor`
turns an option value into one: ``None``/``"serial"``, ``"threads"``, ``"processes"``,
``"dask"`` (a ``LocalCluster`` of its own, or the cluster at ``scheduler``), a
``dask.distributed.Client``, a scheduler address ``"tcp://host:port"``, a mapping
``{kind: dask, address: "tcp://host:port"}`` (the YAML form), or an executor instance (kept
open: the caller closes it).

:func:`decompose` cuts the kept-constraint problem of a Lagrangian into the connected components
of its variable-constraint graph; :func:`run_blocks` solves them through an executor, one chunk
per worker. A chunk is shipped to its worker once (a pipe to a worker process of our own, or a
Dask future held by one worker) and stays resident there with its HiGHS models (pinned to one
thread); each evaluation then sends only the costs and gathers only the minimisers. The block
task itself (:class:`BlockSpec`, :func:`solve_blocks`) is in :mod:`ortools_lag.block_task`.

>>> ex, owned = make_executor("threads", workers=2)
>>> ex.map(abs, [-1, 2, -3]), owned
([1, 2, 3], True)
>>> ex.close()
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ortools_lag.block_task import (
    _ONE_THREAD,
    BlockResult,
    BlockSpec,
    _solve_chunk,
    _solve_resident_chunk,
    release_blocks,
    solve_blocks,
)
from ortools_lag.errors import ModelError

__all__ = [
    "BlockResult",
    "BlockSpec",
    "DaskExecutor",
    "Executor",
    "ProcessExecutor",
    "SerialExecutor",
    "ThreadExecutor",
    "decompose",
    "make_executor",
    "release_blocks",
    "run_blocks",
    "solve_blocks",
]

log = logging.getLogger(__name__)

EXECUTORS = ("serial", "threads", "processes", "dask")


class Executor:
    """Runs a function over items and returns the results in order (serially here).

    :meth:`run_resident` is how a Lagrangian's blocks are solved: chunk ``i`` of the blocks is
    shipped to worker ``i`` once and kept there (its HiGHS models are built on the first call and
    cached); later calls send only the costs and get back only the minimisers.
    """

    name = "serial"
    workers = 1

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """``[fn(item) for item in items]``, wherever the executor runs them."""
        return [fn(item) for item in items]

    def run_resident(
        self, token: str, chunks: Sequence[Sequence[BlockSpec]], costs: Sequence[Any]
    ) -> list[list[BlockResult]]:
        """Solve chunk ``i`` at ``costs[i]`` (a list of ``(cost, hessian)``) on worker ``i``;
        in-process executors keep the blocks in this process's cache."""
        return self.map(_solve_chunk, list(zip(chunks, costs)))

    def release(self, token: str) -> None:
        """Drop the blocks of ``token`` wherever they are resident."""
        release_blocks(token)

    def close(self) -> None:
        """Release workers (nothing to do for the serial executor)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workers={self.workers})"


class SerialExecutor(Executor):
    """Every block in the calling thread, one after another (the default)."""


class ThreadExecutor(Executor):
    """A thread pool (useful when the block solver releases the GIL)."""

    name = "threads"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = int(workers or os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(max_workers=self.workers)

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        return list(self._pool.map(fn, items))

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _worker_main(conn: Any) -> None:
    """The loop of a :class:`ProcessExecutor` worker: its blocks live in its own cache."""
    resident: dict[tuple[str, int], list[BlockSpec]] = {}
    _ONE_THREAD[0] = True
    while True:
        try:
            cmd, *args = conn.recv()
        except EOFError:
            return
        try:
            if cmd == "stop":
                return
            if cmd == "map":
                fn, items = args
                out: Any = [fn(item) for item in items]
            elif cmd == "load":
                token, i, specs = args
                resident[(token, i)] = specs
                out = None
            elif cmd == "solve":
                token, i, costs = args
                out = _solve_chunk((resident[(token, i)], costs))
            else:  # "release"
                (token,) = args
                for key in [k for k in resident if k[0] == token]:
                    del resident[key]
                release_blocks(token)
                out = None
            conn.send(("ok", out))
        except Exception as exc:  # the parent re-raises it
            conn.send(("error", exc))


class ProcessExecutor(Executor):
    """Worker processes of our own, each with a pipe: ``map`` sends worker ``i`` the items
    ``i, i + k, ...``; :meth:`run_resident` ships each chunk of blocks to its worker once.
    ``context`` is a multiprocessing start method; the default ``"spawn"`` never forks a parent
    whose HiGHS threads are running."""

    name = "processes"

    def __init__(self, workers: int | None = None, context: str = "spawn") -> None:
        import multiprocessing

        self.workers = int(workers or os.cpu_count() or 1)
        ctx: Any = multiprocessing.get_context(context)
        self._conns: list[Any] = []
        self._procs: list[Any] = []
        for _ in range(self.workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, args=(child,), daemon=True)
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)
        self._loaded: set[tuple[str, int]] = set()
        self._lock = threading.Lock()

    def _call(self, messages: Sequence[tuple[int, tuple[Any, ...]]]) -> list[Any]:
        with self._lock:
            for w, msg in messages:
                self._conns[w].send(msg)
            replies = [self._conns[w].recv() for w, _ in messages]
        for kind, value in replies:
            if kind == "error":
                raise value
        return [value for _, value in replies]

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        items = list(items)
        k = max(1, min(len(items), self.workers))
        parts = self._call([(w, ("map", fn, items[w::k])) for w in range(k)])
        out: list[Any] = [None] * len(items)
        for w, res in enumerate(parts):
            out[w::k] = res
        return out

    def run_resident(
        self, token: str, chunks: Sequence[Sequence[BlockSpec]], costs: Sequence[Any]
    ) -> list[list[BlockResult]]:
        load = [
            (i % self.workers, ("load", token, i, list(c)))
            for i, c in enumerate(chunks)
            if (token, i) not in self._loaded
        ]
        if load:
            self._call(load)
            self._loaded.update((token, i) for i in range(len(chunks)))
        return self._call(
            [(i % self.workers, ("solve", token, i, costs[i])) for i in range(len(chunks))]
        )

    def release(self, token: str) -> None:
        release_blocks(token)
        if any(k[0] == token for k in self._loaded):
            self._call([(w, ("release", token)) for w in range(self.workers)])
            self._loaded = {k for k in self._loaded if k[0] != token}

    def close(self) -> None:
        for conn, proc in zip(self._conns, self._procs):
            try:
                conn.send(("stop",))
            except (BrokenPipeError, OSError):
                pass
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
            conn.close()
        self._conns, self._procs = [], []


def _identity(obj: Any) -> Any:
    return obj


class DaskExecutor(Executor):
    """A ``dask.distributed`` cluster: a ``Client`` given, or one made for ``address``, or a
    ``LocalCluster`` of ``workers`` single-threaded processes started here.

    A chunk of blocks becomes a Dask future held by one worker (made once per Lagrangian); each
    evaluation submits a task on that future, preferably on that worker, so only the costs
    travel. When a worker is lost the scheduler recomputes its chunks elsewhere and reruns
    the tasks: the solve goes on with the same answers.
    """

    name = "dask"

    def __init__(
        self, client: Any = None, address: str | None = None, workers: int | None = None
    ) -> None:
        from dask.distributed import Client, LocalCluster

        self._owned: list[Any] = []
        if client is None:
            if address is None:
                n = int(workers or os.cpu_count() or 1)
                cluster = LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
                )
                self._owned.append(cluster)
                client = Client(cluster)
            else:
                client = Client(address)
            self._owned.insert(0, client)
        self.client = client
        self.workers = max(1, len(client.scheduler_info().get("workers", {})))
        self._resident: dict[str, list[tuple[Any, str | None]]] = {}

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        futures = self.client.map(fn, list(items), pure=False)
        return list(self.client.gather(futures))

    def run_resident(
        self, token: str, chunks: Sequence[Sequence[BlockSpec]], costs: Sequence[Any]
    ) -> list[list[BlockResult]]:
        held = self._resident.get(token)
        if held is None or len(held) != len(chunks):
            addrs = sorted(self.client.scheduler_info().get("workers", {})) or [None]
            held = []
            for i, c in enumerate(chunks):
                w = addrs[i % len(addrs)]
                where = {} if w is None else {"workers": [w], "allow_other_workers": True}
                held.append((self.client.submit(_identity, list(c), pure=False, **where), w))
            self._resident[token] = held
        futures = [
            self.client.submit(
                _solve_resident_chunk,
                fut,
                costs[i],
                pure=False,
                **({} if w is None else {"workers": [w], "allow_other_workers": True}),
            )
            for i, (fut, w) in enumerate(held)
        ]
        return list(self.client.gather(futures))

    def release(self, token: str) -> None:
        release_blocks(token)
        if self._resident.pop(token, None) is not None:
            try:
                self.client.run(release_blocks, token)
            except Exception as exc:  # a cluster going down: nothing left to release
                log.debug("release of %s on the cluster failed: %s", token, exc)

    def close(self) -> None:
        self._resident = {}
        for obj in self._owned:
            obj.close()
        self._owned = []


def make_executor(
    spec: Any = None, workers: int | None = None, scheduler: str | None = None
) -> tuple[Executor, bool]:
    """An executor for an option value, and whether the caller owns it (must close it).

    ``spec`` may also be a mapping ``{kind: ..., address: ..., workers: ...}`` (the YAML form,
    for example ``{kind: dask, address: "tcp://10.0.0.5:8786"}``).

    Raises
    ------
    ModelError
        For an unknown name or field (the valid choices are listed).
    """
    if isinstance(spec, Executor):
        return spec, False
    if isinstance(spec, dict):
        bad = sorted(set(spec) - {"kind", "address", "workers"})
        if bad or spec.get("kind", "dask") not in EXECUTORS:
            raise ModelError(
                f"executor mapping {spec!r}: fields are kind ({', '.join(EXECUTORS)}), "
                "address (a Dask scheduler 'tcp://host:port') and workers"
            )
        kind = spec.get("kind", "dask")
        return make_executor(kind, spec.get("workers", workers), spec.get("address", scheduler))
    if spec is None or spec == "serial":
        return SerialExecutor(), True
    if spec == "threads":
        return ThreadExecutor(workers), True
    if spec == "processes":
        return ProcessExecutor(workers), True
    if spec == "dask":
        return DaskExecutor(address=scheduler, workers=workers), True
    if isinstance(spec, str) and "://" in spec:
        return DaskExecutor(address=spec), True
    if type(spec).__name__ == "Client" and hasattr(spec, "gather"):
        return DaskExecutor(client=spec), False
    raise ModelError(
        f"unknown executor {spec!r} (valid choices: {', '.join(EXECUTORS)}, an Executor, "
        "a dask.distributed.Client, a scheduler address 'tcp://host:port' or a mapping "
        "{kind, address, workers})"
    )


def run_blocks(
    executor: Executor,
    specs: Sequence[BlockSpec],
    costs: Sequence[np.ndarray],
    hessians: Sequence[sp.spmatrix | None],
) -> list[BlockResult]:
    """Solve every block at its costs through ``executor``: one chunk per worker (round robin
    over the blocks, which :func:`decompose` orders by size), resident in its worker after the
    first call (see :meth:`Executor.run_resident`), results in the blocks' order."""
    k = max(1, min(len(specs), executor.workers))
    chunks = [list(range(i, len(specs), k)) for i in range(k)]
    token = specs[0].key[0] if specs else ""
    parts = executor.run_resident(
        token,
        [[specs[i] for i in c] for c in chunks],
        [[(costs[i], hessians[i]) for i in c] for c in chunks],
    )
    out: list[Any] = [None] * len(specs)
    for c, res in zip(chunks, parts):
        for i, r in zip(c, res):
            out[i] = r
    return out


def decompose(
    A: sp.csr_matrix,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    coupling: sp.csr_matrix,
    *,
    lb: np.ndarray,
    ub: np.ndarray,
    integer: np.ndarray,
    Q: sp.spmatrix | None,
    token: str,
    max_blocks: int,
    options: dict[str, Any],
) -> tuple[np.ndarray, list[BlockSpec], bool]:
    """Connected components of the graph of variables and kept rows (plus the off-diagonal
    ``coupling`` of a Hessian) as blocks.

    Returns
    -------
    free, blocks, infeasible
        The columns no row or coupling touches (left to a closed form), the blocks (at most
        ``max_blocks``: the smallest components are merged, largest first), and whether a kept
        row without variables is violated.

    Examples
    --------
    >>> A = sp.csr_matrix(np.array([[1.0, 1.0, 0, 0], [0, 0, 1.0, 0]]))
    >>> free, blocks, bad = decompose(A, np.zeros(2), np.ones(2), sp.csr_matrix((4, 4)),
    ...     lb=np.zeros(4), ub=np.ones(4), integer=np.zeros(4, bool), Q=None, token="t",
    ...     max_blocks=8, options={})
    >>> free.tolist(), [b.cols.tolist() for b in blocks], bad
    ([3], [[0, 1], [2]], False)
    """
    A = sp.csr_matrix(A)
    A.eliminate_zeros()
    empty = np.diff(A.indptr) == 0
    infeasible = bool(np.any(empty & ((row_lo > 1e-9) | (row_hi < -1e-9))))
    col_group, row_group, nb = _groups(A, empty, coupling, max_blocks)
    A_csc, opts = sp.csc_matrix(A), tuple(sorted(options.items()))
    blocks = []
    for b in range(nb):
        cols, rows = np.flatnonzero(col_group == b), np.flatnonzero(row_group == b)
        blocks.append(
            BlockSpec(
                key=(token, b),
                cols=cols,
                A=sp.csc_matrix(A_csc[rows][:, cols]),
                row_lo=row_lo[rows],
                row_hi=row_hi[rows],
                lb=lb[cols],
                ub=ub[cols],
                integrality=integer[cols],
                Q=None if Q is None else sp.csc_matrix(sp.csc_matrix(Q)[cols][:, cols]),
                options=opts,
            )
        )
    return np.flatnonzero(col_group < 0), blocks, infeasible


def _groups(
    A: sp.csr_matrix, empty: np.ndarray, coupling: sp.csr_matrix, max_blocks: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Block index of every column and row (-1: none), and the number of blocks."""
    mk, n = A.shape
    P = sp.csr_matrix(abs(A).astype(bool).astype(float))
    graph = sp.bmat([[coupling, P.T], [P, sp.csr_matrix((mk, mk))]], format="csr")
    _, labels = connected_components(graph, directed=False)
    var_lab, row_lab = labels[:n], labels[n:]
    has_rows = np.zeros(int(labels.max(initial=0)) + 1, dtype=bool)
    has_rows[row_lab[~empty]] = True
    size = np.bincount(var_lab, minlength=has_rows.size)
    in_block = has_rows[var_lab] | (size[var_lab] > 1)
    comps = np.unique(var_lab[in_block])
    nb = min(comps.size, max_blocks)
    group = np.full(has_rows.size, -1)
    order = comps[np.argsort(-size[comps], kind="stable")]  # largest first, round robin
    group[order] = np.arange(order.size) % max(nb, 1)
    col_group = np.where(in_block, group[var_lab], -1)
    row_group = np.where(empty, -1, group[row_lab])
    return col_group, row_group, nb
