"""Duals of a MILP by fixing: the integer variables fixed at the incumbent, the LP re-solved.

A MILP solution has no multipliers (no LP duality holds across the integer choices). Fixing
every integer variable at its incumbent value ``x̄_I`` leaves the LP

    min f(x)  s.t.  the same groups,  x_I = x̄_I  (as bounds),  x_C continuous,

whose optimum is the incumbent (when the incumbent is optimal for its continuous part) and
whose multipliers are those of the model's groups *with the integer choices held*: the marginal
value of each row's bound for that fixed configuration, in the project's sign convention. They
are not duals of the MILP: they say nothing about moves that change an integer choice. The
reduced costs of the fixed integer columns are the prices of their fixing bounds.

>>> from ortools_lag import Model, solve
>>> m = Model(); y = m.var("open", 2, domain="binary"); x = m.var("x", 2)
>>> m.minimize(3 * y[0] + 5 * y[1] + x[0] + 2 * x[1])
>>> _ = m.add("demand", x.sum() >= 4); _ = m.add("link", x <= 5 * y)
>>> sol = fixed_duals(m, solve(m, "highs"))
>>> round(float(sol.multipliers["demand"]), 9), sol.info["duals"]
(1.0, 'fixed_lp')
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np

from ortools_lag.errors import NotSupportedError
from ortools_lag.model import Model
from ortools_lag.problem import Problem, as_problem
from ortools_lag.result import Solution
from ortools_lag.solvers.dispatch import solve

__all__ = ["fixed_duals", "fixed_lp", "with_fixed_duals"]

NOTE = (
    "duals of the fixed LP: integer variables fixed at the incumbent, the LP re-solved; they "
    "price the rows with the integer choices held, not the MILP"
)


def fixed_lp(model: Model | Problem, sol: Solution) -> Model:
    """The LP of ``model`` with every integer entry fixed at ``sol``'s (rounded) value.

    The copy shares the groups and the objective; only the variables' bounds and domains
    change (an integer entry becomes continuous with ``lb = ub = round(x)``).

    Raises
    ------
    NotSupportedError
        When ``sol`` has no point.
    """
    mdl = as_problem(model).model
    if not sol.x:
        raise NotSupportedError(
            f"the solution (status {sol.status.value}) has no point to fix the integers at"
        )
    fixed = copy.copy(mdl)
    fixed.name = f"{mdl.name}_fixed"
    fixed.variables = {}
    for name, v in mdl.variables.items():
        w = copy.copy(v)
        mask = np.asarray(v.integer_mask, dtype=bool)
        if mask.any():
            val = np.round(np.broadcast_to(np.asarray(sol.x[name], dtype=float), v.shape))
            w.lb = np.where(mask, val, v.lb)
            w.ub = np.where(mask, val, v.ub)
            w.integer_mask = np.zeros(v.shape, dtype=bool)
            w.domain = "continuous"
        fixed.variables[name] = w
    fixed.version = mdl.version + 1
    return fixed


def fixed_duals(
    model: Model | Problem, sol: Solution, solver: str = "highs", **options: Any
) -> Solution:
    """``sol`` with the multipliers, reduced costs and shadow prices of its fixed LP.

    Parameters
    ----------
    model
        The MILP (an LP is returned as its own fixed LP).
    sol
        A solution with a point (the incumbent).
    solver, **options
        The LP solver of the fixed LP and its options.

    Returns
    -------
    Solution
        ``sol`` (status, objective, bound, gap and certificate of the MILP unchanged) with
        ``multipliers``, ``reduced_costs`` and ``shadow_prices`` of the fixed LP, and
        ``info["duals"] = "fixed_lp"``, ``info["fixed_lp"]`` (its status, objective and KKT
        report) and ``info["duals_note"]``. Check them with the model of :func:`fixed_lp`.

    Raises
    ------
    NotSupportedError
        When the fixed LP has no optimal solution (the incumbent's continuous part is then
        infeasible for its own integer values).
    """
    fixed = fixed_lp(model, sol)
    lp = solve(fixed, solver, **options)
    if not lp.ok or not lp.multipliers:
        raise NotSupportedError(
            f"the fixed LP has no multipliers (status {lp.status.value}: {lp.message})"
        )
    info = dict(sol.info)
    info.update(
        duals="fixed_lp",
        duals_note=NOTE,
        fixed_lp={
            "solver": lp.solver,
            "status": lp.status.value,
            "objective": lp.objective,
            "kkt": lp.kkt.to_dict() if lp.kkt is not None else None,
        },
    )
    return dataclasses.replace(
        sol,
        multipliers=lp.multipliers,
        reduced_costs=lp.reduced_costs,
        shadow_prices=lp.shadow_prices,
        info=info,
    )


def with_fixed_duals(model: Model | Problem, sol: Solution) -> Solution:
    """The ``fixed_duals=True`` option of :func:`~ortools_lag.solve`: a MILP solution gets the
    duals of its fixed LP; an LP solution, or one without a point, is returned as it is."""
    if not as_problem(model).model.is_integer or not sol.x:
        return sol
    return fixed_duals(model, sol)
