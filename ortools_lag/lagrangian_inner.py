"""Pieces of the Lagrangian's inner problem ``min_x L(x, lam)`` when no oracle is given.

:class:`~ortools_lag.lagrangian.Lagrangian` solves the variables that no kept row touches in
closed form (:func:`closed_form_box`) and the rest by HiGHS, one block per connected component
of the kept rows and Hessian couplings (:func:`kept_rows`, :func:`hessian_pattern`, then
:func:`ortools_lag.parallel.decompose`); :func:`worst_status` merges the blocks' statuses.

>>> import numpy as np
>>> x, v, status = closed_form_box(
...     np.array([1.0, -1.0, 0.0]), np.array([0.0, 0.0, 2.0]),
...     np.zeros(3), np.ones(3), np.zeros(3, dtype=bool))
>>> x.tolist(), v, status
([0.0, 1.0, 0.0], -1.0, 'optimal')
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.model import QuadExpr

if TYPE_CHECKING:
    from ortools_lag.model import Model, StandardForm

__all__ = ["BLOCK_OPTIONS", "closed_form_box", "hessian_pattern", "kept_rows", "worst_status"]

#: HiGHS options of MIP blocks: an exact optimum, and none of the start-up work (presolve,
#: heuristics, symmetry detection) that costs milliseconds on every small subproblem; the
#: ``block_options`` argument overrides them.
BLOCK_OPTIONS: dict[str, Any] = {
    "mip_rel_gap": 1e-9,
    "presolve": "off",
    "mip_heuristic_effort": 0.0,
    "mip_heuristic_run_feasibility_jump": False,
    "mip_detect_symmetry": False,
}


def worst_status(status: str, others: Iterable[str]) -> str:
    """The worst of ``status`` and the blocks' ``others`` (a block's ``"error"`` reads as
    ``"unbounded"``: no bound).

    >>> worst_status("optimal", ["optimal", "unbounded"]), worst_status("optimal", [])
    ('unbounded', 'optimal')
    """
    others = list(others)
    for s in ("infeasible", "error", "unbounded"):
        if s == status or s in others:
            return "unbounded" if s == "error" else s
    return status


def closed_form_box(
    r: np.ndarray, h: np.ndarray, lb: np.ndarray, ub: np.ndarray, integer: np.ndarray
) -> tuple[np.ndarray, float, str]:
    """Minimise ``sum r_j x_j + h_j x_j^2 / 2`` over the box, coordinate by coordinate.

    Parameters
    ----------
    r, h
        Linear costs and the Hessian's diagonal.
    lb, ub
        The box (infinite entries allowed).
    integer
        Coordinates restricted to integers (the better of the rounded stationary points).

    Returns
    -------
    x, value, status
        The minimiser (zeros where unbounded), its value (``-inf`` when unbounded) and
        ``"optimal"`` or ``"unbounded"``.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        lin = np.where(
            r > 0,
            lb,
            np.where(r < 0, ub, np.where(np.isfinite(lb), lb, np.where(np.isfinite(ub), ub, 0.0))),
        )
        stat = np.clip(-r / np.where(h > 0, h, 1.0), lb, ub)
        lo_c, hi_c = np.floor(stat), np.ceil(stat)
        lo_c, hi_c = np.clip(lo_c, lb, ub), np.clip(hi_c, lb, ub)
        pick = r * lo_c + 0.5 * h * lo_c**2 <= r * hi_c + 0.5 * h * hi_c**2
        stat = np.where(integer, np.where(pick, lo_c, hi_c), stat)
        v_lb = r * lb + 0.5 * h * lb**2
        v_ub = r * ub + 0.5 * h * ub**2
        ends = np.where(np.nan_to_num(v_lb, nan=np.inf) <= np.nan_to_num(v_ub, nan=np.inf), lb, ub)
        x = np.where(h > 0, stat, np.where(h < 0, ends, lin))
    unbounded = ~np.isfinite(x) | ((h < 0) & ~(np.isfinite(lb) & np.isfinite(ub)))
    if unbounded.any():
        return np.where(np.isfinite(x), x, 0.0), -math.inf, "unbounded"
    return x, float(r @ x + 0.5 * (h * x) @ x), "optimal"


def kept_rows(
    model: Model, sf: StandardForm | None, kept: Sequence[str]
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The kept groups' rows: matrix and bounds (constants moved to the bounds).

    Read from the standard form ``sf`` when there is one, else from the groups' Jacobians.
    """
    n = model.n
    if sf is not None:
        blocks = [sf.row_blocks[k] for k in kept]
        rows = np.concatenate([np.arange(b.start, b.stop) for b in blocks] or [np.zeros(0, int)])
        return sf.A[rows], sf.row_lo[rows], sf.row_hi[rows]
    parts = [model.groups[k] for k in kept]
    if not parts:
        return sp.csr_matrix((0, n)), np.zeros(0), np.zeros(0)
    A = sp.csr_matrix(sp.vstack([g.body.jacobian(np.zeros(n), n) for g in parts]))
    b = [g.bounds_without_constant() for g in parts]
    return A, np.concatenate([p[0] for p in b]), np.concatenate([p[1] for p in b])


def hessian_pattern(
    model: Model, Q: sp.spmatrix | None, quadratic_groups: Sequence[str]
) -> sp.csr_matrix:
    """Off-diagonal couplings of the objective's ``Q`` and the quadratic relaxed groups.

    The groups' Hessians are taken at positive random weights, so that no cancellation hides a
    coupling; only the pattern matters.
    """
    n = model.n
    H = sp.csr_matrix((n, n)) if Q is None else abs(sp.csr_matrix(Q))
    rng = np.random.default_rng(0)
    for k in quadratic_groups:
        body = model.groups[k].body
        assert isinstance(body, QuadExpr)
        H = H + abs(body.hessian(rng.uniform(1.0, 2.0, body.size), n))
    H = sp.csr_matrix(H - sp.diags(H.diagonal()))
    H.eliminate_zeros()
    return H
