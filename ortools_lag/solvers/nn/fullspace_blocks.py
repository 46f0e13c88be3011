r"""The network and the block updates of full-space training (for :mod:`.fullspace`, ``admm``).

On the split layers (internal scale: the loss summed over the ``N`` samples, penalty ``rho``
per sample, multipliers ``N lambda`` and ``N mu``)

.. math::

    a_l - W_l z_{l-1} - b_l 1^T = 0\;(\mu_l),\qquad z_l - \sigma(a_l) = 0\;(\lambda_l),
    \qquad z_L - W_L z_{L-1} - b_L 1^T = 0\;(\lambda_L),

each block of the augmented Lagrangian has a cheap minimiser: the weights a ridge least
squares (:func:`weight_update`), the pre-activations a one-dimensional problem per entry
(``_a_update``), the hidden outputs one ``h x h`` system for all samples, the output layer the
proximal map of the loss (``_output_update``). :func:`sweep_shard` runs the per-sample blocks of
a shard of columns (a picklable :class:`ShardTask`, so any executor can run it) and returns the
statistics the weight update needs. :class:`Network` reads the network off an ``nn_training``
problem.

>>> rng = np.random.default_rng(0)
>>> W, b = [rng.normal(size=(3, 2)), rng.normal(size=(2, 3))], [np.zeros(3), np.zeros(2)]
>>> X = rng.normal(size=(2, 5))
>>> pre, out = forward("tanh", W, b, X)
>>> bool(np.allclose(out[1], W[1] @ np.tanh(W[0] @ X)))
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.linalg as sla

from ortools_lag.errors import ModelError, NotSupportedError
from ortools_lag.model.nonlinear import as_nonlinear

if TYPE_CHECKING:
    from ortools_lag.problem import Problem

__all__ = [
    "HIDDEN",
    "Network",
    "ShardResult",
    "ShardTask",
    "activation",
    "forward",
    "is_network",
    "loss_sum",
    "sweep_shard",
    "weight_update",
]

HIDDEN = ("tanh", "sigmoid", "softplus", "relu", "identity")


# -- elementwise pieces ------------------------------------------------------------------------
def activation(name: str, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sigma(a)``, ``sigma'(a)`` and ``sigma''(a)`` elementwise.

    >>> [v.round(4).tolist() for v in activation("tanh", np.array([0.5]))]
    [[0.4621], [0.7864], [-0.7268]]
    """
    if name == "tanh":
        t = np.tanh(a)
        d = 1.0 - t * t
        return t, d, -2.0 * t * d
    if name in ("sigmoid", "softplus"):
        s = 0.5 * (1.0 + np.tanh(0.5 * a))
        d = s * (1.0 - s)
        if name == "softplus":
            return np.logaddexp(0.0, a), s, d
        return s, d, d * (1.0 - 2.0 * s)
    if name == "relu":
        return np.maximum(a, 0.0), (a > 0).astype(float), np.zeros_like(a)
    if name == "identity":
        return a.copy(), np.ones_like(a), np.zeros_like(a)
    raise ModelError(f"unknown activation {name!r} (valid choices: {', '.join(HIDDEN)})")


