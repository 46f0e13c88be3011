"""Ising spin glasses as max-cut: eigenvalue and SDP bounds, Goemans-Williamson, degenerate minima.

Spins ``s_i = +-1`` with couplings ``J`` have the energy ``E(s) = -sum_{i<j} J_ij s_i s_j``. With
``w = -J`` the cut ``cut(s) = sum_{i<j} w_ij (1 - s_i s_j) / 2 = (sum w - E(s)) / 2``, so the
ground states are the maximum cuts (``s`` and ``-s`` give one cut). Relaxing ``s_i^2 = 1`` with
multipliers ``u_i`` bounds every cut by ``sum(u)`` whenever ``diag(u) >= L/4`` (``L`` the
Laplacian of ``w``): ``u = lambda_max(L/4)`` everywhere gives the eigenvalue bound
``n lambda_max(L) / 4``; the best ``u`` is the SDP bound, which Goemans-Williamson rounding
turns into a cut.

1. **A frustrated +-J ring** (``n`` spins, product of the couplings negative): no spin
   configuration satisfies every bond, exactly one bond is broken in a ground state and it can
   be any of the ``n``, so there are ``2n`` ground states of energy ``-(n - 2)``. The SDP spreads
   the twist over the ring: its energy bound is ``-n cos(pi/n)`` (a hand derivation: unit
   vectors turning by ``pi/n`` per bond, after a gauge change ``s_i -> tau_i s_i``).
2. **A small Sherrington-Kirkpatrick glass** (Gaussian couplings on 14 spins): the bounds
   against the optimum found by brute-force enumeration of all ``2^14`` states.

Run: ``python examples/spin_glass_maxcut.py`` (writes ``spin_glass_maxcut.png``).
"""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ortools_lag import solve
from ortools_lag.problems import maxcut

N_RING, N_GLASS = 9, 14


def ring_couplings(n: int, seed: int = 1) -> np.ndarray:
    """Random +-1 bonds around a ring, one sign flipped if needed so that the ring is frustrated."""
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=n)
    if np.prod(signs) > 0:
        signs[0] = -signs[0]
    J = np.zeros((n, n))
    i = np.arange(n)
    J[i, (i + 1) % n] = signs
    return J + J.T


def glass_couplings(n: int, seed: int = 7) -> np.ndarray:
    """Sherrington-Kirkpatrick couplings: J_ij ~ N(0, 1/n), symmetric, zero diagonal."""
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(scale=1 / np.sqrt(n), size=(n, n)), 1)
    return J + J.T


