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
``s <= sqrt(n) tol + tol |A^T y|`` (Boyd's test) and, on the certificate's scales, the largest
violation and dual residual are below ``tol / 2``. The multipliers of the kept groups are then
recovered from stationarity (:func:`~ortools_lag.solvers.dual.admm_blocks.kept_multipliers`) and the
point certified with every group's multiplier. The bound is the dual function ``q(lam)`` every
``bound_every`` iterations (``-inf`` where the relaxed problem is unbounded, as for a free
consensus variable: then the status stays ``feasible`` even at a certified KKT point).

On an ``nn_training`` problem the blocks are the layers (see
:mod:`ortools_lag.solvers.nn.fullspace`): weights by least squares, pre-activations and outputs per
sample, one multiplier step per sweep, on mini-batches when ``batch_size`` is given (the weights
then use the statistics of every batch, those of the other batches from their last visit), with
the primal/dual residual and violation history. There ``rho`` is a penalty per sample, grown by
``rho_growth`` per epoch after ``rho_warmup`` epochs while the violation exceeds ``tolerance``;
the run has converged when the violation, the relative change of the per-sample blocks and the
stationarity in the weights are below ``tolerance``.

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
from pydantic import Field

from ortools_lag.errors import NotSupportedError
from ortools_lag.result import Solution
from ortools_lag.solvers.dual.admm_blocks import (
    QP_OPTIONS,
    BlockFailure,
    Split,
    kept_multipliers,
    no_block_step,
    with_kept_multipliers,
)
from ortools_lag.solvers.dual.iterate_method import IterateMethod, IterateState
from ortools_lag.solvers.dual.loop import DualSolver
from ortools_lag.solvers.dual.protocol import DualOptions, DualState
from ortools_lag.solvers.nn.fullspace import (
    Network,
    Trainer,
    blas_single_thread,
    finish,
    is_network,
    train,
    warm_point,
)

if TYPE_CHECKING:
    from ortools_lag.lagrangian import Lagrangian
    from ortools_lag.model import Model
    from ortools_lag.problem import Problem
    from ortools_lag.solvers.base import SolverOptions

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
class AdmmState(IterateState):
    """The dual state plus the iterate, the slacks, the penalty and both residuals."""

    s: np.ndarray | None = None
    rho: float = 1.0
    primal_residual: float = math.inf
    dual_residual: float = math.inf


def _default_relax(model: Model) -> tuple[str, ...]:
    """The groups that involve more than one variable block (all groups when none does)."""
    out = tuple(g for g, c in model.groups.items() if len({v.name for v in c.body.variables()}) > 1)
    return out or tuple(model.groups)


class AdmmMethod(IterateMethod):
    """ADMM on the relaxed groups: block sweeps, the slack step and the multiplier step."""

    name = "admm"
    point_label = "ADMM iterate"
    stops_on_gap = False
    options: AdmmOptions

    def __init__(self, options: DualOptions) -> None:
        super().__init__(options)
        self._splits: dict[str, Split] = {}

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
            self._split(lag)  # a ModelError (bad ``blocks``) propagates
        except NotSupportedError as exc:
            return str(exc)
        return None

    @property
    def splits(self) -> list[Split]:
        """The splits built so far (one per Lagrangian)."""
        return list(self._splits.values())

    def _split(self, lag: Lagrangian) -> Split:
        if lag.token not in self._splits:
            self._splits[lag.token] = Split(lag, self.options.blocks)
        return self._splits[lag.token]

    def _prepare(self, lag: Lagrangian, rho: float) -> Split:
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
        lag, rho = lagrangian, state.rho
        split = self._prepare(lag, rho)
        y = lag.row_sign * state.lam
        x, s = state.x.copy(), state.s
        Ax = split.A @ x
        moves = []
        prox_sq, prox_inf = 0.0, 0.0
        for blk in split.blocks:  # Gauss-Seidel over the blocks
            xj = x[blk.cols]
            w = Ax + lag.e0 - s - blk.A @ xj
            g = lag.c[blk.cols] + blk.Q_rows @ x - blk.Q @ xj + blk.A.T @ (y + rho * w)
            new = blk.solve(np.asarray(g).ravel(), xj, lag.executor)
            move = blk.A @ (new - xj)
            Ax += move
            x[blk.cols] = new
            moves.append(move)
            if blk.tau:  # the proximal term's share of the dual residual
                prox_sq += float(np.sum((blk.tau * (new - xj)) ** 2))
                prox_inf = max(prox_inf, blk.tau * float(np.max(np.abs(new - xj), initial=0.0)))
        e = Ax + lag.e0
        s_new = np.clip(e + y / rho, lag.row_lo, lag.row_hi)
        r = e - s_new
        y_new = y + rho * r
        suffix = -(s_new - s)
        dual_sq, dual_inf = prox_sq, prox_inf
        for blk, move in zip(reversed(split.blocks), reversed(moves)):
            part = rho * (blk.A.T @ suffix)
            dual_sq += float(np.sum(part**2))
            dual_inf = max(dual_inf, float(np.max(np.abs(part), initial=0.0)))
            suffix = suffix + move
        lam = lag.project(lag.row_sign * y_new)
        pri, dua = float(np.linalg.norm(r)), math.sqrt(dual_sq)
        converged = self._converged(lag, split, x, r, dual_inf, pri, dua, e, s_new, y_new)
        q = self._bound(lag, lam, state.iteration + 1, force=converged)
        return self.advance(
            state,
            lam,
            q,
            x,
            step=float(np.linalg.norm(y_new - y)),
            violation=float(np.linalg.norm(lag.violation(e))),
            s=s_new,
            rho=self._next_rho(rho, pri, dua, state.iteration),
            primal_residual=pri,
            dual_residual=dua,
            converged=converged,
        )

    def _converged(
        self,
        lag: Lagrangian,
        split: Split,
        x: np.ndarray,
        r: np.ndarray,
        dual_inf: float,
        pri: float,
        dua: float,
        e: np.ndarray,
        s: np.ndarray,
        y: np.ndarray,
    ) -> bool:
        """Boyd et al.'s test (``tolerance`` as absolute and relative tolerance), and the
        certificate's scales: the largest violation relative to the data, the largest dual
        residual relative to the objective's gradient."""
        tol = self.options.tolerance
        m, n = max(1, r.size), max(1, lag.model.n)
        eps_pri = math.sqrt(m) * tol + tol * max(float(np.linalg.norm(e)), float(np.linalg.norm(s)))
        eps_dual = math.sqrt(n) * tol + tol * float(np.linalg.norm(split.A.T @ y))
        if pri > eps_pri or dua > eps_dual:
            return False
        grad = lag.c + split.Q @ x
        if dual_inf > 0.5 * tol * (1.0 + float(np.max(np.abs(grad), initial=0.0))):
            return False
        return lag.infeasibility(x)[0] <= 0.5 * tol

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
        rho, viol = trainer.rho, meas["violation"]
        pri, dua = meas["split_residual"], rho * meas["delta"]
        if rule == "growth" and k >= o.rho_warmup and viol > o.tolerance:
            trainer.rho = min(rho * o.rho_growth, o.rho_max)
        elif rule == "balance" and pri > o.balance_ratio * dua:
            trainer.rho = min(rho * o.balance_factor, o.rho_max)
        elif rule == "balance" and dua > o.balance_ratio * pri:
            trainer.rho = rho / o.balance_factor
        done = max(viol, meas["change"], meas["stationarity"]) <= o.tolerance
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
        from ortools_lag.solvers.dual.loop import run_dual

        t0 = time.perf_counter()
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
        method = self.method(opts)
        assert isinstance(method, AdmmMethod)
        try:
            sol = run_dual(problem, method, opts, solver=self.name)
        except BlockFailure as exc:  # no block step: the model's own status, certified
            return no_block_step(problem.model, exc, opts.tolerance, time.perf_counter() - t0)
        if sol.history is not None and len(seen) == len(sol.history):
            extra = {k: np.array([r[k] for r in seen]) for k in seen[0]} if seen else {}
            sol = replace(sol, history=replace(sol.history, extra={**sol.history.extra, **extra}))
        sol = with_kept_multipliers(problem.model, sol, options.tolerance)
        prox = [b.prox_reason for sp_ in method.splits for b in sp_.blocks if b.prox_reason]
        if prox:
            msg = f"{sol.message}; proximal ADMM ({'; '.join(prox)})"
            sol = replace(sol, message=msg, info={**sol.info, "proximal_blocks": prox})
        return sol
