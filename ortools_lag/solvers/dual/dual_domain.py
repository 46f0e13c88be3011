r"""The domain of the dual function of an LP Lagrangian, and the projection onto it.

For a linear objective ``c x``, relaxed affine rows (signed multipliers ``y = sign * lam``) and
kept affine rows ``K x`` within ``[k_lo, k_hi]`` and bounds ``lb <= x <= ub``, the inner problem
``min_x (c + A_R^T y) x`` over the kept set is bounded exactly when its LP dual is feasible:

.. math::

    q(\lambda) > -\infty \iff \exists w:\;
    r = c + A_R^T y + K^T w, \quad r_j \le 0 \text{ unless } lb_j > -\infty,
    \quad r_j \ge 0 \text{ unless } ub_j < \infty,

with ``w_i >= 0`` only where ``k_hi_i`` is finite and ``w_i <= 0`` only where ``k_lo_i`` is. On an
LP with free variables (all rows relaxed) this domain is a lower-dimensional polyhedron: at
``lam = 0`` the dual function is ``-inf``, and a subgradient step leaves the domain again. The
dual methods then work on it: :meth:`DualDomain.project` is the nearest point of the domain
(a QP by HiGHS in ``(lam, w)``), the start and every trial point are projected, and ``q`` stays
finite. When the domain is empty, ``q = -inf`` everywhere (the model is unbounded or infeasible)
and the method says so.

>>> from ortools_lag import Model
>>> from ortools_lag.lagrangian import Lagrangian
>>> m = Model(); x = m.var("x", lb=None); m.minimize(-x); _ = m.add("cap", x <= 2)
>>> dom = DualDomain(Lagrangian(m, ["cap"]))
>>> dom.project(np.zeros(1)).round(9).tolist()  # c + lam = -1 + lam = 0
[1.0]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from ortools_lag.model import StandardForm
from ortools_lag.result import Status

if TYPE_CHECKING:
    from ortools_lag.lagrangian import DualPoint, Lagrangian

__all__ = ["DualDomain", "start_in_domain"]


class DualDomain:
    """``dom q`` of an LP Lagrangian (see the module); :attr:`why` is set when it does not apply
    (a quadratic objective or quadratic groups, an oracle, nonlinear kept groups)."""

    def __init__(self, lag: Lagrangian) -> None:
        self.why: str | None = None
        m, n = lag.model, lag.model.n
        if lag.oracle is not None or not lag.objective_ok:
            self.why = "the inner problem is solved by an oracle or is not an LP"
        elif lag.Q is not None or lag.quadratic_groups or lag.nonlinear_groups:
            self.why = "the Lagrangian is not linear in x"
        elif any(m.groups[k].body.degree > 1 for k in lag.kept):
            self.why = "a kept group is not affine"
        if self.why is not None:
            return
        parts = [m.groups[k] for k in lag.kept]
        if parts:
            K = sp.csr_matrix(sp.vstack([g.body.jacobian(np.zeros(n), n) for g in parts]))
            bounds = [g.bounds_without_constant() for g in parts]
            k_lo = np.concatenate([np.broadcast_to(b[0], (g.size,)) for b, g in zip(bounds, parts)])
            k_hi = np.concatenate([np.broadcast_to(b[1], (g.size,)) for b, g in zip(bounds, parts)])
        else:
            K, k_lo, k_hi = sp.csr_matrix((0, n)), np.zeros(0), np.zeros(0)
        p = lag.size
        self.p = p
        # columns of the QP: lam (p) then w (kept rows); rows: the reduced costs with a sign rule
        M = sp.hstack([sp.csr_matrix(lag.A_R.T) @ sp.diags(lag.row_sign), K.T], format="csr")
        fin_lb, fin_ub = np.isfinite(lag.lb), np.isfinite(lag.ub)
        rows = np.flatnonzero(~(fin_lb & fin_ub))  # a boxed column absorbs any reduced cost
        r_lo = np.where(fin_ub, -np.inf, 0.0)[rows] - lag.c[rows]
        r_hi = np.where(fin_lb, np.inf, 0.0)[rows] - lag.c[rows]
        w_lo = np.where(np.isfinite(k_lo), -np.inf, 0.0)
        w_hi = np.where(np.isfinite(k_hi), np.inf, 0.0)
        q_diag = np.r_[np.ones(p), np.zeros(K.shape[0])]
        self._sf = StandardForm(
            var_blocks={},
            row_blocks={},
            c=np.zeros(p + K.shape[0]),
            offset=0.0,
            A=sp.csr_matrix(M[rows]),
            row_lo=r_lo,
            row_hi=r_hi,
            lb=np.r_[lag.lam_lo, w_lo],
            ub=np.r_[lag.lam_hi, w_hi],
            integrality=np.zeros(p + K.shape[0], dtype=bool),
            Q=sp.csc_matrix(sp.diags(q_diag)),
            sense=1,
        )

    def project(self, lam: np.ndarray) -> np.ndarray | None:
        """The nearest multipliers to ``lam`` at which ``q`` is finite (``None``: there are none,
        or the projection did not solve)."""
        from dataclasses import replace

        from ortools_lag.solvers.backends.highs import HighsOptions, solve_standard_form

        if self.why is not None:
            return None
        c = np.r_[-np.asarray(lam, dtype=float), np.zeros(self._sf.n - self.p)]
        raw = solve_standard_form(replace(self._sf, c=c), HighsOptions())
        if raw.status != Status.OPTIMAL or raw.x is None:
            return None
        v = np.clip(raw.x, self._sf.lb, self._sf.ub)
        return self._refine(v)[: self.p]

    def _refine(self, v: np.ndarray) -> np.ndarray:
        """One least-squares correction of the equality rows (free columns: ``r_j = 0``) over
        the entries inside their bounds: the inner LP must see no cost on a free column, and
        the QP meets the rows only to its tolerance."""
        sf = self._sf
        eq = np.flatnonzero(sf.row_lo == sf.row_hi)
        inside = np.flatnonzero((v > sf.lb) & (v < sf.ub))
        if eq.size == 0 or inside.size == 0 or eq.size * inside.size > 4_000_000:
            return v
        A = sf.A[eq][:, inside].toarray()
        res = (
            A @ v[inside]
            + sf.A[eq][:, np.setdiff1d(np.arange(sf.n), inside)]
            @ v[np.setdiff1d(np.arange(sf.n), inside)]
            - sf.row_lo[eq]
        )
        delta = np.linalg.lstsq(A, -res, rcond=None)[0]
        out = v.copy()
        out[inside] = np.clip(v[inside] + delta, sf.lb[inside], sf.ub[inside])
        return out


def start_in_domain(lag: Lagrangian, pt: DualPoint) -> tuple[DualPoint, DualDomain | None, str]:
    """A first evaluation with a finite dual value: ``pt`` itself when it has one, else the
    evaluation at the projection of ``pt.lam`` onto the domain (then the domain, to project
    every later trial point on, and a note), else ``pt`` with the reason none exists."""
    if pt.status != "unbounded":
        return pt, None, ""
    dom = DualDomain(lag)
    if dom.why is not None:
        return pt, None, f"q(lam) = -inf at the start (unbounded inner problem) and {dom.why}"
    lam = dom.project(pt.lam)
    if lam is None:
        why = "q(lam) = -inf for every lam (the dual domain is empty): the model is unbounded"
        return pt, None, f"{why} or infeasible"
    new = lag.evaluate(lam)
    if new.status != "optimal":
        return pt, None, f"q(lam) = -inf at the start and at its projection ({new.status})"
    return new, dom, "q(lam0) = -inf: started at its projection onto the dual domain"
