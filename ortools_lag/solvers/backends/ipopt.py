"""Ipopt backend (through cyipopt): interior-point NLP with exact Hessians of the Lagrangian.

The model goes to Ipopt through the expression protocol of
:class:`~ortools_lag.solvers.backends.nlp_functions.ModelFunctions`: the objective
(minimisation sense) and its gradient, the stacked group rows ``lo <= body(z) <= hi`` (two-sided
rows and variable bounds passed natively, infinite sides as Ipopt's ``±1e19``), their sparse
Jacobian and, with ``hessian_approximation="exact"`` (the default), the sparse Hessian of
Ipopt's Lagrangian ``sigma f + sum_i y_i row_i``.

Ipopt's stationarity is ``grad f + J^T y - z_L + z_U = 0``: its ``mult_g`` is already the
project's signed row multiplier ``y`` (``grad f + J^T y = r`` with reduced costs
``r = z_L - z_U``, ``>= 0`` at a lower bound), and a group's multiplier is ``sign * y`` as for
every NLP backend. For ``min x + y s.t. x^2 + y^2 == 1`` Ipopt reports ``+0.7071`` and so do
we (stationarity ``1 + 2 lam x = 0`` at ``x = -1/sqrt(2)``). Nothing is taken on Ipopt's word:
the answer goes through the same round trip as scipy's NLPs (phase-one LP for affine rows,
``kkt.certify``, the status the certificate allows).

Install with ``pip install ortools_lag[ipopt]`` (the ``cyipopt-wheels`` package: cyipopt with
Ipopt inside).

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2, lb=None)
>>> m.minimize(x[0] + x[1]); _ = m.add("circle", (x * x).sum() == 1)
>>> sol = solve(m, "ipopt")  # doctest: +SKIP
>>> sol.status.value, round(float(sol.multipliers["circle"]), 6)  # doctest: +SKIP
('locally_optimal', 0.707107)
"""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.sparse as sp
from pydantic import Field

from ortools_lag.errors import ModelError, NotSupportedError, OptionError
from ortools_lag.result import Solution, Termination
from ortools_lag.solvers.backends.nlp_functions import ModelFunctions, start_point
from ortools_lag.solvers.backends.scipy_nlp import nlp_round_trip
from ortools_lag.solvers.backends.scipy_options import ScipyOptions
from ortools_lag.solvers.base import Solver, SolverOptions

if TYPE_CHECKING:
    from ortools_lag.problem import Problem

__all__ = ["IpoptOptions", "IpoptSolver"]

INSTALL = "pip install ortools_lag[ipopt]  (or: pip install cyipopt-wheels)"
#: Ipopt's infinity for a missing side.
_INF = 1e19
#: problems up to this many entries get a dense Jacobian / Hessian structure
_DENSE = 250_000

#: Ipopt's return status -> why it stopped
_TERMINATION = {
    0: Termination.CONVERGED,  # Solve_Succeeded
    1: Termination.CONVERGED,  # Solved_To_Acceptable_Level
    2: Termination.CONVERGED,  # Infeasible_Problem_Detected (a claim, checked by the round trip)
    3: Termination.NUMERICAL_ERROR,  # Search_Direction_Becomes_Too_Small
    4: Termination.NUMERICAL_ERROR,  # Diverging_Iterates
    5: Termination.INTERRUPTED,  # User_Requested_Stop
    6: Termination.CONVERGED,  # Feasible_Point_Found
    -1: Termination.ITERATION_LIMIT,  # Maximum_Iterations_Exceeded
    -2: Termination.NUMERICAL_ERROR,  # Restoration_Failed
    -3: Termination.NUMERICAL_ERROR,  # Error_In_Step_Computation
    -4: Termination.TIME_LIMIT,  # Maximum_CpuTime_Exceeded
    -5: Termination.TIME_LIMIT,  # Maximum_WallTime_Exceeded
}


