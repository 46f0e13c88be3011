"""Outside answers shared by the test files of one family: the ``data/MANIFEST.md`` tables
(OR-Library ``scp`` optima, TSPLIB optimal tours and Held–Karp values) and the set-cover
references computed with HiGHS and numpy, not with the package's code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

SCP_DATA = Path(__file__).parents[1] / "data" / "scp"
TSPLIB_DATA = Path(__file__).parents[1] / "data" / "tsplib"

#: data/MANIFEST.md, scp table: optimal cover costs (OR-Library, Beasley 1987)
SCP_OPTIMA = {
    "scp41": 429,
    "scp42": 512,
    "scp43": 516,
    "scp44": 494,
    "scp45": 512,
    "scp51": 253,
    "scp52": 302,
    "scp61": 138,
    "scpa1": 253,
}
#: the scp instances whose tests are slow
SCP_SLOW = {"scp51", "scp52", "scp61", "scpa1"}

#: data/MANIFEST.md, tsplib table: (optimal tour, Held–Karp subtour-LP value)
TSPLIB_MANIFEST = {
    "att48": (10628, 10604.0),
    "berlin52": (7542, 7542.0),
    "burma14": (3323, 3323.0),
    "eil51": (426, 422.5),
    "gr17": (2085, 2085.0),
    "kroA100": (21282, 20936.5),
    "st70": (675, 671.0),
    "ulysses16": (6859, 6859.0),
}


def cover_lp_value(costs: np.ndarray, a: sp.spmatrix | np.ndarray) -> float:
    """The LP relaxation of ``min c x s.t. A x >= 1, 0 <= x <= 1``, by HiGHS (linprog)."""
    res = linprog(costs, A_ub=-a, b_ub=-np.ones(a.shape[0]), bounds=(0, 1), method="highs")
    assert res.status == 0
    return float(res.fun)


def cover_lagrangian(costs: np.ndarray, a: sp.spmatrix | np.ndarray, u: np.ndarray) -> float:
    """``L(u) = sum(u) + sum_j min(0, c_j - (A^T u)_j)``, by the test's own arithmetic."""
    return float(u.sum() + np.minimum(costs - a.T @ u, 0.0).sum())
