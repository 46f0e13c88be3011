"""The block task of a decomposed Lagrangian: a block's data, its HiGHS model and its solve.

Each :class:`BlockSpec` (columns, kept rows, bounds, integrality, optional Hessian) is built
into a ``highspy`` model once per process and cached under its key; later calls only change its
costs (and its Hessian when the relaxed rows are quadratic) and re-run it, so an LP block is
warm-started from its previous basis. A MIP block is cleared before each run so that its answer
depends on its costs only (the same answer on every executor of :mod:`ortools_lag.parallel`).
In a worker process HiGHS is pinned to one thread per block.

>>> import scipy.sparse as sp
>>> spec = BlockSpec(key=("doc", 0), cols=np.arange(2), A=sp.csc_matrix(np.ones((1, 2))),
...     row_lo=np.array([-np.inf]), row_hi=np.array([1.0]), lb=np.zeros(2), ub=np.ones(2),
...     integrality=np.zeros(2, bool), Q=None)
>>> r = solve_blocks(([spec], [np.array([-1.0, -2.0])], [None]))[0]
>>> r.status, r.x.tolist(), r.value
('optimal', [0.0, 1.0], -2.0)
>>> release_blocks("doc")
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["BlockResult", "BlockSpec", "release_blocks", "solve_blocks"]

log = logging.getLogger(__name__)


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
#: set in worker processes before their first HiGHS model (HiGHS fixes its thread pool then)
_ONE_THREAD = [False]


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
    if _ONE_THREAD[0]:  # a worker process: one thread per block, the executor gives parallelism
        h.setOptionValue("threads", 1)
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


def _solve_chunk(task: tuple[Sequence[BlockSpec], Sequence[Any]]) -> list[BlockResult]:
    specs, costs = task
    return [_solve_one(s, c, H) for s, (c, H) in zip(specs, costs)]


def _solve_resident_chunk(specs: Sequence[BlockSpec], costs: Sequence[Any]) -> list[BlockResult]:
    with _LOCK:
        _ONE_THREAD[0] = _ONE_THREAD[0] or not _CACHE  # a Dask worker's first block
    return _solve_chunk((specs, costs))
