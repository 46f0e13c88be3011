"""The default TSP solver ``held_karp``: Held–Karp 1-tree bound and a local-search tour.

:class:`HeldKarpSolver` runs :func:`~ortools_lag.algorithms.one_tree.solve_tsp` (subgradient
ascent on the degree multipliers, 2-opt/Or-opt and iterated local search for the tour) and
certifies the bound by :func:`~ortools_lag.problems.tsp_certificate.one_tree_certificate`, and on
small instances by HiGHS as well (see :mod:`ortools_lag.problems.tsp`). ``time_limit`` bounds the
ascent (60 % of it) and the tour search together; the final exact bound evaluation and the
certificate come on top.

>>> from ortools_lag import solve
>>> from ortools_lag.problems.tsp import build
>>> sol = solve(build([[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]]), "held_karp")
>>> sol.status.value, sol.objective, sol.bound
('optimal', 4.0, 4.0)
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ortools_lag.algorithms.one_tree import solve_tsp
from ortools_lag.problems.tsp_certificate import one_tree_certificate
from ortools_lag.problems.tsp_points import point_of_tree, tour_edges
from ortools_lag.result import KKTReport
from ortools_lag.solvers.dual.ascent_termination import ascent_termination
from ortools_lag.solvers.dual.lagrangian_heuristic import (
    LagrangianHeuristicOptions,
    LagrangianHeuristicSolver,
    Outcome,
    ascent_history,
)

if TYPE_CHECKING:
    from ortools_lag.problem import Problem
    from ortools_lag.problems.tsp_points import TSPData

__all__ = ["HeldKarpOptions", "HeldKarpSolver"]


class HeldKarpOptions(LagrangianHeuristicOptions):
    """Options of ``held_karp``.

    Attributes
    ----------
    step_rule
        ``"polyak"`` (the default; Held–Wolfe–Crowder: ``t = alpha (U - L) / |g|^2``, ``alpha``
        halved on stalls; ``max_iter`` default ``max(1000, 10 n)``) or ``"volgenant_jonker"``
        (the step falls along Volgenant and Jonker's quadratic schedule to 0 at ``max_iter``,
        default ``max(150, n^2/50 + n + 16)``, their iteration count).
    kicks
        Kicks of the iterated local search (default ``max(50, 2 n)``).
    neighbours
        Candidate-list length of the local search.
    candidates
        The ascent's 1-trees are built on a candidate graph of this many nearest nodes per
        node plus the MST (``None``: dense Prim); the bound is re-evaluated over all pairs.
    certify_highs_max_nodes
        Up to this many nodes, the bound is also re-evaluated by the engine's
        :func:`~ortools_lag.solvers.bound_certificate.certify_bound` (HiGHS, a MIP on the kept
        part).
    """

    step_rule: Literal["polyak", "volgenant_jonker"] = "polyak"
    kicks: int | None = Field(default=None, ge=0)
    neighbours: int = Field(default=8, ge=1)
    candidates: int | None = Field(default=10, ge=1)
    certify_highs_max_nodes: int = Field(default=10, ge=0)


class HeldKarpSolver(LagrangianHeuristicSolver):
    """Held–Karp 1-tree bound by subgradient ascent, tour by 2-opt/Or-opt local search."""

    name = "held_karp"
    description = "Held-Karp 1-tree bound by subgradient ascent; 2-opt/Or-opt tour (tsp)"
    kinds = ("tsp",)
    relaxation = "degree"
    Options = HeldKarpOptions

    def run(self, problem: Problem, options: LagrangianHeuristicOptions) -> Outcome:
        assert isinstance(options, HeldKarpOptions)
        data: TSPData = problem.data
        n = data.n
        if options.max_iter is not None:
            max_iter = options.max_iter
        elif options.step_rule == "volgenant_jonker":
            max_iter = max(150, n * n // 50 + n + 16)
        else:
            max_iter = max(1000, 10 * n)
        res = solve_tsp(
            data.weights,
            seed=options.seed,
            kicks=options.kicks,
            k=options.neighbours,
            step_rule=options.step_rule,
            max_iter=max_iter,
            candidates=options.candidates,
            time_limit=options.time_limit,
        )
        limit = options.time_limit
        timed_out = limit is not None and res.seconds >= 0.95 * limit
        term = ascent_termination(res.gap, res.iterations, max_iter, timed_out=timed_out)
        return Outcome(
            bound=res.bound,
            multipliers={"degree": res.multipliers},
            x=point_of_tree(data, tour_edges(res.tour)),
            history=ascent_history(res.history, res.seconds),
            iterations=res.iterations,
            termination=term,
            integral=data.integral,
            point_from="tour heuristic: nearest neighbour, 2-opt/Or-opt, iterated local search",
            info={"step_rule": options.step_rule, "bound_check": self._check_name(data, options)},
        )

    @staticmethod
    def _check_name(data: TSPData, options: HeldKarpOptions) -> str:
        if options.certify == "never":
            return "none"
        mst = "L(pi) by scipy.sparse.csgraph.minimum_spanning_tree on the model's reduced costs"
        if options.certify == "always" or data.n <= options.certify_highs_max_nodes:
            return mst + "; q(pi) by HiGHS on the kept constraints (loop.certify_bound)"
        return mst

    def certify(
        self, problem: Problem, out: Outcome, options: LagrangianHeuristicOptions
    ) -> KKTReport:
        """scipy's MST re-evaluation always; the engine's HiGHS one on small instances."""
        assert isinstance(options, HeldKarpOptions)
        if options.certify == "never":
            return KKTReport(kind="lagrangian", notes=("certification switched off",))
        pi = out.multipliers["degree"]
        rep = one_tree_certificate(problem, pi, out.bound, out.x, tol=options.tolerance)
        small = problem.data.n <= options.certify_highs_max_nodes
        if options.certify == "always" or small:
            highs = super().certify(problem, out, options)
            rep = replace(
                highs,
                certified=highs.certified and rep.certified,
                notes=highs.notes + tuple(n for n in rep.notes if not n.startswith("point:")),
            )
        return rep
