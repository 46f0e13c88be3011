"""The thin array adapter under the PDHG core: numpy + scipy.sparse, or torch (CPU or CUDA).

The algorithm in :mod:`ortools_lag.solvers.pdhg.restarted` is written once, with Python operators
(``+``, ``-``, ``*``, ``/``) on the backend's vectors and the few functions below for
everything else (sparse products, clipping, reductions, in-place ``axpy``). Both adapters
work in float64. Reductions return Python floats (on CUDA each one is a device sync).

>>> import numpy as np, scipy.sparse as sp
>>> ops = array_ops("numpy")
>>> A = ops.sparse(sp.csr_matrix(np.array([[1.0, 2.0], [0.0, 3.0]])))
>>> ops.to_numpy(ops.matvec(A, ops.asarray(np.array([1.0, 1.0])))).tolist()
[3.0, 3.0]
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import daxpy

from ortools_lag.errors import BackendUnavailableError, OptionError
from ortools_lag.sparse_kernels import matvec_add

__all__ = ["ArrayOps", "NumpyOps", "TorchOps", "array_ops"]

Vec = Any
_SMALL = 8192  # below this size two ufunc calls beat one np.clip call


class ArrayOps:
    """The operations the PDHG core needs; subclasses bind them to one array library."""

    name = "base"
    device = "cpu"

    def asarray(self, a: np.ndarray) -> Vec:
        """A float64 vector on this backend's device."""
        raise NotImplementedError

    def to_numpy(self, v: Vec) -> np.ndarray:
        """A host numpy copy of ``v``."""
        raise NotImplementedError

    def sparse(self, A: sp.csr_matrix) -> Any:
        """The backend's CSR matrix."""
        raise NotImplementedError

    def matvec(self, A: Any, v: Vec) -> Vec:
        """``A @ v``."""
        raise NotImplementedError

    def matvec_add(self, A: Any, v: Vec, out: Vec) -> Vec:
        """``out += A @ v`` in place (no temporary of ``out``'s size); returns ``out``."""
        raise NotImplementedError

    def axpy(self, a: float, x: Vec, y: Vec) -> Vec:
        """``y += a * x`` in place; returns ``y``."""
        raise NotImplementedError

    def assign(self, out: Vec, v: Vec) -> Vec:
        """``out[:] = v``; returns ``out``."""
        raise NotImplementedError

    def add(self, a: Vec, b: Vec, out: Vec) -> Vec:
        """``out = a + b`` without a temporary; returns ``out``."""
        raise NotImplementedError

    def sub(self, a: Vec, b: Vec, out: Vec) -> Vec:
        """``out = a - b`` without a temporary; returns ``out``."""
        raise NotImplementedError

    def clip(self, v: Vec, lo: Vec | None, hi: Vec | None, out: Vec | None = None) -> Vec:
        """Elementwise ``min(max(v, lo), hi)`` (±inf allowed; ``None``: no bound that side).

        ``out`` may be ``v`` itself (in place).
        """
        raise NotImplementedError

    def pos(self, v: Vec) -> Vec:
        """``max(v, 0)``."""
        raise NotImplementedError

    def abs(self, v: Vec) -> Vec:
        """``|v|``."""
        raise NotImplementedError

    def copy(self, v: Vec) -> Vec:
        """A copy of ``v``."""
        raise NotImplementedError

    def zeros_like(self, v: Vec) -> Vec:
        """Zeros shaped like ``v``."""
        raise NotImplementedError

    def dot(self, a: Vec, b: Vec) -> float:
        """``a @ b`` as a float."""
        raise NotImplementedError

    def dots(self, pairs: list[tuple[Vec, Vec]]) -> list[float]:
        """Several dot products as floats (one device sync on CUDA)."""
        return [self.dot(a, b) for a, b in pairs]

    def norm_inf(self, v: Vec) -> float:
        """``max |v|`` (0 for an empty vector)."""
        raise NotImplementedError

    def norm(self, v: Vec) -> float:
        """Euclidean norm."""
        return float(np.sqrt(max(self.dot(v, v), 0.0)))

    @contextlib.contextmanager
    def threads(self, n: int | None) -> Iterator[None]:
        """Run the block with at most ``n`` compute threads (``None``: the backend's default)."""
        yield


