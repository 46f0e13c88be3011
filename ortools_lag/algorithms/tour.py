"""Tour heuristics for the symmetric TSP: a start tour, 2-opt and Or-opt, iterated local search.

The tour is an array of the ``n`` nodes in visiting order (the edge from the last node back to
the first closes it); its length is ``sum(w[t[k], t[k+1]])`` over ``k`` with ``t[n] = t[0]``.

- :func:`nearest_neighbor_tour` starts anywhere and goes to the closest unvisited node;
- :func:`local_search` applies, until neither improves, the best of the 2-opt moves (remove two
  edges, reconnect by reversing the path between them) and the Or-opt moves (take a run of 1 to 3
  consecutive nodes out and put it, either way round, between two adjacent nodes elsewhere). Both
  neighbourhoods are scanned by candidate (neighbour) lists: the new edge next to a node goes to
  one of its ``k`` nearest nodes. Every candidate move of a pass is evaluated at once with numpy;
  with ``k = n - 1`` the neighbourhoods are complete;
- :func:`improve_tour` is an iterated local search: a random double-bridge kick in a window of
  the tour, local search, and the result kept when it is no longer;
- :func:`heuristic_tour` chains the three.

The upper bound these give is the one the Held–Karp subgradient (:mod:`.one_tree`) aims at.

>>> import numpy as np
>>> pts = np.array([[0, 0], [2, 0], [1, 0], [2, 1], [0, 1]], dtype=float)
>>> w = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
>>> res = heuristic_tour(w, seed=0)
>>> round(res.length, 6)
6.0
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ortools_lag.errors import ModelError

__all__ = [
    "TourResult",
    "check_weights",
    "heuristic_tour",
    "improve_tour",
    "local_search",
    "nearest_neighbor_tour",
    "nearest_neighbours",
    "quick_tour",
    "tour_length",
]


@dataclass(frozen=True)
class TourResult:
    """A tour and its length.

    Attributes
    ----------
    tour
        ``(n,)`` nodes in visiting order.
    length
        Its length under the weights given.
    history
        Length of the best tour after the start, after local search and after each kick.
    """

    tour: np.ndarray
    length: float
    history: np.ndarray


def check_weights(weights: np.ndarray, *, symmetric: bool = True) -> np.ndarray:
    """Validate a dense weight matrix and return it as ``float64``.

    Raises
    ------
    ModelError
        Not square, fewer than 3 nodes, not finite, or not symmetric when ``symmetric``.

    Examples
    --------
    >>> check_weights(np.ones((3, 3))).dtype
    dtype('float64')
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ModelError(f"weights must be a square matrix, got shape {w.shape}")
    if w.shape[0] < 3:
        raise ModelError(f"a tour needs at least 3 nodes, got {w.shape[0]}")
    if not np.isfinite(w).all():
        raise ModelError("weights must be finite")
    if symmetric and not np.allclose(w, w.T, rtol=1e-12, atol=1e-12):
        raise ModelError("weights must be symmetric (a symmetric TSP)")
    return w


def tour_length(weights: np.ndarray, tour: np.ndarray) -> float:
    """Length of the closed tour ``tour`` under ``weights``.

    Examples
    --------
    >>> tour_length(np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]]), np.array([0, 1, 2]))
    6.0
    """
    t = np.asarray(tour)
    return float(np.asarray(weights)[t, np.roll(t, -1)].sum())


