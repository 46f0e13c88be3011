"""Backpropagation is the Lagrangian of the computation graph.

Write every intermediate value of a computation as a variable and its definition as an equality
constraint ``v_k - phi_k(parents) == 0``. The Lagrangian is
``L = f + sum_k lambda_k (v_k - phi_k(...))`` and its stationarity in ``v_k`` reads
``lambda_k = sum_{children j} lambda_j * dphi_j/dv_k`` (with ``lambda_out = -1``): the reverse
sweep of backprop. So each multiplier is minus the derivative of the output with respect to that
node, ``lambda_k = -df/dv_k`` (T. Vieira, "Backprop is not just the chain rule", 2017).

Two graphs are checked against torch autograd:

1. Vieira's ``f(x) = exp(exp(x) + exp(x)^2) + sin(exp(x) + exp(x)^2)`` at ``x = 0.3``;
2. a small multilayer perceptron (``nn_training``): each layer ``z_l = tanh(W_l z_{l-1} + b_l)``
   is one equality group whose multiplier is minus autograd's gradient of the loss in ``z_l``.

Run: ``python examples/backprop_is_lagrangian.py`` (writes ``backprop_is_lagrangian.png``).
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from ortools_lag import Model, solve
from ortools_lag.model import functions as F
from ortools_lag.problems import nn_training

X0 = 0.3
#: node -> (parents, formula) of Vieira's graph, in topological order
GRAPH = {
    "x": ((), "x = 0.3"),
    "a": (("x",), "a = exp(x)"),
    "b": (("a",), "b = a²"),
    "c": (("a", "b"), "c = a + b"),
    "d": (("c",), "d = exp(c)"),
    "e": (("c",), "e = sin(c)"),
    "f": (("d", "e"), "f = d + e"),
}
GROUP = {"x": "input", "a": "a_def", "b": "b_def", "c": "c_def", "d": "d_def", "e": "e_def"}
GROUP["f"] = "f_def"


def vieira_model() -> Model:
    """Vieira's function as seven equality constraints; the objective is the output ``f``."""
    m = Model("vieira")
    v = {k: m.var(k, lb=None) for k in GRAPH}
    m.minimize(v["f"])
    m.add("input", v["x"] == X0)
    m.add("a_def", v["a"] == F.exp(v["x"]))
    m.add("b_def", v["b"] == v["a"] ** 2)
    m.add("c_def", v["c"] == v["a"] + v["b"])
    m.add("d_def", v["d"] == F.exp(v["c"]))
    m.add("e_def", v["e"] == F.sin(v["c"]))
    m.add("f_def", v["f"] == v["d"] + v["e"])
    return m


def vieira_autograd() -> dict[str, float]:
    """df/dv for every node of the same graph, by torch autograd (``retain_grad``)."""
    x = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
    a = torch.exp(x)
    b = a**2
    c = a + b
    d = torch.exp(c)
    e = torch.sin(c)
    f = d + e
    nodes = {"x": x, "a": a, "b": b, "c": c, "d": d, "e": e, "f": f}
    for t in nodes.values():
        t.retain_grad()
    f.backward()
    return {k: float(t.grad) for k, t in nodes.items()}


def mlp_autograd(
    sol, X: np.ndarray, y: np.ndarray, n_layers: int
) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """d loss / d z_l and d loss / d(W, b) of the same network (same weights) by torch autograd."""
    W = {k: torch.tensor(v, requires_grad=True) for k, v in sol.x.items() if k[0] in "Wb"}
    h, outs = torch.tensor(X.T), []
    for layer in range(1, n_layers + 1):
        pre = W[f"W{layer}"] @ h + W[f"b{layer}"][:, None]
        h = torch.tanh(pre) if layer < n_layers else pre
        h.retain_grad()
        outs.append(h)
    torch.nn.functional.cross_entropy(h.T, torch.tensor(y)).backward()
    return [o.grad.numpy() for o in outs], {k: t.grad.numpy() for k, t in W.items()}


def run_vieira() -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    sol = solve(vieira_model(), "adjoint")
    lam = {k: float(sol.multipliers[GROUP[k]]) for k in GRAPH}
    val = {k: float(sol.x[k]) for k in GRAPH}
    grad = vieira_autograd()
    u = math.exp(X0) + math.exp(2 * X0)
    closed = (math.exp(u) + math.cos(u)) * (math.exp(X0) + 2 * math.exp(2 * X0))
    print("1. Vieira's graph, f(x) = exp(e^x + e^2x) + sin(e^x + e^2x) at x = 0.3")
    print(f"   status = {sol.status.value}")
    print(f"   {'node':<14}{'value':>14}{'multiplier λ':>18}{'-df/dv (torch)':>18}")
    for k in GRAPH:
        print(f"   {GRAPH[k][1]:<14}{val[k]:>14.8f}{lam[k]:>18.10f}{-grad[k]:>18.10f}")
    diff = max(abs(lam[k] + grad[k]) for k in GRAPH)
    print(f"   f_value = {val['f']:.12f}")
    print(f"   lambda_input = {lam['x']:.12f}")
    hand_c = -(math.exp(val["c"]) + math.cos(val["c"]))
    print(f"   lambda_c = {lam['c']:.12f}   (hand: -(exp(c) + cos(c)) = {hand_c:.12f})")
    print(f"   lambda_f = {lam['f']:.12f}")
    print(f"   closed_form_minus_dfdx = {-closed:.12f}")
    print(f"   vieira_max_abs_diff_vs_torch = {diff:.3e}")
    return val, lam, grad


