"""What the ``callback`` option of the ``adjoint`` solver hears after each epoch.

The weight optimisers of :mod:`ortools_lag.solvers.nn.adjoint` minimise the reduced objective
``s * f`` (``s = -1`` for a maximisation) plus ``mu . c`` for the groups with fixed multipliers;
:func:`report` turns one epoch's value back into the user's sense and asks the callback whether
to stop.

>>> seen = []
>>> report(seen.append, epoch=3, value=-2.5, sense=-1, gradient_norm=0.1, t0=0.0)
False
>>> seen[0].iteration, seen[0].objective, seen[0].gradient_norm
(3, 2.5, 0.1)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["AdjointProgress", "report"]


@dataclass(frozen=True)
class AdjointProgress:
    """One epoch (one L-BFGS iteration) of the ``adjoint`` solver, in the user's sense.

    Attributes
    ----------
    iteration
        The epoch just finished (from 1).
    objective
        The objective over the epoch's batches (their mean; with fixed multipliers, the
        Lagrangian ``f + mu . c``).
    gradient_norm
        The largest weight-gradient entry on the full batch (``nan`` with mini-batches).
    bound, gap
        ``nan``: reduced-space training proves no bound while it runs.
    seconds
        Time since the solve started.
    """

    iteration: int
    objective: float
    gradient_norm: float
    seconds: float
    bound: float = math.nan
    gap: float = math.nan


def report(
    callback: Callable[[AdjointProgress], Any] | None,
    epoch: int,
    value: float,
    sense: float,
    gradient_norm: float,
    t0: float,
) -> bool:
    """Tell ``callback`` (if any) of one epoch; ``True`` when it asks to stop."""
    if callback is None:
        return False
    secs = time.perf_counter() - t0
    progress = AdjointProgress(int(epoch), sense * float(value), float(gradient_norm), secs)
    return bool(callback(progress))
