r"""Constrained learning: constraints on the weights whose multipliers are found by dual ascent.

Norm-budget least squares (:func:`norm_budget_least_squares`):

.. math::

    \min_w \|Xw - y\|^2 \quad\text{s.t.}\quad \|w\|^2 \le c, \qquad
    L(w, \lambda) = \|Xw - y\|^2 + \lambda (\|w\|^2 - c),

whose inner minimiser is the ridge solution ``w(lam) = (X^T X + lam I)^{-1} X^T y``: the
multiplier ``lam*`` of group ``budget`` is the ridge weight ``alpha(c)`` whose solution meets
the budget — one dual solve instead of a search over ``alpha``. When the budget is slack,
``lam* = 0`` and ``w`` is the least-squares solution (complementarity). ``lam`` is also the
shadow price ``-d f*/d c`` of the budget: one more unit of squared norm lowers the loss by
``lam``.

The general case (:func:`dual_ascent`): any group on the weights of a problem (for instance
``||W_1||^2 <= c`` added to an ``nn_training`` problem) is relaxed with multiplier ``mu``; the
Lagrangian ``F(theta) + mu . c(theta)`` is minimised over the weights (by the problem's oracle
when it has one, else by the ``adjoint`` solver, warm-started), and ``mu`` takes projected
ascent steps along the dual gradient ``c(theta(mu))`` — a constant step, or a safeguarded
secant step on each entry (the dual function is concave, so its gradient decreases in ``mu``).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(30, 4)); y = X @ np.array([3.0, -2.0, 1.0, 0.5])
>>> sol = dual_ascent(norm_budget_least_squares(X, y, budget=4.0))
>>> sol.status.value, round(float(np.sum(sol.x["w"] ** 2)), 6), float(sol.multipliers["budget"]) > 0
('optimal', 4.0, True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ortools_lag import kkt
from ortools_lag.errors import ModelError
from ortools_lag.model import Model, sum_squares
from ortools_lag.problem import Problem, Relaxation
from ortools_lag.result import History, Solution, Status, Termination
from ortools_lag.solvers import registry
from ortools_lag.solvers.backend import judge, signed_gap
from ortools_lag.solvers.nn.adjoint import AdjointOptions, AdjointSolver, certify_matrix_free

__all__ = ["add_weight_budget", "dual_ascent", "norm_budget_least_squares", "ridge_oracle"]


def ridge_oracle(X: np.ndarray, y: np.ndarray, budget: float) -> Any:
    """The exact minimiser of ``||Xw - y||^2 + lam (||w||^2 - c)`` by one SVD of ``X``.

    Returns a Lagrangian oracle: ``{"budget": lam} -> ({"w": w(lam)}, L(w(lam), lam))``.
    """
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    b = U.T @ y
    resid0 = float(y @ y - b @ b)  # the part of y outside the range of X

    def oracle(lam: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], float]:
        mu = float(np.asarray(lam["budget"]))
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = np.where(s**2 + mu > 0, s / (s**2 + mu), 0.0)
        w = Vt.T @ (coef * b)
        loss = resid0 + float(np.sum((s * coef * b - b) ** 2))
        return {"w": w}, loss + mu * (float(w @ w) - budget)

    return oracle


def norm_budget_least_squares(X: Any, y: Any, budget: float) -> Problem:
    """``min ||Xw - y||^2  s.t.  ||w||^2 <= budget`` with the ridge oracle on group ``budget``.

    >>> p = norm_budget_least_squares(np.eye(2), np.array([1.0, 1.0]), budget=0.5)
    >>> sorted(p.model.groups), p.default_relaxation
    (['budget'], 'budget')
    """
    Xa, ya = np.asarray(X, dtype=float), np.asarray(y, dtype=float).ravel()
    if Xa.ndim != 2 or Xa.shape[0] != ya.shape[0]:
        raise ModelError(f"X {Xa.shape} and y {ya.shape} do not match (X is n x d, y has n)")
    if not budget >= 0:
        raise ModelError(f"the budget must be non-negative, got {budget}")
    m = Model("norm_budget_least_squares")
    w = m.var("w", Xa.shape[1], lb=None)
    m.minimize(sum_squares(Xa @ w - ya))
    m.add("budget", sum_squares(w) <= float(budget))
    rel = Relaxation(("budget",), oracle=ridge_oracle(Xa, ya, float(budget)), description="ridge")
    return Problem(
        m,
        relaxations={"budget": rel},
        default_relaxation="budget",
        kind="model",
        data={"X": Xa, "y": ya, "budget": float(budget)},
    )


def add_weight_budget(problem: Problem, variable: str, budget: float, name: str = "budget") -> str:
    """Add the group ``||variable||^2 <= budget`` to a problem's model; returns its name."""
    if variable not in problem.model.variables:
        raise ModelError(
            f"unknown variable {variable!r} (valid choices: {sorted(problem.model.variables)})"
        )
    problem.model.add(name, sum_squares(problem.model.variables[variable]) <= float(budget))
    return name


