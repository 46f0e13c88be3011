r"""Full-space training of layered networks: the layer-wise updates shared by ``admm`` and ``alm``.

The reduced-space solver (``adjoint``) satisfies the layer constraints exactly at every step. The
full-space view keeps the layer outputs as variables and relaxes the layers into multipliers (the
method of auxiliary coordinates, Carreira-Perpinan & Wang 2014; ADMM training, Taylor et al. 2016).
For the ``nn_training`` model (``z_0 = X^T``, ``sigma_L`` the identity) each hidden layer is split
with its pre-activation ``a_l``:

.. math::

    \min\; \ell(z_L) + \tfrac{\kappa}{2}\sum_l \|W_l\|^2 \quad\text{s.t.}\quad
    a_l - W_l z_{l-1} - b_l 1^T = 0\;(\mu_l),\quad z_l - \sigma(a_l) = 0\;(\lambda_l),\quad
    z_L - W_L z_{L-1} - b_L 1^T = 0\;(\lambda_L).

Multipliers: ``lambda_l`` (shape ``h_l x N``) is the multiplier of the model's group ``layer{l}``
(``z_l - sigma(W_l z_{l-1} + b_l) == 0``): at a KKT point ``lambda_L = -d ell / d z_L``,
``mu_l = sigma'(a_l) * lambda_l`` and ``lambda_l = W_{l+1}^T mu_{l+1}``, which is backprop's
recursion, so ``lambda_l = -d ell / d z_l`` (minus the adjoint of layer ``l``'s output) as in the
reduced space. ``mu_l`` prices the split of the affine map from the activation.

The augmented Lagrangian (penalty ``rho`` per sample: internally the loss is summed over the
``N`` samples, so that the internal multipliers are ``N lambda``) is minimised block by block:

* weights ``(W_l, b_l)``: ridge least squares from sufficient statistics ``[z;1][z;1]^T`` and
  ``[z;1](a + mu/rho)^T`` (independent across layers);
* pre-activations ``a_l``: elementwise one-dimensional problems (safeguarded Newton; closed form
  for ``relu`` and ``identity``);
* hidden outputs ``z_l``: one ``h_l x h_l`` linear system ``(I + W_{l+1}^T W_{l+1}) z = ...`` for
  all samples;
* the output ``z_L``: the proximal map of the loss (closed form for ``mse``, Newton with a
  Sherman-Morrison solve for the softmax cross-entropy).

Every per-sample update is independent across samples, so the samples are cut into shards that run
through an executor (:mod:`ortools_lag.parallel`: serial, threads, processes, Dask): a task carries
its columns and returns them updated, with the small statistics the weight update needs
(:mod:`ortools_lag.solvers.nn.fullspace_blocks`). ``admm`` (:mod:`ortools_lag.solvers.dual.admm`)
does one sweep per multiplier update; ``alm`` (:func:`train_alm`, :class:`FullspaceAlmSolver`)
sweeps until the block minimisation of the augmented Lagrangian settles, then updates the
multipliers. The Solution reports the trained weights with the exact forward pass (feasible;
``point="iterate"`` for the iterate itself), the layer multipliers, the KKT certificate there, the
history (violation per layer, loss, penalty) and the iterate's violation in ``info``.

>>> import numpy as np
>>> from ortools_lag.problems import nn_training
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(30, 2)); y = (X[:, 0] > 0).astype(int)
>>> p = nn_training.build(X, y, layers=[4], weight_decay=0.01)
>>> sol = train_alm(p, FullspaceAlmOptions(max_iter=40))
>>> sol.solver, p.decode(sol).accuracy(X, y) >= 0.9, sol.info["violation_max"] < 1e-3
('alm', True, True)
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from ortools_lag import kkt
from ortools_lag.errors import ModelError
from ortools_lag.parallel import make_executor
from ortools_lag.result import History, Solution, Status, Termination
from ortools_lag.solvers.dual.alm import AlmOptions, AlmSolver
from ortools_lag.solvers.dual.protocol import DualState, Progress
from ortools_lag.solvers.nn.fullspace_blocks import (
    Network,
    ShardResult,
    ShardTask,
    activation,
    forward,
    is_network,
    sweep_shard,
    weight_update,
)

if TYPE_CHECKING:
    from ortools_lag.problem import Problem
    from ortools_lag.solvers.base import SolverOptions

__all__ = [
    "FullspaceAlmOptions",
    "FullspaceAlmSolver",
    "Network",
    "Trainer",
    "finish",
    "is_network",
    "train",
    "train_alm",
    "uses_layers",
]

log = logging.getLogger(__name__)


# -- the iterate and one trainer for both methods ----------------------------------------------
class Trainer:
    """The full-space iterate of a network and its block updates through an executor.

    Parameters
    ----------
    net
        The network.
    rho
        Penalty per sample.
    executor, workers, scheduler
        Where the shards run (see :func:`~ortools_lag.parallel.make_executor`).
    shards
        Shards per batch (default: the executor's workers).
    batch_size
        Samples per batch (``None``: the full batch).
    seed
        Seeds the initial weights and the batches.
    weight_prox
        Proximal weight of the weight updates (0: exact least squares).
    """

    def __init__(
        self,
        net: Network,
        rho: float,
        *,
        executor: Any = None,
        workers: int | None = None,
        scheduler: str | None = None,
        shards: int | None = None,
        batch_size: int | None = None,
        seed: int = 0,
        weight_prox: float = 0.0,
    ) -> None:
        self.net, self.rho, self.prox = net, float(rho), float(weight_prox)
        self.executor, self._owned = make_executor(executor, workers, scheduler)
        self.rng = np.random.default_rng(seed)
        N = net.n_samples
        order = self.rng.permutation(N) if batch_size and batch_size < N else np.arange(N)
        size = batch_size if batch_size and batch_size < N else N
        self.batches = [np.sort(order[i : i + size]) for i in range(0, N, size)]
        k = int(shards or self.executor.workers)
        self.shards = [
            [c for c in np.array_split(bt, min(k, bt.size)) if c.size] for bt in self.batches
        ]
        self.W: list[np.ndarray] = []
        self.b: list[np.ndarray] = []
        self.a: list[np.ndarray] = []
        self.z: list[np.ndarray] = []
        self.lam: list[np.ndarray] = []
        self.mu: list[np.ndarray] = []
        self.stats: list[Any] = [None] * len(self.batches)
        self.last: list[ShardResult | None] = [None] * len(self.batches)

    # set-up ------------------------------------------------------------------------------
    def start(self, seed: int, x0: dict[str, Any] | None, lam0: dict[str, Any] | None) -> None:
        """Weights from ``x0`` or the seeded initialisation; ``z``, ``a`` by a forward pass (or
        ``z`` from ``x0``); multipliers from ``lam0`` (model scale) or zero."""
        net, L, N = self.net, self.net.n_layers, self.net.n_samples
        init = net.init(np.random.default_rng(seed)) if net.init is not None else {}
        x0 = dict(x0 or {})
        for l in range(1, L + 1):
            shape = (net.sizes[l], net.sizes[l - 1])
            W = x0.get(f"W{l}", init.get(f"W{l}", np.zeros(shape)))
            self.W.append(np.asarray(W, dtype=float).reshape(shape))
            b = x0.get(f"b{l}", init.get(f"b{l}", np.zeros(net.sizes[l])))
            self.b.append(np.asarray(b, dtype=float).reshape(net.sizes[l]))
        out = forward(net.activation, self.W, self.b, net.X)[1]
        for l in range(L):
            zl = x0.get(f"z{l + 1}")
            self.z.append(out[l] if zl is None else np.asarray(zl, float).reshape(out[l].shape))
            m = np.asarray((lam0 or {}).get(f"layer{l + 1}", 0.0), dtype=float)
            self.lam.append(N * np.broadcast_to(m, out[l].shape).copy())
        for l in range(L - 1):
            prev = net.X if l == 0 else self.z[l - 1]
            self.a.append(self.W[l] @ prev + self.b[l][:, None])
            self.mu.append(self.lam[l] * activation(net.activation, self.a[l])[1])
        for i in range(len(self.batches)):
            self.run(i, "stats")

    def close(self) -> None:
        """Release the executor when it was made here."""
        if self._owned:
            self.executor.close()

    # the blocks --------------------------------------------------------------------------
    def update_weights(self) -> None:
        """The weight block, from the statistics of every batch."""
        total = [
            tuple(sum(s[l][j] for s in self.stats) for j in range(3))
            for l in range(self.net.n_layers)
        ]
        decay = self.net.n_samples * self.net.weight_decay
        self.W, self.b = weight_update(total, self.rho, decay, self.W, self.b, self.prox)

    def run(self, batch: int, mode: str) -> ShardResult:
        """Run the shards of a batch in ``mode`` through the executor; keep their results."""
        L, net = self.net.n_layers, self.net
        cols_list = self.shards[batch]
        single = len(cols_list) == 1 and cols_list[0].size == net.n_samples
        tasks = []
        for cols in cols_list:
            pick: Callable[[np.ndarray], np.ndarray] = (
                (lambda v: v) if single else (lambda v, c=cols: v[:, c])  # type: ignore[misc]
            )
            tasks.append(
                ShardTask(
                    net.activation,
                    net.loss,
                    self.rho,
                    self.W,
                    self.b,
                    pick(net.X),
                    pick(net.Y),
                    [pick(v) for v in self.a],
                    [pick(v) for v in self.z],
                    [pick(v) for v in self.lam],
                    [pick(v) for v in self.mu],
                    mode,  # type: ignore[arg-type]
                    self.executor.name != "serial",
                )
            )
        results = self.executor.map(sweep_shard, tasks)
        for cols, r in zip(cols_list, results):
            for mine, theirs in ((self.a, r.a), (self.z, r.z), (self.lam, r.lam), (self.mu, r.mu)):
                for l in range(len(mine)):
                    if single:
                        mine[l] = theirs[l]
                    else:
                        mine[l][:, cols] = theirs[l]
        merged = _merge(results, L)
        self.stats[batch], self.last[batch] = merged.stats, merged
        return merged

    def measures(self) -> dict[str, float]:
        """From the last results: the violation of every layer group (relative
        ``|z_l - sigma(...)|_F / max(1, |z_l|_F)``) and the largest, the loss, the split
        residual, the change of the per-sample blocks (absolute and relative ``change``) and
        the stationarity in the weights (``max |dL/dW|``, model scale)."""
        L, N = self.net.n_layers, self.net.n_samples
        done = [r for r in self.last if r is not None]
        viol = sum(r.viol for r in done)
        norm = sum(r.norm for r in done)
        rel = np.sqrt(viol) / np.maximum(1.0, np.sqrt(norm))
        out = {f"violation_layer{l + 1}": float(rel[l]) for l in range(L)}
        out["violation"] = float(np.max(rel))
        out["loss"] = sum(r.loss for r in done) / N
        out["split_residual"] = math.sqrt(sum(r.split for r in done))
        out["delta"] = math.sqrt(sum(r.delta for r in done))
        out["change"] = out["delta"] / max(1.0, math.sqrt(float(np.sum(norm))))
        grads = []  # dL/d[W b] = N kappa [W 0] - (z~ mult^T)^T, internal scale
        for l in range(L):
            Rm = sum(st[l][2] for st in self.stats)
            G = -np.asarray(Rm).T
            G[:, :-1] += N * self.net.weight_decay * self.W[l]
            grads.append(float(np.max(np.abs(G))) / N)
        out["stationarity"] = max(grads)
        return out

    def objective(self, loss: float) -> float:
        """The model objective at the iterate: loss plus weight decay."""
        return loss + 0.5 * self.net.weight_decay * sum(float(np.sum(W * W)) for W in self.W)


def _merge(results: Sequence[ShardResult], L: int) -> ShardResult:
    stats = [
        (
            sum(r.stats[l][0] for r in results),
            sum(r.stats[l][1] for r in results),
            sum(r.stats[l][2] for r in results),
        )
        for l in range(L)
    ]
    return ShardResult(
        [],
        [],
        [],
        [],
        stats,  # type: ignore[arg-type]
        sum(r.viol for r in results),  # type: ignore[arg-type]
        sum(r.norm for r in results),  # type: ignore[arg-type]
        sum(r.split for r in results),
        sum(r.delta for r in results),
        sum(r.loss for r in results),
    )


# -- the shared loop and the Solution ----------------------------------------------------------
def train(
    trainer: Trainer,
    epoch: Callable[[int], dict[str, float]],
    options: SolverOptions,
    max_epochs: int,
) -> tuple[list[dict[str, float]], Termination]:
    """Call ``epoch(k)`` for ``k = 1, 2, ...`` and keep its record; stop on its ``converged``
    flag, ``max_epochs``, the time limit, the callback or Ctrl-C."""
    t0 = time.perf_counter()
    records: list[dict[str, float]] = []
    callback = getattr(options, "callback", None)
    term = Termination.ITERATION_LIMIT
    try:
        for k in range(1, max_epochs + 1):
            rec = dict(epoch(k))
            rec["iteration"], rec["seconds"] = k, time.perf_counter() - t0
            rec["primal"] = trainer.objective(rec["loss"])
            converged = bool(rec.pop("converged", 0.0))
            records.append(rec)
            if options.verbose:
                log.info("epoch %d: loss %.6g violation %.3g", k, rec["loss"], rec["violation"])
            if converged:
                term = Termination.CONVERGED
                break
            if callback is not None and callback(_progress(rec)):
                term = Termination.CALLBACK
                break
            if options.time_limit is not None and rec["seconds"] >= options.time_limit:
                term = Termination.TIME_LIMIT
                break
    except KeyboardInterrupt:
        term = Termination.INTERRUPTED
    return records, term


def _progress(rec: dict[str, float]) -> Progress:
    nan = math.nan
    state = DualState(
        iteration=int(rec["iteration"]),
        lam=np.zeros(0),
        dual_value=nan,
        bound=nan,
        best_lam=np.zeros(0),
        violation=rec["violation"],
    )
    return Progress(int(rec["iteration"]), nan, rec["primal"], nan, rec["seconds"], {}, state)


def finish(
    problem: Problem,
    trainer: Trainer,
    records: list[dict[str, float]],
    term: Termination,
    options: SolverOptions,
    *,
    solver: str,
    point: str,
    seconds: float,
    info: dict[str, Any],
) -> Solution:
    """The Solution: weights, outputs (the exact forward pass for ``point="forward"``, the
    iterate's for ``"iterate"``), the layer multipliers (model scale), the KKT certificate at
    that point, the history, and the iterate's violation per layer in ``info``."""
    from ortools_lag.solvers.nn.adjoint import certify_matrix_free

    model, net, N = problem.model, trainer.net, trainer.net.n_samples
    L = net.n_layers
    outs = trainer.z
    if point == "forward":
        outs = forward(net.activation, trainer.W, trainer.b, net.X)[1]
    x: dict[str, np.ndarray] = {}
    for l in range(L):
        x[f"W{l + 1}"], x[f"b{l + 1}"] = trainer.W[l].copy(), trainer.b[l].copy()
        x[f"z{l + 1}"] = np.array(outs[l], dtype=float)
    lam = {f"layer{l + 1}": trainer.lam[l] / N for l in range(L)}
    tol = options.tolerance
    if model.m <= 20000:
        rep = kkt.certify(model, x, lam, tol=tol)
    else:
        rep = certify_matrix_free(model, x, lam, tol=tol)
    if rep.certified:  # a KKT point; nothing proves it global (the model is not convex)
        status = Status.LOCALLY_OPTIMAL
    else:
        status = Status.FEASIBLE if rep.primal_residual <= tol else Status.NO_SOLUTION
    info = {**info, **_facts(trainer, records, seconds), "point": point}
    note = "KKT point (local: the model is not convex)" if rep.certified else "; ".join(rep.notes)
    return Solution(
        status=status,
        termination=term,
        objective=model.objective_value(model.join(x)),
        x=x,
        multipliers=lam,
        shadow_prices=kkt.shadow_prices(model, lam),
        kkt=rep,
        history=History.from_records(list(records)) if records else None,
        solver=solver,
        iterations=len(records),
        seconds=seconds,
        message=f"{solver} (full space): {term.value}; {note}",
        info=info,
    )


def _facts(trainer: Trainer, records: list[dict[str, float]], seconds: float) -> dict[str, Any]:
    """What ``info`` reports about a run: the iterate's violation per layer, how it ran, the
    time per epoch (sweep) and the multipliers of the split ``a_l = W_l z_{l-1} + b_l``."""
    L, N = trainer.net.n_layers, trainer.net.n_samples
    meas = trainer.measures()
    n_epochs = max(1.0, sum(r.get("sweeps", 1.0) for r in records))
    return {
        "violation": {f"layer{l + 1}": meas[f"violation_layer{l + 1}"] for l in range(L)},
        "violation_max": meas["violation"],
        "stationarity_weights": meas["stationarity"],
        "executor": trainer.executor.name,
        "shards": max(len(s) for s in trainer.shards),
        "batches": len(trainer.batches),
        "rho": trainer.rho,
        "seconds_per_epoch": seconds / n_epochs,
        "split_multipliers": {f"layer{l + 1}": trainer.mu[l] / N for l in range(L - 1)},
    }


def blas_single_thread() -> Any:
    """One BLAS thread for the calling process while training (the per-sample blocks are
    small; BLAS threads only contend with the shards and other processes)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def warm_point(options: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Initial point and multipliers (model scale) from ``x0`` and ``warm_start``."""
    warm = getattr(options, "warm_start", None)
    x0 = dict(getattr(options, "x0", None) or {})
    lam0: dict[str, Any] | None = None
    if isinstance(warm, Solution):
        x0 = {**dict(warm.x), **x0}
        lam0 = dict(warm.multipliers)
    elif isinstance(warm, dict):
        lam0 = warm
    elif warm is not None:
        raise ModelError(
            f"warm_start must be a Solution or multipliers by group, got {type(warm).__name__}"
        )
    return x0 or None, lam0


# -- ALM on the full-space network -------------------------------------------------------------
class FullspaceAlmOptions(AlmOptions):
    """Options of ``alm``, with those of the full-space network method.

    ``inner`` picks the inner minimisation: ``"layers"`` (the layer-wise block-coordinate
    sweeps, ``nn_training`` problems only), ``"lbfgs"`` (the general method: L-BFGS-B on every
    variable at once) or ``"auto"``: layers on ``nn_training`` problems of at least
    ``layers_from`` variables, L-BFGS-B below (small networks, where it reaches a certified KKT
    point quickly) and on every other model.

    With layers, ``max_iter`` counts multiplier updates, ``inner_max_iter`` the
    block-coordinate sweeps between two of them (at most; default 3 on networks) and
    ``inner_tolerance`` the relative change of the per-sample blocks that ends the sweeps
    (default 1e-3 on networks); ``rho`` is the penalty per sample (default 1 on networks),
    multiplied by ``rho_growth`` (default 1.05 on networks) up to ``rho_max`` (default 1e4 on
    networks) when the violation did not fall below a quarter of the previous one. The network
    defaults apply to the options not given.

    Attributes
    ----------
    inner, layers_from
        The inner minimisation and, for ``"auto"``, the size from which networks use layers.
    seed, x0
        Seed of the initial weights and shards; initial weights (and outputs) by name.
    point
        ``"forward"``: report the exact forward pass of the trained weights (feasible), with the
        iterate's violation in ``info``; ``"iterate"``: the full-space iterate itself.
    shards
        Shards of samples per sweep (default: the executor's workers).
    weight_prox
        Proximal weight on the weight updates.
    """

    inner: Literal["auto", "layers", "lbfgs"] = "auto"
    layers_from: int = Field(default=5000, ge=0)
    seed: int = 0
    x0: dict[str, Any] | None = None
    point: Literal["forward", "iterate"] = "forward"
    shards: int | None = Field(default=None, ge=1)
    weight_prox: float = Field(default=0.0, ge=0)


_ALM_NETWORK_DEFAULTS = {
    "rho": 1.0,
    "rho_growth": 1.05,
    "rho_max": 1e4,
    "inner_max_iter": 3,
    "inner_tolerance": 1e-3,
}


def _opt(options: Any, name: str, defaults: dict[str, Any]) -> Any:
    """The option ``name``: the user's value if given, else the network default."""
    if name in options.model_fields_set or name not in defaults:
        return getattr(options, name)
    return defaults[name]


def train_alm(problem: Problem, options: AlmOptions) -> Solution:
    """The augmented Lagrangian method on the full-space network: block-coordinate sweeps
    (weights, then per-sample blocks through the executor) until the relative change of the
    per-sample blocks is below ``inner_tolerance`` or ``inner_max_iter`` sweeps, then the
    multiplier step ``lambda += rho c``; ``rho *= rho_growth`` when the violation is above
    ``tolerance`` and did not fall below a quarter of the previous one (up to ``rho_max``).
    Converged when the violation, the last sweep's relative change and the stationarity in the
    weights are below ``tolerance``."""
    t0 = time.perf_counter()
    net = Network.from_problem(problem)
    o, d = options, _ALM_NETWORK_DEFAULTS
    sweeps, inner_tol = int(_opt(o, "inner_max_iter", d)), float(_opt(o, "inner_tolerance", d))
    growth, rho_max = float(_opt(o, "rho_growth", d)), float(_opt(o, "rho_max", d))
    trainer = Trainer(
        net,
        _opt(o, "rho", d),
        executor=o.executor,
        workers=o.workers,
        scheduler=o.scheduler,
        shards=getattr(o, "shards", None),
        seed=getattr(o, "seed", 0),
        weight_prox=getattr(o, "weight_prox", 0.0),
    )
    prev = [math.inf]

    def outer(k: int) -> dict[str, float]:
        n, scale = 0, 1.0
        for n in range(1, sweeps + 1):  # noqa: B007 - the count is reported
            trainer.update_weights()
            r = trainer.run(0, "sweep")
            scale = math.sqrt(float(np.sum(r.norm)))
            if math.sqrt(r.delta) <= inner_tol * max(1.0, scale):
                break
        change = math.sqrt(trainer.last[0].delta) / max(1.0, scale)  # type: ignore[union-attr]
        rho = trainer.rho
        trainer.run(0, "dual")
        m = trainer.measures()
        if m["violation"] > max(0.25 * prev[0], o.tolerance):
            trainer.rho = min(trainer.rho * growth, rho_max)
        prev[0] = m["violation"]
        done = max(m["violation"], change, m["stationarity"]) <= o.tolerance
        return {**m, "rho": rho, "sweeps": float(n), "change": change, "converged": float(done)}

    try:
        with blas_single_thread():
            seed = getattr(o, "seed", 0)
            trainer.start(seed, *warm_point(o))
            records, term = train(trainer, outer, o, o.max_iter)
        return finish(
            problem,
            trainer,
            records,
            term,
            o,
            solver="alm",
            point=getattr(o, "point", "forward"),
            seconds=time.perf_counter() - t0,
            info={"method": "alm (full space, layer-wise block coordinate)"},
        )
    finally:
        trainer.close()


def uses_layers(problem: Problem, options: AlmOptions) -> bool:
    """Whether ``alm`` runs the layer-wise method (see :class:`FullspaceAlmOptions`).

    Raises
    ------
    NotSupportedError
        For ``inner="layers"`` on a problem that is not a network.
    """
    inner = getattr(options, "inner", "auto")
    if inner == "lbfgs":
        return False
    if inner == "layers":
        Network.from_problem(problem)  # raises, saying why not
        return True
    return is_network(problem) and problem.model.n >= getattr(options, "layers_from", 5000)


class FullspaceAlmSolver(AlmSolver):
    """``alm``: the full-space layer-wise method on ``nn_training`` networks (see
    ``inner``), the general augmented Lagrangian (inner L-BFGS-B) on every other model."""

    Options = FullspaceAlmOptions

    def check(self, problem: Problem) -> str | None:
        return None if is_network(problem) else super().check(problem)

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        assert isinstance(options, AlmOptions)
        if uses_layers(problem, options):
            return train_alm(problem, options)
        return super().solve(problem, options)
