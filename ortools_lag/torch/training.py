"""The one training loop of constrained learning: primal steps by the user's optimiser, dual
steps by a rule, and a certified :class:`~ortools_lag.result.Solution` at the end.

Each step on a batch: the optimiser minimises the rule's primal loss (through a closure, so
that every torch optimiser, L-BFGS included, is driven the same way); then, every
``rule.dual_every`` steps, the rule moves the multipliers by the true violations of that batch
(measured again after the primal step when the rule alternates). After the last epoch the KKT
conditions are measured on the evaluation data (:mod:`ortools_lag.torch.certificate`).

The status says what the certificate shows: ``locally_optimal`` when every condition holds
within ``tol`` (a KKT point: no global bound is claimed), ``feasible`` when only the
constraints do, ``no_solution`` otherwise; the termination is ``iteration_limit`` (the loop ran
its epochs or ``max_steps``) or ``interrupted`` (the callback asked to stop).

>>> import torch
>>> from ortools_lag.torch import ConstrainedProblem, GradientAscent, train
>>> _ = torch.manual_seed(0); X = torch.randn(64, 3, dtype=torch.float64)
>>> y = X @ torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64)
>>> w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
>>> p = ConstrainedProblem(lambda b: ((b[0] @ w - b[1]) ** 2).mean())
>>> _ = p.add("budget", lambda b: (w**2).sum(), "<=", 1.0)
>>> opt = torch.optim.LBFGS([w], max_iter=50, line_search_fn="strong_wolfe")
>>> sol = train(p, {"w": w}, opt, [(X, y)], rule=GradientAscent(lr=1.0), epochs=200)
>>> sol.status.value, round((w**2).sum().item(), 4), float(sol.multipliers["budget"]) > 0
('locally_optimal', 1.0, True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import torch

from ortools_lag.errors import ModelError
from ortools_lag.result import History, Solution, Status, Termination
from ortools_lag.torch.certificate import certify
from ortools_lag.torch.evaluation import batch_size, evaluate, primal_loss, violation_size
from ortools_lag.torch.multipliers import DualRule, GradientAscent, Multipliers
from ortools_lag.torch.problem import ConstrainedProblem

__all__ = ["named_parameters", "train"]


def named_parameters(parameters: Any) -> dict[str, torch.Tensor]:
    """The parameters to train, by name: from a ``torch.nn.Module``, a mapping of names to
    tensors, or a sequence of tensors (named ``p0``, ``p1`` ...)."""
    named: dict[str, torch.Tensor]
    if isinstance(parameters, torch.nn.Module):
        named = dict(parameters.named_parameters())
    elif isinstance(parameters, Mapping):
        named = dict(parameters)
    else:
        try:
            named = {f"p{i}": p for i, p in enumerate(parameters)}
        except TypeError:
            raise ModelError(
                "parameters must be a torch.nn.Module, a mapping of names to tensors or a "
                f"sequence of tensors, found {type(parameters).__name__}"
            ) from None
    bad = [k for k, p in named.items() if not isinstance(p, torch.Tensor)]
    if bad or not named:
        raise ModelError(f"parameters must be tensors (found none or non-tensors: {bad})")
    return named


class _Epoch:
    """Sums over one epoch, weighted by batch sizes."""

    def __init__(self, names: Iterable[str]) -> None:
        self.n = 0
        self.f = 0.0
        self.loss = 0.0
        self.viol = {k: 0.0 for k in names}

    def add(self, n: int, f: float, loss: float, viol: Mapping[str, float]) -> None:
        self.n += n
        self.f += n * f
        self.loss += n * loss
        for k, v in viol.items():
            self.viol[k] += n * v


def train(
    problem: ConstrainedProblem,
    parameters: Any,
    optimizer: torch.optim.Optimizer,
    data: Iterable[Any],
    *,
    rule: DualRule | None = None,
    epochs: int = 1,
    max_steps: int | None = None,
    eval_data: Iterable[Any] | None = None,
    multipliers: Mapping[str, Any] | None = None,
    tol: float = 1e-4,
    callback: Callable[[int, Mapping[str, float]], bool | None] | None = None,
) -> Solution:
    """Train ``parameters`` on ``data`` under the problem's constraints; a certified Solution.

    Parameters
    ----------
    problem
        The objective and the constraint groups.
    parameters
        What the optimiser moves (a module, a mapping of names to tensors, or tensors): named in
        ``Solution.x`` and differentiated in the certificate's stationarity.
    optimizer
        Any torch optimiser over those parameters; driven through a closure.
    data
        An iterable of batches, read once per epoch (a DataLoader, a list of tuples ...).
    rule
        The dual rule: :class:`~.GradientAscent` (default, ``lr=0.01``), :class:`~.PI` or
        :class:`~.AugmentedLagrangian`.
    epochs, max_steps
        Passes over ``data``, and an optional cap on the number of primal steps.
    eval_data
        Held-out batches for the certificate (default: ``data`` itself, said in the notes).
    multipliers
        Starting multipliers by group name (a warm start).
    tol
        The tolerance of every condition of the certificate.
    callback
        ``callback(epoch, record)`` after each epoch; returning ``True`` stops the loop.

    Returns
    -------
    Solution
        ``objective`` on the evaluation data, ``multipliers`` by group (numpy), ``x`` the
        parameters, ``kkt`` the certificate, ``history`` per epoch (objective as ``primal``, the
        mean primal loss as ``dual_value``, the largest mean violation, the multipliers' step;
        each group's mean violation and multiplier in ``extra``), ``info`` the constraint values.
    """
    if not isinstance(problem, ConstrainedProblem):
        raise ModelError(f"problem must be a ConstrainedProblem, found {type(problem).__name__}")
    if not problem.groups:
        raise ModelError("the problem has no constraint group: train it with its optimiser alone")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ModelError(f"optimizer must be a torch optimizer, found {type(optimizer).__name__}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ModelError(f"epochs must be a positive integer, found {epochs!r}")
    if callback is not None and not callable(callback):
        raise ModelError(f"callback must be callable, found {type(callback).__name__}")
    named = named_parameters(parameters)
    rule = rule if rule is not None else GradientAscent()
    lam = Multipliers(problem, multipliers)
    t0 = time.perf_counter()
    rows: list[dict[str, float]] = []
    step = 0
    termination = Termination.ITERATION_LIMIT
    stop = False
    for epoch in range(1, epochs + 1):
        acc = _Epoch(problem.groups)
        before = {k: v.clone() for k, v in lam.tensors.items()}
        for batch in data:
            last: list[Any] = [None, None]

            def closure(batch: Any = batch, last: list[Any] = last) -> torch.Tensor:
                optimizer.zero_grad(set_to_none=True)
                ev = evaluate(problem, batch)
                loss = primal_loss(problem, ev, lam, rule)
                loss.backward()
                last[0], last[1] = ev, loss
                return loss

            optimizer.step(closure)  # type: ignore[arg-type]
            ev, loss = last
            if ev is None:
                raise ModelError("the optimizer never evaluated the closure it was given")
            step += 1
            if step % rule.dual_every == 0:
                moved = evaluate(problem, batch, grad=False) if rule.alternating else ev
                for name, v in moved.violations.items():
                    rule.move(lam, problem.groups[name], v.true, v.index)
            viol = {
                k: violation_size(problem.groups[k].equality, v.true)
                for k, v in ev.violations.items()
            }
            acc.add(batch_size(batch), float(ev.objective.detach()), float(loss.detach()), viol)
            if max_steps is not None and step >= max_steps:
                stop = True
                break
        if acc.n == 0:
            raise ModelError("data gave no batch")
        moves = [float((v - before[k]).norm()) if k in before else float(v.norm())
                 for k, v in lam.tensors.items()]  # fmt: skip
        record = {
            "epoch": float(epoch),
            "objective": acc.f / acc.n,
            "loss": acc.loss / acc.n,
            "violation": max(v / acc.n for v in acc.viol.values()),
            "step": math.sqrt(sum(m * m for m in moves)),
            "seconds": time.perf_counter() - t0,
            **{f"violation:{k}": v / acc.n for k, v in acc.viol.items()},
            **{f"multiplier:{k}": float(v.norm()) for k, v in lam.tensors.items()},
        }
        rows.append(record)
        if callback is not None and callback(epoch, record):
            termination, stop = Termination.INTERRUPTED, True
        if stop:
            break
    note = None if eval_data is not None else "measured on the training data (no eval_data)"
    measured = certify(
        problem,
        list(named.values()),
        lam,
        eval_data if eval_data is not None else data,
        tol=tol,
        note=note,
    )
    rep = measured.report
    if rep.certified:
        status = Status.LOCALLY_OPTIMAL
    elif rep.primal_residual <= tol:
        status = Status.FEASIBLE
    else:
        status = Status.NO_SOLUTION
    why = "; ".join(rep.notes) if rep.notes else "every KKT condition within tolerance"
    return Solution(
        status=status,
        termination=termination,
        objective=measured.objective,
        x={k: v.detach().cpu().double().numpy().copy() for k, v in named.items()},
        multipliers=lam.as_numpy(),
        kkt=rep,
        history=_history(rows),
        solver=f"torch:{rule.name}",
        iterations=step,
        seconds=time.perf_counter() - t0,
        message=f"{rule.name}: {len(rows)} epochs, {step} steps; certificate: {why}",
        info={
            "lagrangian": measured.lagrangian,
            "constraint_values": measured.values,
            "violations": measured.violations,
            "epochs": len(rows),
        },
    )


def _history(rows: list[dict[str, float]]) -> History:
    def col(key: str) -> np.ndarray:
        return np.array([r.get(key, math.nan) for r in rows], dtype=float)

    k = len(rows)
    extra = {key: col(key) for key in rows[-1] if ":" in key} if rows else {}
    return History(
        iteration=np.arange(1, k + 1),
        dual_value=col("loss"),
        bound=np.full(k, math.nan),
        primal=col("objective"),
        gap=np.full(k, math.nan),
        step=col("step"),
        violation=col("violation"),
        seconds=col("seconds"),
        extra=extra,
    )
