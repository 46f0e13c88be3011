r"""Held–Karp 1-tree bound for the symmetric TSP: dense Prim, 1-trees, subgradient ascent.

The TSP on ``n`` nodes with weights :math:`c_{ij}`:

.. math::

    \min \sum_{i<j} c_{ij} x_{ij} \quad\text{s.t.}\quad
    \sum_j x_{ij} = 2 \;\; (i = 0..n-1), \quad x \text{ a 1-tree (connected, } n \text{ edges)}.

A 1-tree is a spanning tree on the nodes ``1..n-1`` plus two edges at the special node ``0``;
every tour is a 1-tree whose degrees are all 2. Relaxing the degree rows with node multipliers
:math:`\pi_i` (free: ``degree_i - 2 == 0`` is an equality, held as ``lhs - rhs == 0``) gives

.. math::

    L(\pi) = \min_{T \text{ 1-tree}} \sum_{(i,j) \in T} (c_{ij} + \pi_i + \pi_j) - 2 \sum_i \pi_i,

a lower bound on every tour for every :math:`\pi` (Held & Karp 1970, 1971). Its subgradient is
:math:`g_i = \deg_T(i) - 2`. :math:`\pi_i` is the *penalty of node i*: raising it makes the
node's edges dearer in the modified costs :math:`c_{ij} + \pi_i + \pi_j`, pushing a node of
degree > 2 out of the tree's favour. :math:`\max_\pi L(\pi)` equals the subtour-elimination LP
value. When the best 1-tree is a tour, it is optimal.

:func:`held_karp` maximises :math:`L` by subgradient steps, either the Polyak /
Held–Wolfe–Crowder rule :math:`t_k = \alpha_k (U - L(\pi_k)) / \lVert g_k \rVert^2` (``U`` the
length of the best tour known; ``alpha`` halved when the bound stalls) or the Volgenant–Jonker
(1982) schedule. :func:`solve_tsp` is the complete standalone solve: a tour heuristic
(:mod:`.tour`) for ``U``, the ascent, and an iterated local search on candidate lists built
from the modified costs.

>>> import numpy as np
>>> pts = np.array([[0, 0], [3, 0], [3, 4], [0, 4]], dtype=float)
>>> w = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
>>> res = solve_tsp(w)
>>> round(res.bound, 6), round(res.length, 6)
(14.0, 14.0)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ortools_lag.algorithms.one_tree_sparse import (
    CandidateGraph,
    OneTree,
    exact_one_tree,
    pi_nearest,
)
from ortools_lag.algorithms.progress import tick
from ortools_lag.algorithms.tour import (
    check_weights,
    improve_tour,
    nearest_neighbours,
    quick_tour,
    tour_length,
)

__all__ = [
    "HeldKarpResult",
    "OneTree",
    "TSPResult",
    "held_karp",
    "modified_costs",
    "one_tree",
    "prim_mst",
    "solve_tsp",
]

_DENSE_COLUMN_LIMIT = 400  # above this Prim masks visited nodes instead of blanking columns


@dataclass(frozen=True)
class HeldKarpResult:
    """Result of the subgradient ascent on the Held–Karp dual.

    Attributes
    ----------
    bound
        The best Lagrangian value found, ``L(multipliers)`` (unrounded).
    bound_int
        ``ceil(bound)`` when every weight is an integer (tour lengths are then integers),
        else ``bound``.
    multipliers
        ``(n,)`` node penalties ``pi`` of the degree rows at which ``bound`` was reached.
    tree
        The minimum 1-tree at ``multipliers``.
    iterations
        Number of 1-trees computed.
    history
        Per iteration: ``value`` (``L(pi_k)``), ``best_bound``, ``best_primal`` (the target
        ``U``) and ``step`` (``t_k``), each an ``(iterations,)`` array. On a candidate graph
        ``value`` is the graph's estimate and ``best_bound`` its running best capped at the
        exact final bound.
    converged
        ``True`` when the bound met the target (a tour, or ``bound_int >= U``).
    """

    bound: float
    bound_int: float
    multipliers: np.ndarray
    tree: OneTree
    iterations: int
    history: dict[str, np.ndarray]
    converged: bool


@dataclass(frozen=True)
class TSPResult:
    """Standalone Lagrangian solve of a symmetric TSP (see :func:`solve_tsp`).

    Attributes
    ----------
    bound, bound_int, multipliers, iterations, history
        As in :class:`HeldKarpResult` (``history['best_primal']`` is the tour length known).
    tour
        ``(n,)`` the best tour found, in visiting order.
    length
        Its length.
    gap
        ``(length - bound_int) / length``; 0 proves the tour optimal.
    seconds
        Wall-clock time of the solve.
    """

    bound: float
    bound_int: float
    multipliers: np.ndarray
    tour: np.ndarray
    length: float
    gap: float
    iterations: int
    history: dict[str, np.ndarray]
    seconds: float


def prim_mst(weights: np.ndarray) -> np.ndarray:
    """Minimum spanning tree of a dense graph by Prim's algorithm in ``O(n^2)``.

    Each of the ``n - 1`` steps is one vectorised pass over the nodes.

    Parameters
    ----------
    weights
        ``(n, n)`` symmetric finite weights (the diagonal is ignored).

    Returns
    -------
    numpy.ndarray
        ``parent`` of each node in the tree rooted at node 0 (``parent[0] = -1``).

    Examples
    --------
    >>> w = np.array([[0, 1, 4], [1, 0, 2], [4, 2, 0]], dtype=float)
    >>> prim_mst(w).tolist()
    [-1, 0, 1]
    """
    n = weights.shape[0]
    parent = np.zeros(n, dtype=np.int64)
    parent[0] = -1
    if n < 2:
        return parent
    if n > _DENSE_COLUMN_LIMIT:
        return _prim_masked(weights, parent)
    w = np.array(weights, dtype=np.float64)
    key = w[0].copy()
    w[:, 0] = np.inf
    key[0] = np.inf
    for _ in range(n - 1):
        v = int(key.argmin())
        key[v] = np.inf
        w[:, v] = np.inf  # v is in the tree: no row may lower its key again
        row = w[v]
        np.putmask(parent, row < key, v)
        np.minimum(key, row, out=key)
    return parent


def _prim_masked(weights: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Prim for large ``n``: a visited mask instead of blanking columns (row-major friendly)."""
    n = weights.shape[0]
    key = np.asarray(weights[0], dtype=np.float64).copy()
    done = np.zeros(n, dtype=bool)
    done[0] = True
    key[0] = np.inf
    better = np.empty(n, dtype=bool)
    for _ in range(n - 1):
        v = int(key.argmin())
        done[v] = True
        key[v] = np.inf
        row = weights[v]
        np.less(row, key, out=better)
        better &= ~done
        key[better] = row[better]
        parent[better] = v
    return parent


