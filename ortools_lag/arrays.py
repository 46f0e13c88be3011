"""A thin array-namespace adapter: the same numerical code on numpy arrays and torch tensors.

The nonlinear expression graph (``model/nonlinear.py``) and the ``adjoint`` solver are written
against the Python array API standard. :func:`namespace` returns the standard namespace of the
arrays given, through ``array_api_compat`` when it is installed (numpy, torch on CPU or CUDA),
else plain numpy. The few operations the standard does not have (scatter-add, a sparse matrix
times a vector, conversion of a constant to the device and dtype of another array) are here.

>>> import numpy as np
>>> xp = namespace(np.ones(3))
>>> to_numpy(xp.tanh(xp.asarray([0.0, 1.0]))).round(6).tolist()
[0.0, 0.761594]
>>> scatter_add(xp, np.array([0, 2, 0]), np.array([1.0, 2.0, 3.0]), 4).tolist()
[4.0, 0.0, 2.0, 0.0]
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.errors import BackendUnavailableError

__all__ = [
    "asarray_like",
    "device_of",
    "is_numpy",
    "is_torch",
    "namespace",
    "scatter_add",
    "sparse_matvec",
    "to_numpy",
]

_SPARSE_CACHE: dict[tuple[int, str, str], tuple[Any, Any]] = {}


def is_torch(x: Any) -> bool:
    """True for a torch tensor (checked without importing torch)."""
    return type(x).__module__.startswith("torch") and hasattr(x, "device")


def is_numpy(xp: ModuleType) -> bool:
    """True when ``xp`` is numpy or its array-API wrapper."""
    return xp is np or xp.__name__ in ("numpy", "array_api_compat.numpy")


def namespace(*arrays: Any) -> ModuleType:
    """The array-API namespace of ``arrays`` (numpy for Python scalars and numpy arrays).

    Raises
    ------
    BackendUnavailableError
        For torch tensors when ``array-api-compat`` is not installed.
    """
    tensors = [a for a in arrays if is_torch(a)]
    try:
        import array_api_compat
    except ImportError:
        if tensors:
            raise BackendUnavailableError(
                "torch tensors need array-api-compat: pip install 'ortools_lag[torch]'"
            ) from None
        return np
    if tensors:
        return array_api_compat.array_namespace(*tensors)
    return array_api_compat.array_namespace(np.zeros(0))


def device_of(x: Any) -> Any:
    """The device of an array (``"cpu"`` for numpy)."""
    return x.device if is_torch(x) else "cpu"


def to_numpy(x: Any) -> np.ndarray:
    """A numpy copy-or-view of an array or tensor (tensors are detached and moved to the CPU)."""
    if is_torch(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def asarray_like(xp: ModuleType, value: Any, like: Any | None) -> Any:
    """``value`` as an array of ``xp`` on the device and with the floating dtype of ``like``."""
    if like is None or not is_torch(like):
        return np.asarray(value, dtype=float) if is_numpy(xp) else xp.asarray(value)
    if is_torch(value):
        return value.to(device=like.device, dtype=like.dtype)
    return xp.asarray(np.asarray(value), dtype=like.dtype, device=like.device)


def scatter_add(xp: ModuleType, idx: Any, values: Any, size: int) -> Any:
    """``out[idx[k]] += values[k]`` into a zero vector of length ``size`` (1-D, vectorised)."""
    if is_torch(values):
        import torch

        index = torch.as_tensor(np.asarray(idx), device=values.device, dtype=torch.int64)
        out = torch.zeros(size, dtype=values.dtype, device=values.device)
        return out.index_add_(0, index, values.reshape(-1))
    return np.bincount(np.asarray(idx), weights=np.asarray(values).reshape(-1), minlength=size)


def sparse_matvec(T: sp.spmatrix, x: Any) -> Any:
    """``T @ x`` for a scipy sparse matrix and a 1-D array or tensor (torch: sparse COO)."""
    if not is_torch(x):
        return T @ np.asarray(x)
    import torch

    key = (id(T), str(x.device), str(x.dtype))
    hit = _SPARSE_CACHE.get(key)
    if hit is None or hit[0] is not T:
        coo = sp.coo_matrix(T)
        index = torch.as_tensor(np.vstack([coo.row, coo.col]), dtype=torch.int64)
        tensor = torch.sparse_coo_tensor(
            index, torch.as_tensor(coo.data), size=coo.shape, check_invariants=True
        )
        tensor = tensor.coalesce().to(device=x.device, dtype=x.dtype)
        if len(_SPARSE_CACHE) > 64:
            _SPARSE_CACHE.clear()
        hit = (T, tensor)
        _SPARSE_CACHE[key] = hit
    return (hit[1] @ x.reshape(-1, 1)).reshape(-1)
