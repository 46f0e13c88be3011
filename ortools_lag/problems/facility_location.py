r"""Uncapacitated facility location: the assignment rows relaxed, a closed form per facility.

**Model.** ``m`` facilities (opening cost :math:`f_i`), ``n`` customers (:math:`c_{ij}`: the
cost of serving all of customer ``j`` from facility ``i``)::

    min  sum_i f_i y_i + sum_ij c_ij x_ij
    s.t. assign:  sum_i x_ij == 1        every customer j      (lambda_j, free)
         link:    x_ij - y_i <= 0        (kept; shape (m, n))
         x, y binary

**Relaxation** ``"assign"`` (the default). The assignment rows are held as
``sum_i x_ij - 1 == 0`` with free multipliers :math:`\lambda_j`; what is left splits into one
closed-form problem per facility:

.. math::

    L(\lambda) = -\sum_j \lambda_j + \sum_i \min\Big(0,\;
        f_i + \sum_j \min(0, c_{ij} + \lambda_j)\Big):

open ``i`` when its bracket is negative and serve from it every ``j`` with
:math:`c_{ij} + \lambda_j < 0`. The subgradient is ``sum_i x_ij - 1``. **v_j = -lambda_j is
the price customer j pays** (Erlenkotter's DUALOC variable): the most that serving ``j`` is
worth; at an optimum it lies between the cost of ``j``'s serving facility and that of its
second choice, and a facility opens when the customers' surpluses ``max(0, v_j - c_ij)`` pay
its opening cost. ``max L`` equals the LP relaxation's value (the relaxed problem has the
integrality property); on instances whose LP is integral, such as OR-Library's ``cap71``-
``cap74`` and ``cap101``, the bound closes the gap. The Lagrangian heuristic opens the
facilities the relaxation opens, serves each customer from its cheapest open facility and
applies the best open / close / swap move while one helps.

**Solvers.** The default ``ufl_lagrangian`` (:class:`FacilityLagrangianSolver`) runs
:func:`~ortools_lag.algorithms.facility_location.solve_facility_location`: subgradient steps on
``lambda`` (Polyak target: the best solution's cost, the factor halved when the bound stalls), the
heuristic every few steps and whenever the bound improves. No MIP solver is called; the bound is
re-evaluated by HiGHS on the kept part (``link``, binary; its LP is integral) at the reported
``lambda`` (:func:`~ortools_lag.solvers.bound_certificate.certify_bound`). ``subgradient`` and
``bundle`` take the same relaxation; ``highs`` solves the Model as a MIP.

>>> import numpy as np
>>> from ortools_lag import solve
>>> p = build([3.0, 3.0], [[0.0, 1.0, 5.0], [5.0, 1.0, 0.0]])
>>> sol = solve(p)
>>> sol.solver, sol.status.value, sol.objective, round(sol.bound, 6)
('ufl_lagrangian', 'optimal', 7.0, 7.0)
>>> ans = p.decode(sol)
>>> ans.open, ans.assignment
([0, 1], [0, 0, 1])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from pydantic import Field

from ortools_lag.algorithms.facility_location import (
    lagrangian_oracle,
    open_close_swap,
    solve_facility_location,
)
from ortools_lag.errors import ModelError
from ortools_lag.io.ufl import read_ufl, read_ufl_opt
from ortools_lag.model import Model
from ortools_lag.problem import Problem, Relaxation
from ortools_lag.result import Solution
from ortools_lag.solvers.dual.ascent_termination import ascent_termination
from ortools_lag.solvers.dual.lagrangian_heuristic import (
    LagrangianHeuristicOptions,
    LagrangianHeuristicSolver,
    Outcome,
    ascent_history,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "FacilityAnswer",
    "FacilityLagrangianOptions",
    "FacilityLagrangianSolver",
    "FacilityLocationData",
    "build",
    "read",
]


@dataclass(frozen=True, eq=False)
class FacilityLocationData:
    """The arrays behind a facility-location Problem.

    Attributes
    ----------
    fixed_costs
        ``(m,)`` opening costs.
    costs
        ``(m, n)`` service costs.
    name
        Instance name.
    """

    fixed_costs: np.ndarray
    costs: np.ndarray
    name: str

    @property
    def integral(self) -> bool:
        """Every cost is an integer (solution costs are then integers)."""
        both = np.concatenate([self.fixed_costs, self.costs.ravel()])
        return bool(np.all(both == np.round(both)))

    def point(self, is_open: np.ndarray) -> dict[str, np.ndarray]:
        """The Model's point: open ``is_open``, serve each customer from its cheapest one."""
        o = np.asarray(is_open, dtype=bool)
        m, n = self.costs.shape
        serve = np.where(o[:, None], self.costs, np.inf).argmin(axis=0)
        x = np.zeros((m, n))
        x[serve, np.arange(n)] = 1.0
        return {"y": o.astype(np.float64), "x": x}


