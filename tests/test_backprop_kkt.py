"""Backprop as the KKT system of the layers: our multipliers against torch.autograd and against
T. Vieira's worked example ("Backprop is not just the chain rule", 2017)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ortools_lag import Model, Status, kkt, solve
from ortools_lag.model import functions as F
from ortools_lag.problems import nn_training

from .certificates import check_solution

torch = pytest.importorskip("torch")


def _torch_reference(sol, X: np.ndarray, y: np.ndarray, activation: str, loss: str):
    """The same network in torch: autograd's gradients of the layer outputs and of the weights."""
    W = {k: torch.tensor(v, requires_grad=True) for k, v in sol.x.items() if k[0] in "Wb"}
    n_layers = sum(1 for k in W if k[0] == "W")
    act = {"tanh": torch.tanh, "relu": torch.relu}[activation]
    h, outs, pre = torch.tensor(X.T), [], []
    for l in range(1, n_layers + 1):
        a = W[f"W{l}"] @ h + W[f"b{l}"][:, None]
        pre.append(a.detach().numpy())
        h = act(a) if l < n_layers else a
        h.retain_grad()
        outs.append(h)
    if loss == "cross_entropy":
        value = torch.nn.functional.cross_entropy(h.T, torch.tensor(y))
    else:
        value = 0.5 * ((h.T - torch.tensor(y)) ** 2).sum(dim=1).mean()
    value.backward()
    grads = {k: t.grad.numpy() for k, t in W.items()}
    return float(value.detach()), [o.grad.numpy() for o in outs], grads, pre


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.mark.parametrize(
    ("activation", "loss"),
    [("tanh", "cross_entropy"), ("tanh", "mse"), ("relu", "cross_entropy")],
)
def test_layer_multipliers_are_minus_autograd_adjoints(activation: str, loss: str) -> None:
    rng = np.random.default_rng(7)
    N, sizes = 25, [5, 8, 6, 4]  # a 3-layer MLP
    X = rng.normal(size=(N, sizes[0]))
    y = rng.integers(0, sizes[-1], size=N) if loss == "cross_entropy" else rng.normal(size=(N, 4))
    p = nn_training.build(X, y, layers=sizes[1:-1], activation=activation, loss=loss)
    sol = solve(p, "adjoint", epochs=0, seed=3)  # the KKT multipliers at the initial weights
    value, adjoints, wgrads, pre = _torch_reference(sol, X, y, activation, loss)
    if activation == "relu":
        assert min(np.min(np.abs(a)) for a in pre[:-1]) > 1e-8  # away from the kink
    assert math.isclose(sol.objective, value, rel_tol=1e-13)
    for l, g in enumerate(adjoints, start=1):
        assert _rel(sol.multipliers[f"layer{l}"], -g) <= 1e-10
        assert _rel(sol.shadow_prices[f"layer{l}"], g) <= 1e-10  # the shadow price is +dF/dz
    for k, g in wgrads.items():
        assert _rel(sol.reduced_costs[k], g) <= 1e-10
    # the multipliers satisfy stationarity in every layer output exactly; the weights' gradient
    # is the only residual left (the weights are untrained)
    assert sol.status == Status.FEASIBLE and sol.kkt.primal_residual <= 1e-14
    z = p.model.join(dict(sol.x))
    r = p.model.objective.vjp(z, 1.0)
    for name, g in p.model.groups.items():
        r = r + g.body.vjp(z, sol.multipliers[name])
    for l in range(1, 4):
        v = p.model.variables[f"z{l}"]
        assert np.max(np.abs(r[v.offset : v.offset + v.size])) <= 1e-14
    check_solution(p.model, sol, duals=False)


def _vieira() -> Model:
    """f(x) = exp(exp(x) + exp(x)^2) + sin(exp(x) + exp(x)^2) as equality constraints."""
    m = Model("vieira")
    v = {k: m.var(k, lb=None) for k in "xabcdef"}
    m.minimize(v["f"])
    m.add("input", v["x"] == 0.3)
    m.add("a_def", v["a"] == F.exp(v["x"]))
    m.add("b_def", v["b"] == v["a"] ** 2)
    m.add("c_def", v["c"] == v["a"] + v["b"])
    m.add("d_def", v["d"] == F.exp(v["c"]))
    m.add("e_def", v["e"] == F.sin(v["c"]))
    m.add("f_def", v["f"] == v["d"] + v["e"])
    return m


def _f(x: float) -> float:
    u = math.exp(x) + math.exp(2 * x)
    return math.exp(u) + math.sin(u)


def test_vieira_example_input_multiplier() -> None:
    m = _vieira()
    sol = solve(m, "adjoint")
    assert sol.status == Status.LOCALLY_OPTIMAL, sol.message  # nonlinear layers: not proven convex
    check_solution(m, sol)
    lam = float(sol.multipliers["input"])
    assert math.isclose(lam, -114.14044497283, rel_tol=1e-9)
    assert math.isclose(float(sol.shadow_prices["input"]), 114.14044497283, rel_tol=1e-9)
    h = 1e-6
    fd = (_f(0.3 + h) - _f(0.3 - h)) / (2 * h)
    assert math.isclose(-lam, fd, rel_tol=1e-7)
    # the hand derivation of the intermediate multipliers (lambda_k = -dF/dv_k)
    c = float(sol.x["c"])
    assert math.isclose(float(sol.multipliers["f_def"]), -1.0, rel_tol=1e-15)
    assert math.isclose(float(sol.multipliers["d_def"]), -1.0, rel_tol=1e-15)
    assert math.isclose(float(sol.multipliers["e_def"]), -1.0, rel_tol=1e-15)
    assert math.isclose(
        float(sol.multipliers["c_def"]), -(math.exp(c) + math.cos(c)), rel_tol=1e-14
    )
    # and the certificate is recomputed by kkt from the model itself
    assert kkt.certify(m, dict(sol.x), dict(sol.multipliers), tol=1e-12).certified


def test_vieira_example_against_autograd() -> None:
    x = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    a = torch.exp(x)
    c = a + a**2
    f = torch.exp(c) + torch.sin(c)
    f.backward()
    sol = solve(_vieira(), "adjoint")
    assert math.isclose(float(sol.multipliers["input"]), -float(x.grad), rel_tol=1e-13)
