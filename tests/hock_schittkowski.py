"""A bank of Hock-Schittkowski problems stated as :class:`~ortools_lag.Model` objects.

Sources (cited per problem in ``HSProblem.source``):

- [HS81] W. Hock and K. Schittkowski, *Test Examples for Nonlinear Programming Codes*, Lecture
  Notes in Economics and Mathematical Systems 187, Springer, 1981;
- [S87] K. Schittkowski, *More Test Examples for Nonlinear Programming Codes*, Lecture Notes in
  Economics and Mathematical Systems 282, Springer, 1987 (corrected optimal values).

Conventions: one variable block ``x`` (the collection's ``x_1 .. x_n`` are ``x[0] .. x[n-1]``)
with the collection's bounds; the objective as published (a maximisation is stated, as in the
collection, as the minimisation of its negative); one constraint group per published
constraint, ``c1``, ``c2`` ... (inequalities first, then equalities; a two-sided row is two
inequalities), each inequality in the collection's form ``g(x) >= 0``. ``f_star`` is the
published optimal value (the corrected one where a problem's comment says so), ``x_star`` the
published solution where it is unique (``None`` where there are several, or where the printed
point does not reproduce ``f_star``), ``x0`` the published start point (feasible or not).

``local_only`` marks a problem with other local minima that a local method can reach from
``x0`` (for ``hs47``, the published value itself is only a local minimum); a certified local
minimum other than ``f_star`` is then not a wrong claim.

Every statement was checked by solving it from ``x0`` with scipy's SLSQP and trust-constr and
comparing the objective with ``f_star``; where neither reached it from ``x0`` (other local
minima, a rank-deficient system), from a start near ``x_star`` or by ``alm``
(``tests/test_hock_schittkowski.py`` and ``benchmarks/bench_hock_schittkowski.py`` rerun the
check for every solver).

>>> p = hs71()
>>> p.name, p.model.n, sorted(p.model.groups), p.f_star
('hs71', 4, ['c1', 'c2'], 17.0140173)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ortools_lag import Model
from ortools_lag.model import functions as F

__all__ = ["FAST", "PROBLEMS", "HSProblem", "problem", "problems"]

HS81 = "Hock & Schittkowski (1981), LNEMS 187, problem"
S87 = "optimal value as corrected in Schittkowski (1987), LNEMS 282"
INF = math.inf
SQ2, SQ3 = math.sqrt(2.0), math.sqrt(3.0)


@dataclass(frozen=True)
class HSProblem:
    """One problem of the collection: the model and the published numbers."""

    name: str
    model: Model
    f_star: float
    x_star: np.ndarray | None
    x0: np.ndarray
    source: str
    local_only: bool = False


def _model(name: str, n: int, lb: Any = -INF, ub: Any = INF) -> tuple[Model, Any]:
    m = Model(name)
    lo = np.broadcast_to(np.asarray(lb, dtype=float), (n,)).copy()
    hi = np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy()
    return m, m.var("x", n, lb=lo, ub=hi)


def _hs(
    m: Model,
    f_star: float,
    x_star: Any,
    x0: Any,
    source: str,
    *,
    local_only: bool = False,
) -> HSProblem:
    xs = None if x_star is None else np.asarray(x_star, dtype=float)
    return HSProblem(m.name, m, float(f_star), xs, np.asarray(x0, dtype=float), source, local_only)


def _constraints(m: Model, *cons: Any) -> None:
    """Add ``c1``, ``c2`` ... in the given order."""
    for i, c in enumerate(cons, start=1):
        m.add(f"c{i}", c)


def _rosenbrock(x: Any) -> Any:
    return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2


# -- problems 1-24: two variables ------------------------------------------------------------
def hs1() -> HSProblem:
    m, x = _model("hs1", 2, lb=[-INF, -1.5])
    m.minimize(_rosenbrock(x))
    return _hs(m, 0.0, [1, 1], [-2, 1], f"{HS81} 1")


def hs2() -> HSProblem:
    m, x = _model("hs2", 2, lb=[-INF, 1.5])
    m.minimize(_rosenbrock(x))
    a = 1.2243707487363527  # the root of 200 a (a^2 - 1.5) + 2 (a - 1) = 0 near 1.22
    # from x0 a local method can end at the local minimum 4.9412 near (-1.2, 1.5)
    return _hs(m, 0.0504261879, [a, 1.5], [-2, 1], f"{HS81} 2", local_only=True)


def hs3() -> HSProblem:
    m, x = _model("hs3", 2, lb=[-INF, 0])
    m.minimize(x[1] + 1e-5 * (x[1] - x[0]) ** 2)
    return _hs(m, 0.0, [0, 0], [10, 1], f"{HS81} 3")


def hs4() -> HSProblem:
    m, x = _model("hs4", 2, lb=[1, 0])
    m.minimize((x[0] + 1) ** 3 / 3 + x[1])
    return _hs(m, 8 / 3, [1, 0], [1.125, 0.125], f"{HS81} 4")


def hs5() -> HSProblem:
    m, x = _model("hs5", 2, lb=[-1.5, -3], ub=[4, 3])
    m.minimize(F.sin(x[0] + x[1]) + (x[0] - x[1]) ** 2 - 1.5 * x[0] + 2.5 * x[1] + 1)
    xs = [-math.pi / 3 + 0.5, -math.pi / 3 - 0.5]
    return _hs(m, -SQ3 / 2 - math.pi / 3, xs, [0, 0], f"{HS81} 5")


def hs6() -> HSProblem:
    m, x = _model("hs6", 2)
    m.minimize((1 - x[0]) ** 2)
    _constraints(m, 10 * (x[1] - x[0] ** 2) == 0)
    return _hs(m, 0.0, [1, 1], [-1.2, 1], f"{HS81} 6")


def hs7() -> HSProblem:
    m, x = _model("hs7", 2)
    m.minimize(F.log(1 + x[0] ** 2) - x[1])
    _constraints(m, (1 + x[0] ** 2) ** 2 + x[1] ** 2 - 4 == 0)
    return _hs(m, -SQ3, [0, SQ3], [2, 2], f"{HS81} 7")


def hs9() -> HSProblem:
    m, x = _model("hs9", 2)
    m.minimize(F.sin(math.pi * x[0] / 12) * F.cos(math.pi * x[1] / 16))
    _constraints(m, 4 * x[0] - 3 * x[1] == 0)
    # the solutions form the family x = (12 k - 3, 16 k - 4), k integer
    return _hs(m, -0.5, None, [0, 0], f"{HS81} 9")


def hs10() -> HSProblem:
    m, x = _model("hs10", 2)
    m.minimize(x[0] - x[1])
    _constraints(m, -3 * x[0] ** 2 + 2 * x[0] * x[1] - x[1] ** 2 + 1 >= 0)
    return _hs(m, -1.0, [0, 1], [-10, 10], f"{HS81} 10")


def hs11() -> HSProblem:
    m, x = _model("hs11", 2)
    m.minimize((x[0] - 5) ** 2 + x[1] ** 2 - 25)
    _constraints(m, -(x[0] ** 2) + x[1] >= 0)
    # the closed form printed for x* does not reproduce f*: only the value is used
    return _hs(m, -8.498464223, None, [4.9, 0.1], f"{HS81} 11")


def hs12() -> HSProblem:
    m, x = _model("hs12", 2)
    m.minimize(0.5 * x[0] ** 2 + x[1] ** 2 - x[0] * x[1] - 7 * x[0] - 7 * x[1])
    _constraints(m, 25 - 4 * x[0] ** 2 - x[1] ** 2 >= 0)
    return _hs(m, -30.0, [2, 3], [0, 0], f"{HS81} 12")


def hs14() -> HSProblem:
    m, x = _model("hs14", 2)
    m.minimize((x[0] - 2) ** 2 + (x[1] - 1) ** 2)
    _constraints(m, -(x[0] ** 2) / 4 - x[1] ** 2 + 1 >= 0, x[0] - 2 * x[1] + 1 == 0)
    s7 = math.sqrt(7.0)
    return _hs(m, 9 - 2.875 * s7, [(s7 - 1) / 2, (s7 + 1) / 4], [2, 2], f"{HS81} 14")


def hs15() -> HSProblem:
    m, x = _model("hs15", 2, ub=[0.5, INF])
    m.minimize(_rosenbrock(x))
    _constraints(m, x[0] * x[1] - 1 >= 0, x[0] + x[1] ** 2 >= 0)
    # a second local minimum, 360.3798 near (-0.792, -1.262), is reachable from x0
    return _hs(m, 306.5, [0.5, 2], [-2, 1], f"{HS81} 15", local_only=True)


def hs16() -> HSProblem:
    m, x = _model("hs16", 2, lb=[-0.5, -INF], ub=[0.5, 1])
    m.minimize(_rosenbrock(x))
    _constraints(m, x[0] + x[1] ** 2 >= 0, x[0] ** 2 + x[1] >= 0)
    # a second local minimum, 23.1447 on the boundary x1 + x2^2 = 0, is reachable from x0
    return _hs(m, 0.25, [0.5, 0.25], [-2, 1], f"{HS81} 16", local_only=True)


def hs17() -> HSProblem:
    m, x = _model("hs17", 2, lb=[-0.5, -INF], ub=[0.5, 1])
    m.minimize(_rosenbrock(x))
    _constraints(m, x[1] ** 2 - x[0] >= 0, x[0] ** 2 - x[1] >= 0)
    return _hs(m, 1.0, [0, 0], [-2, 1], f"{HS81} 17")


def hs18() -> HSProblem:
    m, x = _model("hs18", 2, lb=[2, 0], ub=[50, 50])
    m.minimize(0.01 * x[0] ** 2 + x[1] ** 2)
    _constraints(m, x[0] * x[1] - 25 >= 0, x[0] ** 2 + x[1] ** 2 - 25 >= 0)
    return _hs(m, 5.0, [math.sqrt(250), math.sqrt(2.5)], [2, 2], f"{HS81} 18")


def hs19() -> HSProblem:
    m, x = _model("hs19", 2, lb=[13, 0], ub=[100, 100])
    m.minimize((x[0] - 10) ** 3 + (x[1] - 20) ** 3)
    _constraints(
        m,
        (x[0] - 5) ** 2 + (x[1] - 5) ** 2 - 100 >= 0,
        -((x[1] - 5) ** 2) - (x[0] - 6) ** 2 + 82.81 >= 0,
    )
    return _hs(m, -6961.81381, [14.095, 0.84296079], [20.1, 5.84], f"{HS81} 19")


def hs20() -> HSProblem:
    m, x = _model("hs20", 2, lb=[-0.5, -INF], ub=[0.5, INF])
    m.minimize(_rosenbrock(x))
    _constraints(m, x[0] + x[1] ** 2 >= 0, x[0] ** 2 + x[1] >= 0, x[0] ** 2 + x[1] ** 2 - 1 >= 0)
    # [HS81] prints 40.19873724 at (-0.5, sqrt(3)/2); the minimum is at x1 = +0.5
    return _hs(m, 81.5 - 25 * SQ3, [0.5, SQ3 / 2], [-2, 1], f"{HS81} 20; {S87}", local_only=True)


def hs21() -> HSProblem:
    m, x = _model("hs21", 2, lb=[2, -50], ub=[50, 50])
    m.minimize(0.01 * x[0] ** 2 + x[1] ** 2 - 100)
    _constraints(m, 10 * x[0] - x[1] - 10 >= 0)
    return _hs(m, -99.96, [2, 0], [-1, -1], f"{HS81} 21")


def hs22() -> HSProblem:
    m, x = _model("hs22", 2)
    m.minimize((x[0] - 2) ** 2 + (x[1] - 1) ** 2)
    _constraints(m, -x[0] - x[1] + 2 >= 0, -(x[0] ** 2) + x[1] >= 0)
    return _hs(m, 1.0, [1, 1], [2, 2], f"{HS81} 22")


def hs23() -> HSProblem:
    m, x = _model("hs23", 2, lb=-50, ub=50)
    m.minimize(x[0] ** 2 + x[1] ** 2)
    _constraints(
        m,
        x[0] + x[1] - 1 >= 0,
        x[0] ** 2 + x[1] ** 2 - 1 >= 0,
        9 * x[0] ** 2 + x[1] ** 2 - 9 >= 0,
        x[0] ** 2 - x[1] >= 0,
        x[1] ** 2 - x[0] >= 0,
    )
    return _hs(m, 2.0, [1, 1], [3, 1], f"{HS81} 23")


def hs24() -> HSProblem:
    m, x = _model("hs24", 2, lb=0)
    m.minimize(((x[0] - 3) ** 2 - 9) * x[1] ** 3 / (27 * SQ3))
    _constraints(m, x[0] / SQ3 - x[1] >= 0, x[0] + SQ3 * x[1] >= 0, -x[0] - SQ3 * x[1] + 6 >= 0)
    return _hs(m, -1.0, [3, SQ3], [1, 0.5], f"{HS81} 24")


# -- problems 26-56: three to seven variables --------------------------------------------------
def hs26() -> HSProblem:
    m, x = _model("hs26", 3)
    m.minimize((x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 4)
    _constraints(m, (1 + x[1] ** 2) * x[0] + x[2] ** 4 - 3 == 0)
    # two solutions with f = 0: (1, 1, 1) and a point with all three equal near -1.8
    return _hs(m, 0.0, None, [-2.6, 2, 2], f"{HS81} 26")


def hs27() -> HSProblem:
    m, x = _model("hs27", 3)
    m.minimize(0.01 * (x[0] - 1) ** 2 + (x[1] - x[0] ** 2) ** 2)
    _constraints(m, x[0] + x[2] ** 2 + 1 == 0)
    return _hs(m, 0.04, [-1, 1, 0], [2, 2, 2], f"{HS81} 27")


def hs28() -> HSProblem:
    m, x = _model("hs28", 3)
    m.minimize((x[0] + x[1]) ** 2 + (x[1] + x[2]) ** 2)
    _constraints(m, x[0] + 2 * x[1] + 3 * x[2] - 1 == 0)
    return _hs(m, 0.0, [0.5, -0.5, 0.5], [-4, 1, 1], f"{HS81} 28")


def hs29() -> HSProblem:
    m, x = _model("hs29", 3)
    m.minimize(-x[0] * x[1] * x[2])
    _constraints(m, -(x[0] ** 2) - 2 * x[1] ** 2 - 4 * x[2] ** 2 + 48 >= 0)
    # four solutions (4, 2 sqrt 2, 2) with two signs flipped
    return _hs(m, -16 * SQ2, None, [1, 1, 1], f"{HS81} 29")


def hs30() -> HSProblem:
    m, x = _model("hs30", 3, lb=[1, -10, -10], ub=10)
    m.minimize((x * x).sum())
    _constraints(m, x[0] ** 2 + x[1] ** 2 - 1 >= 0)
    return _hs(m, 1.0, [1, 0, 0], [1, 1, 1], f"{HS81} 30")


def hs31() -> HSProblem:
    m, x = _model("hs31", 3, lb=[-10, 1, -10], ub=[10, 10, 1])
    m.minimize(9 * x[0] ** 2 + x[1] ** 2 + 9 * x[2] ** 2)
    _constraints(m, x[0] * x[1] - 1 >= 0)
    return _hs(m, 6.0, [1 / SQ3, SQ3, 0], [1, 1, 1], f"{HS81} 31")


def hs32() -> HSProblem:
    m, x = _model("hs32", 3, lb=0)
    m.minimize((x[0] + 3 * x[1] + x[2]) ** 2 + 4 * (x[0] - x[1]) ** 2)
    _constraints(m, 6 * x[1] + 4 * x[2] - x[0] ** 3 - 3 >= 0, 1 - x.sum() == 0)
    return _hs(m, 1.0, [0, 0, 1], [0.1, 0.7, 0.2], f"{HS81} 32")


def hs33() -> HSProblem:
    m, x = _model("hs33", 3, lb=0, ub=[INF, INF, 5])
    m.minimize((x[0] - 1) * (x[0] - 2) * (x[0] - 3) + x[2])
    _constraints(m, x[2] ** 2 - x[1] ** 2 - x[0] ** 2 >= 0, (x * x).sum() - 4 >= 0)
    # a local minimum -4 at (0, 0, 2) is reachable from x0
    return _hs(m, SQ2 - 6, [0, SQ2, SQ2], [0, 0, 3], f"{HS81} 33", local_only=True)


def hs34() -> HSProblem:
    m, x = _model("hs34", 3, lb=0, ub=[100, 100, 10])
    m.minimize(-x[0])
    _constraints(m, x[1] - F.exp(x[0]) >= 0, x[2] - F.exp(x[1]) >= 0)
    l10 = math.log(10.0)
    return _hs(m, -math.log(l10), [math.log(l10), l10, 10], [0, 1.05, 2.9], f"{HS81} 34")


def hs35() -> HSProblem:
    m, x = _model("hs35", 3, lb=0)
    m.minimize(
        9
        - 8 * x[0]
        - 6 * x[1]
        - 4 * x[2]
        + 2 * x[0] ** 2
        + 2 * x[1] ** 2
        + x[2] ** 2
        + 2 * x[0] * x[1]
        + 2 * x[0] * x[2]
    )
    _constraints(m, 3 - x[0] - x[1] - 2 * x[2] >= 0)
    return _hs(m, 1 / 9, [4 / 3, 7 / 9, 4 / 9], [0.5, 0.5, 0.5], f"{HS81} 35")


def hs36() -> HSProblem:
    m, x = _model("hs36", 3, lb=0, ub=[20, 11, 42])
    m.minimize(-x[0] * x[1] * x[2])
    _constraints(m, 72 - x[0] - 2 * x[1] - 2 * x[2] >= 0)
    return _hs(m, -3300.0, [20, 11, 15], [10, 10, 10], f"{HS81} 36")


def hs37() -> HSProblem:
    m, x = _model("hs37", 3, lb=0, ub=42)
    m.minimize(-x[0] * x[1] * x[2])
    _constraints(m, 72 - x[0] - 2 * x[1] - 2 * x[2] >= 0, x[0] + 2 * x[1] + 2 * x[2] >= 0)
    return _hs(m, -3456.0, [24, 12, 12], [10, 10, 10], f"{HS81} 37")


def hs38() -> HSProblem:
    m, x = _model("hs38", 4, lb=-10, ub=10)
    m.minimize(
        100 * (x[1] - x[0] ** 2) ** 2
        + (1 - x[0]) ** 2
        + 90 * (x[3] - x[2] ** 2) ** 2
        + (1 - x[2]) ** 2
        + 10.1 * ((x[1] - 1) ** 2 + (x[3] - 1) ** 2)
        + 19.8 * (x[1] - 1) * (x[3] - 1)
    )
    return _hs(m, 0.0, [1, 1, 1, 1], [-3, -1, -3, -1], f"{HS81} 38")


def hs39() -> HSProblem:
    m, x = _model("hs39", 4)
    m.minimize(-x[0])
    _constraints(m, x[1] - x[0] ** 3 - x[2] ** 2 == 0, x[0] ** 2 - x[1] - x[3] ** 2 == 0)
    return _hs(m, -1.0, [1, 1, 0, 0], [2, 2, 2, 2], f"{HS81} 39")


def hs40() -> HSProblem:
    m, x = _model("hs40", 4)
    m.minimize(-x[0] * x[1] * x[2] * x[3])
    _constraints(
        m,
        x[0] ** 3 + x[1] ** 2 - 1 == 0,
        x[0] ** 2 * x[3] - x[2] == 0,
        x[3] ** 2 - x[1] == 0,
    )
    # two solutions: (2^-1/3, 2^-1/2, 2^-11/12, 2^-1/4) and the one with x3, x4 negated
    return _hs(m, -0.25, None, [0.8, 0.8, 0.8, 0.8], f"{HS81} 40")


def hs41() -> HSProblem:
    m, x = _model("hs41", 4, lb=0, ub=[1, 1, 1, 2])
    m.minimize(2 - x[0] * x[1] * x[2])
    _constraints(m, x[0] + 2 * x[1] + 2 * x[2] - x[3] == 0)
    return _hs(m, 52 / 27, [2 / 3, 1 / 3, 1 / 3, 2], [2, 2, 2, 2], f"{HS81} 41")


def hs42() -> HSProblem:
    m, x = _model("hs42", 4)
    m.minimize(((x - np.array([1.0, 2.0, 3.0, 4.0])) ** 2).sum())
    _constraints(m, x[0] - 2 == 0, x[2] ** 2 + x[3] ** 2 - 2 == 0)
    xs = [2, 2, 0.6 * SQ2, 0.8 * SQ2]
    return _hs(m, 28 - 10 * SQ2, xs, [1, 1, 1, 1], f"{HS81} 42")


def hs43() -> HSProblem:
    m, x = _model("hs43", 4)
    x1, x2, x3, x4 = (x[i] for i in range(4))
    m.minimize(x1**2 + x2**2 + 2 * x3**2 + x4**2 - 5 * x1 - 5 * x2 - 21 * x3 + 7 * x4)
    _constraints(
        m,
        8 - x1**2 - x2**2 - x3**2 - x4**2 - x1 + x2 - x3 + x4 >= 0,
        10 - x1**2 - 2 * x2**2 - x3**2 - 2 * x4**2 + x1 + x4 >= 0,
        5 - 2 * x1**2 - x2**2 - x3**2 - 2 * x1 + x2 + x4 >= 0,
    )
    return _hs(m, -44.0, [0, 1, 2, -1], [0, 0, 0, 0], f"{HS81} 43")


def hs44() -> HSProblem:
    m, x = _model("hs44", 4, lb=0)
    x1, x2, x3, x4 = (x[i] for i in range(4))
    m.minimize(x1 - x2 - x3 - x1 * x3 + x1 * x4 + x2 * x3 - x2 * x4)
    _constraints(
        m,
        8 - x1 - 2 * x2 >= 0,
        12 - 4 * x1 - x2 >= 0,
        12 - 3 * x1 - 4 * x2 >= 0,
        8 - 2 * x3 - x4 >= 0,
        8 - x3 - 2 * x4 >= 0,
        5 - x3 - x4 >= 0,
    )
    # the bilinear objective has other local minima, e.g. -13 at (3, 0, 4, 0), reachable from x0
    return _hs(m, -15.0, [0, 3, 0, 4], [0, 0, 0, 0], f"{HS81} 44", local_only=True)


def hs45() -> HSProblem:
    m, x = _model("hs45", 5, lb=0, ub=[1, 2, 3, 4, 5])
    m.minimize(2 - x[0] * x[1] * x[2] * x[3] * x[4] / 120)
    return _hs(m, 1.0, [1, 2, 3, 4, 5], [2] * 5, f"{HS81} 45")


def hs46() -> HSProblem:
    m, x = _model("hs46", 5)
    m.minimize((x[0] - x[1]) ** 2 + (x[2] - 1) ** 2 + (x[3] - 1) ** 4 + (x[4] - 1) ** 6)
    _constraints(
        m,
        x[0] ** 2 * x[3] + F.sin(x[3] - x[4]) - 1 == 0,
        x[1] + x[2] ** 4 * x[3] ** 2 - 2 == 0,
    )
    # x* = (1, ..., 1), but f grows like |x - x*|^4 along the feasible set: a point with
    # f = 1e-12 is only determined to ~1e-3, so x is not compared
    return _hs(m, 0.0, None, [SQ2 / 2, 1.75, 0.5, 2, 2], f"{HS81} 46")


def hs47() -> HSProblem:
    m, x = _model("hs47", 5)
    m.minimize((x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 3 + (x[2] - x[3]) ** 4 + (x[3] - x[4]) ** 4)
    _constraints(
        m,
        x[0] + x[1] ** 2 + x[2] ** 3 - 3 == 0,
        x[1] - x[2] ** 2 + x[3] - 1 == 0,
        x[0] * x[4] - 1 == 0,
    )
    # the cubic term makes f unbounded in some directions: f* = 0 at (1, ..., 1) is a local
    # minimum (lower feasible values exist, e.g. about -0.0267)
    return _hs(m, 0.0, [1] * 5, [2, SQ2, -1, 2 - SQ2, 0.5], f"{HS81} 47", local_only=True)


def hs48() -> HSProblem:
    m, x = _model("hs48", 5)
    m.minimize((x[0] - 1) ** 2 + (x[1] - x[2]) ** 2 + (x[3] - x[4]) ** 2)
    _constraints(m, x.sum() - 5 == 0, x[2] - 2 * (x[3] + x[4]) + 3 == 0)
    return _hs(m, 0.0, [1] * 5, [3, 5, -3, 2, -2], f"{HS81} 48")


def hs49() -> HSProblem:
    m, x = _model("hs49", 5)
    m.minimize((x[0] - x[1]) ** 2 + (x[2] - 1) ** 2 + (x[3] - 1) ** 4 + (x[4] - 1) ** 6)
    _constraints(m, x[0] + x[1] + x[2] + 4 * x[3] - 7 == 0, x[2] + 5 * x[4] - 6 == 0)
    # x* = (1, ..., 1), but f grows like |x - x*|^4 along the feasible set (as in 46)
    return _hs(m, 0.0, None, [10, 7, 2, -3, 0.8], f"{HS81} 49")


def hs50() -> HSProblem:
    m, x = _model("hs50", 5)
    m.minimize((x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 2 + (x[2] - x[3]) ** 4 + (x[3] - x[4]) ** 2)
    _constraints(
        m,
        x[0] + 2 * x[1] + 3 * x[2] - 6 == 0,
        x[1] + 2 * x[2] + 3 * x[3] - 6 == 0,
        x[2] + 2 * x[3] + 3 * x[4] - 6 == 0,
    )
    return _hs(m, 0.0, [1] * 5, [35, -31, 11, 5, -5], f"{HS81} 50")


def _hs51_objective(x: Any) -> Any:
    return (x[0] - x[1]) ** 2 + (x[1] + x[2] - 2) ** 2 + (x[3] - 1) ** 2 + (x[4] - 1) ** 2


def hs51() -> HSProblem:
    m, x = _model("hs51", 5)
    m.minimize(_hs51_objective(x))
    _constraints(m, x[0] + 3 * x[1] - 4 == 0, x[2] + x[3] - 2 * x[4] == 0, x[1] - x[4] == 0)
    return _hs(m, 0.0, [1] * 5, [2.5, 0.5, 2, -1, 0.5], f"{HS81} 51")


def _hs52_objective(x: Any) -> Any:
    return (4 * x[0] - x[1]) ** 2 + (x[1] + x[2] - 2) ** 2 + (x[3] - 1) ** 2 + (x[4] - 1) ** 2


def hs52() -> HSProblem:
    m, x = _model("hs52", 5)
    m.minimize(_hs52_objective(x))
    _constraints(m, x[0] + 3 * x[1] == 0, x[2] + x[3] - 2 * x[4] == 0, x[1] - x[4] == 0)
    xs = np.array([-33, 11, 180, -158, 11]) / 349
    return _hs(m, 1859 / 349, xs, [2] * 5, f"{HS81} 52")


def hs53() -> HSProblem:
    m, x = _model("hs53", 5, lb=-10, ub=10)
    m.minimize(_hs51_objective(x))
    _constraints(m, x[0] + 3 * x[1] == 0, x[2] + x[3] - 2 * x[4] == 0, x[1] - x[4] == 0)
    xs = np.array([-33, 11, 27, -5, 11]) / 43
    return _hs(m, 176 / 43, xs, [2] * 5, f"{HS81} 53")


def hs55() -> HSProblem:
    m, x = _model("hs55", 6, lb=0, ub=[1, INF, INF, 1, INF, INF])
    m.minimize(x[0] + 2 * x[1] + 4 * x[4] + F.exp(x[0] * x[3]))
    _constraints(
        m,
        x[0] + 2 * x[1] + 5 * x[4] - 6 == 0,
        x[0] + x[1] + x[2] - 3 == 0,
        x[3] + x[4] + x[5] - 2 == 0,
        x[0] + x[3] - 1 == 0,
        x[1] + x[4] - 2 == 0,
        x[2] + x[5] - 2 == 0,
    )
    xs = [0, 4 / 3, 5 / 3, 1, 2 / 3, 1 / 3]
    return _hs(m, 19 / 3, xs, [1, 2, 0, 0, 0, 2], f"{HS81} 55")


def hs56() -> HSProblem:
    m, x = _model("hs56", 7)
    m.minimize(-x[0] * x[1] * x[2])
    s = F.sin(x) ** 2
    _constraints(
        m,
        x[0] - 4.2 * s[3] == 0,
        x[1] - 4.2 * s[4] == 0,
        x[2] - 4.2 * s[5] == 0,
        x[0] + 2 * x[1] + 2 * x[2] - 7.2 * s[6] == 0,
    )
    a, b = math.asin(math.sqrt(1 / 4.2)), math.asin(math.sqrt(5 / 7.2))
    # x1..x3 = (2.4, 1.2, 1.2); the angles x4..x7 are determined only up to sign and period
    return _hs(m, -3.456, None, [1, 1, 1, a, a, a, b], f"{HS81} 56")


# -- problems 60-83 ----------------------------------------------------------------------------
def hs60() -> HSProblem:
    m, x = _model("hs60", 3, lb=-10, ub=10)
    m.minimize((x[0] - 1) ** 2 + (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 4)
    _constraints(m, x[0] * (1 + x[1] ** 2) + x[2] ** 4 - 4 - 3 * SQ2 == 0)
    xs = [1.104859024, 1.196674194, 1.535262257]
    return _hs(m, 0.0325682002513, xs, [2, 2, 2], f"{HS81} 60")


def hs61() -> HSProblem:
    m, x = _model("hs61", 3)
    m.minimize(4 * x[0] ** 2 + 2 * x[1] ** 2 + 2 * x[2] ** 2 - 33 * x[0] + 16 * x[1] - 24 * x[2])
    _constraints(m, 3 * x[0] - 2 * x[1] ** 2 - 7 == 0, 4 * x[0] - x[2] ** 2 - 11 == 0)
    xs = [5.326770157, -2.118998639, 3.210464239]
    return _hs(m, -143.6461422, xs, [0, 0, 0], f"{HS81} 61")


def hs62() -> HSProblem:
    m, x = _model("hs62", 3, lb=0, ub=1)
    x1, x2, x3 = x[0], x[1], x[2]
    m.minimize(
        -32.174
        * (
            255 * F.log((x1 + x2 + x3 + 0.03) / (0.09 * x1 + x2 + x3 + 0.03))
            + 280 * F.log((x2 + x3 + 0.03) / (0.07 * x2 + x3 + 0.03))
            + 290 * F.log((x3 + 0.03) / (0.13 * x3 + 0.03))
        )
    )
    _constraints(m, x.sum() - 1 == 0)
    xs = [0.6178126908, 0.328202223, 0.05398471078]
    return _hs(m, -26272.51448, xs, [0.7, 0.2, 0.1], f"{HS81} 62")


def hs63() -> HSProblem:
    m, x = _model("hs63", 3, lb=0)
    m.minimize(1000 - x[0] ** 2 - 2 * x[1] ** 2 - x[2] ** 2 - x[0] * x[1] - x[0] * x[2])
    _constraints(m, 8 * x[0] + 14 * x[1] + 7 * x[2] - 56 == 0, (x * x).sum() - 25 == 0)
    xs = [3.512118414, 0.2169881741, 3.552174034]
    return _hs(m, 961.7151721, xs, [2, 2, 2], f"{HS81} 63")


def hs64() -> HSProblem:
    m, x = _model("hs64", 3, lb=1e-5)
    m.minimize(
        5 * x[0]
        + 50000 * x[0] ** -1
        + 20 * x[1]
        + 72000 * x[1] ** -1
        + 10 * x[2]
        + 144000 * x[2] ** -1
    )
    _constraints(m, 1 - 4 * x[0] ** -1 - 32 * x[1] ** -1 - 120 * x[2] ** -1 >= 0)
    xs = [108.7347175, 85.12613942, 204.3247078]
    return _hs(m, 6299.842428, xs, [1, 1, 1], f"{HS81} 64")


def hs65() -> HSProblem:
    m, x = _model("hs65", 3, lb=[-4.5, -4.5, -5], ub=[4.5, 4.5, 5])
    m.minimize((x[0] - x[1]) ** 2 + (x[0] + x[1] - 10) ** 2 / 9 + (x[2] - 5) ** 2)
    _constraints(m, 48 - (x * x).sum() >= 0)
    xs = [3.650461821, 3.65046168, 4.6204170507]
    return _hs(m, 0.9535288567, xs, [-5, 5, 0], f"{HS81} 65")


def hs66() -> HSProblem:
    m, x = _model("hs66", 3, lb=0, ub=[100, 100, 10])
    m.minimize(0.2 * x[2] - 0.8 * x[0])
    _constraints(m, x[1] - F.exp(x[0]) >= 0, x[2] - F.exp(x[1]) >= 0)
    xs = [0.1841264879, 1.202167873, 3.327322322]
    return _hs(m, 0.5181632741, xs, [0, 1.05, 2.9], f"{HS81} 66")


def hs71() -> HSProblem:
    m, x = _model("hs71", 4, lb=1, ub=5)
    m.minimize(x[0] * x[3] * (x[0] + x[1] + x[2]) + x[2])
    _constraints(m, x[0] * x[1] * x[2] * x[3] - 25 >= 0, (x * x).sum() - 40 == 0)
    xs = [1, 4.7429994, 3.8211503, 1.3794082]
    return _hs(m, 17.0140173, xs, [1, 5, 5, 1], f"{HS81} 71")


def hs72() -> HSProblem:
    m, x = _model("hs72", 4, lb=0.001, ub=[4e5, 3e5, 2e5, 1e5])
    m.minimize(1 + x.sum())
    r = [x[i] ** -1 for i in range(4)]
    _constraints(
        m,
        0.0401 - 4 * r[0] - 2.25 * r[1] - r[2] - 0.25 * r[3] >= 0,
        0.010085 - 0.16 * r[0] - 0.36 * r[1] - 0.64 * r[2] - 0.64 * r[3] >= 0,
    )
    xs = [193.4071, 179.5475, 185.0186, 168.7062]
    return _hs(m, 727.67937, xs, [1, 1, 1, 1], f"{HS81} 72")


def hs73() -> HSProblem:
    m, x = _model("hs73", 4, lb=0)
    m.minimize(24.55 * x[0] + 26.75 * x[1] + 39 * x[2] + 40.5 * x[3])
    spread = F.sqrt(0.28 * x[0] ** 2 + 0.19 * x[1] ** 2 + 20.5 * x[2] ** 2 + 0.62 * x[3] ** 2)
    _constraints(
        m,
        2.3 * x[0] + 5.6 * x[1] + 11.1 * x[2] + 1.3 * x[3] - 5 >= 0,
        12 * x[0] + 11.9 * x[1] + 41.8 * x[2] + 52.1 * x[3] - 21 - 1.645 * spread >= 0,
        x.sum() - 1 == 0,
    )
    xs = [0.6355216, 0.0, 0.3127019, 0.05177655]
    return _hs(m, 29.894378, xs, [1, 1, 1, 1], f"{HS81} 73")


def _hs74(name: str, a: float, f_star: float, x_star: list[float]) -> HSProblem:
    m, x = _model(name, 4, lb=[0, 0, -a, -a], ub=[1200, 1200, a, a])
    m.minimize(3 * x[0] + 1e-6 * x[0] ** 3 + 2 * x[1] + (2e-6 / 3) * x[1] ** 3)
    _constraints(
        m,
        x[3] - x[2] + a >= 0,
        x[2] - x[3] + a >= 0,
        1000 * F.sin(-x[2] - 0.25) + 1000 * F.sin(-x[3] - 0.25) + 894.8 - x[0] == 0,
        1000 * F.sin(x[2] - 0.25) + 1000 * F.sin(x[2] - x[3] - 0.25) + 894.8 - x[1] == 0,
        1000 * F.sin(x[3] - 0.25) + 1000 * F.sin(x[3] - x[2] - 0.25) + 1294.8 == 0,
    )
    return _hs(m, f_star, x_star, [0, 0, 0, 0], f"{HS81} {name[2:]}")


def hs74() -> HSProblem:
    return _hs74("hs74", 0.55, 5126.4981, [679.9453, 1026.067, 0.1188764, -0.3962336])


def hs75() -> HSProblem:
    return _hs74("hs75", 0.48, 5174.4129, [776.1592, 925.1949, 0.05110879, -0.4288911])


def hs76() -> HSProblem:
    m, x = _model("hs76", 4, lb=0)
    x1, x2, x3, x4 = (x[i] for i in range(4))
    m.minimize(
        x1**2 + 0.5 * x2**2 + x3**2 + 0.5 * x4**2 - x1 * x3 + x3 * x4 - x1 - 3 * x2 + x3 - x4
    )
    _constraints(
        m,
        5 - x1 - 2 * x2 - x3 - x4 >= 0,
        4 - 3 * x1 - x2 - 2 * x3 + x4 >= 0,
        x2 + 4 * x3 - 1.5 >= 0,
    )
    xs = [0.2727273, 2.090909, 0.0, 0.5454545]
    return _hs(m, -4.681818181, xs, [0.5] * 4, f"{HS81} 76")


def hs77() -> HSProblem:
    m, x = _model("hs77", 5)
    m.minimize(
        (x[0] - 1) ** 2 + (x[0] - x[1]) ** 2 + (x[2] - 1) ** 2 + (x[3] - 1) ** 4 + (x[4] - 1) ** 6
    )
    _constraints(
        m,
        x[0] ** 2 * x[3] + F.sin(x[3] - x[4]) - 2 * SQ2 == 0,
        x[1] + x[2] ** 4 * x[3] ** 2 - 8 - SQ2 == 0,
    )
    xs = [1.166172, 1.182111, 1.380257, 1.506036, 0.6109203]
    return _hs(m, 0.24150513, xs, [2] * 5, f"{HS81} 77")


def _hs78_rows(x: Any) -> tuple[Any, Any, Any]:
    return (x * x).sum() - 10, x[1] * x[2] - 5 * x[3] * x[4], x[0] ** 3 + x[1] ** 3 + 1


def _product(x: Any, n: int) -> Any:
    p = x[0] * x[1]
    for i in range(2, n):
        p = p * x[i]
    return p


def hs78() -> HSProblem:
    m, x = _model("hs78", 5)
    m.minimize(_product(x, 5))
    _constraints(m, *(r == 0 for r in _hs78_rows(x)))
    # x* = (-1.717142, 1.595708, 1.827248, -0.7636429, -0.7636435) and its copy with x4, x5
    # negated are both optimal (problems 78, 80 and 81)
    return _hs(m, -2.91970041, None, [-2, 1.5, 2, -1, -1], f"{HS81} 78")


def hs79() -> HSProblem:
    m, x = _model("hs79", 5)
    m.minimize(
        (x[0] - 1) ** 2
        + (x[0] - x[1]) ** 2
        + (x[1] - x[2]) ** 2
        + (x[2] - x[3]) ** 4
        + (x[3] - x[4]) ** 4
    )
    _constraints(
        m,
        x[0] + x[1] ** 2 + x[2] ** 3 - 2 - 3 * SQ2 == 0,
        x[1] - x[2] ** 2 + x[3] + 2 - 2 * SQ2 == 0,
        x[0] * x[4] - 2 == 0,
    )
    xs = [1.191127, 1.362603, 1.472818, 1.635017, 1.679081]
    return _hs(m, 0.0787768209, xs, [2] * 5, f"{HS81} 79")


def _hs80(name: str, cubic_penalty: bool) -> HSProblem:
    m, x = _model(name, 5, lb=[-2.3, -2.3, -3.2, -3.2, -3.2], ub=[2.3, 2.3, 3.2, 3.2, 3.2])
    rows = _hs78_rows(x)
    f = F.exp(_product(x, 5))
    m.minimize(f - 0.5 * (rows[2]) ** 2 if cubic_penalty else f)
    _constraints(m, *(r == 0 for r in rows))
    return _hs(m, 0.0539498478, None, [-2, 2, 2, -1, -1], f"{HS81} {name[2:]}")


def hs80() -> HSProblem:
    return _hs80("hs80", False)


def hs81() -> HSProblem:
    return _hs80("hs81", True)


def hs83() -> HSProblem:
    m, x = _model("hs83", 5, lb=[78, 33, 27, 27, 27], ub=[102, 45, 45, 45, 45])
    x1, x2, x3, x4, x5 = (x[i] for i in range(5))
    m.minimize(5.3578547 * x3**2 + 0.8356891 * x1 * x5 + 37.293239 * x1 - 40792.141)
    a = 85.334407 + 0.0056858 * x2 * x5 + 0.0006262 * x1 * x4 - 0.0022053 * x3 * x5
    b = 80.51249 + 0.0071317 * x2 * x5 + 0.0029955 * x1 * x2 + 0.0021813 * x3**2
    c = 9.300961 + 0.0047026 * x3 * x5 + 0.0012547 * x1 * x3 + 0.0019085 * x3 * x4
    # 0 <= a <= 92, 90 <= b <= 110, 20 <= c <= 25, each as two rows g >= 0
    _constraints(m, 92 - a >= 0, a >= 0, 110 - b >= 0, b - 90 >= 0, 25 - c >= 0, c - 20 >= 0)
    xs = [78, 33, 29.99526, 45, 36.77581]
    return _hs(m, -30665.53867, xs, [78, 33, 27, 27, 27], f"{HS81} 83")


# -- problems 93-119 ---------------------------------------------------------------------------
def hs86() -> HSProblem:
    m, x = _model("hs86", 5, lb=0)
    e = np.array([-15.0, -27, -36, -18, -12])
    d = np.array([4.0, 8, 10, 6, 2])
    c = np.array(
        [
            [30.0, -20, -10, 32, -10],
            [-20, 39, -6, -31, 32],
            [-10, -6, 10, -6, -10],
            [32, -31, -6, 39, -20],
            [-10, 32, -10, -20, 30],
        ]
    )
    a = np.array(
        [
            [-16.0, 2, 0, 1, 0],
            [0, -2, 0, 4, 2],
            [-3.5, 0, 2, 0, 0],
            [0, -2, 0, -4, -1],
            [0, -9, -2, 1, -2.8],
            [2, 0, -4, 0, 0],
            [-1, -1, -1, -1, -1],
            [-1, -2, -3, -2, -1],
            [1, 2, 3, 4, 5],
            [1, 1, 1, 1, 1],
        ]
    )
    b = np.array([-40.0, -2, -0.25, -4, -4, -1, -40, -60, 5, 1])
    quad = sum(c[i, j] * x[i] * x[j] for i in range(5) for j in range(5))
    m.minimize(e @ x + quad + (d * x**3).sum())
    _constraints(m, *(a[i] @ x - b[i] >= 0 for i in range(10)))
    xs = [0.3, 0.33346761, 0.4, 0.42831010, 0.22396487]
    return _hs(m, -32.34867897, xs, [0, 0, 0, 0, 1], f"{HS81} 86")


def hs93() -> HSProblem:
    m, x = _model("hs93", 6, lb=0)
    x1, x2, x3, x4, x5, x6 = (x[i] for i in range(6))
    s1 = x1 + x2 + x3
    s2 = x1 + 1.57 * x2 + x4
    m.minimize(
        0.0204 * x1 * x4 * s1
        + 0.0187 * x2 * x3 * s2
        + 0.0607 * x1 * x4 * x5**2 * s1
        + 0.0437 * x2 * x3 * x6**2 * s2
    )
    _constraints(
        m,
        0.001 * _product(x, 6) - 2.07 >= 0,
        1 - 0.00062 * x1 * x4 * x5**2 * s1 - 0.00058 * x2 * x3 * x6**2 * s2 >= 0,
    )
    xs = [5.332666, 4.656744, 10.43299, 12.08230, 0.7526074, 0.8786508]
    return _hs(m, 135.075961, xs, [5.54, 4.4, 12.02, 11.82, 0.702, 0.852], f"{HS81} 93")


def hs100() -> HSProblem:
    m, x = _model("hs100", 7)
    x1, x2, x3, x4, x5, x6, x7 = (x[i] for i in range(7))
    m.minimize(
        (x1 - 10) ** 2
        + 5 * (x2 - 12) ** 2
        + x3**4
        + 3 * (x4 - 11) ** 2
        + 10 * x5**6
        + 7 * x6**2
        + x7**4
        - 4 * x6 * x7
        - 10 * x6
        - 8 * x7
    )
    _constraints(
        m,
        127 - 2 * x1**2 - 3 * x2**4 - x3 - 4 * x4**2 - 5 * x5 >= 0,
        282 - 7 * x1 - 3 * x2 - 10 * x3**2 - x4 + x5 >= 0,
        196 - 23 * x1 - x2**2 - 6 * x6**2 + 8 * x7 >= 0,
        -4 * x1**2 - x2**2 + 3 * x1 * x2 - 2 * x3**2 - 5 * x6 + 11 * x7 >= 0,
    )
    xs = [2.330499, 1.951372, -0.4775414, 4.365726, -0.6244870, 1.038131, 1.594227]
    return _hs(m, 680.6300573, xs, [1, 2, 0, 4, 0, 1, 1], f"{HS81} 100")


def hs104() -> HSProblem:
    m, x = _model("hs104", 8, lb=0.1, ub=10)
    x1, x2, x3, x4, x5, x6, x7, x8 = (x[i] for i in range(8))
    f = 0.4 * x1**0.67 * x7**-0.67 + 0.4 * x2**0.67 * x8**-0.67 + 10 - x1 - x2
    m.minimize(f)
    _constraints(
        m,
        1 - 0.0588 * x5 * x7 - 0.1 * x1 >= 0,
        1 - 0.0588 * x6 * x8 - 0.1 * x1 - 0.1 * x2 >= 0,
        1 - 4 * x3 * x5**-1 - 2 * x3**-0.71 * x5**-1 - 0.0588 * x3**-1.3 * x7 >= 0,
        1 - 4 * x4 * x6**-1 - 2 * x4**-0.71 * x6**-1 - 0.0588 * x4**-1.3 * x8 >= 0,
        f - 1 >= 0,
        4.2 - f >= 0,
    )
    xs = [6.465114, 2.232709, 0.6673975, 0.5957564, 5.932676, 5.527235, 1.013322, 0.4006682]
    return _hs(m, 3.9511634396, xs, [6, 3, 0.4, 0.2, 6, 6, 1, 0.5], f"{HS81} 104")


def hs106() -> HSProblem:
    lb = [100, 1000, 1000, 10, 10, 10, 10, 10]
    ub = [10000, 10000, 10000, 1000, 1000, 1000, 1000, 1000]
    m, x = _model("hs106", 8, lb=lb, ub=ub)
    x1, x2, x3, x4, x5, x6, x7, x8 = (x[i] for i in range(8))
    m.minimize(x1 + x2 + x3)
    _constraints(
        m,
        1 - 0.0025 * (x4 + x6) >= 0,
        1 - 0.0025 * (x5 + x7 - x4) >= 0,
        1 - 0.01 * (x8 - x5) >= 0,
        x1 * x6 - 833.33252 * x4 - 100 * x1 + 83333.333 >= 0,
        x2 * x7 - 1250 * x5 - x2 * x4 + 1250 * x4 >= 0,
        x3 * x8 - 1250000 - x3 * x5 + 2500 * x5 >= 0,
    )
    # [HS81] prints 7049.330923 at (579.3167, 1359.943, 5110.071, ...); the optimum is lower
    xs = [579.3067, 1359.9707, 5109.9707, 182.0177, 295.6012, 217.9823, 286.4165, 395.6012]
    x0 = [5000, 5000, 5000, 200, 350, 150, 225, 425]
    return _hs(m, 7049.24802052867, xs, x0, f"{HS81} 106; {S87}")


def hs110() -> HSProblem:
    m, x = _model("hs110", 10, lb=2.001, ub=9.999)
    m.minimize(((F.log(x - 2)) ** 2 + (F.log(10 - x)) ** 2).sum() - _product(x, 10) ** 0.2)
    return _hs(m, -45.77846971, [9.35025655] * 10, [9] * 10, f"{HS81} 110")


#: the free energies c_j of problems 111 and 112
_C111 = np.array(
    [-6.089, -17.164, -34.054, -5.914, -24.721, -14.986, -24.1, -10.708, -26.662, -22.179]
)
#: the element balances of problems 111 and 112: A @ (moles) = b
_A111 = np.array(
    [
        [1, 2, 2, 0, 0, 1, 0, 0, 0, 1],
        [0, 0, 0, 1, 2, 1, 1, 0, 0, 0],
        [0, 0, 1, 0, 0, 0, 1, 1, 2, 1],
    ],
    dtype=float,
)
_B111 = np.array([2.0, 1.0, 1.0])


def hs111() -> HSProblem:
    m, x = _model("hs111", 10, lb=-100, ub=100)
    e = F.exp(x)
    m.minimize((e * (_C111 + x)).sum() - e.sum() * F.log(e.sum()))
    _constraints(m, *(_A111[i] @ e - _B111[i] == 0 for i in range(3)))
    # the printed x* is off by ~0.02 in x4 and x6 (logarithms of mole fractions near 1e-3, to
    # which f is insensitive) from the point SLSQP and Ipopt agree on: only the value is used
    return _hs(m, -47.76109026, None, [-2.3] * 10, f"{HS81} 111")


def hs112() -> HSProblem:
    m, x = _model("hs112", 10, lb=1e-6)
    m.minimize((x * (_C111 + F.log(x))).sum() - x.sum() * F.log(x.sum()))
    _constraints(m, *(_A111[i] @ x - _B111[i] == 0 for i in range(3)))
    # [HS81] prints -47.707579 at a point that is not optimal; this convex problem is problem
    # 111 in the variables x_j = exp(y_j), so its optimum is the value published for 111
    return _hs(m, -47.76109026, None, [0.1] * 10, f"{HS81} 112 (value of problem 111)")


def hs113() -> HSProblem:
    m, x = _model("hs113", 10)
    x1, x2, x3, x4, x5, x6, x7, x8, x9, x10 = (x[i] for i in range(10))
    m.minimize(
        x1**2
        + x2**2
        + x1 * x2
        - 14 * x1
        - 16 * x2
        + (x3 - 10) ** 2
        + 4 * (x4 - 5) ** 2
        + (x5 - 3) ** 2
        + 2 * (x6 - 1) ** 2
        + 5 * x7**2
        + 7 * (x8 - 11) ** 2
        + 2 * (x9 - 10) ** 2
        + (x10 - 7) ** 2
        + 45
    )
    _constraints(
        m,
        105 - 4 * x1 - 5 * x2 + 3 * x7 - 9 * x8 >= 0,
        -10 * x1 + 8 * x2 + 17 * x7 - 2 * x8 >= 0,
        8 * x1 - 2 * x2 - 5 * x9 + 2 * x10 + 12 >= 0,
        -3 * (x1 - 2) ** 2 - 4 * (x2 - 3) ** 2 - 2 * x3**2 + 7 * x4 + 120 >= 0,
        -5 * x1**2 - 8 * x2 - (x3 - 6) ** 2 + 2 * x4 + 40 >= 0,
        -0.5 * (x1 - 8) ** 2 - 2 * (x2 - 4) ** 2 - 3 * x5**2 + x6 + 30 >= 0,
        -(x1**2) - 2 * (x2 - 2) ** 2 + 2 * x1 * x2 - 14 * x5 + 6 * x6 >= 0,
        3 * x1 - 6 * x2 - 12 * (x9 - 8) ** 2 + 7 * x10 >= 0,
    )
    xs = [
        2.171996, 2.363683, 8.773926, 5.095984, 0.9906548,
        1.430574, 1.321644, 9.828726, 8.280092, 8.375927,
    ]  # fmt: skip
    return _hs(m, 24.3062091, xs, [2, 3, 5, 5, 1, 2, 7, 3, 6, 10], f"{HS81} 113")


def hs114() -> HSProblem:
    lb = [1e-5, 1e-5, 1e-5, 1e-5, 1e-5, 85, 90, 3, 1.2, 145]
    ub = [2000, 16000, 120, 5000, 2000, 93, 95, 12, 4, 162]
    m, x = _model("hs114", 10, lb=lb, ub=ub)
    x1, x2, x3, x4, x5, x6, x7, x8, x9, x10 = (x[i] for i in range(10))
    a, b = 0.99, 0.9
    m.minimize(5.04 * x1 + 0.035 * x2 + 10 * x3 + 3.36 * x5 - 0.063 * x4 * x7)
    g1 = 35.82 - 0.222 * x10 - b * x9
    g2 = -133 + 3 * x7 - a * x10
    g5 = 1.12 * x1 + 0.13167 * x1 * x8 - 0.00667 * x1 * x8**2 - a * x4
    g6 = 57.425 + 1.098 * x8 - 0.038 * x8**2 + 0.325 * x6 - a * x7
    _constraints(
        m,
        g1 >= 0,
        g2 >= 0,
        -g1 + x9 * (1 / b - b) >= 0,
        -g2 + (1 / a - a) * x10 >= 0,
        g5 >= 0,
        g6 >= 0,
        -g5 + (1 / a - a) * x4 >= 0,
        -g6 + (1 / a - a) * x7 >= 0,
        1.22 * x4 - x1 - x5 == 0,
        98000 * x3 / (x4 * x9 + 1000 * x3) - x6 == 0,
        (x2 + x5) / x1 - x8 == 0,
    )
    xs = [
        1698.096, 15818.73, 54.10228, 3031.226, 2000.0,
        90.11537, 95.0, 10.49336, 1.561636, 153.53535,
    ]  # fmt: skip
    x0 = [1745, 12000, 110, 3048, 1974, 89.2, 92.8, 8, 3.6, 145]
    return _hs(m, -1768.80696, xs, x0, f"{HS81} 114")


def hs118() -> HSProblem:
    lb = np.zeros(15)
    ub = np.tile([90.0, 120.0, 60.0], 5)
    lb[:3], ub[:3] = [8, 43, 3], [21, 57, 16]
    m, x = _model("hs118", 15, lb=lb, ub=ub)
    lin = np.tile([2.3, 1.7, 2.2], 5)
    quad = np.tile([1e-4, 1e-4, 1.5e-4], 5)
    m.minimize(lin @ x + (quad * x * x).sum())
    cons = []
    for j in range(1, 5):  # the ramping rows, two sides each: 0 <= x_{3j+k} - x_{3j-3+k} + 7
        for k, top in enumerate((13, 14, 13)):
            d = x[3 * j + k] - x[3 * j - 3 + k] + 7
            cons += [d >= 0, top - d >= 0]
    for j, demand in enumerate((60, 50, 70, 85, 100)):
        cons.append(x[3 * j] + x[3 * j + 1] + x[3 * j + 2] - demand >= 0)
    _constraints(m, *cons)
    xs = [8, 49, 3, 1, 56, 0, 1, 63, 6, 3, 70, 12, 5, 77, 18]
    x0 = [20, 55, 15, 20, 60, 20, 20, 60, 20, 20, 60, 20, 20, 60, 20]
    return _hs(m, 664.8204500, xs, x0, f"{HS81} 118")


def hs119() -> HSProblem:
    m, x = _model("hs119", 16, lb=0, ub=5)
    # the objective's pairs (i, j) with a_ij = 1 (1-based, upper triangle with the diagonal)
    pairs = {
        1: (1, 4, 7, 8, 16), 2: (2, 3, 7, 10), 3: (3, 7, 9, 10, 14), 4: (4, 7, 11, 15),
        5: (5, 6, 10, 12, 16), 6: (6, 8, 15), 7: (7, 11, 13), 8: (8, 10, 15), 9: (9, 12, 16),
        10: (10, 14), 11: (11, 13), 12: (12, 14), 13: (13, 14), 14: (14,), 15: (15,), 16: (16,),
    }  # fmt: skip
    u = x**2 + x + 1
    m.minimize(sum(u[i - 1] * u[j - 1] for i, js in pairs.items() for j in js))
    b = np.zeros((8, 16))
    b[:, :8] = [
        [0.22, 0.20, 0.19, 0.25, 0.15, 0.11, 0.12, 0.13],
        [-1.46, 0, -1.30, 1.82, -1.15, 0, 0.80, 0],
        [1.29, -0.89, 0, 0, -1.16, -0.96, 0, -0.49],
        [-1.10, -1.06, 0.95, -0.54, 0, -1.78, -0.41, 0],
        [0, 0, 0, -1.43, 1.51, 0.59, -0.33, -0.43],
        [0, -1.72, -0.33, 0, 1.62, 1.24, 0.21, -0.26],
        [1.12, 0, 0, 0.31, 0, 0, 1.12, 0],
        [0, 0.45, 0.26, -1.10, 0.58, 0, -1.03, 0.10],
    ]
    b[:, 8:] = np.eye(8)
    b[6, 8] = -0.36
    rhs = [2.5, 1.1, -3.1, -3.5, 1.3, 2.1, 2.3, -1.5]
    _constraints(m, *(b[i] @ x - rhs[i] == 0 for i in range(8)))
    # the printed x* has a misprint (x8); only the value is used
    return _hs(m, 244.899698, None, [10] * 16, f"{HS81} 119")


# -- the bank ----------------------------------------------------------------------------------
PROBLEMS: dict[str, Callable[[], HSProblem]] = {
    name: fn
    for name, fn in sorted(globals().items(), key=lambda kv: (len(kv[0]), kv[0]))
    if name.startswith("hs") and name[2:].isdigit() and callable(fn)
}

#: a quick subset for the main suite: small, well conditioned, solved in a few steps
FAST = ("hs6", "hs14", "hs21", "hs28", "hs35", "hs43", "hs48", "hs71", "hs76", "hs113", "hs118")


def problem(name: str) -> HSProblem:
    """A fresh instance of one problem (each call builds a new model)."""
    return PROBLEMS[name]()


def problems() -> list[HSProblem]:
    """Fresh instances of every problem of the bank, in the collection's order."""
    return [fn() for fn in PROBLEMS.values()]
