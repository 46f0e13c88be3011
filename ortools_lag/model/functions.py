"""The operations of the expression graph (``nonlinear.py``): arithmetic with broadcasting,
sums and means, matrix products, elementwise functions, norms and losses.

Each function takes an expression (affine, quadratic or nonlinear) and returns a
:class:`~ortools_lag.model.nonlinear.NonlinearExpr`; given a plain array it returns the numpy
value. Every elementwise function carries its derivative ``f'(x)`` (written with the output
``y`` where that is cheaper: ``tanh' = 1 - y^2``, ``sigmoid' = y (1 - y)``, ``exp' = y``), which
the adjoint recursion multiplies into the adjoint: ``adj(x) = adj(y) * f'(x)``.

``softmax_cross_entropy(s, t)`` is ``mean_n sum_c t_cn (logsumexp_c(s_.n) - s_cn)`` (classes on
``axis``, samples on the other axis) with adjoint ``(softmax(s) * sum_c t - t) / N``.

>>> from ortools_lag import Model
>>> m = Model(); x = m.var("x", 2, lb=None)
>>> e = tanh(x).sum()
>>> z = np.array([0.0, 1.0])
>>> round(float(e.value(z)[0]), 6), e.vjp(z, 1.0).round(6).tolist()
(0.761594, [1.0, 0.419974])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import ModelError
from .expressions import Expr, Shape, as_constant
from .nonlinear import (
    Ctx,
    NonlinearExpr,
    Op,
    _node,
    _shape,
    as_nonlinear,
    data,
    remap_columns,
    scale_columns,
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
Fn = Callable[[ModuleType, Array], Array]
DFn = Callable[[ModuleType, Array, Array], Array]


def _as_float(xp: ModuleType, mask: Array, like: Array) -> Array:
    return xp.astype(mask, like.dtype) if hasattr(xp, "astype") else mask.astype(like.dtype)


class Elementwise(Op):
    """``y = f(x)`` entry by entry, with ``f'(x, y)`` for the adjoint and tangent rules."""

    def __init__(self, name: str, f: Fn, df: DFn) -> None:
        self.name, self.f, self.df = name, f, df

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        return self.f(ctx.xp, args[0])

    def vjp(self, xp, g, args, out, needs):
        d = self.df(xp, args[0], out)
        fresh = isinstance(d, np.ndarray) and d is not args[0] and d is not out
        if fresh and d.base is None and d.shape == np.shape(g) and d.dtype == np.float64:
            return [np.multiply(d, g, out=d)]  # numpy: reuse the temporary f'(x)
        return [g * d]

    def jvp(self, xp, ts, args, out):
        return ts[0] * self.df(xp, args[0], out)

    def local(self, node, args, out):
        d = np.broadcast_to(np.asarray(self.df(np, args[0], out), dtype=float), node.shape)
        return [sp.diags(d.ravel(), format="csr")]

    def pull(self, A, node, args, out):
        d = np.broadcast_to(np.asarray(self.df(np, args[0], out), dtype=float), node.shape)
        return [scale_columns(A, d)]


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

    def __init__(self, sign: float = 1.0) -> None:
        self.sign = sign

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        a, b = args
        return a + b if self.sign == 1.0 else a - b

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

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
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
        ga = xp.reshape(xp.matmul(g2, b2.T), _shape(a)) if needs[0] else None
        gb = xp.reshape(xp.matmul(a2.T, g2), _shape(b)) if needs[1] else None
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


def _sigmoid(xp: ModuleType, x: Array) -> Array:
    return 0.5 * (1.0 + xp.tanh(0.5 * x))  # no overflow for large |x|


