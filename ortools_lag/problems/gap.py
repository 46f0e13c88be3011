r"""Generalized assignment: the assignment rows relaxed, one knapsack per agent.

**Model.** ``m`` agents of capacity :math:`b_i`, ``n`` jobs; giving job ``j`` to agent ``i``
costs (or, for ``sense="max"``, earns) :math:`c_{ij}` and uses :math:`a_{ij} \ge 0` of its
capacity; ``x[i, j]`` binary::

    min (or max)  sum_ij c_ij x_ij
    s.t. assignment:  sum_i x_ij        == 1      every job j     (lam_j, free)
         capacity:    sum_j a_ij x_ij   <= b_i    every agent i   (mu_i >= 0)

A maximisation is held as the minimisation of ``-c . x`` (the README's sign convention); write
``c'`` for ``c`` (min) or ``-c`` (max).

**Relaxation** ``"assignment"`` (the default; Ross & Soland 1975, Fisher 1981). The rows are
held as ``sum_i x_ij - 1 == 0``:

.. math::

    q(\lambda) = -\sum_j \lambda_j + \sum_i \min\Bigl\{\sum_j (c'_{ij} + \lambda_j) x_{ij}
                 : \sum_j a_{ij} x_{ij} \le b_i,\ x \in \{0,1\}\Bigr\},

one 0-1 knapsack per agent (profits :math:`-(c'_{ij} + \lambda_j)`), solved together by the
batched dynamic program of :mod:`ortools_lag.algorithms.knapsack` (integer weights). The
subgradient is ``sum_i x_ij - 1``. **-lam_j is the price of job j**: what the bound charges for
leaving it unassigned, or saves by assigning it twice; the knapsacks lack the integrality
property, so ``max q`` is at least the LP bound. The Lagrangian heuristic keeps each job's
cheapest agent among those that took it, places the rest by regret, and improves by shift, swap
and two-step ejection chains.

**Relaxation** ``"capacity"``: the capacity rows (``mu_i >= 0``, **the price of a unit of agent
i's capacity**) move into the Lagrangian instead; each job then goes to its agent of least
``c'_ij + mu_i a_ij`` (a closed form; its bound is the LP bound at best).

**Solvers.** The default ``gap_lagrangian`` (:class:`GAPSolver`, integer weights) maximises
``q`` by the trust-region bundle of :func:`~ortools_lag.algorithms.gap_relaxation.solve_gap`,
repairing every oracle point, and polishes an open gap by a seeded iterated local search. No
MIP solver is called; the bound is re-evaluated by HiGHS on the kept part at the reported
``lam``, one knapsack at a time (the engine's block decomposition,
:func:`~ortools_lag.solvers.dual.lagrangian_closing.certify_by_blocks`). With fractional weights
the default is the engine's ``bundle`` on the same relaxation. ``highs`` solves the Model as a
MIP.

>>> from ortools_lag import solve
>>> p = build([[1.0, 5.0, 3.0], [4.0, 2.0, 3.0]], [[1, 1, 1], [1, 1, 1]], [2, 2])
>>> sol = solve(p)
>>> sol.solver, sol.status.value, sol.objective, sol.bound
('gap_lagrangian', 'optimal', 6.0, 6.0)
>>> p.decode(sol).agent_of_job
[0, 1, 0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from ortools_lag.algorithms.gap_relaxation import gap_local_search, gap_repair, solve_gap
from ortools_lag.errors import ModelError
from ortools_lag.io.gap import read_gap
from ortools_lag.model import Model
from ortools_lag.problem import Problem, Relaxation
from ortools_lag.result import Solution
from ortools_lag.solvers.dual.lagrangian_closing import ClosingSolver, termination_of, trace_history
from ortools_lag.solvers.dual.lagrangian_heuristic import LagrangianHeuristicOptions, Outcome

if TYPE_CHECKING:
    from collections.abc import Mapping

    #: Branching bounds an oracle may take: ``(lb, ub)`` arrays by variable name.
    _Bounds = Mapping[str, tuple[np.ndarray, np.ndarray]]

__all__ = ["GAPAnswer", "GAPData", "GAPOptions", "GAPSolver", "build", "decode", "read"]


@dataclass(frozen=True, eq=False)
class GAPData:
    """The arrays behind a generalized-assignment Problem.

    Attributes
    ----------
    cost
        ``(m, n)`` cost (``sense="min"``) or profit (``"max"``) of job ``j`` at agent ``i``.
    weight
        ``(m, n)`` capacity that job ``j`` uses at agent ``i``.
    capacity
        ``(m,)`` agent capacities.
    sense
        ``"min"`` or ``"max"``.
    name
        Instance name.
    """

    cost: np.ndarray
    weight: np.ndarray
    capacity: np.ndarray
    sense: str
    name: str

    @property
    def min_cost(self) -> np.ndarray:
        """``c'``: the costs of the minimisation form (``-c`` for a maximisation)."""
        return self.cost if self.sense == "min" else -self.cost

    @property
    def integral(self) -> bool:
        """Every cost is an integer (assignment values are then integers)."""
        return bool(np.all(self.cost == np.round(self.cost)))

    @property
    def integer_weights(self) -> bool:
        """The knapsack DP oracle applies (integer weights)."""
        return bool(np.all(self.weight == np.round(self.weight)))


