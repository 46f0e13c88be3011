"""The scaled LP that PDHG iterates on, and its measurements in original units.

Preconditioning: Ruiz equilibration, Pock–Chambolle, l2 rescaling, bound/objective scaling. The LP
``min cᵀx s.t. lo <= A x <= hi, lb <= x <= ub`` is solved in scaled variables

    x̃ = β x / D_c,   ỹ = γ y / D_r,   Ã = D_r A D_c,   c̃ = γ D_c c,
    [lõ, hĩ] = β D_r [lo, hi],   [lb̃, ub̃] = β [lb, ub] / D_c,

so that ``ỹᵀ Ã x̃ = γ β yᵀ A x`` and ``c̃ᵀ x̃ = γ β cᵀ x``: multipliers, reduced costs
(``r̃ = γ D_c r``) and residuals map back exactly. ``D_r``, ``D_c`` come from a few
l∞ Ruiz passes followed by one Pock–Chambolle pass (α = 1: rows and columns divided by
the square roots of their l1 norms) and PDLP's l2 pass (the same with l2 norms; on the
transportation and min-cost-flow LPs of ``benchmarks/bench_pdhg.py`` it saves 10–30 % of the
iterations, on Netlib about as many); ``β = 1 / (‖b̃‖₂ + 1)`` and ``γ = 1 / (‖c̃‖₂ + 1)``
(the bound/objective rescaling of cuPDLP).

Measured in original units from scaled vectors (:func:`residuals`): the primal residual
``‖Ax − proj_[lo,hi](Ax)‖₂``, the dual residual ``‖r − λ‖₂`` (``r = c + Aᵀy``, ``λ`` the part
of ``r`` that a finite bound near ``x`` absorbs, PDLP's rule), the objectives ``cᵀx`` and
``D(y) = −σ(y) + Σ lb λ⁺ − ub λ⁻``, and the objective error bound ``|y|ᵀ|pv| + |x|ᵀ|dv|`` (the
change of objective the residuals can explain). Rays (:func:`farkas_ray`, :func:`primal_ray`)
are tested in original units with l∞-normalisation, as PDLP does.

>>> import numpy as np, scipy.sparse as sp
>>> A = sp.csr_matrix(np.array([[100.0, 1.0], [0.0, 4.0]]))
>>> As, d_row, d_col = diagonal_scaling(A, ruiz_iterations=10)
>>> bool(abs(As).max() <= 1.0 + 1e-12)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ortools_lag.errors import ModelError
from ortools_lag.solvers.pdhg.arrays import ArrayOps
from ortools_lag.solvers.pdhg.certificate import certificate_measures

__all__ = [
    "HostLp",
    "Kkt",
    "ScaledLp",
    "bound_objective_scaling",
    "combined_bounds",
    "diagonal_scaling",
    "farkas_ray",
    "find_ray",
    "power_norm",
    "primal_ray",
    "residuals",
    "scale_lp",
    "scale_point",
    "validate_lp",
]

_INF = math.inf


def _safe_inv_sqrt(norms: np.ndarray) -> np.ndarray:
    out = np.ones_like(norms)
    pos = norms > 0
    out[pos] = 1.0 / np.sqrt(norms[pos])
    return out


def _segment_max(vals: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """Max of each segment ``vals[ptr[i]:ptr[i+1]]`` (0 for an empty one)."""
    out = np.zeros(len(ptr) - 1)
    full = ptr[1:] > ptr[:-1]
    if vals.size:
        out[full] = np.maximum.reduceat(vals, ptr[:-1][full])
    return out


def diagonal_scaling(
    A: sp.csr_matrix,
    *,
    ruiz_iterations: int = 10,
    pock_chambolle_alpha: float | None = 1.0,
    l2_rescaling: bool = False,
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Ruiz l∞ equilibration then a Pock–Chambolle pass and/or an l2 pass.

    Parameters
    ----------
    A
        The constraint matrix (m×n, CSR).
    ruiz_iterations
        Number of l∞ Ruiz passes (each divides rows and columns by the square roots of
        their largest absolute entries).
    pock_chambolle_alpha
        α of the Pock–Chambolle pass (rows by ``sqrt(‖a_i‖_{2-α}^{2-α})``, columns by
        ``sqrt(‖a^j‖_α^α)``); ``None`` skips it.
    l2_rescaling
        PDLP's l2 pass last: rows and columns divided by the square roots of their l2 norms.

    Returns
    -------
    tuple
        ``(Ã, d_row, d_col)`` with ``Ã = diag(d_row) A diag(d_col)``.

    >>> import scipy.sparse as sp
    >>> _, r, c = diagonal_scaling(sp.csr_matrix([[4.0]]), ruiz_iterations=1,
    ...                            pock_chambolle_alpha=None)
    >>> float(r[0] * 4.0 * c[0])
    1.0
    """
    A = sp.csr_matrix(A, dtype=np.float64)
    A.sum_duplicates()
    m, n = A.shape
    d_row, d_col = np.ones(m), np.ones(n)
    rows = np.repeat(np.arange(m), np.diff(A.indptr))
    cols = A.indices
    absd = np.abs(A.data)
    perm = np.argsort(cols, kind="stable")  # nonzeros in column order
    col_ptr = np.concatenate([[0], np.cumsum(np.bincount(cols, minlength=n))])
    for _ in range(ruiz_iterations):
        v = absd * d_row[rows] * d_col[cols]
        d_row *= _safe_inv_sqrt(_segment_max(v, A.indptr))
        d_col *= _safe_inv_sqrt(_segment_max(v[perm], col_ptr))
    if pock_chambolle_alpha is not None and A.nnz:
        a = pock_chambolle_alpha
        v = absd * d_row[rows] * d_col[cols]
        d_row *= _safe_inv_sqrt(np.bincount(rows, weights=v ** (2.0 - a), minlength=m))
        d_col *= _safe_inv_sqrt(np.bincount(cols, weights=v**a, minlength=n))
    if l2_rescaling and A.nnz:
        v2 = (absd * d_row[rows] * d_col[cols]) ** 2
        d_row *= _safe_inv_sqrt(np.sqrt(np.bincount(rows, weights=v2, minlength=m)))
        d_col *= _safe_inv_sqrt(np.sqrt(np.bincount(cols, weights=v2, minlength=n)))
    As = sp.csr_matrix((A.data * d_row[rows] * d_col[cols], A.indices, A.indptr), shape=A.shape)
    As.sort_indices()
    return As, d_row, d_col


