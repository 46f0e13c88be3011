"""Convergence figures of iterative solves (matplotlib).

:func:`convergence` draws a Solution's history in three panels: the dual value at each iterate,
the best bound and the best feasible objective (with the gap shaded between them); the step
size; and the norm of the relaxed constraints' violation. The CLI and the teaching examples
reuse this one figure. Nothing is shown: the caller saves or displays the Figure.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2, ub=1)
>>> m.minimize(-x[0] - 2 * x[1]); _ = m.add("cap", x.sum() <= 1.5)
>>> fig = convergence(solve(m, "subgradient", relax=["cap"]))
>>> [ax.get_title() for ax in fig.axes]
['bounds and gap', 'step size', 'violation of the relaxed constraints']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ortools_lag.errors import ModelError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ortools_lag.result import History, Solution

__all__ = ["convergence"]


def _positive(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: non-positive and non-finite entries become NaN (gaps)."""
    out = np.asarray(values, dtype=float).copy()
    out[~(out > 0)] = np.nan
    return out


def _bounds_panel(ax: Axes, h: History, upper: bool) -> None:
    it = h.iteration
    ax.plot(it, h.dual_value, ".", color="0.6", ms=3, label="dual value q(λ)")
    ax.plot(it, h.bound, "-", color="C0", label="best bound")
    if np.isfinite(h.primal).any():
        ax.plot(it, h.primal, "-", color="C3", label="best feasible")
        lo, hi = (h.primal, h.bound) if upper else (h.bound, h.primal)
        ok = np.isfinite(h.primal) & np.isfinite(h.bound)
        ax.fill_between(it, lo, hi, where=ok, color="C1", alpha=0.2, label="gap")
    ax.set_title("bounds and gap")
    ax.set_ylabel("objective")
    ax.legend(loc="best", fontsize="small")


def _log_panel(ax: Axes, it: np.ndarray, values: np.ndarray, title: str, label: str) -> None:
    vals = _positive(values)
    ax.plot(it, vals, "-", color="C2")
    if np.isfinite(vals).any():
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_ylabel(label)


def convergence(solution: Solution, *, title: str | None = None, **fig_kw: Any) -> Figure:
    """A Figure of a solve's convergence: bounds and gap, step size, violation norm.

    Parameters
    ----------
    solution
        A Solution with a ``history`` (from an iterative solver).
    title
        The figure's title (default: the solver, status and bound).
    **fig_kw
        Passed to ``matplotlib.figure.Figure`` (``figsize``, ``dpi``...).

    Returns
    -------
    matplotlib.figure.Figure
        Three stacked panels sharing the iteration axis.

    Raises
    ------
    ModelError
        When the solution has no history.
    """
    from matplotlib.figure import Figure

    h = solution.history
    if h is None or len(h) == 0:
        raise ModelError(f"solution of {solution.solver or 'a solver'!r} has no history to plot")
    fig_kw.setdefault("figsize", (7.0, 8.0))
    fig = Figure(**fig_kw)
    axes = fig.subplots(3, 1, sharex=True)
    both = np.isfinite(h.bound) & np.isfinite(h.primal)  # which side the bound is on
    upper = bool(np.mean(h.bound[both] - h.primal[both]) > 0) if both.any() else False
    _bounds_panel(axes[0], h, upper)
    _log_panel(axes[1], h.iteration, h.step, "step size", "step")
    _log_panel(axes[2], h.iteration, h.violation, "violation of the relaxed constraints", "norm")
    axes[2].set_xlabel("iteration")
    fig.suptitle(
        title
        or f"{solution.solver}: {solution.status.value}, bound {solution.bound:.6g}, "
        f"objective {solution.objective:.6g}"
    )
    fig.tight_layout()
    return fig
