"""``sparse_kernels.matvec_add`` against ``out + A @ v`` (scipy's own product) in every layout."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ortools_lag.sparse_kernels import matvec_add


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "dia"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_matvec_add_equals_scipy_product(fmt: str, dtype: type) -> None:
    rng = np.random.default_rng(3)
    A = sp.random(40, 30, density=0.2, random_state=4, format=fmt).astype(dtype)
    v, out = rng.standard_normal(30), rng.standard_normal(40)
    expect = out + A @ v
    got = matvec_add(A, v, out)
    assert got is out and np.allclose(out, expect, rtol=1e-12, atol=1e-12)


def test_matvec_add_with_strided_vectors_and_an_empty_matrix() -> None:
    A = sp.csr_matrix(np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]]))
    v = np.arange(6.0)[::2]  # not contiguous: the plain ``A @ v`` path
    base = np.zeros(4)
    out = base[::2]
    matvec_add(A, v, out)
    assert out.tolist() == [8.0, 6.0] and base.tolist() == [8.0, 0.0, 6.0, 0.0]
    empty = sp.csc_matrix((2, 3))
    assert matvec_add(empty, np.ones(3), np.ones(2)).tolist() == [1.0, 1.0]