@dataclass(frozen=True)
class GAPAnswer:
    """A decoded generalized-assignment Solution.

    Attributes
    ----------
    agent_of_job
        ``(n,)`` the agent of each job.
    value
        The assignment's total cost (profit).
    load
        ``(m,)`` the capacity used at each agent.
    """

    agent_of_job: list[int]
    value: float
    load: list[float]


def build(
    cost: npt.ArrayLike,
    weight: npt.ArrayLike,
    capacity: npt.ArrayLike,
    *,
    sense: Literal["min", "max"] = "min",
    name: str = "gap",
) -> Problem:
    """The generalized-assignment Problem from ``(m, n)`` costs and weights, ``(m,)`` capacities.

    Parameters
    ----------
    cost
        ``(m, n)`` finite costs (profits for ``sense="max"``).
    weight
        ``(m, n)`` finite non-negative weights (integers for the knapsack-DP oracle).
    capacity
        ``(m,)`` finite non-negative capacities.
    sense
        ``"min"`` or ``"max"``.
    name
        The model's name.

    Examples
    --------
    >>> p = build([[1, 5], [4, 2]], [[1, 1], [1, 1]], [1, 1], sense="max")
    >>> p.model.sense, sorted(p.relaxations), p.default_solver
    ('max', ['assignment', 'capacity'], 'gap_lagrangian')
    """
    c = np.atleast_2d(np.asarray(cost, dtype=np.float64))
    a = np.atleast_2d(np.asarray(weight, dtype=np.float64))
    b = np.atleast_1d(np.asarray(capacity, dtype=np.float64)).reshape(-1)
    if sense not in ("min", "max"):
        raise ModelError(f"unknown sense {sense!r} (valid choices: min, max)")
    if c.ndim != 2 or c.shape != a.shape or b.shape != (c.shape[0],):
        raise ModelError(
            f"GAP shapes disagree: cost {c.shape}, weight {a.shape}, capacity {b.shape}"
        )
    if not (np.isfinite(c).all() and np.isfinite(a).all() and np.isfinite(b).all()):
        raise ModelError("GAP data must be finite")
    if (a < 0).any() or (b < 0).any():
        raise ModelError("GAP weights and capacities must be >= 0")
    return _problem(GAPData(c, a, b, sense, name))