def run_mlp() -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(12)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)  # XOR-like quadrants: needs a hidden layer
    p = nn_training.build(X, y, layers=[8, 6], activation="tanh")
    sol = solve(p, "adjoint", method="lbfgs", epochs=8, seed=3)
    n_layers = len(p.model.groups)
    grads, wgrads = mlp_autograd(sol, X, y, n_layers)
    lams = [np.asarray(sol.multipliers[f"layer{k}"]) for k in range(1, n_layers + 1)]
    rel = max(float(np.linalg.norm(m + g) / np.linalg.norm(g)) for m, g in zip(lams, grads))
    wrel = max(
        float(np.linalg.norm(sol.reduced_costs[k] - g) / np.linalg.norm(g))
        for k, g in wgrads.items()
    )
    print("\n2. MLP 2-8-6-2 (tanh), layers as equality groups, after 8 L-BFGS iterations")
    print(f"   loss = {sol.objective:.6f}   accuracy = {p.decode(sol).accuracy(X, y):.3f}")
    for k, (m, g) in enumerate(zip(lams, grads), start=1):
        r = np.linalg.norm(m + g) / np.linalg.norm(g)
        print(f"   layer{k}: |λ| = {np.linalg.norm(m):.3e}, |λ + dloss/dz| / |dloss/dz| = {r:.1e}")
    print(f"   mlp_max_rel_diff_vs_torch = {rel:.3e}")
    print(f"   mlp_weight_grad_rel_diff = {wrel:.3e}")
    return lams, grads


POS = {"x": (0, 0), "a": (1, 0), "b": (2, 0.8), "c": (3, 0), "d": (4, 0.8), "e": (4, -0.8)}
POS["f"] = (5, 0)


def draw_graph(ax, val: dict[str, float], lam: dict[str, float]) -> None:
    for k, (parents, _) in GRAPH.items():
        for p in parents:
            ax.annotate(
                "",
                xy=POS[k],
                xytext=POS[p],
                arrowprops={"arrowstyle": "-|>", "color": "0.5", "shrinkA": 22, "shrinkB": 22},
            )
    mags = np.log10([abs(lam[k]) for k in GRAPH])
    xs, ys = zip(*(POS[k] for k in GRAPH))
    sc = ax.scatter(xs, ys, s=1500, c=mags, cmap="viridis", edgecolors="k", zorder=3)
    for k in GRAPH:
        x, y = POS[k]
        ax.text(x, y, k, ha="center", va="center", fontsize=13, color="w", weight="bold", zorder=4)
        ax.text(
            x,
            y - 0.42,
            f"{GRAPH[k][1]}\nv = {val[k]:.4g}\nλ = {lam[k]:.4g}",
            ha="center",
            va="top",
            fontsize=8,
        )
    ax.figure.colorbar(sc, ax=ax, label="log10 |λ|  (= log10 |df/dv|)")
    ax.set_xlim(-0.6, 5.6)
    ax.set_ylim(-2.2, 1.4)
    ax.set_axis_off()
    ax.set_title("Vieira's graph: the multiplier of each definition is −df/dv")


def draw_scatter(ax, lams: list[np.ndarray], grads: list[np.ndarray]) -> None:
    for k, (m, g) in enumerate(zip(lams, grads), start=1):
        ax.scatter(-g.ravel(), m.ravel(), s=10, label=f"layer {k} ({m.size} entries)")
    lo = min(float(np.min(-g)) for g in grads)
    hi = max(float(np.max(-g)) for g in grads)
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="λ = −gradient")
    ax.set_xlabel("−d loss / d z_l  (torch autograd)")
    ax.set_ylabel("multiplier λ_l of group layer_l")
    ax.set_title("MLP 2-8-6-2: layer multipliers vs autograd")
    ax.legend(fontsize="small")


def main() -> None:
    val, lam, _ = run_vieira()
    lams, grads = run_mlp()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5.5), width_ratios=[1.5, 1])
    draw_graph(ax1, val, lam)
    draw_scatter(ax2, lams, grads)
    fig.tight_layout()
    fig.savefig("backprop_is_lagrangian.png", dpi=110)
    print("\nsaved backprop_is_lagrangian.png")


if __name__ == "__main__":
    main()
