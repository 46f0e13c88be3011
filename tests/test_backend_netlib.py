"""Netlib LPs through the scipy, cvxpy and Pyomo backends: the published optima, certified.

Optima: Netlib ``lp/data/readme`` (MINOS 5.3), as listed in ``data/MANIFEST.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ortools_lag import Status, solve
from ortools_lag.io import read_mps

from .certificates import check_solution

DATA = Path(__file__).parents[1] / "data" / "netlib"

OPTIMA = {
    "afiro": -4.6475314286e02,
    "adlittle": 2.2549496316e05,
    "blend": -3.0812149846e01,
    "sc50a": -6.4575077059e01,
    "sc50b": -7.0000000000e01,
    "sc105": -5.2202061212e01,
    "share2b": -4.1573224074e02,
    "kb2": -1.7499001299e03,
}

RUNS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("scipy", {}, list(OPTIMA)),
    ("scipy", {"method": "highs-ipm"}, ["afiro", "sc50a", "kb2"]),
    ("cvxpy", {}, list(OPTIMA)),
    ("cvxpy", {"cvxpy_solver": "CLARABEL"}, ["afiro", "sc50b", "share2b"]),
    ("pyomo", {}, list(OPTIMA)),
]

CASES = [
    pytest.param(b, o, name, id=f"{b}{'-' + next(iter(o.values())) if o else ''}-{name}")
    for b, o, names in RUNS
    for name in names
]


@pytest.mark.parametrize(("backend", "opts", "name"), CASES)
def test_netlib_optimum(backend: str, opts: dict[str, Any], name: str) -> None:
    model = read_mps(DATA / f"{name}.mps.gz")
    sol = solve(model, backend, **opts)
    assert sol.status == Status.OPTIMAL, sol.message
    assert sol.objective == pytest.approx(OPTIMA[name], rel=1e-6)
    rep = sol.kkt
    assert rep is not None and rep.certified, sol.message
    for r in (rep.primal_residual, rep.stationarity, rep.complementarity, rep.duality_gap):
        assert r <= 1e-6
    assert sol.bound == pytest.approx(OPTIMA[name], rel=1e-6)
    check_solution(model, sol)