def modified_costs(weights: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """The Lagrangian costs ``c_ij + pi_i + pi_j``.

    Examples
    --------
    >>> modified_costs(np.zeros((2, 2)), np.array([1.0, 2.0])).tolist()
    [[2.0, 3.0], [3.0, 4.0]]
    """
    return weights + pi[:, None] + pi[None, :]


def one_tree(weights: np.ndarray, pi: np.ndarray | None = None) -> OneTree:
    """Minimum 1-tree under ``c_ij + pi_i + pi_j`` and the Lagrangian value ``L(pi)``.

    Parameters
    ----------
    weights
        ``(n, n)`` symmetric weights, ``n >= 3``.
    pi
        ``(n,)`` node penalties (default zeros).

    Returns
    -------
    OneTree

    Examples
    --------
    >>> w = np.array([[0, 1, 1, 2], [1, 0, 2, 1], [1, 2, 0, 1], [2, 1, 1, 0]], dtype=float)
    >>> t = one_tree(w)
    >>> t.value, t.is_tour
    (4.0, True)
    """
    c = np.asarray(weights, dtype=np.float64)
    n = c.shape[0]
    p = np.zeros(n) if pi is None else np.asarray(pi, dtype=np.float64)
    m = modified_costs(c, p)
    parent = prim_mst(m[1:, 1:]) + 1
    child = np.arange(2, n)
    ends = np.argpartition(m[0, 1:], 1)[:2] + 1
    edges = np.concatenate(
        [np.stack([child, parent[1:]], axis=1), np.stack([np.zeros(2, np.int64), ends], axis=1)]
    )
    cost = float(m[edges[:, 0], edges[:, 1]].sum())
    degree = np.bincount(edges.ravel(), minlength=n)
    return OneTree(
        edges=edges,
        degree=degree,
        cost=cost,
        value=cost - 2.0 * float(p.sum()),
        subgradient=(degree - 2).astype(np.float64),
    )


def _vj_step(t1: float, k: int, m: int) -> float:
    """Volgenant–Jonker step of iteration ``k`` (1-based) of ``m``: ``t1`` falling to 0."""
    if m < 3:
        return t1
    return t1 * (
        (k - 1) * (2 * m - 5) / (2 * (m - 1))
        - (k - 2)
        + (k - 1) * (k - 2) / (2 * (m - 1) * (m - 2))
    )


@dataclass
class _Ascent:
    """Mutable bookkeeping of one ascent (kept out of the frozen result)."""

    best: float
    best_pi: np.ndarray
    best_tree: OneTree
    target: float
    values: list[float]
    bests: list[float]
    steps: list[float]
    primals: list[float]
    violations: list[float] = field(default_factory=list)


def _integral(c: np.ndarray) -> bool:
    return bool(np.all(c == np.round(c)))


def _round_bound(bound: float, integral: bool) -> float:
    if not integral or not math.isfinite(bound):
        return bound
    return float(math.ceil(bound - 1e-9 * max(1.0, abs(bound))))


def _record(state: _Ascent, tree: OneTree, step: float) -> None:
    state.values.append(tree.value)
    state.bests.append(state.best)
    state.steps.append(step)
    state.primals.append(state.target)
    state.violations.append(float(np.linalg.norm(tree.subgradient)))  # degree rows: equalities
    tick(len(state.values), state.best, state.target)


def held_karp(
    weights: np.ndarray,
    *,
    upper_bound: float | None = None,
    pi0: np.ndarray | None = None,
    step_rule: str = "polyak",
    max_iter: int | None = None,
    alpha0: float = 1.0,
    alpha_min: float = 1.0 / 256.0,
    patience: int | None = None,
    candidates: int | None = 10,
    time_limit: float | None = None,
) -> HeldKarpResult:
    """Maximise the Held–Karp Lagrangian ``L(pi)`` by subgradient steps.

    Parameters
    ----------
    weights
        ``(n, n)`` symmetric weights, ``n >= 3``.
    upper_bound
        Length ``U`` of a known tour: the Polyak target, and the stopping test (``bound_int >= U``
        proves that tour optimal). Default: nearest neighbour + 2-opt/Or-opt.
    pi0
        Start multipliers (default zeros).
    step_rule
        ``"polyak"``: ``t = alpha (U - L) / |g|^2``, ``alpha`` from ``alpha0`` halved (and the
        ascent restarted at the best ``pi``) after ``patience`` steps without a better bound,
        stopping below ``alpha_min``. ``"volgenant_jonker"``: ``t_k`` falls along Volgenant and
        Jonker's quadratic schedule from ``t_1 = (U - L(pi0)) / |g_0|^2`` (the first Polyak
        step, which scales the schedule to the data) to 0 at ``max_iter``, along
        ``0.6 g_k + 0.4 g_{k-1}``.
    max_iter
        Most 1-trees to compute (default ``max(1000, 10 n)``).
    alpha0, alpha_min, patience
        Polyak rule settings (``patience`` default ``min(max(10, n // 2), 50)``).
    candidates
        Build the ascent's 1-trees on a candidate graph of this many nearest nodes per node
        plus the MST (:class:`~ortools_lag.algorithms.one_tree_sparse.CandidateGraph`);
        ``None`` (or ``>= n - 2``): dense Prim. Whenever the Polyak factor is halved, and at the
        end, the best bound is re-evaluated over all pairs (the exact ``L(pi)``, reported);
        the exact 1-tree's edges missing from the graph are added.
    time_limit
        Wall-clock seconds for the ascent (checked after every 1-tree; the final exact
        evaluation comes on top, ``O(n^2)``).

    Returns
    -------
    HeldKarpResult

    Examples
    --------
    >>> pts = np.array([[0, 0], [4, 0], [4, 3], [0, 3], [2, 5]], dtype=float)
    >>> w = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    >>> res = held_karp(w, upper_bound=17.0)
    >>> res.bound <= 17.0, res.tree.degree.sum() == 2 * 5
    (True, np.True_)
    """
    start = time.perf_counter()
    c = check_weights(weights)
    n = c.shape[0]
    if step_rule not in ("polyak", "volgenant_jonker"):
        from ortools_lag.errors import ModelError

        raise ModelError(f"unknown step_rule {step_rule!r} (valid: polyak, volgenant_jonker)")
    if upper_bound is None:
        upper_bound = tour_length(c, quick_tour(c))
    integral = _integral(c)
    max_iter = max(1000, 10 * n) if max_iter is None else int(max_iter)
    pi = np.zeros(n) if pi0 is None else np.array(pi0, dtype=np.float64)
    sparse = candidates is not None and candidates < n - 2
    graph = CandidateGraph.nearest(c, int(candidates)) if sparse else None  # type: ignore[arg-type]

    def tree_at(p: np.ndarray) -> OneTree:
        return graph.one_tree(p) if graph is not None else one_tree(c, p)

    tree = tree_at(pi)
    state = _Ascent(tree.value, pi.copy(), tree, float(upper_bound), [], [], [], [])
    settings = _Settings(
        step_rule,
        max_iter,
        alpha0,
        alpha_min,
        min(max(10, n // 2), 50) if patience is None else patience,
        integral,
        None if time_limit is None else start + float(time_limit),
        None if graph is None else _exact_check(c, graph),
    )
    _ascend(tree_at, tree, pi, state, settings)
    bests = np.asarray(state.bests)
    if graph is not None:
        exact = exact_one_tree(c, state.best_pi)
        state.best, state.best_tree = exact.value, exact
        # the graph's estimates, made monotone and capped at the exact final bound
        bests = np.minimum(np.maximum.accumulate(bests), exact.value)
        bests[-1] = exact.value
    return HeldKarpResult(
        bound=state.best,
        bound_int=_round_bound(state.best, integral),
        multipliers=state.best_pi,
        tree=state.best_tree,
        iterations=len(state.values),
        history={
            "value": np.asarray(state.values),
            "best_bound": bests,
            "best_primal": np.asarray(state.primals),
            "step": np.asarray(state.steps),
            "violation": np.asarray(state.violations),
        },
        converged=bool(
            state.best_tree.is_tour or _round_bound(state.best, integral) >= state.target
        ),
    )


@dataclass
class _Settings:
    """The step rule's settings of one :func:`held_karp` call."""

    step_rule: str
    max_iter: int
    alpha0: float
    alpha_min: float
    patience: int
    integral: bool
    deadline: float | None
    check: Callable[[_Ascent], None] | None = None

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline


def _exact_check(c: np.ndarray, graph: CandidateGraph) -> Callable[[_Ascent], None]:
    """Re-evaluate the best bound over all pairs; add the exact 1-tree's edges to the graph."""

    def check(state: _Ascent) -> None:
        exact = exact_one_tree(c, state.best_pi)
        if exact.value < state.best - 1e-9 * max(1.0, abs(state.best)):
            graph.add(np.concatenate([exact.edges, pi_nearest(c, state.best_pi, 5)]))
            state.best, state.best_tree = exact.value, exact

    return check


def _ascend(
    tree_at: Callable[[np.ndarray], OneTree],
    tree: OneTree,
    pi: np.ndarray,
    state: _Ascent,
    s: _Settings,
) -> None:
    """Subgradient steps from ``pi`` (whose 1-tree is ``tree``), recorded in ``state``."""
    alpha, since, prev_dir = s.alpha0, 0, np.zeros(pi.size)
    g0 = tree.subgradient
    t1 = max(state.target - tree.value, 0.0) / max(float(g0 @ g0), 1.0)
    for k in range(1, s.max_iter + 1):
        if k > 1:
            tree = tree_at(pi)
        improved = tree.value > state.best
        if improved:
            state.best, state.best_pi, state.best_tree = tree.value, pi.copy(), tree
        since = 0 if improved else since + 1
        if tree.is_tour:
            state.target = min(state.target, tree.value)
        done = tree.is_tour or _round_bound(state.best, s.integral) >= state.target
        if done and s.check is not None:  # a candidate graph's tree proves nothing by itself
            s.check(state)
            done = _round_bound(state.best, s.integral) >= state.target
            if not done and tree.is_tour:
                pi, tree = state.best_pi.copy(), state.best_tree
        g = tree.subgradient
        if s.step_rule == "polyak":
            if since >= s.patience:
                if s.check is not None:
                    s.check(state)
                alpha, since, pi = alpha / 2.0, 0, state.best_pi.copy()
            step = alpha * max(state.target - tree.value, 0.0) / max(float(g @ g), 1.0)
            direction = g
        else:
            direction = 0.6 * g + 0.4 * prev_dir
            step = _vj_step(t1, k, s.max_iter)
        _record(state, tree, step)
        if done or alpha < s.alpha_min or step <= 0.0 or s.out_of_time():
            break
        pi = pi + step * direction
        prev_dir = g


def _tree_tour(tree: OneTree) -> np.ndarray:
    """The node order of a 1-tree whose degrees are all 2."""
    n = tree.degree.size
    order = np.argsort(np.concatenate([tree.edges[:, 0], tree.edges[:, 1]]), kind="stable")
    other = np.concatenate([tree.edges[:, 1], tree.edges[:, 0]])[order].reshape(n, 2)
    tour = np.empty(n, dtype=np.int64)
    prev, cur = -1, 0
    for step in range(n):  # one walk around the cycle
        tour[step] = cur
        nxt = other[cur, 0] if other[cur, 0] != prev else other[cur, 1]
        prev, cur = cur, int(nxt)
    return tour


def solve_tsp(
    weights: np.ndarray,
    *,
    seed: int | np.random.Generator | None = 0,
    kicks: int | None = None,
    k: int = 8,
    step_rule: str = "polyak",
    max_iter: int | None = None,
    candidates: int | None = 10,
    time_limit: float | None = None,
) -> TSPResult:
    """Standalone Lagrangian solve of a symmetric TSP: Held–Karp bound and a heuristic tour.

    1. nearest-neighbour tour and 2-opt/Or-opt local search (:func:`~.tour.quick_tour`): the
       target ``U``;
    2. :func:`held_karp` ascent on the node penalties ``pi`` (on a candidate graph);
    3. unless the bound already proves the tour optimal, an iterated local search on candidate
       lists of the ``k`` nearest nodes under the modified costs ``c_ij + pi_i + pi_j``: the
       compiled one of :func:`~.tour_moves.iterated_descent` with Numba (the ``fast`` extra),
       else :func:`~ortools_lag.algorithms.tour.improve_tour`.

    Parameters
    ----------
    weights
        ``(n, n)`` symmetric weights, ``n >= 3``.
    seed
        Seed or generator of the local search's kicks.
    kicks
        Kicks of the iterated local search (default ``max(50, 2 n)``, ``max(5000, 20 n)`` with
        Numba, whose kicks are cheap; with Numba and a ``time_limit``, as many as it allows).
    k
        Candidate-list length.
    step_rule, max_iter, candidates
        Passed to :func:`held_karp`.
    time_limit
        Wall-clock seconds for the whole solve: the ascent gets up to 60 % of it and the
        iterated local search the rest (both checked as they go; the final exact ``O(n^2)``
        bound evaluation is not interrupted).

    Returns
    -------
    TSPResult

    Examples
    --------
    >>> w = np.array([[0, 3, 4, 2], [3, 0, 2, 4], [4, 2, 0, 3], [2, 4, 3, 0]])
    >>> res = solve_tsp(w)
    >>> res.length, res.bound_int, res.gap
    (10.0, 10.0, 0.0)
    """
    from ortools_lag.algorithms.tour_moves import HAVE_NUMBA, search_until

    start = time.perf_counter()
    c = check_weights(weights)
    n = c.shape[0]
    tour = quick_tour(c, k=10)
    length = tour_length(c, tour)
    hk = held_karp(
        c,
        upper_bound=length,
        step_rule=step_rule,
        max_iter=max_iter,
        candidates=candidates,
        time_limit=None if time_limit is None else 0.6 * time_limit,
    )
    if hk.tree.is_tour and hk.bound < length:
        tour = _tree_tour(hk.tree)
        length = tour_length(c, tour)

    def left() -> float | None:
        return None if time_limit is None else time_limit - (time.perf_counter() - start)

    remaining = left()
    if _round_bound(hk.bound, _integral(c)) < length and (remaining is None or remaining > 0):
        cands = nearest_neighbours(modified_costs(c, hk.multipliers), k)
        if HAVE_NUMBA:
            budget = 2**62 if kicks is None and time_limit is not None else kicks
            tour = search_until(c, tour, cands, budget, seed, hk.bound_int, left)
        else:
            tour = improve_tour(
                c,
                tour,
                kicks=max(50, 2 * n) if kicks is None else kicks,
                seed=seed,
                neighbours=cands,
                target=hk.bound_int,
                time_limit=left(),
            ).tour
        length = min(length, tour_length(c, tour))
    return TSPResult(
        bound=hk.bound,
        bound_int=hk.bound_int,
        multipliers=hk.multipliers,
        tour=tour,
        length=length,
        gap=max(0.0, (length - hk.bound_int) / abs(length)) if length else 0.0,
        iterations=hk.iterations,
        history=hk.history,
        seconds=time.perf_counter() - start,
    )
