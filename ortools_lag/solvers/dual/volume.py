"""The volume algorithm (Barahona & Anbil 2000): subgradient steps along an averaged direction,
with an averaged primal point.

From the stability centre ``lam_bar`` (value ``q_bar``) and the primal average ``x_bar`` (with
direction ``v = c(x_bar)``, the relaxed rows' values at the average), each iteration evaluates

    lam_t = P(lam_bar + s v),   s = f (target - q_bar) / ||v||^2,

gets the minimiser ``x_t`` and supergradient ``g_t``, and averages
``x_bar <- a x_t + (1 - a) x_bar`` (so ``v <- a g_t + (1 - a) v`` for affine rows), ``a`` the
minimiser of ``||a g_t + (1 - a) v||`` clipped to ``[alpha / 10, alpha]``. The centre moves when
``q(lam_t) > q_bar``. The factor ``f`` follows the colours of the paper: after ``red_patience``
iterations without improvement ("red") ``f *= red_factor``; an improvement with ``v . g_t >= 0``
("green") ``f *= green_factor``; any other improvement ("yellow") keeps it. The target is the
best feasible value or, before one is known, ``q_bar + target_margin * max(1, |q_bar|)``.
``x_bar`` approximates a solution of the convex relaxation (the primal estimate the loop
offers to recovery); the method has converged when ``x_bar`` satisfies the relaxed rows within
``tolerance`` and its objective is within ``tolerance`` of ``q_bar`` (tested every tenth
iteration).

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2, ub=1)
>>> m.minimize(-x[0] - 2 * x[1]); _ = m.add("cap", x.sum() <= 1.5)
>>> sol = solve(m, "volume", relax=["cap"], max_iter=400)
>>> round(sol.bound, 3), sol.multipliers["cap"].round(2).tolist()
(-2.5, 1.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from ortools_lag.solvers.dual.dual_domain import DualDomain, start_in_domain
from ortools_lag.solvers.dual.loop import DualSolver
from ortools_lag.solvers.dual.protocol import (
    DualMethod,
    DualOptions,
    DualState,
    advance,
    first_state,
)

if TYPE_CHECKING:
    from ortools_lag.lagrangian import Lagrangian

__all__ = ["VolumeMethod", "VolumeOptions", "VolumeSolver", "VolumeState"]


class VolumeOptions(DualOptions):
    """Options of the volume algorithm (see the module docstring)."""

    step_factor: float = Field(default=0.1, gt=0, le=2)
    alpha: float = Field(default=0.1, gt=0, le=1)
    red_patience: int = Field(default=20, ge=1)
    red_factor: float = Field(default=0.66, gt=0, lt=1)
    green_factor: float = Field(default=1.1, ge=1)
    target_margin: float = Field(default=0.1, gt=0)
    min_factor: float = Field(default=1e-8, gt=0)


@dataclass(frozen=True)
class VolumeState(DualState):
    """The dual state plus the centre, the primal average ``x_bar`` and its direction ``v``,
    the step factor ``f`` and the count of red iterations."""

    center: np.ndarray | None = None
    center_value: float = -math.inf
    x_bar: np.ndarray | None = None
    v: np.ndarray | None = None
    factor: float = 0.1
    reds: int = 0
    domain: DualDomain | None = None


class VolumeMethod(DualMethod):
    """The volume algorithm: averaged directions and a primal estimate."""

    name = "volume"
    point_label = "volume average"
    options: VolumeOptions

    def init(self, lagrangian: Lagrangian, lam0: np.ndarray) -> VolumeState:
        pt = lagrangian.evaluate(lagrangian.project(lam0))
        pt, domain, note = start_in_domain(lagrangian, pt)
        return first_state(
            VolumeState,
            pt,
            center=pt.lam,
            center_value=pt.lower,
            x_bar=pt.x,
            v=pt.subgradient,
            factor=self.options.step_factor,
            domain=domain,
            stalled=pt.status == "unbounded",
            message=note,
        )

    def step(self, lagrangian: Lagrangian, state: DualState) -> VolumeState:
        assert isinstance(state, VolumeState)
        assert state.center is not None and state.v is not None and state.x_bar is not None
        o, lag = self.options, lagrangian
        c, qc = state.center, state.center_value
        if not math.isfinite(qc):
            return replace(state, stalled=True, message=state.message or "q(lam) = -inf")
        v = np.where(((c <= lag.lam_lo) & (state.v < 0)) | ((c >= lag.lam_hi) & (state.v > 0)),
                     0.0, state.v)  # fmt: skip
        vn2 = float(v @ v)
        if vn2 == 0.0:
            return replace(state, converged=True, message="zero projected averaged direction")
        target = state.best_primal
        if not math.isfinite(target):
            target = qc + o.target_margin * max(1.0, abs(qc))
        s = state.factor * max(target - qc, 0.0) / vn2
        if s == 0.0:
            return replace(state, converged=True, message="target reached")
        trial = lag.project(c + s * v)
        if state.domain is not None:
            on = state.domain.project(trial)
            trial = on if on is not None else c
        pt = lag.evaluate(trial)
        g = pt.subgradient
        dg = g - state.v
        den = float(dg @ dg)
        a = -float(state.v @ dg) / den if den > 0 else o.alpha
        a = min(max(a, o.alpha / 10.0), o.alpha)
        x_bar = a * pt.x + (1.0 - a) * state.x_bar
        v_new = a * g + (1.0 - a) * state.v
        factor, reds = state.factor, state.reds
        improved = pt.lower > qc
        if not improved:
            reds += 1
            if reds >= o.red_patience:
                factor, reds = factor * o.red_factor, 0
        elif float(state.v @ g) >= 0.0:
            factor, reds = min(factor * o.green_factor, 2.0), 0
        center, cval = (pt.lam, pt.lower) if improved else (c, qc)
        done = False
        if state.iteration % 10 == 0:  # the test costs a product with the rows: now and then
            close = lag.objective_min(x_bar) - cval <= o.tolerance * (1.0 + abs(cval))
            done = close and lag.infeasibility(x_bar)[0] <= o.tolerance  # as recovery does
        return advance(
            state,
            pt,
            step=s,
            center=center,
            center_value=cval,
            x_bar=x_bar,
            v=v_new,
            factor=factor,
            reds=reds,
            primal_estimate=x_bar,
            converged=done,
            stalled=factor < o.min_factor,
            message="the average x_bar is feasible and closes the gap" if done else "",
        )


class VolumeSolver(DualSolver):
    """Lagrangian relaxation by the volume algorithm (Barahona-Anbil), with primal estimates."""

    name = "volume"
    description = "Lagrangian dual by the volume algorithm (averaged directions, primal estimate)"
    Options = VolumeOptions
    method_class = VolumeMethod
