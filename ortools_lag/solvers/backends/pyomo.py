"""Pyomo backend: the model as a Pyomo ``ConcreteModel``, solved by HiGHS (highspy) or Ipopt.

LP, MILP and convex QP go through the standard form: one indexed variable ``z`` (bounds and
domains from arrays), one indexed constraint ``rows`` whose rows are ``LinearExpression`` objects
built from the CSR slices of ``A`` (Pyomo holds one expression per row, so this is as vectorised
as it allows; its ``MatrixConstraint`` is not accepted by the current solver interfaces) and the
objective ``c z + 1/2 z Q z + offset``. They are solved by Pyomo's HiGHS interface (``highs``,
through highspy). Models with quadratic groups are built group by group and solved by Ipopt
when an ``ipopt`` executable is on ``PATH``; otherwise a ``BackendUnavailableError`` says how
to get one. Models with general nonlinear expressions are not taken.

Duals are read through an import ``Suffix`` named ``dual``. Pyomo reports them as
``d objective / d rhs`` of the minimisation (``<= 0`` on a binding ``<=`` row), like HiGHS's row
duals, so the signed row multiplier is ``y = -dual`` (the model is always built as the
minimisation ``sense * f``). For ``min x^2 + y^2 s.t. x + y = 1`` Pyomo reports +1, we -1.

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2)
>>> m.maximize(5 * x[0] + 4 * x[1]); _ = m.add("m1", 6 * x[0] + 4 * x[1] <= 24)
>>> _ = m.add("m2", x[0] + 2 * x[1] <= 6)
>>> sol = solve(m, "pyomo")
>>> sol.objective, sol.multipliers["m1"].round(9).tolist(), sol.multipliers["m2"].round(9).tolist()
(21.0, 0.75, 0.5)
"""

from __future__ import annotations

import importlib.util
import logging
import math
import shutil
import time
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.sparse as sp
from pydantic import Field

from ortools_lag.errors import BackendUnavailableError, NotSupportedError
from ortools_lag.model import AffineExpr, Model, QuadExpr, StandardForm, to_standard_form
from ortools_lag.model.expressions import Expr
from ortools_lag.result import Solution, Status, Termination
from ortools_lag.solvers.backend import RawResult
from ortools_lag.solvers.backends.raw_solution import solution_from_raw
from ortools_lag.solvers.base import Solver, SolverOptions

if TYPE_CHECKING:
    from ortools_lag.problem import Problem

__all__ = ["IPOPT_HELP", "PyomoOptions", "PyomoSolver", "build_concrete", "ipopt_available"]

log = logging.getLogger(__name__)

IPOPT_HELP = (
    "the pyomo backend solves models with nonlinear (quadratic) constraints with Ipopt, and no "
    "'ipopt' executable is on PATH: install one (conda install -c conda-forge ipopt, or "
    "pip install idaes-pse && idaes get-extensions) and put it on PATH, or use solver='scipy' "
    "(SLSQP, trust-constr)"
)


class PyomoOptions(SolverOptions):
    """Options of the Pyomo backend.

    ``pyomo_solver``: ``"auto"`` (HiGHS for LP/MILP/QP, Ipopt for quadratic constraints),
    ``"highs"`` or ``"ipopt"``. ``solver_options`` go to that solver as given.
    """

    pyomo_solver: Literal["auto", "highs", "ipopt"] = "auto"
    solver_options: dict[str, Any] = Field(default_factory=dict)
    feasibility_tol: float = Field(default=1e-9, gt=0)
    mip_rel_gap: float = Field(default=1e-6, ge=0)
    ipopt_tol: float = Field(default=1e-10, gt=0)


def ipopt_available() -> bool:
    """True when an ``ipopt`` executable is on ``PATH``."""
    return shutil.which("ipopt") is not None


# -- building ---------------------------------------------------------------------------------


def _opt(values: np.ndarray) -> list[float | None]:
    """Bounds as Pyomo wants them: ``None`` for infinite."""
    return [float(v) if math.isfinite(v) else None for v in values.tolist()]


def _linear(A: sp.csr_matrix, zs: list[Any], i: int, const: float = 0.0) -> Any:
    from pyomo.core.expr.numeric_expr import LinearExpression

    s, e = A.indptr[i], A.indptr[i + 1]
    cols = A.indices[s:e].tolist()
    return LinearExpression(
        constant=const, linear_coefs=A.data[s:e].tolist(), linear_vars=[zs[j] for j in cols]
    )


def _variables(pm: Any, model: Model) -> list[Any]:
    import pyomo.environ as pyo

    lb, ub = _opt(model.lower_bounds()), _opt(model.upper_bounds())
    ints = model.integrality().tolist()
    pm.z = pyo.Var(
        range(model.n),
        bounds=lambda _, j: (lb[j], ub[j]),
        domain=lambda _, j: pyo.Integers if ints[j] else pyo.Reals,
    )
    return list(pm.z.values())


