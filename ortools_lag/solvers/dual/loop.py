"""The one loop that drives every dual method.

``run_dual(problem, method, options)`` builds the :class:`~ortools_lag.lagrangian.Lagrangian`,
starts from zero multipliers or a warm start, and alternates ``method.step`` with what every
method shares: primal recovery (the problem's Lagrangian heuristic, the ergodic average of the
minimisers for continuous models or the method's own primal estimate, and the minimisers when
they happen to be feasible), the history, the callback, the limits (iterations, time, gap,
stall), Ctrl-C (``INTERRUPTED`` with the best bound and point so far) and, at the end, the
independent certificate of the bound (:func:`~ortools_lag.solvers.bound_certificate.certify_bound`).

The Solution (user's sense): ``bound`` is the best dual value, ``objective`` the best feasible
point's value (``nan`` if none), ``multipliers`` the relaxed groups' multipliers at the best
bound; ``info`` says which method produced the bound and which the point. ``OPTIMAL`` only when
the gap is closed within ``tolerance`` at a feasible point and the certificate holds.

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2, ub=1)
>>> m.minimize(-x[0] - 2 * x[1]); _ = m.add("cap", x.sum() <= 1)
>>> sol = solve(m, "bundle", relax=["cap"])
>>> sol.status.value, round(sol.bound, 6), round(sol.objective, 6), sol.info["point_from"]
('optimal', -2.0, -2.0, 'lagrangian minimiser')
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from ortools_lag import kkt
from ortools_lag.errors import ModelError, NotSupportedError
from ortools_lag.lagrangian import Lagrangian
from ortools_lag.model import Model
from ortools_lag.problem import Problem, as_problem
from ortools_lag.result import History, KKTReport, Solution, Status, Termination
from ortools_lag.solvers.base import Solver, SolverOptions
from ortools_lag.solvers.bound_certificate import certify_bound
from ortools_lag.solvers.dual.lagrangian_heuristic import final_history
from ortools_lag.solvers.dual.protocol import DualMethod, DualOptions, DualState, Progress

__all__ = ["DualSolver", "run_dual", "warm_multipliers"]

log = logging.getLogger(__name__)


def warm_multipliers(lag: Lagrangian, warm: Any) -> np.ndarray:
    """Flat, projected starting multipliers from a Solution, a mapping, a vector or ``None``.

    >>> from ortools_lag import Model
    >>> m = Model(); x = m.var("x", 2); _ = m.add("cap", x.sum() <= 1)
    >>> warm_multipliers(Lagrangian(m, ["cap"]), {"cap": -2.0}).tolist()  # projected: lam >= 0
    [0.0]
    """
    if warm is None:
        return np.zeros(lag.size)
    if isinstance(warm, Solution):
        warm = warm.multipliers
    if isinstance(warm, np.ndarray) and warm.ndim == 1:
        if warm.shape[0] != lag.size:
            raise ModelError(f"warm_start has {warm.shape[0]} multipliers, expected {lag.size}")
        return lag.project(warm)
    if isinstance(warm, Mapping):
        return lag.project(lag.join(warm))
    raise ModelError(
        "warm_start must be a Solution, multipliers by group or a vector, "
        f"got {type(warm).__name__}"
    )


class _Recovery:
    """The best feasible point seen, from heuristics, averages and minimisers."""

    def __init__(self, lag: Lagrangian, mode: str, tol: float, label: str) -> None:
        self.lag, self.tol, self.label = lag, tol, label
        self.value, self.z, self.source = math.inf, None, ""
        self.heuristic = lag.heuristic if mode in ("auto", "heuristic") else None
        self.ergodic = mode in ("auto", "ergodic") and not lag.model.is_integer
        self.minimiser = mode in ("auto", "minimiser", "heuristic", "ergodic")
        self.avg: np.ndarray | None = None
        self.count = 0

    def offer(self, z: np.ndarray, source: str) -> None:
        viol, integ = self.lag.infeasibility(z)
        if viol <= self.tol and integ <= self.tol:
            value = self.lag.objective_min(z)
            if value < self.value:
                self.value, self.z, self.source = value, z.copy(), source

    def update(self, state: DualState) -> None:
        pt = state.point
        if pt is not None and pt.status == "optimal":
            scale = self.lag.feasibility_scale
            if self.minimiser and pt.max_violation <= self.tol * scale:
                self.offer(pt.x, "lagrangian minimiser")
            if self.heuristic is not None:
                xh = self.heuristic(self.lag.model.split(pt.x))
                if xh is not None:
                    self.offer(self.lag.model.join(dict(xh)), "heuristic")
            if self.ergodic and state.primal_estimate is None:
                self.count += 1
                self.avg = pt.x.copy() if self.avg is None else self.avg
                self.avg += (pt.x - self.avg) / self.count
                self.offer(self.avg, "ergodic average")
        if state.primal_estimate is not None and self.minimiser:
            self.offer(state.primal_estimate, self.label)


class _Run:
    """One run of a method: the loop's bookkeeping."""

    def __init__(self, lag: Lagrangian, method: DualMethod, options: DualOptions) -> None:
        self.lag, self.method, self.opts = lag, method, options
        self.recovery = _Recovery(lag, options.recovery, options.tolerance, method.point_label)
        self.records: list[Mapping[str, float]] = []
        self.termination: Termination | None = None
        self.state: DualState | None = None
        self.t0 = time.perf_counter()
        self.loop_seconds = 0.0
        self.oracle_seconds = 0.0
        self.last_improve = (0, -math.inf)

    def loop(self, lam0: np.ndarray) -> None:
        try:
            self._after(self.method.init(self.lag, lam0))
            while self.termination is None:
                assert self.state is not None
                self._after(self.method.step(self.lag, self.state))
        except KeyboardInterrupt:
            log.info("interrupted at iteration %s", self.state.iteration if self.state else 0)
            self.termination = Termination.INTERRUPTED

    def _after(self, state: DualState) -> None:
        t = time.perf_counter()
        fresh = self.state is None or state.iteration != self.state.iteration
        self.state = state
        if fresh:
            if state.point is not None:
                self.oracle_seconds += state.point.seconds
            self.recovery.update(state)
            if state.best_primal != self.recovery.value:
                state = replace(state, best_primal=self.recovery.value)
                self.state = state
            self._record(state)
        rec = self.records[-1]
        self.termination = self._stop(state, rec)
        self.loop_seconds += time.perf_counter() - t
        if self.opts.verbose and (state.iteration % 10 == 0 or self.termination is not None):
            log.info("%s it %d bound %.10g primal %.10g", self.method.name, *rec_values(rec))
        if self.opts.callback is not None:
            stop = self.opts.callback(self._progress(state, rec))
            if stop and self.termination is None:
                self.termination = Termination.CALLBACK

    def _record(self, state: DualState) -> Mapping[str, float]:
        s = self.lag.sense
        bound, primal = s * state.bound, s * state.best_primal
        gap = s * (primal - bound) if math.isfinite(primal) and math.isfinite(bound) else math.nan
        rec = {
            "iteration": state.iteration,
            "dual_value": s * state.dual_value,
            "bound": bound,
            "primal": primal if math.isfinite(primal) else math.nan,
            "gap": gap,
            "step": state.step,
            "violation": state.violation,
            "seconds": time.perf_counter() - self.t0,
            "lam_norm": float(np.linalg.norm(state.lam)),
        }
        self.records.append(rec)
        return rec

    def _stop(self, state: DualState, rec: Mapping[str, float]) -> Termination | None:
        o = self.opts
        if state.bound == math.inf:
            return Termination.CONVERGED  # the kept constraints are infeasible
        rel = _rel_gap(state.best_primal, state.bound)
        if self.method.stops_on_gap and rel <= o.tolerance:
            return Termination.CONVERGED
        if o.gap_limit is not None and rel <= o.gap_limit:
            return Termination.GAP_LIMIT
        if state.converged:
            return Termination.CONVERGED
        if state.stalled:
            return Termination.STALLED
        if state.iteration >= o.max_iter:
            return Termination.ITERATION_LIMIT
        if o.time_limit is not None and rec["seconds"] >= o.time_limit:
            return Termination.TIME_LIMIT
        it, best = self.last_improve
        if state.bound > best + o.stall_tolerance * (1.0 + abs(best if math.isfinite(best) else 0)):
            self.last_improve = (state.iteration, state.bound)
        elif o.stall_iter is not None and state.iteration - it >= o.stall_iter:
            return Termination.STALLED
        return None

    def _progress(self, state: DualState, rec: Mapping[str, float]) -> Progress:
        return Progress(
            iteration=state.iteration,
            bound=rec["bound"],
            objective=rec["primal"],
            gap=rec["gap"],
            seconds=rec["seconds"],
            lam=self.lag.split(state.lam),
            state=state,
        )


