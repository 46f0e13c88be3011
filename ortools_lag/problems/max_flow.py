r"""Max flow / min cut: the minimum cut is the dual certificate of the maximum flow.

Formulation (source ``s``, sink ``t``, ``e_s - e_t`` the vector with ``+1`` at ``s`` and ``-1``
at ``t``; ``N`` the node-arc incidence matrix)::

    max  F
    s.t. flow:  out(v) - in(v) - F (e_s - e_t)_v == 0   for every node v   (multiplier pi_v)
         0 <= x_a <= cap_a,   0 <= F <= F_max

``F_max`` (the smaller of the capacity out of ``s`` and into ``t``) is an implied bound, stated
so that the Lagrangian relaxation is bounded; it changes nothing else.

**Multipliers.** As the minimisation of ``-F``, ``L = -F + sum_v pi_v (out(v) - in(v) - F b_v)``
(``b = e_s - e_t``). Stationarity in ``F`` reads ``pi_t - pi_s = 1`` and the reduced cost of
``x_uv`` is ``pi_u - pi_v``. A minimum cut ``(S, T)`` gives optimal multipliers: **pi_v = 0 on
the source side S, 1 on the sink side T**; the arcs ``S -> T`` have reduced cost ``-1`` (saturated,
their capacity multiplier is 1) and the arcs ``T -> S`` ``+1`` (empty), so the dual value
``sum_a cap_a [a crosses S -> T]`` is the cut's capacity = the flow value. The reduced costs are
``Solution.reduced_costs["x"]``.

The default solver is ``maxflow`` (:class:`MaxFlowSolver`, here: scipy's ``maximum_flow``,
Dinic, on integer capacities below ``2**31``, with the cut read from the residual graph; other
capacities go to the HiGHS LP, ``network_lp``). The family certificate checks capacities,
conservation, that the residual cut separates ``s`` from ``t`` with saturated forward and empty
backward arcs, and cut = flow (:func:`~ortools_lag.algorithms.flows.check_max_flow`).
Relaxation ``"flow"``: conservation dualised; the oracle saturates the arcs with
``pi_u < pi_v`` and sets ``F = F_max`` when ``pi_t - pi_s > 1``; the heuristic is the maximum
flow itself.

>>> from ortools_lag import solve
>>> p = build([0, 0, 1, 1, 2], [1, 2, 2, 3, 3], [3, 2, 1, 2, 3], source=0, sink=3)
>>> sol = solve(p)
>>> cut = p.decode(sol)
>>> sol.objective, cut.source_side, cut.cut_capacity, sol.multipliers["flow"].tolist()
(5.0, [0], 5.0, [0.0, 1.0, 1.0, 1.0])
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from numpy.typing import NDArray

from ortools_lag.algorithms.flows import check_max_flow, max_flow, min_cut, node_imbalance
from ortools_lag.errors import ModelError
from ortools_lag.model import AffineExpr, Model
from ortools_lag.problem import Problem
from ortools_lag.problems.graphs import arcs_from, numbered, stem
from ortools_lag.problems.network import (
    Answer,
    ArcData,
    Exact,
    NetworkLPOptions,
    NetworkLPSolver,
    NetworkSolver,
    incidence,
    memo_heuristic,
    plan_of,
)
from ortools_lag.result import Solution, Status

if TYPE_CHECKING:
    import networkx as nx

    from ortools_lag.problem import Heuristic, Oracle
    from ortools_lag.problems.network import Arcs, Arrays, FloatArray, Verdict
    from ortools_lag.solvers.base import SolverOptions

__all__ = [
    "CutAnswer",
    "MaxFlowData",
    "MaxFlowSolver",
    "build",
    "read",
    "solve_exact",
    "takes_integer_flow",
]

_INT32_MAX = 2**31 - 1


@dataclass(frozen=True, eq=False)
class MaxFlowData(ArcData, kind="max_flow", solver="maxflow"):
    """The arrays behind a max-flow Problem (0-based nodes).

    Attributes
    ----------
    arcs, cap
        The graph and its node labels; the arc capacities (``inf`` allowed).
    source, sink
        The 0-based end nodes.
    fmax
        The implied bound ``F_max`` on the flow value.
    """

    cap: FloatArray
    source: int
    sink: int
    fmax: float

    @property
    def scale(self) -> float:
        """The largest finite capacity."""
        return float(np.max(self.cap[np.isfinite(self.cap)], initial=0.0))

    def check(self, x: Arrays, multipliers: Arrays, reduced_costs: Arrays | None) -> Verdict:
        """Capacities, conservation, the residual cut (saturated / empty arcs), cut = flow.

        Everything is recomputed from the data (``reduced_costs`` is not read).
        """
        a = self.arcs
        flow = np.asarray(x["x"], dtype=np.float64)
        side = min_cut(a.n, a.tail, a.head, self.cap, np.clip(flow, 0.0, self.cap), self.source)
        worst = check_max_flow(a.n, a.tail, a.head, self.cap, self.source, self.sink, flow, side)
        value = float(node_imbalance(a.n, a.tail, a.head, flow)[self.source])
        worst = max(worst, abs(value - float(np.asarray(x["F"]))))
        return "capacities; conservation; residual cut saturated/empty; cut = flow", worst

    def oracle(self) -> Oracle | None:
        """Arcs with ``pi_u < pi_v`` saturated, ``F = F_max`` when ``pi_t - pi_s > 1`` (finite
        capacities only)."""
        if not np.all(np.isfinite(self.cap)):
            return None
        t, h, cap = self.arcs.tail, self.arcs.head, self.cap
        s, k, fmax = self.source, self.sink, self.fmax

        def oracle(lam: Arrays) -> tuple[dict[str, np.ndarray], float]:
            pi = np.asarray(lam["flow"], dtype=np.float64)
            rc = pi[t] - pi[h]
            x = np.where(rc < 0, cap, 0.0)
            coef = -1.0 - (pi[s] - pi[k])  # of F in L, minimisation sense
            f = fmax if coef < 0 else 0.0
            return {"x": x, "F": np.array(f)}, float(rc @ x + coef * f)

        return oracle

    def heuristic(self) -> Heuristic:
        """The maximum flow itself (``None`` for capacities scipy cannot take)."""

        def find() -> dict[str, np.ndarray] | None:
            z = _exact(self).z if _integral(self) else None
            return None if z is None else {"x": z[:-1], "F": np.array(z[-1])}

        return memo_heuristic(find)

    def decode(self, sol: Solution) -> CutAnswer:
        """The flow and the residual min cut of ``sol``, in the graph's labels."""
        a = self.arcs
        flow = plan_of(sol, a.m)
        side = min_cut(a.n, a.tail, a.head, self.cap, np.clip(flow, 0.0, self.cap), self.source)
        cut = np.flatnonzero(side[a.tail] & ~side[a.head])
        return CutAnswer(
            status=sol.status.value,
            value=sol.objective,
            flow=flow,
            source_side=a.names(np.flatnonzero(side)),
            sink_side=a.names(np.flatnonzero(~side)),
            cut_arcs=cut,
            cut_capacity=float(self.cap[cut].sum()),
        )


