"""Nodes of the branch-and-bound tree and the branching rule.

A :class:`Node` stores only its branching decisions (``(index, lb, ub)`` from the root down),
so that thousands of open nodes cost little memory; :meth:`Node.bounds` lays them over the root's
bounds. :func:`choose_branch` picks the variable to branch on from the node's Lagrangian
information:

- ``"fractional"``: the unfixed integer variable whose averaged minimiser ``x_bar`` (the mean of
  the minimisers met during the node's ascent, an estimate of the convex relaxation's point) is
  most fractional;
- ``"violated"``: in the relaxed row most violated by the best minimiser, the unfixed integer
  variable of that row whose ``x_bar`` is most fractional (the first one when none is);
- ``"auto"``: ``"fractional"``, falling back on ``"violated"`` when ``x_bar`` is integral.

:func:`children` splits on ``x_j <= s`` / ``x_j >= s + 1``: ``s = floor(x_bar_j)`` for a fractional
value, the child it rounds to first; for an integral value ``v`` (the ``"violated"`` fallback)
the split puts ``v`` in the up child when ``v`` is above the lower bound (``x_j = 1`` first for a
binary at one), so that both children exclude part of the node.

>>> import numpy as np
>>> root = Node(0, 0, (), np.zeros(1), -np.inf)
>>> first, second = children(root, Branch(3, 0.0, lean_up=True), next_id=1)
>>> first.fixes, second.fixes    # the child the branch leans to comes first
(((3, 1.0, inf),), ((3, -inf, 0.0),))
>>> lb, ub = first.bounds(np.zeros(5), np.ones(5))
>>> lb.tolist(), ub.tolist()
([0.0, 0.0, 0.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0, 1.0])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Branch", "Node", "children", "choose_branch"]

#: A variable is fractional when ``x_bar`` is this far from an integer.
FRACTIONAL = 1e-6


@dataclass(frozen=True)
class Node:
    """An open node of the tree.

    Attributes
    ----------
    id, depth
        Creation order and number of branching decisions.
    fixes
        The decisions ``(index, lb, ub)`` from the root down (``-inf``/``inf``: that side kept).
    lam
        The multipliers to start from (the parent's best).
    parent_bound
        The parent's bound (minimisation sense): a valid bound of this node before its own.
    """

    id: int
    depth: int
    fixes: tuple[tuple[int, float, float], ...]
    lam: np.ndarray
    parent_bound: float

    def bounds(self, lb0: np.ndarray, ub0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The node's bounds: the root's, tightened by every decision."""
        lb, ub = lb0.copy(), ub0.copy()
        if self.fixes:
            idx = np.array([f[0] for f in self.fixes], dtype=np.intp)
            np.maximum.at(lb, idx, np.array([f[1] for f in self.fixes]))
            np.minimum.at(ub, idx, np.array([f[2] for f in self.fixes]))
        return lb, ub


def _fractionality(v: np.ndarray) -> np.ndarray:
    return np.minimum(v - np.floor(v), np.ceil(v) - v)


@dataclass(frozen=True)
class Branch:
    """A branching decision: ``x_j <= split`` or ``x_j >= split + 1``; ``up`` is explored first
    when ``lean_up``."""

    j: int
    split: float
    lean_up: bool


def _branch(j: int, v: float, lb: np.ndarray) -> Branch:
    frac = v - math.floor(v)
    if frac > FRACTIONAL and 1.0 - frac > FRACTIONAL:
        return Branch(j, float(math.floor(v)), frac >= 0.5)
    v = float(round(v))
    if v - 1.0 >= lb[j]:  # the up child keeps v: it is the dive's
        return Branch(j, v - 1.0, True)
    return Branch(j, v, False)


def choose_branch(
    rule: str,
    x_bar: np.ndarray,
    x_best: np.ndarray,
    lb: np.ndarray,
    free: np.ndarray,
    rows: sp.csr_matrix,
    violation: np.ndarray,
) -> Branch | None:
    """The branching decision, or ``None`` when every integer variable is fixed.

    Parameters
    ----------
    rule
        ``"auto"``, ``"fractional"`` or ``"violated"`` (see the module docstring).
    x_bar, x_best
        The averaged minimiser and the minimiser at the node's best multipliers.
    lb
        The node's lower bounds.
    free
        Mask of the integer variables not fixed at this node.
    rows
        The relaxed rows' matrix (``A_R``).
    violation
        The relaxed rows' violation at ``x_best`` (scaled as the caller likes).

    Examples
    --------
    >>> rows = sp.csr_matrix(np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]))
    >>> free, lb = np.array([True, True, True]), np.zeros(3)
    >>> choose_branch("auto", np.array([0.0, 0.4, 1.0]), np.zeros(3), lb, free, rows, np.zeros(2))
    Branch(j=1, split=0.0, lean_up=False)
    >>> choose_branch("violated", np.zeros(3), np.ones(3), lb, free, rows, np.array([0.0, 2.0]))
    Branch(j=1, split=0.0, lean_up=True)
    """
    if not free.any():
        return None
    frac = np.where(free, _fractionality(x_bar), -1.0)
    if rule in ("auto", "fractional"):
        j = int(np.argmax(frac))
        if frac[j] > FRACTIONAL:
            return _branch(j, float(x_bar[j]), lb)
        if rule == "fractional":
            return _any_free(free, x_best, lb)
    order = np.argsort(-np.abs(violation), kind="stable")
    for r in order:
        if abs(violation[r]) <= 0.0:
            break
        cols = rows.indices[rows.indptr[r] : rows.indptr[r + 1]]
        cols = cols[free[cols]]
        if cols.size:
            j = int(cols[np.argmax(frac[cols])])
            return _branch(j, float(x_bar[j] if frac[j] > FRACTIONAL else x_best[j]), lb)
    return _any_free(free, x_best, lb)


def _any_free(free: np.ndarray, x_best: np.ndarray, lb: np.ndarray) -> Branch:
    j = int(np.flatnonzero(free)[0])
    return _branch(j, float(x_best[j]), lb)


def children(node: Node, branch: Branch, *, next_id: int) -> tuple[Node, Node]:
    """The two children of ``node`` (``x_j <= split``, ``x_j >= split + 1``), the one the
    branch leans to first; both start from ``node.lam`` and ``node.parent_bound``."""
    j, split = branch.j, branch.split
    down = Node(
        next_id, node.depth + 1, (*node.fixes, (j, -math.inf, split)), node.lam, node.parent_bound
    )
    up = Node(
        next_id + 1,
        node.depth + 1,
        (*node.fixes, (j, split + 1.0, math.inf)),
        node.lam,
        node.parent_bound,
    )
    return (up, down) if branch.lean_up else (down, up)
