"""Reflected restarted Halpern PDHG (cuPDLPx's iteration, Lu & Yang 2025) on the scaled LP.

Within an epoch with anchor ``z⁰ = (x⁰, y⁰)``, one PDHG step from the current ``z = (x, y)``
(constant step ``η = 0.998/‖Ã‖₂``, primal weight ``ω``, ``τ = η/ω``, ``s = ηω``; the project's
signs, as in :mod:`.pdhg`)::

    x̂ = proj_[lb,ub](x − τ(c + Aᵀy)),   v = y + s A(2x̂ − x),   ŷ = v − s proj_[lo,hi](v/s)

is followed by the reflected Halpern update (``k`` steps into the epoch, reflection ``γ``)::

    z⁺ = w (γ (2ẑ − z) + (1 − γ) z) + (1 − w) z⁰,   w = (k + 1)/(k + 2).

Every ``EVAL_EVERY`` steps the PDHG point ``ẑ`` is measured (termination and rays are tested
on it, and the caller's ``callback``, if any, is told the iteration count and the measures)
and the fixed-point error ``r(z) = ‖z − T(z)‖_P`` in the PDHG metric
``P = [[ω/η, −Aᵀ], [−A, 1/(ηω)]]`` decides a restart: ``r <= 0.2 r(z⁰)``, or ``r <= 0.5 r(z⁰)``
and ``r`` grew since the last check, or the epoch is ``>= 0.36`` of all steps. A restart moves
the anchor and the current point to ``ẑ`` and updates ``ω`` by cuPDLPx's PID controller on
``log(‖Δy‖/(ω‖Δx‖))`` (the moves since the last anchor).

Cost per step: one ``Aᵀy`` (accumulated into the primal buffer) and one ``A x̂``; ``A x`` and
``A x⁰`` are carried as m-vectors, so ``A(2x̂ − x)`` needs no second product.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ortools_lag.solvers.pdhg.scaling import Kkt, ScaledLp, find_ray, residuals

__all__ = ["EVAL_EVERY", "HalpernParams", "LoopOptions", "halpern_loop"]

EVAL_EVERY = 64
_INF = math.inf


class LoopOptions(Protocol):
    """What the loop reads from the caller's options."""

    @property
    def max_iter(self) -> int:
        """Iteration cap (steps, all runs together)."""
        ...

    @property
    def deadline(self) -> float:
        """``time.perf_counter()`` value at which to stop."""
        ...

    @property
    def eps_infeasible(self) -> float:
        """Relative tolerance of the infeasibility certificates."""
        ...

    @property
    def callback(self) -> Callable[[int, Kkt], Any] | None:
        """Told ``(iterations, kkt)`` at every measurement; a true answer stops the loop."""
        ...

    def done(self, q: Kkt) -> bool:
        """Whether ``q`` meets the target."""
        ...


class LoopState(Protocol):
    """The caller's iteration state (scaled units); the loop leaves the PDHG point in it."""

    x: Any
    y: Any
    Ax: Any
    ATy: Any
    eta: float
    omega: float
    k: int
    restarts: int


@dataclass(frozen=True)
class HalpernParams:
    """cuPDLPx's defaults: restart thresholds, reflection and the PID gains of ``log ω``."""

    sufficient: float = 0.2
    necessary: float = 0.5
    artificial: float = 0.36
    reflection: float = 1.0
    k_p: float = 0.99
    k_i: float = 0.01
    k_d: float = 0.0
    i_smooth: float = 0.3


@dataclass
class _Epoch:
    """Anchor, current Halpern point (with carried products) and the restart bookkeeping."""

    x0: Any
    y0: Any
    Ax0: Any
    x: Any
    y: Any
    Ax: Any
    buf: Any  # the n-vector in which x̂ is built
    k: int = 0
    r0: float = _INF
    r_last: float = _INF
    err_sum: float = 0.0
    err_last: float = 0.0
    best_omega: float = 1.0
    best_balance: float = _INF


@dataclass
class _Point:
    """The PDHG point ``ẑ`` of one measured step, with what the restart test needs."""

    x: Any
    y: Any
    Ax: Any
    dx: Any  # x̂ − x and ŷ − y: the last step's move (a ray candidate)
    dy: Any
    r: float


def _new_epoch(lp: ScaledLp, x: Any, y: Any, Ax: Any, old: _Epoch | None) -> _Epoch:
    ops = lp.ops
    buf = old.buf if old is not None else ops.zeros_like(x)
    e = _Epoch(x0=x, y0=y, Ax0=Ax, x=ops.copy(x), y=ops.copy(y), Ax=ops.copy(Ax), buf=buf)
    if old is not None:
        e.err_sum, e.err_last = old.err_sum, old.err_last
        e.best_omega, e.best_balance = old.best_omega, old.best_balance
    return e


