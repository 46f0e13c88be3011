"""Restarted primal-dual hybrid gradient (PDHG) for linear programs, in the style of PDLP.

The LP (the pinned ``StandardForm`` without integrality or ``Q``)::

    minimise  cᵀx + offset   subject to   lo <= A x <= hi,   lb <= x <= ub

is solved as the saddle point of its Lagrangian with the rows dualised::

    min_{lb<=x<=ub} max_y  L(x, y) = cᵀx + yᵀ A x − σ(y),   σ(y) = Σ_i (hi_i y_i⁺ − lo_i y_i⁻)

(σ is the support function of the box ``[lo, hi]``). Multipliers follow the project
convention: ``y_i`` is the signed multiplier ``μ_upper − μ_lower`` of row ``i``, ``>= 0`` when
the upper side binds, ``<= 0`` when the lower side binds, free on an equality. The reduced
costs are ``r = c + Aᵀy`` (stationarity ``c + Aᵀy − r = 0``): ``r_j >= 0`` where ``x_j`` sits
at its lower bound, ``<= 0`` at its upper bound. The dual bound is
``D(y) = −σ(y) + Σ_j (lb_j r_j⁺ − ub_j r_j⁻) + offset <= cᵀx + offset``.

One iteration (step ``η``, primal weight ``ω``, ``τ = η/ω``, ``s = ηω``)::

    x⁺ = proj_[lb,ub](x − τ (c + Aᵀy))
    y⁺ = v − s · proj_[lo,hi](v / s),   v = y + s A(2x⁺ − x)

with PDLP's ingredients: Ruiz + Pock–Chambolle + l2 preconditioning and bound/objective
scaling (:mod:`.pdhg_scaling`), the adaptive step size, primal-weight updates at restarts,
adaptive restarts on the KKT error (cuPDLP's rule, to the current or the step-weighted average
iterate, with an artificial restart once the epoch reaches 1/4 of all steps: fewer iterations
than cuPDLP's 0.36 on the benchmark's transportation and flow LPs and on Netlib),
infeasibility detection (a Farkas ``y`` or a primal ray ``d`` found in the current or average
iterate, the difference since the last restart or the last step), and optional feasibility
polishing. ``method="halpern"`` runs cuPDLPx's reflected restarted Halpern
iteration instead (:mod:`.pdhg_halpern`: constant step, PID primal weight); on Netlib it takes
about as many iterations, on transportation LPs up to twice as many (its constant step
``0.998/‖Ã‖₂`` is 5–10 times smaller than the adaptive steps late in those solves), so
``"adaptive"`` stays the default. The algorithm is written once over :mod:`.pdhg_arrays` (numpy +
scipy.sparse, or torch on CPU/CUDA).

Termination (``OPTIMAL`` at tolerance ε, checked on the returned point in original units) is
the certificate of :func:`ortools_lag.kkt.certify`, in its norms and scaling, so that the two
agree: each row's violation over its own bound's scale ``1 + |b_i|``, each reduced cost that no
finite bound absorbs over ``1 + |c_j|``, the largest complementarity product and the gap to the
Lagrangian value of ``y`` (reduced costs absorbed by the finite bounds), the last two over
``1 + |cᵀx|``, all ``<= ε``. PDLP's measures (l2 norms over ``1 + ‖b‖₂``, ``1 + ‖c‖₂``) are
reported, not tested: a residual relative to the whole right-hand side's norm lets a row with a
small bound be violated by a large amount (Netlib israel: a row off by 41 at ε = 1e-4).

>>> import numpy as np, scipy.sparse as sp
>>> A = sp.csr_matrix(np.array([[1.0, 1.0]]))
>>> res = pdhg_solve(np.array([-1.0, -2.0]), A, np.array([-np.inf]), np.array([1.0]),
...                  np.zeros(2), np.full(2, np.inf), accuracy="high")
>>> res.status, round(res.objective, 6), np.round(res.y, 6).tolist()
('optimal', -2.0, [2.0])
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ortools_lag.errors import OptionError
from ortools_lag.solvers.pdhg.arrays import NumpyOps, array_ops
from ortools_lag.solvers.pdhg.halpern import halpern_loop
from ortools_lag.solvers.pdhg.scaling import (
    HostLp,
    Kkt,
    find_ray,
    residuals,
    scale_lp,
    scale_point,
    validate_lp,
)
from ortools_lag.solvers.pdhg.scaling import ScaledLp as _Lp

__all__ = ["STATUSES", "PdhgResult", "pdhg_solve"]

log = logging.getLogger(__name__)

STATUSES = (
    "optimal",
    "primal_infeasible",
    "dual_infeasible",
    "iteration_limit",
    "time_limit",
    "numerical_error",
    "callback",
)
_EVAL_EVERY = 32
_RESTART = (0.2, 0.8, 0.25)  # sufficient / necessary KKT reduction, artificial restart fraction
_SMOOTHING = 0.5  # primal weight update smoothing θ
_INF = math.inf


@dataclass(frozen=True)
class PdhgResult:
    """What :func:`pdhg_solve` returns (all arrays on the host, original units).

    Attributes
    ----------
    x, y, reduced_costs
        Primal point, signed row multipliers and ``c + Aᵀy`` (project convention).
    status
        One of :data:`STATUSES`.
    objective, dual_objective
        ``cᵀx + offset`` and the Lagrangian value of ``y`` (the certificate's dual bound).
    primal_residual, dual_residual, gap, objective_error
        PDLP's relative measures (reported): ``‖Ax − proj(Ax)‖₂/(1+‖b‖₂)``,
        ``‖r − λ‖₂/(1+‖c‖₂)``, ``|p − d|/(1+|p|+|d|)`` and
        ``(|y|ᵀ|Ax − proj(Ax)| + |x|ᵀ|r − λ|)/(1+|p|+|d|)``.
    certificate_residuals
        The certificate's measures that termination tests (``primal``, ``stationarity``,
        ``gap``, ``complementarity``; see the module docstring).
    tolerance, tolerance_met
        The requested tolerance, and the tolerance met (``None`` unless optimal).
    certificate
        For ``primal_infeasible`` a Farkas ``y`` (``Aᵀy`` in the bounds' cone and
        ``D₀(y) > 0``), for ``dual_infeasible`` a primal ray ``d`` (``cᵀd < 0``); l∞-normalised.
    """

    x: np.ndarray
    y: np.ndarray
    reduced_costs: np.ndarray
    status: str
    objective: float
    dual_objective: float
    primal_residual: float
    dual_residual: float
    gap: float
    objective_error: float
    tolerance: float
    tolerance_met: float | None
    iterations: int
    rejected_steps: int
    restarts: int
    seconds: float
    certificate: np.ndarray | None
    backend: str
    device: str
    polished: bool = False
    certificate_residuals: dict[str, float] | None = None

    @property
    def r(self) -> np.ndarray:
        """The reduced costs ``c + Aᵀy``."""
        return self.reduced_costs

    @property
    def relative_error(self) -> float:
        """The largest of the certificate's measures (``<= tolerance`` when optimal)."""
        if self.certificate_residuals is None:
            return math.nan
        return max(self.certificate_residuals.values())


