"""Rows of an imported LP/MILP into named constraint groups, by their names.

A file (MPS or CPLEX LP) names each row; a :class:`~ortools_lag.model.Model` relaxes *groups*.
:func:`group_rows` decides which rows form a group:

- ``"prefix"`` (the default for LP files): rows whose names differ only by a trailing index
  form one group named by the common stem. The index is what follows the stem: ``(...)`` or
  ``[...]`` (``cap(1,2)``, ``cap[3]``), or digits, each run optionally after ``_``, ``.`` or
  ``-`` (``cap_1``, ``cap_1_2``, ``cap12``, ``ROW00001``). ``cap_1 .. cap_n`` form the group
  ``cap``; a name without an index (``budget``) is a group of its own;
- ``"row"``: each row its own group, named by the row;
- ``"single"``: one group ``rows`` (what :func:`~ortools_lag.io.read_mps` gives);
- a mapping ``{group: pattern or [patterns]}`` (``fnmatch`` patterns over row names): the rows
  each group's patterns match, in file order; rows no pattern matches go by the prefix rule.

Each group keeps the rows' full names as its labels (``model.group_labels``), so a relaxation
may also name rows by pattern: ``relax=["cap_*"]`` selects every group whose rows all match
(:func:`~ortools_lag.lagrangian.relaxed_group_names`). A group whose rows share one sense is a
group of that sense (``<=``, ``>=``, ``==``: multipliers of that sign); a group mixing senses, or
holding a ranged row, is two-sided (one signed multiplier per row, positive when the upper side
binds). Group names are made valid model names (other characters become ``_``, a leading digit
or ``.`` gets a ``_`` in front) and distinct (``_2``, ``_3`` appended).

>>> group_rows(["cap_1", "cap_2", "budget", "cap_3", "flow(a,1)"])
{'cap': [0, 1, 3], 'budget': [2], 'flow': [4]}
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Union

import numpy as np
import scipy.sparse as sp

from ortools_lag.errors import ModelError
from ortools_lag.model import Constraint, Expr

__all__ = ["GROUPINGS", "Grouping", "group_constraint", "group_rows", "model_name", "stem"]

#: Row groupings by name (besides an explicit mapping of patterns).
GROUPINGS = ("prefix", "row", "single")
Grouping = Union[str, Mapping[str, Union[str, Sequence[str]]]]

_INDEX = re.compile(r"^(?P<stem>.*?)(?:[(\[].*[)\]]|(?:[_.\-]?\d+)+)$")
_BAD = re.compile(r"[^A-Za-z0-9_.\-]")


def stem(name: str) -> str:
    """The name without its trailing index (the name itself when nothing is left).

    >>> stem("cap_12"), stem("x(1,2)"), stem("ROW00001"), stem("budget"), stem("17")
    ('cap', 'x', 'ROW', 'budget', '17')
    """
    m = _INDEX.match(name)
    s = m.group("stem") if m else name
    return s if s.strip("_.-") else name


def model_name(name: str) -> str:
    """``name`` as a valid model name (other characters become ``_``; a name starting with a
    digit, ``.`` or ``-`` gets ``_`` in front).

    >>> model_name("c#3"), model_name("1"), model_name("...01")
    ('c_3', '_1', '_...01')
    """
    out = _BAD.sub("_", name) or "_"
    return out if (out[0].isalpha() or out[0] == "_") else "_" + out


def _distinct(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    taken = set(names)
    for n in names:
        k = seen.get(n, 0)
        seen[n] = k + 1
        if k == 0:
            out.append(n)
            continue
        j = k + 1
        while f"{n}_{j}" in taken:
            j += 1
        out.append(f"{n}_{j}")
        taken.add(out[-1])
    return out


def group_rows(names: Sequence[str], groups: Grouping = "prefix") -> dict[str, list[int]]:
    """Row indices by group name (groups in order of their first row).

    Parameters
    ----------
    names
        The rows' names, in file order.
    groups
        ``"prefix"``, ``"row"``, ``"single"`` or a mapping ``{group: patterns}`` (see the
        module's docstring).

    Raises
    ------
    ModelError
        For an unknown grouping, or a pattern of the mapping that matches no row.
    """
    keys: list[str]
    if isinstance(groups, str):
        if groups not in GROUPINGS:
            raise ModelError(
                f"groups={groups!r} is not a row grouping "
                f"(valid choices: {', '.join(GROUPINGS)}, or a mapping group -> patterns)"
            )
        if groups == "single":
            return {"rows": list(range(len(names)))}
        keys = list(names) if groups == "row" else [stem(n) for n in names]
    else:
        keys = [stem(n) for n in names]
        claimed = np.zeros(len(names), dtype=bool)
        for group, pats in groups.items():
            for pat in (pats,) if isinstance(pats, str) else tuple(pats):
                hits = [i for i, n in enumerate(names) if fnmatchcase(n, pat) and not claimed[i]]
                if not hits and not any(fnmatchcase(n, pat) for n in names):
                    raise ModelError(f"groups: pattern {pat!r} of group {group!r} matches no row")
                for i in hits:
                    keys[i] = group
                claimed[hits] = True
    firsts = list(dict.fromkeys(keys))
    valid = _distinct([model_name(k) for k in firsts])
    rename = dict(zip(firsts, valid))
    out: dict[str, list[int]] = {rename[k]: [] for k in firsts}
    for i, k in enumerate(keys):
        out[rename[k]].append(i)
    return out


def group_constraint(body: Expr, lo: np.ndarray, hi: np.ndarray) -> Constraint:
    """``lo <= body <= hi`` as a group of one sense when its rows share one, else two-sided.

    >>> from ortools_lag import Model
    >>> m = Model(); x = m.var("x", 2)
    >>> group_constraint(x, np.array([1.0, 2.0]), np.array([np.inf, np.inf])).sense
    '>='
    """
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    if np.all(lo == hi):
        return body == lo.reshape(body.shape)
    if np.all(np.isneginf(lo)) and np.all(np.isfinite(hi)):
        return body <= hi.reshape(body.shape)
    if np.all(np.isposinf(hi)) and np.all(np.isfinite(lo)):
        return body >= lo.reshape(body.shape)
    return body.between(lo.reshape(body.shape), hi.reshape(body.shape))


def merge_split_ranges(
    names: list[str], A: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray
) -> tuple[list[str], sp.csr_matrix, np.ndarray, np.ndarray]:
    """Join the pairs ``Nlo`` (``>=``), ``Nup`` (``<=``) of equal rows into the ranged row ``N``.

    HiGHS writes a ranged row ``lo <= a x <= hi`` of an LP file as two rows named ``Nlo`` and
    ``Nup`` (the format has no ranged rows); reading them back as one row keeps its one
    signed multiplier.
    """
    if len(names) < 2:
        return names, A, lo, hi
    arr = np.array(names, dtype=object)
    first = np.array([n.endswith("lo") for n in names[:-1]], dtype=bool)
    second = np.array([n.endswith("up") for n in names[1:]], dtype=bool)
    cand = np.flatnonzero(first & second & np.isposinf(hi[:-1]) & np.isneginf(lo[1:]))
    if cand.size:
        same_stem = np.array([arr[i][:-2] == arr[i + 1][:-2] for i in cand], dtype=bool)
        cand = cand[same_stem]
    if cand.size:
        diff = sp.csr_matrix(A[cand] - A[cand + 1])
        diff.eliminate_zeros()
        cand = cand[np.diff(diff.indptr) == 0]
    if cand.size and np.any(np.diff(cand) == 1):  # overlapping pairs: keep the first of each
        keep = np.ones(cand.size, dtype=bool)
        for k in range(1, cand.size):
            keep[k] = not (cand[k] == cand[k - 1] + 1 and keep[k - 1])
        cand = cand[keep]
    if not cand.size:
        return names, A, lo, hi
    drop = np.zeros(len(names), dtype=bool)
    drop[cand + 1] = True
    lo, hi = lo.copy(), hi.copy()
    hi[cand] = hi[cand + 1]
    arr[cand] = [arr[i][:-2] for i in cand]
    keep_rows = ~drop
    return list(arr[keep_rows]), sp.csr_matrix(A[keep_rows]), lo[keep_rows], hi[keep_rows]
