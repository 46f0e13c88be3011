"""Structured solvers of the network library, each certified by the project's own code.

The families ``shortest_path``, ``min_cost_flow``, ``max_flow``, ``transportation`` and
``assignment`` (:mod:`ortools_lag.problems`) each state their problem as a real
:class:`~ortools_lag.model.Model`; the solvers here run a network algorithm on the family's
arrays (``problem.data``) and hand back a point and multipliers in the model's convention:

========== ============================================================= ======================
name       algorithm                                                     kinds
========== ============================================================= ======================
dijkstra   Dijkstra (scipy.sparse.csgraph), Johnson/Bellman-Ford for     shortest_path
           negative costs; potentials = distances; a negative cycle is
           status UNBOUNDED with the cycle as the ray
maxflow    scipy's maximum_flow (Dinic) + the residual min cut; HiGHS LP max_flow
           for capacities it cannot take
network_lp HiGHS simplex, presolve off (network LPs: presolve costs more  every network kind
           than the solve); duals = potentials
auction    Bertsekas' forward auction, epsilon-scaling, Jacobi bidding;    assignment
           exact prices recovered from its eps-CS prices
lsa        scipy's linear_sum_assignment + exact prices by a shortest-    assignment
           path label-correcting pass on the residual graph
========== ============================================================= ======================

Nothing is taken on the algorithm's word: the point and multipliers go through the shared
backend round trip (:func:`~ortools_lag.solvers.backend.finish`, i.e. ``kkt.certify``, or the
Farkas / ray checks for infeasible and unbounded problems), and then through the family's own
certificate (reduced costs, conservation, capacities, cut = flow, eps-CS), recorded in
``Solution.info["certificate"]``.

>>> import numpy as np
>>> from ortools_lag import solve
>>> from ortools_lag.problems import shortest_path
>>> p = shortest_path.build([0, 0, 1], [1, 2, 2], [1.0, 4.0, 2.0], source=0, target=2)
>>> sol = solve(p)
>>> sol.solver, sol.status.value, sol.objective, sol.multipliers["flow"].tolist()
('dijkstra', 'optimal', 3.0, [0.0, 1.0, 3.0])
>>> sol.info["certificate"]["certified"]
True
"""

from __future__ import annotations

import math
import time
from abc import abstractmethod
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

import numpy as np
from pydantic import Field

from ortools_lag.model import layout
from ortools_lag.model.ufunc_threads import background
from ortools_lag.result import Solution, Status, Termination
from ortools_lag.solvers.backend import RawResult, finish
from ortools_lag.solvers.backends.highs import HighsOptions, HighsSolver
from ortools_lag.solvers.base import Solver, SolverOptions

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ortools_lag.problem import Problem

__all__ = [
    "AuctionOptions",
    "AuctionSolver",
    "DijkstraSolver",
    "Exact",
    "LsaSolver",
    "MaxFlowSolver",
    "NetworkLPOptions",
    "NetworkLPSolver",
    "NetworkSolver",
    "certify_exact",
    "with_certificate",
]


class NetworkData(Protocol):
    """What a network family keeps in ``problem.data``: its own certificate check."""

    def certificate(
        self,
        x: Mapping[str, np.ndarray],
        multipliers: Mapping[str, np.ndarray],
        reduced_costs: Mapping[str, np.ndarray] | None = None,
    ) -> tuple[str, float, float]:
        """``(what is checked, worst absolute violation, scale of the data)``.

        ``reduced_costs`` are those the generic KKT check computed (``Solution.reduced_costs``),
        which a family may read instead of forming them again (``None``: not available).
        """


@dataclass
class Exact:
    """What a family's exact algorithm hands back, in the model's terms, before certification.

    Attributes
    ----------
    status
        The algorithm's claim: ``OPTIMAL``, ``INFEASIBLE`` or ``UNBOUNDED``.
    z
        The point as the model's global vector (``None`` when infeasible or unbounded).
    multipliers
        Multipliers by group name, in the project's sign convention.
    farkas
        Multipliers by group name proving infeasibility (checked by ``kkt.check_farkas``).
    ray
        A global direction proving unboundedness (checked by ``kkt.check_ray``).
    bound
        A proven bound to report when the multipliers do not certify the point exactly (the
        dual value of eps-CS prices, for example); ``nan`` otherwise.
    iterations, message, info
        Reported as they are.
    """

    status: Status
    z: np.ndarray | None = None
    multipliers: dict[str, np.ndarray] | None = None
    farkas: dict[str, np.ndarray] | None = None
    ray: np.ndarray | None = None
    bound: float = math.nan
    iterations: int = 0
    message: str = ""
    info: dict[str, Any] = field(default_factory=dict)


