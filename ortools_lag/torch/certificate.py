r"""The certificate of a trained model: the KKT conditions measured on held-out data.

On the evaluation batches (weighted by their sizes, so that a constraint written as a mean is
the mean over the whole set) it measures, in the project's convention
(``g <= 0`` on inequalities, ``g == 0`` on equalities, ``L = f + sum_g <lambda_g, g>``):

- ``primal_residual``: the largest violation ``max(g, 0)`` (``|g|`` on equalities) of the true
  constraints, relative to ``1 + |rhs|``;
- ``sign_violation``: the largest ``max(-lambda, 0)`` of an inequality's multiplier;
- ``complementarity``: the largest ``|lambda_i g_i|`` on inequalities, relative to ``1 + |rhs|``;
- ``stationarity``: ``||grad_theta L(theta, lambda)|| / max(1, ||grad_theta f||)``, the
  gradient of the Lagrangian (with the surrogates where a group has one) in the parameters.

Each is compared with ``tol``; the report is certified when all are within it. No dual bound
is claimed (the Lagrangian of a network is not proven convex).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ortools_lag.result import KKTReport
from ortools_lag.torch.evaluation import batch_size, evaluate, primal_loss, violation_size
from ortools_lag.torch.multipliers import DualRule, Multipliers
from ortools_lag.torch.problem import ConstrainedProblem

__all__ = ["Measured", "certify"]


@dataclass(frozen=True)
class Measured:
    """What :func:`certify` measured: the report, the objective and, by group, the constraint's
    mean value (an array for shaped and indexed groups) and its violation ``g``."""

    report: KKTReport
    objective: float
    lagrangian: float
    values: dict[str, Any]
    violations: dict[str, Any]


def _as_float(t: torch.Tensor) -> Any:
    a = t.detach().cpu().double()
    return float(a) if a.dim() == 0 else a.numpy().copy()


def certify(
    problem: ConstrainedProblem,
    parameters: Sequence[torch.Tensor],
    multipliers: Multipliers,
    batches: Iterable[Any],
    *,
    tol: float = 1e-4,
    note: str | None = None,
) -> Measured:
    """Measure the KKT conditions at the current parameters and multipliers on ``batches``."""
    params = [p for p in parameters if p.requires_grad]
    grad_L = [torch.zeros_like(p) for p in params]
    grad_f = [torch.zeros_like(p) for p in params]
    f_sum = 0.0
    sums: dict[str, torch.Tensor] = {}
    counts: dict[str, torch.Tensor] = {}
    batches = list(batches)
    n_all = sum(batch_size(b) for b in batches)
    for batch in batches:
        n = batch_size(batch)
        w = n / n_all
        ev = evaluate(problem, batch, grad=True)
        lag = primal_loss(problem, ev, multipliers, DualRule())  # f + sum_g <lambda_g, s_g>
        for name, v in ev.violations.items():
            if v.index is not None:  # per entry: the mean over the samples that name it
                acc = sums.setdefault(name, torch.zeros_like(multipliers.value(name)))
                cnt = counts.setdefault(name, torch.zeros_like(acc))
                acc.index_add_(0, v.index, v.true.reshape(-1))
                cnt.index_add_(0, v.index, torch.ones_like(v.true.reshape(-1)))
            else:
                sums[name] = sums.get(name, 0.0) + w * v.true
        gL = torch.autograd.grad(w * lag, params, retain_graph=True, allow_unused=True)
        gf = torch.autograd.grad(w * ev.objective, params, allow_unused=True)
        for acc_L, acc_f, a, b in zip(grad_L, grad_f, gL, gf):
            if a is not None:
                acc_L.add_(a)
            if b is not None:
                acc_f.add_(b)
        f_sum += w * float(ev.objective.detach())
    primal = sign = comp = 0.0
    values: dict[str, Any] = {}
    violations: dict[str, Any] = {}
    lagrangian = f_sum
    for name, group in problem.groups.items():
        g = sums[name]
        lam = multipliers.value(name)
        if name in counts:  # entries no sample named are not measured
            seen = counts[name] > 0
            g = torch.where(seen, g / counts[name].clamp(min=1.0), torch.zeros_like(g))
        scale = 1.0 + abs(group.rhs)
        primal = max(primal, violation_size(group.equality, g) / scale)
        if not group.equality:
            sign = max(sign, float(torch.clamp(-lam, min=0.0).max()))
            comp = max(comp, float((lam * g).abs().max()) / scale)
        lagrangian += float((lam * g).sum())
        violations[name] = _as_float(g)
        values[name] = _as_float(g + group.rhs if group.sense != ">=" else group.rhs - g)
    norm_L = math.sqrt(sum(float((a * a).sum()) for a in grad_L))
    norm_f = math.sqrt(sum(float((b * b).sum()) for b in grad_f))
    stat = norm_L / max(1.0, norm_f)
    notes = [note] if note else []
    for what, size in (
        ("primal residual", primal),
        ("sign violation", sign),
        ("complementarity", comp),
        ("stationarity", stat),
    ):
        if not size <= tol:
            notes.append(f"{what} {size:.3g} > {tol:g}")
    certified = len(notes) == (1 if note else 0)
    report = KKTReport(
        primal_residual=primal,
        stationarity=stat,
        complementarity=comp,
        sign_violation=sign,
        integrality=0.0,
        tolerance=tol,
        certified=certified,
        kind="kkt",
        notes=tuple(notes),
    )
    return Measured(report, f_sum, lagrangian, values, violations)