def _half_quad(Q: sp.spmatrix, zs: list[Any]) -> Any:
    """``1/2 z Q z`` from the upper triangle of a symmetric sparse ``Q``."""
    import pyomo.environ as pyo

    U = sp.triu(sp.csr_matrix(Q), format="coo")
    w = np.where(U.row == U.col, 0.5, 1.0) * U.data
    return pyo.quicksum(
        c * zs[i] * zs[j] for c, i, j in zip(w.tolist(), U.row.tolist(), U.col.tolist())
    )


def build_concrete(model: Model, sf: StandardForm | None = None) -> Any:
    """The Pyomo ``ConcreteModel`` of a model, as a minimisation (``sense * f``).

    With a standard form: one indexed constraint ``rows``; without (quadratic groups): one
    indexed constraint per group, named ``g_<group>`` and indexed by the flat row.
    """
    import pyomo.environ as pyo

    pm = pyo.ConcreteModel(name=model.name)
    zs = _variables(pm, model)
    if sf is not None:
        A = sf.A
        obj = _linear(sp.csr_matrix(sf.c.reshape(1, -1)), zs, 0, sf.offset)
        if sf.Q is not None:
            obj = obj + _half_quad(sf.Q, zs)
        lo, hi = _opt(sf.row_lo), _opt(sf.row_hi)
        pm.rows = pyo.Constraint(range(sf.m), rule=lambda _, i: (lo[i], _linear(A, zs, i), hi[i]))
    else:
        obj = model.sense_sign * _expression(model.objective, zs, model.n)[0]
        for name, g in model.groups.items():
            rows = _expression(g.body, zs, model.n)
            pm.add_component(f"g_{name}", _constraint(rows, _opt(g.lo), _opt(g.hi)))
    pm.obj = pyo.Objective(expr=obj, sense=pyo.minimize)
    pm.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    return pm


def _constraint(rows: list[Any], lo: list[float | None], hi: list[float | None]) -> Any:
    import pyomo.environ as pyo

    return pyo.Constraint(range(len(rows)), rule=lambda _, i: (lo[i], rows[i], hi[i]))


def _expression(e: Expr, zs: list[Any], n: int) -> list[Any]:
    """Pyomo expressions of the rows of an affine or quadratic expression."""
    import pyomo.environ as pyo

    if isinstance(e, AffineExpr):
        A = e.matrix(n)
        return [_linear(A, zs, i, float(e.const[i])) for i in range(e.size)]
    if not isinstance(e, QuadExpr):
        raise NotSupportedError("the pyomo backend takes affine and quadratic expressions only")
    rows = _expression(e.affine, zs, n)
    for L, R, S in e.terms:
        left, right = _expression(L, zs, n), _expression(R, zs, n)
        prods = [a * b for a, b in zip(left, right)]
        St = sp.csr_matrix(S)
        for i in range(St.shape[0]):
            s, t = St.indptr[i], St.indptr[i + 1]
            if t > s:
                cols, vals = St.indices[s:t].tolist(), St.data[s:t].tolist()
                rows[i] = rows[i] + pyo.quicksum(v * prods[k] for v, k in zip(vals, cols))
    return rows


# -- solving ----------------------------------------------------------------------------------

_TERM: dict[str, tuple[Status, Termination]] = {
    "convergenceCriteriaSatisfied": (Status.OPTIMAL, Termination.CONVERGED),
    "maxTimeLimit": (Status.NO_SOLUTION, Termination.TIME_LIMIT),
    "iterationLimit": (Status.NO_SOLUTION, Termination.ITERATION_LIMIT),
    "objectiveLimit": (Status.NO_SOLUTION, Termination.CONVERGED),
    "minStepLength": (Status.NO_SOLUTION, Termination.STALLED),
    "unbounded": (Status.UNBOUNDED, Termination.CONVERGED),
    "provenInfeasible": (Status.INFEASIBLE, Termination.CONVERGED),
    "locallyInfeasible": (Status.NO_SOLUTION, Termination.CONVERGED),
    "infeasibleOrUnbounded": (Status.INFEASIBLE_OR_UNBOUNDED, Termination.CONVERGED),
    "error": (Status.NO_SOLUTION, Termination.NUMERICAL_ERROR),
    "interrupted": (Status.NO_SOLUTION, Termination.INTERRUPTED),
}


def _solver_options(name: str, opts: PyomoOptions) -> dict[str, Any]:
    if name == "highs":
        base: dict[str, Any] = {
            "primal_feasibility_tolerance": opts.feasibility_tol,
            "dual_feasibility_tolerance": opts.feasibility_tol,
            "mip_rel_gap": opts.mip_rel_gap,
        }
    else:
        base = {"tol": opts.ipopt_tol, "constr_viol_tol": opts.feasibility_tol}
    return {**base, **opts.solver_options}


def _run(pm: Any, name: str, opts: PyomoOptions) -> Any:
    """Solve with Pyomo's (new) solver interface; solutions and duals are loaded by hand."""
    from pyomo.contrib.solver.common.factory import SolverFactory

    solver = SolverFactory(name)
    kwargs: dict[str, Any] = {
        "load_solutions": False,
        "raise_exception_on_nonoptimal_result": False,
        "tee": bool(opts.verbose),
        "solver_options": _solver_options(name, opts),
    }
    if opts.time_limit is not None:
        kwargs["time_limit"] = float(opts.time_limit)
    return solver.solve(pm, **kwargs)