def with_certificate(
    problem: Problem, sol: Solution, tol: float, outcome: tuple[str, float, float] | None = None
) -> Solution:
    """Add the family's own certificate to ``sol.info`` (and demote ``OPTIMAL`` if it fails).

    The check is the family's ``problem.data.certificate(x, multipliers, reduced_costs)``: a
    worst violation judged against ``tol * (1 + scale)``; ``outcome`` is its result when the
    caller ran it already on ``sol``'s point and multipliers.
    """
    check = getattr(problem.data, "certificate", None)
    if check is None or not sol.x or not sol.multipliers:
        return sol
    what, worst, scale = outcome or check(sol.x, sol.multipliers, sol.reduced_costs or None)
    ok = bool(worst <= tol * (1.0 + scale))
    info = {**sol.info, "certificate": {"check": what, "violation": worst, "certified": ok}}
    if ok or sol.status != Status.OPTIMAL:
        return replace(sol, info=info)
    msg = f"{sol.message}; family certificate failed: {what} violated by {worst:.3g}"
    return replace(sol, status=Status.FEASIBLE, info=info, message=msg)


def certify_exact(problem: Problem, ex: Exact, *, solver: str, t0: float, tol: float) -> Solution:
    """Certify an :class:`Exact` result through the shared backend round trip.

    The point and multipliers are checked by ``kkt.certify`` (infeasibility by
    ``kkt.check_farkas``, unboundedness by ``kkt.check_ray``); then by the family certificate.
    ``seconds`` counts from ``t0`` (a ``time.perf_counter()``) to the end of the checks.
    """
    model = problem.model
    sf = layout(model)  # names and signs only: the check needs no standard-form arrays
    check = getattr(problem.data, "certificate", None)
    family = None
    if check is not None and ex.z is not None and ex.multipliers:
        x, lam = sf.unpack_x(ex.z), dict(ex.multipliers)
        # the family's check from the arcs runs beside the generic one from the model's rows
        family = background(lambda: check(x, lam), size=ex.z.size)
    raw = RawResult(
        ex.status,
        Termination.CONVERGED,
        x=ex.z,
        y=sf.pack_rows(ex.multipliers) if ex.multipliers is not None else None,
        farkas=sf.pack_rows(ex.farkas) if ex.farkas is not None else None,
        ray=ex.ray,
        bound=ex.bound,
        iterations=ex.iterations,
        message=ex.message,
        info=dict(ex.info),
    )
    sol = finish(model, sf, raw, solver=solver, seconds=0.0, tol=tol)
    sol = with_certificate(problem, sol, tol, None if family is None else family.result())
    return replace(sol, seconds=time.perf_counter() - t0)


class NetworkSolver(Solver):
    """A structured solver of one or more network kinds (subclasses set ``kinds``, ``run``)."""

    family = "network"
    kinds: ClassVar[tuple[str, ...]] = ()

    def check(self, problem: Problem) -> str | None:
        if problem.kind not in self.kinds or problem.data is None:
            return (
                f"it solves problems of kind {', '.join(self.kinds)} built by their family "
                f"module (this one is {problem.kind!r}); use 'highs' for a plain model"
            )
        return None

    @abstractmethod
    def run(self, problem: Problem, options: SolverOptions) -> Exact:
        """Run the algorithm on ``problem.data``."""

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        t0 = time.perf_counter()
        ex = self.run(problem, options)
        return certify_exact(problem, ex, solver=self.name, t0=t0, tol=options.tolerance)


