"""A sufficient test of convexity: affine groups and a convex (at most quadratic) objective.

A continuous model is *proven convex* here when every constraint group is affine and the
objective, in the minimisation sense ``sense * f``, is affine or a quadratic with a positive
semidefinite Hessian (least squares, ``|A x - b|^2``, any convex QP). Degrees are read from the
expression itself: for a graph (:class:`~ortools_lag.model.nonlinear.NonlinearExpr`) a variable
has degree 1, constants and data 0, linear operations (selections, sums, ``a + b``, constant
maps) keep the largest degree of their arguments, ``a * b`` and ``a @ b`` add them, ``square``
doubles it; any other function of a non-constant argument is not a polynomial. A quadratic's
Hessian is constant, so one evaluation (at zero) decides it. Then a KKT point is a global
minimum and the Lagrangian value of its multipliers a proven bound; when the test fails nothing
is claimed (the model may still be convex: a logistic loss is, but is not a polynomial).

>>> from ortools_lag import Model
>>> m = Model(); w = m.var("w", 2, lb=None)
>>> m.minimize(((w[0] + 2 * w[1] - 1) * (w[0] + 2 * w[1] - 1)))
>>> _ = m.add("c", w.sum() == 1)
>>> convexity_gap(m) is None
True
>>> m.maximize(w[0] * w[0]); convexity_gap(m)
'the objective is not concave: its Hessian has the eigenvalue -2 < 0'
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ortools_lag.model.elementwise import Elementwise
from ortools_lag.model.expressions import Expr, QuadExpr
from ortools_lag.model.model import Model
from ortools_lag.model.nonlinear import ConstOp, NonlinearExpr, VarOp, topological_order
from ortools_lag.model.ops import LinearOp, MatMul, Mul

__all__ = ["convexity_gap", "polynomial_degree"]


def polynomial_degree(e: Expr) -> float:
    """The degree of ``e`` as a polynomial in the variables (``inf``: not a polynomial).

    >>> from ortools_lag import Model
    >>> from ortools_lag.model import functions as F
    >>> m = Model(); x = m.var("x", 2)
    >>> polynomial_degree(x.sum()), polynomial_degree(F.exp(x).sum())
    (1, inf)
    """
    if not isinstance(e, NonlinearExpr):
        return e.degree
    deg: dict[int, float] = {}
    for node in topological_order(e):
        op, args = node.op, [deg[id(a)] for a in node.args]
        if isinstance(op, VarOp):
            d: float = 1
        elif isinstance(op, ConstOp) or not any(args):
            d = 0
        elif isinstance(op, LinearOp):
            d = max(args)
        elif isinstance(op, (Mul, MatMul)):
            d = sum(args)
        elif isinstance(op, Elementwise) and op.name == "square":
            d = 2 * args[0]
        else:
            d = math.inf
        deg[id(node)] = d
    return deg[id(e)]


def _smallest_eigenvalue(H: sp.csr_matrix) -> float:
    used = np.flatnonzero(np.asarray(abs(H).sum(axis=1)).ravel())
    if used.size == 0:
        return 0.0
    sub = sp.csr_matrix(H[used][:, used])
    if used.size <= 2000:
        return float(np.linalg.eigvalsh(sub.toarray())[0])
    from scipy.sparse.linalg import eigsh

    return float(eigsh(sub, k=1, which="SA", return_eigenvectors=False)[0])


def convexity_gap(model: Model) -> str | None:
    """``None`` when ``model`` is proven convex (see the module), else why it is not proven."""
    if model.is_integer:
        return "the model has integer variables"
    bad = [k for k, g in model.groups.items() if polynomial_degree(g.body) > 1]
    if bad:
        return f"constraint groups {bad} are not affine"
    obj = model.objective
    degree = polynomial_degree(obj)
    if degree <= 1:
        return None
    if degree > 2:
        return "the objective is not a polynomial of degree <= 2"
    n, w = model.n, np.array([float(model.sense_sign)])
    if isinstance(obj, QuadExpr):
        H = obj.hessian(w, n)
    elif isinstance(obj, NonlinearExpr):
        H = obj.hessian(w, n, z=np.zeros(n))
    else:
        return "the objective gives no Hessian"
    H = sp.csr_matrix(H)
    H = 0.5 * (H + H.T)
    low = _smallest_eigenvalue(H)
    scale = 1.0 + (float(abs(H).max()) if H.nnz else 0.0)
    if low < -1e-9 * scale:
        what = "convex" if model.sense == "min" else "concave"
        return f"the objective is not {what}: its Hessian has the eigenvalue {low:.3g} < 0"
    return None
