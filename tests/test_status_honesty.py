"""Statuses that claim only what their certificate shows (issue "Trust", items 4 and 7).

- A dual method never calls ``feasible`` a point that violates the constraints: on an
  infeasible LP (``x + y <= -1`` with ``x, y >= 0``) every dual solver's point is infeasible,
  so its status is not ``feasible`` nor ``optimal``.
- The scipy backend's default (``method="auto"``: SLSQP) certifies an easy convex NLP at the
  default tolerance: ``min e^y1 + e^y2  s.t.  y1 + y2 >= 1`` has ``y = (1/2, 1/2)`` and, from
  stationarity ``e^{y_i} - lam = 0``, ``lam = e^{1/2}`` (hand derivation).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ortools_lag import Model, Solution, Status, Termination, solve
from ortools_lag.model import functions as F

from .certificates import check_solution


def _infeasible_lp() -> Model:
    m = Model("infeasible")
    x = m.var("x", 2)
    m.minimize(x[0] + x[1])
    m.add("c", x.sum() <= -1)
    return m


@pytest.mark.parametrize("solver", ["alm", "subgradient", "bundle"])
def test_dual_methods_never_call_an_infeasible_point_feasible(solver: str) -> None:
    m = _infeasible_lp()
    opts = {"max_iter": 50} if solver != "alm" else {}
    relax = {"relax": ["c"]} if solver != "alm" else {}
    sol = solve(m, solver, **relax, **opts)
    assert sol.status not in (Status.FEASIBLE, Status.OPTIMAL, Status.LOCALLY_OPTIMAL), sol.message
    if sol.x:
        z = m.join(dict(sol.x))
        assert float(m.groups["c"].body.value(z)[0]) > 0  # the point is indeed infeasible


def test_a_feasible_status_means_a_feasible_point() -> None:
    """The same dual method on a feasible LP: whatever it reports, feasible means feasible."""
    m = Model()
    x = m.var("x", 3, ub=1)
    m.minimize(-x[0] - 2 * x[1] - 3 * x[2])
    m.add("cap", x.sum() <= 1.5)
    for solver in ("subgradient", "bundle"):
        sol = solve(m, solver, relax=["cap"], max_iter=3)
        if sol.status in (Status.FEASIBLE, Status.OPTIMAL):
            assert sol.kkt is not None and sol.kkt.primal_residual <= sol.kkt.tolerance
            check_solution(m, sol, duals=False)


def test_scipy_default_certifies_an_easy_convex_nlp() -> None:
    m = Model()
    y = m.var("y", 2, lb=None)
    m.minimize(F.exp(y).sum())
    m.add("c", y.sum() >= 1)
    sol = solve(m, "scipy")
    assert sol.status in (Status.OPTIMAL, Status.LOCALLY_OPTIMAL), sol.message
    assert sol.kkt is not None and sol.kkt.certified
    np.testing.assert_allclose(sol.x["y"], [0.5, 0.5], atol=1e-7)
    assert float(sol.multipliers["c"]) == pytest.approx(math.exp(0.5), rel=1e-7)
    check_solution(m, sol)


@pytest.mark.parametrize(("lb", "ub", "text"), [
    (math.inf, None, r"lb is \+inf, which no value can meet"),
    (None, -math.inf, r"ub is -inf, which no value can meet"),
    ([0.0, math.inf], None, r"lb is \+inf at index \(1,\)"),
])  # fmt: skip
def test_an_empty_bound_set_is_refused_when_declared(lb: object, ub: object, text: str) -> None:
    """Item 3: bounds (+inf, +inf) or (-inf, -inf) leave no value; refused with one message
    before any backend sees the model (scipy used to call such a model unbounded)."""
    from ortools_lag.errors import ModelError

    with pytest.raises(ModelError, match=text):
        Model().var("x", 2, lb=lb, ub=ub)


def test_pdhg_time_limit_bounds_the_whole_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 9: each refinement pass of ``pdhg`` gets what is left of ``time_limit``, and none
    starts once it is spent. A clock that each pass advances by 0.6 s stands in for time, and
    the passes return a point that does not certify (so a refinement is always due)."""
    import types

    from ortools_lag import Termination
    from ortools_lag.solvers.pdhg import restarted
    from ortools_lag.solvers.pdhg import solver as pdhg_solver

    now = [100.0]
    clock = types.SimpleNamespace(perf_counter=lambda: now[0])
    monkeypatch.setattr(pdhg_solver, "time", clock)
    real = restarted.pdhg_solve
    granted: list[float | None] = []

    def one_pass(*args, **kwargs):  # type: ignore[no-untyped-def]
        granted.append(kwargs["time_limit"])
        res = real(*args, **{**kwargs, "time_limit": None, "max_iter": 1})
        now[0] += 0.6
        return type(res)(**{**res.__dict__, "status": "optimal"})  # claims, never certifies

    monkeypatch.setattr(restarted, "pdhg_solve", one_pass)
    m = Model()
    x = m.var("x", 3)
    m.minimize(x[0] + 2 * x[1] + 3 * x[2])
    m.add("c", x.sum() >= 1)
    sol = solve(m, "pdhg", time_limit=1.0, refinements=5)
    assert granted == [pytest.approx(1.0), pytest.approx(0.4)]  # the third pass never starts
    assert sol.termination == Termination.TIME_LIMIT
    assert sol.status != Status.OPTIMAL


