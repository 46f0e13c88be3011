"""Certificates of the answers with no optimal point: Farkas rays and unbounded directions.

A backend's ``infeasible``, ``unbounded`` or ``infeasible_or_unbounded`` is a claim;
:func:`settle` turns it into a status that its certificate backs, for LP, MILP and convex QP in
standard form (``min c z + 1/2 z Q z  s.t.  lo <= A z <= hi, lb <= z <= ub``):

- ``infeasible``: signed row multipliers ``y`` that pass ``kkt.check_farkas`` (the backend's own
  dual ray, else the multipliers of the phase-one LP ``min 1.(p + q)``,
  ``lo <= A z + p - q <= hi``);
- ``unbounded``: a feasible point ``z0`` (the phase-one point; for a MILP, an integer point
  found by ``milp`` with a zero objective) and a direction ``d`` with ``A d`` in the recession
  cone of the rows, ``d`` in that of the bounds, ``Q d = 0`` and ``c d < 0`` (integral on the
  integer columns for a MILP), so that ``f(z0 + t d) = f(z0) + t c d`` falls without bound;
- ``infeasible_or_unbounded`` with the reason when neither can be shown (a MILP whose LP
  relaxation is feasible but which has no integer point: no Farkas ray proves that);
- ``feasible`` (the phase-one point) when the claim is refuted: the model is feasible and no
  improving direction exists.

>>> from ortools_lag import Model
>>> from ortools_lag.model import to_standard_form
>>> m = Model(); x = m.var("x", 2, lb=None)
>>> m.minimize(x[0] * x[0] - x[1]); _ = m.add("c", x[0] + x[1] >= 0)
>>> d = improving_direction(to_standard_form(m))
>>> (d / abs(d).max()).round(9).tolist()  # x[1] grows, x[0] (in Q) stays put
[0.0, 1.0]
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from ortools_lag import kkt
from ortools_lag.model import Model, StandardForm
from ortools_lag.result import Status
from ortools_lag.solvers.backend import RawResult
from ortools_lag.solvers.backends.scipy_lp import (
    NO_POINT,
    farkas_certificate,
    solve_lp_arrays,
    solve_phase_one,
)
from ortools_lag.solvers.backends.scipy_options import ScipyOptions

__all__ = ["NO_POINT", "direction_defect", "feasible_point", "improving_direction", "settle"]

#: the box ``|d_j| <= _MIP_BOX`` of a MILP's integral direction (room for small integer ratios)
_MIP_BOX = 64.0


def _cone_sides(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The recession cone of ``lo <= v <= hi``: 0 where a side is finite, infinite elsewhere."""
    return np.where(np.isfinite(lo), 0.0, -np.inf), np.where(np.isfinite(hi), 0.0, np.inf)


def improving_direction(sf: StandardForm, opts: ScipyOptions | None = None) -> np.ndarray | None:
    """A direction of the recession cone with ``Q d = 0`` and ``c d < 0``, or ``None``.

    It minimises ``c d`` over that cone cut by a box (``|d| <= 1``; for a MILP, integer columns
    integral and the box ``|d| <= 64``): an LP, or a small MILP by ``scipy.optimize.milp``.
    """
    opts = opts or ScipyOptions()
    lo, hi = _cone_sides(sf.row_lo, sf.row_hi)
    box = _MIP_BOX if sf.is_mip else 1.0
    lb = np.where(np.isfinite(sf.lb), 0.0, -box)
    ub = np.where(np.isfinite(sf.ub), 0.0, box)
    A = sf.A
    if sf.Q is not None and sf.Q.nnz:
        Q = sp.csr_matrix(sf.Q)
        keep = np.flatnonzero(np.diff(Q.indptr))
        A = sp.vstack([A, Q[keep]], format="csr")
        lo, hi = (
            np.concatenate([lo, np.zeros(keep.size)]),
            np.concatenate([hi, np.zeros(keep.size)]),
        )
    cscale = 1.0 + float(np.abs(sf.c).max(initial=0.0))
    if sf.is_mip:
        from scipy.optimize import Bounds, LinearConstraint, milp

        cons = [LinearConstraint(A, lo, hi)] if A.shape[0] else []
        res = milp(sf.c, integrality=sf.integrality.astype(int), bounds=Bounds(lb, ub),
                   constraints=cons)  # fmt: skip
        if res.x is None or res.fun >= -1e-9 * cscale:
            return None
        d = np.asarray(res.x, dtype=float)
        d[sf.integrality] = np.round(d[sf.integrality])
        if np.array_equal(d, np.round(d)):  # the shortest integer step along d
            d /= max(int(np.gcd.reduce(np.abs(d).astype(np.int64))), 1)
        return d
    res, _ = solve_lp_arrays(sf.c, A, lo, hi, lb, ub, opts)
    if res.status != 0 or res.fun >= -1e-9 * cscale:
        return None
    return np.asarray(res.x, dtype=float)