@dataclass(frozen=True)
class FacilityAnswer:
    """A decoded facility-location Solution.

    Attributes
    ----------
    open
        The open facilities (0-based, increasing).
    assignment
        The serving facility of each customer.
    cost
        Opening plus service cost.
    """

    open: list[int]
    assignment: list[int]
    cost: float


def build(
    fixed_costs: npt.ArrayLike, costs: npt.ArrayLike, *, name: str = "facility_location"
) -> Problem:
    """The uncapacitated facility-location Problem.

    Parameters
    ----------
    fixed_costs
        ``(m,)`` finite opening costs.
    costs
        ``(m, n)`` finite service costs (facility ``i``, customer ``j``).
    name
        The model's name.

    Examples
    --------
    >>> p = build([1.0, 2.0], [[1.0, 4.0, 2.0], [3.0, 1.0, 2.0]])
    >>> p.model.n, p.model.groups["link"].shape, p.default_solver
    (8, (2, 3), 'ufl_lagrangian')
    """
    f = np.asarray(fixed_costs, dtype=np.float64)
    c = np.asarray(costs, dtype=np.float64)
    if c.ndim != 2 or f.ndim != 1 or c.shape[0] != f.size:
        raise ModelError(f"fixed_costs {f.shape} and costs {c.shape} must be (m,) and (m, n)")
    if c.size == 0:
        raise ModelError("need at least one facility and one customer")
    if not (np.isfinite(f).all() and np.isfinite(c).all()):
        raise ModelError("facility-location costs must be finite")
    return _problem(FacilityLocationData(f, c, name))


def read(path: str | Path) -> Problem:
    """An OR-Library ``cap`` file (capacities ignored) as an uncapacitated Problem.

    When ``<file>.opt`` lies beside it, its objective is recorded in
    ``metadata["optimum"]``.

    Examples
    --------
    >>> from ortools_lag import __file__ as pkg
    >>> p = read(Path(pkg).parents[1] / "data" / "ufl" / "orlib_uncap" / "70" / "cap71.txt")
    >>> p.data.costs.shape, p.metadata["optimum"]
    ((16, 50), 932615.75)
    """
    inst = read_ufl(path)
    problem = build(inst.fixed_costs, inst.costs, name=inst.name)
    problem.metadata["file"] = str(path)
    opt = Path(str(path) + ".opt")
    if opt.is_file():
        m, n = inst.shape
        _, value = read_ufl_opt(opt, n=n, m=m)
        problem.metadata["optimum"] = value
        problem.metadata["optimum_source"] = str(opt)
    return problem


def _model(data: FacilityLocationData) -> Model:
    m, n = data.costs.shape
    mdl = Model(data.name)
    y = mdl.var("y", m, ub=1, domain="binary")
    x = mdl.var("x", (m, n), ub=1, domain="binary")
    mdl.minimize(data.fixed_costs @ y + (data.costs * x).sum())
    mdl.add("assign", x.sum(axis=0) == 1)
    spread = sp.kron(sp.identity(m, format="csr"), np.ones((n, 1)), format="csr")
    mdl.add("link", x - (spread @ y).reshape((m, n)) <= 0)
    return mdl


