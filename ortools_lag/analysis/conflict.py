"""Irreducible infeasible subsets (IIS) of an infeasible LP/MILP, named by group and row.

An IIS is a set of rows (``cap[3]``) and variable bounds (``x[2] >= 0``) that cannot hold
together, while dropping any one of them leaves a system that can. For an LP it is HiGHS's
IIS (``Highs.getIis``, elastic LP then refined to irreducible); otherwise, and for a MILP, a
deletion filter: drop each group (then each row of the groups kept, then each bound of the
columns they touch) and keep it dropped while the rest stays infeasible. A MILP's integrality
is never a member: it holds throughout. A MILP whose LP relaxation is already infeasible
starts from the relaxation's IIS, filtered again with integrality.

>>> from ortools_lag import Model
>>> m = Model(); x = m.var("x", 3, ub=4)
>>> _ = m.add("need", x.sum() >= 10); _ = m.add("cap", x[:2] <= 2); _ = m.add("free", x[2] <= 9)
>>> r = iis(m)
>>> r.groups, r.rows, r.bounds
(('need', 'cap'), ('need', 'cap[0]', 'cap[1]'), ('x[2] <= 4',))
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from ortools_lag.analysis.labels import column_names, row_names
from ortools_lag.errors import NotSupportedError, OptionError
from ortools_lag.highs_model import new_highs, pass_model
from ortools_lag.model import Model, StandardForm, to_standard_form
from ortools_lag.problem import Problem, as_problem

__all__ = ["IIS", "Member", "iis"]

log = logging.getLogger(__name__)

METHODS = ("auto", "highs", "deletion")


@dataclass(frozen=True)
class Member:
    """One member of an IIS.

    Attributes
    ----------
    kind
        ``"row"``, or ``"lower"`` / ``"upper"`` for a variable bound.
    block
        The group (rows) or the variable block (bounds).
    index
        The flat (C-order) index inside the block.
    label
        ``cap[3]`` for a row, ``x[2] >= 0`` for a bound.
    position
        The row's or column's index in the standard form.
    """

    kind: str
    block: str
    index: int
    label: str
    position: int


@dataclass(frozen=True)
class IIS:
    """An irreducible infeasible subset.

    Attributes
    ----------
    members
        The rows and bounds of the subset.
    method
        ``"highs"`` or ``"deletion"`` (with ``"+deletion"`` when HiGHS's LP IIS was filtered
        again, with integrality, for a MILP).
    solves
        How many feasibility solves the deletion filter made (0 for HiGHS alone).
    """

    members: tuple[Member, ...]
    method: str
    solves: int = 0

    @property
    def groups(self) -> tuple[str, ...]:
        """The groups with a row in the subset, in model order."""
        return tuple(dict.fromkeys(m.block for m in self.members if m.kind == "row"))

    @property
    def rows(self) -> tuple[str, ...]:
        """The rows' labels."""
        return tuple(m.label for m in self.members if m.kind == "row")

    @property
    def bounds(self) -> tuple[str, ...]:
        """The bounds' labels."""
        return tuple(m.label for m in self.members if m.kind != "row")

    def to_dict(self) -> dict[str, Any]:
        """Plain values: ``method``, ``groups``, ``rows``, ``bounds``, ``solves``."""
        return {
            "method": self.method,
            "groups": list(self.groups),
            "rows": list(self.rows),
            "bounds": list(self.bounds),
            "solves": self.solves,
        }


