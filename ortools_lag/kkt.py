"""KKT residuals and certificates of any point and multipliers against a :class:`Model`.

Nothing here takes a solver's word: residuals are computed from the model's own expressions.

Convention (the README's sign convention): for a minimisation ``L = f + sum(lam_g . c_g)`` with
``c_g <= 0`` for inequality groups (``lam >= 0``) and ``c_g == 0`` for equalities (free). A
maximisation is the minimisation of ``-f``. Internally each group row has a signed multiplier ``y =
sign_g * lam`` (positive when the upper side binds) and the reduced costs are ``r = grad f + J^T
y``: the bound multipliers, ``r_j >= 0`` where ``z_j`` sits at its lower bound and ``<= 0`` at its
upper bound.

Relative residuals, each row and column judged on its own scale (as HiGHS does):
``primal = max_i viol_i / (1 + |b_i|)`` over the rows (``b_i`` the violated side's bound, without
the body's constant) and the variable bounds,
``stationarity = max_j |r_j| / (1 + |grad_j f|)`` over the reduced costs that no finite bound
absorbs (``r_j > 0`` with no lower bound, ``r_j < 0`` with no upper bound),
``complementarity = max |multiplier * slack| / (1 + |f|)``,
``duality_gap = |f - dual| / (1 + |f|)``, with ``dual`` the Lagrangian value of the multipliers
(the reduced costs absorbed by the finite bounds, ``min`` over the box). A relative residual over
the whole right-hand side's norm would let a row with a small bound be violated by a large amount
when another row's bound is large (Netlib ganges: one row off by 0.64, the objective 1.8 % off).

>>> from ortools_lag import Model
>>> m = Model(); x = m.var("x", 2, lb=None)
>>> m.minimize((x * x).sum()); _ = m.add("sum", x.sum() == 1)
>>> rep = certify(m, {"x": [0.5, 0.5]}, {"sum": -1.0})
>>> rep.certified, round(rep.stationarity, 12)
(True, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.model import Model
from ortools_lag.result import KKTReport
from ortools_lag.sparse_kernels import matvec_add

__all__ = [
    "Evaluation",
    "certify",
    "certify_feasible",
    "certify_with_reduced_costs",
    "check_farkas",
    "check_ray",
    "evaluate",
    "finite_max",
    "shadow_prices",
]


def finite_max(*arrays: np.ndarray) -> float:
    """``max |a|`` over the finite entries of all ``arrays`` (0 when there are none).

    >>> finite_max(np.array([1.0, -np.inf]), np.array([-3.0]))
    3.0
    """
    return max((_finite_norm(a, np.isfinite(a)) for a in arrays), default=0.0)


def _inf_norm(a: np.ndarray) -> float:
    """``max |a|`` (``nan`` if ``a`` has one) by two reductions, without an ``|a|`` copy."""
    return float(np.maximum(abs(a.max()), abs(a.min()))) if a.size else 0.0


@dataclass(frozen=True)
class Evaluation:
    """Model quantities at one point, in the minimisation sense."""

    z: np.ndarray
    f: float  # user-sense objective
    grad: np.ndarray  # gradient of the minimisation objective (read only)
    values: np.ndarray  # all group rows, in group order
    jac: sp.spmatrix  # Jacobian of all rows (CSR, or one group's CSC)
    lo: np.ndarray
    hi: np.ndarray
    signs: np.ndarray  # per row: +1 or -1 (">=" groups)
    rhs_scale: float
    slices: dict[str, slice]
    lo_scale: np.ndarray | None = None  # per row: 1 + |lower bound without the constant|
    hi_scale: np.ndarray | None = None  # per row: 1 + |upper bound without the constant|


def _dense_row(J: Any) -> np.ndarray:
    """The one row of the sparse ``1 x n`` matrix ``J`` as a dense, read-only vector (it may
    be ``J``'s own storage)."""
    J = sp.csr_matrix(J)
    if J.nnz == J.shape[1] and J.has_canonical_format:  # every entry stored, in order
        row = np.asarray(J.data, dtype=float).view()
    else:
        row = np.asarray(J.toarray(), dtype=float).ravel()
    row.flags.writeable = False
    return row


def evaluate(model: Model, z: np.ndarray) -> Evaluation:
    """Evaluate objective, gradient, group values and Jacobian at the global vector ``z``."""
    n = model.n
    s = model.sense_sign
    f = model.objective_value(z)
    grad = _dense_row(model.objective.jacobian(z, n))
    if s != 1:
        grad = -grad
    vals, jacs, los, his, signs, rhs, slices = [], [], [], [], [], [], {}
    lo_sc, hi_sc = [], []
    start = 0
    for name, g in model.groups.items():
        vals.append(g.body.value(z))
        jacs.append(g.body.jacobian(z, n))
        los.append(g.lo)
        his.append(g.hi)
        signs.append(np.full(g.size, g.sign))
        lo0, hi0 = g.bounds_without_constant()
        rhs.append(finite_max(lo0, hi0))
        lo_sc.append(1.0 + np.abs(np.broadcast_to(lo0, (g.size,))))
        hi_sc.append(1.0 + np.abs(np.broadcast_to(hi0, (g.size,))))
        slices[name] = slice(start, start + g.size)
        start += g.size

    def cat(parts: list[np.ndarray]) -> np.ndarray:  # one group: its arrays, read only here
        return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0)

    if len(jacs) == 1:  # kept as it is (an incidence matrix stays CSC)
        jac = jacs[0]
    else:
        jac = sp.vstack(jacs, format="csr") if jacs else sp.csr_matrix((0, n))
    return Evaluation(
        z=z,
        f=f,
        grad=grad,
        values=cat(vals),
        jac=jac,
        lo=cat(los),
        hi=cat(his),
        signs=cat(signs),
        rhs_scale=1.0 + max(rhs, default=0.0),
        slices=slices,
        lo_scale=cat(lo_sc),
        hi_scale=cat(hi_sc),
    )