def nearest_neighbours(weights: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` nearest other nodes of each node, nearest first, as an ``(n, k)`` array.

    Examples
    --------
    >>> w = np.array([[0, 5, 1], [5, 0, 2], [1, 2, 0]])
    >>> nearest_neighbours(w, 1).ravel().tolist()
    [2, 2, 0]
    """
    w = np.array(weights, dtype=np.float64)
    n = w.shape[0]
    k = int(min(max(k, 1), n - 1))
    np.fill_diagonal(w, np.inf)
    part = np.argpartition(w, k - 1, axis=1)[:, :k] if k < n - 1 else np.argsort(w, axis=1)
    part = part[:, :k]
    order = np.argsort(np.take_along_axis(w, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def nearest_neighbor_tour(weights: np.ndarray, start: int = 0) -> np.ndarray:
    """Nearest-neighbour tour from ``start``.

    Examples
    --------
    >>> w = np.array([[0, 1, 9, 2], [1, 0, 3, 9], [9, 3, 0, 4], [2, 9, 4, 0]])
    >>> nearest_neighbor_tour(w).tolist()
    [0, 1, 2, 3]
    """
    w = np.asarray(weights, dtype=np.float64)
    n = w.shape[0]
    tour = np.empty(n, dtype=np.int64)
    dist = np.empty(n)
    visited = np.zeros(n, dtype=bool)
    current = int(start)
    for step in range(n):
        tour[step] = current
        visited[current] = True
        np.copyto(dist, w[current])
        dist[visited] = np.inf
        current = int(np.argmin(dist))
    return tour


@dataclass
class _Ctx:
    """Tour-independent data of a local search: flat weights, candidate lists, their weights."""

    wf: np.ndarray  # w[a, b] == wf[a * n + b]
    nbrs: np.ndarray  # (n, k) candidates
    wnb: np.ndarray  # (n, k) w[a, nbrs[a]]
    n: int


@dataclass
class _State:
    """Tour-dependent data of one pass: successor, predecessor and the edges to them."""

    tour: np.ndarray
    pos: np.ndarray
    succ: np.ndarray
    pred: np.ndarray
    esucc: np.ndarray  # w[a, succ a]
    epred: np.ndarray  # w[pred a, a]


def _state(ctx: _Ctx, tour: np.ndarray, pos: np.ndarray) -> _State:
    n = ctx.n
    succ = tour[(pos + 1) % n]
    pred = tour[(pos - 1) % n]
    esucc = ctx.wf.take(np.arange(n) * n + succ)
    return _State(tour, pos, succ, pred, esucc, esucc[pred])


def _best_two_opt(ctx: _Ctx, st: _State) -> tuple[float, int, int]:
    """Best 2-opt move by candidate lists: (delta, i, j) reversing ``tour[i+1 : j+1]``."""
    n, c = ctx.n, ctx.nbrs
    a = np.arange(n)[:, None]
    # successor form: remove (a, succ a), (c, succ c); add (a, c), (succ a, succ c)
    sa, sc = st.succ[:, None], st.succ[c]
    d_succ = ctx.wnb + ctx.wf.take(sa * n + sc) - st.esucc[:, None] - st.esucc[c]
    np.putmask(d_succ, (c == sa) | (sc == a), np.inf)
    # predecessor form: remove (pred a, a), (pred c, c); add (a, c), (pred a, pred c)
    pa, pc = st.pred[:, None], st.pred[c]
    d_pred = ctx.wnb + ctx.wf.take(pa * n + pc) - st.epred[:, None] - st.epred[c]
    np.putmask(d_pred, (c == pa) | (pc == a), np.inf)
    k_s, k_p = int(np.argmin(d_succ)), int(np.argmin(d_pred))
    if d_succ.flat[k_s] <= d_pred.flat[k_p]:
        r, q = divmod(k_s, c.shape[1])
        x, y, delta = r, int(c[r, q]), float(d_succ.flat[k_s])
    else:
        r, q = divmod(k_p, c.shape[1])
        x, y, delta = int(st.pred[r]), int(pc[r, q]), float(d_pred.flat[k_p])
    i, j = sorted((int(st.pos[x]), int(st.pos[y])))
    return delta, i, j


def _best_or_opt(
    ctx: _Ctx, st: _State, max_seg: int
) -> tuple[float, tuple[int, int, int, int, int]]:
    """Best Or-opt move: (delta, (start, seg, end, c, side)).

    A run ``tour[start : start + seg]`` (cyclic) is moved so that its end ``e`` (``end`` 0:
    first node, 1: last node) is next to a candidate neighbour ``c`` of ``e``: on ``side`` 0
    between ``c`` and its successor, on side 1 between its predecessor and ``c``. All runs of
    1..``max_seg`` nodes, both ends and both sides are evaluated in one batch, indexed by the
    position ``i`` of ``e`` (the run is ``i .. i+seg-1`` or ``i-seg+1 .. i``).
    """
    n, wf, tour = ctx.n, ctx.wf, st.tour
    idx = np.arange(n)
    segs = np.arange(1, max_seg + 1)[:, None]  # (S, 1)
    fwd, bwd = (idx + segs - 1) % n, (idx - segs + 1) % n  # (S, n)
    c = ctx.nbrs[tour]  # (n, k): candidates of the node at each position
    r = (st.pos[c] - idx[:, None]) % n  # position of c after i, cyclically
    ahead, behind = tour[fwd], tour[bwd]  # the other end of runs starting / ending at i
    p0, q1 = st.pred[tour], st.succ[tour]
    q0, p1 = st.succ[ahead], st.pred[behind]
    run_removal = st.epred[tour] + st.esucc[ahead] - wf.take(p0 * n + q0)  # runs from i
    removal = np.stack([run_removal, run_removal[np.arange(max_seg)[:, None], bwd]])
    base = ctx.wnb[tour] - removal[..., None]  # (2, S, n, k)
    o_n = np.stack([ahead, behind])[..., None] * n
    after = base + wf.take(o_n + st.succ[c]) - st.esucc[c]
    before = base + wf.take(o_n + st.pred[c]) - st.epred[c]
    s3 = segs[:, :, None]
    in0, in1 = r < s3, r > n - s3  # c inside the run (S, n, k)
    bad_after = np.stack([in0 | (c == p0[:, None]), in1 | (c == p1[..., None])])
    bad_before = np.stack([in0 | (c == q0[..., None]), in1 | (c == q1[:, None])])
    np.putmask(after, bad_after, np.inf)
    np.putmask(before, bad_before, np.inf)
    k_a, k_b = int(np.argmin(after)), int(np.argmin(before))
    side, k, delta = (0, k_a, after) if after.flat[k_a] <= before.flat[k_b] else (1, k_b, before)
    end, s_idx, i, j = (int(v) for v in np.unravel_index(k, delta.shape))
    start = i if end == 0 else (i - s_idx) % n
    return float(delta.flat[k]), (start, s_idx + 1, end, int(c[i, j]), side)


def _apply_or_opt(tour: np.ndarray, pos: np.ndarray, move: tuple[int, int, int, int, int]) -> None:
    """Apply an Or-opt move in place (``tour`` and ``pos``)."""
    start, seg, end, c, side = move
    n = tour.size
    rolled = np.roll(tour, -start)
    run, rest = rolled[:seg], rolled[seg:]
    where = int(pos[c] - start - seg) % n
    forward = side == end
    run = run if forward else run[::-1]
    cut = where + 1 if side == 0 else where
    tour[:] = np.concatenate([rest[:cut], run, rest[cut:]])
    pos[tour] = np.arange(n)


def local_search(
    weights: np.ndarray,
    tour: np.ndarray,
    *,
    neighbours: np.ndarray | None = None,
    k: int = 10,
    max_segment: int = 3,
    max_moves: int | None = None,
) -> np.ndarray:
    """2-opt + Or-opt best-improvement local search by candidate lists.

    Parameters
    ----------
    weights
        ``(n, n)`` symmetric weights.
    tour
        Start tour (not modified).
    neighbours
        ``(n, k)`` candidate lists; default :func:`nearest_neighbours` of ``weights``.
    k
        Candidate-list length when ``neighbours`` is not given (``n - 1``: complete).
    max_segment
        Longest run Or-opt moves.
    max_moves
        Stop after this many moves (default: ``50 * n``).

    Returns
    -------
    numpy.ndarray
        A tour that no 2-opt or Or-opt candidate move shortens.

    Examples
    --------
    >>> w = np.array([[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]], dtype=float)
    >>> tour_length(w, local_search(w, np.array([0, 2, 1, 3])))
    4.0
    """
    w = np.asarray(weights, dtype=np.float64)
    nbrs = nearest_neighbours(w, k) if neighbours is None else np.asarray(neighbours)
    t = np.array(tour, dtype=np.int64)
    n = t.size
    ctx = _Ctx(np.ascontiguousarray(w).ravel(), nbrs, np.take_along_axis(w, nbrs, axis=1), n)
    max_segment = min(max_segment, n - 3)
    pos = np.empty(n, dtype=np.int64)
    pos[t] = np.arange(n)
    eps = 1e-10 * max(1.0, float(np.abs(w).max()))
    for _ in range(50 * n if max_moves is None else max_moves):
        st = _state(ctx, t, pos)
        d2, i, j = _best_two_opt(ctx, st)
        d3, move = _best_or_opt(ctx, st, max_segment) if max_segment > 0 else (np.inf, None)
        if min(d2, d3) >= -eps:
            break
        if d2 <= d3 or move is None:
            t[i + 1 : j + 1] = t[i + 1 : j + 1][::-1]
            pos[t[i + 1 : j + 1]] = np.arange(i + 1, j + 1)
        else:
            _apply_or_opt(t, pos, move)
    return t


def quick_tour(
    weights: np.ndarray, *, neighbours: np.ndarray | None = None, k: int = 10
) -> np.ndarray:
    """Nearest-neighbour tour improved by 2-opt / Or-opt on candidate lists.

    With Numba installed (the ``fast`` extra) the descent is the compiled first-improvement one
    with don't-look bits (:func:`~ortools_lag.algorithms.tour_moves.descend`, near
    ``O(n log n)``); otherwise the vectorised :func:`local_search`.

    Examples
    --------
    >>> w = np.array([[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]], dtype=float)
    >>> tour_length(w, quick_tour(w))
    4.0
    """
    from ortools_lag.algorithms.tour_moves import HAVE_NUMBA, descend

    w = np.asarray(weights, dtype=np.float64)
    nbrs = nearest_neighbours(w, k) if neighbours is None else np.asarray(neighbours)
    start = nearest_neighbor_tour(w)
    if HAVE_NUMBA:
        return descend(w, start, nbrs)
    return local_search(w, start, neighbours=nbrs)


def _double_bridge(tour: np.ndarray, rng: np.random.Generator, window: int) -> np.ndarray:
    """Double-bridge kick ``A B C D -> A C B D`` with the three cuts inside a window."""
    n = tour.size
    span = int(min(n - 1, window))
    a, b, c = np.sort(rng.choice(np.arange(1, span + 1), size=3, replace=False))
    r = np.roll(tour, -int(rng.integers(n)))
    return np.concatenate([r[:a], r[b:c], r[a:b], r[c:]])


def improve_tour(
    weights: np.ndarray,
    tour: np.ndarray,
    *,
    kicks: int = 100,
    seed: int | np.random.Generator | None = 0,
    neighbours: np.ndarray | None = None,
    k: int = 10,
    window: int = 50,
    target: float | None = None,
    time_limit: float | None = None,
) -> TourResult:
    """Iterated local search: double-bridge kicks, each followed by :func:`local_search`.

    Parameters
    ----------
    weights
        ``(n, n)`` symmetric weights.
    tour
        Start tour.
    kicks
        Number of kicks.
    seed
        Seed or generator of the kicks.
    neighbours, k
        Candidate lists (see :func:`local_search`).
    window
        The three cuts of a kick fall within this many consecutive positions.
    target
        Stop as soon as a tour this short is found (a lower bound, say).
    time_limit
        Stop kicking after this many seconds (checked after each kick).

    Returns
    -------
    TourResult
        The best tour; ``history`` holds the best length after the first local search and
        after each kick.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> pts = rng.random((30, 2))
    >>> w = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    >>> res = improve_tour(w, np.arange(30), kicks=20)
    >>> res.length <= tour_length(w, np.arange(30))
    True
    """
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    w = check_weights(weights)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    nbrs = nearest_neighbours(w, k) if neighbours is None else np.asarray(neighbours)
    best = local_search(w, tour, neighbours=nbrs)
    best_len = tour_length(w, best)
    history = [best_len]
    for _ in range(kicks if w.shape[0] >= 8 else 0):
        if target is not None and best_len <= target:
            break
        if deadline is not None and time.perf_counter() >= deadline:
            break
        cand = local_search(w, _double_bridge(best, rng, window), neighbours=nbrs)
        length = tour_length(w, cand)
        if length <= best_len:
            best, best_len = cand, length
        history.append(best_len)
    return TourResult(tour=best, length=best_len, history=np.asarray(history))


def heuristic_tour(
    weights: np.ndarray,
    *,
    kicks: int | None = None,
    seed: int | np.random.Generator | None = 0,
    k: int = 10,
    neighbours: np.ndarray | None = None,
    start: int = 0,
) -> TourResult:
    """Nearest-neighbour start, then :func:`improve_tour`.

    Parameters
    ----------
    weights
        ``(n, n)`` symmetric weights.
    kicks
        Kicks of the iterated local search (default ``max(50, 2 n)``).
    seed
        Seed or generator of the kicks.
    k, neighbours
        Candidate lists (see :func:`local_search`).
    start
        First node of the nearest-neighbour tour.

    Returns
    -------
    TourResult

    Examples
    --------
    >>> w = np.array([[0, 1, 9, 2], [1, 0, 3, 9], [9, 3, 0, 4], [2, 9, 4, 0]])
    >>> heuristic_tour(w).length
    10.0
    """
    w = check_weights(weights)
    n = w.shape[0]
    start_tour = nearest_neighbor_tour(w, start)
    res = improve_tour(
        w,
        start_tour,
        kicks=max(50, 2 * n) if kicks is None else kicks,
        seed=seed,
        neighbours=neighbours,
        k=k,
    )
    history = np.concatenate([[tour_length(w, start_tour)], res.history])
    return TourResult(tour=res.tour, length=res.length, history=history)
