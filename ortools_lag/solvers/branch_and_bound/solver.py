r"""``lagrangian_bnb``: branch-and-bound on the Lagrangian bound of any relaxation plan.

For a model with integer variables and a relaxation plan (the problem's default plan, a named
one, or ``relax=[...]``), the solver searches a tree whose node is the kept problem plus
branching bounds :math:`lb \le x \le ub`; the node's bound is the dual value

.. math::

    q_{lb,ub}(\lambda) = \min\{ L(x, \lambda) : x \in X_{kept},\ lb \le x \le ub \},

maximised by the subgradient (Polyak step, target: the incumbent) or bundle method, warm-started
from the parent's multipliers and stopped as soon as it reaches the incumbent. Incumbents come
from the plan's Lagrangian heuristic, from minimisers that are feasible, and from the rounded
average of the minimisers (see :mod:`~ortools_lag.solvers.branch_and_bound.ascent`); nodes are
chosen best-first with depth-first dives (:mod:`~ortools_lag.solvers.branch_and_bound.tree`);
the branching variable is the most fractional one of the averaged minimiser, else one of the
most violated relaxed row (:mod:`~ortools_lag.solvers.branch_and_bound.node`).

**Certificate.** Every leaf's bound (pruned, infeasible or open) is re-evaluated independently by
HiGHS on the kept rows with the leaf's bounds at the leaf's multipliers
(:mod:`~ortools_lag.solvers.branch_and_bound.certify`); the Solution's bound is the least leaf
bound (rounded up when every objective value is an integer), and it is certified when no leaf's
reported bound exceeds its re-evaluation. ``OPTIMAL`` only when the gap is closed within
``tolerance`` (or, with an integral objective, ``ceil(bound) >= objective``), the incumbent is
feasible and the certificate holds; ``FEASIBLE`` with the gap and termination
``node_limit`` (``max_nodes``) or ``time_limit``
otherwise; ``INFEASIBLE`` when the tree closes with no point.

**Multipliers.** ``Solution.multipliers`` are the root's best multipliers: the Lagrangian dual of
the whole problem, in the model's sign convention; the leaves' own multipliers prove the bound.

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 3, ub=1, domain="binary")
>>> m.maximize(5 * x[0] + 4 * x[1] + 3 * x[2]); _ = m.add("cap", 2 * x[0] + 3 * x[1] + x[2] <= 4)
>>> sol = solve(m, "lagrangian_bnb", relax=["cap"])
>>> sol.status.value, sol.objective, sol.bound, sol.x["x"].tolist()
('optimal', 8.0, 8.0, [1.0, 0.0, 1.0])
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from ortools_lag import kkt
from ortools_lag.errors import ModelError, NotSupportedError
from ortools_lag.lagrangian import relaxed_group_names
from ortools_lag.result import History, Solution, Status, Termination
from ortools_lag.solvers.base import Solver, SolverOptions
from ortools_lag.solvers.bound_certificate import bound_report, sign_violation
from ortools_lag.solvers.branch_and_bound.certify import certify_leaves
from ortools_lag.solvers.branch_and_bound.relaxation import NodeRelaxation
from ortools_lag.solvers.branch_and_bound.tree import Search, SearchLimits
from ortools_lag.solvers.dual.lagrangian_heuristic import round_up
from ortools_lag.solvers.dual.loop import warm_multipliers

if TYPE_CHECKING:
    from ortools_lag.problem import Problem
    from ortools_lag.solvers.dual.protocol import DualMethod

__all__ = ["LagrangianBnBOptions", "LagrangianBnBSolver"]


class LagrangianBnBOptions(SolverOptions):
    """Options of ``lagrangian_bnb``.

    Attributes
    ----------
    relax, relaxation
        The relaxed groups, or the name of one of the problem's plans (default: its default plan).
    method
        The dual method of every node: ``"subgradient"`` (Polyak steps, Held–Wolfe–Crowder
        halving) or ``"bundle"`` (proximal bundle, HiGHS master).
    max_nodes
        Most nodes evaluated (then ``termination == "node_limit"``).
    root_iter, node_iter, patience
        Most dual evaluations at the root and at every other node; a node's ascent stops after
        ``patience`` evaluations without a rise (the root's after at least 50).
    branching
        ``"auto"``, ``"fractional"`` or ``"violated"`` (see
        :mod:`~ortools_lag.solvers.branch_and_bound.node`).
    node_selection, dive
        ``"best_first"`` (least bound) or ``"depth_first"``; ``dive``: evaluate the leaning child
        of a branched node next (depth-first dives for incumbents).
    heuristic, heuristic_every
        Run the plan's Lagrangian heuristic on minimisers, every this many evaluations of a node
        (and whenever its bound rises).
    fixing
        Bound propagation on the model's rows at every node and Lagrangian reduced-cost fixing
        once there is an incumbent (:mod:`~ortools_lag.solvers.branch_and_bound.fixing`); every
        cut-off part becomes a certified leaf. Off by default: on the OR-Library GAP instances
        it shrinks some trees and grows others, and adds leaves to re-evaluate.
    repair, repair_every, repair_time
        The round-and-repair heuristic (:mod:`~ortools_lag.solvers.branch_and_bound.repair`):
        ``"auto"`` runs it at the root and every ``repair_every`` nodes when the plan has no
        Lagrangian heuristic, and at every node while there is no incumbent; ``"always"`` as if
        the plan had none; ``"never"``. ``repair_time``: seconds of each repair MIP.
    warm_start
        Root multipliers: a Solution or multipliers by group name.
    callback
        ``callback(record) -> bool | None`` after every node with the history record in the
        model's sense (``iteration`` = nodes, ``bound``, ``primal``, ``gap``, ``violation``);
        ``True`` stops the search.
    certify, certify_time_limit
        Re-evaluate every leaf's bound by HiGHS (``"auto"``/``"always"``) or not (``"never"``:
        never ``OPTIMAL`` then); the time limit of that re-evaluation.
    block_options
        HiGHS options of the kept-problem blocks (the engine's inner solve and the certificate).
    time_limit
        Seconds for the search (the certificate's time comes on top).
    """

    relax: list[str] | None = None
    relaxation: str | None = None
    method: Literal["subgradient", "bundle"] = "subgradient"
    max_nodes: int = Field(default=100_000, ge=1)
    root_iter: int = Field(default=400, ge=1)
    node_iter: int = Field(default=60, ge=1)
    patience: int = Field(default=20, ge=1)
    branching: Literal["auto", "fractional", "violated"] = "auto"
    node_selection: Literal["best_first", "depth_first"] = "best_first"
    dive: bool = True
    heuristic: bool = True
    heuristic_every: int = Field(default=5, ge=1)
    fixing: bool = False
    repair: Literal["auto", "always", "never"] = "auto"
    repair_every: int = Field(default=10, ge=1)
    repair_time: float = Field(default=1.0, gt=0)
    warm_start: Any = None
    callback: Callable[..., Any] | None = None
    certify: Literal["auto", "always", "never"] = "auto"
    certify_time_limit: float | None = Field(default=120.0, gt=0)
    block_options: dict[str, Any] | None = None


def _method(options: LagrangianBnBOptions) -> DualMethod:
    if options.method == "bundle":
        from ortools_lag.solvers.dual.bundle import BundleMethod, BundleOptions

        return BundleMethod(BundleOptions(tolerance=options.tolerance))
    from ortools_lag.solvers.dual.subgradient import SubgradientMethod, SubgradientOptions

    return SubgradientMethod(SubgradientOptions(tolerance=options.tolerance, halving_patience=5))


def _plan(problem: Problem, o: LagrangianBnBOptions) -> tuple[tuple[str, ...], Any, Any]:
    """The relaxed groups, oracle and heuristic of the chosen plan."""
    model = problem.model
    if o.relax is not None:
        names = relaxed_group_names(model, o.relax)
        for rel in problem.relaxations.values():
            if set(rel.relax) == set(names):
                return names, rel.oracle, rel.heuristic
        return names, None, None
    plan = problem.relaxation(o.relaxation)
    return relaxed_group_names(model, plan.relax), plan.oracle, plan.heuristic


class LagrangianBnBSolver(Solver):
    """Branch-and-bound on Lagrangian bounds, every leaf's bound re-evaluated by HiGHS."""

    name = "lagrangian_bnb"
    family = "dual"
    description = "branch-and-bound on the Lagrangian bound of a relaxation plan (certified leaves)"
    Options = LagrangianBnBOptions

    def available(self) -> str | None:
        import importlib.util

        if importlib.util.find_spec("highspy") is None:
            return "highspy is not installed: pip install highspy"
        return None

    def check(self, problem: Problem) -> str | None:
        if not problem.model.is_integer:
            return "the model has no integer variable to branch on (use subgradient or bundle)"
        return None

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        assert isinstance(options, LagrangianBnBOptions)
        o = options
        if o.relax is None and o.relaxation is None and problem.default_relaxation is None:
            raise ModelError(
                "lagrangian_bnb needs a relaxation: pass relax=[group, ...] or relaxation=NAME"
            )
        relax, oracle, heuristic = _plan(problem, o)
        node = NodeRelaxation(
            problem.model, relax, oracle, heuristic, block_options=o.block_options
        )
        try:
            why = node.why_not()
            if why is not None:
                raise NotSupportedError(f"solver 'lagrangian_bnb': {why}")
            limits = SearchLimits(
                max_nodes=o.max_nodes,
                time_limit=o.time_limit,
                root_iter=o.root_iter,
                node_iter=o.node_iter,
                patience=o.patience,
                heuristic_every=o.heuristic_every,
                branching=o.branching,
                node_selection=o.node_selection,
                dive=o.dive,
                tolerance=o.tolerance,
                use_heuristic=o.heuristic,
                fixing=o.fixing,
                repair=o.repair,
                repair_every=o.repair_every,
                repair_time=o.repair_time,
            )
            sign, user_cb = problem.model.sense_sign, o.callback
            callback = (
                None if user_cb is None else (lambda rec: user_cb(_user_sense(rec, sign)))
            )  # the user sees the history's record: values in the model's sense
            search = Search(node, _method(o), limits, callback=callback)
            search.run(warm_multipliers(node.lag, o.warm_start))
            return _solution(problem, node, search, o)
        finally:
            node.close()


def _solution(
    problem: Problem, node: NodeRelaxation, search: Search, o: LagrangianBnBOptions
) -> Solution:
    model, lag, relax = problem.model, node.lag, node.relax
    s = model.sense_sign
    inc = search.incumbent
    leaves = search.leaves
    reported = min((leaf.bound for leaf in leaves), default=math.inf)
    closed = search.closed
    bound_min = min(reported, inc.value) if closed else reported
    bound_min = round_up(bound_min, search.integral) if math.isfinite(bound_min) else bound_min
    root = search.root
    lam_root = root.lam if root is not None else np.zeros(lag.size)
    lam = lag.split(lam_root)
    x = model.split(inc.z) if inc.z is not None else None
    objective = s * inc.value if inc.z is not None else math.nan
    notes: list[str] = []
    sign = sign_violation(lag, lam_root, o.tolerance, notes)
    if o.certify == "never":
        cert_q, cert_info = math.nan, {"leaves_certified": 0, "certify_seconds": 0.0}
        notes.append("certification switched off")
    else:
        cert = certify_leaves(
            model,
            relax,
            leaves,
            tol=o.tolerance,
            block_options=o.block_options,
            time_limit=o.certify_time_limit,
        )
        notes.extend(cert.notes)
        cert_q = min(cert.bound, inc.value) if closed and not math.isnan(cert.bound) else cert.bound
        cert_info = {"leaves_certified": cert.leaves, "certify_seconds": cert.seconds}
    rep = bound_report(model, cert_q, s * bound_min, sign, notes, x=x, tol=o.tolerance)
    gap = s * (objective - s * bound_min) if x is not None else math.nan
    term = {
        "node_limit": Termination.NODE_LIMIT,
        "time_limit": Termination.TIME_LIMIT,
        "callback": Termination.CALLBACK,
    }.get(search.stopped, Termination.CONVERGED)
    if x is None:
        status = Status.INFEASIBLE if closed and rep.certified else Status.NO_SOLUTION
    else:
        scale = max(1.0, abs(inc.value))
        shut = inc.value - bound_min <= (1e-9 if search.integral else o.tolerance) * scale
        status = Status.OPTIMAL if shut and rep.certified else Status.FEASIBLE
    kinds = {
        k: sum(1 for leaf in leaves if leaf.kind == k)
        for k in ("bound", "infeasible", "fixed", "fixing", "rows", "open")
    }
    root_bound = s * root.bound if root is not None else math.nan
    info = {
        "method": o.method,
        "relax": list(relax),
        "inner": node.inner,
        "bound_from": "least leaf bound of the branch-and-bound tree (Lagrangian, re-evaluated)",
        "point_from": inc.source or "none",
        "nodes": search.nodes,
        "leaves": len(leaves),
        "leaf_kinds": kinds,
        "max_depth": search.max_depth,
        "fixed_by_reduced_cost": search.fixing.fixed if search.fixing is not None else 0,
        "fixed_by_propagation": (
            search.propagation.tightened if search.propagation is not None else 0
        ),
        "repair_calls": search.repair.calls if search.repair is not None else 0,
        "dual_iterations": search.dual_iterations,
        "root_bound": root_bound,
        "integral_objective": search.integral,
        "certified_bound": rep.dual_objective,
        "limit": search.stopped or None,
        "multipliers_from": "root node",
        **cert_info,
    }
    hist = History.from_records([_user_sense(r, s) for r in search.records])
    note = "" if rep.certified else f"; certificate: {'; '.join(rep.notes)}"
    return Solution(
        status=status,
        termination=term,
        objective=objective,
        bound=s * bound_min,
        gap=gap,
        x=x or {},
        multipliers=lam,
        shadow_prices=kkt.shadow_prices(model, lam),
        kkt=rep,
        history=hist,
        solver="lagrangian_bnb",
        iterations=search.nodes,
        seconds=time.perf_counter() - search.t0,
        message=f"lagrangian_bnb: {term.value} after {search.nodes} nodes{note}",
        info=info,
    )


def _user_sense(rec: dict[str, float], s: int) -> dict[str, float]:
    out = dict(rec)
    for k in ("dual_value", "bound", "primal"):
        out[k] = s * rec[k]
    return out
