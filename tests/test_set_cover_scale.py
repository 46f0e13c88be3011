"""Large set-covering machinery: the rail reader, the core of columns, time limits.

Known answers: OR-Library optima (data/MANIFEST.md) and the LP relaxation by HiGHS
(``scipy.optimize.linprog``), an independent backend.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp

from ortools_lag.algorithms.set_cover import core_columns, solve_set_cover
from ortools_lag.errors import SpecError
from ortools_lag.io.scp import parse_rail, read_scp
from tests.manifest_answers import SCP_DATA, SCP_OPTIMA, cover_lagrangian, cover_lp_value


def test_rail_reader_reads_columns_and_checks_indices() -> None:
    inst = parse_rail("3 2\n1.5 2 1 3\n2 1 2\n")
    assert inst.matrix.toarray().tolist() == [[1, 0], [0, 1], [1, 0]]
    assert inst.costs.tolist() == [1.5, 2.0]
    with pytest.raises(SpecError, match="row index"):
        parse_rail("2 1\n1 1 3\n")
    with pytest.raises(SpecError, match="covered by no column"):
        parse_rail("2 1\n1 1 1\n")
    with pytest.raises(SpecError, match="unexpected"):
        parse_rail("1 1\n1 1 1 9\n")


def test_core_columns_keeps_the_cheapest_per_row() -> None:
    a = sp.csr_matrix(np.array([[1, 1, 1, 0], [0, 1, 1, 1]]))
    keep = core_columns(a, np.array([0.5, 2.0, 1.0, 3.0]), 2)
    # row 0: columns 0 (0.5) and 2 (1.0); row 1: columns 2 (1.0) and 1 (2.0)
    assert keep.tolist() == [True, True, True, False]


@pytest.mark.parametrize("name", ["scp41", "scp42"])
def test_core_path_bound_and_cover_against_the_optimum(name: str) -> None:
    inst = read_scp(SCP_DATA / f"{name}.txt")
    optimum = SCP_OPTIMA[name]
    res = solve_set_cover(inst.costs, inst.matrix, core=5, core_above=0, lns_rounds=300)
    assert np.isclose(cover_lagrangian(inst.costs, inst.matrix, res.multipliers), res.bound)
    lp = cover_lp_value(inst.costs, inst.matrix)
    assert res.bound <= lp + 1e-6
    assert res.bound >= 0.99 * lp
    covered = inst.matrix @ res.x.astype(float)
    assert (covered >= 1).all()
    assert np.isclose(float(inst.costs[res.x].sum()), res.objective)
    assert optimum <= res.objective <= 1.03 * optimum


def test_time_limit_is_honoured() -> None:
    inst = read_scp(SCP_DATA / "scp41.txt")
    start = time.perf_counter()
    res = solve_set_cover(
        inst.costs, inst.matrix, max_iter=10**6, f_min=1e-12, lns_rounds=10**6, time_limit=0.5
    )
    assert time.perf_counter() - start < 10.0  # generous: checked once per subproblem/round
    assert res.bound <= SCP_OPTIMA["scp41"] <= res.objective
