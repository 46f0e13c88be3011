r"""The operations of the expression graph: the :class:`Op` protocol, and the structural and
arithmetic operations.

An :class:`Op` is what one node ``v = phi(args)`` of a
:class:`~ortools_lag.model.nonlinear.NonlinearExpr` computes: its value (``forward``), the
adjoints of its arguments (``vjp``), its tangent (``jvp``) and its local sparse Jacobians
(``local``, ``pull``). The tape (:mod:`~ortools_lag.model.tape`) runs them; the nodes are built
in :mod:`~ortools_lag.model.nonlinear`, the elementwise operation is in
:mod:`~ortools_lag.model.elementwise`. This module holds the protocol (:class:`Op`, the context
:class:`Ctx` of a forward pass, sparse helpers for the matrix adjoints), the structural
operations (row selections, reshapes, transposes and constant linear maps: indexing and sums of
:class:`~ortools_lag.model.expressions.Expr`) and the arithmetic (``a + b`` and ``a * b`` with
broadcasting, sums and means, matrix products: the operators of ``NonlinearExpr``).

Read as constraints ``v = phi(args)`` with multiplier ``lambda_v``, each operation's adjoint
rule gives its arguments' multipliers: ``a + b`` passes ``lambda_v`` to both (summed over
broadcast axes), ``a * b`` gives ``lambda_v * b`` and ``lambda_v * a``, ``a @ b`` gives
``lambda_v @ b^T`` and ``a^T @ lambda_v``, a sum spreads ``lambda_v`` over its entries. On numpy
arrays the products call numpy/BLAS directly (into reused buffers:
:mod:`~ortools_lag.model.buffers`) and a sum ``a + b`` may write into the buffer of a fresh
argument that nothing else reads (the tape's in-place plan).

>>> add = Add()
>>> a, b = np.ones(2), np.ones((3, 1))
>>> add.forward(Ctx(np, {}), [a, b]).shape
(3, 2)
>>> [g.shape for g in add.vjp(np, np.ones((3, 2)), [a, b], None, [True, True])]
[(2,), (3, 1)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.arrays import device_of, is_numpy, scatter_add
from ortools_lag.arrays import sparse_matvec as _spmv
from ortools_lag.model import buffers

if TYPE_CHECKING:
    from ortools_lag.model.expressions import Shape
    from ortools_lag.model.nonlinear import NonlinearExpr
    from ortools_lag.model.variables import Var

__all__ = [
    "Add",
    "Ctx",
    "Linear",
    "MatMul",
    "Mul",
    "Op",
    "Reshape",
    "Sum",
    "Take",
    "Transpose",
    "remap_columns",
    "scale_columns",
]

Array = Any


# -- the protocol -------------------------------------------------------------------------------
@dataclass
class Ctx:
    """What leaves read during a forward pass: variable values and data by name."""

    xp: ModuleType
    values: Mapping[str, Array]
    data: Mapping[str, Array] = field(default_factory=dict)
    like: Array | None = None


class Op:
    """One operation of the graph: value, vector-Jacobian product, tangent and local Jacobians.

    ``vjp`` receives the adjoint ``g`` of the node's output and returns the adjoints of its
    arguments (``None`` where ``needs`` is false); ``local`` returns sparse Jacobians of the
    output with respect to each argument, for numpy values at the node's static shapes.

    For the tape's in-place plan (numpy): ``fresh`` (``forward`` returns a new array),
    ``keeps_args`` / ``keeps_out`` (``vjp``, ``jvp``, ``local`` and ``pull`` read the argument
    values / the node's own value, not only shapes), ``inplace_args`` (arguments whose buffer
    ``forward_into`` can write the value into).
    """

    name = "op"
    var: Var | None = None  # the variable of a leaf
    fresh = False
    keeps_args = True
    keeps_out = False

    def inplace_args(self, node: NonlinearExpr) -> tuple[int, ...]:
        return ()

    def forward_into(self, ctx: Ctx, args: list[Array], i: int) -> Array:
        """``forward``, free to write into ``args[i]`` (numpy; nothing else reads it)."""
        return self.forward(ctx, args)

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        raise NotImplementedError

    def vjp(
        self, xp: ModuleType, g: Array, args: list[Array], out: Array, needs: list[bool]
    ) -> list[Array | None]:
        raise NotImplementedError

    def jvp(self, xp: ModuleType, ts: list[Array | None], args: list[Array], out: Array) -> Array:
        raise NotImplementedError

    def local(self, node: NonlinearExpr, args: list[np.ndarray], out: np.ndarray) -> list[Any]:
        raise NotImplementedError

    def pull(
        self, A: sp.csr_matrix, node: NonlinearExpr, args: list[np.ndarray], out: np.ndarray
    ) -> list[sp.csr_matrix | None]:
        """``A @ local_i`` for each argument (matrix adjoints; fast paths override this)."""
        return [None if L is None else sp.csr_matrix(A @ L) for L in self.local(node, args, out)]


def scale_columns(A: sp.csr_matrix, d: Any) -> sp.csr_matrix:
    """``A @ diag(d)`` without building the diagonal matrix."""
    B = A.copy()
    B.data = B.data * np.asarray(d, dtype=float).ravel()[B.indices]
    return B


def remap_columns(
    A: sp.csr_matrix, idx: np.ndarray, n: int, scale: np.ndarray | None = None
) -> sp.csr_matrix:
    """``A @ S`` for the selection ``S[j, idx[j]] = scale[j]`` (gathers, broadcasts, transposes):
    column ``j`` of ``A`` moves to column ``idx[j]``, duplicates summed."""
    data = A.data.copy() if scale is None else A.data * scale[A.indices]  # B is sorted in place
    B = sp.csr_matrix((data, idx[A.indices], A.indptr.copy()), shape=(A.shape[0], n))
    B.sum_duplicates()
    return B


# -- shape helpers ------------------------------------------------------------------------------
def _shape(a: Array) -> Shape:
    return tuple(getattr(a, "shape", ()))


# -- structural and algebraic operations --------------------------------------------------------
class Take(Op):
    """``out = a.ravel()[idx].reshape(shape)`` (indexing, broadcasting of a fixed shape)."""

    name = "take"

    def __init__(self, idx: np.ndarray, shape: Shape) -> None:
        self.idx, self.shape = np.asarray(idx, dtype=np.int64), shape

    def _index(self, xp: ModuleType, a: Array) -> Array:
        if is_numpy(xp):
            return np.asarray(a).reshape(-1)[self.idx].reshape(self.shape)
        flat = xp.reshape(a, (-1,))
        return xp.reshape(xp.take(flat, xp.asarray(self.idx, device=device_of(a))), self.shape)

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        return self._index(ctx.xp, args[0])

    def vjp(self, xp, g, args, out, needs):
        a = args[0]
        size = math.prod(_shape(a))
        return [xp.reshape(scatter_add(xp, self.idx, xp.reshape(g, (-1,)), size), _shape(a))]

    def jvp(self, xp, ts, args, out):
        return self._index(xp, ts[0])

    def pull(self, A, node, args, out):
        return [remap_columns(A, self.idx, node.args[0].size)]


class Reshape(Op):
    """``out = reshape(a, shape)`` (C order)."""

    name = "reshape"

    def __init__(self, shape: Shape) -> None:
        self.shape = shape

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        return ctx.xp.reshape(args[0], self.shape)

    def vjp(self, xp, g, args, out, needs):
        return [xp.reshape(g, _shape(args[0]))]

    def jvp(self, xp, ts, args, out):
        return xp.reshape(ts[0], self.shape)

    def pull(self, A, node, args, out):
        return [A]


class Transpose(Op):
    """``out = a.T`` for a 2-D ``a`` (any batch size)."""

    name = "transpose"

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        return args[0].T

    def vjp(self, xp, g, args, out, needs):
        return [g.T]

    def jvp(self, xp, ts, args, out):
        return ts[0].T

    def pull(self, A, node, args, out):
        m, p = node.args[0].shape
        return [remap_columns(A, np.arange(m * p).reshape(m, p).T.ravel(), m * p)]


class Linear(Op):
    """``out = T @ a.ravel()`` for a constant sparse ``T`` (sums and maps of the base class)."""

    name = "linear"

    def __init__(self, T: sp.spmatrix, shape: Shape) -> None:
        self.T, self.shape = sp.csr_matrix(T), shape
        self.Tt = sp.csr_matrix(self.T.T)

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        return ctx.xp.reshape(_spmv(self.T, ctx.xp.reshape(args[0], (-1,))), self.shape)

    def vjp(self, xp, g, args, out, needs):
        return [xp.reshape(_spmv(self.Tt, xp.reshape(g, (-1,))), _shape(args[0]))]

    def jvp(self, xp, ts, args, out):
        return xp.reshape(_spmv(self.T, xp.reshape(ts[0], (-1,))), self.shape)

    def local(self, node, args, out):
        return [self.T]


# -- arithmetic, reductions and products (the operators of NonlinearExpr) -----------------------
def _bcast_index(src: Shape, dst: Shape) -> np.ndarray:
    return np.broadcast_to(np.arange(math.prod(src)).reshape(src), dst).ravel()


def _unbroadcast(xp: ModuleType, g: Array, shape: Shape) -> Array:
    """Sum ``g`` over the axes that broadcasting added or stretched to reach ``g.shape``."""
    gshape = _shape(g)
    if gshape == tuple(shape):
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and gshape[lead + i] != 1
    )
    if axes:
        g = xp.sum(g, axis=axes)
    return xp.reshape(g, tuple(shape))


def _fit(xp: ModuleType, t: Array, shape: Shape) -> Array:
    return t if _shape(t) == tuple(shape) else xp.broadcast_to(t, tuple(shape))


def _writable(buf: Any) -> bool:
    """A numpy array that a kernel may overwrite (the in-place plan checks who else reads it)."""
    return type(buf) is np.ndarray and buf.ndim > 0 and buf.flags.writeable


def _np_matmul(a: Array, b: Array) -> Array:
    """``a @ b`` by BLAS (no array-API wrapper), 2-D results into a reused buffer."""
    if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == b.ndim == 2:
        out = buffers.empty((a.shape[0], b.shape[1]), np.result_type(a, b))
        return np.matmul(a, b, out=out)
    return np.matmul(a, b)


def _reshaped(xp: ModuleType, a: Array, shape: Shape) -> Array:
    return a if _shape(a) == tuple(shape) else xp.reshape(a, shape)


def _add_opt(a: Array | None, b: Array | None) -> Array | None:
    if a is None:
        return b
    return a if b is None else a + b


class Sum(Op):
    """Sum (or mean, dividing by the run-time count) over all entries or along one axis."""

    name = "sum"

    def __init__(self, axis: int | None, mean: bool = False) -> None:
        self.axis, self.mean = axis, mean

    def _count(self, a: Array) -> int:
        shp = _shape(a)
        return math.prod(shp) if self.axis is None else shp[self.axis]

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        s = ctx.xp.sum(args[0], axis=self.axis)
        return s / self._count(args[0]) if self.mean else s

    def _spread(self, xp: ModuleType, g: Array, a: Array) -> Array:
        shp = _shape(a)
        g = (
            xp.reshape(g, (1,) * len(shp))
            if self.axis is None
            else xp.expand_dims(g, axis=self.axis)
        )
        g = xp.broadcast_to(g, shp)
        return g / self._count(a) if self.mean else g

    def vjp(self, xp, g, args, out, needs):
        return [self._spread(xp, g, args[0])]

    def jvp(self, xp, ts, args, out):
        s = xp.sum(ts[0], axis=self.axis)
        return s / self._count(args[0]) if self.mean else s

    def local(self, node, args, out):
        shape = node.args[0].shape
        n = math.prod(shape)
        if self.axis is None:
            rows = np.zeros(n, dtype=np.int64)
        else:  # entry (..., i_axis, ...) adds into output entry (...) without i_axis
            out_idx = np.arange(max(node.size, 1)).reshape(node.shape)
            rows = np.broadcast_to(np.expand_dims(out_idx, self.axis), shape).ravel()
        scale = 1.0 / self._count(args[0]) if self.mean else 1.0
        T = sp.csr_matrix((np.full(n, scale), (rows, np.arange(n))), shape=(max(node.size, 1), n))
        return [T]


class Add(Op):
    """``out = a + sign * b`` with numpy broadcasting."""

    name = "add"

    fresh = True
    keeps_args = False  # the adjoint rule reads only the arguments' shapes

    def __init__(self, sign: float = 1.0) -> None:
        self.sign = sign

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        a, b = args
        return a + b if self.sign == 1.0 else a - b

    def inplace_args(self, node: NonlinearExpr) -> tuple[int, ...]:
        return tuple(i for i, a in enumerate(node.args) if a.shape == node.shape)

    def forward_into(self, ctx: Ctx, args: list[Array], i: int) -> Array:
        a, b = args
        buf = args[i]
        if _writable(buf) and buf.shape == np.broadcast_shapes(np.shape(a), np.shape(b)):
            if buf.dtype == np.result_type(a, b):
                return (np.add if self.sign == 1.0 else np.subtract)(a, b, out=buf)
        return self.forward(ctx, args)

    def vjp(self, xp, g, args, out, needs):
        ga = _unbroadcast(xp, g, _shape(args[0])) if needs[0] else None
        gb = _unbroadcast(xp, g, _shape(args[1])) if needs[1] else None
        return [ga, gb if gb is None or self.sign == 1.0 else -gb]

    def jvp(self, xp, ts, args, out):
        tb = ts[1] if ts[1] is None or self.sign == 1.0 else -ts[1]
        return _fit(xp, _add_opt(ts[0], tb), _shape(out))

    def pull(self, A, node, args, out):
        parts: list[sp.csr_matrix | None] = []
        for a in node.args:
            if not a.needs_grad:
                parts.append(None)
            elif a.shape == node.shape:
                parts.append(A)
            else:
                parts.append(remap_columns(A, _bcast_index(a.shape, node.shape), a.size))
        pb = parts[1]
        return [parts[0], pb if pb is None or self.sign == 1.0 else -pb]


class Mul(Op):
    """``out = a * b`` elementwise with numpy broadcasting."""

    name = "mul"
    fresh = True

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        return args[0] * args[1]

    def vjp(self, xp, g, args, out, needs):
        a, b = args
        ga = _unbroadcast(xp, g * b, _shape(a)) if needs[0] else None
        gb = _unbroadcast(xp, g * a, _shape(b)) if needs[1] else None
        return [ga, gb]

    def jvp(self, xp, ts, args, out):
        a, b = args
        ta = None if ts[0] is None else ts[0] * b
        tb = None if ts[1] is None else a * ts[1]
        return _fit(xp, _add_opt(ta, tb), _shape(out))

    def pull(self, A, node, args, out):
        (a, b), (av, bv) = node.args, args
        parts: list[sp.csr_matrix | None] = []
        for arg, other in ((a, bv), (b, av)):
            if not arg.needs_grad:
                parts.append(None)
                continue
            scale = np.broadcast_to(np.asarray(other, dtype=float), node.shape).ravel()
            idx = _bcast_index(arg.shape, node.shape)
            parts.append(remap_columns(A, idx, arg.size, scale))
        return parts


class MatMul(Op):
    """``out = a @ b`` for 1-D or 2-D operands (products of two variable blocks: ``W @ z``)."""

    name = "matmul"
    fresh = True

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        if is_numpy(ctx.xp):
            return _np_matmul(args[0], args[1])
        return ctx.xp.matmul(args[0], args[1])

    @staticmethod
    def _as2d(xp: ModuleType, a: Array, b: Array) -> tuple[Array, Array]:
        a2 = a if len(_shape(a)) == 2 else xp.reshape(a, (1, -1))
        b2 = b if len(_shape(b)) == 2 else xp.reshape(b, (-1, 1))
        return a2, b2

    def vjp(self, xp, g, args, out, needs):
        a, b = args
        a2, b2 = self._as2d(xp, a, b)
        g2 = xp.reshape(g, (_shape(a2)[0], _shape(b2)[1]))
        mm = _np_matmul if is_numpy(xp) else xp.matmul  # transposes are views: BLAS flags
        ga = _reshaped(xp, mm(g2, b2.T), _shape(a)) if needs[0] else None
        gb = _reshaped(xp, mm(a2.T, g2), _shape(b)) if needs[1] else None
        return [ga, gb]

    def jvp(self, xp, ts, args, out):
        a, b = args
        ta = None if ts[0] is None else xp.matmul(ts[0], b)
        tb = None if ts[1] is None else xp.matmul(a, ts[1])
        return _add_opt(ta, tb)

    def pull(self, A, node, args, out):
        """Entry ``(i, (r, c))`` of ``A`` spreads to ``(i, (r, k))`` with weight ``b[k, c]``
        and to ``(i, (k, c))`` with weight ``a[r, k]`` (``O(nnz(A) k)``, no Kronecker)."""
        a2, b2 = self._as2d(np, np.asarray(args[0]), np.asarray(args[1]))
        m, k = a2.shape
        p = b2.shape[1]
        coo = A.tocoo()
        r, c = np.divmod(coo.col, p)
        kk = np.arange(k)
        parts: list[sp.csr_matrix | None] = [None, None]
        if node.args[0].needs_grad:
            vals = (coo.data[:, None] * b2[:, c].T).ravel()
            cols = (r[:, None] * k + kk).ravel()
            rows = np.repeat(coo.row, k)
            parts[0] = sp.csr_matrix((vals, (rows, cols)), shape=(A.shape[0], m * k))
        if node.args[1].needs_grad:
            vals = (coo.data[:, None] * a2[r, :]).ravel()
            cols = (kk * p + c[:, None]).ravel()
            rows = np.repeat(coo.row, k)
            parts[1] = sp.csr_matrix((vals, (rows, cols)), shape=(A.shape[0], k * p))
        return parts
