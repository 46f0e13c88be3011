"""Certificate checks applied to every solution in every solver test.

They recompute, with the test's own arithmetic, what ``kkt.py`` reports: feasibility, multiplier
signs, complementarity, stationarity, and bound <= objective (>= for a maximisation).
"""

from __future__ import annotations

import math

import numpy as np

from ortools_lag import Model, Solution, Status


def _flat(model: Model, sol: Solution) -> np.ndarray:
    return model.join(dict(sol.x))


def assert_feasible(model: Model, sol: Solution, tol: float = 1e-6) -> None:
    """Every group and bound holds at ``sol.x`` (relative to the size of the data)."""
    z = _flat(model, sol)
    lb, ub = model.lower_bounds(), model.upper_bounds()
    scale = 1 + np.max(np.abs(z), initial=0.0)
    assert np.all(z >= lb - tol * scale) and np.all(z <= ub + tol * scale), "bounds violated"
    for name, g in model.groups.items():
        v = np.asarray(g.body.value(z), dtype=float).ravel()
        # each row on the README's scale: 1 + |its bound| (the bound without the body's constant)
        lo0, hi0 = (np.broadcast_to(b, v.shape) for b in g.bounds_without_constant())
        lo_scale = 1 + np.where(np.isfinite(lo0), np.abs(lo0), 0.0)
        hi_scale = 1 + np.where(np.isfinite(hi0), np.abs(hi0), 0.0)
        assert np.all(v >= g.lo - tol * lo_scale), f"group {name} violated below"
        assert np.all(v <= g.hi + tol * hi_scale), f"group {name} violated above"
    ints = model.integrality()
    assert np.all(np.abs(z[ints] - np.round(z[ints])) <= tol), "integrality violated"
    assert math.isclose(model.objective_value(z), sol.objective, rel_tol=1e-9, abs_tol=1e-9)


def assert_signs(model: Model, sol: Solution, tol: float = 1e-7) -> None:
    """lam >= 0 on inequality groups (the README's sign convention)."""
    for name, g in model.groups.items():
        if name not in sol.multipliers:
            continue
        lam = np.asarray(sol.multipliers[name], dtype=float).ravel()
        if g.sense in ("<=", ">="):
            assert np.all(lam >= -tol * (1 + np.abs(lam).max(initial=0))), (
                f"{name}: negative multiplier"
            )


def assert_kkt(model: Model, sol: Solution, tol: float = 1e-6) -> None:
    """Stationarity and complementarity recomputed from the model's own Jacobians."""
    z = _flat(model, sol)
    n = model.n
    grad = model.sense_sign * np.asarray(model.objective.jacobian(z, n).todense()).ravel()
    r = grad.copy()
    for name, g in model.groups.items():
        lam = np.asarray(sol.multipliers[name], dtype=float).ravel()
        y = g.sign * lam
        r += g.body.jacobian(z, n).T @ y
        v = g.body.value(z)
        slack_hi = np.where(np.isfinite(g.hi), g.hi - v, 1e300)
        slack_lo = np.where(np.isfinite(g.lo), v - g.lo, 1e300)
        scale = 1 + abs(sol.objective)
        assert np.all(np.where(y > tol, y * slack_hi, 0) <= tol * scale * 10), (
            f"{name}: complementarity"
        )
        assert np.all(np.where(y < -tol, -y * slack_lo, 0) <= tol * scale * 10), (
            f"{name}: complementarity"
        )
    lb, ub = model.lower_bounds(), model.upper_bounds()
    cscale = 1 + np.abs(grad).max(initial=0)
    # r is the bound multiplier: positive needs an active lower bound, negative an upper one
    at_lb = np.isfinite(lb) & (np.abs(z - lb) <= 1e-6 * (1 + np.abs(lb)))
    at_ub = np.isfinite(ub) & (np.abs(z - ub) <= 1e-6 * (1 + np.abs(ub)))
    bad = np.where(r > 0, ~at_lb, False) | np.where(r < 0, ~at_ub, False)
    assert np.abs(r[bad]).max(initial=0) <= tol * cscale * 10, "stationarity violated"


def assert_bound(model: Model, sol: Solution, tol: float = 1e-7) -> None:
    """bound <= objective for a minimisation (>= for a maximisation)."""
    if math.isnan(sol.bound):
        return
    slack = model.sense_sign * (sol.objective - sol.bound)
    assert slack >= -tol * (1 + abs(sol.objective)), (
        f"bound {sol.bound} beyond objective {sol.objective}"
    )


def check_solution(model: Model, sol: Solution, *, duals: bool = True, tol: float = 1e-6) -> None:
    """All certificate checks on an optimal or feasible solution."""
    assert sol.status in (Status.OPTIMAL, Status.LOCALLY_OPTIMAL, Status.FEASIBLE), sol.message
    assert sol.kkt is not None
    assert_feasible(model, sol, tol)
    # a point feasible to within tol may beat the bound by as much (tol relative)
    assert_bound(model, sol, tol=min(tol, 1e-6))
    if duals and sol.multipliers:
        assert_signs(model, sol)
        assert_kkt(model, sol, tol)
