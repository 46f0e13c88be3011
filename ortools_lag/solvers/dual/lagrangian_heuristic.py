"""Lagrangian heuristics run as one solve: a family's own ascent, certified by the project's code.

Some relaxations have a dedicated algorithm that does better than the generic dual loop of
:mod:`ortools_lag.solvers.dual.loop`: the Held–Karp 1-tree ascent with a tour heuristic (``tsp``),
Beasley's set-covering heuristic with column fixing (``set_cover``), the closed-form
facility-location relaxation with open/close/swap moves (``facility_location``). Each family
registers a :class:`LagrangianHeuristicSolver` whose :meth:`~LagrangianHeuristicSolver.run`
calls its algorithm on ``problem.data`` and returns an :class:`Outcome`: the bound, the
multipliers of the relaxed groups (in the model's sign convention), a feasible point by variable
name, and the ascent's history.

Nothing is taken on the algorithm's word. :meth:`~LagrangianHeuristicSolver.solve` recomputes the
objective from the model, and certifies the bound by the independent re-evaluation of the Lagrangian
engine, :func:`~ortools_lag.solvers.bound_certificate.certify_bound`: ``q(lam)`` solved again by
HiGHS on the model's kept constraints at the reported multipliers, the multipliers' signs, and the
point's feasibility and integrality (a family may override
:meth:`~LagrangianHeuristicSolver.certify` where HiGHS cannot re-solve its kept part, and must then
say how it re-evaluates). The Solution is ``OPTIMAL`` only when that certificate holds and the gap
is closed: relatively within ``tolerance``, or, when every feasible objective value is an integer,
by the rounded bound ``ceil(bound) >= objective`` (``info["bound_int"]``).

>>> from ortools_lag.solvers.dual.lagrangian_heuristic import LagrangianHeuristicOptions
>>> LagrangianHeuristicOptions(max_iter=50).certify
'auto'
"""

from __future__ import annotations

import dataclasses
import math
import time
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from ortools_lag import kkt
from ortools_lag.result import History, KKTReport, Solution, Status, Termination
from ortools_lag.solvers.base import Solver, SolverOptions

if TYPE_CHECKING:
    from ortools_lag.problem import Problem

__all__ = [
    "LagrangianHeuristicOptions",
    "LagrangianHeuristicSolver",
    "Outcome",
    "ascent_history",
    "final_history",
    "round_up",
]


class LagrangianHeuristicOptions(SolverOptions):
    """Options every Lagrangian-heuristic solver takes.

    ``time_limit`` bounds the family's whole run: the TSP ascent and tour search, the
    set-covering ascent, and the facility-location rounds check it as they go.

    Attributes
    ----------
    max_iter
        Most Lagrangian subproblems (``None``: the algorithm's default).
    seed
        Seed of the randomised parts (local-search kicks, ruin-and-recreate rounds).
    certify
        Re-evaluate the bound at the end: ``"auto"`` (HiGHS on the kept constraints, up to
        ``certify_max_vars`` variables), ``"always"`` or ``"never"``.
    certify_max_vars, certify_time_limit
        Size and time limits of the HiGHS re-evaluation.
    callback
        ``callback(tick)`` after every Lagrangian subproblem, with the iteration, best bound and
        best objective so far (:class:`~ortools_lag.algorithms.progress.Tick`); it cannot stop
        the run (the command line's progress bar).
    """

    max_iter: int | None = Field(default=None, ge=1)
    seed: int = Field(default=0, ge=0)
    certify: Literal["auto", "always", "never"] = "auto"
    certify_max_vars: int = Field(default=20000, ge=1)
    certify_time_limit: float | None = Field(default=60.0, gt=0)
    callback: Callable[..., Any] | None = None


