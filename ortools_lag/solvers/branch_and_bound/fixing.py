r"""Lagrangian reduced-cost fixing at a node of the tree.

At multipliers :math:`\lambda` the Lagrangian of a linear model is
:math:`L(x, \lambda) = d^\top x + \text{const}` with the reduced costs
:math:`d = c + A_R^\top y` (minimisation sense, ``y`` the multipliers with the rows' signs).
Let ``q`` be the node's bound, :math:`q = \min\{L(x,\lambda) : x \in X_{kept}, lb \le x \le ub\}`.
When the kept set is **closed downwards in** :math:`x_j` (lowering :math:`x_j` by one keeps every
kept row satisfied: in each kept row :math:`x_j` has a positive coefficient under a row with no
lower side, or a negative one under a row with no upper side), every point with
:math:`x_j \ge lb_j + 1` lies at least :math:`d_j` above a point of the node, so

.. math::

    \min\{L : x_j \ge lb_j + 1\} \ge q + d_j ,

and when that already reaches the incumbent, :math:`x_j = lb_j` in the whole subtree (and,
closed upwards, :math:`x_j = ub_j` when :math:`q - d_j` reaches it). Variables in no kept row are
closed both ways. The excluded part of the node becomes one leaf of kind ``"fixing"`` for the
certificate: its bound, ``q`` plus the least gain of the fixed variables, is re-evaluated like
any leaf (``q`` by HiGHS at the node's bounds, the gains from the model's own reduced costs).

>>> from ortools_lag import Model
>>> from ortools_lag.lagrangian import Lagrangian
>>> m = Model(); x = m.var("x", 3, ub=1, domain="binary")
>>> m.minimize(3 * x[0] + x[1] + 2 * x[2])
>>> _ = m.add("one", x.sum() == 1); _ = m.add("cap", x[0] + x[1] <= 1)
>>> fx = ReducedCostFixing(Lagrangian(m, ("one",)))
>>> fx.down.tolist(), fx.up.tolist()          # cap is a packing row; x[2] is in no kept row
([True, True, True], [False, False, True])
>>> d = fx.reduced_costs(np.array([-1.5]))    # d = c - 1.5; q = 1 (x[1] = 1)
>>> d.tolist()
[1.5, -0.5, 0.5]
>>> down, up, gain = fx.fixes(np.array([-1.5]), 1.0, np.zeros(3), np.ones(3), lambda b: b >= 2.0)
>>> down.tolist(), up.tolist(), gain          # q + 1.5 reaches the incumbent 2: x[0] = 0
([0], [], 1.5)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ortools_lag.errors import NotSupportedError
from ortools_lag.lagrangian_inner import kept_rows
from ortools_lag.model.standard_form import to_standard_form

if TYPE_CHECKING:
    from ortools_lag.lagrangian import Lagrangian

__all__ = ["ReducedCostFixing", "RowPropagation", "monotone_directions"]


def monotone_directions(lag: Lagrangian) -> tuple[np.ndarray, np.ndarray] | None:
    """Per variable: whether the kept rows are closed downwards / upwards in it.

    ``None`` when the Lagrangian is not linear in ``x`` (a quadratic objective or relaxed
    group, a nonlinear group): reduced costs then say nothing.
    """
    if lag.Q is not None or not lag.objective_ok or lag.quadratic_groups or lag.nonlinear_groups:
        return None
    try:
        sf = to_standard_form(lag.model)
    except NotSupportedError:
        return None
    A, lo, hi = kept_rows(lag.model, sf, lag.kept)
    A = A.tocsc()
    pos = (A > 0).astype(float)
    neg = (A < 0).astype(float)
    has_lo, has_hi = np.isfinite(lo).astype(float), np.isfinite(hi).astype(float)
    # lowering x_j breaks a row when its coefficient is > 0 under a lower side, < 0 under an upper
    down = (pos.T @ has_lo + neg.T @ has_hi) == 0
    up = (pos.T @ has_hi + neg.T @ has_lo) == 0
    return np.asarray(down).ravel(), np.asarray(up).ravel()


class ReducedCostFixing:
    """The fixing rule of one plan (see the module docstring).

    Parameters
    ----------
    lag
        The plan's Lagrangian (linear in ``x``; else :attr:`active` is ``False``).

    Attributes
    ----------
    down, up
        Whether the kept set is closed downwards / upwards in each variable.
    fixed
        Variables fixed so far (all nodes together).
    """

    def __init__(self, lag: Lagrangian) -> None:
        self.lag = lag
        dirs = monotone_directions(lag)
        n = lag.model.n
        self.active = dirs is not None
        self.down, self.up = dirs if dirs is not None else (np.zeros(n, bool), np.zeros(n, bool))
        self.down = self.down & lag.integer
        self.up = self.up & lag.integer
        self.active = self.active and bool(self.down.any() or self.up.any())
        self.fixed = 0

    def reduced_costs(self, lam: np.ndarray) -> np.ndarray:
        """``d = c + A_R^T y`` at the (projected) multipliers ``lam``, minimisation sense."""
        y = self.lag.row_sign * np.asarray(lam, dtype=float)
        return np.asarray(self.lag.c + self.lag.A_R.T @ y, dtype=float).ravel()

    def fixes(
        self,
        lam: np.ndarray,
        q: float,
        lb: np.ndarray,
        ub: np.ndarray,
        prunes: Callable[[float], bool],
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """The variables to fix at ``lb`` (``down``) and at ``ub`` (``up``), and the least gain.

        Parameters
        ----------
        lam, q
            The node's multipliers and its bound ``q(lam)`` at them.
        lb, ub
            The node's bounds.
        prunes
            Whether a bound reaches the incumbent (:meth:`~ortools_lag.solvers.branch_and_bound.
            ascent.Incumbent.prunes`).
        """
        none = np.zeros(0, dtype=np.intp)
        if not self.active or not math.isfinite(q):
            return none, none, math.inf
        d = self.reduced_costs(lam)
        free = lb < ub
        cand_down = np.flatnonzero(free & self.down & (d > 0))
        cand_up = np.flatnonzero(free & self.up & (d < 0))
        cand = np.r_[cand_down, cand_up]
        gain = np.r_[d[cand_down], -d[cand_up]]
        if not cand.size or not prunes(q + float(gain.max())):
            return none, none, math.inf
        order = np.argsort(gain)
        lo_i, hi_i = 0, order.size - 1  # prunes() is monotone: the least gain that prunes
        while lo_i < hi_i:
            mid = (lo_i + hi_i) // 2
            if prunes(q + float(gain[order[mid]])):
                hi_i = mid
            else:
                lo_i = mid + 1
        take = np.zeros(cand.size, dtype=bool)
        take[order[lo_i:]] = True
        ndown = cand_down.size
        down, up = cand[:ndown][take[:ndown]], cand[ndown:][take[ndown:]]
        gains = gain[take]
        self.fixed += int(gains.size)
        return down, up, float(gains.min()) if gains.size else math.inf


class RowPropagation:
    """Bound propagation on the model's linear rows (kept and relaxed) at a node.

    For a row :math:`lo \\le a^\\top x \\le hi` and the node's box, the least and largest
    activity of the other terms bound :math:`a_j x_j`; an integer variable's bound is tightened to
    the implied one (rounded inwards). The part of the node cut off, the box with :math:`x_j`
    beyond its new bound, meets no point of the row: it becomes a leaf of kind ``"rows"``, which
    the certificate checks by the same activity bounds over the leaf's box. In a generalised
    assignment, branching a job onto an agent fixes it off every other agent this way.

    Parameters
    ----------
    lag
        The plan's Lagrangian (its model's standard form gives the rows).
    passes
        Propagation rounds at a node.

    Examples
    --------
    >>> from ortools_lag import Model
    >>> from ortools_lag.lagrangian import Lagrangian
    >>> m = Model(); x = m.var("x", 3, ub=1, domain="binary"); m.minimize(x.sum())
    >>> _ = m.add("one", x.sum() == 1)
    >>> rp = RowPropagation(Lagrangian(m, ("one",)))
    >>> lb, ub = np.array([1.0, 0, 0]), np.ones(3)
    >>> cuts = rp.propagate(lb, ub)          # x[0] = 1 forces x[1] = x[2] = 0
    >>> ub.tolist(), [(c[0], c[1].tolist(), c[2].tolist()) for c in cuts][:1]
    ([1.0, 0.0, 0.0], [(1, [1.0, 1.0, 0.0], [1.0, 1.0, 1.0])])
    """

    def __init__(self, lag: Lagrangian, *, passes: int = 3) -> None:
        self.passes = int(passes)
        self.integer = lag.integer
        try:
            sf = to_standard_form(lag.model)
        except NotSupportedError:
            self.active = False
            return
        A = sf.A.tocoo()
        self.row, self.col, self.val = A.row, A.col, A.data
        self.lo, self.hi, self.m = sf.row_lo, sf.row_hi, sf.m
        self.active = bool(self.val.size) and bool(self.integer.any())
        self.tightened = 0

    def activity(self, lb: np.ndarray, ub: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every row's least and largest activity over the box."""
        v = self.val
        tlo = np.where(v > 0, v * lb[self.col], v * ub[self.col])
        thi = np.where(v > 0, v * ub[self.col], v * lb[self.col])
        lo = np.bincount(self.row, weights=np.nan_to_num(tlo, nan=-np.inf), minlength=self.m)
        hi = np.bincount(self.row, weights=np.nan_to_num(thi, nan=np.inf), minlength=self.m)
        return lo, hi

    def empty(self, lb: np.ndarray, ub: np.ndarray) -> bool:
        """Whether some row cannot be met anywhere in the box."""
        if np.any(lb > ub):
            return True
        amin, amax = self.activity(lb, ub)
        with np.errstate(invalid="ignore"):
            tol_hi = 1e-9 * (1.0 + np.abs(np.nan_to_num(self.hi, posinf=0.0)))
            tol_lo = 1e-9 * (1.0 + np.abs(np.nan_to_num(self.lo, neginf=0.0)))
            return bool(np.any(amin > self.hi + tol_hi) or np.any(amax < self.lo - tol_lo))

    def propagate(self, lb: np.ndarray, ub: np.ndarray) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """Tighten ``lb``/``ub`` in place; the cut-off boxes ``(j, lb, ub)``, one per bound."""
        cuts: list[tuple[int, np.ndarray, np.ndarray]] = []
        if not self.active:
            return cuts
        r, j, v = self.row, self.col, self.val
        with np.errstate(invalid="ignore"):
            for _ in range(self.passes):
                amin, amax = self.activity(lb, ub)
                own_lo = np.where(v > 0, v * lb[j], v * ub[j])
                own_hi = np.where(v > 0, v * ub[j], v * lb[j])
                rest_min, rest_max = amin[r] - own_lo, amax[r] - own_hi  # the other terms
                top = (self.hi[r] - rest_min) / v  # v x_j <= hi - rest_min
                bot = (self.lo[r] - rest_max) / v  # v x_j >= lo - rest_max
                new_ub = np.where(v > 0, top, bot)
                new_lb = np.where(v > 0, bot, top)
                ok = self.integer[j] & np.isfinite(rest_min) & np.isfinite(rest_max)
                new_ub = np.where(ok & np.isfinite(new_ub), np.floor(new_ub + 1e-9), np.inf)
                new_lb = np.where(ok & np.isfinite(new_lb), np.ceil(new_lb - 1e-9), -np.inf)
                ub_j = np.full(lb.size, np.inf)
                lb_j = np.full(lb.size, -np.inf)
                np.minimum.at(ub_j, j, new_ub)
                np.maximum.at(lb_j, j, new_lb)
                down = np.flatnonzero((ub_j < ub) & (lb < ub))
                up = np.flatnonzero((lb_j > lb) & (lb < ub))
                if not (down.size or up.size):
                    break
                for k in down:
                    cut_lb = lb.copy()
                    cut_lb[k] = ub_j[k] + 1.0
                    cuts.append((int(k), cut_lb, ub.copy()))
                for k in up:
                    cut_ub = ub.copy()
                    cut_ub[k] = lb_j[k] - 1.0
                    cuts.append((int(k), lb.copy(), cut_ub))
                ub[down] = np.maximum(ub_j[down], lb[down])
                lb[up] = np.minimum(lb_j[up], ub[up])
        self.tightened += len(cuts)
        return cuts
