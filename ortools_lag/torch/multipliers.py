r"""The multipliers of a constrained-learning problem, and the rules that move them.

Each group's multiplier is a tensor on the device and in the dtype of its first value: a
scalar, one entry per entry of the constraint's value, or an indexed vector of ``size``
entries of which a batch reads and moves those it names. After every move an inequality's
multiplier is projected onto ``lambda >= 0``; an equality's stays free.

The dual rules (``g`` is the true violation of the batch, in the project's convention):

- :class:`GradientAscent`: ``lambda <- proj(lambda + lr g)``; with ``alternating=True`` the
  violation is measured again after the primal step (alternating gradient descent-ascent),
  else on the same evaluation as the primal step (simultaneous);
- :class:`PI`: a proportional-integral controller on the violation (the nuPI family):
  ``xi_t = nu xi_{t-1} + (1 - nu) g_t`` and
  ``lambda <- proj(lambda + lr (ki g_t + kp (xi_t - xi_{t-1})))``; ``kp = 0`` is gradient
  ascent, ``kp > 0`` damps the oscillation of the multipliers;
- :class:`AugmentedLagrangian`: the primal step minimises
  ``f + sum_g psi_rho(g, lambda_g)`` with ``psi = lambda g + rho g^2 / 2`` on equalities and
  ``psi = (max(0, lambda + rho g)^2 - lambda^2) / (2 rho)`` on inequalities; every
  ``dual_every`` primal steps ``lambda <- proj(lambda + rho g)`` (the method of multipliers).

The first two add ``<lambda, g>`` to the primal loss (the Lagrangian itself).

>>> import torch
>>> from ortools_lag.torch import ConstrainedProblem
>>> p = ConstrainedProblem(lambda b: b.sum())
>>> cap = p.add("cap", lambda b: b.mean(), "<=", 0.0)
>>> lam = Multipliers(p)
>>> GradientAscent(lr=0.5).move(lam, cap, torch.tensor(-3.0), None)
>>> lam.value("cap").item()  # projected onto lambda >= 0
0.0
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ortools_lag.errors import ModelError
from ortools_lag.torch.problem import ConstrainedProblem, ConstraintGroup

__all__ = ["PI", "AugmentedLagrangian", "DualRule", "GradientAscent", "Multipliers"]


class Multipliers:
    """The multiplier tensors of a problem's groups, created at each group's first value.

    Parameters
    ----------
    problem
        The problem whose groups they price.
    init
        Optional starting values by group name (numbers or arrays; a warm start).
    """

    def __init__(self, problem: ConstrainedProblem, init: Mapping[str, Any] | None = None):
        self.problem = problem
        self.tensors: dict[str, torch.Tensor] = {}
        self._init = dict(init or {})
        unknown = sorted(set(self._init) - set(problem.groups))
        if unknown:
            raise ModelError(
                f"multipliers given for unknown groups {unknown} "
                f"(valid choices: {', '.join(problem.groups)})"
            )

    def ensure(self, group: ConstraintGroup, like: torch.Tensor) -> torch.Tensor:
        """The multiplier of ``group``, created like ``like`` (its shape, or ``size``) if new."""
        lam = self.tensors.get(group.name)
        if lam is None:
            shape = (group.size,) if group.size is not None else tuple(like.shape)
            lam = torch.zeros(shape, dtype=like.dtype, device=like.device)
            if group.name in self._init:
                start = torch.as_tensor(self._init[group.name], dtype=like.dtype)
                lam.copy_(torch.broadcast_to(start.to(like.device), shape))
            self.tensors[group.name] = lam
            self.project(group)
        return lam

    def read(
        self, group: ConstraintGroup, like: torch.Tensor, index: torch.Tensor | None
    ) -> torch.Tensor:
        """The entries of ``group``'s multiplier that a batch uses (no gradient flows to them)."""
        lam = self.ensure(group, like)
        return lam[index] if index is not None else lam

    def add(self, group: ConstraintGroup, delta: torch.Tensor, index: torch.Tensor | None) -> None:
        """``lambda[index] += delta``, then the projection of an inequality onto ``>= 0``."""
        lam = self.ensure(group, delta)
        if index is None:
            lam.add_(delta.reshape(lam.shape))
        else:
            lam.index_add_(0, index, delta)
        self.project(group)

    def project(self, group: ConstraintGroup) -> None:
        """Clamp an inequality's multiplier at zero (an equality's is free)."""
        if not group.equality and group.name in self.tensors:
            self.tensors[group.name].clamp_(min=0.0)

    def value(self, name: str) -> torch.Tensor:
        """The multiplier tensor of group ``name``."""
        if name not in self.tensors:
            raise ModelError(f"group {name!r} has no multiplier yet (it was never evaluated)")
        return self.tensors[name]

    def as_numpy(self) -> dict[str, np.ndarray]:
        """Every multiplier as a float64 numpy array, by group name."""
        return {k: v.detach().cpu().double().numpy().copy() for k, v in self.tensors.items()}


