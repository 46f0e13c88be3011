r"""The blocks of ADMM on separable models, and the multipliers of the groups they keep.

An ADMM block is a set of variable blocks of the model (see :mod:`ortools_lag.solvers.dual.admm`);
its subproblem, all other blocks fixed, is the QP

.. math::

    \min_{x_j}\; \tfrac12 x_j^T (Q_{jj} + \rho A_j^T A_j) x_j + g_j^T x_j
    \quad\text{s.t. the kept rows of block } j \text{ and the bounds},

solved coordinatewise where nothing couples a column, by one sparse factorisation where no row
or bound does, and by HiGHS on its connected components otherwise (through the executor, the
models cached by :mod:`ortools_lag.parallel`). A block whose subproblem is unbounded (an LP
block whose columns the relaxed rows do not all reach, a singular ``H``: Klee–Minty, a free
column with a linear cost) gets the proximal term ``tau/2 |x_j - x_j^old|^2`` (``tau = rho``
times the mean diagonal of ``A_j^T A_j``, at least ``rho``) from then on: its subproblem is
then strongly convex and bounded, and the fixed points are those of ADMM (``x_j = x_j^old``);
:attr:`_Block.prox_reason` says why. A block whose kept rows are infeasible raises
:class:`KeptRowsInfeasible` (the solver then returns the model's certified status).
:func:`kept_multipliers` recovers the multipliers of the kept groups at the end (bounded least
squares on stationarity), so that the Solution carries every group's multiplier and a complete
KKT certificate.

>>> from ortools_lag import Model
>>> m = Model(); v = m.var("v", 2, lb=None); m.minimize((v * v).sum())
>>> _ = m.add("floor", v[0] >= 1)
>>> round(float(kept_multipliers(m, {"v": np.array([1.0, 0.0])}, {}, ["floor"])["floor"]), 9)
2.0
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ortools_lag import kkt
from ortools_lag.errors import ModelError, NotSupportedError
from ortools_lag.model import to_standard_form
from ortools_lag.model.convexity import convexity_gap
from ortools_lag.parallel import BlockSpec, decompose, run_blocks
from ortools_lag.result import Solution, Status, Termination

if TYPE_CHECKING:
    from ortools_lag.lagrangian import Lagrangian
    from ortools_lag.model import Model

__all__ = [
    "QP_OPTIONS",
    "BlockFailure",
    "KeptRowsInfeasible",
    "Split",
    "kept_multipliers",
    "no_block_step",
    "with_kept_multipliers",
]


#: HiGHS options of the blocks' QPs (tight: the ADMM fixed point is only as exact as they are)
QP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


class BlockFailure(NotSupportedError):
    """An ADMM block's subproblem cannot be solved: the run stops and the solver says why."""


class KeptRowsInfeasible(BlockFailure):
    """The kept rows and bounds of an ADMM block have no point (so neither has the model)."""


class _Unbounded(BlockFailure):
    """A block's subproblem has no minimiser without a proximal term."""