def _read(pm: Any, res: Any, rows: list[Any], name: str) -> RawResult:
    """The solution, and ``y = -dual`` read through the model's ``dual`` Suffix."""
    cond = getattr(res.termination_condition, "name", str(res.termination_condition))
    status, term = _TERM.get(cond, (Status.NO_SOLUTION, Termination.UNKNOWN))
    raw = RawResult(status, term, message=f"pyomo ({name}): {cond}", info={"pyomo_solver": name})
    if status in (Status.INFEASIBLE, Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED):
        return raw
    if cond == "unknown" and _empty(pm):  # HiGHS's kModelEmpty: nothing to optimise
        raw.status, raw.termination = Status.OPTIMAL, Termination.CONVERGED
        raw.x, raw.y = _values(pm), np.zeros(len(rows))
        return raw
    if res.incumbent_objective is None:
        return raw
    res.solution_loader.load_vars()
    raw.x = _values(pm)
    if status == Status.NO_SOLUTION:
        raw.status = Status.FEASIBLE
    if res.objective_bound is not None and math.isfinite(float(res.objective_bound)):
        raw.bound = float(res.objective_bound)
    try:
        res.solution_loader.load_import_suffixes()
    except Exception as exc:  # MIPs have no duals; a solver may refuse them
        log.debug("no duals from %s: %s", name, exc)
        return raw
    duals = pm.dual
    raw.y = -np.array([duals.get(c, 0.0) for c in rows], dtype=float)
    return raw


def _values(pm: Any) -> np.ndarray:
    """Variable values; one the solver never saw (in no row, no cost) takes its bound nearest
    to 0, which is optimal."""
    vals = [v.value for v in pm.z.values()]
    x = np.array([np.nan if v is None else v for v in vals], dtype=float)
    lb = np.array([-np.inf if v.lb is None else v.lb for v in pm.z.values()], dtype=float)
    ub = np.array([np.inf if v.ub is None else v.ub for v in pm.z.values()], dtype=float)
    return np.where(np.isnan(x), np.clip(0.0, lb, ub), x)


def _empty(pm: Any) -> bool:
    """True when the Pyomo model has a constant objective and no variable in any row."""
    import pyomo.environ as pyo
    from pyomo.core.expr.visitor import identify_variables

    exprs = [pm.obj.expr] + [c.body for c in pm.component_data_objects(pyo.Constraint, active=True)]
    return not any(any(True for _ in identify_variables(e)) for e in exprs)


def _rows(pm: Any, model: Model, sf: StandardForm | None) -> list[Any]:
    if sf is not None:
        return list(pm.rows.values()) if sf.m else []
    return [c for name in model.groups for c in getattr(pm, f"g_{name}").values()]


def _choose(model: Model, opts: PyomoOptions) -> str:
    linear = model.has_linear_constraints and model.objective.degree <= 2
    name = opts.pyomo_solver if opts.pyomo_solver != "auto" else ("highs" if linear else "ipopt")
    if name == "highs" and not linear:
        raise NotSupportedError(
            "HiGHS takes linear constraints only: use pyomo_solver='ipopt' (or 'auto')"
        )
    if name == "ipopt" and not ipopt_available():
        raise BackendUnavailableError(IPOPT_HELP)
    if name == "ipopt" and model.is_integer:
        raise NotSupportedError("Ipopt does not take integer variables")
    return name


class PyomoSolver(Solver):
    """Pyomo: a ConcreteModel solved by HiGHS (LP, MILP, convex QP) or Ipopt (NLP)."""

    name = "pyomo"
    family = "backend"
    description = "Pyomo ConcreteModel: HiGHS via highspy (LP/MILP/QP), Ipopt for NLP"
    Options = PyomoOptions

    def available(self) -> str | None:
        for pkg, pip in (("pyomo", "pyomo"), ("highspy", "highspy")):
            if importlib.util.find_spec(pkg) is None:
                return f"{pkg} is not installed: pip install {pip}"
        return None

    def check(self, problem: Problem) -> str | None:
        m = problem.model
        if m.degree > 2:
            return "the pyomo backend takes affine and quadratic expressions only"
        if m.is_integer and not (m.has_linear_constraints and m.objective.degree <= 1):
            return "the pyomo backend solves MILPs with linear objective and constraints only"
        return None

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        assert isinstance(options, PyomoOptions)
        t0 = time.perf_counter()
        model = problem.model
        name = _choose(model, options)
        linear = model.has_linear_constraints and model.objective.degree <= 2
        sf = to_standard_form(model) if linear else None
        pm = build_concrete(model, sf)
        res = _run(pm, name, options)
        raw = _read(pm, res, _rows(pm, model, sf), name)
        if sf is not None and raw.bound == raw.bound:
            raw.bound = sf.sense * raw.bound
        return solution_from_raw(model, sf, raw, solver=self.name, tol=options.tolerance, t0=t0)
