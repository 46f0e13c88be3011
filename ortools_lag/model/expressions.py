"""The expression algebra: affine and quadratic expressions over variable blocks, and the
constraints their comparisons build.

An :class:`AffineExpr` of shape ``s`` is ``sum_v A_v @ vec(v) + const`` with one sparse
coefficient matrix per variable block (rows = entries of the expression in C order). A
:class:`QuadExpr` adds terms ``S @ (L z * R z)``: elementwise products of two affine vectors
aggregated by a sparse matrix ``S``, which covers ``x @ Q @ x``, sums of squares and bilinear
products. Every operation is a sparse matrix product or a row selection: building a model never
loops over scalar entries.

Every expression implements the evaluation protocol used by ``kkt.py`` and the backends:
``value(z)`` (flat values at the global vector ``z``), ``jacobian(z, n)`` (sparse, ``size x n``)
and ``degree`` (0, 1, 2, or 3 for "nonlinear").

Comparisons ``a <= b``, ``a >= b``, ``a == b`` and ``e.between(lo, hi)`` build a
:class:`Constraint` ``lo <= body <= hi`` (see its docstring for the sign convention).

What leaves the polynomial algebra (a product of degree > 2, a quotient of expressions, another
power, a product ``W @ Z`` of two blocks) is a node of the nonlinear graph: this module hands such
operands to ``as_nonlinear``, which :mod:`~ortools_lag.model.nonlinear` registers when it is
imported (:func:`register_nonlinear`; the package ``ortools_lag.model`` imports it). The
variable block :class:`~ortools_lag.model.variables.Var` is an :class:`AffineExpr` defined in its
own module.

>>> from ortools_lag import Model
>>> m = Model()
>>> x = m.var("x", 3)
>>> e = 2 * x[:2] + 1
>>> e.shape, e.value(np.array([1.0, 2.0, 3.0])).tolist()
((2,), [3.0, 5.0])
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import scipy.sparse as sp

from ortools_lag.errors import ModelError
from ortools_lag.sparse_kernels import matvec_add

if TYPE_CHECKING:
    from ortools_lag.model.variables import Var

__all__ = [
    "SENSES",
    "AffineExpr",
    "Constraint",
    "Expr",
    "QuadExpr",
    "as_expr",
    "quad_form",
    "register_nonlinear",
    "sum_squares",
]

Shape = tuple[int, ...]
ArrayLike = Union[float, int, np.ndarray, Sequence[Any]]


def _size(shape: Shape) -> int:
    return int(math.prod(shape))


def as_constant(value: Any, what: str = "constant") -> np.ndarray:
    """Convert ``value`` to a float array, rejecting NaN and infinite entries."""
    if sp.issparse(value):
        value = value.toarray()
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{what}: cannot convert {type(value).__name__} to numbers") from exc
    except OverflowError as exc:
        text = repr(value)
        short = text if len(text) <= 40 else f"{text[:20]}...({len(text)} digits)"
        raise ModelError(f"{what}: {short} is too large for a float (limit ~1.8e308)") from exc
    if not np.all(np.isfinite(arr)):
        raise ModelError(f"{what} contains NaN or infinite entries")
    return arr


def _check_matrix(mat: Any, what: str) -> sp.csr_matrix | np.ndarray:
    if sp.issparse(mat):
        csr = sp.csr_matrix(mat, dtype=float)
        if not np.all(np.isfinite(csr.data)):
            raise ModelError(f"{what} contains NaN or infinite entries")
        return csr
    return as_constant(mat, what)


# -- the hook to the nonlinear graph ------------------------------------------------------------
_as_nonlinear: Callable[[Any], Expr] | None = None


def register_nonlinear(as_nonlinear: Callable[[Any], Expr]) -> None:
    """Install the constructor of nonlinear graph nodes (:mod:`~ortools_lag.model.nonlinear`
    calls this once, when it is imported)."""
    global _as_nonlinear
    _as_nonlinear = as_nonlinear


def _graph(e: Expr) -> Expr:
    """``e`` as a node of the nonlinear graph, to apply an operation the algebra here lacks."""
    if _as_nonlinear is None:
        raise ModelError("nonlinear expressions need ortools_lag.model.nonlinear (not imported)")
    return _as_nonlinear(e)


class Expr:
    """Base class of expressions: shape, operators and the evaluation protocol."""

    __array_ufunc__ = None  # make numpy defer to our reflected operators
    __array_priority__ = 1000
    shape: Shape = ()

    @property
    def size(self) -> int:
        """Number of entries."""
        return _size(self.shape)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def degree(self) -> int:
        """Polynomial degree: 0 constant, 1 affine, 2 quadratic, 3 anything else."""
        raise NotImplementedError

    def variables(self) -> list[Var]:
        """The variable blocks the expression depends on."""
        raise NotImplementedError

    def value(self, z: np.ndarray) -> np.ndarray:
        """Flat values at the global variable vector ``z``."""
        raise NotImplementedError

    def jacobian(self, z: np.ndarray, n: int) -> sp.csr_matrix:
        """Sparse Jacobian (``size x n``) at ``z``."""
        raise NotImplementedError

    # -- structural operations, expressed through a row selection ---------------------------
    def _take(self, idx: np.ndarray, shape: Shape) -> Expr:
        raise NotImplementedError

    def _apply(self, T: sp.csr_matrix, shape: Shape) -> Expr:
        raise NotImplementedError

    def __getitem__(self, key: Any) -> Expr:
        try:
            idx = np.arange(self.size).reshape(self.shape)[key]
        except (IndexError, OverflowError) as exc:  # OverflowError: beyond a C integer
            raise ModelError(f"index {key!r} out of range for shape {self.shape}") from exc
        except (TypeError, ValueError) as exc:  # a ragged list, a string, a float array...
            raise ModelError(f"index {reprlib.repr(key)} is not an index: {exc}") from exc
        idx = np.asarray(idx)
        return self._take(idx.ravel(), idx.shape)

    def reshape(self, *shape: Any) -> Expr:
        """Reshape (C order)."""
        new = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        try:
            idx = np.arange(self.size).reshape(self.shape).reshape(new)
        except (TypeError, ValueError) as exc:  # not a shape of integers, or the wrong size
            raise ModelError(f"cannot reshape {self.shape} to {tuple(new)!r}") from exc
        return self._take(idx.ravel(), idx.shape)

    def flatten(self) -> Expr:
        """The expression as a vector (C order)."""
        return self.reshape(self.size)

    @property
    def T(self) -> Expr:
        """Transpose."""
        idx = np.arange(self.size).reshape(self.shape).T
        return self._take(idx.ravel(), idx.shape)

    def broadcast_to(self, shape: Shape) -> Expr:
        """Broadcast to ``shape`` (numpy rules)."""
        shape = tuple(shape)
        if shape == self.shape:
            return self
        try:
            idx = np.broadcast_to(np.arange(self.size).reshape(self.shape), shape)
        except ValueError as exc:
            raise ModelError(f"shapes {self.shape} and {shape} do not broadcast") from exc
        return self._take(idx.ravel(), shape)

    def sum(self, axis: int | None = None) -> Expr:
        """Sum of entries, over all or along ``axis``."""
        if axis is None:
            T = sp.csr_matrix(np.ones((1, self.size)))
            return self._apply(T, ())
        if not -self.ndim <= axis < self.ndim:
            raise ModelError(f"axis {axis} out of range for shape {self.shape}")
        axis %= self.ndim
        out_shape = self.shape[:axis] + self.shape[axis + 1 :]
        out_idx = np.expand_dims(np.arange(_size(out_shape)).reshape(out_shape), axis)
        rows = np.broadcast_to(out_idx, self.shape).ravel()
        T = sp.csr_matrix(
            (np.ones(self.size), (rows, np.arange(self.size))), shape=(_size(out_shape), self.size)
        )
        return self._apply(T, out_shape)

    def dot(self, other: Any) -> Expr:
        """Inner product / matrix product, as ``@``."""
        return self @ other

    def between(self, lo: ArrayLike | None, hi: ArrayLike | None) -> Constraint:
        """The two-sided constraint ``lo <= self <= hi`` (``None`` for no bound)."""
        return Constraint.ranged(self, lo, hi)

    # -- arithmetic -------------------------------------------------------------------------
    def __neg__(self) -> Expr:
        return self * -1.0

    def __pos__(self) -> Expr:
        return self

    def __add__(self, other: Any) -> Expr:
        return _add(self, other)

    def __radd__(self, other: Any) -> Expr:
        return _add(self, other)

    def __sub__(self, other: Any) -> Expr:
        return _add(self, -as_expr(other))

    def __rsub__(self, other: Any) -> Expr:
        return _add(as_expr(other), -self)

    def __mul__(self, other: Any) -> Expr:
        return _mul(self, other)

    def __rmul__(self, other: Any) -> Expr:
        return _mul(self, other)

    def __truediv__(self, other: Any) -> Expr:
        if isinstance(other, Expr):  # a quotient of expressions is a nonlinear graph
            return _graph(self) / other
        return _mul(self, 1.0 / as_constant(other, "divisor"))

    def __matmul__(self, other: Any) -> Expr:
        return _matmul(self, other)

    def __rmatmul__(self, other: Any) -> Expr:
        return _matmul(other, self)

    def __pow__(self, power: Any) -> Expr:
        if isinstance(power, (int, float, np.number)) and power in (1, 2):
            return self if power == 1 else self * self
        return _graph(self) ** power  # other powers are nonlinear graph nodes

    # -- comparisons build constraints ------------------------------------------------------
    def __le__(self, other: Any) -> Constraint:  # type: ignore[override]
        return Constraint.compare(self, "<=", other)

    def __ge__(self, other: Any) -> Constraint:  # type: ignore[override]
        return Constraint.compare(self, ">=", other)

    def __eq__(self, other: Any) -> Constraint:  # type: ignore[override]
        return Constraint.compare(self, "==", other)

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        raise ModelError("an expression has no truth value; use it in m.add(name, ...)")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape}, degree={self.degree})"


class AffineExpr(Expr):
    """``sum_v A_v @ vec(v) + const`` with sparse ``A_v``.

    Parameters
    ----------
    coeffs
        Sparse coefficient matrix (``size x v.size``) per variable block: CSR, or CSC where a
        matrix is naturally column-wise (an incidence matrix: two entries per arc); every
        operation accepts both.
    const
        Flat constant vector of length ``size``.
    shape
        Shape of the expression.
    """

    def __init__(self, coeffs: dict[Var, sp.csr_matrix], const: np.ndarray, shape: Shape) -> None:
        self._coeffs = coeffs
        self.const = np.asarray(const, dtype=float).reshape(-1)
        self.shape = tuple(int(s) for s in shape)

    @property
    def coeffs(self) -> dict[Var, sp.csr_matrix]:
        """Sparse coefficient matrix per variable block."""
        return self._coeffs

    @property
    def degree(self) -> int:
        return 1 if self.coeffs else 0

    def variables(self) -> list[Var]:
        return list(self.coeffs)

    def _take(self, idx: np.ndarray, shape: Shape) -> AffineExpr:
        return AffineExpr({v: A[idx] for v, A in self.coeffs.items()}, self.const[idx], shape)

    def _apply(self, T: sp.csr_matrix, shape: Shape) -> AffineExpr:
        coeffs = {v: sp.csr_matrix(T @ A) for v, A in self.coeffs.items()}
        return AffineExpr(coeffs, T @ self.const, shape)

    def sum(self, axis: int | None = None) -> Expr:
        if axis is not None:
            return super().sum(axis)
        coeffs = {v: _row_csr(np.asarray(A.sum(axis=0)).ravel()) for v, A in self.coeffs.items()}
        return AffineExpr(coeffs, np.array([self.const.sum()]), ())

    def _scale(self, scale: np.ndarray) -> AffineExpr:
        """Multiply entry ``i`` by ``scale[i]`` (a row scaling of every coefficient matrix)."""
        coeffs = {}
        for v, A in self.coeffs.items():
            B = sp.csr_matrix(A, copy=True)
            B.data *= np.repeat(scale, np.diff(B.indptr))
            coeffs[v] = B
        return AffineExpr(coeffs, self.const * scale, self.shape)

    def matrix(self, n: int) -> sp.csr_matrix:
        """The coefficients as one sparse ``size x n`` matrix over the global columns (CSR; CSC
        when the expression's one coefficient block is CSC, as incidence matrices are). It may
        share its arrays with the expression: read it, do not modify it in place."""
        if not self.coeffs:
            return sp.csr_matrix((self.size, n))
        if len(self.coeffs) == 1:  # one block: shift its columns, no conversion
            ((v, A),) = self.coeffs.items()
            if isinstance(A, sp.csc_matrix):  # kept column-wise (incidence matrices)
                return _shift_csc(A, v.offset, n)
            A = sp.csr_matrix(A)
            if v.offset == 0 and A.shape[1] == n:  # the block is the whole vector: no copy
                return A
            return sp.csr_matrix((A.data, A.indices + v.offset, A.indptr), shape=(self.size, n))
        parts = []
        for v, A in self.coeffs.items():
            coo = A.tocoo()
            parts.append((coo.data, coo.row, coo.col + v.offset))
        data, rows, cols = (np.concatenate(p) for p in zip(*parts))
        return sp.csr_matrix((data, (rows, cols)), shape=(self.size, n))

    def value(self, z: np.ndarray) -> np.ndarray:
        out = self.const.copy()
        for v, A in self.coeffs.items():
            zv = z[v.offset : v.offset + v.size]
            if A.shape[0] == 1 and A.nnz == A.shape[1] and _dense_csr_row(A):
                out += np.einsum("i,i->", A.data, zv)  # a dense row (costs): no index gather
            else:
                matvec_add(A, zv, out)
        return out

    def jacobian(self, z: np.ndarray, n: int) -> sp.csr_matrix:
        return self.matrix(n)

    def _blocks(self) -> list[tuple[Var, Any]]:
        """The coefficient blocks; a variable block gives ``None`` for its own identity."""
        return list(self.coeffs.items())


class QuadExpr(Expr):
    """An affine part plus terms ``S @ (L z * R z)`` (``L``, ``R`` affine vectors).

    Parameters
    ----------
    affine
        The affine part (its shape is the expression's shape).
    terms
        Tuples ``(L, R, S)``: flat affine expressions of equal length ``p`` and a sparse
        ``size x p`` aggregation matrix.
    """

    def __init__(
        self, affine: AffineExpr, terms: list[tuple[AffineExpr, AffineExpr, sp.csr_matrix]]
    ) -> None:
        self.affine = affine
        self.terms = terms
        self.shape = affine.shape

    @property
    def degree(self) -> int:
        return 2 if self.terms else self.affine.degree

    def variables(self) -> list[Var]:
        seen: dict[Var, None] = dict.fromkeys(self.affine.variables())
        for L, R, _ in self.terms:
            seen.update(dict.fromkeys(L.variables()))
            seen.update(dict.fromkeys(R.variables()))
        return list(seen)

    def _take(self, idx: np.ndarray, shape: Shape) -> QuadExpr:
        aff = self.affine._take(idx, shape)
        return QuadExpr(aff, [(L, R, sp.csr_matrix(S[idx])) for L, R, S in self.terms])

    def _apply(self, T: sp.csr_matrix, shape: Shape) -> QuadExpr:
        aff = self.affine._apply(T, shape)
        return QuadExpr(aff, [(L, R, sp.csr_matrix(T @ S)) for L, R, S in self.terms])

    def value(self, z: np.ndarray) -> np.ndarray:
        out = self.affine.value(z)
        for L, R, S in self.terms:
            out = out + S @ (L.value(z) * R.value(z))
        return out

    def jacobian(self, z: np.ndarray, n: int) -> sp.csr_matrix:
        J = self.affine.matrix(n)
        for L, R, S in self.terms:
            Lm, Rm = L.matrix(n), R.matrix(n)
            inner = sp.diags(R.value(z)) @ Lm + sp.diags(L.value(z)) @ Rm
            J = J + S @ inner
        return sp.csr_matrix(J)

    def hessian(self, weights: np.ndarray, n: int) -> sp.csr_matrix:
        """``sum_i w_i * Hessian(entry_i)`` as a symmetric sparse ``n x n`` matrix."""
        H = sp.csr_matrix((n, n))
        for L, R, S in self.terms:
            d = sp.diags(S.T @ np.asarray(weights, dtype=float))
            Lm, Rm = L.matrix(n), R.matrix(n)
            M = Lm.T @ d @ Rm
            H = H + M + M.T
        return sp.csr_matrix(H)


def _shift_csc(A: sp.csc_matrix, offset: int, n: int) -> sp.csc_matrix:
    """The CSC block ``A`` placed at columns ``offset:offset + A.shape[1]`` of ``n`` columns."""
    if offset == 0 and A.shape[1] == n:
        return A
    ptr = np.concatenate(
        (np.zeros(offset, A.indptr.dtype), A.indptr, np.full(n - offset - A.shape[1], A.nnz))
    )
    return sp.csc_matrix((A.data, A.indices, ptr), shape=(A.shape[0], n))


def _dense_csr_row(A: Any) -> bool:
    """True when ``A`` is a CSR row storing every entry in column order (``data`` is the row)."""
    return A.format == "csr" and bool(A.has_canonical_format)


def _row_csr(vec: np.ndarray) -> sp.csr_matrix:
    """A dense vector as a one-row CSR matrix, built without a COO detour."""
    n = vec.shape[0]
    itype = np.int32 if n < np.iinfo(np.int32).max else np.int64
    if np.count_nonzero(vec) == n:  # a dense row (an objective's costs): no gather
        nz = np.arange(n, dtype=itype)
        row = sp.csr_matrix((vec.astype(float), nz, np.array([0, n], itype)), shape=(1, n))
    else:
        nz = np.flatnonzero(vec).astype(itype)
        row = sp.csr_matrix((vec[nz], nz, np.array([0, nz.size], itype)), shape=(1, n))
    row.has_canonical_format = True  # sorted, distinct indices by construction
    return row


def as_expr(value: Any) -> Expr:
    """Return ``value`` as an expression (constants become constant affine expressions)."""
    if isinstance(value, Expr):
        return value
    arr = as_constant(value)
    return AffineExpr({}, arr.reshape(-1), arr.shape)


def _as_quad(e: Expr) -> QuadExpr:
    if isinstance(e, QuadExpr):
        return e
    if isinstance(e, AffineExpr):
        return QuadExpr(e, [])
    raise ModelError(f"cannot combine {type(e).__name__} with quadratic terms")


def _broadcast_pair(a: Expr, b: Expr) -> tuple[Expr, Expr]:
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError as exc:
        raise ModelError(f"shape mismatch: {a.shape} and {b.shape} do not broadcast") from exc
    return a.broadcast_to(shape), b.broadcast_to(shape)


def _add_affine(a: AffineExpr, b: AffineExpr) -> AffineExpr:
    coeffs = dict(a.coeffs)
    for v, B in b.coeffs.items():
        coeffs[v] = sp.csr_matrix(coeffs[v] + B) if v in coeffs else B
    return AffineExpr(coeffs, a.const + b.const, a.shape)


def _add(a: Any, b: Any) -> Expr:
    ea, eb = as_expr(a), as_expr(b)
    if not isinstance(ea, (AffineExpr, QuadExpr)) or not isinstance(eb, (AffineExpr, QuadExpr)):
        return NotImplemented  # let a nonlinear expression class handle it
    ea, eb = _broadcast_pair(ea, eb)
    if isinstance(ea, AffineExpr) and isinstance(eb, AffineExpr):
        return _add_affine(ea, eb)
    qa, qb = _as_quad(ea), _as_quad(eb)
    return QuadExpr(_add_affine(qa.affine, qb.affine), qa.terms + qb.terms)


def _mul(a: Expr, b: Any) -> Expr:
    eb = as_expr(b)
    if not isinstance(eb, (AffineExpr, QuadExpr)) or not isinstance(a, (AffineExpr, QuadExpr)):
        return NotImplemented
    if eb.degree == 0:
        const = eb.const if isinstance(eb, AffineExpr) else eb.affine.const
        try:
            shape = np.broadcast_shapes(a.shape, eb.shape)
        except ValueError as exc:
            raise ModelError(f"shape mismatch: {a.shape} and {eb.shape} do not broadcast") from exc
        ea = a.broadcast_to(shape)
        scale = np.broadcast_to(const.reshape(eb.shape), shape).ravel()
        if isinstance(ea, AffineExpr):
            return ea._scale(scale)
        return ea._apply(sp.diags(scale, format="csr"), shape)
    if a.degree == 0:
        return _mul(eb, a)
    if a.degree + eb.degree > 2:  # a product of degree > 2 is a nonlinear graph node
        return _graph(a) * eb
    ea, eb = _broadcast_pair(a, eb)
    assert isinstance(ea, AffineExpr) and isinstance(eb, AffineExpr)
    n = ea.size
    term = (ea.flatten(), eb.flatten(), sp.identity(n, format="csr"))
    zero = AffineExpr({}, np.zeros(n), ea.shape)
    return QuadExpr(zero, [term])  # type: ignore[list-item]


def _kron_apply(e: Expr, M: np.ndarray | sp.csr_matrix, side: str) -> Expr:
    """``M @ e`` (side 'left') or ``e @ M`` (side 'right') for a constant matrix ``M``."""
    M2 = sp.csr_matrix(M) if not sp.issparse(M) else M
    if side == "left":
        if e.ndim == 1:
            return e._apply(sp.csr_matrix(M2), (M2.shape[0],))
        p = e.shape[1]
        T = sp.kron(M2, sp.identity(p), format="csr")
        return e._apply(T, (M2.shape[0], p))
    if e.ndim == 1:
        return e._apply(sp.csr_matrix(M2.T), (M2.shape[1],))
    m = e.shape[0]
    T = sp.kron(sp.identity(m), M2.T, format="csr")
    return e._apply(T, (m, M2.shape[1]))


def _matmul(a: Any, b: Any) -> Expr:
    if any(isinstance(e, Expr) and not isinstance(e, (AffineExpr, QuadExpr)) for e in (a, b)):
        return NotImplemented  # let a nonlinear expression class handle it
    if isinstance(a, Expr) and isinstance(b, Expr):
        return _matmul_exprs(a, b)
    if isinstance(a, Expr):
        e, M, side = a, _check_matrix(b, "matrix in @"), "right"
    else:
        e, M, side = b, _check_matrix(a, "matrix in @"), "left"
    if M.ndim == 1:
        vec = np.asarray(M)
        if e.ndim == 0 or e.shape[-1 if side == "right" else 0] != vec.shape[0]:
            raise ModelError(f"shape mismatch in @: {e.shape} and {vec.shape}")
        if e.ndim == 1 and isinstance(e, AffineExpr):
            return _dot(e, vec)
        if e.ndim == 1:
            return (e * vec).sum()
        return (e * vec).sum(axis=-1) if side == "right" else (e * vec[:, None]).sum(axis=0)
    if e.ndim not in (1, 2) or M.ndim != 2:
        raise ModelError(f"@ needs 1-D or 2-D operands, got {e.shape} and {M.shape}")
    inner_e = e.shape[-1] if side == "right" else e.shape[0]
    inner_m = M.shape[0] if side == "right" else M.shape[1]
    if inner_e != inner_m:
        raise ModelError(f"shape mismatch in @: {e.shape} and {M.shape}")
    return _kron_apply(e, M, side)


def _dot(e: AffineExpr, vec: np.ndarray) -> AffineExpr:
    """``vec @ e`` for a 1-D affine ``e``: one coefficient row per block, ``A_v.T @ vec``."""
    coeffs = {
        v: _row_csr(vec if A is None else np.asarray(A.T @ vec).ravel()) for v, A in e._blocks()
    }
    # einsum, not BLAS: a large BLAS dot leaves OpenBLAS's threads spinning on the other cores
    return AffineExpr(coeffs, np.array([float(np.einsum("i,i->", vec, e.const))]), ())


def _matmul_exprs(a: Expr, b: Expr) -> Expr:
    if a.ndim == 1 and b.ndim == 1:
        if a.shape != b.shape:
            raise ModelError(f"shape mismatch in @: {a.shape} and {b.shape}")
        return (a * b).sum()
    if a.ndim == 2 and b.ndim == 1:
        if a.shape[1] != b.shape[0]:
            raise ModelError(f"shape mismatch in @: {a.shape} and {b.shape}")
        return (a * b.reshape(1, -1)).sum(axis=1)
    return _graph(a) @ b  # other products of two blocks (W @ Z) are graph nodes


def sum_squares(e: Any) -> Expr:
    """``sum(e ** 2)``."""
    ex = as_expr(e)
    return (ex * ex).sum()


def quad_form(x: Any, Q: Any) -> Expr:
    """``x @ Q @ x`` for a vector expression ``x`` and a constant matrix ``Q``."""
    ex = as_expr(x)
    return (ex @ _check_matrix(Q, "Q")) @ ex


# -- constraints: what the comparisons build ----------------------------------------------------
SENSES = ("<=", ">=", "==", "range")


@dataclass(frozen=True, eq=False)
class Constraint:
    """A block of constraints ``lo <= body <= hi`` with its sense.

    ``a <= b`` is held as ``a - b <= 0``, ``a >= b`` as ``b - a <= 0`` and ``a == b`` as
    ``a - b == 0``; a two-sided ``lo <= e <= hi`` carries one signed multiplier per row,
    ``mu_upper - mu_lower``. Internally every constraint stores ``body = a - b`` (or ``e``) with
    bounds, and ``sign`` converts the signed row multiplier ``y`` (positive when the upper side
    binds) to the group's multiplier: ``lam = sign * y`` (``sign = -1`` only for ``>=``).

    Attributes
    ----------
    body
        The expression (its constant part is kept in the body).
    lo, hi
        Flat bounds (``-inf`` / ``inf`` for none).
    sense
        ``"<="``, ``">="``, ``"=="`` or ``"range"``.

    Examples
    --------
    >>> from ortools_lag import Model
    >>> m = Model(); x = m.var("x", 2)
    >>> c = x.sum() >= 1
    >>> lo, hi = c.bounds_without_constant()
    >>> c.sense, c.sign, lo.tolist(), hi.tolist()
    ('>=', -1, [1.0], [inf])
    """

    body: Expr
    lo: np.ndarray
    hi: np.ndarray
    sense: str

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the block."""
        return self.body.shape

    @property
    def size(self) -> int:
        """Number of rows."""
        return self.body.size

    @property
    def sign(self) -> int:
        """``lam = sign * y``: -1 for ``>=`` groups, else +1."""
        return -1 if self.sense == ">=" else 1

    def __bool__(self) -> bool:
        raise ModelError(
            "a constraint has no truth value; chained 'lo <= e <= hi' is not possible in "
            "Python: write e.between(lo, hi)"
        )

    @classmethod
    def compare(cls, lhs: Expr, op: str, rhs: Any) -> Constraint:
        """Build ``lhs op rhs`` for ``op`` in ``<=``, ``>=``, ``==``."""
        body = lhs - as_expr(rhs)
        if body is NotImplemented:
            raise ModelError(f"cannot compare {type(lhs).__name__} with {type(rhs).__name__}")
        zeros = np.zeros(body.size)
        inf = np.full(body.size, np.inf)
        if op == "<=":
            return cls(body, -inf, zeros, "<=")
        if op == ">=":
            return cls(body, zeros, inf, ">=")
        return cls(body, zeros, zeros.copy(), "==")

    @classmethod
    def ranged(cls, body: Expr, lo: Any, hi: Any) -> Constraint:
        """``lo <= body <= hi`` with one signed multiplier per row."""
        lo_a = _side(lo, body, -np.inf, "lower side")
        hi_a = _side(hi, body, np.inf, "upper side")
        if (lo_a > hi_a).any():
            i = int(np.argmax(lo_a > hi_a))
            raise ModelError(f"two-sided constraint has lo > hi at row {i} ({lo_a[i]} > {hi_a[i]})")
        return cls(body, lo_a, hi_a, "range")

    def bounds_without_constant(self) -> tuple[np.ndarray, np.ndarray]:
        """Bounds on ``body - const`` (the constant moved to the bounds), for linear bodies."""
        const = self.body.const if isinstance(self.body, AffineExpr) else 0.0
        return self.lo - const, self.hi - const


def _side(value: Any, body: Expr, default: float, what: str) -> np.ndarray:
    if value is None:
        return np.full(body.size, default)
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ModelError(f"{what}: cannot convert {value!r} to numbers") from exc
    if np.isnan(arr).any():
        raise ModelError(f"{what} of a two-sided constraint contains NaN")
    finite = arr[np.isfinite(arr)]
    as_constant(finite, what)
    try:
        return np.broadcast_to(arr, body.shape).astype(float).ravel()
    except ValueError as exc:
        raise ModelError(f"{what} of shape {arr.shape} does not match {body.shape}") from exc
