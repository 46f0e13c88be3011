r"""Max-cut and the Ising spin glass: eigenvalue and SDP bounds, GW rounding, exact enumeration.

**Model** (the linear MIP that HiGHS solves as the referee). A graph with symmetric weights
:math:`w_{ij}` (either sign) on its edges ``e = (i, j)``, ``i < j``; ``x[v]`` binary is the side
of vertex ``v`` (the last vertex is fixed to side 0, which loses no cut), ``y[e]`` binary says
that the edge is cut::

    max  sum_e w_e y_e
    s.t. link:  y_e <= x_i + x_j,   y_e <= 2 - x_i - x_j      (edges with w_e > 0)
                y_e >= x_i - x_j,   y_e >= x_j - x_i          (edges with w_e < 0)

Only the rows that can bind are written: a positive weight pushes ``y_e`` up, a negative one
down, so ``y_e = x_i XOR x_j`` at every optimum. The relaxation ``"link"`` (all link rows
relaxed, ``lam >= 0``, the price of each row) has a closed-form oracle, every variable on its
own; its bound is the weak LP bound ``sum of the positive weights``, kept so that every dual
method of the engine can take the model.

**The spin relaxation.** With spins ``s = 1 - 2x`` in :math:`\{-1, +1\}^n` and the Laplacian
``L = diag(w 1) - w``, :math:`\mathrm{cut}(s) = s^\top L s / 4`. The *spin model*
(``problem.data.spin_model``: ``s`` free, ``max s' (L/4) s``, ``unit: s * s == 1``) relaxes the
rows ``s_i^2 - 1 == 0`` with free multipliers :math:`u_i` (**u_i is the price of vertex i's unit
norm**):

.. math::

    q(u) = \min_s\; -\tfrac14 s^\top L s + \sum_i u_i (s_i^2 - 1)
         = -\textstyle\sum_i u_i \quad \text{when } \operatorname{diag}(u) \succeq L/4,

so every such ``u`` certifies :math:`\max \mathrm{cut} \le \sum_i u_i`. The choice
``u = lambda_max(L/4 + diag(t)) - t`` (``sum t = 0``) gives the **eigenvalue bound**
``n lambda_max(L/4 + diag(t))`` (Delorme & Poljak 1993), minimised over the shift ``t`` by the
trust-region bundle (the Lagrangian dual, recorded as the history); the best ``u`` is the **SDP
bound** ``max <L/4, X>, diag(X) = 1, X psd``, solved directly with cvxpy. Its ``X`` feeds
Goemans–Williamson hyperplane rounding (seeded), finished by one-flip local search. Up to
``exact_max_n`` vertices (default 20) every cut is enumerated, which proves the optimum and
counts the maximum cuts; with couplings ``J`` (``w = -J``, fields zero) the ground states of
``E(s) = -sum_{i<j} J_ij s_i s_j`` are the maximum cuts, two spin vectors ``s, -s`` each.

**Solvers.** The default ``maxcut_sdp`` (:class:`MaxCutSolver`) runs all of the above; no MIP
solver is called. The Solution's multipliers are ``{"unit": u}`` of the spin model (shifted by a
hair so that ``diag(u) - L/4`` is positive definite), and the bound ``sum(u)`` is re-evaluated by
the engine (:func:`~ortools_lag.solvers.bound_certificate.certify_bound` on the spin model: HiGHS
solves the convex QP left at ``u``); the cut is checked against the linear model. ``highs`` solves
the linear model as a MIP.

>>> from ortools_lag import solve
>>> ring = [[0, 1, 0, 0, 1], [1, 0, 1, 0, 0], [0, 1, 0, 1, 0], [0, 0, 1, 0, 1], [1, 0, 0, 1, 0]]
>>> sol = solve(build(ring))                # the 5-cycle: all edges but one can be cut
>>> sol.solver, sol.status.value, sol.objective, sol.info["maximum_cuts"]
('maxcut_sdp', 'optimal', 4.0, 5)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from pydantic import Field

from ortools_lag import kkt
from ortools_lag.algorithms.maxcut import (
    MAX_ENUMERATION_N,
    eigenvalue_bound,
    eigenvalue_dual,
    enumerate_maxcut,
    goemans_williamson,
    laplacian,
    one_flip_local_search,
    sdp_bound,
    weights_from_couplings,
    weights_from_graph,
)
from ortools_lag.errors import ModelError
from ortools_lag.io.rudy import read_rudy
from ortools_lag.model import Model
from ortools_lag.model.expressions import quad_form
from ortools_lag.problem import Problem, Relaxation
from ortools_lag.result import KKTReport, Solution
from ortools_lag.solvers.dual.lagrangian_closing import ClosingSolver, termination_of, trace_history
from ortools_lag.solvers.dual.lagrangian_heuristic import LagrangianHeuristicOptions, Outcome

if TYPE_CHECKING:
    from collections.abc import Mapping

    import networkx as nx

__all__ = [
    "MaxCutAnswer",
    "MaxCutData",
    "MaxCutOptions",
    "MaxCutSolver",
    "build",
    "decode",
    "point_of_spins",
    "read",
]


@dataclass(frozen=True, eq=False)
class MaxCutData:
    """The arrays behind a max-cut Problem.

    Attributes
    ----------
    weights
        ``(n, n)`` symmetric weights, zero diagonal.
    tails, heads, edge_weight
        ``(E,)`` the edges ``i < j`` of nonzero weight.
    nodes
        The vertex labels (a graph's nodes, else ``0..n-1``).
    couplings
        Whether the problem was built from Ising couplings ``J`` (``w = -J``).
    spin_model
        The spin formulation whose ``unit`` rows the eigenvalue and SDP bounds relax.
    name
        Instance name.
    """

    weights: np.ndarray
    tails: np.ndarray
    heads: np.ndarray
    edge_weight: np.ndarray
    nodes: list[Any]
    couplings: bool
    spin_model: Model
    name: str

    @property
    def integral(self) -> bool:
        """Every weight is an integer (cut values are then integers)."""
        return bool(np.all(self.edge_weight == np.round(self.edge_weight)))


@dataclass(frozen=True)
class MaxCutAnswer:
    """A decoded max-cut Solution.

    Attributes
    ----------
    side
        The side (0 or 1) of each vertex.
    spins
        The spins ``1 - 2 side`` (``+1`` on side 0).
    cut
        The cut's weight.
    energy
        ``E(s) = -sum_{i<j} J_ij s_i s_j`` when built from couplings, else ``None``.
    shore
        The vertex labels on side 1.
    """

    side: list[int]
    spins: list[int]
    cut: float
    energy: float | None
    shore: list[Any]


def build(
    weights: npt.ArrayLike | None = None,
    *,
    graph: nx.Graph | None = None,
    couplings: npt.ArrayLike | None = None,
    weight: str = "weight",
    name: str = "maxcut",
) -> Problem:
    """The max-cut Problem from a weight matrix, a networkx graph, or Ising couplings ``J``.

    Parameters
    ----------
    weights
        ``(n, n)`` symmetric weights (the diagonal is ignored).
    graph
        Instead: an undirected graph whose edge attribute ``weight`` (default 1) is the weight.
    couplings
        Instead: symmetric couplings ``J`` of the Ising energy ``-sum_{i<j} J_ij s_i s_j``; its
        ground states are the maximum cuts of ``w = -J``.
    weight
        The edge attribute read from ``graph``.
    name
        The model's name.

    Examples
    --------
    >>> import networkx as nx
    >>> p = build(graph=nx.petersen_graph())
    >>> p.model.n, p.model.groups["link"].shape, p.default_solver
    (25, (30,), 'maxcut_sdp')
    """
    given = [a is not None for a in (weights, graph, couplings)]
    if sum(given) != 1:
        raise ModelError("give exactly one of weights, graph and couplings")
    if graph is not None:
        w, nodes = weights_from_graph(graph, weight=weight), list(graph.nodes)
    else:
        src = couplings if couplings is not None else -np.asarray(weights, dtype=np.float64)
        w = weights_from_couplings(src)  # -J: symmetric, diagonal zeroed
        nodes = list(range(w.shape[0]))
    i, j = np.triu_indices(w.shape[0], 1)
    keep = w[i, j] != 0
    if not keep.any():
        raise ModelError("the graph has no edge of nonzero weight: every cut is 0")
    lap = laplacian(w)
    spins = Model(f"{name}_spins")
    s = spins.var("s", w.shape[0], lb=None)
    spins.maximize(quad_form(s, lap / 4.0))
    spins.add("unit", s * s == 1)
    data = MaxCutData(w, i[keep], j[keep], w[i, j][keep], nodes, couplings is not None, spins, name)
    return _problem(data)


def read(path: str | Path) -> Problem:
    """A rudy / Gset edge-list file (``n m`` then ``i j w`` per edge) as a max-cut Problem.

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "triangle.txt"
    >>> _ = f.write_text("3 3\\n1 2 1\\n2 3 1\\n1 3 1\\n")
    >>> read(f).data.edge_weight.tolist()
    [1.0, 1.0, 1.0]
    """
    g = read_rudy(path)
    out = build(g.matrix(), name=g.name)
    out.metadata["file"] = str(path)
    return out


def _link_rows(data: MaxCutData, n: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """The ``link`` rows ``[A_x A_y] [x; y] <= rhs``: two per edge, as the weight's sign needs."""
    e = data.tails.size
    pos = np.repeat(data.edge_weight > 0, 2)
    first = np.tile([True, False], e)
    edge = np.repeat(np.arange(e), 2)
    rows = np.arange(2 * e)
    cy = np.where(pos, 1.0, -1.0)
    ci = np.where(pos, np.where(first, -1.0, 1.0), np.where(first, 1.0, -1.0))
    cj = np.where(pos, np.where(first, -1.0, 1.0), np.where(first, -1.0, 1.0))
    rhs = np.where(pos & ~first, 2.0, 0.0)
    a = sp.csr_matrix(
        (
            np.r_[ci, cj, cy],
            (np.r_[rows, rows, rows], np.r_[data.tails[edge], data.heads[edge], n + edge]),
        ),
        shape=(2 * e, n + e),
    )
    return a, rhs


def _model(data: MaxCutData) -> Model:
    n, e = data.weights.shape[0], data.tails.size
    mdl = Model(data.name)
    ub = np.ones(n)
    ub[-1] = 0.0
    x = mdl.var("x", n, ub=ub, domain="binary")
    y = mdl.var("y", e, ub=1, domain="binary")
    mdl.maximize(data.edge_weight @ y)
    a, rhs = _link_rows(data, n)
    mdl.add("link", a[:, :n] @ x + a[:, n:] @ y <= rhs)
    return mdl


def _problem(data: MaxCutData) -> Problem:
    n = data.weights.shape[0]
    relax = Relaxation(
        relax=("link",),
        oracle=_oracle(data),
        heuristic=_heuristic(data),
        description="link rows relaxed: every variable on its own (the weak LP bound)",
    )
    return Problem(
        _model(data),
        relaxations={"link": relax},
        default_relaxation="link",
        decode=lambda sol: decode(data, sol),
        kind="maxcut",
        default_solver="maxcut_sdp",
        data=data,
        metadata={"name": data.name, "vertices": n, "edges": data.tails.size},
    )


def _oracle(data: MaxCutData) -> Any:
    n = data.weights.shape[0]
    a, rhs = _link_rows(data, n)
    at = a.T.tocsr()
    cost = np.r_[np.zeros(n), -data.edge_weight]  # minimisation form
    free = np.ones(cost.size, dtype=bool)
    free[n - 1] = False  # the last vertex is fixed to side 0

    def oracle(lam: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], float]:
        u = np.asarray(lam["link"], dtype=np.float64).reshape(-1)
        reduced = cost + at @ u
        z = ((reduced < 0) & free).astype(np.float64)
        return {"x": z[:n], "y": z[n:]}, float(reduced @ z - u @ rhs)

    return oracle


