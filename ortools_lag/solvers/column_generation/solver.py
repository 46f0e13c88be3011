r"""Dantzig-Wolfe column generation as a dual method: the registered solver ``dantzig_wolfe``.

The plan that a Lagrangian method relaxes is read the other way round: the relaxed groups become
the rows of a restricted master LP (:mod:`~ortools_lag.solvers.column_generation.master`), the
kept part's blocks its pricing problems, solved by the same oracles the Lagrangian uses
(:mod:`~ortools_lag.solvers.column_generation.pricing`). Each iteration

1. re-solves the master from its last basis: value ``z_RMP`` (an upper bound on the Lagrangian
   dual optimum once no artificial column is used) and multipliers ``lam_RMP``;
2. prices at the smoothed multipliers ``lam = a * lam_c + (1 - a) * lam_RMP`` (Wentges'
   smoothing around the best multipliers ``lam_c`` found so far, ``a = smoothing``), one
   evaluation of ``q``: its value is the Lagrangian bound of the iteration; at ``a = 0`` it is
   the master's value plus the blocks' reduced costs;
3. adds every block's column whose reduced cost at the master's own duals is negative. When none
   is (a mispricing), the next iteration moves ``a`` towards 0 (``1 - k (1 - smoothing)`` after
   ``k`` mispricings); at ``a = 0`` no negative column proves the master optimal.

It stops (``converged``) when ``z_RMP - best bound <= master_tolerance * (1 + |z_RMP|)`` with no
artificial column in use; artificials still used then mean their cost ``M`` was too small, and
it is multiplied by 10. The reported multipliers are those of the best bound, the dual optimum
(the same value ``bundle`` reaches on the same plan); ``info["fractional_x"]`` is the master's
convex combination ``sum_k w_k x_k``, which satisfies the relaxed rows; the point ``x`` is the
best of the family's heuristic, the convex combination (when the model is continuous) and the
restricted master solved as a MIP over the columns generated (price-and-branch). The bound is
re-evaluated independently at the end as for every dual method.

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 4, ub=1)
>>> m.minimize(-x[0] - 2 * x[1] - 3 * x[2] - x[3])
>>> _ = m.add("pairs", x[0] + x[1] <= 1); _ = m.add("pairs2", x[2] + x[3] <= 1)
>>> _ = m.add("budget", x.sum() <= 1.5)
>>> sol = solve(m, "dantzig_wolfe", relax=["budget"])
>>> sol.status.value, round(sol.bound, 9), round(float(sol.multipliers["budget"]), 9)
('optimal', -4.0, 2.0)
>>> sol.info["fractional_x"]["x"].round(9).tolist(), sol.info["columns"]
([0.0, 0.5, 1.0, 0.0], 4)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from ortools_lag.result import Solution
from ortools_lag.solvers.column_generation.master import MasterSolution, RestrictedMaster
from ortools_lag.solvers.column_generation.pricing import Columns, Pricer, partition
from ortools_lag.solvers.dual.loop import DualSolver, run_dual
from ortools_lag.solvers.dual.protocol import (
    DualMethod,
    DualOptions,
    DualState,
    advance,
    first_state,
)

if TYPE_CHECKING:
    from ortools_lag.lagrangian import Lagrangian
    from ortools_lag.problem import Problem
    from ortools_lag.solvers.base import SolverOptions

__all__ = [
    "DantzigWolfeMethod",
    "DantzigWolfeOptions",
    "DantzigWolfeSolver",
    "DantzigWolfeState",
]

#: the artificial columns' cost grows by this factor, at most this many times in a run
BIG_M_GROWTH, BIG_M_STEPS = 10.0, 8


class DantzigWolfeOptions(DualOptions):
    """Options of Dantzig-Wolfe column generation.

    Attributes
    ----------
    smoothing
        Wentges' dual smoothing factor ``a`` in ``[0, 1)`` (0: price at the master's duals).
    master_tolerance
        Stop when the master's value exceeds the best bound by at most this, relative to
        ``1 + |z_RMP|``.
    column_tolerance
        A column enters when its reduced cost is below ``-column_tolerance * (1 + |z_RMP|)``.
    big_m
        Cost of the artificial columns (``None``: ``10 (1 + max |c|) / min |A_R|``, multiplied by
        10 while the converged master still uses them).
    heuristic_columns
        Add the family heuristic's point, repaired from the first minimiser, as first columns.
    price_and_branch, price_and_branch_time_limit
        For integer models, solve the master over the generated columns as a MIP at the end
        (HiGHS, this many seconds) and keep its point when it beats the heuristic's.
    """

    smoothing: float = Field(default=0.5, ge=0, lt=1)
    adaptive_smoothing: bool = True
    master_tolerance: float = Field(default=1e-9, gt=0)
    column_tolerance: float = Field(default=1e-9, gt=0)
    big_m: float | None = Field(default=None, gt=0)
    heuristic_columns: bool = True
    price_and_branch: bool = True
    price_and_branch_time_limit: float = Field(default=10.0, gt=0)


@dataclass(frozen=True)
class DantzigWolfeState(DualState):
    """The dual state plus the master's last solution and the smoothing factor.

    ``master`` is the one live HiGHS master shared by the states of a run (it only grows);
    ``solution`` its last solve, ``stale`` when columns were added since; ``mispricings`` counts
    the iterations in a row that added no column; ``alpha`` is the (adapted) smoothing factor.
    The smoothing centre is the best bound's multipliers, ``best_lam``.
    """

    master: RestrictedMaster | None = None
    solution: MasterSolution | None = None
    stale: bool = True
    mispricings: int = 0
    alpha: float = 0.0
    alpha_used: float = math.nan


class DantzigWolfeMethod(DualMethod):
    """Column generation on the relaxed rows, smoothed pricing by the Lagrangian's oracle."""

    name = "dantzig_wolfe"
    point_label = "master convex combination"
    options: DantzigWolfeOptions

    def __init__(self, options: DualOptions) -> None:
        super().__init__(options)
        self.log: dict[int, tuple[int, float]] = {}  # iteration -> (columns, master value)
        self.master: RestrictedMaster | None = None
        self.pricer: Pricer | None = None
        self.lagrangian: Lagrangian | None = None
        self.big_m_cap = math.inf

    def check(self, lagrangian: Lagrangian) -> str | None:
        why = lagrangian.why_not()
        if why is not None:
            return why
        if not lagrangian.objective_ok or lagrangian.Q is not None:
            return "the master is an LP: the objective must be linear"
        if lagrangian.quadratic_groups or lagrangian.nonlinear_groups:
            return "the master is an LP: the relaxed groups must be affine"
        return None

    # -- set-up ------------------------------------------------------------------------------
    def init(self, lagrangian: Lagrangian, lam0: np.ndarray) -> DantzigWolfeState:
        lag, o = lagrangian, self.options
        part = partition(lag)
        self.lagrangian = lag
        self.pricer = Pricer(lag, part)
        F = part.free
        big_m = o.big_m if o.big_m is not None else _default_big_m(lag)
        self.big_m_cap = big_m * BIG_M_GROWTH**BIG_M_STEPS
        self.master = RestrictedMaster(
            lag.row_lo - lag.e0,
            lag.row_hi - lag.e0,
            part.n_blocks,
            big_m=big_m,
            direct_cost=lag.c[F],
            direct_lb=lag.lb[F],
            direct_ub=lag.ub[F],
            direct_A=lag.A_R[:, F],
            offset=lag.offset,
        )
        pt = lag.evaluate(lag.project(lam0))
        if pt.status == "optimal":
            self._add(self.pricer.columns(pt.x), None)
            if o.heuristic_columns and lag.heuristic is not None:
                xh = lag.heuristic(lag.model.split(pt.x))
                if xh is not None:
                    self._add(self.pricer.columns(lag.model.join(dict(xh))), None)
        state = first_state(
            DantzigWolfeState,
            pt,
            master=self.master,
            alpha=o.smoothing,
        )
        self.log[1] = (self.master.n_columns, math.nan)
        if pt.status == "unbounded":
            return replace(state, stalled=True, message=_UNBOUNDED)
        return state

    def _add(self, cols: Columns, keep: np.ndarray | None) -> int:
        assert self.master is not None
        chosen = cols if keep is None else cols.select(keep)
        block = np.arange(cols.cost.size) if keep is None else keep
        self.master.add_columns(block, chosen.cost, chosen.A, chosen.points)
        return int(block.size)

    # -- one iteration -----------------------------------------------------------------------
    def step(self, lagrangian: Lagrangian, state: DualState) -> DantzigWolfeState:
        assert isinstance(state, DantzigWolfeState)
        assert self.master is not None and self.pricer is not None
        lag, o, master = lagrangian, self.options, self.master
        ms = master.solve() if state.stale or state.solution is None else state.solution
        if ms.status != "optimal":
            why = f"the restricted master is {ms.status}"
            if ms.status == "unbounded":
                why += ": the relaxation is unbounded (so is the Lagrangian dual's minimisation)"
            return _ended(state, ms, stalled=True, message=why)
        proven = self._closed(ms, state.bound) or (
            state.mispricings > 0 and state.alpha_used == 0.0
        )
        if proven:  # the master is optimal over every column
            if ms.artificial <= _art_tol(ms):
                why = "the master's value meets the Lagrangian bound"
                return _ended(state, ms, converged=True, message=why)
            if master.big_m >= self.big_m_cap:
                why = (
                    f"the master still uses its artificial columns at big_m = {master.big_m:.3g}: "
                    "the relaxed rows look infeasible over the kept part's convex hull"
                )
                return _ended(state, ms, stalled=True, message=why)
            master.set_big_m(master.big_m * BIG_M_GROWTH)  # M was too small: raise, re-solve
            ms = master.solve()
        lam_rmp = lag.project(lag.row_sign * ms.y)
        base, center = state.alpha, state.best_lam
        alpha = max(0.0, 1.0 - (state.mispricings + 1) * (1.0 - base))
        if not math.isfinite(state.bound):
            alpha = 0.0
        pt = lag.evaluate(lag.project(alpha * center + (1.0 - alpha) * lam_rmp))
        if pt.status == "unbounded":
            return _ended(state, ms, stalled=True, message=_UNBOUNDED)
        added = 0
        if pt.status == "optimal":
            cols = self.pricer.columns(pt.x)
            rc = cols.reduced_costs(ms.y, ms.sigma)
            negative = np.flatnonzero(rc < -o.column_tolerance * (1.0 + abs(ms.value)))
            added = self._add(cols, negative) if negative.size else 0
            if o.adaptive_smoothing and alpha > 0.0:  # Pessoa et al.: follow the subgradient
                toward = float(pt.subgradient @ (lam_rmp - center)) > 0.0
                base = max(0.0, base - 0.1) if toward else min(0.99, base + 0.1 * (1.0 - base))
        nxt = advance(
            state,
            pt,
            step=float(np.linalg.norm(pt.lam - state.lam)),
            solution=ms,
            stale=added > 0,
            mispricings=0 if added else state.mispricings + 1,
            alpha=base,
            alpha_used=alpha,
            primal_estimate=master.convex_combination(ms, self.pricer.part.free, lag.model.n),
        )
        self.log[nxt.iteration] = (master.n_columns, ms.value)
        return nxt

    def _closed(self, ms: MasterSolution, bound: float) -> bool:
        tol = self.options.master_tolerance * (1.0 + abs(ms.value))
        return math.isfinite(bound) and ms.value - bound <= tol

    # -- the answer --------------------------------------------------------------------------
    def report_point(self, state: DualState) -> tuple[np.ndarray, str] | None:
        """The restricted master as a MIP (price-and-branch) when it beats the loop's point."""
        o, master = self.options, self.master
        if not (o.price_and_branch and master is not None and self.pricer is not None):
            return None
        lag = self.lagrangian
        if lag is None or not lag.model.is_integer:
            return None
        free = self.pricer.part.free
        z = master.integer_master(
            lag.integer[free], free, lag.model.n, o.price_and_branch_time_limit
        )
        if z is None:
            return None
        viol, integ = lag.infeasibility(z)
        if viol > o.tolerance or integ > o.tolerance:
            return None
        best = state.best_primal
        if not math.isfinite(best) or lag.objective_min(z) < best - 1e-12 * (1.0 + abs(best)):
            return z, "restricted master MIP over the generated columns (price-and-branch)"
        return None