class IpoptOptions(SolverOptions):
    """Options of the Ipopt backend.

    ``tol``, ``max_iter``, ``hessian_approximation`` and ``mu_strategy`` are Ipopt's options of
    those names (``"limited-memory"``: quasi-Newton instead of our exact Hessians);
    ``ipopt_options`` passes any other Ipopt option by name (Ipopt refuses an unknown one, and
    so do we, with its name). ``x0`` (values by variable name) or a seeded point starts the
    solve; ``warm_start`` takes a previous :class:`~ortools_lag.result.Solution` of the same
    model: its point, row multipliers and bound multipliers (from its reduced costs) start
    Ipopt with ``warm_start_init_point``. ``time_limit`` is Ipopt's ``max_wall_time``.
    """

    tol: float = Field(default=1e-10, gt=0)
    max_iter: int = Field(default=3000, gt=0)
    hessian_approximation: Literal["exact", "limited-memory"] = "exact"
    mu_strategy: Literal["monotone", "adaptive"] = "monotone"
    print_level: int = Field(default=0, ge=0, le=12)
    ipopt_options: dict[str, Any] = Field(default_factory=dict)
    x0: dict[str, Any] | None = None
    warm_start: Any = None
    seed: int = 0
    start_scale: float = Field(default=0.1, ge=0)


def _structure(
    matrix: Callable[[], sp.spmatrix], shape: tuple[int, int], lower: bool
) -> tuple[np.ndarray, ...]:
    """The fixed (row, col) structure Ipopt is told once: dense below ``_DENSE`` entries (a
    value that is zero at one point may not be at another), else the pattern of ``matrix()``
    (evaluated only then)."""
    r, c = shape
    if r * c <= _DENSE:
        rows, cols = np.indices(shape).reshape(2, -1)
    else:
        coo = sp.coo_matrix(matrix())
        rows, cols = coo.row, coo.col
    keep = rows >= cols if lower else np.ones(rows.size, dtype=bool)
    return rows[keep].astype(np.int64), cols[keep].astype(np.int64)


