"""Time limit of the UFL Lagrangian solve; known answer: OR-Library cap71 (data/MANIFEST.md)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ortools_lag.algorithms.facility_location import solve_facility_location
from ortools_lag.io.ufl import read_ufl

UFL_DATA = Path(__file__).parents[1] / "data" / "ufl" / "orlib_uncap"


def test_time_limit_stops_the_ascent_with_a_valid_bound() -> None:
    inst = read_ufl(UFL_DATA / "70" / "cap71.txt")
    start = time.perf_counter()
    res = solve_facility_location(
        inst.fixed_costs, inst.costs, max_iter=10**7, alpha_min=0.0, gap_tol=-1.0, time_limit=0.3
    )
    assert time.perf_counter() - start < 10.0  # generous: checked after every subproblem
    assert res.iterations < 10**7
    assert res.bound <= 932615.75 * (1 + 1e-9) <= res.objective * (1 + 1e-9)
    assert np.isclose(res.objective, 932615.75)