def _as_vector(model: Model, x: Mapping[str, Any] | np.ndarray) -> np.ndarray:
    if isinstance(x, np.ndarray) and x.ndim == 1 and x.shape[0] == model.n:
        return np.asarray(x, dtype=float)  # read only here: no copy
    return model.join(dict(x))  # type: ignore[arg-type]


def _signed_rows(model: Model, ev: Evaluation, lam: Mapping[str, Any] | None) -> np.ndarray:
    y = np.zeros(ev.values.shape[0])
    for name, sl in ev.slices.items():
        if lam is not None and name in lam and lam[name] is not None:
            y[sl] = np.asarray(lam[name], dtype=float).ravel()
    return y * ev.signs


@dataclass(frozen=True)
class _Side:
    """One side of the variable box: the bounds, where they are finite, and the summaries the
    checks branch on (computed once; a scalar bound broadcast to every entry costs O(1))."""

    bound: np.ndarray
    finite: np.ndarray
    all_finite: bool
    any_finite: bool
    uniform: float | None  # the common value of a broadcast scalar bound

    @classmethod
    def of(cls, bound: np.ndarray) -> _Side:
        uniform = _uniform(bound)
        if uniform is not None:
            fin = math.isfinite(uniform)
            return cls(
                bound, np.broadcast_to(fin, bound.shape), fin, fin and bound.size > 0, uniform
            )
        finite = np.isfinite(bound)
        return cls(bound, finite, bool(finite.all()), bool(finite.any()), None)

    def norm(self) -> float:
        """``max |finite bound|`` (0 when none)."""
        if self.uniform is not None:
            return abs(self.uniform) if self.any_finite else 0.0
        return _finite_norm(self.bound, self.finite)


def _uniform(a: np.ndarray) -> float | None:
    """The value of an array that broadcasts one scalar (all strides 0), else ``None``."""
    if a.size and a.ndim == 1 and a.strides == (0,):
        return float(a[0])
    return None