_UNBOUNDED = "a pricing problem is unbounded: column generation needs bounded blocks"


def _ended(state: DantzigWolfeState, ms: MasterSolution, **fields: Any) -> DantzigWolfeState:
    """The state after an iteration that ends the run at master solution ``ms`` (``fields``
    say how: ``converged`` or ``stalled``, and the ``message``)."""
    return replace(state, iteration=state.iteration + 1, solution=ms, stale=False, **fields)


def _art_tol(ms: MasterSolution) -> float:
    return 1e-9 * (1.0 + float(np.abs(ms.direct).sum()) + float(ms.weights.sum()))


def _default_big_m(lag: Lagrangian) -> float:
    """``10 (1 + max |c|) / min |A_R|``: above any multiplier the costs can justify."""
    cmax = float(np.max(np.abs(lag.c), initial=0.0))
    a = np.abs(lag.A_R.data)
    a = a[a > 0]
    amin = float(a.min()) if a.size else 1.0
    return 10.0 * (1.0 + cmax) / min(amin, 1.0)


class DantzigWolfeSolver(DualSolver):
    """Dantzig-Wolfe column generation on a relaxation plan (HiGHS master, the plan's oracles)."""

    name = "dantzig_wolfe"
    description = "Dantzig-Wolfe column generation: HiGHS master LP, the plan's blocks as pricing"
    Options = DantzigWolfeOptions
    method_class = DantzigWolfeMethod

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        assert isinstance(options, DantzigWolfeOptions)
        method = self.method(options)
        assert isinstance(method, DantzigWolfeMethod)
        sol = run_dual(problem, method, options, solver=self.name)
        return _with_master(sol, method)


