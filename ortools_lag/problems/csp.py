r"""Constrained shortest path: resource rows relaxed, Dijkstra oracle, exact gap closing.

**Model** (Beasley & Christofides 1989; Ahuja, Magnanti & Orlin 1993, ch. 16). A directed graph
with vertices ``0..n-1`` and arcs ``a = (t_a, h_a)`` of cost :math:`c_a` and ``K`` resources
:math:`r_{ak}`; every vertex on the path consumes :math:`q_{vk}` (both ends included). With
:math:`r'_a = r_a + q_{h_a}` (the arc plus its head vertex) and ``x[a]`` binary::

    min  c . x
    s.t. flow:   out(x) - in(x)   == b      b = +1 at the source, -1 at the target  (pi, free)
         upper:  R' x             <= U - q_s                                        (mu >= 0)
         lower:  R' x             >= L - q_s                                        (nu >= 0)
         x_a = 0 on the arcs into the source and out of the target

On a graph with cycles whose lower limits can bind (or with negative costs or resources) the
model also holds ``indegree`` (``in(x) <= 1``) and Miller–Tucker–Zemlin rows ``order``
(``n x_a + u_t - u_h <= n - 1``, ``u`` the variable ``order`` in ``[0, n-1]``), so that no cycle
can be added to a path to meet a limit. Elsewhere a cycle only adds cost and resources, and the
flow rows alone are exact.

**Relaxation** ``"resources"`` (the default): ``upper`` and ``lower`` move into the Lagrangian,
held as :math:`R - U \le 0` (multiplier :math:`\mu_k \ge 0`) and :math:`L - R \le 0`
(:math:`\nu_k \ge 0`):

.. math::

    q(\mu, \nu) = \min_{P}\; \sum_{a \in P} \bigl(c_a + (\mu - \nu) \cdot r'_a\bigr)
                  + (\mu - \nu) \cdot q_s - \mu \cdot U + \nu \cdot L ,

a shortest path on the Lagrangian lengths (the structured oracle: Dijkstra, Bellman–Ford when
``nu > 0`` makes some lengths negative). **mu_k is the price of a unit of resource k** while its
upper limit binds: the cost the optimum would save per unit of limit added; **nu_k is the
premium** a path is paid per unit of resource ``k`` while the lower limit binds. The flow rows'
multipliers (not relaxed) would be node potentials. The Lagrangian heuristic keeps a relaxed path
that meets the limits, else tries the least-resource path.

**Solvers.** The default ``csp_exact`` (:class:`CSPSolver`) maximises the dual by the
trust-region bundle of :func:`~ortools_lag.algorithms.dual_bundle.maximize_dual`, then closes the
gap **exactly**: paths enumerated best-first in order of Lagrangian length within the bound
(:func:`~ortools_lag.algorithms.csp_search.csp_enumerate`), so the best path is proven optimal (gap
0). When the enumeration runs past ``max_labels`` partial paths (or its share of the time), a HiGHS
MIP on the flow formulation finishes and the Solution says so (``info["bound_from"] ==
"highs_mip_fallback"``, the only MIP call of the default path). The Lagrangian part of the bound,
``info["lagrangian_bound"]`` = ``q(mu, nu)``, is re-evaluated by the engine
(:func:`~ortools_lag.solvers.bound_certificate.certify_bound`: HiGHS on the kept rows at the
reported multipliers). ``subgradient`` and ``bundle`` take the same relaxation through the oracle
and heuristic; ``highs`` solves the Model as a MIP.

>>> from ortools_lag import solve
>>> tails, heads = [0, 0, 1, 1, 2, 2, 2, 3, 3, 4], [1, 2, 3, 4, 1, 3, 4, 4, 5, 5]
>>> cost = [1, 10, 1, 2, 1, 5, 12, 10, 1, 2]
>>> time = [10, 3, 1, 3, 2, 7, 3, 1, 7, 2]
>>> p = build(tails, heads, cost, time, upper=14)
>>> sol = solve(p)
>>> sol.solver, sol.status.value, sol.objective, sol.bound, sol.info["lagrangian_bound"]
('csp_exact', 'optimal', 13.0, 13.0, 7.0)
>>> p.decode(sol).path
[0, 2, 1, 3, 5]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from pydantic import Field

from ortools_lag.algorithms.csp import CSPData, csp_data, csp_lagrangian, solve_csp
from ortools_lag.algorithms.dual_bundle import InvalidPoint
from ortools_lag.errors import ModelError, NotSupportedError
from ortools_lag.io.rcsp import read_rcsp
from ortools_lag.model import Model
from ortools_lag.problem import Problem, Relaxation
from ortools_lag.problems.network import incidence
from ortools_lag.result import History, Solution
from ortools_lag.solvers.dual.lagrangian_closing import ClosingSolver, termination_of, trace_history
from ortools_lag.solvers.dual.lagrangian_heuristic import LagrangianHeuristicOptions, Outcome

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["CSPAnswer", "CSPFamilyData", "CSPOptions", "CSPSolver", "build", "decode", "read"]

RELAXED = ("upper", "lower")


@dataclass(frozen=True, eq=False)
class CSPFamilyData:
    """The arrays behind a constrained-shortest-path Problem.

    Attributes
    ----------
    instance
        The instance with vertex resources folded into the arcs
        (:class:`~ortools_lag.algorithms.csp.CSPData`).
    ordered
        Whether the model holds the ``indegree`` and ``order`` (MTZ) rows.
    name
        Instance name.
    """

    instance: CSPData
    ordered: bool
    name: str

    @property
    def integral(self) -> bool:
        """Every arc cost is an integer (path costs are then integers)."""
        c = self.instance.cost
        return bool(np.all(c == np.round(c)))


@dataclass(frozen=True)
class CSPAnswer:
    """A decoded constrained-shortest-path Solution.

    Attributes
    ----------
    path
        The vertices from the source to the target.
    arcs
        The arc indices in path order.
    cost
        The path's cost.
    resources
        ``(K,)`` its resource use (arcs and every vertex on it).
    """

    path: list[int]
    arcs: list[int]
    cost: float
    resources: list[float]


def build(
    tails: npt.ArrayLike,
    heads: npt.ArrayLike,
    cost: npt.ArrayLike,
    resources: npt.ArrayLike,
    upper: float | npt.ArrayLike,
    *,
    lower: float | npt.ArrayLike | None = None,
    vertex_resources: npt.ArrayLike | None = None,
    n: int | None = None,
    source: int = 0,
    target: int | None = None,
    name: str = "csp",
) -> Problem:
    """The constrained-shortest-path Problem from arc arrays.

    Parameters
    ----------
    tails, heads, cost
        ``(m,)`` arcs (0-based vertices) and their costs.
    resources
        ``(m, K)`` resources of each arc (``(m,)`` for one resource).
    upper, lower
        ``(K,)`` limits on the path's total resource use (``lower`` defaults to zeros).
    vertex_resources
        ``(n, K)`` resources consumed by every vertex on the path (default zeros).
    n
        Number of vertices (default: one more than the largest vertex named).
    source, target
        The path's ends (``target`` defaults to ``n - 1``).
    name
        The model's name.

    Examples
    --------
    >>> p = build([0, 0, 1], [2, 1, 2], [5, 1, 1], [1, 2, 2], upper=3)
    >>> p.model.n, sorted(p.model.groups), p.default_solver
    (3, ['flow', 'lower', 'upper'], 'csp_exact')
    """
    t = np.asarray(tails, dtype=np.int64).reshape(-1)
    h = np.asarray(heads, dtype=np.int64).reshape(-1)
    nv = int(n) if n is not None else int(max(t.max(initial=-1), h.max(initial=-1)) + 1)
    inst = csp_data(
        nv,
        t,
        h,
        cost,
        np.asarray(resources, dtype=np.float64).reshape(t.size, -1),
        upper,
        lower=lower,
        vertex_resources=vertex_resources,
        source=source,
        target=target,
    )
    ordered = not inst.acyclic and bool(
        np.any(inst.lower > inst.base) or np.any(inst.cost < 0) or np.any(inst.resources < 0)
    )
    return _problem(CSPFamilyData(inst, ordered, name))


def read(path: str | Path) -> Problem:
    """An OR-Library ``rcsp`` file as a constrained-shortest-path Problem (vertex 1 to ``n``).

    Examples
    --------
    >>> from ortools_lag import __file__ as pkg
    >>> p = read(Path(pkg).parents[1] / "data" / "rcsp" / "rcsp1.txt")
    >>> p.data.instance.n, p.data.instance.tails.size, p.data.instance.num_resources
    (100, 955, 1)
    """
    inst = read_rcsp(path)
    problem = build(
        inst.tails,
        inst.heads,
        inst.cost,
        inst.arc_resources,
        inst.upper,
        lower=inst.lower,
        vertex_resources=inst.vertex_resources,
        n=inst.n,
        name=inst.name,
    )
    problem.metadata["file"] = str(path)
    return problem


def _model(fd: CSPFamilyData) -> Model:
    d = fd.instance
    m, n = d.tails.size, d.n
    arcs = np.arange(m)
    mdl = Model(fd.name)
    closed = (d.heads == d.source) | (d.tails == d.target)
    x = mdl.var("x", m, ub=np.where(closed, 0.0, 1.0), domain="binary")
    mdl.minimize(d.cost @ x)
    supply = np.zeros(n)
    supply[d.source], supply[d.target] = 1.0, -1.0
    mdl.add("flow", incidence(n, d.tails, d.heads) @ x == supply)
    use = sp.csr_matrix(d.resources.T)
    mdl.add("upper", use @ x <= d.upper - d.base)
    mdl.add("lower", use @ x >= d.lower - d.base)
    if fd.ordered:
        u = mdl.var("order", n, ub=n - 1.0)
        mdl.add("indegree", sp.csr_matrix((np.ones(m), (d.heads, arcs)), shape=(n, m)) @ x <= 1)
        keep = np.flatnonzero((d.tails != d.source) & (d.heads != d.source))
        rows = np.arange(keep.size)
        pick = sp.csr_matrix((np.full(keep.size, float(n)), (rows, keep)), shape=(keep.size, m))
        diff = sp.csr_matrix(
            (
                np.r_[np.ones(keep.size), -np.ones(keep.size)],
                (np.r_[rows, rows], np.r_[d.tails[keep], d.heads[keep]]),
            ),
            shape=(keep.size, n),
        )
        mdl.add("order", pick @ x + diff @ u <= n - 1.0)
    return mdl


def _problem(fd: CSPFamilyData) -> Problem:
    model = _model(fd)
    relax = Relaxation(
        relax=RELAXED,
        oracle=_oracle(fd, model),
        heuristic=_heuristic(fd),
        description="resource rows relaxed: a shortest path on the lengths c + (mu - nu) r'",
    )
    d = fd.instance
    return Problem(
        model,
        relaxations={"resources": relax},
        default_relaxation="resources",
        decode=lambda sol: decode(fd, sol),
        kind="csp",
        default_solver="csp_exact",
        data=fd,
        metadata={
            "name": fd.name,
            "vertices": d.n,
            "arcs": d.tails.size,
            "resources": d.num_resources,
        },
    )


def point_of_path(fd: CSPFamilyData, arcs: np.ndarray) -> dict[str, np.ndarray]:
    """The model's point of a simple path (arc indices in order): ``x`` and, if held, ``order``.

    Examples
    --------
    >>> p = build([0, 0, 1], [2, 1, 2], [5, 1, 1], [1, 2, 2], upper=3)
    >>> point_of_path(p.data, np.array([1, 2]))["x"].tolist()
    [0.0, 1.0, 1.0]
    """
    d = fd.instance
    x = np.zeros(d.tails.size)
    x[arcs] = 1.0
    out = {"x": x}
    if fd.ordered:
        order = np.zeros(d.n)
        order[d.heads[arcs]] = np.arange(1, arcs.size + 1, dtype=np.float64)
        out["order"] = order
    return out


def _topological_positions(d: CSPData) -> np.ndarray:
    """Each vertex's position in a topological order of an acyclic graph."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(range(d.n))
    g.add_edges_from(zip(d.tails.tolist(), d.heads.tolist(), strict=True))
    pos = np.empty(d.n, dtype=np.int64)
    pos[np.fromiter(nx.topological_sort(g), dtype=np.int64, count=d.n)] = np.arange(d.n)
    return pos


