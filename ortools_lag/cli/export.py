"""``ortools-lag export FILE --mps OUT``: a model written as MPS through HiGHS.

The model goes through its standard form (``to_standard_form``: affine groups, a linear or
quadratic objective); HiGHS writes the file (free MPS, with a ``QUADOBJ`` section for a QP). A
maximisation is written with ``OBJSENSE MAX`` and the user's costs, so reading the file back
(``read_mps``) gives the same objective. Columns are named ``var[i]`` and rows ``group[i]``
(flat C-order indices).

>>> from pathlib import Path
>>> from tempfile import TemporaryDirectory
>>> from ortools_lag import Model
>>> from ortools_lag.io import read_mps
>>> m = Model("tiny"); x = m.var("x", 2)
>>> m.maximize(x[0] + 2 * x[1]); _ = m.add("cap", x.sum() <= 3)
>>> with TemporaryDirectory() as d:
...     write_mps(m, Path(d) / "tiny.mps")
...     back = read_mps(Path(d) / "tiny.mps")
>>> back.sense, back.n
('max', 2)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ortools_lag.errors import NotSupportedError, SpecError
from ortools_lag.model import Model, to_standard_form

__all__ = ["write_mps"]


def _names(blocks: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for name, b in blocks.items():
        size = b.stop - b.start
        out += [f"{name}[{i}]" for i in range(size)] if b.shape else [name]
    return out


def write_mps(model: Model, path: str | os.PathLike[str]) -> None:
    """Write ``model`` as an MPS file.

    Raises
    ------
    NotSupportedError
        For a model without a standard form (nonlinear groups or objective) or a
        mixed-integer QP.
    SpecError
        When HiGHS cannot write the file.
    """
    import highspy

    from ortools_lag.highs_model import highs_hessian, highs_lp, new_highs

    sf = to_standard_form(model)
    if sf.Q is not None and sf.is_mip:
        raise NotSupportedError("MPS export of a mixed-integer QP is not supported")
    lp = highs_lp(sf)
    lp.col_names_ = _names(sf.var_blocks)
    lp.row_names_ = _names(sf.row_blocks)
    if sf.sense < 0:
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
    target = Path(path)
    if not target.parent.is_dir():
        raise SpecError("the folder does not exist", file=str(target))
    status = h.writeModel(str(target))
    if status.name != "kOk" or not target.is_file():
        raise SpecError(f"HiGHS could not write the model ({status.name})", file=str(target))
