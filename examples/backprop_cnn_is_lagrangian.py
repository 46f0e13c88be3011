"""Backprop through a convolutional network is the Lagrangian of its layer constraints.

Each layer of a ``torch.nn.Sequential`` is an equality constraint ``z_l - phi_l(z_{l-1}) == 0``
on its output. The Lagrangian of the batch loss is
``L = loss(z_L) + sum_l <lambda_l, z_l - phi_l(z_{l-1})>``; stationarity in ``z_L`` gives
``lambda_L = -grad loss(z_L)`` and in ``z_l`` the adjoint recursion
``lambda_l = J_{phi_{l+1}}(z_l)^T lambda_{l+1}``: each multiplier is minus the sensitivity of
the loss to that layer's output, ``lambda_l = -d loss / d z_l``, with the shape of the output
(batch first, then channels and pixels for a convolution). The weight gradient of a layer is
assembled from its own multiplier, ``dL/dW_l = -J_{phi_l}(W_l)^T lambda_l``.

A small CNN (conv, BatchNorm in eval mode, ReLU, max-pool, conv, ReLU, max-pool, flatten,
linear) is trained a few steps on synthetic 12x12 images of bars (horizontal, vertical,
diagonal). ``ortools_lag.torch.lagrangian_view`` then walks the recursion one layer at a time
and the multipliers are checked against

* torch autograd's ``-d loss / d z_l`` (one ordinary backward pass, activations retained);
* the hand formula of cross-entropy, ``lambda_L = -(softmax(z_L) - onehot(y)) / N``;
* the weight gradients assembled by hand from the multipliers: for the linear layer
  ``-lambda_L^T z_{L-1}``, for the first convolution the correlation of ``-lambda`` with the
  input patches (``unfold``), against autograd's weight gradients.

Run: ``python examples/backprop_cnn_is_lagrangian.py`` (writes
``backprop_cnn_is_lagrangian.png``).
"""

from __future__ import annotations

from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from ortools_lag.torch.lagrangian_view import LagrangianView, lagrangian_view

SIZE = 12
CLASSES = ("horizontal", "vertical", "diagonal")
F64 = torch.float64