def _a_update(name: str, a: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Elementwise global ``argmin_a (a - u)^2 / 2 + (v - sigma(a))^2 / 2``.

    ``relu`` and ``identity`` in closed form. Otherwise the problem may have two local minima
    (one near ``u``, one where ``sigma(a)`` nears ``v``): Newton from the warm start ``a``, from
    ``u`` and from ``sigma^{-1}(v)`` (clipped to ``|a - u| <= |v - sigma(u)|``, which holds at
    the global minimiser), keeping the best; the other starts are skipped where the problem is
    convex around the first answer (see ``_surely_global``).
    """
    if name == "identity":
        return 0.5 * (u + v)
    if name == "relu":  # the better of the two pieces a <= 0 and a >= 0
        neg = np.minimum(u, 0.0)
        pos = np.maximum(0.5 * (u + v), 0.0)
        f_neg = 0.5 * (neg - u) ** 2 + 0.5 * v**2
        f_pos = 0.5 * (pos - u) ** 2 + 0.5 * (v - pos) ** 2
        return np.where(f_pos <= f_neg, pos, neg)
    af, uf, vf = (np.asarray(t, dtype=float).ravel() for t in (a, u, v))
    out = _newton_1d(name, af, uf, vf)
    best = 0.5 * (out - uf) ** 2 + 0.5 * (vf - activation(name, out)[0]) ** 2
    idx = np.flatnonzero(~_surely_global(name, out, uf, vf, best))
    if idx.size:
        radius = np.abs(vf[idx] - activation(name, uf[idx])[0])
        inv = np.clip(_inverse(name, vf[idx]), uf[idx] - radius, uf[idx] + radius)
        for start in (uf[idx], inv):
            sol = _newton_1d(name, start, uf[idx], vf[idx])
            val = 0.5 * (sol - uf[idx]) ** 2 + 0.5 * (vf[idx] - activation(name, sol)[0]) ** 2
            better = val < best[idx]
            out[idx[better]], best[idx[better]] = sol[better], val[better]
    return out.reshape(np.shape(a))


#: where |sigma''| peaks (it is unimodal in |a|)
_PEAK = {"tanh": 0.6584789485, "sigmoid": 1.3169578969, "softplus": 0.0}


def _surely_global(
    name: str, a: np.ndarray, u: np.ndarray, v: np.ndarray, value: np.ndarray
) -> np.ndarray:
    """True where the objective is convex on ``|x - u| <= sqrt(2 value)`` (which holds every
    point as good as ``a``): ``sup |v - sigma| sup |sigma''| < 1`` there, so ``a`` is global."""
    r = np.sqrt(2.0 * value) * (1.0 + 1e-9) + 1e-12
    lo, hi = u - r, u + r
    s_lo, _, c_lo = activation(name, lo)
    s_hi, _, c_hi = activation(name, hi)
    gap = np.maximum(np.abs(v - s_lo), np.abs(v - s_hi))  # sigma is monotone
    p = _PEAK[name]  # |sigma''| is even and unimodal in |a|: its sup is at a peak or an end
    at_peak = ((lo <= p) & (p <= hi)) | ((lo <= -p) & (-p <= hi))
    top = float(np.abs(activation(name, np.array([p]))[2])[0])
    curv = np.where(at_peak, top, np.maximum(np.abs(c_lo), np.abs(c_hi)))
    return np.asarray(gap * curv < 1.0)


def _inverse(name: str, v: np.ndarray) -> np.ndarray:
    """A preimage of ``v`` under the activation (``v`` clipped into its range)."""
    if name == "tanh":
        return np.arctanh(np.clip(v, -1 + 1e-12, 1 - 1e-12))
    if name == "sigmoid":
        w = np.clip(v, 1e-12, 1 - 1e-12)
        return np.log(w) - np.log1p(-w)
    w = np.maximum(v, 1e-12)  # softplus
    return w + np.log(-np.expm1(-w))


def _newton_1d(name: str, x0: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Safeguarded Newton on each ``(a - u)^2 / 2 + (v - sigma(a))^2 / 2`` from ``x0``."""
    out, idx = x0.copy(), np.arange(x0.size)
    for _ in range(60):  # Gauss-Newton curvature where the problem is not convex
        x, uu, vv = out[idx], u[idx], v[idx]
        s, d1, d2 = activation(name, x)
        g = (x - uu) - (vv - s) * d1
        h = 1.0 + d1 * d1 - (vv - s) * d2
        h = np.where(h < 0.25, 1.0 + d1 * d1, h)
        step = np.clip(g / h, -1.0, 1.0)
        new = x - step
        big = np.flatnonzero(np.abs(step) > 1e-3)  # far from a minimiser: check the decrease
        if big.size:
            xb, ub, vb = x[big], uu[big], vv[big]
            f0 = 0.5 * (xb - ub) ** 2 + 0.5 * (vb - s[big]) ** 2
            nb = new[big]
            f1 = 0.5 * (nb - ub) ** 2 + 0.5 * (vb - activation(name, nb)[0]) ** 2
            worse = big[f1 > f0]  # a gradient step with a curvature bound instead
            step[worse] = g[worse] / (2.0 + d1[worse] ** 2 + np.abs(vv[worse] - s[worse]))
            new = x - step
        out[idx] = new
        idx = idx[np.abs(step) > 1e-13 * (1.0 + np.abs(new))]
        if idx.size == 0:
            break
    return out


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def loss_sum(loss: str, z: np.ndarray, Y: np.ndarray) -> float:
    """The loss summed over the samples (columns): cross-entropy or half the squared error."""
    if loss == "mse":
        return 0.5 * float(np.sum((z - Y) ** 2))
    m = z.max(axis=0)
    lse = m + np.log(np.exp(z - m).sum(axis=0))
    return float(np.sum(lse) - np.sum(Y * z))


def _output_update(
    loss: str, z: np.ndarray, Y: np.ndarray, lam: np.ndarray, p: np.ndarray, rho: float
) -> np.ndarray:
    """Columnwise ``argmin loss(z) + lam.(z - p) + rho/2 |z - p|^2`` (sum-scale loss)."""
    if loss == "mse":
        return (Y - lam + rho * p) / (1.0 + rho)
    z = z.copy()

    def obj(w: np.ndarray) -> np.ndarray:
        m = w.max(axis=0)
        lse = m + np.log(np.exp(w - m).sum(axis=0))
        return lse - np.sum(Y * w, axis=0) + np.sum(lam * (w - p) + 0.5 * rho * (w - p) ** 2, 0)

    for _ in range(50):  # Newton: H = diag(s) + rho I - s s^T, inverted by Sherman-Morrison
        s = _softmax(z)
        g = s - Y + lam + rho * (z - p)
        dinv = 1.0 / (s + rho)
        sd = s * dinv
        step = dinv * g + sd * (np.sum(sd * g, axis=0) / (1.0 - np.sum(s * sd, axis=0)))
        f0 = obj(z)
        t = np.ones(z.shape[1])
        for _ in range(30):  # backtracking per column
            bad = obj(z - t * step) > f0 + 1e-14 * (1.0 + np.abs(f0))
            if not bad.any():
                break
            t = np.where(bad, 0.5 * t, t)
        z = z - t * step
        if np.max(np.abs(t * step), initial=0.0) <= 1e-13 * (1.0 + np.max(np.abs(z))):
            break
    return z


# -- the per-sample task -----------------------------------------------------------------------
@dataclass
class ShardTask:
    """The per-sample work of one shard of columns (picklable; runs in any executor).

    ``mode``: ``"stats"`` (statistics and violations only), ``"sweep"`` (one Gauss-Seidel pass
    over ``a_1, z_1, ..., z_L``), ``"sweep+dual"`` (a pass, then the multiplier step: ADMM) or
    ``"dual"`` (the multiplier step alone: ALM). Lists are indexed by layer ``0..L-1`` (``a``,
    ``mu`` only for hidden layers). Multipliers are on the internal (summed loss) scale.
    """

    activation: str
    loss: str
    rho: float
    W: Sequence[np.ndarray]
    b: Sequence[np.ndarray]
    X: np.ndarray
    Y: np.ndarray
    a: list[np.ndarray]
    z: list[np.ndarray]
    lam: list[np.ndarray]
    mu: list[np.ndarray]
    mode: Literal["stats", "sweep", "sweep+dual", "dual"] = "sweep+dual"
    single_thread: bool = False


@dataclass
class ShardResult:
    """What a shard sends back: its updated columns, the weight-update statistics per layer
    (``G = [z;1][z;1]^T``, ``R_target = [z;1] target^T``, ``R_mult = [z;1] mult^T``) and sums
    of squares: ``viol`` (model groups at the iterate), ``norm`` (``|z_l|^2``), ``split``
    (every split constraint), ``delta`` (change of the per-sample variables), ``loss``."""

    a: list[np.ndarray]
    z: list[np.ndarray]
    lam: list[np.ndarray]
    mu: list[np.ndarray]
    stats: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    viol: np.ndarray
    norm: np.ndarray
    split: float
    delta: float
    loss: float


_LIMITED = False


def _limit_blas_once() -> None:
    """One BLAS thread in a worker process (the shards are the parallelism)."""
    global _LIMITED
    if not _LIMITED:
        with contextlib.suppress(ImportError):
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)
        _LIMITED = True


