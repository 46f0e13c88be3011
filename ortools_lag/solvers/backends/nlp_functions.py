"""The model as plain functions for NLP solvers: objective, rows, Jacobians, Hessians.

Shared by the scipy, cvxpy and Pyomo backends and by ``alm``. Only the expression protocol is
used (``value``, ``jacobian`` and ``hessian`` when an expression has one), so nonlinear
expressions plug in unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.model import Model
from ortools_lag.model.expressions import Expr

__all__ = ["ModelFunctions", "has_hessian", "lagrangian_is_convex", "start_point"]


def has_hessian(e: Expr) -> bool:
    """True when ``e`` gives its Hessian: affine, quadratic with ``hessian(w, n)``, or
    nonlinear with ``hessian(w, n, z)`` (a point-dependent Hessian takes the point)."""
    hess = getattr(e, "hessian", None)
    if e.degree <= 1:
        return True
    if hess is None:
        return False
    return e.degree == 2 or "z" in inspect.signature(hess).parameters


def _hessian_of(e: Expr, w: np.ndarray, n: int, z: np.ndarray) -> sp.csr_matrix | None:
    """``sum_i w_i Hessian(e_i)`` at ``z``; ``None`` when ``e`` does not give it."""
    if e.degree <= 1:
        return sp.csr_matrix((n, n))
    if not has_hessian(e):
        return None
    hess = e.hessian  # type: ignore[attr-defined]
    w = np.asarray(w, dtype=float)
    if "z" in inspect.signature(hess).parameters:
        return sp.csr_matrix(hess(w, n, z=z))
    return sp.csr_matrix(hess(w, n))


class ModelFunctions:
    """The objective (minimisation sense) and the stacked group rows of a model, as functions.

    Only ``value``, ``jacobian`` and ``hessian`` (when present) of the expressions are used.
    Rows are ``lo <= rows(z) <= hi`` in group order (a body is ``lhs - rhs``);
    ``unpack_rows(y)`` gives the groups' multipliers (``lam = sign * y``).

    >>> from ortools_lag import Model
    >>> m = Model(); x = m.var("x", 2); m.minimize(x[0]); _ = m.add("c", (x * x).sum() <= 1)
    >>> fn = ModelFunctions(m)
    >>> fn.rows(np.array([1.0, 2.0])).tolist(), fn.hi.tolist()
    ([4.0], [0.0])
    """

    def __init__(self, model: Model) -> None:
        self.model = model
        self.n = model.n
        self.sense = model.sense_sign
        groups = list(model.groups.values())
        self.lo = _cat([g.lo for g in groups])
        self.hi = _cat([g.hi for g in groups])
        self.signs = _cat([np.full(g.size, g.sign, dtype=float) for g in groups])
        self.slices: dict[str, slice] = {}
        start = 0
        for name, g in model.groups.items():
            self.slices[name] = slice(start, start + g.size)
            start += g.size
        self.m = start
        self._key: np.ndarray | None = None
        self._jac_key: np.ndarray | None = None
        self._vals = np.zeros(0)
        self._jac = sp.csr_matrix((0, self.n))
        self._affine = all(g.body.degree <= 1 for g in groups)
        self._grad: np.ndarray | None = None

    @property
    def exact_hessians(self) -> bool:
        """True when the objective and every group body give their Hessians."""
        bodies = [self.model.objective, *(g.body for g in self.model.groups.values())]
        return all(has_hessian(e) for e in bodies)

    def f(self, z: np.ndarray) -> float:
        """Objective of the minimisation (``sense * user objective``)."""
        return self.sense * float(self.model.objective.value(z)[0])

    def grad(self, z: np.ndarray) -> np.ndarray:
        """Gradient of :meth:`f`."""
        if self._grad is not None:
            return self._grad
        J = self.model.objective.jacobian(z, self.n)
        g = self.sense * np.asarray(J.todense()).ravel()
        if self.model.objective.degree <= 1:  # a constant gradient is kept
            self._grad = g
        return g

    def hess(self, z: np.ndarray) -> sp.csr_matrix | None:
        """Hessian of :meth:`f`, ``None`` when the objective does not provide one."""
        H = _hessian_of(self.model.objective, np.array([float(self.sense)]), self.n, z)
        return H

    def rows(self, z: np.ndarray) -> np.ndarray:
        """All group rows at ``z`` (kept for the last point)."""
        if self._key is None or not np.array_equal(self._key, z):
            self._vals = _cat([g.body.value(z) for g in self.model.groups.values()])
            self._key = np.array(z, dtype=float, copy=True)
        return self._vals

    def rows_jac(self, z: np.ndarray) -> sp.csr_matrix:
        """Sparse Jacobian (``m x n``) of :meth:`rows` (kept for the last point; for good when
        every group is affine)."""
        fresh = self._jac_key is not None and (self._affine or np.array_equal(self._jac_key, z))
        if not fresh:
            jacs = [g.body.jacobian(z, self.n) for g in self.model.groups.values()]
            self._jac = sp.csr_matrix(sp.vstack(jacs, format="csr")) if jacs else self._jac
            self._jac_key = np.array(z, dtype=float, copy=True)
        return self._jac

    def rows_hess(self, z: np.ndarray, v: np.ndarray) -> sp.csr_matrix | None:
        """``sum_i v_i Hessian(row_i)``; ``None`` when some nonlinear group gives no Hessian."""
        H = sp.csr_matrix((self.n, self.n))
        for name, g in self.model.groups.items():
            Hg = _hessian_of(g.body, v[self.slices[name]], self.n, z)
            if Hg is None:
                return None
            H = H + Hg
        return sp.csr_matrix(H)

    def unpack_rows(self, y: np.ndarray) -> dict[str, np.ndarray]:
        """Group multipliers by name from signed row multipliers."""
        return {
            k: (self.signs[sl] * y[sl]).reshape(self.model.groups[k].shape)
            for k, sl in self.slices.items()
        }

    def reduced_costs(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``grad f + J^T y``: the bound multipliers."""
        return np.asarray(self.grad(z) + self.rows_jac(z).T @ y)


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(float) if parts else np.zeros(0)