def point_of_spins(data: MaxCutData, spins: npt.ArrayLike) -> dict[str, np.ndarray]:
    """The linear model's point of a spin vector (oriented so that the last vertex is on side 0).

    Examples
    --------
    >>> d = build([[0, 1], [1, 0]]).data
    >>> {k: v.tolist() for k, v in point_of_spins(d, [1, -1]).items()}
    {'x': [1.0, 0.0], 'y': [1.0]}
    """
    s = np.where(np.asarray(spins, dtype=np.float64).reshape(-1) < 0, -1.0, 1.0)
    s = s * s[-1]
    x = (s < 0).astype(np.float64)
    return {"x": x, "y": (x[data.tails] != x[data.heads]).astype(np.float64)}


def _heuristic(data: MaxCutData) -> Any:
    def heuristic(point: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        side = np.asarray(point["x"]).reshape(-1) > 0.5
        return point_of_spins(data, one_flip_local_search(data.weights, 1.0 - 2.0 * side))

    return heuristic


def decode(data: MaxCutData, sol: Solution) -> MaxCutAnswer:
    """The sides of a Solution, its cut weight and (for couplings) its Ising energy."""
    if "x" not in sol.x:
        raise ModelError(f"the solution has no point ({sol.status.value}): {sol.message}")
    side = (np.asarray(sol.x["x"]).reshape(-1) > 0.5).astype(np.int64)
    s = 1.0 - 2.0 * side
    w = data.weights
    cut = float((w.sum() - s @ w @ s) / 4.0)
    energy = float(0.5 * s @ w @ s) if data.couplings else None  # -sum_{i<j} J s s, J = -w
    return MaxCutAnswer(
        side=[int(v) for v in side],
        spins=[int(v) for v in s],
        cut=cut,
        energy=energy,
        shore=[data.nodes[k] for k in np.flatnonzero(side)],
    )


def _certified_u(lap: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``u`` shifted so that ``diag(u) - L/4`` is positive definite (by a hair)."""
    low = float(np.linalg.eigvalsh(np.diag(u) - lap / 4.0)[0])
    margin = 1e-7 * (1.0 + float(np.abs(lap).max()))
    return u + max(0.0, -low) + margin


class MaxCutOptions(LagrangianHeuristicOptions):
    """Options of ``maxcut_sdp``.

    Attributes
    ----------
    rounds
        Random hyperplanes of the Goemans–Williamson rounding (seeded by ``seed``).
    polish
        How many of the best rounded cuts get the one-flip local search.
    exact_max_n
        Enumerate every cut (proving the optimum, counting the maximum cuts) up to this many
        vertices (at most 24).
    sdp_solver
        The cvxpy solver of the SDP (default: CLARABEL when installed, else SCS).
    max_iter
        Iterations of the eigenvalue dual (default 200).
    """

    rounds: int = Field(default=64, ge=1)
    polish: int = Field(default=8, ge=1)
    exact_max_n: int = Field(default=20, ge=0, le=MAX_ENUMERATION_N)
    sdp_solver: str | None = None


class MaxCutSolver(ClosingSolver):
    """SDP and eigenvalue bounds, Goemans–Williamson + one-flip, enumeration when small."""

    name = "maxcut_sdp"
    description = "max-cut: SDP (cvxpy) and eigenvalue bounds, GW rounding, enumeration"
    kinds = ("maxcut",)
    relaxation = "link"
    Options = MaxCutOptions

    def available(self) -> str | None:
        import importlib.util

        return None if importlib.util.find_spec("cvxpy") else "needs cvxpy (pip install cvxpy)"

    def run(self, problem: Problem, options: LagrangianHeuristicOptions) -> Outcome:
        assert isinstance(options, MaxCutOptions)
        data: MaxCutData = problem.data
        w, n = data.weights, data.weights.shape[0]
        lap = laplacian(w)
        sdp = sdp_bound(w, solver=options.sdp_solver)
        spins, value = goemans_williamson(
            w, sdp.X, rounds=options.rounds, seed=options.seed, polish=options.polish
        )
        trace = eigenvalue_dual(w, max_iter=options.max_iter or 200)
        t = trace.lam - trace.lam.mean()
        top = float(np.linalg.eigvalsh(lap / 4.0 + np.diag(t))[-1])
        cands = {
            "sdp_cvxpy": _certified_u(lap, sdp.multipliers),
            "lagrangian_eigenvalue": _certified_u(lap, top - t),
        }
        how = min(cands, key=lambda k: float(cands[k].sum()))
        u = cands[how]
        relaxed = float(u.sum())
        info: dict[str, Any] = {
            "relax": ["unit (problem.data.spin_model)"],
            "lagrangian_bound": relaxed,
            "sdp_bound": float(cands["sdp_cvxpy"].sum()),
            "sdp_value": sdp.value,
            "eigenvalue_bound": eigenvalue_bound(w),
            "lagrangian_eigenvalue_bound": float(cands["lagrangian_eigenvalue"].sum()),
            "bound_from": how,
        }
        bound, point = relaxed, "goemans_williamson+one_flip"
        if n <= options.exact_max_n:
            enum = enumerate_maxcut(w, max_states=1)
            bound = enum.value
            info["bound_from"] = f"enumeration of all 2^{n - 1} cuts (exact)"
            info["maximum_cuts"] = enum.count
            if data.couplings:
                info["ground_states"] = 2 * enum.count
            if enum.value > value + 1e-9 * (1.0 + abs(value)):
                spins, value, point = enum.states[0], enum.value, "enumeration"
        hist = trace_history(trace, sense=-1)
        hist = replace(hist, primal=np.full(len(hist), value), gap=hist.bound - value)
        closed = bound <= value + 1e-9 * (1.0 + abs(value))
        return Outcome(
            bound=bound,
            multipliers={"unit": u},
            x=point_of_spins(data, spins),
            history=hist,
            iterations=trace.iterations,
            termination=termination_of(trace, closed),
            integral=data.integral,
            point_from=point,
            info=info,
        )

    def certify(
        self, problem: Problem, out: Outcome, options: LagrangianHeuristicOptions
    ) -> KKTReport:
        """``sum(u)`` re-evaluated on the spin model by the engine; the cut on the linear model."""
        from ortools_lag.solvers.bound_certificate import certify_bound

        if options.certify == "never":
            return KKTReport(kind="lagrangian", notes=("certification switched off",))
        tol = options.tolerance
        rep = certify_bound(
            problem.data.spin_model,
            ("unit",),
            out.multipliers,
            float(out.info["lagrangian_bound"]),
            tol=tol,
            time_limit=options.certify_time_limit,
            max_vars=None if options.certify == "always" else options.certify_max_vars,
        )
        if out.x is None:
            return rep
        feas = kkt.certify_feasible(problem.model, out.x, bound=out.bound, tol=tol)
        notes = list(rep.notes)
        if not feas.primal_residual <= tol:
            notes.append(f"primal residual {feas.primal_residual:.3g} > {tol:g}")
        if not feas.integrality <= tol:
            notes.append(f"integrality violation {feas.integrality:.3g}")
        return replace(
            rep,
            primal_residual=feas.primal_residual,
            integrality=feas.integrality,
            duality_gap=feas.duality_gap,
            certified=not notes,
            notes=tuple(notes),
        )
