"""KKT conditions with inequalities: one active constraint, one inactive, read off a contour plot.

The problem (a hand derivation follows)::

    min  (x - 3)^2 + (y - 2)^2
    s.t. budget:  x + y <= 4        held as  x + y - 4 <= 0     (lambda_1 >= 0)
         floor:   y >= x - 2        held as  x - 2 - y <= 0     (lambda_2 >= 0)

The unconstrained minimum ``(3, 2)`` breaks the budget, so the optimum is its projection on
``x + y = 4``: ``(2.5, 1.5)``, ``f* = 0.5``. There ``grad f = (-1, -1)`` and the budget's gradient
is ``(1, 1)``: stationarity ``grad f + lambda_1 (1, 1) + lambda_2 (1, -1) = 0`` gives
``lambda_1 = 1``, ``lambda_2 = 0``. The floor is inactive (slack 1), so complementary slackness
``lambda_2 * slack_2 = 0`` forces its multiplier to zero; the budget binds and its multiplier is
positive -- the price of the budget: raising 4 to ``4 + e`` lowers ``f*`` by about ``lambda_1 e``.
Geometrically, ``-grad f`` is a non-negative combination of the gradients of the active
constraints only.

Run: ``python examples/kkt_inequalities.py`` (writes ``kkt_inequalities.png``).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ortools_lag import Model, solve

GRADS = {"budget": np.array([1.0, 1.0]), "floor": np.array([1.0, -1.0])}  # of the held forms


def kkt_model(budget: float = 4.0) -> Model:
    m = Model("kkt_inequalities")
    x, y = m.var("x", lb=None), m.var("y", lb=None)
    m.minimize((x - 3) ** 2 + (y - 2) ** 2)
    m.add("budget", x + y <= budget)
    m.add("floor", y >= x - 2)
    return m


def _tidy(v: float) -> float:
    """``v`` with values below the printed precision shown as 0 (no ``-0.0000000000``)."""
    return 0.0 if abs(v) < 5e-11 else v


def main() -> None:
    sol = solve(kkt_model(), "scipy", method="slsqp")
    x, y = float(sol.x["x"]), float(sol.x["y"])
    lam = {g: float(sol.multipliers[g]) for g in GRADS}
    held = {"budget": x + y - 4, "floor": x - 2 - y}  # <= 0 at a feasible point
    grad_f = np.array([2 * (x - 3), 2 * (y - 2)])
    station = grad_f + sum(lam[g] * GRADS[g] for g in GRADS)
    print("min (x-3)^2 + (y-2)^2  s.t.  x + y <= 4,  y >= x - 2   (scipy SLSQP)")
    print(f"   status = {sol.status.value}")
    print(f"   x = {x:.10f}")
    print(f"   y = {y:.10f}")
    print(f"   objective = {sol.objective:.10f}")
    for g in GRADS:
        print(f"   lambda_{g} = {_tidy(lam[g]):.10f}")
        print(f"   slack_{g} = {_tidy(-held[g]):.10f}")
        print(f"   complementarity_{g} = {abs(lam[g] * held[g]):.3e}")
    print(f"   stationarity_residual = {float(np.max(np.abs(station))):.3e}")
    qp = solve(kkt_model(), "highs")  # the same model as a QP: the same multipliers
    for g in GRADS:
        print(f"   highs_lambda_{g} = {float(qp.multipliers[g]):.8f}")
    price = float(sol.shadow_prices["budget"])
    print(f"   shadow_price_budget = {price:.10f}   (d f*/d rhs = -lambda)")
    eps = 1e-4
    f_eps = solve(kkt_model(4 + eps), "scipy", method="slsqp").objective
    print(
        f"   finite_difference_budget = {(f_eps - sol.objective) / eps:.6f}   (re-solved, 4 + 1e-4)"
    )
    draw(x, y, lam, grad_f)


def draw(x: float, y: float, lam: dict[str, float], grad_f: np.ndarray) -> None:
    fig, ax = plt.subplots(figsize=(7, 6.2))
    gx, gy = np.meshgrid(np.linspace(0, 5, 300), np.linspace(-1, 4, 300))
    f = (gx - 3) ** 2 + (gy - 2) ** 2
    cs = ax.contour(gx, gy, f, levels=[0.1, 0.5, 1, 2, 3, 5, 8], colors="0.55", linewidths=0.8)
    ax.clabel(cs, fontsize=7)
    feasible = (gx + gy <= 4) & (gy >= gx - 2)
    ax.contourf(gx, gy, feasible.astype(float), levels=[0.5, 1.5], colors=["C0"], alpha=0.12)
    t = np.linspace(0, 5, 2)
    ax.plot(t, 4 - t, color="C0", label=f"budget x + y = 4 (active, λ₁ = {lam['budget']:.3g})")
    ax.plot(
        t,
        t - 2,
        color="C4",
        ls="--",
        label=f"floor y = x − 2 (inactive, λ₂ = {_tidy(lam['floor']):.3g})",
    )
    ax.plot([3], [2], "+", color="k", ms=12, label="unconstrained minimum (3, 2)")
    ax.plot([x], [y], "o", color="C3", ms=8, label=f"optimum ({x:.3g}, {y:.3g}), f* = 0.5")
    kw = {"angles": "xy", "scale_units": "xy", "scale": 1, "width": 0.005}
    ax.quiver(
        [x], [y], [-grad_f[0]], [-grad_f[1]], color="C3", label="−∇f", **kw | {"width": 0.016}
    )
    g1 = lam["budget"] * GRADS["budget"]
    ax.quiver([x], [y], [g1[0]], [g1[1]], color="C0", label="λ₁ ∇g₁ (lies on −∇f)", **kw)
    ax.quiver(
        [3.5],
        [1.5],
        [GRADS["floor"][0]],
        [GRADS["floor"][1]],
        color="C4",
        alpha=0.6,
        label="∇g₂ (weight λ₂ = 0)",
        **kw,
    )
    ax.text(1.0, 0.4, "feasible region", color="C0", fontsize=10)
    ax.set_xlim(0, 5)
    ax.set_ylim(-1, 4)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("KKT: −∇f is a non-negative combination of the active gradients")
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    fig.savefig("kkt_inequalities.png", dpi=110)
    print("saved kkt_inequalities.png")


if __name__ == "__main__":
    main()
