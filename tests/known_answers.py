"""A bank of small problems with hand-derived answers, each citing its derivation.

Every backend that accepts a problem is run on it (see ``test_known_answers.py`` and the
backend conformance tests). Multipliers follow the README's sign convention: for a minimisation
``L = f + sum(lam * c)``; a maximisation is the minimisation of ``-f``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ortools_lag import Model


@dataclass(frozen=True)
class KnownAnswer:
    name: str
    build: Callable[[], Model]
    status: str
    source: str
    objective: float | None = None
    x: dict[str, list[float]] = field(default_factory=dict)
    multipliers: dict[str, list[float] | float] = field(default_factory=dict)
    degenerate: bool = False
    kind: str = "lp"  # lp, milp, qp


def reddy_mikks() -> Model:
    m = Model("reddy_mikks")
    x = m.var("x", 2)
    m.maximize(5 * x[0] + 4 * x[1])
    m.add("m1", 6 * x[0] + 4 * x[1] <= 24)
    m.add("m2", x[0] + 2 * x[1] <= 6)
    return m


def diet() -> Model:
    m = Model("diet")
    x = m.var("x", 2)
    m.minimize(np.array([2.0, 3.0]) @ x)
    m.add("cov", x[0] + x[1] >= 4)
    m.add("prot", x[0] + 3 * x[1] >= 6)
    return m


def equalities() -> Model:
    m = Model("equalities")
    x = m.var("x", 3)
    m.minimize(np.array([1.0, 2.0, 3.0]) @ x)
    m.add("total", x.sum() == 1)
    m.add("balance", x[0] - x[1] == 0)
    return m


def ranged() -> Model:
    m = Model("ranged")
    x = m.var("x", 2, lb=0, ub=[2, 3])
    m.minimize(-x[0] - x[1])
    m.add("band", (x[0] + 2 * x[1]).between(1, 4))
    return m


def bounded() -> Model:
    m = Model("bounded")
    x = m.var("x", 2, lb=0, ub=2)
    m.minimize(-2 * x[0] - x[1])
    m.add("cap", x.sum() <= 3)
    return m


def degenerate() -> Model:
    m = Model("degenerate")
    x = m.var("x", 2)
    m.maximize(3 * x[0] + 2 * x[1])
    m.add("a", x[0] + x[1] <= 4)
    m.add("b", x[0] + 3 * x[1] <= 6)
    m.add("c", x[0] <= 3)
    return m


def infeasible() -> Model:
    m = Model("infeasible")
    x = m.var("x", 2)
    m.minimize(x.sum())
    m.add("low", x.sum() <= 1)
    m.add("high", x.sum() >= 3)
    return m


def unbounded() -> Model:
    m = Model("unbounded")
    x = m.var("x", 2)
    m.minimize(-x[0] - x[1])
    m.add("diff", x[0] - x[1] <= 1)
    return m


def capital_budget() -> Model:
    m = Model("capital_budget")
    x = m.var("x", 4, domain="binary")
    m.maximize(np.array([8.0, 11.0, 6.0, 4.0]) @ x)
    m.add("budget", np.array([5.0, 7.0, 4.0, 3.0]) @ x <= 14)
    return m


def qp_equality() -> Model:
    m = Model("qp_equality")
    x = m.var("x", 2, lb=None)
    m.minimize((x * x).sum())
    m.add("sum", x.sum() == 1)
    return m


def qp_projection() -> Model:
    m = Model("qp_projection")
    x = m.var("x", 2, lb=None)
    d = x - np.array([1.0, 2.0])
    m.minimize(d @ d)
    m.add("half", x.sum() <= 1)
    m.add("slack", x[0] - x[1] <= 5)
    return m


BANK: list[KnownAnswer] = [
    KnownAnswer(
        "reddy_mikks",
        reddy_mikks,
        "optimal",
        "Taha, Operations Research, Reddy Mikks (two binding rows): x=(3,1.5), z=21; duals solve "
        "6l1+l2=5, 4l1+2l2=4 -> (0.75, 0.5)",
        21.0,
        {"x": [3.0, 1.5]},
        {"m1": 0.75, "m2": 0.5},
    ),
    KnownAnswer(
        "diet",
        diet,
        "optimal",
        "hand: vertices (6,0)->12, (0,4)->12, (3,1)->9; duals l1+l2=2, l1+3l2=3 -> (1.5, 0.5)",
        9.0,
        {"x": [3.0, 1.0]},
        {"cov": 1.5, "prot": 0.5},
    ),
    KnownAnswer(
        "equalities",
        equalities,
        "optimal",
        "hand: x=y, 2x+z=1, cost 3-3x -> x=y=0.5; 1+l1+l2=0, 2+l1-l2=0 -> l=(-1.5, 0.5)",
        1.5,
        {"x": [0.5, 0.5, 0.0]},
        {"total": -1.5, "balance": 0.5},
    ),
    KnownAnswer(
        "ranged",
        ranged,
        "optimal",
        "hand: max x+y with x+2y<=4, x<=2 -> (2,1); y interior: -1+2mu=0 -> mu=+0.5 (upper binds)",
        -3.0,
        {"x": [2.0, 1.0]},
        {"band": 0.5},
    ),
    KnownAnswer(
        "bounded",
        bounded,
        "optimal",
        "hand: x=2 at its bound, y=1 interior: -1+l=0 -> l=1; reduced cost of x = -2+1 = -1",
        -5.0,
        {"x": [2.0, 1.0]},
        {"cap": 1.0},
    ),
    KnownAnswer(
        "degenerate",
        degenerate,
        "optimal",
        "hand: (3,1) makes all three rows tight (degenerate vertex), z=11",
        11.0,
        {"x": [3.0, 1.0]},
        degenerate=True,
    ),
    KnownAnswer("infeasible", infeasible, "infeasible", "x+y<=1 and x+y>=3 contradict"),
    KnownAnswer(
        "unbounded", unbounded, "unbounded", "direction (1,1) keeps x-y<=1 and lowers -x-y"
    ),
    KnownAnswer(
        "capital_budget",
        capital_budget,
        "optimal",
        "Winston, Operations Research, Stockco capital budgeting (halved): items 2,3,4, z=21 "
        "(enumerated in the test)",
        21.0,
        {"x": [0.0, 1.0, 1.0, 1.0]},
        kind="milp",
    ),
    KnownAnswer(
        "qp_equality",
        qp_equality,
        "optimal",
        "hand: x=y=1/2; stationarity 2x+l=0 -> l=-1 (HiGHS reports +1)",
        0.5,
        {"x": [0.5, 0.5]},
        {"sum": -1.0},
        kind="qp",
    ),
    KnownAnswer(
        "qp_projection",
        qp_projection,
        "optimal",
        "hand: projection of (1,2) on x+y<=1 is (0,1), f=2; 2(x-1)+l=0 -> l=2; slack row inactive",
        2.0,
        {"x": [0.0, 1.0]},
        {"half": 2.0, "slack": 0.0},
        kind="qp",
    ),
]
