r"""Backprop through a ``torch.nn.Sequential`` read as the Lagrangian of its layer constraints.

Write the output of layer ``l`` as a variable ``z_l`` and its definition as an equality
constraint ``z_l - phi_l(z_{l-1}; theta_l) == 0`` (``z_0`` is the batch input, fixed). For the
batch loss ``loss(z_L, targets)`` the Lagrangian of this minimisation is

.. math::

    L(z, \theta, \lambda) = \mathrm{loss}(z_L)
        + \sum_{l=1}^{L} \langle \lambda_l,\ z_l - \phi_l(z_{l-1}; \theta_l) \rangle .

Its stationarity conditions are backprop:

* in ``z_L``: ``lambda_L = -grad loss(z_L)``;
* in ``z_l`` (``l < L``): ``lambda_l = J_{phi_{l+1}}(z_l)^T lambda_{l+1}``, the adjoint
  recursion, one vector-Jacobian product of layer ``l + 1`` at its recorded input;
* in ``theta_l``: ``dL/dtheta_l = -J_{phi_l}(theta_l)^T lambda_l``, the weight gradient,
  assembled from the multiplier of the layer's own constraint.

So the multiplier ``lambda_l`` has the shape of layer ``l``'s output (batch first) and its value
is minus the sensitivity of the batch loss to that output, ``lambda_l = -d loss / d z_l``; at
the forward point every constraint holds, so ``L = loss`` there, and ``dL/dtheta_l`` is the
gradient autograd gives ``theta_l``.

:func:`lagrangian_view` runs the forward pass once with hooks that record every layer's input
and output and cut the autograd graph at each layer boundary, then walks the recursion back one
layer at a time (one ``torch.autograd.grad`` call per layer, never one call on the whole
network). :meth:`LagrangianView.check_against_autograd` recomputes ``-d loss / d z_l`` with one
ordinary autograd call on a fresh forward pass, for comparison.

Layers taken (nested ``Sequential`` containers are flattened, names dotted): linear,
convolution (1d, 2d), BatchNorm (eval mode, with running statistics), LayerNorm, GroupNorm,
pooling, flatten, dropout (eval mode), identity and elementwise activations. A BatchNorm in
train mode normalises with the statistics of the batch, so its output couples the samples and
updates the running statistics: it is refused (call ``.eval()``).

>>> import torch
>>> from ortools_lag.torch.lagrangian_view import lagrangian_view
>>> _ = torch.manual_seed(0)
>>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
>>> net = net.double()
>>> x, y = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 1, dtype=torch.float64)
>>> view = lagrangian_view(net, torch.nn.functional.mse_loss, x, y)
>>> view.names
('0', '1', '2')
>>> [tuple(m.shape) for m in view.multipliers]
[(5, 4), (5, 4), (5, 1)]
>>> bool(torch.allclose(view.multipliers[-1], -2 * (view.outputs[-1] - y) / 5))
True
>>> view.check_against_autograd() < 1e-12
True
>>> sorted(view.parameter_gradients)
['0.bias', '0.weight', '2.bias', '2.weight']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import torch
from torch import nn

from ortools_lag.errors import ModelError, NotSupportedError

__all__ = ["SUPPORTED_LAYERS", "LagrangianView", "lagrangian_view"]

LossFn = Callable[[torch.Tensor, Any], torch.Tensor]

#: the layer kinds :func:`lagrangian_view` takes (each maps one tensor to one tensor, sample by
#: sample once BatchNorm and dropout are in eval mode)
SUPPORTED_LAYERS: tuple[type[nn.Module], ...] = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.MaxPool1d,
    nn.MaxPool2d,
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool1d,
    nn.AdaptiveMaxPool2d,
    nn.Flatten,
    nn.Unflatten,
    nn.Dropout,
    nn.Dropout1d,
    nn.Dropout2d,
    nn.Identity,
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Tanh,
    nn.Sigmoid,
    nn.Softplus,
    nn.Softsign,
    nn.Hardtanh,
    nn.Hardsigmoid,
    nn.Hardswish,
    nn.Tanhshrink,
    nn.LogSigmoid,
)


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    """``|a - b| / |b|`` in the Euclidean norm (the absolute difference when ``b`` is zero)."""
    diff = float(torch.linalg.vector_norm((a - b).double()))
    scale = float(torch.linalg.vector_norm(b.double()))
    return diff / scale if scale > 0 else diff


@dataclass(frozen=True, repr=False)
class LagrangianView:
    """The layer-constraint Lagrangian of one batch through a ``Sequential`` network.

    Attributes
    ----------
    loss
        The batch loss at the forward point.
    names
        The layers' names, as in ``module.named_children()`` (dotted for nested ``Sequential``).
    inputs, outputs
        ``z_{l-1}`` and ``z_l`` of each layer, detached (``inputs[0]`` is the batch input).
    multipliers
        ``lambda_l`` of each constraint ``z_l - phi_l(z_{l-1}) == 0``: the shape of ``z_l``,
        batch first, equal to ``-d loss / d z_l``. :attr:`by_name` maps them by layer name.
    input_multiplier
        ``J_{phi_1}(z_0)^T lambda_1 = -d loss / d z_0``: the multiplier the input would have as
        a constraint ``z_0 - x == 0`` (the sensitivity of the loss to each input entry).
    parameter_gradients
        ``dL/dtheta = -J_phi(theta)^T lambda_l`` of every parameter that requires grad, keyed by
        its name in ``module.named_parameters()``; equal to autograd's parameter gradients.
    lagrangian
        ``loss + sum_l <lambda_l, z_l - phi_l(z_{l-1})>`` with ``phi_l`` re-evaluated at the
        recorded inputs; equal to :attr:`loss` since every constraint holds.
    """

    loss: float
    names: tuple[str, ...]
    inputs: tuple[torch.Tensor, ...]
    outputs: tuple[torch.Tensor, ...]
    multipliers: tuple[torch.Tensor, ...]
    input_multiplier: torch.Tensor
    parameter_gradients: Mapping[str, torch.Tensor]
    lagrangian: float
    _layers: tuple[nn.Module, ...] = field(repr=False, compare=False)
    _module: nn.Sequential = field(repr=False, compare=False)
    _loss_fn: LossFn = field(repr=False, compare=False)
    _targets: Any = field(repr=False, compare=False)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{n}: {tuple(m.shape)}" for n, m in zip(self.names, self.multipliers))
        return (
            f"LagrangianView(loss={self.loss:.6g}, lagrangian={self.lagrangian:.6g}, "
            f"multipliers={{{shapes}}}, parameters={len(self.parameter_gradients)})"
        )

    @property
    def by_name(self) -> Mapping[str, torch.Tensor]:
        """The multipliers keyed by layer name."""
        return MappingProxyType(dict(zip(self.names, self.multipliers)))

    def residuals(self) -> dict[str, float]:
        """The largest ``|z_l - phi_l(z_{l-1})|`` of each layer, ``phi_l`` re-evaluated at the
        recorded input (zero: the forward point is feasible)."""
        out = {}
        with torch.no_grad():
            for name, r in zip(self.names, _residuals(self._layers, self.inputs, self.outputs)):
                out[name] = float(r.abs().max()) if r.numel() else 0.0
        return out

    def autograd_reference(self) -> tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor]]:
        """``d loss / d z_l`` of every layer and ``d loss / d theta`` of every parameter, by one
        ordinary autograd call on a fresh forward pass (activations retained)."""
        params = {n: p for n, p in self._module.named_parameters() if n in self.parameter_gradients}
        acts: list[torch.Tensor] = []

        def keep(_: nn.Module, __: Any, out: torch.Tensor) -> torch.Tensor:
            acts.append(out)
            return out.clone()  # the next layer may work in place: on a copy, not on z_l

        handles = [layer.register_forward_hook(keep) for layer in self._layers]
        try:
            with torch.enable_grad():
                x = self.inputs[0].clone().requires_grad_(True)  # so every z_l has a graph
                loss = self._loss_fn(self._module(x.clone()), self._targets)
                grads = torch.autograd.grad(
                    loss, [*acts, *params.values()], allow_unused=True, materialize_grads=True
                )
        finally:
            for h in handles:
                h.remove()
        n = len(acts)
        return tuple(grads[:n]), dict(zip(params, grads[n:]))

    def autograd_differences(self) -> dict[str, float]:
        """The relative difference ``|lambda_l + g_l| / |g_l|`` of each layer, ``g_l`` being
        autograd's ``d loss / d z_l`` (:meth:`autograd_reference`)."""
        grads, _ = self.autograd_reference()
        return {n: _relative(m, -g) for n, m, g in zip(self.names, self.multipliers, grads)}

    def check_against_autograd(self) -> float:
        """The largest relative difference between a multiplier ``lambda_l`` and
        ``-torch.autograd.grad(loss, z_l)`` (per layer, as in :meth:`autograd_differences`)."""
        return max(self.autograd_differences().values(), default=0.0)

    def parameter_gradient_differences(self) -> dict[str, float]:
        """The relative difference of each multiplier-assembled parameter gradient from
        autograd's, ``|dL/dtheta - d loss/dtheta| / |d loss/dtheta|``."""
        _, grads = self.autograd_reference()
        return {n: _relative(self.parameter_gradients[n], g) for n, g in grads.items()}


