"""``ortools-lag diagnose FILE``: why a model is infeasible, by named group.

The model is solved once (HiGHS for linear models). If it is infeasible, the command reports an
irreducible infeasible subset (:func:`ortools_lag.analysis.iis`) by group, row and bound, and
the elastic relaxation (:func:`ortools_lag.analysis.elastic`): the groups whose relaxation makes
it feasible at the cheapest total violation. A feasible LP gets its ranging table instead, a
feasible MILP the duals of its fixed LP. ``--json`` writes the same as one document.

>>> from ortools_lag import Model
>>> from ortools_lag.problem import Problem
>>> m = Model("tight"); x = m.var("x", 2)
>>> _ = m.add("need", x.sum() >= 5); _ = m.add("cap", x <= 2)
>>> doc = diagnosis(Problem(m))
>>> doc["status"], doc["iis"]["groups"], doc["elastic"]["total"]
('infeasible', ['need', 'cap'], 1.0)
"""

from __future__ import annotations

import math
from typing import Any

from ortools_lag.problem import Problem

__all__ = ["diagnosis", "render"]

_INFEASIBLE = ("infeasible", "infeasible_or_unbounded")


def diagnosis(problem: Problem, solver: str = "auto") -> dict[str, Any]:
    """Solve, then diagnose: a plain dict with ``status`` and ``iis``/``elastic`` (infeasible),
    ``ranging`` (an optimal LP) or ``fixed_duals`` (an optimal or feasible MILP)."""
    from ortools_lag.analysis import elastic, fixed_duals, iis, ranging
    from ortools_lag.errors import NotSupportedError
    from ortools_lag.solvers.dispatch import choose_solver, solve

    name = choose_solver(problem) if solver == "auto" else solver
    sol = solve(problem, name)
    m = problem.model
    doc: dict[str, Any] = {
        "model": m.name,
        "solver": name,
        "status": sol.status.value,
        "objective": sol.objective if math.isfinite(sol.objective) else str(sol.objective),
    }
    if sol.status.value in _INFEASIBLE:
        try:
            doc["iis"] = iis(problem).to_dict()
        except NotSupportedError as exc:
            doc["iis"] = {"error": str(exc)}
        doc["elastic"] = elastic(problem).to_dict()
    elif sol.ok and not m.is_integer:
        try:
            doc["ranging"] = ranging(problem, sol).to_dict()
        except NotSupportedError as exc:
            doc["ranging"] = {"error": str(exc)}
    elif sol.ok:
        fixed = fixed_duals(problem, sol)
        doc["fixed_duals"] = {
            "note": fixed.info["duals_note"],
            "multipliers": {k: v.tolist() for k, v in fixed.multipliers.items()},
        }
    return doc


def _fmt(v: Any) -> str:
    return v if isinstance(v, str) else f"{v:.6g}"


def render(doc: dict[str, Any]) -> str:
    """The diagnosis as text."""
    lines = [f"model       {doc['model']}", f"status      {doc['status']} ({doc['solver']})"]
    if "iis" in doc:
        res = doc["iis"]
        if "error" in res:
            lines.append(f"IIS         none: {res['error']}")
        else:
            lines.append(
                f"IIS         groups {', '.join(res['groups']) or '(none)'} ({res['method']})"
            )
            lines.append(f"  rows      {', '.join(res['rows']) or '(none)'}")
            lines.append(f"  bounds    {', '.join(res['bounds']) or '(none)'}")
    if "elastic" in doc:
        e = doc["elastic"]
        if not e["feasible"]:
            lines.append(
                "elastic     infeasible even with every group relaxed (bounds or integrality)"
            )
        else:
            lines.append(
                f"elastic     relax {', '.join(e['groups'])}: total violation {_fmt(e['total'])}"
            )
            for g in e["groups"]:
                lines.append(f"  {g:<9} violation {e['violation'][g]}")
    if "ranging" in doc:
        rg = doc["ranging"]
        if "error" in rg:
            lines.append(f"ranging     none: {rg['error']}")
        else:
            lines.append(f"ranging     ({rg['method']})  value [lower, upper]  slope")
            lines.extend(
                f"  {r['kind']:<4} {r['name']:<12} {_fmt(r['value'])} "
                f"[{_fmt(r['lower'])}, {_fmt(r['upper'])}]  {_fmt(r['slope'])}"
                for r in rg["table"]
            )
    if "fixed_duals" in doc:
        fd = doc["fixed_duals"]
        lines.append(f"fixed duals {fd['note']}")
        lines.extend(f"  {k:<9} {v}" for k, v in fd["multipliers"].items())
    if doc["status"] not in _INFEASIBLE and "ranging" not in doc and "fixed_duals" not in doc:
        lines.append("nothing to diagnose: the model is not infeasible")
    return "\n".join(lines)
