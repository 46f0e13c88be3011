"""ortools_lag: constrained optimisation with Lagrangian duality and certificates.

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2, lb=None)
>>> m.minimize((x * x).sum()); _ = m.add("sum", x.sum() == 1)
>>> sol = solve(m, "highs")
>>> round(float(sol.multipliers["sum"]), 6)
-1.0
"""

from .errors import (
    BackendUnavailableError,
    ModelError,
    NotSupportedError,
    OptionError,
    OrtoolsLagError,
    SpecError,
    UnknownSolverError,
)
from .model import Model
from .problem import Problem, Relaxation
from .result import History, KKTReport, Solution, Status, Termination
from .solvers.dispatch import solve

__all__ = [
    "BackendUnavailableError",
    "History",
    "KKTReport",
    "Model",
    "ModelError",
    "NotSupportedError",
    "OptionError",
    "OrtoolsLagError",
    "Problem",
    "Relaxation",
    "Solution",
    "SpecError",
    "Status",
    "Termination",
    "UnknownSolverError",
    "solve",
]

__version__ = "0.1.0"
