"""The certificate's measures of a PDHG iterate, from its scaled vectors.

These are :func:`ortools_lag.kkt.certify`'s residuals of the LP, in its norms and scaling, so
that PDHG stops where the certificate holds: each row's violation over ``1 + |b_i|``, each
reduced cost that no finite bound absorbs over ``1 + |c_j|``, the largest complementarity
product and the Lagrangian value of ``y``. A scaled residual times the per-row (per-column)
weight of :class:`~ortools_lag.solvers.pdhg.scaling.ScaledLp` is the original one over its own
scale, so nothing is unscaled vector by vector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ortools_lag.solvers.pdhg.scaling import ScaledLp

__all__ = ["certificate_measures"]


def certificate_measures(
    lp: ScaledLp, x: Any, y: Any, Ax: Any, pv: Any, dv: Any
) -> tuple[float, float, float, float]:
    """The certificate's measures (:func:`ortools_lag.kkt.certify` on the LP) from scaled
    vectors: the largest row violation over its own bound's scale ``1 + |b_i|``, the largest
    reduced cost that no finite bound absorbs over ``1 + |c_j|``, the largest complementarity
    product and the Lagrangian value (both in scaled units, times ``1/(γβ)`` in original ones).

    ``dv = c + Aᵀy`` (not yet reduced by the absorbed part); ``x`` within its bounds and ``y``
    with the dual signs, as PDHG's iterates are."""
    ops = lp.ops
    if lp.w_lo is None:  # a ScaledLp built by hand: nothing to measure on
        return 0.0, 0.0, 0.0, 0.0
    p = ops.norm_inf(ops.pos(pv) * lp.w_hi + ops.pos(-pv) * lp.w_lo)
    rp, rm = ops.pos(dv), ops.pos(-dv)
    d = ops.norm_inf((rp * (1.0 - lp.lb_ok) + rm * (1.0 - lp.ub_ok)) * lp.w_col)
    yp, ym = ops.pos(y), ops.pos(-y)
    comp = max(
        ops.norm_inf(yp * (lp.hi_f - Ax) * lp.hi_ok),
        ops.norm_inf(ym * (Ax - lp.lo_f) * lp.lo_ok),
        ops.norm_inf(rp * lp.lb_ok * (x - lp.lb_f)),
        ops.norm_inf(rm * lp.ub_ok * (lp.ub_f - x)),
    )
    sigma = ops.dot(lp.hi_f, yp) - ops.dot(lp.lo_f, ym)
    lagr = -sigma + ops.dot(lp.lb_f, rp * lp.lb_ok) - ops.dot(lp.ub_f, rm * lp.ub_ok)
    return p, d, comp, lagr
