r"""The restricted master LP of Dantzig-Wolfe decomposition: one live HiGHS model, grown by columns.

For a minimisation whose kept part splits into blocks ``X_b`` (the connected components of the
kept rows) and whose relaxed rows read ``lo - e0 <= A_R x <= hi - e0``, the master is

.. math::

    \min\ \sum_{b,k} (c \cdot x_{bk})\, w_{bk} + c_F \cdot x_F + M \cdot s
    \quad\text{s.t.}\quad
    lo - e_0 \le \sum_{b,k} (A_R x_{bk})\, w_{bk} + A_F x_F + s^+ - s^- \le hi - e_0,
    \qquad \sum_k w_{bk} = 1\ (\sigma_b),\quad w \ge 0,

one column ``x_bk`` per point a pricing problem returned for block ``b``, the free variables
``x_F`` (those no kept row touches, in their box) taken as they are, and artificial columns
``s`` of cost ``M`` that keep it feasible before the first useful columns arrive. HiGHS keeps its
basis between solves: :meth:`RestrictedMaster.add_columns` appends columns (``addCols``) and
:meth:`RestrictedMaster.solve` re-runs the primal simplex from the last basis, no rebuild.

The duals are returned in the Lagrangian's ``y = sign * lam`` scale: ``y = -row_dual`` on the
relaxed rows (HiGHS's reduced cost is ``c - A^T row_dual``), ``sigma = row_dual`` on the
convexity rows, so that a column's reduced cost is ``c . x + y . (A_R x) - sigma_b``.

>>> import numpy as np, scipy.sparse as sp
>>> m = RestrictedMaster(np.array([1.0]), np.array([1.0]), 1, big_m=100.0)
>>> m.add_columns(np.array([0, 0]), np.array([3.0, 1.0]), sp.csc_matrix([[2.0, 0.0]]),
...               sp.csc_matrix([[1.0, 0.0]]))
>>> sol = m.solve()
>>> sol.status, round(sol.value, 9), sol.weights.round(9).tolist(), round(float(sol.y[0]), 9)
('optimal', 2.0, [0.5, 0.5], -1.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.highs_model import new_highs

__all__ = ["MasterSolution", "RestrictedMaster"]

#: HiGHS options of the master: simplex from the last basis, no presolve (it would discard it).
MASTER_OPTIONS: dict[str, Any] = {"presolve": "off", "solver": "simplex", "simplex_strategy": 4}

_STATUS = {"kOptimal": "optimal", "kInfeasible": "infeasible", "kUnbounded": "unbounded"}


@dataclass(frozen=True)
class MasterSolution:
    """One solve of the restricted master (minimisation sense, offset included).

    Attributes
    ----------
    status
        ``"optimal"``, ``"infeasible"``, ``"unbounded"`` or ``"error"``.
    value
        The master's objective (``nan`` unless optimal).
    y
        Duals of the relaxed rows in the Lagrangian's ``y = sign * lam`` scale.
    sigma
        Duals of the convexity rows (one per block).
    weights
        The block columns' weights (each block's sum to one).
    direct
        Values of the free variables.
    artificial
        Total value of the artificial columns (zero: the master holds without them).
    """

    status: str
    value: float
    y: np.ndarray
    sigma: np.ndarray
    weights: np.ndarray
    direct: np.ndarray
    artificial: float


class RestrictedMaster:
    """The Dantzig-Wolfe master: relaxed rows, one convexity row per block, columns added live.

    Parameters
    ----------
    row_lo, row_hi
        Bounds of the relaxed rows with their constants moved over (``lo - e0``, ``hi - e0``).
    n_blocks
        Number of blocks (convexity rows).
    big_m
        Cost of the artificial columns (one per finite side of each relaxed row).
    direct_cost, direct_lb, direct_ub, direct_A
        The free variables: costs, bounds and their coefficients in the relaxed rows.
    offset
        The objective's constant.
    options
        HiGHS options over :data:`MASTER_OPTIONS`.
    """

    def __init__(
        self,
        row_lo: np.ndarray,
        row_hi: np.ndarray,
        n_blocks: int,
        *,
        big_m: float,
        direct_cost: np.ndarray | None = None,
        direct_lb: np.ndarray | None = None,
        direct_ub: np.ndarray | None = None,
        direct_A: sp.spmatrix | None = None,
        offset: float = 0.0,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.h = new_highs()
        for key, value in {**MASTER_OPTIONS, **(options or {})}.items():
            self.h.setOptionValue(key, value)
        self.n_rows, self.n_blocks, self.offset = int(row_lo.size), int(n_blocks), float(offset)
        lower = np.r_[row_lo, np.ones(n_blocks)].astype(float)
        upper = np.r_[row_hi, np.ones(n_blocks)].astype(float)
        n_all = lower.size
        self.h.addRows(
            n_all, lower, upper, 0, np.zeros(n_all, np.int32), np.zeros(0, np.int32), np.zeros(0)
        )
        cost = np.zeros(0) if direct_cost is None else np.asarray(direct_cost, dtype=float)
        self.n_direct = cost.size
        if self.n_direct:
            assert direct_lb is not None and direct_ub is not None and direct_A is not None
            self._add(cost, direct_lb, direct_ub, sp.csc_matrix(direct_A))
        # artificials: +1 where a lower side exists (raise the row), -1 where an upper side does
        up, down = np.flatnonzero(np.isfinite(row_lo)), np.flatnonzero(np.isfinite(row_hi))
        rows = np.r_[up, down]
        art = sp.csc_matrix(
            (np.r_[np.ones(up.size), -np.ones(down.size)], (rows, np.arange(rows.size))),
            shape=(self.n_rows, rows.size),
        )
        self.art = np.arange(self.n_direct, self.n_direct + rows.size, dtype=np.int32)
        self.big_m = float(big_m)
        if rows.size:
            self._add(np.full(rows.size, self.big_m), np.zeros(rows.size), None, art)
        self.first_block_col = self.n_direct + rows.size
        self.block = np.zeros(0, dtype=np.int64)
        self.cost = np.zeros(0)
        self._parts: list[sp.csc_matrix] = []
        self._points: sp.csc_matrix | None = None
        self.last: MasterSolution | None = None

    # -- building ----------------------------------------------------------------------------
    def _add(
        self, cost: np.ndarray, lb: np.ndarray, ub: np.ndarray | None, A: sp.csc_matrix
    ) -> None:
        """Append columns with coefficients ``A`` (rows of the whole master)."""
        k = cost.size
        full = sp.csc_matrix(
            sp.vstack([A, sp.csc_matrix((self.n_rows + self.n_blocks - A.shape[0], k))])
        )
        full.sort_indices()
        upper = np.full(k, np.inf) if ub is None else np.asarray(ub, dtype=float)
        self.h.addCols(
            k,
            np.asarray(cost, dtype=float),
            np.asarray(lb, dtype=float),
            upper,
            int(full.nnz),
            full.indptr[:-1].astype(np.int32),
            full.indices.astype(np.int32),
            full.data.astype(float),
        )

    def add_columns(
        self, block: np.ndarray, cost: np.ndarray, A: sp.spmatrix, points: sp.spmatrix
    ) -> None:
        """Add one column per entry of ``block``: its cost, its relaxed-row coefficients (the
        columns of ``A``, ``rows x k``) and the block's point (the columns of ``points``,
        ``n x k``, zero outside the block)."""
        block = np.asarray(block, dtype=np.int64)
        k = block.size
        if k == 0:
            return
        conv = sp.csc_matrix((np.ones(k), (block, np.arange(k))), shape=(self.n_blocks, k))
        self._add(
            np.asarray(cost, dtype=float), np.zeros(k), None, sp.csc_matrix(sp.vstack([A, conv]))
        )
        self.block = np.r_[self.block, block]
        self.cost = np.r_[self.cost, cost]
        self._parts.append(sp.csc_matrix(points))
        self._points = None

    @property
    def n_columns(self) -> int:
        """Number of block columns (artificials and free variables not counted)."""
        return int(self.block.size)

    @property
    def points(self) -> sp.csc_matrix:
        """The block columns' points side by side (``n x n_columns``)."""
        if self._points is None:
            self._points = sp.csc_matrix(sp.hstack(self._parts)) if self._parts else None
            self._parts = [self._points] if self._points is not None else []
        assert self._points is not None
        return self._points

    def set_big_m(self, big_m: float) -> None:
        """Change the artificial columns' cost (the basis is kept)."""
        self.big_m = float(big_m)
        if self.art.size:
            self.h.changeColsCost(self.art.size, self.art, np.full(self.art.size, self.big_m))

    # -- solving -----------------------------------------------------------------------------
    def solve(self) -> MasterSolution:
        """Re-run the simplex from the last basis; the duals in the ``y`` scale."""
        self.h.run()
        status = _STATUS.get(self.h.getModelStatus().name, "error")
        R, B = self.n_rows, self.n_blocks
        if status != "optimal":
            nan = np.full(R, math.nan)
            out = MasterSolution(
                status, math.nan, nan, np.full(B, math.nan), np.zeros(self.n_columns),
                np.zeros(self.n_direct), math.nan,
            )  # fmt: skip
        else:
            sol = self.h.getSolution()
            col = np.asarray(sol.col_value, dtype=float)
            row_dual = np.asarray(sol.row_dual, dtype=float)
            value = float(self.h.getInfo().objective_function_value) + self.offset
            out = MasterSolution(
                status,
                value,
                -row_dual[:R],
                row_dual[R : R + B],
                np.maximum(col[self.first_block_col :], 0.0),
                col[: self.n_direct],
                float(col[self.art].sum()) if self.art.size else 0.0,
            )
        self.last = out
        return out

    def convex_combination(self, sol: MasterSolution, free: np.ndarray, n: int) -> np.ndarray:
        """The master's primal point ``sum_k w_k x_k`` with the free variables at their values."""
        w = np.zeros(self.n_columns)  # columns added after that solve weigh nothing
        w[: sol.weights.size] = sol.weights
        z = np.asarray(self.points @ w).ravel() if self.n_columns else np.zeros(n)
        z[free] = sol.direct
        return z

    def integer_master(
        self, integer_direct: np.ndarray, free: np.ndarray, n: int, time_limit: float
    ) -> np.ndarray | None:
        """Price-and-branch: the master over the columns generated so far as a MIP (one column
        per block, integer free variables, no artificials), on a copy of the LP.

        Returns the point it picks, or ``None`` when HiGHS finds no integer solution in time.
        """
        if not self.n_columns:
            return None
        h = new_highs()
        h.passModel(self.h.getLp())
        h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
        h.setOptionValue("mip_rel_gap", 1e-9)
        ints = np.r_[
            np.flatnonzero(integer_direct), np.arange(self.first_block_col, self.h.getNumCol())
        ].astype(np.int32)
        h.changeColsIntegrality(ints.size, ints, np.ones(ints.size, dtype=np.uint8))
        if self.art.size:
            zeros = np.zeros(self.art.size)
            h.changeColsBounds(self.art.size, self.art, zeros, zeros)
        h.run()
        if h.getModelStatus().name not in ("kOptimal", "kTimeLimit", "kInterrupt"):
            return None
        if h.getInfo().primal_solution_status != 2:  # no feasible point
            return None
        col = np.asarray(h.getSolution().col_value, dtype=float)
        w = np.round(col[self.first_block_col :])
        z = np.asarray(self.points @ w).ravel()
        z[free] = col[: self.n_direct]
        return z
