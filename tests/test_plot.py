"""The convergence figure: its panels show the Solution's own history."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from pathlib import Path

import numpy as np
import pytest

from ortools_lag import History, ModelError, Solution, Status, Termination, solve
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
    with pytest.raises(ModelError, match="solver 'highs' records no per-iteration history"):
        convergence(Solution(Status.OPTIMAL, Termination.CONVERGED, solver="highs"))
    one = History.from_records([{"iteration": 1, "bound": 2.0, "primal": 3.0}])
    sol = Solution(Status.FEASIBLE, Termination.CONVERGED, solver="knapsack_dp", history=one)
    with pytest.raises(ModelError, match="finished in one iteration"):
        convergence(sol)


# -- every shipped problem file: its figure shows the numbers the summary prints ---------------
ROOT = Path(__file__).parents[1]
SHIPPED = sorted((ROOT / "problems").rglob("*.yaml"))
#: Files whose solve takes over a second here run in the slow part.
SLOW = {
    "scp51",
    "scp52",
    "scp61",
    "scpa1",
    "kroA100",
    "st70",
    "att48",
    "eil51",
    "gap4_3_min",
    "rome99",
    "netgen2",
    "cap101",
    "five_cycle",
    "pandt_bundle",
    "circle_alm",
}
CASES = [pytest.param(p, marks=pytest.mark.slow) if p.stem in SLOW else p for p in SHIPPED]


@pytest.mark.parametrize("path", CASES, ids=lambda p: str(p.relative_to(ROOT / "problems")))
def test_every_shipped_file_draws_its_own_numbers(path: Path) -> None:
    from ortools_lag.plot import unavailable
    from ortools_lag.solvers.dispatch import choose_solver
    from ortools_lag.spec.loader import load_file

    loaded = load_file(path)
    name = loaded.solver.name
    name = choose_solver(loaded.problem) if name == "auto" else name
    sol = solve(loaded.problem, name, **loaded.solver.options)
    why = unavailable(sol)
    if why is not None:  # a clear reason, never an empty figure
        assert sol.history is None or len(sol.history) <= 1, why
        with pytest.raises(ModelError, match="no convergence figure"):
            convergence(sol)
        return
    fig = convergence(sol)
    top, step, viol = fig.axes
    for ax in fig.axes:  # a drawn line or a sentence saying what was not recorded
        assert ax.get_lines() or ax.texts
    lines = {ln.get_label(): ln.get_ydata() for ln in top.get_lines()}
    assert lines, "the bounds panel is empty"
    if sol.ok and "best feasible" in lines:  # the last best point is the reported objective
        assert lines["best feasible"][-1] == pytest.approx(sol.objective, rel=1e-9, abs=1e-9)
    if "best bound" in lines and np.isfinite(sol.bound):
        assert lines["best bound"][-1] == pytest.approx(sol.bound, rel=1e-9, abs=1e-9)
    if name in {"gap_lagrangian", "ufl_lagrangian", "held_karp", "beasley", "csp_exact"}:
        assert viol.get_lines() and np.isfinite(viol.get_lines()[0].get_ydata()).any()


def test_cli_plot_of_a_family_solver_and_of_a_network_model(tmp_path: Path) -> None:
    from ortools_lag.cli import main

    png = tmp_path / "hk.png"
    assert main(["solve", str(ROOT / "problems/tsp/burma14.yaml"), "--plot", str(png), "-q"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    nn = tmp_path / "nn.png"  # was a crash (broadcast (0,) vs (5,)): no bound is recorded
    assert (
        main(["solve", str(ROOT / "problems/nn_training/linear_fit.yaml"), "--plot", str(nn)]) == 0
    )
    assert nn.stat().st_size > 1000
