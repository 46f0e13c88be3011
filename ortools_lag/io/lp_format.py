"""CPLEX LP files (read and write, through HiGHS), and LP/MPS files with rows grouped by name.

``read_lp(path)`` reads an LP file (gzip too) with HiGHS's reader into a Model: one variable
block ``x`` (columns in the order HiGHS reads them, labelled by their names) and the rows in
named groups (:mod:`.row_groups`: by default rows ``cap_1 .. cap_n`` form the group ``cap``,
each labelled by its full name). ``read_model(path)`` takes an MPS or an LP file by its suffix
(MPS files keep :func:`~ortools_lag.io.read_mps`'s one group ``rows`` unless ``groups`` is
given). ``write_lp(model, path)`` writes an LP/MILP/QP model's standard form with HiGHS's
writer: columns are named by their labels or ``var(i)`` (flat C-order index), rows by the
group's labels or ``group(i)`` (``group`` for a scalar group), made valid LP names (characters
other than letters, digits and ``_.()#,`` become ``_``; a name starting with a digit or ``.``
gets ``_`` in front). The LP format has no ranged rows: HiGHS writes ``lo <= a x <= hi`` as the
rows ``Nlo`` and ``Nup``, and ``read_lp`` joins such a pair back into the ranged row ``N``.

Objective constants, a maximisation sense, integer and binary columns, free and fixed columns
and a quadratic objective go both ways; quadratic constraints are not supported by the format's
HiGHS reader.

>>> from pathlib import Path
>>> from tempfile import TemporaryDirectory
>>> from ortools_lag import Model, solve
>>> m = Model("plant"); x = m.var("x", 3, ub=4)
>>> m.maximize(3 * x[0] + 2 * x[1] + x[2])
>>> _ = m.add("cap", x[:2] <= np.array([3.0, 2.0]))
>>> _ = m.add("total", x.sum() <= 6)
>>> with TemporaryDirectory() as d:
...     write_lp(m, Path(d) / "plant.lp")
...     back = read_lp(Path(d) / "plant.lp")
>>> list(back.groups), back.group_labels["cap"], solve(back, "highs").objective
(['cap', 'total'], ['cap(0)', 'cap(1)'], 14.0)
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.errors import SpecError
from ortools_lag.io.mps import add_columns, read_highs, set_objective
from ortools_lag.io.row_groups import Grouping, group_constraint, group_rows, merge_split_ranges
from ortools_lag.io.text import not_utf8
from ortools_lag.model import Model, StandardForm, to_standard_form

__all__ = ["model_from_highs", "read_lp", "read_model", "write_highs", "write_lp"]

_LP_BAD = re.compile(r"[^A-Za-z0-9_.()#,]")


def model_from_highs(h: Any, name: str, groups: Grouping = "prefix", merge: bool = False) -> Model:
    """The model held by a highspy instance, its rows grouped by name (:mod:`.row_groups`).

    ``merge`` joins the row pairs ``Nlo``/``Nup`` that HiGHS writes for a ranged row.
    """
    model = h.getModel()
    lp = model.lp_
    n, mrows = int(lp.num_col_), int(lp.num_row_)
    am = lp.a_matrix_
    A = sp.csc_matrix(
        (np.asarray(am.value_), np.asarray(am.index_), np.asarray(am.start_)), shape=(mrows, n)
    ).tocsr()
    lo, hi = np.asarray(lp.row_lower_, dtype=float), np.asarray(lp.row_upper_, dtype=float)
    rnames = list(lp.row_names_) or [f"r{i}" for i in range(mrows)]
    if merge:
        rnames, A, lo, hi = merge_split_ranges(rnames, A, lo, hi)
    m = Model(name)
    x = add_columns(m, lp)
    set_objective(m, model, x)
    for gname, rows in group_rows(rnames, groups).items():
        idx = np.asarray(rows, dtype=np.int64)
        m.add(
            gname,
            group_constraint(A[idx] @ x, lo[idx], hi[idx]),
            labels=[rnames[i] for i in rows],
        )
    return m


def _stem_of(path: Path) -> str:
    return path.name.split(".")[0]


def read_lp(path: str | os.PathLike[str], groups: Grouping = "prefix") -> Model:
    """Read a (possibly gzipped) CPLEX LP file into a Model, its rows grouped by name.

    Parameters
    ----------
    path
        The file (``.lp`` or ``.lp.gz``).
    groups
        ``"prefix"`` (rows ``cap_1 .. cap_n`` form group ``cap``), ``"row"``, ``"single"``
        or ``{group: patterns}`` (:func:`~ortools_lag.io.row_groups.group_rows`).

    Raises
    ------
    SpecError
        When the file is missing or HiGHS cannot read it.
    ModelError
        For an unknown grouping.
    """
    p = Path(path)
    if not p.is_file():
        raise SpecError("file not found", file=str(p))
    try:
        return model_from_highs(
            read_highs(p, ".lp", label="lp", warnings_ok=True), _stem_of(p), groups, merge=True
        )
    except UnicodeDecodeError as exc:  # row or column names highspy cannot hand back as str
        raise not_utf8(p, exc) from None


def read_model(path: str | os.PathLike[str], groups: Grouping | None = None) -> Model:
    """Read an MPS or LP file (gzip too), chosen by its suffix.

    ``groups=None`` keeps each format's default: one group ``rows`` for MPS (as
    :func:`~ortools_lag.io.read_mps`), rows grouped by name prefix for LP.

    Raises
    ------
    SpecError
        For a missing file, an unreadable one, or a suffix other than ``.mps``/``.lp``
        (optionally followed by ``.gz``).
    """
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes]
    kind = suffixes[-2] if suffixes and suffixes[-1] == ".gz" and len(suffixes) > 1 else None
    kind = kind or (suffixes[-1] if suffixes else "")
    if kind == ".lp":
        return read_lp(p, "prefix" if groups is None else groups)
    if kind == ".mps":
        from ortools_lag.io.mps import read_mps

        if groups is None:
            return read_mps(p)
        if not p.is_file():
            raise SpecError("file not found", file=str(p))
        try:
            return model_from_highs(
                read_highs(p, ".mps", label="mps", warnings_ok=True), _stem_of(p), groups
            )
        except UnicodeDecodeError as exc:
            raise not_utf8(p, exc) from None
    raise SpecError(
        f"unknown model file suffix {p.suffix!r} (valid choices: .mps, .mps.gz, .lp, .lp.gz)",
        file=str(p),
    )


def _lp_names(names: list[str]) -> list[str]:
    out = []
    for n in names:
        s = _LP_BAD.sub("_", n) or "_"
        out.append(s if not (s[0].isdigit() or s[0] == ".") else "_" + s)
    seen: dict[str, int] = {}
    for i, s in enumerate(out):  # distinct names: a repeat gets _2, _3 ...
        k = seen.get(s, 0)
        seen[s] = k + 1
        if k:
            out[i] = f"{s}_{k + 1}"
    return out


def _block_names(blocks: dict[str, Any], labels: dict[str, list[str]]) -> list[str]:
    out: list[str] = []
    for name, b in blocks.items():
        size = b.stop - b.start
        lab = labels.get(name)
        if lab is not None and len(lab) == size:
            out += list(lab)
        elif b.shape:
            out += [f"{name}({i})" for i in range(size)]
        else:
            out.append(name)
    return _lp_names(out)


def write_lp(model: Model, path: str | os.PathLike[str]) -> None:
    """Write ``model`` (LP, MILP or QP objective; affine groups) as a CPLEX LP file.

    Raises
    ------
    NotSupportedError
        For a model without a standard form (nonlinear or quadratic groups).
    SpecError
        When the folder does not exist or HiGHS cannot write the file.
    """
    sf = to_standard_form(model)
    var_labels = {k: v.labels for k, v in model.variables.items() if v.labels is not None}
    write_highs(
        sf,
        Path(path),
        _block_names(sf.var_blocks, var_labels),
        _block_names(sf.row_blocks, model.group_labels),
        warnings_ok=True,
    )


def write_highs(
    sf: StandardForm,
    target: Path,
    col_names: list[str],
    row_names: list[str],
    *,
    warnings_ok: bool = False,
) -> None:
    """Write the standard form ``sf`` to ``target`` with HiGHS (the format by the suffix), in
    the user's sense and costs, its columns and rows named ``col_names`` and ``row_names``.

    Raises :class:`SpecError` when the folder does not exist or HiGHS does not write the file
    (an error, or a warning unless ``warnings_ok``).
    """
    import highspy

    from ortools_lag.highs_model import highs_hessian, highs_lp, new_highs

    if not target.parent.is_dir():
        raise SpecError("the folder does not exist", file=str(target))
    lp = highs_lp(sf)
    lp.col_names_ = col_names
    lp.row_names_ = row_names
    if sf.sense < 0:  # the user's sense and costs, as read back
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.col_cost_ = -np.asarray(sf.c)
        lp.offset_ = -sf.offset
    h = new_highs()
    h.passModel(lp)
    if sf.Q is not None:
        hess = highs_hessian(sf)
        if sf.sense < 0:
            hess.value_ = -np.asarray(hess.value_)
        h.passHessian(hess)
    status = h.writeModel(str(target))
    bad = status.name == "kError" if warnings_ok else status.name != "kOk"
    if bad or not target.is_file():
        raise SpecError(f"HiGHS could not write the model ({status.name})", file=str(target))
