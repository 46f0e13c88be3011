"""Linear assignment with its dual prices: Bertsekas' auction and scipy's solver with duals.

Formulation (``n`` persons, ``m >= n`` objects, cost matrix ``c``)::

    min  sum_ij c_ij x_ij
    s.t. sum_j x_ij - 1 == 0     for each person i    (multiplier lambda_i, free)
         sum_i x_ij - 1 == 0     for each object j    (multiplier mu_j, free)   [n == m]
         sum_i x_ij - 1 <= 0     for each object j    (multiplier mu_j >= 0)    [n < m]
         x >= 0

In the project's convention ``L = c.x + sum_i lambda_i (sum_j x_ij - 1)
+ sum_j mu_j (sum_i x_ij - 1)``; the coefficient of ``x_ij`` is the reduced cost
``rc_ij = c_ij + lambda_i + mu_j``, which must be ``>= 0`` for every pair and ``= 0`` on the
matching, and the dual value is ``-sum_i lambda_i - sum_j mu_j``. (The textbook dual
``max sum u_i + sum v_j, u_i + v_j <= c_ij`` is the same with ``u = -lambda``, ``v = -mu``.)

Derivation of the auction's prices as these multipliers: the auction maximises the benefit
``a_ij = -c_ij``; object ``j`` has a price ``p_j`` and person ``i`` the profit
``pi_i = max_k (a_ik - p_k) = -min_k (c_ik + p_k)``. Then ``c_ij + pi_i + p_j
= (c_ij + p_j) - min_k (c_ik + p_k) >= 0`` for every pair, so ``lambda = pi`` (profits) and
``mu = p`` (prices) are dual feasible; **the prices are the multipliers of the "each object
once" rows**, the profits those of the "each person once" rows. The auction ends with
epsilon-complementary slackness, ``0 <= rc_{i, j(i)} <= eps`` on the matching, so the duality gap
is at most ``n eps``: below 1 for ``eps < 1/n``, which makes the matching optimal when the costs
are integers. :func:`assignment_duals` turns any optimal matching (and, optionally, such
prices) into exact multipliers by a shortest-path computation on the residual graph.

>>> import numpy as np
>>> c = np.array([[4.0, 1.0, 3.0], [2.0, 0.0, 5.0], [3.0, 2.0, 2.0]])
>>> r = linear_assignment(c)
>>> r.col_of_row.tolist(), r.cost, r.dual_value
([1, 0, 2], 5.0, 5.0)
>>> bool(np.all(c + r.person_multiplier[:, None] + r.object_multiplier >= 0))
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment

from ortools_lag.algorithms.assignment_kernels import kernels
from ortools_lag.errors import ModelError

__all__ = [
    "AssignmentResult",
    "assignment_duals",
    "auction",
    "check_assignment",
    "linear_assignment",
]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
_FEW = 16  # with at most this many bidders left, persons bid one at a time (Gauss-Seidel)


@dataclass(frozen=True, eq=False)
class AssignmentResult:
    """A matching with its multipliers.

    Attributes
    ----------
    col_of_row
        Object of each person.
    cost
        ``sum_i c[i, col_of_row[i]]``.
    person_multiplier
        ``lambda_i`` of ``sum_j x_ij - 1 == 0`` (the auction's person profits).
    object_multiplier
        ``mu_j`` of ``sum_i x_ij - 1 == 0`` (``<= 0`` when ``n < m``): the object prices.
    eps
        The complementary-slackness tolerance: ``0 <= rc <= eps`` on the matching (0: exact).
    iterations
        Jacobi rounds plus single bids (auction), or relaxation steps (dual recovery).
    """

    col_of_row: IntArray
    cost: float
    person_multiplier: FloatArray
    object_multiplier: FloatArray
    eps: float
    iterations: int

    @property
    def prices(self) -> FloatArray:
        """The object prices, i.e. ``object_multiplier``."""
        return self.object_multiplier

    @property
    def dual_value(self) -> float:
        """``-sum lambda - sum mu``: a lower bound on the optimum, ``>= cost - n eps``."""
        return -float(self.person_multiplier.sum()) - float(self.object_multiplier.sum()) + 0.0


def _cost_matrix(cost: ArrayLike, square: bool) -> FloatArray:
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] > c.shape[1] or (square and c.shape[0] != c.shape[1]):
        need = "square" if square else "(n, m) with n <= m"
        raise ModelError(f"the cost matrix must be {need}, got shape {c.shape}")
    if c.size and not (math.isfinite(float(c.min())) and math.isfinite(float(c.max()))):
        raise ModelError("the cost matrix must be finite")  # min and max finite: all are
    return c


def _integral(c: FloatArray) -> bool:
    """Whether every cost is an integer."""
    fast = kernels(c.size)
    if fast is not None:
        return bool(fast.integral(np.ascontiguousarray(c)))
    return bool(np.all(c == np.round(c)))


def _bid_round(
    c: FloatArray,
    p: FloatArray,
    eps: float,
    col: IntArray,
    owner: IntArray,
    bidders: IntArray,
) -> IntArray:
    """One Jacobi round: the unassigned ``bidders`` bid; each object takes its highest bid.

    A bid for the bidder's best object ``j`` (lowest ``c_ij + p_j``) raises ``p_j`` to
    ``w2 - c_ij + eps``, with ``w2`` the value of the second-best object. Returns the persons
    left unassigned (outbid owners and losing bidders).
    """
    n = c.shape[1]
    value = c[bidders]
    value += p  # cost-form value of each object to each bidder (lower is better)
    best = value.argmin(axis=1)
    flat = np.arange(bidders.size) * n + best
    own = value.ravel()[flat] - p[best]
    if n > 1:
        value.ravel()[flat] = np.inf
        bid = value.min(axis=1) - own + eps
    else:
        bid = p[best] + eps
    lost = bidders[:0]
    if bidders.size > 1:
        order = np.lexsort((-bid, best))
        won = np.ones(order.size, dtype=bool)
        won[1:] = best[order[1:]] != best[order[:-1]]
        lost = bidders[order[~won]]
        win = order[won]
        best, bidders, bid = best[win], bidders[win], bid[win]
    losers = owner[best]
    losers = losers[losers >= 0]
    col[losers] = -1
    owner[best] = bidders
    col[bidders] = best
    p[best] = bid
    return np.concatenate((losers, lost)) if lost.size else losers


def _bid_one(
    c: FloatArray, p: FloatArray, eps: float, col: IntArray, owner: IntArray, person: int
) -> int:
    """One person's bid (the same rule, for one bidder); returns the outbid owner or -1."""
    value = c[person] + p
    best = int(value.argmin())
    w1 = value[best]
    value[best] = np.inf
    p[best] += value.min() - w1 + eps
    loser = int(owner[best])
    owner[best] = person
    col[person] = best
    if loser >= 0:
        col[loser] = -1
    return loser


def _phase(c: FloatArray, p: FloatArray, eps: float, col: IntArray, owner: IntArray) -> int:
    """Bid until every person is assigned: compiled, one bid at a time (Gauss-Seidel); in
    numpy, Jacobi rounds while many persons are unassigned, then one bid at a time (a chain of
    outbid owners costs a few numpy calls per bid)."""
    fast = kernels(c.size)
    if fast is not None:
        return int(fast.bid_phase(c, p, eps, col, owner))
    bidders = np.flatnonzero(col < 0)
    rounds = 0
    while bidders.size > _FEW:
        bidders = _bid_round(c, p, eps, col, owner, bidders)
        rounds += 1
    queue = bidders.tolist()
    while queue:
        loser = _bid_one(c, p, eps, col, owner, queue.pop())
        rounds += 1
        if loser >= 0:
            queue.append(loser)
    return rounds


def _keep_eps_cs(c: FloatArray, p: FloatArray, eps: float, col: IntArray, owner: IntArray) -> None:
    """Unassign the persons whose object violates eps-complementary slackness."""
    fast = kernels(c.size)
    if fast is not None:
        fast.keep_eps_cs(c, p, eps, col, owner)
        return
    assigned = np.flatnonzero(col >= 0)
    reduced = c[assigned, col[assigned]] + p[col[assigned]]
    slack = reduced - (c[assigned] + p).min(axis=1)
    drop = assigned[slack > eps]
    owner[col[drop]] = -1
    col[drop] = -1


def auction(
    cost: ArrayLike,
    *,
    eps_final: float | None = None,
    factor: float = 10.0,
) -> AssignmentResult:
    """Bertsekas' forward auction with epsilon-scaling and vectorised Jacobi bidding.

    In each epsilon phase all unassigned persons bid at once (Jacobi rounds, one numpy pass over
    their rows, conflicts resolved by a sort) while more than 16 are unassigned; the last few
    then bid one at a time (Gauss-Seidel), which costs a few numpy calls per bid instead of a
    round. The first epsilon is the mean gap between the smallest and third-smallest cost of a
    row; between phases the persons whose object no longer meets eps-CS are unassigned.

    Parameters
    ----------
    cost
        Square ``(n, n)`` cost matrix, finite.
    eps_final
        The last phase's epsilon. Default: for integer costs, ``1/(n+1)`` (the matching is then
        optimal; costs are scaled by ``n + 1`` so that prices stay exact integers), else
        ``1e-9`` times the cost range (the gap is at most ``n * eps_final``).
    factor
        Epsilon is divided by this between phases.

    Returns
    -------
    AssignmentResult
        Prices ``mu = p`` (shifted so that the cheapest is 0) and profits
        ``lambda_i = -min_k (c_ik + p_k)``: dual feasible, with ``0 <= rc <= eps`` on the
        matching (the eps-CS certificate, ``eps`` = ``eps_final``).

    Examples
    --------
    >>> import numpy as np
    >>> r = auction(np.array([[4, 1, 3], [2, 0, 5], [3, 2, 2]]))
    >>> r.col_of_row.tolist(), r.cost, r.dual_value > r.cost - 1
    ([1, 0, 2], 5.0, True)
    """
    c0 = _cost_matrix(cost, square=True)
    n = c0.shape[0]
    if n <= 1:  # nothing to bid for
        lam = -c0[:, 0] if n else np.empty(0)
        return AssignmentResult(np.arange(n), float(c0.sum()), lam + 0.0, np.zeros(n), 0.0, 0)
    integral = _integral(c0)
    scale = float(n + 1) if integral and eps_final is None else 1.0
    c = c0 * scale
    span = float(c.max() - c.min())
    if eps_final is None:
        eps_final = 1.0 if integral else max(span, 1.0) * 1e-9
    else:
        eps_final = float(eps_final)
        if eps_final <= 0:
            raise ModelError(f"eps_final must be > 0, got {eps_final}")
    # The first epsilon: the mean gap between the smallest and third-smallest cost of a row
    # (measured better than a fraction of the cost range, on dense random costs of any range).
    fast = kernels(c.size)
    if fast is not None:
        gap = float(fast.mean_row_gap(c))
    else:
        near = np.partition(c, 2, axis=1)[:, :3] if n > 2 else np.sort(c, axis=1)
        gap = float(np.mean(near[:, -1] - near[:, 0]))
    eps = max(gap, eps_final)
    if scale > 1:
        eps = float(math.floor(eps))  # integer epsilons keep the (scaled) prices exact integers
    p = np.zeros(n)
    col = np.full(n, -1, dtype=np.int64)
    owner = np.full(n, -1, dtype=np.int64)
    rounds = 0
    while True:
        rounds += _phase(c, p, eps, col, owner)
        if eps <= eps_final:
            break
        eps = max(eps / factor, eps_final)
        if scale > 1:
            eps = float(math.floor(eps))
        _keep_eps_cs(c, p, eps, col, owner)
    mu = (p - p.min()) / scale  # prices are defined up to a constant: the cheapest is 0
    lam = -(fast.row_min_plus(c0, mu) if fast is not None else (c0 + mu).min(axis=1))
    total = float(c0[np.arange(n), col].sum())
    return AssignmentResult(col, total, lam, mu, eps_final / scale, rounds)


def assignment_duals(
    cost: ArrayLike,
    col_of_row: ArrayLike,
    *,
    object_multiplier: ArrayLike | None = None,
    validated: bool = False,
) -> tuple[FloatArray, FloatArray, int]:
    """Exact multipliers ``(lambda, mu, rounds)`` for an optimal matching.

    With ``v = -mu`` the object duals must satisfy ``v_k <= v_j(i) + c_ik - c_i,j(i)`` for every
    person ``i`` and object ``k``: shortest-path conditions on the residual graph whose arc
    ``j(i) -> k`` costs ``c_ik - c_i,j(i)``. A vectorised label-correcting search (each step
    relaxes, in one numpy operation, a batch of the rows whose object improved, smallest labels
    first) from ``v = min(0, -object_multiplier)`` finds them; then
    ``lambda_i = -c_i,j(i) - mu_j(i)``. Unmatched objects keep ``mu = 0`` (``n < m``).

    Parameters
    ----------
    cost
        ``(n, m)`` cost matrix, ``n <= m``.
    col_of_row
        An optimal matching (distinct objects).
    object_multiplier
        A warm start, e.g. auction prices (any values; only speed depends on them).
    validated
        ``cost`` is known to be a finite float64 ``(n, m)`` array, ``n <= m`` (no check).

    Raises
    ------
    ModelError
        If the matching is not a matching, or not optimal (a negative cycle).

    Examples
    --------
    >>> import numpy as np
    >>> lam, mu, _ = assignment_duals(np.array([[1.0, 3.0], [2.0, 9.0]]), [1, 0])
    >>> lam.tolist(), mu.tolist()
    ([-3.0, -4.0], [2.0, 0.0])
    """
    c = np.asarray(cost, dtype=np.float64) if validated else _cost_matrix(cost, square=False)
    n, m = c.shape
    col = np.asarray(col_of_row, dtype=np.int64)
    if col.shape != (n,) or np.any((col < 0) | (col >= m)) or np.unique(col).size != n:
        raise ModelError("col_of_row must give each person a distinct object")
    matched = c[np.arange(n), col]
    v = np.zeros(m)
    if object_multiplier is not None:
        v = np.minimum(v, -np.asarray(object_multiplier, dtype=np.float64))
        if _integral(c):
            v = np.floor(v)  # integer labels: exact integer duals for integer costs
        v[np.setdiff1d(np.arange(m), col)] = 0.0
    owner = np.full(m, -1, dtype=np.int64)
    owner[col] = np.arange(n)
    fast = kernels(c.size)
    if fast is not None:  # compiled FIFO label correcting, one row scan per step
        scans = int(fast.label_correct(np.ascontiguousarray(c), col, matched, owner, v))
        if scans < 0:
            raise ModelError("the matching is not optimal: the residual graph has a negative cycle")
        mu = -v
        return -matched - mu[col], mu + 0.0, scans
    dirty = np.ones(n, dtype=bool)  # persons whose object's v changed since their last scan
    batch = max(64, n // 8)
    rounds = scans = 0
    safeguard = False
    while True:
        rows = np.flatnonzero(dirty)
        if rows.size == 0:
            break
        if rows.size > batch:  # the smallest labels first, as in Dijkstra: fewer rescans
            rows = rows[np.argpartition(v[col[rows]], batch)[:batch]]
        dirty[rows] = False
        rounds += 1
        scans += rows.size
        if scans > n * n and not safeguard:  # from now on whole-frontier Bellman-Ford rounds:
            safeguard, batch, rounds = True, n, 0  # at most n + 1 unless a negative cycle
        if safeguard and rounds > n + 1:
            raise ModelError("the matching is not optimal: the residual graph has a negative cycle")
        cand = ((v[col[rows]] - matched[rows])[:, None] + c[rows]).min(axis=0)
        improved = np.flatnonzero(cand < v)
        v[improved] = cand[improved]
        touched = owner[improved]
        dirty[touched[touched >= 0]] = True
    mu = -v
    return -matched - mu[col], mu + 0.0, rounds


def linear_assignment(cost: ArrayLike, *, validated: bool = False) -> AssignmentResult:
    """Exact assignment by ``scipy.optimize.linear_sum_assignment`` with the dual prices recovered.

    Parameters
    ----------
    cost
        ``(n, m)`` cost matrix with ``n <= m``, finite. With ``n < m`` the object rows are
        ``sum_i x_ij <= 1`` and ``mu >= 0`` (0 on unused objects).
    validated
        The caller checked already that ``cost`` is a finite float64 ``(n, m)`` array with
        ``n <= m`` (a Problem's table): the check's passes over it are skipped.

    Returns
    -------
    AssignmentResult
        Exact multipliers (``eps = 0``), from :func:`assignment_duals`.

    Examples
    --------
    >>> import numpy as np
    >>> r = linear_assignment(np.array([[3.0, 1.0, 5.0], [2.0, 4.0, 6.0]]))
    >>> r.col_of_row.tolist(), r.cost, r.object_multiplier.tolist()
    ([1, 0], 3.0, [0.0, 0.0, 0.0])
    """
    c = np.asarray(cost, dtype=np.float64) if validated else _cost_matrix(cost, square=False)
    rows, cols = linear_sum_assignment(c)
    col = np.empty(c.shape[0], dtype=np.int64)
    col[rows] = cols
    lam, mu, rounds = assignment_duals(c, col, validated=validated)
    total = float(c[rows, cols].sum())
    return AssignmentResult(col, total, lam, mu, 0.0, rounds)


def check_assignment(
    cost: ArrayLike,
    col_of_row: ArrayLike,
    person_multiplier: ArrayLike,
    object_multiplier: ArrayLike,
) -> float:
    """Worst violation of the assignment certificate (0.0 when exact; ``<= eps`` for eps-CS).

    The largest of: dual infeasibility ``max(0, -rc_ij)`` over all pairs, with
    ``rc_ij = c_ij + lambda_i + mu_j``; complementary slackness ``|rc|`` on the matching; and,
    when ``n < m``, ``max(0, -mu_j)`` and ``|mu_j|`` on unused objects. ``inf`` if
    ``col_of_row`` is not a matching.

    Examples
    --------
    >>> check_assignment([[1.0, 3.0], [2.0, 9.0]], [1, 0], [-3.0, -4.0], [2.0, 0.0])
    0.0
    >>> check_assignment([[1.0, 3.0], [2.0, 9.0]], [1, 0], [-3.0, -2.0], [0.0, 0.0])
    2.0
    """
    c = np.asarray(cost, dtype=np.float64)
    n, m = c.shape
    col = np.asarray(col_of_row, dtype=np.int64)
    if col.shape != (n,) or np.any((col < 0) | (col >= m)) or np.unique(col).size != n:
        return math.inf
    lam = np.asarray(person_multiplier, dtype=np.float64)
    mu = np.asarray(object_multiplier, dtype=np.float64)
    fast = kernels(c.size)
    if fast is not None and c.size:  # the range of the reduced costs, the table not formed
        low = float(fast.table_range(np.ascontiguousarray(c), lam, mu)[0])
    else:
        low = float((c + lam[:, None] + mu).min(initial=0.0))
    worst = max(0.0, -low)
    matched = c[np.arange(n), col] + lam + mu[col]
    worst = max(worst, float(np.abs(matched).max(initial=0.0)))
    if n < m:
        unused = np.setdiff1d(np.arange(m), col)
        worst = max(worst, -float(mu.min()), float(np.abs(mu[unused]).max(initial=0.0)))
    return worst + 0.0
