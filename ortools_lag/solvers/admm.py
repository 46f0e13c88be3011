r"""The alternating direction method of multipliers (``admm``) on separable models.

The relaxed groups couple *blocks* of variables (by default: the groups that involve more than one
variable block are relaxed, and every variable block is an ADMM block, merged with those that
kept groups tie to it). For a minimisation with relaxed rows ``lo <= A x + e <= hi`` (signed
multipliers ``y``, ``lam = sign * y`` as in :class:`~ortools_lag.model.Constraint`) and slacks
``s``:

.. math::

    L_\rho(x, s, y) = f(x) + y^T (A x + e - s) + \tfrac{\rho}{2} \|A x + e - s\|^2,
    \qquad lo \le s \le hi.

One iteration minimises ``L_rho`` over each block ``x_j`` in turn (the others fixed: a QP over
the block's kept rows and bounds, solved in closed form, by a sparse factorisation, or by HiGHS
on the block's connected components through the executor), then ``s = clip(A x + e + y/rho,
lo, hi)`` and ``y += rho (A x + e - s)``. The primal residual is ``|A x + e - s|``, the dual
residual ``|rho A_j^T sum_{k > j} A_k dx_k|`` (Boyd et al. 2011, eq. 3.3 for more blocks); the
penalty follows residual balancing (``rho_rule="balance"``), a geometric schedule
(``"growth"``) or stays constant. Stop when ``r <= sqrt(m) tol + tol max(|Ax + e|, |s|)`` and
``s <= sqrt(n) tol + tol |A^T y|``. The bound is the dual function ``q(lam)`` (``-inf`` where the
relaxed problem is unbounded: then the status stays ``feasible`` even at a KKT point).

On an ``nn_training`` problem the blocks are the layers (see
:mod:`ortools_lag.solvers.fullspace`): weights by least squares, pre-activations and outputs per
sample, one multiplier step per sweep, on mini-batches when ``batch_size`` is given (the weights
then use the statistics of every batch, those of the other batches from their last visit), with
the primal/dual residual and violation history.

>>> import numpy as np
>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2, lb=None); z = m.var("z", lb=None)
>>> m.minimize(0.5 * ((x - np.array([1.0, 3.0])) * (x - np.array([1.0, 3.0]))).sum())
>>> _ = m.add("consensus", x - z == 0)
>>> sol = solve(m, "admm", tolerance=1e-9)
>>> round(float(sol.x["z"]), 6), sol.multipliers["consensus"].round(6).tolist()
(2.0, [-1.0, 1.0])
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from pydantic import Field

from .. import kkt
from ..errors import ModelError, NotSupportedError
from ..parallel import BlockSpec, decompose, run_blocks
from ..result import Solution, Status
from .dual_base import DualMethod, DualOptions, DualSolver, DualState
from .fullspace import Network, Trainer, blas_single_thread, finish, is_network, train, warm_point

if TYPE_CHECKING:
    from ..lagrangian import Lagrangian
    from ..model import Model
    from ..problem import Problem
    from ..result import KKTReport
    from .base import SolverOptions

__all__ = [
    "AdmmMethod",
    "AdmmOptions",
    "AdmmSolver",
    "AdmmState",
    "kept_multipliers",
    "train_admm",
]


class AdmmOptions(DualOptions):
    """Options of ``admm``.

    Attributes
    ----------
    rho
        Initial penalty (per sample on networks).
    rho_rule
        ``"balance"`` (multiply or divide by ``balance_factor`` when one residual exceeds
        ``balance_ratio`` times the other), ``"growth"`` (multiply by ``rho_growth`` every epoch
        after ``rho_warmup``), ``"constant"``, or ``"auto"`` (growth on networks, balance
        elsewhere); never beyond ``rho_max``.
    blocks
        ADMM blocks as lists of variable names, updated in this order (default: see the module).
    bound_every
        Evaluate the dual bound every this many iterations (0: never).
    batch_size, shards, seed, x0, point, weight_prox
        Networks: samples per mini-batch (``None``: full batch), shards per batch (default: the
        executor's workers), seed of the weights and batches, initial point by name, the point
        reported (``"forward"``: the exact forward pass of the weights; ``"iterate"``), and a
        proximal weight on the weight updates. ``max_iter`` counts epochs there.
    """

    max_iter: int = Field(default=1000, ge=1)
    rho: float = Field(default=1.0, gt=0)
    rho_rule: Literal["auto", "balance", "growth", "constant"] = "auto"
    rho_growth: float = Field(default=1.02, ge=1)
    rho_warmup: int = Field(default=20, ge=0)
    rho_max: float = Field(default=1e4, gt=0)
    balance_ratio: float = Field(default=10.0, gt=1)
    balance_factor: float = Field(default=2.0, gt=1)
    blocks: list[list[str]] | None = None
    bound_every: int = Field(default=10, ge=0)
    batch_size: int | None = Field(default=None, ge=1)
    shards: int | None = Field(default=None, ge=1)
    seed: int = 0
    x0: dict[str, Any] | None = None
    point: Literal["forward", "iterate"] = "forward"
    weight_prox: float = Field(default=0.0, ge=0)


@dataclass(frozen=True)
class AdmmState(DualState):
    """The dual state plus the iterate, the slacks, the penalty and both residuals."""

    x: np.ndarray | None = None
    s: np.ndarray | None = None
    rho: float = 1.0
    primal_residual: float = math.inf
    dual_residual: float = math.inf


def _default_relax(model: Model) -> tuple[str, ...]:
    """The groups that involve more than one variable block (all groups when none does)."""
    out = tuple(g for g, c in model.groups.items() if len({v.name for v in c.body.variables()}) > 1)
    return out or tuple(model.groups)


#: HiGHS options of the blocks' QPs (tight: the ADMM fixed point is only as exact as they are)
QP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


class _Block:
    """One ADMM block: its columns, its kept rows, and the solve of its subproblem
    ``min x^T H x / 2 + g^T x`` over the kept rows and bounds, ``H = Q_jj + rho A_j^T A_j``:
    coordinatewise where nothing couples a column, by one sparse factorisation where no row or
    bound does, by HiGHS on the connected components otherwise (through the executor)."""

    def __init__(self, cols: np.ndarray, split: _Split, index: int) -> None:
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

    def prepare(self, rho: float, max_blocks: int, options: dict[str, Any]) -> None:
        """Build (first call) or refresh (new ``rho``) the solve of the subproblem."""
        self.H = sp.csc_matrix(self.Q + rho * (self.A.T @ self.A))
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
                raise NotSupportedError(f"ADMM block {self.index}: its kept rows are infeasible")
            plain = [s.A.shape[0] == 0 and not np.isfinite(np.r_[s.lb, s.ub]).any() for s in specs]
            parts = [s.cols for s, p in zip(specs, plain) if p]
            self.direct = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=int)
            self.specs = [s for s, p in zip(specs, plain) if not p]
            self.free, self.rho0 = free, rho
        if self.direct.size:
            try:
                self.factor = spla.factorized(sp.csc_matrix(self.H[self.direct][:, self.direct]))
            except RuntimeError as exc:
                raise NotSupportedError(
                    f"ADMM block {self.index}: its subproblem is unbounded (singular Hessian)"
                ) from exc
        self.rho = rho

    def solve(self, g: np.ndarray, x_old: np.ndarray, executor: Any) -> np.ndarray:
        """The block's minimiser for the linear term ``g`` (local columns)."""
        x = x_old.copy()
        if self.free.size:
            x[self.free] = _coordinatewise(
                g[self.free], self.H.diagonal()[self.free], self.lb[self.free], self.ub[self.free]
            )
        if self.direct.size:
            x[self.direct] = self.factor(-g[self.direct])
        if self.specs:
            fresh = self.rho != self.rho0  # cached HiGHS models hold the first Hessian
            hess = [sp.csc_matrix(self.H[s.cols][:, s.cols]) if fresh else None for s in self.specs]
            results = run_blocks(executor, self.specs, [g[s.cols] for s in self.specs], hess)
            for s, r in zip(self.specs, results):
                if r.status != "optimal":
                    raise NotSupportedError(f"ADMM block {self.index}: HiGHS says {r.status}")
                x[s.cols] = r.x
        return x


def _coordinatewise(g: np.ndarray, h: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> np.ndarray:
    """``argmin h x^2 / 2 + g x`` over ``[lb, ub]`` per coordinate (``h >= 0``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        quad = np.clip(-g / np.where(h > 0, h, 1.0), lb, ub)
    lin = np.where(g > 0, lb, np.where(g < 0, ub, np.clip(0.0, lb, ub)))
    x = np.where(h > 0, quad, lin)
    if not np.all(np.isfinite(x)):
        raise NotSupportedError("an ADMM block is unbounded: a free column has a linear cost")
    return x


class _Split:
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
        cols = [
            np.concatenate(
                [np.arange(v.offset, v.offset + v.size) for v in map(m.variables.get, b)]
            )  # type: ignore[union-attr]
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


class AdmmMethod(DualMethod):
    """ADMM on the relaxed groups: block sweeps, the slack step and the multiplier step."""

    name = "admm"
    point_label = "ADMM iterate"
    stops_on_gap = False
    options: AdmmOptions

    def __init__(self, options: DualOptions) -> None:
        super().__init__(options)
        self._splits: dict[str, _Split] = {}

    def default_relax(self, model: Model) -> tuple[str, ...] | None:
        return _default_relax(model)

    def check(self, lagrangian: Lagrangian) -> str | None:
        lag = lagrangian
        if lag.model.is_integer:
            return "admm is for continuous models: the model has integer variables"
        if not lag.objective_ok:
            return "the objective is not linear or quadratic"
        if lag.nonlinear_groups or lag.quadratic_groups:
            return f"relaxed groups {lag.nonlinear_groups + lag.quadratic_groups} are not affine"
        bad = [g for g in lag.kept if lag.model.groups[g].body.degree > 1]
        if bad:
            return f"kept groups {bad} are not affine"
        try:
            self._split(lag)
        except (ModelError, NotSupportedError) as exc:
            return str(exc)
        return None

    def _split(self, lag: Lagrangian) -> _Split:
        if lag.token not in self._splits:
            self._splits[lag.token] = _Split(lag, self.options.blocks)
        return self._splits[lag.token]

    def _prepare(self, lag: Lagrangian, rho: float) -> _Split:
        split = self._split(lag)
        opts = {**QP_OPTIONS, **(self.options.block_options or {})}
        for blk in split.blocks:
            if blk.rho != rho:
                blk.prepare(rho, self.options.max_blocks, opts)
        return split

    def _bound(
        self, lag: Lagrangian, lam: np.ndarray, iteration: int, force: bool = False
    ) -> float:
        every = self.options.bound_every
        due = force or (every > 0 and (iteration - 1) % every == 0)
        if not due or lag.why_not() is not None:
            return -math.inf
        try:
            return lag.evaluate(lam).lower
        except NotSupportedError:
            return -math.inf

    def init(self, lagrangian: Lagrangian, lam0: np.ndarray) -> AdmmState:
        lag, rho = lagrangian, self.options.rho
        self._prepare(lag, rho)
        lam = lag.project(lam0)
        x = np.clip(np.zeros(lag.model.n), lag.lb, lag.ub)
        e = lag.relaxed_values(x)
        s = np.clip(e + lag.row_sign * lam / rho, lag.row_lo, lag.row_hi)
        q = self._bound(lag, lam, 1)
        return AdmmState(
            iteration=1,
            lam=lam,
            dual_value=q,
            bound=q,
            best_lam=lam,
            x=x,
            s=s,
            rho=rho,
            violation=float(np.linalg.norm(lag.violation(e))),
        )

    def step(self, lagrangian: Lagrangian, state: DualState) -> AdmmState:
        assert isinstance(state, AdmmState) and state.x is not None and state.s is not None
        lag, o, rho = lagrangian, self.options, state.rho
        split = self._prepare(lag, rho)
        y = lag.row_sign * state.lam
        x, s = state.x.copy(), state.s
        Ax = split.A @ x
        moves = []
        for blk in split.blocks:  # Gauss-Seidel over the blocks
            xj = x[blk.cols]
            w = Ax + lag.e0 - s - blk.A @ xj
            g = lag.c[blk.cols] + blk.Q_rows @ x - blk.Q @ xj + blk.A.T @ (y + rho * w)
            new = blk.solve(np.asarray(g).ravel(), xj, lag.executor)
            move = blk.A @ (new - xj)
            Ax += move
            x[blk.cols] = new
            moves.append(move)
        e = Ax + lag.e0
        s_new = np.clip(e + y / rho, lag.row_lo, lag.row_hi)
        r = e - s_new
        y_new = y + rho * r
        suffix = -(s_new - s)
        dual_sq = 0.0
        for blk, move in zip(reversed(split.blocks), reversed(moves)):
            dual_sq += float(np.sum((rho * (blk.A.T @ suffix)) ** 2))
            suffix = suffix + move
        lam = lag.project(lag.row_sign * y_new)
        pri, dua = float(np.linalg.norm(r)), math.sqrt(dual_sq)
        m, n = max(1, r.size), max(1, lag.model.n)
        eps_pri = math.sqrt(m) * o.tolerance + o.tolerance * max(
            float(np.linalg.norm(e)), float(np.linalg.norm(s_new))
        )
        eps_dual = math.sqrt(n) * o.tolerance + o.tolerance * float(
            np.linalg.norm(split.A.T @ y_new)
        )
        converged = pri <= eps_pri and dua <= eps_dual
        q = self._bound(lag, lam, state.iteration + 1, force=converged)
        better = q > state.bound
        return replace(
            state,
            iteration=state.iteration + 1,
            lam=lam,
            dual_value=q,
            bound=q if better else state.bound,
            best_lam=lam if better else state.best_lam,
            step=float(np.linalg.norm(y_new - y)),
            violation=float(np.linalg.norm(lag.violation(e))),
            x=x,
            s=s_new,
            rho=self._next_rho(rho, pri, dua, state.iteration),
            primal_estimate=x,
            primal_residual=pri,
            dual_residual=dua,
            converged=converged,
        )

    def _next_rho(self, rho: float, pri: float, dua: float, iteration: int) -> float:
        o = self.options
        rule = "balance" if o.rho_rule == "auto" else o.rho_rule
        if rule == "balance":
            if pri > o.balance_ratio * dua:
                rho *= o.balance_factor
            elif dua > o.balance_ratio * pri:
                rho /= o.balance_factor
        elif rule == "growth" and iteration >= o.rho_warmup:
            rho *= o.rho_growth
        return float(min(rho, o.rho_max))

    def report_lam(self, state: DualState) -> np.ndarray:
        return state.lam

    def report_point(self, state: DualState) -> tuple[np.ndarray, str] | None:
        assert isinstance(state, AdmmState)
        if state.x is None or state.iteration <= 1:
            return None
        return state.x, self.point_label

    def certificate(
        self, lagrangian: Lagrangian, state: DualState, x: dict[str, np.ndarray] | None
    ) -> KKTReport | None:
        if x is None:
            return None
        return kkt.certify(
            lagrangian.model, x, lagrangian.split(state.lam), tol=self.options.tolerance
        )


# -- the network ---------------------------------------------------------------------------------
def train_admm(problem: Problem, options: AdmmOptions) -> Solution:
    """ADMM on the full-space network of an ``nn_training`` problem (see the module)."""
    t0 = time.perf_counter()
    net, o = Network.from_problem(problem), options
    rule = "growth" if o.rho_rule == "auto" else o.rho_rule
    trainer = Trainer(
        net,
        o.rho,
        executor=o.executor,
        workers=o.workers,
        scheduler=o.scheduler,
        shards=o.shards,
        batch_size=o.batch_size,
        seed=o.seed,
        weight_prox=o.weight_prox,
    )

    def epoch(k: int) -> dict[str, float]:
        nb = len(trainer.batches)
        for i in trainer.rng.permutation(nb) if nb > 1 else [0]:
            trainer.update_weights()
            trainer.run(int(i), "sweep+dual")
        meas = trainer.measures()
        rho = trainer.rho
        pri, dua = meas["split_residual"], rho * meas["delta"]
        scale = max(1.0, math.sqrt(sum(float(np.sum(z * z)) for z in trainer.z)))
        if rule == "growth" and k >= o.rho_warmup:
            trainer.rho = min(rho * o.rho_growth, o.rho_max)
        elif rule == "balance" and pri > o.balance_ratio * dua:
            trainer.rho = min(rho * o.balance_factor, o.rho_max)
        elif rule == "balance" and dua > o.balance_ratio * pri:
            trainer.rho = rho / o.balance_factor
        done = meas["violation"] <= o.tolerance and meas["delta"] <= o.tolerance * scale
        return {
            **meas,
            "rho": rho,
            "primal_residual": pri,
            "dual_residual": dua,
            "converged": float(done),
        }

    try:
        with blas_single_thread():
            trainer.start(o.seed, *warm_point(o))
            records, term = train(trainer, epoch, o, o.max_iter)
        return finish(
            problem,
            trainer,
            records,
            term,
            o,
            solver="admm",
            point=o.point,
            seconds=time.perf_counter() - t0,
            info={"method": "admm (full space, layer-wise)", "rho_rule": rule},
        )
    finally:
        trainer.close()


class AdmmSolver(DualSolver):
    """``admm``: separable models (relaxed coupling groups) and full-space network training."""

    name = "admm"
    description = "ADMM: separable QPs (consensus, splits); layer-wise neural-network training"
    Options = AdmmOptions
    method_class = AdmmMethod

    def check(self, problem: Problem) -> str | None:
        return None

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        assert isinstance(options, AdmmOptions)
        if is_network(problem):
            return train_admm(problem, options)
        from .loop import run_dual

        seen: list[dict[str, float]] = []
        user = options.callback

        def record(progress: Any) -> bool | None:
            st = progress.state
            seen.append(
                {
                    "primal_residual": getattr(st, "primal_residual", math.nan),
                    "dual_residual": getattr(st, "dual_residual", math.nan),
                    "rho": getattr(st, "rho", math.nan),
                }
            )
            return user(progress) if user is not None else None

        opts = options.model_copy(update={"callback": record})
        sol = run_dual(problem, self.method(opts), opts, solver=self.name)
        if sol.history is not None and len(seen) == len(sol.history):
            extra = {k: np.array([r[k] for r in seen]) for k in seen[0]} if seen else {}
            sol = replace(sol, history=replace(sol.history, extra={**sol.history.extra, **extra}))
        return _with_kept_multipliers(problem.model, sol, options.tolerance)


def _with_kept_multipliers(model: Model, sol: Solution, tol: float) -> Solution:
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
    if rep.certified and closed:
        status = Status.OPTIMAL
    else:
        status = Status.FEASIBLE if rep.primal_residual <= tol else Status.NO_SOLUTION
    note = "" if rep.certified else f"; certificate: {'; '.join(rep.notes)}"
    message = sol.message.split("; certificate:")[0] + note
    return replace(
        sol,
        status=status,
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

    >>> from ortools_lag import Model
    >>> m = Model(); v = m.var("v", 2, lb=None); m.minimize((v * v).sum())
    >>> _ = m.add("floor", v[0] >= 1)
    >>> kept_multipliers(m, {"v": np.array([1.0, 0.0])}, {}, ["floor"])["floor"].round(9)
    array(2.)
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
