"""Options of the scipy backend (:mod:`ortools_lag.solvers.backends.scipy`).

>>> ScipyOptions(method="slsqp").ftol
1e-10
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ortools_lag.solvers.base import SolverOptions

__all__ = ["LP_METHODS", "NLP_METHODS", "ScipyOptions"]

#: ``linprog`` methods (all HiGHS).
LP_METHODS = ("highs", "highs-ds", "highs-ipm")
#: ``minimize`` methods that report multipliers.
NLP_METHODS = ("slsqp", "trust-constr")


class ScipyOptions(SolverOptions):
    """Options of the scipy backend; the NLP tolerances are pinned tight by default.

    ``method``: ``"auto"`` (``linprog``/``milp`` for linear models, else SLSQP), a ``linprog``
    HiGHS method, or an NLP method (also usable on an LP). ``x0`` (values by variable name) or a
    seeded point (``seed``, ``start_scale``) starts the NLP methods, which stop when an iterate
    leaves ``|z|_inf <= divergence`` (an unbounded model). trust-constr stops on
    ``xtol`` by default (``gtol = 0``): its ``gtol`` test ignores the barrier term and stops
    interior points ~1e-5 away from the optimum of an inequality-constrained problem.
    """

    method: Literal["auto", "highs", "highs-ds", "highs-ipm", "slsqp", "trust-constr"] = "auto"
    presolve: bool = True
    mip_rel_gap: float = Field(default=1e-6, ge=0)
    primal_feasibility_tolerance: float = Field(default=1e-9, gt=0)
    dual_feasibility_tolerance: float = Field(default=1e-9, gt=0)
    maxiter: int = Field(default=1000, gt=0)
    divergence: float = Field(default=1e10, gt=0)
    ftol: float = Field(default=1e-10, gt=0)
    gtol: float = Field(default=0.0, ge=0)
    xtol: float = Field(default=1e-10, gt=0)
    barrier_tol: float = Field(default=1e-12, gt=0)
    x0: dict[str, Any] | None = None
    seed: int = 0
    start_scale: float = Field(default=0.1, ge=0)