_TABLE: dict[str, tuple[Fn, DFn]] = {
    "tanh": (lambda xp, x: xp.tanh(x), lambda xp, x, y: 1.0 - y * y),
    "sigmoid": (_sigmoid, lambda xp, x, y: y * (1.0 - y)),
    "relu": (lambda xp, x: xp.maximum(x, 0.0 * x), lambda xp, x, y: _as_float(xp, x > 0, x)),
    "softplus": (
        lambda xp, x: xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(x, 0.0 * x),
        lambda xp, x, y: _sigmoid(xp, x),
    ),
    "exp": (lambda xp, x: xp.exp(x), lambda xp, x, y: y),
    "log": (lambda xp, x: xp.log(x), lambda xp, x, y: 1.0 / x),
    "sin": (lambda xp, x: xp.sin(x), lambda xp, x, y: xp.cos(x)),
    "cos": (lambda xp, x: xp.cos(x), lambda xp, x, y: -xp.sin(x)),
    "square": (lambda xp, x: x * x, lambda xp, x, y: 2.0 * x),
    "sqrt": (lambda xp, x: xp.sqrt(x), lambda xp, x, y: 0.5 / y),
    "abs": (lambda xp, x: xp.abs(x), lambda xp, x, y: xp.sign(x)),
}


def _apply(name: str, x: Any, op: Op | None = None) -> Any:
    if op is None:
        f, df = _TABLE[name]
        op = Elementwise(name, f, df)
    if not isinstance(x, Expr):
        arr = as_constant(x)
        return np.asarray(op.forward(Ctx(np, {}), [arr]))
    nx = as_nonlinear(x)
    return _node(op, [nx], nx.shape)


def tanh(x: Any) -> Any:
    """Hyperbolic tangent, ``tanh' = 1 - tanh^2``.

    >>> round(float(tanh(0.5)), 6)
    0.462117
    """
    return _apply("tanh", x)


def sigmoid(x: Any) -> Any:
    """Logistic function ``1 / (1 + exp(-x))``, computed as ``(1 + tanh(x/2)) / 2``.

    >>> float(sigmoid(0.0))
    0.5
    """
    return _apply("sigmoid", x)


def relu(x: Any) -> Any:
    """``max(x, 0)``; the derivative taken at 0 is 0.

    >>> relu([-1.0, 2.0]).tolist()
    [0.0, 2.0]
    """
    return _apply("relu", x)


def softplus(x: Any) -> Any:
    """``log(1 + exp(x))``, computed without overflow; its derivative is the sigmoid.

    >>> round(float(softplus(0.0)), 6)
    0.693147
    """
    return _apply("softplus", x)


def exp(x: Any) -> Any:
    """Exponential.

    >>> float(exp(0.0))
    1.0
    """
    return _apply("exp", x)


def log(x: Any) -> Any:
    """Natural logarithm (``nan`` outside its domain, as numpy).

    >>> float(log(1.0))
    0.0
    """
    return _apply("log", x)


def sin(x: Any) -> Any:
    """Sine.

    >>> float(sin(0.0))
    0.0
    """
    return _apply("sin", x)


def cos(x: Any) -> Any:
    """Cosine.

    >>> float(cos(0.0))
    1.0
    """
    return _apply("cos", x)


def square(x: Any) -> Any:
    """``x * x``.

    >>> square([3.0]).tolist()
    [9.0]
    """
    return _apply("square", x)


def sqrt(x: Any) -> Any:
    """Square root.

    >>> float(sqrt(4.0))
    2.0
    """
    return _apply("sqrt", x)


def abs(x: Any) -> Any:
    """Absolute value; the derivative taken at 0 is 0.

    >>> abs([-2.0]).tolist()
    [2.0]
    """
    return _apply("abs", x)


def power(x: Any, p: float) -> Any:
    """``x ** p`` for a constant exponent ``p``, with ``d/dx = p x^(p-1)``.

    >>> power(2.0, 3).tolist()
    8.0
    """
    q = float(p)
    if not np.isfinite(q):
        raise ModelError(f"power: exponent {p!r} is not finite")
    op = Elementwise(
        f"power({q:g})",
        lambda xp, v: v**q,
        lambda xp, v, y: q * v ** (q - 1.0),
    )
    return _apply("power", x, op)


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
    from .expressions import sum_squares as quad_sum_squares

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
