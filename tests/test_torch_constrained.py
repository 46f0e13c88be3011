"""Constrained learning on torch models (``ortools_lag.torch``), against independent answers.

- logistic regression with a norm budget and a linear rate constraint: the multipliers of
  ``train`` (augmented Lagrangian, L-BFGS primal) equal those of the same problem stated as a
  ``Model`` and solved by the ``scipy`` backend, and the KKT residuals are within 1e-4;
- least squares with a norm budget: the multiplier is the ridge weight of the dual-ascent
  solve of ``problems.constrained_learning`` (an SVD oracle), reached by gradient ascent,
  alternating ascent and PI;
- per-sample (indexed) constraints: the multipliers of ``x_i . w <= 1`` for a projection equal
  those of HiGHS on the same QP;
- a proxy constraint (recall >= 0.9 through a sigmoid surrogate) met on held-out data;
- errors, the history, the convergence figure and float32.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ortools_lag import Model, Status, solve  # noqa: E402
from ortools_lag.errors import ModelError  # noqa: E402
from ortools_lag.model import functions as F  # noqa: E402
from ortools_lag.problems.constrained_learning import (  # noqa: E402
    dual_ascent,
    norm_budget_least_squares,
)
from ortools_lag.torch import (  # noqa: E402
    PI,
    AugmentedLagrangian,
    ConstrainedProblem,
    GradientAscent,
    train,
)

from .certificates import check_solution  # noqa: E402

D64 = torch.float64


def _lbfgs(params: list) -> torch.optim.Optimizer:  # type: ignore[type-arg]
    return torch.optim.LBFGS(
        params, max_iter=100, line_search_fn="strong_wolfe", tolerance_grad=1e-12,
        tolerance_change=1e-14,
    )  # fmt: skip


def _logistic_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = np.where(X @ np.array([2.0, -1.5, 1.0, 0.5]) + 0.5 * rng.normal(size=200) > 0, 1.0, -1.0)
    pos_mean = X[y > 0].mean(0)
    return X, y, pos_mean, 0.8 * float(np.linalg.norm(pos_mean))


@pytest.mark.parametrize("rate_rhs", ["slack", "binding"])
def test_alm_matches_the_model_solved_by_scipy(rate_rhs: str) -> None:
    X, y, pm, t = _logistic_data()
    budget = 1.0
    if rate_rhs == "binding":  # near the most that ||w|| <= 1 allows: both groups bind
        t = 0.99 * float(np.linalg.norm(pm))
    m = Model()
    w = m.var("w", 4, lb=None)
    m.minimize(F.softplus(-(y[:, None] * X) @ w).sum() / len(y))
    m.add("budget", (w * w).sum() <= budget)
    m.add("rate", pm @ w >= t)
    ref = solve(m, "scipy", ftol=1e-14)  # SLSQP's own stopping test, tight
    assert ref.status == Status.LOCALLY_OPTIMAL and ref.kkt.certified, ref.message
    check_solution(m, ref)

    Xt, yt, pt = torch.tensor(X), torch.tensor(y), torch.tensor(pm)
    wt = torch.zeros(4, dtype=D64, requires_grad=True)
    p = ConstrainedProblem(lambda b: torch.nn.functional.softplus(-b[1] * (b[0] @ wt)).mean())
    p.add("budget", lambda b: (wt**2).sum(), "<=", budget)
    p.add("rate", lambda b: pt @ wt, ">=", t)
    sol = train(p, {"w": wt}, _lbfgs([wt]), [(Xt, yt)], rule=AugmentedLagrangian(10.0), epochs=60)
    assert sol.status == Status.LOCALLY_OPTIMAL, sol.message
    rep = sol.kkt
    assert rep.certified and rep.tolerance == 1e-4
    for r in (rep.primal_residual, rep.stationarity, rep.complementarity, rep.sign_violation):
        assert r <= 1e-4
    for g in ("budget", "rate"):
        assert float(sol.multipliers[g]) >= 0.0
        assert math.isclose(float(sol.multipliers[g]), float(ref.multipliers[g]), abs_tol=1e-4)
    assert np.allclose(sol.x["w"], ref.x["w"], atol=1e-4)
    assert math.isclose(sol.objective, ref.objective, rel_tol=1e-6)
    if rate_rhs == "binding":
        assert float(sol.multipliers["rate"]) > 1e-3  # both constraints active
    else:
        assert float(sol.multipliers["rate"]) < 1e-6  # complementarity: a slack rate is free


def _least_squares() -> tuple[np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 3))
    return X, X @ np.array([3.0, -2.0, 1.0]) + 0.1 * rng.normal(size=40), 4.0


def _ls_problem(X: np.ndarray, y: np.ndarray, c: float) -> tuple[ConstrainedProblem, torch.Tensor]:
    Xt, yt = torch.tensor(X), torch.tensor(y)
    w = torch.zeros(3, dtype=D64, requires_grad=True)
    p = ConstrainedProblem(lambda b: ((Xt @ w - yt) ** 2).sum())
    p.add("budget", lambda b: (w**2).sum(), "<=", c)
    return p, w


@pytest.mark.parametrize(
    "rule",
    [GradientAscent(lr=5.0), GradientAscent(lr=5.0, alternating=True), PI(lr=5.0, kp=1.0)],
    ids=["gda", "alternating_gda", "pi"],
)
def test_dual_rules_reach_the_ridge_weight(rule) -> None:  # type: ignore[no-untyped-def]
    X, y, c = _least_squares()
    ref = dual_ascent(norm_budget_least_squares(X, y, budget=c))  # SVD oracle, secant steps
    assert ref.status == Status.OPTIMAL
    p, w = _ls_problem(X, y, c)
    sol = train(p, [w], _lbfgs([w]), [None], rule=rule, epochs=60)
    assert sol.status == Status.LOCALLY_OPTIMAL, sol.message
    lam = float(sol.multipliers["budget"])
    assert math.isclose(lam, float(ref.multipliers["budget"]), rel_tol=1e-4)
    assert np.allclose(sol.x["p0"], ref.x["w"], atol=1e-5)
    assert sol.history is not None and len(sol.history.iteration) == 60


def test_pi_without_its_proportional_term_is_gradient_ascent() -> None:
    X, y, c = _least_squares()
    out = []
    for rule in (GradientAscent(lr=0.3), PI(lr=0.3, kp=0.0)):
        p, w = _ls_problem(X, y, c)
        out.append(train(p, [w], _lbfgs([w]), [None], rule=rule, epochs=5).multipliers["budget"])
    assert float(out[0]) == float(out[1])


def test_indexed_multipliers_match_highs() -> None:
    rng = np.random.default_rng(5)
    A = rng.normal(size=(12, 3))
    w0 = np.array([2.0, 1.0, -1.5])
    m = Model()
    x = m.var("w", 3, lb=None)
    m.minimize(((x - w0) * (x - w0)).sum())
    m.add("rows", A @ x <= 1.0)
    ref = solve(m, "highs")
    assert ref.status == Status.OPTIMAL
    At = torch.tensor(A)
    w = torch.zeros(3, dtype=D64, requires_grad=True)
    p = ConstrainedProblem(lambda b: ((w - torch.tensor(w0)) ** 2).sum())
    p.add("rows", lambda idx: (At[idx] @ w, idx), "<=", 1.0, size=12)
    order = [torch.randperm(12, generator=torch.Generator().manual_seed(0))]  # rows shuffled
    sol = train(p, {"w": w}, _lbfgs([w]), order, rule=AugmentedLagrangian(5.0), epochs=80)
    assert sol.status == Status.LOCALLY_OPTIMAL, sol.message
    assert sol.multipliers["rows"].shape == (12,)
    assert np.allclose(sol.multipliers["rows"], ref.multipliers["rows"], atol=1e-4)
    assert np.allclose(sol.x["w"], ref.x["w"], atol=1e-5)


def test_a_batch_moves_only_the_entries_it_names() -> None:
    from ortools_lag.torch import Multipliers

    w = torch.zeros(2, requires_grad=True)
    p = ConstrainedProblem(lambda b: (w**2).sum())
    rows = p.add("rows", lambda b: b, "<=", 0.0, size=5)
    eq = p.add("eq", lambda b: b, "==", 0.0)
    lam = Multipliers(p, init={"rows": 1.0})
    GradientAscent(lr=1.0).move(lam, rows, torch.tensor([2.0, -3.0]), torch.tensor([4, 1]))
    assert lam.value("rows").tolist() == [1.0, 0.0, 1.0, 1.0, 3.0]  # entry 1 projected at 0
    GradientAscent(lr=1.0).move(lam, eq, torch.tensor(-3.0), None)
    assert lam.value("eq").item() == -3.0  # an equality's multiplier is free


def test_a_proxy_recall_constraint_holds_on_held_out_data() -> None:
    gen = torch.Generator().manual_seed(0)
    n = 4000
    X = torch.randn(n, 5, generator=gen, dtype=D64)
    logit = X @ torch.tensor([1.5, -1.0, 0.5, 0.0, 0.0], dtype=D64) - 1.5  # few positives
    y = (torch.rand(n, generator=gen, dtype=D64) < torch.sigmoid(logit)).to(D64)
    train_set, held_out = (X[:3000], y[:3000]), (X[3000:], y[3000:])
    batches = [(train_set[0][i : i + 500], train_set[1][i : i + 500]) for i in range(0, 3000, 500)]

    def fit(recall: float | None) -> tuple[torch.nn.Module, object]:
        torch.manual_seed(0)
        net = torch.nn.Linear(5, 1).to(D64)
        bce = torch.nn.BCEWithLogitsLoss()
        p = ConstrainedProblem(
            lambda out, b: bce(out, b[1]), forward=lambda b: net(b[0]).squeeze(-1)
        )

        def true_recall(out: torch.Tensor, b: tuple) -> torch.Tensor:  # type: ignore[type-arg]
            return ((out > 0) & (b[1] > 0)).sum() / (b[1] > 0).sum().clamp(min=1)

        def soft_recall(out: torch.Tensor, b: tuple) -> torch.Tensor:  # type: ignore[type-arg]
            return (torch.sigmoid(4 * out) * b[1]).sum() / b[1].sum().clamp(min=1)

        if recall is not None:
            p.add("recall", true_recall, ">=", recall, surrogate=soft_recall)
        else:
            p.add("recall", true_recall, ">=", 0.0)  # never binds: the plain classifier
        opt = torch.optim.Adam(net.parameters(), lr=0.05)
        sol = train(p, net, opt, batches, rule=GradientAscent(lr=0.5), epochs=40,
                    eval_data=[held_out], tol=0.02)  # fmt: skip
        return net, sol

    plain_net, _ = fit(None)
    net, sol = fit(0.9)
    with torch.no_grad():
        base = float(((plain_net(held_out[0]).squeeze(-1) > 0) & (held_out[1] > 0)).sum())
    positives = float(held_out[1].sum())
    assert base / positives < 0.8  # the constraint changes the classifier
    got = sol.info["constraint_values"]["recall"]
    assert got >= 0.9 - 0.02  # on held-out data, within the stated tolerance
    assert float(sol.multipliers["recall"]) > 0.0
    assert sol.kkt is not None and sol.kkt.primal_residual <= 0.02
    assert sol.status in (Status.LOCALLY_OPTIMAL, Status.FEASIBLE)


def test_history_figure_and_float32() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from ortools_lag.plot import convergence

    X, y, c = _least_squares()
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    w = torch.zeros(3, requires_grad=True)
    p = ConstrainedProblem(lambda b: ((Xt @ w - yt) ** 2).mean())
    p.add("budget", lambda b: (w**2).sum(), "<=", c)
    sol = train(p, [w], torch.optim.Adam([w], lr=0.05), [None] * 5, epochs=30,
                rule=GradientAscent(lr=0.05), tol=1e-2)  # fmt: skip
    assert sol.iterations == 150 and sol.history is not None
    h = sol.history
    assert len(h.primal) == 30 and np.isfinite(h.primal).all() and np.isfinite(h.violation).all()
    assert set(h.extra) == {"violation:budget", "multiplier:budget"}
    assert sol.x["p0"].dtype == np.float64 and w.dtype == torch.float32
    fig = convergence(sol)
    assert fig.axes and any(ax.lines for ax in fig.axes)


def test_bad_input_is_refused_with_its_name() -> None:
    w = torch.zeros(2, requires_grad=True)
    p = ConstrainedProblem(lambda b: (w**2).sum())
    p.add("a", lambda b: w.sum(), "<=", 1.0)
    with pytest.raises(ModelError, match="'a' is already defined"):
        p.add("a", lambda b: w.sum(), "<=", 1.0)
    with pytest.raises(ModelError, match=r"unknown sense '<' \(valid choices: <=, >=, ==\)"):
        p.add("b", lambda b: w.sum(), "<", 1.0)  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="rhs must be finite"):
        p.add("c", lambda b: w.sum(), "<=", math.inf)
    with pytest.raises(ModelError, match="size must be a positive integer"):
        p.add("d", lambda b: w.sum(), "<=", 1.0, size=0)
    with pytest.raises(ModelError, match="objective must be callable"):
        ConstrainedProblem(3)  # type: ignore[arg-type]
    opt = torch.optim.SGD([w], lr=0.1)
    with pytest.raises(ModelError, match="epochs must be a positive integer"):
        train(p, [w], opt, [None], epochs=0)
    with pytest.raises(ModelError, match="unknown groups"):
        train(p, [w], opt, [None], multipliers={"nosuch": 1.0})
    with pytest.raises(ModelError, match="lr must be a positive number"):
        GradientAscent(lr=-1.0)
    with pytest.raises(ModelError, match="optimizer must be a torch optimizer"):
        train(p, [w], "adam", [None])  # type: ignore[arg-type]
    q = ConstrainedProblem(lambda b: (w**2).sum())
    q.add("idx", lambda b: w.sum(), "<=", 1.0, size=3)
    with pytest.raises(
        ModelError, match=r"indexed \(size=3\): its fn must return \(values, index\)"
    ):
        train(q, [w], opt, [None])


@pytest.mark.gpu
def test_alm_on_cuda_matches_cpu() -> None:
    X, y, c = _least_squares()
    out = []
    for device in ("cpu", "cuda"):
        Xt, yt = torch.tensor(X, device=device), torch.tensor(y, device=device)
        w = torch.zeros(3, dtype=D64, device=device, requires_grad=True)
        p = ConstrainedProblem(lambda b, Xt=Xt, yt=yt, w=w: ((Xt @ w - yt) ** 2).sum())
        p.add("budget", lambda b, w=w: (w**2).sum(), "<=", c)
        sol = train(p, [w], _lbfgs([w]), [None], rule=AugmentedLagrangian(10.0), epochs=40)
        assert sol.status == Status.LOCALLY_OPTIMAL
        out.append(float(sol.multipliers["budget"]))
    assert math.isclose(out[0], out[1], rel_tol=1e-8)
