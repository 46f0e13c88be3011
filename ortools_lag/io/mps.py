"""MPS input through HiGHS's reader.

``read_mps(path)`` gives a Model with one variable block ``x`` (columns in file order) and one
two-sided group ``rows`` (rows in file order); each row's multiplier is signed, positive when
its upper side binds. The objective constant is kept as HiGHS reads it (``constant = -RHS`` of
the objective row). Gzip files are accepted.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.errors import SpecError
from ortools_lag.io.text import not_utf8
from ortools_lag.model import Model

__all__ = ["read_highs", "read_mps"]


def read_highs(path: Path, suffix: str, *, label: str, warnings_ok: bool = False) -> Any:
    """A HiGHS instance holding the model of the file at ``path`` (gzipped when it ends in
    ``.gz``: unpacked to a temporary file with ``suffix``, which tells HiGHS the format).

    A file HiGHS cannot read (an error, or a warning unless ``warnings_ok``), or one with no
    row and no column, raises :class:`SpecError` naming the file and the format ``label``.
    """
    from ortools_lag.highs_model import new_highs

    h = new_highs()
    if path.suffix == ".gz":
        try:
            with gzip.open(path, "rb") as fh:
                data = fh.read()
        except (OSError, EOFError) as exc:
            raise SpecError(f"not a readable gzip file: {exc}", file=str(path)) from exc
        fd, tmp = tempfile.mkstemp(suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            status = h.readModel(tmp)
        finally:
            os.unlink(tmp)
    else:
        status = h.readModel(str(path))
    bad = status.name == "kError" if warnings_ok else status.name != "kOk"
    if bad or (h.getNumCol() == 0 and h.getNumRow() == 0):
        raise SpecError(f"HiGHS could not read this {label} file ({status.name})", file=str(path))
    return h


def read_mps(path: str | os.PathLike[str]) -> Model:
    """Read a (possibly gzipped) MPS file into a Model.

    Raises
    ------
    SpecError
        When the file is missing or malformed.

    Examples
    --------
    >>> from pathlib import Path
    >>> m = read_mps(Path("data/netlib/afiro.mps.gz"))  # doctest: +SKIP
    >>> m.variables["x"].shape  # doctest: +SKIP
    (32,)
    """
    p = Path(path)
    if not p.is_file():
        raise SpecError("file not found", file=str(p))
    try:
        return _to_model(read_highs(p, ".mps", label="MPS"), p)
    except UnicodeDecodeError as exc:  # row or column names highspy cannot hand back as str
        raise not_utf8(p, exc) from None


def _to_model(h: Any, p: Path) -> Model:
    m = Model(p.name.split(".")[0])
    model = h.getModel()
    lp = model.lp_
    n, mrows = int(lp.num_col_), int(lp.num_row_)
    am = lp.a_matrix_
    A = sp.csc_matrix(
        (np.asarray(am.value_), np.asarray(am.index_), np.asarray(am.start_)), shape=(mrows, n)
    ).tocsr()
    x = add_columns(m, lp)
    set_objective(m, model, x)
    if mrows:
        m.add(
            "rows",
            (A @ x).between(np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)),
            labels=list(lp.row_names_) or None,
        )
    return m


def add_columns(m: Model, lp: Any) -> Any:
    """The columns of a highspy ``HighsLp`` as ``m``'s block ``x`` (bounds, names, integrality)."""
    integ = np.asarray(lp.integrality_) if len(lp.integrality_) else None
    mask = None if integ is None else np.array([int(k) != 0 for k in integ], dtype=bool)
    return m.var(
        "x",
        int(lp.num_col_),
        lb=np.asarray(lp.col_lower_),
        ub=np.asarray(lp.col_upper_),
        labels=list(lp.col_names_) or None,
        integer_mask=mask,
    )


def set_objective(m: Model, model: Any, x: Any) -> None:
    """``m``'s objective from a highspy ``HighsModel``: costs, offset, sense and the Hessian
    (HiGHS holds the lower triangle of ``Q`` for the objective ``c z + z Q z / 2``)."""
    lp = model.lp_
    obj: Any = np.asarray(lp.col_cost_, dtype=float) @ x + float(lp.offset_)
    hess = model.hessian_
    if int(hess.dim_) > 0 and len(hess.value_):
        n = int(lp.num_col_)
        Lt = sp.csc_matrix(
            (np.asarray(hess.value_), np.asarray(hess.index_), np.asarray(hess.start_)),
            shape=(n, n),
        )
        Q = Lt + sp.triu(Lt.T, k=1)
        from ortools_lag.model import quad_form

        obj = obj + quad_form(x, 0.5 * Q)
    (m.maximize if lp.sense_.name == "kMaximize" else m.minimize)(obj)
