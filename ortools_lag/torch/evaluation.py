"""One evaluation of a constrained-learning problem on a batch: objective, violations, the loss.

:func:`evaluate` runs the problem's callables on a batch and returns the objective, each
group's surrogate violation (differentiable, for the primal step) and true violation
(detached, for the multipliers and the certificate), with the index of an indexed group.
:func:`primal_loss` is what the primal optimiser minimises: the objective plus each group's term
of the dual rule (the Lagrangian for gradient ascent and PI, the augmented Lagrangian for ALM).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ortools_lag.errors import ModelError
from ortools_lag.torch.multipliers import DualRule, Multipliers
from ortools_lag.torch.problem import ConstrainedProblem, ConstraintGroup

__all__ = ["Evaluation", "Violation", "batch_size", "evaluate", "primal_loss", "violation_size"]


@dataclass(frozen=True)
class Violation:
    """A group's violation on a batch: ``surrogate`` (with gradient), ``true`` (detached), and
    the multiplier entries they belong to (``index``; ``None`` for a dense multiplier)."""

    surrogate: torch.Tensor
    true: torch.Tensor
    index: torch.Tensor | None


@dataclass(frozen=True)
class Evaluation:
    """The objective and every group's :class:`Violation` on one batch."""

    objective: torch.Tensor
    violations: dict[str, Violation]


def _split(group: ConstraintGroup, value: Any, what: str) -> tuple[torch.Tensor, Any]:
    if group.size is not None:
        if not (isinstance(value, tuple) and len(value) == 2):
            raise ModelError(
                f"group {group.name!r} is indexed (size={group.size}): its {what} must return "
                f"(values, index), found {type(value).__name__}"
            )
        values = torch.as_tensor(value[0])
        index = torch.as_tensor(value[1], device=values.device).long().reshape(-1)
        return values.reshape(-1), index
    if not isinstance(value, torch.Tensor):
        raise ModelError(
            f"group {group.name!r}: its {what} must return a tensor, found {type(value).__name__}"
        )
    return value, None


def evaluate(problem: ConstrainedProblem, batch: Any, *, grad: bool = True) -> Evaluation:
    """The objective and the violations of every group on ``batch``.

    With ``grad=False`` nothing is recorded for backpropagation (a measurement).
    """
    with torch.set_grad_enabled(grad):
        out = problem.run(batch)
        f = problem.call(problem.objective, out, batch)
        if not isinstance(f, torch.Tensor) or f.numel() != 1:
            raise ModelError("the objective must return a scalar tensor")
        found: dict[str, Violation] = {}
        for group in problem.groups.values():
            if group.surrogate is None:
                value, index = _split(group, problem.call(group.fn, out, batch), "fn")
                s = group.violation(value)
                found[group.name] = Violation(s, s.detach(), index)
                continue
            sur, _ = _split(group, problem.call(group.surrogate, out, batch), "surrogate")
            with torch.no_grad():
                true, index = _split(group, problem.call(group.fn, out, batch), "fn")
            if true.shape != sur.shape:
                raise ModelError(
                    f"group {group.name!r}: fn gives shape {tuple(true.shape)}, "
                    f"its surrogate {tuple(sur.shape)}"
                )
            found[group.name] = Violation(
                group.violation(sur), group.violation(true).detach(), index
            )
    return Evaluation(f.reshape(()), found)


def primal_loss(
    problem: ConstrainedProblem, ev: Evaluation, multipliers: Multipliers, rule: DualRule
) -> torch.Tensor:
    """``f + sum_g term_g`` with the rule's term of each group at the current multipliers."""
    loss = ev.objective
    for name, v in ev.violations.items():
        group = problem.groups[name]
        lam = multipliers.read(group, v.true, v.index)
        loss = loss + rule.primal_term(group, lam, v.surrogate)
    return loss


def violation_size(equality: bool, g: torch.Tensor) -> float:
    """The largest violation in ``g``: ``|g|`` on an equality, ``max(g, 0)`` on an inequality."""
    return float(g.abs().max() if equality else torch.clamp(g, min=0.0).max())


def batch_size(batch: Any) -> int:
    """The number of samples in ``batch``: the length of a tensor, of the first tensor of a
    tuple or list, or of the first value of a mapping; ``1`` for anything else."""
    first = batch
    if isinstance(batch, (tuple, list)) and batch:
        first = batch[0]
    elif isinstance(batch, dict) and batch:
        first = next(iter(batch.values()))
    if isinstance(first, torch.Tensor) and first.dim() > 0:
        return int(first.shape[0])
    return 1