@dataclass(frozen=True)
class _Box:
    """The variable bounds, their finiteness and the integrality mask, computed once per check."""

    lo: _Side
    hi: _Side
    integer: np.ndarray
    any_integer: bool

    @classmethod
    def of(cls, model: Model) -> _Box:
        if len(model.variables) == 1:  # one block: its own arrays, read only here
            (v,) = model.variables.values()
            lb, ub, ints = v.lb.reshape(-1), v.ub.reshape(-1), v.integer_mask.reshape(-1)
        else:
            lb, ub, ints = model.lower_bounds(), model.upper_bounds(), model.integrality()
        flag = _uniform(ints)
        any_int = bool(flag) if flag is not None else bool(ints.any())
        return cls(_Side.of(lb), _Side.of(ub), ints, any_int)

    def violation(self, z: np.ndarray) -> float:
        """``max(0, (lb - z) / (1 + |lb|), (z - ub) / (1 + |ub|))`` over all entries, each bound
        on its own scale (``nan`` if ``z`` has one)."""
        worst, checked = 0.0, False
        for side, lower in ((self.lo, True), (self.hi, False)):
            if not side.any_finite:
                continue
            if side.uniform is not None:  # lb - min z or max z - ub: no copy
                top = side.uniform - z.min() if lower else z.max() - side.uniform
                top = top / (1.0 + abs(side.uniform))
            else:  # max(lb - z) or max(z - ub); np.maximum keeps a nan of z
                with np.errstate(invalid="ignore"):
                    gap = np.subtract(side.bound, z) if lower else np.subtract(z, side.bound)
                    gap /= 1.0 + np.abs(side.bound)  # -inf / inf: nan where no bound
                gap = np.where(side.finite, gap, 0.0) if not side.all_finite else gap
                top = np.max(gap, initial=0.0)
            worst, checked = float(np.maximum(worst, top)), True
        if not checked and np.isnan(z).any():
            return math.nan
        return worst


def _finite_norm(a: np.ndarray, finite: np.ndarray) -> float:
    """``max |a|`` over the entries where ``finite`` holds (0 when none)."""
    if finite.all():
        return _inf_norm(a)
    return float(np.max(np.abs(a), where=finite, initial=0.0)) if finite.any() else 0.0


def _row_violation(ev: Evaluation) -> np.ndarray:
    """Per row ``max(0, (lo - v) / (1 + |lo|), (v - hi) / (1 + |hi|))`` (bounds without the
    body's constant in the scales)."""
    lo_s = ev.lo_scale if ev.lo_scale is not None else ev.rhs_scale
    hi_s = ev.hi_scale if ev.hi_scale is not None else ev.rhs_scale
    with np.errstate(invalid="ignore"):  # an infinite bound's side is 0 (or -inf) / inf
        below = np.where(np.isfinite(ev.lo), (ev.lo - ev.values) / lo_s, 0.0)
        above = np.where(np.isfinite(ev.hi), (ev.values - ev.hi) / hi_s, 0.0)
    return np.maximum(np.maximum(below, above), 0.0)


def _primal(model: Model, ev: Evaluation, box: _Box) -> tuple[float, float]:
    viol = max(_inf_norm(_row_violation(ev)), box.violation(ev.z))
    integ = 0.0
    if box.any_integer:
        zi = ev.z[box.integer]
        integ = _inf_norm(zi - np.round(zi))
    return viol, integ


def certify(
    model: Model,
    x: Mapping[str, Any] | np.ndarray,
    multipliers: Mapping[str, Any] | None,
    *,
    tol: float = 1e-6,
) -> KKTReport:
    """Certify a point and its multipliers: primal feasibility, signs, stationarity,
    complementarity and the duality gap (``kind="kkt"``).

    Returns
    -------
    KKTReport
        With ``certified`` true when every residual is within ``tol``.
    """
    return certify_with_reduced_costs(model, x, multipliers, tol=tol)[0]