class _Callbacks:
    """The model as the callbacks cyipopt calls (values at the fixed structures)."""

    def __init__(self, fn: ModelFunctions, z0: np.ndarray, exact: bool, deadline: float) -> None:
        self.fn = fn
        self.iterations = 0
        self.deadline = deadline
        self.jac_rc = _structure(lambda: fn.rows_jac(z0), (fn.m, fn.n), lower=False)
        none = np.zeros(0, dtype=np.int64)
        self.hess_rc: tuple[np.ndarray, ...] = (none, none)  # limited-memory: never asked
        if exact:  # random positive weights: no row's Hessian cancels out of the pattern
            w = np.random.default_rng(0).uniform(0.5, 1.5, fn.m)
            H0 = lambda: self._lagrangian_hessian(z0, w, 1.0)  # noqa: E731
            self.hess_rc = _structure(H0, (fn.n, fn.n), lower=True)

    def _lagrangian_hessian(self, z: np.ndarray, y: np.ndarray, sigma: float) -> sp.csr_matrix:
        H = self.fn.hess(z)
        out = sigma * H if H is not None else sp.csr_matrix((self.fn.n, self.fn.n))
        if self.fn.m:
            Hr = self.fn.rows_hess(z, y)
            if Hr is not None:
                out = out + Hr
        return sp.csr_matrix(out)

    @staticmethod
    def _values(M: sp.spmatrix, rc: tuple[np.ndarray, ...]) -> np.ndarray:
        return np.asarray(sp.csr_matrix(M)[rc[0], rc[1]], dtype=float).ravel()

    def objective(self, z: np.ndarray) -> float:
        return self.fn.f(z)

    def gradient(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(self.fn.grad(z), dtype=float)

    def constraints(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(self.fn.rows(z), dtype=float)

    def jacobianstructure(self) -> tuple[np.ndarray, ...]:
        return self.jac_rc

    def jacobian(self, z: np.ndarray) -> np.ndarray:
        return self._values(self.fn.rows_jac(z), self.jac_rc)

    def hessianstructure(self) -> tuple[np.ndarray, ...]:
        return self.hess_rc

    def hessian(self, z: np.ndarray, lagrange: np.ndarray, obj_factor: float) -> np.ndarray:
        H = self._lagrangian_hessian(z, np.asarray(lagrange, dtype=float), float(obj_factor))
        return self._values(H, self.hess_rc)

    def intermediate(self, *args: Any) -> bool:
        self.iterations = int(args[1])
        return time.perf_counter() < self.deadline


def _warm(opts: IpoptOptions, fn: ModelFunctions) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Point and multipliers of a previous Solution, as Ipopt's warm start."""
    sol = opts.warm_start
    if sol is None:
        return None, {}
    if not isinstance(sol, Solution):
        raise OptionError(f"warm_start takes a Solution, found {type(sol).__name__}")
    model = fn.model
    if set(sol.x) != set(model.variables):
        raise OptionError("warm_start: the Solution's variables are not this model's")
    z = model.join(dict(sol.x))
    y = np.zeros(fn.m)
    for name, sl in fn.slices.items():
        if name in sol.multipliers:
            y[sl] = fn.signs[sl] * np.asarray(sol.multipliers[name], dtype=float).ravel()
    known = set(sol.reduced_costs) == set(model.variables)
    r = model.join(dict(sol.reduced_costs)) if known else None
    r = r if r is not None else np.zeros(fn.n)
    return z, {"lagrange": y, "zl": np.maximum(r, 0.0), "zu": np.maximum(-r, 0.0)}


def _run(fn: ModelFunctions, z0: np.ndarray, opts: IpoptOptions) -> tuple[Any, ...]:
    import cyipopt

    warm_z, warm = _warm(opts, fn)
    z0 = warm_z if warm_z is not None else z0
    exact = opts.hessian_approximation == "exact"
    if exact and not fn.exact_hessians:
        raise NotSupportedError(
            "an expression of this model gives no Hessian: use hessian_approximation="
            "'limited-memory'"
        )
    deadline = time.perf_counter() + opts.time_limit if opts.time_limit else math.inf
    cb = _Callbacks(fn, z0, exact, deadline)
    lb = np.where(np.isfinite(fn.model.lower_bounds()), fn.model.lower_bounds(), -_INF)
    ub = np.where(np.isfinite(fn.model.upper_bounds()), fn.model.upper_bounds(), _INF)
    cl = np.where(np.isfinite(fn.lo), fn.lo, -_INF)
    cu = np.where(np.isfinite(fn.hi), fn.hi, _INF)
    nlp = cyipopt.Problem(n=fn.n, m=fn.m, problem_obj=cb, lb=lb, ub=ub, cl=cl, cu=cu)
    settings: dict[str, Any] = {
        "sb": "yes",  # no banner on stdout
        "print_level": opts.print_level,
        "tol": opts.tol,
        "max_iter": opts.max_iter,
        "hessian_approximation": opts.hessian_approximation,
        "mu_strategy": opts.mu_strategy,
    }
    if opts.time_limit:
        settings["max_wall_time"] = float(opts.time_limit)
    if warm:
        settings.update(
            warm_start_init_point="yes",
            warm_start_bound_push=1e-9,
            warm_start_mult_bound_push=1e-9,
            mu_init=1e-9,
        )
    settings.update(opts.ipopt_options)
    for key, value in settings.items():
        try:
            nlp.add_option(key, value)
        except TypeError as exc:  # cyipopt's message for a refused name or value
            raise OptionError(f"Ipopt refused option {key!r} = {value!r}: {exc}") from None
    z, info = nlp.solve(z0, **warm)
    status = int(info["status"])
    term = _TERMINATION.get(status, Termination.NUMERICAL_ERROR)
    raw = info["status_msg"]
    msg = raw.decode() if isinstance(raw, bytes) else str(raw)
    y = np.asarray(info["mult_g"], dtype=float) if fn.m else np.zeros(0)
    message = f"ipopt: {msg} (status {status}; its mult_g are the signed row multipliers)"
    return np.asarray(z, dtype=float), y, term, message, cb.iterations


class IpoptSolver(Solver):
    """Ipopt through cyipopt: our gradients, sparse Jacobians and exact Lagrangian Hessians."""

    name = "ipopt"
    family = "backend"
    description = "Ipopt (cyipopt): interior-point NLP with exact Hessians; multipliers certified"
    Options = IpoptOptions

    def available(self) -> str | None:
        if importlib.util.find_spec("cyipopt") is None:
            return f"cyipopt is not installed: {INSTALL}"
        return None

    def check(self, problem: Problem) -> str | None:
        if problem.model.is_integer:
            return "Ipopt solves continuous models (this one has integer variables)"
        return None

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        assert isinstance(options, IpoptOptions)
        t0 = time.perf_counter()
        model = problem.model
        if model.n == 0:
            raise ModelError("the model has no variables")
        z0 = start_point(model, options.x0, options.seed, options.start_scale)
        lp_opts = ScipyOptions(time_limit=options.time_limit, tolerance=options.tolerance)
        return nlp_round_trip(
            model,
            lambda fn, z: _run(fn, z, options),
            z0,
            lp_opts,
            solver="ipopt",
            t0=t0,
            info={"hessian_approximation": options.hessian_approximation},
        )