def read(path: str | Path, problem: int = 1, sense: Literal["min", "max"] = "min") -> Problem:
    """The ``problem``-th (1-based) problem of an OR-Library ``gap`` file, in either sense.

    Examples
    --------
    >>> from ortools_lag import __file__ as pkg
    >>> p = read(Path(pkg).parents[1] / "data" / "gap" / "gap1.txt", problem=3, sense="max")
    >>> p.data.cost.shape, p.model.sense, p.data.name
    ((5, 15), 'max', 'gap1-3')
    """
    inst = read_gap(path, problem=problem)
    out = build(inst.cost, inst.weight, inst.capacity, sense=sense, name=inst.name)
    out.metadata.update(file=str(path), problem=problem)
    return out


def _model(data: GAPData) -> Model:
    mdl = Model(data.name)
    x = mdl.var("x", data.cost.shape, ub=1, domain="binary")
    total = (data.cost * x).sum()
    if data.sense == "min":
        mdl.minimize(total)
    else:
        mdl.maximize(total)
    mdl.add("assignment", x.sum(axis=0) == 1)
    mdl.add("capacity", (data.weight * x).sum(axis=1) <= data.capacity)
    return mdl


def _problem(data: GAPData) -> Problem:
    dp = data.integer_weights
    plans = {
        "assignment": Relaxation(
            relax=("assignment",),
            oracle=_assignment_oracle(data) if dp else None,
            heuristic=_heuristic(data),
            description="assignment rows relaxed: one 0-1 knapsack per agent (DP)",
        ),
        "capacity": Relaxation(
            relax=("capacity",),
            oracle=_capacity_oracle(data),
            heuristic=_heuristic(data),
            description="capacity rows relaxed: each job to its agent of least c' + mu a",
        ),
    }
    m, n = data.cost.shape
    return Problem(
        _model(data),
        relaxations=plans,
        default_relaxation="assignment",
        decode=lambda sol: decode(data, sol),
        kind="gap",
        default_solver="gap_lagrangian" if dp else "bundle",
        data=data,
        metadata={"name": data.name, "agents": m, "jobs": n, "sense": data.sense},
    )


def _assignment_oracle(data: GAPData) -> Any:
    from ortools_lag.algorithms.knapsack import KnapsackBatch

    batch = KnapsackBatch(data.weight, data.capacity)
    c = data.min_cost

    def oracle(
        lam: Mapping[str, np.ndarray], bounds: _Bounds | None = None
    ) -> tuple[dict[str, np.ndarray], float]:
        lj = np.asarray(lam["assignment"], dtype=np.float64).reshape(-1)
        reduced = c + lj[None, :]
        gain = -reduced
        if bounds is not None:  # fixings by value: out never pays, forced outweighs the rest
            lo, hi = (np.asarray(v).reshape(c.shape) for v in bounds["x"])
            big = 1.0 + np.abs(gain).sum()
            gain = np.where(hi < 0.5, -1.0, np.where(lo > 0.5, big, gain))
        x = batch.solve(gain).x
        if bounds is not None and (np.any(x & (hi < 0.5)) or np.any(~x & (lo > 0.5))):
            return {"x": x.astype(np.float64)}, math.inf  # the forced jobs do not fit
        return {"x": x.astype(np.float64)}, float(reduced[x].sum() - lj.sum())

    return oracle


def _capacity_oracle(data: GAPData) -> Any:
    c, a, b = data.min_cost, data.weight, data.capacity
    jobs = np.arange(c.shape[1])

    def oracle(
        lam: Mapping[str, np.ndarray], bounds: _Bounds | None = None
    ) -> tuple[dict[str, np.ndarray], float]:
        mu = np.asarray(lam["capacity"], dtype=np.float64).reshape(-1)
        reduced = c + mu[:, None] * a
        if bounds is not None:  # a job fixed to an agent, or kept from it
            lo, hi = (np.asarray(v).reshape(c.shape) for v in bounds["x"])
            forced = lo > 0.5
            one = forced.sum(axis=0) == 1
            allowed = np.where(forced.any(axis=0), forced & one, hi > 0.5)
            if not np.all(allowed.any(axis=0)):
                return {"x": np.zeros(c.shape)}, math.inf
            reduced = np.where(allowed, reduced, np.inf)
        best = np.argmin(reduced, axis=0)
        x = np.zeros(c.shape)
        x[best, jobs] = 1.0
        return {"x": x}, float(reduced[best, jobs].sum() - mu @ b)

    return oracle


