"""The augmented Lagrangian method (method of multipliers) for smooth models.

By default every constraint group is relaxed (only the variables' bounds are kept); any subset
may be relaxed instead (``relax=[...]``) when the kept groups are affine and the model is an LP
or QP: the inner problem is then the QP below in ``(x, s)`` over the kept rows and the bounds,
solved by HiGHS, and the kept groups' multipliers are its row duals. For a row
``lo <= e(x) <= hi`` with signed multiplier ``y`` (``lam = sign * y``, see
:class:`~ortools_lag.model.Constraint`) and penalty ``rho`` the augmented Lagrangian is

    L_rho(x, y) = f(x) + sum_i [ y_i (e_i - s_i) + rho/2 (e_i - s_i)^2 ],
    s_i = clip(e_i + y_i / rho, lo_i, hi_i),

(``s`` is the optimal slack: an equality has ``s = rhs``, a ``<=`` row ``s = min(e + y/rho, hi)``).
Each iteration minimises ``L_rho`` over the bounds with scipy's L-BFGS-B, from the previous
point, then updates ``y <- y + rho (e - s)`` (which keeps ``lam >= 0`` on inequalities) and
multiplies ``rho`` by ``rho_growth`` when the violation did not fall below a quarter of the
previous one. The method stops when the KKT residuals at ``(x, lam)`` (``kkt.certify``) are
below ``kkt_tolerance``. When the Lagrangian can be minimised (linear or quadratic models) the
dual value ``q(lam)`` is evaluated at every iteration as the bound.

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2, lb=None)
>>> m.minimize((x * x).sum()); _ = m.add("sum", x.sum() == 1)
>>> sol = solve(m, "alm")
>>> sol.status.value, round(float(sol.multipliers["sum"]), 6), sol.x["x"].round(6).tolist()
('optimal', -1.0, [0.5, 0.5])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from pydantic import Field

from ortools_lag import kkt
from ortools_lag.errors import NotSupportedError
from ortools_lag.model import AffineExpr
from ortools_lag.solvers.dual.iterate_method import IterateMethod, IterateState
from ortools_lag.solvers.dual.loop import DualSolver
from ortools_lag.solvers.dual.protocol import DualOptions, DualState

if TYPE_CHECKING:
    from ortools_lag.lagrangian import Lagrangian
    from ortools_lag.model import Model, StandardForm
    from ortools_lag.problem import Problem
    from ortools_lag.result import Solution
    from ortools_lag.solvers.base import SolverOptions

__all__ = ["AlmMethod", "AlmOptions", "AlmSolver", "AlmState"]


class AlmOptions(DualOptions):
    """Options of the augmented Lagrangian method.

    Attributes
    ----------
    rho, rho_growth, rho_max
        The initial penalty, its growth factor and its cap.
    kkt_tolerance
        Stop when every relative KKT residual is below this.
    inner_max_iter, inner_tolerance
        L-BFGS-B's iteration limit and projected-gradient tolerance.
    """

    max_iter: int = Field(default=200, ge=1)
    rho: float = Field(default=10.0, gt=0)
    rho_growth: float = Field(default=10.0, gt=1)
    rho_max: float = Field(default=1e8, gt=0)
    kkt_tolerance: float = Field(default=1e-10, gt=0)
    inner_max_iter: int = Field(default=5000, ge=1)
    inner_tolerance: float = Field(default=1e-12, gt=0)


@dataclass(frozen=True)
class AlmState(IterateState):
    """The dual state plus the primal iterate, the penalty and the last violation."""

    rho: float = 10.0
    infeasibility: float = math.inf
    kkt_residual: float = math.inf


UNBOUNDED_BELOW = 1e20
"""An inner objective below ``-UNBOUNDED_BELOW`` stops the run: the augmented Lagrangian has no
minimiser."""


RUNAWAY = 1e12
"""An inner iterate with an entry beyond ``RUNAWAY`` also stops it (running off to infinity)."""


class _Unbounded(Exception):
    """The inner L-BFGS-B ran away (its last point in ``z``)."""

    def __init__(self, z: np.ndarray) -> None:
        super().__init__("the augmented Lagrangian is unbounded below")
        self.z = z.copy()


class _Terms:
    """Values and Jacobians of the objective and the relaxed rows at a point."""

    def __init__(self, lag: Lagrangian) -> None:
        self.lag, self.model = lag, lag.model
        self.n = lag.model.n
        self.groups = [self.model.groups[k] for k in self.lag.relax]
        # affine rows have one Jacobian: built once, not at every inner evaluation
        self._jac = None
        if all(isinstance(g.body, AffineExpr) for g in self.groups):
            z0 = np.zeros(self.n)
            self._jac = self._stack(z0)

    def _stack(self, z: np.ndarray) -> sp.csr_matrix:
        if not self.groups:
            return sp.csr_matrix((0, self.n))
        return sp.vstack([g.body.jacobian(z, self.n) for g in self.groups], format="csr")

    def f(self, z: np.ndarray) -> tuple[float, np.ndarray]:
        m = self.model
        g = np.asarray(m.objective.jacobian(z, self.n).todense()).ravel()
        return self.lag.sense * m.objective_value(z), self.lag.sense * g

    def rows(self, z: np.ndarray) -> tuple[np.ndarray, sp.csr_matrix]:
        if not self.groups:
            return np.zeros(0), sp.csr_matrix((0, self.n))
        vals = np.concatenate([g.body.value(z) for g in self.groups])
        return vals, self._jac if self._jac is not None else self._stack(z)


class AlmMethod(IterateMethod):
    """Method of multipliers: L-BFGS-B on the augmented Lagrangian, then a multiplier update."""

    name = "alm"
    point_label = "augmented Lagrangian iterate"
    stops_on_gap = False
    options: AlmOptions

    def __init__(self, options: DualOptions) -> None:
        super().__init__(options)
        self._kept: dict[str, StandardForm] = {}

    def default_relax(self, model: Model) -> tuple[str, ...] | None:
        return tuple(model.groups)

    def check(self, lagrangian: Lagrangian) -> str | None:
        lag = lagrangian
        if lag.model.is_integer:
            return "alm is for smooth models: the model has integer variables"
        if lag.kept and not self._qp_inner(lag):
            return (
                f"alm keeps groups {list(lag.kept)} only when they are affine and the objective "
                "and relaxed groups are linear or quadratic (its inner QP); relax them too"
            )
        return None

    @staticmethod
    def _qp_inner(lag: Lagrangian) -> bool:
        """Whether the inner problem is a QP (affine rows, at most quadratic objective)."""
        affine = all(lag.model.groups[k].body.degree <= 1 for k in lag.kept)
        return bool(affine and lag.objective_ok and not lag.quadratic_groups
                    and not lag.nonlinear_groups)  # fmt: skip

    def _bound(self, lag: Lagrangian, lam: np.ndarray) -> float:
        if lag.why_not() is not None:
            return -math.inf
        try:
            return lag.evaluate(lam).lower
        except NotSupportedError:
            return -math.inf

    def init(self, lagrangian: Lagrangian, lam0: np.ndarray) -> AlmState:
        lam = lagrangian.project(lam0)
        z0 = np.clip(np.zeros(lagrangian.model.n), lagrangian.lb, lagrangian.ub)
        q = self._bound(lagrangian, lam)
        return AlmState(
            iteration=1,
            lam=lam,
            dual_value=q,
            bound=q,
            best_lam=lam,
            x=z0,
            primal_estimate=z0,
            rho=self.options.rho,
        )

    def _inner(self, lag: Lagrangian, terms: _Terms, z0: np.ndarray, y: np.ndarray, rho: float):
        from scipy.optimize import minimize

        lo, hi = lag.row_lo, lag.row_hi

        def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
            f, gf = terms.f(z)
            e, J = terms.rows(z)
            r = e - np.clip(e + y / rho, lo, hi)
            value = f + float(y @ r) + 0.5 * rho * float(r @ r)
            if not value > -UNBOUNDED_BELOW or not np.max(np.abs(z), initial=0.0) < RUNAWAY:
                raise _Unbounded(z)
            return value, gf + J.T @ (y + rho * r)

        bounds = [
            (lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None)
            for lo, hi in zip(lag.lb.tolist(), lag.ub.tolist())
        ]
        o = self.options
        try:
            res = minimize(
                fun,
                z0,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={
                    "maxiter": o.inner_max_iter,
                    "gtol": o.inner_tolerance,
                    "ftol": 1e-16,
                    "maxcor": 20,
                },
            )
        except _Unbounded as run_away:
            return np.asarray(run_away.z, dtype=float), False
        return np.asarray(res.x, dtype=float), True

    def _inner_qp(
        self, lag: Lagrangian, y: np.ndarray, rho: float
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``min_{x, s} L_rho`` over the kept rows and the bounds by HiGHS, with the kept
        groups' multipliers (its row duals)."""

        from ortools_lag.solvers.backends.highs import HighsOptions, solve_standard_form

        if lag.token not in self._kept:
            self._kept[lag.token] = kept_form(lag)
        kept = self._kept[lag.token]
        n, p = lag.model.n, lag.size
        A = sp.csr_matrix(lag.A_R)
        Q = lag.Q if lag.Q is not None else sp.csr_matrix((n, n))
        H = sp.bmat([[Q + rho * (A.T @ A), -rho * A.T], [-rho * A, rho * sp.identity(p)]])
        g = np.r_[lag.c + A.T @ (y + rho * lag.e0), -(y + rho * lag.e0)]
        sf = replace(
            kept,
            c=g,
            offset=0.0,
            A=sp.hstack([kept.A, sp.csr_matrix((kept.m, p))], format="csr"),
            lb=np.r_[lag.lb, lag.row_lo],
            ub=np.r_[lag.ub, lag.row_hi],
            integrality=np.zeros(n + p, dtype=bool),
            Q=sp.csc_matrix(H),
            sense=1,
        )
        opts = HighsOptions(primal_feasibility_tolerance=1e-10, dual_feasibility_tolerance=1e-10)
        raw = solve_standard_form(sf, opts)
        if raw.x is None:
            raise NotSupportedError(f"alm: the inner QP has no solution ({raw.message})")
        w = raw.y if raw.y is not None else np.zeros(kept.m)
        return raw.x[:n], kept.unpack_rows(w)

    def step(self, lagrangian: Lagrangian, state: DualState) -> AlmState:
        assert isinstance(state, AlmState) and state.x is not None
        lag, o = lagrangian, self.options
        terms = _Terms(lag)
        y = lag.row_sign * state.lam
        kept_lam: dict[str, np.ndarray] = {}
        if lag.kept:
            z, kept_lam = self._inner_qp(lag, y, state.rho)
        else:
            z, bounded = self._inner(lag, terms, state.x, y, state.rho)
            if not bounded:
                why = (
                    f"the augmented Lagrangian ran off (below -{UNBOUNDED_BELOW:.0e} or beyond "
                    f"{RUNAWAY:.0e}) at rho = "
                    f"{state.rho:.3g}: it has no minimiser (the model looks unbounded)"
                )
                return replace(state, iteration=state.iteration + 1, stalled=True, message=why)
        e, _ = terms.rows(z)
        r = e - np.clip(e + y / state.rho, lag.row_lo, lag.row_hi)
        y_new = y + state.rho * r
        lam = lag.project(lag.row_sign * y_new)
        infeas = float(np.max(np.abs(lag.violation(e)), initial=0.0))
        rho = state.rho
        # a penalty grows only while the rows are not yet met: past that, a larger rho only
        # makes the inner problem ill-conditioned (and its multipliers less accurate)
        slow = infeas > 0.25 * state.infeasibility and infeas > o.kkt_tolerance
        if slow:
            rho = min(rho * o.rho_growth, o.rho_max)
        rep = kkt.certify(lag.model, z, {**lag.split(lam), **kept_lam}, tol=o.kkt_tolerance)
        resid = max(rep.primal_residual, rep.stationarity, rep.complementarity, rep.sign_violation)
        q = self._bound(lag, lam)
        return self.advance(
            state,
            lam,
            q,
            z,
            step=float(np.linalg.norm(y_new - y)),
            violation=float(np.linalg.norm(lag.violation(e))),
            rho=rho,
            infeasibility=infeas,
            kkt_residual=resid,
            converged=resid <= o.kkt_tolerance,
            stalled=rho >= o.rho_max and slow,
        )


