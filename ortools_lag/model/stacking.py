"""Stacking expressions: ``concatenate``, ``hstack`` and ``vstack`` of affine or quadratic
expressions (like their numpy namesakes), one sparse coefficient block per variable.

>>> from ortools_lag import Model
>>> m = Model(); x = m.var("x", 2); y = m.var("y", 2)
>>> vstack([x, y + 1]).shape
(2, 2)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.errors import ModelError
from ortools_lag.model.expressions import AffineExpr, Expr, QuadExpr, _as_quad, as_expr

if TYPE_CHECKING:
    from ortools_lag.model.variables import Var

__all__ = ["concatenate", "hstack", "vstack"]


def concatenate(exprs: Iterable[Any], axis: int = 0) -> Expr:
    """Concatenate affine or quadratic expressions along ``axis``.

    >>> from ortools_lag import Model
    >>> m = Model(); x = m.var("x", 2); y = m.var("y", 3)
    >>> concatenate([x, 2 * y]).shape
    (5,)
    """
    parts = [as_expr(e) for e in exprs]
    if not parts:
        raise ModelError("concatenate needs at least one expression")
    try:
        shapes = [np.empty(p.shape) for p in parts]
        out_shape = np.concatenate(shapes, axis=axis).shape
    except ValueError as exc:
        raise ModelError(f"cannot concatenate shapes {[p.shape for p in parts]}") from exc
    quads = [_as_quad(p) for p in parts]
    flat_aff = _stack_affine([q.affine for q in quads])
    terms = []
    sizes = [p.size for p in parts]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    for q, off in zip(quads, offsets[:-1]):
        for L, R, S in q.terms:
            pad = sp.vstack(
                [
                    sp.csr_matrix((int(off), S.shape[1])),
                    S,
                    sp.csr_matrix((int(offsets[-1] - off - S.shape[0]), S.shape[1])),
                ],
                format="csr",
            )
            terms.append((L, R, pad))
    # the stacked order is "blocks one after another"; permute to the C order of the result
    order = np.concatenate(
        [np.arange(o, o + s).reshape(p.shape) for o, s, p in zip(offsets[:-1], sizes, parts)],
        axis=axis,
    ).ravel()
    stacked: Expr = QuadExpr(flat_aff, terms) if terms else flat_aff
    return stacked._take(order, out_shape)


def _stack_affine(parts: list[AffineExpr]) -> AffineExpr:
    keys: dict[Var, None] = {}
    for p in parts:
        keys.update(dict.fromkeys(p.coeffs))
    coeffs = {
        v: sp.vstack(
            [p.coeffs[v] if v in p.coeffs else sp.csr_matrix((p.size, v.size)) for p in parts],
            format="csr",
        )
        for v in keys
    }
    const = np.concatenate([p.const for p in parts])
    return AffineExpr(coeffs, const, (int(const.shape[0]),))


def hstack(exprs: Iterable[Any]) -> Expr:
    """Stack horizontally (like ``numpy.hstack``)."""
    parts = [as_expr(e) for e in exprs]
    return concatenate(parts, axis=0 if parts and parts[0].ndim == 1 else 1)


def vstack(exprs: Iterable[Any]) -> Expr:
    """Stack vertically (like ``numpy.vstack``): 1-D entries become rows."""
    parts = [as_expr(e) for e in exprs]
    return concatenate([p.reshape(1, -1) if p.ndim == 1 else p for p in parts], axis=0)
