r"""The KKT report of a network LP computed from the family's arrays, without its Model.

A network family's LP is ``min c.z`` over ``lb <= z <= ub`` with a few groups of linear rows
``Lo_g <= A_g z <= Hi_g`` whose products ``A_g z`` and ``A^T y`` the family forms from its own
structure (row and column sums of a table, the incidence matrix of the arcs) in a few
vectorised passes. :func:`lp_report` turns those into the same
:class:`~ortools_lag.result.KKTReport` that ``kkt.certify`` computes from the Model -- the
same residuals, each on the same scale:

- primal: ``max(0, (Lo - a) / (1 + |Lo|), (a - Hi) / (1 + |Hi|))`` over the rows and the same
  over the box;
- signs: ``|y|`` on a row side that is infinite, over ``1 + ||c||``;
- stationarity: reduced costs ``r = c + A^T y`` that no finite bound absorbs,
  ``|r_j| / (1 + |c_j|)``;
- complementarity: ``max |y+ (a - Hi)|, |y- (Lo - a)|, |r+ (lb - z)|, |r- (ub - z)|`` over
  ``1 + |f|``;
- duality gap: ``|f - dual| / (1 + |f|)`` with ``dual = f + sum(row terms) + sum(column terms)``.

``y = sign * lam`` is the signed multiplier of a row (``sign = -1`` on a ``>=`` group), as in
``kkt``. A test checks on random instances that this report and ``kkt.certify`` agree.

>>> import numpy as np
>>> rows = (LinearRows("sum", np.array([1.0]), np.array([1.0]), np.array([1.0]), 1.0,
...                    np.array([-1.0])),)
>>> z, c = np.array([1.0, 0.0]), np.array([1.0, 2.0])
>>> lp = StructuredLP(z, c, np.zeros(2), np.full(2, np.inf), (2,), rows,
...                   reduced=lambda: c + rows[0].lam[0])  # A = [1, 1]: A^T y = y
>>> rep = lp_report(lp)
>>> rep.certified, rep.dual_objective, lp.r.tolist()
(True, 1.0, [0.0, 1.0])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from ortools_lag.result import KKTReport

__all__ = ["LinearRows", "OnDemand", "StructuredLP", "lp_report"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class LinearRows:
    """One group of rows ``lo <= a <= hi`` at the point, and its multipliers.

    Attributes
    ----------
    name
        The group's name in the model.
    activity
        ``a = A_g z``, the rows' values without the body's constant.
    lo, hi
        The bounds on ``a`` (``-inf`` / ``inf``: no side), arrays of ``a``'s shape.
    sign
        ``-1.0`` for a ``>=`` group, else ``1.0`` (``y = sign * lam``).
    lam
        The multipliers in the project's convention, flat.
    """

    name: str
    activity: FloatArray
    lo: FloatArray
    hi: FloatArray
    sign: float
    lam: FloatArray


def _side_terms(mult: FloatArray, diff: FloatArray, bound: FloatArray) -> FloatArray:
    """``mult * diff`` where ``bound`` is finite, 0 elsewhere."""
    finite = np.isfinite(bound)
    if finite.all():
        return mult * diff
    with np.errstate(invalid="ignore"):
        return np.where(finite, mult * diff, 0.0)


def _uniform(a: FloatArray) -> float | None:
    """The value of a broadcast scalar (all strides 0), else ``None``."""
    if a.size and a.ndim == 1 and a.strides == (0,):
        return float(a[0])
    return None


def _extremes(a: FloatArray) -> tuple[float, float]:
    return (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)


def _one_side(gap: FloatArray, bound: FloatArray) -> float:
    """``max(0, gap / (1 + |bound|))`` over the finite entries of ``bound`` (``nan`` kept)."""
    finite = np.isfinite(bound)
    if not finite.any():
        return 0.0
    with np.errstate(invalid="ignore"):
        scaled = gap / (1.0 + np.abs(bound))
    top = float(scaled.max() if finite.all() else np.max(scaled, where=finite, initial=0.0))
    return top if math.isnan(top) else max(top, 0.0)


def _violation(v_lo: FloatArray, v_hi: FloatArray, lo: FloatArray, hi: FloatArray) -> float:
    """``max(0, v_lo / (1 + |lo|), v_hi / (1 + |hi|))`` over the finite sides."""
    a, b = _one_side(v_lo, lo), _one_side(v_hi, hi)
    return math.nan if math.isnan(a) or math.isnan(b) else max(a, b)


def _box_violation(
    z: FloatArray, lb: FloatArray, ub: FloatArray, z_ext: tuple[float, float]
) -> float:
    """The box's primal residual; a broadcast bound costs nothing beyond ``z``'s extremes."""
    worst = 0.0
    for bound, lower in ((lb, True), (ub, False)):
        u = _uniform(bound)
        if u is None:
            worst = max(worst, _one_side(bound - z if lower else z - bound, bound))
        elif math.isfinite(u):
            top = (u - z_ext[0]) if lower else (z_ext[1] - u)
            worst = max(worst, top / (1.0 + abs(u)))
    return worst


def _column_terms(
    lp: StructuredLP, r_ext: tuple[float, float]
) -> tuple[BoolArray | None, FloatArray]:
    """The reduced costs no finite bound holds (a mask, ``None`` if none) and the bound
    terms ``r+ (lb - z) + r- (ub - z)`` on the finite sides, only on the entries where they
    can be non-zero: at a broadcast bound ``0``, where ``z != 0`` (a matching or a path: few);
    at a broadcast infinite bound, none (and ``r`` is read only when its sign is wrong)."""
    z = lp.z
    bad: BoolArray | None = None
    parts: list[FloatArray] = []
    for bound, lower in ((lp.lb, True), (lp.ub, False)):
        if not (r_ext[1] > 0 if lower else r_ext[0] < 0):  # no reduced cost of this sign
            continue
        u = _uniform(bound)
        if u is not None and not math.isfinite(u):
            missing = lp.r > 0 if lower else lp.r < 0
            bad = missing if bad is None else bad | missing
            continue
        if u == 0.0:
            idx, r_nz = lp.nonzero
            keep = np.maximum(r_nz, 0.0) if lower else np.minimum(r_nz, 0.0)
            parts.append(-keep * z[idx])
            continue
        r = lp.r
        sign = r > 0 if lower else r < 0
        finite = np.isfinite(bound)
        missing = sign & ~finite
        if missing.any():
            bad = missing if bad is None else bad | missing
        with np.errstate(invalid="ignore"):
            parts.append(np.where(sign & finite, r * (bound - z), 0.0))
    terms = np.concatenate(parts) if parts else np.zeros(0)
    return (bad if bad is not None and bad.any() else None), terms


def lp_report(lp: StructuredLP, *, tol: float = 1e-6) -> KKTReport:
    """The KKT report of ``min c.z`` over ``lb <= z <= ub`` and ``lp.rows`` at ``lp.z``.

    Broadcast bounds (the same for every entry) are checked from extremes; the point's
    non-zeros and the range of ``r`` come from ``lp`` (formed once by the family), so a
    matching on an ``n x n`` table costs no pass over the table beyond those.

    Parameters
    ----------
    lp
        The point, costs, bounds, rows and reduced costs.
    tol
        The tolerance every residual is judged with.

    Returns
    -------
    KKTReport
        ``kind="kkt"``, ``integrality = 0``, ``certified`` when every residual is within ``tol``.
    """
    z, c = lp.z, lp.c
    idx, _ = lp.nonzero
    z_nz = z[idx]
    f = lp.objective
    z_ext = _extremes(z_nz)
    if idx.size < z.size:  # some entries are 0
        z_ext = (min(z_ext[0], 0.0), max(z_ext[1], 0.0))
    r_ext = lp.r_range
    cscale = 1.0 + lp.c_norm
    primal = _box_violation(z, lp.lb, lp.ub, z_ext)
    if math.isnan(z_ext[0]) or math.isnan(z_ext[1]):
        primal = math.nan
    sign_v, comp_rows, row_sum = 0.0, 0.0, 0.0
    for g in lp.rows:
        a, y = g.activity, g.sign * g.lam
        primal = max(primal, _violation(g.lo - a, a - g.hi, g.lo, g.hi))
        bad = ((y > 0) & ~np.isfinite(g.hi)) | ((y < 0) & ~np.isfinite(g.lo))
        if bad.any():
            sign_v = max(sign_v, float(np.abs(y[bad]).max()) / cscale)
            y = np.where(bad, 0.0, y)
        terms = _side_terms(np.maximum(y, 0.0), a - g.hi, g.hi)
        terms += _side_terms(np.maximum(-y, 0.0), g.lo - a, g.lo)
        if terms.size:
            comp_rows = max(comp_rows, float(np.abs(terms).max()))
            row_sum += float(terms.sum())
    r_bad, col = _column_terms(lp, r_ext)
    stat = 0.0
    if r_bad is not None:
        stat = float(np.max(np.abs(lp.r[r_bad]) / (1.0 + np.abs(c[r_bad]))))
    if not (math.isfinite(r_ext[0]) and math.isfinite(r_ext[1])):
        stat = math.nan
    fscale = 1.0 + abs(f)
    comp = max(comp_rows, float(np.abs(col).max()) if col.size else 0.0) / fscale
    dual = f + row_sum + float(col.sum())
    if r_bad is not None:
        dual -= float(lp.r[r_bad] @ z[r_bad])
    gap = abs(f - dual) / fscale
    residuals = {"primal": primal, "stationarity": stat, "sign": sign_v, "comp": comp, "gap": gap}
    notes = tuple(f"{k} residual {v:.3g} > {tol:g}" for k, v in residuals.items() if not v <= tol)
    return KKTReport(
        primal_residual=primal,
        stationarity=stat,
        complementarity=comp,
        duality_gap=gap,
        sign_violation=sign_v,
        integrality=0.0,
        dual_objective=dual,
        tolerance=tol,
        certified=not notes,
        kind="kkt",
        notes=notes,
    )


@dataclass(frozen=True, eq=False)
class StructuredLP:
    """A network family's LP at a point, from its arrays: what :func:`lp_report` reads, and
    the shapes a Solution keeps.

    Attributes
    ----------
    z, c, lb, ub
        The point, costs and bounds of the variable ``x``, flat (a bound the same for every
        entry may be a broadcast view).
    shape
        ``x``'s shape in the model.
    rows
        The groups, in the model's order.
    reduced
        Forms the reduced costs ``c + A^T y``, flat (called at most once, when read).
    summary
        ``(min r, max r, the indices of the non-zeros of z, r there)`` when the family formed
        them without ``r`` (``None``: from ``z`` and ``r``).
    verdict
        The family certificate's ``(what, worst violation)`` when the family computed it in
        the same passes (``None``: its ``check`` runs).
    cost_norm
        ``max |c|`` when the family knows it (``None``: from ``c``).
    """

    z: FloatArray
    c: FloatArray
    lb: FloatArray
    ub: FloatArray
    shape: tuple[int, ...]
    rows: tuple[LinearRows, ...]
    reduced: Callable[[], FloatArray]
    summary: tuple[float, float, IntArray, FloatArray] | None = None
    verdict: tuple[str, float] | None = None
    cost_norm: float | None = None

    @cached_property
    def r(self) -> FloatArray:
        """The reduced costs, flat."""
        return self.reduced()

    @cached_property
    def nonzero(self) -> tuple[IntArray, FloatArray]:
        """The indices of the non-zeros of ``z`` and ``r`` there."""
        if self.summary is not None:
            return self.summary[2], self.summary[3]
        idx = np.flatnonzero(self.z)
        return idx, self.r[idx]

    @cached_property
    def objective(self) -> float:
        """``c.z``, over the non-zeros of ``z``."""
        idx, _ = self.nonzero
        return float(self.c[idx] @ self.z[idx])

    @property
    def r_range(self) -> tuple[float, float]:
        """``(min r, max r)``."""
        if self.summary is not None:
            return self.summary[0], self.summary[1]
        return _extremes(self.r)

    @cached_property
    def c_norm(self) -> float:
        """``max |c|``."""
        if self.cost_norm is not None:
            return self.cost_norm
        lo, hi = _extremes(self.c)
        return max(abs(lo), abs(hi))

    def report(self, tol: float) -> KKTReport:
        """:func:`lp_report` of this LP."""
        return lp_report(self, tol=tol)

    def shadow_prices(self) -> dict[str, FloatArray]:
        """``d f / d rhs = -sign * lam`` per group (a minimisation), as ``kkt.shadow_prices``."""
        return {g.name: -g.sign * g.lam for g in self.rows}

    def reduced_costs(self) -> Mapping[str, FloatArray]:
        """``{"x": r}`` in ``x``'s shape, formed on first read."""
        return OnDemand({"x": lambda: self.r.reshape(self.shape)})


class OnDemand(Mapping[str, np.ndarray]):
    """A mapping whose values are formed on first read (then kept).

    >>> d = OnDemand({"x": lambda: np.arange(3)})
    >>> list(d), d["x"].tolist()
    (['x'], [0, 1, 2])
    """

    def __init__(self, makers: Mapping[str, Callable[[], np.ndarray]]) -> None:
        self._makers = dict(makers)
        self._made: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._made:
            self._made[key] = self._makers[key]()
        return self._made[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)

    def __repr__(self) -> str:
        return f"OnDemand({sorted(self._makers)})"
