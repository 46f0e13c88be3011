"""A bank of small models written in Pyomo and in cvxpy, for the import round trips.

Each case is a textbook model (transportation, diet, blending, knapsack, facility location,
portfolio, least squares ...) stated the way a Pyomo or cvxpy user writes it: indexed
components, equality, inequality and ranged rows, bounds, integer variables, min and max. The
answers the tests compare with come from Pyomo's and cvxpy's own solves of these models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Case:
    """A model builder, the groups a dual method relaxes, and its class (lp, milp, qp)."""

    name: str
    build: Callable[[], Any]
    relax: tuple[str, ...]
    kind: str


# -- Pyomo --------------------------------------------------------------------------------------


def _pyo() -> Any:
    import pyomo.environ as pyo

    return pyo


def p_transport() -> Any:
    pyo = _pyo()
    m = pyo.ConcreteModel("transport")
    m.I = pyo.Set(initialize=["seattle", "san_diego"])
    m.J = pyo.Set(initialize=["new_york", "chicago", "topeka"])
    supply = {"seattle": 350, "san_diego": 600}
    demand = {"new_york": 325, "chicago": 300, "topeka": 275}
    dist = {
        ("seattle", "new_york"): 2.5, ("seattle", "chicago"): 1.7, ("seattle", "topeka"): 1.8,
        ("san_diego", "new_york"): 2.5, ("san_diego", "chicago"): 1.8,
        ("san_diego", "topeka"): 1.4,
    }  # fmt: skip
    m.x = pyo.Var(m.I, m.J, domain=pyo.NonNegativeReals)
    m.cost = pyo.Objective(expr=sum(90 * dist[i, j] / 1000 * m.x[i, j] for i in m.I for j in m.J))
    m.supply = pyo.Constraint(m.I, rule=lambda m, i: sum(m.x[i, j] for j in m.J) <= supply[i])
    m.demand = pyo.Constraint(m.J, rule=lambda m, j: sum(m.x[i, j] for i in m.I) >= demand[j])
    return m


def p_reddy_mikks() -> Any:
    pyo = _pyo()
    m = pyo.ConcreteModel("reddy_mikks")
    m.x = pyo.Var(["ext", "int"], domain=pyo.NonNegativeReals)
    m.profit = pyo.Objective(expr=5 * m.x["ext"] + 4 * m.x["int"], sense=pyo.maximize)
    m.m1 = pyo.Constraint(expr=6 * m.x["ext"] + 4 * m.x["int"] <= 24)
    m.m2 = pyo.Constraint(expr=m.x["ext"] + 2 * m.x["int"] <= 6)
    m.demand = pyo.Constraint(expr=m.x["int"] - m.x["ext"] <= 1)
    m.cap_int = pyo.Constraint(expr=m.x["int"] <= 2)
    return m


def p_diet() -> Any:
    pyo = _pyo()
    m = pyo.ConcreteModel("diet")
    foods = ["bread", "milk", "cheese", "potato"]
    cost = {"bread": 2.0, "milk": 3.5, "cheese": 8.0, "potato": 1.5}
    nutr = {"cal": [65, 160, 390, 110], "prot": [2.0, 8.0, 25.0, 3.0], "vit": [0, 10, 3, 20]}
    need = {"cal": 2000, "prot": 55, "vit": 60}
    m.F = pyo.Set(initialize=foods)
    m.N = pyo.Set(initialize=list(nutr))
    m.x = pyo.Var(m.F, bounds=(0, 20))
    m.cost = pyo.Objective(expr=sum(cost[f] * m.x[f] for f in m.F))
    m.nutrient = pyo.Constraint(
        m.N, rule=lambda m, n: sum(nutr[n][k] * m.x[f] for k, f in enumerate(foods)) >= need[n]
    )
    m.volume = pyo.Constraint(expr=sum(m.x[f] for f in m.F) <= 25)
    return m


def p_production_plan() -> Any:
    pyo = _pyo()
    m = pyo.ConcreteModel("production_plan")
    T = [1, 2, 3, 4]
    demand = {1: 40, 2: 60, 3: 75, 4: 25}
    price = {1: 9.0, 2: 10.0, 3: 11.0, 4: 9.5}
    m.T = pyo.Set(initialize=T)
    m.make = pyo.Var(m.T, bounds=(0, 55))
    m.stock = pyo.Var(m.T, bounds=(0, 30))
    m.sell = pyo.Var(m.T, domain=pyo.NonNegativeReals)
    m.profit = pyo.Objective(
        expr=sum(price[t] * m.sell[t] - 6 * m.make[t] - 0.5 * m.stock[t] for t in m.T),
        sense=pyo.maximize,
    )
    m.balance = pyo.Constraint(
        m.T,
        rule=lambda m, t: (m.stock[t - 1] if t > 1 else 5) + m.make[t] == m.sell[t] + m.stock[t],
    )
    m.market = pyo.Constraint(m.T, rule=lambda m, t: m.sell[t] <= demand[t])
    return m


def p_blending() -> Any:
    pyo = _pyo()
    m = pyo.ConcreteModel("blending")
    oils = ["a", "b", "c"]
    sulfur = {"a": 0.5, "b": 2.0, "c": 3.5}
    octane = {"a": 92.0, "b": 86.0, "c": 80.0}
    cost = {"a": 9.0, "b": 6.0, "c": 4.0}
    m.x = pyo.Var(oils, domain=pyo.NonNegativeReals)
    m.cost = pyo.Objective(expr=sum(cost[o] * m.x[o] for o in oils))
    m.total = pyo.Constraint(expr=sum(m.x[o] for o in oils) == 100)
    m.quality = pyo.Constraint(
        ["sulfur", "octane"],
        rule=lambda m, q: (
            pyo.inequality(100, sum(sulfur[o] * m.x[o] for o in oils), 180)
            if q == "sulfur"
            else pyo.inequality(8500, sum(octane[o] * m.x[o] for o in oils), 8800)
        ),
    )
    return m


def p_mixed_senses() -> Any:
    pyo = _pyo()
    m = pyo.ConcreteModel("mixed_senses")
    m.x = pyo.Var(range(3), bounds=(-10, 10))
    m.y = pyo.Var()  # free
    m.obj = pyo.Objective(expr=m.x[0] + 2 * m.x[1] - m.x[2] + 0.5 * m.y)
    rows = {0: (1, 1, 0, ">=", 2), 1: (0, 1, 1, "<=", 4), 2: (1, 0, -1, "==", 1)}

    def rule(m: Any, i: int) -> Any:
        a, b, c, s, r = rows[i]
        e = a * m.x[0] + b * m.x[1] + c * m.x[2]
        return e >= r if s == ">=" else (e <= r if s == "<=" else e == r)

    m.mix = pyo.Constraint(range(3), rule=rule)
    m.link = pyo.Constraint(expr=m.y >= m.x[2] - 3)
    m.link2 = pyo.Constraint(expr=m.y >= -m.x[0])
    return m


def p_knapsack() -> Any:
    pyo = _pyo()
    m = pyo.ConcreteModel("knapsack")
    v = [10, 13, 18, 31, 7, 15]
    w = [11, 15, 20, 35, 10, 33]
    m.I = pyo.RangeSet(0, 5)
    m.pick = pyo.Var(m.I, domain=pyo.Binary)
    m.value = pyo.Objective(expr=sum(v[i] * m.pick[i] for i in m.I), sense=pyo.maximize)
    m.weight = pyo.Constraint(expr=sum(w[i] * m.pick[i] for i in m.I) <= 47)
    m.pair = pyo.Constraint(expr=m.pick[0] + m.pick[1] <= 1)
    return m


def p_facility() -> Any:
    pyo = _pyo()
    m = pyo.ConcreteModel("facility")
    fixed = [12.0, 10.0, 14.0]
    c = np.array([[2, 5, 7, 4], [6, 3, 4, 5], [4, 6, 2, 3]], dtype=float)
    m.F = pyo.RangeSet(0, 2)
    m.C = pyo.RangeSet(0, 3)
    m.open = pyo.Var(m.F, domain=pyo.Binary)
    m.x = pyo.Var(m.F, m.C, bounds=(0, 1))
    m.cost = pyo.Objective(
        expr=sum(fixed[f] * m.open[f] for f in m.F)
        + sum(10 * c[f, k] * m.x[f, k] for f in m.F for k in m.C)
    )
    m.serve = pyo.Constraint(m.C, rule=lambda m, k: sum(m.x[f, k] for f in m.F) == 1)
    m.link = pyo.Constraint(m.F, m.C, rule=lambda m, f, k: m.x[f, k] <= m.open[f])
    return m


def p_integer_production() -> Any:
    pyo = _pyo()
    m = pyo.ConcreteModel("integer_production")
    m.n = pyo.Var(["tables", "chairs"], domain=pyo.NonNegativeIntegers)
    m.profit = pyo.Objective(expr=7 * m.n["tables"] + 5 * m.n["chairs"], sense=pyo.maximize)
    m.wood = pyo.Constraint(expr=4 * m.n["tables"] + 3 * m.n["chairs"] <= 37)
    m.labour = pyo.Constraint(expr=2 * m.n["tables"] + 1 * m.n["chairs"] <= 17)
    return m


def p_portfolio() -> Any:
    pyo = _pyo()
    m = pyo.ConcreteModel("portfolio")
    mu = [0.08, 0.12, 0.15]
    S = np.array([[0.10, 0.02, 0.01], [0.02, 0.20, 0.03], [0.01, 0.03, 0.30]])
    m.A = pyo.RangeSet(0, 2)
    m.w = pyo.Var(m.A, bounds=(0, 0.7))
    m.risk = pyo.Objective(expr=sum(S[i, j] * m.w[i] * m.w[j] for i in m.A for j in m.A))
    m.budget = pyo.Constraint(expr=sum(m.w[i] for i in m.A) == 1)
    m.ret = pyo.Constraint(expr=sum(mu[i] * m.w[i] for i in m.A) >= 0.11)
    return m


def p_least_squares() -> Any:
    pyo = _pyo()
    m = pyo.ConcreteModel("least_squares")
    A = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 3.0], [2.0, 1.0, 1.0]])
    b = np.array([3.0, 1.0, 2.0, 4.0])
    m.x = pyo.Var(range(3), bounds=(-1, 1.2))
    m.fit = pyo.Objective(
        expr=sum((sum(A[i, j] * m.x[j] for j in range(3)) - b[i]) ** 2 for i in range(4))
    )
    m.sum_one = pyo.Constraint(expr=m.x[0] + m.x[1] + m.x[2] == 1.5)
    return m


def p_concave_max() -> Any:
    pyo = _pyo()
    m = pyo.ConcreteModel("concave_max")
    m.x = pyo.Var([1, 2], domain=pyo.NonNegativeReals)
    m.u = pyo.Objective(
        expr=8 * m.x[1] + 6 * m.x[2] - m.x[1] ** 2 - 2 * m.x[2] ** 2 - m.x[1] * m.x[2],
        sense=pyo.maximize,
    )
    m.res = pyo.Constraint(expr=m.x[1] + m.x[2] <= 3)
    m.lim = pyo.Constraint(expr=m.x[1] - m.x[2] <= 1)
    return m


def p_blocks() -> Any:
    pyo = _pyo()
    m = pyo.ConcreteModel("plants")
    m.plant = pyo.Block([1, 2])
    cap = {1: 40.0, 2: 60.0}
    unit = {1: 3.0, 2: 4.0}
    for p in (1, 2):
        b = m.plant[p]
        b.x = pyo.Var(["a", "b"], domain=pyo.NonNegativeReals)
        b.cap = pyo.Constraint(expr=b.x["a"] + 2 * b.x["b"] <= cap[p])
    m.cost = pyo.Objective(
        expr=sum(unit[p] * (m.plant[p].x["a"] + m.plant[p].x["b"]) for p in (1, 2))
        - sum(5 * m.plant[p].x["b"] for p in (1, 2))
    )
    m.meet = pyo.Constraint(
        ["a", "b"], rule=lambda m, k: sum(m.plant[p].x[k] for p in (1, 2)) >= 20
    )
    return m


def p_params_fixed() -> Any:
    pyo = _pyo()
    m = pyo.ConcreteModel("params_fixed")
    m.price = pyo.Param([1, 2, 3], initialize={1: 3.0, 2: 2.0, 3: 4.0}, mutable=True)
    m.x = pyo.Var([1, 2, 3], domain=pyo.NonNegativeReals)
    m.z = pyo.Var(initialize=2.0)
    m.z.fix(2.0)
    m.obj = pyo.Objective(expr=sum(m.price[i] * m.x[i] for i in [1, 2, 3]) + m.z)
    m.cover = pyo.Constraint(expr=m.x[1] + m.x[2] + m.x[3] >= 4 + m.z)
    m.limit = pyo.Constraint([1, 2, 3], rule=lambda m, i: m.x[i] <= 2 * m.z)
    return m


def p_offset_bounds() -> Any:
    pyo = _pyo()
    m = pyo.ConcreteModel("offset_bounds")
    m.x = pyo.Var(range(4), bounds=(-3, 2))
    m.obj = pyo.Objective(expr=10 + sum((i + 1) * m.x[i] for i in range(4)), sense=pyo.maximize)
    m.eq = pyo.Constraint(range(2), rule=lambda m, i: m.x[2 * i] + m.x[2 * i + 1] == 0.5 * i)
    m.total = pyo.Constraint(expr=pyo.inequality(-2, sum(m.x[i] for i in range(4)), 1))
    return m


def p_assignment() -> Any:
    pyo = _pyo()
    m = pyo.ConcreteModel("assignment")
    c = np.array([[9, 2, 7], [6, 4, 3], [5, 8, 1]], dtype=float)
    m.W = pyo.RangeSet(0, 2)
    m.x = pyo.Var(m.W, m.W, domain=pyo.Binary)
    m.cost = pyo.Objective(expr=sum(c[i, j] * m.x[i, j] for i in m.W for j in m.W))
    m.worker = pyo.Constraint(m.W, rule=lambda m, i: sum(m.x[i, j] for j in m.W) == 1)
    m.job = pyo.Constraint(m.W, rule=lambda m, j: sum(m.x[i, j] for i in m.W) == 1)
    return m


PYOMO_CASES = [
    Case("transport", p_transport, ("demand",), "lp"),
    Case("reddy_mikks", p_reddy_mikks, ("m1",), "lp"),
    Case("diet", p_diet, ("nutrient",), "lp"),
    Case("production_plan", p_production_plan, ("market",), "lp"),
    Case("blending", p_blending, ("quality",), "lp"),
    Case("mixed_senses", p_mixed_senses, ("mix",), "lp"),
    Case("plants", p_blocks, ("meet",), "lp"),
    Case("params_fixed", p_params_fixed, ("cover",), "lp"),
    Case("offset_bounds", p_offset_bounds, ("total",), "lp"),
    Case("knapsack", p_knapsack, ("weight",), "milp"),
    Case("facility", p_facility, ("serve",), "milp"),
    Case("integer_production", p_integer_production, ("wood",), "milp"),
    Case("assignment", p_assignment, ("job",), "milp"),
    Case("portfolio", p_portfolio, ("budget",), "qp"),
    Case("least_squares", p_least_squares, ("sum_one",), "qp"),
    Case("concave_max", p_concave_max, ("res",), "qp"),
]


# -- cvxpy --------------------------------------------------------------------------------------


def _cp() -> Any:
    import cvxpy as cp

    return cp


def c_reddy_mikks() -> Any:
    cp = _cp()
    x = cp.Variable(2, nonneg=True, name="paint")
    cons = [6 * x[0] + 4 * x[1] <= 24, x[0] + 2 * x[1] <= 6, x[1] - x[0] <= 1, x[1] <= 2]
    return cp.Problem(cp.Maximize(5 * x[0] + 4 * x[1]), cons), ["m1", "m2", "demand", "cap"]


def c_transport() -> Any:
    cp = _cp()
    supply, demand = np.array([350.0, 600.0]), np.array([325.0, 300.0, 275.0])
    cost = 90 / 1000 * np.array([[2.5, 1.7, 1.8], [2.5, 1.8, 1.4]])
    x = cp.Variable((2, 3), nonneg=True, name="ship")
    cons = [cp.sum(x, axis=1) <= supply, cp.sum(x, axis=0) >= demand]
    return cp.Problem(cp.Minimize(cp.sum(cp.multiply(cost, x))), cons), ["supply", "demand"]


def c_diet() -> Any:
    cp = _cp()
    N = np.array([[65, 160, 390, 110], [2.0, 8.0, 25.0, 3.0], [0, 10, 3, 20]])
    x = cp.Variable(4, bounds=[0, 20], name="food")
    cons = [N @ x >= np.array([2000, 55, 60]), cp.sum(x) <= 25]
    cost = np.array([2.0, 3.5, 8.0, 1.5])
    return cp.Problem(cp.Minimize(cost @ x), cons), ["nutrient", "volume"]


def c_equality_lp() -> Any:
    cp = _cp()
    A = np.array([[1.0, 1.0, 1.0, 0.0], [2.0, -1.0, 0.0, 1.0]])
    x = cp.Variable(4, bounds=[0, 5], name="x")
    cons = [A @ x == np.array([4.0, 2.0])]
    return cp.Problem(cp.Minimize(np.array([2.0, 3.0, 1.0, 4.0]) @ x + 1.5), cons), ["flow"]


def c_free_and_bounded() -> Any:
    cp = _cp()
    x = cp.Variable(3, bounds=[np.array([-1.0, 0.0, -2.0]), np.array([4.0, 3.0, 2.0])], name="x")
    y = cp.Variable(3, name="y")  # free
    cons = [x - y <= 3, y - x <= 1, cp.sum(y) >= -2]
    obj = cp.Minimize(np.array([1.0, -2.0, 0.5]) @ x + np.array([0.5, 1.0, 1.0]) @ y)
    return cp.Problem(obj, cons), ["gap_hi", "gap_lo", "total"]


def c_nonneg_zero() -> Any:
    cp = _cp()
    x = cp.Variable(3, name="x")
    cons = [
        cp.constraints.NonNeg(x),
        cp.constraints.Zero(x[0] + x[1] - 2 * x[2] - 1),
        x[0] + x[1] + x[2] <= 6,
    ]
    return cp.Problem(cp.Maximize(3 * x[0] + 2 * x[1] + x[2]), cons), ["sign", "balance", "cap"]


def c_ranged() -> Any:
    cp = _cp()
    a = np.array([1.0, 2.0, 1.0])
    x = cp.Variable(3, nonneg=True, name="x")
    cons = [a @ x >= 2, a @ x <= 5, x[0] + x[2] == 1.5, x <= 2]
    return cp.Problem(cp.Maximize(np.array([1.0, 1.0, 3.0]) @ x), cons), ["lo", "hi", "eq", "ub"]


def c_matrix_lp() -> Any:
    cp = _cp()
    X = cp.Variable((2, 2), nonneg=True, name="X")
    C = np.array([[1.0, 3.0], [2.0, 1.0]])
    cons = [X @ np.ones(2) == np.array([1.0, 2.0]), X.T @ np.ones(2) <= np.array([2.5, 1.5])]
    return cp.Problem(cp.Minimize(cp.trace(C.T @ X)), cons), ["rows", "cols"]


def c_knapsack() -> Any:
    cp = _cp()
    v = np.array([10, 13, 18, 31, 7, 15], dtype=float)
    w = np.array([11, 15, 20, 35, 10, 33], dtype=float)
    x = cp.Variable(6, boolean=True, name="pick")
    return cp.Problem(cp.Maximize(v @ x), [w @ x <= 47, x[0] + x[1] <= 1]), ["weight", "pair"]


def c_integer_production() -> Any:
    cp = _cp()
    n = cp.Variable(2, integer=True, name="n")
    cons = [4 * n[0] + 3 * n[1] <= 37, 2 * n[0] + n[1] <= 17, n >= 0]
    return cp.Problem(cp.Maximize(7 * n[0] + 5 * n[1]), cons), ["wood", "labour", "sign"]


def c_facility() -> Any:
    cp = _cp()
    fixed = np.array([12.0, 10.0, 14.0])
    c = 10 * np.array([[2, 5, 7, 4], [6, 3, 4, 5], [4, 6, 2, 3]], dtype=float)
    y = cp.Variable(3, boolean=True, name="open")
    x = cp.Variable((3, 4), bounds=[0, 1], name="x")
    cons = [cp.sum(x, axis=0) == 1, x <= cp.reshape(y, (3, 1), order="C") @ np.ones((1, 4))]
    obj = cp.Minimize(fixed @ y + cp.sum(cp.multiply(c, x)))
    return cp.Problem(obj, cons), ["serve", "link"]


def c_nnls() -> Any:
    cp = _cp()
    A = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 3.0], [2.0, 1.0, 1.0]])
    b = np.array([3.0, -1.0, 2.0, 4.0])
    x = cp.Variable(3, name="x")
    cons = [x >= 0, cp.sum(x) <= 1.8]
    return cp.Problem(cp.Minimize(cp.sum_squares(A @ x - b)), cons), ["sign", "budget"]


def c_portfolio() -> Any:
    cp = _cp()
    mu = np.array([0.08, 0.12, 0.15])
    S = np.array([[0.10, 0.02, 0.01], [0.02, 0.20, 0.03], [0.01, 0.03, 0.30]])
    w = cp.Variable(3, bounds=[0, 0.7], name="w")
    cons = [cp.sum(w) == 1, mu @ w >= 0.11]
    return cp.Problem(cp.Minimize(cp.quad_form(w, S)), cons), ["budget", "ret"]


def c_concave_max() -> Any:
    cp = _cp()
    x = cp.Variable(2, nonneg=True, name="x")
    obj = cp.Maximize(8 * x[0] + 6 * x[1] - cp.square(x[0]) - 2 * cp.power(x[1], 2) - 0.5 * 0)
    cons = [x[0] + x[1] <= 3, x[0] - x[1] <= 1]
    return cp.Problem(obj, cons), ["res", "lim"]


def c_weighted_squares() -> Any:
    cp = _cp()
    x = cp.Variable((2, 2), name="x")
    target = np.array([[1.0, -2.0], [0.5, 3.0]])
    weight = np.array([[1.0, 2.0], [3.0, 0.5]])
    p = cp.Parameter(nonneg=True, value=2.0)
    fit = cp.sum(cp.multiply(weight, cp.square(x - target))) + cp.quad_over_lin(x[0, :], p)
    obj = cp.Minimize(fit + 10)
    cons = [cp.sum(x) == 1, x[:, 0] >= np.array([0.2, 0.4]), x <= 2]
    return cp.Problem(obj, cons), ["total", "floor", "ceil"]


def c_unnamed() -> Any:
    cp = _cp()
    x = cp.Variable(2, bounds=[0, 10])
    return cp.Problem(cp.Minimize(x[0] + 2 * x[1]), [x >= 1, x[0] + x[1] >= 3]), None


CVXPY_CASES = [
    Case("reddy_mikks", c_reddy_mikks, ("m1",), "lp"),
    Case("transport", c_transport, ("demand",), "lp"),
    Case("diet", c_diet, ("nutrient",), "lp"),
    Case("equality_lp", c_equality_lp, ("flow",), "lp"),
    Case("free_and_bounded", c_free_and_bounded, ("total",), "lp"),
    Case("nonneg_zero", c_nonneg_zero, ("balance",), "lp"),
    Case("ranged", c_ranged, ("lo", "hi"), "lp"),
    Case("matrix_lp", c_matrix_lp, ("cols",), "lp"),
    Case("unnamed", c_unnamed, ("c*",), "lp"),
    Case("knapsack", c_knapsack, ("weight",), "milp"),
    Case("integer_production", c_integer_production, ("wood",), "milp"),
    Case("facility", c_facility, ("serve",), "milp"),
    Case("nnls", c_nnls, ("budget",), "qp"),
    Case("portfolio", c_portfolio, ("budget",), "qp"),
    Case("concave_max", c_concave_max, ("res",), "qp"),
    Case("weighted_squares", c_weighted_squares, ("total",), "qp"),
]
