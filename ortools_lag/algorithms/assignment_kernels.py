"""Compiled loops of the assignment algorithms (numba, the optional ``fast`` extra).

The auction's bids and the label-correcting recovery of exact prices are loops whose steps each
read one row of the cost matrix: numpy pays a few calls per step, a compiled loop a few
nanoseconds per entry. :func:`kernels` compiles them on first use when numba is installed
(``pip install ortools-lag[fast]``) and returns ``None`` otherwise; the callers in
:mod:`ortools_lag.algorithms.assignment` then run their vectorised numpy path, the same
algorithms with the same results. :func:`use_numba` switches the compiled path off (tests run
both paths).

>>> previous = use_numba(False)
>>> kernels() is None
True
>>> _ = use_numba(previous)
"""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any

__all__ = ["kernels", "use_numba"]

_ENABLED = {"numba": True}


def use_numba(enabled: bool) -> bool:
    """Allow (``True``) or forbid the compiled kernels; returns the previous setting."""
    previous = _ENABLED["numba"]
    _ENABLED["numba"] = bool(enabled)
    return previous


#: Below this many cost entries a call does not load numba (about a second, once per process,
#: from its on-disk cache): the numpy path is as fast there. Once loaded, every size uses it.
LOAD_AT = 40_000


def kernels(size: int | None = None) -> Any:
    """The compiled kernels (a namespace), or ``None`` without numba or when switched off.

    ``size``: the number of cost entries of the call; a small one gets ``None`` (the numpy
    path) until the kernels are loaded by a large one (or by ``kernels()``).
    """
    if not _ENABLED["numba"]:
        return None
    if size is not None and size < LOAD_AT and _compile.cache_info().currsize == 0:
        return None
    return _compile()


@functools.cache
def _compile() -> Any:
    try:
        import numba
    except ImportError:
        return None
    import numpy as np

    jit = numba.njit(cache=True, nogil=True)

    @jit
    def bid_phase(c, p, eps, col, owner):  # type: ignore[no-untyped-def]
        """Gauss-Seidel bidding until every person holds an object; returns the bids.

        The unassigned persons bid one at a time (a stack): person ``i`` takes its object
        ``j`` of least ``c_ij + p_j`` and raises ``p_j`` by the gap to its second best plus
        ``eps``; the outbid owner goes back on the stack."""
        n = c.shape[0]
        stack = np.empty(n, dtype=np.int64)
        top = 0
        for i in range(n - 1, -1, -1):
            if col[i] < 0:
                stack[top] = i
                top += 1
        bids = 0
        while top > 0:
            top -= 1
            i = stack[top]
            best = np.inf
            second = np.inf
            bj = 0
            for j in range(c.shape[1]):
                v = c[i, j] + p[j]
                if v < best:
                    second = best
                    best = v
                    bj = j
                elif v < second:
                    second = v
            if second == np.inf:  # one object: any raise keeps eps-CS
                second = best
            p[bj] += second - best + eps
            old = owner[bj]
            owner[bj] = i
            col[i] = bj
            if old >= 0:
                col[old] = -1
                stack[top] = old
                top += 1
            bids += 1
        return bids

    @jit
    def keep_eps_cs(c, p, eps, col, owner):  # type: ignore[no-untyped-def]
        """Unassign the persons whose object is more than ``eps`` above their best."""
        for i in range(c.shape[0]):
            j = col[i]
            if j < 0:
                continue
            best = np.inf
            for k in range(c.shape[1]):
                v = c[i, k] + p[k]
                if v < best:
                    best = v
            if c[i, j] + p[j] - best > eps:
                owner[j] = -1
                col[i] = -1

    @jit
    def label_correct(c, col, matched, owner, v):  # type: ignore[no-untyped-def]
        """Label correcting on the residual graph (arc ``j(i) -> k`` of cost
        ``c_ik - c_i,j(i)``) from the labels ``v``, a deque whose front takes a label below
        the front's (smallest label first); returns the scans, or -1 when a person is
        scanned more than ``n + 1`` times (a negative cycle: the matching is not optimal)."""
        n, m = c.shape
        queue = np.empty(n, dtype=np.int64)
        queued = np.ones(n, dtype=np.bool_)
        count = np.zeros(n, dtype=np.int64)
        for i in range(n):
            queue[i] = i
        head = 0
        size = n
        scans = 0
        while size > 0:
            i = queue[head]
            head = head + 1 if head + 1 < n else 0
            size -= 1
            queued[i] = False
            count[i] += 1
            if count[i] > n + 1:
                return -1
            scans += 1
            base = v[col[i]] - matched[i]
            for k in range(m):
                cand = base + c[i, k]
                if cand < v[k]:
                    v[k] = cand
                    o = owner[k]
                    if o >= 0 and not queued[o]:
                        queued[o] = True
                        if size > 0 and cand < v[col[queue[head]]]:  # smallest label first
                            head = head - 1 if head > 0 else n - 1
                            queue[head] = o
                        else:
                            tail = head + size
                            queue[tail - n if tail >= n else tail] = o
                        size += 1
        return scans

    @jit
    def integral(c):  # type: ignore[no-untyped-def]
        """Whether every entry is an integer (stops at the first that is not)."""
        flat = c.ravel()
        for k in range(flat.size):
            if flat[k] != np.floor(flat[k]):
                return False
        return True

    @jit
    def mean_row_gap(c):  # type: ignore[no-untyped-def]
        """The mean over the rows of (third smallest - smallest) entry (second with 2 columns)."""
        n, m = c.shape
        total = 0.0
        for i in range(n):
            a = np.inf
            b = np.inf
            d = np.inf
            for j in range(m):
                v = c[i, j]
                if v < a:
                    d = b
                    b = a
                    a = v
                elif v < b:
                    d = b
                    b = v
                elif v < d:
                    d = v
            total += (d if m > 2 else b) - a
        return total / n

    @jit
    def row_min_plus(c, p):  # type: ignore[no-untyped-def]
        """``min_j (c_ij + p_j)`` for each row."""
        n, m = c.shape
        out = np.empty(n)
        for i in range(n):
            best = np.inf
            for j in range(m):
                v = c[i, j] + p[j]
                if v < best:
                    best = v
            out[i] = best
        return out

    @jit
    def table_range(c, lam, mu):  # type: ignore[no-untyped-def]
        """``(min, max)`` of ``c_ij + lam_i + mu_j``, the table not formed."""
        lo = np.inf
        hi = -np.inf
        for i in range(c.shape[0]):
            for j in range(c.shape[1]):
                v = c[i, j] + lam[i] + mu[j]
                lo = min(lo, v)
                hi = max(hi, v)
        return lo, hi

    return SimpleNamespace(
        table_range=table_range,
        bid_phase=bid_phase,
        keep_eps_cs=keep_eps_cs,
        label_correct=label_correct,
        integral=integral,
        mean_row_gap=mean_row_gap,
        row_min_plus=row_min_plus,
    )