def _problem(data: FacilityLocationData) -> Problem:
    relax = Relaxation(
        relax=("assign",),
        oracle=_oracle(data),
        heuristic=_heuristic(data),
        description="assignment rows relaxed: open i when f_i + sum_j min(0, c_ij + lam_j) < 0",
    )
    m, n = data.costs.shape
    return Problem(
        _model(data),
        relaxations={"assign": relax},
        default_relaxation="assign",
        decode=lambda sol: decode(data, sol),
        kind="facility_location",
        default_solver="ufl_lagrangian",
        data=data,
        metadata={"name": data.name, "facilities": m, "customers": n},
    )


def _oracle(data: FacilityLocationData) -> Any:
    def oracle(
        lam: Mapping[str, np.ndarray], bounds: Mapping[str, tuple[Any, Any]] | None = None
    ) -> tuple[dict[str, np.ndarray], float]:
        lj = np.asarray(lam["assign"], dtype=np.float64).reshape(-1)
        if bounds is not None:
            return _bounded_oracle(data, lj, bounds)
        r = lagrangian_oracle(data.fixed_costs, data.costs, lj)
        return {"y": r.open.astype(np.float64), "x": r.x.astype(np.float64)}, r.value

    return oracle


def _bounded_oracle(
    data: FacilityLocationData, lj: np.ndarray, bounds: Mapping[str, tuple[Any, Any]]
) -> tuple[dict[str, np.ndarray], float]:
    """The relaxed problem with fixed ``y_i`` and ``x_ij`` (branching bounds): an open facility
    pays ``f_i``, its forced customers and every free one of negative reduced cost; a facility
    with a forced customer must open; value ``+inf`` when a closed one has a forced customer."""
    shape = data.costs.shape
    y_lo, y_hi = (np.asarray(v).reshape(-1) > 0.5 for v in bounds["y"])
    x_lo, x_hi = (np.asarray(v).reshape(shape) > 0.5 for v in bounds["x"])
    red = data.costs + lj[None, :]
    take = x_lo | (x_hi & (red < 0))
    terms = data.fixed_costs + np.where(take, red, 0.0).sum(axis=1)
    must = y_lo | x_lo.any(axis=1)
    is_open = must | (y_hi & (terms < 0))
    x = take & is_open[:, None]
    point = {"y": is_open.astype(np.float64), "x": x.astype(np.float64)}
    if np.any(must & ~y_hi):
        return point, math.inf
    return point, float(terms[is_open].sum() - lj.sum())