def _affine(W: np.ndarray, b: np.ndarray, z: np.ndarray) -> np.ndarray:
    return W @ z + b[:, None]


def sweep_shard(task: ShardTask) -> ShardResult:
    """Run one shard's per-sample updates (see :class:`ShardTask`) and return its results."""
    if task.single_thread:
        _limit_blas_once()
    t, rho, L = task, task.rho, len(task.W)
    a, z, lam, mu = list(t.a), list(t.z), list(t.lam), list(t.mu)
    delta = 0.0
    if t.mode in ("sweep", "sweep+dual"):
        for l in range(L - 1):
            prev = t.X if l == 0 else z[l - 1]
            p = _affine(t.W[l], t.b[l], prev)
            new_a = _a_update(t.activation, a[l], p - mu[l] / rho, z[l] + lam[l] / rho)
            s = activation(t.activation, new_a)[0]
            Wn, bn = t.W[l + 1], t.b[l + 1]
            nxt, mult = (a[l + 1], mu[l + 1]) if l + 1 < L - 1 else (z[L - 1], lam[L - 1])
            rhs = s - lam[l] / rho + Wn.T @ (mult / rho + nxt - bn[:, None])
            M = np.eye(Wn.shape[1]) + Wn.T @ Wn
            new_z = sla.cho_solve(sla.cho_factor(M), rhs)
            delta += float(np.sum((new_a - a[l]) ** 2) + np.sum((new_z - z[l]) ** 2))
            a[l], z[l] = new_a, new_z
        prev = t.X if L == 1 else z[L - 2]
        p = _affine(t.W[L - 1], t.b[L - 1], prev)
        new_out = _output_update(t.loss, z[L - 1], t.Y, lam[L - 1], p, rho)
        delta += float(np.sum((new_out - z[L - 1]) ** 2))
        z[L - 1] = new_out
    split = 0.0
    if t.mode in ("sweep+dual", "dual"):
        for l in range(L):
            prev = t.X if l == 0 else z[l - 1]
            p = _affine(t.W[l], t.b[l], prev)
            if l < L - 1:
                r1, r2 = a[l] - p, z[l] - activation(t.activation, a[l])[0]
                mu[l] = mu[l] + rho * r1
                lam[l] = lam[l] + rho * r2
                split += float(np.sum(r1 * r1) + np.sum(r2 * r2))
            else:
                r = z[l] - p
                lam[l] = lam[l] + rho * r
                split += float(np.sum(r * r))
    return _shard_stats(t, a, z, lam, mu, split, delta)


