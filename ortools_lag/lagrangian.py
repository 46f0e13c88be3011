"""The Lagrangian of a model with chosen constraint groups relaxed, and its dual function.

For a minimisation ``min f(x) s.t. x in X`` (``X``: the kept groups, bounds and domains) with
relaxed groups held as ``c(x) <= 0`` (inequalities) or ``c(x) == 0`` (equalities),

    L(x, lam) = f(x) + sum_g lam_g . c_g(x),     q(lam) = min_{x in X} L(x, lam) <= f*,

where ``c_g = sign_g * (body_g - bound_g)`` as in :class:`~ortools_lag.model.Constraint`:
``lam >= 0`` on inequality groups (``<=`` and ``>=``), free on equalities; a two-sided group
carries one signed multiplier per row, ``mu_upper - mu_lower``. ``lam_g`` is the price of
violating group ``g`` by one unit, and ``q`` is concave: the relaxed constraints' values
``c(x_lam)`` at a minimiser are a supergradient ("the subgradient"). A maximisation is the
minimisation of ``-f``: its Lagrangian is ``f - lam . c`` and ``q`` is then an upper bound.
Everything user-facing here (``value``, ``dual_value``) is in the user's sense; the dual methods
work with :meth:`Lagrangian.evaluate` in the minimisation sense.

The inner problem is solved three ways: a structured ``oracle`` when one is given; in closed
form for variables that no kept row touches (a vectorised sign test, or the clipped stationary
point of a diagonal quadratic); and otherwise by HiGHS on the kept rows, decomposed into the
connected components of the variable-constraint graph, each block built once and re-solved with
only its costs changed (through an executor, see :mod:`ortools_lag.parallel`); the pieces of
that inner solve are in :mod:`ortools_lag.lagrangian_inner`. The independent
re-evaluation of a bound by HiGHS is a solver's work:
:func:`ortools_lag.solvers.bound_certificate.certify_bound`.

>>> from ortools_lag import Model
>>> m = Model(); x = m.var("x", 2, ub=1)
>>> m.minimize(-x[0] - 2 * x[1]); _ = m.add("cap", x.sum() <= 1)
>>> lag = Lagrangian(m, relax=["cap"])
>>> q, xs, g = lag.dual_value({"cap": 1.5})
>>> round(q, 9), xs["x"].tolist(), g["cap"].tolist()
(-2.0, [0.0, 1.0], 0.0)
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ortools_lag import kkt
from ortools_lag.errors import ModelError, NotSupportedError
from ortools_lag.lagrangian_inner import (
    BLOCK_OPTIONS,
    closed_form_box,
    hessian_pattern,
    kept_rows,
    worst_status,
)
from ortools_lag.model import AffineExpr, Model, QuadExpr, StandardForm, to_standard_form
from ortools_lag.parallel import decompose, make_executor, release_blocks, run_blocks
from ortools_lag.problem import Heuristic, Oracle, Problem

if TYPE_CHECKING:
    from ortools_lag.parallel import BlockSpec, Executor

__all__ = ["BLOCK_OPTIONS", "DualPoint", "Lagrangian", "relaxed_group_names"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DualPoint:
    """One evaluation of the dual function, in the minimisation sense.

    Attributes
    ----------
    lam
        The (projected) multipliers, flat in group order.
    value
        ``L(x, lam)`` recomputed at the returned minimiser (``-inf`` if unbounded).
    lower
        A proven lower bound on ``q(lam)`` (``<= value``; a MIP block's dual bound).
    x
        The minimiser as a global vector.
    subgradient
        Flat supergradient of ``q`` at ``lam``: the relaxed constraints' values ``c(x)``.
    violation, max_violation
        Euclidean and largest norm of the relaxed rows' violation at ``x``.
    status
        ``"optimal"``, ``"unbounded"`` or ``"infeasible"`` (the kept constraints).
    seconds
        Time spent in the inner solve.
    """

    lam: np.ndarray
    value: float
    lower: float
    x: np.ndarray
    subgradient: np.ndarray
    violation: float
    max_violation: float
    status: str
    seconds: float


def relaxed_group_names(model: Model, relax: Iterable[str] | str) -> tuple[str, ...]:
    """The relaxed groups in model order (unknown or repeated names raise ``ModelError``).

    An entry with ``*``, ``?`` or ``[`` is an ``fnmatch`` pattern: it selects every group whose
    name matches, and every group whose row labels (``model.group_labels``, the row names of an
    imported file) all match, so ``"cap_*"`` names the group ``cap`` of rows ``cap_1 .. cap_n``.
    A pattern that selects no group, or matches only some rows of a group (relaxation moves
    whole groups), raises ``ModelError``.

    >>> from ortools_lag import Model
    >>> m = Model(); x = m.var("x", 2); _ = m.add("a", x[0] <= 1); _ = m.add("b", x[1] <= 1)
    >>> relaxed_group_names(m, ["b", "a"]), relaxed_group_names(m, "*")
    (('a', 'b'), ('a', 'b'))
    """
    names = (relax,) if isinstance(relax, str) else tuple(relax)
    pats = [g for g in names if any(ch in g for ch in "*?[")]
    bad = [g for g in names if g not in model.groups and g not in pats]
    if bad:
        raise ModelError(
            f"cannot relax unknown group(s) {bad} (valid choices: {', '.join(model.groups)})"
        )
    if len(set(names)) != len(names):
        raise ModelError(f"a group is named twice in relax={list(names)}")
    chosen = {g for g in names if g in model.groups}
    for pat in pats:
        hits = {g for g in model.groups if fnmatchcase(g, pat)}
        for g, labels in model.group_labels.items():
            match = [fnmatchcase(str(r), pat) for r in labels]
            if g not in hits and all(match) and match:
                hits.add(g)
            elif g not in hits and any(match):
                raise ModelError(
                    f"relax pattern {pat!r} matches only some rows of group {g!r} "
                    f"({sum(match)} of {len(match)}); a relaxation moves whole groups: "
                    "import the file with groups={...} to split it"
                )
        if not hits:
            raise ModelError(
                f"relax pattern {pat!r} matches no group nor all rows of one "
                f"(valid choices: {', '.join(model.groups)})"
            )
        chosen |= hits
    return tuple(g for g in model.groups if g in chosen)  # model order


def _resolve(obj: Model | Problem, relax: Any, oracle: Any, heuristic: Any) -> tuple:
    """The model, relaxed groups, oracle and heuristic (a Problem's plan fills what is missing:
    its default plan when ``relax`` is None, else a plan relaxing the same groups)."""
    if isinstance(obj, Problem):
        if relax is None:
            rel = obj.relaxation()
            return obj.model, rel.relax, oracle or rel.oracle, heuristic or rel.heuristic
        names = set(relaxed_group_names(obj.model, relax))
        for rel in obj.relaxations.values():
            if set(rel.relax) == names:
                return obj.model, relax, oracle or rel.oracle, heuristic or rel.heuristic
        return obj.model, relax, oracle, heuristic
    if isinstance(obj, Model):
        if relax is None:
            raise ModelError("pass relax=[group, ...] to relax groups of a plain Model")
        return obj, relax, oracle, heuristic
    raise ModelError(f"expected a Model or a Problem, got {type(obj).__name__}")


class Lagrangian:
    """The Lagrangian of ``model`` with the groups ``relax`` moved into the objective.

    Parameters
    ----------
    model
        A :class:`~ortools_lag.model.Model`, or a :class:`~ortools_lag.problem.Problem` (then
        ``relax`` defaults to its default relaxation, with that plan's oracle and heuristic).
    relax
        Names of the relaxed groups.
    oracle
        ``oracle(lam_by_group) -> (x_by_name, value)``: a minimiser of ``L`` over the kept
        constraints (the value is recomputed here from ``x``; a disagreement is logged).
    heuristic
        ``heuristic(x_by_name) -> x_by_name | None``: a feasible point from a relaxed one.
    executor
        Where the HiGHS blocks run (see :func:`~ortools_lag.parallel.make_executor`).
    max_blocks
        Components beyond this many are merged into this many HiGHS models.
    block_options
        HiGHS options of the blocks (over :data:`BLOCK_OPTIONS` for MIP blocks).

    Examples
    --------
    >>> from ortools_lag import Model
    >>> m = Model(); x = m.var("x", 2, lb=None)
    >>> m.minimize((x * x).sum()); _ = m.add("sum", x.sum() == 1)
    >>> lag = Lagrangian(m, relax="sum")
    >>> round(lag.dual_value({"sum": -1.0})[0], 12)
    0.5
    """

    def __init__(
        self,
        model: Model | Problem,
        relax: Iterable[str] | str | None = None,
        oracle: Oracle | None = None,
        *,
        heuristic: Heuristic | None = None,
        executor: Any = None,
        workers: int | None = None,
        scheduler: str | None = None,
        max_blocks: int = 256,
        block_options: Mapping[str, Any] | None = None,
    ) -> None:
        m, relax, self.oracle, self.heuristic = _resolve(model, relax, oracle, heuristic)
        self.model: Model = m
        self.relax = relaxed_group_names(m, relax)
        self.token = uuid.uuid4().hex
        self.max_blocks = int(max_blocks)
        self.block_options = dict(block_options or {})
        self._executor_spec = (executor, workers, scheduler)
        self._executor: Executor | None = None
        self._owns_executor = False
        self._blocks: list[BlockSpec] | None = None
        self._checks_left = 5
        self._setup_groups()
        self._setup_objective()

    # -- set-up ----------------------------------------------------------------------------
    def _setup_groups(self) -> None:
        m, n = self.model, self.model.n
        sl, start, signs, los, his, mats, e0s = {}, 0, [], [], [], [], []
        self.quadratic_groups = []
        self.nonlinear_groups = []
        for name in self.relax:
            g = m.groups[name]
            sl[name] = slice(start, start + g.size)
            start += g.size
            signs.append(np.full(g.size, float(g.sign)))
            los.append(g.lo)
            his.append(g.hi)
            if isinstance(g.body, (AffineExpr, QuadExpr)):
                z0 = np.zeros(n)
                e0s.append(g.body.value(z0))
                mats.append(g.body.jacobian(z0, n))
                if g.body.degree == 2:
                    self.quadratic_groups.append(name)
            else:
                self.nonlinear_groups.append(name)
                e0s.append(np.zeros(g.size))
                mats.append(sp.csr_matrix((g.size, n)))
        self.slices: dict[str, slice] = sl
        self.size = start
        cat = np.concatenate
        self.row_sign = cat(signs) if signs else np.zeros(0)
        self.row_lo = cat(los) if los else np.zeros(0)
        self.row_hi = cat(his) if his else np.zeros(0)
        self.A_R = sp.csr_matrix(sp.vstack(mats)) if mats else sp.csr_matrix((0, n))
        self.e0 = cat(e0s) if e0s else np.zeros(0)
        # y = sign * lam; y >= 0 where only the upper side exists, <= 0 where only the lower
        fin_lo, fin_hi = np.isfinite(self.row_lo), np.isfinite(self.row_hi)
        self._lo0 = np.where(fin_lo, self.row_lo, 0.0)  # finite copies for dot products
        self._hi0 = np.where(fin_hi, self.row_hi, 0.0)
        # where the supergradient is anchored at y = 0: clip(e, lo, hi) on two-sided rows, the one
        # finite side on one-sided rows (the multiplier can move one way only)
        self._clip_lo = np.where(fin_lo, self.row_lo, np.where(fin_hi, self.row_hi, -np.inf))
        self._clip_hi = np.where(fin_hi, self.row_hi, np.where(fin_lo, self.row_lo, np.inf))
        y_lo = np.where(fin_lo, -np.inf, 0.0)
        y_hi = np.where(fin_hi, np.inf, 0.0)
        self.lam_lo = np.where(self.row_sign > 0, y_lo, -y_hi)
        self.lam_hi = np.where(self.row_sign > 0, y_hi, -y_lo)
        self.kept = tuple(g for g in m.groups if g not in self.relax)

    def _setup_objective(self) -> None:
        m, n = self.model, self.model.n
        self.sense = m.sense_sign
        obj = m.objective
        self.lb, self.ub = m.lower_bounds(), m.upper_bounds()
        self.integer = m.integrality()
        self.lb = np.where(self.integer, np.ceil(self.lb - 1e-9), self.lb)
        self.ub = np.where(self.integer, np.floor(self.ub + 1e-9), self.ub)
        self.objective_ok = isinstance(obj, (AffineExpr, QuadExpr))
        z0 = np.zeros(n)
        if self.objective_ok:
            self.c = self.sense * np.asarray(obj.jacobian(z0, n).todense()).ravel()
            self.offset = self.sense * float(obj.value(z0)[0])
            Q = obj.hessian(np.ones(1), n) if isinstance(obj, QuadExpr) else None
            self.Q = sp.csc_matrix(self.sense * Q) if Q is not None and Q.nnz else None
        else:
            self.c, self.offset, self.Q = np.zeros(n), 0.0, None
        self._sf: StandardForm | None = None
        if m.has_linear_constraints and self.objective_ok:
            self._sf = to_standard_form(m)

    def why_not(self) -> str | None:
        """``None`` when :meth:`evaluate` can solve the inner problem, else the reason."""
        if self.oracle is not None:
            return None
        if not self.objective_ok:
            return "the objective is not linear or quadratic: give an oracle"
        if self.nonlinear_groups:
            return f"relaxed groups {self.nonlinear_groups} are not quadratic: give an oracle"
        bad = [g for g in self.kept if self.model.groups[g].body.degree > 1]
        if bad:
            return f"kept groups {bad} are not affine: relax them or give an oracle"
        if self.integer.any() and (self.Q is not None or self.quadratic_groups):
            return "the inner problem would be a mixed-integer QP: give an oracle"
        return None

    # -- multipliers -----------------------------------------------------------------------
    def project(self, lam: np.ndarray) -> np.ndarray:
        """Project flat multipliers onto their signs (``lam >= 0`` on inequalities)."""
        return np.clip(np.asarray(lam, dtype=float), self.lam_lo, self.lam_hi)

    def split(self, lam: np.ndarray) -> dict[str, np.ndarray]:
        """Flat multipliers to arrays by group name, in the groups' shapes."""
        return {
            k: np.asarray(lam[s]).reshape(self.model.groups[k].shape)
            for k, s in self.slices.items()
        }

    def join(self, lam: Mapping[str, Any] | np.ndarray | None) -> np.ndarray:
        """Multipliers by group name (missing groups are zero) to a flat vector."""
        if lam is None:
            return np.zeros(self.size)
        if isinstance(lam, np.ndarray) and lam.ndim == 1 and lam.shape[0] == self.size:
            return lam.astype(float)
        out = np.zeros(self.size)
        for k, s in self.slices.items():
            if k in lam and lam[k] is not None:  # type: ignore[index]
                try:
                    out[s] = np.broadcast_to(
                        np.asarray(lam[k], dtype=float),  # type: ignore[index]
                        self.model.groups[k].shape,
                    ).ravel()
                except ValueError as exc:
                    raise ModelError(f"multipliers of {k!r} do not fit its shape") from exc
        return out

    # -- values ----------------------------------------------------------------------------
    def relaxed_values(self, z: np.ndarray) -> np.ndarray:
        """Body values of the relaxed rows at the global vector ``z``."""
        if not self.quadratic_groups and not self.nonlinear_groups:
            return np.asarray(self.A_R @ z) + self.e0
        parts = [self.model.groups[k].body.value(z) for k in self.relax]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _y_const(self, y: np.ndarray) -> float:
        """The constant ``-sum(y+ hi) + sum(y- lo)`` of the relaxed part (``y+`` only where
        ``hi`` is finite, ``y-`` only where ``lo`` is: the signs of projected multipliers)."""
        return -float(np.maximum(y, 0.0) @ self._hi0) - float(np.minimum(y, 0.0) @ self._lo0)

    def objective_min(self, z: np.ndarray) -> float:
        """The minimisation-sense objective ``sense * f(z)``."""
        if not self.objective_ok:
            return self.sense * self.model.objective_value(z)
        val = float(self.c @ z) + self.offset
        if self.Q is not None:
            val += 0.5 * float(z @ (self.Q @ z))
        return val

    def _lagrangian_min(self, z: np.ndarray, lam: np.ndarray, e: np.ndarray) -> float:
        y = self.row_sign * lam
        return self.objective_min(z) + float(y @ e) + self._y_const(y)

    def subgradient(self, e: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """Supergradient of ``q`` at ``lam`` from the relaxed rows' values ``e`` at a minimiser:
        ``sign * (e - hi)`` where ``y > 0``, ``sign * (e - lo)`` where ``y < 0`` and, at
        ``y = 0``, the element of ``[e - hi, e - lo]`` nearest zero (one-sided rows: their side)."""
        y = self.row_sign * lam
        at0 = np.clip(e, self._clip_lo, self._clip_hi)
        anchor = np.where(y > 0, self.row_hi, np.where(y < 0, self.row_lo, at0))
        return self.row_sign * (e - anchor)

    def violation(self, e: np.ndarray) -> np.ndarray:
        """Violation of the relaxed rows (positive above ``hi``, negative below ``lo``)."""
        return e - np.clip(e, self.row_lo, self.row_hi)

    def value(
        self, x: Mapping[str, Any] | np.ndarray, lam: Mapping[str, Any] | np.ndarray
    ) -> float:
        """``L(x, lam)`` in the user's sense (``f - lam . c`` for a maximisation)."""
        z = x if isinstance(x, np.ndarray) and x.ndim == 1 else self.model.join(dict(x))
        lam_f = self.join(lam)  # type: ignore[arg-type]
        return self.sense * self._lagrangian_min(z, lam_f, self.relaxed_values(z))

    def dual_value(
        self, lam: Mapping[str, Any] | np.ndarray
    ) -> tuple[float, dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``(q(lam) in the user's sense, minimiser by variable, subgradient by group)``.

        The multipliers are projected onto their signs first.
        """
        pt = self.evaluate(self.join(lam))  # type: ignore[arg-type]
        return self.sense * pt.lower, self.model.split(pt.x), self.split(pt.subgradient)

    # -- the inner problem -----------------------------------------------------------------
    def evaluate(self, lam: np.ndarray) -> DualPoint:
        """Minimise the Lagrangian over the kept constraints at (projected) ``lam``."""
        lam = self.project(lam)
        t0 = time.perf_counter()
        if self.oracle is not None:
            z, lower_inner, status = self._call_oracle(lam)
        else:
            why = self.why_not()
            if why is not None:
                raise NotSupportedError(why)
            z, lower_inner, status = self._solve_inner(lam)
        secs = time.perf_counter() - t0
        e = self.relaxed_values(z)
        if status == "optimal":
            value = self._lagrangian_min(z, lam, e)
            lower = value if lower_inner is None else min(value, lower_inner)
        else:
            value = lower = math.inf if status == "infeasible" else -math.inf
        g = self.subgradient(e, lam)
        v = self.violation(e)
        vmax = float(np.max(np.abs(v), initial=0.0))
        return DualPoint(lam, value, lower, z, g, float(np.linalg.norm(v)), vmax, status, secs)

    def _call_oracle(self, lam: np.ndarray) -> tuple[np.ndarray, float | None, str]:
        assert self.oracle is not None
        xs, reported = self.oracle(self.split(lam))
        z = self._join_point(xs)
        if self._checks_left > 0:  # the oracle's value, compared on its first calls
            self._checks_left -= 1
            own = self._lagrangian_min(z, lam, self.relaxed_values(z))
            if not math.isclose(own, float(reported), rel_tol=1e-6, abs_tol=1e-6):
                log.warning(
                    "oracle value %.10g differs from L(x, lam) = %.10g recomputed from its "
                    "point (minimisation sense); the recomputed value is used",
                    reported,
                    own,
                )
                self._checks_left = 0
        return z, None, "optimal"

    def _join_point(self, xs: Mapping[str, Any]) -> np.ndarray:
        """An oracle's point as a global vector (the model's checked ``join`` on any mismatch)."""
        z = np.empty(self.model.n)
        try:
            for name, v in self.model.variables.items():
                z[v.offset : v.offset + v.size] = np.asarray(xs[name], dtype=float).reshape(-1)
        except (KeyError, ValueError):
            return self.model.join(dict(xs))
        return z

    def _cost(self, lam: np.ndarray) -> tuple[np.ndarray, float, sp.csc_matrix | None]:
        """Linear costs, constant and Hessian of ``L(., lam)`` (minimisation sense)."""
        y = self.row_sign * lam
        const = self._y_const(y) + self.offset + float(y @ self.e0)
        cost = self.c + self.A_R.T @ y
        H = self.Q
        if self.quadratic_groups:
            extra = sp.csr_matrix((self.model.n, self.model.n))
            for k in self.quadratic_groups:
                body = self.model.groups[k].body
                assert isinstance(body, QuadExpr)
                extra = extra + body.hessian(y[self.slices[k]], self.model.n)
            H = sp.csc_matrix(extra if H is None else H + extra)
        return np.asarray(cost), const, H

    def _solve_inner(self, lam: np.ndarray) -> tuple[np.ndarray, float | None, str]:
        cost, const, H = self._cost(lam)
        if self._blocks is None:
            self._decompose()
        z = np.zeros(self.model.n)
        if self._infeasible_rows:
            return z, None, "infeasible"
        F = self._free
        Hd = H.diagonal()[F] if H is not None else np.zeros(F.size)
        zf, vf, status = closed_form_box(cost[F], Hd, self.lb[F], self.ub[F], self.integer[F])
        z[F] = zf
        lower = const + vf
        if self._blocks:
            specs = self._blocks
            costs = [cost[s.cols] for s in specs]
            hess = [
                sp.csc_matrix(H[s.cols][:, s.cols])
                if H is not None and self.quadratic_groups
                else None
                for s in specs
            ]
            results = run_blocks(self.executor, specs, costs, hess)
            for s, r in zip(specs, results):
                z[s.cols] = r.x
            lower += sum(r.lower for r in results)
            status = worst_status(status, [r.status for r in results])
        return z, (lower if status == "optimal" else None), status

    @property
    def executor(self) -> Executor:
        """The executor of the blocks (made on first use)."""
        if self._executor is None:
            self._executor, self._owns_executor = make_executor(*self._executor_spec)
        return self._executor

    def close(self) -> None:
        """Release the executor (when made here) and this process's cached block models."""
        if self._executor is not None:
            self._executor.release(self.token)  # the blocks resident in its workers
            if self._owns_executor:
                self._executor.close()
        self._executor = None
        release_blocks(self.token)

    @property
    def n_blocks(self) -> int:
        """Number of HiGHS blocks (0 when every variable is solved in closed form)."""
        if self.oracle is not None:
            return 0
        if self._blocks is None:
            self._decompose()
        return len(self._blocks or [])

    @property
    def inner(self) -> str:
        """How the inner problem is solved, for reports."""
        if self.oracle is not None:
            return "oracle"
        nb = self.n_blocks
        return f"highs blocks ({nb})" if nb else "closed form"

    def _decompose(self) -> None:
        """Connected components of the kept rows (and Hessian couplings) -> HiGHS blocks."""
        A_K, lo_K, hi_K = kept_rows(self.model, self._sf, self.kept)
        opts = {**(BLOCK_OPTIONS if self.integer.any() else {}), **self.block_options}
        dec = decompose(
            A_K,
            lo_K,
            hi_K,
            hessian_pattern(self.model, self.Q, self.quadratic_groups),
            lb=self.lb,
            ub=self.ub,
            integer=self.integer,
            Q=self.Q,
            token=self.token,
            max_blocks=self.max_blocks,
            options=opts,
        )
        self._free, self._blocks, self._infeasible_rows = dec

    # -- points of the original problem ----------------------------------------------------
    @property
    def feasibility_scale(self) -> float:
        """The scale of relative violations, as in :mod:`ortools_lag.kkt`."""
        if not hasattr(self, "_feas_scale"):
            m = self.model
            rows = [m.groups[k].bounds_without_constant() for k in m.groups]
            rhs = max((kkt.finite_max(lo, hi) for lo, hi in rows), default=0.0)
            bnd = kkt.finite_max(m.lower_bounds(), m.upper_bounds())
            self._feas_scale = max(1.0 + rhs, 1.0 + bnd)
        return self._feas_scale

    def infeasibility(self, z: np.ndarray) -> tuple[float, float]:
        """Relative violation of every group and bound at ``z``, and the integrality violation
        (measured as :func:`ortools_lag.kkt.certify_feasible` does)."""
        if self._sf is None:
            rep = kkt.certify_feasible(self.model, z)
            return rep.primal_residual, rep.integrality
        sf = self._sf
        Az = sf.A @ z
        viol = max(_scaled_violation(Az, sf.row_lo, sf.row_hi), _scaled_violation(z, sf.lb, sf.ub))
        zi = z[sf.integrality]
        integ = float(np.max(np.abs(zi - np.round(zi)), initial=0.0))
        return viol, integ

    def __repr__(self) -> str:
        return (
            f"Lagrangian({self.model.name!r}, relax={list(self.relax)}, "
            f"{self.size} multipliers, inner={self.inner if self.why_not() is None else 'n/a'})"
        )


def _scaled_violation(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """``max(0, (lo - v) / (1 + |lo|), (v - hi) / (1 + |hi|))``: each row or bound on its own
    scale, as :func:`ortools_lag.kkt.certify` measures it."""
    with np.errstate(invalid="ignore"):
        below = np.where(np.isfinite(lo), (lo - v) / (1.0 + np.abs(lo)), 0.0)
        above = np.where(np.isfinite(hi), (v - hi) / (1.0 + np.abs(hi)), 0.0)
    return float(np.max(np.maximum(below, above), initial=0.0))
