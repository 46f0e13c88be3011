r"""The elementwise operation of the expression graph: each function, its derivative, its kernels.

Each function ``y = f(x)`` (entry by entry) carries its derivative ``f'(x)``, written with the
output ``y`` where that is cheaper (``tanh' = 1 - y^2``, ``sigmoid' = y (1 - y)``,
``exp' = y``, ``sqrt' = 0.5 / y``); the adjoint recursion multiplies it into the adjoint:
``adj(x) = adj(y) * f'(x)``. As an equality constraint ``y - f(x) == 0`` with multiplier
``lambda_y``, stationarity in ``x`` gives ``lambda_x = lambda_y * f'(x)`` (see
:mod:`~ortools_lag.model.nonlinear`).

The generic rules are written against the array API (numpy, torch). On numpy arrays the same
formulas run as in-place ufunc kernels (``out=``: no temporaries, derivative factors from the
stored forward values, outputs in reused buffers: :mod:`~ortools_lag.model.buffers`), the
transcendental ones split over threads for large arrays (:mod:`~ortools_lag.model.ufunc_threads`);
the results are bit-identical to the generic rules.
A function whose derivative reads only ``y`` lets the forward pass overwrite its argument's
buffer when nothing else reads it (the tape's in-place plan).

Each function also carries its second derivative ``f''`` (reading what ``f'`` reads, so the
in-place plan holds for second order too), for the second-order rule
``d(g f'(x)) = g f''(x) x_dot``: ``tanh'' = -2 y (1 - y^2)``, ``sigmoid'' = y (1 - y)(1 - 2 y)``,
``softplus'' = sigmoid(x) (1 - sigmoid(x))``, ``exp'' = y``, ``log'' = -1 / x^2``,
``sin'' = -sin x``, ``cos'' = -cos x``, ``square'' = 2``, ``sqrt'' = -1 / (4 y^3)``, powers
``p (p - 1) x^(p - 2)``. ``relu`` and ``abs`` are piecewise linear (``flat``): ``f'' = 0`` away
from the kink at 0, where neither has a second derivative and the rule takes 0 (the Hessian is
that of either linear piece); their nodes couple no variables in a Hessian's pattern.

This module holds the :class:`~ortools_lag.model.ops.Op` :class:`Elementwise` and the table
:data:`RULES` of the functions by name; the functions that build graph nodes with it
(``tanh(x)``, ``exp(x)`` ...) are in :mod:`~ortools_lag.model.functions`, ``power`` (the ``**``
of expressions) in :mod:`~ortools_lag.model.nonlinear`.

>>> from ortools_lag import Model
>>> from ortools_lag.model import functions as F
>>> m = Model(); x = m.var("x", 2, lb=None)
>>> e = F.tanh(x).sum()
>>> z = np.array([0.0, 1.0])
>>> round(float(e.value(z)[0]), 6), e.vjp(z, 1.0).round(6).tolist()
(0.761594, [1.0, 0.419974])
>>> e.hvp(z, 1.0, np.ones(2)).round(6).tolist()  # tanh''(x) = -2 tanh(x) (1 - tanh(x)^2)
[0.0, -0.6397]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.arrays import is_numpy
from ortools_lag.errors import ModelError
from ortools_lag.model import buffers
from ortools_lag.model.ops import Op, ones_pattern, scale_columns
from ortools_lag.model.ufunc_threads import MIN_SIZE, blockwise

if TYPE_CHECKING:
    from ortools_lag.model.nonlinear import NonlinearExpr
    from ortools_lag.model.ops import Ctx

__all__ = ["RULES", "Elementwise", "Rule"]

Array = Any
Fn = Callable[[ModuleType, Array], Array]
DFn = Callable[[ModuleType, Array, Array], Array]
Kernel = Callable[..., object]
_NEVER = 1 << 62  # ``min_size`` that keeps a cheap kernel in one call


@dataclass(frozen=True)
class Rule:
    """One function: generic value and derivative, and optional numpy kernels.

    ``f_np(o, x)`` writes ``f(x)`` into ``o`` (which may be ``x``); ``vjp_np(o, g, x, y)`` writes
    ``g * f'(x, y)`` into ``o`` (none of ``g``, ``x``, ``y``). Both compute exactly the generic
    formulas, operation by operation. ``uses_x``: ``f'`` reads ``x`` only, else ``y`` only.

    ``d2f(xp, x, y)`` is ``f''`` (reading what ``df`` reads: ``x`` if ``uses_x``, else ``y``),
    for the second-order rule ``d(g f'(x)) = g f''(x) x_dot``; ``flat`` marks a piecewise linear
    function (``f'' = 0`` wherever it exists: ``relu``, ``abs``), ``d2f`` unset and not ``flat``:
    no second derivative.
    """

    f: Fn
    df: DFn
    uses_x: bool = True  # f' reads x (else only y)
    f_np: Kernel | None = None
    vjp_np: Kernel | None = None
    threads_f: bool = False  # a transcendental forward: worth the thread pool
    threads_df: bool = False
    d2f: DFn | None = None  # f'' (reads what df reads)
    flat: bool = False  # f'' = 0 almost everywhere


def _as_float(xp: ModuleType, mask: Array, like: Array) -> Array:
    return xp.astype(mask, like.dtype) if hasattr(xp, "astype") else mask.astype(like.dtype)


def _like(a: np.ndarray) -> np.ndarray:
    """``np.empty_like(a)``, a reused buffer when ``a`` is C-contiguous."""
    return buffers.empty(a.shape, a.dtype) if a.flags.c_contiguous else np.empty_like(a)


def _kernel_arg(x: Any) -> bool:
    return type(x) is np.ndarray and x.ndim > 0 and x.dtype.kind == "f"


class Elementwise(Op):
    """``y = f(x)`` entry by entry, with ``f'(x, y)`` for the adjoint and tangent rules and
    ``f''(x, y)`` for the second-order rule.

    Parameters
    ----------
    name
        The function's name.
    f, df
        ``f(xp, x)`` and ``f'(xp, x, y)``.
    rule
        The function's :class:`Rule` (numpy kernels, ``f''``); default ``Rule(f, df, d2f=d2f,
        flat=flat)``.
    d2f, flat
        ``f''(xp, x, y)``, or ``flat=True`` for ``f'' = 0`` (used without ``rule``).

    Examples
    --------
    >>> cube = Elementwise("cube", lambda xp, x: x**3, lambda xp, x, y: 3 * x**2,
    ...                    d2f=lambda xp, x, y: 6 * x)
    >>> x = np.array([1.0, 2.0])
    >>> cube.vjp_tangent(np, np.ones(2), [x], x**3, [np.ones(2)], [True])[0].tolist()
    [6.0, 12.0]
    """

    fresh = True

    def __init__(
        self,
        name: str,
        f: Fn,
        df: DFn,
        rule: Rule | None = None,
        *,
        d2f: DFn | None = None,
        flat: bool = False,
    ) -> None:
        self.name, self.f, self.df = name, f, df
        self.rule = rule if rule is not None else Rule(f, df, d2f=d2f, flat=flat)
        self.keeps_args = self.rule.uses_x
        self.keeps_out = not self.rule.uses_x

    def inplace_args(self, node: NonlinearExpr) -> tuple[int, ...]:
        return (0,)

    def _kernel(self, xp: ModuleType, x: Array, out: Array | None) -> Array | None:
        rule = self.rule
        if rule.f_np is None or not _kernel_arg(x) or not is_numpy(xp):
            return None
        o = _like(x) if out is None else out
        return blockwise(rule.f_np, o, x, min_size=MIN_SIZE if rule.threads_f else _NEVER)

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        y = self._kernel(ctx.xp, args[0], None)
        return self.f(ctx.xp, args[0]) if y is None else y

    def forward_into(self, ctx: Ctx, args: list[Array], i: int) -> Array:
        x = args[0]
        y = self._kernel(ctx.xp, x, x if x.flags.writeable else None) if _kernel_arg(x) else None
        return self.forward(ctx, args) if y is None else y

    def vjp(self, xp, g, args, out, needs):
        rule, x = self.rule, args[0]
        if rule.vjp_np is not None and is_numpy(xp) and _kernel_arg(g) and _kernel_arg(out):
            same = g.shape == out.shape == np.shape(x) and g.dtype == out.dtype
            if same:
                o = _like(out)  # the layout of f'(x, y), as the generic rule
                size = MIN_SIZE if rule.threads_df else _NEVER
                return [blockwise(rule.vjp_np, o, g, np.asarray(x), out, min_size=size)]
        d = self.df(xp, x, out)
        fresh = isinstance(d, np.ndarray) and d is not x and d is not out
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

    def _second(self) -> DFn | None:
        rule = self.rule
        if rule.flat:
            return None
        if rule.d2f is None:
            raise ModelError(f"function {self.name!r} has no second derivative")
        return rule.d2f

    def vjp_tangent(self, xp, g, args, out, ts, needs):
        """``d(g f'(x)) = g f''(x) x_dot`` (none for a piecewise linear function)."""
        d2f = self._second()
        if d2f is None or ts[0] is None or not needs[0]:
            return [None]
        return [g * d2f(xp, args[0], out) * ts[0]]

    def dependencies(self, node, deps):
        return deps[0]

    def couplings(self, node, deps):
        """Entry ``i`` couples the variables it depends on (``f'' != 0``)."""
        D = deps[0]
        if D is None or self._second() is None:
            return None
        return ones_pattern(D.T @ D)


# -- numpy kernels: the generic formulas below, evaluated with ``out=`` -------------------------
def _sigmoid(xp: ModuleType, x: Array) -> Array:
    return 0.5 * (1.0 + xp.tanh(0.5 * x))  # no overflow for large |x|


def _sigmoid_np(o: np.ndarray, x: np.ndarray) -> None:
    np.multiply(0.5, x, out=o)
    np.tanh(o, out=o)
    np.add(1.0, o, out=o)
    np.multiply(0.5, o, out=o)


def _softplus_np(o: np.ndarray, x: np.ndarray) -> None:
    t = np.multiply(0.0, x)  # maximum(x, 0 * x), before o (which may be x) is written
    np.maximum(x, t, out=t)
    np.abs(x, out=o)
    np.negative(o, out=o)
    np.exp(o, out=o)
    np.log1p(o, out=o)
    np.add(o, t, out=o)


def _relu_np(o: np.ndarray, x: np.ndarray) -> None:
    if o is x:
        np.maximum(x, np.multiply(0.0, x), out=o)
    else:
        np.multiply(0.0, x, out=o)
        np.maximum(x, o, out=o)


def _times_g(d: Kernel) -> Kernel:
    """``o = f'(x, y) * g`` from a kernel ``d(o, x, y)`` writing ``f'`` into ``o``."""

    def kernel(o: np.ndarray, g: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        d(o, x, y)
        np.multiply(o, g, out=o)

    return kernel


def _d_tanh(o: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    np.multiply(y, y, out=o)
    np.subtract(1.0, o, out=o)


def _d_sigmoid(o: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    np.subtract(1.0, y, out=o)
    np.multiply(y, o, out=o)


def _d_cos(o: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    np.sin(x, out=o)
    np.negative(o, out=o)


def _unary(ufunc: np.ufunc) -> Kernel:
    return lambda o, x: ufunc(x, out=o)


#: The functions by name: generic rules and numpy kernels.
RULES: dict[str, Rule] = {
    "tanh": Rule(
        lambda xp, x: xp.tanh(x),
        lambda xp, x, y: 1.0 - y * y,
        uses_x=False,
        f_np=_unary(np.tanh),
        vjp_np=_times_g(_d_tanh),
        threads_f=True,
        d2f=lambda xp, x, y: -2.0 * y * (1.0 - y * y),
    ),
    "sigmoid": Rule(
        _sigmoid,
        lambda xp, x, y: y * (1.0 - y),
        uses_x=False,
        f_np=_sigmoid_np,
        vjp_np=_times_g(_d_sigmoid),
        threads_f=True,
        d2f=lambda xp, x, y: y * (1.0 - y) * (1.0 - 2.0 * y),
    ),
    "relu": Rule(
        lambda xp, x: xp.maximum(x, 0.0 * x),
        lambda xp, x, y: _as_float(xp, x > 0, x),
        f_np=_relu_np,
        vjp_np=_times_g(lambda o, x, y: np.greater(x, 0, out=o)),
        flat=True,
    ),
    "softplus": Rule(
        lambda xp, x: xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(x, 0.0 * x),
        lambda xp, x, y: _sigmoid(xp, x),
        f_np=_softplus_np,
        vjp_np=_times_g(lambda o, x, y: _sigmoid_np(o, x)),
        threads_f=True,
        threads_df=True,
        d2f=lambda xp, x, y: _sigmoid(xp, x) * (1.0 - _sigmoid(xp, x)),
    ),
    "exp": Rule(
        lambda xp, x: xp.exp(x),
        lambda xp, x, y: y,
        uses_x=False,
        f_np=_unary(np.exp),
        vjp_np=lambda o, g, x, y: np.multiply(g, y, out=o),
        threads_f=True,
        d2f=lambda xp, x, y: y,
    ),
    "log": Rule(
        lambda xp, x: xp.log(x),
        lambda xp, x, y: 1.0 / x,
        f_np=_unary(np.log),
        vjp_np=_times_g(lambda o, x, y: np.divide(1.0, x, out=o)),
        threads_f=True,
        d2f=lambda xp, x, y: -1.0 / (x * x),
    ),
    "sin": Rule(
        lambda xp, x: xp.sin(x),
        lambda xp, x, y: xp.cos(x),
        f_np=_unary(np.sin),
        vjp_np=_times_g(lambda o, x, y: np.cos(x, out=o)),
        threads_f=True,
        threads_df=True,
        d2f=lambda xp, x, y: -xp.sin(x),
    ),
    "cos": Rule(
        lambda xp, x: xp.cos(x),
        lambda xp, x, y: -xp.sin(x),
        f_np=_unary(np.cos),
        vjp_np=_times_g(_d_cos),
        threads_f=True,
        threads_df=True,
        d2f=lambda xp, x, y: -xp.cos(x),
    ),
    "square": Rule(
        lambda xp, x: x * x,
        lambda xp, x, y: 2.0 * x,
        f_np=lambda o, x: np.multiply(x, x, out=o),
        vjp_np=_times_g(lambda o, x, y: np.multiply(2.0, x, out=o)),
        d2f=lambda xp, x, y: 0.0 * x + 2.0,
    ),
    "sqrt": Rule(
        lambda xp, x: xp.sqrt(x),
        lambda xp, x, y: 0.5 / y,
        uses_x=False,
        f_np=_unary(np.sqrt),
        vjp_np=_times_g(lambda o, x, y: np.divide(0.5, y, out=o)),
        d2f=lambda xp, x, y: -0.25 / (y * y * y),
    ),
    "abs": Rule(
        lambda xp, x: xp.abs(x),
        lambda xp, x, y: xp.sign(x),
        f_np=_unary(np.abs),
        vjp_np=_times_g(lambda o, x, y: np.sign(x, out=o)),
        flat=True,
    ),
}