@dataclass
class _State:
    """Mutable iteration state (scaled units)."""

    x: Any
    y: Any
    Ax: Any
    ATy: Any
    eta: float
    omega: float
    x0: Any = None
    y0: Any = None
    kkt0: Kkt | None = None
    x_sum: Any = None
    y_sum: Any = None
    w_sum: float = 0.0
    k: int = 0
    t: int = 0
    rejected: int = 0
    restarts: int = 0
    last_err: float = _INF
    last_dx: Any = None
    last_dy: Any = None
    polished: bool = False
    xb: Any = None  # spare n-vectors (x⁺ and x⁺ − x are written into them)
    dxb: Any = None


@dataclass(frozen=True)
class _Options:
    tol: float
    max_iter: int
    deadline: float = _INF
    averaging: bool = True
    constant_step: bool = False
    eps_infeasible: float = 1e-8
    polish: bool = False
    target: str = "optimal"  # or "primal" / "dual": the feasibility problems of polishing
    target_tol: float | None = None
    method: str = "adaptive"  # or "halpern" (pdhg_halpern)
    callback: Callable[[int, Kkt], Any] | None = None  # told (k, kkt) at each measurement

    def done(self, q: Kkt) -> bool:
        """Whether ``q`` meets the target (all four measures, or one side's residual)."""
        t = self.tol if self.target_tol is None else self.target_tol
        if self.target == "primal":
            return q.cert_p <= t
        if self.target == "dual":
            return q.cert_d <= t
        return q.worst <= t