def combined_bounds(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per row, the finite row bound of larger magnitude (0 when neither is finite).

    >>> import numpy as np
    >>> combined_bounds(np.array([-np.inf, 1.0, -3.0]), np.array([2.0, np.inf, 1.0])).tolist()
    [2.0, 1.0, 3.0]
    """
    a = np.where(np.isfinite(lo), np.abs(lo), 0.0)
    b = np.where(np.isfinite(hi), np.abs(hi), 0.0)
    out: np.ndarray = np.maximum(a, b)
    return out


def bound_objective_scaling(c: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[float, float]:
    """``(γ, β) = (1 / (‖c‖₂ + 1), 1 / (‖b‖₂ + 1))`` with ``b`` the combined row bounds.

    >>> import numpy as np
    >>> bound_objective_scaling(np.array([3.0, 4.0]), np.array([0.0]), np.array([np.inf]))
    (0.16666666666666666, 1.0)
    """
    gamma = 1.0 / (float(np.linalg.norm(c)) + 1.0)
    beta = 1.0 / (float(np.linalg.norm(combined_bounds(lo, hi))) + 1.0)
    return gamma, beta


def power_norm(A: sp.spmatrix, seed: int | np.random.Generator | None = 0) -> float:
    """``‖A‖₂``: Lanczos (ARPACK) on the smaller Gram matrix from a seeded start (relative 1e-8).

    Plain power iteration stalls on clustered spectra: on a scaled 400×400 transportation LP it
    stopped at 3.76 for a norm of 5.32, and a constant step from it diverges.

    >>> import numpy as np
    >>> round(power_norm(np.diag([3.0, 1.0]), seed=0), 3)
    3.0
    """
    A = sp.csr_matrix(A, dtype=np.float64)
    if A.nnz == 0:
        return 0.0
    small = min(A.shape)
    if small <= 64:  # dense singular values of a thin matrix
        G = (A @ A.T if A.shape[0] == small else A.T @ A).toarray()
        return math.sqrt(max(float(np.linalg.eigvalsh(G)[-1]), 0.0))
    AT = sp.csr_matrix(A.T)
    if A.shape[0] == small:
        op = spla.LinearOperator((small, small), matvec=lambda v: A @ (AT @ v), dtype=np.float64)
    else:
        op = spla.LinearOperator((small, small), matvec=lambda v: AT @ (A @ v), dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(small)
    top = spla.eigsh(op, k=1, which="LA", v0=v0, tol=1e-8, return_eigenvectors=False)
    return math.sqrt(max(float(top[0]), 0.0))


@dataclass(frozen=True)
class HostLp:
    """The validated LP on the host: ``min cᵀx + offset, lo <= A x <= hi, lb <= x <= ub``."""

    c: np.ndarray
    A: sp.csr_matrix
    lo: np.ndarray
    hi: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    offset: float = 0.0


def _host_vec(v: Any, n: int, fill: float, name: str) -> np.ndarray:
    if v is None:
        return np.full(n, fill)
    a = np.asarray(v, dtype=np.float64).ravel()
    if a.shape != (n,):
        raise ModelError(f"{name} has shape {a.shape}, expected ({n},)")
    if np.isnan(a).any():
        raise ModelError(f"{name} contains NaN (index {int(np.flatnonzero(np.isnan(a))[0])})")
    return a


def validate_lp(c: Any, A: Any, lo: Any, hi: Any, lb: Any, ub: Any, offset: float = 0.0) -> HostLp:
    """Check shapes, NaN/inf and empty bounds; ``None`` bounds mean unbounded.

    Raises
    ------
    ModelError
        Naming the array and the first bad index.

    >>> validate_lp([1.0], [[1.0]], [0.0], [1.0], None, None).ub.tolist()
    [inf]
    """
    try:
        A = sp.csr_matrix(A, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"A is not a 2-d numeric matrix: {exc}") from exc
    m, n = A.shape
    cv = _host_vec(c, n, 0.0, "c")
    if not np.isfinite(cv).all():
        raise ModelError("c has an infinite entry")
    if not np.isfinite(A.data).all():
        raise ModelError("A has a NaN or infinite entry")
    lov, hiv = _host_vec(lo, m, -_INF, "row_lo"), _host_vec(hi, m, _INF, "row_hi")
    lbv, ubv = _host_vec(lb, n, -_INF, "lb"), _host_vec(ub, n, _INF, "ub")
    for name, a, b in (("row", lov, hiv), ("variable", lbv, ubv)):
        bad = np.flatnonzero((a > b) | (a == _INF) | (b == -_INF))
        if bad.size:
            i = int(bad[0])
            raise ModelError(f"{name} bounds at index {i} are empty: [{a[i]}, {b[i]}]")
    if not math.isfinite(float(offset)):
        raise ModelError(f"offset must be finite, got {offset}")
    return HostLp(cv, A, lov, hiv, lbv, ubv, float(offset))


@dataclass(frozen=True)
class ScaledLp:
    """The scaled LP on a backend, with what maps points and residuals back.

    ``lb``/``ub`` are ``None`` when no bound on that side is finite and the scalar ``0.0`` when
    every bound on that side is 0; ``*_f`` are the bounds
    with infinities replaced by 0 and ``*_ok`` their finiteness masks (as 0/1 floats);
    ``lb_zero``/``ub_zero`` say that every finite bound on that side is 0;
    ``row_s = D_r``, ``col_s = D_c``; norms of ``b`` and ``c`` are in original units.
    """

    ops: ArrayOps
    A: Any
    AT: Any
    c: Any
    lo: Any
    hi: Any
    lb: Any
    ub: Any
    lo_f: Any
    hi_f: Any
    lb_f: Any
    ub_f: Any
    lo_ok: Any
    hi_ok: Any
    lb_ok: Any
    ub_ok: Any
    row_s: Any
    col_s: Any
    lb_zero: bool
    ub_zero: bool
    gamma: float
    beta: float
    offset: float
    b_norm: float
    c_norm: float
    w_lo: Any = None  # per row 1 / (β D_r (1 + |lo|)) (0 where lo is infinite)
    w_hi: Any = None  # per row 1 / (β D_r (1 + |hi|)) (0 where hi is infinite)
    w_col: Any = None  # per column 1 / (γ D_c (1 + |c|))


def _factors(lp: HostLp, scale: bool) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, float, float]:
    if not scale:
        return lp.A, np.ones(lp.A.shape[0]), np.ones(lp.A.shape[1]), 1.0, 1.0
    As, d_row, d_col = diagonal_scaling(lp.A, l2_rescaling=True)
    gamma, beta = bound_objective_scaling(lp.c * d_col, lp.lo * d_row, lp.hi * d_row)
    return As, d_row, d_col, gamma, beta


def scale_lp(
    ops: ArrayOps,
    lp: HostLp,
    *,
    scale: bool = True,
    constant_step: bool = False,
    seed: int | np.random.Generator | None = 0,
) -> tuple[ScaledLp, float]:
    """Precondition ``lp`` (when ``scale``) and move it to the backend.

    Returns
    -------
    tuple
        The :class:`ScaledLp` and the initial step: ``1/max|Ã|`` (adaptive rule) or
        ``0.998/‖Ã‖₂`` (``constant_step``, :func:`power_norm` seeded by ``seed``).

    >>> from ortools_lag.solvers.pdhg.arrays import array_ops
    >>> s, eta = scale_lp(array_ops("numpy"), validate_lp([1.0], [[2.0]], [1], [1], [0], None))
    >>> s.lb is None, s.ub is None, eta
    (False, True, 1.0)
    """
    As, d_row, d_col, gamma, beta = _factors(lp, scale)
    s_lo, s_hi = beta * d_row * lp.lo, beta * d_row * lp.hi
    s_lb, s_ub = beta * lp.lb / d_col, beta * lp.ub / d_col

    def fin(v: np.ndarray) -> Any:
        return ops.asarray(np.where(np.isfinite(v), v, 0.0))

    def ok(v: np.ndarray) -> Any:
        return ops.asarray(np.isfinite(v).astype(np.float64))

    def weight(v: np.ndarray, d: np.ndarray, unit: float) -> Any:
        """``1 / (unit d (1 + |v|))``, 0 where ``v`` is infinite: a scaled residual times it is
        the original residual over its own row's (column's) scale."""
        with np.errstate(divide="ignore"):
            w = np.where(np.isfinite(v), 1.0 / (unit * d * (1.0 + np.abs(v))), 0.0)
        return ops.asarray(w)

    def bound(v: np.ndarray) -> Any:
        finite = np.isfinite(v)
        if not finite.any():
            return None
        if finite.all() and not v.any():  # every bound 0: a scalar clips faster
            return 0.0
        return ops.asarray(v)

    out = ScaledLp(
        ops=ops,
        A=ops.sparse(As),
        AT=ops.sparse(sp.csr_matrix(As.T)),
        c=ops.asarray(gamma * d_col * lp.c),
        lo=ops.asarray(s_lo),
        hi=ops.asarray(s_hi),
        lb=bound(s_lb),
        ub=bound(s_ub),
        lo_f=fin(s_lo),
        hi_f=fin(s_hi),
        lb_f=fin(s_lb),
        ub_f=fin(s_ub),
        lo_ok=ok(lp.lo),
        hi_ok=ok(lp.hi),
        lb_ok=ok(lp.lb),
        ub_ok=ok(lp.ub),
        row_s=ops.asarray(d_row),
        col_s=ops.asarray(d_col),
        lb_zero=bool(np.all(lp.lb[np.isfinite(lp.lb)] == 0)),
        ub_zero=bool(np.all(lp.ub[np.isfinite(lp.ub)] == 0)),
        gamma=gamma,
        beta=beta,
        offset=lp.offset,
        b_norm=float(np.linalg.norm(combined_bounds(lp.lo, lp.hi))),
        c_norm=float(np.linalg.norm(lp.c)),
        w_lo=weight(lp.lo, d_row, beta),
        w_hi=weight(lp.hi, d_row, beta),
        w_col=weight(lp.c, d_col, gamma),
    )
    amax = power_norm(As, seed) if constant_step else (float(abs(As).max()) if As.nnz else 0.0)
    return out, ((0.998 if constant_step else 1.0) / amax if amax > 0 else 1.0)


def scale_point(
    s: ScaledLp, lp: HostLp, warm_start: tuple[Any, Any] | None
) -> tuple[np.ndarray, np.ndarray, float]:
    """The scaled start ``(x̃, ỹ)`` (projected onto the bounds and the dual signs) and the
    initial primal weight ``‖c̃‖/‖b̃‖`` (1 when either is ~0).

    >>> from ortools_lag.solvers.pdhg.arrays import array_ops
    >>> host = validate_lp([1.0], [[1.0]], [1], [1], [0], [5])
    >>> s, _ = scale_lp(array_ops("numpy"), host, scale=False)
    >>> x, y, w = scale_point(s, host, ([9.0], [-2.0]))
    >>> x.tolist(), y.tolist(), w
    ([5.0], [-2.0], 1.0)
    """
    m, n = lp.A.shape
    x0, y0 = np.zeros(n), np.zeros(m)
    if warm_start is not None:
        x0 = _host_vec(warm_start[0], n, 0.0, "warm_start x")
        y0 = _host_vec(warm_start[1], m, 0.0, "warm_start y")
    d_row, d_col = s.ops.to_numpy(s.row_s), s.ops.to_numpy(s.col_s)
    xs = np.clip(s.beta * x0 / d_col, s.beta * lp.lb / d_col, s.beta * lp.ub / d_col)
    ys = s.gamma * y0 / d_row
    ys = np.where(np.isfinite(lp.hi), np.maximum(ys, 0), 0) - np.where(
        np.isfinite(lp.lo), np.maximum(-ys, 0), 0
    )
    cs = float(np.linalg.norm(s.gamma * d_col * lp.c))
    bs = float(np.linalg.norm(s.beta * d_row * combined_bounds(lp.lo, lp.hi)))
    return xs, ys, (cs / bs if cs > 1e-10 and bs > 1e-10 else 1.0)


@dataclass(frozen=True)
class Kkt:
    """Residual norms of one point: ``*_s`` scaled (the restart metric), ``p``, ``d`` and the
    objectives in original units, ``rel_*`` PDLP's relative measures (l2 norms, reported), and
    ``cert_*`` the certificate's (:mod:`ortools_lag.kkt`: each row and column on its own scale,
    the Lagrangian dual bound), which termination tests."""

    p_s: float
    d_s: float
    gap_s: float
    p: float
    d: float
    pobj: float
    dobj: float
    rel_p: float
    rel_d: float
    rel_gap: float
    rel_obj: float
    cert_p: float = 0.0
    cert_d: float = 0.0
    cert_gap: float = 0.0
    cert_comp: float = 0.0
    lagrangian: float = math.nan

    @property
    def worst(self) -> float:
        """The largest of the certificate's four measures (what termination tests)."""
        return max(self.cert_p, self.cert_d, self.cert_gap, self.cert_comp)

    @property
    def pdlp_worst(self) -> float:
        """The largest of PDLP's relative measures and the objective error bound."""
        return max(self.rel_p, self.rel_d, self.rel_gap, self.rel_obj)

    def error(self, omega: float) -> float:
        """The ω-weighted KKT error in scaled units."""
        return math.sqrt(omega * self.p_s**2 + self.d_s**2 / omega + self.gap_s**2)

    @property
    def finite(self) -> bool:
        """False when a NaN or inf appeared."""
        return all(math.isfinite(v) for v in (self.p_s, self.d_s, self.gap_s))


