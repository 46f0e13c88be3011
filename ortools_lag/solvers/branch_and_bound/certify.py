"""The certificate of a branch-and-bound bound: every leaf's bound re-evaluated independently.

The tree's leaves (pruned by bound, pruned as infeasible, and those left open at a limit) cover
the whole feasible set, so the least of their bounds is a bound of the problem. Each leaf stores
its branching bounds and the multipliers its bound was proven at; :func:`certify_leaves`
re-evaluates ``q_{lb,ub}(lam)`` for every one by the engine's own
:class:`~ortools_lag.lagrangian.Lagrangian` **without the plan's oracle** (the kept rows of the
model's expressions, each connected component solved by HiGHS with the leaf's bounds; a MIP
block contributes its dual bound), as
:func:`~ortools_lag.solvers.dual.lagrangian_closing.certify_by_blocks` does for a root. A leaf
whose variables are all fixed is checked directly: its single point is feasible (its objective is
its bound) or not (it is empty). A ``"fixing"`` leaf (the part of a node cut off by reduced-cost
fixing, :mod:`~ortools_lag.solvers.branch_and_bound.fixing`) is worth the node's re-evaluated
``q`` plus the least gain of its fixed variables, the gains recomputed from the model's reduced
costs at the leaf's multipliers and the kept rows' directions checked again. A ``"rows"`` leaf
(cut off by bound propagation) must have a row of the model that no point of its box meets
(least and largest activities); it is then empty. The certified bound is the least
re-evaluated leaf value; a reported leaf bound above its re-evaluation (beyond the tolerance)
fails the certificate.

>>> from ortools_lag import Model
>>> m = Model(); x = m.var("x", 2, ub=1, domain="binary")
>>> m.minimize(-x[0] - 2 * x[1]); _ = m.add("cap", x.sum() <= 1)
>>> leaf = Leaf(np.zeros(2), np.array([1.0, 0.0]), np.array([0.5]), -1.0, "bound")
>>> cert = certify_leaves(m, ("cap",), [leaf], tol=1e-6)
>>> round(cert.bound, 9), cert.notes
(-1.0, ())
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ortools_lag.lagrangian import Lagrangian

if TYPE_CHECKING:
    from ortools_lag.model import Model

__all__ = ["Certificate", "Leaf", "certify_leaves"]


@dataclass(frozen=True)
class Leaf:
    """A leaf of the tree (minimisation sense).

    Attributes
    ----------
    lb, ub
        Its branching bounds.
    lam
        The multipliers of its bound (flat, projected).
    bound
        The bound the search used (``inf`` for an infeasible leaf).
    kind
        ``"bound"`` (pruned by the incumbent), ``"infeasible"``, ``"fixed"`` (every integer
        variable fixed), ``"fixing"`` (cut off by reduced-cost fixing), ``"rows"`` (cut off by
        bound propagation on the rows) or ``"open"`` (left at a limit).
    fixed_down, fixed_up
        For a ``"fixing"`` leaf: the variables fixed at ``lb`` / at ``ub`` (the leaf is the
        node's part where one of them is off that bound).
    """

    lb: np.ndarray
    ub: np.ndarray
    lam: np.ndarray
    bound: float
    kind: str
    fixed_down: tuple[int, ...] = ()
    fixed_up: tuple[int, ...] = ()


@dataclass(frozen=True)
class Certificate:
    """The re-evaluation of the leaves.

    Attributes
    ----------
    bound
        The least re-evaluated leaf bound (minimisation sense; ``nan`` when not re-evaluated).
    leaves
        How many leaves were re-evaluated.
    seconds
        Time spent.
    notes
        Failures (empty when every reported bound held).
    """

    bound: float
    leaves: int
    seconds: float
    notes: tuple[str, ...] = ()


def _leaf_value(
    model: Model,
    relax: tuple[str, ...],
    leaf: Leaf,
    options: Mapping[str, Any],
    integer: np.ndarray,
    dirs: tuple[np.ndarray, np.ndarray] | None,
) -> float:
    """``q`` at the leaf (minimisation sense), by HiGHS on the kept rows with its bounds."""
    lag = Lagrangian(model, relax, block_options=options)
    try:
        if leaf.kind == "fixed" or (np.all(leaf.lb == leaf.ub) and integer.all()):
            z = leaf.lb.copy()
            viol, integ = lag.infeasibility(z)
            return lag.objective_min(z) if viol <= 1e-9 and integ <= 1e-9 else math.inf
        lag.lb, lag.ub = leaf.lb.copy(), leaf.ub.copy()
        pt = lag.evaluate(leaf.lam)
        if leaf.kind == "fixing":
            return pt.lower + _least_gain(lag, leaf, dirs)
        return pt.lower
    finally:
        lag.close()


def _least_gain(lag: Lagrangian, leaf: Leaf, dirs: tuple[np.ndarray, np.ndarray] | None) -> float:
    """The least reduced-cost gain of a fixing leaf's variables (``-inf`` if one fails)."""
    if dirs is None:
        return -math.inf  # the Lagrangian is not linear in x: no such bound
    y = lag.row_sign * lag.project(leaf.lam)
    d = np.asarray(lag.c + lag.A_R.T @ y, dtype=float).ravel()
    down, up = np.asarray(leaf.fixed_down, dtype=np.intp), np.asarray(leaf.fixed_up, dtype=np.intp)
    if not (dirs[0][down].all() and dirs[1][up].all()):
        return -math.inf  # a kept row is not closed in that direction: no such bound
    gains = np.r_[d[down], -d[up]]
    return float(gains.min()) if gains.size and gains.min() > 0 else -math.inf


def certify_leaves(
    model: Model,
    relax: tuple[str, ...],
    leaves: Sequence[Leaf],
    *,
    tol: float,
    block_options: Mapping[str, Any] | None = None,
    time_limit: float | None = None,
) -> Certificate:
    """Re-evaluate every leaf's bound independently (see the module docstring).

    Parameters
    ----------
    model, relax
        The model and the relaxed groups.
    leaves
        The tree's leaves.
    tol
        Relative tolerance of the comparison with the reported bounds.
    block_options
        HiGHS options of the blocks.
    time_limit
        Seconds for the whole re-evaluation (``None``: no limit); leaves left over are noted.
    """
    t0 = time.perf_counter()
    opts = dict(block_options or {})
    integer = model.integrality()
    from ortools_lag.solvers.branch_and_bound.fixing import RowPropagation, monotone_directions

    probe = Lagrangian(model, relax)
    kinds = {leaf.kind for leaf in leaves}
    dirs = monotone_directions(probe) if "fixing" in kinds else None
    rows = RowPropagation(probe) if "rows" in kinds else None
    probe.close()
    notes: list[str] = []
    worst = math.inf
    done = 0
    for leaf in leaves:
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            notes.append(f"{len(leaves) - done} leaves not re-evaluated (time limit)")
            worst = math.nan
            break
        if leaf.kind == "rows":  # cut off by bound propagation: no point meets some row
            assert rows is not None
            q = math.inf if rows.empty(leaf.lb, leaf.ub) else -math.inf
        else:
            q = _leaf_value(model, relax, leaf, opts, integer, dirs)
        done += 1
        if math.isnan(q):
            notes.append("HiGHS gave no value for a leaf")
            worst = math.nan
            continue
        slack = tol * (1.0 + (abs(q) if math.isfinite(q) else 0.0))
        if leaf.bound > q + slack:
            notes.append(f"{leaf.kind} leaf: reported bound {leaf.bound:.10g} > q = {q:.10g}")
        if not math.isnan(worst):
            worst = min(worst, q)
    return Certificate(worst, done, time.perf_counter() - t0, tuple(notes))
