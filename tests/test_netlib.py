"""Netlib LPs through read_mps + HiGHS, certified by our own kkt.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ortools_lag import Status, solve
from ortools_lag.io import read_mps

from .certificates import check_solution

DATA = Path(__file__).parents[1] / "data" / "netlib"

# published optima (Netlib lp/data/readme, MINOS 5.3; see data/MANIFEST.md)
OPTIMA = {
    "adlittle": 2.2549496316e05,
    "afiro": -4.6475314286e02,
    "blend": -3.0812149846e01,
    "boeing1": -3.3521356751e02,
    "bore3d": 1.3730803942e03,
    "brandy": 1.5185098965e03,
    "e226": -1.8751929066e01,
    "grow7": -4.7787811815e07,
    "israel": -8.9664482186e05,
    "kb2": -1.7499001299e03,
    "lotfi": -2.5264706062e01,
    "recipe": -2.6661600000e02,
    "sc105": -5.2202061212e01,
    "sc50a": -6.4575077059e01,
    "sc50b": -7.0000000000e01,
    "scagr7": -2.3313898243e06,  # the CPLEX value current solvers reproduce (MANIFEST.md)
    "share2b": -4.1573224074e02,
    "stocfor1": -4.1131976219e04,
}
E226_CONSTANT = 7.113  # the file's objective-row RHS, read by HiGHS as a constant (MANIFEST.md)


@pytest.mark.parametrize("name", sorted(OPTIMA))
def test_netlib_highs(name: str) -> None:
    model = read_mps(DATA / f"{name}.mps.gz")
    sol = solve(model, "highs")
    assert sol.status == Status.OPTIMAL, sol.message
    want = OPTIMA[name] + (E226_CONSTANT if name == "e226" else 0.0)
    assert sol.objective == pytest.approx(want, rel=1e-6)
    rep = sol.kkt
    assert rep is not None and rep.certified
    for r in (rep.primal_residual, rep.stationarity, rep.complementarity, rep.duality_gap):
        assert r <= 1e-6
    check_solution(model, sol)


def test_boeing1_ranged_rows_carry_signed_multipliers() -> None:
    model = read_mps(DATA / "boeing1.mps.gz")
    sol = solve(model, "highs")
    g = model.groups["rows"]
    ranged = np.isfinite(g.lo) & np.isfinite(g.hi) & (g.lo < g.hi)
    assert ranged.sum() > 0
    lam = sol.multipliers["rows"]
    v = g.body.value(model.join(dict(sol.x)))
    active = ranged & (np.abs(lam) > 1e-9)
    assert active.any()
    # positive where the upper side binds, negative where the lower side binds
    at_hi = np.abs(v - g.hi) <= 1e-7 * (1 + np.abs(g.hi))
    at_lo = np.abs(v - g.lo) <= 1e-7 * (1 + np.abs(g.lo))
    assert np.all(at_hi[active & (lam > 0)]) and np.all(at_lo[active & (lam < 0)])
    assert (active & (lam > 0)).any() or (active & (lam < 0)).any()


def test_mps_with_mixed_integer_columns(tmp_path) -> None:
    """MPS integer markers become an entry-wise integrality mask (max x + y, x integer)."""
    text = """NAME          MIXED
ROWS
 N  obj
 L  c1
COLUMNS
    MARKER                 'MARKER'                 'INTORG'
    x         obj       -1.0       c1        2.0
    MARKER                 'MARKER'                 'INTEND'
    y         obj       -1.0       c1        1.0
RHS
    RHS       c1        3.5
BOUNDS
 UP BND       y         1.0
ENDATA
"""
    path = tmp_path / "mixed.mps"
    path.write_text(text)
    model = read_mps(path)
    assert model.integrality().tolist() == [True, False]
    sol = solve(model, "highs")
    # hand: y <= 1 and 2x + y <= 3.5 with x integer -> x = 1, y = 1, objective -2
    assert sol.status == Status.OPTIMAL and sol.objective == pytest.approx(-2.0)
    check_solution(model, sol, duals=False)