def rec_values(rec: Mapping[str, float]) -> tuple[float, float, float]:
    """Iteration, bound and primal of a history record (for logging)."""
    return rec["iteration"], rec["bound"], rec["primal"]


def _rel_gap(primal: float, bound: float) -> float:
    if not (math.isfinite(primal) and math.isfinite(bound)):
        return math.inf
    return max(primal - bound, 0.0) / max(1.0, abs(primal))


def _lagrangian_for(problem: Problem, method: DualMethod, o: DualOptions) -> Lagrangian:
    target: Model | Problem = problem
    relax: Any = o.relax
    oracle = heuristic = None
    if relax is None and o.relaxation is not None:  # a named plan, with its own structure
        plan = problem.relaxation(o.relaxation)
        target, relax, oracle, heuristic = problem.model, plan.relax, plan.oracle, plan.heuristic
    elif relax is None and problem.default_relaxation is None:
        relax = method.default_relax(problem.model)
    return Lagrangian(
        target,
        relax,
        oracle,
        heuristic=heuristic,
        executor=o.executor,
        workers=o.workers,
        scheduler=o.scheduler,
        max_blocks=o.max_blocks,
        block_options=o.block_options,
    )


def run_dual(
    model_or_problem: Model | Problem, method: DualMethod, options: DualOptions, solver: str = ""
) -> Solution:
    """Run ``method`` with ``options`` on a model or problem and return a certified Solution.

    Raises
    ------
    ModelError, NotSupportedError
        Unknown groups, a bad warm start, or an inner problem the method cannot solve.
    """
    problem = as_problem(model_or_problem)
    lag = _lagrangian_for(problem, method, options)
    why = method.check(lag)
    if why is not None:
        raise NotSupportedError(f"solver {solver or method.name!r}: {why}")
    run = _Run(lag, method, options)
    try:
        run.loop(warm_multipliers(lag, options.warm_start))
        return _solution(run, solver or method.name)
    finally:
        lag.close()