@dataclass(frozen=True)
class CutAnswer(Answer):
    """A decoded max-flow Solution: the flow and the minimum cut, in the graph's labels.

    Attributes
    ----------
    value
        The flow value ``F``.
    flow
        Flow on each arc (input order).
    source_side, sink_side
        The cut ``(S, T)``: nodes reachable from the source in the residual graph, and the rest.
    cut_arcs
        Indices of the arcs from ``S`` to ``T``.
    cut_capacity
        Their total capacity (= ``value`` for a maximum flow).
    """

    value: float
    flow: FloatArray
    source_side: list[Hashable]
    sink_side: list[Hashable]
    cut_arcs: NDArray[np.int64]
    cut_capacity: float


def build(
    tail: npt.ArrayLike | None = None,
    head: npt.ArrayLike | None = None,
    cap: npt.ArrayLike | None = None,
    *,
    source: Any = 0,
    sink: Any = None,
    graph: nx.Graph | None = None,
    capacity: str = "capacity",
    matrix: Any = None,
    n: int | None = None,
    labels: Sequence[Hashable] | None = None,
    name: str = "max_flow",
) -> Problem:
    """The max-flow Problem from arrays, a networkx graph or a scipy.sparse capacity matrix.

    Parameters
    ----------
    tail, head, cap
        Arc ``k`` goes ``tail[k] -> head[k]`` with capacity ``cap[k]`` (``>= 0``; ``inf``
        allowed).
    source, sink
        The end nodes (labels).
    graph, capacity
        A networkx graph instead of arrays, with the edge attribute that holds the capacities
        (missing: ``inf``, as in networkx).
    matrix
        Or a square scipy.sparse matrix of capacities.
    n, labels
        With arrays: the number of nodes, or their labels.
    name
        The model's name.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph([("s", "a", {"capacity": 3}), ("a", "t", {"capacity": 2})])
    >>> p = build(graph=g, source="s", sink="t")
    >>> sorted(p.model.variables), p.data.fmax
    (['F', 'x'], 2.0)
    """
    if sink is None:
        raise ModelError("sink is required")
    inf = {capacity: np.inf} if graph is not None else {}  # networkx: no attribute, no limit
    arcs, vals = arcs_from(tail, head, n, labels, graph, matrix, {capacity: cap}, inf, capacity)
    return _problem(arcs, vals[capacity], arcs.index(source), arcs.index(sink), name)


