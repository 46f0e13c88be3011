r"""The generic primal heuristic of the tree: round, then repair by a small MIP of the model.

When a relaxation plan brings no Lagrangian heuristic of its own (or the tree has no feasible
point yet), :class:`RoundAndRepair` turns a node's averaged minimiser ``x_bar`` (the mean of the
minimisers of its ascent, an estimate of the convex relaxation's point) into feasible points of
the model:

1. **round**: the integer variables of ``x_bar`` rounded to the nearest integer (the
   continuous ones kept);
2. **repair**: every integer variable on which ``x_bar`` is already integral is fixed there,
   and HiGHS's MIP (``scipy.optimize.milp``) solves the model -- kept *and* relaxed rows --
   over the variables left free, within the node's bounds and a short time limit. Where the
   minimisers agree the point keeps their choice; where they disagree, the MIP restores the
   relaxed rows (the neighbourhood of Berthold's RENS heuristic).

Either point is offered to the :class:`~ortools_lag.solvers.branch_and_bound.ascent.Incumbent`,
which keeps it only when it is feasible and better. A model whose rows or objective are not
linear has no repair (rounding only).

>>> from ortools_lag import Model
>>> m = Model(); x = m.var("x", 3, ub=1, domain="binary")
>>> m.minimize(x[0] + 2 * x[1] + 3 * x[2]); _ = m.add("cover", x.sum() >= 2)
>>> rr = RoundAndRepair(m, time_limit=5.0)
>>> rr.repair(np.array([1.0, 0.5, 0.5]), np.zeros(3), np.ones(3)).tolist()  # x[0] stays 1
[1.0, 1.0, 0.0]
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from ortools_lag.errors import NotSupportedError
from ortools_lag.model.standard_form import to_standard_form

if TYPE_CHECKING:
    from ortools_lag.model import Model

__all__ = ["RoundAndRepair"]

log = logging.getLogger(__name__)

#: ``x_bar`` is integral on a variable when it is this close to an integer.
INTEGRAL = 1e-6


class RoundAndRepair:
    """Rounding and the repair MIP of one model (its standard form built once).

    Parameters
    ----------
    model
        The model (all its rows: the kept and the relaxed).
    time_limit
        Seconds of every repair MIP.
    max_free
        The repair runs only when at most this many integer variables are left free (a larger
        MIP is the whole problem again).
    """

    def __init__(self, model: Model, *, time_limit: float = 1.0, max_free: int = 400) -> None:
        self.time_limit, self.max_free = float(time_limit), int(max_free)
        self.integer = model.integrality()
        try:
            sf = to_standard_form(model)
        except NotSupportedError:
            self._sf = None
        else:
            self._sf = sf if sf.Q is None else None
        self.calls = 0
        self.found = 0

    @property
    def can_repair(self) -> bool:
        """Whether the model is linear (the repair MIP exists)."""
        return self._sf is not None

    def round(self, x_bar: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> np.ndarray:
        """``x_bar`` with its integer variables rounded, within ``[lb, ub]``."""
        return np.clip(np.where(self.integer, np.round(x_bar), x_bar), lb, ub)

    def repair(self, x_bar: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> np.ndarray | None:
        """The repair MIP's point (``None`` when it finds none or cannot run)."""
        sf = self._sf
        if sf is None:
            return None
        near = np.round(x_bar)
        fix = self.integer & (np.abs(x_bar - near) <= INTEGRAL) & (near >= lb) & (near <= ub)
        free = self.integer & ~fix & (lb < ub)
        if not free.any() or int(free.sum()) > self.max_free:
            return None
        from scipy.optimize import Bounds, LinearConstraint, milp

        lo, hi = np.where(fix, near, lb), np.where(fix, near, ub)
        self.calls += 1
        cons = [LinearConstraint(sf.A, sf.row_lo, sf.row_hi)] if sf.m else []
        res = milp(
            sf.c,
            constraints=cons,
            integrality=self.integer.astype(int),
            bounds=Bounds(lo, hi),
            options={"time_limit": self.time_limit, "disp": False},
        )
        if res.x is None:
            log.debug("repair MIP: %s", res.message)
            return None
        self.found += 1
        z = np.asarray(res.x, dtype=float)
        return np.where(self.integer, np.round(z), z)
