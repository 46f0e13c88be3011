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

__all__ = ["convergence", "unavailable"]


def _series(h: History, name: str) -> np.ndarray:
    """A history column as floats of the history's length (``nan`` where it was not recorded)."""
    values = np.asarray(getattr(h, name), dtype=float)
    if values.shape != (len(h),):
        return np.full(len(h), np.nan)
    return values


def _positive(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: non-positive and non-finite entries become NaN (gaps)."""
    out = np.asarray(values, dtype=float).copy()
    out[~(out > 0)] = np.nan
    return out


def _missing(ax: Axes, what: str) -> None:
    """Say in the panel why it is empty, rather than leave blank axes."""
    ax.text(0.5, 0.5, what, ha="center", va="center", transform=ax.transAxes, color="0.4")


def _bounds_panel(ax: Axes, h: History, upper: bool, solver: str) -> None:
    it = h.iteration
    dual, bound, primal = (_series(h, k) for k in ("dual_value", "bound", "primal"))
    if np.isfinite(dual).any():
        ax.plot(it, dual, ".", color="0.6", ms=3, label="dual value q(λ)")
    if np.isfinite(bound).any():
        ax.plot(it, bound, "-", color="C0", label="best bound")
    if np.isfinite(primal).any():
        ax.plot(it, primal, "-", color="C3", label="best feasible")
        lo, hi = (primal, bound) if upper else (bound, primal)
        ok = np.isfinite(primal) & np.isfinite(bound)
        if ok.any():
            ax.fill_between(it, lo, hi, where=ok, color="C1", alpha=0.2, label="gap")
    ax.set_title("bounds and gap")
    ax.set_ylabel("objective")
    if ax.get_lines():
        ax.legend(loc="best", fontsize="small")
    else:
        _missing(ax, f"{solver} recorded no bound and no feasible point")


def _log_panel(
    ax: Axes, it: np.ndarray, values: np.ndarray, title: str, label: str, solver: str
) -> None:
    vals = _positive(values)
    ax.set_title(title)
    ax.set_ylabel(label)
    if np.isfinite(values).any():
        ax.plot(it, vals, "-", color="C2")
    if np.isfinite(vals).any():
        ax.set_yscale("log")
    elif np.isfinite(values).any():
        _missing(ax, "zero at every iteration")
    else:
        _missing(ax, f"not recorded by {solver}")


def unavailable(solution: Solution) -> str | None:
    """Why a solution has no convergence figure (``None`` when it has one).

    >>> from ortools_lag import Solution, Status, Termination
    >>> unavailable(Solution(Status.OPTIMAL, Termination.CONVERGED, solver="highs"))
    "solver 'highs' records no per-iteration history"
    """
    h = solution.history
    who = repr(solution.solver or "?")
    if h is None or len(h) == 0:
        return f"solver {who} records no per-iteration history"
    if len(h) == 1:
        return f"solver {who} finished in one iteration: there is no course to draw"
    return None


def convergence(solution: Solution, *, title: str | None = None, **fig_kw: Any) -> Figure:
    """A Figure of a solve's convergence: bounds and gap, step size, violation norm.

    Every panel draws the Solution's own history; a series the solver did not record is said
    so inside its panel. The last point of the best-feasible line is the reported objective.

    Parameters
    ----------
    solution
        A Solution with a ``history`` of two iterations or more (from an iterative solver).
    title
        The figure's title (default: the solver, status, bound and objective).
    **fig_kw
        Passed to ``matplotlib.figure.Figure`` (``figsize``, ``dpi``...).

    Returns
    -------
    matplotlib.figure.Figure
        Three stacked panels sharing the iteration axis.

    Raises
    ------
    ModelError
        When there is nothing to draw (no history, or one iteration): :func:`unavailable`
        says why.
    """
    from matplotlib.figure import Figure

    why = unavailable(solution)
    if why is not None:
        raise ModelError(f"no convergence figure: {why}")
    h = solution.history
    assert h is not None
    solver = solution.solver or "the solver"
    fig_kw.setdefault("figsize", (7.0, 8.0))
    fig = Figure(**fig_kw)
    axes = fig.subplots(3, 1, sharex=True)
    bound, primal = _series(h, "bound"), _series(h, "primal")
    both = np.isfinite(bound) & np.isfinite(primal)  # which side the bound is on
    upper = bool(np.mean(bound[both] - primal[both]) > 0) if both.any() else False
    _bounds_panel(axes[0], h, upper, solver)
    _log_panel(axes[1], h.iteration, _series(h, "step"), "step size", "step", solver)
    _log_panel(
        axes[2],
        h.iteration,
        _series(h, "violation"),
        "violation of the relaxed constraints",
        "norm",
        solver,
    )
    axes[2].set_xlabel("iteration")
    fig.suptitle(
        title
        or f"{solution.solver}: {solution.status.value}, bound {solution.bound:.6g}, "
        f"objective {solution.objective:.6g}"
    )
    fig.tight_layout()
    return fig