def _step(
    lp: ScaledLp, e: _Epoch, s: LoopState, tc: Any, hp: HalpernParams, measure: bool
) -> _Point | None:
    """One PDHG step and the Halpern update; returns ``ẑ`` when ``measure`` (or ``k == 0``)."""
    ops = lp.ops
    tau, sig = s.eta / s.omega, s.eta * s.omega
    xh = ops.sub(e.x, tc, out=e.buf)  # x − τc, then += Aᵀ(−τy): no n-vector temporaries
    ops.matvec_add(lp.AT, e.y * (-tau), xh)
    xh = ops.clip(xh, lp.lb, lp.ub, out=xh)
    Axh = ops.matvec(lp.A, xh)
    v = e.y + sig * (2.0 * Axh - e.Ax)
    yh = v - sig * ops.clip(v / sig, lp.lo, lp.hi)
    point = None
    if measure or e.k == 0:
        dx, dy = xh - e.x, yh - e.y
        dxx, dyy, cross = ops.dots([(dx, dx), (dy, dy), (dy, Axh - e.Ax)])
        r2 = 4.0 * (s.omega * dxx + dyy / s.omega - 2.0 * s.eta * cross)
        point = _Point(ops.copy(xh), yh, Axh, dx, dy, math.sqrt(max(r2, 0.0)))
        if e.k == 0:
            e.r0 = point.r
    w = (e.k + 1.0) / (e.k + 2.0)
    a, b, d = 2.0 * w * hp.reflection, w * (1.0 - 2.0 * hp.reflection), 1.0 - w
    e.x *= b  # x⁺ = a x̂ + b x + d x⁰, in place
    ops.axpy(a, xh, e.x)
    ops.axpy(d, e.x0, e.x)
    e.y = a * yh + b * e.y + d * e.y0
    e.Ax = a * Axh + b * e.Ax + d * e.Ax0
    e.k += 1
    s.k += 1
    return point


def _wants_restart(e: _Epoch, p: _Point, total: int, hp: HalpernParams) -> bool:
    r = p.r
    if total == EVAL_EVERY:  # cuPDLPx's first restart: leave the (arbitrary) start early
        go = True
    else:
        go = (
            r <= hp.sufficient * e.r0
            or (r <= hp.necessary * e.r0 and r > e.r_last)
            or e.k >= hp.artificial * total
        )
    e.r_last = r
    return go


def _update_weight(
    lp: ScaledLp, e: _Epoch, s: LoopState, p: _Point, q: Kkt, hp: HalpernParams
) -> None:
    """cuPDLPx's PID step on ``log ω`` (with its safeguard: reset to the best-balanced ω)."""
    ops = lp.ops
    dxn, dyn = ops.norm(p.x - e.x0), ops.norm(p.y - e.y0)
    ratio = q.rel_d / q.rel_p if q.rel_p > 0 else _INF
    if 1e-16 < dxn < 1e12 and 1e-16 < dyn < 1e12 and 1e-8 < ratio < 1e8:
        err = math.log(dyn) - math.log(dxn) - math.log(s.omega)
        e.err_sum = hp.i_smooth * e.err_sum + err
        step = hp.k_p * err + hp.k_i * e.err_sum + hp.k_d * (err - e.err_last)
        s.omega *= math.exp(step)
        e.err_last = err
    else:
        s.omega = e.best_omega
        e.err_sum = e.err_last = 0.0
    balance = abs(math.log10(ratio)) if 0 < ratio < _INF else _INF
    if balance < e.best_balance:
        e.best_balance, e.best_omega = balance, s.omega


def halpern_loop(
    lp: ScaledLp, s: LoopState, opt: LoopOptions, hp: HalpernParams | None = None
) -> tuple[str, Kkt, Any]:
    """Steps until a criterion, a ray, a limit or NaN; leaves ``(x̂, ŷ, Ax̂, Aᵀŷ)`` in ``s``.

    Returns ``(status, kkt, certificate)`` like :func:`ortools_lag.solvers.pdhg.restarted._loop`.
    """
    hp = hp or HalpernParams()
    ops = lp.ops
    if s.ATy is None:
        s.ATy = ops.matvec(lp.AT, s.y)
    kkt = residuals(lp, s.x, s.y, s.Ax, s.ATy)
    if opt.done(kkt):
        return "optimal", kkt, None
    e = _new_epoch(lp, s.x, s.y, s.Ax, None)
    e.best_omega = s.omega
    tc = lp.c * (s.eta / s.omega)
    while True:
        n = min(EVAL_EVERY, opt.max_iter - s.k)
        p = None
        for i in range(n):
            p_i = _step(lp, e, s, tc, hp, measure=i == n - 1)
            p = p_i if i == n - 1 else p
        if p is None:  # max_iter reached before any step
            return "iteration_limit", kkt, None
        s.x, s.y, s.Ax, s.ATy = p.x, p.y, p.Ax, ops.matvec(lp.AT, p.y)
        kkt = residuals(lp, s.x, s.y, s.Ax, s.ATy)
        stop = opt.callback is not None and bool(opt.callback(s.k, kkt))
        if opt.done(kkt):
            return "optimal", kkt, None
        if not kkt.finite:
            return "numerical_error", kkt, None
        if stop:
            return "callback", kkt, None
        cands = [(p.y, p.x, s.ATy), (p.y - e.y0, p.x - e.x0, None), (p.dy, p.dx, None)]
        found = find_ray(lp, cands, opt.eps_infeasible)
        if found is not None:
            return found[0], kkt, found[1]
        if s.k >= opt.max_iter:
            return "iteration_limit", kkt, None
        if time.perf_counter() >= opt.deadline:
            return "time_limit", kkt, None
        if _wants_restart(e, p, s.k, hp):
            _update_weight(lp, e, s, p, kkt, hp)
            e = _new_epoch(lp, p.x, p.y, p.Ax, e)
            tc = lp.c * (s.eta / s.omega)
            s.restarts += 1