class NumpyOps(ArrayOps):
    """numpy vectors and scipy.sparse CSR matrices (``axpy`` through BLAS ``daxpy``)."""

    name = "numpy"

    def asarray(self, a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=np.float64)

    def to_numpy(self, v: np.ndarray) -> np.ndarray:
        return np.array(v, dtype=np.float64)

    def sparse(self, A: sp.csr_matrix) -> sp.csr_matrix:
        return sp.csr_matrix(A, dtype=np.float64)

    def matvec(self, A: sp.csr_matrix, v: np.ndarray) -> np.ndarray:
        # scipy's kernel without ``A @ v``'s checks (they weigh on small LPs)
        return matvec_add(A, v, np.zeros(A.shape[0]))

    def matvec_add(self, A: sp.csr_matrix, v: np.ndarray, out: np.ndarray) -> np.ndarray:
        return matvec_add(A, v, out)

    def axpy(self, a: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if y.size == 0:
            return y
        out = daxpy(x, y, a=a)
        if out is not y:  # pragma: no cover - daxpy works in place on contiguous float64
            y[...] = out
        return y

    def assign(self, out: np.ndarray, v: np.ndarray) -> np.ndarray:
        np.copyto(out, v)
        return out

    def add(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.add(a, b, out=out)

    def sub(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.subtract(a, b, out=out)

    def clip(
        self,
        v: np.ndarray,
        lo: np.ndarray | None,
        hi: np.ndarray | None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        if lo is not None and hi is not None:
            if v.size > _SMALL:
                return np.clip(v, lo, hi, out=out)
            return np.maximum(np.minimum(v, hi, out=out), lo, out=out)  # np.clip's overhead
        if hi is not None:
            return np.minimum(v, hi, out=out)
        if lo is not None:
            return np.maximum(v, lo, out=out)
        if out is None:
            return v.copy()
        out[...] = v
        return out

    def pos(self, v: np.ndarray) -> np.ndarray:
        return np.maximum(v, 0.0)

    def abs(self, v: np.ndarray) -> np.ndarray:
        return np.abs(v)

    def copy(self, v: np.ndarray) -> np.ndarray:
        return v.copy()

    def zeros_like(self, v: np.ndarray) -> np.ndarray:
        return np.zeros_like(v)

    def dot(self, a: np.ndarray, b: np.ndarray) -> float:
        return float(np.dot(a, b))

    def norm_inf(self, v: np.ndarray) -> float:
        return float(np.max(np.abs(v))) if v.size else 0.0

    @contextlib.contextmanager
    def threads(self, n: int | None) -> Iterator[None]:
        """BLAS (dot, axpy) limited to ``n`` threads, 1 by default: the vector operations are
        memory-bound and scipy's sparse products run on one thread anyway, while an
        oversubscribed OpenBLAS pool can slow each call tenfold on a busy machine.
        """
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - threadpoolctl comes with scipy's stack
            yield
            return
        with threadpool_limits(limits=n or 1, user_api="blas"):
            yield


class TorchOps(ArrayOps):
    """torch float64 tensors and ``torch.sparse_csr_tensor`` matrices on one device."""

    name = "torch"

    def __init__(self, device: str = "cpu") -> None:
        try:
            import torch
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise BackendUnavailableError(
                "backend='torch' needs PyTorch: pip install torch"
            ) from exc
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise BackendUnavailableError("device='cuda' asked for, but torch sees no CUDA device")
        self.torch = torch
        self.device = device

    def asarray(self, a: np.ndarray) -> Any:
        arr = np.ascontiguousarray(a, dtype=np.float64)
        return self.torch.from_numpy(arr.copy()).to(self.device)

    def to_numpy(self, v: Any) -> np.ndarray:
        return np.array(v.detach().cpu().numpy(), dtype=np.float64)

    def sparse(self, A: sp.csr_matrix) -> Any:
        A = sp.csr_matrix(A, dtype=np.float64)
        t = self.torch
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return t.sparse_csr_tensor(
                t.from_numpy(A.indptr.astype(np.int64)),
                t.from_numpy(A.indices.astype(np.int64)),
                t.from_numpy(A.data.copy()),
                size=A.shape,
                dtype=t.float64,
                check_invariants=False,
            ).to(self.device)

    def matvec(self, A: Any, v: Any) -> Any:
        if A.shape[0] == 0 or A.shape[1] == 0:
            return self.torch.zeros(A.shape[0], dtype=self.torch.float64, device=self.device)
        return self.torch.mv(A, v)

    def matvec_add(self, A: Any, v: Any, out: Any) -> Any:
        return out.add_(self.matvec(A, v))

    def axpy(self, a: float, x: Any, y: Any) -> Any:
        return y.add_(x, alpha=a)

    def assign(self, out: Any, v: Any) -> Any:
        return out.copy_(v)

    def add(self, a: Any, b: Any, out: Any) -> Any:
        return self.torch.add(a, b, out=out)

    def sub(self, a: Any, b: Any, out: Any) -> Any:
        return self.torch.sub(a, b, out=out)

    def clip(self, v: Any, lo: Any, hi: Any, out: Any = None) -> Any:
        if lo is None and hi is None:
            return v.clone() if out is None else out.copy_(v)
        if isinstance(lo, float) and isinstance(hi, self.torch.Tensor):  # clamp takes both
            lo = self.torch.full_like(v, lo)  # bounds as numbers or both as tensors
        if isinstance(hi, float) and isinstance(lo, self.torch.Tensor):
            hi = self.torch.full_like(v, hi)
        return self.torch.clamp(v, min=lo, max=hi, out=out)

    def pos(self, v: Any) -> Any:
        return self.torch.clamp(v, min=0.0)

    def abs(self, v: Any) -> Any:
        return self.torch.abs(v)

    def copy(self, v: Any) -> Any:
        return v.clone()

    def zeros_like(self, v: Any) -> Any:
        return self.torch.zeros_like(v)

    def dot(self, a: Any, b: Any) -> float:
        return float(self.torch.dot(a, b)) if a.numel() else 0.0

    def dots(self, pairs: list[tuple[Any, Any]]) -> list[float]:
        t = self.torch
        vals = [t.dot(a, b) if a.numel() else t.zeros((), dtype=t.float64) for a, b in pairs]
        out: list[float] = t.stack([v.to(self.device) for v in vals]).tolist()
        return out

    def norm_inf(self, v: Any) -> float:
        return float(self.torch.max(self.torch.abs(v))) if v.numel() else 0.0

    @contextlib.contextmanager
    def threads(self, n: int | None) -> Iterator[None]:
        """``torch.set_num_threads(n)`` for the block (restored after); ``None`` keeps it."""
        if n is None:
            yield
            return
        old = self.torch.get_num_threads()
        self.torch.set_num_threads(int(n))
        try:
            yield
        finally:
            self.torch.set_num_threads(old)


def array_ops(backend: str = "numpy", device: str | None = None) -> ArrayOps:
    """The adapter for ``backend`` (``"numpy"`` or ``"torch"``) on ``device``.

    Parameters
    ----------
    backend
        ``"numpy"`` (scipy.sparse products) or ``"torch"``.
    device
        ``"cpu"`` or ``"cuda"`` (torch only); ``None`` means the CPU.

    Returns
    -------
    ArrayOps
        The adapter.

    Raises
    ------
    OptionError
        For an unknown backend, or a CUDA device with the numpy backend.
    BackendUnavailableError
        When torch (or its CUDA device) is not available.

    >>> array_ops("numpy").name
    'numpy'
    """
    if backend == "numpy":
        if device not in (None, "cpu"):
            raise OptionError(f"backend='numpy' runs on the CPU only, not device={device!r}")
        return NumpyOps()
    if backend == "torch":
        return TorchOps(device or "cpu")
    raise OptionError(f"unknown PDHG backend {backend!r} (valid choices: numpy, torch)")
