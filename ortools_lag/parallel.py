"""Executors for the blocks of a Lagrangian relaxation, and the block task they run.

A decomposable relaxation (one subproblem per agent, facility, scenario...) evaluates its
independent blocks through an executor: serially (the default), in threads or processes on one
machine, or on a Dask distributed cluster. The code is the same whichever executor; only where
the blocks run changes, and the results do not.

Every executor has ``map(fn, items) -> list`` (results in the order of ``items``) and
``close()``. :func:`make_executor` turns an option value into one: ``None``/``"serial"``,
``"threads"``, ``"processes"``, ``"dask"`` (a ``LocalCluster`` of its own, or the cluster at
``scheduler``), a ``dask.distributed.Client``, a scheduler address ``"tcp://host:port"``, or an
executor instance (kept open: the caller closes it).

:func:`decompose` cuts the kept-constraint problem of a Lagrangian into the connected components
of its variable-constraint graph; :func:`run_blocks` solves them through an executor, one task
per worker. The block task is :func:`solve_blocks`: each :class:`BlockSpec` (columns, kept rows,
bounds, integrality, optional Hessian) is built into a ``highspy`` model once per process and cached
under its key; later calls only change its costs (and its Hessian when the relaxed rows are
quadratic) and re-run it, so an LP block is warm-started from its previous basis. A MIP block is
cleared before each run so that its answer depends on its costs only (the same answer on every
executor).

>>> ex, owned = make_executor("threads", workers=2)
>>> ex.map(abs, [-1, 2, -3]), owned
([1, 2, 3], True)
>>> ex.close()
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

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
    """Runs a function over items and returns the results in order (serially here)."""

    name = "serial"
    workers = 1

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """``[fn(item) for item in items]``, wherever the executor runs them."""
        return [fn(item) for item in items]

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


class ProcessExecutor(Executor):
    """A process pool. ``context`` is a multiprocessing start method; the default ``"spawn"``
    never forks a parent whose HiGHS threads are running."""

    name = "processes"

    def __init__(self, workers: int | None = None, context: str = "spawn") -> None:
        import multiprocessing

        self.workers = int(workers or os.cpu_count() or 1)
        ctx = multiprocessing.get_context(context)
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        return list(self._pool.map(fn, items))

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class DaskExecutor(Executor):
    """A ``dask.distributed`` cluster: a ``Client`` given, or one made for ``address``, or a
    ``LocalCluster`` of ``workers`` single-threaded processes started here."""

    name = "dask"

    def __init__(
        self, client: Any = None, address: str | None = None, workers: int | None = None
    ) -> None:
        from dask.distributed import Client, LocalCluster

        self._owned: list[Any] = []
        if client is None:
            if address is None:
                n = int(workers or os.cpu_count() or 1)
                cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True)
                self._owned.append(cluster)
                client = Client(cluster)
            else:
                client = Client(address)
            self._owned.insert(0, client)
        self.client = client
        self.workers = max(1, len(client.scheduler_info().get("workers", {})))

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        futures = self.client.map(fn, list(items), pure=False)
        return list(self.client.gather(futures))

    def close(self) -> None:
        for obj in self._owned:
            obj.close()
        self._owned = []


def make_executor(
    spec: Any = None, workers: int | None = None, scheduler: str | None = None
) -> tuple[Executor, bool]:
    """An executor for an option value, and whether the caller owns it (must close it).

    Raises
    ------
    ModelError
        For an unknown name (the valid choices are listed).
    """
    if isinstance(spec, Executor):
        return spec, False
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
        "a dask.distributed.Client or a scheduler address 'tcp://host:port')"
    )


# -- the block task --------------------------------------------------------------------------
@dataclass(frozen=True)
class BlockSpec:
    """One independent block of the kept-constraint problem (arrays local to the block).

    Attributes
    ----------
    key
        Unique key of the block (the Lagrangian's token and the block's index): the cache key.
    cols
        Global column indices of the block's variables.
    A
        Kept rows restricted to the block (CSC, ``rows x len(cols)``).
    row_lo, row_hi, lb, ub, integrality
        Row and column bounds, and which columns are integer.
    Q
        The objective's Hessian on the block (``None`` if linear).
    options
        HiGHS options set on the block's model.
    """

    key: tuple[str, int]
    cols: np.ndarray
    A: sp.csc_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integrality: np.ndarray
    Q: sp.csc_matrix | None
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def is_mip(self) -> bool:
        """True when some column is integer."""
        return bool(self.integrality.any())


@dataclass(frozen=True)
class BlockResult:
    """A block's minimiser and value: ``status`` is ``"optimal"``, ``"infeasible"``,
    ``"unbounded"`` or ``"error"``; ``lower`` is a proven lower bound (a MIP's dual bound);
    ``ray`` an improving direction when unbounded; ``seconds`` the solver's time."""

    x: np.ndarray
    value: float
    lower: float
    status: str
    ray: np.ndarray | None = None
    seconds: float = 0.0


_CACHE: OrderedDict[tuple[str, int], Any] = OrderedDict()
_CACHE_LIMIT = 4096
_LOCK = threading.Lock()


def release_blocks(token: str) -> None:
    """Drop this process's cached HiGHS models of the Lagrangian ``token``."""
    with _LOCK:
        for key in [k for k in _CACHE if k[0] == token]:
            del _CACHE[key]


def _hessian_parts(Q: sp.spmatrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    L = sp.tril(Q, format="csc")
    L.sort_indices()
    return L.indptr.astype(np.int32), L.indices.astype(np.int32), L.data.astype(float)


def _build(spec: BlockSpec) -> Any:
    import highspy

    from ortools_lag.highs_model import new_highs

    h = new_highs()
    for name, value in spec.options:
        h.setOptionValue(name, value)
    n, m = len(spec.cols), spec.A.shape[0]
    A = sp.csc_matrix(spec.A)
    A.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    lp.col_cost_ = np.zeros(n)
    lp.col_lower_, lp.col_upper_ = spec.lb, spec.ub
    lp.row_lower_, lp.row_upper_ = spec.row_lo, spec.row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, m
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    if spec.is_mip:
        kinds = np.array([highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger])
        lp.integrality_ = list(kinds[spec.integrality.astype(int)])
    h.passModel(lp)
    if spec.Q is not None and spec.Q.nnz:
        start, index, value = _hessian_parts(spec.Q)
        h.passHessian(n, len(value), 1, start, index, value)
    return h


def _model_for(spec: BlockSpec) -> Any:
    with _LOCK:
        h = _CACHE.get(spec.key)
        if h is not None:
            _CACHE.move_to_end(spec.key)
            return h
    h = _build(spec)
    with _LOCK:
        _CACHE[spec.key] = h
        while len(_CACHE) > _CACHE_LIMIT:
            _CACHE.popitem(last=False)
    return h


def _solve_one(spec: BlockSpec, cost: np.ndarray, hessian: sp.spmatrix | None) -> BlockResult:
    h = _model_for(spec)
    n = len(spec.cols)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(cost, dtype=float))
    if hessian is not None:
        start, index, hval = _hessian_parts(hessian)
        h.passHessian(n, len(hval), 1, start, index, hval)
    if spec.is_mip:
        h.clearSolver()
    h.run()
    status = h.getModelStatus().name
    info = h.getInfo()
    secs = float(h.getRunTime())
    if status == "kOptimal":
        sol = h.getSolution()
        x = np.asarray(sol.col_value, dtype=float)
        value = float(info.objective_function_value)
        lower: float
        if spec.is_mip:
            lower = float(info.mip_dual_bound)
        elif spec.Q is None and hessian is None and sol.dual_valid:
            lower = _dual_bound(spec, np.asarray(cost), np.asarray(sol.row_dual), value)
        else:
            lower = value
        return BlockResult(x, value, min(value, lower), "optimal", seconds=secs)
    if status == "kInfeasible":
        return BlockResult(np.zeros(n), math.inf, math.inf, "infeasible", seconds=secs)
    if status in ("kUnbounded", "kUnboundedOrInfeasible"):
        has_ray, ray = False, None
        if not spec.is_mip:
            _, has_ray, ray_arr = h.getPrimalRay()
            ray = np.asarray(ray_arr, dtype=float) if has_ray else None
        return BlockResult(np.zeros(n), -math.inf, -math.inf, "unbounded", ray=ray, seconds=secs)
    log.warning("block %s: HiGHS status %s", spec.key, status)
    return BlockResult(np.zeros(n), math.nan, -math.inf, "error", seconds=secs)


def _dual_bound(spec: BlockSpec, cost: np.ndarray, y: np.ndarray, value: float) -> float:
    """A lower bound on an LP block valid for any row duals: ``min`` over the box of
    ``(c - A^T y) x + y . r`` (``r`` the side each dual points to). HiGHS's duals make it equal
    to the optimum up to its tolerances, without trusting them."""
    r = np.where(y > 0, spec.row_lo, spec.row_hi)
    ok = np.isfinite(r)
    y, r = np.where(ok, y, 0.0), np.where(ok, r, 0.0)
    d = cost - spec.A.T @ y
    xb = np.where(d > 0, spec.lb, np.where(d < 0, spec.ub, 0.0))
    if not np.all(np.isfinite(xb)):
        return value  # a reduced cost of tolerance size on an unbounded column
    return float(d @ xb + y @ r)


def solve_blocks(
    task: tuple[Sequence[BlockSpec], Sequence[np.ndarray], Sequence[sp.spmatrix | None]],
) -> list[BlockResult]:
    """Solve a chunk of blocks at the given costs (and Hessians): the unit an executor runs.

    Parameters
    ----------
    task
        ``(specs, costs, hessians)``: one cost vector (and Hessian or ``None``) per block.

    Returns
    -------
    list of BlockResult
        In the order of ``specs``.
    """
    specs, costs, hessians = task
    return [_solve_one(s, c, H) for s, c, H in zip(specs, costs, hessians)]


def run_blocks(
    executor: Executor,
    specs: Sequence[BlockSpec],
    costs: Sequence[np.ndarray],
    hessians: Sequence[sp.spmatrix | None],
) -> list[BlockResult]:
    """Solve every block at its costs through ``executor``: one task per worker (round robin
    over the blocks, which :func:`decompose` orders by size), results in the blocks' order."""
    k = max(1, min(len(specs), executor.workers))
    chunks = [list(range(i, len(specs), k)) for i in range(k)]
    tasks = [
        ([specs[i] for i in c], [costs[i] for i in c], [hessians[i] for i in c]) for c in chunks
    ]
    out: list[Any] = [None] * len(specs)
    for c, res in zip(chunks, executor.map(solve_blocks, tasks)):
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
