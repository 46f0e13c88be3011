r"""0-1 and multidimensional knapsack: the capacity rows relaxed, DP for one row.

**Model.** ``n`` items of profit :math:`p_j`, ``m`` capacity rows with weights
:math:`w_{ij} \ge 0` and capacities :math:`b_i \ge 0`; ``x[j]`` binary::

    max  p . x
    s.t. capacity:  W x <= b        (mu_i >= 0)

A maximisation is held as the minimisation of ``-p . x`` (the README's sign convention).

**Relaxation** ``"capacity"`` (the default). The rows are held as ``W x - b <= 0``:

.. math::

    L(x, \mu) = -p \cdot x + \mu \cdot (W x - b), \qquad
    \max_x (p \cdot x) \le \mu \cdot b + \sum_j \max\bigl(0,\; p_j - \mu \cdot W_{:j}\bigr),

solved by the structured oracle in closed form: ``x_j = 1`` exactly when the *reduced profit*
:math:`p_j - \mu W_{:j}` is positive; the subgradient is ``W x - b``. **mu_i is the price of a
unit of capacity i** (its shadow price): the profit one more unit of ``b_i`` would add at the
margin. The relaxed problem has the integrality property, so the best bound is the LP
relaxation's value. The Lagrangian heuristic keeps the relaxed items by pseudo-utility
``p_j / (W_{:j} / b)`` while they fit, fills greedily and improves by add, 1-1 and 1-2 exchanges.

**Solvers.** With one row and integer weights the default is ``knapsack_dp``
(:class:`KnapsackDPSolver`): the 0-1 knapsack by dynamic programming over the capacity
(:func:`~ortools_lag.algorithms.knapsack.knapsack_01`), exact; its Solution also carries the
Lagrangian (Dantzig) bound ``q(mu*)`` at the critical ratio, re-evaluated by the engine
(``info["lagrangian_bound"]``). Otherwise the default is ``mknap_lagrangian``
(:class:`MKnapSolver`): the dual maximised by the trust-region bundle
(:func:`~ortools_lag.algorithms.mknap_relaxation.solve_mknap`), every oracle point repaired by the
greedy and local search. No MIP solver is called; every bound is re-evaluated by HiGHS on the kept
part (``x`` binary, no rows) at the reported ``mu``
(:func:`~ortools_lag.solvers.bound_certificate.certify_bound`). ``subgradient`` and ``bundle`` take
the same relaxation; ``highs`` solves the Model as a MIP.

>>> from ortools_lag import solve
>>> p = build([60, 100, 120], [10, 20, 30], 50)
>>> sol = solve(p)
>>> sol.solver, sol.status.value, sol.objective, sol.info["lagrangian_bound"]
('knapsack_dp', 'optimal', 220.0, 240.0)
>>> p.decode(sol).items
[1, 2]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from ortools_lag.algorithms.knapsack import MAX_TABLE, knapsack_01
from ortools_lag.algorithms.mknap_relaxation import (
    mknap_lagrangian,
    mknap_local_search,
    solve_mknap,
)
from ortools_lag.errors import ModelError
from ortools_lag.io.mknap import read_mknap
from ortools_lag.model import Model
from ortools_lag.problem import Problem, Relaxation
from ortools_lag.result import History, Solution
from ortools_lag.solvers.dual.lagrangian_closing import ClosingSolver, termination_of, trace_history
from ortools_lag.solvers.dual.lagrangian_heuristic import LagrangianHeuristicOptions, Outcome

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "KnapsackAnswer",
    "KnapsackDPSolver",
    "KnapsackData",
    "MKnapOptions",
    "MKnapSolver",
    "build",
    "critical_multiplier",
    "decode",
    "read",
]


@dataclass(frozen=True, eq=False)
class KnapsackData:
    """The arrays behind a knapsack Problem.

    Attributes
    ----------
    profit
        ``(n,)`` item profits.
    weight
        ``(m, n)`` non-negative weights.
    capacity
        ``(m,)`` non-negative capacities.
    name
        Instance name.
    """

    profit: np.ndarray
    weight: np.ndarray
    capacity: np.ndarray
    name: str

    @property
    def integral(self) -> bool:
        """Every profit is an integer (packing values are then integers)."""
        return bool(np.all(self.profit == np.round(self.profit)))

    @property
    def dp_ready(self) -> bool:
        """One row, integer weights and a DP table within bounds: ``knapsack_dp`` applies."""
        w = self.weight
        return (
            w.shape[0] == 1
            and bool(np.all(w == np.round(w)))
            and w.size * (math.floor(float(self.capacity[0])) + 1) <= MAX_TABLE
        )


@dataclass(frozen=True)
class KnapsackAnswer:
    """A decoded knapsack Solution.

    Attributes
    ----------
    items
        The packed items (0-based, increasing).
    profit
        Their total profit.
    load
        ``(m,)`` the weight used in each row.
    """

    items: list[int]
    profit: float
    load: list[float]


def build(
    values: npt.ArrayLike,
    weights: npt.ArrayLike,
    capacity: float | npt.ArrayLike,
    *,
    name: str = "knapsack",
) -> Problem:
    """The knapsack Problem from profits, weights (one row or ``m``) and capacities.

    Parameters
    ----------
    values
        ``(n,)`` finite item profits.
    weights
        ``(n,)`` for one capacity row, or ``(m, n)``; finite and non-negative.
    capacity
        A number, or ``(m,)`` capacities; finite and non-negative.
    name
        The model's name.

    Examples
    --------
    >>> p = build([10, 7, 8], [[5, 4, 3], [1, 1, 1]], [8, 2])
    >>> p.model.n, p.model.groups["capacity"].shape, p.default_solver
    (3, (2,), 'mknap_lagrangian')
    """
    p = np.asarray(values, dtype=np.float64).reshape(-1)
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    b = np.atleast_1d(np.asarray(capacity, dtype=np.float64)).reshape(-1)
    if w.shape != (b.size, p.size):
        raise ModelError(
            f"knapsack shapes disagree: values {p.shape}, weights {w.shape}, capacity {b.shape}"
        )
    if not (np.isfinite(p).all() and np.isfinite(w).all() and np.isfinite(b).all()):
        raise ModelError("knapsack data must be finite")
    if (w < 0).any() or (b < 0).any():
        raise ModelError("knapsack weights and capacities must be >= 0")
    return _problem(KnapsackData(p, w, b, name))


def read(path: str | Path, problem: int = 1) -> Problem:
    """The ``problem``-th (1-based) problem of an OR-Library ``mknap`` file.

    Examples
    --------
    >>> from ortools_lag import __file__ as pkg
    >>> p = read(Path(pkg).parents[1] / "data" / "mknap" / "mknap1.txt", problem=2)
    >>> p.data.weight.shape, p.metadata["optimum"]
    ((10, 10), 8706.1)
    """
    inst = read_mknap(path, problem=problem)
    out = build(inst.profit, inst.weight, inst.capacity, name=inst.name)
    out.metadata.update(file=str(path), problem=problem, optimum=inst.optimum)
    return out


def _model(data: KnapsackData) -> Model:
    mdl = Model(data.name)
    x = mdl.var("x", data.profit.size, ub=1, domain="binary")
    mdl.maximize(data.profit @ x)
    mdl.add("capacity", data.weight @ x <= data.capacity)
    return mdl


def _problem(data: KnapsackData) -> Problem:
    relax = Relaxation(
        relax=("capacity",),
        oracle=_oracle(data),
        heuristic=_heuristic(data),
        description="capacity rows relaxed: x_j = 1 where the reduced profit p_j - mu W_j > 0",
    )
    return Problem(
        _model(data),
        relaxations={"capacity": relax},
        default_relaxation="capacity",
        decode=lambda sol: decode(data, sol),
        kind="knapsack",
        default_solver="knapsack_dp" if data.dp_ready else "mknap_lagrangian",
        data=data,
        metadata={"name": data.name, "items": data.profit.size, "rows": data.capacity.size},
    )


def _oracle(data: KnapsackData) -> Any:
    def oracle(
        lam: Mapping[str, np.ndarray], bounds: Mapping[str, tuple[Any, Any]] | None = None
    ) -> tuple[dict[str, np.ndarray], float]:
        mu = np.asarray(lam["capacity"], dtype=np.float64).reshape(-1)
        r = mknap_lagrangian(data.profit, data.weight, data.capacity, mu)
        if bounds is None:
            return {"x": r.x.astype(np.float64)}, r.value
        lo, hi = (np.asarray(v).reshape(-1) for v in bounds["x"])  # fixed items: their value
        x = np.where(hi < 0.5, False, np.where(lo > 0.5, True, r.x))
        reduced = data.profit - mu @ data.weight
        return {"x": x.astype(np.float64)}, -(float(mu @ data.capacity) + float(reduced[x].sum()))

    return oracle


def repair(data: KnapsackData, x: npt.ArrayLike) -> np.ndarray:
    """A feasible packing from any 0/1 vector: keep, then add, items by pseudo-utility.

    The pseudo-utility is ``p_j / (W_{:j} / b)`` (weights scaled by the capacities); the items of
    ``x`` are offered first, then the others, each taken when it fits; then add, 1-1 and 1-2
    exchanges (:func:`~ortools_lag.algorithms.mknap_relaxation.mknap_local_search`).

    Examples
    --------
    >>> d = build([10, 7, 8], [5, 4, 3], 8).data
    >>> repair(d, [1, 1, 1]).tolist()
    [True, False, True]
    """
    p, w, b = data.profit, data.weight, data.capacity
    start = np.asarray(x, dtype=np.float64).reshape(-1) > 0.5
    score = p / np.maximum((w / np.maximum(b, 1e-12)[:, None]).sum(axis=0), 1e-12)
    order = np.lexsort((-score, ~start))  # relaxed items first, each group by utility
    take = np.zeros(p.size, dtype=bool)
    slack = b.copy()
    for j in order:  # a greedy fill is sequential by nature: one pass over the items
        if p[j] > 0 and np.all(w[:, j] <= slack + 1e-9):
            take[j] = True
            slack -= w[:, j]
    return mknap_local_search(p, w, b, take)


def _heuristic(data: KnapsackData) -> Any:
    def heuristic(point: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"x": repair(data, point["x"]).astype(np.float64)}

    return heuristic


def critical_multiplier(data: KnapsackData) -> float:
    """The LP dual of a one-row knapsack: the profit/weight ratio of Dantzig's critical item.

    At this ``mu`` the Lagrangian bound equals the LP relaxation's value (Dantzig 1957).

    Examples
    --------
    >>> critical_multiplier(build([60, 100, 120], [10, 20, 30], 50).data)
    4.0
    """
    p, w, b = data.profit, data.weight[0], float(data.capacity[0])
    cand = np.flatnonzero((p > 0) & (w > 0))  # items of zero weight are free: always packed
    cand = cand[np.argsort(-p[cand] / w[cand], kind="stable")]
    k = int(np.searchsorted(np.cumsum(w[cand]), b, side="right"))
    return 0.0 if k >= cand.size else float(p[cand[k]] / w[cand[k]])


def decode(data: KnapsackData, sol: Solution) -> KnapsackAnswer:
    """The packed items of a Solution, their profit and the load of each row."""
    if "x" not in sol.x:
        raise ModelError(f"the solution has no point ({sol.status.value}): {sol.message}")
    x = np.asarray(sol.x["x"]).reshape(-1) > 0.5
    return KnapsackAnswer(
        items=[int(j) for j in np.flatnonzero(x)],
        profit=float(data.profit[x].sum()),
        load=[float(v) for v in data.weight[:, x].sum(axis=1)],
    )


class KnapsackDPSolver(ClosingSolver):
    """The 0-1 knapsack (one row, integer weights) by dynamic programming; Dantzig's bound."""

    name = "knapsack_dp"
    description = "0-1 knapsack by dynamic programming over the capacity (exact)"
    kinds = ("knapsack",)
    relaxation = "capacity"

    def check(self, problem: Problem) -> str | None:
        why = super().check(problem)
        if why is None and not problem.data.dp_ready:
            return "the DP takes one capacity row with integer weights (use mknap_lagrangian)"
        return why

    def run(self, problem: Problem, options: LagrangianHeuristicOptions) -> Outcome:
        data: KnapsackData = problem.data
        sol = knapsack_01(data.profit, data.weight[0], float(data.capacity[0]))
        mu = np.array([critical_multiplier(data)])
        lag = mknap_lagrangian(data.profit, data.weight, data.capacity, mu).upper_bound
        hist = History(
            iteration=np.array([1]),
            dual_value=np.array([lag]),
            bound=np.array([sol.value]),
            primal=np.array([sol.value]),
            gap=np.array([0.0]),
            step=np.array([0.0]),
            violation=np.array([np.nan]),
            seconds=np.array([np.nan]),
        )
        return Outcome(
            bound=sol.value,
            multipliers={"capacity": mu},
            x={"x": sol.x.astype(np.float64)},
            history=hist,
            iterations=1,
            integral=data.integral,
            point_from="dynamic programming over the capacity",
            info={
                "bound_from": "dynamic programming over the capacity (exact optimum)",
                "lagrangian_bound": lag,
            },
        )


