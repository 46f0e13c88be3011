"""The multiplier is the constraint force: a particle under gravity held on a circle.

A particle of mass ``m`` on a circle of radius ``r`` (a bead on a hoop, a pendulum on a rigid
rod) rests where its potential energy is least::

    min  m g y   s.t.   circle:  x^2 + y^2 - r^2 == 0          (multiplier lambda, free)

Stationarity of ``L = m g y + lambda (x^2 + y^2 - r^2)`` gives ``2 lambda x = 0`` and
``m g + 2 lambda y = 0``: at the bottom ``(0, -r)`` **lambda = m g / (2 r)**. The force the
constraint exerts is ``-lambda grad c = -lambda (2x, 2y) = (0, 2 lambda r)``: it points to the
centre and its size ``2 lambda r`` equals the weight ``m g`` -- the tension in the rod. The top
``(0, r)`` is a KKT point too, with ``lambda = -m g / (2 r)`` (the rod pushes: compression), but
there the Lagrangian's curvature along the circle, ``2 lambda``, is negative: a maximum.

Run: ``python examples/particle_on_a_circle.py`` (writes ``particle_on_a_circle.png``).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ortools_lag import Model, Solution, solve

MASS, G = 2.0, 9.81  # kg, m/s^2


def circle_model(r: float) -> Model:
    """Least potential energy on a circle of radius ``r``."""
    m = Model("particle_on_a_circle")
    x, y = m.var("x", lb=None), m.var("y", lb=None)
    m.minimize(MASS * G * y)
    m.add("circle", x**2 + y**2 == r**2)
    return m


def rest(r: float, start: tuple[float, float] = (0.3, -0.5)) -> Solution:
    """A KKT point by SLSQP from ``start``."""
    return solve(circle_model(r), "scipy", method="slsqp", x0={"x": start[0], "y": start[1]})


def main() -> None:
    r = 1.5
    sol = rest(r)
    x, y, lam = float(sol.x["x"]), float(sol.x["y"]), float(sol.multipliers["circle"])
    force = -lam * np.array([2 * x, 2 * y])  # -lambda grad c
    print(f"particle of mass {MASS} kg under g = {G} m/s^2 on a circle of radius {r} m")
    print(f"   status = {sol.status.value}")
    print(f"   objective = {sol.objective:.10f}")
    print(f"   bound = {sol.bound:.10f}   (L is convex in (x, y) at lambda > 0: a proven bound)")
    print(f"   x = {x:.10f}")
    print(f"   y = {y:.10f}")
    print(f"   lambda = {lam:.10f}")
    print(f"   mg_over_2r = {MASS * G / (2 * r):.10f}")
    print(f"   constraint_force_x = {force[0]:.10f}")
    print(f"   constraint_force_y = {force[1]:.10f}")
    print(f"   force_2_lambda_r = {2 * lam * r:.10f}")
    print(f"   weight_mg = {MASS * G:.10f}")
    top = rest(r, start=(0.0, r))  # started at the top, SLSQP stays at that KKT point
    lam_top = float(top.multipliers["circle"])
    print(f"   top_y = {float(top.x['y']):.10f}   (started at the top, SLSQP stays there)")
    print(f"   lambda_top = {lam_top:.10f}   (the rod pushes: compression)")
    print(f"   bound_top = {top.bound}   (curvature 2 lambda < 0: a KKT point but a maximum)")
    radii = np.linspace(0.5, 3.0, 11)
    lams = np.array([float(rest(float(s)).multipliers["circle"]) for s in radii])
    err = float(np.max(np.abs(lams - MASS * G / (2 * radii))))
    print(f"   radii_max_abs_err = {err:.3e}   (lambda(r) against m g / (2 r), {radii.size} radii)")
    draw(r, x, y, lam, force, lam_top, radii, lams)


def draw(r, x, y, lam, force, lam_top, radii, lams) -> None:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12.5, 5), width_ratios=[1.5, 1])
    t = np.linspace(0, 2 * np.pi, 200)
    ax1.plot(r * np.cos(t), r * np.sin(t), color="0.6", label=f"circle, r = {r} m")
    ax1.plot([0, x], [0, y], color="0.3", lw=1, ls=":", label="rod")
    ax1.plot([x], [y], "o", ms=14, color="C0", label="particle at rest")
    scale = 0.6 / (MASS * G)
    kw = {"width": 0.025, "length_includes_head": True}
    ax1.arrow(
        x + 0.15, y, 0, -MASS * G * scale, color="C3", label=f"gravity m g = {MASS * G:.2f} N", **kw
    )
    ax1.arrow(
        x + 0.15,
        y,
        force[0] * scale,
        force[1] * scale,
        color="C2",
        label=f"−λ∇c = 2λr = {2 * lam * r:.2f} N (λ = {lam:.3f})",
        **kw,
    )
    ax1.plot([0], [r], "s", color="C1", label=f"top: KKT point with λ = {lam_top:.3f} (maximum)")
    ax1.set_aspect("equal")
    ax1.set_xlim(-1.8, 1.8)
    ax1.set_ylim(-2.4, 2.0)
    ax1.set_xlabel("x (m)")
    ax1.set_ylabel("y (m)")
    ax1.set_title("min m g y on the circle: the multiplier is the rod's tension")
    ax1.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    rr = np.linspace(radii[0], radii[-1], 200)
    ax2.plot(rr, MASS * G / (2 * rr), color="C0", label="closed form λ = m g / (2 r)")
    ax2.plot(radii, lams, "o", color="C1", label="λ from the solver (SLSQP)")
    ax2.set_xlabel("radius r (m)")
    ax2.set_ylabel("multiplier λ of the circle (N/m)")
    ax2.set_title("λ(r) = m g / (2 r): the force 2 λ r stays m g")
    ax2.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig("particle_on_a_circle.png", dpi=110)
    print("saved particle_on_a_circle.png")


if __name__ == "__main__":
    main()
