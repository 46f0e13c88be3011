"""The branch-and-bound search on Lagrangian bounds.

:class:`Search` runs the tree: the root's ascent (longer, from zero or warm multipliers), then
nodes chosen **best-first** (least parent bound; ``node_selection="depth_first"`` for a plain
stack) with **depth-first dives**: after a node is branched, the child its averaged minimiser
leans to is evaluated next, its sibling queued, until the dive is pruned. A node is pruned
before its ascent when its parent's bound already reaches the incumbent, during the ascent as
soon as its own does (early termination), as infeasible when the kept problem has no point
within its bounds, and when its integer variables are all fixed (its one point is feasible or
not). Each pruned or open node becomes a :class:`~ortools_lag.solvers.branch_and_bound.
certify.Leaf` for the certificate.

Every node is recorded in the history: ``bound`` is the global bound (the least over the open
nodes and the node at hand, capped by the incumbent), ``primal`` the incumbent, ``gap`` their
difference, ``dual_value`` the node's own bound, ``violation`` the norm of the relaxed rows'
violation at the node's best minimiser, ``extra["nodes"]`` the count and ``extra["open"]`` the
open nodes.

>>> from ortools_lag import Model
>>> from ortools_lag.solvers.branch_and_bound.relaxation import NodeRelaxation
>>> from ortools_lag.solvers.dual.subgradient import SubgradientMethod, SubgradientOptions
>>> m = Model(); x = m.var("x", 3, ub=1, domain="binary")
>>> m.maximize(5 * x[0] + 4 * x[1] + 3 * x[2]); _ = m.add("cap", 2 * x[0] + 3 * x[1] + x[2] <= 4)
>>> node = NodeRelaxation(m, ("cap",))
>>> s = Search(node, SubgradientMethod(SubgradientOptions()), SearchLimits())
>>> s.run(np.zeros(1))
>>> -s.incumbent.value, s.closed
(8.0, True)
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ortools_lag.solvers.branch_and_bound.ascent import (
    Incumbent,
    NodeOutcome,
    node_ascent,
    objective_ceiling,
)
from ortools_lag.solvers.branch_and_bound.certify import Leaf
from ortools_lag.solvers.branch_and_bound.fixing import ReducedCostFixing, RowPropagation
from ortools_lag.solvers.branch_and_bound.node import Node, children, choose_branch
from ortools_lag.solvers.branch_and_bound.repair import RoundAndRepair
from ortools_lag.solvers.dual.lagrangian_heuristic import round_up

if TYPE_CHECKING:
    from ortools_lag.solvers.branch_and_bound.relaxation import NodeRelaxation
    from ortools_lag.solvers.dual.protocol import DualMethod

__all__ = ["Search", "SearchLimits", "objective_is_integral"]


@dataclass(frozen=True)
class SearchLimits:
    """What bounds the search (see :class:`~ortools_lag.solvers.branch_and_bound.solver.
    LagrangianBnBOptions` for each field)."""

    max_nodes: int = 100_000
    time_limit: float | None = None
    root_iter: int = 400
    node_iter: int = 60
    patience: int = 20
    heuristic_every: int = 5
    branching: str = "auto"
    node_selection: str = "best_first"
    dive: bool = True
    tolerance: float = 1e-6
    use_heuristic: bool = True
    fixing: bool = False
    repair: str = "auto"
    repair_every: int = 10
    repair_time: float = 1.0


def objective_is_integral(lag: Any) -> bool:
    """Whether every feasible objective value is an integer: a linear objective with integer
    coefficients on integer variables only, and an integer constant."""
    if lag.Q is not None or not lag.objective_ok:
        return False
    c, integer = lag.c, lag.integer
    if np.any((c != 0) & ~integer):
        return False
    return bool(np.all(c == np.round(c))) and float(lag.offset) == round(float(lag.offset))


class Search:
    """One branch-and-bound run (minimisation sense throughout).

    Parameters
    ----------
    node
        The plan's relaxation under branching bounds.
    method
        The dual method of every node.
    limits
        Limits and rules.
    callback
        ``callback(record) -> bool | None`` after every node (the history record); ``True``
        stops the search.
    """

    def __init__(
        self,
        node: NodeRelaxation,
        method: DualMethod,
        limits: SearchLimits,
        callback: Callable[[dict[str, float]], Any] | None = None,
    ) -> None:
        self.node, self.method, self.limits, self.callback = node, method, limits, callback
        lag = node.lag
        self.integral = objective_is_integral(lag)
        self.incumbent = Incumbent(
            lag,
            tol=limits.tolerance,
            integral=self.integral,
            use_heuristic=limits.use_heuristic,
            cutoff=objective_ceiling(lag, node.lb0, node.ub0),
        )
        fixing = ReducedCostFixing(lag) if limits.fixing else None
        self.fixing = fixing if fixing is not None and fixing.active else None
        rows = RowPropagation(lag) if limits.fixing else None
        self.propagation = rows if rows is not None and rows.active else None
        own = limits.use_heuristic and lag.heuristic is not None
        self.repair_always = limits.repair == "always" or (limits.repair == "auto" and not own)
        self.repair = (
            RoundAndRepair(node.model, time_limit=limits.repair_time)
            if limits.repair != "never"
            else None
        )
        self.integer = lag.integer
        self.rows = lag.A_R.tocsr()
        self.leaves: list[Leaf] = []
        self.records: list[dict[str, float]] = []
        self.nodes = 0
        self.max_depth = 0
        self.dual_iterations = 0
        self.root: NodeOutcome | None = None
        self.stopped: str = ""
        self._open: list[tuple[float, int, Node]] = []  # heap (or stack) of open nodes
        self._ids = 1
        self._last_bound = math.nan
        self._last_violation = math.nan
        self.t0 = time.perf_counter()

    # -- limits -----------------------------------------------------------------------------
    @property
    def deadline(self) -> float:
        t = self.limits.time_limit
        return math.inf if t is None else self.t0 + t

    @property
    def closed(self) -> bool:
        """Whether the search finished the tree (no open node left and no limit hit)."""
        return not self.stopped and not self._open

    def _push(self, node: Node) -> None:
        if self.limits.node_selection == "depth_first":
            self._open.append((node.parent_bound, node.id, node))
        else:
            heapq.heappush(self._open, (node.parent_bound, node.id, node))

    def _pop(self) -> Node:
        if self.limits.node_selection == "depth_first":
            return self._open.pop()[2]
        return heapq.heappop(self._open)[2]

    def open_bound(self) -> float:
        """The least bound over the open nodes (``inf`` when none)."""
        if not self._open:
            return math.inf
        if self.limits.node_selection == "depth_first":
            return min(b for b, _, _ in self._open)
        return self._open[0][0]

    def global_bound(self, extra: float = math.inf) -> float:
        """The proven bound: least open bound (and ``extra``), capped by the incumbent, rounded
        up when objective values are integers."""
        b = min(self.open_bound(), extra, self.incumbent.value)
        return round_up(b, self.integral) if math.isfinite(b) else b

    # -- the search -------------------------------------------------------------------------
    def run(self, lam0: np.ndarray) -> None:
        """Search from the root with multipliers ``lam0``."""
        root = Node(0, 0, (), np.asarray(lam0, dtype=float), -math.inf)
        pending: Node | None = root
        while pending is not None or self._open:
            if self.nodes >= self.limits.max_nodes:
                self.stopped = "node_limit"
                break
            if time.perf_counter() >= self.deadline:
                self.stopped = "time_limit"
                break
            node = pending if pending is not None else self._pop()
            pending = None
            if self.incumbent.prunes(node.parent_bound):
                self._leaf(node, node.lam, node.parent_bound, "bound")
                continue
            self._last_bound = node.parent_bound
            pending = self._evaluate(node)
            if not self.limits.dive and pending is not None:
                self._push(pending)
                pending = None
            if self._record(node, pending) and (pending is not None or self._open):
                self.stopped = "callback"
                break
        if pending is not None:
            self._push(pending)
        for _, _, node in self._open:  # open leaves at a limit
            self._leaf(node, node.lam, node.parent_bound, "open")

    def _evaluate(self, node: Node) -> Node | None:
        """Run the node's ascent; branch or prune. Returns the child to dive into."""
        lim = self.limits
        lb, ub = node.bounds(self.node.lb0, self.node.ub0)
        self.nodes += 1
        self._last_violation = math.nan
        self.max_depth = max(self.max_depth, node.depth)
        if np.any(lb > ub):
            self._leaf(node, node.lam, math.inf, "infeasible", lb, ub)
            return None
        implied = self._propagate(node, lb, ub)
        if implied is None:
            return None
        node = Node(node.id, node.depth, node.fixes + implied, node.lam, node.parent_bound)
        free = self.integer & (lb < ub)
        if not free.any() and self.integer.all():  # a single point
            z = lb.copy()
            self.incumbent.offer(z, "all variables fixed")
            viol, integ = self.node.lag.infeasibility(z)
            ok = viol <= lim.tolerance and integ <= lim.tolerance
            value = self.node.lag.objective_min(z) if ok else math.inf
            self._leaf(node, node.lam, value, "fixed", lb, ub)
            return None
        out = node_ascent(
            self.node,
            self.method,
            node.lam,
            lb,
            ub,
            self.incumbent,
            max_iter=lim.root_iter if node.depth == 0 else lim.node_iter,
            patience=lim.patience if node.depth else max(lim.patience, 50),
            heuristic_every=lim.heuristic_every,
            deadline=self.deadline,
        )
        self.dual_iterations += out.iterations
        if node.depth == 0:
            self.root = out
        bound = max(out.bound, node.parent_bound)  # the parent's bound holds here too
        lam = out.lam if out.bound >= node.parent_bound else node.lam
        self._last_bound = bound
        if out.violation is not None:
            self._last_violation = float(np.linalg.norm(out.violation))
        if out.infeasible:
            self._leaf(node, node.lam, math.inf, "infeasible", lb, ub)
            return None
        if out.x_bar is not None:
            self.incumbent.offer_rounded(out.x_bar)
            self._repair(node, out.x_bar, lb, ub)
        if self.incumbent.prunes(bound):
            self._leaf(node, lam, bound, "bound", lb, ub)
            return None
        assert out.x_best is not None and out.x_bar is not None and out.violation is not None
        fixes = self._fix(out, lb, ub)
        free = self.integer & (lb < ub)
        parent = Node(node.id, node.depth, node.fixes + fixes, lam, bound)
        branch = choose_branch(
            lim.branching, out.x_bar, out.x_best, lb, free, self.rows, out.violation
        )
        if branch is None:
            if fixes and self.integer.all():  # fixing left a single point: evaluate it
                return Node(self._next_id(), node.depth + 1, parent.fixes, lam, bound)
            self._leaf(node, lam, bound, "open", lb, ub)  # continuous part left: the bound stands
            return None
        first, second = children(parent, branch, next_id=self._ids)
        self._ids += 2
        self._push(second)
        return first

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids - 1

    def _repair(self, node: Node, x_bar: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> None:
        """The round-and-repair heuristic: at every node while there is no incumbent, else at
        the root and every ``repair_every`` nodes when the plan has no heuristic of its own."""
        if self.repair is None:
            return
        none_yet = not math.isfinite(self.incumbent.value)
        due = node.depth == 0 or self.nodes % self.limits.repair_every == 0
        if not (none_yet or (self.repair_always and due)):
            return
        self.incumbent.offer(self.repair.round(x_bar, lb, ub), "rounded average of the minimisers")
        z = self.repair.repair(x_bar, lb, ub)
        if z is not None:
            self.incumbent.offer(z, "round and repair (HiGHS MIP)")

    def _propagate(
        self, node: Node, lb: np.ndarray, ub: np.ndarray
    ) -> tuple[tuple[int, float, float], ...] | None:
        """Bound propagation on the rows (``lb``/``ub`` tightened in place): the implied
        decisions, or ``None`` when the node is empty (then a leaf)."""
        if self.propagation is None:
            return ()
        cuts = self.propagation.propagate(lb, ub)
        for _, cut_lb, cut_ub in cuts:
            self.leaves.append(Leaf(cut_lb, cut_ub, node.lam, math.inf, "rows"))
        if self.propagation.empty(lb, ub):
            self.leaves.append(Leaf(lb.copy(), ub.copy(), node.lam, math.inf, "rows"))
            return None
        return tuple((j, float(lb[j]), float(ub[j])) for j, _, _ in cuts)

    def _fix(
        self, out: NodeOutcome, lb: np.ndarray, ub: np.ndarray
    ) -> tuple[tuple[int, float, float], ...]:
        """Reduced-cost fixing at the node (``lb``/``ub`` tightened in place); its decisions."""
        if self.fixing is None or not math.isfinite(self.incumbent.value):
            return ()
        inc = self.incumbent

        def reaches(b: float) -> bool:  # no tolerance below the incumbent (the leaf's bound)
            return inc.prunes(b) and (inc.integral or b >= inc.value)

        down, up, gain = self.fixing.fixes(out.lam, out.bound, lb, ub, reaches)
        if not (down.size or up.size):
            return ()
        bound = out.bound + gain  # the cut-off part of the node: one leaf for the certificate
        cut = (tuple(int(j) for j in down), tuple(int(j) for j in up))
        self.leaves.append(Leaf(lb.copy(), ub.copy(), out.lam, bound, "fixing", *cut))
        fixes = tuple((int(j), float(lb[j]), float(lb[j])) for j in down) + tuple(
            (int(j), float(ub[j]), float(ub[j])) for j in up
        )
        ub[down] = lb[down]
        lb[up] = ub[up]
        return fixes

    def _leaf(
        self,
        node: Node,
        lam: np.ndarray,
        bound: float,
        kind: str,
        lb: np.ndarray | None = None,
        ub: np.ndarray | None = None,
    ) -> None:
        if lb is None or ub is None:
            lb, ub = node.bounds(self.node.lb0, self.node.ub0)
        self.leaves.append(Leaf(lb, ub, np.asarray(lam, dtype=float), bound, kind))

    def _record(self, node: Node, pending: Node | None) -> bool:
        own = self._last_bound
        inc = self.incumbent.value
        bound = self.global_bound(pending.parent_bound if pending is not None else math.inf)
        rec = {
            "iteration": float(self.nodes),
            "dual_value": own,
            "bound": bound,
            "primal": inc if math.isfinite(inc) else math.nan,
            "gap": inc - bound if math.isfinite(inc) and math.isfinite(bound) else math.nan,
            "violation": self._last_violation,
            "seconds": time.perf_counter() - self.t0,
            "nodes": float(self.nodes),
            "open": float(len(self._open)),
            "depth": float(node.depth),
        }
        self.records.append(rec)
        if self.callback is not None:
            return bool(self.callback(rec))
        return False
