"""What the standalone Lagrangian solves with capacity rows share (GAP, multidimensional knapsack).

:mod:`ortools_lag.algorithms.gap_relaxation` and :mod:`ortools_lag.algorithms.mknap_relaxation`
take an objective, a non-negative weight matrix and non-negative capacities (rows
``weight @ x <= capacity``, one per agent or per dimension): :func:`check_capacity_data` is their
one check of those arrays, with the family's name in its errors. Their oracles return a
:class:`LagrangianOracleResult` and their solves a :class:`LagrangianSolveResult` (``GAPResult``
adds the sense and the assignment).

>>> import numpy as np
>>> check_capacity_data("demo", True, cost=np.ones(2), weight=-np.ones((1, 2)), capacity=np.ones(1))
Traceback (most recent call last):
...
ortools_lag.errors.ModelError: demo weights and capacities must be >= 0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ortools_lag.algorithms.dual_bundle import DualTrace
from ortools_lag.errors import ModelError

__all__ = ["LagrangianOracleResult", "LagrangianSolveResult", "check_capacity_data"]


def check_capacity_data(family: str, shapes_agree: bool, **arrays: np.ndarray) -> None:
    """Raise :class:`~ortools_lag.errors.ModelError` unless the shapes agree, every array is
    finite and ``arrays["weight"]`` and ``arrays["capacity"]`` are ``>= 0``.

    ``arrays`` are the instance's arrays by name (the objective first), as the errors show them.

    >>> check_capacity_data("demo", False, cost=np.ones(2), weight=np.ones(2), capacity=np.ones(1))
    Traceback (most recent call last):
    ...
    ortools_lag.errors.ModelError: demo shapes disagree: cost (2,), weight (2,), capacity (1,)
    """
    if not shapes_agree:
        shapes = ", ".join(f"{name} {a.shape}" for name, a in arrays.items())
        raise ModelError(f"{family} shapes disagree: {shapes}")
    if not all(np.all(np.isfinite(a)) for a in arrays.values()):
        raise ModelError(f"{family} data must be finite")
    if np.any(arrays["weight"] < 0) or np.any(arrays["capacity"] < 0):
        raise ModelError(f"{family} weights and capacities must be >= 0")


@dataclass(frozen=True)
class LagrangianOracleResult:
    """The relaxed problem at given multipliers, in the min form.

    Attributes
    ----------
    value
        The Lagrangian at its minimiser ``x``: a lower bound on the min form.
    x
        The minimiser (boolean).
    subgradient
        The relaxed rows at ``x``: a subgradient of the dual function.
    """

    value: float
    x: np.ndarray
    subgradient: np.ndarray


@dataclass(frozen=True)
class LagrangianSolveResult:
    """A standalone Lagrangian solve: the bound, the best point found, and what found them.

    Attributes
    ----------
    bound
        The Lagrangian bound at ``multipliers``, in the problem's sense (an upper bound on a
        maximum, a lower bound on a minimum).
    objective
        The value of ``x``.
    x
        The best feasible point found.
    multipliers
        The multipliers of the relaxed rows at which ``bound`` was reached.
    gap
        The relative gap ``|objective - bound| / max(1, |objective|)``.
    proven_optimal
        Whether the bound meets the objective (rounded to an integer first when the objective
        coefficients are integers).
    bound_method, point_method
        What produced the bound and the point.
    trace
        The dual iterations (history arrays).
    seconds
        Wall time.
    """

    bound: float
    objective: float
    x: np.ndarray
    multipliers: np.ndarray
    gap: float
    proven_optimal: bool
    bound_method: str
    point_method: str
    trace: DualTrace
    seconds: float