def _dag_bans(d: CSPData, pos: np.ndarray, forced: np.ndarray) -> np.ndarray:
    """The arcs no path through every ``forced`` arc of an acyclic graph can use.

    A path visits vertices in increasing topological position, so it takes the forced arc
    ``(u, v)`` exactly when it uses no other arc out of ``u`` or into ``v`` and no arc that jumps
    over the position of ``u`` or of ``v`` (provided the source comes before ``u`` and ``v``
    before the target, which the caller checks on the path found).
    """
    arcs = np.arange(d.tails.size)[:, None]
    pt, ph = pos[d.tails][:, None], pos[d.heads][:, None]
    u, v = d.tails[forced][None, :], d.heads[forced][None, :]
    pu, pv = pos[u], pos[v]
    other = arcs != forced[None, :]
    ban = (
        ((pt < pu) & (ph > pu))
        | ((pt < pv) & (ph > pv))
        | (other & (d.tails[:, None] == u))
        | (other & (d.heads[:, None] == v))
    )
    return np.asarray(ban.any(axis=1))


def _flow_lp(
    d: CSPData, both: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[dict[str, np.ndarray], float]:
    """The kept rows (flow conservation, ``lo <= x <= hi``) as a min-cost flow LP.

    The node-arc incidence matrix is totally unimodular, so HiGHS's simplex vertex is a 0/1
    point: a path and arc-disjoint cycles through the forced arcs (or a negative cycle).
    """
    from scipy.optimize import linprog

    k = d.num_resources
    mu, nu = both[:k], both[k:]
    w = d.cost + d.resources @ (mu - nu)
    const = float((mu - nu) @ d.base - mu @ d.upper + nu @ d.lower)
    supply = np.zeros(d.n)
    supply[d.source], supply[d.target] = 1.0, -1.0
    scale = max(1.0, float(np.abs(w).max(initial=0.0)))  # huge multipliers: HiGHS's range
    res = linprog(
        w / scale,
        A_eq=incidence(d.n, d.tails, d.heads),
        b_eq=supply,
        bounds=np.c_[lo, hi],
        method="highs-ds",
        options={"presolve": False},
    )
    if res.status == 2:
        return {"x": np.where(lo > 0.5, 1.0, 0.0)}, math.inf
    if res.status != 0 or res.x is None:
        raise NotSupportedError(f"HiGHS gave no minimum-cost flow of the kept rows: {res.message}")
    x = np.round(res.x)
    if np.abs(res.x - x).max(initial=0.0) > 1e-6:
        raise NotSupportedError("HiGHS's flow vertex is not integral (numerical trouble)")
    return {"x": x}, float(w @ x) + const


def _oracle(fd: CSPFamilyData, model: Model) -> Any:
    """The relaxed problem, also under branching bounds ``bounds={"x": (lo, hi)}``.

    Banned arcs (``hi == 0``) get an infinite length. Forced arcs (``lo == 1``) on an acyclic
    graph ban the arcs that avoid them (:func:`_dag_bans`): still one shortest path, exact since
    every 0/1 flow of an acyclic graph is a path. On a graph with cycles the kept rows with forced
    arcs (or a negative Lagrangian cycle) are a min-cost flow LP (:func:`_flow_lp`); with the MTZ
    rows kept, the engine's HiGHS MIP.
    """
    d = fd.instance
    fallback: list[Any] = []
    pos = _topological_positions(d) if d.acyclic else None
    no_arcs = np.zeros(0, dtype=np.int64)

    def engine(lam: Mapping[str, np.ndarray], bounds: Any) -> tuple[dict[str, np.ndarray], float]:
        """The kept rows by the engine's HiGHS solve (``lb``/``ub``: the branching bounds)."""
        from ortools_lag.lagrangian import Lagrangian

        key = None
        if bounds is not None:
            key = tuple(
                (k, np.asarray(lo).tobytes(), np.asarray(hi).tobytes())
                for k, (lo, hi) in sorted(bounds.items())
            )
        if not fallback or fallback[0][0] != key:
            lag = Lagrangian(model, relax=RELAXED)
            if bounds is not None:
                lag.lb = model.join({k: np.asarray(v[0]) for k, v in bounds.items()})
                lag.ub = model.join({k: np.asarray(v[1]) for k, v in bounds.items()})
            fallback[:] = [(key, lag)]
        lag = fallback[0][1]
        pt = lag.evaluate(lag.join(dict(lam)))
        if pt.status not in ("optimal", "infeasible"):
            raise NotSupportedError(f"HiGHS gave no minimiser of the kept rows ({pt.status})")
        return model.split(pt.x), float(pt.value)

    def oracle(
        lam: Mapping[str, np.ndarray], bounds: Mapping[str, tuple[Any, Any]] | None = None
    ) -> tuple[dict[str, np.ndarray], float]:
        both = np.r_[np.ravel(lam["upper"]), np.ravel(lam["lower"])]
        inst, forced = d, no_arcs
        lo = np.zeros(d.tails.size)
        hi = np.where((d.heads == d.source) | (d.tails == d.target), 0.0, 1.0)
        if bounds is not None:
            lo, hi = (np.asarray(v, dtype=np.float64).reshape(-1) for v in bounds["x"])
            forced = np.flatnonzero(lo > 0.5)
            banned = hi < 0.5
            if forced.size and pos is None:
                return engine(lam, bounds) if fd.ordered else _flow_lp(d, both, lo, hi)
            if forced.size:
                assert pos is not None
                banned = banned | _dag_bans(d, pos, forced)
            inst = replace(d, cost=np.where(banned, np.inf, d.cost))
        try:
            r = csp_lagrangian(inst, both)
        except InvalidPoint:  # a negative Lagrangian cycle
            if fd.ordered:  # the kept MTZ rows need a MIP
                return engine(lam, bounds)
            return _flow_lp(d, both, lo, hi)
        except ModelError:  # the target cannot be reached
            return point_of_path(fd, no_arcs), math.inf
        if forced.size and not np.isin(forced, r.arcs).all():  # a forced arc off every path
            return point_of_path(fd, r.arcs), math.inf
        return point_of_path(fd, r.arcs), r.value

    return oracle


def _heuristic(fd: CSPFamilyData) -> Any:
    d = fd.instance
    scale = 1.0 / np.maximum(np.abs(d.upper), 1.0)

    def heuristic(point: Mapping[str, np.ndarray]) -> dict[str, np.ndarray] | None:
        x = np.asarray(point["x"]).reshape(-1) > 0.5
        arcs = _path_from(d, x)
        if arcs is not None and d.feasible(d.path_resources(arcs)):
            return point_of_path(fd, arcs)
        try:  # the least-resource path (resources scaled by their limits)
            r = csp_lagrangian(d, np.r_[1e6 * scale, np.zeros(d.num_resources)])
        except (InvalidPoint, ModelError):
            return None
        return point_of_path(fd, r.arcs) if d.feasible(r.resources) else None

    return heuristic


def _path_from(d: CSPData, x: np.ndarray) -> np.ndarray | None:
    """The arcs of the source-target path in a 0/1 arc vector (cycles beside it are ignored)."""
    chosen = np.flatnonzero(x)
    arc_out = np.full(d.n, -1, dtype=np.int64)
    arc_out[d.tails[chosen]] = chosen  # one chosen arc out of each vertex
    arcs: list[int] = []
    node = d.source
    for _ in range(d.n):  # a walk along the path: one step per vertex on it
        if node == d.target:
            return np.array(arcs, dtype=np.int64)
        if arc_out[node] < 0:
            return None
        arcs.append(int(arc_out[node]))
        node = int(d.heads[arc_out[node]])
    return None


def decode(fd: CSPFamilyData, sol: Solution) -> CSPAnswer:
    """The path of a Solution: vertices, arcs, cost and resource use."""
    if "x" not in sol.x:
        raise ModelError(f"the solution has no point ({sol.status.value}): {sol.message}")
    d = fd.instance
    arcs = _path_from(d, np.asarray(sol.x["x"]).reshape(-1) > 0.5)
    if arcs is None:
        raise ModelError("the solution's arcs hold no path from the source to the target")
    nodes = [d.source, *(int(v) for v in d.heads[arcs])]
    return CSPAnswer(
        path=nodes,
        arcs=[int(a) for a in arcs],
        cost=float(d.cost[arcs].sum()),
        resources=[float(v) for v in d.path_resources(arcs)],
    )


class CSPOptions(LagrangianHeuristicOptions):
    """Options of ``csp_exact`` (see :func:`~ortools_lag.algorithms.csp.solve_csp`).

    Attributes
    ----------
    method
        The dual method: ``"bundle"`` (trust-region bundle, HiGHS LP master) or
        ``"subgradient"`` (Polyak steps).
    max_labels
        Partial paths the enumeration may create before the HiGHS MIP takes over.
    fallback
        Whether the HiGHS MIP finishes when the enumeration gives up (else the Solution is
        ``FEASIBLE`` with the enumeration's bound).
    time_limit
        Seconds for the whole solve (default 60): the dual gets 30%, the enumeration up to 60%
        of the rest.
    """

    method: Literal["bundle", "subgradient"] = "bundle"
    max_labels: int = Field(default=200_000, ge=1)
    fallback: bool = True


class CSPSolver(ClosingSolver):
    """Lagrangian bound by the bundle method, gap closed by path enumeration (HiGHS fallback)."""

    name = "csp_exact"
    description = "constrained shortest path: Lagrangian dual, exact enumeration, MIP fallback"
    kinds = ("csp",)
    relaxation = "resources"
    Options = CSPOptions

    def run(self, problem: Problem, options: LagrangianHeuristicOptions) -> Outcome:
        assert isinstance(options, CSPOptions)
        fd: CSPFamilyData = problem.data
        d = fd.instance
        res = solve_csp(
            d,
            method=options.method,
            max_iter=options.max_iter or 300,
            time_limit=options.time_limit or 60.0,
            max_labels=options.max_labels,
            fallback=options.fallback,
        )
        k = d.num_resources
        found = math.isfinite(res.objective)
        infeasible = res.status == "infeasible"
        info: dict[str, Any] = {
            "bound_from": res.bound_method,
            "labels": res.labels,
            "mip_fallback": res.bound_method == "highs_mip_fallback",
            "infeasible": infeasible,
        }
        if res.trace is not None:
            info["lagrangian_bound"] = res.lagrangian_bound
        return Outcome(
            bound=res.bound,
            multipliers={"upper": res.multipliers[:k], "lower": res.multipliers[k:]},
            x=point_of_path(fd, res.arcs) if found else None,
            history=trace_history(res.trace) if res.trace is not None else History(),
            iterations=res.trace.iterations if res.trace is not None else 0,
            termination=termination_of(res.trace, res.proven_optimal or infeasible),
            integral=fd.integral,
            point_from=res.point_method,
            info=info,
        )
