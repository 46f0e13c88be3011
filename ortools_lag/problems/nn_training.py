r"""Neural-network training as a constrained problem: layers are equality constraints.

For inputs ``X`` (``N x d``, one sample a row) held as columns ``z_0 = X^T`` and a network of
layer widths ``h_1 .. h_L`` (the last one the number of outputs):

.. math::

    \min_{W, b, z}\; \ell(z_L, Y) + \tfrac{\rho}{2} \sum_l \|W_l\|^2
    \quad\text{s.t.}\quad z_l - \sigma_l(W_l z_{l-1} + b_l 1^T) = 0 \quad (l = 1..L)

with ``sigma_L`` the identity (class scores), ``ell`` the mean softmax cross-entropy or half the
mean squared error, ``Y`` one-hot targets (``C x N``). Blocks: weights ``W{l}`` (``h_l x
h_{l-1}``), biases ``b{l}`` (``h_l``), layer outputs ``z{l}`` (``h_l x N``); one group ``layer{l}``
per layer, an equality held as ``z_l - sigma(...) == 0``.

Multipliers: ``lambda_l`` (shape ``h_l x N``) of group ``layer{l}`` is ``-d ell / d z_l`` — minus
backprop's adjoint of layer ``l``'s output, by stationarity of
``L = ell + sum_l lambda_l . (z_l - sigma_l(...))`` in ``z_l``:
``lambda_L = -grad ell`` and ``lambda_l = J_{l+1}^T lambda_{l+1}`` with ``J_{l+1}`` the Jacobian of
``sigma_{l+1}(W_{l+1} z_l + b_{l+1})`` in ``z_l``; ``dL/dW_l = -(lambda_l * sigma_l') z_{l-1}^T`` is
the weight gradient. The shadow price of a layer (``+d ell / d z_l``) is the sensitivity of the
loss to a perturbation of that layer's output.

The default solver is ``adjoint`` (reduced space); the full-space problem goes to ``scipy`` or
``alm`` as it stands (small networks). ``decode(solution)`` returns a :class:`Predictor`.

>>> import numpy as np
>>> from ortools_lag import solve
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(40, 2)); y = (X[:, 0] * X[:, 1] > 0).astype(int)
>>> p = build(X, y, layers=[8], activation="tanh")
>>> sorted(p.model.groups), p.model.variables["z1"].shape
(['layer1', 'layer2'], (8, 40))
>>> sol = solve(p, "adjoint", method="lbfgs", epochs=200)
>>> net = p.decode(sol)
>>> net(X).shape, net.accuracy(X, y) > 0.9
((40, 2), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ortools_lag.errors import ModelError, SpecError
from ortools_lag.model import Model
from ortools_lag.model import functions as F
from ortools_lag.model.nonlinear import NonlinearExpr, as_nonlinear, data
from ortools_lag.problem import Problem, Relaxation
from ortools_lag.result import Solution
from ortools_lag.solvers.nn.adjoint import Layering, LayerStep

__all__ = ["ACTIVATIONS", "LOSSES", "NNData", "Predictor", "build", "read"]

ACTIVATIONS = ("tanh", "sigmoid", "relu", "softplus", "identity")
LOSSES = ("cross_entropy", "mse")


@dataclass(frozen=True)
class NNData:
    """What the builder keeps: sizes, the layering for ``adjoint``, and the graph per layer."""

    sizes: tuple[int, ...]
    activation: str
    loss: str
    layering: Layering
    definitions: tuple[NonlinearExpr, ...]


class Predictor:
    """A trained network: a callable from inputs ``(n, d)`` to class scores ``(n, C)``.

    It evaluates the problem's own layer expressions with the trained weights, on new data.
    """

    def __init__(self, weights: dict[str, np.ndarray], info: NNData) -> None:
        self.weights = {k: np.asarray(v, dtype=float) for k, v in weights.items()}
        self.info = info

    def __call__(self, X: Any) -> np.ndarray:
        Xa = np.asarray(X, dtype=float)
        if Xa.ndim != 2 or Xa.shape[1] != self.info.sizes[0]:
            raise ModelError(f"inputs must have shape (n, {self.info.sizes[0]}), got {Xa.shape}")
        values: dict[str, Any] = dict(self.weights)
        feed = {"X": Xa.T}
        for step, phi in zip(self.info.layering.steps, self.info.definitions):
            values[step.output] = phi.evaluate(values, feed)
        return np.asarray(values[self.info.layering.steps[-1].output]).T

    def predict(self, X: Any) -> np.ndarray:
        """The class of largest score for each row of ``X``."""
        return np.argmax(self(X), axis=1)

    def accuracy(self, X: Any, y: Any) -> float:
        """Fraction of rows of ``X`` classified as ``y``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))


