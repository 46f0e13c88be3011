r"""Linear assignment whose prices are the multipliers of the "each object once" rows.

Formulation (``n`` persons, ``m`` objects, cost ``c[i, j]``; ``inf`` marks a forbidden pair,
held in the model as the bound ``x_ij <= 0``)::

    min  sum_ij c_ij x_ij
    s.t. person:  sum_j x_ij == 1     for each person i      (multiplier lambda_i)
         object:  sum_i x_ij == 1     for each object j      (multiplier mu_j: the price)
         x >= 0

(with ``n < m`` the object rows are ``<= 1``, ``mu >= 0``; with ``n > m`` the person rows are
``<= 1``, ``lambda >= 0``). The LP is integral (totally unimodular): ``x = 0/1``.

**Multipliers.** ``L = c.x + sum_i lambda_i (sum_j x_ij - 1) + sum_j mu_j (sum_i x_ij - 1)``:
the reduced cost is ``rc_ij = c_ij + lambda_i + mu_j``, ``>= 0`` on every allowed pair and
``= 0`` on the matching; the dual value is ``-sum lambda - sum mu``. In auction terms (benefit
``-c``), **mu_j is the price of object j** and ``lambda_i = -min_k (c_ik + mu_k)`` is minus person
``i``'s profit: the prices are reported as the object rows' multipliers, the profits beside them
(the textbook dual ``max sum u + sum v, u_i + v_j <= c_ij`` is ``u = -lambda, v = -mu``). The
shadow price of an object row is ``-mu_j``: one more copy of object ``j`` saves its price.

Solvers (:class:`LsaSolver` and :class:`AuctionSolver`, here): ``lsa`` (the default: scipy's
``linear_sum_assignment`` with the exact prices recovered by a label-correcting shortest-path
pass on the residual graph) and ``auction`` (Bertsekas' forward auction with epsilon-scaling,
Gauss-Seidel bids compiled by numba when the ``fast`` extra is installed, else vectorised
Jacobi rounds; measured the faster of the two with numba; its eps-complementary-slackness
certificate ``0 <= rc <= eps`` on the matching, exact for integer costs with ``eps < 1/n``, is
recorded in ``info``, then the prices are made exact by the same pass, warm-started). Both are
certified from the table, without building the Model (:meth:`AssignmentData.lp`: the residuals
``kkt.certify`` computes, in ``Solution.kkt``), and by the family certificate (the checks of
:func:`~ortools_lag.problems.network.bipartite_violation`); the Model is built for a generic
solver (``solve(p, "network_lp")``) or ``p.model``. An assignment that forbidden pairs
make impossible is ``INFEASIBLE`` with HiGHS's Farkas ray (checked by ``kkt.check_farkas``).

**Relaxation** ``"object"`` (the default): the object rows dualised with prices ``mu``; each
person takes its cheapest object at ``c_ij + mu_j`` (the oracle, one ``argmin`` per row) --
the dual function the auction climbs. The heuristic keeps, for each object, its cheapest
claimant and assigns the rest by ``linear_sum_assignment`` on what is left.

>>> import numpy as np
>>> from ortools_lag import solve
>>> c = np.array([[4, 1, 3], [2, 0, 5], [3, 2, 2]])
>>> p = build(c)
>>> sol = solve(p)
>>> sol.objective, p.decode(sol).col_of_row.tolist()
(5.0, [1, 0, 2])
>>> rc = c + sol.multipliers["person"][:, None] + sol.multipliers["object"]
>>> bool(rc.min() >= 0), rc[[0, 1, 2], [1, 0, 2]].tolist()
(True, [0.0, 0.0, 0.0])
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from pydantic import Field
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from ortools_lag.algorithms.assignment import (
    AssignmentResult,
    assignment_duals,
    auction,
    check_assignment,
    linear_assignment,
)
from ortools_lag.algorithms.assignment_kernels import kernels
from ortools_lag.errors import ModelError
from ortools_lag.model import Model, to_standard_form
from ortools_lag.problem import Problem
from ortools_lag.problems.graphs import table_from
from ortools_lag.problems.lp_certificate import LinearRows, StructuredLP
from ortools_lag.problems.network import (
    Answer,
    Exact,
    NetworkLPOptions,
    NetworkSolver,
    TableData,
    bipartite_violation,
    multiplier,
    plan_of,
)
from ortools_lag.result import Solution, Status
from ortools_lag.solvers.backends.highs import solve_standard_form
from ortools_lag.solvers.base import SolverOptions

if TYPE_CHECKING:
    import networkx as nx

    from ortools_lag.problem import Heuristic, Oracle
    from ortools_lag.problems.network import Arrays, FloatArray, IntArray, Table, Verdict

__all__ = [
    "AssignmentData",
    "AuctionOptions",
    "AuctionSolver",
    "LsaSolver",
    "Matching",
    "build",
    "read",
    "solve_exact",
]


@dataclass(frozen=True, eq=False)
class AssignmentData(TableData, kind="assignment", solver="lsa", relaxed="object"):
    """The table behind an assignment Problem and the senses of its two groups.

    Attributes
    ----------
    table
        The costs (``inf``: forbidden pair) and the labels of the persons and objects.
    filled
        The costs with the forbidden pairs at a cost no optimal matching uses (``Table.filled``).
    person_sense, object_sense
        ``"=="``, or ``"<="`` for the rows of the larger side.
    """

    filled: FloatArray
    person_sense: str
    object_sense: str

    @property
    def shape(self) -> tuple[int, int]:
        """``(persons, objects)``."""
        return self.table.cost.shape  # type: ignore[return-value]

    @cached_property
    def scale(self) -> float:  # type: ignore[override]
        """The largest allowed cost, in absolute value."""
        c = self.table.cost
        if self.filled is c:  # every pair allowed: the table's extremes
            return max(abs(self.table.extremes[0]), abs(self.table.extremes[1]))
        return float(np.max(np.abs(c[self.table.allowed]), initial=0.0))

    def check(self, x: Arrays, multipliers: Arrays, reduced_costs: Arrays | None) -> Verdict:
        """Matching rows; multiplier signs; ``rc >= 0`` on allowed pairs, ``= 0`` when matched.

        ``reduced_costs["x"]``, when given (``c + lambda + mu`` as the structured solvers'
        report formed it), is read on the allowed pairs instead of being formed again.
        """
        n, m = self.shape
        given = None if reduced_costs is None else reduced_costs.get("x")
        worst = bipartite_violation(
            self.table.cost,
            np.asarray(x["x"], dtype=np.float64),
            (np.asarray(multipliers["person"]), np.asarray(multipliers["object"])),
            (self.person_sense, self.object_sense),
            (np.ones(n), np.ones(m)),
            reduced=None if given is None or np.shape(given) != (n, m) else np.asarray(given),
        )
        return "one object per person; rc = c + lambda + mu >= 0, = 0 on the matching", worst

    def lp(self, z: FloatArray, multipliers: Arrays) -> StructuredLP:
        """The LP from the table, in one scan of the point (its non-zeros give the row and
        column sums) and, with every pair allowed, one blocked pass over ``c + lambda + mu``
        for its range (the table of reduced costs is formed only when read); the family
        certificate comes from the same numbers."""
        n, m = self.shape
        t = self.table
        every = self.filled is t.cost  # Table.filled returns the costs when all are allowed
        c = t.cost if every else np.where(t.allowed, t.cost, 0.0)
        lam = np.asarray(multipliers["person"], dtype=np.float64).ravel()
        mu = np.asarray(multipliers["object"], dtype=np.float64).ravel()
        idx = np.flatnonzero(z)
        i, j = np.divmod(idx, m)
        vals = z[idx]
        sums = tuple(
            np.bincount(k, vals, size).astype(np.float64, copy=False)
            for k, size in ((i, n), (j, m))
        )
        senses = (self.person_sense, self.object_sense)
        rows = tuple(
            LinearRows(
                name, a, np.full(a.size, -np.inf if s == "<=" else 1.0), np.ones(a.size), 1.0, y
            )
            for name, a, s, y in zip(("person", "object"), sums, senses, (lam, mu))
        )
        lb = np.broadcast_to(0.0, (n * m,))

        def reduced() -> FloatArray:
            r = c + lam[:, None]
            r += mu[None, :]
            return r.ravel()

        if not every:
            ub = np.where(t.allowed, np.inf, 0.0).ravel()
            return StructuredLP(z, c.ravel(), lb, ub, (n, m), rows, reduced)
        ub = np.broadcast_to(np.inf, (n * m,))
        r_min, r_max = _table_range(c, lam, mu)
        r_nz = c.ravel()[idx] + lam[i] + mu[j]
        worst = max(-float(np.min(vals, initial=0.0)), -min(r_min, 0.0))
        for a, s, y in zip(sums, senses, (lam, mu)):
            if s == "==":
                worst = max(worst, float(np.max(np.abs(a - 1.0), initial=0.0)))
            else:
                slack = 1.0 - a
                worst = max(worst, float(np.max(-slack, initial=0.0)))
                worst = max(worst, float(np.max(-y, initial=0.0)))
                worst = max(worst, float(np.max(np.abs(y * slack), initial=0.0)))
        worst = max(worst, float(np.max(np.abs(r_nz[vals > 1e-9]), initial=0.0)))
        what = "one object per person; rc = c + lambda + mu >= 0, = 0 on the matching"
        return StructuredLP(z, c.ravel(), lb, ub, (n, m), rows, reduced,
                            summary=(r_min, r_max, idx, r_nz), verdict=(what, worst + 0.0),
                            cost_norm=self.scale)  # fmt: skip

    def oracle(self) -> Oracle:
        """Each person takes its cheapest object at ``c + mu`` (if negative, when it may stay
        unassigned)."""
        n, m = self.shape
        must = self.person_sense == "=="
        rows = np.arange(n)

        def oracle(lam: Arrays) -> tuple[dict[str, np.ndarray], float]:
            mu = np.asarray(lam["object"], dtype=np.float64)
            j, best = self.table.cheapest(mu)
            take = np.isfinite(best) & (must | (best < 0))
            x = np.zeros((n, m))
            x[rows[take], j[take]] = 1.0
            return {"x": x}, float(best[take].sum() - mu.sum())

        return oracle

    def heuristic(self) -> Heuristic:
        """Each object keeps its cheapest claimant; the rest by ``linear_sum_assignment``."""
        c = self.filled
        ok = self.table.allowed

        def heuristic(relaxed: Arrays) -> dict[str, np.ndarray] | None:
            x = np.asarray(relaxed["x"], dtype=np.float64)
            n, m = x.shape
            i, j = np.nonzero(x > 0.5)
            order = np.lexsort((c[i, j], j))  # the cheapest claimant of each object first
            first = np.ones(order.size, dtype=bool)
            first[1:] = j[order[1:]] != j[order[:-1]]
            keep_i, keep_j = i[order[first]], j[order[first]]
            free_i = np.setdiff1d(np.arange(n), keep_i)
            free_j = np.setdiff1d(np.arange(m), keep_j)
            out = np.zeros((n, m))
            out[keep_i, keep_j] = 1.0
            if free_i.size and free_j.size:
                r, k = linear_sum_assignment(c[np.ix_(free_i, free_j)])
                out[free_i[r], free_j[k]] = 1.0
            if np.any(out[~ok] > 0):
                return None
            return {"x": out}

        return heuristic

    def decode(self, sol: Solution) -> Matching:
        """The matching (``col_of_row``, labelled pairs) and the prices of ``sol``."""
        n, m = self.shape
        x = plan_of(sol, (n, m))
        col = np.where(x.max(axis=1) > 0.5, x.argmax(axis=1), -1)
        who = np.flatnonzero(col >= 0)
        t = self.table
        pairs = [(t.rows[int(i)], t.cols[int(col[i])]) for i in who]
        mu, lam = multiplier(sol, "object"), multiplier(sol, "person")
        profits = None if lam is None else 0.0 - lam
        return Matching(sol.status.value, sol.objective, col.astype(np.int64), pairs, mu, profits)


@dataclass(frozen=True)
class Matching(Answer):
    """A decoded assignment Solution: who takes which object, at which prices.

    Attributes
    ----------
    cost
        The matching's cost.
    col_of_row
        The object of each person (``-1``: none, when ``n > m``).
    pairs
        ``(person, object)`` labels of the matching.
    prices, profits
        ``mu`` (the object rows' multipliers) and ``-lambda`` (the persons' profits).
    """

    cost: float
    col_of_row: IntArray
    pairs: list[tuple[Hashable, Hashable]]
    prices: FloatArray | None
    profits: FloatArray | None


def build(
    cost: npt.ArrayLike | Any = None,
    *,
    graph: nx.Graph | None = None,
    rows: Sequence[Hashable] | None = None,
    weight: str = "weight",
    name: str = "assignment",
) -> Problem:
    """The assignment Problem from a cost matrix, a scipy.sparse matrix or a bipartite graph.

    Parameters
    ----------
    cost
        ``(n, m)`` costs (``inf``: forbidden pair), or a scipy.sparse matrix whose stored
        entries are the allowed pairs.
    graph
        A bipartite networkx graph instead: edge attribute ``weight`` is the cost.
    rows
        The person nodes of ``graph`` (default: those with node attribute ``bipartite == 0``).
    weight
        The networkx edge attribute.
    name
        The model's name.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.Graph([("ann", "desk", {"weight": 3}), ("ann", "lab", {"weight": 1}),
    ...               ("bob", "desk", {"weight": 2})])
    >>> p = build(graph=g, rows=["ann", "bob"])
    >>> p.decode(__import__("ortools_lag").solve(p)).pairs
    [('ann', 'lab'), ('bob', 'desk')]
    """
    return _problem(table_from(cost, graph, rows, weight), name)


def read(path: str | Path) -> Problem:
    """An OR-Library assignment file (``n``, then the ``n x n`` costs) as an assignment Problem.

    Raises
    ------
    SpecError
        An OR-Library file that does not parse; the error names its line and field.
    """
    from ortools_lag.io.bipartite import read_assignment

    inst = read_assignment(path)
    return _problem(table_from(inst.cost, None, None, "weight"), inst.name)


def _problem(table: Table, name: str) -> Problem:
    n, m = table.cost.shape
    person = "<=" if n > m else "=="
    obj = "<=" if n < m else "=="
    data = AssignmentData(table, table.filled(), person, obj)

    def model() -> Model:  # built on demand: the lsa and auction solvers read only the table
        out = Model(name)
        x = table.plan(out)
        rs, cs = x.sum(axis=1), x.sum(axis=0)
        out.add("person", rs <= 1 if person == "<=" else rs == 1)
        out.add("object", cs <= 1 if obj == "<=" else cs == 1)
        return out

    relaxation = "object rows dualised (prices); each person takes its cheapest c + mu"
    return data.problem(model, relaxation, {"persons": n, "objects": m}, n_vars=n * m)


def _infeasible(data: AssignmentData) -> bool:
    n, m = data.shape
    if data.filled is data.table.cost:  # every pair allowed
        return False
    pattern = csr_matrix(data.table.allowed.astype(np.int8))
    matched = maximum_bipartite_matching(pattern, perm_type="column")
    return int(np.count_nonzero(matched >= 0)) < min(n, m)


def _farkas(problem: Problem) -> Exact:
    sf = to_standard_form(problem.model)
    raw = solve_standard_form(sf, NetworkLPOptions())
    farkas = None if raw.farkas is None else sf.unpack_rows(raw.farkas)
    info = {"method": "bipartite matching (scipy) + HiGHS dual ray", "point_from": "none"}
    msg = "no complete assignment avoids the forbidden pairs"
    return Exact(Status.INFEASIBLE, farkas=farkas, message=msg, info=info)


def solve_exact(
    problem: Problem,
    method: str,
    *,
    eps_final: float | None = None,
    factor: float = 10.0,
    exact_duals: bool = True,
) -> Exact:
    """The ``lsa`` / ``auction`` solvers' work: matching and multipliers (uncertified).

    Examples
    --------
    >>> ex = solve_exact(build([[1.0, 3.0], [2.0, 9.0]]), "lsa")
    >>> ex.z.tolist(), ex.multipliers["object"].tolist()
    ([0.0, 1.0, 1.0, 0.0], [2.0, 0.0])
    """
    data = problem.data
    if not isinstance(data, AssignmentData):
        raise ModelError("not an assignment problem built by problems.assignment")
    if _infeasible(data):
        return _farkas(problem)
    n, m = data.shape
    c = data.filled.T if n > m else data.filled  # persons <= objects for the algorithms
    info: dict[str, Any] = {}
    if method == "lsa":
        r = linear_assignment(c, validated=True)
        info["method"] = "scipy linear_sum_assignment + exact duals (residual shortest paths)"
    else:
        r = _auction(c, eps_final, factor, exact_duals, info)
    x = np.zeros((n, m))
    rows = np.arange(r.col_of_row.size)
    if n > m:
        x[r.col_of_row, rows] = 1.0
        mult = {"person": r.object_multiplier, "object": r.person_multiplier}
    else:
        x[rows, r.col_of_row] = 1.0
        mult = {"person": r.person_multiplier, "object": r.object_multiplier}
    info["bound_from"] = "dual value -sum(lambda) - sum(mu) of the prices (kkt.certify)"
    info["point_from"] = info["method"]
    ex = Exact(Status.OPTIMAL, z=x.ravel(), multipliers=mult, iterations=r.iterations, info=info)
    ex.message = method
    if r.eps > 0:  # eps-CS prices: dual feasible, so their dual value is a proven lower bound
        ex.bound = r.dual_value
        info["bound_from"] = "dual value of the eps-CS prices (within n eps of the cost)"
    return ex


def _auction(
    c: FloatArray, eps_final: float | None, factor: float, exact: bool, info: dict[str, Any]
) -> AssignmentResult:
    n, m = c.shape
    square = c if n == m else np.vstack((c, np.zeros((m - n, m))))  # dummy persons at cost 0
    r = auction(square, eps_final=eps_final, factor=factor)
    lam, mu = r.person_multiplier, r.object_multiplier
    violation = check_assignment(square, r.col_of_row, lam, mu)
    info["method"] = "forward auction, eps-scaling, Jacobi bidding"
    info["eps"] = r.eps
    info["eps_cs_violation"] = violation
    info["eps_cs"] = bool(violation <= r.eps * (1 + 1e-9) + 1e-12)
    info["auction_rounds"] = r.iterations
    col = r.col_of_row[:n]
    total = float(c[np.arange(n), col].sum())
    if exact:
        try:
            warm = mu if n == m else None  # padded prices are no upper bound on the labels
            lam_x, mu_x, rounds = assignment_duals(c, col, object_multiplier=warm, validated=True)
            info["method"] += " + exact prices (warm-started label correcting)"
            return AssignmentResult(col, total, lam_x, mu_x, 0.0, r.iterations + rounds)
        except ModelError:  # not optimal (non-integer costs): keep the eps-CS prices
            info["exact_duals"] = "the matching is eps-optimal only: eps-CS prices kept"
    return AssignmentResult(col, total, lam[:n], mu, r.eps, r.iterations)


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
        assert isinstance(options, AuctionOptions)
        return solve_exact(
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
        return solve_exact(problem, "lsa")


def _table_range(c: FloatArray, lam: FloatArray, mu: FloatArray) -> tuple[float, float]:
    """``(min, max)`` of ``c_ij + lam_i + mu_j`` by blocks of rows that stay in cache (the
    table itself is not formed)."""
    n, m = c.shape
    if c.size == 0:
        return 0.0, 0.0
    fast = kernels(c.size)
    if fast is not None:
        lo, hi = fast.table_range(c, lam, mu)
        return float(lo), float(hi)
    step = max(1, (1 << 16) // max(m, 1))
    lo, hi = math.inf, -math.inf
    for s in range(0, n, step):
        block = c[s : s + step] + lam[s : s + step, None]
        block += mu
        lo, hi = min(lo, float(block.min())), max(hi, float(block.max()))
    return lo, hi
