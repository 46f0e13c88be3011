r"""The base of the network families: graphs, conservation rows, the certificate hook, solvers.

The families ``shortest_path``, ``min_cost_flow``, ``max_flow``, ``transportation`` and
``assignment`` each state their problem as a real :class:`~ortools_lag.model.Model` and keep
their arrays in ``problem.data``, a :class:`NetworkData`; what they share is here:

- the graph: :class:`Arcs` (``n`` nodes, 0-based arcs ``tail[k] -> head[k]``, the node labels
  the user knows, so that answers are decoded back into them) and, for the bipartite families,
  :class:`Table` (a cost table with the labels of its rows and columns);
- flow conservation: the node-arc incidence matrix ``N`` (``n x m``: ``+1`` where an arc leaves a
  node, ``-1`` where it enters) writes it as ``N x == b`` -- the rows
  ``out(v) - in(v) == b_v`` of the project's network convention (the README's), whose multipliers
  ``pi_v`` are node potentials: the reduced cost of arc ``(u, v)`` is ``c_uv + pi_u - pi_v``;
- the data: :class:`NetworkData` (on arcs :class:`ArcData`, on a table :class:`TableData`): the
  Problem stated from it, the decoding of an answer, and the certificate hook
  :meth:`NetworkData.certificate`, the family's own check of a point and its multipliers
  (reduced costs, conservation, capacities, cut = flow, eps-CS), run by :func:`certify_exact`
  and :func:`with_certificate`;
- the solvers: :class:`NetworkSolver` (a family's exact algorithm, handing back an
  :class:`Exact`) and ``network_lp`` (:class:`NetworkLPSolver`, every network kind).

The structured solvers live with their family; the registry names them:

========== ============================================================= ======================
name       algorithm                                                     kinds
========== ============================================================= ======================
dijkstra   Dijkstra (scipy.sparse.csgraph), Johnson/Bellman-Ford for     shortest_path
           negative costs; potentials = distances; a negative cycle is
           status UNBOUNDED with the cycle as the ray
maxflow    scipy's maximum_flow (Dinic) + the residual min cut; HiGHS LP max_flow
           for capacities it cannot take
network_lp HiGHS simplex, presolve off (network LPs: presolve costs more  every network kind
           than the solve); duals = potentials
auction    Bertsekas' forward auction, epsilon-scaling; Gauss-Seidel     assignment
           bids compiled by numba (the ``fast`` extra), else numpy
           Jacobi rounds; exact prices recovered from its eps-CS prices
lsa        scipy's linear_sum_assignment + exact prices by a shortest-    assignment
           path label-correcting pass on the residual graph
========== ============================================================= ======================

Nothing is taken on the algorithm's word. The structured families (``assignment``,
``shortest_path``) build their Model only when something asks for it (a generic solver,
``explain``, the CLI): an optimal answer of their own solvers is certified from the arrays by
:meth:`NetworkData.lp` -- the residuals ``kkt.certify`` would compute from the Model, in a few
vectorised passes, recorded in ``Solution.kkt`` (a test checks that the two agree) -- and by the
family's own certificate, recorded in ``Solution.info["certificate"]``. Other answers
(infeasible, unbounded, the other families) go through the shared backend round trip
(:func:`~ortools_lag.solvers.backend.finish`, i.e. ``kkt.certify``, or the Farkas / ray checks),
then through the family certificate.

>>> import numpy as np
>>> from ortools_lag import solve
>>> from ortools_lag.problems import shortest_path
>>> p = shortest_path.build([0, 0, 1], [1, 2, 2], [1.0, 4.0, 2.0], source=0, target=2)
>>> sol = solve(p)
>>> sol.solver, sol.status.value, sol.objective, sol.multipliers["flow"].tolist()
('dijkstra', 'optimal', 3.0, [0.0, 1.0, 3.0])
>>> sol.info["certificate"]["certified"]
True
>>> incidence(3, [0, 1], [1, 2]).toarray().astype(int).tolist()
[[1, 0], [-1, 1], [0, -1]]
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ortools_lag.errors import ModelError
from ortools_lag.model import layout
from ortools_lag.model.ufunc_threads import background
from ortools_lag.problem import Problem, Relaxation
from ortools_lag.problems.lp_certificate import StructuredLP
from ortools_lag.problems.tables import Table, bipartite_violation
from ortools_lag.result import Solution, Status, Termination
from ortools_lag.solvers.backend import RawResult, finish, judge
from ortools_lag.solvers.backends.highs import HighsOptions, HighsSolver
from ortools_lag.solvers.base import Solver, SolverOptions

if TYPE_CHECKING:
    from ortools_lag.model import Model
    from ortools_lag.problem import Heuristic, Oracle

__all__ = [
    "Answer",
    "ArcData",
    "Arcs",
    "Exact",
    "NetworkData",
    "NetworkLPOptions",
    "NetworkLPSolver",
    "NetworkSolver",
    "Table",
    "TableData",
    "bipartite_violation",
    "certify_exact",
    "conservation_oracle",
    "flow_rows",
    "incidence",
    "memo_heuristic",
    "multiplier",
    "node_index",
    "plan_of",
    "with_certificate",
]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
#: Values (of variables or of multipliers) by name, as a Solution holds them.
Arrays = Mapping[str, np.ndarray]
#: What a family's certificate checks, and the worst absolute violation found.
Verdict = tuple[str, float]


# -- the graph ----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Arcs:
    """A directed multigraph: ``n`` nodes, arcs ``tail[k] -> head[k]`` (0-based), node labels.

    Attributes
    ----------
    n
        Number of nodes.
    tail, head
        End nodes of each arc.
    labels
        The user's name of each node (``None``: the 0-based index itself).
    """

    n: int
    tail: IntArray
    head: IntArray
    labels: tuple[Hashable, ...] | None = None

    def __post_init__(self) -> None:
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(self.labels))
            object.__setattr__(self, "_where", node_index(self.labels))

    @property
    def m(self) -> int:
        """Number of arcs."""
        return int(self.tail.size)

    def index(self, label: Hashable) -> int:
        """The 0-based index of the node named ``label``.

        Raises
        ------
        ModelError
            When no node has this label.
        """
        if self.labels is None:
            if isinstance(label, (int, np.integer)) and 0 <= int(label) < self.n:
                return int(label)
            raise ModelError(f"node {label!r} is not in the graph (nodes 0..{self.n - 1})")
        lookup: dict[Hashable, int] = self._where  # type: ignore[attr-defined]
        if label not in lookup:
            shown = ", ".join(map(repr, self.labels[:8])) + (", ..." if self.n > 8 else "")
            raise ModelError(f"node {label!r} is not in the graph (nodes: {shown})")
        return lookup[label]

    def label(self, index: int) -> Hashable:
        """The label of node ``index``."""
        return int(index) if self.labels is None else self.labels[int(index)]

    def names(self, indices: ArrayLike) -> list[Hashable]:
        """Labels of several nodes, in order."""
        idx = np.asarray(indices, dtype=np.int64)
        if self.labels is None:
            return [int(i) for i in idx]
        return [self.labels[int(i)] for i in idx]

    def carrying(self, x: FloatArray, tol: float = 1e-9) -> list[tuple[Hashable, Hashable, float]]:
        """``(u, v, x_a)`` in the labels for the arcs with ``|x_a| > tol``, in arc order (the
        decoding of a flow)."""
        used = np.flatnonzero(np.abs(x) > tol)
        tails, heads = self.names(self.tail[used]), self.names(self.head[used])
        return [(u, v, float(f)) for u, v, f in zip(tails, heads, x[used])]


def node_index(labels: Sequence[Hashable]) -> dict[Hashable, int]:
    """The 0-based index of each label.

    Raises
    ------
    ModelError
        When two labels are equal.
    """
    where = {lab: i for i, lab in enumerate(labels)}
    if len(where) != len(labels):
        raise ModelError("node labels must be distinct")
    return where


def incidence(n: int, tail: ArrayLike, head: ArrayLike) -> sp.csc_matrix:
    """Node-arc incidence matrix ``N`` (``n x m``): ``N[tail[k], k] = 1``, ``N[head[k], k] = -1``.

    Built column by column (CSC: two entries per arc, no sorting), so it costs one pass over
    the arcs; products ``N @ x`` and ``N.T @ pi`` are as fast in this layout as in CSR. A
    self-loop gives an empty column (its ``+1`` and ``-1`` cancel).

    Examples
    --------
    >>> incidence(2, [0, 1], [1, 1]).toarray().tolist()
    [[1.0, 0.0], [-1.0, 0.0]]
    """
    t = np.asarray(tail, dtype=np.int64)
    h = np.asarray(head, dtype=np.int64)
    m = t.size
    loop = t == h
    if np.any(loop):  # drop self-loops' entries: their columns stay empty
        keep = np.flatnonzero(~loop)
        N = incidence(n, t[keep], h[keep])
        indptr = np.zeros(m + 1, dtype=N.indptr.dtype)
        indptr[keep + 1] = 2
        return sp.csc_matrix((N.data, N.indices, np.cumsum(indptr)), shape=(n, m))
    itype = np.int32 if max(n, 2 * m) < np.iinfo(np.int32).max else np.int64
    rows = np.empty(2 * m, dtype=itype)
    rows[0::2] = t
    rows[1::2] = h
    data = np.tile(np.array([1.0, -1.0]), m)
    indptr = np.arange(0, 2 * m + 1, 2, dtype=itype)
    return sp.csc_matrix((data, rows, indptr), shape=(n, m))


def flow_rows(x: Any, arcs: Arcs, supply: ArrayLike, matrix: sp.csc_matrix | None = None) -> Any:
    """The conservation group ``out(v) - in(v) == b_v``, i.e. ``N x - b == 0``, in one step
    (``matrix``: the arcs' :func:`incidence` ``N`` when the caller built it already).

    Examples
    --------
    >>> from ortools_lag import Model
    >>> m = Model(); x = m.var("x", 2)
    >>> con = flow_rows(x, Arcs(3, np.array([0, 1]), np.array([1, 2])), [1, 0, -1])
    >>> con.sense, con.body.value(np.array([1.0, 1.0])).tolist()
    ('==', [0.0, 0.0, 0.0])
    """
    from ortools_lag.model import AffineExpr, Constraint

    b = np.asarray(supply, dtype=np.float64)
    N = incidence(arcs.n, arcs.tail, arcs.head) if matrix is None else matrix
    body = AffineExpr({x: N}, -b, (arcs.n,))
    zeros = np.zeros(arcs.n)
    return Constraint(body, zeros, zeros.copy(), "==")


# -- what a family keeps in problem.data, and what it decodes -----------------------------------
@dataclass(frozen=True)
class Answer:
    """A decoded network Solution, in the user's labels: the base of each family's answer.

    Attributes
    ----------
    status
        The Solution's status (``"optimal"``, ``"infeasible"``, ``"unbounded"``...).
    """

    status: str


def plan_of(sol: Solution, shape: int | tuple[int, ...], fill: float = 0.0) -> FloatArray:
    """The values of the family's variable ``x`` in ``sol`` as float64 (``fill`` everywhere
    when it has none: an infeasible or unbounded answer)."""
    return np.asarray(sol.x.get("x", np.full(shape, fill)), dtype=np.float64)


def multiplier(sol: Solution, group: str) -> FloatArray | None:
    """The multipliers of ``group`` in ``sol`` as float64 (``None`` when it has none)."""
    lam = sol.multipliers.get(group)
    return None if lam is None else np.asarray(lam, dtype=np.float64)


def conservation_oracle(arcs: Arcs, cost: FloatArray, b: FloatArray, low: Any, up: Any) -> Oracle:
    """The oracle of conservation dualised over the arc bounds ``low <= x <= up`` (finite).

    With ``rc_a = c_a + pi_tail(a) - pi_head(a)`` the Lagrangian is ``rc.x - pi.b`` (``b``: the
    supplies): its minimum puts ``x_a = up_a`` where ``rc_a < 0`` and ``low_a`` elsewhere.
    """
    t, h, c = arcs.tail, arcs.head, cost

    def oracle(lam: Arrays) -> tuple[dict[str, np.ndarray], float]:
        pi = np.asarray(lam["flow"], dtype=np.float64)
        rc = c + pi[t] - pi[h]
        x = np.where(rc < 0, up, low)
        return {"x": x}, float(rc @ x - pi @ b)

    return oracle


def memo_heuristic(find: Callable[[], dict[str, np.ndarray] | None]) -> Heuristic:
    """A Lagrangian heuristic that answers ``find()`` (a feasible point or ``None``: the family's
    exact answer), found on the first call, whatever the relaxed point."""
    memo: list[dict[str, np.ndarray] | None] = []

    def heuristic(_relaxed: Arrays) -> dict[str, np.ndarray] | None:
        if not memo:
            memo.append(find())
        return memo[0]

    return heuristic


class NetworkData(ABC):
    """The base of a network family's ``problem.data``: its certificate hook, its decoder and
    its default relaxation, from which :meth:`problem` states the family's Problem.

    A family names its kind, default solver and relaxed group in its class statement
    (``class MaxFlowData(ArcData, kind="max_flow", solver="maxflow")``) and implements
    :meth:`check`, :attr:`scale` and :meth:`decode` (and :meth:`oracle`, :meth:`heuristic`
    when it has them).

    Attributes
    ----------
    kind, default_solver
        The Problem's ``kind`` and ``default_solver``.
    relaxed
        The group the default relaxation dualises (also the relaxation's name).
    """

    kind: ClassVar[str] = ""
    default_solver: ClassVar[str] = ""
    relaxed: ClassVar[str] = ""

    def __init_subclass__(
        cls, *, kind: str = "", solver: str = "", relaxed: str = "", **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.kind = kind or cls.kind
        cls.default_solver = solver or cls.default_solver
        cls.relaxed = relaxed or cls.relaxed

    @abstractmethod
    def check(self, x: Arrays, multipliers: Arrays, reduced_costs: Arrays | None) -> Verdict:
        """``(what is checked, worst absolute violation)`` of the point and multipliers."""

    @property
    @abstractmethod
    def scale(self) -> float:
        """The scale of the data the violation is judged against (``tol * (1 + scale)``)."""

    def certificate(
        self, x: Arrays, multipliers: Arrays, reduced_costs: Arrays | None = None
    ) -> tuple[str, float, float]:
        """``(what is checked, worst absolute violation, scale of the data)``.

        ``reduced_costs`` are those the generic KKT check computed (``Solution.reduced_costs``),
        which a family may read instead of forming them again (``None``: not available).
        """
        what, worst = self.check(x, multipliers, reduced_costs)
        return what, worst, self.scale

    @abstractmethod
    def decode(self, sol: Solution) -> Any:
        """The family's answer to ``sol``, in the user's labels."""

    def oracle(self) -> Oracle | None:
        """The structured minimiser of the default relaxation's Lagrangian (``None``: none)."""
        return None

    def heuristic(self) -> Heuristic | None:
        """The default relaxation's Lagrangian heuristic (``None``: none)."""
        return None

    def lp(self, z: FloatArray, multipliers: Arrays) -> StructuredLP | None:
        """The family's LP at the point ``z`` (flat) with ``multipliers``, formed from these
        arrays (``None``: the family has none, the Model is certified instead).

        Its :meth:`~ortools_lag.problems.lp_certificate.StructuredLP.report` is the structured
        solvers' ``Solution.kkt``: the residuals ``kkt.certify`` computes from the Model."""
        return None

    def problem(
        self,
        model: Model | Callable[[], Model],
        relaxation: str,
        metadata: dict[str, Any],
        n_vars: int | None = None,
    ) -> Problem:
        """The family's Problem: ``model`` (or a callable building it on first access, with
        ``n_vars`` variables), these data, the decoder and the default relaxation
        (``relaxation``: its one-line description)."""
        relax = Relaxation(
            relax=(self.relaxed,),
            oracle=self.oracle(),
            heuristic=self.heuristic(),
            description=relaxation,
        )
        built = not callable(model)
        return Problem(
            model if built else None,  # type: ignore[arg-type]
            build_model=None if built else model,  # type: ignore[arg-type]
            n_vars=n_vars,
            relaxations={self.relaxed: relax},
            default_relaxation=self.relaxed,
            decode=self.decode,
            kind=self.kind,
            default_solver=self.default_solver,
            data=self,
            metadata=metadata,
        )


@dataclass(frozen=True, eq=False)
class ArcData(NetworkData, relaxed="flow"):
    """The data of a family on a graph (``shortest_path``, ``min_cost_flow``, ``max_flow``):
    its :class:`Arcs` first; the default relaxation dualises the conservation rows ``flow``."""

    arcs: Arcs


@dataclass(frozen=True, eq=False)
class TableData(NetworkData):
    """The data of a bipartite family (``transportation``, ``assignment``): its :class:`Table`
    first."""

    table: Table


# -- the solvers' round trip ---------------------------------------------------------------------
@dataclass
class Exact:
    """What a family's exact algorithm hands back, in the model's terms, before certification.

    Attributes
    ----------
    status
        The algorithm's claim: ``OPTIMAL``, ``INFEASIBLE`` or ``UNBOUNDED``.
    z
        The point as the model's global vector (``None`` when infeasible or unbounded).
    multipliers
        Multipliers by group name, in the project's sign convention.
    farkas
        Multipliers by group name proving infeasibility (checked by ``kkt.check_farkas``).
    ray
        A global direction proving unboundedness (checked by ``kkt.check_ray``).
    bound
        A proven bound to report when the multipliers do not certify the point exactly (the
        dual value of eps-CS prices, for example); ``nan`` otherwise.
    iterations, message, info
        Reported as they are.
    """

    status: Status
    z: np.ndarray | None = None
    multipliers: dict[str, np.ndarray] | None = None
    farkas: dict[str, np.ndarray] | None = None
    ray: np.ndarray | None = None
    bound: float = math.nan
    iterations: int = 0
    message: str = ""
    info: dict[str, Any] = field(default_factory=dict)


def with_certificate(
    problem: Problem, sol: Solution, tol: float, outcome: tuple[str, float, float] | None = None
) -> Solution:
    """Add the family's own certificate to ``sol.info`` (and demote ``OPTIMAL`` if it fails).

    The check is the family's ``problem.data.certificate(x, multipliers, reduced_costs)``: a
    worst violation judged against ``tol * (1 + scale)``; ``outcome`` is its result when the
    caller ran it already on ``sol``'s point and multipliers.
    """
    check = getattr(problem.data, "certificate", None)
    if check is None or not sol.x or not sol.multipliers:
        return sol
    what, worst, scale = outcome or check(sol.x, sol.multipliers, sol.reduced_costs or None)
    ok = bool(worst <= tol * (1.0 + scale))
    info = {**sol.info, "certificate": {"check": what, "violation": worst, "certified": ok}}
    if ok or sol.status != Status.OPTIMAL:
        return replace(sol, info=info)
    msg = f"{sol.message}; family certificate failed: {what} violated by {worst:.3g}"
    return replace(sol, status=Status.FEASIBLE, info=info, message=msg)


def certify_exact(problem: Problem, ex: Exact, *, solver: str, t0: float, tol: float) -> Solution:
    """Certify an :class:`Exact` result.

    An optimal point of a family with a :meth:`NetworkData.lp` is certified from the family's
    arrays (no Model is built): ``Solution.kkt`` is that LP's report, the residuals
    ``kkt.certify`` computes; then the family certificate. Otherwise the point and multipliers
    go through the shared backend round trip: ``kkt.certify`` (infeasibility
    ``kkt.check_farkas``, unboundedness ``kkt.check_ray``), then the family certificate.
    ``seconds`` counts from ``t0`` (a ``time.perf_counter()``) to the end of the checks.
    """
    data = problem.data
    if ex.status == Status.OPTIMAL and ex.z is not None and ex.multipliers:
        lp = data.lp(ex.z, ex.multipliers) if isinstance(data, NetworkData) else None
        if lp is not None:
            sol = _structured_solution(problem, ex, lp, solver, tol)
            return replace(sol, seconds=time.perf_counter() - t0)
    model = problem.model
    sf = layout(model)  # names and signs only: the check needs no standard-form arrays
    check = getattr(problem.data, "certificate", None)
    family = None
    if check is not None and ex.z is not None and ex.multipliers:
        x, lam = sf.unpack_x(ex.z), dict(ex.multipliers)
        # the family's check from the arcs runs beside the generic one from the model's rows
        family = background(lambda: check(x, lam), size=ex.z.size)
    raw = RawResult(
        ex.status,
        Termination.CONVERGED,
        x=ex.z,
        y=sf.pack_rows(ex.multipliers) if ex.multipliers is not None else None,
        farkas=sf.pack_rows(ex.farkas) if ex.farkas is not None else None,
        ray=ex.ray,
        bound=ex.bound,
        iterations=ex.iterations,
        message=ex.message,
        info=dict(ex.info),
    )
    sol = finish(model, sf, raw, solver=solver, seconds=0.0, tol=tol)
    sol = with_certificate(problem, sol, tol, None if family is None else family.result())
    return replace(sol, seconds=time.perf_counter() - t0)


def _structured_solution(
    problem: Problem, ex: Exact, lp: StructuredLP, solver: str, tol: float
) -> Solution:
    """The Solution of an optimal :class:`Exact`, certified by ``lp`` and the family's check
    (run side by side: both are numpy passes that release the GIL)."""
    data = problem.data
    x = {"x": lp.z.reshape(lp.shape)}
    lam = dict(ex.multipliers or {})
    rc = lp.reduced_costs()
    if lp.verdict is None:
        family = background(lambda: data.certificate(x, lam, rc), size=lp.z.size)
    rep = lp.report(tol)
    f = lp.objective
    bound = rep.dual_objective if rep.certified else ex.bound
    msg = ex.message if rep.certified else f"{ex.message}; not certified: {'; '.join(rep.notes)}"
    sol = Solution(
        status=judge(Status.OPTIMAL, rep),
        termination=Termination.CONVERGED,
        objective=f,
        bound=bound,
        gap=f - bound if math.isfinite(bound) else math.nan,
        x=x,
        multipliers=lam,
        reduced_costs=rc,
        shadow_prices=lp.shadow_prices(),
        kkt=rep,
        solver=solver,
        iterations=ex.iterations,
        message=msg,
        info=dict(ex.info),
    )
    outcome = (*lp.verdict, data.scale) if lp.verdict is not None else family.result()
    return with_certificate(problem, sol, tol, outcome)


class NetworkSolver(Solver):
    """A structured solver of one or more network kinds (subclasses set ``kinds``, ``run``)."""

    family = "network"
    kinds: ClassVar[tuple[str, ...]] = ()

    def check(self, problem: Problem) -> str | None:
        if problem.kind not in self.kinds or problem.data is None:
            return (
                f"it solves problems of kind {', '.join(self.kinds)} built by their family "
                f"module (this one is {problem.kind!r}); use 'highs' for a plain model"
            )
        return None

    @abstractmethod
    def run(self, problem: Problem, options: SolverOptions) -> Exact:
        """Run the algorithm on ``problem.data``."""

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        t0 = time.perf_counter()
        ex = self.run(problem, options)
        return certify_exact(problem, ex, solver=self.name, t0=t0, tol=options.tolerance)


class NetworkLPOptions(HighsOptions):
    """HiGHS options with the network defaults: simplex, presolve off (measured faster on
    flow-conservation LPs; see ``benchmarks/bench_networks.py``)."""

    presolve: Literal["choose", "on", "off"] = "off"
    method: Literal["choose", "simplex", "ipm", "pdlp"] = "simplex"


class NetworkLPSolver(HighsSolver):
    """The network LP through HiGHS (presolve off), with the family certificate on top."""

    name = "network_lp"
    family = "network"
    description = "network LP by HiGHS simplex, presolve off; duals = node potentials"
    Options = NetworkLPOptions

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        sol = super().solve(problem, options)
        info = {
            **sol.info,
            "method": "HiGHS simplex on the network LP",
            "bound_from": "dual value of HiGHS's row duals (kkt.certify)",
            "point_from": "HiGHS basic solution",
        }
        sol = replace(sol, solver=self.name, info=info)
        return with_certificate(problem, sol, options.tolerance)
