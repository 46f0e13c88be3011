"""cvxpy backend: the model as a cvxpy Problem in vectorised form, DCP-checked, duals converted.

One vector variable ``z`` holds every variable block. A model with affine groups goes through the
standard form: ``c @ z + 1/2 quad_form(z, Q)`` and three sparse row blocks ``A_eq z == lo``,
``A_up z <= hi``, ``A_dn z >= lo``. A quadratic group ``S @ (L z * R z) + a z + c`` becomes
``S @ square(L z)`` when ``L == R`` (convex when ``S >= 0``), otherwise the polarisation
``S @ (square((L + R) z) - square((L - R) z)) / 4``; a scalar quadratic row (and the objective)
becomes ``quad_form`` of its Hessian. Each constraint is DCP-checked and a group that is not
convex raises :class:`~ortools_lag.errors.NotSupportedError` naming it (``x^2 + y^2 == 1`` is not).

Duals. cvxpy's dual of ``expr <= rhs`` and of ``lhs >= rhs`` is ``>= 0`` with
``L = f + mu (expr - rhs)`` (``mu (rhs - lhs)``), and the dual ``nu`` of ``lhs == rhs`` belongs to
``L = f + nu (lhs - rhs)``: the signed row multiplier is ``y = mu_up - mu_dn`` and ``y = nu``.
cvxpy always solves the minimisation (``sense * f``), so no further sign flips. MILPs go to a
MIP-capable solver (HiGHS by default) and report its dual bound.

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2, lb=None)
>>> m.minimize((x * x).sum()); _ = m.add("sum", x.sum() == 1)
>>> sol = solve(m, "cvxpy")
>>> round(float(sol.multipliers["sum"]), 6)
-1.0
"""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.util
import math
import os
import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from pydantic import Field, ValidationInfo, field_validator

from ortools_lag.errors import BackendUnavailableError, NotSupportedError, OptionError
from ortools_lag.model import AffineExpr, Model, QuadExpr, StandardForm, to_standard_form
from ortools_lag.model.expressions import Expr
from ortools_lag.result import Solution, Status, Termination
from ortools_lag.solvers.backend import RawResult
from ortools_lag.solvers.backends.raw_solution import solution_from_raw
from ortools_lag.solvers.base import Solver, SolverOptions

if TYPE_CHECKING:
    from ortools_lag.problem import Problem

__all__ = ["CvxpyOptions", "CvxpySolver", "build_problem", "solver_settings"]