def _bounded_part(mult: np.ndarray, diff: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """``mult * diff`` where ``bound`` is finite, 0 elsewhere (no inf * 0)."""
    return mult * np.where(np.isfinite(bound), diff, 0.0)


def _columns(
    r: np.ndarray, z: np.ndarray, box: _Box, r_min: float, r_max: float
) -> tuple[np.ndarray | None, np.ndarray]:
    """Reduced costs against the bounds: the entries with no bound to hold them (``r > 0`` at
    a missing lower bound, ``r < 0`` at a missing upper one; ``None`` if there are none) and the
    bound multipliers' terms ``r+ (lb - z) + r- (z - ub)`` on the finite sides.

    ``r_min`` and ``r_max`` (``r``'s extremes) let one-signed or all-finite cases skip masks."""
    bad: np.ndarray | None = None
    parts = []
    with np.errstate(invalid="ignore"):
        for side, lower in ((box.lo, True), (box.hi, False)):
            if not (r_max > 0 if lower else r_min < 0):  # no reduced cost of this side's sign
                continue
            if side.all_finite:  # r+ (lb - z) or r- (ub - z): no infinite bound, no mask
                term = np.subtract(side.bound, z)
                one_signed = r_min >= 0 if lower else r_max <= 0
                term *= r if one_signed else (np.maximum if lower else np.minimum)(r, 0.0)
                parts.append(term)
                continue
            sign = r > 0 if lower else r < 0
            missing = sign if not side.any_finite else sign & ~side.finite  # nothing to hold r
            bad = missing if bad is None else bad | missing
            if side.any_finite:
                parts.append(np.where(sign & side.finite, r * (side.bound - z), 0.0))
    terms = parts[0] + parts[1] if len(parts) == 2 else parts[0] if parts else np.zeros_like(r)
    return (bad if bad is not None and bad.any() else None), terms


def certify_with_reduced_costs(
    model: Model,
    x: Mapping[str, Any] | np.ndarray,
    multipliers: Mapping[str, Any] | None,
    *,
    tol: float = 1e-6,
) -> tuple[KKTReport, np.ndarray]:
    """:func:`certify`, also returning the reduced costs ``r = grad f + J^T y`` it computed
    (global vector, minimisation sense), so callers need not form ``J^T y`` again."""
    z = _as_vector(model, x)
    ev = evaluate(model, z)
    y = _signed_rows(model, ev, multipliers)
    box = _Box.of(model)
    primal, integ = _primal(model, ev, box)
    cscale = 1.0 + _inf_norm(ev.grad)
    r = matvec_add(ev.jac.T, y, np.array(ev.grad, dtype=float))  # grad f + J^T y, one pass
    # multipliers on missing sides (wrong sign) and reduced costs on missing bounds
    bad_rows = np.where(y > 0, ~np.isfinite(ev.hi), False) | np.where(
        y < 0, ~np.isfinite(ev.lo), False
    )
    sign_v = _inf_norm(y[bad_rows]) / cscale
    r_min, r_max = (float(r.min()), float(r.max())) if r.size else (0.0, 0.0)
    r_bad, col_terms = _columns(r, z, box, r_min, r_max)
    stat = 0.0 if r_bad is None else _inf_norm(r[r_bad] / (1.0 + np.abs(ev.grad[r_bad])))
    if not (math.isfinite(r_min) and math.isfinite(r_max)):  # nan multipliers certify nothing
        stat = math.nan
    y_ok = np.where(bad_rows, 0.0, y)
    yp, ym = np.maximum(y_ok, 0), np.maximum(-y_ok, 0)
    with np.errstate(invalid="ignore"):
        row_terms = _bounded_part(yp, ev.values - ev.hi, ev.hi) + _bounded_part(
            ym, ev.lo - ev.values, ev.lo
        )
    fscale = 1.0 + abs(ev.f)
    comp = max(_inf_norm(row_terms), _inf_norm(col_terms)) / fscale
    f_min = model.sense_sign * ev.f
    lagr = f_min + float(row_terms.sum()) + float(col_terms.sum())
    if r_bad is not None and model.has_linear_constraints and model.objective.degree <= 2:
        lagr -= float(r[r_bad] @ z[r_bad])  # the z-free dual objective of an LP/QP
    dual = model.sense_sign * lagr
    gap = abs(ev.f - dual) / fscale
    notes = _notes(primal=primal, stationarity=stat, sign=sign_v, comp=comp, gap=gap, tol=tol)
    if model.is_integer and integ > tol:
        notes.append(f"integrality violation {integ:.3g}")
    report = KKTReport(
        primal_residual=primal,
        stationarity=stat,
        complementarity=comp,
        duality_gap=gap,
        sign_violation=sign_v,
        integrality=integ,
        dual_objective=dual,
        tolerance=tol,
        certified=not notes,
        kind="kkt",
        notes=tuple(notes),
    )
    return report, r


def _notes(tol: float, **residuals: float) -> list[str]:
    return [f"{k} residual {v:.3g} > {tol:g}" for k, v in residuals.items() if not v <= tol]


def certify_feasible(
    model: Model,
    x: Mapping[str, Any] | np.ndarray,
    *,
    bound: float = math.nan,
    tol: float = 1e-6,
    gap_tol: float = 1e-6,
    kind: str = "mip",
) -> KKTReport:
    """Certify a point without multipliers: feasibility, integrality and the gap to ``bound``.

    ``certified`` holds when the point is feasible and integral and the relative gap
    ``|f - bound| / max(1, |f|)`` is within ``gap_tol`` (a ``nan`` bound fails).
    """
    z = _as_vector(model, x)
    ev = evaluate(model, z)
    primal, integ = _primal(model, ev, _Box.of(model))
    gap = abs(ev.f - bound) / max(1.0, abs(ev.f)) if math.isfinite(bound) else math.nan
    wrong_side = math.isfinite(bound) and model.sense_sign * (bound - ev.f) > gap_tol * max(
        1.0, abs(ev.f)
    )
    notes = _notes(primal=primal, integrality=integ, tol=tol)
    if not gap <= gap_tol:
        notes.append(f"gap {gap:.3g} > {gap_tol:g}")
    if wrong_side:
        notes.append(f"bound {bound} is on the wrong side of the objective {ev.f}")
    return KKTReport(
        primal_residual=primal,
        integrality=integ,
        duality_gap=gap,
        dual_objective=bound,
        tolerance=tol,
        certified=not notes,
        kind=kind,
        notes=tuple(notes),
    )


def check_farkas(model: Model, multipliers: Mapping[str, Any], *, tol: float = 1e-7) -> KKTReport:
    """Check a Farkas certificate of infeasibility for a model with affine constraints.

    With signed row multipliers ``y`` and ``r = J^T y``, the value
    ``min over the box of r.z - sum(y+ . hi) + sum(y- . lo)`` must be positive (and finite):
    then every point of the box violates the combined constraint.
    """
    z0 = np.zeros(model.n)
    ev = evaluate(model, z0)
    y = _signed_rows(model, ev, multipliers)
    # bodies are affine here: value(z) = J z + const, so hi/lo relative to J z are shifted
    const = ev.values
    hi, lo = ev.hi - const, ev.lo - const
    lb, ub = model.lower_bounds(), model.upper_bounds()
    r = ev.jac.T @ y
    yp, ym = np.maximum(y, 0), np.maximum(-y, 0)
    scale = 1.0 + _inf_norm(y)
    with np.errstate(invalid="ignore"):
        box = np.where(r > 0, r * lb, np.where(r < 0, r * ub, 0.0))
        val = float(
            np.sum(box)
            - np.sum(np.where(yp > 0, yp * hi, 0.0))
            + np.sum(np.where(ym > 0, ym * lo, 0.0))
        )
    ok = math.isfinite(val) and val > tol * scale
    note = () if ok else (f"Farkas value {val:.3g} is not positive and finite",)
    return KKTReport(dual_objective=val, tolerance=tol, certified=ok, kind="farkas", notes=note)


def check_ray(
    model: Model, direction: Mapping[str, Any] | np.ndarray, *, tol: float = 1e-7
) -> KKTReport:
    """Check an unbounded direction ``d``: it improves the objective and stays feasible
    (``J d`` within the recession cone of the rows, ``d`` within that of the bounds)."""
    d = _as_vector(model, direction)
    dn = _inf_norm(d)
    if dn == 0:
        return KKTReport(certified=False, kind="ray", notes=("zero direction",), tolerance=tol)
    d = d / dn
    ev = evaluate(model, np.zeros(model.n))
    Jd = ev.jac @ d
    lb, ub = model.lower_bounds(), model.upper_bounds()
    viol = max(
        _inf_norm(np.where(np.isfinite(ev.hi), np.maximum(Jd, 0), 0.0)),
        _inf_norm(np.where(np.isfinite(ev.lo), np.maximum(-Jd, 0), 0.0)),
        _inf_norm(np.where(np.isfinite(lb), np.maximum(-d, 0), 0.0)),
        _inf_norm(np.where(np.isfinite(ub), np.maximum(d, 0), 0.0)),
    )
    slope = float(ev.grad @ d)
    ok = viol <= tol and slope < -tol
    notes = []
    if viol > tol:
        notes.append(f"direction leaves the feasible cone by {viol:.3g}")
    if slope >= -tol:
        notes.append(f"direction does not improve the objective (slope {slope:.3g})")
    return KKTReport(
        primal_residual=viol,
        dual_objective=slope,
        tolerance=tol,
        certified=ok,
        kind="ray",
        notes=tuple(notes),
    )


def shadow_prices(model: Model, multipliers: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """d objective / d rhs for each group, derived from the multipliers.

    For ``c = sign * (e - rhs) <= 0`` in a minimisation, ``d f*/d rhs = -sign * lam``; a
    maximisation flips the sign (its objective is ``-(min -f)``).
    """
    out = {}
    for name, g in model.groups.items():
        if name in multipliers and multipliers[name] is not None:
            lam = np.asarray(multipliers[name], dtype=float)
            out[name] = -model.sense_sign * g.sign * lam
    return out