@dataclass(frozen=True)
class Outcome:
    """What a family's algorithm hands back (minimisation problems, the user's sense).

    Attributes
    ----------
    bound
        The best Lagrangian value ``q(lam)`` found (unrounded).
    multipliers
        The relaxed groups' multipliers at ``bound``, by group name, in the groups' shapes.
    x
        The best feasible point by variable name (``None`` if none was found).
    history
        The ascent's record (:func:`ascent_history`).
    iterations
        Lagrangian subproblems solved.
    termination
        Why the ascent stopped.
    integral
        Every feasible objective value is an integer (``ceil(bound)`` is then a bound too).
    point_from
        What produced ``x`` (for ``info``).
    info
        Family facts added to ``Solution.info``.
    """

    bound: float
    multipliers: dict[str, np.ndarray]
    x: dict[str, np.ndarray] | None
    history: History
    iterations: int
    termination: Termination = Termination.CONVERGED
    integral: bool = False
    point_from: str = "heuristic"
    info: dict[str, Any] = field(default_factory=dict)


def round_up(bound: float, integral: bool) -> float:
    """``ceil(bound)`` (less a relative ``1e-9`` of slack) when objective values are integers.

    >>> round_up(10603.64, True), round_up(10603.64, False), round_up(7542.0000000001, True)
    (10604.0, 10603.64, 7542.0)
    """
    if not integral or not math.isfinite(bound):
        return bound
    return float(math.ceil(bound - 1e-9 * max(1.0, abs(bound))))


def ascent_history(hist: dict[str, np.ndarray], seconds: float | None = None) -> History:
    """A :class:`~ortools_lag.result.History` from a phase-1 ascent record.

    Parameters
    ----------
    hist
        Arrays ``value`` (``q(lam_k)``), ``best_bound``, ``best_primal`` and ``step``, one entry
        per subproblem (the shape :mod:`ortools_lag.algorithms` records).
    seconds
        Total time, spread evenly over the iterations (the algorithms do not time each one).

    Examples
    --------
    >>> h = ascent_history({"value": np.array([1.0, 3.0]), "best_bound": np.array([1.0, 3.0]),
    ...                     "best_primal": np.array([5.0, 4.0]), "step": np.array([0.5, 0.2])})
    >>> h.gap.tolist(), h.iteration.tolist()
    ([4.0, 1.0], [1, 2])
    """
    value = np.asarray(hist["value"], dtype=float)
    k = value.size
    primal = np.asarray(hist["best_primal"], dtype=float)
    primal = np.where(np.isfinite(primal), primal, np.nan)
    bound = np.asarray(hist["best_bound"], dtype=float)
    secs = np.linspace(0.0, seconds, k + 1)[1:] if seconds is not None else np.full(k, np.nan)
    return History(
        iteration=np.arange(1, k + 1),
        dual_value=value,
        bound=bound,
        primal=primal,
        gap=primal - bound,
        step=np.asarray(hist["step"], dtype=float),
        violation=np.asarray(hist.get("violation", np.full(k, np.nan)), dtype=float),
        seconds=secs,
    )


def final_history(
    history: History, objective: float, bound: float, sense: int, *, reported: bool = False
) -> History:
    """The history with the solve's last word in its last entry.

    A family's local search or exact gap closing may improve the point (or the bound) after the
    ascent's last iteration; the figure's best-feasible and bound lines must end at the values
    the summary prints, so the last entry takes the better of its own and the final ones
    (``reported=True``: the final point itself, when the solver reports its own iterate rather
    than the best point it recorded).

    >>> h = History(iteration=np.array([1, 2]), bound=np.array([3.0, 4.0]),
    ...             primal=np.array([9.0, 8.0]), gap=np.array([6.0, 4.0]))
    >>> f = final_history(h, 7.0, 4.5, 1)
    >>> f.primal.tolist(), f.bound.tolist(), f.gap.tolist()
    ([9.0, 7.0], [3.0, 4.5], [6.0, 2.5])
    """
    if len(history) == 0:
        return history
    primal, best = history.primal.astype(float), history.bound.astype(float)
    pick, keep = (min, max) if sense > 0 else (max, min)  # better point, better bound
    if math.isfinite(objective):
        own = primal[-1]
        primal[-1] = objective if reported or not math.isfinite(own) else pick(own, objective)
    if math.isfinite(bound):
        best[-1] = bound if not math.isfinite(best[-1]) else keep(best[-1], bound)
    gap = history.gap.astype(float)
    if gap.size == primal.size:
        gap[-1] = sense * (primal[-1] - best[-1])
    return dataclasses.replace(history, primal=primal, bound=best, gap=gap)