def kept_form(lag: Lagrangian) -> StandardForm:
    """The kept groups' rows of the model's standard form (their layout re-based)."""

    from ortools_lag.model import to_standard_form

    sf = to_standard_form(lag.model)
    blocks, rows, start = {}, [], 0
    for k in lag.kept:
        b = sf.row_blocks[k]
        rows.append(np.arange(b.start, b.stop))
        blocks[k] = replace(b, start=start, stop=start + b.stop - b.start)
        start += b.stop - b.start
    idx = np.concatenate(rows) if rows else np.zeros(0, dtype=int)
    return replace(sf, row_blocks=blocks, A=sf.A[idx], row_lo=sf.row_lo[idx], row_hi=sf.row_hi[idx])


class AlmSolver(DualSolver):
    """The augmented Lagrangian method with an L-BFGS-B inner solve (smooth models)."""

    name = "alm"
    description = "augmented Lagrangian (method of multipliers), inner L-BFGS-B; smooth models"
    Options = AlmOptions
    method_class = AlmMethod

    def available(self) -> str | None:
        return None

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        from ortools_lag.solvers.dual.admm_blocks import with_kept_multipliers

        sol = super().solve(problem, options)  # kept multipliers, and the convex case's bound
        return with_kept_multipliers(problem.model, sol, options.tolerance)
