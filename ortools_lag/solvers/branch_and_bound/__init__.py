"""Branch-and-bound on Lagrangian bounds (the ``lagrangian_bnb`` solver).

``relaxation`` (a node's bound under branching bounds), ``ascent`` (the dual method at a node and
the incumbent), ``node`` (nodes and the branching rule), ``tree`` (the search), ``fixing``
(reduced-cost fixing and bound propagation), ``repair`` (the round-and-repair heuristic),
``certify`` (every leaf's bound re-evaluated by HiGHS) and ``solver`` (the registered solver and
its Solution).
"""

from ortools_lag.solvers.branch_and_bound.solver import LagrangianBnBOptions, LagrangianBnBSolver

__all__ = ["LagrangianBnBOptions", "LagrangianBnBSolver"]
