"""ortools_lag: constrained optimisation with Lagrangian duality and certificates.

The public names are loaded on first use, so that ``ortools-lag --help`` answers without
importing numpy, scipy or pydantic.

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2, lb=None)
>>> m.minimize((x * x).sum()); _ = m.add("sum", x.sum() == 1)
>>> sol = solve(m, "highs")
>>> round(float(sol.multipliers["sum"]), 6)
-1.0
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ortools_lag.errors import (
        BackendUnavailableError,
        ModelError,
        NotSupportedError,
        OptionError,
        OrtoolsLagError,
        SpecError,
        UnknownSolverError,
    )
    from ortools_lag.model import Model
    from ortools_lag.problem import Problem, Relaxation
    from ortools_lag.result import History, KKTReport, Solution, Status, Termination
    from ortools_lag.solvers.dispatch import solve

_WHERE = {
    "BackendUnavailableError": "errors",
    "ModelError": "errors",
    "NotSupportedError": "errors",
    "OptionError": "errors",
    "OrtoolsLagError": "errors",
    "SpecError": "errors",
    "UnknownSolverError": "errors",
    "Model": "model",
    "Problem": "problem",
    "Relaxation": "problem",
    "History": "result",
    "KKTReport": "result",
    "Solution": "result",
    "Status": "result",
    "Termination": "result",
    "solve": "solvers.dispatch",
}

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


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ortools_lag' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