# -- issue items 2, 5, 6, 8 and the empty model -----------------------------------------------
from ortools_lag.errors import BackendUnavailableError, ModelError, NotSupportedError  # noqa: E402

from . import status_bank as bank  # noqa: E402

BACKENDS = ["highs", "scipy", "cvxpy", "pyomo"]
ALL_SOLVERS = [*BACKENDS, "ipopt", "subgradient", "bundle", "alm", "admm", "adjoint", "pdhg"]
CASES = {c.name: c for c in bank.cases()}


def _run(case: bank.Case, solver: str) -> tuple[Model, Solution | None]:
    m = case.model()
    opts = bank.SOLVER_OPTIONS.get(solver, lambda _: {})(m)
    try:
        return m, solve(m, solver, **opts)
    except (NotSupportedError, BackendUnavailableError):
        return m, None  # a documented refusal
    except ModelError as exc:  # adjoint: groups that are not layers need given multipliers
        assert solver == "adjoint" and "not layers" in str(exc)
        return m, None


def test_the_bank_has_30_problems_whose_references_agree_with_their_closed_forms() -> None:
    assert len(CASES) >= 30
    for case in CASES.values():
        verdict, best = case.reference()
        assert case.closed is not None
        assert verdict == case.closed[0], case.name
        if verdict == bank.OPTIMAL:
            assert best == pytest.approx(case.closed[1], rel=1e-6, abs=1e-6), case.name


@pytest.mark.parametrize("solver", BACKENDS)
def test_every_backend_status_is_backed_by_its_certificate(solver: str) -> None:
    for case in CASES.values():
        m, sol = _run(case, solver)
        if sol is not None:
            bank.check_claim(case, m, sol, case.reference())


@pytest.mark.slow
@pytest.mark.parametrize("solver", ALL_SOLVERS[4:])
def test_every_other_solver_status_is_backed_by_its_certificate(solver: str) -> None:
    for case in CASES.values():
        m, sol = _run(case, solver)
        if sol is not None:
            bank.check_claim(case, m, sol, case.reference())


def test_highs_proves_a_primal_and_dual_infeasible_lp_infeasible() -> None:
    """Item 2: HiGHS said ``infeasible`` with no ray; now a Farkas vector checked by us."""
    case = CASES["primal_dual_infeasible"]
    m = case.model()
    sol = solve(m, "highs")
    assert sol.status == Status.INFEASIBLE
    assert bank.farkas_value(m, dict(sol.ray["farkas"])) > 0


@pytest.mark.parametrize("solver", ["highs", "cvxpy", "pyomo"])
def test_an_unbounded_convex_qp_comes_with_a_flat_improving_direction(solver: str) -> None:
    """Item 2: ``min x0^2 - x1  s.t.  x0 + x1 >= 0``: along ``d = (0, 1)`` the objective falls
    linearly (``Q d = 0``, ``c d = -1``)."""
    case = CASES["qp_unbounded"]
    sol = solve(case.model(), solver)
    assert sol.status == Status.UNBOUNDED, sol.message
    d = np.asarray(sol.ray["direction"]["x"], dtype=float)
    assert bank.direction_holds(case, d)
    np.testing.assert_allclose(d / np.abs(d).max(), [0.0, 1.0], atol=1e-9)


def test_highs_unbounded_milp_has_an_integer_direction_and_point() -> None:
    case = CASES["milp_unbounded"]
    m = case.model()
    sol = solve(m, "highs")
    assert sol.status == Status.UNBOUNDED
    d = np.asarray(sol.ray["direction"]["x"], dtype=float)
    assert bank.direction_holds(case, d) and np.array_equal(d, np.round(d))
    z0 = m.join(dict(sol.info["feasible_point"]))
    assert np.array_equal(z0, np.round(z0)) and float(z0[0] - z0[1]) <= 1 + 1e-9


