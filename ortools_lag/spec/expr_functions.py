"""The functions the expression parser of YAML files knows, and how each is applied.

:data:`LINEAR_FUNCTIONS` keep an expression affine or quadratic (``sum``, ``dot``,
``transpose``, ``reshape``, ``sum_squares``, ``quad_form``, ``hstack``, ``vstack``,
``concatenate``); :data:`NONLINEAR_FUNCTIONS` are elementwise, computed by numpy on constants
(:data:`NUMPY`) and by ``ortools_lag.model.functions`` on expressions of variables.

>>> LINEAR_SIGNATURES["sum"].func(np.arange(4.0).reshape(2, 2), axis=0).tolist()
[2.0, 4.0]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ortools_lag.errors import ModelError
from ortools_lag.model import Expr, concatenate, hstack, quad_form, sum_squares, vstack

__all__ = [
    "LINEAR_FUNCTIONS",
    "LINEAR_SIGNATURES",
    "NONLINEAR_FUNCTIONS",
    "NUMPY",
    "Signature",
    "as_int",
]

#: Functions that keep an expression affine or quadratic.
LINEAR_FUNCTIONS: tuple[str, ...] = (
    "sum",
    "dot",
    "transpose",
    "reshape",
    "sum_squares",
    "quad_form",
    "hstack",
    "vstack",
    "concatenate",
)

#: Elementwise nonlinear functions (numpy on constants; ``ortools_lag.model.functions`` else).
NONLINEAR_FUNCTIONS: tuple[str, ...] = (
    "exp",
    "log",
    "tanh",
    "sigmoid",
    "relu",
    "softplus",
    "sin",
    "cos",
    "sqrt",
    "square",
    "abs",
    "power",
)


NUMPY: dict[str, Callable[..., Any]] = {
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "relu": lambda a: np.maximum(a, 0.0),
    "softplus": lambda a: np.logaddexp(0.0, a),
    "sin": np.sin,
    "cos": np.cos,
    "sqrt": np.sqrt,
    "square": np.square,
    "abs": np.abs,
    "power": np.power,
}


@dataclass(frozen=True)
class Signature:
    """A linear function: how to apply it, how many positional arguments, which keywords."""

    func: Callable[..., Any]
    nargs: tuple[int, ...]
    keywords: tuple[str, ...] = ()


def as_int(value: Any) -> Any:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0 and arr == np.round(arr):
        return int(arr)
    if arr.ndim == 1 and np.all(arr == np.round(arr)):
        return tuple(int(a) for a in arr)
    raise ModelError(f"expected an integer keyword argument, found {value!r}")


def _sum(a: Any, axis: int | None = None) -> Any:
    if isinstance(a, Expr):
        return a.sum(axis=axis)
    return np.sum(a, axis=axis)


def _transpose(a: Any) -> Any:
    return a.T if isinstance(a, Expr) else np.transpose(a)


def _reshape(a: Any, *shape: Any) -> Any:
    dims = tuple(int(s) for s in np.atleast_1d(np.asarray(shape, dtype=float)).ravel())
    return a.reshape(dims) if isinstance(a, Expr) else np.reshape(a, dims)


def _stacker(func: Callable[..., Any], numpy_func: Callable[..., Any]) -> Callable[..., Any]:
    def stack(items: Any, axis: int | None = None) -> Any:
        seq = list(items) if isinstance(items, (list, np.ndarray)) else [items]
        if not any(isinstance(i, Expr) for i in seq):
            arrs = [np.asarray(i, dtype=float) for i in seq]
            return numpy_func(arrs) if axis is None else numpy_func(arrs, axis=axis)
        return func(seq) if axis is None else func(seq, axis=axis)

    return stack


LINEAR_SIGNATURES: dict[str, Signature] = {
    "sum": Signature(_sum, (1,), ("axis",)),
    "dot": Signature(lambda a, b: a @ b, (2,)),
    "transpose": Signature(_transpose, (1,)),
    "reshape": Signature(_reshape, (2, 3, 4)),
    "sum_squares": Signature(
        lambda a: sum_squares(a) if isinstance(a, Expr) else np.sum(np.square(a)), (1,)
    ),
    "quad_form": Signature(
        lambda x, Q: quad_form(x, Q) if isinstance(x, Expr) else x @ Q @ x, (2,)
    ),
    "hstack": Signature(_stacker(hstack, np.hstack), (1,)),
    "vstack": Signature(_stacker(vstack, np.vstack), (1,)),
    "concatenate": Signature(_stacker(concatenate, np.concatenate), (1,), ("axis",)),
}