def bar_images(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` noisy 12x12 images of one bar each (class 0, 1, 2 by turns), batch first."""
    g = torch.Generator().manual_seed(seed)
    x = 0.3 * torch.randn(n, 1, SIZE, SIZE, dtype=F64, generator=g)
    y = torch.arange(n) % len(CLASSES)
    idx = torch.arange(SIZE)
    for i in range(n):
        k = int(torch.randint(2, SIZE - 2, (1,), generator=g))
        if y[i] == 0:
            x[i, 0, k - 1 : k + 1, :] += 1.0
        elif y[i] == 1:
            x[i, 0, :, k - 1 : k + 1] += 1.0
        else:
            x[i, 0, idx, (idx + k) % SIZE] += 1.0
    return x, y


def cnn() -> nn.Sequential:
    torch.manual_seed(0)
    layers = OrderedDict(
        conv1=nn.Conv2d(1, 4, 3, padding=1),
        bn1=nn.BatchNorm2d(4),
        relu1=nn.ReLU(),
        pool1=nn.MaxPool2d(2),
        conv2=nn.Conv2d(4, 8, 3, padding=1),
        relu2=nn.ReLU(),
        pool2=nn.MaxPool2d(2),
        flatten=nn.Flatten(),
        fc=nn.Linear(8 * 3 * 3, len(CLASSES)),
    )
    return nn.Sequential(layers).to(F64)


def train(net: nn.Sequential, x: torch.Tensor, y: torch.Tensor, steps: int = 12) -> float:
    """A few Adam steps (BatchNorm in train mode gathers its running statistics)."""
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    net.train()
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        return float((net(x).argmax(1) == y).double().mean())


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(a - b) / torch.linalg.vector_norm(b))


def hand_checks(view: LagrangianView, net: nn.Sequential, x: torch.Tensor, y: torch.Tensor):
    """The last multiplier by the cross-entropy formula, and two weight gradients assembled from
    the multipliers by hand, against autograd's weight gradients."""
    n = x.shape[0]
    z_last = view.outputs[-1]
    hand_last = -(torch.softmax(z_last, 1) - nn.functional.one_hot(y, len(CLASSES))) / n
    ce_diff = rel(view.multipliers[-1], hand_last)

    net.zero_grad()
    nn.functional.cross_entropy(net(x), y).backward()
    conv1, fc = net.conv1, net.fc
    i_fc, i_conv = view.names.index("fc"), view.names.index("conv1")
    # dL/dW_fc = -lambda_fc^T z_flatten, dL/db_fc = -sum_n lambda_fc
    fc_w = -view.multipliers[i_fc].T @ view.inputs[i_fc]
    fc_b = -view.multipliers[i_fc].sum(0)
    # dL/dW_conv1[o, c, i, j] = -sum_{n, p, q} lambda[n, o, p, q] x_pad[n, c, p + i, q + j]
    patches = nn.functional.unfold(view.inputs[i_conv], 3, padding=1)  # (N, C*3*3, pixels)
    lam = view.multipliers[i_conv].flatten(2)  # (N, O, pixels)
    conv_w = -torch.einsum("nop,nkp->ok", lam, patches).reshape(conv1.weight.shape)
    conv_b = -lam.sum((0, 2))
    assert fc.weight.grad is not None and fc.bias.grad is not None
    assert conv1.weight.grad is not None and conv1.bias.grad is not None
    fc_diff = max(rel(fc_w, fc.weight.grad), rel(fc_b, fc.bias.grad))
    conv_diff = max(rel(conv_w, conv1.weight.grad), rel(conv_b, conv1.bias.grad))
    return ce_diff, fc_diff, conv_diff


def run() -> tuple[LagrangianView, list[torch.Tensor], torch.Tensor, torch.Tensor]:
    x, y = bar_images(24, seed=7)
    net = cnn()
    acc = train(net, x, y)
    view = lagrangian_view(net, nn.functional.cross_entropy, x, y)
    per_layer = view.autograd_differences()
    grads, _ = view.autograd_reference()
    params = view.parameter_gradient_differences()
    ce_diff, fc_diff, conv_diff = hand_checks(view, net, x, y)

    print("A CNN on 24 synthetic 12x12 images of bars, 12 Adam steps, then BatchNorm in eval mode")
    print(f"   loss = {view.loss:.6f}   accuracy = {acc:.3f}")
    print(f"   layers = {len(view.names)}")
    print(f"   {'layer':<9}{'kind':<13}{'multiplier shape':<20}{'|λ_l|':>11}{'rel diff':>11}")
    for name, m in zip(view.names, view.multipliers):
        kind = type(getattr(net, name)).__name__
        shape = str(tuple(m.shape))
        norm = float(torch.linalg.vector_norm(m))
        print(f"   {name:<9}{kind:<13}{shape:<20}{norm:>11.3e}{per_layer[name]:>11.1e}")
    print(f"   lagrangian_minus_loss = {view.lagrangian - view.loss:.3e}")
    print(f"   max_constraint_residual = {max(view.residuals().values()):.3e}")
    print(f"   cnn_max_rel_diff_vs_autograd = {view.check_against_autograd():.3e}")
    print(f"   cnn_param_grad_rel_diff = {max(params.values()):.3e}")
    print(f"   cross_entropy_hand_formula_rel_diff = {ce_diff:.3e}")
    print(f"   fc_weight_grad_from_multipliers_rel_diff = {fc_diff:.3e}")
    print(f"   conv1_weight_grad_from_multipliers_rel_diff = {conv_diff:.3e}")
    return view, list(grads), x, y


def draw_maps(fig, spec, view: LagrangianView, x: torch.Tensor, y: torch.Tensor, k: int) -> None:
    """The input image ``k``, its input multiplier and the four multiplier maps of conv1 (in
    units of 1e-3; the conv1 maps share one colour scale)."""
    i = view.names.index("conv1")
    lam = 1e3 * view.multipliers[i][k].numpy()
    lam_x = 1e3 * view.input_multiplier[k, 0].numpy()
    v_conv = float(np.abs(lam).max())
    panels = [
        (x[k, 0].numpy(), f"input x (image {k}: {CLASSES[int(y[k])]} bar)", None),
        (lam_x, "input λ_0 = −∂loss/∂x", float(np.abs(lam_x).max())),
    ] + [(lam[c], f"λ of conv1, channel {c}", v_conv) for c in range(lam.shape[0])]
    for j, (img, title, v) in enumerate(panels):
        ax = fig.add_subplot(spec[0, j])
        if v is None:
            im = ax.imshow(img, cmap="gray")
        else:
            im = ax.imshow(img, cmap="RdBu_r", vmin=-v, vmax=v)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("pixel column", fontsize=8)
        if j == 0:
            ax.set_ylabel("pixel row", fontsize=8)
        ax.tick_params(labelsize=7)
        cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        cb.ax.tick_params(labelsize=7)
        if v is not None:
            cb.set_label("λ  (×10⁻³)", fontsize=8)


def draw_norms(ax, view: LagrangianView, grads: list[torch.Tensor]) -> None:
    pos = np.arange(len(view.names))
    norms = [float(torch.linalg.vector_norm(m)) for m in view.multipliers]
    auto = [float(torch.linalg.vector_norm(g)) for g in grads]
    ax.bar(pos, norms, color="tab:blue", label="‖λ_l‖  (adjoint recursion, layer by layer)")
    ax.plot(
        pos, auto, "o", color="tab:red", ms=9, mfc="none", mew=2, label="‖∂loss/∂z_l‖  (autograd)"
    )
    ax.set_xticks(pos, view.names)
    ax.set_xlabel("layer l  (its output z_l carries the constraint z_l − φ_l(z_l−1) = 0)")
    ax.set_ylabel("norm over the batch of 24")
    ax.set_ylim(0, 1.3 * max(norms))
    ax.set_title("The multiplier of each layer constraint is −∂loss/∂z_l")
    ax.legend(fontsize="small", loc="upper right")


def draw_scatter(ax, view: LagrangianView, grads: list[torch.Tensor]) -> None:
    for name, m, g in zip(view.names, view.multipliers, grads):
        ax.scatter(-g.ravel().numpy(), m.ravel().numpy(), s=6, label=f"{name} ({m.numel()})")
    lo = min(float((-g).min()) for g in grads)
    hi = max(float((-g).max()) for g in grads)
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="λ = −gradient")
    ax.set_xlabel("−∂loss/∂z_l  (torch autograd)")
    ax.set_ylabel("multiplier λ_l  (lagrangian_view)")
    ax.set_title("Every entry of every multiplier")
    ax.legend(fontsize="x-small", ncol=2, markerscale=2, loc="upper left")


def main() -> None:
    view, grads, x, y = run()
    fig = plt.figure(figsize=(15, 8.5))
    outer = fig.add_gridspec(2, 1, height_ratios=[0.5, 1], hspace=0.3)
    draw_maps(fig, outer[0].subgridspec(1, 6, wspace=0.6), view, x, y, k=1)
    bottom = outer[1].subgridspec(1, 2, width_ratios=[1.6, 1], wspace=0.25)
    draw_norms(fig.add_subplot(bottom[0]), view, grads)
    draw_scatter(fig.add_subplot(bottom[1]), view, grads)
    fig.suptitle(
        "A CNN's backprop as the Lagrangian of its layer constraints (batch of 24)\n"
        "top: the multipliers of one image; the max-pool sends λ only to the winning pixel of "
        "each 2×2 window, and the ReLU masks it where its input was negative",
        fontsize=11,
    )
    fig.savefig("backprop_cnn_is_lagrangian.png", dpi=100, bbox_inches="tight")
    print("\nsaved backprop_cnn_is_lagrangian.png")


if __name__ == "__main__":
    main()
