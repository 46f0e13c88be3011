"""Crossover from a PDHG point to a vertex: HiGHS's simplex warm-started from ``(x, y)``.

A first-order method ends near, not at, a vertex. For an exact basic solution the standard form
goes to HiGHS with a starting basis read off the PDHG point: a column sits at the bound it is
within ``tol`` (relative) of, and a row at the side whose multiplier is nonzero and whose
activity is within ``tol`` of it; every other column and row is basic. That guess rarely has
exactly one basic variable per row, so it goes in as an *alien* basis, which HiGHS completes
(or trims) to a nonsingular one before its simplex cleans up from there. The multipliers come
back in the project convention (``y = −row_dual``).

>>> import numpy as np
>>> from ortools_lag import Model
>>> from ortools_lag.model import to_standard_form
>>> m = Model(); x = m.var("x", 2); m.minimize(x[0] + 2 * x[1]); _ = m.add("c", x.sum() >= 1)
>>> out = crossover(to_standard_form(m), np.array([0.9999, 0.0001]), np.array([-0.9999]))
>>> out.status, out.x.round(12).tolist(), out.y.round(12).tolist()
('Optimal', [1.0, 0.0], [-1.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ortools_lag.highs_model import new_highs, pass_model
from ortools_lag.model import StandardForm

__all__ = ["CrossoverResult", "crossover", "guess_basis"]


@dataclass(frozen=True)
class CrossoverResult:
    """HiGHS's model status text, its point and signed row multipliers (``None`` when it gave
    none) and its simplex iteration count."""

    status: str
    x: np.ndarray | None
    y: np.ndarray | None
    iterations: int


def _at(v: np.ndarray, lo: np.ndarray, hi: np.ndarray, tol: float) -> tuple[Any, Any]:
    """Masks of the entries of ``v`` within ``tol (1 + |bound|)`` of their lower / upper bound."""
    with np.errstate(invalid="ignore"):
        at_lo = np.isfinite(lo) & (np.abs(v - lo) <= tol * (1.0 + np.abs(lo)))
        at_hi = np.isfinite(hi) & (np.abs(v - hi) <= tol * (1.0 + np.abs(hi)))
    return at_lo, at_hi


def guess_basis(
    sf: StandardForm, x: np.ndarray, y: np.ndarray, tol: float = 1e-6
) -> tuple[np.ndarray, np.ndarray]:
    """Column and row statuses (``0`` lower, ``1`` basic, ``2`` upper) read off ``(x, y)``.

    >>> from ortools_lag import Model
    >>> from ortools_lag.model import to_standard_form
    >>> m = Model(); x = m.var("x", 2); m.minimize(x[0] + 2 * x[1]); _ = m.add("c", x.sum() >= 1)
    >>> cols, rows = guess_basis(to_standard_form(m), np.array([1.0, 0.0]), np.array([-1.0]))
    >>> cols.tolist(), rows.tolist()
    ([1, 0], [0])
    """
    r = sf.c + sf.A.T @ y
    c_lo, c_hi = _at(x, sf.lb, sf.ub, tol)
    cols = np.ones(sf.n, dtype=np.int8)
    fixed = c_lo & c_hi
    cols[c_lo & ~c_hi] = 0
    cols[c_hi & ~c_lo] = 2
    cols[fixed] = np.where(r[fixed] < 0, 2, 0)  # fixed columns: the side of the reduced cost
    ax = sf.A @ x
    r_lo, r_hi = _at(ax, sf.row_lo, sf.row_hi, tol)
    rows = np.ones(sf.m, dtype=np.int8)
    rows[r_lo & (y < 0)] = 0
    rows[r_hi & (y > 0)] = 2
    eq = r_lo & r_hi & (y == 0)  # equality rows with a zero multiplier: nonbasic all the same
    rows[eq] = 0
    return cols, rows


def crossover(
    sf: StandardForm,
    x: np.ndarray,
    y: np.ndarray,
    *,
    time_limit: float | None = None,
    tol: float = 1e-6,
) -> CrossoverResult:
    """Simplex by HiGHS from the basis that ``(x, y)`` suggests (:func:`guess_basis`).

    Parameters
    ----------
    sf
        The LP (minimisation, no integrality).
    x, y
        The starting point and signed row multipliers (project convention).
    time_limit
        Seconds for HiGHS.
    tol
        Relative distance to a bound within which an entry counts as at that bound.

    Returns
    -------
    CrossoverResult
        HiGHS's status text (``"Optimal"`` on success), its ``x`` and ``y``.
    """
    import highspy

    h = new_highs()
    h.setOptionValue("solver", "simplex")
    if time_limit is not None:
        h.setOptionValue("time_limit", max(float(time_limit), 1e-3))
    pass_model(h, sf)
    cols, rows = guess_basis(sf, np.asarray(x, dtype=float), np.asarray(y, dtype=float), tol)
    kinds = np.array(
        [highspy.HighsBasisStatus.kLower, highspy.HighsBasisStatus.kBasic,
         highspy.HighsBasisStatus.kUpper]
    )  # fmt: skip
    basis = highspy.HighsBasis()
    basis.col_status = list(kinds[cols])
    basis.row_status = list(kinds[rows])
    basis.alien = True
    basis.valid = True
    h.setBasis(basis)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    out = h.getSolution()
    its = int(max(h.getInfo().simplex_iteration_count, 0))
    xs = np.asarray(out.col_value, dtype=float) if out.value_valid else None
    ys = -np.asarray(out.row_dual, dtype=float) if out.dual_valid else None
    return CrossoverResult(status, xs, ys, its)
