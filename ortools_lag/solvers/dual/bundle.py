"""A proximal bundle method for the Lagrangian dual, its master problem solved by HiGHS.

Every evaluation ``(lam_j, q_j, g_j)`` gives a cut ``q(lam) <= q_j + g_j . (lam - lam_j)``
(exact: ``L(x_j, .)`` lies above ``q``). Around the stability centre ``c`` the master QP

    max_{d, r}  r - (u / 2) ||d||^2   s.t.  r <= cut_j(c + d) - q(c)  (every cut),
                                           lam_lo - c <= d <= lam_hi - c

gives the candidate ``c + d`` and the predicted increase ``v = r``. A serious step moves the
centre when ``q(c + d) - q(c) >= m v`` (``m = serious_fraction``); otherwise the new cut refines
the model (a null step). The proximity weight ``u`` follows Kiwiel's safeguarded
interpolation ``u_int = 2 u (1 - (q(c + d) - q(c)) / v)``. The method stops when
``v <= bundle_tolerance * (1 + |q(c)|)``: no point of the cutting-plane model near ``c`` is
better. The master's duals ``alpha_j`` (a convex combination) give the aggregate primal point
``sum_j alpha_j x_j``, the Dantzig-Wolfe recovery of a convex relaxation's solution.

>>> from ortools_lag import Model, solve
>>> m = Model(); x = m.var("x", 2, ub=1)
>>> m.minimize(-x[0] - 2 * x[1]); _ = m.add("cap", x.sum() <= 1.5)
>>> sol = solve(m, "bundle", relax=["cap"])
>>> round(sol.bound, 6), sol.multipliers["cap"].round(6).tolist(), sol.info["point_from"]
(-2.5, 1.0, 'bundle aggregate')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from ortools_lag.solvers.dual.dual_domain import DualDomain, start_in_domain
from ortools_lag.solvers.dual.loop import DualSolver
from ortools_lag.solvers.dual.protocol import (
    DualMethod,
    DualOptions,
    DualState,
    advance,
    first_state,
)

if TYPE_CHECKING:
    from ortools_lag.lagrangian import DualPoint, Lagrangian

__all__ = [
    "BundleMethod",
    "BundleOptions",
    "BundleSolver",
    "BundleState",
    "Master",
    "solve_master",
]

#: Most entries (cuts x variables) kept for the aggregate primal point.
MAX_PRIMAL_ENTRIES = 5_000_000


class BundleOptions(DualOptions):
    """Options of the proximal bundle method.

    Attributes
    ----------
    prox
        The initial proximity weight ``u`` (``None``: ``||g_0|| / max(1, ||cost||_inf)``, a
        first step as long as the largest cost).
    prox_min, prox_max
        Bounds on ``u``.
    serious_fraction
        ``m`` of the serious-step test.
    bundle_tolerance
        Stop when the predicted increase is below this, relative to ``1 + |q(c)|``.
    max_cuts, cut_age
        Most cuts kept; a cut inactive in the master for ``cut_age`` iterations is dropped.
    """

    prox: float | None = Field(default=None, gt=0)
    prox_min: float = Field(default=1e-10, gt=0)
    prox_max: float = Field(default=1e10, gt=0)
    serious_fraction: float = Field(default=0.1, gt=0, lt=1)
    bundle_tolerance: float = Field(default=1e-9, gt=0)
    max_cuts: int = Field(default=200, ge=2)
    cut_age: int = Field(default=30, ge=1)


@dataclass(frozen=True)
class BundleState(DualState):
    """The dual state plus the centre, the cuts and the proximity weight.

    ``G[j]``, ``b[j]``: cut ``j`` is ``q(lam) <= b[j] + G[j] . lam``; ``X[j]`` its minimiser
    (``None`` when not kept); ``age[j]`` iterations since the cut was last active; ``ids[j]``
    its number (the row it is in the method's persistent master).
    """

    center: np.ndarray | None = None
    center_value: float = -math.inf
    u: float = 1.0
    G: np.ndarray | None = None
    b: np.ndarray | None = None
    X: np.ndarray | None = None
    age: np.ndarray | None = None
    ids: np.ndarray | None = None
    predicted: float = math.inf
    serious: bool = True
    domain: DualDomain | None = None


def solve_master(
    G: np.ndarray, a: np.ndarray, u: float, d_lo: np.ndarray, d_hi: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray]:
    """``max r - u/2 ||d||^2 s.t. r <= a_j + G_j d, d_lo <= d <= d_hi`` by HiGHS (QP).

    Returns
    -------
    d, r, alpha
        The step, the model's increase ``r`` and the cuts' weights (they sum to one).

    Examples
    --------
    >>> d, r, alpha = solve_master(np.array([[1.0]]), np.array([0.0]), 1.0,
    ...                            np.array([-np.inf]), np.array([np.inf]))
    >>> round(float(d[0]), 6), round(r, 6), alpha.round(6).tolist()
    (1.0, 1.0, [1.0])
    """
    from ortools_lag.highs_model import new_highs

    k, m = G.shape
    h = new_highs()
    A = np.hstack([-G, np.ones((k, 1))])  # r - G_j d <= a_j, column-wise
    h.passModel(
        m + 1,
        k,
        k * (m + 1),
        m,  # columns, rows, nonzeros, Hessian nonzeros
        1,
        1,
        1,
        0.0,  # column-wise matrix, triangular Hessian, minimise, no offset
        np.r_[np.zeros(m), -1.0],
        np.r_[d_lo, -np.inf],
        np.r_[d_hi, np.inf],
        np.full(k, -np.inf),
        np.asarray(a, dtype=float),
        (np.arange(m + 2) * k).astype(np.int32),
        np.tile(np.arange(k, dtype=np.int32), m + 1),
        A.ravel(order="F"),
        np.r_[np.arange(m + 1), m].astype(np.int32),
        np.arange(m, dtype=np.int32),
        np.full(m, float(u)),
        np.zeros(m + 1, dtype=np.int32),
    )
    # HiGHS's QP solver can cycle on degenerate masters: cap it, and fall back to a proximal
    # step on the newest cut (every bound still comes from evaluating q, so it stays valid)
    h.setOptionValue("qp_iteration_limit", 50 * (m + k) + 1000)
    h.setOptionValue("time_limit", 10.0)
    h.run()
    return _master_answer(h, G, a, u, d_lo, d_hi)


def _master_answer(
    h: Any, G: np.ndarray, a: np.ndarray, u: float, d_lo: np.ndarray, d_hi: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray]:
    """The step, increase and cut weights of the master QP that ``h`` has just run (columns
    ``d, r``, one row per cut of ``G``); when HiGHS did not solve it, the proximal step on the
    newest cut (every bound still comes from evaluating ``q``, so it stays valid)."""
    k, m = G.shape
    if h.getModelStatus().name != "kOptimal":
        d = np.clip(G[-1] / float(u), d_lo, d_hi)
        alpha = np.zeros(k)
        alpha[-1] = 1.0
        return d, float(a[-1] + G[-1] @ d), alpha
    sol = h.getSolution()
    z = np.asarray(sol.col_value, dtype=float)
    alpha = np.maximum(-np.asarray(sol.row_dual, dtype=float), 0.0)
    total = alpha.sum()
    alpha = alpha / total if total > 0 else np.full(k, 1.0 / k)
    return z[:m], float(z[m]), alpha


def _dual_master(
    G: np.ndarray, a: np.ndarray, u: float
) -> tuple[np.ndarray, float, np.ndarray] | None:
    """The master without the box: ``min_alpha a.alpha + ||G^T alpha||^2 / (2u)`` over the
    simplex (``k`` variables, one row), then ``d = G^T alpha / u`` and ``r`` the model's value
    there. ``None`` when HiGHS does not solve it."""
    import scipy.sparse as sp

    from ortools_lag.highs_model import new_highs

    k = G.shape[0]
    Lq = sp.tril(sp.csc_matrix(G @ G.T / float(u)), format="csc")
    Lq.sort_indices()
    h = new_highs()
    h.passModel(
        k, 1, k, int(Lq.nnz), 1, 1, 1, 0.0,
        np.asarray(a, dtype=float), np.zeros(k), np.ones(k), np.ones(1), np.ones(1),
        np.arange(k + 1, dtype=np.int32), np.zeros(k, dtype=np.int32), np.ones(k),
        Lq.indptr.astype(np.int32), Lq.indices.astype(np.int32), Lq.data.astype(float),
        np.zeros(k, dtype=np.int32),
    )  # fmt: skip
    h.run()
    if h.getModelStatus().name != "kOptimal":
        return None
    alpha = np.maximum(np.asarray(h.getSolution().col_value, dtype=float), 0.0)
    alpha = alpha / alpha.sum() if alpha.sum() > 0 else np.full(k, 1.0 / k)
    d = G.T @ alpha / float(u)
    return d, float(np.min(a + G @ d)), alpha


class Master:
    """The master QP of :func:`solve_master` kept alive in one HiGHS instance across
    iterations: a new cut is one ``addRow``, a dropped one a ``deleteRows``, a moved centre new
    row and column bounds, a new weight a new diagonal Hessian; HiGHS starts from its last
    solution instead of a fresh model.

    Examples
    --------
    >>> mp = Master(1)
    >>> mp.sync(np.array([0]), np.array([[1.0]]), np.array([0.0]))
    >>> d, r, alpha = mp.solve(np.array([0.0]), 1.0, np.array([-np.inf]), np.array([np.inf]))
    >>> round(float(d[0]), 6), round(r, 6), alpha.round(6).tolist()
    (1.0, 1.0, [1.0])
    """

    def __init__(self, m: int) -> None:
        from ortools_lag.highs_model import new_highs

        self.m = m
        self.h = h = new_highs()
        inf = np.inf
        h.addVars(m + 1, np.full(m + 1, -inf), np.full(m + 1, inf))
        h.changeColCost(m, -1.0)
        self.cols = np.arange(m + 1, dtype=np.int32)
        self.ids: list[int] = []
        self.G = np.zeros((0, m))
        self.b = np.zeros(0)
        self.u = math.nan
        h.setOptionValue("time_limit", 10.0)

    def sync(self, ids: np.ndarray, G: np.ndarray, b: np.ndarray) -> None:
        """Make the rows those cuts (``q <= b_j + G_j lam``; ``ids`` in row order)."""
        keep = np.isin(np.asarray(self.ids, dtype=np.int64), ids)
        if not keep.all():
            self.h.deleteRows(int((~keep).sum()), np.flatnonzero(~keep).astype(np.int32))
            self.ids = [i for i, k in zip(self.ids, keep) if k]
        have = set(self.ids)
        new = [j for j, i in enumerate(ids.tolist()) if i not in have]
        if self.ids != [int(i) for i in ids[: len(self.ids)]]:  # another order: start again
            self.h.deleteRows(len(self.ids), np.arange(len(self.ids), dtype=np.int32))
            self.ids, new = [], list(range(len(ids)))
        for j in new:
            self.h.addRow(-np.inf, np.inf, self.m + 1, self.cols, np.r_[-G[j], 1.0])
        self.ids += [int(ids[j]) for j in new]
        self.G, self.b = G, b

    def solve(
        self, c: np.ndarray, u: float, d_lo: np.ndarray, d_hi: np.ndarray, qc: float = 0.0
    ) -> tuple[np.ndarray, float, np.ndarray]:
        """The step, increase and cut weights around the centre ``c`` (``q(c) = qc``)."""
        h, m, k = self.h, self.m, len(self.ids)
        a = self.b + self.G @ c - qc
        if k <= m:  # few cuts: the dual over the simplex is the smaller QP
            out = _dual_master(self.G, a, u)
            if out is not None and np.all(out[0] >= d_lo - 1e-9) and np.all(out[0] <= d_hi + 1e-9):
                return np.clip(out[0], d_lo, d_hi), out[1], out[2]
        h.changeRowsBounds(k, np.arange(k, dtype=np.int32), np.full(k, -np.inf), a)
        h.changeColsBounds(m, self.cols[:m], d_lo, d_hi)
        if u != self.u:
            idx = np.arange(m, dtype=np.int32)
            h.passHessian(m + 1, m, 1, np.r_[idx, m, m].astype(np.int32), idx, np.full(m, u))
            self.u = u
        h.setOptionValue("qp_iteration_limit", 50 * (m + k) + 1000)
        h.run()
        return _master_answer(h, self.G, a, u, d_lo, d_hi)


class BundleMethod(DualMethod):
    """Proximal bundle ascent on ``q`` (HiGHS master QP, Kiwiel's weight update)."""

    name = "bundle"
    point_label = "bundle aggregate"
    options: BundleOptions

    def init(self, lagrangian: Lagrangian, lam0: np.ndarray) -> BundleState:
        pt = lagrangian.evaluate(lagrangian.project(lam0))
        pt, domain, note = start_in_domain(lagrangian, pt)
        o = self.options
        gn = float(np.linalg.norm(pt.subgradient))
        scale = max(1.0, float(np.max(np.abs(lagrangian.c), initial=0.0)))
        u = o.prox if o.prox is not None else max(gn / scale, o.prox_min)
        keep_x = not lagrangian.model.is_integer and o.max_cuts * pt.x.size <= MAX_PRIMAL_ENTRIES
        state = first_state(
            BundleState,
            pt,
            center=pt.lam,
            center_value=pt.lower,
            u=min(max(u, o.prox_min), o.prox_max),
            G=np.zeros((0, pt.lam.size)),
            b=np.zeros(0),
            X=np.zeros((0, pt.x.size)) if keep_x else None,
            age=np.zeros(0, dtype=int),
            ids=np.zeros(0, dtype=np.int64),
            domain=domain,
            stalled=pt.status == "unbounded",
            message=note,
        )
        self._master = Master(pt.lam.size)
        return _add_cut(state, pt, o.max_cuts)

    def step(self, lagrangian: Lagrangian, state: DualState) -> BundleState:
        assert isinstance(state, BundleState)
        assert state.G is not None and state.b is not None and state.center is not None
        o = self.options
        c, qc = state.center, state.center_value
        if not math.isfinite(qc):
            why = state.message or "the centre's dual value is not finite"
            return replace(state, stalled=True, message=why)
        master = getattr(self, "_master", None)
        if master is None or master.m != c.size:
            master = self._master = Master(c.size)
        assert state.ids is not None
        master.sync(state.ids, state.G, state.b)
        d, v, alpha = master.solve(c, state.u, lagrangian.lam_lo - c, lagrangian.lam_hi - c, qc)
        estimate = alpha @ state.X if state.X is not None and state.X.shape[0] else None
        age = np.where(alpha > 1e-12, 0, state.age + 1)  # type: ignore[operator]
        trial = lagrangian.project(c + d)
        if state.domain is not None:  # stay where q is finite (see dual_domain)
            on = state.domain.project(trial)
            trial = on if on is not None else c
            if float(np.linalg.norm(trial - c)) <= 1e-12 * (1.0 + float(np.linalg.norm(c))):
                why = "the master's step leaves the dual domain and its projection does not move"
                return replace(state, stalled=True, message=why)
        pt = lagrangian.evaluate(trial)
        converged = v <= o.bundle_tolerance * (1.0 + abs(qc))
        rise = pt.lower - qc
        u_int = 2.0 * state.u * (1.0 - rise / v) if v > 0 else state.u
        serious = rise >= o.serious_fraction * v and not converged
        if serious:
            u = max(u_int, state.u / 10.0) if rise >= 0.5 * v else state.u
            center, cval = pt.lam, pt.lower
        else:
            err = pt.value + pt.subgradient @ (c - pt.lam) - qc  # new cut's error at the centre
            u = min(u_int, 10.0 * state.u) if err > max(10.0 * v, 1e-12) else state.u
            center, cval = c, qc
        nxt = advance(
            replace(state, age=age),
            pt,
            step=float(np.linalg.norm(d)),
            center=center,
            center_value=cval,
            u=min(max(u, o.prox_min), o.prox_max),
            predicted=v,
            serious=serious,
            primal_estimate=estimate,
            converged=converged,
            message="predicted increase below bundle_tolerance" if converged else "",
        )
        return _prune(_add_cut(nxt, pt, o.max_cuts), o.cut_age, o.max_cuts)


def _add_cut(state: BundleState, pt: DualPoint, max_cuts: int) -> BundleState:
    assert state.G is not None and state.b is not None and state.age is not None
    if not math.isfinite(pt.value):
        return state
    G = np.vstack([state.G, pt.subgradient])
    b = np.r_[state.b, pt.value - pt.subgradient @ pt.lam]
    X: Any = None if state.X is None else np.vstack([state.X, pt.x])
    assert state.ids is not None
    ids = np.r_[state.ids, state.ids[-1] + 1 if state.ids.size else 0]
    return replace(state, G=G, b=b, X=X, age=np.r_[state.age, 0], ids=ids)


def _prune(state: BundleState, cut_age: int, max_cuts: int) -> BundleState:
    assert state.G is not None and state.b is not None and state.age is not None
    keep = state.age <= cut_age
    keep[-1] = True
    if keep.sum() > max_cuts:
        idx = np.flatnonzero(keep)
        oldest = idx[np.argsort(-state.age[idx], kind="stable")][: keep.sum() - max_cuts]
        keep[oldest] = False
    if keep.all():
        return state
    X = None if state.X is None else state.X[keep]
    assert state.ids is not None
    return replace(
        state, G=state.G[keep], b=state.b[keep], X=X, age=state.age[keep], ids=state.ids[keep]
    )


class BundleSolver(DualSolver):
    """Lagrangian relaxation by a proximal bundle method (HiGHS master problem)."""

    name = "bundle"
    description = "Lagrangian dual by a proximal bundle method with a HiGHS QP master"
    Options = BundleOptions
    method_class = BundleMethod
