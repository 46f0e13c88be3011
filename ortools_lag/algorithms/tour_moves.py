"""Compiled 2-opt / Or-opt moves with neighbour lists and don't-look bits (optional Numba).

The vectorised :func:`~ortools_lag.algorithms.tour.local_search` evaluates every candidate move
of the tour in one numpy batch and applies the best one: ``O(n k)`` work per move, ``O(n^2 k)``
for a whole descent. The kernels here make first-improvement moves node by node instead, each
node's neighbourhood scanned along its ``k`` candidate list and the scan stopped as soon as the
new edge is no shorter than the one it replaces (the usual gain criterion); a node whose
neighbourhood holds no improving move is switched off (its *don't-look bit*) until one of its
tour edges changes. A pass then costs ``O(n k)`` in all and a descent close to ``O(n log n)``
on geometric instances; a 2-opt move reverses the shorter side of the tour.

- 2-opt: remove ``(a, succ a)`` and ``(c, succ c)``, add ``(a, c)`` and ``(succ a, succ c)``
  (and the same with predecessors);
- Or-opt: a run of 1 to 3 nodes starting or ending at ``a`` moves, either way round, next to a
  candidate neighbour of one of its ends.

:func:`iterated_descent` is the iterated local search: a double-bridge kick on two short runs
next to each other (a segment swap), descent from the 8 nodes it touches, kept when no longer.

The kernels are plain Python functions compiled by Numba when it is installed (the ``fast``
extra); :data:`HAVE_NUMBA` says which. Without Numba the callers use the numpy path.

>>> import numpy as np
>>> pts = np.array([[0, 0], [2, 0], [1, 0], [2, 1], [0, 1]], dtype=float)
>>> w = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
>>> nb = np.argsort(w, axis=1)[:, 1:].astype(np.int64)
>>> t = descend(w, np.arange(5), nb)
>>> round(float(w[t, np.roll(t, -1)].sum()), 6)
6.0
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["HAVE_NUMBA", "descend", "iterated_descent", "search_until"]

HAVE_NUMBA = importlib.util.find_spec("numba") is not None


def _jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``numba.njit(cache=True)`` when Numba is installed, else ``fn`` itself."""
    if not HAVE_NUMBA:
        return fn
    import numba

    return numba.njit(cache=True, nogil=True)(fn)  # type: ignore[no-any-return]


