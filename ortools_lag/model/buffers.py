"""Reused numpy buffers for the large arrays of the expression graph's numpy path.

A fresh large numpy array is fresh memory: glibc hands blocks of a few MiB back to the kernel
when they are freed (heap trimming) and the next pass takes them again page by page, one page
fault per 4 KiB. On the benchmark MLP (``benchmarks/bench_adjoint.py``) that was ~2600 faults
and ~8 ms of system time per gradient, a quarter of the gradient. :func:`empty` returns instead
a cached buffer that nothing references any more — its reference count shows that only the
cache holds it (a view, a tensor sharing its memory, any container keeps it alive and in use) —
and caches new buffers up to a per-thread budget (:func:`set_budget`, :func:`clear`). Arrays
under ``MIN_BYTES`` come from malloc's free lists as usual. The values are those of
``np.empty``: undefined until written. Used for the outputs of matrix products and elementwise
kernels (``functions.py``, ``elementwise.py``).

>>> a = empty((512, 512))
>>> a.shape, a.dtype.name
((512, 512), 'float64')
>>> b = empty((512, 512))  # ``a`` is still held: another buffer
>>> b is a
False
>>> del a, b
>>> c = empty((512, 512))  # a cached buffer again, with no new pages
>>> c.shape
(512, 512)
"""

from __future__ import annotations

import math
import sys
import threading
from typing import Any

import numpy as np

__all__ = ["MIN_BYTES", "clear", "empty", "set_budget"]

#: Smaller arrays are allocated as usual.
MIN_BYTES = 1 << 20


class _Cache(threading.local):
    """One thread's buffers and budget (buffers never move between threads' caches)."""

    budget = 128 << 20  # bytes a thread's cache may hold

    def __init__(self) -> None:
        self.buffers: list[np.ndarray] = []


_cache = _Cache()


def _refs(buffers: list[Any], i: int) -> int:
    return sys.getrefcount(buffers[i])


# references to an entry that only the list holds, as ``_refs`` counts them (calibrated, since
# interpreters differ in counting the argument of ``sys.getrefcount``)
_FREE = _refs([object()], 0)


def empty(shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
    """An uninitialised C-contiguous array, from the cache when a free buffer fits.

    Parameters
    ----------
    shape, dtype
        As for ``np.empty``.
    """
    dt = np.dtype(dtype)
    shape = tuple(int(s) for s in shape)
    nbytes = math.prod(shape) * dt.itemsize
    if nbytes < MIN_BYTES or nbytes > _cache.budget:
        return np.empty(shape, dt)
    bufs = _cache.buffers
    spare = -1
    for i in range(len(bufs)):
        if _refs(bufs, i) == _FREE:
            if bufs[i].shape == shape and bufs[i].dtype == dt:
                return bufs[i]
            spare = i
    out = np.empty(shape, dt)
    held = sum(b.nbytes for b in bufs)
    if spare >= 0 and held - bufs[spare].nbytes + nbytes <= _cache.budget:
        bufs[spare] = out  # a free buffer of another shape makes room
    elif held + nbytes <= _cache.budget:
        bufs.append(out)
    return out


def set_budget(nbytes: int) -> None:
    """Bytes of buffers the calling thread may keep for reuse (0: none; default 128 MiB).

    >>> set_budget(64 << 20); set_budget(128 << 20)
    """
    _cache.budget = max(0, int(nbytes))
    if nbytes <= 0:
        clear()


def clear() -> None:
    """Drop the calling thread's cached buffers (arrays still in use stay valid).

    >>> clear()
    """
    _cache.buffers = []