def all_energies(J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every spin configuration (rows of +-1) and its energy, by brute force with numpy."""
    n = J.shape[0]
    S = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))
    return S, -0.5 * np.einsum("ki,ij,kj->k", S, J, S)


def ring() -> tuple[np.ndarray, np.ndarray]:
    n = N_RING
    J = ring_couplings(n)
    p = maxcut.build(couplings=J)
    sol = solve(p)  # maxcut_sdp: SDP, eigenvalue dual, GW rounding, enumeration (n <= 20)
    S, E = all_energies(J)
    ground = S[np.isclose(E, E.min())]
    sum_w = float(-J[np.triu_indices(n, 1)].sum())
    bonds = J[np.arange(n), (np.arange(n) + 1) % n].astype(int).tolist()
    print(f"1. frustrated +-J ring, n = {n}, bonds (i, i+1): {bonds}")
    print(f"   ring_ground_energy = {E.min():.6f}   (closed form -(n-2) = {-(n - 2)})")
    print(f"   ring_ground_states = {ground.shape[0]}   (by brute force; 2n = {2 * n})")
    print(f"   ring_solver_ground_states = {sol.info['ground_states']}")
    print(f"   ring_max_cut = {sol.objective:.6f}   energy {p.decode(sol).energy:.6f}")
    print(f"   ring_sum_w = {sum_w:.6f}")
    print(f"   ring_sdp_value = {sol.info['sdp_value']:.8f}   (cvxpy's optimum of the SDP)")
    print(f"   ring_sdp_bound = {sol.info['sdp_bound']:.8f}   (its multipliers u, certified psd)")
    print(
        f"   ring_sdp_energy_bound = {sum_w - 2 * sol.info['sdp_value']:.8f}"
        f"   (closed form -n cos(pi/n) = {-n * np.cos(np.pi / n):.8f})"
    )
    print(f"   ring_eigenvalue_bound = {sol.info['eigenvalue_bound']:.6f}")
    return J, ground


def glass() -> dict[str, float]:
    J = glass_couplings(N_GLASS)
    p = maxcut.build(couplings=J)
    sol = solve(p, exact_max_n=0)  # no enumeration: the cut is Goemans-Williamson's (+ one-flip)
    S, E = all_energies(J)
    sum_w = float(-J[np.triu_indices(N_GLASS, 1)].sum())
    best = (sum_w - E.min()) / 2
    eig, eig_best = sol.info["eigenvalue_bound"], sol.info["lagrangian_eigenvalue_bound"]
    out = {
        "eigenvalue\n(shift t = 0)": eig,
        "eigenvalue\n(best shift t)": eig_best,
        "SDP bound": sol.info["sdp_bound"],
        "max cut\n(enumeration)": best,
        "GW rounding\n+ one-flip": sol.objective,
    }
    print(f"\n2. Sherrington-Kirkpatrick glass, n = {N_GLASS} (Gaussian couplings, seed 7)")
    print(f"   glass_eigenvalue_bound = {eig:.6f}")
    print(f"   glass_eigenvalue_bound_optimised = {eig_best:.6f}")
    print(f"   glass_sdp_bound = {sol.info['sdp_bound']:.6f}")
    print(f"   glass_bound = {sol.bound:.6f}   (the solver's bound: the least of them)")
    print(f"   glass_max_cut_enumeration = {best:.6f}")
    print(f"   glass_gw_cut = {sol.objective:.6f}")
    print(f"   glass_ground_states = {int(np.sum(np.isclose(E, E.min())))}")
    return out


def draw(J: np.ndarray, ground: np.ndarray, bars: dict[str, float]) -> None:
    n = J.shape[0]
    fig, axes = plt.subplots(1, 3, figsize=(17, 5), width_ratios=[1, 1.1, 1.25])
    ax = axes[0]
    ang = np.pi / 2 - 2 * np.pi * np.arange(n) / n
    xy = np.c_[np.cos(ang), np.sin(ang)]
    s = ground[0]
    for i in range(n):
        k = (i + 1) % n
        broken = J[i, k] * s[i] * s[k] < 0
        ax.plot(
            *xy[[i, k]].T,
            color="C0" if J[i, k] > 0 else "C3",
            ls="-" if J[i, k] > 0 else "--",
            lw=4 if broken else 1.5,
            alpha=0.5 if broken else 1.0,
        )
    ax.scatter(*xy.T, s=320, c=["k" if v > 0 else "w" for v in s], edgecolors="k", zorder=3)
    ax.plot([], [], color="C0", label="J = +1 (ferro)")
    ax.plot([], [], color="C3", ls="--", label="J = −1 (antiferro)")
    ax.plot([], [], color="0.5", lw=4, label="broken bond")
    ax.scatter([], [], s=80, c="k", label="spin +1")
    ax.scatter([], [], s=80, c="w", edgecolors="k", label="spin −1")
    ax.set_aspect("equal")
    ax.set_xlim(-1.5, 1.5)
    ax.set_ylim(-1.35, 1.75)
    ax.set_axis_off()
    ax.set_title("Frustrated ±J ring: one ground state")
    ax.legend(fontsize="small", loc="upper center", ncol=3)
    ax = axes[1]
    ax.imshow(ground, cmap="gray_r", aspect="auto", vmin=-1.5, vmax=1.5)
    bonds = J[np.arange(n), (np.arange(n) + 1) % n]
    broken = bonds * ground * np.roll(ground, -1, axis=1) < 0  # bond (i, i+1) broken
    rows, cols = np.nonzero(broken)
    ax.plot(cols + 0.5, rows, "o", color="C3", ms=5, clip_on=False)
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_xlabel("spin i")
    ax.set_ylabel("ground state (brute force)")
    ax.set_title(f"All {ground.shape[0]} = 2n ground states (black: +1; red: the broken bond)")
    ax = axes[2]
    names, vals = list(bars), list(bars.values())
    colors = ["C0", "C0", "C2", "k", "C1"]
    ax.bar(range(len(vals)), vals, color=colors)
    for i, v in enumerate(vals):
        ax.text(i, v, f"{v:.3f}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(len(vals)), names, fontsize=8.5)
    ax.set_ylabel("cut weight")
    ax.set_title(f"SK glass, n = {N_GLASS}: bounds ≥ max cut ≥ rounded cut")
    fig.tight_layout()
    fig.savefig("spin_glass_maxcut.png", dpi=110)
    print("saved spin_glass_maxcut.png")


def main() -> None:
    J, ground = ring()
    bars = glass()
    draw(J, ground, bars)


if __name__ == "__main__":
    main()
