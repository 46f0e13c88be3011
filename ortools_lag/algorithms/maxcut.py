"""Max-cut and the Ising spin glass: exact enumeration, eigenvalue and SDP bounds, GW rounding.

Max-cut of a graph with symmetric weights ``w`` (zero diagonal), spins ``s in {-1, +1}^n``::

    max  cut(s) = sum_{i<j} w_ij (1 - s_i s_j) / 2  =  s' L s / 4,     L = diag(w 1) - w.

Ising energy with couplings ``J`` and fields ``h``:
``E(s) = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i``. With ``h = 0`` and ``J = -w``,
``cut(s) = (sum_{i<j} w_ij - E(s)) / 2``: ground states are maximum cuts, and ``s``, ``-s``
are two ground states of one cut.

Lagrangian bound: relax ``s_i^2 = 1`` (held as ``s_i^2 - 1 == 0`` in the min form of ``-cut``) with
free multipliers ``u_i``; ``min_s -s' L s / 4 + sum_i u_i (s_i^2 - 1)`` is finite only when
``diag(u) - L/4`` is positive semidefinite, and then equals ``-sum(u)``. So every ``u`` with
``diag(u) ⪰ L/4`` certifies ``cut <= sum(u)``; ``u_i`` is the price of vertex ``i``'s unit-norm
constraint. The choice ``u = lambda_max(L/4 + diag(t)) - t`` (``sum t = 0``) gives the eigenvalue
bound ``n lambda_max(L/4 + diag(t))`` (Delorme & Poljak 1993; ``t = 0``: ``n lambda_max(L) / 4``);
the best ``u`` is the SDP bound ``max <L/4, X>, diag(X) = 1, X ⪰ 0`` (solved with cvxpy), whose
``X`` feeds Goemans–Williamson hyperplane rounding (seeded), finished by one-flip local search.

>>> import numpy as np
>>> w = np.ones((3, 3)) - np.eye(3)          # a triangle
>>> enumerate_maxcut(w).value, enumerate_maxcut(w).count
(2.0, 3)
>>> round(eigenvalue_bound(w), 6)
2.25
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ortools_lag.algorithms.dual_bundle import DualTrace, maximize_dual
from ortools_lag.errors import ModelError

__all__ = [
    "IsingEnumeration",
    "MaxCutEnumeration",
    "MaxCutResult",
    "SDPBound",
    "cut_values",
    "eigenvalue_bound",
    "eigenvalue_dual",
    "enumerate_ising",
    "enumerate_maxcut",
    "goemans_williamson",
    "ising_energies",
    "laplacian",
    "one_flip_local_search",
    "sdp_bound",
    "solve_maxcut",
    "weights_from_couplings",
    "weights_from_graph",
]

log = logging.getLogger(__name__)

#: Largest ``n`` that :func:`enumerate_ising` accepts (2**(n-1) patterns).
MAX_ENUMERATION_N = 24


def _symmetric(a: ArrayLike, what: str) -> np.ndarray:
    m = np.asarray(a, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ModelError(f"{what} must be a square matrix, got shape {m.shape}")
    if not np.all(np.isfinite(m)) or not np.allclose(m, m.T, atol=1e-12):
        raise ModelError(f"{what} must be finite and symmetric")
    out = m.copy()
    np.fill_diagonal(out, 0.0)
    return out


def laplacian(weights: ArrayLike) -> np.ndarray:
    """The weighted Laplacian ``diag(w 1) - w`` (the diagonal of ``w`` is ignored).

    Examples
    --------
    >>> laplacian([[0, 2], [2, 0]]).tolist()
    [[2.0, -2.0], [-2.0, 2.0]]
    """
    w = _symmetric(weights, "weights")
    return np.diag(w.sum(axis=1)) - w


def weights_from_couplings(couplings: ArrayLike) -> np.ndarray:
    """Max-cut weights ``w = -J`` whose maximum cuts are the ground states of ``J`` (``h = 0``).

    Examples
    --------
    >>> weights_from_couplings([[0, 1], [1, 0]]).tolist()
    [[0.0, -1.0], [-1.0, 0.0]]
    """
    return -_symmetric(couplings, "couplings")


def weights_from_graph(graph: object, weight: str = "weight") -> np.ndarray:
    """Symmetric weight matrix of a networkx graph (nodes in ``graph.nodes`` order; default 1).

    Examples
    --------
    >>> import networkx as nx
    >>> weights_from_graph(nx.path_graph(3)).tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    import networkx as nx

    a = nx.to_numpy_array(graph, weight=weight, nonedge=0.0)  # type: ignore[arg-type]
    return _symmetric((a + a.T) / 2.0 if graph.is_directed() else a, "weights")  # type: ignore[attr-defined]


