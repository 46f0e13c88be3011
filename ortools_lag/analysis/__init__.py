"""After the solve: MIP duals by fixing, sensitivity ranging, infeasibility diagnosis.

- :func:`fixed_duals` — the multipliers of a MILP's incumbent: the integer variables fixed at
  their values, the LP that remains re-solved; its duals, in the project's sign convention.
- :func:`ranging` — for an optimal LP, each cost's and each row bound's interval over which the
  basis stays optimal, and the objective's slope there (HiGHS's ranging, or our own from the
  basis).
- :func:`iis` — an irreducible infeasible subset of an infeasible LP/MILP, by group and row
  (``cap[3]``) and variable bound; :func:`elastic` — the groups whose relaxation restores
  feasibility at the cheapest total violation.

``solve(m, "highs", ranging=True)`` and ``solve(m, "highs", fixed_duals=True)`` run the first
two after the solve. This package sits above ``solvers`` in the layers.

>>> from ortools_lag import Model, solve
>>> from ortools_lag.analysis import iis
>>> m = Model(); x = m.var("x", 2)
>>> _ = m.add("need", x.sum() >= 5); _ = m.add("cap", x <= 2); _ = m.add("other", x[0] <= 9)
>>> iis(m).groups
('need', 'cap')
"""

from __future__ import annotations

from ortools_lag.analysis.conflict import IIS, iis
from ortools_lag.analysis.elastic import Elastic, elastic
from ortools_lag.analysis.fixing import fixed_duals, fixed_lp, with_fixed_duals
from ortools_lag.analysis.sensitivity import Range, Ranging, ranging, with_ranging

__all__ = [
    "IIS",
    "Elastic",
    "Range",
    "Ranging",
    "elastic",
    "fixed_duals",
    "fixed_lp",
    "iis",
    "ranging",
    "with_fixed_duals",
    "with_ranging",
]
