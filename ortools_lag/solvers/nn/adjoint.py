r"""The ``adjoint`` solver: reduced-space training of layered models (backprop as KKT).

A *layered* model has free parameters ``theta`` (weights) and equality groups that define their
output blocks in order, ``z_k == phi_k(theta, z_1..z_{k-1})`` (held as ``z_k - phi_k == 0``):

.. math::

    \min_{\theta, z} f(z, \theta) \quad \text{s.t.} \quad z_k - \phi_k(\theta, z_{<k}) = 0,
    \qquad L = f + \sum_k \lambda_k \cdot (z_k - \phi_k).

For fixed ``theta`` the KKT conditions in ``(z, lambda)`` are solved exactly: primal feasibility
by the forward pass, stationarity in ``z_k``,
``df/dz_k + lambda_k - sum_{j>k} (d phi_j / d z_k)^T lambda_j = 0``, by back-substitution from
the last group to the first. So ``lambda_k = -dF/dz_k`` (minus backprop's adjoint of the layer
output; the recursion carries the multipliers themselves, and only the weight gradient is
negated) and ``dL/dtheta = dF/dtheta`` is the weight gradient; a weight optimiser (gradient
descent, Adam, or scipy's L-BFGS) drives that last stationarity residual to zero, on mini-batches
when asked. Each multiplier ``lambda_k`` (group ``k``'s shape) is in the Solution.

Groups that are not layers (constraints on the weights) take fixed multipliers
(``multipliers={name: mu}``): the solver then minimises the Lagrangian ``F + sum mu . c`` over
``theta`` — the inner problem of ``problems.constrained_learning.dual_ascent``.

>>> import numpy as np
>>> from ortools_lag import Model, solve
>>> from ortools_lag.model import functions as F
>>> m = Model(); x = m.var("x", lb=None); y = m.var("y", lb=None)
>>> m.minimize(y); _ = m.add("input", x == 0.5); _ = m.add("exp", y == F.exp(x))
>>> sol = solve(m, "adjoint")
>>> sol.status.value, round(float(sol.multipliers["input"]), 6), round(float(np.exp(0.5)), 6)
('locally_optimal', -1.648721, 1.648721)
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.sparse as sp
from pydantic import Field

from ortools_lag import kkt
from ortools_lag.arrays import is_numpy, namespace, to_numpy
from ortools_lag.errors import ModelError
from ortools_lag.model.convexity import convexity_gap
from ortools_lag.model.nonlinear import NonlinearExpr, Tape, as_nonlinear
from ortools_lag.result import History, KKTReport, Solution, Status, Termination
from ortools_lag.solvers.base import Solver, SolverOptions
from ortools_lag.solvers.nn.adjoint_progress import AdjointProgress, report

if TYPE_CHECKING:
    from ortools_lag.model import Model
    from ortools_lag.problem import Problem

__all__ = [
    "AdjointOptions",
    "AdjointSolver",
    "LayerStep",
    "Layering",
    "ReducedPoint",
    "ReducedSpace",
    "certify_matrix_free",
    "infer_layering",
]

log = logging.getLogger(__name__)
Array = Any


@dataclass(frozen=True)
class LayerStep:
    """One layer: ``group`` defines variable ``output`` (``output == definition``)."""

    group: str
    output: str
    definition: NonlinearExpr | None = None
    sign: float = 1.0  # without a definition: the body is ``sign * output + psi(others)``


@dataclass(frozen=True)
class Layering:
    """The layered structure a problem hands to the ``adjoint`` solver.

    Attributes
    ----------
    steps
        The layers in evaluation order.
    data
        Full arrays of the named data leaves (mini-batches slice them).
    batch_axes
        Axis of the samples in each data array.
    init
        Initial parameters from a seeded generator (``None``: zeros or ``x0``).
    """

    steps: tuple[LayerStep, ...]
    data: Mapping[str, np.ndarray] = field(default_factory=dict)
    batch_axes: Mapping[str, int] = field(default_factory=dict)
    init: Callable[[np.random.Generator], dict[str, np.ndarray]] | None = None

    @property
    def n_samples(self) -> int | None:
        """Number of samples in the data (``None`` without data)."""
        for k, ax in self.batch_axes.items():
            return int(self.data[k].shape[ax])
        return None

    def batch(self, idx: np.ndarray | None) -> dict[str, np.ndarray]:
        """The data arrays restricted to the samples ``idx`` (all data for ``None``)."""
        if idx is None:
            return dict(self.data)
        return {k: np.take(v, idx, axis=self.batch_axes.get(k, 0)) for k, v in self.data.items()}


def infer_layering(model: Model, seed: int = 0) -> Layering:
    """Find the layers of a model of equality groups ``out == phi(earlier variables)``.

    A group's output is the variable (of the group's size) whose Jacobian block is ``+I`` at two
    random points (``-I`` when it is the only candidate); the groups are then sorted so that each
    uses only parameters and earlier outputs.

    Raises
    ------
    ModelError
        When a group is not an equality, has no or several candidate outputs, or the groups
        depend on each other in a cycle.
    """
    rng = np.random.default_rng(seed)
    points = [rng.uniform(0.5, 1.5, model.n) for _ in range(2)]
    outputs: dict[str, tuple[str, float]] = {}
    for name, g in model.groups.items():
        if g.sense != "==":
            continue
        jacs = [g.body.jacobian(z, model.n) for z in points]
        found = []
        for v in g.body.variables():
            if v.size != g.size:
                continue
            blocks = [J[:, v.offset : v.offset + v.size] for J in jacs]
            for s in (1.0, -1.0):
                eye = s * sp.identity(v.size, format="csr")
                if all(abs(B - eye).max() <= 1e-12 for B in blocks):
                    found.append((v.name, s))
        plus = [c for c in found if c[1] > 0]
        pick = plus if len(plus) == 1 else found
        if len(pick) != 1:
            raise ModelError(
                f"group {name!r}: cannot tell which variable it defines "
                f"(candidates {[c[0] for c in found]}): pass a Layering in problem.data"
            )
        outputs[name] = pick[0]
    return Layering(_sort_steps(model, outputs))


def _sort_steps(model: Model, outputs: dict[str, tuple[str, float]]) -> tuple[LayerStep, ...]:
    defined = {out: g for g, (out, _) in outputs.items()}
    if len(defined) != len(outputs):
        raise ModelError("two groups define the same variable: not a layered model")
    deps = {
        g: {defined[v.name] for v in model.groups[g].body.variables() if v.name in defined} - {g}
        for g in outputs
    }
    steps: list[LayerStep] = []
    done: set[str] = set()
    while len(done) < len(outputs):
        ready = [g for g in outputs if g not in done and deps[g] <= done]
        if not ready:
            raise ModelError(f"groups {sorted(set(outputs) - done)} depend on each other")
        for g in ready:
            steps.append(LayerStep(g, outputs[g][0], None, outputs[g][1]))
            done.add(g)
    return tuple(steps)


@dataclass
class ReducedPoint:
    """One forward pass and multiplier recursion: ``F``, ``dF/dtheta``, outputs, multipliers."""

    objective: float
    gradient: dict[str, Array]
    outputs: dict[str, Array]
    multipliers: dict[str, Array]


class ReducedSpace:
    """Reduced objective ``F(theta)`` of a layered model and its gradient by the multipliers.

    Parameters
    ----------
    model
        The model (objective, layer groups, other groups with fixed multipliers).
    layering
        Its layers.
    fixed
        Fixed multipliers of the non-layer groups (folded into the objective).
    """

    def __init__(
        self, model: Model, layering: Layering, fixed: Mapping[str, Any] | None = None
    ) -> None:
        self.model, self.layering = model, layering
        outs = {s.output for s in layering.steps}
        self.params = [v for name, v in model.variables.items() if name not in outs]
        self.objective = as_nonlinear(model.objective)
        self.bodies = {
            s.group: as_nonlinear(model.groups[s.group].body)
            for s in layering.steps
            if s.definition is None
        }
        layer_groups = {s.group for s in layering.steps}
        extra = [g for g in model.groups if g not in layer_groups]
        fixed = dict(fixed or {})
        missing = [g for g in extra if g not in fixed]
        if missing:
            raise ModelError(
                f"groups {missing} are not layers: give them multipliers, or use "
                "problems.constrained_learning.dual_ascent"
            )
        self.fixed = {
            g: (as_nonlinear(model.groups[g].body), model.groups[g].sign, np.asarray(fixed[g]))
            for g in extra
        }

    def evaluate(
        self, params: Mapping[str, Array], data: Mapping[str, Array] | None = None
    ) -> ReducedPoint:
        """Forward pass, then the multipliers from the last layer to the first."""
        like = next(iter(params.values()), None)
        xp = namespace(*([like] if like is not None else []))
        values: dict[str, Array] = dict(params)
        tapes: list[Tape] = []
        for step in self.layering.steps:
            tape, out = self._layer(step, values, data, like)
            values[step.output] = out
            tapes.append(tape)
        s = float(self.model.sense_sign)
        otape = self.objective.forward(values, data, like=like)
        total = s * otape.value
        # ``lam_acc`` gathers multipliers, -dF/dv: the recursion is linear in its seed, so the
        # seed -s (not s) yields each layer's lambda = -dF/dz without negating the big arrays
        lam_acc = otape.backward(-s * xp.ones_like(xp.asarray(otape.value)))
        for body, sign, mu in self.fixed.values():  # L = F + mu . (sign * body)
            btape = body.forward(values, data, like=like)
            y = sign * xp.reshape(xp.asarray(mu, dtype=btape.value.dtype), body.shape)
            total = total + xp.sum(y * btape.value)
            _accumulate(lam_acc, btape.backward(-y))
        lams = self._multipliers(tapes, values, lam_acc)
        grad = {
            v.name: -lam_acc[v.name] if v.name in lam_acc else xp.zeros_like(params[v.name])
            for v in self.params
        }
        outputs = {s.output: values[s.output] for s in self.layering.steps}
        return ReducedPoint(float(to_numpy(total)), grad, outputs, lams)

    def _multipliers(
        self, tapes: list[Tape], values: dict[str, Array], lam_acc: dict[str, Array]
    ) -> dict[str, Array]:
        """Back-substitution from the last layer to the first; ``lam_acc`` gathers ``-dF/dv``."""
        lams: dict[str, Array] = {}
        for step, tape in zip(reversed(self.layering.steps), reversed(tapes)):
            lam = lam_acc.pop(step.output, None)  # -dF/dz: body = out - phi, lambda = -dF/dz
            if lam is None:
                lam = tape.xp.zeros_like(values[step.output])
            if step.definition is not None:
                lams[step.group] = lam
                _accumulate(lam_acc, tape.backward(lam))
            else:  # body = sign * out + psi: lambda = -sign dF/dz, psi's arguments get -lambda
                lam = step.sign * lam
                lams[step.group] = lam
                grads = tape.backward(-lam)
                grads.pop(step.output, None)
                _accumulate(lam_acc, grads)
        return lams

    def _layer(
        self, step: LayerStep, values: dict[str, Array], data: Any, like: Any
    ) -> tuple[Tape, Array]:
        if step.definition is not None:
            tape = step.definition.forward(values, data, like=like)
            return tape, tape.value
        var = self.model.variables[step.output]
        xp = namespace(*([like] if like is not None else []))
        if is_numpy(xp):
            values[step.output] = np.zeros(var.shape)
        else:
            values[step.output] = xp.zeros(var.shape, dtype=like.dtype, device=like.device)
        tape = self.bodies[step.group].forward(values, data, like=like)
        return tape, -step.sign * xp.reshape(tape.value, var.shape)


def _accumulate(acc: dict[str, Array], grads: Mapping[str, Array]) -> None:
    for k, g in grads.items():
        acc[k] = g if k not in acc else acc[k] + g


class AdjointOptions(SolverOptions):
    """Options of the ``adjoint`` solver.

    Attributes
    ----------
    method
        Weight optimiser: ``"adam"``, ``"gd"`` (with ``momentum``) or ``"lbfgs"`` (scipy,
        full batch).
    learning_rate, momentum, beta1, beta2
        Step parameters of gradient descent and Adam.
    epochs
        Passes over the data (iterations of L-BFGS).
    batch_size
        Samples per step (``None``: the full batch).
    seed
        Seeds the initial weights and the shuffling of mini-batches.
    x0
        Initial parameters by name (else the problem's seeded initialisation, else zeros).
    multipliers
        Fixed multipliers of the groups that are not layers.
    certificate
        ``"jacobian"`` (``kkt.certify``), ``"vjp"`` (matrix-free residuals, for large models) or
        ``"auto"`` (the Jacobian when the model has at most 20000 rows).
    callback
        ``callback(progress)`` after each epoch, with an :class:`.AdjointProgress`; a true
        answer stops the training (termination ``callback``).
    """

    method: Literal["adam", "gd", "lbfgs"] = "adam"
    learning_rate: float = Field(default=1e-2, gt=0)
    momentum: float = Field(default=0.0, ge=0, lt=1)
    beta1: float = Field(default=0.9, ge=0, lt=1)
    beta2: float = Field(default=0.999, ge=0, lt=1)
    epochs: int = Field(default=100, ge=0)
    batch_size: int | None = Field(default=None, gt=0)
    seed: int = 0
    x0: dict[str, Any] | None = None
    multipliers: dict[str, Any] | None = None
    certificate: Literal["auto", "jacobian", "vjp"] = "auto"
    callback: Callable[[AdjointProgress], Any] | None = None


def _layering(problem: Problem) -> Layering:
    lay = getattr(problem.data, "layering", None)
    if isinstance(problem.data, Layering):
        lay = problem.data
    return lay if isinstance(lay, Layering) else infer_layering(problem.model)


class AdjointSolver(Solver):
    """Exact multipliers of the layers for fixed weights, and a weight optimiser."""

    name = "adjoint"
    family = "reduced-space"
    description = "layered models (neural networks): forward pass, multipliers, weight steps"
    Options = AdjointOptions

    def check(self, problem: Problem) -> str | None:
        if problem.model.is_integer:
            return "integer variables are not supported"
        try:
            _layering(problem)
        except ModelError as exc:
            return str(exc)
        return None

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        assert isinstance(options, AdjointOptions)
        t0 = time.perf_counter()
        model, lay = problem.model, _layering(problem)
        space = ReducedSpace(model, lay, options.multipliers)
        theta = _initial(space, lay, options)
        records: list[dict[str, float]] = []
        if not space.params:
            theta, term = {}, Termination.CONVERGED
        elif options.method == "lbfgs":
            theta, records, term = _lbfgs(space, theta, options, t0)
        else:
            theta, records, term = _first_order(space, theta, options, t0)
        return _finish(space, theta, records, term, options, time.perf_counter() - t0)


def _initial(space: ReducedSpace, lay: Layering, opts: AdjointOptions) -> dict[str, np.ndarray]:
    theta = {v.name: np.zeros(v.shape) for v in space.params}
    if lay.init is not None:
        theta.update(lay.init(np.random.default_rng(opts.seed)))
    for k, v in (opts.x0 or {}).items():
        if k in theta:
            theta[k] = np.array(v, dtype=float).reshape(theta[k].shape)
    return theta


def _inf_norm(arrays: Mapping[str, Any]) -> float:
    return max(
        (float(np.max(np.abs(to_numpy(a)), initial=0.0)) for a in arrays.values()), default=0.0
    )


def _batches(n: int | None, size: int | None, rng: np.random.Generator) -> list[Any]:
    if n is None or size is None or size >= n:
        return [None]
    order = rng.permutation(n)
    return [order[i : i + size] for i in range(0, n, size)]


def _first_order(
    space: ReducedSpace, theta: dict[str, np.ndarray], opts: AdjointOptions, t0: float
) -> tuple[dict[str, np.ndarray], list[dict[str, float]], Termination]:
    """Gradient descent (with momentum) or Adam over epochs of mini-batches."""
    rng = np.random.default_rng(opts.seed)
    lay, lr = space.layering, opts.learning_rate
    m1 = {k: np.zeros_like(v) for k, v in theta.items()}
    m2 = {k: np.zeros_like(v) for k, v in theta.items()}
    records: list[dict[str, float]] = []
    step, sense = 0, float(space.model.sense_sign)
    for epoch in range(1, opts.epochs + 1):
        losses: list[float] = []
        gnorm = math.nan
        for idx in _batches(lay.n_samples, opts.batch_size, rng):
            pt = space.evaluate(theta, None if idx is None else lay.batch(idx))
            losses.append(pt.objective)
            if idx is None:
                gnorm = _inf_norm(pt.gradient)
                if gnorm <= opts.tolerance:
                    records.append({"iteration": epoch, "primal": pt.objective, "grad": gnorm})
                    report(opts.callback, epoch, pt.objective, sense, gnorm, t0)
                    return theta, records, Termination.CONVERGED
            step += 1
            for k, g in pt.gradient.items():
                if opts.method == "gd":
                    m1[k] = opts.momentum * m1[k] + g
                    theta[k] = theta[k] - lr * m1[k]
                else:
                    m1[k] = opts.beta1 * m1[k] + (1 - opts.beta1) * g
                    m2[k] = opts.beta2 * m2[k] + (1 - opts.beta2) * g * g
                    mh = m1[k] / (1 - opts.beta1**step)
                    vh = m2[k] / (1 - opts.beta2**step)
                    theta[k] = theta[k] - lr * mh / (np.sqrt(vh) + 1e-8)
        elapsed = time.perf_counter() - t0
        rec = {"iteration": epoch, "primal": float(np.mean(losses)), "grad": gnorm}
        records.append({**rec, "step": lr, "seconds": elapsed})
        if opts.verbose:
            log.info("epoch %d: loss %.6g, |grad| %.3g", epoch, rec["primal"], gnorm)
        if report(opts.callback, epoch, rec["primal"], sense, gnorm, t0):
            return theta, records, Termination.CALLBACK
        if opts.time_limit is not None and elapsed > opts.time_limit:
            return theta, records, Termination.TIME_LIMIT
    return theta, records, Termination.ITERATION_LIMIT


def _lbfgs(
    space: ReducedSpace, theta: dict[str, np.ndarray], opts: AdjointOptions, t0: float
) -> tuple[dict[str, np.ndarray], list[dict[str, float]], Termination]:
    """scipy's L-BFGS-B on the full batch, with the multiplier recursion for the gradient."""
    from scipy.optimize import minimize

    names = list(theta)
    shapes = [theta[k].shape for k in names]
    cuts = np.cumsum([0] + [int(np.prod(s)) for s in shapes])

    def unpack(v: np.ndarray) -> dict[str, np.ndarray]:
        return {k: v[a:b].reshape(s) for k, a, b, s in zip(names, cuts[:-1], cuts[1:], shapes)}

    def fg(v: np.ndarray) -> tuple[float, np.ndarray]:
        pt = space.evaluate(unpack(v))
        return pt.objective, np.concatenate([np.ravel(pt.gradient[k]) for k in names])

    records: list[dict[str, float]] = []
    stopped: list[bool] = []

    def callback(intermediate_result: Any) -> None:
        elapsed = time.perf_counter() - t0
        records.append({"primal": float(intermediate_result.fun), "seconds": elapsed})
        sense = float(space.model.sense_sign)
        if report(opts.callback, len(records), records[-1]["primal"], sense, math.nan, t0):
            stopped.append(True)
            raise StopIteration
        if opts.time_limit is not None and elapsed > opts.time_limit:
            raise StopIteration

    x0 = np.concatenate([np.ravel(theta[k]) for k in names])
    with _few_blas_threads(x0.size):
        res = minimize(
            fg,
            x0,
            jac=True,
            method="L-BFGS-B",
            callback=callback,
            options={"maxiter": opts.epochs, "gtol": opts.tolerance, "ftol": 1e-15},
        )
    if stopped:
        term = Termination.CALLBACK
    elif opts.time_limit is not None and records and records[-1]["seconds"] > opts.time_limit:
        term = Termination.TIME_LIMIT
    elif res.success:
        term = Termination.CONVERGED
    else:
        term = Termination.ITERATION_LIMIT
    return unpack(np.asarray(res.x)), records, term


def _few_blas_threads(n_params: int) -> Any:
    """One BLAS thread for small models: L-BFGS-B's tiny vector operations otherwise spend
    their time waking BLAS threads (about 100x slower on a busy two-core machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas") if n_params < 20000 else contextlib.nullcontext()


def _scaled_violation(
    v: np.ndarray, lo: np.ndarray, hi: np.ndarray, lo_scale: np.ndarray, hi_scale: np.ndarray
) -> float:
    """``max(0, (lo - v) / (1 + |lo_scale|), (v - hi) / (1 + |hi_scale|))`` over the entries."""
    with np.errstate(invalid="ignore"):
        below = np.where(np.isfinite(lo), (lo - v) / (1.0 + np.abs(lo_scale)), 0.0)
        above = np.where(np.isfinite(hi), (v - hi) / (1.0 + np.abs(hi_scale)), 0.0)
    return float(np.max(np.maximum(np.maximum(below, above), 0.0), initial=0.0))


def certify_matrix_free(
    model: Model, x: Mapping[str, Any], multipliers: Mapping[str, Any], *, tol: float = 1e-6
) -> KKTReport:
    """The residuals of ``kkt.certify`` computed with vector-Jacobian products (no Jacobian).

    Each row and column on its own scale, as ``kkt.certify`` judges them: primal
    ``max_i viol_i / (1 + |b_i|)`` (``b_i`` the violated bound without the body's constant) and
    ``max_j viol_j / (1 + |bound_j|)``, stationarity ``max_j |r_j| / (1 + |grad_j f|)`` of
    ``r = grad f + J^T y`` on the variables without an active bound, signs and complementarity.
    """
    z = model.join(dict(x))
    f = model.objective_value(z)
    s = model.sense_sign
    grad = s * as_nonlinear(model.objective).vjp(z, np.ones(1))
    r = grad.copy()
    viol, comp, sign_v = 0.0, 0.0, 0.0
    for name, g in model.groups.items():
        vals = g.body.value(z)
        y = g.sign * np.asarray(multipliers.get(name, np.zeros(g.shape)), dtype=float).ravel()
        r += as_nonlinear(g.body).vjp(z, y.reshape(g.shape))
        lo0, hi0 = g.bounds_without_constant()
        viol = max(viol, _scaled_violation(vals, g.lo, g.hi, lo0, hi0))
        with np.errstate(invalid="ignore"):
            terms = np.nan_to_num(np.maximum(y, 0) * (vals - g.hi))
            terms += np.nan_to_num(np.maximum(-y, 0) * (g.lo - vals))
        comp = max(comp, float(np.max(np.abs(terms), initial=0.0)))
        wrong = (y > 0) & ~np.isfinite(g.hi) | (y < 0) & ~np.isfinite(g.lo)
        sign_v = max(sign_v, float(np.max(np.abs(y[wrong]), initial=0.0)))
    lb, ub = model.lower_bounds(), model.upper_bounds()
    with np.errstate(invalid="ignore"):
        at_lb = np.isfinite(lb) & (z <= lb + 1e-9 * (1 + np.abs(lb)))
        at_ub = np.isfinite(ub) & (z >= ub - 1e-9 * (1 + np.abs(ub)))
    free = np.where(r > 0, ~at_lb, ~at_ub)
    cscale = 1.0 + float(np.max(np.abs(grad), initial=0.0))
    stat = float(np.max(np.abs(r[free]) / (1.0 + np.abs(grad[free])), initial=0.0))
    primal = max(viol, _scaled_violation(z, lb, ub, lb, ub))
    res = {"primal": primal, "stationarity": stat, "sign": sign_v / cscale}
    res["complementarity"] = comp / (1.0 + abs(f))
    notes = tuple(f"{k} residual {v:.3g} > {tol:g}" for k, v in res.items() if not v <= tol)
    return KKTReport(
        primal_residual=primal,
        stationarity=stat,
        complementarity=res["complementarity"],
        duality_gap=0.0,
        sign_violation=res["sign"],
        integrality=0.0,
        dual_objective=f,
        tolerance=tol,
        certified=not notes,
        kind="kkt",
        notes=notes,
    )


def _finish(
    space: ReducedSpace,
    theta: dict[str, np.ndarray],
    records: list[dict[str, float]],
    term: Termination,
    opts: AdjointOptions,
    seconds: float,
) -> Solution:
    model = space.model
    point = space.evaluate(theta)  # the full data: exact outputs and multipliers
    x = {k: np.asarray(to_numpy(v), dtype=float) for k, v in theta.items()}
    x.update({k: np.asarray(to_numpy(v), dtype=float) for k, v in point.outputs.items()})
    lam = {
        g: np.asarray(to_numpy(v), dtype=float).reshape(model.groups[g].shape)
        for g, v in point.multipliers.items()
    }
    lam.update({g: np.asarray(mu, dtype=float) for g, (_, _, mu) in space.fixed.items()})
    use_jac = opts.certificate == "jacobian" or (opts.certificate == "auto" and model.m <= 20000)
    if use_jac:
        rep = kkt.certify(model, x, lam, tol=opts.tolerance)
    else:
        rep = certify_matrix_free(model, x, lam, tol=opts.tolerance)
    why_not_convex = convexity_gap(model) if rep.certified else None
    bound = math.nan
    if rep.certified and why_not_convex is None:  # a KKT point of a convex model: global
        status, term = Status.OPTIMAL, Termination.CONVERGED
        bound = rep.dual_objective
        message = "KKT point of a convex model (affine groups, convex quadratic objective)"
    elif rep.certified:
        status, term = Status.LOCALLY_OPTIMAL, Termination.CONVERGED
        message = f"KKT point (local: convexity not proven: {why_not_convex})"
    else:
        status = Status.FEASIBLE if rep.primal_residual <= opts.tolerance else Status.NO_SOLUTION
        message = "; ".join(rep.notes)
    grads = {k: np.asarray(to_numpy(g), dtype=float) for k, g in point.gradient.items()}
    gnorm = _inf_norm(grads)
    objective = model.objective_value(model.join(x))
    return Solution(
        status=status,
        termination=term,
        objective=objective,
        bound=bound,
        gap=model.sense_sign * (objective - bound) if math.isfinite(bound) else math.nan,
        x=x,
        multipliers=lam,
        reduced_costs=grads,
        shadow_prices=kkt.shadow_prices(model, lam),
        kkt=rep,
        history=History.from_records(list(records)) if records else None,
        solver="adjoint",
        iterations=len(records),
        seconds=seconds,
        message=message,
        info={"method": opts.method, "gradient_inf_norm": gnorm, "lagrangian": point.objective},
    )