class _Block:
    """One ADMM block: its columns, its kept rows, and the solve of its subproblem
    ``min x^T H x / 2 + g^T x`` over the kept rows and bounds, ``H = Q_jj + rho A_j^T A_j``:
    coordinatewise where nothing couples a column, by one sparse factorisation where no row or
    bound does, by HiGHS on the connected components otherwise (through the executor)."""

    def __init__(self, cols: np.ndarray, split: Split, index: int) -> None:
        self.cols, self.index = cols, index
        self.A = sp.csc_matrix(split.A[:, cols])
        self.Q = sp.csr_matrix(split.Q[cols][:, cols])
        self.Q_rows = sp.csr_matrix(split.Q[cols])
        rows = split.kept_rows_of(cols)
        self.K = sp.csr_matrix(split.K[rows][:, cols])
        self.k_lo, self.k_hi = split.k_lo[rows], split.k_hi[rows]
        self.lb, self.ub = split.lag.lb[cols], split.lag.ub[cols]
        self.token = f"{split.lag.token}-admm{index}"
        self.rho = self.rho0 = math.nan
        self.free = self.direct = np.zeros(0, dtype=int)
        self.specs: list[BlockSpec] | None = None
        self.H: sp.csc_matrix = sp.csc_matrix((cols.size, cols.size))
        self.factor: Any = None
        #: the proximal weight per unit of ``rho`` (0: none) and why it was switched on
        self.prox, self.prox_reason = 0.0, ""
        self._args: tuple[int, dict[str, Any]] = (256, {})

    @property
    def tau(self) -> float:
        """The proximal weight ``tau`` of the current subproblem (0: plain ADMM)."""
        return self.prox * self.rho if self.prox else 0.0

    def _switch_prox(self, why: str) -> None:
        if self.prox:
            raise _Unbounded(f"ADMM block {self.index}: {why}, even with a proximal term")
        AtA = (self.A.T @ self.A).diagonal() if self.A.shape[0] else np.zeros(0)
        self.prox = max(1.0, float(np.mean(AtA)) if AtA.size else 1.0)
        self.prox_reason = f"block {self.index}: {why}; proximal term added"
        rho, self.rho = self.rho, math.nan
        self.prepare(rho, *self._args)

    def prepare(self, rho: float, max_blocks: int, options: dict[str, Any]) -> None:
        """Build (first call) or refresh (new ``rho``) the solve of the subproblem."""
        self._args = (max_blocks, options)
        tau = self.prox * rho
        self.H = sp.csc_matrix(self.Q + rho * (self.A.T @ self.A))
        if tau:
            self.H = sp.csc_matrix(self.H + tau * sp.identity(self.cols.size))
        if self.specs is None:
            absH = abs(self.H)
            off = sp.csr_matrix(absH - sp.diags(absH.diagonal()))
            off.eliminate_zeros()
            free, specs, bad = decompose(
                self.K,
                self.k_lo,
                self.k_hi,
                off,
                lb=self.lb,
                ub=self.ub,
                integer=np.zeros(self.cols.size, dtype=bool),
                Q=self.H,
                token=self.token,
                max_blocks=max_blocks,
                options=options,
            )
            if bad:
                raise KeptRowsInfeasible(f"ADMM block {self.index}: its kept rows are infeasible")
            plain = [s.A.shape[0] == 0 and not np.isfinite(np.r_[s.lb, s.ub]).any() for s in specs]
            parts = [s.cols for s, p in zip(specs, plain) if p]
            self.direct = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=int)
            self.specs = [s for s, p in zip(specs, plain) if not p]
            self.free, self.rho0 = free, rho
        self.rho = rho
        if self.direct.size:
            try:
                self.factor = spla.factorized(sp.csc_matrix(self.H[self.direct][:, self.direct]))
            except RuntimeError:
                self._switch_prox("its subproblem is unbounded (singular Hessian)")

    def solve(self, g: np.ndarray, x_old: np.ndarray, executor: Any) -> np.ndarray:
        """The block's minimiser for the linear term ``g`` (local columns), with the proximal
        term when the plain subproblem has none."""
        try:
            return self._solve(g - self.tau * x_old, x_old, executor)
        except _Unbounded as exc:
            self._switch_prox(str(exc))
        return self._solve(g - self.tau * x_old, x_old, executor)

    def _solve(self, g: np.ndarray, x_old: np.ndarray, executor: Any) -> np.ndarray:
        x = x_old.copy()
        if self.free.size:
            x[self.free] = _coordinatewise(
                g[self.free], self.H.diagonal()[self.free], self.lb[self.free], self.ub[self.free]
            )
        if self.direct.size:
            x[self.direct] = self.factor(-g[self.direct])
        if self.specs:
            # cached HiGHS models hold the first Hessian
            fresh = self.rho != self.rho0 or self.prox > 0
            hess = [sp.csc_matrix(self.H[s.cols][:, s.cols]) if fresh else None for s in self.specs]
            results = run_blocks(executor, self.specs, [g[s.cols] for s in self.specs], hess)
            for s, r in zip(self.specs, results):
                if r.status == "infeasible":
                    raise KeptRowsInfeasible(
                        f"ADMM block {self.index}: its kept rows are infeasible"
                    )
                if r.status != "optimal":
                    raise _Unbounded(f"its subproblem has no minimiser (HiGHS says {r.status})")
                x[s.cols] = r.x
        return x


