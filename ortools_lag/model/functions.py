"""The operations of the expression graph (``nonlinear.py``): arithmetic with broadcasting,
sums and means, matrix products, norms and losses; the elementwise functions (``tanh``,
``sigmoid``, ``exp`` ...) live in :mod:`~ortools_lag.model.elementwise` and are re-exported here.

Each function takes an expression (affine, quadratic or nonlinear) and returns a
:class:`~ortools_lag.model.nonlinear.NonlinearExpr`; given a plain array it returns the numpy
value. Read as constraints ``v = phi(args)`` with multiplier ``lambda_v``, each operation's
adjoint rule gives its arguments' multipliers: ``a + b`` passes ``lambda_v`` to both (summed
over broadcast axes), ``a * b`` gives ``lambda_v * b`` and ``lambda_v * a``, ``a @ b`` gives
``lambda_v @ b^T`` and ``a^T @ lambda_v``, a sum spreads ``lambda_v`` over its entries.
On numpy arrays the products call numpy/BLAS directly (into reused buffers:
:mod:`~ortools_lag.model.buffers`) and a sum ``a + b`` may write into the buffer of a fresh
argument that nothing else reads (the tape's in-place plan).

``softmax_cross_entropy(s, t)`` is ``mean_n sum_c t_cn (logsumexp_c(s_.n) - s_cn)`` (classes on
``axis``, samples on the other axis) with adjoint ``(softmax(s) * sum_c t - t) / N``.

The product rule, by the same recursion: ``d/dx sum(x * tanh(x)) = tanh(x) + x (1 - tanh(x)^2)``.

>>> from ortools_lag import Model
>>> m = Model(); x = m.var("x", 2, lb=None)
>>> e = (tanh(x) * x).sum()
>>> z = np.array([0.0, 1.0])
>>> round(float(e.value(z)[0]), 6), e.vjp(z, 1.0).round(6).tolist()
(0.761594, [0.0, 1.181568])
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.arrays import is_numpy
from ortools_lag.errors import ModelError
from ortools_lag.model import buffers
from ortools_lag.model.elementwise import (
    Elementwise,
    abs,
    cos,
    exp,
    log,
    power,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    square,
    tanh,
)
from ortools_lag.model.expressions import Expr, Shape, as_constant
from ortools_lag.model.nonlinear import (
    Ctx,
    NonlinearExpr,
    Op,
    _node,
    _shape,
    as_nonlinear,
    data,
    remap_columns,
)

__all__ = [
    "Elementwise",
    "abs",
    "add",
    "cos",
    "exp",
    "log",
    "matmul",
    "mean",
    "multiply",
    "norm",
    "power",
    "reduce_sum",
    "relu",
    "sigmoid",
    "sin",
    "softmax_cross_entropy",
    "softplus",
    "sqrt",
    "square",
    "subtract",
    "sum_squares",
    "tanh",
]

Array = Any


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


def _binary(op: Op, a: Any, b: Any) -> NonlinearExpr:
    na, nb = as_nonlinear(a), as_nonlinear(b)
    try:
        shape = np.broadcast_shapes(na.shape, nb.shape)
    except ValueError as exc:
        raise ModelError(f"shape mismatch: {na.shape} and {nb.shape} do not broadcast") from exc
    return _node(op, [na, nb], shape)


def add(a: Any, b: Any) -> NonlinearExpr:
    """``a + b`` with numpy broadcasting (the ``+`` of nonlinear expressions)."""
    return _binary(Add(1.0), a, b)


def subtract(a: Any, b: Any) -> NonlinearExpr:
    """``a - b`` with numpy broadcasting."""
    return _binary(Add(-1.0), a, b)


def multiply(a: Any, b: Any) -> NonlinearExpr:
    """``a * b`` elementwise with numpy broadcasting (products of two blocks: ``x * y``)."""
    return _binary(Mul(), a, b)


def reduce_sum(e: Any, axis: int | None = None, mean: bool = False) -> NonlinearExpr:
    """Sum (or mean) of all entries or along ``axis``, as a graph node."""
    ne = as_nonlinear(e)
    if axis is None:
        return _node(Sum(None, mean), [ne], ())
    if not -ne.ndim <= axis < ne.ndim:
        raise ModelError(f"axis {axis} out of range for shape {ne.shape}")
    axis %= ne.ndim
    return _node(Sum(axis, mean), [ne], ne.shape[:axis] + ne.shape[axis + 1 :])


def matmul(a: Any, b: Any) -> NonlinearExpr:
    """``a @ b`` as a graph node, for 1-D or 2-D expressions or constants (``W @ z``).

    >>> from ortools_lag import Model
    >>> m = Model(); W = m.var("W", (2, 3), lb=None); Z = m.var("Z", (3, 4), lb=None)
    >>> matmul(W, Z).shape
    (2, 4)
    """
    na, nb = as_nonlinear(a), as_nonlinear(b)
    if not (1 <= na.ndim <= 2 and 1 <= nb.ndim <= 2):
        raise ModelError(f"@ needs 1-D or 2-D operands, got {na.shape} and {nb.shape}")
    inner_a = na.shape[-1]
    inner_b = nb.shape[0]
    if inner_a != inner_b:
        raise ModelError(f"shape mismatch in @: {na.shape} and {nb.shape}")
    shape = na.shape[:-1] + nb.shape[1:]
    return _node(MatMul(), [na, nb], shape)


def mean(x: Any, axis: int | None = None) -> Any:
    """Mean over all entries or along ``axis`` (the run-time count: batch-size independent).

    >>> float(mean(np.array([1.0, 3.0])))
    2.0
    """
    if not isinstance(x, Expr):
        return np.mean(as_constant(x), axis=axis)
    return as_nonlinear(x).mean(axis)


def sum_squares(x: Any) -> Any:
    """``sum(x ** 2)``: a quadratic expression for affine ``x``, a graph node otherwise.

    >>> float(sum_squares(np.array([3.0, 4.0])))
    25.0
    """
    if not isinstance(x, Expr):
        return float(np.sum(as_constant(x) ** 2))
    if isinstance(x, NonlinearExpr):
        return square(x).sum()
    from ortools_lag.model.expressions import sum_squares as quad_sum_squares

    return quad_sum_squares(x)


def norm(x: Any, ord: Any = 2) -> Any:
    """The 2-norm (``ord`` 2 or ``"fro"``: of all entries) or the 1-norm (``ord=1``).

    >>> float(norm(np.array([3.0, 4.0])))
    5.0
    """
    if ord in (2, "fro"):
        return sqrt(sum_squares(x)) if isinstance(x, Expr) else float(np.linalg.norm(x))
    if ord == 1:
        return abs(x).sum() if isinstance(x, Expr) else float(np.sum(np.abs(as_constant(x))))
    raise ModelError(f"norm: unsupported ord {ord!r} (valid choices: 1, 2, 'fro')")


class SoftmaxCrossEntropy(Op):
    """``sum_n sum_c t_cn (lse_n - s_cn)``, divided by ``N`` for ``reduction="mean"``."""

    name = "softmax_cross_entropy"

    def __init__(self, axis: int, mean: bool) -> None:
        self.axis, self.mean = axis, mean

    def _parts(self, xp: ModuleType, s: Array, t: Array) -> tuple[Array, Array, float]:
        m = xp.max(s, axis=self.axis, keepdims=True)
        e = xp.exp(s - m)
        se = xp.sum(e, axis=self.axis, keepdims=True)
        lse = xp.log(se) + m
        shp = _shape(s)
        n = shp[1 - self.axis] if len(shp) == 2 else 1
        return e / se, lse, float(n) if self.mean else 1.0

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        s, t = args
        _, lse, n = self._parts(ctx.xp, s, t)
        return ctx.xp.sum(t * (lse - s)) / n

    def vjp(self, xp, g, args, out, needs):
        s, t = args
        p, lse, n = self._parts(xp, s, t)
        gs = g * (p * xp.sum(t, axis=self.axis, keepdims=True) - t) / n if needs[0] else None
        gt = g * (lse - s) / n if needs[1] else None
        return [gs, gt]

    def jvp(self, xp, ts, args, out):
        s, t = args
        p, lse, n = self._parts(xp, s, t)
        val = 0.0 * out
        if ts[0] is not None:
            val = val + xp.sum((p * xp.sum(t, axis=self.axis, keepdims=True) - t) * ts[0]) / n
        if ts[1] is not None:
            val = val + xp.sum((lse - s) * ts[1]) / n
        return val

    def local(self, node, args, out):
        s, t = args
        p, lse, n = self._parts(np, s, t)
        gs = (p * np.sum(t, axis=self.axis, keepdims=True) - t) / n
        return [sp.csr_matrix(gs.reshape(1, -1)), sp.csr_matrix(((lse - s) / n).reshape(1, -1))]


def softmax_cross_entropy(
    scores: Any, targets: Any, *, axis: int = 0, reduction: str = "mean"
) -> Any:
    """Cross-entropy of the softmax of ``scores`` against ``targets``.

    Parameters
    ----------
    scores
        Class scores, an expression of shape ``(C, N)`` (``axis=0``) or ``(N, C)`` (``axis=1``).
    targets
        One-hot (or soft) targets of the same shape — an array, a :func:`data` leaf or an
        expression — or integer labels of shape ``(N,)``.
    reduction
        ``"mean"`` (divide by the number of samples at run time) or ``"sum"``.

    >>> s = np.array([[2.0, 0.0], [0.0, 2.0]])
    >>> round(float(softmax_cross_entropy(s, np.array([0, 1]))), 6)
    0.126928
    """
    if reduction not in ("mean", "sum"):
        raise ModelError(f"unknown reduction {reduction!r} (valid choices: mean, sum)")
    s = as_nonlinear(scores)
    if s.ndim != 2 or axis not in (0, 1, -1, -2):
        raise ModelError(f"softmax_cross_entropy needs 2-D scores, got shape {s.shape}")
    ax = axis % 2
    t = _targets(targets, s.shape, ax)
    if t.shape != s.shape:
        raise ModelError(f"targets of shape {t.shape} do not match scores of shape {s.shape}")
    node = _node(SoftmaxCrossEntropy(ax, reduction == "mean"), [s, t], ())
    if not isinstance(scores, Expr) and not isinstance(targets, Expr):
        return np.asarray(node.evaluate({}))
    return node


def _targets(targets: Any, shape: tuple[int, ...], axis: int) -> NonlinearExpr:
    if isinstance(targets, Expr):
        return as_nonlinear(targets)
    arr = np.asarray(targets)
    if arr.ndim == 1 and np.issubdtype(arr.dtype, np.integer):
        n_classes = shape[axis]
        if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
            raise ModelError(f"labels must lie in [0, {n_classes}), got [{arr.min()}, {arr.max()}]")
        arr = np.eye(n_classes)[arr]
        arr = arr.T if axis == 0 else arr
    return as_nonlinear(as_constant(arr, "targets"))


def one_hot(labels: Any, n_classes: int) -> np.ndarray:
    """Integer labels ``(N,)`` as one-hot columns ``(n_classes, N)``.

    >>> one_hot([1, 0], 2).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    arr = np.asarray(labels, dtype=np.int64)
    return np.eye(n_classes)[arr].T.copy()


__all__ += ["data", "one_hot"]