class CvxpyOptions(SolverOptions):
    """Options of the cvxpy backend.

    ``cvxpy_solver``: the cvxpy solver name (``None``: HiGHS for LP/QP/MILP, Clarabel for models
    with quadratic constraints). ``solver_options`` go to that solver as given; the defaults pin
    HiGHS's and Clarabel's tolerances (``feasibility_tol``, ``gap_tol``).
    """

    cvxpy_solver: str | None = None
    solver_options: dict[str, Any] = Field(default_factory=dict)
    feasibility_tol: float = Field(default=1e-9, gt=0)
    gap_tol: float = Field(default=1e-10, gt=0)
    mip_rel_gap: float = Field(default=1e-6, ge=0)

    @field_validator("solver_options")
    @classmethod
    def _known_settings(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """Refuse a setting the target solver does not have, before building the problem.

        The target is ``cvxpy_solver``, or HiGHS and Clarabel (one of which the default picks);
        a solver whose settings cannot be listed here checks them itself when it runs.
        """
        if not value:
            return value
        chosen = info.data.get("cvxpy_solver")
        targets = [str(chosen).upper()] if chosen else sorted(_SETTINGS)
        listed = [solver_settings(t) for t in targets]
        if any(names is None for names in listed):
            return value
        valid = sorted(frozenset().union(*(n for n in listed if n is not None)))
        for key in value:
            if key not in valid:
                near = difflib.get_close_matches(str(key), valid, n=3)
                hint = f"; did you mean {' or '.join(map(repr, near))}?" if near else ""
                raise ValueError(
                    f"unknown setting {key!r} of cvxpy solver {' or '.join(targets)}{hint} "
                    f"(valid choices: {', '.join(valid)})"
                )
        return value


#: Where a cvxpy solver's setting names are listed: ``(module, class)`` whose public attributes
#: they are (HiGHS's options, Clarabel's settings).
_SETTINGS: dict[str, tuple[str, str]] = {
    "HIGHS": ("highspy", "HighsOptions"),
    "CLARABEL": ("clarabel", "DefaultSettings"),
}


def solver_settings(name: str) -> frozenset[str] | None:
    """The setting names cvxpy solver ``name`` takes, or ``None`` when they cannot be listed.

    >>> "time_limit" in solver_settings("HIGHS")
    True
    """
    where = _SETTINGS.get(name.upper())
    if where is None:
        return None
    try:
        owner = getattr(importlib.import_module(where[0]), where[1])
    except (ImportError, AttributeError):
        return None
    return frozenset(a for a in dir(owner) if not a.startswith("_") and a != "default")


_STATUS: dict[str, tuple[Status, Termination]] = {
    "optimal": (Status.OPTIMAL, Termination.CONVERGED),
    "optimal_inaccurate": (Status.FEASIBLE, Termination.NUMERICAL_ERROR),
    "infeasible": (Status.INFEASIBLE, Termination.CONVERGED),
    "infeasible_inaccurate": (Status.INFEASIBLE, Termination.NUMERICAL_ERROR),
    "unbounded": (Status.UNBOUNDED, Termination.CONVERGED),
    "unbounded_inaccurate": (Status.UNBOUNDED, Termination.NUMERICAL_ERROR),
    "infeasible_or_unbounded": (Status.INFEASIBLE_OR_UNBOUNDED, Termination.CONVERGED),
    "user_limit": (Status.NO_SOLUTION, Termination.TIME_LIMIT),
}


# -- translation ------------------------------------------------------------------------------


def _row_sets(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    eq = np.isfinite(lo) & (lo == hi)
    return (
        np.flatnonzero(eq),
        np.flatnonzero(np.isfinite(hi) & ~eq),
        np.flatnonzero(np.isfinite(lo) & ~eq),
    )


class _Rows:
    """Constraints ``lo <= body <= hi`` of one block and the map of their duals to ``y``."""

    def __init__(self, name: str, body: Any, lo: np.ndarray, hi: np.ndarray, start: int) -> None:
        self.name, self.start = name, start
        self.ie, self.up, self.dn = _row_sets(lo, hi)
        self.cons = []
        if self.ie.size:
            self.cons.append(("eq", self.ie, body[self.ie] == lo[self.ie]))
        if self.up.size:
            self.cons.append(("up", self.up, body[self.up] <= hi[self.up]))
        if self.dn.size:
            self.cons.append(("dn", self.dn, body[self.dn] >= lo[self.dn]))

    def check_dcp(self, sense: str) -> None:
        for kind, _, con in self.cons:
            if not con.is_dcp():
                side = {"eq": "an equality needs an affine body", "up": "<= needs a convex body"}
                why = side.get(kind, ">= needs a concave body")
                raise NotSupportedError(
                    f"constraint group {self.name!r} is not convex (cvxpy's DCP rules: {why}); "
                    "use the scipy backend (SLSQP, trust-constr) for it"
                )

    def add_duals(self, y: np.ndarray) -> None:
        for kind, idx, con in self.cons:
            d = con.dual_value
            if d is None:
                continue
            d = np.asarray(d, dtype=float).ravel()
            y[self.start + idx] += -d if kind == "dn" else d


def _square_terms(e: QuadExpr, z: Any, n: int) -> Any:
    import cvxpy as cp

    out = 0
    for L, R, S in e.terms:
        Lm, Rm = L.matrix(n), R.matrix(n)
        same = (Lm != Rm).nnz == 0 and np.array_equal(L.const, R.const)
        S = sp.csr_matrix(S)
        if same:
            out = out + S @ cp.square(Lm @ z + L.const)
        else:
            plus = cp.square((Lm + Rm) @ z + (L.const + R.const))
            minus = cp.square((Lm - Rm) @ z + (L.const - R.const))
            out = out + 0.25 * (S @ plus) - 0.25 * (S @ minus)
    return out


def _half_quad(H: sp.spmatrix, z: Any) -> Any:
    """``1/2 z H z`` as a cvxpy expression, marked PSD (or NSD) when it is."""
    import cvxpy as cp

    H = sp.csr_matrix(H)
    H = 0.5 * (H + H.T)
    used = np.flatnonzero(np.asarray(abs(H).sum(axis=1)).ravel())
    if used.size == 0:
        return 0
    sub = sp.csr_matrix(H[used][:, used])
    low, high = _eig_range(sub)
    tol = 1e-9 * (1.0 + max(abs(low), abs(high)))
    if low >= -tol:
        return 0.5 * cp.quad_form(z[used], cp.psd_wrap(sub))
    if high <= tol:
        return -0.5 * cp.quad_form(z[used], cp.psd_wrap(-sub))
    return 0.5 * cp.quad_form(z[used], sub.toarray(), assume_PSD=False)


def _eig_range(H: sp.csr_matrix) -> tuple[float, float]:
    if H.shape[0] <= 2000:
        w = np.linalg.eigvalsh(H.toarray())
        return float(w[0]), float(w[-1])
    from scipy.sparse.linalg import eigsh

    lo = eigsh(H, k=1, which="SA", return_eigenvectors=False)[0]
    hi = eigsh(H, k=1, which="LA", return_eigenvectors=False)[0]
    return float(lo), float(hi)


def _scalar_quadratic(e: Expr, z: Any, n: int) -> Any:
    """A scalar expression of degree <= 2 as ``a z + c + 1/2 z H z`` (``H`` its Hessian)."""
    z0 = np.zeros(n)
    a = np.asarray(e.jacobian(z0, n).todense()).ravel()
    expr = a @ z + float(e.value(z0)[0])
    if e.degree < 2:
        return expr
    return expr + _half_quad(e.hessian(np.ones(1), n), z)  # type: ignore[attr-defined]


def _group_body(name: str, body: Expr, z: Any, n: int) -> Any:
    import cvxpy as cp

    if isinstance(body, AffineExpr):
        return body.matrix(n) @ z + body.const
    if not isinstance(body, QuadExpr):
        raise NotSupportedError(
            f"constraint group {name!r} is not affine or quadratic: cvxpy takes convex models only"
        )
    if body.size == 1:
        return cp.reshape(_scalar_quadratic(body, z, n), (1,), order="C")
    return body.affine.matrix(n) @ z + body.affine.const + _square_terms(body, z, n)


def _variable(model: Model) -> tuple[Any, list[Any]]:
    """The global vector: one cvxpy Variable, or a continuous and an integer one placed by
    sparse selection matrices (a 1-D cvxpy Variable cannot mark a subset integer)."""
    import cvxpy as cp

    n = model.n
    mask = model.integrality()
    if not mask.any():
        z: Any = cp.Variable(n)
    elif mask.all():
        z = cp.Variable(n, integer=True)
    else:
        ic, ii = np.flatnonzero(~mask), np.flatnonzero(mask)
        Pc = sp.csr_matrix((np.ones(ic.size), (ic, np.arange(ic.size))), shape=(n, ic.size))
        Pi = sp.csr_matrix((np.ones(ii.size), (ii, np.arange(ii.size))), shape=(n, ii.size))
        z = Pc @ cp.Variable(ic.size) + Pi @ cp.Variable(ii.size, integer=True)
    lb, ub = model.lower_bounds(), model.upper_bounds()
    il, iu = np.flatnonzero(np.isfinite(lb)), np.flatnonzero(np.isfinite(ub))
    box = []
    if il.size:
        box.append(z[il] >= lb[il])
    if iu.size:
        box.append(z[iu] <= ub[iu])
    return z, box


def build_problem(model: Model) -> tuple[Any, Any, list[_Rows], StandardForm | None]:
    """The cvxpy Problem of a model (minimisation sense), its variable, row blocks and standard
    form (``None`` when some group is quadratic).

    Raises
    ------
    NotSupportedError
        Naming the group (or the objective) that is not convex under cvxpy's DCP rules.
    """
    import cvxpy as cp

    n = model.n
    z, box = _variable(model)
    sf: StandardForm | None = None
    blocks: list[_Rows] = []
    if model.has_linear_constraints and model.objective.degree <= 2:
        sf = to_standard_form(model)
        obj = sf.c @ z + sf.offset + (_half_quad(sf.Q, z) if sf.Q is not None else 0)
        if sf.m:
            blocks.append(_Rows("rows", sf.A @ z, sf.row_lo, sf.row_hi, 0))
    else:
        if not isinstance(model.objective, (AffineExpr, QuadExpr)):
            raise NotSupportedError("the objective is not affine or quadratic: not a cvxpy model")
        obj = model.sense_sign * _scalar_quadratic(model.objective, z, n)
        start = 0
        for name, g in model.groups.items():
            body = _group_body(name, g.body, z, n)
            blocks.append(_Rows(name, body, g.lo, g.hi, start))
            start += g.size
    for b in blocks:
        b.check_dcp(model.sense)
    objective = cp.Minimize(obj)
    if not objective.is_dcp():
        what = "convex" if model.sense == "min" else "concave"
        raise NotSupportedError(f"the objective is not {what} (cvxpy's DCP rules)")
    cons = box + [c for b in blocks for _, _, c in b.cons]
    return cp.Problem(objective, cons), z, blocks, sf


# -- solving ----------------------------------------------------------------------------------


def _solver_name(model: Model, sf: StandardForm | None, opts: CvxpyOptions) -> str:
    import cvxpy as cp

    installed = cp.installed_solvers()
    if opts.cvxpy_solver is not None:
        name = opts.cvxpy_solver.upper()
        if name not in installed:
            raise OptionError(
                f"cvxpy solver {opts.cvxpy_solver!r} is not installed "
                f"(valid choices: {', '.join(installed)})"
            )
        return name
    wanted = ["HIGHS", "CLARABEL"] if sf is not None else ["CLARABEL", "ECOS", "SCS"]
    if model.is_integer:
        wanted = ["HIGHS", "SCIP", "GLPK_MI", "CBC"]
    for name in wanted:
        if name in installed:
            return name
    raise BackendUnavailableError(
        f"no cvxpy solver for this model is installed (wanted one of {wanted}): pip install highspy"
    )


def _solver_kwargs(name: str, opts: CvxpyOptions) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    if name == "HIGHS":
        kw = {
            "primal_feasibility_tolerance": opts.feasibility_tol,
            "dual_feasibility_tolerance": opts.feasibility_tol,
            "mip_rel_gap": opts.mip_rel_gap,
            "output_flag": bool(opts.verbose),
            "log_to_console": bool(opts.verbose),
        }
        if opts.time_limit is not None:
            kw["time_limit"] = float(opts.time_limit)
    elif name == "CLARABEL":
        kw = {"tol_feas": opts.feasibility_tol, "tol_gap_abs": opts.gap_tol}
        kw["tol_gap_rel"] = opts.gap_tol
        if opts.time_limit is not None:
            kw["time_limit"] = float(opts.time_limit)
    return {**kw, **opts.solver_options}


@functools.cache
def _highs_banner_written() -> None:
    """Let HiGHS write its once-per-process banner to the null device instead of stdout.

    cvxpy builds ``highspy.Highs()`` before it passes any option, and that constructor prints
    HiGHS's banner on the first instance of the process whatever ``output_flag`` says; HiGHS
    writes it once, to the console and the log file of the instance that first logs. A quiet
    instance logging only to ``os.devnull`` takes that turn, so later instances print nothing.
    """
    import highspy

    h = getattr(highspy, "_Highs", highspy.Highs)()
    h.setOptionValue("log_to_console", False)
    h.setOptionValue("log_file", os.devnull)
    h.setCallback(lambda *args: None, None)  # the first log: the banner, to the null device
    h.setCallback(None, None)


def _run(prob: Any, name: str, opts: CvxpyOptions) -> tuple[str, str]:
    import cvxpy as cp

    if name == "HIGHS" and not opts.verbose:
        _highs_banner_written()
    try:
        with warnings.catch_warnings():  # the status says it; cvxpy's advice is for its users
            warnings.filterwarnings("ignore", message="(?s).*infeasible or unbounded")
            prob.solve(solver=name, verbose=bool(opts.verbose), **_solver_kwargs(name, opts))
    except (TypeError, ValueError) as exc:  # a setting's value the solver refuses
        if not any(str(key) in str(exc) for key in opts.solver_options):
            raise
        msg = f"option 'solver_options' of solver 'cvxpy': cvxpy solver {name} refused it: {exc}"
        raise OptionError(msg) from None
    except cp.error.SolverError as exc:
        if "support" in str(exc):
            raise NotSupportedError(f"cvxpy solver {name}: {exc}") from exc
        return "solver_error", str(exc)
    return str(prob.status), f"cvxpy ({name}): {prob.status}"


def _mip_bound(prob: Any, sense: int) -> float:
    stats = getattr(prob.solver_stats, "extra_stats", None)
    bound = getattr(stats, "mip_dual_bound", None)
    own = getattr(stats, "objective_function_value", None)
    if bound is None or own is None or prob.value is None or not math.isfinite(float(bound)):
        return math.nan
    return sense * (float(bound) + float(prob.value) - float(own))


def _raw(prob: Any, z: Any, blocks: list[_Rows], m: int, status: str, msg: str) -> RawResult:
    st, term = _STATUS.get(status, (Status.NO_SOLUTION, Termination.UNKNOWN))
    if status == "solver_error":
        term = Termination.NUMERICAL_ERROR
    raw = RawResult(st, term, message=msg)
    if st in (Status.INFEASIBLE, Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED):
        return raw
    if z.value is not None:
        raw.x = np.asarray(z.value, dtype=float).ravel()
        if st == Status.NO_SOLUTION:
            raw.status = Status.FEASIBLE
        if not prob.is_mixed_integer():
            y = np.zeros(m)
            for b in blocks:
                b.add_duals(y)
            raw.y = y
    return raw


class CvxpySolver(Solver):
    """cvxpy: convex (DCP) LP, QP, QCQP and MILP with duals; the cvxpy solver is an option."""

    name = "cvxpy"
    family = "backend"
    description = "cvxpy: DCP-checked convex models (LP, QP, QCQP, MILP) with duals"
    Options = CvxpyOptions

    def available(self) -> str | None:
        if importlib.util.find_spec("cvxpy") is None:
            return "cvxpy is not installed: pip install cvxpy"
        return None

    def check(self, problem: Problem) -> str | None:
        m = problem.model
        if m.degree > 2:
            return "cvxpy takes affine and quadratic expressions only (no general nonlinear ones)"
        return None

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        assert isinstance(options, CvxpyOptions)
        t0 = time.perf_counter()
        model = problem.model
        prob, z, blocks, sf = build_problem(model)
        name = _solver_name(model, sf, options)
        status, msg = _run(prob, name, options)
        m = sf.m if sf is not None else model.m
        raw = _raw(prob, z, blocks, m, status, msg)
        raw.info = {"cvxpy_solver": name}
        if model.is_integer:
            raw.bound = _mip_bound(prob, model.sense_sign)
        return solution_from_raw(model, sf, raw, solver=self.name, tol=options.tolerance, t0=t0)