def _coordinatewise(g: np.ndarray, h: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> np.ndarray:
    """``argmin h x^2 / 2 + g x`` over ``[lb, ub]`` per coordinate (``h >= 0``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        quad = np.clip(-g / np.where(h > 0, h, 1.0), lb, ub)
    lin = np.where(g > 0, lb, np.where(g < 0, ub, np.clip(0.0, lb, ub)))
    x = np.where(h > 0, quad, lin)
    if not np.all(np.isfinite(x)):
        raise _Unbounded("a free column has a linear cost (its subproblem is unbounded)")
    return x


class Split:
    """The relaxed rows, the objective and the kept rows of a Lagrangian, cut into ADMM blocks."""

    def __init__(self, lag: Lagrangian, blocks: list[list[str]] | None) -> None:
        self.lag, m, n = lag, lag.model, lag.model.n
        self.A = sp.csr_matrix(lag.A_R)
        self.Q = sp.csr_matrix(lag.Q) if lag.Q is not None else sp.csr_matrix((n, n))
        parts = [m.groups[k] for k in lag.kept]
        if parts:
            self.K = sp.csr_matrix(sp.vstack([g.body.jacobian(np.zeros(n), n) for g in parts]))
            bounds = [g.bounds_without_constant() for g in parts]
            self.k_lo = np.concatenate([b[0] for b in bounds])
            self.k_hi = np.concatenate([b[1] for b in bounds])
        else:
            self.K, self.k_lo, self.k_hi = sp.csr_matrix((0, n)), np.zeros(0), np.zeros(0)
        names = _blocks(m, lag.kept, blocks)
        self.names = names
        var = m.variables
        cols = [
            np.concatenate([np.arange(var[v].offset, var[v].offset + var[v].size) for v in b])
            for b in names
        ]
        self.blocks = [_Block(c, self, j) for j, c in enumerate(cols)]

    def kept_rows_of(self, cols: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.lag.model.n, dtype=bool)
        mask[cols] = True
        K = sp.csr_matrix(self.K)
        inside = np.asarray(abs(K) @ mask.astype(float)).ravel()
        return np.flatnonzero(inside > 0)


def _blocks(model: Model, kept: tuple[str, ...], given: list[list[str]] | None) -> list[list[str]]:
    """ADMM blocks by variable name: the given ones (unknown names raise), then each remaining
    variable block, merged with those a kept group ties it to."""
    names = list(model.variables)
    if given is not None:
        flat = [v for b in given for v in b]
        bad = [v for v in flat if v not in model.variables]
        if bad or len(set(flat)) != len(flat):
            raise ModelError(
                f"blocks: unknown or repeated variables {bad or flat} "
                f"(valid choices: {', '.join(names)})"
            )
        out = [list(b) for b in given if b] + [[v] for v in names if v not in flat]
    else:
        parent = {v: v for v in names}

        def find(v: str) -> str:
            while parent[v] != v:
                v = parent[v]
            return v

        for g in kept:
            vs = [v.name for v in model.groups[g].body.variables()]
            for v in vs[1:]:
                parent[find(v)] = find(vs[0])
        roots: dict[str, list[str]] = {}
        for v in names:
            roots.setdefault(find(v), []).append(v)
        out = list(roots.values())
    where = {v: j for j, b in enumerate(out) for v in b}
    for g in kept:
        touched = {where[v.name] for v in model.groups[g].body.variables()}
        if len(touched) > 1:
            raise NotSupportedError(
                f"kept group {g!r} ties ADMM blocks {sorted(touched)}: relax it or merge the blocks"
            )
    return out


def no_block_step(model: Model, exc: BlockFailure, tol: float, seconds: float) -> Solution:
    """The Solution when an ADMM block cannot be solved: for a model with a standard form, the
    certified status of :func:`~ortools_lag.solvers.backends.rays.settle` (infeasible with a
    Farkas ray, unbounded with a direction, else ``infeasible_or_unbounded`` with the reason),
    otherwise ``no_solution`` with ``exc``'s reason."""
    from ortools_lag.solvers.backend import RawResult, finish
    from ortools_lag.solvers.backends.rays import settle

    claim = Status.INFEASIBLE if isinstance(exc, KeptRowsInfeasible) else Status.UNBOUNDED
    raw = RawResult(claim, Termination.CONVERGED, message=f"admm: {exc}")
    if model.has_linear_constraints and model.objective.degree <= 2:
        sf = to_standard_form(model)
        raw = settle(model, sf, raw, tol)
        if raw.status != Status.FEASIBLE:
            return finish(model, sf, raw, solver="admm", seconds=seconds, tol=tol)
    return Solution(Status.NO_SOLUTION, Termination.NUMERICAL_ERROR, solver="admm",
                    seconds=seconds, message=f"admm: {exc}")  # fmt: skip


def with_kept_multipliers(model: Model, sol: Solution, tol: float) -> Solution:
    """Add the kept groups' multipliers (recovered from stationarity) and certify again: the
    status is ``optimal`` with a closed gap and a certificate, ``feasible`` with a feasible point,
    else ``no_solution``."""
    if not sol.x:
        return sol
    relaxed = set(sol.info.get("relax", ()))
    kept = [g for g in model.groups if g not in relaxed]
    lam = {**dict(sol.multipliers), **kept_multipliers(model, dict(sol.x), sol.multipliers, kept)}
    rep = kkt.certify(model, dict(sol.x), lam, tol=tol)
    closed = math.isfinite(sol.gap) and sol.gap <= tol * max(1.0, abs(sol.objective))
    bound, gap = sol.bound, sol.gap
    if rep.certified and not closed and convexity_gap(model) is None:
        # a KKT point of a convex model: the Lagrangian value of its multipliers is the bound
        bound, closed = rep.dual_objective, True
        gap = model.sense_sign * (sol.objective - bound)
    if rep.certified and closed:
        status = Status.OPTIMAL
    else:
        status = Status.FEASIBLE if rep.primal_residual <= tol else Status.NO_SOLUTION
    note = "" if rep.certified else f"; certificate: {'; '.join(rep.notes)}"
    message = sol.message.split("; certificate:")[0] + note
    return replace(
        sol,
        status=status,
        bound=bound,
        gap=gap,
        multipliers=lam,
        shadow_prices=kkt.shadow_prices(model, lam),
        kkt=rep,
        message=message,
    )


def kept_multipliers(
    model: Model, x: dict[str, Any], lam: Any, kept: list[str], tol: float = 1e-6
) -> dict[str, np.ndarray]:
    """Multipliers of the ``kept`` groups at ``x``, given those of the others (``lam``): bounded
    least squares on the stationarity residual ``grad f + J^T y`` over the active kept rows
    (signs by side: ``y >= 0`` at an upper bound, ``<= 0`` at a lower one, free on equalities)
    and the active variable bounds; inactive rows get zero.
    """
    from scipy.optimize import lsq_linear

    if not kept:
        return {}
    n, z = model.n, model.join(dict(x))
    r0 = model.sense_sign * np.asarray(model.objective.jacobian(z, n).todense()).ravel()
    for g in model.groups:
        if g not in kept and g in lam:
            y = model.groups[g].sign * np.asarray(lam[g], dtype=float).ravel()
            r0 = r0 + model.groups[g].body.jacobian(z, n).T @ y
    cols, lows, highs, where = [], [], [], []
    for g in kept:
        c = model.groups[g]
        v = c.body.value(z)
        slack = tol * (1.0 + np.abs(v))
        up = np.isfinite(c.hi) & (v >= c.hi - slack)
        down = np.isfinite(c.lo) & (v <= c.lo + slack)
        act = np.flatnonzero(up | down)
        cols.append(c.body.jacobian(z, n)[act].T)
        lows.append(np.where(down[act], -np.inf, 0.0))
        highs.append(np.where(up[act], np.inf, 0.0))
        where.append((g, act))
    lb, ub = model.lower_bounds(), model.upper_bounds()
    with np.errstate(invalid="ignore"):
        at_lb = np.flatnonzero(np.isfinite(lb) & (z <= lb + tol * (1.0 + np.abs(lb))))
        at_ub = np.flatnonzero(np.isfinite(ub) & (z >= ub - tol * (1.0 + np.abs(ub))))
    eye = sp.identity(n, format="csc")
    M = sp.hstack([*cols, -eye[:, at_lb], eye[:, at_ub]], format="csc")
    lo = np.concatenate([*lows, np.zeros(at_lb.size + at_ub.size)])
    hi = np.concatenate([*highs, np.full(at_lb.size + at_ub.size, np.inf)])
    u = np.zeros(M.shape[1])
    if M.shape[1]:
        dense = M.shape[1] * n <= 4_000_000
        A = M.toarray() if dense else M
        u = lsq_linear(A, -r0, bounds=(lo, hi), method="bvls" if dense else "trf", tol=1e-14).x
    out, start = {}, 0
    for g, act in where:
        c = model.groups[g]
        y = np.zeros(c.size)
        y[act] = u[start : start + act.size]
        start += act.size
        out[g] = (c.sign * y).reshape(c.shape)
    return out
