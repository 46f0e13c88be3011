"""The dual maximiser shared by the standalone Lagrangian solves (knapsack, GAP, CSP, max-cut).

:func:`maximize_dual` maximises a concave dual function ``L(lam)`` given by an oracle
``lam -> (L(lam), subgradient)`` over a box of multipliers (``lower <= lam <= upper``: ``0`` for
the multipliers of inequality rows, ``-inf`` for equality rows). Two methods:

- ``"bundle"``: a trust-region bundle method (Linderoth & Wright 2003) whose master
  ``max theta  s.t.  theta <= L(lam_k) + g_k (lam - lam_k)`` for every cut ``k``, within an
  ``inf``-norm box around the centre, is an LP solved by HiGHS (highspy). (HiGHS's QP solver can
  cycle on the degenerate masters of a proximal bundle, which is why the box form is used.)
- ``"subgradient"``: Polyak steps ``t = alpha (target - L) / |g|^2`` towards the best known
  primal value, with Held–Wolfe–Crowder halving of ``alpha`` after ``patience`` misses.

Every evaluation is recorded in a :class:`DualTrace` (values, best values, incumbents, steps,
times). An oracle raises :class:`InvalidPoint` where it cannot evaluate the dual function (a
negative Lagrangian cycle, for instance); the method then steps back. The multipliers' meaning
is the caller's: each relaxation documents its own.

>>> f = lambda lam: (min(5 + lam[0], 13 - lam[0]), np.array([1.0 if lam[0] < 4 else -1.0]))
>>> tr = maximize_dual(f, [0.0], 0.0)
>>> round(tr.value, 6), round(float(tr.lam[0]), 6), tr.termination
(9.0, 4.0, 'converged')
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ortools_lag.algorithms.progress import tick
from ortools_lag.errors import ModelError

__all__ = ["DualTrace", "InvalidPoint", "Oracle", "maximize_dual"]

Oracle = Callable[[np.ndarray], tuple[float, np.ndarray]]


class InvalidPoint(Exception):
    """Raised by an oracle at multipliers where it cannot evaluate the dual function."""


@dataclass(frozen=True)
class DualTrace:
    """The course of a dual maximisation.

    Attributes
    ----------
    lam
        The multipliers of the best dual value.
    value
        The best dual value ``L(lam)`` (a valid bound).
    values
        ``(k,)`` the dual value at every evaluated point.
    best_values
        ``(k,)`` the best dual value so far.
    incumbents
        ``(k,)`` the best primal objective so far (``inf`` when none); from ``incumbent``.
    steps
        ``(k,)`` the length of the step that led to each point (0 for the first).
    seconds
        ``(k,)`` the time of each evaluation since the start.
    violations
        ``(k,)`` the norm of the relaxed rows' violation at each point: the supergradient,
        less its components that push a multiplier past its bound (a slack inequality row).
    termination
        ``"converged"``, ``"stopped"`` (the ``stop`` test held), ``"iteration_limit"`` or
        ``"time_limit"``.
    method
        ``"bundle"`` or ``"subgradient"``.
    """

    lam: np.ndarray
    value: float
    values: np.ndarray
    best_values: np.ndarray
    incumbents: np.ndarray
    steps: np.ndarray
    seconds: np.ndarray
    termination: str
    method: str
    violations: np.ndarray | None = None

    @property
    def iterations(self) -> int:
        """The number of oracle evaluations."""
        return int(self.values.size)


class _Recorder:
    """Evaluates the oracle, keeps the best point and the history arrays."""

    def __init__(
        self,
        oracle: Oracle,
        incumbent: Callable[[], float] | None,
        bounds: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.oracle = oracle
        self.incumbent = incumbent
        self.bounds = bounds
        self.start = time.perf_counter()
        self.best = -math.inf
        self.best_lam: np.ndarray | None = None
        self.rows: list[tuple[float, float, float, float, float, float]] = []

    def __call__(self, lam: np.ndarray, step: float) -> tuple[float, np.ndarray]:
        value, grad = self.oracle(lam)
        value = float(value)
        if value > self.best:
            self.best, self.best_lam = value, lam.copy()
        inc = self.incumbent() if self.incumbent is not None else math.inf
        g = np.asarray(grad, dtype=np.float64)
        viol = g
        if self.bounds is not None:  # a row whose multiplier sits at its bound is not violated
            lo, hi = self.bounds
            viol = np.where(((lam <= lo) & (g < 0)) | ((lam >= hi) & (g > 0)), 0.0, g)
        now = time.perf_counter() - self.start
        self.rows.append((value, self.best, inc, step, now, float(np.linalg.norm(viol))))
        tick(len(self.rows), self.best, inc)
        return value, g

    def trace(self, termination: str, method: str) -> DualTrace:
        arr = np.array(self.rows, dtype=np.float64).reshape(-1, 6)
        assert self.best_lam is not None
        return DualTrace(
            lam=self.best_lam,
            value=self.best,
            values=arr[:, 0],
            best_values=arr[:, 1],
            incumbents=arr[:, 2],
            steps=arr[:, 3],
            seconds=arr[:, 4],
            termination=termination,
            method=method,
            violations=arr[:, 5],
        )


class _Master:
    """Trust-region bundle master: ``max theta`` s.t. cuts, ``|lam - c|_inf <= radius`` (HiGHS)."""

    def __init__(self, lower: np.ndarray, upper: np.ndarray) -> None:
        import highspy

        from ortools_lag.highs_model import new_highs

        self.hs = highspy
        self.d = d = lower.size
        self.h = h = new_highs()  # quiet: no banner on stdout
        h.setOptionValue("output_flag", False)
        h.setOptionValue("presolve", "off")
        self.inf = inf = highspy.kHighsInf
        self.lo = np.where(np.isfinite(lower), lower, -inf)
        self.hi = np.where(np.isfinite(upper), upper, inf)
        h.addVars(d + 1, np.r_[self.lo, -inf], np.r_[self.hi, inf])
        h.changeColCost(d, -1.0)
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        self.cols = np.arange(d + 1, dtype=np.int32)
        self.ages: list[int] = []

    def set_box(self, centre: np.ndarray, radius: float) -> None:
        lo = np.maximum(self.lo, centre - radius)
        hi = np.minimum(self.hi, centre + radius)
        self.h.changeColsBounds(self.d, self.cols[: self.d], lo, hi)

    def add_cut(self, grad: np.ndarray, value: float, lam: np.ndarray) -> None:
        rhs = value - float(grad @ lam)
        self.h.addRow(-self.inf, rhs, self.d + 1, self.cols, np.r_[-grad, 1.0])
        self.ages.append(0)

    def solve(self) -> tuple[np.ndarray, float] | None:
        self.h.run()
        if self.h.getModelStatus() != self.hs.HighsModelStatus.kOptimal:
            return None
        sol = self.h.getSolution()
        x = np.asarray(sol.col_value)
        duals = np.abs(np.asarray(sol.row_dual))
        self.ages = [0 if dv > 1e-10 else a + 1 for a, dv in zip(self.ages, duals, strict=True)]
        return x[: self.d], float(x[self.d])

    def prune(self, max_age: int) -> None:
        old = np.flatnonzero(np.array(self.ages) > max_age)
        if old.size and old.size < len(self.ages):
            self.h.deleteRows(int(old.size), old.astype(np.int32))
            self.ages = [a for a in self.ages if a <= max_age]


def _first_radius(value: float, grad: np.ndarray, opts: dict) -> float:
    gap0 = opts["target"]() - value if opts["target"] is not None else math.inf
    if not math.isfinite(gap0) or gap0 <= 0:
        gap0 = 0.05 * abs(value) + 1e-3
    norm2 = float(grad @ grad)
    if norm2 == 0.0:
        return 1.0
    return max(gap0 / norm2 * float(np.abs(grad).max()), 1e-6)


def _bundle(rec: _Recorder, lam: np.ndarray, bounds: tuple, opts: dict) -> str:
    """Trust-region bundle (Linderoth & Wright 2003): an LP master in a box around the centre."""
    value, grad = rec(lam, 0.0)
    master = _Master(*bounds)
    master.add_cut(grad, value, lam)
    centre, f_c = lam, value
    radius, misses, widened = _first_radius(value, grad, opts), 0, 0
    for _ in range(opts["max_iter"] - 1):
        reason = _limits(rec, opts)
        if reason is not None:
            return reason
        master.set_box(centre, radius)
        out = master.solve()
        if out is None:
            return "numerical_error"
        trial, theta = out
        delta = theta - f_c
        step = float(np.abs(trial - centre).max())
        if delta <= opts["tol"] * (1.0 + abs(f_c)):
            # the model's maximum is global only when the trust region does not bind
            if step < 0.99 * radius or widened >= 8:
                return "converged"
            radius, widened = 4.0 * radius, widened + 1
            continue
        widened = 0
        try:
            value, grad = rec(trial, step)
        except InvalidPoint:
            radius = step / 4.0
            continue
        master.add_cut(grad, value, trial)
        if value >= f_c + 1e-4 * delta:
            if value >= f_c + 0.5 * delta and step >= 0.99 * radius:
                radius = min(2.0 * radius, 1e9)
            centre, f_c, misses = trial, value, 0
        else:
            rho = (f_c - value) / delta
            misses += rho > 0
            if rho > 3.0 or (misses >= 3 and rho > 1.0):
                radius, misses = radius / min(rho, 4.0), 0
        master.prune(opts["max_age"])
    return "iteration_limit"


def _limits(rec: _Recorder, opts: dict) -> str | None:
    if opts["stop"] is not None and opts["stop"](rec.best):
        return "stopped"
    if opts["time_limit"] is not None:
        now = time.perf_counter() - rec.start
        last = rec.rows[-1][4] - rec.rows[-2][4] if len(rec.rows) > 1 else 0.0
        if now + last > opts["time_limit"]:
            return "time_limit"
    return None


def _subgradient(rec: _Recorder, lam: np.ndarray, bounds: tuple, opts: dict) -> str:
    lower, upper = bounds
    alpha, since, step = 2.0, 0, 0.0
    best_lam, best = lam.copy(), -math.inf
    for _ in range(opts["max_iter"]):
        reason = _limits(rec, opts) if rec.rows else None
        if reason is not None:
            return reason
        try:
            value, grad = rec(lam, step)
        except InvalidPoint:
            lam, alpha = best_lam + 0.5 * (lam - best_lam), alpha / 2.0
            continue
        if best == -math.inf or value > best + 1e-12 * abs(best):
            best, best_lam, since = value, lam.copy(), 0
        else:
            since += 1
            if since >= opts["patience"]:
                alpha, since = alpha / 2.0, 0
        d = np.where(((lam <= lower) & (grad < 0)) | ((lam >= upper) & (grad > 0)), 0.0, grad)
        norm2 = float(d @ d)
        if norm2 == 0.0:
            return "converged"
        if alpha < opts["min_alpha"]:
            return "converged"
        target = opts["target"]() if opts["target"] is not None else math.inf
        if not math.isfinite(target) or target <= value:
            target = best + 0.05 * abs(best) + 1e-3
        new = np.clip(lam + alpha * (target - value) / norm2 * d, lower, upper)
        step, lam = float(np.linalg.norm(new - lam)), new
    return "iteration_limit"


def maximize_dual(
    oracle: Oracle,
    lam0: ArrayLike,
    lower: ArrayLike | float = -np.inf,
    upper: ArrayLike | float = np.inf,
    *,
    method: str = "bundle",
    max_iter: int = 500,
    time_limit: float | None = None,
    tol: float = 1e-7,
    target: Callable[[], float] | None = None,
    stop: Callable[[float], bool] | None = None,
    patience: int = 10,
) -> DualTrace:
    """Maximise a concave dual function given by an oracle over a box of multipliers.

    Parameters
    ----------
    oracle
        ``lam -> (L(lam), subgradient)``; may raise :class:`InvalidPoint` outside its domain.
    lam0
        Starting multipliers (must be valid for the oracle).
    lower, upper
        Bounds on the multipliers (``0`` for inequality rows, ``-inf`` for equality rows).
    method
        ``"bundle"`` (trust-region bundle, HiGHS LP master) or ``"subgradient"`` (Polyak steps
        towards ``target()`` with Held–Wolfe–Crowder halving after ``patience`` misses).
    max_iter, time_limit
        Limits on oracle calls and seconds.
    tol
        Bundle: stop when the predicted increase is below ``tol * (1 + |L|)``.
    target
        Returns the best known primal objective (an upper bound on the dual), or ``inf``.
    stop
        Called with the best dual value; return ``True`` to stop (for example a closed gap).

    Returns
    -------
    DualTrace

    Examples
    --------
    >>> f = lambda lam: (min(5 + lam[0], 13 - lam[0]), np.array([1.0 if lam[0] < 4 else -1.0]))
    >>> tr = maximize_dual(f, [0.0], 0.0)
    >>> round(tr.value, 6), round(float(tr.lam[0]), 6), tr.termination
    (9.0, 4.0, 'converged')
    """
    lam = np.atleast_1d(np.asarray(lam0, dtype=np.float64)).copy()
    lo = np.broadcast_to(np.asarray(lower, dtype=np.float64), lam.shape).copy()
    hi = np.broadcast_to(np.asarray(upper, dtype=np.float64), lam.shape).copy()
    if np.any(lo > hi):
        raise ModelError("maximize_dual: lower bound above upper bound")
    lam = np.clip(lam, lo, hi)
    opts = dict(
        max_iter=max(1, int(max_iter)),
        time_limit=time_limit,
        tol=tol,
        target=target,
        stop=stop,
        patience=patience,
        min_alpha=1e-6,
        max_age=max(25, min(2 * lam.size, 60)),
    )
    rec = _Recorder(oracle, target, (lo, hi))
    if method == "bundle":
        reason = _bundle(rec, lam, (lo, hi), opts)
    elif method == "subgradient":
        reason = _subgradient(rec, lam, (lo, hi), opts)
    else:
        raise ModelError(f"unknown dual method {method!r} (valid choices: bundle, subgradient)")
    if reason != "stopped" and _limits(rec, opts) == "stopped":
        reason = "stopped"
    return rec.trace(reason, method)
