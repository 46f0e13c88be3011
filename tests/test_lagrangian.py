"""The Lagrangian: dual values, supergradients, signs and the inner problem's three paths.

Known answers are hand derivations (each written next to its test) and agreement with HiGHS on
the whole kept-constraint problem.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ortools_lag import Model, ModelError, NotSupportedError, Problem, Relaxation, solve
from ortools_lag.lagrangian import Lagrangian
from ortools_lag.solvers.bound_certificate import certify_bound, recompute_dual

from .test_dual_methods import csp_model, dijkstra_oracle


def box_lp() -> Model:
    m = Model("box_lp")
    x = m.var("x", 2, ub=1)
    m.minimize(-x[0] - 2 * x[1])
    m.add("cap", x.sum() <= 1)
    return m


def test_dual_value_by_hand() -> None:
    # q(lam) = min(0, lam - 1) + min(0, lam - 2) - lam over the unit box
    lag = Lagrangian(box_lp(), relax=["cap"])
    for lam, q in [(0.0, -3.0), (0.5, -2.5), (1.5, -2.0), (3.0, -3.0)]:
        val, x, g = lag.dual_value({"cap": lam})
        assert val == pytest.approx(q, abs=1e-12)
        assert g["cap"] == pytest.approx(x["x"].sum() - 1)
    assert lag.inner == "closed form" and lag.n_blocks == 0


def test_projection_onto_signs() -> None:
    lag = Lagrangian(box_lp(), relax=["cap"])
    val, _, _ = lag.dual_value({"cap": -5.0})  # lam >= 0 on a <= group: projected to 0
    assert val == pytest.approx(-3.0)
    assert lag.project(np.array([-5.0])).tolist() == [0.0]


def test_equality_multiplier_is_free() -> None:
    # min x^2 + y^2 + lam (x + y - 1): x = y = -lam / 2, q = -lam^2 / 2 - lam
    m = Model()
    x = m.var("x", 2, lb=None)
    m.minimize((x * x).sum())
    m.add("sum", x.sum() == 1)
    lag = Lagrangian(m, relax="sum")
    for lam in (-1.0, 1.0, -3.0):
        val, xs, g = lag.dual_value({"sum": lam})
        assert val == pytest.approx(-(lam**2) / 2 - lam)
        np.testing.assert_allclose(xs["x"], [-lam / 2, -lam / 2])
        assert g["sum"] == pytest.approx(-lam - 1)


def test_maximisation_gives_an_upper_bound() -> None:
    # max p.x s.t. w.x <= 14, x binary; q(lam) = sum(max(0, p - lam w)) + 14 lam >= optimum 21
    m = Model()
    x = m.var("x", 4, domain="binary")
    p, w = np.array([8.0, 11.0, 6.0, 4.0]), np.array([5.0, 7.0, 4.0, 3.0])
    m.maximize(p @ x)
    m.add("budget", w @ x <= 14)
    lag = Lagrangian(m, relax=["budget"])
    for lam in (0.0, 1.5, 2.0):
        val, xs, _ = lag.dual_value({"budget": lam})
        assert val == pytest.approx(np.maximum(p - lam * w, 0).sum() + 14 * lam)
        assert val >= 21 - 1e-9
        assert lag.value(xs, {"budget": lam}) == pytest.approx(val)


def test_two_sided_group_signed_multiplier() -> None:
    # 1 <= x0 + 2 x1 <= 4, x0 in [0, 2], x1 in [0, 3], min -x0 - x1 (optimum -3 at (2, 1))
    m = Model()
    x = m.var("x", 2, lb=0, ub=[2, 3])
    m.minimize(-x[0] - x[1])
    m.add("band", (x[0] + 2 * x[1]).between(1, 4))
    lag = Lagrangian(m, relax=["band"])
    cases = [(0.5, -3.0, -2.0), (-0.5, -8.5, 7.0), (0.0, -5.0, 4.0)]  # (y, q, supergradient)
    for y, q, g in cases:
        val, _, sg = lag.dual_value({"band": y})
        assert val == pytest.approx(q)
        assert sg["band"] == pytest.approx(g)


def test_quadratic_relaxed_group() -> None:
    # min x + y + lam (x^2 + y^2 - 1): x = y = -1/(2 lam), q = -1/(2 lam) - lam for lam > 0
    m = Model()
    x = m.var("x", 2, lb=None)
    m.minimize(x.sum())
    m.add("circle", (x * x).sum() == 1)
    lag = Lagrangian(m, relax=["circle"])
    for lam in (0.5, 1 / math.sqrt(2), 2.0):
        assert lag.dual_value({"circle": lam})[0] == pytest.approx(-1 / (2 * lam) - lam)
    assert lag.dual_value({"circle": -1.0})[0] == -math.inf


def test_unbounded_and_infeasible_inner_problem() -> None:
    m = Model()
    x = m.var("x", 1)
    m.minimize(-x[0])
    m.add("cap", x[0] <= 1)
    lag = Lagrangian(m, relax=["cap"])
    assert lag.dual_value({"cap": 0.5})[0] == -math.inf
    assert lag.dual_value({"cap": 2.0})[0] == pytest.approx(-2.0)  # (2 - 1) x - 2 at x = 0
    m2 = Model()
    y = m2.var("y", 2, ub=1)
    m2.minimize(y.sum())
    m2.add("need", y.sum() >= 3)
    m2.add("soft", y[0] <= 1)
    lag2 = Lagrangian(m2, relax=["soft"])
    assert lag2.evaluate(np.zeros(1)).status == "infeasible"
    sol = solve(m2, "subgradient", relax=["soft"])
    assert sol.status.value == "infeasible"


def test_decomposition_into_blocks() -> None:
    # two independent knapsack rows and a free column: 2 HiGHS blocks + closed form
    m = Model()
    x = m.var("x", 5, domain="binary")
    m.minimize(np.array([-3.0, -2.0, -4.0, -1.0, 2.0]) @ x)
    m.add("k1", 2 * x[0] + 3 * x[1] <= 3)
    m.add("k2", x[2] + x[3] <= 1)
    m.add("link", x[0] + x[2] + x[4] >= 1)
    lag = Lagrangian(m, relax=["link"])
    assert lag.n_blocks == 2 and lag.inner == "highs blocks (2)"
    # lam = 1: costs (-4, -2, -5, -1, 1) -> x = (1, 0, 1, 0, 0), q = -9 + 1 = -8
    val, xs, g = lag.dual_value({"link": 1.0})
    assert val == pytest.approx(-8.0)
    np.testing.assert_allclose(xs["x"], [1, 0, 1, 0, 0])
    assert g["link"] == pytest.approx(1 - 2)
    assert recompute_dual(m, ("link",), np.array([1.0])) == pytest.approx(-8.0)
    lag.close()


@settings(max_examples=12, deadline=None)
@given(mu=st.floats(min_value=0.0, max_value=6.0))
def test_three_inner_paths_agree_and_weak_duality(mu: float) -> None:
    model = csp_model(14)
    highs = Lagrangian(model, relax=["time"])
    oracle = Lagrangian(model, relax=["time"], oracle=dijkstra_oracle(14))
    q_h = highs.dual_value({"time": mu})[0]
    q_o = oracle.dual_value({"time": mu})[0]
    q_ref = recompute_dual(model, ("time",), np.array([mu]))
    assert q_h == pytest.approx(q_ref, abs=1e-7)
    assert q_o == pytest.approx(q_ref, abs=1e-7)
    assert q_h <= 13 + 1e-9  # the optimum (path 1-3-2-4-6)
    highs.close()


def test_problem_plan_supplies_oracle() -> None:
    model = csp_model(14)
    prob = Problem(
        model,
        relaxations={"time": Relaxation(relax=("time",), oracle=dijkstra_oracle(14))},
        default_relaxation="time",
    )
    lag = Lagrangian(prob)
    assert lag.relax == ("time",) and lag.inner == "oracle"
    assert lag.dual_value({"time": 2.0})[0] == pytest.approx(7.0)


def test_oracle_value_is_recomputed(caplog: pytest.LogCaptureFixture) -> None:
    model = box_lp()

    def liar(lam: dict) -> tuple[dict, float]:
        return {"x": np.array([1.0, 1.0])}, 123.0

    lag = Lagrangian(model, relax=["cap"], oracle=liar)
    with caplog.at_level(logging.WARNING, logger="ortools_lag.lagrangian"):
        val = lag.dual_value({"cap": 0.5})[0]
    assert val == pytest.approx(-2.5)  # L((1,1), 0.5) = -3 + 0.5
    assert "recomputed" in caplog.text


def test_certify_bound_checks() -> None:
    m = box_lp()
    ok = certify_bound(m, ["cap"], {"cap": 1.5}, -2.0, x={"x": [0, 1]})
    assert ok.kind == "lagrangian" and ok.certified
    assert ok.dual_objective == pytest.approx(-2.0)
    high = certify_bound(m, ["cap"], {"cap": 1.5}, -1.0)
    assert not high.certified and "beyond" in high.notes[0]
    sign = certify_bound(m, ["cap"], {"cap": -1.0}, -3.0)
    assert not sign.certified and sign.sign_violation > 0
    bad_x = certify_bound(m, ["cap"], {"cap": 1.5}, -2.0, x={"x": [1, 1]})
    assert not bad_x.certified and bad_x.primal_residual > 0
    skipped = certify_bound(m, ["cap"], {"cap": 1.5}, -2.0, max_vars=1)
    assert not skipped.certified and "not re-evaluated" in skipped.notes[0]


def test_bad_input_raises() -> None:
    with pytest.raises(ModelError, match="valid choices: cap"):
        Lagrangian(box_lp(), relax=["nope"])
    with pytest.raises(ModelError, match="relax="):
        Lagrangian(box_lp())
    m = Model()
    x = m.var("x", 2, lb=None)
    m.minimize(x.sum())
    m.add("circle", (x * x).sum() <= 1)
    m.add("lin", x[0] <= 1)
    with pytest.raises(NotSupportedError, match="kept groups"):
        Lagrangian(m, relax=["lin"]).evaluate(np.zeros(1))
    with pytest.raises(ModelError, match="shape"):
        Lagrangian(box_lp(), relax=["cap"]).join({"cap": [1.0, 2.0]})
