"""The solver registry: a plain dict from name to ``"module:Class"``, imported lazily.

Nothing is imported or probed at package import time.

>>> from ortools_lag.solvers.registry import names
>>> "highs" in names()
True
"""

from __future__ import annotations

import importlib
from functools import cache

from ortools_lag.errors import BackendUnavailableError, UnknownSolverError
from ortools_lag.solvers.base import Solver

__all__ = ["REGISTRY", "available", "get", "names", "register"]

REGISTRY: dict[str, str] = {
    # external backends
    "highs": "ortools_lag.solvers.backends.highs:HighsSolver",
    "scipy": "ortools_lag.solvers.backends.scipy:ScipySolver",
    "cvxpy": "ortools_lag.solvers.backends.cvxpy:CvxpySolver",
    "pyomo": "ortools_lag.solvers.backends.pyomo:PyomoSolver",
    "ipopt": "ortools_lag.solvers.backends.ipopt:IpoptSolver",
    # our own dual and primal-dual methods
    "subgradient": "ortools_lag.solvers.dual.subgradient:SubgradientSolver",
    "bundle": "ortools_lag.solvers.dual.bundle:BundleSolver",
    "volume": "ortools_lag.solvers.dual.volume:VolumeSolver",
    "dantzig_wolfe": "ortools_lag.solvers.column_generation.solver:DantzigWolfeSolver",
    "alm": "ortools_lag.solvers.nn.fullspace:FullspaceAlmSolver",
    "admm": "ortools_lag.solvers.dual.admm:AdmmSolver",
    "adjoint": "ortools_lag.solvers.nn.adjoint:AdjointSolver",
    "pdhg": "ortools_lag.solvers.pdhg.solver:PdhgSolver",
    # network library (issue 7): structured solvers returning potentials / prices
    "dijkstra": "ortools_lag.problems.shortest_path:DijkstraSolver",
    "maxflow": "ortools_lag.problems.max_flow:MaxFlowSolver",
    "network_lp": "ortools_lag.problems.network:NetworkLPSolver",
    "auction": "ortools_lag.problems.assignment:AuctionSolver",
    "lsa": "ortools_lag.problems.assignment:LsaSolver",
    # relaxation classics II (issue 9): Lagrangian heuristics of tsp, set_cover, facility_location
    "held_karp": "ortools_lag.problems.tsp:HeldKarpSolver",
    "beasley": "ortools_lag.problems.set_cover:BeasleySolver",
    "ufl_lagrangian": "ortools_lag.problems.facility_location:FacilityLagrangianSolver",
    # relaxation classics I (issue 8): Lagrangian solves of csp, knapsack, gap, maxcut
    "csp_exact": "ortools_lag.problems.csp:CSPSolver",
    "knapsack_dp": "ortools_lag.problems.knapsack:KnapsackDPSolver",
    "mknap_lagrangian": "ortools_lag.problems.knapsack:MKnapSolver",
    "gap_lagrangian": "ortools_lag.problems.gap:GAPSolver",
    "maxcut_sdp": "ortools_lag.problems.maxcut:MaxCutSolver",
    # branch-and-bound on Lagrangian bounds (issue 19)
    "lagrangian_bnb": "ortools_lag.solvers.branch_and_bound.solver:LagrangianBnBSolver",
}


def register(name: str, target: str) -> None:
    """Register ``name`` -> ``"package.module:ClassName"`` (a :class:`Solver` subclass)."""
    REGISTRY[name] = target
    get.cache_clear()


def names() -> list[str]:
    """Registered solver names, sorted."""
    return sorted(REGISTRY)


@cache
def get(name: str) -> Solver:
    """The solver instance for ``name``.

    Raises
    ------
    UnknownSolverError
        Listing the valid names.
    """
    if name not in REGISTRY:
        raise UnknownSolverError(
            f"unknown solver {name!r} (valid choices: auto, {', '.join(names())})"
        )
    module, _, cls = REGISTRY[name].partition(":")
    try:
        return getattr(importlib.import_module(module), cls)()  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as exc:
        raise BackendUnavailableError(f"solver {name!r} cannot be loaded: {exc}") from exc


def available() -> dict[str, str | None]:
    """For every registered solver: ``None`` when usable, else the reason it is not."""
    out: dict[str, str | None] = {}
    for name in names():
        try:
            out[name] = get(name).available()
        except BackendUnavailableError as exc:
            out[name] = str(exc)
    return out
