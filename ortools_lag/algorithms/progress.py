"""An observer of iterative algorithms: who wants to hear of each iteration, if anyone.

The plain algorithms of this package take arrays and return dataclasses; they know nothing of
solvers, options or progress bars. A solver that wants to follow one (the command line's
progress bar) sets an observer for the duration of the call with :func:`observing`; the
algorithm calls :func:`tick` once per iteration, which costs one context-variable lookup when
nobody listens. Values are those of the minimisation form the algorithms work in; the observer
is told the model's sense once, and :class:`Tick` carries the user's values.

>>> seen = []
>>> with observing(seen.append, sense=-1):
...     tick(1, bound=-5.0, primal=-3.0)
>>> seen[0].iteration, seen[0].bound, seen[0].objective, seen[0].gap
(1, 5.0, 3.0, 2.0)
>>> tick(2, bound=0.0, primal=1.0)  # nobody listens: nothing happens
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["Tick", "observing", "tick"]


@dataclass(frozen=True)
class Tick:
    """One iteration as an observer sees it (the user's sense).

    Attributes
    ----------
    iteration
        The iteration just finished (from 1).
    bound, objective
        The best bound and the best feasible objective so far (``nan`` when none).
    gap
        ``|objective - bound|`` (``nan`` until both are known).
    """

    iteration: int
    bound: float
    objective: float
    gap: float


_OBSERVER: contextvars.ContextVar[tuple[Callable[[Tick], Any], int] | None] = (
    contextvars.ContextVar("ortools_lag_observer", default=None)
)


@contextmanager
def observing(callback: Callable[[Tick], Any] | None, sense: int = 1) -> Iterator[None]:
    """Let ``callback`` hear every :func:`tick` inside the block (``None``: nobody listens).

    ``sense`` is ``+1`` for a minimisation and ``-1`` for a maximisation held as the
    minimisation of ``-f`` (the ticks' values are then negated).
    """
    token = _OBSERVER.set(None if callback is None else (callback, sense))
    try:
        yield
    finally:
        _OBSERVER.reset(token)


def tick(iteration: int, bound: float, primal: float) -> None:
    """Tell the observer, if any, of one iteration (minimisation-form values)."""
    seen = _OBSERVER.get()
    if seen is None:
        return
    callback, s = seen
    b, p = s * float(bound), s * float(primal)
    p = p if math.isfinite(p) else math.nan
    gap = abs(p - b) if math.isfinite(p) and math.isfinite(b) else math.nan
    callback(Tick(int(iteration), b, p, gap))