class LagrangianHeuristicSolver(Solver):
    """A family's Lagrangian heuristic, certified and packed into a Solution.

    Subclasses set ``name``, ``kinds``, ``relaxation`` (the problem's plan whose groups the bound
    relaxes) and implement :meth:`run`.
    """

    family: ClassVar[str] = "dual"
    kinds: ClassVar[tuple[str, ...]] = ()
    relaxation: ClassVar[str] = ""
    Options: ClassVar[type[SolverOptions]] = LagrangianHeuristicOptions

    def check(self, problem: Problem) -> str | None:
        if problem.kind not in self.kinds:
            return f"{self.name} solves {', '.join(self.kinds)} problems, not {problem.kind!r}"
        if self.relaxation not in problem.relaxations:
            return f"the problem has no relaxation {self.relaxation!r}"
        if problem.data is None:
            return "the problem carries no family data"
        return None

    @abstractmethod
    def run(self, problem: Problem, options: LagrangianHeuristicOptions) -> Outcome:
        """Run the family's algorithm on ``problem.data``."""

    def certify(
        self, problem: Problem, out: Outcome, options: LagrangianHeuristicOptions
    ) -> KKTReport:
        """The engine's independent re-evaluation of the bound (and the point's feasibility)."""
        from ortools_lag.solvers.bound_certificate import certify_bound

        if options.certify == "never":
            return KKTReport(kind="lagrangian", notes=("certification switched off",))
        return certify_bound(
            problem.model,
            problem.relaxation(self.relaxation).relax,
            out.multipliers,
            out.bound,
            x=out.x,
            tol=options.tolerance,
            time_limit=options.certify_time_limit,
            max_vars=None if options.certify == "always" else options.certify_max_vars,
        )

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        assert isinstance(options, LagrangianHeuristicOptions)
        from ortools_lag.algorithms.progress import observing

        t0 = time.perf_counter()
        with observing(options.callback, sense=problem.model.sense_sign):
            out = self.run(problem, options)
        run_seconds = time.perf_counter() - t0
        rep = self.certify(problem, out, options)
        return self._solution(problem, out, rep, options, t0, run_seconds)

    def _solution(
        self,
        problem: Problem,
        out: Outcome,
        rep: KKTReport,
        options: LagrangianHeuristicOptions,
        t0: float,
        run_seconds: float,
    ) -> Solution:
        model = problem.model
        s = model.sense_sign
        objective = math.nan
        if out.x is not None:
            objective = model.objective_value(model.join(dict(out.x)))
        bound_int = round_up(s * out.bound, out.integral) * s
        gap = s * (objective - out.bound) if out.x is not None else math.nan
        gap_int = s * (objective - bound_int) if out.x is not None else math.nan
        if out.x is None:
            status = Status.NO_SOLUTION
        else:
            closed = gap <= options.tolerance * max(1.0, abs(objective)) or gap_int <= 1e-9 * max(
                1.0, abs(objective)
            )
            status = Status.OPTIMAL if closed and rep.certified else Status.FEASIBLE
        relax = problem.relaxation(self.relaxation).relax
        info = {
            "method": self.name,
            "relax": list(relax),
            "inner": "oracle",
            "bound_from": f"{self.name}: {self.description}",
            "point_from": out.point_from if out.x is not None else "none",
            "bound_int": bound_int,
            "gap_int": gap_int,
            "certified_bound": rep.dual_objective,
            "run_seconds": run_seconds,
            **out.info,
        }
        note = "" if rep.certified else f"; certificate: {'; '.join(rep.notes)}"
        return Solution(
            status=status,
            termination=out.termination,
            objective=objective,
            bound=out.bound,
            gap=gap,
            x=out.x or {},
            multipliers=out.multipliers,
            shadow_prices=kkt.shadow_prices(model, out.multipliers),
            kkt=rep,
            history=final_history(out.history, objective, out.bound, s),
            solver=self.name,
            iterations=out.iterations,
            seconds=time.perf_counter() - t0,
            message=f"{self.name}: {out.termination.value}{note}",
            info=info,
        )