def direction_defect(sf: StandardForm, d: np.ndarray, tol: float = 1e-7) -> str | None:
    """Why ``d`` does not prove ``sf`` unbounded from a feasible point (``None``: it does).

    Checked here on top of ``kkt.check_ray`` (cone and slope): ``Q d = 0`` relative to
    ``||Q|| ||d||`` and, for a MILP, integer steps on the integer columns.
    """
    dn = float(np.abs(d).max(initial=0.0))
    if not dn > 0 or not math.isfinite(dn):
        return "the direction is zero or not finite"
    if sf.Q is not None and sf.Q.nnz:
        qd = float(np.abs(sf.Q @ d).max(initial=0.0))
        qn = float(abs(sf.Q).max())
        if qd > tol * qn * dn:
            return f"the objective curves along the direction (|Q d| = {qd:.3g})"
    ints = sf.integrality
    if ints.any() and float(np.abs(d[ints] - np.round(d[ints])).max()) > 1e-9:
        return "the direction is not integral on the integer columns"
    return None


def feasible_point(
    sf: StandardForm, opts: ScipyOptions | None = None
) -> tuple[np.ndarray | None, str]:
    """A point of ``sf``'s feasible set (integral for a MILP), or ``None`` and why not."""
    opts = opts or ScipyOptions()
    if sf.is_mip:
        from scipy.optimize import Bounds, LinearConstraint, milp

        cons = [LinearConstraint(sf.A, sf.row_lo, sf.row_hi)] if sf.m else []
        res = milp(np.zeros(sf.n), integrality=sf.integrality.astype(int),
                   bounds=Bounds(sf.lb, sf.ub), constraints=cons)  # fmt: skip
        if res.x is None:
            return None, f"no integer point was found ({res.message})"
        return np.asarray(res.x, dtype=float), ""
    res, _ = solve_phase_one(sf, opts)
    if res.status != 0 or res.x is None:
        return None, f"the phase-one LP did not solve ({res.message})"
    return np.asarray(res.x[: sf.n], dtype=float), ""


def _with(raw: RawResult, status: Status, why: str) -> RawResult:
    raw.status = status
    raw.message = f"{raw.message}; {why}" if raw.message else why
    return raw


def settle(model: Model, sf: StandardForm, raw: RawResult, tol: float = 1e-6) -> RawResult:
    """The status ``raw``'s claim of no optimal point is allowed, with its certificate.

    ``raw.farkas`` and ``raw.ray`` (the backend's own rays, if any) are tried first; the
    certificates are then computed. ``tol`` is the feasibility tolerance of the point.
    """
    claim = raw.status.value
    lp = replace(sf, integrality=np.zeros(sf.n, dtype=bool), Q=None)
    for y in (raw.farkas, "compute"):
        if isinstance(y, str):
            y = farkas_certificate(lp)
        if y is not None and kkt.check_farkas(model, sf.unpack_rows(y)).certified:
            raw.farkas, raw.ray = y, None
            raw.status = Status.INFEASIBLE
            return raw
    raw.farkas = None
    z0, why = feasible_point(sf)
    if z0 is None:
        if sf.is_mip:
            why = (
                f"the LP relaxation is feasible, so no Farkas ray exists, and {why}: "
                "infeasible by integrality or unbounded, with no certificate of either"
            )
        return _with(raw, Status.INFEASIBLE_OR_UNBOUNDED, f"backend said {claim}; {why}")
    rep = kkt.certify_feasible(model, z0, tol=tol, gap_tol=math.inf, kind="feasibility")
    if not rep.primal_residual <= tol or rep.integrality > tol:
        why = f"the phase-one point is not feasible within {tol:g}: {'; '.join(rep.notes)}"
        return _with(raw, Status.INFEASIBLE_OR_UNBOUNDED, f"backend said {claim}; {why}")
    for d in (raw.ray, "compute"):
        if isinstance(d, str):
            d = improving_direction(sf)
        if d is None or direction_defect(sf, d) is not None:
            continue
        if kkt.check_ray(model, d).certified:
            raw.ray, raw.status = d, Status.UNBOUNDED
            raw.info = {**raw.info, "feasible_point": sf.unpack_x(z0)}
            return raw
    raw.ray, raw.x, raw.y, raw.bound = None, z0, None, math.nan
    why = (f"backend said {claim}, but the model has a feasible point and no improving direction "
           "(Q d = 0, c d < 0) of its recession cone: returning that point")  # fmt: skip
    return _with(raw, Status.FEASIBLE, why)
