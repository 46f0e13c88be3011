"""The convergence figure: its panels show the Solution's own history."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from ortools_lag import ModelError, Solution, Status, Termination, solve
from ortools_lag.plot import convergence

from .test_dual_methods import csp_problem


@pytest.fixture(scope="module")
def solution() -> Solution:
    return solve(csp_problem(14), "subgradient", max_iter=40)


def test_panels_show_the_history(solution: Solution, tmp_path) -> None:
    fig = convergence(solution)
    top, step, viol = fig.axes
    assert [a.get_title() for a in fig.axes] == [
        "bounds and gap",
        "step size",
        "violation of the relaxed constraints",
    ]
    h = solution.history
    assert h is not None
    lines = {ln.get_label(): ln for ln in top.get_lines()}
    np.testing.assert_array_equal(lines["best bound"].get_ydata(), h.bound)
    np.testing.assert_array_equal(lines["best feasible"].get_ydata(), h.primal)
    np.testing.assert_array_equal(lines["dual value q(λ)"].get_xdata(), h.iteration)
    assert step.get_yscale() == "log" and viol.get_yscale() == "log"
    shown = step.get_lines()[0].get_ydata()
    positive = h.step > 0
    np.testing.assert_array_equal(shown[positive], h.step[positive])
    assert np.isnan(shown[~positive]).all()  # the first step is nan: a gap on a log axis
    out = tmp_path / "convergence.png"
    fig.savefig(out)
    assert out.stat().st_size > 1000


def test_no_feasible_point_and_custom_title() -> None:
    from ortools_lag import Model

    m = Model()
    x = m.var("x", 2, ub=1)
    m.minimize(-x.sum())
    m.add("cap", x.sum() <= 0.5)
    m.add("int", x[0] - x[1] == 0.25)
    sol = solve(m, "subgradient", relax=["cap", "int"], max_iter=5, recovery="none")
    assert sol.status == Status.NO_SOLUTION
    fig = convergence(sol, title="no point", figsize=(4, 5))
    assert fig._suptitle is not None and fig._suptitle.get_text() == "no point"
    assert len(fig.axes[0].get_lines()) == 2  # dual values and bound only


def test_solution_without_history_raises() -> None:
    with pytest.raises(ModelError, match="no history"):
        convergence(Solution(Status.OPTIMAL, Termination.CONVERGED, solver="highs"))