def _attempt(lp: _Lp, s: _State, eta: float) -> tuple[Any, Any, Any, float]:
    """One PDHG step of size ``eta``; returns the new point and the largest safe step.

    Two products per step: ``Aᵀy`` (added into the primal buffer, unless already at hand) and
    ``A x⁺``; the step-size test uses ``A x⁺ − A x``, so ``Aᵀy⁺`` waits for the next step.
    """
    ops = lp.ops
    tau, sig = eta / s.omega, eta * s.omega
    if s.xb is None:
        s.xb, s.dxb = ops.zeros_like(s.x), ops.zeros_like(s.x)
    x = ops.assign(s.xb, s.x)  # x⁺ is built in the spare buffer: no n-vector temporaries
    ops.axpy(-tau, lp.c, x)
    if s.ATy is not None:
        ops.axpy(-tau, s.ATy, x)
    else:
        ops.matvec_add(lp.AT, s.y * -tau, x)
    x = ops.clip(x, lp.lb, lp.ub, out=x)
    Ax = ops.matvec(lp.A, x)
    v = s.y + sig * (2.0 * Ax - s.Ax)
    y = v - sig * ops.clip(v / sig, lp.lo, lp.hi)
    dx, dy = ops.sub(x, s.x, out=s.dxb), y - s.y
    dxx, dyy, dyax = ops.dots([(dx, dx), (dy, dy), (dy, Ax - s.Ax)])
    movement, interaction = 0.5 * (s.omega * dxx + dyy / s.omega), abs(dyax)
    s.last_dx, s.last_dy = dx, dy
    return x, y, Ax, (movement / interaction if interaction > 0 else _INF)


def _step(lp: _Lp, s: _State, constant: bool) -> None:
    """PDLP's adaptive step: retry with a smaller ``η`` until ``η <= η̄``."""
    while True:
        eta = s.eta
        x, y, Ax, eta_bar = _attempt(lp, s, eta)
        k = s.k + 1
        if not constant:
            s.eta = min((1.0 - (k + 1) ** -0.3) * eta_bar, (1.0 + (k + 1) ** -0.6) * eta)
        if constant or eta <= eta_bar or not math.isfinite(s.eta) or s.eta <= 0:
            break
        s.rejected += 1
        _aty(lp, s)  # kept for the retries
    s.x, s.xb, s.y, s.Ax, s.ATy = x, s.x, y, Ax, None  # the old x becomes the spare buffer
    s.k, s.t = k, s.t + 1
    if s.x_sum is not None:
        lp.ops.axpy(eta, x, s.x_sum)
        lp.ops.axpy(eta, y, s.y_sum)
        s.w_sum += eta


def _aty(lp: _Lp, s: _State) -> Any:
    """``Aᵀy`` of the current ``y`` (computed once, then kept until ``y`` moves)."""
    if s.ATy is None:
        s.ATy = lp.ops.matvec(lp.AT, s.y)
    return s.ATy


def _average(lp: _Lp, s: _State) -> tuple[Any, Any, Any, Any] | None:
    if s.x_sum is None or s.w_sum <= 0:
        return None
    xa, ya = s.x_sum / s.w_sum, s.y_sum / s.w_sum
    return xa, ya, lp.ops.matvec(lp.A, xa), lp.ops.matvec(lp.AT, ya)


def _reset_anchor(lp: _Lp, s: _State, kkt: Kkt, averaging: bool) -> None:
    s.x0, s.y0, s.kkt0, s.t = lp.ops.copy(s.x), s.y, kkt, 0
    s.last_err = kkt.error(s.omega)
    if averaging:
        s.x_sum, s.y_sum, s.w_sum = lp.ops.zeros_like(s.x), lp.ops.zeros_like(s.y), 0.0


def _restart(lp: _Lp, s: _State, cur: Kkt, avg: tuple[Any, ...] | None, opt: _Options) -> None:
    """Adaptive restart on the KKT error (cuPDLP's rule); primal weight update at a restart."""
    cand, point = cur, None
    if avg is not None and avg[4].error(s.omega) < cur.error(s.omega):
        cand, point = avg[4], avg[:4]
    assert s.kkt0 is not None
    err, err0 = cand.error(s.omega), s.kkt0.error(s.omega)
    suff, nec, art = _RESTART
    restart = s.t >= art * s.k or err <= suff * err0 or (err <= nec * err0 and err > s.last_err)
    s.last_err = err
    if not restart:
        return
    if point is not None:
        s.x, s.y, s.Ax, s.ATy = point
    dxn, dyn = lp.ops.norm(s.x - s.x0), lp.ops.norm(s.y - s.y0)
    if 1e-10 < dxn < 1e10 and 1e-10 < dyn < 1e10:  # PDLP's guard against extreme weights
        th = _SMOOTHING
        s.omega = math.exp(th * math.log(dyn / dxn) + (1.0 - th) * math.log(s.omega))
    s.restarts += 1
    _reset_anchor(lp, s, cand, opt.averaging)