def _activate(name: str, e: Any) -> NonlinearExpr:
    if name == "identity":
        return as_nonlinear(e)
    return getattr(F, name)(e)


def _targets(y: Any, loss: str, n: int, n_classes: int | None) -> np.ndarray:
    ya = np.asarray(y)
    if ya.shape[0] != n:
        raise ModelError(f"y has {ya.shape[0]} rows but X has {n}")
    if loss == "cross_entropy":
        if ya.ndim != 1 or not np.all(ya == np.round(ya)) or ya.min() < 0:
            raise ModelError("cross_entropy needs integer labels 0..C-1 of shape (N,)")
        k = int(ya.max()) + 1 if n_classes is None else int(n_classes)
        if ya.max() >= k:
            raise ModelError(f"labels reach {int(ya.max())} but n_classes is {k}")
        return F.one_hot(ya.astype(np.int64), k)
    T = ya.astype(float).reshape(n, -1)
    return T.T.copy()


def _initializer(sizes: Sequence[int], activation: str) -> Any:
    def init(rng: np.random.Generator) -> dict[str, np.ndarray]:
        out = {}
        for l in range(1, len(sizes)):
            fan_in, fan_out = sizes[l - 1], sizes[l]
            if activation == "relu":  # He
                W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_out, fan_in))
            else:  # Glorot uniform
                a = np.sqrt(6.0 / (fan_in + fan_out))
                W = rng.uniform(-a, a, size=(fan_out, fan_in))
            out[f"W{l}"], out[f"b{l}"] = W, np.zeros(fan_out)
        return out

    return init


def build(
    X: Any,
    y: Any,
    layers: Sequence[int] = (32,),
    activation: str = "tanh",
    loss: str = "cross_entropy",
    *,
    n_classes: int | None = None,
    weight_decay: float = 0.0,
) -> Problem:
    """Build the training problem of a multilayer perceptron.

    Parameters
    ----------
    X
        Inputs, ``N x d`` (one sample a row).
    y
        Integer labels ``(N,)`` for ``cross_entropy``; targets ``(N,)`` or ``(N, k)`` for ``mse``.
    layers
        Widths of the hidden layers (the output width comes from the targets).
    activation
        One of :data:`ACTIVATIONS` (hidden layers; the output layer is linear).
    loss
        ``"cross_entropy"`` (mean softmax cross-entropy) or ``"mse"`` (half the mean squared
        error per sample).
    n_classes
        Number of classes (default: largest label + 1).
    weight_decay
        ``rho`` of the penalty ``rho/2 sum ||W_l||^2``.

    Returns
    -------
    Problem
        Kind ``nn_training``, default solver ``adjoint``, relaxation ``layers`` (every layer
        group, for full-space dual methods), ``decode`` giving a :class:`Predictor`.
    """
    Xa, T, sizes = _check(X, y, layers, activation, loss, n_classes)
    m = Model("nn_training")
    steps = _layers(m, Xa, sizes, activation)
    zL, Y = m.variables[steps[-1].output], data("Y", T)
    if loss == "cross_entropy":
        obj: Any = F.softmax_cross_entropy(zL, Y)
    else:
        obj = F.mean(0.5 * F.square(zL - Y).sum(axis=0))
    if weight_decay:
        Ws = [m.variables[f"W{l}"] for l in range(1, len(sizes))]
        obj = obj + 0.5 * weight_decay * sum(F.sum_squares(W) for W in Ws)
    m.minimize(obj)
    lay = Layering(
        steps,
        data={"X": np.ascontiguousarray(Xa.T), "Y": T},
        batch_axes={"X": 1, "Y": 1},
        init=_initializer(sizes, activation),
    )
    info = NNData(sizes, activation, loss, lay, tuple(s.definition for s in steps))  # type: ignore[misc]

    def decode(sol: Solution) -> Predictor:
        return Predictor({k: v for k, v in sol.x.items() if k[0] in "Wb"}, info)

    groups = tuple(s.group for s in steps)
    return Problem(
        m,
        relaxations={"layers": Relaxation(groups, description="every layer's equality")},
        default_relaxation="layers",
        decode=decode,
        kind="nn_training",
        default_solver="adjoint",
        data=info,
        metadata={"sizes": sizes, "activation": activation, "loss": loss},
    )


