"""The live progress bar of ``ortools-lag solve`` for iterative solvers (rich, on stderr).

The bar feeds on the ``callback`` option of the dual methods: called once per iteration with the
solver's state, it reads the iteration, the best bound and the best primal value, and shows the
bound and the gap. It never asks the solver to stop. The CLI shows it only on a terminal and never
with ``--quiet``.
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
        self.calls += 1
        it = _get(state, "iteration", "k")
        bound = _get(state, "best_bound", "bound", "dual_bound")
        primal = _get(state, "objective", "best_primal", "primal")
        gap = _get(state, "gap")
        if not math.isfinite(gap) and math.isfinite(primal) and math.isfinite(bound):
            gap = primal - bound
        self.progress.update(
            self.task,
            completed=int(it) if math.isfinite(it) else self.calls,
            bound=_fmt(bound),
            primal=_fmt(primal),
            gap=_fmt(abs(gap)),
        )
        return False

    def __enter__(self) -> ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()