def _residuals(
    layers: Iterable[nn.Module], inputs: Iterable[torch.Tensor], outputs: Iterable[torch.Tensor]
) -> Iterator[torch.Tensor]:
    """``z_l - phi_l(z_{l-1})`` of each layer, ``phi_l`` re-evaluated at the recorded input (on a
    copy: the layer may work in place); run it under ``torch.no_grad()``."""
    for layer, z_in, z_out in zip(layers, inputs, outputs):
        yield z_out - layer(z_in.clone())


def _layers(module: nn.Sequential, prefix: str = "") -> Iterator[tuple[str, nn.Module]]:
    """The leaf layers of a ``Sequential`` in call order, nested ``Sequential`` flattened."""
    where = f"Sequential {prefix!r}" if prefix else "the Sequential"
    if type(module).forward is not nn.Sequential.forward:
        raise NotSupportedError(
            f"{where} ({type(module).__name__}) overrides forward; lagrangian_view takes a "
            "plain chain z_l = phi_l(z_l-1) (torch.nn.Sequential's own forward)"
        )
    children = list(module.named_children())
    if len(children) != len(module):
        raise NotSupportedError(
            f"{where} holds the same layer object twice; lagrangian_view needs each layer "
            "once (shared layers are not supported)"
        )
    for name, child in children:
        full = f"{prefix}.{name}" if prefix else name
        if isinstance(child, nn.Sequential):
            yield from _layers(child, full)
        else:
            yield full, child