def _absorbed(lp: ScaledLp, r: Any, x: Any, ax: Any, upper: bool) -> tuple[Any, float]:
    """The part of the reduced costs ``r`` that one side's bounds absorb (PDLP's rule: a finite
    bound counts when ``|x - bound| <= |x|``) and its dual-objective term; ``(None, 0)`` if none.
    """
    ops = lp.ops
    bound, bound_f, ok, zero = (
        (lp.ub, lp.ub_f, lp.ub_ok, lp.ub_zero) if upper else (lp.lb, lp.lb_f, lp.lb_ok, lp.lb_zero)
    )
    if bound is None:
        return None, 0.0
    part = ops.pos(-r if upper else r) * ok
    if zero:  # every finite bound is 0: the test always holds and the term vanishes
        return part, 0.0
    part = part * (ops.abs(x - bound_f) <= ax)
    return part, ops.dot(bound_f, part)


def residuals(lp: ScaledLp, x: Any, y: Any, Ax: Any, ATy: Any) -> Kkt:
    """Residuals, objectives and relative measures of the scaled point ``(x, y)``.

    ``Ax`` and ``ATy`` are the products already at hand. Relative measures: primal residual
    over ``1 + ‖b‖₂``, dual residual over ``1 + ‖c‖₂``, gap and objective error bound over
    ``1 + |p| + |d|``.

    >>> import numpy as np
    >>> from ortools_lag.solvers.pdhg.arrays import array_ops
    >>> host = validate_lp([1.0], [[1.0]], [1], [1], [0], None)  # min x, x = 1, x >= 0
    >>> lp, _ = scale_lp(array_ops("numpy"), host, scale=False)
    >>> x, y = np.array([1.0]), np.array([-1.0])  # optimal: r = c + Aᵀy = 0
    >>> k = residuals(lp, x, y, lp.A @ x, lp.AT @ y)
    >>> k.worst
    0.0
    """
    ops = lp.ops
    pv = Ax - ops.clip(Ax, lp.lo, lp.hi)
    dv = lp.c + ATy
    ax = ops.abs(x)
    cert = certificate_measures(lp, x, y, Ax, pv, dv)
    lam_p, term_p = _absorbed(lp, dv, x, ax, upper=False)
    lam_m, term_m = _absorbed(lp, dv, x, ax, upper=True)
    if lam_p is not None:
        dv -= lam_p
    if lam_m is not None:
        dv += lam_m
    sigma = ops.dot(lp.hi_f, ops.pos(y)) - ops.dot(lp.lo_f, ops.pos(-y))
    dual_s = -sigma + term_p - term_m
    primal_s = ops.dot(lp.c, x)
    un = 1.0 / (lp.gamma * lp.beta)
    pobj, dobj = primal_s * un + lp.offset, dual_s * un + lp.offset
    p = ops.norm(pv / (lp.beta * lp.row_s))
    d = ops.norm(dv / (lp.gamma * lp.col_s))
    obj_err = (ops.dot(ops.abs(y), ops.abs(pv)) + ops.dot(ax, ops.abs(dv))) * un
    denom = 1.0 + abs(pobj) + abs(dobj)
    cert_p, cert_d, comp_s, lagr_s = cert
    lagr = lagr_s * un + lp.offset
    fscale = 1.0 + abs(pobj)
    return Kkt(
        p_s=ops.norm(pv),
        d_s=ops.norm(dv),
        gap_s=abs(primal_s - dual_s),
        p=p,
        d=d,
        pobj=pobj,
        dobj=dobj,
        rel_p=p / (1.0 + lp.b_norm),
        rel_d=d / (1.0 + lp.c_norm),
        rel_gap=abs(pobj - dobj) / denom,
        rel_obj=obj_err / denom,
        cert_p=cert_p,
        cert_d=cert_d,
        cert_gap=abs(pobj - lagr) / fscale,
        cert_comp=comp_s * un / fscale,
        lagrangian=lagr,
    )


