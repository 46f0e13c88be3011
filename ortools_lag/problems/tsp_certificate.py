r"""The Held–Karp bound re-evaluated independently: :func:`one_tree_certificate`.

``L(pi)`` is recomputed from the TSP Model's own expressions (the reduced costs
``c + J_degree^T pi``) by :func:`scipy.sparse.csgraph.minimum_spanning_tree` (Kruskal, not the
Prim of :mod:`ortools_lag.algorithms.one_tree`) plus the two cheapest edges at node 0.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from scipy.sparse.csgraph import minimum_spanning_tree

from ortools_lag.kkt import certify_feasible
from ortools_lag.model import Model
from ortools_lag.result import KKTReport

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ortools_lag.problem import Problem
    from ortools_lag.problems.tsp_points import TSPData

__all__ = ["one_tree_certificate"]


def _reduced_costs(model: Model, pi: np.ndarray) -> tuple[np.ndarray, float]:
    """``c + J^T y`` over all variables and the constant of ``L(., pi)``, from the Model."""
    n = model.n
    z0 = np.zeros(n)
    g = model.groups["degree"]
    y = g.sign * pi
    c = np.asarray(model.objective.jacobian(z0, n).todense()).ravel()
    r = c + g.body.jacobian(z0, n).T @ y
    const = float(model.objective.value(z0)[0]) + float(y @ g.body.value(z0)) - float(y @ g.hi)
    return np.asarray(r), const


def _min_one_tree(data: TSPData, r: np.ndarray) -> float:
    """Least ``sum r_e`` over 1-trees: scipy's MST of ``1..n-1`` + the two least root edges."""
    n = data.n
    inner = data.edges[n - 1 :] - 1
    shift = 1.0 - float(r[n - 1 :].min(initial=0.0))  # csgraph drops zero entries: make r >= 1
    dense = np.zeros((n - 1, n - 1))
    dense[inner[:, 0], inner[:, 1]] = r[n - 1 :] + shift
    tree = float(minimum_spanning_tree(dense).sum()) - (n - 2) * shift
    return tree + float(np.sort(r[: n - 1])[:2].sum())


def one_tree_certificate(
    problem: Problem,
    pi: npt.ArrayLike,
    bound: float,
    x: Mapping[str, Any] | None = None,
    *,
    tol: float = 1e-6,
) -> KKTReport:
    """Re-evaluate the Held–Karp bound at ``pi`` independently (a ``"lagrangian"`` report).

    ``L(pi)`` is recomputed from the Model's objective and ``degree`` rows (reduced costs
    ``c + J^T pi`` and constant ``-2 sum pi``) as scipy's minimum spanning tree of the nodes
    ``1..n-1`` plus the two cheapest edges at node 0 (the flows have no cost, so they do not
    change the minimum); ``bound`` must not exceed it. The point ``x``, when given, is checked
    for feasibility and integrality by :func:`ortools_lag.kkt.certify_feasible`.

    Examples
    --------
    >>> from ortools_lag.problems.tsp import build
    >>> p = build([[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]])
    >>> rep = one_tree_certificate(p, [0.0] * 4, 4.0)
    >>> rep.certified, rep.dual_objective
    (True, 4.0)
    """
    model, data = problem.model, problem.data
    lam = np.asarray(pi, dtype=np.float64).reshape(-1)
    notes: list[str] = []
    r, const = _reduced_costs(model, lam)
    xv = model.variables["x"]
    r_x = r[xv.offset : xv.offset + xv.size]
    r_f = np.delete(r, np.arange(xv.offset, xv.offset + xv.size))
    if np.any(np.abs(r_f) > 0):
        notes.append("bound not re-evaluated: the flows carry costs")
        q = math.nan
    else:
        q = _min_one_tree(data, r_x) + const
        if bound > q + tol * (1.0 + abs(q)):
            notes.append(f"reported bound {bound:.10g} is beyond q(pi) = {q:.10g}")
    primal = integ = gap = math.nan
    if x is not None:
        rep = certify_feasible(model, x, bound=bound, tol=tol, gap_tol=math.inf)
        primal, integ, gap = rep.primal_residual, rep.integrality, rep.duality_gap
        notes += [f"point: {note}" for note in rep.notes]
    return KKTReport(
        primal_residual=primal,
        duality_gap=gap,
        sign_violation=0.0,  # free multipliers (equality rows)
        integrality=integ,
        dual_objective=q,
        tolerance=tol,
        certified=not notes,
        kind="lagrangian",
        notes=tuple(notes),
    )
