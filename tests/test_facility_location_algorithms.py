"""Uncapacitated facility location: OR-Library reader and Lagrangian solve, against outside answers.

Known answers: the optima of ``data/MANIFEST.md`` and the published ``.opt`` files (OR-Library,
Beasley); LP-relaxation values computed here with HiGHS (:func:`scipy.optimize.linprog`); small
instances enumerated exhaustively; every bound re-evaluated here from the returned multipliers.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from ortools_lag.algorithms.facility_location import (
    assignment_cost,
    lagrangian_oracle,
    open_close_swap,
    solve_facility_location,
)
from ortools_lag.errors import ModelError, SpecError
from ortools_lag.io.ufl import parse_ufl, parse_ufl_opt, read_ufl, read_ufl_opt

DATA = Path(__file__).parents[1] / "data" / "ufl" / "orlib_uncap"

# MANIFEST.md: optimal costs (cap101 to the digits of its .opt file)
OPTIMA = {
    "70/cap71": 932615.750,
    "70/cap72": 977799.400,
    "70/cap73": 1010641.450,
    "70/cap74": 1034976.975,
    "100/cap101": 796648.4375,
}


def _reevaluate(f: np.ndarray, c: np.ndarray, lam: np.ndarray) -> float:
    """L(lam) = -sum(lam) + sum_i min(0, f_i + sum_j min(0, c_ij + lam_j)), term by term."""
    total = -float(np.sum(lam))
    for i in range(f.size):
        total += min(0.0, f[i] + sum(min(0.0, c[i, j] + lam[j]) for j in range(c.shape[1])))
    return total


def _lp_value(f: np.ndarray, c: np.ndarray) -> float:
    m, n = c.shape
    cost = np.concatenate([f, c.ravel()])
    a_eq = sp.hstack([sp.csr_matrix((n, m)), sp.kron(np.ones((1, m)), sp.eye(n))])
    a_ub = sp.hstack([-sp.kron(sp.eye(m), np.ones((n, 1))), sp.eye(m * n)])
    res = linprog(
        cost,
        A_ub=a_ub.tocsr(),
        b_ub=np.zeros(m * n),
        A_eq=a_eq.tocsr(),
        b_eq=np.ones(n),
        bounds=(0, 1),
        method="highs",
    )
    assert res.status == 0
    return float(res.fun)


def _random(seed: int, m: int = 8, n: int = 25) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    fac, cus = rng.random((m, 2)), rng.random((n, 2))
    c = np.sqrt(((fac[:, None] - cus[None]) ** 2).sum(-1)) * 100
    return rng.uniform(20, 80, m), c


@pytest.mark.parametrize("key", sorted(OPTIMA))
def test_orlib_instances_are_solved_to_proven_optimality(key: str) -> None:
    path = DATA / f"{key.split('/')[0]}" / f"{key.split('/')[1]}.txt"
    inst = read_ufl(path)
    f, c = inst.fixed_costs, inst.costs
    res = solve_facility_location(f, c)
    opt = OPTIMA[key]
    assert math.isclose(res.objective, opt, rel_tol=1e-9)
    assert res.gap <= 1e-6
    assert res.bound <= opt * (1 + 1e-12)
    # the solution: recomputed from the open set and the assignment
    cols = np.arange(c.shape[1])
    assert res.open[res.assignment].all()
    assert math.isclose(f[res.open].sum() + c[res.assignment, cols].sum(), res.objective)
    # independent re-evaluation of L at the returned multipliers
    assert math.isclose(_reevaluate(f, c, res.multipliers), res.bound, rel_tol=1e-12)
    hist = res.history
    assert len(hist["value"]) == res.iterations
    assert hist["best_bound"][-1] == res.bound


@pytest.mark.parametrize("key", sorted(OPTIMA))
def test_reader_and_opt_file_agree(key: str) -> None:
    folder, name = key.split("/")
    inst = read_ufl(DATA / folder / f"{name}.txt")
    m, n = inst.shape
    assign, objective = read_ufl_opt(DATA / folder / f"{name}.txt.opt", n=n, m=m)
    assert math.isclose(objective, OPTIMA[key], rel_tol=1e-9)
    opened = np.unique(assign)
    value = inst.fixed_costs[opened].sum() + inst.costs[assign, np.arange(n)].sum()
    assert math.isclose(value, objective, rel_tol=1e-12)
    assert math.isclose(
        assignment_cost(inst.fixed_costs, inst.costs, np.isin(np.arange(m), opened)), objective
    )


def test_reader_against_the_file_text() -> None:
    inst = read_ufl(DATA / "70" / "cap71.txt")
    assert inst.shape == (16, 50)
    tokens = (DATA / "70" / "cap71.txt").read_text().split()
    assert inst.fixed_costs[0] == float(tokens[3]) and inst.capacities[0] == float(tokens[2])
    first = 2 + 2 * 16
    assert inst.demands[0] == float(tokens[first])
    assert inst.costs[:, 0].tolist() == [float(t) for t in tokens[first + 1 : first + 17]]


@pytest.mark.parametrize("seed", range(4))
def test_bound_against_highs_lp_and_enumeration(seed: int) -> None:
    f, c = _random(seed)
    lp = _lp_value(f, c)
    res = solve_facility_location(f, c)
    best = min(
        assignment_cost(f, c, np.array(o, dtype=bool))
        for o in itertools.product([0, 1], repeat=f.size)
        if any(o)
    )
    assert res.bound <= lp + 1e-9 * lp
    assert res.bound >= lp * (1 - 1e-4)
    assert math.isclose(res.objective, best, rel_tol=1e-12)
    assert math.isclose(_reevaluate(f, c, res.multipliers), res.bound, rel_tol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_oracle_weak_duality(seed: int) -> None:
    f, c = _random(seed)
    lp = _lp_value(f, c)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        lam = -rng.uniform(0, 100, c.shape[1])
        r = lagrangian_oracle(f, c, lam)
        assert math.isclose(r.value, _reevaluate(f, c, lam), rel_tol=1e-12)
        assert r.value <= lp + 1e-9
        assert np.allclose(r.subgradient, r.x.sum(axis=0) - 1)
        assert not (r.x & ~r.open[:, None]).any()


def test_open_close_swap_reaches_a_local_optimum() -> None:
    f, c = _random(5)
    o, cost = open_close_swap(f, c, np.zeros(f.size, dtype=bool))
    assert math.isclose(cost, assignment_cost(f, c, o))
    for i in range(f.size):  # no single open/close move improves
        t = o.copy()
        t[i] = not t[i]
        assert assignment_cost(f, c, t) >= cost - 1e-9
    for i, k in itertools.product(np.flatnonzero(o), np.flatnonzero(~o)):  # nor a swap
        t = o.copy()
        t[i], t[k] = False, True
        assert assignment_cost(f, c, t) >= cost - 1e-9


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("2 1\n10 5\n10 x\n", 3, "expected a number"),
        ("2 2\n10 5\n10 7\n3 1 9\n", 4, "ends early"),
        ("0 2\n", 1, "positive integer"),
        ("1 1\n10 5\n3 -1\n", 3, ">= 0"),
    ],
)
def test_malformed_files_name_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        read_ufl(path)
    assert info.value.file == str(path) and info.value.line == line
    assert words in str(info.value)


def test_opt_file_errors_and_capacity_word() -> None:
    with pytest.raises(SpecError, match="0..1"):
        parse_ufl_opt("0 3 10.0", m=2)
    with pytest.raises(SpecError, match="expected 3"):
        parse_ufl_opt("0 1 10.0", n=3)
    assert math.isnan(parse_ufl("1 1\ncapacity 2\n1 3\n").capacities[0])
    with pytest.raises(ModelError):
        solve_facility_location(np.ones(2), np.ones((3, 2)))
