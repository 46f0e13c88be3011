"""Variable blocks: a named array of decision variables with bounds and a domain.

A :class:`Var` is also the affine expression ``identity @ vec(x)`` of the algebra in
:mod:`~ortools_lag.model.expressions`, with fast paths for its identity coefficients.

>>> from ortools_lag import Model
>>> m = Model()
>>> x = m.var("x", (2, 3), lb=0, ub=1, domain="binary")
>>> x.shape, x.size, x.domain, x.offset
((2, 3), 6, 'binary', 0)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.errors import ModelError
from ortools_lag.model.expressions import AffineExpr

__all__ = ["DOMAINS", "Var"]

DOMAINS = ("continuous", "integer", "binary")


def _constant(value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` everywhere in ``shape``, as a read-only broadcast (no memory per entry)."""
    return np.broadcast_to(np.asarray(value), shape)


def _bound(value: Any, shape: tuple[int, ...], name: str, what: str, default: float) -> np.ndarray:
    if value is None:
        return _constant(default, shape)
    try:
        arr = np.asarray(value, dtype=float)
    except OverflowError as exc:  # a Python int beyond the float range
        raise ModelError(f"variable {name!r}: {what} is too large for a float") from exc
    except (TypeError, ValueError) as exc:
        raise ModelError(f"variable {name!r}: {what} is not numeric") from exc
    if np.isnan(arr).any():
        raise ModelError(f"variable {name!r}: {what} contains NaN")
    empty = np.isposinf(arr) if what == "lb" else np.isneginf(arr)
    if empty.any():  # no number lies above +inf (or below -inf): an empty set of values
        where = tuple(int(i) for i in np.argwhere(empty)[0]) if arr.ndim else ()
        side = "+inf" if what == "lb" else "-inf"
        raise ModelError(
            f"variable {name!r}: {what} is {side}{f' at index {where}' if where else ''}, "
            f"which no value can meet (valid: a finite {what}, or None for no bound)"
        )
    try:
        if arr.ndim == 0:
            return _constant(float(arr), shape)
        return np.broadcast_to(arr, shape).astype(float)
    except ValueError as exc:
        raise ModelError(
            f"variable {name!r}: {what} of shape {arr.shape} does not match shape {shape}"
        ) from exc


class Var(AffineExpr):
    """A block of decision variables; also the affine expression ``identity @ vec(x)``.

    Parameters
    ----------
    name
        Unique name in its model.
    shape
        Shape of the block (``()`` for a scalar).
    lb, ub
        Bounds (scalars or arrays broadcastable to ``shape``); ``None`` means unbounded.
    domain
        ``"continuous"``, ``"integer"`` or ``"binary"`` (binary clips the bounds to [0, 1]).
    offset
        Position of the block's first entry in the model's global vector.
    labels
        Optional names of the entries (for reports), in C order.
    integer_mask
        For a block that mixes continuous and integer entries (as MPS files do): True where
        the entry is integer. Overrides ``domain`` entry by entry.
    """

    def __init__(
        self,
        name: str,
        shape: tuple[int, ...],
        lb: Any,
        ub: Any,
        domain: str,
        offset: int,
        labels: list[str] | None = None,
        integer_mask: np.ndarray | None = None,
    ) -> None:
        if domain not in DOMAINS:
            raise ModelError(
                f"variable {name!r}: unknown domain {domain!r} "
                f"(valid choices: {', '.join(DOMAINS)})"
            )
        if any(int(s) < 0 for s in shape):
            raise ModelError(f"variable {name!r}: negative dimension in shape {shape}")
        self.name = name
        self.domain = domain
        self.offset = int(offset)
        self.labels = labels
        self.shape = tuple(int(s) for s in shape)
        lo = _bound(lb, self.shape, name, "lb", -np.inf)
        hi = _bound(ub, self.shape, name, "ub", np.inf)
        if domain == "binary":
            lo, hi = np.maximum(lo, 0.0), np.minimum(hi, 1.0)
        bad = lo > hi
        if bad.any():
            first = np.argwhere(bad)[0]
            raise ModelError(
                f"variable {name!r}: lb > ub at index {tuple(int(i) for i in first)} "
                f"({lo[tuple(first)]} > {hi[tuple(first)]})"
            )
        self.lb, self.ub = lo, hi
        if integer_mask is None:
            integer_mask = _constant(domain != "continuous", self.shape)
        self.integer_mask = np.broadcast_to(np.asarray(integer_mask, dtype=bool), self.shape)
        # a read-only broadcast zero: no memory (nor page faults) per entry
        super().__init__({}, np.broadcast_to(np.float64(0.0), (self.size,)), self.shape)

    @property
    def coeffs(self) -> dict[Var, sp.csr_matrix]:  # type: ignore[override]
        return {self: sp.identity(self.size, format="csr")}

    @property
    def is_integer(self) -> bool:
        """True when some entry is integer (or binary)."""
        return bool(self.integer_mask.any())

    def value(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(z[self.offset : self.offset + self.size], dtype=float).copy()

    # fast paths: the block's own coefficient matrix is the identity
    def _take(self, idx: np.ndarray, shape: tuple[int, ...]) -> AffineExpr:
        k = int(idx.shape[0])
        sel = sp.csr_matrix(
            (np.ones(k), np.asarray(idx, dtype=np.int64), np.arange(k + 1)), shape=(k, self.size)
        )
        return AffineExpr({self: sel}, np.zeros(k), shape)

    def _apply(self, T: sp.csr_matrix, shape: tuple[int, ...]) -> AffineExpr:
        return AffineExpr({self: sp.csr_matrix(T)}, np.zeros(T.shape[0]), shape)

    def _scale(self, scale: np.ndarray) -> AffineExpr:
        k = self.size
        diag = sp.csr_matrix(
            (np.asarray(scale, dtype=float), np.arange(k), np.arange(k + 1)), shape=(k, k)
        )
        return AffineExpr({self: diag}, np.zeros(k), self.shape)

    def _blocks(self) -> list[tuple[Var, Any]]:
        return [(self, None)]  # the identity, not built

    def __repr__(self) -> str:
        return f"Var({self.name!r}, shape={self.shape}, domain={self.domain!r})"
