"""Random feasible bounded LPs (fixed seed, bounded examples): every backend agrees on the
objective, and the Lagrangian dual function at each backend's multipliers is a bound (weak
duality) that meets the optimum (strong duality), computed here by hand from the data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from ortools_lag import Model, Status, solve

from .certificates import check_solution

BACKENDS = [
    ("highs", {}),
    ("scipy", {}),
    ("cvxpy", {}),
    ("pyomo", {}),
    ("scipy", {"method": "slsqp"}),
]


@dataclass
class LP:
    c: np.ndarray
    ub: np.ndarray
    A: dict[str, np.ndarray]
    b: dict[str, np.ndarray]
    maximize: bool

    def model(self) -> Model:
        m = Model("random_lp")
        x = m.var("x", self.c.shape[0], lb=0, ub=self.ub)
        obj = self.c @ x
        m.maximize(obj) if self.maximize else m.minimize(obj)
        if self.A["le"].shape[0]:
            m.add("le", self.A["le"] @ x <= self.b["le"])
        if self.A["ge"].shape[0]:
            m.add("ge", self.A["ge"] @ x >= self.b["ge"])
        if self.A["eq"].shape[0]:
            m.add("eq", self.A["eq"] @ x == self.b["eq"])
        return m

    def dual_function(self, lam: dict[str, np.ndarray]) -> float:
        """min over the box of c x + sum lam (held constraint) for the minimisation of
        ``s c x`` (``s = -1`` for a maximisation), by hand: the box minimum is separable."""
        s = -1.0 if self.maximize else 1.0
        get = {
            k: np.atleast_1d(np.asarray(lam.get(k, np.zeros(0)), dtype=float))
            for k in "le ge eq".split()
        }
        le, ge = np.maximum(get["le"], 0.0), np.maximum(get["ge"], 0.0)  # the dual cone
        r = s * self.c + self.A["le"].T @ le - self.A["ge"].T @ ge + self.A["eq"].T @ get["eq"]
        const = -le @ self.b["le"] + ge @ self.b["ge"] - get["eq"] @ self.b["eq"]
        return float(np.minimum(r * 0.0, r * self.ub).sum() + const)


@st.composite
def feasible_lps(draw: st.DrawFn) -> LP:
    n = draw(st.integers(2, 6))
    rows = {k: draw(st.integers(0, 3)) for k in ("le", "ge", "eq")}
    ints = st.integers(-5, 5)
    c = np.array(draw(st.lists(ints, min_size=n, max_size=n)), dtype=float)
    ub = np.array(draw(st.lists(st.integers(1, 5), min_size=n, max_size=n)), dtype=float)
    frac = np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))) / 4.0
    x0 = frac * ub  # a feasible point by construction
    A, b = {}, {}
    for k, mk in rows.items():
        A[k] = np.array(draw(st.lists(ints, min_size=n * mk, max_size=n * mk)), dtype=float)
        A[k] = A[k].reshape(mk, n)
        slack = np.array(draw(st.lists(st.integers(0, 3), min_size=mk, max_size=mk)), dtype=float)
        b[k] = A[k] @ x0 + {"le": slack, "ge": -slack, "eq": 0 * slack}[k]
    return LP(c, ub, A, b, draw(st.booleans()))


@seed(20240611)
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(feasible_lps())
def test_backends_agree_and_weak_duality_holds(lp: LP) -> None:
    model = lp.model()
    ref = solve(model, "highs")
    assert ref.status == Status.OPTIMAL, ref.message
    s = -1.0 if lp.maximize else 1.0
    scale = 1.0 + abs(ref.objective)
    for backend, opts in BACKENDS:
        sol = solve(lp.model(), backend, **opts)
        assert sol.status == Status.OPTIMAL, f"{backend}: {sol.message}"
        check_solution(model, sol)
        assert abs(sol.objective - ref.objective) <= 1e-7 * scale, backend
        g = lp.dual_function(dict(sol.multipliers))
        # weak duality for the minimisation of s f, against every feasible objective
        assert g <= s * ref.objective + 1e-7 * scale, backend
        assert g <= s * sol.objective + 1e-7 * scale, backend
        # and the multipliers are optimal: the dual bound meets the optimum
        assert abs(g - s * ref.objective) <= 1e-6 * scale, backend
