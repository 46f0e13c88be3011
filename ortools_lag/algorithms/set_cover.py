r"""Set covering by Beasley's Lagrangian heuristic.

The problem, with ``A`` the ``m x n`` 0/1 matrix (``a_ij = 1``: column ``j`` covers row ``i``):

.. math::

    \min \sum_j c_j x_j \quad\text{s.t.}\quad \sum_j a_{ij} x_j \ge 1 \;(i = 1..m),
    \quad x \in \{0, 1\}^n.

Each covering row is held, in the project's convention, as ``1 - sum_j a_ij x_j <= 0`` and gets a
multiplier :math:`u_i \ge 0`. Relaxing all of them,

.. math::

    L(u) = \sum_i u_i + \sum_j \min(0, C_j), \qquad C_j = c_j - \sum_i a_{ij} u_i,

where :math:`C_j` is column ``j``'s *reduced (Lagrangian) cost* and the minimiser sets
:math:`x_j = 1` exactly when :math:`C_j < 0`. :math:`u_i` is the price of covering row ``i``:
the amount by which the optimal cost would rise per unit of extra cover demanded. ``L(u)`` is a
lower bound for every ``u >= 0``; its maximum equals the LP relaxation's value. The
subgradient is :math:`g_i = 1 - \sum_j a_{ij} x_j`.

:func:`solve_set_cover` (Beasley 1990, *Naval Research Logistics* 37) iterates: the relaxed
solution; a cover built from it (the relaxed columns, then greedy additions by cost per newly
covered row, then redundant columns dropped, dearest first); column fixing by reduced cost
(a column with :math:`L(u) + C_j` above the best cover cannot improve it and leaves the
heuristic's column set); and a projected subgradient step
:math:`u \leftarrow \max(0, u + f (1.05 Z_{UB} - L(u)) g / \lVert g \rVert^2)` with
:math:`g_i` set to 0 where :math:`u_i = 0` and :math:`g_i < 0`, and ``f`` halved whenever the
bound stalls.

>>> import numpy as np, scipy.sparse as sp
>>> a = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]]))
>>> res = solve_set_cover(np.array([1.0, 1.0, 1.0]), a)
>>> res.objective, round(res.bound, 3)
(2.0, 1.5)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ortools_lag.algorithms.progress import tick
from ortools_lag.errors import ModelError

__all__ = [
    "SetCoverRelaxation",
    "SetCoverResult",
    "core_columns",
    "greedy_cover",
    "initial_multipliers",
    "lagrangian_oracle",
    "remove_redundant",
    "solve_set_cover",
]


@dataclass(frozen=True)
class SetCoverRelaxation:
    """The Lagrangian subproblem's answer at ``u``.

    Attributes
    ----------
    value
        ``L(u)``, a lower bound on the optimal cover cost.
    x
        ``(n,)`` bool minimiser: ``C_j < 0``.
    subgradient
        ``(m,)`` ``1 - A x`` (the violation of each covering row ``1 - A x <= 0``).
    reduced_costs
        ``(n,)`` ``C = c - A^T u``.
    """

    value: float
    x: np.ndarray
    subgradient: np.ndarray
    reduced_costs: np.ndarray


@dataclass(frozen=True)
class SetCoverResult:
    """Result of :func:`solve_set_cover`.

    Attributes
    ----------
    bound
        The best ``L(u)`` found (re-evaluate with :func:`lagrangian_oracle` at ``multipliers``).
    bound_int
        ``ceil(bound)`` when every cost is an integer, else ``bound``.
    multipliers
        ``(m,)`` row prices ``u >= 0`` at which ``bound`` was reached.
    x
        ``(n,)`` bool: the best cover found.
    objective
        Its cost.
    gap
        ``(objective - bound_int) / objective``.
    iterations
        Lagrangian subproblems solved.
    history
        Per iteration: ``value``, ``best_bound``, ``best_primal``, ``step`` arrays.
    fixed_zero
        ``(n,)`` bool: columns that no cover cheaper than ``objective`` can use
        (``L(u) + C_j >= objective`` at the final multipliers).
    seconds
        Wall-clock time.
    """

    bound: float
    bound_int: float
    multipliers: np.ndarray
    x: np.ndarray
    objective: float
    gap: float
    iterations: int
    history: dict[str, np.ndarray]
    fixed_zero: np.ndarray
    seconds: float


def _check(costs: np.ndarray, matrix: sp.spmatrix) -> tuple[np.ndarray, sp.csr_matrix]:
    c = np.asarray(costs, dtype=np.float64)
    a = sp.csr_matrix(matrix, dtype=np.float64)
    if c.ndim != 1 or a.shape[1] != c.size:
        raise ModelError(f"costs of length {c.size} do not match a matrix of shape {a.shape}")
    if not np.isfinite(c).all() or (c < 0).any():
        raise ModelError("set-cover costs must be finite and non-negative")
    if (np.diff(a.indptr) == 0).any():
        row = int(np.argmax(np.diff(a.indptr) == 0))
        raise ModelError(f"row {row} is covered by no column: the instance is infeasible")
    a.data[:] = 1.0
    return c, a


def lagrangian_oracle(costs: np.ndarray, matrix: sp.spmatrix, u: np.ndarray) -> SetCoverRelaxation:
    """Solve the Lagrangian subproblem at ``u``.

    Parameters
    ----------
    costs
        ``(n,)`` column costs.
    matrix
        ``(m, n)`` 0/1 covering matrix.
    u
        ``(m,)`` multipliers ``>= 0`` of the rows ``1 - A x <= 0``.

    Returns
    -------
    SetCoverRelaxation

    Examples
    --------
    >>> a = sp.csr_matrix(np.array([[1, 1], [0, 1]]))
    >>> r = lagrangian_oracle(np.array([2.0, 3.0]), a, np.array([1.0, 1.5]))
    >>> r.value, r.x.tolist(), r.subgradient.tolist()
    (2.5, [False, False], [1.0, 1.0])
    """
    a = sp.csr_matrix(matrix, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    reduced = np.asarray(costs, dtype=np.float64) - a.T @ u
    x = reduced < 0
    value = float(u.sum() + reduced[x].sum())
    return SetCoverRelaxation(value, x, 1.0 - a @ x.astype(np.float64), reduced)


def initial_multipliers(costs: np.ndarray, matrix: sp.spmatrix) -> np.ndarray:
    """Beasley's start: ``u_i = min over columns j covering i of c_j / |rows of j|``.

    Examples
    --------
    >>> a = sp.csr_matrix(np.array([[1, 1], [0, 1]]))
    >>> initial_multipliers(np.array([2.0, 3.0]), a).tolist()
    [1.5, 1.5]
    """
    c, a = _check(costs, matrix)
    per_row = c / np.maximum(np.asarray(a.sum(axis=0)).ravel(), 1.0)
    scaled = a.multiply(per_row[None, :]).tocsr()
    big = per_row.max() + 1.0
    # minimum over each row's stored entries: shift so that the sparse max picks the minimum
    shifted = sp.csr_matrix((big - scaled.data, scaled.indices, scaled.indptr), shape=a.shape)
    return big - np.asarray(shifted.max(axis=1).todense()).ravel()


def _segments(indptr: np.ndarray, which: np.ndarray) -> np.ndarray:
    """Positions ``indptr[w] .. indptr[w + 1] - 1`` of the rows (columns) ``which``, joined."""
    starts = indptr[which]
    lens = indptr[which + 1] - starts
    if lens.sum() == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(lens) + lens, lens)
    return offsets + np.arange(int(lens.sum()))


def greedy_cover(
    costs: np.ndarray,
    matrix: sp.spmatrix,
    start: np.ndarray | None = None,
    *,
    allowed: np.ndarray | None = None,
    scores: np.ndarray | None = None,
) -> np.ndarray:
    """Complete ``start`` to a cover greedily, then drop redundant columns.

    Each step adds the allowed column of least cost per row it newly covers (Chvátal's rule);
    the cover is then passed through :func:`remove_redundant`.

    Parameters
    ----------
    costs
        ``(n,)`` column costs.
    matrix
        ``(m, n)`` 0/1 covering matrix.
    start
        ``(n,)`` bool columns to start from (default none).
    allowed
        ``(n,)`` bool columns the greedy step may add (default all). Rows that only
        forbidden columns cover are then covered from all columns.
    scores
        ``(n,)`` column weights of the greedy rule in place of ``costs`` (Lagrangian costs
        ``C_j``, say): the rule takes the least ``s_j / gain_j`` for ``s_j > 0`` and
        ``s_j * gain_j`` for ``s_j <= 0``. The redundancy pass still uses ``costs``.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` bool cover with no redundant column.

    Examples
    --------
    >>> a = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]]))
    >>> greedy_cover(np.array([1.0, 1.0, 3.0]), a).tolist()
    [True, True, False]
    """
    c, a = _check(costs, matrix)
    return _greedy(c, a, a.T.tocsr(), start, allowed, scores)


def _greedy(
    c: np.ndarray,
    a: sp.csr_matrix,
    at: sp.csr_matrix,
    start: np.ndarray | None,
    allowed: np.ndarray | None,
    scores: np.ndarray | None,
) -> np.ndarray:
    """:func:`greedy_cover` on checked data, with the transpose ``at`` (CSR of ``A^T``) given.

    Each step looks only at the columns that cover a still uncovered row.
    """
    n = c.size
    x = np.zeros(n, dtype=bool) if start is None else np.array(start, dtype=bool)
    ok = np.ones(n, dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool)
    w = c if scores is None else np.asarray(scores, dtype=np.float64)
    uncovered = (a @ x.astype(np.float64)) == 0
    while uncovered.any():  # one column per step
        counts = np.bincount(a.indices[_segments(a.indptr, np.flatnonzero(uncovered))], minlength=n)
        cand = np.flatnonzero(counts)
        gain = counts[cand]
        usable = ok[cand]
        if usable.any():
            cand, gain = cand[usable], gain[usable]
        wc = w[cand]
        j = int(cand[np.argmin(np.where(wc > 0, wc / gain, wc * gain))])
        x[j] = True
        uncovered[at.indices[at.indptr[j] : at.indptr[j + 1]]] = False
    return _drop_redundant(c, a, at, x)


def remove_redundant(costs: np.ndarray, matrix: sp.spmatrix, x: np.ndarray) -> np.ndarray:
    """Drop columns of a cover whose rows stay covered without them, dearest first.

    Examples
    --------
    >>> a = sp.csr_matrix(np.array([[1, 1], [0, 1]]))
    >>> remove_redundant(np.array([1.0, 2.0]), a, np.array([True, True])).tolist()
    [False, True]
    """
    c, a = _check(costs, matrix)
    return _drop_redundant(c, a, a.T.tocsr(), np.array(x, dtype=bool))


def _drop_redundant(
    c: np.ndarray, a: sp.csr_matrix, at: sp.csr_matrix, x: np.ndarray
) -> np.ndarray:
    """Remove redundant columns of ``x`` (in place), dearest first.

    A column that is the only cover of one of its rows stays for good (removals only lower
    the counts), so only the others are visited, one at a time in decreasing cost.
    """
    count = a @ x.astype(np.float64)
    chosen = np.flatnonzero(x)
    if chosen.size == 0:
        return x
    lens = at.indptr[chosen + 1] - at.indptr[chosen]
    seg = _segments(at.indptr, chosen)
    least = np.full(chosen.size, np.inf)
    has = lens > 0
    if seg.size:
        firsts = np.concatenate([[0], np.cumsum(lens)[:-1]])[has]
        least[has] = np.minimum.reduceat(count[at.indices[seg]], firsts)
    maybe = chosen[least >= 2]
    for j in maybe[np.argsort(-c[maybe], kind="stable")]:  # sequential by nature
        rows = at.indices[at.indptr[j] : at.indptr[j + 1]]
        if rows.size == 0 or count[rows].min() >= 2:
            x[j] = False
            count[rows] -= 1
    return x


def _round_bound(bound: float, integral: bool) -> float:
    if not integral or not math.isfinite(bound):
        return bound
    return float(math.ceil(bound - 1e-9 * max(1.0, abs(bound))))


@dataclass
class _Track:
    """Mutable bookkeeping of one run."""

    best: float
    best_u: np.ndarray
    x: np.ndarray
    objective: float
    values: list[float]
    bests: list[float]
    primals: list[float]
    steps: list[float]
    violations: list[float] = field(default_factory=list)


def _improve_cover(
    data: tuple[np.ndarray, sp.csr_matrix, sp.csr_matrix],
    relax: SetCoverRelaxation,
    track: _Track,
    allowed: np.ndarray,
) -> None:
    """Covers from the relaxed columns (allowed ones), by costs and by Lagrangian costs."""
    c, a, at = data
    for scores in (None, relax.reduced_costs):
        cover = _greedy(c, a, at, relax.x & allowed, allowed, scores)
        cost = float(c[cover].sum())
        if cost < track.objective:
            track.x, track.objective = cover, cost


def _ascent(
    data: tuple[np.ndarray, sp.csr_matrix, sp.csr_matrix],
    track: _Track,
    u: np.ndarray,
    opts: dict[str, float],
    core: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Beasley's subgradient phase; returns the columns still allowed after fixing, and the
    last core (all columns without ``core``)."""
    c, a, _ = data
    allowed = np.ones(c.size, dtype=bool)
    idx = np.arange(c.size)
    sub = data
    f, since = opts["f0"], 0
    for it in range(int(opts["max_iter"])):
        relax = lagrangian_oracle(c, a, u)
        if core is not None and it % int(opts["core_every"]) == 0:
            keep = (core_columns(a, relax.reduced_costs, core) & allowed) | track.x
            idx = np.flatnonzero(keep)
            sub = _sub(data, idx)
        improved = relax.value > track.best
        if improved:
            track.best, track.best_u = relax.value, u.copy()
        since = 0 if improved else since + 1
        if since >= opts["patience"]:
            f, since = f / 2.0, 0
        if improved or it % int(opts["heuristic_every"]) == 0:
            if core is None:
                _improve_cover(data, relax, track, allowed)
            else:
                _improve_in_core(sub, idx, relax, track)
            # column fixing: a column with L + C_j >= Z_UB cannot be in a cheaper cover
            allowed &= relax.value + relax.reduced_costs < track.objective
        g = relax.subgradient.copy()
        g[(u <= 0.0) & (g < 0.0)] = 0.0
        norm = float(g @ g)
        gap = opts["target_factor"] * track.objective - relax.value
        step = 0.0 if norm == 0 else f * gap / norm
        track.values.append(relax.value)
        track.bests.append(track.best)
        track.primals.append(track.objective)
        track.steps.append(step)
        track.violations.append(float(np.sqrt(norm)))  # cover rows 1 - A x > 0 with u > 0
        tick(len(track.values), track.best, track.objective)
        if track.best >= track.objective - 1e-9 * abs(track.objective) or f < opts["f_min"]:
            break
        if time.perf_counter() >= opts.get("deadline", math.inf):
            break
        if norm == 0:
            break
        u = np.maximum(u + step * g, 0.0)
    return allowed, idx


def _destroy(
    a: sp.csr_matrix, at: sp.csr_matrix, x: np.ndarray, rng: np.random.Generator, it: int
) -> np.ndarray:
    """Columns of ``x`` to drop: a random 30%, or most of those near a random row."""
    cols = np.flatnonzero(x)
    if it % 2 == 0:
        return cols[rng.random(cols.size) < 0.3]
    row = int(rng.integers(a.shape[0]))
    near_cols = a.indices[a.indptr[row] : a.indptr[row + 1]]
    near_rows = at.indices[_segments(at.indptr, near_cols)]
    touched = np.zeros(x.size, dtype=bool)
    touched[a.indices[_segments(a.indptr, np.unique(near_rows))]] = True
    drop = cols[touched[cols]]
    return drop[rng.random(drop.size) < 0.6]


def _large_neighbourhood(
    data: tuple[np.ndarray, sp.csr_matrix, sp.csr_matrix],
    track: _Track,
    allowed: np.ndarray,
    rounds: int,
    rng: np.random.Generator,
    floor: float,
    deadline: float = math.inf,
) -> None:
    """Ruin-and-recreate on the best cover: drop columns, re-cover greedily with noisy scores."""
    c, a, at = data
    reduced = lagrangian_oracle(c, a, track.best_u).reduced_costs
    current, current_cost = track.x.copy(), track.objective
    for it in range(rounds):
        if track.objective <= floor or time.perf_counter() >= deadline:
            return
        start = current.copy()
        start[_destroy(a, at, current, rng, it)] = False
        noise = rng.uniform(0.8, 1.2, c.size)
        scores = np.where(reduced > 0, reduced * noise, reduced / noise) if it % 2 else c * noise
        cover = _greedy(c, a, at, start, allowed, scores)
        cost = float(c[cover].sum())
        if cost <= current_cost:
            current, current_cost = cover, cost
        if cost < track.objective:
            track.x, track.objective = cover.copy(), cost


def core_columns(matrix: sp.csr_matrix, reduced: np.ndarray, per_row: int) -> np.ndarray:
    """The ``per_row`` columns of least reduced cost in each row, as an ``(n,)`` bool mask.

    Examples
    --------
    >>> a = sp.csr_matrix(np.array([[1, 1, 1], [0, 1, 1]]))
    >>> core_columns(a, np.array([3.0, 1.0, 2.0]), 1).tolist()
    [False, True, False]
    """
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    order = np.lexsort((reduced[matrix.indices], rows))
    rank = np.arange(order.size) - matrix.indptr[rows[order]]
    keep = np.zeros(matrix.shape[1], dtype=bool)
    keep[matrix.indices[order[rank < per_row]]] = True
    return keep


def _sub(
    data: tuple[np.ndarray, sp.csr_matrix, sp.csr_matrix], idx: np.ndarray
) -> tuple[np.ndarray, sp.csr_matrix, sp.csr_matrix]:
    c, a, at = data
    sub_a = a[:, idx].tocsr()
    return c[idx], sub_a, sub_a.T.tocsr()


def _improve_in_core(
    sub: tuple[np.ndarray, sp.csr_matrix, sp.csr_matrix],
    idx: np.ndarray,
    relax: SetCoverRelaxation,
    track: _Track,
) -> None:
    """:func:`_improve_cover` restricted to the core columns ``idx`` (their sub-matrix ``sub``)."""
    c, a, at = sub
    for scores in (None, relax.reduced_costs[idx]):
        cover = _greedy(c, a, at, relax.x[idx], None, scores)
        cost = float(c[cover].sum())
        if cost < track.objective:
            track.x = np.zeros(relax.x.size, dtype=bool)
            track.x[idx[cover]] = True
            track.objective = cost


def solve_set_cover(
    costs: np.ndarray,
    matrix: sp.spmatrix,
    *,
    max_iter: int = 3000,
    f0: float = 2.0,
    f_min: float = 0.005,
    patience: int = 30,
    target_factor: float = 1.05,
    heuristic_every: int = 10,
    lns_rounds: int = 600,
    seed: int | np.random.Generator | None = 0,
    u0: np.ndarray | None = None,
    core: int | None = 5,
    core_above: int = 20_000,
    core_every: int = 50,
    time_limit: float | None = None,
) -> SetCoverResult:
    """Beasley's Lagrangian heuristic, then a large-neighbourhood search on the best cover.

    Parameters
    ----------
    costs
        ``(n,)`` non-negative column costs.
    matrix
        ``(m, n)`` 0/1 covering matrix (every row covered by some column).
    max_iter
        Most subproblems to solve.
    f0, f_min, patience
        Step factor: starts at ``f0``, halved after ``patience`` steps without a better bound;
        the ascent stops below ``f_min`` (or when the bound meets the best cover).
    target_factor
        The step aims at ``target_factor`` times the best cover's cost.
    heuristic_every
        Build covers from the relaxed solution every this many iterations (and whenever the
        bound improves).
    lns_rounds
        Ruin-and-recreate rounds after the ascent (0: none); they stop early once the cover
        meets the rounded bound.
    seed
        Seed or generator of the ruin-and-recreate rounds.
    u0
        Start multipliers (default :func:`initial_multipliers`).
    core, core_above, core_every
        With more than ``core_above`` columns (and ``core`` not ``None``), the covers are
        built on a core: the ``core`` columns of least reduced cost per row
        (:func:`core_columns`) not fixed to 0, plus the best cover's, re-chosen every
        ``core_every`` subproblems (the subproblem itself, a sparse product, stays over all
        columns, so every bound is exact). Reduced-cost fixing (``L(u) + C_j >=`` the best
        cover) prunes the heuristic's columns in either case.
    time_limit
        Wall-clock seconds (checked after every subproblem and ruin-and-recreate round).

    Returns
    -------
    SetCoverResult

    Examples
    --------
    >>> a = sp.csr_matrix(np.array([[1, 0, 1], [1, 1, 0], [0, 1, 1], [1, 1, 1]]))
    >>> res = solve_set_cover(np.array([2.0, 2.0, 3.0]), a)
    >>> res.x.tolist(), res.objective, res.gap
    ([True, True, False], 4.0, 0.0)
    """
    start = time.perf_counter()
    deadline = math.inf if time_limit is None else start + float(time_limit)
    c, a = _check(costs, matrix)
    data = (c, a, a.T.tocsr())
    integral = bool(np.all(c == np.round(c)))
    u = initial_multipliers(c, a) if u0 is None else np.maximum(np.asarray(u0, float), 0.0)
    cover = _greedy(c, a, data[2], None, None, None)
    track = _Track(-np.inf, u.copy(), cover, float(c[cover].sum()), [], [], [], [])
    opts = {
        "max_iter": max_iter,
        "f0": f0,
        "f_min": f_min,
        "patience": patience,
        "target_factor": target_factor,
        "heuristic_every": heuristic_every,
        "deadline": deadline,
        "core_every": core_every,
    }
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    use_core = core if core is not None and c.size > core_above else None
    allowed, idx = _ascent(data, track, u, opts, use_core)
    bound_int = _round_bound(track.best, integral)
    if use_core is None:
        _large_neighbourhood(data, track, allowed, lns_rounds, rng, bound_int, deadline)
    else:
        keep = np.zeros(c.size, dtype=bool)
        keep[idx] = True
        idx = np.flatnonzero((keep & allowed) | track.x)
        part = _Track(track.best, track.best_u, track.x[idx], track.objective, [], [], [], [])
        _large_neighbourhood(
            _sub(data, idx), part, np.ones(idx.size, bool), lns_rounds, rng, bound_int, deadline
        )
        if part.objective < track.objective:
            track.x = np.zeros(c.size, dtype=bool)
            track.x[idx[part.x]] = True
            track.objective = part.objective
    final = lagrangian_oracle(c, a, track.best_u)
    return SetCoverResult(
        bound=track.best,
        bound_int=bound_int,
        multipliers=track.best_u,
        x=track.x,
        objective=track.objective,
        gap=max(0.0, (track.objective - bound_int) / track.objective) if track.objective else 0.0,
        iterations=len(track.values),
        history={
            "value": np.asarray(track.values),
            "best_bound": np.asarray(track.bests),
            "best_primal": np.asarray(track.primals),
            "step": np.asarray(track.steps),
            "violation": np.asarray(track.violations),
        },
        fixed_zero=final.value + final.reduced_costs >= track.objective,
        seconds=time.perf_counter() - start,
    )
