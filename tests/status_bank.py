# ruff: noqa: E501  (the bank is a table: one problem per entry)
"""A bank of small problems for the status-honesty tests, with references from outside our code.

Each :class:`Case` is stated once as arrays (``min/max c x + 1/2 x Q x`` subject to named row
groups ``lo <= A x <= hi``, bounds and integrality) and built two ways: as an ``ortools_lag``
Model, and directly for an independent backend (``scipy.optimize.linprog``/``milp`` on the
arrays, cvxpy with Clarabel for the QPs) that gives the reference status and optimum. Where a
closed form is known (``closed``) the reference is checked against it too. The problems:
infeasible, unbounded, both, free variables (in the style of cvxpy's ``lp_1``, ``lp_2``,
``lp_5``: free ``x`` with its signs as groups; redundant equalities), degenerate, badly
scaled, Klee–Minty, empty, and MILP/QP variants.

The checks (:func:`check_claim`) recompute every certificate with the test's own arithmetic:
a Farkas value ``min_box (J^T y) z - y+ hi + y- lo > 0``, a direction in the recession cones
of the rows and bounds with ``Q d = 0`` and ``c d < 0`` (a feasible point is the reference's).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ortools_lag import Model, Solution, Status

from .certificates import assert_feasible, check_solution

#: the reference's verdicts
OPTIMAL, INFEASIBLE, UNBOUNDED, NO_OPTIMUM = "optimal", "infeasible", "unbounded", "no_optimum"

Group = tuple[str, np.ndarray, np.ndarray, np.ndarray]  # name, A, lo, hi


@dataclass
class Case:
    """One problem of the bank (see the module)."""

    name: str
    c: np.ndarray
    groups: list[Group]
    lb: np.ndarray | None = None  # default 0
    ub: np.ndarray | None = None  # default +inf
    Q: np.ndarray | None = None
    integer: np.ndarray | None = None
    sense: str = "min"
    closed: tuple[str, float] | None = None  # a hand-derived verdict and optimum
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n(self) -> int:
        return int(self.c.size)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lb = np.zeros(self.n) if self.lb is None else np.asarray(self.lb, dtype=float)
        ub = np.full(self.n, np.inf) if self.ub is None else np.asarray(self.ub, dtype=float)
        return lb, ub

    def model(self) -> Model:
        """The case as an ``ortools_lag`` Model (one variable block ``x``)."""
        m = Model(self.name)
        if self.n == 0:
            return m
        lb, ub = self.bounds()
        kw = {}
        if self.integer is not None:
            kw["integer_mask"] = np.asarray(self.integer, dtype=bool)
        x = m.var("x", self.n, lb=np.where(np.isfinite(lb), lb, -np.inf), ub=ub, **kw)
        f = self.c @ x
        if self.Q is not None:
            f = f + 0.5 * (x @ (self.Q @ x))
        (m.minimize if self.sense == "min" else m.maximize)(f)
        for name, A, lo, hi in self.groups:
            e = A @ x
            if np.all(np.isinf(lo)):
                m.add(name, e <= hi)
            elif np.all(np.isinf(hi)):
                m.add(name, e >= lo)
            elif np.array_equal(lo, hi):
                m.add(name, e == hi)
            else:
                m.add(name, e.between(lo, hi))
        return m

    def stacked(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.groups:
            return np.zeros((0, self.n)), np.zeros(0), np.zeros(0)
        A = np.vstack([g[1] for g in self.groups])
        return (
            A,
            np.concatenate([g[2] for g in self.groups]),
            np.concatenate([g[3] for g in self.groups]),
        )

    def reference(self) -> tuple[str, float]:
        """The verdict and optimum (user's sense) of an independent backend."""
        if self.n == 0:
            return OPTIMAL, 0.0
        if self.Q is not None:
            return self._cvxpy()
        return self._scipy()

    def _scipy(self) -> tuple[str, float]:
        from scipy.optimize import Bounds, LinearConstraint, milp

        s = 1.0 if self.sense == "min" else -1.0
        A, lo, hi = self.stacked()
        lb, ub = self.bounds()
        cons = [LinearConstraint(A, lo, hi)] if A.shape[0] else []
        ints = np.zeros(self.n) if self.integer is None else np.asarray(self.integer, dtype=float)
        res = milp(s * self.c, integrality=ints, bounds=Bounds(lb, ub), constraints=cons)
        if res.status == 0:
            return OPTIMAL, s * float(res.fun)
        text = str(res.message).lower()
        if res.status == 2 and "unbounded or infeasible" not in text:
            return INFEASIBLE, math.nan
        if res.status == 3 and "infeasible" not in text:
            return UNBOUNDED, math.nan
        # "unbounded or infeasible": the feasibility problem (zero objective) tells which
        zero = milp(np.zeros(self.n), integrality=ints, bounds=Bounds(lb, ub), constraints=cons)
        if zero.status == 0:
            return UNBOUNDED, math.nan
        return (INFEASIBLE if zero.status == 2 else NO_OPTIMUM), math.nan

    def _cvxpy(self) -> tuple[str, float]:
        import cvxpy as cp

        s = 1.0 if self.sense == "min" else -1.0
        x = cp.Variable(self.n)
        lb, ub = self.bounds()
        A, lo, hi = self.stacked()
        cons = [x[i] >= lb[i] for i in np.flatnonzero(np.isfinite(lb))]
        cons += [x[i] <= ub[i] for i in np.flatnonzero(np.isfinite(ub))]
        cons += [A[i] @ x >= lo[i] for i in np.flatnonzero(np.isfinite(lo))]
        cons += [A[i] @ x <= hi[i] for i in np.flatnonzero(np.isfinite(hi))]
        assert self.Q is not None
        obj = s * self.c @ x + 0.5 * cp.quad_form(x, cp.psd_wrap(s * self.Q))
        prob = cp.Problem(cp.Minimize(obj), cons)
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
        if prob.status == "optimal":
            return OPTIMAL, s * float(prob.value)
        if prob.status == "infeasible":
            return INFEASIBLE, math.nan
        if prob.status == "unbounded":
            return UNBOUNDED, math.nan
        return NO_OPTIMUM, math.nan


# -- the problems ---------------------------------------------------------------------------------
def _row(*vals: float) -> np.ndarray:
    return np.array([vals], dtype=float)


def _ge(name: str, A: np.ndarray, b: object) -> Group:
    A = np.atleast_2d(np.asarray(A, dtype=float))
    return (
        name,
        A,
        np.broadcast_to(np.asarray(b, dtype=float), (A.shape[0],)).copy(),
        np.full(A.shape[0], np.inf),
    )


def _le(name: str, A: np.ndarray, b: object) -> Group:
    A = np.atleast_2d(np.asarray(A, dtype=float))
    return (
        name,
        A,
        np.full(A.shape[0], -np.inf),
        np.broadcast_to(np.asarray(b, dtype=float), (A.shape[0],)).copy(),
    )


def _eq(name: str, A: np.ndarray, b: object) -> Group:
    A = np.atleast_2d(np.asarray(A, dtype=float))
    rhs = np.broadcast_to(np.asarray(b, dtype=float), (A.shape[0],)).copy()
    return name, A, rhs, rhs.copy()


FREE2 = np.full(2, -np.inf)


def klee_minty(n: int) -> Case:
    """``max sum 2^(n-j) x_j`` s.t. ``2 sum_{j<i} 2^(i-j) x_j + x_i <= 5^i``: optimum ``5^n``
    (Klee and Minty 1972), reached at ``x = (0, ..., 0, 5^n)``."""
    A = np.zeros((n, n))
    for i in range(n):
        A[i, :i] = 2.0 ** (i - np.arange(i) + 1)
        A[i, i] = 1.0
    c = 2.0 ** (n - 1 - np.arange(n))
    return Case(f"klee_minty_{n}", c, [_le("km", A, 5.0 ** (np.arange(n) + 1))], sense="max",
                closed=(OPTIMAL, 5.0**n), tags=("klee_minty",))  # fmt: skip


def free_lp5() -> Case:
    """lp_5-style: free ``x``, ``x >= 0`` and ``A x == b`` as groups, two redundant equalities;
    ``x0`` feasible and ``mu0`` dual feasible with complementary slackness: optimum ``c x0``."""
    rng = np.random.default_rng(7)
    x0 = np.array([0, 1, 0, 2, 0, 4, 0, 5, 6, 7.0])
    mu0 = np.array([-2, -1, 0, 1, 2, 3.5])
    A4 = rng.normal(size=(4, 10))
    A = np.vstack([A4, rng.random((2, 4)) @ A4])
    c = A.T @ mu0
    c[[0, 2, 4, 6]] += rng.random(4)
    return Case("free_lp5", c, [_ge("nonneg", np.eye(10), 0.0), _eq("eq", A, A @ x0)],
                lb=np.full(10, -np.inf), closed=(OPTIMAL, float(c @ x0)), tags=("free",))  # fmt: skip


def least_squares() -> Case:
    """``min |M x - t|^2 / 2`` with free ``x``, one inactive group: the normal equations."""
    rng = np.random.default_rng(3)
    M, t = rng.normal(size=(6, 3)), rng.normal(size=6)
    xs = np.linalg.lstsq(M, t, rcond=None)[0]
    best = 0.5 * float(np.sum((M @ xs - t) ** 2))
    # 1/2 |M x - t|^2 = 1/2 x M^T M x - (M^T t) x + |t|^2/2: the constant is left out
    return Case("least_squares", -M.T @ t, [_le("cap", np.ones((1, 3)), 1e3)], lb=np.full(3, -np.inf),
                Q=M.T @ M, closed=(OPTIMAL, best - 0.5 * float(t @ t)), tags=("qp",))  # fmt: skip


def cases() -> list[Case]:
    """The bank (33 problems)."""
    inf = np.inf
    out = [
        Case("reddy_mikks", np.array([5.0, 4.0]),
             [_le("m1", _row(6, 4), 24), _le("m2", _row(1, 2), 6),
              _le("m3", _row(-1, 1), 1), _le("m4", _row(0, 1), 2)],
             sense="max", closed=(OPTIMAL, 21.0)),
        Case("free_lp1", np.array([-4.0, -5.0]),
             [_le("r1", _row(2, 1), 3), _le("r2", _row(1, 2), 3), _ge("nonneg", np.eye(2), 0)],
             lb=FREE2, closed=(OPTIMAL, -9.0), tags=("free",)),
        Case("free_lp2", np.array([1.0, 0.5]),
             [_ge("lo", _row(1, 0), -100), _le("hi", _row(1, 0), -10), _eq("fix", _row(0, 1), 1)],
             lb=FREE2, closed=(OPTIMAL, -99.5), tags=("free",)),
        free_lp5(),
        klee_minty(4),
        klee_minty(10),
        Case("badly_scaled", np.array([1e4, 1e-3]),
             [_ge("a", _row(1e4, 1e-4), 1e2), _le("b", _row(1, 1), 1e3)],
             closed=(OPTIMAL, 100.0), tags=("scaled",)),
        Case("badly_scaled_rows", np.array([1.0, 1.0]),
             [_ge("big", _row(1e6, 1e6), 2e6), _ge("small", _row(1e-6, -1e-6), -1e-6)],
             closed=(OPTIMAL, 2.0), tags=("scaled",)),
        Case("assignment_ties", np.ones(9),
             [_eq("rows", np.kron(np.eye(3), np.ones(3)), 1.0),
              _eq("cols", np.kron(np.ones(3), np.eye(3)), 1.0)],
             ub=np.ones(9), closed=(OPTIMAL, 3.0), tags=("degenerate",)),
        Case("degenerate_vertex", np.array([-1.0, -1.0]),
             [_le("sum", _row(1, 1), 1), _le("x0", _row(1, 0), 1), _le("x1", _row(0, 1), 1),
              _le("mix", _row(1, 2), 2)],
             closed=(OPTIMAL, -1.0), tags=("degenerate",)),
        Case("two_sided", np.array([1.0, -1.0]), [("band", _row(1, -2), np.array([-1.0]), np.array([1.0]))],
             ub=np.full(2, 3.0), closed=(OPTIMAL, -0.5)),
        Case("redundant_equalities", np.array([1.0, 2.0, 3.0]),
             [_eq("e", np.array([[1.0, 1, 1], [2, 2, 2]]), [1.0, 2.0])], closed=(OPTIMAL, 1.0)),
        Case("no_groups", np.array([1.0, 1.0, 1.0]), [], ub=np.ones(3), sense="max", closed=(OPTIMAL, 3.0)),
        Case("empty", np.zeros(0), [], closed=(OPTIMAL, 0.0)),
        # infeasible, unbounded, both
        Case("infeasible_lp", np.array([1.0, 1.0]), [_le("c", _row(1, 1), -1)], closed=(INFEASIBLE, math.nan)),
        Case("infeasible_equalities", np.array([1.0, 1.0]),
             [_eq("one", _row(1, 1), 1), _eq("two", _row(1, 1), 2)], lb=FREE2, closed=(INFEASIBLE, math.nan)),
        Case("infeasible_free", np.zeros(3), [_le("up", np.eye(3), 0), _ge("down", np.eye(3), 1)],
             lb=np.full(3, -inf), closed=(INFEASIBLE, math.nan), tags=("free",)),
        Case("unbounded_lp", np.array([-1.0, -1.0]), [_le("c", _row(1, -1), 1)], closed=(UNBOUNDED, math.nan)),
        Case("unbounded_free", np.ones(3), [_le("up", np.eye(3), 1)], lb=np.full(3, -inf),
             closed=(UNBOUNDED, math.nan), tags=("free",)),
        Case("unbounded_max", np.array([1.0, 0.0]), [_le("c", _row(1, -1), 1)], sense="max",
             closed=(UNBOUNDED, math.nan)),
        Case("primal_dual_infeasible", np.array([-1.0, -1.0]),
             [_ge("a", _row(1, -1), 1), _ge("b", _row(-1, 1), 1)], lb=FREE2, closed=(INFEASIBLE, math.nan)),
        # MILP
        Case("knapsack", np.array([10.0, 13.0, 7.0]), [_le("w", _row(3, 4, 2), 6)], ub=np.ones(3),
             integer=np.ones(3, bool), sense="max", closed=(OPTIMAL, 20.0), tags=("milp",)),
        Case("milp_free_integer", np.array([1.0]), [_ge("c", _row(1), 2.5)], lb=np.array([-inf]),
             integer=np.ones(1, bool), closed=(OPTIMAL, 3.0), tags=("milp", "free")),
        Case("milp_integrality_infeasible", np.array([-1.0, -1.0]), [_eq("odd", _row(2, -2), 1)],
             lb=FREE2, integer=np.ones(2, bool), closed=(INFEASIBLE, math.nan), tags=("milp",)),
        Case("milp_infeasible", np.array([1.0, 1.0]), [_le("c", _row(1, 1), -1)],
             integer=np.ones(2, bool), closed=(INFEASIBLE, math.nan), tags=("milp",)),
        Case("milp_unbounded", np.array([-1.0, -1.0]), [_le("c", _row(1, -1), 1)],
             integer=np.ones(2, bool), closed=(UNBOUNDED, math.nan), tags=("milp",)),
        # QP
        Case("qp_projection", np.array([-2.0, -4.0]), [_le("c", _row(1, 1), 1)], lb=FREE2,
             Q=2 * np.eye(2), closed=(OPTIMAL, 2.0 - 5.0), tags=("qp",)),
        Case("qp_simplex", np.zeros(3), [_eq("sum", np.ones((1, 3)), 1)], lb=np.full(3, -inf),
             Q=2 * np.eye(3), closed=(OPTIMAL, 1.0 / 3.0), tags=("qp", "free")),
        Case("qp_singular", np.array([-2.0, -2.0]), [_le("cap", _row(1, 1), 5)],
             Q=2 * np.ones((2, 2)), closed=(OPTIMAL, -1.0), tags=("qp", "degenerate")),
        Case("qp_concave_max", np.array([2.0, 1.0]), [_le("c", _row(1, 0), 0.5)],
             lb=FREE2, Q=-2 * np.eye(2), sense="max", closed=(OPTIMAL, 0.75 + 0.25), tags=("qp",)),
        Case("qp_unbounded", np.array([0.0, -1.0]), [_ge("c", _row(1, 1), 0)], lb=FREE2,
             Q=np.diag([2.0, 0.0]), closed=(UNBOUNDED, math.nan), tags=("qp",)),
        Case("qp_infeasible", np.zeros(2), [_le("c", _row(1, 1), -1)], Q=2 * np.eye(2),
             closed=(INFEASIBLE, math.nan), tags=("qp",)),
        least_squares(),
    ]  # fmt: skip
    return out


# -- the checks ----------------------------------------------------------------------------------
def _jac(model: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows ``J z + e`` of every group with their bounds (affine models)."""
    z0 = np.zeros(model.n)
    J = np.vstack([g.body.jacobian(z0, model.n).toarray() for g in model.groups.values()])
    e = np.concatenate([g.body.value(z0) for g in model.groups.values()])
    lo = np.concatenate([g.lo for g in model.groups.values()])
    hi = np.concatenate([g.hi for g in model.groups.values()])
    return J, e, lo, hi


def farkas_value(model: Model, farkas: dict[str, np.ndarray]) -> float:
    """``min over the box of (J^T y) z - y+ (hi - e) + y- (lo - e)`` with ``y = sign * lam``:
    positive proves the rows and bounds infeasible."""
    J, e, lo, hi = _jac(model)
    y = np.concatenate(
        [g.sign * np.asarray(farkas[k], dtype=float).ravel() for k, g in model.groups.items()]
    )
    r = J.T @ y
    lb, ub = model.lower_bounds(), model.upper_bounds()
    with np.errstate(invalid="ignore"):
        box = np.where(r > 0, r * lb, np.where(r < 0, r * ub, 0.0)).sum()
        rows = np.where(y > 0, y * (hi - e), 0.0).sum() + np.where(y < 0, y * (lo - e), 0.0).sum()
    return float(box - rows)


def direction_holds(case: Case, d: np.ndarray, tol: float = 1e-7) -> bool:
    """``d`` is in the recession cones, keeps the objective flat in its curvature (``Q d = 0``)
    and improves it (in the case's sense)."""
    d = d / np.abs(d).max()
    A, lo, hi = case.stacked()
    lb, ub = case.bounds()
    Ad = A @ d if A.size else np.zeros(0)
    ok = np.all(np.where(np.isfinite(hi), Ad <= tol, True)) and np.all(
        np.where(np.isfinite(lo), Ad >= -tol, True)
    )
    ok = ok and np.all(np.where(np.isfinite(lb), d >= -tol, True))
    ok = ok and np.all(np.where(np.isfinite(ub), d <= tol, True))
    if case.Q is not None:
        ok = ok and float(np.abs(case.Q @ d).max()) <= tol * (1 + np.abs(case.Q).max())
    s = 1.0 if case.sense == "min" else -1.0
    return bool(ok and s * float(case.c @ d) < -tol)


def check_claim(case: Case, model: Model, sol: Solution, ref: tuple[str, float]) -> None:
    """Whatever ``sol`` claims is backed by its certificate and agrees with the reference."""
    verdict, best = ref
    what = f"{case.name} / {sol.solver}: {sol.status} ({sol.message})"
    if sol.status in (Status.OPTIMAL, Status.LOCALLY_OPTIMAL):
        assert verdict == OPTIMAL, what
        assert sol.kkt is not None and sol.kkt.certified, what
        assert sol.objective == _approx(best), what
        check_solution(model, sol, duals=bool(sol.multipliers) and not model.is_integer)
    elif sol.status == Status.FEASIBLE:
        assert verdict in (OPTIMAL, UNBOUNDED), what
        assert_feasible(model, sol)
        if verdict == OPTIMAL:
            s = 1.0 if case.sense == "min" else -1.0
            assert s * (sol.objective - best) >= -1e-6 * (1 + abs(best)), what
    elif sol.status == Status.INFEASIBLE:
        assert verdict == INFEASIBLE, what
        assert farkas_value(model, dict(sol.ray["farkas"])) > 0, what
    elif sol.status == Status.UNBOUNDED:
        assert verdict == UNBOUNDED, what
        assert direction_holds(case, np.asarray(sol.ray["direction"]["x"], dtype=float)), what
    elif sol.status == Status.INFEASIBLE_OR_UNBOUNDED:
        assert verdict != OPTIMAL, what
        assert sol.message, what  # with its reason
    else:
        assert sol.status == Status.NO_SOLUTION, what


def _approx(best: float) -> object:
    import pytest

    return pytest.approx(best, rel=1e-5, abs=1e-5)


#: options that keep each solver's run short on these small problems
SOLVER_OPTIONS: dict[str, Callable[[Model], dict[str, object]]] = {
    "subgradient": lambda m: {"relax": list(m.groups), "max_iter": 200},
    "bundle": lambda m: {"relax": list(m.groups), "max_iter": 200},
    "admm": lambda m: {"max_iter": 300},
    "alm": lambda m: {"max_iter": 60, "inner_max_iter": 500},
    "pdhg": lambda m: {"max_iter": 20000, "tolerance": 1e-7},
    "adjoint": lambda m: {"epochs": 200},
}