def cut_values(weights: ArrayLike, spins: ArrayLike) -> np.ndarray:
    """Cut weight of each row of ``spins`` (``(k, n)`` or ``(n,)`` of ±1).

    Examples
    --------
    >>> cut_values(np.ones((3, 3)), [[1, -1, 1], [1, 1, 1]]).tolist()
    [2.0, 0.0]
    """
    w = _symmetric(weights, "weights")
    s = np.atleast_2d(np.asarray(spins, dtype=np.float64))
    return (w.sum() - np.einsum("ki,ij,kj->k", s, w, s)) / 4.0


def ising_energies(
    couplings: ArrayLike, spins: ArrayLike, fields: ArrayLike | None = None
) -> np.ndarray:
    """``E(s) = -sum_{i<j} J_ij s_i s_j - h s`` for each row of ``spins``.

    Examples
    --------
    >>> ising_energies([[0, 1], [1, 0]], [[1, 1], [1, -1]]).tolist()
    [-1.0, 1.0]
    """
    j = _symmetric(couplings, "couplings")
    s = np.atleast_2d(np.asarray(spins, dtype=np.float64))
    h = np.zeros(j.shape[0]) if fields is None else np.asarray(fields, dtype=np.float64)
    return -0.5 * np.einsum("ki,ij,kj->k", s, j, s) - s @ h


@dataclass(frozen=True)
class IsingEnumeration:
    """All ground states of an Ising model, by enumeration.

    Attributes
    ----------
    energy
        The ground-state energy.
    count
        How many spin configurations reach it (``s`` and ``-s`` counted apart).
    states
        ``(min(count, max_states), n)`` the ground states, ±1.
    """

    energy: float
    count: int
    states: np.ndarray


@dataclass(frozen=True)
class MaxCutEnumeration:
    """All maximum cuts, by enumeration.

    Attributes
    ----------
    value
        The maximum cut weight.
    count
        How many cuts (vertex bipartitions; ``s`` and ``-s`` are one cut) reach it.
    states
        ``(min(count, max_states), n)`` one spin vector per maximum cut (last spin ``+1``).
    """

    value: float
    count: int
    states: np.ndarray


def _patterns(free: int, fixed_last: bool) -> np.ndarray:
    """All ``2**free`` ±1 patterns of ``free`` spins (a ``+1`` column appended when fixed)."""
    k = np.arange(1 << free, dtype=np.int64)
    s = 1.0 - 2.0 * ((k[:, None] >> np.arange(free)) & 1)
    return np.hstack([s, np.ones((s.shape[0], 1))]) if fixed_last else s


def _half_energies(j: np.ndarray, h: np.ndarray, s: np.ndarray) -> np.ndarray:
    return -0.5 * ((s @ j) * s).sum(axis=1) - s @ h