def start_point(model: Model, x0: Mapping[str, Any] | None, seed: int, scale: float) -> np.ndarray:
    """The NLP start: ``x0`` (by variable name) or a seeded draw, projected on the bounds."""
    if x0 is not None:
        z = model.join(dict(x0))
    else:
        z = scale * np.random.default_rng(seed).standard_normal(model.n)
    return np.clip(z, model.lower_bounds(), model.upper_bounds())


def lagrangian_is_convex(model: Model, fn: ModelFunctions, z: np.ndarray, y: np.ndarray) -> bool:
    """True when the model is at most quadratic and ``Hessian(f) + sum y_i Hessian(row_i)`` is PSD.

    Then a KKT point minimises the Lagrangian over the box and its value is a proven bound.
    """
    if model.degree > 2:
        return False
    Hf, Hr = fn.hess(z), fn.rows_hess(z, y)
    if Hf is None or Hr is None:
        return False
    H = sp.csr_matrix(Hf + Hr)
    H = 0.5 * (H + H.T)
    used = np.flatnonzero(np.asarray(abs(H).sum(axis=1)).ravel())
    if used.size == 0:
        return True
    sub = H[used][:, used]
    scale = 1.0 + float(abs(sub).max())
    if used.size <= 2000:
        low = float(np.linalg.eigvalsh(sub.toarray())[0])
    else:
        from scipy.sparse.linalg import eigsh

        low = float(eigsh(sub, k=1, which="SA", return_eigenvectors=False)[0])
    return low >= -1e-9 * scale


# -- LP through linprog, MILP through milp ----------------------------------------------------
