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

from ortools_lag.errors import NotSupportedError
from ortools_lag.io.lp_format import write_highs
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
    sf = to_standard_form(model)
    if sf.Q is not None and sf.is_mip:
        raise NotSupportedError("MPS export of a mixed-integer QP is not supported")
    write_highs(sf, Path(path), _names(sf.var_blocks), _names(sf.row_blocks))
