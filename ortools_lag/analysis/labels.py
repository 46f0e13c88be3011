"""Names of single rows and columns: ``cap[3]`` for index ``(3,)`` of group ``cap``.

>>> from ortools_lag import Model
>>> from ortools_lag.model import layout
>>> m = Model(); x = m.var("x", (2, 2)); _ = m.add("cap", x.sum(axis=0) <= 1)
>>> lay = layout(m)
>>> row_names(lay), column_names(lay)[:2]
(['cap[0]', 'cap[1]'], ['x[0,0]', 'x[0,1]'])
"""

from __future__ import annotations

import numpy as np

from ortools_lag.model import Layout

__all__ = ["column_names", "entry_name", "row_names"]


def entry_name(name: str, shape: tuple[int, ...], flat: int) -> str:
    """``name[i,j]`` for the C-order entry ``flat`` of a block of ``shape`` (``name`` if scalar)."""
    if shape == ():
        return name
    idx = np.unravel_index(int(flat), shape)
    return f"{name}[{','.join(str(int(i)) for i in idx)}]"


def _names(blocks: dict[str, tuple[int, int, tuple[int, ...]]]) -> list[str]:
    out: list[str] = []
    for name, (start, stop, shape) in blocks.items():
        out.extend(entry_name(name, shape, k) for k in range(stop - start))
    return out


def row_names(lay: Layout) -> list[str]:
    """One name per row of the standard form, in row order."""
    return _names({k: (b.start, b.stop, b.shape) for k, b in lay.row_blocks.items()})


def column_names(lay: Layout) -> list[str]:
    """One name per column of the standard form, in column order."""
    return _names({k: (b.start, b.stop, b.shape) for k, b in lay.var_blocks.items()})