def _infeasibility(
    lp: _Lp, s: _State, avg: tuple[Any, ...] | None, eps: float
) -> tuple[str, Any] | None:
    """Look for rays in the current and average iterates, the difference since the last
    restart and the last step (iterates need no projection: ``Aᵀy`` is at hand)."""
    cands = [(s.y, s.x, s.ATy), (s.y - s.y0, s.x - s.x0, None), (s.last_dy, s.last_dx, None)]
    if avg is not None:
        cands.insert(1, (avg[1], avg[0], avg[3]))
    return find_ray(lp, cands, eps)


def _run(lp: _Lp, s: _State, opt: _Options) -> tuple[str, Kkt, Any]:
    """The main loop of ``opt.method``."""
    return halpern_loop(lp, s, opt) if opt.method == "halpern" else _loop(lp, s, opt)


def _loop(lp: _Lp, s: _State, opt: _Options) -> tuple[str, Kkt, Any]:
    """Major iterations (``_EVAL_EVERY`` steps each) until a criterion, a ray, a limit or NaN."""
    kkt = residuals(lp, s.x, s.y, s.Ax, _aty(lp, s))
    _reset_anchor(lp, s, kkt, opt.averaging)
    if opt.done(kkt):
        return "optimal", kkt, None
    next_polish = 0
    while True:
        for _ in range(min(_EVAL_EVERY, opt.max_iter - s.k)):
            _step(lp, s, opt.constant_step)
        cur = residuals(lp, s.x, s.y, s.Ax, _aty(lp, s))
        stop = opt.callback is not None and bool(opt.callback(s.k, cur))
        av = _average(lp, s)
        avg = (*av, residuals(lp, *av)) if av is not None else None
        if opt.done(cur):
            return "optimal", cur, None
        if avg is not None and opt.done(avg[4]):
            s.x, s.y, s.Ax, s.ATy = avg[:4]
            return "optimal", avg[4], None
        if not cur.finite:
            return "numerical_error", cur, None
        if stop:
            return "callback", cur, None
        found = _infeasibility(lp, s, avg, opt.eps_infeasible)
        if found is not None:
            return found[0], cur, found[1]
        if opt.polish and cur.rel_gap <= opt.tol and s.k >= next_polish:
            polished = _polish(lp, s, opt)
            if polished is not None:
                return "optimal", polished, None
            next_polish = 2 * s.k
        if s.k >= opt.max_iter:
            return "iteration_limit", cur, None
        if time.perf_counter() >= opt.deadline:
            return "time_limit", cur, None
        _restart(lp, s, cur, avg, opt)
        log.debug(
            "pdhg k=%d primal=%.2e stationarity=%.2e gap=%.2e comp=%.2e eta=%.3g omega=%.3g",
            s.k, cur.cert_p, cur.cert_d, cur.cert_gap, cur.cert_comp, s.eta, s.omega,
        )  # fmt: skip


