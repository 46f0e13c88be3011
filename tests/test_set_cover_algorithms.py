"""Set covering: OR-Library reader and Beasley's Lagrangian heuristic, against outside answers.

Known answers: the optima of ``data/MANIFEST.md`` (OR-Library, Beasley 1987); LP-relaxation
values computed here with HiGHS (:func:`scipy.optimize.linprog`); the Lagrangian value of the
returned multipliers re-evaluated here with dense numpy arithmetic.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from ortools_lag.algorithms.set_cover import (
    greedy_cover,
    initial_multipliers,
    lagrangian_oracle,
    remove_redundant,
    solve_set_cover,
)
from ortools_lag.errors import ModelError, SpecError
from ortools_lag.io.scp import parse_scp, read_scp
from tests.manifest_answers import SCP_DATA, SCP_OPTIMA, SCP_SLOW, cover_lagrangian, cover_lp_value


def _random_instance(seed: int, m: int = 25, n: int = 60) -> tuple[np.ndarray, sp.csr_matrix]:
    rng = np.random.default_rng(seed)
    a = (rng.random((m, n)) < 0.12).astype(float)
    a[np.arange(m), rng.integers(0, n, m)] = 1.0
    return rng.integers(1, 20, n).astype(float), sp.csr_matrix(a)


@pytest.mark.parametrize(
    "name",
    [pytest.param(k, marks=pytest.mark.slow) if k in SCP_SLOW else k for k in sorted(SCP_OPTIMA)],
)
def test_beasley_heuristic_on_orlib(name: str) -> None:
    inst = read_scp(SCP_DATA / f"{name}.txt")
    c, a = inst.costs, inst.matrix
    res = solve_set_cover(c, a, seed=0)
    opt, lp = SCP_OPTIMA[name], cover_lp_value(c, a)
    # the cover: feasible, its cost recomputed, within 2% of the optimum
    assert (a @ res.x.astype(float) >= 1).all()
    assert math.isclose(c[res.x].sum(), res.objective)
    assert res.objective <= 1.02 * opt
    # the bound: never above the optimum (nor the LP), within 0.1% of the LP value
    assert res.bound <= opt and res.bound <= lp + 1e-6 * lp
    assert res.bound >= lp * (1 - 0.001)
    assert res.bound_int == math.ceil(res.bound - 1e-9 * res.bound) <= opt
    # independent re-evaluation of L at the returned multipliers
    assert (res.multipliers >= 0).all()
    assert math.isclose(cover_lagrangian(c, a.toarray(), res.multipliers), res.bound, rel_tol=1e-9)
    assert math.isclose(res.gap, (res.objective - res.bound_int) / res.objective)
    hist = res.history
    assert len(hist["value"]) == res.iterations
    assert np.all(np.diff(hist["best_bound"]) >= 0) and np.all(np.diff(hist["best_primal"]) <= 0)


@pytest.mark.parametrize("seed", range(4))
def test_oracle_formula_and_weak_duality(seed: int) -> None:
    c, a = _random_instance(seed)
    lp = cover_lp_value(c, a)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        u = rng.random(a.shape[0]) * 10
        r = lagrangian_oracle(c, a, u)
        assert math.isclose(r.value, cover_lagrangian(c, a.toarray(), u), rel_tol=1e-12)
        assert r.value <= lp + 1e-9
        assert np.array_equal(r.x, c - a.T @ u < 0)
        assert np.allclose(r.subgradient, 1 - a @ r.x.astype(float))


@pytest.mark.parametrize("seed", range(4))
def test_small_instances_against_highs_mip(seed: int) -> None:
    from scipy.optimize import Bounds, LinearConstraint, milp

    c, a = _random_instance(seed)
    mip = milp(
        c, constraints=LinearConstraint(a, lb=1), integrality=np.ones(c.size), bounds=Bounds(0, 1)
    )
    res = solve_set_cover(c, a, seed=seed)
    assert res.bound <= mip.fun + 1e-9
    assert res.objective <= 1.02 * mip.fun
    assert (a @ res.x.astype(float) >= 1).all()
    # columns fixed at 0 by reduced cost are absent from every cover cheaper than ours
    if mip.fun < res.objective - 1e-9:
        assert not (res.fixed_zero & (mip.x > 0.5)).any()


def test_greedy_and_redundancy_removal() -> None:
    c, a = _random_instance(11)
    x = greedy_cover(c, a)
    assert (a @ x.astype(float) >= 1).all()
    count = a @ x.astype(float)
    at = a.T.tocsr()
    for j in np.flatnonzero(x):  # no column is redundant
        assert count[at.indices[at.indptr[j] : at.indptr[j + 1]]].min() == 1
    everything = remove_redundant(c, a, np.ones(c.size, dtype=bool))
    assert (a @ everything.astype(float) >= 1).all()
    # Lagrangian scores: a negative score is taken at once
    scores = c.copy()
    scores[5] = -1.0
    assert greedy_cover(c, a, scores=scores, start=None)[5] or a[:, 5].nnz == 0


def test_initial_multipliers_follow_beasley() -> None:
    a = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [1, 0, 0]]))
    c = np.array([4.0, 6.0, 1.0])
    # c_j / |rows of j| = 2, 3, 1: row 0 -> min(2, 3), row 1 -> min(3, 1), row 2 -> 2
    assert initial_multipliers(c, a).tolist() == [2.0, 1.0, 2.0]


def test_reader_against_the_file_text() -> None:
    inst = read_scp(SCP_DATA / "scp41.txt")
    assert inst.shape == (200, 1000) and inst.name == "scp41"
    tokens = (SCP_DATA / "scp41.txt").read_text().split()
    assert inst.costs[:5].tolist() == [float(t) for t in tokens[2:7]]
    first_row = [int(t) - 1 for t in tokens[1003 : 1003 + int(tokens[1002])]]
    assert sorted(inst.matrix[0].indices.tolist()) == sorted(first_row)
    assert set(np.unique(inst.matrix.data).tolist()) == {1}


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("2 3\n1 2 x\n", 2, "expected a number"),
        ("2 3\n1 2 3\n2 1 2\n", 3, "ends early"),
        ("2 3\n1 2 3\n2 1 2\n1 4\n", 4, "1..3"),
        ("2 3\n1 2 3\n0\n1 2\n", 3, "column count"),
        ("1 2\n1 1\n1 2\n7\n", 4, "unexpected"),
    ],
)
def test_malformed_files_name_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        read_scp(path)
    assert info.value.file == str(path) and info.value.line == line
    assert words in str(info.value)


def test_bad_models_raise() -> None:
    with pytest.raises(ModelError, match="covered by no column"):
        solve_set_cover(np.ones(2), sp.csr_matrix(np.array([[1, 0], [0, 0]])))
    with pytest.raises(ModelError, match="do not match"):
        solve_set_cover(np.ones(3), sp.csr_matrix(np.eye(2)))
    assert parse_scp("1 1\n2\n1 1\n").costs.tolist() == [2.0]