def _heuristic(data: GAPData) -> Any:
    c, a, b = data.min_cost, data.weight, data.capacity

    def heuristic(point: Mapping[str, np.ndarray]) -> dict[str, np.ndarray] | None:
        relaxed = np.asarray(point["x"]).reshape(c.shape) > 0.5
        start = gap_repair(c, a, b, relaxed)
        if start is None:
            return None
        assign = gap_local_search(c, a, b, start)
        x = np.zeros(c.shape)
        x[assign, np.arange(c.shape[1])] = 1.0
        return {"x": x}

    return heuristic


def decode(data: GAPData, sol: Solution) -> GAPAnswer:
    """The agent of every job in a Solution, its value and the agents' loads."""
    if "x" not in sol.x:
        raise ModelError(f"the solution has no point ({sol.status.value}): {sol.message}")
    x = np.asarray(sol.x["x"]).reshape(data.cost.shape) > 0.5
    if not np.all(x.sum(axis=0) == 1):
        raise ModelError("the solution does not assign every job exactly once")
    agent = np.argmax(x, axis=0)
    return GAPAnswer(
        agent_of_job=[int(i) for i in agent],
        value=float(data.cost[x].sum()),
        load=[float(v) for v in (data.weight * x).sum(axis=1)],
    )


class GAPOptions(LagrangianHeuristicOptions):
    """Options of ``gap_lagrangian`` (see :func:`~ortools_lag.algorithms.gap_relaxation.solve_gap`).

    Attributes
    ----------
    method
        The dual method: ``"bundle"`` or ``"subgradient"``.
    max_iter
        Oracle calls of the dual (default 2000).
    gap_tol
        With integer costs, the dual stops once the rounded bound proves the assignment optimal
        and the bound is within ``gap_tol`` (relative) of it.
    kicks
        Rounds of the iterated local search that polishes an open gap (seeded by ``seed``).
    time_limit
        Seconds for the whole solve, certificate included (default 60).
    """

    method: Literal["bundle", "subgradient"] = "bundle"
    gap_tol: float = Field(default=5e-4, ge=0)
    kicks: int = Field(default=100, ge=0)


class GAPSolver(ClosingSolver):
    """Knapsack-DP Lagrangian of the assignment rows, bundle dual, repair and local search."""

    name = "gap_lagrangian"
    description = "generalized assignment: assignment rows relaxed, knapsack DP per agent"
    kinds = ("gap",)
    relaxation = "assignment"
    Options = GAPOptions
    blockwise = True  # q(lam) re-evaluated knapsack by knapsack (one HiGHS MIP each)

    def check(self, problem: Problem) -> str | None:
        why = super().check(problem)
        if why is None and not problem.data.integer_weights:
            return "the knapsack DP oracle needs integer weights (use bundle or highs)"
        return why

    def run(self, problem: Problem, options: LagrangianHeuristicOptions) -> Outcome:
        assert isinstance(options, GAPOptions)
        data: GAPData = problem.data
        limit = options.time_limit if options.time_limit is not None else 60.0
        res = solve_gap(
            data.cost,
            data.weight,
            data.capacity,
            sense=data.sense,
            method=options.method,
            max_iter=options.max_iter or 2000,
            time_limit=0.9 * limit,  # the rest for the certificate
            gap_tol=options.gap_tol,
            kicks=options.kicks,
            seed=options.seed,
        )
        found = bool(np.all(res.assignment >= 0))
        return Outcome(
            bound=res.bound,
            multipliers={"assignment": res.multipliers},
            x={"x": res.x} if found else None,
            history=trace_history(res.trace, sense=1 if data.sense == "min" else -1),
            iterations=res.trace.iterations,
            termination=termination_of(res.trace, res.proven_optimal),
            integral=data.integral,
            point_from=res.point_method,
            info={"bound_from": res.bound_method},
        )