def _polish(lp: _Lp, s: _State, opt: _Options) -> Kkt | None:
    """Feasibility polishing: PDHG on the primal feasibility problem (c = 0) from ``x`` and on
    the dual feasibility problem (finite bounds set to 0) from ``y``; keeps the pair if optimal.
    """
    ops = lp.ops
    budget = max(8 * _EVAL_EVERY, s.k // 8)
    tight = 0.01 * (
        opt.tol if opt.target_tol is None else opt.target_tol
    )  # leaves room for the gap
    sub = replace(
        opt, max_iter=budget, eps_infeasible=0.0, polish=False, target_tol=tight, callback=None
    )
    zx, zy = ops.zeros_like(s.x), ops.zeros_like(s.y)
    lp_p = replace(lp, c=zx)
    sp_ = _State(x=ops.copy(s.x), y=zy, Ax=s.Ax, ATy=zx, eta=s.eta, omega=s.omega)
    st, _, _ = _run(lp_p, sp_, replace(sub, target="primal"))
    s.k += sp_.k
    if st != "optimal":
        return None
    lp_d = replace(
        lp,
        lo=lp.lo - lp.lo_f, hi=lp.hi - lp.hi_f,
        lb=None if lp.lb is None else lp.lb - lp.lb_f,
        ub=None if lp.ub is None else lp.ub - lp.ub_f,
        lo_f=zy, hi_f=zy, lb_f=zx, ub_f=zx, lb_zero=True, ub_zero=True,
    )  # fmt: skip
    sd = _State(x=ops.zeros_like(s.x), y=s.y, Ax=zy, ATy=_aty(lp, s), eta=s.eta, omega=s.omega)
    st, _, _ = _run(lp_d, sd, replace(sub, target="dual"))
    s.k += sd.k
    if st != "optimal":
        return None
    kkt = residuals(lp, sp_.x, sd.y, sp_.Ax, _aty(lp, sd))
    if not opt.done(kkt):
        return None
    s.x, s.y, s.Ax, s.ATy, s.polished = sp_.x, sd.y, sp_.Ax, sd.ATy, True
    return kkt


def _initial_state(lp: _Lp, host: HostLp, warm_start: tuple[Any, Any] | None, eta: float) -> _State:
    xs, ys, omega = scale_point(lp, host, warm_start)
    x, y = lp.ops.asarray(xs), lp.ops.asarray(ys)
    Ax, ATy = lp.ops.matvec(lp.A, x), lp.ops.matvec(lp.AT, y)
    return _State(x=x, y=y, Ax=Ax, ATy=ATy, eta=eta, omega=omega)


def _resolve_tolerance(tolerance: float, accuracy: str | None) -> float:
    if accuracy is None:
        tol = float(tolerance)
    elif accuracy == "high":
        tol = 1e-8
    else:
        raise OptionError(f"unknown accuracy {accuracy!r} (valid choices: high, None)")
    if not (0.0 < tol < 1.0):
        raise OptionError(f"tolerance must lie in (0, 1), got {tol}")
    return tol


def _certify(host_lp: _Lp, host: HostLp, x: np.ndarray, y: np.ndarray) -> tuple[Kkt, np.ndarray]:
    """Residuals of the returned ``(x, y)`` recomputed on the host in original units."""
    ATy = np.asarray(host.A.T @ y)
    return residuals(host_lp, x, y, np.asarray(host.A @ x), ATy), host.c + ATy


def pdhg_solve(
    c: Any,
    A: Any,
    row_lo: Any,
    row_hi: Any,
    lb: Any = None,
    ub: Any = None,
    *,
    offset: float = 0.0,
    tolerance: float = 1e-4,
    accuracy: str | None = None,
    max_iter: int = 100_000,
    time_limit: float | None = None,
    device: str | None = None,
    backend: str | None = None,
    warm_start: tuple[Any, Any] | None = None,
    polish: bool = False,
    averaging: bool = True,
    step_rule: str = "adaptive",
    scaling: bool = True,
    eps_infeasible: float = 1e-8,
    threads: int | None = None,
    seed: int | np.random.Generator | None = 0,
    method: str = "adaptive",
    callback: Callable[[int, Kkt], Any] | None = None,
) -> PdhgResult:
    """Solve ``min cᵀx + offset s.t. row_lo <= A x <= row_hi, lb <= x <= ub`` by restarted PDHG.

    Parameters
    ----------
    c, A, row_lo, row_hi, lb, ub
        The LP: ``A`` m×n (scipy.sparse or dense), bounds with ±inf allowed
        (``row_lo == row_hi`` for equalities; ``None`` means unbounded).
    offset
        Objective constant.
    tolerance, accuracy
        Relative tolerance on the primal residual, dual residual and gap (default 1e-4);
        ``accuracy="high"`` means 1e-8.
    max_iter, time_limit
        Iteration cap (accepted steps) and wall-clock limit in seconds.
    device, backend
        ``backend="numpy"`` (default, scipy.sparse on the CPU) or ``"torch"``;
        ``device="cuda"`` implies torch.
    warm_start
        ``(x0, y0)`` in original units and the project's sign convention.
    polish
        Try feasibility polishing once the relative gap is below the tolerance.
    averaging
        Keep the step-weighted average as a restart candidate (PDLP); off saves a vector
        update per iteration.
    step_rule
        ``"adaptive"`` (PDLP) or ``"constant"`` (``0.998/‖Ã‖₂``, Lanczos from a seeded start).
    scaling
        Ruiz + Pock–Chambolle + bound/objective scaling (on by default).
    eps_infeasible
        Relative tolerance of the infeasibility certificates.
    threads
        Compute threads: numpy's BLAS calls use ``threads`` (1 by default; scipy's sparse
        products are single-threaded); torch uses ``torch.set_num_threads(threads)`` when given.
    seed
        Seed of the start of the ``‖Ã‖₂`` estimate (``step_rule="constant"``, ``"halpern"``).
    method
        ``"adaptive"`` (PDLP's adaptive steps, restarts to the average or the current point) or
        ``"halpern"`` (cuPDLPx's reflected restarted Halpern PDHG, :mod:`.pdhg_halpern`).
    callback
        ``callback(iterations, kkt)`` at every measurement of the current point (every 32
        steps, 64 with ``"halpern"``; ``kkt.pobj`` and ``kkt.lagrangian`` are the objective and
        the dual bound in original units); a true answer stops the run with status
        ``"callback"`` (unless the point just measured is optimal, a ray or NaN).

    Returns
    -------
    PdhgResult
        Point, multipliers, reduced costs, status and residuals (recomputed on the host).

    Raises
    ------
    ModelError
        Bad shapes, NaN, empty bounds.
    OptionError
        Unknown ``accuracy``, ``backend``, ``step_rule`` or ``method``, tolerance outside (0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> res = pdhg_solve([1.0, 1.0], np.array([[1.0, 2.0]]), [2.0], [2.0], [0, 0], [5, 5])
    >>> res.status, round(res.objective, 3)
    ('optimal', 1.0)
    """
    start = time.perf_counter()
    tol = _resolve_tolerance(tolerance, accuracy)
    if step_rule not in ("adaptive", "constant"):
        raise OptionError(f"unknown step_rule {step_rule!r} (valid choices: adaptive, constant)")
    if method not in ("adaptive", "halpern"):
        raise OptionError(f"unknown method {method!r} (valid choices: adaptive, halpern)")
    if int(max_iter) < 0:
        raise OptionError(f"max_iter must be >= 0, got {max_iter}")
    host = validate_lp(c, A, row_lo, row_hi, lb, ub, offset)
    if backend is None:
        backend = "torch" if device is not None and device.startswith("cuda") else "numpy"
    ops = array_ops(backend, device)
    opt = _Options(
        tol, int(max_iter), start + time_limit if time_limit is not None else _INF,
        averaging, step_rule == "constant" or method == "halpern", eps_infeasible, polish,
        method=method, callback=callback,
    )  # fmt: skip
    with ops.threads(threads):
        lp, eta0 = scale_lp(ops, host, scale=scaling, constant_step=opt.constant_step, seed=seed)
        s = _initial_state(lp, host, warm_start, eta0)
        status, kkt, x, y, r, cert = _solve(lp, s, host, opt)
    log.info("pdhg: %s after %d iterations (%d restarts)", status, s.k, s.restarts)
    return PdhgResult(
        x=x,
        y=y,
        reduced_costs=r,
        status=status,
        objective=kkt.pobj,
        dual_objective=kkt.lagrangian,
        primal_residual=kkt.rel_p,
        dual_residual=kkt.rel_d,
        gap=kkt.rel_gap,
        objective_error=kkt.rel_obj,
        tolerance=tol,
        tolerance_met=tol if status == "optimal" else None,
        iterations=s.k,
        rejected_steps=s.rejected,
        restarts=s.restarts,
        seconds=time.perf_counter() - start,
        certificate=cert,
        backend=ops.name,
        device=ops.device,
        polished=s.polished,
        certificate_residuals={
            "primal": kkt.cert_p,
            "stationarity": kkt.cert_d,
            "gap": kkt.cert_gap,
            "complementarity": kkt.cert_comp,
        },
    )


def _solve(
    lp: _Lp, s: _State, host: HostLp, opt: _Options
) -> tuple[str, Kkt, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Iterate, unscale and certify on the host; if rounding between the scaled and the
    original units denies a claimed optimum, tighten the target and go on (3 times at most).
    """
    ops = lp.ops
    host_lp = scale_lp(NumpyOps(), host, scale=False)[0]
    d_col, d_row = ops.to_numpy(lp.col_s) / lp.beta, ops.to_numpy(lp.row_s) / lp.gamma
    target = opt.tol
    for _ in range(4):
        status, _, cert = _run(lp, s, replace(opt, target_tol=target))
        x, y = ops.to_numpy(s.x) * d_col, ops.to_numpy(s.y) * d_row
        kkt, r = _certify(host_lp, host, x, y)
        if status != "optimal" or kkt.worst <= opt.tol:
            return status, kkt, x, y, r, (ops.to_numpy(cert) if cert is not None else None)
        target *= 0.25
    return "numerical_error", kkt, x, y, r, None
