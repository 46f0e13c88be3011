"""The single-problem GAP reader (Yagiura et al.'s layout) and time limits on GAP solves.

Known answers: the OR-Library gapa optimum (data/MANIFEST.md: gapa problem 1, min, 1698).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from ortools_lag.algorithms.gap_relaxation import solve_gap
from ortools_lag.errors import SpecError
from ortools_lag.io.gap import read_gap, read_gap_single

GAP_DATA = Path(__file__).parents[1] / "data" / "gap"


def test_single_problem_reader(tmp_path: Path) -> None:
    path = tmp_path / "c0203"
    path.write_text("2 3\n1 2 3\n4 5 6\n1 1 1\n2 2 2\n5 6\n")
    inst = read_gap_single(path)
    assert inst.cost.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert inst.weight.tolist() == [[1, 1, 1], [2, 2, 2]]
    assert inst.capacity.tolist() == [5, 6]
    path.write_text("2 3\n1 2 3\n")
    with pytest.raises(SpecError):
        read_gap_single(path)


def test_gap_solve_honours_its_time_limit_and_the_optimum() -> None:
    g = read_gap(GAP_DATA / "gapa.txt", 1)
    start = time.perf_counter()
    res = solve_gap(g.cost, g.weight, g.capacity, time_limit=1.0, max_iter=10**6, gap_tol=0.0)
    assert time.perf_counter() - start < 10.0  # generous: the limit is checked between steps
    assert res.bound <= 1698 + 1e-6 <= res.objective + 1e-6
    assert np.isfinite(res.objective)