def _scan(j: np.ndarray, h: np.ndarray, fixed_last: bool, chunk: int, max_states: int) -> tuple:
    """Meet in the middle: ``E(a, b) = E_low(a) + E_high(b) - a J_lh b`` for all pairs at once."""
    n = j.shape[0]
    p = n // 2
    low = _patterns(p, False)
    high = _patterns(n - p - 1, True) if fixed_last else _patterns(n - p, False)
    e_low = _half_energies(j[:p, :p], h[:p], low)
    e_high = _half_energies(j[p:, p:], h[p:], high)
    cross = j[:p, p:] @ high.T  # (p, |high|)
    tol = 1e-9 * (1.0 + np.abs(j).sum() + np.abs(h).sum())
    best, count = np.inf, 0
    kept: list[np.ndarray] = []
    step = max(1, chunk // max(1, high.shape[0]))
    for start in range(0, low.shape[0], step):
        a = low[start : start + step]
        e = e_low[start : start + step, None] + e_high[None, :] - a @ cross
        cur = float(e.min())
        if cur < best - tol:
            best, count, kept = cur, 0, []
        ia, ib = np.nonzero(e <= best + tol)
        count += int(ia.size)
        if sum(x.shape[0] for x in kept) < max_states:
            kept.append(np.hstack([a[ia], high[ib]]))
    states = np.vstack(kept)[:max_states] if kept else np.zeros((0, n))
    return best, count, states


def enumerate_ising(
    couplings: ArrayLike,
    fields: ArrayLike | None = None,
    *,
    chunk: int = 1 << 20,
    max_states: int = 10_000,
) -> IsingEnumeration:
    """Enumerate all spin configurations (vectorised over bit patterns); count ground states.

    The spins are split in two halves; the energies of all pairs of half-patterns come from one
    matrix product per chunk of ``chunk`` configurations. Without fields the last spin is fixed
    to ``+1`` (half the patterns) and each ground state's mirror image ``-s`` is added.

    Examples
    --------
    >>> ring = np.zeros((4, 4))
    >>> for i in range(4):
    ...     ring[i, (i + 1) % 4] = ring[(i + 1) % 4, i] = 1.0
    >>> ring[0, 3] = ring[3, 0] = -1.0              # one antiferromagnetic bond: frustrated
    >>> res = enumerate_ising(ring)
    >>> res.energy, res.count
    (-2.0, 8)
    """
    j = _symmetric(couplings, "couplings")
    n = j.shape[0]
    if not 1 <= n <= MAX_ENUMERATION_N:
        raise ModelError(f"enumeration takes 1..{MAX_ENUMERATION_N} spins, got {n}")
    h = np.zeros(n) if fields is None else np.asarray(fields, dtype=np.float64).ravel()
    if h.shape != (n,) or not np.all(np.isfinite(h)):
        raise ModelError(f"fields must be {n} finite numbers")
    symmetric = not np.any(h)
    energy, count, states = _scan(j, h, symmetric, chunk, max_states)
    if symmetric:
        states = np.vstack([states, -states])[:max_states]
        count *= 2
    return IsingEnumeration(energy=energy, count=count, states=states)


def enumerate_maxcut(
    weights: ArrayLike, *, chunk: int = 1 << 20, max_states: int = 10_000
) -> MaxCutEnumeration:
    """Enumerate all cuts (``n <= 24``); return the maximum and how many cuts reach it.

    Examples
    --------
    >>> enumerate_maxcut([[0, 1, 0], [1, 0, 1], [0, 1, 0]]).states.tolist()
    [[1.0, -1.0, 1.0]]
    """
    w = _symmetric(weights, "weights")
    n = w.shape[0]
    if not 1 <= n <= MAX_ENUMERATION_N:
        raise ModelError(f"enumeration takes 1..{MAX_ENUMERATION_N} vertices, got {n}")
    energy, count, states = _scan(-w, np.zeros(n), True, chunk, max_states)
    value = (w.sum() / 2.0 - energy) / 2.0
    return MaxCutEnumeration(value=float(value), count=count, states=states)


def eigenvalue_bound(weights: ArrayLike, shift: ArrayLike | None = None) -> float:
    """The eigenvalue bound ``n lambda_max(L/4 + diag(t))`` with ``t`` = ``shift`` centred.

    Any ``shift`` gives a valid bound (``u = lambda_max - t`` is a feasible multiplier); the
    best one is the SDP bound.

    Examples
    --------
    >>> eigenvalue_bound([[0, 1], [1, 0]])
    1.0
    """
    lap = laplacian(weights)
    n = lap.shape[0]
    t = np.zeros(n) if shift is None else np.asarray(shift, dtype=np.float64).ravel()
    t = t - t.mean()
    return float(n * np.linalg.eigvalsh(lap / 4.0 + np.diag(t))[-1])


def eigenvalue_dual(weights: ArrayLike, *, max_iter: int = 200, tol: float = 1e-7) -> DualTrace:
    """Minimise the eigenvalue bound over the shift ``t`` by the bundle method (a Lagrangian dual).

    ``n lambda_max(L/4 + diag(t - mean t))`` is convex in ``t`` with subgradient ``n v**2 - 1``
    (``v`` a unit top eigenvector); its minimum is the SDP bound. The trace maximises the
    negated bound, so ``-trace.value`` is the bound and ``trace.lam`` the shift.

    Examples
    --------
    >>> path = [[0, 1, 0], [1, 0, 1], [0, 1, 0]]         # bipartite: the bound is exact
    >>> round(eigenvalue_bound(path), 4), round(-eigenvalue_dual(path).value, 4)
    (2.25, 2.0)
    """
    lap = laplacian(weights)
    n = lap.shape[0]

    def oracle(t: np.ndarray) -> tuple[float, np.ndarray]:
        vals, vecs = np.linalg.eigh(lap / 4.0 + np.diag(t - t.mean()))
        v = vecs[:, -1]
        return -n * float(vals[-1]), 1.0 - n * v * v

    return maximize_dual(oracle, np.zeros(n), max_iter=max_iter, tol=tol)


@dataclass(frozen=True)
class SDPBound:
    """The SDP relaxation of max-cut.

    Attributes
    ----------
    bound
        A certified bound: ``sum(u) + n max(0, -lambda_min(diag(u) - L/4))``, valid for any
        ``u`` and so independent of the solver's accuracy.
    value
        The SDP optimum as the solver reported it.
    X
        ``(n, n)`` the optimal Gram matrix (unit diagonal).
    multipliers
        ``(n,)`` ``u`` of ``X_ii - 1 == 0`` (min form of ``-cut``), ``diag(u) ⪰ L/4``.
    solver
        The cvxpy solver used.
    """

    bound: float
    value: float
    X: np.ndarray
    multipliers: np.ndarray
    solver: str


def _certified(lap: np.ndarray, u: np.ndarray) -> float:
    low = float(np.linalg.eigvalsh(np.diag(u) - lap / 4.0)[0])
    return float(u.sum() + u.size * max(0.0, -low))


def sdp_bound(weights: ArrayLike, solver: str | None = None) -> SDPBound:
    """Solve ``max <L/4, X>  s.t.  diag(X) = 1, X ⪰ 0`` with cvxpy; certify its bound.

    Examples
    --------
    >>> round(sdp_bound(np.ones((3, 3))).bound, 3)
    2.25
    """
    import cvxpy as cp

    lap = laplacian(weights)
    n = lap.shape[0]
    x = cp.Variable((n, n), PSD=True)
    unit = cp.diag(x) == 1
    prob = cp.Problem(cp.Maximize(cp.trace(lap @ x) / 4.0), [unit])
    name = solver or ("CLARABEL" if "CLARABEL" in cp.installed_solvers() else "SCS")
    prob.solve(solver=name)
    if x.value is None:
        raise ModelError(f"the SDP solver {name} returned no solution ({prob.status})")
    dual = np.asarray(unit.dual_value, dtype=np.float64).ravel()
    bound = min(_certified(lap, dual), _certified(lap, -dual))
    return SDPBound(
        bound=bound,
        value=float(prob.value),
        X=np.asarray(x.value),
        multipliers=dual if _certified(lap, dual) <= bound else -dual,
        solver=name,
    )


def one_flip_local_search(weights: ArrayLike, spins: ArrayLike) -> np.ndarray:
    """Flip single vertices while a flip increases the cut (best flip first).

    Flipping ``i`` changes the cut by ``s_i (w s)_i``.

    Examples
    --------
    >>> one_flip_local_search(np.ones((3, 3)), [1, 1, 1]).tolist()
    [-1.0, 1.0, 1.0]
    """
    w = _symmetric(weights, "weights")
    s = np.where(np.asarray(spins, dtype=np.float64).ravel() < 0, -1.0, 1.0)
    field = w @ s
    tol = 1e-12 * (1.0 + np.abs(w).sum())
    for _ in range(10 * s.size * s.size + 10):
        gain = s * field
        i = int(np.argmax(gain))
        if gain[i] <= tol:
            break
        s[i] = -s[i]
        field += 2.0 * s[i] * w[:, i]
    return s


def goemans_williamson(
    weights: ArrayLike,
    gram: ArrayLike | None = None,
    *,
    rounds: int = 64,
    seed: int | np.random.Generator = 0,
    polish: int = 8,
) -> tuple[np.ndarray, float]:
    """Goemans–Williamson: round the SDP vectors by random hyperplanes, then one-flip search.

    Parameters
    ----------
    weights
        ``(n, n)`` symmetric weights.
    gram
        The SDP matrix ``X`` (solved by :func:`sdp_bound` when omitted).
    rounds
        Random hyperplanes.
    seed
        Seed or generator of the hyperplanes.
    polish
        How many of the best rounded cuts get the one-flip local search.

    Returns
    -------
    (spins, cut value)

    Examples
    --------
    >>> s, v = goemans_williamson(np.ones((4, 4)), seed=1)
    >>> v
    4.0
    """
    w = _symmetric(weights, "weights")
    x = sdp_bound(w).X if gram is None else np.asarray(gram, dtype=np.float64)
    vals, vecs = np.linalg.eigh((x + x.T) / 2.0)
    v = vecs * np.sqrt(np.clip(vals, 0.0, None))
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    s = np.where(v @ rng.standard_normal((w.shape[0], rounds)) < 0, -1.0, 1.0).T
    cuts = cut_values(w, s)
    best_s, best = s[0], -np.inf
    for k in np.argsort(-cuts)[: max(1, polish)]:
        cand = one_flip_local_search(w, s[k])
        val = float(cut_values(w, cand)[0])
        if val > best:
            best_s, best = cand, val
    return best_s, best


@dataclass(frozen=True)
class MaxCutResult:
    """A standalone max-cut solve.

    Attributes
    ----------
    objective
        The cut weight of ``spins``.
    spins
        ``(n,)`` ±1, the sides of the cut.
    bound
        The best proven upper bound (the enumerated optimum when ``exact``).
    sdp_bound, eigenvalue_bound
        The two relaxation bounds (``eigenvalue_bound`` without shift).
    lagrangian_bound
        The eigenvalue bound minimised over the shift by :func:`eigenvalue_dual`.
    multipliers
        ``(n,)`` the SDP multipliers ``u`` (see :class:`SDPBound`).
    exact
        Whether the cut was enumerated (then ``count`` is the number of maximum cuts).
    count
        Number of maximum cuts when ``exact``, else 0.
    gap
        ``(bound - objective) / max(1, |objective|)``.
    bound_method, point_method
        What produced the bound and the cut.
    trace
        The iterations of :func:`eigenvalue_dual` (history arrays; values are ``-bound``).
    """

    objective: float
    spins: np.ndarray
    bound: float
    sdp_bound: float
    eigenvalue_bound: float
    lagrangian_bound: float
    multipliers: np.ndarray
    exact: bool
    count: int
    gap: float
    bound_method: str
    point_method: str
    trace: DualTrace


def solve_maxcut(
    weights: ArrayLike,
    *,
    seed: int | np.random.Generator = 0,
    rounds: int = 64,
    exact_max_n: int = 20,
) -> MaxCutResult:
    """Bounds (eigenvalue, its Lagrangian dual, SDP), GW + local search, enumeration if small.

    Examples
    --------
    >>> r = solve_maxcut(np.ones((4, 4)))
    >>> r.objective, r.bound, r.count, r.exact
    (4.0, 4.0, 3, True)
    """
    w = _symmetric(weights, "weights")
    n = w.shape[0]
    sdp = sdp_bound(w)
    spins, value = goemans_williamson(w, sdp.X, rounds=rounds, seed=seed)
    eig = eigenvalue_bound(w)
    trace = eigenvalue_dual(w)
    lag = -trace.value
    bound, how = (sdp.bound, "sdp_cvxpy") if sdp.bound <= lag else (lag, "lagrangian_eigenvalue")
    point, count = "goemans_williamson+one_flip", 0
    exact = n <= min(exact_max_n, MAX_ENUMERATION_N)
    if exact:
        enum = enumerate_maxcut(w, max_states=1)
        count, bound, how = enum.count, enum.value, "enumeration"
        if enum.value > value + 1e-9 * (1 + abs(value)):
            spins, value, point = enum.states[0], enum.value, "enumeration"
    return MaxCutResult(
        objective=value,
        spins=spins,
        bound=bound,
        sdp_bound=sdp.bound,
        eigenvalue_bound=eig,
        lagrangian_bound=lag,
        multipliers=sdp.multipliers,
        exact=exact,
        count=count,
        gap=(bound - value) / max(1.0, abs(value)),
        bound_method=how,
        point_method=point,
        trace=trace,
    )
