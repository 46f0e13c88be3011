"""The functions on expressions (``F.tanh``, ``F.norm`` ...): elementwise functions, sums and
means, norms and losses, and the arithmetic of the expression graph.

Each function takes an expression (affine, quadratic or nonlinear) and returns a
:class:`~ortools_lag.model.nonlinear.NonlinearExpr`; given a plain array it returns the numpy
value. The elementwise functions (``tanh``, ``sigmoid``, ``exp`` ...) apply the operation
:class:`~ortools_lag.model.elementwise.Elementwise` with its rule from
:data:`~ortools_lag.model.elementwise.RULES`; the arithmetic (``add``, ``multiply``, ``matmul``,
``power``, ``reduce_sum`` ...: the operators of ``NonlinearExpr``) is built in
:mod:`~ortools_lag.model.nonlinear` and re-exported here; what each operation computes, and its
adjoint rule, is in :mod:`~ortools_lag.model.ops`.

``softmax_cross_entropy(s, t)`` is ``mean_n sum_c t_cn (logsumexp_c(s_.n) - s_cn)`` (classes on
``axis``, samples on the other axis) with adjoint ``(softmax(s) * sum_c t - t) / N``; its
second-order rule is the softmax Jacobian ``p_dot = p * (s_dot - sum_c p s_dot)`` (the scores
of one sample couple with each other and with that sample's targets, which enter linearly).
Every function here has second derivatives (:meth:`NonlinearExpr.hessian
<ortools_lag.model.nonlinear.NonlinearExpr.hessian>`); ``relu``, ``abs`` and the 1-norm are
piecewise linear, with the second derivative 0 away from their kinks.

The product rule, by the adjoint recursion:
``d/dx sum(x * tanh(x)) = tanh(x) + x (1 - tanh(x)^2)``.

>>> from ortools_lag import Model
>>> m = Model(); x = m.var("x", 2, lb=None)
>>> e = (tanh(x) * x).sum()
>>> z = np.array([0.0, 1.0])
>>> round(float(e.value(z)[0]), 6), e.vjp(z, 1.0).round(6).tolist()
(0.761594, [0.0, 1.181568])
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.errors import ModelError
from ortools_lag.model.elementwise import RULES, Elementwise
from ortools_lag.model.expressions import Expr, as_constant
from ortools_lag.model.expressions import sum_squares as quad_sum_squares
from ortools_lag.model.nonlinear import (
    NonlinearExpr,
    _node,
    add,
    apply_unary,
    as_nonlinear,
    data,
    matmul,
    multiply,
    power,
    reduce_sum,
    subtract,
)
from ortools_lag.model.ops import Add, Ctx, MatMul, Mul, Op, Sum, _shape, _symmetric, _union
from ortools_lag.model.tape import _add_opt

__all__ = [
    "Add",
    "Elementwise",
    "MatMul",
    "Mul",
    "SoftmaxCrossEntropy",
    "Sum",
    "abs",
    "add",
    "cos",
    "data",
    "exp",
    "log",
    "matmul",
    "mean",
    "multiply",
    "norm",
    "one_hot",
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


# -- elementwise functions ----------------------------------------------------------------------
def _apply(name: str, x: Any) -> Any:
    rule = RULES[name]
    return apply_unary(Elementwise(name, rule.f, rule.df, rule), x)


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


# -- reductions, norms and losses ---------------------------------------------------------------
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

    def vjp_tangent(self, xp, g, args, out, ts, needs):
        """Tangents of ``g (p T - t) / N`` and ``g (lse - s) / N`` (``T = sum_c t``), with
        ``p_dot = p * (s_dot - sum_c p s_dot)`` (the softmax Jacobian) and
        ``lse_dot = sum_c p s_dot``."""
        s, t = args
        ts_s, ts_t = ts
        ax = self.axis
        p, _, n = self._parts(xp, s, t)
        lse_dot = None if ts_s is None else xp.sum(p * ts_s, axis=ax, keepdims=True)
        gs = gt = None
        if needs[0]:
            by_s = (
                None
                if lse_dot is None
                else p * (ts_s - lse_dot) * xp.sum(t, axis=ax, keepdims=True)
            )
            by_t = None if ts_t is None else p * xp.sum(ts_t, axis=ax, keepdims=True) - ts_t
            both = _add_opt(by_s, by_t)
            gs = None if both is None else (g / n) * both
        if needs[1] and lse_dot is not None:
            gt = (g / n) * (lse_dot - ts_s)
        return [gs, gt]

    def _samples(self, node: NonlinearExpr) -> sp.csr_matrix:
        """``N x size`` 0/1: the entries of each sample (the classes of one column or row)."""
        shape = node.args[0].shape
        other = 1 - self.axis
        ids = np.expand_dims(np.arange(shape[other]), self.axis)
        sample = np.broadcast_to(ids, shape).ravel()
        size = sample.size
        return sp.csr_matrix((np.ones(size), (sample, np.arange(size))), shape=(shape[other], size))

    def dependencies(self, node, deps):
        return _union([None if d is None else sp.csr_matrix(d.sum(axis=0)) for d in deps])

    def couplings(self, node, deps):
        """The scores of one sample couple with each other (the softmax) and with that sample's
        targets; the targets alone enter linearly."""
        ds, dt = deps
        if ds is None:
            return None
        G = self._samples(node)
        A = G @ ds
        C = A.T @ A
        if dt is not None:
            C = C + A.T @ (G @ dt)
        return _symmetric(C)


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