class MKnapOptions(LagrangianHeuristicOptions):
    """Options of ``mknap_lagrangian``.

    Attributes
    ----------
    method
        The dual method: ``"bundle"`` (trust-region bundle, HiGHS LP master) or
        ``"subgradient"`` (Polyak steps with Held–Wolfe–Crowder halving).
    max_iter
        Oracle calls of the dual (default 500).
    """

    method: Literal["bundle", "subgradient"] = "bundle"


class MKnapSolver(ClosingSolver):
    """Lagrangian bound of the capacity rows (= the LP bound); greedy repair and local search."""

    name = "mknap_lagrangian"
    description = "multidimensional knapsack: capacity rows relaxed, bundle dual, greedy + LS"
    kinds = ("knapsack",)
    relaxation = "capacity"
    Options = MKnapOptions

    def run(self, problem: Problem, options: LagrangianHeuristicOptions) -> Outcome:
        assert isinstance(options, MKnapOptions)
        data: KnapsackData = problem.data
        res = solve_mknap(
            data.profit,
            data.weight,
            data.capacity,
            method=options.method,
            max_iter=options.max_iter or 500,
            time_limit=options.time_limit,
        )
        return Outcome(
            bound=res.bound,
            multipliers={"capacity": res.multipliers},
            x={"x": res.x.astype(np.float64)},
            history=trace_history(res.trace, sense=-1),
            iterations=res.trace.iterations,
            termination=termination_of(res.trace, res.proven_optimal),
            integral=data.integral,
            point_from="Lagrangian greedy fill by p_j / (mu W_j), add/1-1/1-2 local search",
            info={"bound_from": res.bound_method},
        )
