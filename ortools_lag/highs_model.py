"""HiGHS models from a standard form: a quiet instance, its ``HighsLp`` and Hessian, and
``passModel`` straight from the arrays.

These are the pieces every user of ``highspy`` in the package shares: the HiGHS backend, the
MPS reader and writer, the HiGHS blocks of a decomposed Lagrangian and the algorithms that keep
a small HiGHS master (bundle, CSP search). They convert; they solve nothing and know no
options or statuses (the backend, :mod:`ortools_lag.solvers.backends.highs`, does).

>>> from ortools_lag import Model
>>> from ortools_lag.model import to_standard_form
>>> m = Model(); x = m.var("x", 2, ub=3); m.minimize(x[0] - x[1]); _ = m.add("c", x.sum() <= 4)
>>> h = new_highs(); pass_model(h, to_standard_form(m)); _ = h.run()
>>> round(h.getInfo().objective_function_value, 9)
-3.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ortools_lag.errors import NotSupportedError
from ortools_lag.model import StandardForm

__all__ = ["highs_hessian", "highs_lp", "new_highs", "pass_model"]


def new_highs() -> Any:
    """A quiet ``highspy`` instance (the plain ``Highs()`` writes a banner to stdout)."""
    import highspy

    cls = getattr(highspy, "_Highs", highspy.Highs)
    h = cls()
    h.setOptionValue("output_flag", False)
    return h


def highs_lp(sf: StandardForm) -> Any:
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = sf.n, sf.m
    lp.col_cost_ = sf.c
    lp.offset_ = sf.offset
    lp.col_lower_, lp.col_upper_ = sf.lb, sf.ub
    lp.row_lower_, lp.row_upper_ = sf.row_lo, sf.row_hi
    A = sf.A.tocsc()
    A.sort_indices()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = sf.n, sf.m
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data
    if sf.is_mip:
        kinds = np.array([highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger])
        lp.integrality_ = list(kinds[sf.integrality.astype(int)])
    return lp


def pass_model(h: Any, sf: StandardForm) -> None:
    """Hand a standard form to a highspy instance through its array overloads (no copies
    through Python lists: 10^6 columns pass in milliseconds)."""
    import highspy

    A = sf.A  # row-wise: HiGHS converts internally, faster than scipy's tocsc
    integ = sf.integrality.astype(np.int32)
    status = h.passModel(
        sf.n, sf.m, int(A.nnz), int(highspy.MatrixFormat.kRowwise), 1, float(sf.offset),
        np.ascontiguousarray(sf.c, dtype=np.float64),
        np.ascontiguousarray(sf.lb, dtype=np.float64),
        np.ascontiguousarray(sf.ub, dtype=np.float64),
        np.ascontiguousarray(sf.row_lo, dtype=np.float64),
        np.ascontiguousarray(sf.row_hi, dtype=np.float64),
        A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32), A.data.astype(np.float64),
        integ,
    )  # fmt: skip
    if status.name == "kError":
        raise NotSupportedError("HiGHS refused the model (passModel returned an error)")
    if sf.Q is not None:
        import scipy.sparse as sp

        L = sp.tril(sf.Q, format="csc")
        L.sort_indices()
        h.passHessian(
            sf.n, int(L.nnz), int(highspy.HessianFormat.kTriangular),
            L.indptr[:-1].astype(np.int32), L.indices.astype(np.int32), L.data.astype(np.float64),
        )  # fmt: skip


def highs_hessian(sf: StandardForm) -> Any:
    import highspy
    import scipy.sparse as sp

    assert sf.Q is not None
    L = sp.tril(sf.Q, format="csc")
    L.sort_indices()
    hess = highspy.HighsHessian()
    hess.dim_ = sf.n
    hess.format_ = highspy.HessianFormat.kTriangular
    hess.start_ = L.indptr.astype(np.int32)
    hess.index_ = L.indices.astype(np.int32)
    hess.value_ = L.data
    return hess