@dataclass
class _Secant:
    """Per-entry safeguarded secant steps on the (decreasing) dual gradient ``c(mu)``."""

    lo: np.ndarray  # largest mu seen with c > 0
    hi: np.ndarray  # smallest mu seen with c < 0
    prev_mu: np.ndarray | None = None
    prev_c: np.ndarray | None = None

    def step(self, mu: np.ndarray, c: np.ndarray, first: float) -> np.ndarray:
        self.lo = np.where(c > 0, np.maximum(self.lo, mu), self.lo)
        self.hi = np.where(c < 0, np.minimum(self.hi, mu), self.hi)
        if self.prev_mu is None or self.prev_c is None:  # a first step of length ``first``
            new = mu + first * c / max(float(np.max(np.abs(c), initial=0.0)), 1e-300)
        else:
            dc = c - self.prev_c
            with np.errstate(divide="ignore", invalid="ignore"):
                sec = mu - c * (mu - self.prev_mu) / dc
            grow = np.maximum(2.0 * np.abs(mu), 1.0) * np.sign(c)
            new = np.where(np.isfinite(sec) & (dc != 0), sec, mu + grow)
        bracket = np.isfinite(self.lo) & np.isfinite(self.hi)
        outside = (new <= self.lo) | (new >= self.hi)
        new = np.where(bracket & outside, 0.5 * (self.lo + self.hi), new)
        self.prev_mu, self.prev_c = mu, c
        return new


def _inner(
    problem: Problem, relax: Sequence[str], oracle: Any, inner_options: Mapping[str, Any]
) -> Any:
    if oracle is not None:
        return lambda mu, x0: (*oracle(mu), None)
    solver = registry.get("adjoint")
    assert isinstance(solver, AdjointSolver)
    opts = {"method": "lbfgs", "epochs": 500, "tolerance": 1e-9, **dict(inner_options)}

    def run(mu: Mapping[str, np.ndarray], x0: Any) -> tuple[dict[str, np.ndarray], float, Any]:
        start = x0 if x0 is not None else opts.get("x0")  # warm start, else the caller's
        run_opts = {**opts, "multipliers": dict(mu), "x0": start}
        sol = solver.solve(problem, AdjointOptions(**run_opts))
        return dict(sol.x), float(sol.info["lagrangian"]), sol

    return run


def dual_ascent(
    problem: Problem,
    relax: Sequence[str] | None = None,
    *,
    step: str | float = "secant",
    first_step: float = 1.0,
    max_iter: int = 100,
    tol: float = 1e-9,
    inner_options: Mapping[str, Any] | None = None,
) -> Solution:
    """Find the multipliers of the relaxed groups by projected dual ascent.

    Parameters
    ----------
    problem
        A problem whose relaxed groups constrain only the weights.
    relax
        The groups (default: the problem's default relaxation when it has an oracle, else every
        group that is not a layer of an ``nn_training`` problem).
    step
        ``"secant"`` or a constant step length.
    first_step
        The length (infinity norm) of the first secant step.
    max_iter, tol
        Limits: stop when the projected dual gradient ``|mu - proj(mu + c)|`` is below ``tol``.
    inner_options
        Options of the ``adjoint`` solver for the inner problems (no oracle).

    Returns
    -------
    Solution
        ``multipliers`` of the relaxed groups (and of the layers), certified by ``kkt``; the
        ``bound`` is the best dual value when the inner problem is solved exactly by an oracle.
    """
    t0 = time.perf_counter()
    model = problem.model
    groups, oracle = _relaxed(problem, relax)
    inner = _inner(problem, groups, oracle, inner_options or {})
    mu = {g: np.zeros(model.groups[g].shape) for g in groups}
    sec = {g: _Secant(np.full(mu[g].shape, -np.inf), np.full(mu[g].shape, np.inf)) for g in groups}
    records: list[Mapping[str, float]] = []
    x, x0, best, last = None, None, -math.inf, None
    term = Termination.ITERATION_LIMIT
    for it in range(1, max_iter + 1):
        x, value, last = inner(mu, x0)
        x0 = {k: v for k, v in x.items() if k not in _outputs(problem)}
        best = max(best, model.sense_sign * value)
        c = {g: _held(model, g, x) for g in groups}
        res = max(_projected_residual(model, g, mu[g], c[g]) for g in groups)
        viol = max(float(np.max(np.maximum(c[g], 0), initial=0)) for g in groups)
        records.append({"iteration": it, "dual_value": value, "bound": best, "violation": viol})
        if res <= tol:
            term = Termination.CONVERGED
            break
        for g in groups:
            new = mu[g] + step * c[g] if not isinstance(step, str) else None
            new = sec[g].step(mu[g], c[g], first_step) if new is None else new
            mu[g] = new if model.groups[g].sense == "==" else np.maximum(new, 0.0)
    assert x is not None
    return _solution(
        problem, groups, x, mu, last, best if oracle is not None else math.nan, records, term, t0
    )