@pytest.mark.parametrize("solver", BACKENDS)
def test_a_milp_infeasible_by_integrality_is_not_called_infeasible_without_a_ray(
    solver: str,
) -> None:
    """``2 x0 - 2 x1 == 1`` has no integer point, and its LP relaxation is feasible: no Farkas
    ray exists, so the answer is ``infeasible_or_unbounded`` with that reason."""
    sol = solve(CASES["milp_integrality_infeasible"].model(), solver)
    assert sol.status == Status.INFEASIBLE_OR_UNBOUNDED
    assert "no Farkas ray exists" in sol.message


@pytest.mark.parametrize("name", ["unbounded_lp", "klee_minty_10"])
def test_admm_returns_a_status_when_a_block_is_unbounded(name: str) -> None:
    """Item 5: the single ADMM block of these LPs is unbounded without a proximal term (HiGHS
    said so and ``admm`` raised NotSupportedError)."""
    case = CASES[name]
    m = case.model()
    sol = solve(m, "admm", max_iter=200)
    if name == "unbounded_lp":
        assert sol.status == Status.UNBOUNDED
        assert bank.direction_holds(case, np.asarray(sol.ray["direction"]["x"], dtype=float))
    else:
        assert "proximal" in sol.message
        bank.check_claim(case, m, sol, case.reference())


def test_least_squares_network_is_proven_convex_with_a_bound() -> None:
    """Item 6: ``linear_fit`` (no hidden layer, mean squared error) is a convex QP in the
    weights: a certified KKT point is optimal with the bound 0 (the points lie on a line)."""
    from ortools_lag.spec.loader import load

    problem = load("problems/nn_training/linear_fit.yaml")[0]
    sol = solve(problem, "adjoint", method="lbfgs", epochs=200)
    assert sol.status == Status.OPTIMAL
    assert sol.bound == pytest.approx(0.0, abs=1e-8) and sol.objective == pytest.approx(0, abs=1e-8)


def test_a_hidden_layer_network_is_only_locally_optimal() -> None:
    from ortools_lag.problems import nn_training

    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 2))
    p = nn_training.build(X, (X[:, 0] * X[:, 1] > 0).astype(int), layers=[3], weight_decay=0.1)
    sol = solve(p, "adjoint", method="lbfgs", epochs=2000, tolerance=1e-6)
    assert sol.status in (Status.LOCALLY_OPTIMAL, Status.FEASIBLE), sol.message
    assert math.isnan(sol.bound)


@pytest.mark.parametrize("name", ["free_lp1", "free_lp2"])
@pytest.mark.parametrize("solver", ["subgradient", "bundle"])
def test_dual_methods_start_in_the_dual_domain_on_free_variable_lps(name: str, solver: str) -> None:
    """Item 8: at ``lam = 0`` the Lagrangian of these LPs (all groups relaxed, ``x`` free) is
    unbounded; the methods project the start onto the domain of ``q`` and reach the optimum's
    bound (-9, -99.5: cvxpy's lp_1 and lp_2)."""
    case = CASES[name]
    m = case.model()
    sol = solve(m, solver, relax=list(m.groups), max_iter=100)
    assert sol.termination != Termination.CONVERGED or math.isfinite(sol.bound)
    assert sol.bound == pytest.approx(case.closed[1], abs=1e-6)
    assert "dual domain" in sol.message


@pytest.mark.parametrize("solver", ["subgradient", "bundle"])
def test_a_dual_method_never_calls_an_infinite_bound_converged(solver: str) -> None:
    m = CASES["unbounded_free"].model()  # q = -inf everywhere: the dual domain is empty
    sol = solve(m, solver, relax=list(m.groups), max_iter=50)
    assert sol.termination != Termination.CONVERGED and sol.bound == -math.inf
    assert "the dual domain is empty" in sol.message


@pytest.mark.parametrize("keep", [["r2", "nonneg"], ["nonneg"], ["r1", "r2"]])
def test_alm_relaxes_any_subset_of_groups(keep: list[str]) -> None:
    """Item 8: ``alm`` keeps affine groups in its inner QP (it refused: "keeps only bounds")."""
    case = CASES["free_lp1"]
    m = case.model()
    sol = solve(m, "alm", relax=[g for g in m.groups if g not in keep])
    assert sol.status == Status.OPTIMAL, sol.message
    assert sol.objective == pytest.approx(-9.0, abs=1e-6)
    check_solution(m, sol)


@pytest.mark.parametrize("solver", [*ALL_SOLVERS, "pdhg"])
def test_an_empty_model_is_optimal_with_its_constant(solver: str) -> None:
    sol = solve(Model(), solver)
    assert sol.status == Status.OPTIMAL and sol.objective == 0.0 and sol.bound == 0.0
    assert sol.kkt is not None and sol.kkt.certified
