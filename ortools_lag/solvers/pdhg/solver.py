"""The registered ``pdhg`` solver: restarted PDHG (:mod:`.restarted`) on the standard form.

The model goes through the shared backend round trip: standard form, ``pdhg_solve``, signed row
multipliers (already in the project convention), then ``kkt.certify`` at the requested
tolerance. PDHG's stopping test is that certificate, in its norms and scaling (each row and
column on its own scale, the Lagrangian dual bound), so a point PDHG calls optimal certifies
as it is; ``refinements`` (off by default) only guards against rounding between the two
(another pass from where it stopped, at a tolerance four times tighter). ``crossover=True``
then hands the point to HiGHS's simplex (:mod:`.crossover`) for an exact vertex.

An infeasibility or unboundedness claim is checked by :func:`ortools_lag.kkt.check_farkas` /
:func:`~ortools_lag.kkt.check_ray` before it is returned; one that fails the check (a ray with
a residual the check does not forgive) is dropped and PDHG goes on from its point with
approximate rays off, so the answer is then the certificate's verdict on that point.

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2)
>>> m.minimize(x[0] + 2 * x[1]); _ = m.add("cover", x.sum() >= 1)
>>> sol = solve(m, "pdhg", tolerance=1e-8)
>>> sol.status.value, round(sol.objective, 6), round(float(sol.multipliers["cover"]), 6)
('optimal', 1.0, 1.0)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from ortools_lag import kkt
from ortools_lag.model import StandardForm, to_standard_form
from ortools_lag.result import KKTReport, Solution, Status, Termination
from ortools_lag.solvers.backend import RawResult, finish
from ortools_lag.solvers.base import Solver, SolverOptions

if TYPE_CHECKING:
    from ortools_lag.model import Model
    from ortools_lag.problem import Problem
    from ortools_lag.solvers.pdhg.restarted import PdhgResult
    from ortools_lag.solvers.pdhg.scaling import Kkt

__all__ = ["PdhgOptions", "PdhgProgress", "PdhgSolver"]

_STATUS: dict[str, tuple[Status, Termination]] = {
    "optimal": (Status.OPTIMAL, Termination.CONVERGED),
    "primal_infeasible": (Status.INFEASIBLE, Termination.CONVERGED),
    "dual_infeasible": (Status.UNBOUNDED, Termination.CONVERGED),
    "iteration_limit": (Status.FEASIBLE, Termination.ITERATION_LIMIT),
    "time_limit": (Status.FEASIBLE, Termination.TIME_LIMIT),
    "numerical_error": (Status.NO_SOLUTION, Termination.NUMERICAL_ERROR),
    "callback": (Status.FEASIBLE, Termination.CALLBACK),
}
_RAYS = ("primal_infeasible", "dual_infeasible")


@dataclass(frozen=True)
class PdhgProgress:
    """What the ``callback`` of ``pdhg`` sees at each measurement (the user's sense).

    Attributes
    ----------
    iteration
        PDHG steps so far (all passes together).
    objective, bound
        The objective of the current point (not yet feasible, in general) and the Lagrangian
        value of its multipliers (a bound on the optimum once finite).
    gap
        ``|objective - bound|``.
    primal_residual, dual_residual
        PDLP's relative residuals of the current point.
    seconds
        Time since the solve started.
    """

    iteration: int
    objective: float
    bound: float
    gap: float
    primal_residual: float
    dual_residual: float
    seconds: float


class _Reporter:
    """Turns the loop's ``(k, kkt)`` into :class:`PdhgProgress` for the user's callback."""

    def __init__(self, callback: Callable[[PdhgProgress], Any], sense: int, t0: float) -> None:
        self.callback, self.sense, self.t0 = callback, sense, t0
        self.base, self.last = 0, -1

    def __call__(self, k: int, q: Kkt) -> bool:
        return self.tell(self.base + k, q.pobj, q.lagrangian, q.rel_p, q.rel_d)

    def tell(self, k: int, pobj: float, dobj: float, rel_p: float, rel_d: float) -> bool:
        if k == self.last:
            return False
        self.last = k
        obj, bound = self.sense * float(pobj), self.sense * float(dobj)
        gap = abs(obj - bound) if math.isfinite(obj) and math.isfinite(bound) else math.nan
        secs = time.perf_counter() - self.t0
        return bool(self.callback(PdhgProgress(k, obj, bound, gap, rel_p, rel_d, secs)))


class PdhgOptions(SolverOptions):
    """Options of ``pdhg`` (see :func:`ortools_lag.solvers.pdhg.restarted.pdhg_solve`).

    ``crossover=True`` finishes with HiGHS's simplex from the PDHG point (an exact vertex, its
    basis-quality multipliers, certified at the requested tolerance like any answer).
    ``callback(progress)`` hears of each measurement of the current point (every 32 steps, 64
    with ``method="halpern"``) and of the final point, as a :class:`PdhgProgress`; a true
    answer stops the run (termination ``callback``).
    """

    tolerance: float = Field(default=1e-4, gt=0)
    accuracy: Literal["high"] | None = None
    max_iter: int = Field(default=100_000, ge=1)
    device: Literal["cpu", "cuda"] | None = None
    backend: Literal["numpy", "torch"] | None = None
    warm_start: dict[str, Any] | None = None
    polish: bool = False
    threads: int | None = Field(default=None, ge=1)
    seed: int = 0
    refinements: int = Field(default=0, ge=0)
    method: Literal["adaptive", "halpern"] = "adaptive"
    crossover: bool = False
    callback: Callable[[PdhgProgress], Any] | None = None


def _checked_ray(model: Model, sf: StandardForm, res: PdhgResult) -> KKTReport:
    """The project's check of PDHG's ray (Farkas ``y`` or primal direction)."""
    assert res.certificate is not None
    if res.status == "primal_infeasible":
        return kkt.check_farkas(model, sf.unpack_rows(np.asarray(res.certificate)))
    return kkt.check_ray(model, np.asarray(res.certificate))


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
        inner, iterations, eps_ray, passes = tol, 0, 1e-8, 0
        # time_limit bounds the whole solve: each further pass gets what is left of it
        deadline = t0 + options.time_limit if options.time_limit else None
        out_of_time, dropped = False, ""
        tell = (
            None if options.callback is None else _Reporter(options.callback, model.sense_sign, t0)
        )
        while True:
            left = None if deadline is None else deadline - time.perf_counter()
            if left is not None and left <= 0 and passes > 0:
                out_of_time = True
                break
            res = pdhg_solve(
                sf.c, sf.A, sf.row_lo, sf.row_hi, sf.lb, sf.ub,
                offset=sf.offset, tolerance=inner, max_iter=options.max_iter - iterations,
                time_limit=None if left is None else max(left, 1e-3), device=options.device,
                backend=options.backend, warm_start=warm, polish=options.polish,
                threads=options.threads, seed=options.seed, method=options.method,
                eps_infeasible=eps_ray, callback=tell,
            )  # fmt: skip
            iterations, passes = iterations + res.iterations, passes + 1
            if tell is not None:  # the pass's last point (the loop's last report may be older)
                stop = tell.tell(
                    iterations, res.objective, res.dual_objective,
                    res.primal_residual, res.dual_residual,
                )  # fmt: skip
                tell.base = iterations
                if stop or res.status == "callback":
                    break
            warm = (np.asarray(res.x), np.asarray(res.y))
            if res.status in _RAYS and res.certificate is not None:
                ray = _checked_ray(model, sf, res)
                if ray.certified or eps_ray == 0.0 or iterations >= options.max_iter:
                    break
                # an approximate ray that the check refuses: go on without approximate rays
                dropped = f"{res.status} ray refused by the check ({'; '.join(ray.notes)})"
                eps_ray = 0.0
                continue
            if res.status != "optimal" or iterations >= options.max_iter:
                break
            if passes > options.refinements:
                break
            lam = sf.unpack_rows(np.asarray(res.y))
            if kkt.certify(model, np.asarray(res.x), lam, tol=tol).certified:
                break
            inner /= 4
        status, term = _STATUS.get(res.status, (Status.NO_SOLUTION, Termination.UNKNOWN))
        if out_of_time:  # a further pass was due but the time was spent: say so
            term = Termination.TIME_LIMIT
        message = f"PDHG: {res.status}" + (f"; {dropped}" if dropped else "")
        raw = RawResult(status, term, iterations=iterations, message=message)
        raw.info = {
            "tolerance": tol,
            "internal_tolerance": inner,
            "tolerance_met": res.tolerance_met,
            "certificate_residuals": res.certificate_residuals,
            "relative_primal_residual": res.primal_residual,
            "relative_dual_residual": res.dual_residual,
            "relative_gap": res.gap,
            "restarts": res.restarts,
            "backend": res.backend,
            "device": res.device,
        }
        if status in (Status.INFEASIBLE, Status.UNBOUNDED):
            if res.status in _RAYS and not _checked_ray(model, sf, res).certified:
                # an exact-residual ray that still fails the check: nothing proven
                raw.status, raw.termination = Status.NO_SOLUTION, Termination.NUMERICAL_ERROR
                raw.message = f"{message}; its ray failed the check"
                raw.x, raw.y = np.asarray(res.x), np.asarray(res.y)
            elif status == Status.INFEASIBLE:
                raw.farkas = np.asarray(res.certificate)
            else:
                raw.ray = np.asarray(res.certificate)
        else:
            raw.x, raw.y = np.asarray(res.x), np.asarray(res.y)
            if options.crossover:
                left = None if deadline is None else deadline - time.perf_counter()
                _crossover(sf, raw, left)
        secs = time.perf_counter() - t0
        return finish(model, sf, raw, solver=self.name, seconds=secs, tol=tol)


def _crossover(sf: StandardForm, raw: RawResult, time_limit: float | None) -> None:
    """Replace the PDHG point of ``raw`` by HiGHS's simplex answer from it (when HiGHS finds
    the optimum; its status text goes to ``info`` either way)."""
    from ortools_lag.solvers.pdhg.crossover import crossover

    assert raw.x is not None and raw.y is not None
    out = crossover(sf, raw.x, raw.y, time_limit=time_limit)
    raw.info["crossover"] = {"status": out.status, "simplex_iterations": out.iterations}
    if out.status == "Optimal" and out.x is not None and out.y is not None:
        raw.x, raw.y = out.x, out.y
        raw.status, raw.termination = Status.OPTIMAL, Termination.CONVERGED
        raw.message += "; crossover: HiGHS simplex optimal"
    else:
        raw.message += f"; crossover: HiGHS {out.status} (PDHG point kept)"
