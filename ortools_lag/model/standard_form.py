"""The standard form handed to LP/MILP/QP backends and PDHG, with its inverse map.

    minimise    c @ z + 0.5 * z @ Q @ z + offset
    subject to  row_lo <= A @ z <= row_hi,   lb <= z <= ub,   z_j integer where integrality_j

A maximisation is stored as the minimisation of ``-f`` (``sense = -1``): the user's objective
is ``sense * (c @ z + 0.5 z Q z + offset)``. Row multipliers ``y`` of the standard form are
signed (positive when the upper side binds) with stationarity ``c + Q z + A^T y = r`` where ``r``
are the reduced costs (>= 0 at a lower bound, <= 0 at an upper bound). ``unpack_rows`` turns
``y`` into the groups' multipliers (``lam = sign * y``).

>>> from ortools_lag import Model
>>> m = Model(); x = m.var("x", 2)
>>> m.maximize(x[0] + 2 * x[1]); _ = m.add("cap", x.sum() <= 3)
>>> sf = to_standard_form(m)
>>> sf.c.tolist(), sf.row_hi.tolist(), sf.sense
([-1.0, -2.0], [3.0], -1)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.errors import NotSupportedError
from ortools_lag.model.expressions import AffineExpr, QuadExpr
from ortools_lag.model.model import Model

__all__ = ["Layout", "RowBlock", "StandardForm", "VarBlock", "layout", "to_standard_form"]


@dataclass(frozen=True)
class VarBlock:
    """Where a variable block sits in the global vector."""

    start: int
    stop: int
    shape: tuple[int, ...]


@dataclass(frozen=True)
class RowBlock:
    """Where a constraint group sits among the rows, and its multiplier sign."""

    start: int
    stop: int
    shape: tuple[int, ...]
    sign: int
    sense: str


@dataclass(frozen=True)
class Layout:
    """Where each variable block and constraint group sits in the global vectors: the map
    between named values and the flat ``z`` / signed row multipliers ``y``, without the arrays
    of the standard form (cheap to build for any model, affine or not)."""

    var_blocks: dict[str, VarBlock]
    row_blocks: dict[str, RowBlock]

    @property
    def rows(self) -> int:
        """Number of rows."""
        return max((b.stop for b in self.row_blocks.values()), default=0)

    def unpack_x(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Values by variable name."""
        return {
            k: np.asarray(z[b.start : b.stop]).reshape(b.shape) for k, b in self.var_blocks.items()
        }

    def unpack_rows(self, y: np.ndarray) -> dict[str, np.ndarray]:
        """Group multipliers from signed row multipliers (``lam = sign * y``)."""
        return {
            k: (b.sign * np.asarray(y[b.start : b.stop])).reshape(b.shape)
            for k, b in self.row_blocks.items()
        }

    def pack_rows(self, lam: dict[str, Any]) -> np.ndarray:
        """Signed row multipliers from group multipliers (missing groups are zero)."""
        y = np.zeros(self.rows)
        for k, b in self.row_blocks.items():
            if k in lam:
                y[b.start : b.stop] = b.sign * np.asarray(lam[k], dtype=float).ravel()
        return y


def layout(model: Model) -> Layout:
    """The :class:`Layout` of ``model`` (no matrices are formed).

    >>> from ortools_lag import Model
    >>> m = Model(); x = m.var("x", 2)
    >>> _ = m.add("cap", x.sum() <= 3); _ = m.add("low", x >= 1)
    >>> lay = layout(m)
    >>> lay.rows, lay.pack_rows({"low": [1.0, 2.0]}).tolist()
    (3, [0.0, -1.0, -2.0])
    """
    rows, start = {}, 0
    for name, g in model.groups.items():
        rows[name] = RowBlock(start, start + g.size, g.shape, g.sign, g.sense)
        start += g.size
    blocks = {k: VarBlock(v.offset, v.offset + v.size, v.shape) for k, v in model.variables.items()}
    return Layout(var_blocks=blocks, row_blocks=rows)


@dataclass(frozen=True)
class StandardForm(Layout):
    """Arrays of the standard form and the map back to names, shapes and signs."""

    c: np.ndarray
    offset: float
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integrality: np.ndarray
    Q: sp.csc_matrix | None
    sense: int

    @property
    def n(self) -> int:
        """Number of columns."""
        return int(self.c.shape[0])

    @property
    def m(self) -> int:
        """Number of rows."""
        return int(self.A.shape[0])

    @property
    def rows(self) -> int:
        """Number of rows."""
        return self.m

    @property
    def is_mip(self) -> bool:
        """True when some column is integer."""
        return bool(self.integrality.any())

    def objective(self, z: np.ndarray) -> float:
        """The minimisation objective ``c z + 0.5 z Q z + offset``."""
        val = float(self.c @ z) + self.offset
        if self.Q is not None:
            val += 0.5 * float(z @ (self.Q @ z))
        return val


def _objective_parts(model: Model) -> tuple[np.ndarray, float, sp.csc_matrix | None]:
    n = model.n
    obj = model.objective
    s = model.sense_sign
    if isinstance(obj, QuadExpr):
        z0 = np.zeros(n)
        c = np.asarray(obj.jacobian(z0, n).todense()).ravel()
        offset = float(obj.value(z0)[0])
        Q = obj.hessian(np.ones(1), n)
        return s * c, s * offset, sp.csc_matrix(s * Q) if Q.nnz else None
    if isinstance(obj, AffineExpr):
        c = np.asarray(obj.matrix(n).todense()).ravel()
        return s * c, s * float(obj.const[0]), None
    raise NotSupportedError("the objective is not linear or quadratic: no standard form")


def to_standard_form(model: Model, *, objective: bool = True) -> StandardForm:
    """Build the standard form of a model whose constraints are affine.

    With ``objective=False`` the objective is left out (``c = 0``, no ``Q``): the feasible set
    alone, whatever the objective (a phase-one check of a nonlinear model's affine rows).

    Raises
    ------
    NotSupportedError
        When a constraint group is not affine (name given) or the objective is nonlinear.
    """
    if objective:
        c, offset, Q = _objective_parts(model)
    else:
        c, offset, Q = np.zeros(model.n), 0.0, None
    mats, los, his = [], [], []
    for name, g in model.groups.items():
        if not isinstance(g.body, AffineExpr):
            raise NotSupportedError(f"constraint group {name!r} is not affine: no standard form")
        mats.append(g.body.matrix(model.n))
        lo, hi = g.bounds_without_constant()
        los.append(lo)
        his.append(hi)
    A = sp.vstack(mats, format="csr") if mats else sp.csr_matrix((0, model.n))
    lay = layout(model)
    return StandardForm(
        c=c,
        offset=offset,
        A=sp.csr_matrix(A),
        row_lo=np.concatenate(los) if los else np.zeros(0),
        row_hi=np.concatenate(his) if his else np.zeros(0),
        lb=model.lower_bounds(),
        ub=model.upper_bounds(),
        integrality=model.integrality(),
        Q=Q,
        sense=model.sense_sign,
        var_blocks=lay.var_blocks,
        row_blocks=lay.row_blocks,
    )
