"""Generalized assignment (OR-Library gap1-gap4, minimisation form) by Lagrangian relaxation.

Relaxing the one-job-one-agent rows splits the inner problem into one 0-1 knapsack per agent,
solved by the generic HiGHS block path. Known answers: the published optima of
``data/MANIFEST.md`` (every bound must lie below them) and the Lagrangian dual values of the
issue (Fisher, Jaikumar & Van Wassenhove's relaxation; checked here against HiGHS's LP bound,
which they must not fall below).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from ortools_lag import Model, Status, solve
from ortools_lag.io.gap import read_gap
from ortools_lag.lagrangian import Lagrangian
from ortools_lag.model import to_standard_form
from ortools_lag.solvers.backends.highs import HighsOptions, solve_standard_form
from ortools_lag.solvers.bound_certificate import certify_bound

from .certificates import check_solution

DATA = Path(__file__).parents[1] / "data"

#: The Lagrangian dual values (minimisation form) of problems 1-5 of each file.
DUAL = {
    "gap1": [260, 269, 256, 274, 251],
    "gap2": [277, 267.75, 260, 267.25, 267],
    "gap3": [437.667, 415, 445.4, 428.667, 411],
    "gap4": [423, 424, 425.5, 395, 404.5],
}


def published_minimum(file: str, problem: int) -> float:
    """The published optimum (minimisation) from data/MANIFEST.md."""
    text = (DATA / "MANIFEST.md").read_text()
    row = re.search(rf"^\| {file}\.txt \| {problem} \| [^|]+ \| [^|]+ \| ([0-9.]+) \|", text, re.M)
    assert row is not None, f"{file} {problem} not in MANIFEST.md"
    return float(row.group(1))


def gap_model(file: str, problem: int) -> Model:
    """min c.x s.t. every job on one agent ("assign"), agents' capacities, x binary."""
    inst = read_gap(DATA / "gap" / f"{file}.txt", problem)
    m = Model(inst.name)
    x = m.var("x", inst.shape, domain="binary")
    m.minimize((inst.cost * x).sum())
    m.add("assign", x.sum(axis=0) == 1)
    m.add("capacity", (inst.weight * x).sum(axis=1) <= inst.capacity)
    return m


def lp_bound(model: Model) -> tuple[float, dict[str, np.ndarray]]:
    """HiGHS's LP relaxation: its value and its multipliers (a valid dual starting point)."""
    sf = dataclasses.replace(to_standard_form(model), integrality=np.zeros(model.n, dtype=bool))
    raw = solve_standard_form(sf, HighsOptions())
    assert raw.x is not None and raw.y is not None
    return sf.objective(raw.x), sf.unpack_rows(raw.y)


def check_gap_solution(file: str, k: int, model: Model, sol) -> None:
    opt, dual = published_minimum(file, k), DUAL[file][k - 1]
    lp, _ = lp_bound(model)
    assert sol.bound <= opt + 1e-9
    assert sol.bound == pytest.approx(dual, rel=1e-4)
    assert sol.bound >= lp - 1e-6  # the knapsacks lack the integrality property
    assert sol.kkt is not None and sol.kkt.kind == "lagrangian" and sol.kkt.certified
    assert sol.kkt.dual_objective == pytest.approx(sol.bound, rel=1e-6)
    assert sol.info["inner"] == "highs blocks (5)"
    if sol.ok:
        check_solution(model, sol, duals=False)
        assert sol.objective >= opt - 1e-9
    if sol.status == Status.OPTIMAL:
        assert sol.objective == pytest.approx(opt)


def test_published_optima_are_read() -> None:
    assert published_minimum("gap1", 1) == 261 and published_minimum("gap4", 5) == 406


def test_one_block_per_agent() -> None:
    lag = Lagrangian(gap_model("gap1", 1), relax=["assign"])
    assert lag.n_blocks == 5 and lag.size == 15
    lag.close()


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_gap1_bundle_cold(k: int) -> None:
    model = gap_model("gap1", k)
    sol = solve(model, "bundle", relax=["assign"], max_iter=300)
    check_gap_solution("gap1", k, model, sol)


def test_gap1_subgradient_bounds_are_valid() -> None:
    model = gap_model("gap1", 1)
    sol = solve(model, "subgradient", relax=["assign"], max_iter=40)
    assert sol.bound <= published_minimum("gap1", 1)
    rep = certify_bound(model, ["assign"], sol.multipliers, sol.bound)
    assert rep.certified
    assert np.all(np.diff(sol.history.bound) >= 0)


@pytest.mark.slow
@pytest.mark.parametrize("file", ["gap2", "gap3", "gap4"])
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_gap2_to_gap4_bundle_from_lp_duals(file: str, k: int) -> None:
    model = gap_model(file, k)
    _, lam = lp_bound(model)
    sol = solve(model, "bundle", relax=["assign"], max_iter=400, warm_start=lam)
    check_gap_solution(file, k, model, sol)
