"""The ``callback`` option of ``pdhg`` and ``adjoint``: told of the run, able to stop it.

Known answers: Reddy Mikks (max 5a + 4b s.t. 6a + 4b <= 24, a + 2b <= 6) has the optimum 21 at
(3, 1.5) with multipliers (0.75, 0.5) by hand (problems/model/reddy_mikks.yaml); the linear fit
of problems/nn_training/linear_fit.yaml reaches the loss 0 (its points lie on y = 2x + 1).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ortools_lag import Model, Status, Termination, solve
from ortools_lag.solvers.nn.adjoint_progress import AdjointProgress
from ortools_lag.solvers.pdhg.solver import PdhgProgress
from ortools_lag.spec.loader import load_file
from tests.certificates import check_solution

ROOT = Path(__file__).parents[1]
LINEAR_FIT = ROOT / "problems" / "nn_training" / "linear_fit.yaml"


def _reddy_mikks() -> Model:
    m = Model()
    x = m.var("x", 2)
    m.maximize(5 * x[0] + 4 * x[1])
    m.add("m1", 6 * x[0] + 4 * x[1] <= 24)
    m.add("m2", x[0] + 2 * x[1] <= 6)
    return m


@pytest.mark.parametrize(("method", "every"), [("adaptive", 32), ("halpern", 64)])
def test_pdhg_reports_every_measurement_and_the_end(method: str, every: int) -> None:
    m = _reddy_mikks()
    seen: list[PdhgProgress] = []
    sol = solve(m, "pdhg", tolerance=1e-8, method=method, callback=seen.append)
    assert sol.status == Status.OPTIMAL and sol.objective == pytest.approx(21, abs=1e-5)
    check_solution(m, sol, tol=1e-6)
    its = [p.iteration for p in seen]
    assert its == sorted(set(its)) and its[-1] == sol.iterations  # the bar closes there
    assert all(k % every == 0 for k in its[:-1])
    last = seen[-1]  # the user's sense (a maximisation): objective and bound near +21
    assert last.objective == pytest.approx(21, abs=1e-5)
    assert last.bound == pytest.approx(21, abs=1e-5)
    assert last.gap == pytest.approx(abs(last.objective - last.bound))


def test_pdhg_callback_stops_the_run() -> None:
    seen: list[PdhgProgress] = []

    def stop_now(p: PdhgProgress) -> bool:
        seen.append(p)
        return True

    sol = solve(_reddy_mikks(), "pdhg", tolerance=1e-8, callback=stop_now)
    assert sol.termination == Termination.CALLBACK
    assert sol.iterations == 32 and [p.iteration for p in seen] == [32]


def test_adjoint_reports_each_epoch_and_stops_on_request() -> None:
    loaded = load_file(LINEAR_FIT)
    seen: list[AdjointProgress] = []
    sol = solve(loaded.problem, "adjoint", method="adam", epochs=5, callback=seen.append)
    assert [p.iteration for p in seen] == [1, 2, 3, 4, 5]
    assert sol.termination == Termination.ITERATION_LIMIT
    assert all(p.objective >= 0 for p in seen)  # a mean squared error
    stop: list[AdjointProgress] = []

    def stop_at_3(p: AdjointProgress) -> bool:
        stop.append(p)
        return p.iteration >= 3

    sol = solve(loaded.problem, "adjoint", method="adam", epochs=50, callback=stop_at_3)
    assert sol.termination == Termination.CALLBACK and sol.iterations == 3
    assert [p.iteration for p in stop] == [1, 2, 3]


def test_adjoint_lbfgs_reports_each_iteration() -> None:
    loaded = load_file(LINEAR_FIT)
    seen: list[AdjointProgress] = []
    sol = solve(loaded.problem, "adjoint", method="lbfgs", epochs=200, callback=seen.append)
    assert sol.objective == pytest.approx(0.0, abs=1e-8)  # the points lie on y = 2x + 1
    check_solution(loaded.problem.model, sol)
    assert [p.iteration for p in seen] == list(range(1, sol.iterations + 1))
    assert seen[-1].objective == pytest.approx(0.0, abs=1e-8)
    stop = solve(loaded.problem, "adjoint", method="lbfgs", callback=lambda p: True)
    assert stop.termination == Termination.CALLBACK and stop.iterations == 1