def _relaxed(problem: Problem, relax: Sequence[str] | None) -> tuple[tuple[str, ...], Any]:
    model = problem.model
    if relax is None:
        rel = problem.relaxation() if problem.default_relaxation is not None else None
        if rel is not None and rel.oracle is not None:
            return rel.relax, rel.oracle
        layers = _outputs(problem, groups=True)
        relax = [g for g in model.groups if g not in layers]
    groups = tuple(relax)
    unknown = [g for g in groups if g not in model.groups]
    if unknown or not groups:
        raise ModelError(f"nothing to relax or unknown groups {unknown} ({sorted(model.groups)})")
    bad = [g for g in groups if model.groups[g].sense == "range"]
    if bad:
        raise ModelError(f"two-sided groups {bad} cannot be relaxed here: split them")
    oracle = None
    for rel in problem.relaxations.values():
        if set(rel.relax) == set(groups) and rel.oracle is not None:
            oracle = rel.oracle
    return groups, oracle


def _outputs(problem: Problem, groups: bool = False) -> set[str]:
    lay = getattr(problem.data, "layering", None)
    if lay is None:
        return set()
    return {s.group if groups else s.output for s in lay.steps}


def _held(model: Model, g: str, x: Mapping[str, Any]) -> np.ndarray:
    """The group's value in its held form ``c <= 0`` (``== 0``) at ``x``."""
    con = model.groups[g]
    z = model.join(dict(x))
    v = con.body.value(z)
    held = v - con.hi if con.sense in ("<=", "==") else con.lo - v
    return np.asarray(held, dtype=float).reshape(con.shape)


def _projected_residual(model: Model, g: str, mu: np.ndarray, c: np.ndarray) -> float:
    if model.groups[g].sense == "==":
        return float(np.max(np.abs(c), initial=0.0))
    return float(np.max(np.abs(mu - np.maximum(mu + c, 0.0)), initial=0.0))


def _solution(
    problem: Problem,
    groups: tuple[str, ...],
    x: Mapping[str, np.ndarray],
    mu: Mapping[str, np.ndarray],
    inner: Any,
    bound: float,
    records: list[Mapping[str, float]],
    term: Termination,
    t0: float,
) -> Solution:
    model = problem.model
    lam = {g: np.asarray(v, dtype=float) for g, v in mu.items()}
    if inner is not None:
        lam.update({g: v for g, v in inner.multipliers.items() if g not in lam})
    tol = 1e-6
    if model.m <= 20000:
        rep = kkt.certify(model, dict(x), lam, tol=tol)
    else:
        rep = certify_matrix_free(model, dict(x), lam, tol=tol)
    f = model.objective_value(model.join(dict(x)))
    return Solution(
        status=judge(Status.OPTIMAL, rep),
        termination=term,
        objective=f,
        bound=bound,
        gap=signed_gap(model, f, bound),
        x={k: np.asarray(v, dtype=float) for k, v in x.items()},
        multipliers=lam,
        shadow_prices=kkt.shadow_prices(model, lam),
        kkt=rep,
        history=History.from_records(records),
        solver="dual_ascent",
        iterations=len(records),
        seconds=time.perf_counter() - t0,
        message="; ".join(rep.notes),
        info={"relaxed": groups},
    )