class DijkstraSolver(NetworkSolver):
    """Shortest paths with node potentials (Dijkstra; Johnson for negative costs)."""

    name = "dijkstra"
    description = "shortest path: Dijkstra/Johnson (scipy.csgraph), potentials as multipliers"
    kinds = ("shortest_path",)

    def check(self, problem: Problem) -> str | None:
        from ortools_lag.problems.shortest_path import dijkstra_refuses

        return super().check(problem) or dijkstra_refuses(problem.data)

    def run(self, problem: Problem, options: SolverOptions) -> Exact:
        from ortools_lag.problems.shortest_path import solve_exact

        return solve_exact(problem)  # type: ignore[no-any-return]


class MaxFlowSolver(NetworkSolver):
    """Max flow by scipy's maximum_flow with the min cut as its certificate."""

    name = "maxflow"
    description = "max flow / min cut: scipy maximum_flow (Dinic), the cut as the dual certificate"
    kinds = ("max_flow",)

    def run(self, problem: Problem, options: SolverOptions) -> Exact:
        from ortools_lag.problems.max_flow import solve_exact

        return solve_exact(problem)  # type: ignore[no-any-return]

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        from ortools_lag.problems.max_flow import takes_integer_flow

        if not takes_integer_flow(problem):  # scipy computes in 32-bit integers
            lp = NetworkLPOptions(time_limit=options.time_limit, tolerance=options.tolerance)
            sol = NetworkLPSolver().solve(problem, lp)
            info = {**sol.info, "fallback": "capacities are not integers below 2**31: HiGHS LP"}
            return replace(sol, solver=self.name, info=info)
        return super().solve(problem, options)


class NetworkLPOptions(HighsOptions):
    """HiGHS options with the network defaults: simplex, presolve off (measured faster on
    flow-conservation LPs; see ``benchmarks/bench_networks.py``)."""

    presolve: Literal["choose", "on", "off"] = "off"
    method: Literal["choose", "simplex", "ipm", "pdlp"] = "simplex"


class NetworkLPSolver(HighsSolver):
    """The network LP through HiGHS (presolve off), with the family certificate on top."""

    name = "network_lp"
    family = "network"
    description = "network LP by HiGHS simplex, presolve off; duals = node potentials"
    Options = NetworkLPOptions

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        sol = super().solve(problem, options)
        info = {
            **sol.info,
            "method": "HiGHS simplex on the network LP",
            "bound_from": "dual value of HiGHS's row duals (kkt.certify)",
            "point_from": "HiGHS basic solution",
        }
        sol = replace(sol, solver=self.name, info=info)
        return with_certificate(problem, sol, options.tolerance)


class AuctionOptions(SolverOptions):
    """Options of the auction.

    Attributes
    ----------
    eps_final
        The last epsilon (default: ``1/(n+1)`` for integer costs, exact; else ``1e-9`` times the
        cost range).
    factor
        Epsilon is divided by this between phases.
    exact_duals
        Turn the eps-CS prices into exact multipliers (a warm-started label-correcting pass);
        without it the Solution carries the eps-CS prices and their dual bound.
    """

    eps_final: float | None = Field(default=None, gt=0)
    factor: float = Field(default=10.0, gt=1)
    exact_duals: bool = True


class AuctionSolver(NetworkSolver):
    """Bertsekas' auction with epsilon-scaling; prices are the object rows' multipliers."""

    name = "auction"
    description = "assignment: forward auction with eps-scaling (Jacobi bids), prices as duals"
    kinds = ("assignment",)
    Options = AuctionOptions

    def run(self, problem: Problem, options: SolverOptions) -> Exact:
        from ortools_lag.problems.assignment import solve_exact

        assert isinstance(options, AuctionOptions)
        return solve_exact(  # type: ignore[no-any-return]
            problem,
            "auction",
            eps_final=options.eps_final,
            factor=options.factor,
            exact_duals=options.exact_duals,
        )


class LsaSolver(NetworkSolver):
    """Exact assignment by scipy's linear_sum_assignment with the dual prices recovered."""

    name = "lsa"
    description = "assignment: scipy linear_sum_assignment + exact prices (residual shortest paths)"
    kinds = ("assignment",)

    def run(self, problem: Problem, options: SolverOptions) -> Exact:
        from ortools_lag.problems.assignment import solve_exact

        return solve_exact(problem, "lsa")  # type: ignore[no-any-return]
