"""Constraints ``lo <= body <= hi`` and how they are held for the sign convention.

``a <= b`` is held as ``a - b <= 0``, ``a >= b`` as ``b - a <= 0`` and ``a == b`` as
``a - b == 0``; a two-sided ``lo <= e <= hi`` carries one signed multiplier per row,
``mu_upper - mu_lower``. Internally every constraint stores ``body = a - b`` (or ``e``) with
bounds, and ``sign`` converts the signed row multiplier ``y`` (positive when the upper side binds)
to the group's multiplier: ``lam = sign * y`` (``sign = -1`` only for ``>=``).

>>> from ortools_lag import Model
>>> m = Model(); x = m.var("x", 2)
>>> c = x.sum() >= 1
>>> lo, hi = c.bounds_without_constant()
>>> c.sense, c.sign, lo.tolist(), hi.tolist()
('>=', -1, [1.0], [inf])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ortools_lag.errors import ModelError
from ortools_lag.model.expressions import AffineExpr, Expr, as_constant, as_expr

__all__ = ["SENSES", "Constraint"]

SENSES = ("<=", ">=", "==", "range")


@dataclass(frozen=True, eq=False)
class Constraint:
    """A block of constraints ``lo <= body <= hi`` with its sense.

    Attributes
    ----------
    body
        The expression (its constant part is kept in the body).
    lo, hi
        Flat bounds (``-inf`` / ``inf`` for none).
    sense
        ``"<="``, ``">="``, ``"=="`` or ``"range"``.
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
    arr = np.asarray(value, dtype=float)
    if np.isnan(arr).any():
        raise ModelError(f"{what} of a two-sided constraint contains NaN")
    finite = arr[np.isfinite(arr)]
    as_constant(finite, what)
    try:
        return np.broadcast_to(arr, body.shape).astype(float).ravel()
    except ValueError as exc:
        raise ModelError(f"{what} of shape {arr.shape} does not match {body.shape}") from exc
