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

from ortools_lag import Model, Status, solve
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