@_jit
def _reverse(tour: np.ndarray, pos: np.ndarray, i: int, j: int) -> None:
    """Reverse the cyclic run ``tour[i..j]`` (forward from ``i``) or, if shorter, its complement."""
    n = tour.size
    length = (j - i) % n + 1
    if 2 * length > n:  # reversing the complement gives the same cycle, mirrored
        i, j = (j + 1) % n, (i - 1) % n
        length = n - length
    for _ in range(length // 2):
        a, b = tour[i], tour[j]
        tour[i], tour[j] = b, a
        pos[b], pos[a] = i, j
        i = (i + 1) % n
        j = (j - 1) % n


@_jit
def _push(queue: np.ndarray, queued: np.ndarray, head_tail: np.ndarray, v: int) -> None:
    if queued[v]:
        return
    n = queue.size
    queue[head_tail[1] % n] = v
    head_tail[1] += 1
    queued[v] = True


@_jit
def _try_two_opt(w, tour, pos, nbrs, a, eps):  # type: ignore[no-untyped-def]
    """First improving 2-opt move at ``a``: returns its (negative) delta and 4 nodes, or 0."""
    n = tour.size
    for direction in range(2):
        pa = pos[a]
        b = tour[(pa + 1) % n] if direction == 0 else tour[(pa - 1) % n]
        wab = w[a, b]
        for q in range(nbrs.shape[1]):
            c = nbrs[a, q]
            wac = w[a, c]
            if wac >= wab - eps:
                break
            pc = pos[c]
            d = tour[(pc + 1) % n] if direction == 0 else tour[(pc - 1) % n]
            if c == b or d == a:
                continue
            delta = wac + w[b, d] - wab - w[c, d]
            if delta < -eps:
                if direction == 0:  # a b ... c d -> a c ... b d
                    _reverse(tour, pos, pos[b], pos[c])
                else:  # d c ... b a -> d b ... c a
                    _reverse(tour, pos, pos[c], pos[b])
                return delta, b, c, d
    return 0.0, -1, -1, -1


@_jit
def _move_run(tour, pos, buf, s, length, c, d, first):  # type: ignore[no-untyped-def]
    """Move the run of ``length`` nodes from position ``s`` between the adjacent ``c``, ``d``.

    ``first`` is the run's end placed next to ``c``. Rebuilds the tour in ``buf`` (``O(n)``).
    """
    n = tour.size
    k = 0
    start = (s + length) % n
    for step in range(n - length):
        e = tour[(start + step) % n]
        buf[k] = e
        k += 1
        nxt = tour[(start + step + 1) % n] if step + 1 < n - length else -1
        if e == c and nxt == d:
            fwd = first == tour[s]
            for r in range(length):
                buf[k] = tour[(s + r) % n] if fwd else tour[(s + length - 1 - r) % n]
                k += 1
        elif e == d and nxt == c:
            fwd = first != tour[s]
            for r in range(length):
                buf[k] = tour[(s + r) % n] if fwd else tour[(s + length - 1 - r) % n]
                k += 1
    for r in range(n):
        tour[r] = buf[r]
        pos[buf[r]] = r


@_jit
def _try_or_opt(w, tour, pos, nbrs, buf, a, eps, touched):  # type: ignore[no-untyped-def]
    """First improving Or-opt move of a run with end ``a``; touched nodes go to ``touched``."""
    n = tour.size
    for length in range(1, 4):
        if length > n - 3:
            break
        for side in range(2):  # run a..(forward) or (backward)..a
            s = pos[a] if side == 0 else (pos[a] - length + 1) % n
            e1, e2 = tour[s], tour[(s + length - 1) % n]
            p, nx = tour[(s - 1) % n], tour[(s + length) % n]
            gain = w[p, e1] + w[e2, nx] - w[p, nx]
            if gain <= eps:
                continue
            for end in range(2):
                x = e1 if end == 0 else e2
                y = e2 if end == 0 else e1
                for q in range(nbrs.shape[1]):
                    c = nbrs[x, q]
                    wxc = w[x, c]
                    if wxc >= gain - eps:
                        break
                    if (pos[c] - s) % n < length:
                        continue  # c inside the run
                    pc = pos[c]
                    for dside in range(2):
                        d = tour[(pc + 1) % n] if dside == 0 else tour[(pc - 1) % n]
                        if (pos[d] - s) % n < length:
                            continue
                        if (c == p and d == nx) or (c == nx and d == p):
                            continue
                        delta = wxc + w[y, d] - w[c, d] - gain
                        if delta < -eps:
                            touched[0], touched[1], touched[2] = p, nx, c
                            touched[3], touched[4], touched[5] = d, e1, e2
                            _move_run(tour, pos, buf, s, length, c, d, x)
                            return delta
    return 0.0


@_jit
def _descent(w, tour, pos, nbrs, queue, queued, head_tail, buf, eps, max_moves):  # type: ignore[no-untyped-def]
    """Run 2-opt / Or-opt from the queued nodes until the queue empties; total delta."""
    n = tour.size
    total = 0.0
    touched = np.empty(6, dtype=np.int64)
    moves = 0
    while head_tail[0] < head_tail[1] and moves < max_moves:
        a = queue[head_tail[0] % n]
        head_tail[0] += 1
        queued[a] = False
        while moves < max_moves:
            delta, b, c, d = _try_two_opt(w, tour, pos, nbrs, a, eps)
            if delta < 0.0:
                total += delta
                moves += 1
                _push(queue, queued, head_tail, b)
                _push(queue, queued, head_tail, c)
                _push(queue, queued, head_tail, d)
                continue
            delta = _try_or_opt(w, tour, pos, nbrs, buf, a, eps, touched)
            if delta < 0.0:
                total += delta
                moves += 1
                for r in range(6):
                    _push(queue, queued, head_tail, touched[r])
                continue
            break
    return total


@_jit
def _kicks(w, tour, pos, nbrs, runs, starts, eps, max_moves):  # type: ignore[no-untyped-def]
    """One segment-swap kick per row of ``runs`` (the two run lengths) and entry of ``starts``,
    each followed by a descent; a kick is kept when the tour is no longer."""
    n = tour.size
    queue = np.empty(n, dtype=np.int64)
    queued = np.zeros(n, dtype=np.bool_)
    head_tail = np.zeros(2, dtype=np.int64)
    buf = np.empty(n, dtype=np.int64)
    saved = tour.copy()
    gained = 0.0
    for kick in range(starts.size):
        l1, l2, i = runs[kick, 0], runs[kick, 1], starts[kick]
        # a B C d -> a C B d, B = tour[i+1 .. i+l1], C = tour[i+l1+1 .. i+l1+l2]
        a, b1 = tour[i], tour[(i + 1) % n]
        bl, c1 = tour[(i + l1) % n], tour[(i + l1 + 1) % n]
        cl, d = tour[(i + l1 + l2) % n], tour[(i + l1 + l2 + 1) % n]
        delta = w[a, c1] + w[cl, b1] + w[bl, d] - w[a, b1] - w[bl, c1] - w[cl, d]
        for r in range(n):
            saved[r] = tour[r]
        for r in range(l2):
            buf[r] = tour[(i + l1 + 1 + r) % n]
        for r in range(l1):
            buf[l2 + r] = tour[(i + 1 + r) % n]
        for r in range(l1 + l2):
            v = buf[r]
            tour[(i + 1 + r) % n] = v
            pos[v] = (i + 1 + r) % n
        for v in (a, b1, bl, c1, cl, d):
            _push(queue, queued, head_tail, v)
        delta += _descent(w, tour, pos, nbrs, queue, queued, head_tail, buf, eps, max_moves)
        if delta < -eps:
            gained += delta
        else:
            for r in range(n):
                tour[r] = saved[r]
                pos[saved[r]] = r
    return gained


def _prepare(
    weights: np.ndarray, tour: np.ndarray, neighbours: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    w = np.ascontiguousarray(weights, dtype=np.float64)
    t = np.array(tour, dtype=np.int64)
    pos = np.empty(t.size, dtype=np.int64)
    pos[t] = np.arange(t.size)
    return w, t, pos, np.ascontiguousarray(neighbours, dtype=np.int64)


def _eps(w: np.ndarray) -> float:
    return 1e-10 * max(1.0, float(np.abs(w).max()))


def descend(
    weights: np.ndarray,
    tour: np.ndarray,
    neighbours: np.ndarray,
    *,
    max_moves: int | None = None,
) -> np.ndarray:
    """2-opt / Or-opt descent with don't-look bits from every node; returns a new tour.

    Parameters
    ----------
    weights
        ``(n, n)`` symmetric weights.
    tour
        Start tour (not modified).
    neighbours
        ``(n, k)`` candidate lists, nearest first.
    max_moves
        Most moves (default ``100 n``).

    Returns
    -------
    numpy.ndarray
        A tour that no candidate 2-opt or Or-opt move shortens.
    """
    w, t, pos, nb = _prepare(weights, tour, neighbours)
    n = t.size
    queue = t.copy()
    queued = np.ones(n, dtype=np.bool_)
    head_tail = np.array([0, n], dtype=np.int64)
    cap = 100 * n if max_moves is None else int(max_moves)
    _descent(w, t, pos, nb, queue, queued, head_tail, np.empty(n, np.int64), _eps(w), cap)
    return t


def iterated_descent(
    weights: np.ndarray,
    tour: np.ndarray,
    neighbours: np.ndarray,
    *,
    kicks: int,
    seed: int = 0,
    max_run: int = 30,
) -> np.ndarray:
    """``kicks`` segment-swap kicks, each followed by :func:`descend` from the touched nodes.

    Parameters
    ----------
    weights
        ``(n, n)`` symmetric weights.
    tour
        Start tour (not modified); a kick is kept when the tour is no longer.
    neighbours
        ``(n, k)`` candidate lists, nearest first.
    kicks
        Number of kicks.
    seed
        Seed of the kicks (numpy's ``default_rng``).
    max_run
        Longest of the two swapped runs.

    Returns
    -------
    numpy.ndarray
        The tour after the kicks.
    """
    w, t, pos, nb = _prepare(weights, tour, neighbours)
    n = t.size
    if n < 8 or kicks <= 0:
        return t
    run = int(max(1, min(max_run, (n - 2) // 2)))
    rng = np.random.default_rng(seed)
    runs = rng.integers(1, run + 1, size=(int(kicks), 2))
    starts = rng.integers(0, n, size=int(kicks))
    _kicks(w, t, pos, nb, runs, starts, _eps(w), 100 * n)
    return t


def search_until(
    c: np.ndarray,
    tour: np.ndarray,
    cands: np.ndarray,
    kicks: int | None,
    seed: int | np.random.Generator | None,
    target: float,
    left: Callable[[], float | None],
) -> np.ndarray:
    """:func:`descend`, then :func:`iterated_descent` in chunks of kicks until ``kicks`` (default
    ``max(5000, 20 n)``) are spent, the tour's length reaches ``target`` or ``left()`` (the
    seconds left, ``None``: no limit) falls to 0."""
    n = c.shape[0]
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    total = max(5000, 20 * n) if kicks is None else int(kicks)
    tour = descend(c, tour, cands)
    chunk = max(100, min(total, 200_000 // max(n, 1) * 10))
    done = 0
    while done < total and float(c[tour, np.roll(tour, -1)].sum()) > target:
        remaining = left()
        if remaining is not None and remaining <= 0:
            break
        step = min(chunk, total - done)
        tour = iterated_descent(c, tour, cands, kicks=step, seed=int(rng.integers(2**31 - 1)))
        done += step
    return tour
