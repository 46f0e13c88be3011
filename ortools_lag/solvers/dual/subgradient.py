"""Projected subgradient ascent on the Lagrangian dual.

Each iteration moves the multipliers along the supergradient ``g = c(x_lam)`` (the relaxed
constraints' values at the Lagrangian minimiser) and projects them onto their signs::

    lam_{k+1} = P(lam_k + t_k g_k),    P: lam >= 0 on inequality groups, free on equalities.

Step rules (``step_rule``): ``"constant"`` ``t = a``; ``"diminishing"`` ``t = a / k``;
``"sqrt"`` ``t = a / sqrt(k)`` (``a = step_size``; ``normalize`` divides by ``||g||``) and
``"polyak"`` ``t = theta (target - q(lam_k)) / ||g||^2`` with the target the best feasible
value (the Lagrangian heuristic's), a fixed ``polyak_target``, or, before any feasible point, the
level ``bound + delta`` of Nedic and Bertsekas' dynamic step: ``delta`` starts at
``target_margin * max(1, |q(lam_0)|)``, grows by ``target_growth`` when an iterate reaches the
level and shrinks by ``target_shrink`` when the bound does not improve. The Held-Wolfe-Crowder
rule halves ``theta`` when the bound has not improved for ``halving_patience`` iterations; below
``min_factor`` the method has stalled. Components at their bound whose ``g`` points outwards
are dropped from ``g`` first (the projected direction). A zero projected ``g`` proves ``lam``
optimal.

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2, ub=1)
>>> m.minimize(-x[0] - 2 * x[1]); _ = m.add("cap", x.sum() <= 1)
>>> sol = solve(m, "subgradient", relax=["cap"])
>>> round(sol.bound, 3), sol.objective
(-2.0, -2.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

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

__all__ = ["SubgradientMethod", "SubgradientOptions", "SubgradientSolver", "SubgradientState"]


class SubgradientOptions(DualOptions):
    """Options of the subgradient method (see the module docstring for the rules)."""

    step_rule: Literal["constant", "diminishing", "sqrt", "polyak"] = "polyak"
    step_size: float = Field(default=1.0, gt=0)
    normalize: bool = False
    polyak_factor: float = Field(default=2.0, gt=0, le=2)
    polyak_target: float | None = None
    target_margin: float = Field(default=0.1, gt=0)
    target_growth: float = Field(default=1.5, ge=1)
    target_shrink: float = Field(default=0.9, gt=0, le=1)
    halving_patience: int = Field(default=10, ge=1)
    halving_factor: float = Field(default=0.5, gt=0, lt=1)
    min_factor: float = Field(default=1e-7, gt=0)


@dataclass(frozen=True)
class SubgradientState(DualState):
    """The dual state plus the Polyak factor, its stall counter, the last target and the level
    gap ``delta`` used before a feasible point is known."""

    factor: float = 2.0
    since_improve: int = 0
    target: float = math.nan
    delta: float = math.nan
    domain: DualDomain | None = None


class SubgradientMethod(DualMethod):
    """Projected subgradient ascent with constant, diminishing and Polyak-HWC steps."""

    name = "subgradient"
    options: SubgradientOptions

    def init(self, lagrangian: Lagrangian, lam0: np.ndarray) -> SubgradientState:
        pt = lagrangian.evaluate(lagrangian.project(lam0))
        pt, domain, note = start_in_domain(lagrangian, pt)
        return first_state(
            SubgradientState,
            pt,
            factor=self.options.polyak_factor,
            delta=self.options.target_margin
            * max(1.0, abs(pt.lower) if math.isfinite(pt.lower) else 1.0),
            domain=domain,
            stalled=pt.status == "unbounded",
            message=note,
        )

    def _direction(self, lag: Lagrangian, state: DualState) -> np.ndarray:
        assert state.point is not None
        g = state.point.subgradient
        out = ((state.lam <= lag.lam_lo) & (g < 0)) | ((state.lam >= lag.lam_hi) & (g > 0))
        return np.where(out, 0.0, g)

    def _target(self, lag: Lagrangian, state: SubgradientState) -> float:
        o = self.options
        if math.isfinite(state.best_primal):
            return state.best_primal
        if o.polyak_target is not None:
            return lag.sense * o.polyak_target
        return state.bound + state.delta

    def _step_size(
        self, lag: Lagrangian, state: SubgradientState, gn: float
    ) -> tuple[float, float]:
        o = self.options
        k = state.iteration
        q = state.dual_value
        if o.step_rule == "polyak" and math.isfinite(q):
            target = self._target(lag, state)
            return state.factor * max(target - q, 0.0) / gn**2, target
        base = {"constant": 1.0, "diminishing": 1.0 / k, "sqrt": 1.0 / math.sqrt(k)}
        t = o.step_size * base.get(o.step_rule, 1.0)
        return (t / gn if o.normalize or o.step_rule == "polyak" else t), math.nan

    def step(self, lagrangian: Lagrangian, state: DualState) -> SubgradientState:
        assert isinstance(state, SubgradientState)
        o = self.options
        g = self._direction(lagrangian, state)
        gn = float(np.linalg.norm(g))
        if not math.isfinite(state.dual_value):
            why = state.message or "q(lam) = -inf: no subgradient"
            return replace(state, stalled=True, message=why)
        if gn == 0.0:
            return replace(state, converged=True, message="zero projected subgradient")
        t, target = self._step_size(lagrangian, state, gn)
        if t == 0.0:
            if math.isfinite(state.best_primal):  # the bound reached the best feasible value
                return replace(state, converged=True, message="target reached")
            return replace(state, stalled=True, message="step size zero below the target")
        trial = lagrangian.project(state.lam + t * g)
        if state.domain is not None:  # stay where q is finite (see dual_domain)
            on = state.domain.project(trial)
            trial = on if on is not None else state.lam
        pt = lagrangian.evaluate(trial)
        improved = pt.lower > state.bound
        since = 0 if improved else state.since_improve + 1
        factor, delta = state.factor, state.delta
        if o.step_rule == "polyak" and since >= o.halving_patience:
            factor, since = factor * o.halving_factor, 0
        if math.isfinite(target) and not math.isfinite(state.best_primal):
            if pt.lower >= target:
                delta *= o.target_growth
            elif not improved:
                delta = max(delta * o.target_shrink, 1e-9 * max(1.0, abs(state.bound)))
        return advance(
            state,
            pt,
            step=t,
            factor=factor,
            since_improve=since,
            target=target,
            delta=delta,
            stalled=factor < o.min_factor,
        )


class SubgradientSolver(DualSolver):
    """Lagrangian relaxation by projected subgradient ascent (Polyak / Held-Wolfe-Crowder)."""

    name = "subgradient"
    description = "Lagrangian dual by projected subgradient: constant, 1/k, 1/sqrt(k), Polyak-HWC"
    Options = SubgradientOptions
    method_class = SubgradientMethod
