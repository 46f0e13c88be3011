"""The dual ascent at one node, and the incumbent it feeds.

:func:`node_ascent` drives a :class:`~ortools_lag.solvers.dual.protocol.DualMethod` (``init`` /
``step``) on a node's restricted Lagrangian, from the parent's multipliers, and stops as soon as
the bound proves the node no better than the incumbent (early node termination), when the bound
stalls for ``patience`` iterations, at the method's own criterion, or at ``max_iter``. The
method's Polyak target is the incumbent's value. Every minimiser is offered to the
:class:`Incumbent`, which keeps the best feasible point of the *original* problem from three
sources: minimisers that happen to be feasible, the plan's Lagrangian heuristic (every
``heuristic_every`` iterations and whenever the bound improves), and the rounded average of the
minimisers. Whatever the node, a feasible point of the model is a valid incumbent.

>>> from ortools_lag import Model
>>> from ortools_lag.solvers.branch_and_bound.relaxation import NodeRelaxation
>>> from ortools_lag.solvers.dual.subgradient import SubgradientMethod, SubgradientOptions
>>> m = Model(); x = m.var("x", 2, ub=1, domain="binary")
>>> m.minimize(-x[0] - 2 * x[1]); _ = m.add("cap", x.sum() <= 1)
>>> node = NodeRelaxation(m, ("cap",))
>>> inc = Incumbent(node.lag, tol=1e-6, integral=True)
>>> out = node_ascent(node, SubgradientMethod(SubgradientOptions()), np.zeros(1),
...                   node.lb0, node.ub0, inc, max_iter=50)
>>> round(out.bound, 6), inc.value, inc.source
(-2.0, -2.0, 'lagrangian minimiser')
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ortools_lag.solvers.branch_and_bound.relaxation import NodeInfeasible
from ortools_lag.solvers.dual.lagrangian_heuristic import round_up

if TYPE_CHECKING:
    from ortools_lag.lagrangian import DualPoint, Lagrangian
    from ortools_lag.solvers.branch_and_bound.relaxation import NodeRelaxation
    from ortools_lag.solvers.dual.protocol import DualMethod, DualState

__all__ = ["Incumbent", "NodeOutcome", "node_ascent", "objective_ceiling"]


def objective_ceiling(lag: Lagrangian, lb: np.ndarray, ub: np.ndarray) -> float:
    """The largest value of a linear objective (minimisation sense) over the box ``[lb, ub]``.

    ``inf`` for a quadratic or nonlinear objective, or when a bound it needs is infinite.

    >>> from ortools_lag import Model
    >>> from ortools_lag.lagrangian import Lagrangian
    >>> m = Model(); x = m.var("x", 2, ub=1, domain="binary"); m.minimize(3 * x[0] - x[1] + 2)
    >>> lag = Lagrangian(m, ())
    >>> objective_ceiling(lag, lag.lb, lag.ub)
    5.0
    """
    if lag.Q is not None or not lag.objective_ok:
        return math.inf
    c = lag.c
    used = c != 0
    top = np.where(c[used] > 0, c[used] * ub[used], c[used] * lb[used])
    value = float(top.sum()) + float(lag.offset)
    return value if math.isfinite(value) else math.inf


class Incumbent:
    """The best feasible point of the model found anywhere in the tree (minimisation sense).

    Parameters
    ----------
    lag
        The plan's Lagrangian (objective, feasibility measure, heuristic).
    tol
        Feasibility tolerance (relative, as :mod:`ortools_lag.kkt` measures it).
    integral
        Every feasible objective value is an integer: a node is pruned once
        ``ceil(bound) >= value``.
    use_heuristic
        Run the plan's Lagrangian heuristic on minimisers.
    cutoff
        An a-priori bound on every feasible objective value (the objective's largest value over
        the root's box, see :func:`objective_ceiling`): before any incumbent a node whose bound
        exceeds it holds no feasible point (its relaxed rows cannot be met) and is pruned.
    """

    def __init__(
        self,
        lag: Lagrangian,
        *,
        tol: float,
        integral: bool,
        use_heuristic: bool = True,
        cutoff: float = math.inf,
    ) -> None:
        self.lag, self.tol, self.integral = lag, tol, integral
        self.heuristic = lag.heuristic if use_heuristic else None
        self.value, self.z, self.source = math.inf, None, ""
        self.integer = lag.integer
        self.found_at = 0
        self.cutoff = cutoff

    def offer(self, z: np.ndarray, source: str) -> bool:
        """Keep ``z`` when it is feasible, integral and better; ``True`` when kept."""
        viol, integ = self.lag.infeasibility(z)
        if viol > self.tol or integ > self.tol:
            return False
        value = self.lag.objective_min(z)
        if value < self.value - 1e-12 * max(1.0, abs(value)):
            self.value, self.z, self.source = value, z.copy(), source
            return True
        return False

    def offer_point(self, pt: DualPoint, *, run_heuristic: bool) -> None:
        """Offer a minimiser, and the heuristic's repair of it."""
        if pt.max_violation <= self.tol * self.lag.feasibility_scale:
            self.offer(pt.x, "lagrangian minimiser")
        if run_heuristic and self.heuristic is not None:
            xh = self.heuristic(self.lag.model.split(pt.x))
            if xh is not None:
                self.offer(self.lag.model.join(dict(xh)), "heuristic")

    def offer_rounded(self, x_bar: np.ndarray) -> None:
        """Offer the average of the minimisers, its integer variables rounded."""
        z = np.where(self.integer, np.round(x_bar), x_bar)
        self.offer(z, "rounded average of the minimisers")

    def prunes(self, bound: float) -> bool:
        """Whether a node of this bound (minimisation sense) cannot hold a better point."""
        if not math.isfinite(self.value):
            return bound == math.inf or bound > self.cutoff + 1e-9 * max(1.0, abs(self.cutoff))
        scale = max(1.0, abs(self.value))
        if self.integral:
            return round_up(bound, True) >= self.value - 1e-9 * scale
        return bound >= self.value - self.tol * scale


@dataclass(frozen=True)
class NodeOutcome:
    """The result of a node's ascent (minimisation sense).

    Attributes
    ----------
    infeasible
        The kept problem has no point within the node's bounds.
    bound, lam
        The best dual value (a proven bound of the node) and its multipliers.
    x_best, x_bar
        The minimiser at ``lam`` and the average of the minimisers met.
    violation
        The relaxed rows' violation at ``x_best``.
    iterations, seconds
        Evaluations of the dual function and time spent.
    """

    infeasible: bool
    bound: float
    lam: np.ndarray
    x_best: np.ndarray | None = None
    x_bar: np.ndarray | None = None
    violation: np.ndarray | None = None
    iterations: int = 0
    seconds: float = 0.0


def node_ascent(
    node: NodeRelaxation,
    method: DualMethod,
    lam0: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    incumbent: Incumbent,
    *,
    max_iter: int,
    patience: int = 20,
    heuristic_every: int = 5,
    deadline: float = math.inf,
) -> NodeOutcome:
    """Maximise the node's dual function from ``lam0``; stop early once the node is pruned.

    Parameters
    ----------
    node
        The plan's relaxation (evaluates ``q`` under the node's bounds).
    method
        The dual method.
    lam0
        The starting multipliers (the parent's best).
    lb, ub
        The node's bounds.
    incumbent
        Receives every minimiser (and the heuristic's points); its value is the Polyak target.
    max_iter, patience
        Most evaluations; iterations without a relative rise of ``1e-9`` before stopping.
    heuristic_every
        The heuristic runs every this many iterations (and when the bound improves).
    deadline
        ``time.perf_counter()`` value after which the ascent stops.
    """
    t0 = time.perf_counter()
    view = node.stepper(lb, ub)
    total: np.ndarray | None = None
    count = 0
    x_best: np.ndarray | None = None
    state: DualState | None = None
    last_rise, best_seen = 0, -math.inf
    try:
        state = method.init(view, node.lag.project(lam0))
        while True:
            pt = state.point
            improved = pt is not None and pt.lower >= state.bound and pt.lam is state.best_lam
            if pt is not None and pt.status == "optimal":
                total = pt.x.copy() if total is None else total + pt.x
                count += 1
                if improved or x_best is None:
                    x_best = pt.x
                run = improved or state.iteration % heuristic_every == 0
                incumbent.offer_point(pt, run_heuristic=run)
            if state.bound > best_seen + 1e-9 * max(1.0, abs(best_seen)):
                best_seen, last_rise = state.bound, state.iteration
            if (
                incumbent.prunes(state.bound)
                or state.converged
                or state.stalled
                or state.iteration >= max_iter
                or state.iteration - last_rise >= patience
                or time.perf_counter() >= deadline
            ):
                break
            state = replace(state, best_primal=incumbent.value)
            state = method.step(view, state)
    except NodeInfeasible:
        return NodeOutcome(
            True,
            math.inf,
            lam0,
            iterations=state.iteration if state else 1,
            seconds=time.perf_counter() - t0,
        )
    assert state is not None
    x_bar = total / count if total is not None and count else None
    viol = None
    if x_best is not None:
        viol = node.lag.violation(node.lag.relaxed_values(x_best))
    return NodeOutcome(
        False,
        state.bound,
        state.best_lam,
        x_best,
        x_bar,
        viol,
        state.iteration,
        time.perf_counter() - t0,
    )