def farkas_ray(lp: ScaledLp, ray: Any, eps: float, g: Any = None) -> Any | None:
    """The dual ray ``ray`` (scaled) as a Farkas certificate of primal infeasibility, or None.

    After projecting onto the dual signs: accepted when ``D₀(y) = −σ(y) + Σ lb λ⁺ − ub λ⁻ > 0``
    and ``‖Aᵀy − λ‖∞ <= eps · D₀(y)`` (original units, ``‖y‖∞ = 1``). Returns the original-unit
    ``y``. ``g = Aᵀray`` may be passed when known and ``ray`` already has the dual signs.

    >>> from ortools_lag.solvers.pdhg.arrays import array_ops
    >>> lp, _ = scale_lp(array_ops("numpy"), validate_lp([0.0], [[1.0]], [2], [2], [0], [1]),
    ...                  scale=False)  # x = 2 with 0 <= x <= 1: infeasible
    >>> farkas_ray(lp, np.array([-1.0]), 1e-8).tolist()
    [-1.0]
    """
    ops = lp.ops
    yr = ray if g is not None else ops.pos(ray) * lp.hi_ok - ops.pos(-ray) * lp.lo_ok
    y_o = yr * lp.row_s
    scale = ops.norm_inf(y_o)
    if scale <= 0 or not math.isfinite(scale):
        return None
    g = ops.matvec(lp.AT, yr) if g is None else g
    lam_p, lam_m = ops.pos(g) * lp.lb_ok, ops.pos(-g) * lp.ub_ok
    sigma = ops.dot(lp.hi_f, ops.pos(yr)) - ops.dot(lp.lo_f, ops.pos(-yr))
    obj = (-sigma + ops.dot(lp.lb_f, lam_p) - ops.dot(lp.ub_f, lam_m)) / lp.beta / scale
    res = ops.norm_inf((g - lam_p + lam_m) / lp.col_s) / scale
    return y_o / scale if obj > 0 and res <= eps * obj else None


