"""Bipartite network problems (``transportation``, ``assignment``): a dense cost table and the
optimality check of a plan on it.

>>> import numpy as np
>>> t = Table(np.array([[1.0, np.inf], [2.0, 3.0]]), (0, 1), (0, 1))
>>> t.extremes, t.allowed.tolist()
((1.0, inf), [[True, False], [True, True]])
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from ortools_lag.model import Model, Var

__all__ = ["Table", "bipartite_violation"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Table:
    """A bipartite cost table: ``cost[i, j]`` for row ``i`` and column ``j``, ``inf`` where the
    pair is not allowed, with the labels of the rows and columns."""

    cost: FloatArray
    rows: tuple[Hashable, ...]
    cols: tuple[Hashable, ...]

    @cached_property
    def extremes(self) -> tuple[float, float]:
        """``(min, max)`` of the costs (``max = inf`` when a pair is forbidden)."""
        c = self.cost
        return (float(c.min()), float(c.max())) if c.size else (0.0, 0.0)

    @cached_property
    def allowed(self) -> BoolArray:
        """Pairs that may be used (finite cost)."""
        return np.isfinite(self.cost)

    def filled(self) -> FloatArray:
        """The costs with each forbidden pair at a cost no optimal plan of unit amounts uses:
        more than ``min(rows, cols)`` times the range of the allowed costs above the largest."""
        if math.isfinite(self.extremes[1]):  # no forbidden pair
            return self.cost
        ok = self.allowed
        vals = self.cost[ok]
        lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 0.0)
        big = hi + (min(self.cost.shape) + 1) * (hi - lo + 1.0)
        return np.where(ok, self.cost, big)

    def plan(self, model: Model) -> Var:
        """The plan ``x >= 0`` of the table's shape in ``model`` (a forbidden pair: the bound
        ``x_ij <= 0``), with the objective ``min sum_ij c_ij x_ij``."""
        ok = self.allowed
        x = model.var(
            "x", self.cost.shape, lb=0.0, ub=None if ok.all() else np.where(ok, np.inf, 0.0)
        )
        model.minimize((np.where(ok, self.cost, 0.0) * x).sum())
        return x

    @cached_property
    def masked(self) -> FloatArray:
        """The costs with ``inf`` on every pair not allowed."""
        return np.where(self.allowed, self.cost, np.inf)

    def cheapest(self, price: FloatArray) -> tuple[IntArray, FloatArray]:
        """Each row's column of least ``cost + price`` and that reduced cost (``inf``: no
        allowed pair) -- the oracle of a bipartite family whose column rows are dualised."""
        reduced = self.masked + price
        j = reduced.argmin(axis=1)
        return j, reduced[np.arange(j.size), j]


def bipartite_violation(
    cost: FloatArray,
    x: FloatArray,
    mult: tuple[FloatArray, FloatArray],
    sense: tuple[str, str],
    rhs: tuple[FloatArray, FloatArray],
    tol: float = 1e-9,
    reduced: FloatArray | None = None,
) -> float:
    """Worst violation of the optimality certificate of a bipartite plan (0.0 when exact).

    Rows ``sum_j x_ij (sense_r) rhs_r``, columns ``sum_i x_ij (sense_c) rhs_c`` with multipliers
    ``lam`` (``>= 0`` on ``<=`` and ``>=`` groups, held as in the README), so the reduced cost is
    ``rc_ij = c_ij + s_r lam_i + s_c lam_j`` with ``s = -1`` for ``>=``. Checked: ``x >= 0``
    and ``0`` on forbidden pairs (``cost = inf``); the rows and columns; the multipliers' signs;
    ``rc >= 0`` on allowed pairs and ``= 0`` where ``x > tol``; ``lam = 0`` on slack rows.
    ``reduced``: ``rc`` when the caller formed it already (read on the allowed pairs only).
    """
    ok = np.isfinite(cost)
    every = bool(ok.all())
    worst = float(np.max(-x, initial=0.0))
    if not every:
        worst = max(worst, float(np.max(np.abs(x[~ok]), initial=0.0)))
    sums = (x.sum(axis=1), x.sum(axis=0))
    signs = []
    for k in range(2):
        lam, s, b, v = mult[k], sense[k], rhs[k], sums[k]
        if s == "==":
            worst = max(worst, float(np.max(np.abs(v - b), initial=0.0)))
        else:
            slack = (b - v) if s == "<=" else (v - b)
            worst = max(worst, float(np.max(-slack, initial=0.0)))
            worst = max(worst, float(np.max(-lam, initial=0.0)))
            worst = max(worst, float(np.max(np.abs(lam * slack), initial=0.0)))
        signs.append(-1.0 if s == ">=" else 1.0)
    if reduced is not None:
        rc = reduced if every else np.where(ok, reduced, np.inf)
    else:
        rc = cost if every else np.where(ok, cost, np.inf)
        rc = rc + signs[0] * mult[0][:, None]
        rc += signs[1] * mult[1][None, :]
    worst = max(worst, -float(rc.min(initial=0.0)))
    i, j = np.nonzero(x > tol)
    used = ok[i, j]
    return max(worst, float(np.max(np.abs(rc[i[used], j[used]]), initial=0.0))) + 0.0
