"""The live progress bar of ``ortools-lag solve`` for iterative solvers (rich, on stderr).

The bar feeds on the ``callback`` option that every iterative solver takes: the dual methods'
loop (subgradient, bundle, alm, ...) and the family solvers (held_karp, gap_lagrangian,
beasley, ufl_lagrangian, ...) call it once per iteration; it reads the iteration, the best bound
and the best feasible value, and shows the bound and the gap. It never asks the solver to stop.
When the run ends before its iteration limit (converged), the bar closes at the final count.
The CLI shows it only on a terminal and never with ``--quiet``.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["ProgressBar"]


def _get(state: Any, *names: str) -> float:
    for name in names:
        value = state.get(name) if isinstance(state, dict) else getattr(state, name, None)
        if value is not None:
            try:
                return float(value)
            except (TypeError, ValueError):
                continue
    return math.nan


def _fmt(value: float) -> str:
    return "—" if not math.isfinite(value) else f"{value:.6g}"


class ProgressBar:
    """A rich progress bar driven by a solver's per-iteration callback.

    Parameters
    ----------
    total
        The iteration limit (``None``: unknown).
    sense
        +1 for a minimisation, -1 for a maximisation (for the sign of the gap).
    """

    def __init__(self, total: int | None, sense: int = 1) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.sense = sense
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("bound {task.fields[bound]}  best {task.fields[primal]}"),
            TextColumn("gap {task.fields[gap]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.task = self.progress.add_task("solving", total=total, bound="—", primal="—", gap="—")
        self.calls = 0
        self.counts_calls = False

    @classmethod
    def for_solver(cls, name: str, options: dict[str, Any]) -> ProgressBar | None:
        """A bar for ``name`` when it takes a ``callback`` option, else ``None``."""
        from ortools_lag.solvers import registry

        try:
            schema = registry.get(name).Options
        except Exception:
            return None
        fields = schema.model_fields
        if "callback" not in fields:
            return None
        total = options.get(
            "max_iter", fields["max_iter"].default if "max_iter" in fields else None
        )
        return cls(int(total) if isinstance(total, (int, float)) else None)

    def callback(self, state: Any, *args: Any) -> bool:
        """Update the bar from the solver's state; never stops the run."""
        from ortools_lag.algorithms.progress import Tick

        self.calls += 1
        self.counts_calls = isinstance(state, Tick)  # one tick per iteration
        it = _get(state, "iteration", "k")
        if self.counts_calls or not math.isfinite(it):  # a family's rounds restart at 1
            it = self.calls
        bound = _get(state, "best_bound", "bound", "dual_bound")
        primal = _get(state, "objective", "best_primal", "primal")
        gap = _get(state, "gap")
        if not math.isfinite(gap) and math.isfinite(primal) and math.isfinite(bound):
            gap = primal - bound
        self.progress.update(
            self.task,
            completed=int(it),
            bound=_fmt(bound),
            primal=_fmt(primal),
            gap=_fmt(abs(gap)),
        )
        return False

    def finish(self, solution: Any) -> None:
        """The last frame: the solution's own bound and objective (after any final polish)."""
        bound, primal = float(solution.bound), float(solution.objective)
        gap = abs(primal - bound) if math.isfinite(primal) and math.isfinite(bound) else math.nan
        self.progress.update(self.task, bound=_fmt(bound), primal=_fmt(primal), gap=_fmt(gap))

    def __enter__(self) -> ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        done = self.progress.tasks[0].completed
        self.progress.update(self.task, total=done, completed=done)  # closes at the final count
        self.progress.stop()
