"""The shared round trip of every LP/MILP/QP backend (cvxpy's apply/invert).

``model -> StandardForm -> backend -> RawResult -> Solution``: a backend implements only the
standard-form solve and returns a :class:`RawResult` whose row multipliers are already in the
project convention (signed ``y``, positive when the upper side binds; see ``standard_form``).
:func:`finish` maps names, signs and shapes back and certifies with ``kkt.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ortools_lag import kkt
from ortools_lag.model import Layout, Model
from ortools_lag.result import KKTReport, Solution, Status, Termination

__all__ = ["RawResult", "finish", "judge", "signed_gap"]


@dataclass
class RawResult:
    """What a backend hands back, before certification.

    Attributes
    ----------
    status, termination
        The backend's claim, mapped to our enums (``unknown`` as the fallback).
    x
        Primal point (global vector) or ``None``.
    y
        Signed row multipliers in the project convention, or ``None`` (MILP, no duals).
    bound
        A bound reported by the backend (MILP dual bound), in the user's sense.
    farkas, ray
        Signed row multipliers proving infeasibility / a primal unbounded direction.
    message
        The backend's raw status text.
    """

    status: Status
    termination: Termination
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    bound: float = math.nan
    iterations: int = 0
    farkas: np.ndarray | None = None
    ray: np.ndarray | None = None
    message: str = ""
    info: dict[str, Any] = field(default_factory=dict)


def finish(
    model: Model, sf: Layout, raw: RawResult, *, solver: str, seconds: float, tol: float
) -> Solution:
    """Certify a backend's raw result and build the Solution."""
    common: dict[str, Any] = dict(
        solver=solver,
        seconds=seconds,
        iterations=raw.iterations,
        message=raw.message,
        info=raw.info,
    )
    if raw.status in (Status.INFEASIBLE, Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED):
        return _finish_ray(model, sf, raw, common)
    if raw.x is None:
        return Solution(status=Status.NO_SOLUTION, termination=raw.termination, **common)
    x = sf.unpack_x(raw.x)
    f = model.objective_value(raw.x)
    if raw.y is not None:
        lam = sf.unpack_rows(raw.y)
        rep, r_flat = kkt.certify_with_reduced_costs(model, raw.x, lam, tol=tol)
        bound = rep.dual_objective if rep.certified else raw.bound
        r = sf.unpack_x(r_flat)
        prices = kkt.shadow_prices(model, lam)
    else:
        lam, r, prices = {}, {}, {}
        rep = kkt.certify_feasible(model, raw.x, bound=raw.bound, tol=tol, gap_tol=max(tol, 1e-6))
        bound = raw.bound
    status = judge(raw.status, rep)
    gap = signed_gap(model, f, bound)
    msg = raw.message if rep.certified else f"{raw.message}; not certified: {'; '.join(rep.notes)}"
    common["message"] = msg
    return Solution(
        status=status,
        termination=raw.termination,
        objective=f,
        bound=bound,
        gap=gap,
        x=x,
        multipliers=lam,
        reduced_costs=r,
        shadow_prices=prices,
        kkt=rep,
        **common,
    )


def judge(claim: Status, rep: KKTReport) -> Status:
    """The status a certificate allows: the claim ``OPTIMAL`` when ``rep`` certifies it, else
    ``FEASIBLE`` for a feasible (and integral) point, else ``NO_SOLUTION``."""
    feasible = rep.primal_residual <= rep.tolerance and (not rep.integrality > rep.tolerance)
    if claim == Status.OPTIMAL and rep.certified:
        return Status.OPTIMAL
    return Status.FEASIBLE if feasible else Status.NO_SOLUTION


def signed_gap(model: Model, f: float, bound: float) -> float:
    """``objective - bound`` in the model's sense (``>= 0`` for a valid bound; ``nan`` if none)."""
    return model.sense_sign * (f - bound) if math.isfinite(bound) else math.nan


def _finish_ray(model: Model, sf: Layout, raw: RawResult, common: dict[str, Any]) -> Solution:
    status = raw.status
    ray: dict[str, dict[str, np.ndarray]] = {}
    rep = KKTReport(certified=False, kind="none", notes=("the backend gave no certificate",))
    if raw.farkas is not None:
        lam = sf.unpack_rows(raw.farkas)
        rep = kkt.check_farkas(model, lam)
        ray["farkas"] = lam
        if rep.certified:
            status = Status.INFEASIBLE
    elif raw.ray is not None:
        rep = kkt.check_ray(model, raw.ray)
        ray["direction"] = sf.unpack_x(raw.ray)
        if rep.certified and status != Status.INFEASIBLE:
            status = Status.UNBOUNDED
    objective = math.inf if status == Status.INFEASIBLE else -math.inf
    objective *= model.sense_sign
    return Solution(
        status=status,
        termination=raw.termination,
        objective=objective,
        kkt=rep,
        ray=ray,
        **common,
    )
