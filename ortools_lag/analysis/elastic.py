"""Elastic relaxation: which groups, relaxed, make an infeasible model feasible, at the
cheapest total violation.

Every row of a relaxed group gets non-negative slacks on its finite sides,

    min  sum_g w_g * sum_{i in g} (s_lo_i + s_hi_i)
    s.t. row_lo <= A z + s_lo - s_hi <= row_hi,   lb <= z <= ub,   integrality kept,

so ``s_lo_i + s_hi_i`` is how far row ``i`` misses its bounds. The groups with a positive
violation are a set whose relaxation restores feasibility, and no other choice of violations
is cheaper in total. Groups not relaxed, and the variables' bounds, stay hard.

>>> from ortools_lag import Model
>>> m = Model(); x = m.var("x", 2)
>>> _ = m.add("need", x.sum() >= 10); _ = m.add("cap", x.sum() <= 4)
>>> e = elastic(m, weights={"cap": 3.0})  # a unit of cap costs 3: violate need instead
>>> e.groups, round(e.total, 9), e.violation["need"].tolist()
(('need',), 6.0, 6.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.analysis.labels import row_names
from ortools_lag.errors import ModelError
from ortools_lag.highs_model import new_highs, pass_model
from ortools_lag.model import Model, to_standard_form
from ortools_lag.problem import Problem, as_problem

__all__ = ["Elastic", "elastic"]


@dataclass(frozen=True)
class Elastic:
    """The answer of the elastic relaxation.

    Attributes
    ----------
    feasible
        False when even the relaxed model is infeasible (the hard groups, bounds and
        integrality conflict among themselves).
    total
        The cheapest total weighted violation (0 for a feasible model; ``nan`` if none).
    violation
        By relaxed group, in the group's shape: how far each row misses its bounds (>= 0).
    groups, rows
        The groups and rows (``cap[3]``) with a positive violation.
    x
        The relaxed model's point, by variable name.
    """

    feasible: bool
    total: float
    violation: Mapping[str, np.ndarray]
    groups: tuple[str, ...]
    rows: tuple[str, ...]
    x: Mapping[str, np.ndarray]

    def to_dict(self) -> dict[str, Any]:
        """Plain values (the point left out)."""
        return {
            "feasible": self.feasible,
            "total": self.total if np.isfinite(self.total) else str(self.total),
            "groups": list(self.groups),
            "rows": list(self.rows),
            "violation": {k: np.asarray(v).tolist() for k, v in self.violation.items()},
        }


def elastic(
    model: Model | Problem,
    *,
    relax: Sequence[str] | None = None,
    weights: Mapping[str, float] | None = None,
    tol: float = 1e-7,
) -> Elastic:
    """The elastic relaxation of ``model`` (see the module docstring).

    Parameters
    ----------
    model
        An LP or MILP (linear rows; its objective is replaced by the violation).
    relax
        The groups that may be violated (default: all).
    weights
        The price of one unit of violation by group (default 1).
    tol
        Violations below ``tol * (1 + |bound|)`` count as none.

    Raises
    ------
    ModelError
        For an unknown group in ``relax`` or ``weights``, or a negative weight.
    """
    mdl = as_problem(model).model
    names = list(mdl.groups)
    chosen = names if relax is None else list(relax)
    w = dict(weights or {})
    bad = [g for g in [*chosen, *w] if g not in mdl.groups]
    if bad:
        raise ModelError(f"elastic: unknown groups {bad} (valid choices: {names})")
    if any(v < 0 for v in w.values()):
        raise ModelError("elastic: weights must be >= 0")
    sf = to_standard_form(mdl, objective=False)
    price = np.zeros(sf.m)
    for g in chosen:
        b = sf.row_blocks[g]
        price[b.start : b.stop] = float(w.get(g, 1.0))
    relaxed = np.zeros(sf.m, dtype=bool)
    for g in chosen:
        relaxed[sf.row_blocks[g].start : sf.row_blocks[g].stop] = True
    lo_rows = np.flatnonzero(relaxed & np.isfinite(sf.row_lo))
    hi_rows = np.flatnonzero(relaxed & np.isfinite(sf.row_hi))
    k_lo, k_hi = lo_rows.size, hi_rows.size
    S = sp.csr_matrix(
        (np.r_[np.ones(k_lo), -np.ones(k_hi)], (np.r_[lo_rows, hi_rows], np.arange(k_lo + k_hi))),
        shape=(sf.m, k_lo + k_hi),
    )
    big = replace(
        sf,
        c=np.r_[np.zeros(sf.n), price[lo_rows], price[hi_rows]],
        A=sp.hstack([sf.A, S], format="csr"),
        lb=np.r_[sf.lb, np.zeros(k_lo + k_hi)],
        ub=np.r_[sf.ub, np.full(k_lo + k_hi, np.inf)],
        integrality=np.r_[sf.integrality, np.zeros(k_lo + k_hi, dtype=bool)],
    )
    h = new_highs()
    pass_model(h, big)
    h.run()
    if h.getModelStatus().name != "kOptimal":
        return Elastic(False, float("nan"), {}, (), (), {})
    v = np.asarray(h.getSolution().col_value, dtype=float)
    miss = np.zeros(sf.m)
    np.add.at(miss, lo_rows, v[sf.n : sf.n + k_lo])
    np.add.at(miss, hi_rows, v[sf.n + k_lo :])
    scale = np.where(np.isfinite(sf.row_lo), np.abs(sf.row_lo), 0.0)
    scale = np.maximum(scale, np.where(np.isfinite(sf.row_hi), np.abs(sf.row_hi), 0.0))
    miss = np.where(miss > tol * (1.0 + scale), miss, 0.0)
    labels = row_names(sf)
    viol = {
        g: miss[sf.row_blocks[g].start : sf.row_blocks[g].stop].reshape(sf.row_blocks[g].shape)
        for g in chosen
    }
    groups = tuple(g for g in chosen if np.any(viol[g] > 0))
    rows = tuple(labels[i] for i in np.flatnonzero(miss > 0))
    return Elastic(True, float(price @ miss), viol, groups, rows, sf.unpack_x(v[: sf.n]))
