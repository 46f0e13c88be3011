"""Solvers: external backends and our own methods, behind one registry.

At the top of this package are what every solver shares:

- :mod:`.registry`: the plain dict from a solver name to its ``"module:Class"``, imported on
  first use (nothing is imported or probed at package import time);
- :mod:`.dispatch`: ``solve(model_or_problem, solver="auto", **options)``, which validates once
  at this boundary and picks a solver for ``"auto"``;
- :mod:`.base`: the solver protocol (name, family, options schema, ``available()``,
  ``check(problem)``) and the options every solver takes;
- :mod:`.backend`: the backend round trip (model -> standard form -> backend -> inverse map ->
  certificate), the status a certificate allows and the objective-bound gap;
- :mod:`.bound_certificate`: the independent re-evaluation of a Lagrangian bound by HiGHS.

Below them, one subpackage per kind of solver: :mod:`.backends` (HiGHS, scipy, cvxpy, Pyomo),
:mod:`.dual` (the one dual loop and subgradient, bundle, ALM, ADMM), :mod:`.pdhg` (restarted
PDHG for large LPs) and :mod:`.nn` (adjoint and full-space training of layered models).

**Where a structured solver lives.** A solver that only makes sense for one problem family
(Dijkstra for shortest paths, Held-Karp for the TSP, the knapsack DP, Beasley's set-cover
ascent ...) lives with its family in ``ortools_lag.problems``; the registry names it by its
``"module:Class"`` string, so no module here imports a problem family. Methods that work on any
model (the backends, the dual methods, PDHG, network training) live here.

>>> from ortools_lag.solvers import names
>>> {"highs", "subgradient", "pdhg", "adjoint", "dijkstra"} <= set(names())
True
"""

from ortools_lag.solvers.dispatch import solve
from ortools_lag.solvers.registry import available, names, register

__all__ = ["available", "names", "register", "solve"]
