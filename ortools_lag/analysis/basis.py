"""Simplex bases of a standard-form LP: read from HiGHS, or built from an optimal point.

The LP ``min c z  s.t.  row_lo <= A z <= row_hi,  lb <= z <= ub`` is held, as HiGHS holds it,
with one activity variable per row: ``A z - r = 0``, ``row_lo <= r <= row_hi``. A basis marks
``m`` of the ``n + m`` variables basic (the matrix ``B = [A_P, -I_Q]`` of their columns is
invertible); every other variable sits at its lower or upper bound. The basis of a point ``z``
with row multipliers ``y`` (project convention) and reduced costs ``r`` is built from
complementary slackness: entries strictly inside their bounds are basic, and the basis is
completed, by a rank-revealing QR, with at-bound entries whose dual is zero first.

>>> import numpy as np
>>> from ortools_lag import Model, solve
>>> from ortools_lag.model import to_standard_form
>>> m = Model(); x = m.var("x", 2); m.maximize(5 * x[0] + 4 * x[1])
>>> _ = m.add("m1", 6 * x[0] + 4 * x[1] <= 24); _ = m.add("m2", x[0] + 2 * x[1] <= 6)
>>> sol = solve(m, "highs"); sf = to_standard_form(m)
>>> b = basis_of_solution(m, sf, sol)
>>> b.col_basic.tolist(), b.row_basic.tolist()
([True, True], [False, False])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from ortools_lag.errors import NotSupportedError
from ortools_lag.model import Model, StandardForm

if TYPE_CHECKING:
    from ortools_lag.result import Solution

__all__ = ["Basis", "basis_from_highs", "basis_of_solution", "basis_to_highs", "point_of"]

#: Largest ``m * (n + m)`` for which a basis is built from a point (the completion is dense).
DENSE_LIMIT = 4e7


@dataclass(frozen=True)
class Basis:
    """Which columns and rows are basic, and which bound each nonbasic one sits at.

    Attributes
    ----------
    col_basic, row_basic
        Boolean masks over the ``n`` columns and the ``m`` rows.
    col_upper, row_upper
        For nonbasic entries: True at the upper bound (fixed entries count as lower).
    """

    col_basic: np.ndarray
    row_basic: np.ndarray
    col_upper: np.ndarray
    row_upper: np.ndarray

    @property
    def size(self) -> int:
        """Number of basic variables (``m`` for a valid basis)."""
        return int(self.col_basic.sum() + self.row_basic.sum())

    def matrix(self, A: sp.csr_matrix) -> sp.csc_matrix:
        """``B = [A_P, -I_Q]``: the columns of the basic variables, columns first."""
        m = A.shape[0]
        eye = -sp.identity(m, format="csc")[:, np.flatnonzero(self.row_basic)]
        return sp.hstack([A.tocsc()[:, np.flatnonzero(self.col_basic)], eye], format="csc")


def point_of(model: Model, sf: StandardForm, sol: Solution) -> tuple[np.ndarray, ...]:
    """``(z, y, r)``: the point, signed row multipliers and reduced costs of ``sol``, flat."""
    if not sol.x or not sol.multipliers:
        raise NotSupportedError(
            f"the solution (status {sol.status.value}) has no point with multipliers: ranging "
            "needs an optimal LP solution"
        )
    z = model.join(dict(sol.x))
    y = sf.pack_rows(dict(sol.multipliers))
    r = model.join(dict(sol.reduced_costs)) if sol.reduced_costs else sf.c - sf.A.T @ (-y)
    return z, y, r


def _tol(v: np.ndarray) -> np.ndarray:
    return 1e-7 * (1.0 + np.abs(np.where(np.isfinite(v), v, 0.0)))


def basis_of_solution(model: Model, sf: StandardForm, sol: Solution) -> Basis:
    """The basis of an optimal vertex ``sol`` (see the module docstring).

    Raises
    ------
    NotSupportedError
        When the point is not a vertex (more than ``m`` entries strictly inside their bounds,
        as an interior-point answer on a face may be), or the LP is too large for the dense
        completion.
    """
    z, y, r = point_of(model, sf, sol)
    act = sf.A @ z
    lo = np.r_[sf.lb, sf.row_lo]
    hi = np.r_[sf.ub, sf.row_hi]
    v = np.r_[z, act]
    dual = np.abs(np.r_[r, y])
    at_lo = np.abs(v - lo) <= _tol(lo)
    at_hi = np.abs(v - hi) <= _tol(hi)
    inside = ~(at_lo | at_hi)
    n, m = sf.n, sf.m
    if int(inside.sum()) > m:
        raise NotSupportedError(
            f"the point has {int(inside.sum())} entries strictly inside their bounds and the LP "
            f"has {m} rows: it is not a vertex, so it has no basis to range (solve with 'highs', "
            "whose simplex ends at a vertex)"
        )
    if m * (n + m) > DENSE_LIMIT:
        raise NotSupportedError(
            f"building a basis for {m} rows and {n} columns is dense work beyond the limit "
            f"(ortools_lag.analysis.basis.DENSE_LIMIT = {DENSE_LIMIT:g}): solve with 'highs'"
        )
    full = sp.hstack([sf.A, -sp.identity(m, format="csr")], format="csc")
    basic = inside.copy()
    need = m - int(basic.sum())
    fixed = lo == hi
    zero = dual <= 1e-7 * (1.0 + dual.max(initial=0.0))
    for tier in (zero & ~fixed & ~basic, ~zero & ~fixed & ~basic, fixed & ~basic):
        if need == 0:
            break
        cand = np.flatnonzero(tier)
        if cand.size == 0:
            continue
        chosen = _independent(full, np.flatnonzero(basic), cand, need)
        basic[chosen] = True
        need -= chosen.size
    if need:
        raise NotSupportedError("the constraint matrix has no basis (rank below the rows)")
    upper = ~basic & at_hi & ~at_lo
    return Basis(basic[:n], basic[n:], upper[:n], upper[n:])


def _independent(full: sp.csc_matrix, keep: np.ndarray, cand: np.ndarray, k: int) -> np.ndarray:
    """Up to ``k`` columns of ``cand`` independent of ``keep`` and of each other."""
    C = full[:, cand].toarray()
    if keep.size:
        Q, _ = la.qr(full[:, keep].toarray(), mode="economic")
        C = C - Q @ (Q.T @ C)
    _, R, piv = la.qr(C, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    rank = int((diag > 1e-9 * max(1.0, diag.max(initial=0.0))).sum())
    return cand[piv[: min(k, rank)]]


def basis_to_highs(basis: Basis) -> Any:
    """A ``highspy.HighsBasis`` from :class:`Basis`."""
    import highspy

    S = highspy.HighsBasisStatus
    kinds = np.array([S.kLower, S.kBasic, S.kUpper], dtype=object)
    hb = highspy.HighsBasis()
    hb.col_status = list(kinds[np.where(basis.col_basic, 1, np.where(basis.col_upper, 2, 0))])
    hb.row_status = list(kinds[np.where(basis.row_basic, 1, np.where(basis.row_upper, 2, 0))])
    hb.valid = True
    return hb


def basis_from_highs(hb: Any) -> Basis:
    """:class:`Basis` from a ``highspy.HighsBasis`` (``kZero``, a free nonbasic, as lower)."""
    col = np.array([int(s) for s in hb.col_status])
    row = np.array([int(s) for s in hb.row_status])
    return Basis(col == 1, row == 1, col == 2, row == 2)
