"""Pins of the public API that the other parts of the toolkit build on."""

from __future__ import annotations

import inspect

import numpy as np

import ortools_lag
from ortools_lag import Model, Problem, Relaxation, Solution, Status, Termination, solve
from ortools_lag.io import read_mps


def test_exports() -> None:
    for name in ("Model", "Problem", "Relaxation", "solve", "Solution", "Status", "Termination"):
        assert hasattr(ortools_lag, name)


def test_signatures() -> None:
    assert list(inspect.signature(Model.var).parameters) == [
        "self",
        "name",
        "shape",
        "lb",
        "ub",
        "domain",
        "labels",
        "integer_mask",
    ]
    assert inspect.signature(Model.var).parameters["lb"].default == 0.0
    assert list(inspect.signature(solve).parameters) == [
        "model_or_problem",
        "solver",
        "ranging",
        "fixed_duals",
        "options",
    ]
    assert list(inspect.signature(read_mps).parameters) == ["path"]
    p = inspect.signature(Problem).parameters
    assert list(p)[:4] == ["model", "relaxations", "default_relaxation", "decode"]
    assert list(inspect.signature(Relaxation).parameters)[:3] == ["relax", "oracle", "heuristic"]


def test_solution_shape_and_json() -> None:
    m = Model()
    x = m.var("x", 2, ub=3)
    m.maximize(x.sum())
    m.add("cap", x[0] + x[1] <= 4)
    sol = solve(m, "highs", time_limit=10)
    assert isinstance(sol, Solution)
    assert sol.status is Status.OPTIMAL and sol.termination is Termination.CONVERGED
    d = sol.to_dict()
    assert d["status"] == "optimal" and d["multipliers"]["cap"] == 1.0
    import json

    assert json.loads(json.dumps(d))["objective"] == 4.0
    assert np.isclose(sol.shadow_prices["cap"], 1.0)


def test_oracle_protocol_types() -> None:
    m = Model()
    x = m.var("x", 2, ub=1)
    m.minimize(x.sum())
    m.add("cover", x.sum() >= 1)

    def oracle(lam):
        cost = 1 - lam["cover"]
        xv = (cost < 0).astype(float) * np.ones(2)
        return {"x": xv}, float(np.minimum(cost, 0).sum() * 2 + lam["cover"])

    p = Problem(m, {"lr": Relaxation(("cover",), oracle=oracle)}, default_relaxation="lr")
    xs, val = p.relaxation().oracle({"cover": np.array(0.5)})
    assert val == 0.5 and xs["x"].tolist() == [0.0, 0.0]