def _check(
    X: Any, y: Any, layers: Sequence[int], activation: str, loss: str, n_classes: int | None
) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    if activation not in ACTIVATIONS:
        raise ModelError(f"unknown activation {activation!r} (valid choices: {ACTIVATIONS})")
    if loss not in LOSSES:
        raise ModelError(f"unknown loss {loss!r} (valid choices: {LOSSES})")
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim != 2 or not np.all(np.isfinite(Xa)):
        raise ModelError(f"X must be a finite 2-D array (N x d), got shape {Xa.shape}")
    T = _targets(y, loss, Xa.shape[0], n_classes)
    if any(int(h) < 1 for h in layers):
        raise ModelError(f"layer widths must be positive, got {list(layers)}")
    return Xa, T, (Xa.shape[1], *(int(h) for h in layers), T.shape[0])


def _layers(
    m: Model, Xa: np.ndarray, sizes: tuple[int, ...], activation: str
) -> tuple[LayerStep, ...]:
    """Blocks ``W{l}``, ``b{l}``, ``z{l}``; groups ``layer{l}: z_l == sigma(W_l z_{l-1} + b_l)``."""
    prev: Any = data("X", np.ascontiguousarray(Xa.T))
    steps = []
    for l in range(1, len(sizes)):
        W = m.var(f"W{l}", (sizes[l], sizes[l - 1]), lb=None)
        b = m.var(f"b{l}", sizes[l], lb=None)
        z = m.var(f"z{l}", (sizes[l], Xa.shape[0]), lb=None)
        act = activation if l < len(sizes) - 1 else "identity"
        phi = _activate(act, W @ prev + b.reshape(sizes[l], 1))
        m.add(f"layer{l}", z == phi)
        steps.append(LayerStep(f"layer{l}", f"z{l}", phi))
        prev = z
    return tuple(steps)


def read(path: str | Path, **options: Any) -> Problem:
    """Build from a file: ``.npz`` with arrays ``X`` and ``y``, or ``.csv`` (label last).

    Raises
    ------
    SpecError
        Naming the file (and the line of a bad CSV row, or the missing array).
    """
    p = Path(path)
    if p.suffix == ".npz":
        with np.load(p) as f:
            for key in ("X", "y"):
                if key not in f:
                    raise SpecError(f"array {key!r} missing", file=str(p), field=key)
            return build(f["X"], f["y"], **options)
    rows = p.read_text().splitlines()
    try:
        arr = np.loadtxt(p, delimiter=",", ndmin=2)
    except ValueError:
        for i, line in enumerate(rows, start=1):  # only on error: find the bad line
            try:
                [float(t) for t in line.split(",")]
            except ValueError:
                raise SpecError(f"not a number in {line!r}", file=str(p), line=i) from None
        raise SpecError("rows of different lengths", file=str(p)) from None
    return build(arr[:, :-1], arr[:, -1].astype(np.int64), **options)