def _with_master(sol: Solution, method: DantzigWolfeMethod) -> Solution:
    """The master's columns, value and convex combination in ``info`` and the history."""
    master = method.master
    if master is None or method.pricer is None:
        return sol
    info = dict(sol.info)
    info["columns"] = master.n_columns
    info["blocks"] = method.pricer.part.n_blocks
    info["big_m"] = master.big_m
    ms = master.last
    if ms is not None and ms.status == "optimal":
        lag = method.lagrangian
        assert lag is not None
        z = master.convex_combination(ms, method.pricer.part.free, lag.model.n)
        info["master_value"] = lag.sense * ms.value
        info["fractional_x"] = lag.model.split(z)
        info["master_artificial"] = ms.artificial
    info["master_status"] = ms.status if ms is not None else "not solved"
    h = sol.history
    if h is not None and len(h):
        cols = np.array([method.log.get(int(i), (math.nan, math.nan))[0] for i in h.iteration])
        vals = np.array([method.log.get(int(i), (math.nan, math.nan))[1] for i in h.iteration])
        sense = method.lagrangian.sense if method.lagrangian is not None else 1
        extra = {**h.extra, "columns": cols.astype(float), "master_value": sense * vals}
        h = replace(h, extra=extra)
    return replace(sol, info=info, history=h)