def _certificate(run: _Run, lam: dict[str, np.ndarray], x: dict | None, bound: float) -> KKTReport:
    lag, o = run.lag, run.opts
    own = run.method.certificate(lag, run.state, x)  # type: ignore[arg-type]
    if own is not None:
        return own
    if o.certify == "never":
        return KKTReport(kind="lagrangian", notes=("certification switched off",))
    limit = None if o.certify == "always" else o.certify_max_vars
    return certify_bound(
        lag.model,
        lag.relax,
        lam,
        bound,
        x=x,
        tol=o.tolerance,
        time_limit=o.certify_time_limit,
        max_vars=limit,
    )


def _solution(run: _Run, solver: str) -> Solution:
    lag, st, o = run.lag, run.state, run.opts
    if st is None:  # interrupted before the first evaluation
        term = run.termination or Termination.UNKNOWN
        return Solution(Status.NO_SOLUTION, term, solver=solver, message=f"{solver}: {term}")
    s = lag.sense
    term = run.termination or Termination.UNKNOWN
    lam_flat = run.method.report_lam(st)
    lam = lag.split(lam_flat)
    own = run.method.report_point(st)
    z, source = own if own is not None else (run.recovery.z, run.recovery.source)
    x = lag.model.split(z) if z is not None else None
    objective = s * lag.objective_min(z) if z is not None else math.nan
    bound = s * st.bound
    rep = _certificate(run, lam, x, bound)
    gap = s * (objective - bound) if x is not None and math.isfinite(bound) else math.nan
    if st.bound == math.inf:
        status = Status.INFEASIBLE
    elif x is None:
        status = Status.NO_SOLUTION
    else:  # a point is feasible only when its certificate measured it so
        closed = _rel_gap(s * objective, st.bound) <= o.tolerance
        met = rep.primal_residual <= o.tolerance and not rep.integrality > o.tolerance
        if closed and rep.certified:
            status = Status.OPTIMAL
        else:
            status = Status.FEASIBLE if met else Status.NO_SOLUTION
    secs = time.perf_counter() - run.t0
    info = {
        "method": run.method.name,
        "relax": list(lag.relax),
        "inner": lag.inner,
        "bound_from": f"{run.method.name}: dual function q(lam) by {lag.inner}",
        "point_from": source or "none",
        "oracle_seconds": run.oracle_seconds,
        "loop_seconds": run.loop_seconds,
        "certified_bound": rep.dual_objective,
    }
    note = "" if rep.certified else f"; certificate: {'; '.join(rep.notes)}"
    why = f" ({st.message})" if st.message else ""  # the method's own reason
    return Solution(
        status=status,
        termination=term,
        objective=objective,
        bound=bound,
        gap=gap,
        x=x or {},
        multipliers=lam,
        shadow_prices=kkt.shadow_prices(lag.model, lam),
        kkt=rep,
        history=final_history(
            History.from_records(run.records), objective, bound, s, reported=own is not None
        ),
        solver=solver,
        iterations=st.iteration,
        seconds=secs,
        message=f"{run.method.name}: {term.value}{why}{note}",
        info=info,
    )


class DualSolver(Solver):
    """A registered solver driving a :class:`DualMethod` through the shared loop."""

    family = "dual"
    method_class: ClassVar[type[DualMethod]]

    def available(self) -> str | None:
        import importlib.util

        if importlib.util.find_spec("highspy") is None:
            return "highspy is not installed: pip install highspy"
        return None

    def method(self, options: DualOptions | None = None) -> DualMethod:
        """The method with these options (the defaults when ``None``)."""
        opts = options if options is not None else self.Options()
        assert isinstance(opts, DualOptions)
        return self.method_class(opts)

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        assert isinstance(options, DualOptions)
        return run_dual(problem, self.method(options), options, solver=self.name)