def _heuristic(data: FacilityLocationData) -> Any:
    def heuristic(point: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        start = np.asarray(point["y"]).reshape(-1) > 0.5
        is_open, _ = open_close_swap(data.fixed_costs, data.costs, start)
        return data.point(is_open)

    return heuristic


def decode(data: FacilityLocationData, sol: Solution) -> FacilityAnswer:
    """The open facilities, each customer's serving facility and the cost of a Solution."""
    if "x" not in sol.x or "y" not in sol.x:
        raise ModelError(f"the solution has no point ({sol.status.value}): {sol.message}")
    y = np.asarray(sol.x["y"]).reshape(-1) > 0.5
    x = np.asarray(sol.x["x"]).reshape(data.costs.shape)
    serve = x.argmax(axis=0)
    cost = float(data.fixed_costs[y].sum() + data.costs[serve, np.arange(serve.size)].sum())
    return FacilityAnswer([int(i) for i in np.flatnonzero(y)], [int(i) for i in serve], cost)


class FacilityLagrangianOptions(LagrangianHeuristicOptions):
    """Options of ``ufl_lagrangian`` (see
    :func:`~ortools_lag.algorithms.facility_location.solve_facility_location`).

    Attributes
    ----------
    alpha0, alpha_min, patience
        Polyak factor: from ``alpha0``, halved after ``patience`` steps without a better bound;
        the ascent stops below ``alpha_min``.
    heuristic_every
        The open/close/swap heuristic runs every this many steps and whenever the bound
        improves.
    gap_tol
        Stop once the relative gap is below this (optimality proven).
    certify_max_vars
        The HiGHS re-evaluation's size limit; its kept part (``x <= y``) has an integral LP, so
        the default is large (about 1 s at 100 x 1000).
    """

    alpha0: float = Field(default=2.0, gt=0)
    alpha_min: float = Field(default=1e-6, gt=0)
    patience: int = Field(default=20, ge=1)
    heuristic_every: int = Field(default=10, ge=1)
    gap_tol: float = Field(default=1e-9, ge=0)
    certify_max_vars: int = Field(default=1_000_000, ge=1)


class FacilityLagrangianSolver(LagrangianHeuristicSolver):
    """Subgradient ascent on the assignment multipliers with open/close/swap moves."""

    name = "ufl_lagrangian"
    description = "facility location: closed-form Lagrangian, subgradient, open/close/swap"
    kinds = ("facility_location",)
    relaxation = "assign"
    Options = FacilityLagrangianOptions

    def run(self, problem: Problem, options: LagrangianHeuristicOptions) -> Outcome:
        assert isinstance(options, FacilityLagrangianOptions)
        data: FacilityLocationData = problem.data
        max_iter = options.max_iter or 5000
        rounds = _Rounds(data, options, max_iter)
        rounds.run()
        term = ascent_termination(
            rounds.gap, rounds.used, max_iter, gap_tol=options.gap_tol, timed_out=rounds.timed_out
        )
        return Outcome(
            bound=rounds.bound,
            multipliers={"assign": rounds.lam},
            x=data.point(rounds.open),
            history=ascent_history(rounds.history(), rounds.seconds),
            iterations=rounds.used,
            termination=term,
            integral=data.integral,
            point_from="open/close/swap from the relaxation's open facilities",
            info={"open_facilities": int(rounds.open.sum()), "restarts": rounds.restarts},
        )


class _Rounds:
    """The ascent of :func:`solve_facility_location` in rounds of ``10 * patience`` steps.

    Each round restarts at the best multipliers; a round that does not raise the bound by a
    relative ``1e-12`` halves the Polyak factor; ``time_limit`` is checked between rounds. (A
    single long run can cycle: its test for a better bound has no tolerance, so rounding drift
    of ``1e-14`` per step counts as progress and the factor is never halved.) The best bound
    and the best solution are kept across rounds.
    """

    def __init__(
        self, data: FacilityLocationData, options: FacilityLagrangianOptions, max_iter: int
    ) -> None:
        self.data, self.o, self.max_iter = data, options, max_iter
        self.bound, self.lam = -np.inf, -data.costs.min(axis=0)
        self.objective, self.open = np.inf, np.zeros(data.fixed_costs.size, dtype=bool)
        self.used, self.restarts, self.seconds = 0, 0, 0.0
        self.parts: list[dict[str, np.ndarray]] = []
        self.timed_out = False

    @property
    def gap(self) -> float:
        return float((self.objective - self.bound) / max(abs(self.objective), 1e-300))

    def run(self) -> None:
        o, alpha = self.o, self.o.alpha0
        while self.used < self.max_iter and alpha >= o.alpha_min:
            if o.time_limit is not None and self.seconds >= o.time_limit:
                self.timed_out = True
                break
            budget = min(10 * o.patience, self.max_iter - self.used)
            res = solve_facility_location(
                self.data.fixed_costs,
                self.data.costs,
                max_iter=budget,
                alpha0=alpha,
                alpha_min=o.alpha_min,
                patience=o.patience,
                heuristic_every=o.heuristic_every,
                gap_tol=o.gap_tol,
                lam0=self.lam,
            )
            self.used += res.iterations
            self.seconds += res.seconds
            self.parts.append(res.history)
            if res.objective < self.objective:
                self.objective, self.open = res.objective, res.open.copy()
            better = res.bound > self.bound + 1e-12 * max(1.0, abs(self.bound))
            if res.bound > self.bound:
                self.bound, self.lam = res.bound, res.multipliers.copy()
            if self.gap <= o.gap_tol or res.iterations < budget:
                break  # proven optimal, or the factor fell below alpha_min within the round
            self.restarts += 1
            alpha = alpha if better else alpha / 2.0

    def history(self) -> dict[str, np.ndarray]:
        out = {k: np.concatenate([h[k] for h in self.parts]) for k in self.parts[0]}
        out["best_bound"] = np.maximum.accumulate(out["best_bound"])
        out["best_primal"] = np.minimum.accumulate(out["best_primal"])
        return out