def _check_layer(name: str, layer: nn.Module) -> None:
    kind = type(layer).__name__
    if isinstance(layer, nn.modules.batchnorm._BatchNorm):
        if layer.training:
            raise ModelError(
                f"layer {name!r} ({kind}) is in train mode: it normalises with the statistics "
                "of the batch, so its output couples the samples (and the forward pass updates "
                "its running statistics); call module.eval() to use the running statistics"
            )
        if layer.running_mean is None or layer.running_var is None:
            raise ModelError(
                f"layer {name!r} ({kind}) has no running statistics "
                "(track_running_stats=False), so it normalises with the statistics of the batch "
                "even in eval mode; build it with track_running_stats=True"
            )
    if isinstance(layer, nn.modules.dropout._DropoutNd) and layer.training and layer.p > 0:
        raise ModelError(
            f"layer {name!r} ({kind}) is in train mode: its random mask is drawn anew on every "
            "call, so the recorded forward pass cannot be differentiated again; "
            "call module.eval()"
        )
    if not isinstance(layer, SUPPORTED_LAYERS):
        supported = ", ".join(t.__name__ for t in SUPPORTED_LAYERS)
        raise NotSupportedError(
            f"layer {name!r} is a {kind}; lagrangian_view takes these layer kinds: {supported} "
            "(and nested Sequential containers)"
        )