class DualRule:
    """How the multipliers enter the primal loss and how they move.

    Attributes
    ----------
    alternating
        Measure the violation again after the primal step before moving the multipliers.
    dual_every
        Move the multipliers every ``dual_every`` primal steps.
    step_size
        The dual step of the default move, ``lambda <- proj(lambda + step_size g)``.
    """

    name = "dual_rule"
    alternating = False
    dual_every = 1
    step_size = 1.0

    def primal_term(
        self, group: ConstraintGroup, lam: torch.Tensor, s: torch.Tensor
    ) -> torch.Tensor:
        """The group's term of the primal loss at surrogate violation ``s``: ``<lambda, s>``."""
        return (lam * s).sum()

    def move(
        self,
        multipliers: Multipliers,
        group: ConstraintGroup,
        g: torch.Tensor,
        index: torch.Tensor | None,
    ) -> None:
        """Move ``group``'s multiplier by the true violation ``g`` of the batch (in place):
        ``lambda <- proj(lambda + step_size g)`` unless a rule says otherwise."""
        multipliers.add(group, self.step_size * g, index)


def _positive(value: float, what: str) -> float:
    v = float(value)
    if not v > 0 or v == float("inf"):
        raise ModelError(f"{what} must be a positive number, found {value!r}")
    return v


class GradientAscent(DualRule):
    """Projected gradient ascent on the multipliers, simultaneous or alternating."""

    name = "gda"

    def __init__(self, lr: float = 0.01, *, alternating: bool = False) -> None:
        self.lr = self.step_size = _positive(lr, "lr")
        self.alternating = bool(alternating)
        if self.alternating:
            self.name = "alternating_gda"


class PI(DualRule):
    """A proportional-integral controller on the violation (``kp = 0``: gradient ascent)."""

    name = "pi"

    def __init__(
        self,
        lr: float = 0.01,
        *,
        kp: float = 1.0,
        ki: float = 1.0,
        nu: float = 0.0,
        alternating: bool = False,
    ) -> None:
        self.lr = _positive(lr, "lr")
        self.kp, self.ki = float(kp), float(ki)
        if not 0.0 <= float(nu) < 1.0:
            raise ModelError(f"nu is in [0, 1), found {nu!r}")
        self.nu = float(nu)
        self.alternating = bool(alternating)
        self._xi: dict[str, torch.Tensor] = {}

    def move(
        self,
        multipliers: Multipliers,
        group: ConstraintGroup,
        g: torch.Tensor,
        index: torch.Tensor | None,
    ) -> None:
        lam = multipliers.ensure(group, g)
        xi_all = self._xi.setdefault(group.name, torch.zeros_like(lam))
        old = xi_all[index] if index is not None else xi_all.reshape(g.shape).clone()
        new = self.nu * old + (1.0 - self.nu) * g
        if index is not None:
            xi_all[index] = new
        else:
            xi_all.copy_(new.reshape(xi_all.shape))
        multipliers.add(group, self.lr * (self.ki * g + self.kp * (new - old)), index)


class AugmentedLagrangian(DualRule):
    """The method of multipliers with penalty ``rho`` (see the module docstring)."""

    name = "alm"

    def __init__(self, rho: float = 1.0, *, dual_every: int = 1) -> None:
        self.rho = self.step_size = _positive(rho, "rho")
        if isinstance(dual_every, bool) or not isinstance(dual_every, int) or dual_every < 1:
            raise ModelError(f"dual_every must be a positive integer, found {dual_every!r}")
        self.dual_every = dual_every

    def primal_term(
        self, group: ConstraintGroup, lam: torch.Tensor, s: torch.Tensor
    ) -> torch.Tensor:
        rho = self.rho
        if group.equality:
            return (lam * s).sum() + 0.5 * rho * (s * s).sum()
        return ((torch.relu(lam + rho * s) ** 2 - lam * lam) / (2.0 * rho)).sum()
