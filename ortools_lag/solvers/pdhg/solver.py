"""The registered ``pdhg`` solver: restarted PDHG (:mod:`.restarted`) on the standard form.

The model goes through the shared backend round trip: standard form, ``pdhg_solve``, signed row
multipliers (already in the project convention), then ``kkt.certify`` at the requested
tolerance. PDHG's own stopping tests (PDLP's: 2-norm residuals, gap over ``1 + |p| + |d|``)
differ from our certificate's (infinity norms, gap over ``1 + |f|``): when PDHG stops at the
tolerance but our certificate does not hold there, the run continues from where it stopped at a
tighter internal tolerance (up to ``refinements`` times). ``OPTIMAL`` needs both; ``info`` says
which internal tolerance PDHG met.

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2)
>>> m.minimize(x[0] + 2 * x[1]); _ = m.add("cover", x.sum() >= 1)
>>> sol = solve(m, "pdhg", tolerance=1e-8)
>>> sol.status.value, round(sol.objective, 6), round(float(sol.multipliers["cover"]), 6)
('optimal', 1.0, 1.0)
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from ortools_lag import kkt
from ortools_lag.model import to_standard_form
from ortools_lag.result import Solution, Status, Termination
from ortools_lag.solvers.backend import RawResult, finish
from ortools_lag.solvers.base import Solver, SolverOptions

if TYPE_CHECKING:
    from ortools_lag.problem import Problem

__all__ = ["PdhgOptions", "PdhgSolver"]

_STATUS: dict[str, tuple[Status, Termination]] = {
    "optimal": (Status.OPTIMAL, Termination.CONVERGED),
    "primal_infeasible": (Status.INFEASIBLE, Termination.CONVERGED),
    "dual_infeasible": (Status.UNBOUNDED, Termination.CONVERGED),
    "iteration_limit": (Status.FEASIBLE, Termination.ITERATION_LIMIT),
    "time_limit": (Status.FEASIBLE, Termination.TIME_LIMIT),
    "numerical_error": (Status.NO_SOLUTION, Termination.NUMERICAL_ERROR),
}


class PdhgOptions(SolverOptions):
    """Options of ``pdhg`` (see :func:`ortools_lag.solvers.pdhg.restarted.pdhg_solve`)."""

    tolerance: float = Field(default=1e-4, gt=0)
    accuracy: Literal["high"] | None = None
    max_iter: int = Field(default=100_000, ge=1)
    device: Literal["cpu", "cuda"] | None = None
    backend: Literal["numpy", "torch"] | None = None
    warm_start: dict[str, Any] | None = None
    polish: bool = False
    threads: int | None = Field(default=None, ge=1)
    seed: int = 0
    refinements: int = Field(default=2, ge=0)
    method: Literal["adaptive", "halpern"] = "adaptive"


class PdhgSolver(Solver):
    """Restarted PDHG for large LPs: matrix-vector products only; numpy or torch (CPU/CUDA)."""

    name = "pdhg"
    family = "primal-dual"
    description = "restarted primal-dual hybrid gradient (PDLP-style) for LPs, CPU or GPU"
    Options = PdhgOptions

    def check(self, problem: Problem) -> str | None:
        m = problem.model
        if not (m.is_linear and m.has_linear_constraints):
            return "PDHG solves linear programs only"
        if m.is_integer:
            return "PDHG solves continuous LPs: the model has integer variables"
        return None

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        from ortools_lag.solvers.pdhg.restarted import pdhg_solve

        assert isinstance(options, PdhgOptions)
        t0 = time.perf_counter()
        model = problem.model
        sf = to_standard_form(model)
        warm = None
        if options.warm_start is not None:
            ws = options.warm_start
            warm = (model.join(ws["x"]), sf.pack_rows(ws.get("multipliers", {})))
        tol = 1e-8 if options.accuracy == "high" else options.tolerance
        inner, iterations = tol, 0
        # time_limit bounds the whole solve: each refinement pass gets what is left of it
        deadline = t0 + options.time_limit if options.time_limit else None
        out_of_time = False
        for k in range(options.refinements + 1):
            left = None if deadline is None else deadline - time.perf_counter()
            if left is not None and left <= 0 and k > 0:
                out_of_time = True
                break
            res = pdhg_solve(
                sf.c, sf.A, sf.row_lo, sf.row_hi, sf.lb, sf.ub,
                offset=sf.offset, tolerance=inner, max_iter=options.max_iter - iterations,
                time_limit=None if left is None else max(left, 1e-3), device=options.device,
                backend=options.backend, warm_start=warm, polish=options.polish,
                threads=options.threads, seed=options.seed, method=options.method,
            )  # fmt: skip
            iterations += res.iterations
            if res.status != "optimal" or iterations >= options.max_iter:
                break
            lam = sf.unpack_rows(np.asarray(res.y))
            if kkt.certify(model, np.asarray(res.x), lam, tol=tol).certified:
                break
            warm, inner = (np.asarray(res.x), np.asarray(res.y)), inner / 4
        status, term = _STATUS.get(res.status, (Status.NO_SOLUTION, Termination.UNKNOWN))
        if out_of_time:  # a refinement was due but the time was spent: say so
            term = Termination.TIME_LIMIT
        raw = RawResult(status, term, iterations=iterations, message=f"PDHG: {res.status}")
        raw.info = {
            "tolerance": tol,
            "internal_tolerance": inner,
            "tolerance_met": res.tolerance_met,
            "relative_primal_residual": res.primal_residual,
            "relative_dual_residual": res.dual_residual,
            "relative_gap": res.gap,
            "restarts": res.restarts,
            "backend": res.backend,
            "device": res.device,
        }
        if status == Status.INFEASIBLE:
            raw.farkas = None if res.certificate is None else np.asarray(res.certificate)
        elif status == Status.UNBOUNDED:
            raw.ray = None if res.certificate is None else np.asarray(res.certificate)
        else:
            raw.x, raw.y = np.asarray(res.x), np.asarray(res.y)
        secs = time.perf_counter() - t0
        return finish(model, sf, raw, solver=self.name, seconds=secs, tol=tol)