def lagrangian_view(
    module: nn.Module, loss: LossFn, inputs: torch.Tensor, targets: Any
) -> LagrangianView:
    """The layer multipliers of one batch, by the adjoint recursion of the layer constraints.

    Parameters
    ----------
    module
        A ``torch.nn.Sequential`` of supported layers (:data:`SUPPORTED_LAYERS`; nested
        ``Sequential`` containers are flattened), BatchNorm and dropout in eval mode. Its
        parameters' device and dtype are used (CPU or CUDA, float32 or float64).
    loss
        ``loss(output, targets) -> scalar tensor``, the batch loss (e.g.
        ``torch.nn.functional.cross_entropy``).
    inputs
        The batch input ``z_0`` (batch first), on the module's device and of its dtype.
    targets
        Passed to ``loss`` as given.

    Returns
    -------
    LagrangianView
        The forward values, the multipliers ``lambda_l = -d loss / d z_l``, the parameter
        gradients assembled from them, the loss and the value of the Lagrangian.

    Raises
    ------
    ModelError
        For a module that is not a ``Sequential``, a BatchNorm in train mode (or without running
        statistics), a dropout layer in train mode, inputs of another dtype or device than the
        parameters, or a loss that is not a scalar tensor depending on the output.
    NotSupportedError
        For a layer of another kind, or one layer object used twice.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    >>> x, y = torch.ones(4, 2), torch.tensor([0, 1, 1, 0])
    >>> view = lagrangian_view(net, torch.nn.functional.cross_entropy, x, y)
    >>> len(view.multipliers), tuple(view.multipliers[-1].shape)
    (3, (4, 2))
    >>> abs(view.lagrangian - view.loss) < 1e-6
    True
    """
    if not isinstance(module, nn.Sequential):
        raise ModelError(
            f"lagrangian_view takes a torch.nn.Sequential (a chain of layers z_l = phi_l(z_l-1)); "
            f"got a {type(module).__name__}"
        )
    if not isinstance(inputs, torch.Tensor):
        raise ModelError(f"inputs must be a torch.Tensor; got a {type(inputs).__name__}")
    layers = list(_layers(module))
    if not layers:
        raise ModelError("lagrangian_view: the Sequential has no layers")
    for name, layer in layers:
        _check_layer(name, layer)
    first = next(iter(module.parameters()), None)
    if first is not None and (inputs.dtype != first.dtype or inputs.device != first.device):
        raise ModelError(
            f"inputs are {inputs.dtype} on {inputs.device} but the module's parameters are "
            f"{first.dtype} on {first.device}; call inputs.to(device, dtype) (or module.to)"
        )

    # the forward pass: a pre-hook gives each layer a fresh leaf copy of its input, so the graph
    # is cut at every layer boundary (the layer may then work in place on its own copy); the
    # forward hook records the output
    leaves: list[torch.Tensor] = []
    outs: list[torch.Tensor] = []

    def pre_hook(layer: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
        expected = outs[-1] if outs else inputs
        if len(args) != 1 or args[0] is not expected:
            raise NotSupportedError(
                f"layer {layers[len(leaves)][0]!r} ({type(layer).__name__}) was not called on "
                "the previous layer's output (a hook changes it?); lagrangian_view takes a "
                "plain chain z_l = phi_l(z_l-1)"
            )
        leaf = args[0].detach().requires_grad_(True)
        leaves.append(leaf)
        return (leaf.clone(),)

    def hook(layer: nn.Module, _: tuple[Any, ...], out: Any) -> None:
        if not isinstance(out, torch.Tensor):
            raise NotSupportedError(
                f"layer {layers[len(outs)][0]!r} ({type(layer).__name__}) returned a "
                f"{type(out).__name__}; lagrangian_view takes layers that return one tensor"
            )
        outs.append(out)

    handles = []
    try:
        for _, layer in layers:
            handles.append(layer.register_forward_pre_hook(pre_hook))
            handles.append(layer.register_forward_hook(hook))
        with torch.enable_grad():
            module(inputs)
    finally:
        for h in handles:
            h.remove()
    if len(outs) != len(layers):  # pragma: no cover - Sequential calls each layer once
        raise ModelError(f"recorded {len(outs)} layer calls for {len(layers)} layers")

    # stationarity in z_L: lambda_L = -grad loss(z_L)
    z_last = outs[-1].detach().requires_grad_(True)
    with torch.enable_grad():
        value = loss(z_last, targets)
    if not isinstance(value, torch.Tensor) or value.ndim != 0:
        raise ModelError("loss(output, targets) must return a scalar tensor")
    if not value.requires_grad:
        raise ModelError("loss(output, targets) does not depend on the output")
    (g_last,) = torch.autograd.grad(value, z_last)
    lam = -g_last

    # the adjoint recursion, one layer at a time from the last: lambda_{l-1} = J_l^T lambda_l,
    # and the parameters' share dL/dtheta_l = -J_l(theta)^T lambda_l
    names = {id(p): n for n, p in module.named_parameters()}
    pgrads: dict[str, torch.Tensor] = {}
    multipliers: list[torch.Tensor] = [lam]
    for l in range(len(layers) - 1, -1, -1):
        layer, leaf, out = layers[l][1], leaves[l], outs[l]
        params = [p for p in layer.parameters() if p.requires_grad]
        if out.requires_grad:
            g_in, *g_par = torch.autograd.grad(
                out, [leaf, *params], grad_outputs=lam, allow_unused=True, materialize_grads=True
            )
        else:  # a layer whose output does not depend on its input nor on a trained parameter
            g_in, g_par = torch.zeros_like(leaf), []
        for p, g in zip(params, g_par):
            n = names[id(p)]
            pgrads[n] = pgrads[n] - g if n in pgrads else -g
        lam = g_in
        if l > 0:
            multipliers.append(lam)
    multipliers.reverse()

    inputs_rec = tuple(leaf.detach() for leaf in leaves)
    outputs_rec = tuple(o.detach() for o in outs)
    layer_objs = tuple(layer for _, layer in layers)
    with torch.no_grad():
        penalty = sum(
            (
                torch.sum(m * r)
                for m, r in zip(multipliers, _residuals(layer_objs, inputs_rec, outputs_rec))
            ),
            torch.zeros((), dtype=value.dtype, device=value.device),
        )
    ordered = {n: pgrads[n] for n in names.values() if n in pgrads}
    return LagrangianView(
        loss=float(value.detach()),
        names=tuple(n for n, _ in layers),
        inputs=inputs_rec,
        outputs=outputs_rec,
        multipliers=tuple(multipliers),
        input_multiplier=lam.detach(),
        parameter_gradients=MappingProxyType(ordered),
        lagrangian=float(value.detach() + penalty),
        _layers=layer_objs,
        _module=module,
        _loss_fn=loss,
        _targets=targets,
    )
