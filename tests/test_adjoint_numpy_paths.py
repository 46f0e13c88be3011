"""``ReducedSpace.evaluate`` on its numpy fast paths: the multipliers and weight gradient of a
tanh / sigmoid / softplus MLP large enough for threaded kernels and in-place layers, against
torch autograd (float64 at 1e-10, float32 at 1e-4) and against the same evaluation on one
thread (bit for bit); the points it returns share no buffers with each other or the inputs."""

from __future__ import annotations

import numpy as np
import pytest

from ortools_lag.model import ufunc_threads as UT
from ortools_lag.problems import nn_training
from ortools_lag.solvers.nn.adjoint import ReducedSpace

torch = pytest.importorskip("torch")

SIZES = [12, 160, 96, 5]  # hidden layers of 160 x 512 entries: above 2 x ufunc_threads.MIN_SIZE
BATCH = 512


@pytest.fixture
def threads():
    UT._choices.clear()
    yield UT.set_num_threads
    UT.set_num_threads(None)


def _network(activation: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(BATCH, SIZES[0]))
    y = rng.integers(0, SIZES[-1], size=BATCH)
    p = nn_training.build(X, y, layers=SIZES[1:-1], activation=activation)
    return p, p.data.layering.init(np.random.default_rng(seed + 1))


def _autograd(p, theta, activation: str, dtype):
    """The same network in torch: the loss, the adjoints of the layer outputs, weight gradients."""
    lay = p.data.layering
    act = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "softplus": torch.nn.functional.softplus}
    W = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in theta.items()}
    h, outs = torch.tensor(lay.data["X"], dtype=dtype), []
    n_layers = len(lay.steps)
    for l in range(1, n_layers + 1):
        a = W[f"W{l}"] @ h + W[f"b{l}"][:, None]
        h = act[activation](a) if l < n_layers else a
        h.retain_grad()
        outs.append(h)
    labels = torch.tensor(np.argmax(lay.data["Y"], axis=0))
    loss = torch.nn.functional.cross_entropy(h.T, labels)
    loss.backward()
    return (
        float(loss.detach()),
        [o.grad.numpy() for o in outs],
        {k: t.grad.numpy() for k, t in W.items()},
    )


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus"])
def test_float64_multipliers_and_gradient_match_autograd(threads, activation: str) -> None:
    p, theta = _network(activation)
    space = ReducedSpace(p.model, p.data.layering)
    threads(2)
    pt = space.evaluate(theta)
    value, adjoints, wgrads = _autograd(p, theta, activation, torch.float64)
    assert abs(pt.objective - value) <= 1e-13 * abs(value)
    for l, g in enumerate(adjoints, start=1):
        assert _rel(pt.multipliers[f"layer{l}"], -g) <= 1e-10
    for k, g in wgrads.items():
        assert _rel(pt.gradient[k], g) <= 1e-10
    threads(1)  # one thread: the same numbers, bit for bit
    one = space.evaluate(theta)
    for k, g in pt.gradient.items():
        assert np.array_equal(one.gradient[k], g)
    for k, lam in pt.multipliers.items():
        assert np.array_equal(one.multipliers[k], lam)


def test_float32_stays_float32_and_matches_autograd_in_float32() -> None:
    p, theta = _network("tanh", seed=5)
    space = ReducedSpace(p.model, p.data.layering)
    theta32 = {k: v.astype(np.float32) for k, v in theta.items()}
    pt = space.evaluate(theta32)
    value, adjoints, wgrads = _autograd(p, theta, "tanh", torch.float32)
    assert abs(pt.objective - value) <= 1e-5 * abs(value)
    for l, g in enumerate(adjoints, start=1):
        lam = pt.multipliers[f"layer{l}"]
        assert lam.dtype == np.float32 and _rel(lam, -g) <= 1e-4
    for k, g in wgrads.items():
        assert pt.gradient[k].dtype == np.float32 and _rel(pt.gradient[k], g) <= 1e-4


def test_points_share_no_buffers_and_inputs_are_untouched() -> None:
    p, theta = _network("tanh", seed=2)
    lay = p.data.layering
    space = ReducedSpace(p.model, lay)
    theta0 = {k: v.copy() for k, v in theta.items()}
    data0 = {k: v.copy() for k, v in lay.data.items()}
    first = space.evaluate(theta)
    kept = {
        name: {k: np.array(v, copy=True) for k, v in part.items()}
        for name, part in (
            ("g", first.gradient),
            ("o", first.outputs),
            ("m", first.multipliers),
        )
    }
    other = {k: v * 1.5 for k, v in theta.items()}
    second = space.evaluate(other, lay.batch(np.arange(BATCH // 2)))
    again = space.evaluate(theta)
    for name, part in (("g", first.gradient), ("o", first.outputs), ("m", first.multipliers)):
        for k, v in part.items():
            assert np.array_equal(v, kept[name][k])  # not overwritten by later evaluations
    for k, v in again.gradient.items():
        assert np.array_equal(v, first.gradient[k])
    assert second.outputs["z1"].shape == (SIZES[1], BATCH // 2)
    for k, v in theta0.items():
        assert np.array_equal(theta[k], v)
    for k, v in data0.items():
        assert np.array_equal(lay.data[k], v)