def read(path: str | Path) -> Problem:
    """A DIMACS ``.max`` file (``p max``, ``n id s|t``) as a max-flow Problem (ids ``1..n``).

    Raises
    ------
    SpecError
        A malformed ``.max`` file (the error names the file, line and field).
    """
    from ortools_lag.io.dimacs import read_max

    g = read_max(path)
    return _problem(numbered(g), np.asarray(g.cap), g.source, g.sink, stem(path))


def _problem(arcs: Arcs, cap: FloatArray, s: int, t: int, name: str) -> Problem:
    if s == t:
        raise ModelError("source and sink must differ")
    if np.any(cap < 0):
        raise ModelError("capacities must be >= 0")
    out_s = float(cap[(arcs.tail == s) & (arcs.head != s)].sum())
    in_t = float(cap[(arcs.head == t) & (arcs.tail != t)].sum())
    data = MaxFlowData(arcs, cap, s, t, min(out_s, in_t))
    b = np.zeros(arcs.n)
    b[s], b[t] = 1.0, -1.0
    m = Model(name)
    x = m.var("x", arcs.m, lb=0.0, ub=cap)
    F = m.var("F", (), lb=0.0, ub=data.fmax)
    body = AffineExpr(
        {x: incidence(arcs.n, arcs.tail, arcs.head), F: sp.csr_matrix(-b.reshape(-1, 1))},
        np.zeros(arcs.n),
        (arcs.n,),
    )
    m.maximize(F)
    m.add("flow", body == 0)
    relaxation = "conservation dualised; arcs with pi_u < pi_v saturated, F by pi_t - pi_s"
    meta = {"source": arcs.label(s), "sink": arcs.label(t), "nodes": arcs.n}
    return data.problem(m, relaxation, meta)


def _integral(data: MaxFlowData) -> bool:
    c = data.cap
    if not np.all(np.isfinite(c)) or np.any(c != np.round(c)):
        return False
    out_s = float(c[data.arcs.tail == data.source].sum())
    return float(c.max(initial=0.0)) <= _INT32_MAX and out_s <= _INT32_MAX


def takes_integer_flow(problem: Problem) -> bool:
    """Whether scipy's maximum_flow takes the capacities (integers, sums below ``2**31``).

    Examples
    --------
    >>> takes_integer_flow(build([0], [1], [2.5], source=0, sink=1))
    False
    """
    return isinstance(problem.data, MaxFlowData) and _integral(problem.data)


def solve_exact(problem: Problem) -> Exact:
    """The ``maxflow`` solver's work: flow, value and the cut's 0/1 potentials (uncertified).

    Examples
    --------
    >>> ex = solve_exact(build([0, 1], [1, 2], [3, 2], source=0, sink=2))
    >>> ex.z.tolist(), ex.multipliers["flow"].tolist()
    ([2.0, 2.0, 2.0], [0.0, 0.0, 1.0])
    """
    if not isinstance(problem.data, MaxFlowData):
        raise ModelError("not a max-flow problem built by problems.max_flow")
    return _exact(problem.data)


def _exact(data: MaxFlowData) -> Exact:
    a = data.arcs
    r = max_flow(a.n, a.tail, a.head, data.cap, data.source, data.sink)
    z = np.concatenate((r.flow, [r.value]))  # the model's order: x, then F
    info = {
        "method": "scipy maximum_flow (dinic) + residual min cut",
        "bound_from": "the cut's potentials (0 on S, 1 on T): dual value = cut capacity",
        "point_from": "scipy maximum_flow",
        "cut_arcs": int(r.cut_arcs.size),
    }
    return Exact(Status.OPTIMAL, z=z, multipliers={"flow": r.potential}, message="dinic", info=info)


class MaxFlowSolver(NetworkSolver):
    """Max flow by scipy's maximum_flow with the min cut as its certificate."""

    name = "maxflow"
    description = "max flow / min cut: scipy maximum_flow (Dinic), the cut as the dual certificate"
    kinds = ("max_flow",)

    def run(self, problem: Problem, options: SolverOptions) -> Exact:
        return solve_exact(problem)

    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        if not takes_integer_flow(problem):  # scipy computes in 32-bit integers
            lp = NetworkLPOptions(time_limit=options.time_limit, tolerance=options.tolerance)
            sol = NetworkLPSolver().solve(problem, lp)
            info = {**sol.info, "fallback": "capacities are not integers below 2**31: HiGHS LP"}
            return replace(sol, solver=self.name, info=info)
        return super().solve(problem, options)
