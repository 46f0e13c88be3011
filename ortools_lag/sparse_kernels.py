"""``out += A @ v`` for scipy CSR/CSC matrices, into a given vector.

``A @ v`` allocates a zero vector, runs scipy's kernel into it and returns it; adding that to
``out`` is one more pass and one more temporary. scipy's kernels (``csr_matvec`` /
``csc_matvec``) already *accumulate* into their output, so handing them ``out`` does both in
one pass. They are private to scipy: when they are missing, or the arrays are not the plain
float64 / matching-index layout they take, this falls back to ``out += A @ v``.

>>> import numpy as np, scipy.sparse as sp
>>> out = np.array([1.0, 1.0])
>>> matvec_add(sp.csc_matrix([[1.0, 2.0], [0.0, 3.0]]), np.array([1.0, 1.0]), out).tolist()
[4.0, 4.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:  # scipy's own kernels behind ``A @ v``: y += A x
    from scipy.sparse._sparsetools import csc_matvec as _csc_matvec
    from scipy.sparse._sparsetools import csr_matvec as _csr_matvec
except ImportError:  # pragma: no cover - a scipy without the private kernels
    _csr_matvec = _csc_matvec = None

__all__ = ["matvec_add"]


def _plain(a: np.ndarray) -> bool:
    return a.dtype == np.float64 and a.ndim == 1 and a.flags.c_contiguous


def matvec_add(A: Any, v: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out += A @ v`` in place, without a temporary of ``out``'s size; returns ``out``.

    ``A`` is a scipy CSR or CSC matrix (or array), ``v`` and ``out`` 1-D vectors.
    """
    fmt = getattr(A, "format", None)
    kernel = _csr_matvec if fmt == "csr" else _csc_matvec if fmt == "csc" else None
    if (
        kernel is None
        or not (_plain(v) and _plain(out) and A.dtype == np.float64)
        or A.indptr.dtype != A.indices.dtype
        or v.shape[0] != A.shape[1]
        or out.shape[0] != A.shape[0]
    ):
        out += A @ v
    elif A.nnz:
        kernel(A.shape[0], A.shape[1], A.indptr, A.indices, A.data, v, out)
    return out