class Oracle:
    """Feasibility of sub-systems of a standard form on one HiGHS instance (zero objective).

    ``feasible(rows, lower, upper)`` keeps the rows of the mask ``rows`` and the column bounds
    of the masks ``lower``/``upper``; the others are dropped (made infinite).
    """

    def __init__(self, sf: StandardForm, *, integrality: bool = True) -> None:
        self.sf = sf
        self.h = new_highs()
        self.h.setOptionValue("presolve", "off")
        ints = sf.integrality if integrality else np.zeros(sf.n, dtype=bool)
        pass_model(self.h, replace(sf, c=np.zeros(sf.n), Q=None, offset=0.0, integrality=ints))
        self.solves = 0

    def feasible(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> bool:
        sf, h = self.sf, self.h
        m, n = sf.m, sf.n
        if m:
            h.changeRowsBounds(
                m, np.arange(m, dtype=np.int32),
                np.where(rows, sf.row_lo, -np.inf), np.where(rows, sf.row_hi, np.inf),
            )  # fmt: skip
        h.changeColsBounds(
            n, np.arange(n, dtype=np.int32),
            np.where(lower, sf.lb, -np.inf), np.where(upper, sf.ub, np.inf),
        )  # fmt: skip
        h.run()
        self.solves += 1
        name = h.getModelStatus().name
        if name == "kOptimal":
            return True
        if name == "kInfeasible":
            return False
        raise NotSupportedError(f"HiGHS could not decide feasibility of a sub-system ({name})")


def _members(
    sf: StandardForm, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[Member, ...]:
    rnames, cnames = row_names(sf), column_names(sf)
    out: list[Member] = []
    for name, b in sf.row_blocks.items():
        out.extend(
            Member("row", name, int(i - b.start), rnames[i], int(i))
            for i in np.flatnonzero(rows[b.start : b.stop]) + b.start
        )
    for name, v in sf.var_blocks.items():
        for kind, mask, bound, op in (("lower", lower, sf.lb, ">="), ("upper", upper, sf.ub, "<=")):
            out.extend(
                Member(kind, name, int(j - v.start), f"{cnames[j]} {op} {bound[j]:g}", int(j))
                for j in np.flatnonzero(mask[v.start : v.stop]) + v.start
            )
    return tuple(out)


def _filter(
    oracle: Oracle, state: list[np.ndarray], elements: Iterable[tuple[int, np.ndarray]]
) -> None:
    """The deletion filter: drop each element (mask ``which`` of ``state[which]``) in turn and
    keep it dropped while the rest stays infeasible."""
    for which, idx in elements:
        mask = state[which]
        if not mask[idx].any():
            continue
        saved = mask[idx].copy()
        mask[idx] = False
        if oracle.feasible(*state):
            mask[idx] = saved


def _deletion(sf: StandardForm, state: list[np.ndarray], oracle: Oracle) -> None:
    rows, lower, upper = state
    _filter(oracle, state, ((0, np.arange(b.start, b.stop)) for b in sf.row_blocks.values()))
    _filter(oracle, state, ((0, np.array([i])) for i in np.flatnonzero(rows)))
    touched = np.zeros(sf.n, dtype=bool)
    touched[np.unique(sf.A[np.flatnonzero(rows)].indices)] = True
    trial = [rows, lower & touched, upper & touched]
    if not oracle.feasible(*trial):
        lower &= touched
        upper &= touched
    _filter(oracle, state, ((1, np.array([j])) for j in np.flatnonzero(lower)))
    _filter(oracle, state, ((2, np.array([j])) for j in np.flatnonzero(upper)))


def _highs_iis(sf: StandardForm) -> list[np.ndarray] | None:
    """HiGHS's irreducible IIS of the LP (relaxation), as masks; ``None`` if it gave none."""
    import highspy

    lp = replace(sf, integrality=np.zeros(sf.n, dtype=bool))
    h = new_highs()
    pass_model(h, lp)
    S = highspy.IisStrategy
    h.setOptionValue("iis_strategy", int(S.kIisStrategyFromLp) | int(S.kIisStrategyIrreducible))
    h.run()
    if h.getModelStatus().name != "kInfeasible":
        return None
    status, res = h.getIis()
    if status.name == "kError" or not res.valid_ or not len(res.row_index_) + len(res.col_index_):
        return None
    B = highspy.IisBoundStatus
    rows = np.zeros(sf.m, dtype=bool)
    rows[np.asarray(res.row_index_, dtype=int)] = True
    cols = np.asarray(res.col_index_, dtype=int)
    cb = np.array([int(b) for b in res.col_bound_], dtype=int)
    lower, upper = np.zeros(sf.n, dtype=bool), np.zeros(sf.n, dtype=bool)
    lower[cols[np.isin(cb, [int(B.kIisBoundStatusLower), int(B.kIisBoundStatusBoxed)])]] = True
    upper[cols[np.isin(cb, [int(B.kIisBoundStatusUpper), int(B.kIisBoundStatusBoxed)])]] = True
    return [rows, lower & np.isfinite(sf.lb), upper & np.isfinite(sf.ub)]


def iis(model: Model | Problem, *, method: Literal["auto", "highs", "deletion"] = "auto") -> IIS:
    """An irreducible infeasible subset of the infeasible ``model``.

    Parameters
    ----------
    model
        An LP or MILP (linear rows; the objective is ignored).
    method
        ``"highs"``: HiGHS's IIS (LP, or a MILP whose LP relaxation is infeasible, then
        filtered with integrality); ``"deletion"``: the deletion filter over groups, rows and
        bounds; ``"auto"``: HiGHS where it gives one, else the deletion filter.

    Returns
    -------
    IIS
        Its members (rows by group and index, variable bounds) and how it was found.

    Raises
    ------
    NotSupportedError
        When the model is feasible, or HiGHS cannot decide a sub-system.
    OptionError
        For an unknown ``method``.
    """
    if method not in METHODS:
        raise OptionError(f"iis: unknown method {method!r} (valid choices: {METHODS})")
    mdl = as_problem(model).model
    sf = to_standard_form(mdl, objective=False)
    oracle = Oracle(sf)
    full = [np.ones(sf.m, dtype=bool), np.isfinite(sf.lb), np.isfinite(sf.ub)]
    if oracle.feasible(*full):
        raise NotSupportedError(f"model {mdl.name!r} is feasible: it has no infeasible subset")
    start = _highs_iis(sf) if method in ("auto", "highs") else None
    if start is None and method == "highs":
        raise NotSupportedError("HiGHS gave no IIS (its IIS is for LPs: use method='deletion')")
    if start is not None and not sf.is_mip:
        return IIS(_members(sf, *start), "highs", oracle.solves)
    used = "deletion"
    state = full
    if start is not None and not oracle.feasible(*start):
        state, used = start, "highs+deletion"
    _deletion(sf, state, oracle)
    return IIS(_members(sf, *state), used, oracle.solves)
