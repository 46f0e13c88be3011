"""External backends: HiGHS, scipy (LP, MILP, NLP), cvxpy and Pyomo, as apply/invert adapters.

Each backend implements only its standard-form (or NLP) solve and hands its raw result to the
shared round trip, :func:`ortools_lag.solvers.backend.finish`: the model goes to a
:class:`~ortools_lag.model.StandardForm`, the backend solves it, and the inverse map names the
multipliers, converts the backend's signs to the project's convention, maps its status and
certifies the answer with :mod:`ortools_lag.kkt`.

- :mod:`.highs`: LP, MILP and convex QP through ``highspy``;
- :mod:`.scipy` (``linprog``/``milp`` in :mod:`.scipy_lp`, ``minimize`` in :mod:`.scipy_nlp`,
  the model as plain functions in :mod:`.nlp_functions`, options in :mod:`.scipy_options`);
- :mod:`.cvxpy` and :mod:`.pyomo`, finished by :mod:`.raw_solution`.

A new backend is one module here with a :class:`~ortools_lag.solvers.base.Solver` subclass,
named in :data:`ortools_lag.solvers.registry.REGISTRY`. Backends are the bottom of the solver
packages: they import no dual method, PDHG or network training.
"""