def _shard_stats(
    t: ShardTask,
    a: list[np.ndarray],
    z: list[np.ndarray],
    lam: list[np.ndarray],
    mu: list[np.ndarray],
    split: float,
    delta: float,
) -> ShardResult:
    L = len(t.W)
    stats, viol, norm = [], np.zeros(L), np.zeros(L)
    for l in range(L):
        prev = t.X if l == 0 else z[l - 1]
        ext = np.vstack([prev, np.ones((1, prev.shape[1]))])
        target, mult = (a[l], mu[l]) if l < L - 1 else (z[l], lam[l])
        stats.append((ext @ ext.T, ext @ target.T, ext @ mult.T))
        pre = _affine(t.W[l], t.b[l], prev)
        out = activation(t.activation, pre)[0] if l < L - 1 else pre
        viol[l] = float(np.sum((z[l] - out) ** 2))
        norm[l] = float(np.sum(z[l] ** 2))
    loss = loss_sum(t.loss, z[L - 1], t.Y)
    return ShardResult(a, z, lam, mu, stats, viol, norm, split, delta, loss)


def weight_update(
    stats: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    rho: float,
    decay: float,
    W_old: Sequence[np.ndarray],
    b_old: Sequence[np.ndarray],
    prox: float = 0.0,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Every layer's ``(W, b)``: ``argmin mult.(target - W z - b) + rho/2 |target - W z - b|^2
    + decay/2 |W|^2 + prox/2 |[W b] - [W_old b_old]|^2`` from the statistics (a ridge solve).

    >>> z = np.array([[0.0, 1.0, 2.0]]); ext = np.vstack([z, np.ones((1, 3))])
    >>> t = 2.0 * z + 1.0
    >>> W, b = weight_update([(ext @ ext.T, ext @ t.T, 0 * ext @ t.T)], 1.0, 0.0,
    ...                      [np.zeros((1, 1))], [np.zeros(1)])
    >>> W[0].round(9).tolist(), b[0].round(9).tolist()
    ([[2.0]], [1.0])
    """
    Ws, bs = [], []
    for (G, Rt, Rm), W0, b0 in zip(stats, W_old, b_old):
        k = G.shape[0]
        M = rho * G + prox * np.eye(k)
        M[: k - 1, : k - 1] += decay * np.eye(k - 1)
        old = np.vstack([W0.T, b0[None, :]])
        rhs = rho * Rt + Rm + prox * old
        try:
            sol = sla.cho_solve(sla.cho_factor(M), rhs)
        except (np.linalg.LinAlgError, sla.LinAlgError):
            sol = np.linalg.lstsq(M, rhs, rcond=None)[0]
        Ws.append(np.ascontiguousarray(sol[: k - 1].T))
        bs.append(np.ascontiguousarray(sol[k - 1]))
    return Ws, bs


def forward(
    act: str, W: Sequence[np.ndarray], b: Sequence[np.ndarray], X: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Pre-activations and outputs of every layer (hidden activation ``act``, linear output):
    the layer constraints solved exactly."""
    prev, L = X, len(W)
    pre, out = [], []
    for l in range(L):
        p = _affine(W[l], b[l], prev)
        prev = activation(act, p)[0] if l < L - 1 else p
        pre.append(p)
        out.append(prev)
    return pre, out


# -- the network of an nn_training problem -----------------------------------------------------
@dataclass(frozen=True)
class Network:
    """What the full-space methods need from an ``nn_training`` problem.

    Attributes
    ----------
    sizes, activation, loss
        Layer widths ``(d, h_1, ..., C)``, the hidden activation and the loss.
    X, Y
        Inputs ``d x N`` and targets ``C x N`` (columns are samples).
    weight_decay
        ``kappa`` of ``kappa/2 sum |W_l|^2``, read off the model's objective.
    init
        The problem's seeded weight initialisation.
    """

    sizes: tuple[int, ...]
    activation: str
    loss: str
    X: np.ndarray
    Y: np.ndarray
    weight_decay: float
    init: Callable[[np.random.Generator], dict[str, np.ndarray]] | None

    @property
    def n_samples(self) -> int:
        """Number of training samples ``N``."""
        return int(self.X.shape[1])

    @property
    def n_layers(self) -> int:
        """Number of layers ``L`` (hidden layers plus the output layer)."""
        return len(self.sizes) - 1

    @classmethod
    def from_problem(cls, problem: Problem) -> Network:
        """Read the network off an ``nn_training`` problem.

        Raises
        ------
        NotSupportedError
            When the problem is not a multilayer perceptron built by ``nn_training.build``.
        """
        why = _why_not_network(problem)
        if why is not None:
            raise NotSupportedError(why)
        info = problem.data
        lay = info.layering
        net = cls(
            sizes=tuple(int(s) for s in info.sizes),
            activation=str(info.activation),
            loss=str(info.loss),
            X=np.asarray(lay.data["X"], dtype=float),
            Y=np.asarray(lay.data["Y"], dtype=float),
            weight_decay=0.0,
            init=lay.init,
        )
        return replace(net, weight_decay=_weight_decay(problem, net))


def _why_not_network(problem: Problem) -> str | None:
    info = problem.data
    if problem.kind != "nn_training":
        return f"not an nn_training problem (kind {problem.kind!r})"
    need = ("sizes", "activation", "loss", "layering")
    if not all(hasattr(info, k) for k in need):
        return "problem.data lacks the network description (sizes, activation, loss, layering)"
    if info.activation not in HIDDEN or info.loss not in ("cross_entropy", "mse"):
        return f"activation {info.activation!r} / loss {info.loss!r} not supported"
    if problem.model.sense_sign != 1:
        return "the training problem must be a minimisation"
    return None


def _weight_decay(problem: Problem, net: Network) -> float:
    """``kappa`` from the objective's gradient in the weights at ``W = 1`` (checked at two
    points: the objective must be the loss plus ``kappa/2 sum |W|^2``)."""
    model = problem.model
    obj = as_nonlinear(model.objective)
    kappas = []
    for w in (1.0, 2.0):
        z = np.zeros(model.n)
        for l in range(1, net.n_layers + 1):
            v = model.variables[f"W{l}"]
            z[v.offset : v.offset + v.size] = w
        g = np.asarray(obj.vjp(z, np.ones(1)), dtype=float)
        parts = [model.variables[f"W{l}"] for l in range(1, net.n_layers + 1)]
        gw = np.concatenate([g[v.offset : v.offset + v.size] for v in parts]) / w
        kappas.append(gw)
    k = float(kappas[0][0])
    if not all(np.allclose(kv, k, rtol=1e-9, atol=1e-12) for kv in kappas):
        raise NotSupportedError("the objective is not the loss plus kappa/2 sum |W_l|^2")
    return k


def is_network(problem: Problem) -> bool:
    """True when ``problem`` is an ``nn_training`` network the full-space methods take."""
    return _why_not_network(problem) is None
