"""Dantzig-Wolfe column generation on a relaxation plan.

``master`` holds the restricted master LP (one live HiGHS model, columns added warm),
``pricing`` the kept part's blocks and the columns one evaluation of the Lagrangian gives, and
``solver`` the method (``init``/``step`` in the shared dual loop) and the registered solver
``dantzig_wolfe``.
"""

from ortools_lag.solvers.column_generation.solver import (
    DantzigWolfeMethod,
    DantzigWolfeOptions,
    DantzigWolfeSolver,
    DantzigWolfeState,
)

__all__ = ["DantzigWolfeMethod", "DantzigWolfeOptions", "DantzigWolfeSolver", "DantzigWolfeState"]
