"""HiGHS (highspy) backend for LP, MILP and convex QP.

HiGHS reports row duals with stationarity ``c - A^T y_h - s = 0``; in the project
convention (``c + A^T y + ... = r``) the signed row multipliers are ``y = -y_h``, and HiGHS's
column duals are our reduced costs. Its dual ray is negated the same way. For
``min x^2 + y^2 s.t. x + y = 1`` HiGHS reports +1; we report -1 (stationarity ``2x + lam = 0``).

Presolve is an option (``"choose"`` by default) and reported in ``Solution.info``: on
flow-conservation LPs HiGHS's presolve can cost far more than the solve, so network problems
pass ``presolve="off"``.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import time
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from ortools_lag.highs_model import new_highs, pass_model
from ortools_lag.model import StandardForm, to_standard_form
from ortools_lag.result import Solution, Status, Termination
from ortools_lag.solvers.backend import RawResult, finish
from ortools_lag.solvers.backends.rays import NO_POINT, settle
from ortools_lag.solvers.base import Solver, SolverOptions

if TYPE_CHECKING:
    from ortools_lag.problem import Problem

__all__ = ["HighsOptions", "HighsSolver", "new_highs", "solve_standard_form"]

log = logging.getLogger(__name__)

#: Most threads the ``threads`` option may ask for: HiGHS allocates its pool at once, and a count
#: in the millions exhausts memory (``std::bad_alloc``) instead of failing cleanly.
MAX_THREADS = 1024


class HighsOptions(SolverOptions):
    """Options of the HiGHS backend (each passed to HiGHS and reported in ``info``).

    ``threads=None`` keeps HiGHS's default; a number (at most ``MAX_THREADS``) resizes HiGHS's
    process-wide thread pool.
    """

    presolve: Literal["choose", "on", "off"] = "choose"
    method: Literal["choose", "simplex", "ipm", "pdlp"] = "choose"
    threads: int | None = Field(default=None, ge=0, le=MAX_THREADS)
    mip_rel_gap: float = Field(default=1e-6, ge=0)
    primal_feasibility_tolerance: float = Field(default=1e-9, gt=0)
    dual_feasibility_tolerance: float = Field(default=1e-9, gt=0)


_STATUS: dict[str, tuple[Status, Termination]] = {
    "kOptimal": (Status.OPTIMAL, Termination.CONVERGED),
    "kInfeasible": (Status.INFEASIBLE, Termination.CONVERGED),
    "kUnbounded": (Status.UNBOUNDED, Termination.CONVERGED),
    "kUnboundedOrInfeasible": (Status.INFEASIBLE_OR_UNBOUNDED, Termination.CONVERGED),
    "kTimeLimit": (Status.NO_SOLUTION, Termination.TIME_LIMIT),
    "kIterationLimit": (Status.NO_SOLUTION, Termination.ITERATION_LIMIT),
    "kSolutionLimit": (Status.NO_SOLUTION, Termination.ITERATION_LIMIT),
    "kInterrupt": (Status.NO_SOLUTION, Termination.INTERRUPTED),
    "kHighsInterrupt": (Status.NO_SOLUTION, Termination.INTERRUPTED),
    "kObjectiveBound": (Status.NO_SOLUTION, Termination.CONVERGED),
    "kObjectiveTarget": (Status.NO_SOLUTION, Termination.CONVERGED),
    "kMemoryLimit": (Status.NO_SOLUTION, Termination.NUMERICAL_ERROR),
    "kSolveError": (Status.NO_SOLUTION, Termination.NUMERICAL_ERROR),
    "kPostsolveError": (Status.NO_SOLUTION, Termination.NUMERICAL_ERROR),
    "kPresolveError": (Status.NO_SOLUTION, Termination.NUMERICAL_ERROR),
}


def _configure(h: Any, opts: HighsOptions) -> None:
    h.setOptionValue("output_flag", bool(opts.verbose))
    h.setOptionValue("presolve", opts.presolve)
    h.setOptionValue("solver", opts.method)
    if opts.threads is not None:
        # HiGHS keeps one thread pool per process, sized by the first run: resize it on request
        # (cvxpy, Pyomo and our blocks all run HiGHS with its default count)
        h.resetGlobalScheduler(True)
        h.setOptionValue("threads", int(opts.threads))
    h.setOptionValue("mip_rel_gap", float(opts.mip_rel_gap))
    h.setOptionValue("primal_feasibility_tolerance", opts.primal_feasibility_tolerance)
    h.setOptionValue("dual_feasibility_tolerance", opts.dual_feasibility_tolerance)
    h.setOptionValue("time_limit", float(opts.time_limit) if opts.time_limit else math.inf)


def _run(sf: StandardForm, opts: HighsOptions) -> tuple[Any, str]:
    h = new_highs()
    _configure(h, opts)
    pass_model(h, sf)
    h.run()
    return h, h.getModelStatus().name


def _rays(h: Any, sf: StandardForm, opts: HighsOptions, name: str) -> tuple[Any, str]:
    """Re-run without presolve when HiGHS could not say which, or gave no ray."""
    if name in ("kInfeasible", "kUnbounded", "kUnboundedOrInfeasible") and opts.presolve != "off":
        ok = (name == "kInfeasible" and h.getDualRayExist()[1]) or (
            name == "kUnbounded" and h.getPrimalRayExist()[1]
        )
        if not ok:
            return _run(sf, opts.model_copy(update={"presolve": "off", "method": "simplex"}))
    return h, name


def solve_standard_form(sf: StandardForm, opts: HighsOptions) -> RawResult:
    """Solve a standard form with HiGHS; duals converted to the project convention."""
    h, name = _run(sf, opts)
    h, name = _rays(h, sf, opts, name)
    status, term = _STATUS.get(name, (Status.NO_SOLUTION, Termination.UNKNOWN))
    info = h.getInfo()
    its = int(max(info.simplex_iteration_count, info.ipm_iteration_count, 0))
    raw = RawResult(status, term, iterations=its, message=f"HiGHS: {name}")
    raw.info = {
        "presolve": opts.presolve,
        "method": opts.method,
        "threads": opts.threads,
        "time_limit": opts.time_limit,
    }
    if status == Status.INFEASIBLE and h.getDualRayExist()[1]:
        raw.farkas = -np.asarray(h.getDualRay()[2], dtype=float)
    elif status == Status.UNBOUNDED and h.getPrimalRayExist()[1]:
        raw.ray = np.asarray(h.getPrimalRay()[2], dtype=float)
    if status in (Status.INFEASIBLE, Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED):
        return raw
    sol = h.getSolution()
    if sol.value_valid:
        raw.x = np.asarray(sol.col_value, dtype=float)
    if sf.is_mip:
        raw.bound = sf.sense * (float(info.mip_dual_bound))
        raw.iterations = int(max(info.mip_node_count, 0))
        if status == Status.NO_SOLUTION and raw.x is not None:
            status = Status.FEASIBLE
    elif sol.dual_valid:
        raw.y = -np.asarray(sol.row_dual, dtype=float)
    if raw.x is not None and status == Status.NO_SOLUTION:
        raw.status = Status.FEASIBLE
    return raw


class HighsSolver(Solver):
    """HiGHS through highspy: LP (simplex/IPM), MILP (branch and cut), convex QP."""

    name = "highs"
    family = "backend"
    description = "HiGHS via highspy: LP, MILP, convex QP with duals and reduced costs"
    Options = HighsOptions

    def available(self) -> str | None:
        if importlib.util.find_spec("highspy") is None:
            return "highspy is not installed: pip install highspy"
        return None

    def check(self, problem: Problem) -> str | None:
        m = problem.model
        if not m.has_linear_constraints:
            bad = [k for k, g in m.groups.items() if g.body.degree > 1]
            return f"HiGHS takes linear constraints only; groups {bad} are not linear"
        if m.objective.degree > 2:
            return "HiGHS takes linear or quadratic objectives only"
        if m.objective.degree == 2 and m.is_integer:
            return "HiGHS does not solve mixed-integer QPs"
        return None

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        assert isinstance(options, HighsOptions)
        t0 = time.perf_counter()
        sf = to_standard_form(problem.model)
        raw = solve_standard_form(sf, options)
        if raw.status in NO_POINT:  # HiGHS's rays when they check, else computed ones
            raw = settle(problem.model, sf, raw, options.tolerance)
        secs = time.perf_counter() - t0
        return finish(problem.model, sf, raw, solver=self.name, seconds=secs, tol=options.tolerance)