def primal_ray(lp: ScaledLp, ray: Any, eps: float) -> Any | None:
    """The primal ray ``ray`` (scaled) as a certificate of dual infeasibility, or None.

    After projecting onto the recession cone of the bounds: accepted when ``cᵀd < 0`` and
    ``Ad`` leaves the recession cone of the rows by at most ``eps · |cᵀd|`` (original units,
    ``‖d‖∞ = 1``). Returns the original-unit ``d``.

    >>> from ortools_lag.solvers.pdhg.arrays import array_ops
    >>> host = validate_lp([-1.0], [[1.0]], [0], [np.inf], [0], None)  # min -x, x >= 0
    >>> lp, _ = scale_lp(array_ops("numpy"), host, scale=False)
    >>> primal_ray(lp, np.array([3.0]), 1e-8).tolist()
    [1.0]
    """
    ops = lp.ops
    d = ops.pos(ray) * (1.0 - lp.ub_ok) - ops.pos(-ray) * (1.0 - lp.lb_ok)
    d_o = d * lp.col_s
    scale = ops.norm_inf(d_o)
    if scale <= 0 or not math.isfinite(scale):
        return None
    cd = ops.dot(lp.c, d) / lp.gamma / scale
    if cd >= 0:
        return None
    Ad = ops.matvec(lp.A, d) / lp.row_s
    viol = ops.norm_inf(ops.pos(Ad) * lp.hi_ok + ops.pos(-Ad) * lp.lo_ok) / scale
    return d_o / scale if viol <= eps * -cd else None


def find_ray(
    lp: ScaledLp, candidates: list[tuple[Any, Any, Any]], eps: float
) -> tuple[str, Any] | None:
    """The first certificate among ``candidates`` (scaled ``(y, x, Aᵀy or None)`` triples, any
    of ``y``/``x`` may be None): ``("primal_infeasible", Farkas y)`` from a ``y`` or
    ``("dual_infeasible", ray d)`` from an ``x``, in original units; None if none qualifies.
    """
    for ry, rx, g in candidates:
        if ry is not None:
            cert = farkas_ray(lp, ry, eps, g)
            if cert is not None:
                return "primal_infeasible", cert
        if rx is not None:
            cert = primal_ray(lp, rx, eps)
            if cert is not None:
                return "dual_infeasible", cert
    return None
