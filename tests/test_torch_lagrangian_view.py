"""``lagrangian_view``: the layer multipliers of a ``Sequential`` network, computed by the adjoint
recursion layer by layer, against torch autograd run here on its own (retained activations), a
hand formula for the MSE loss and the eval-mode BatchNorm Jacobian."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from torch import Tensor, nn  # noqa: E402

from ortools_lag.errors import ModelError, NotSupportedError  # noqa: E402
from ortools_lag.torch.lagrangian_view import lagrangian_view  # noqa: E402

F64 = torch.float64
TOL = 1e-10
CE = nn.functional.cross_entropy
MSE = nn.functional.mse_loss


def _leaves(net: nn.Sequential) -> list[nn.Module]:
    out: list[nn.Module] = []
    for child in net.children():
        out.extend(_leaves(child) if isinstance(child, nn.Sequential) else [child])
    return out


def _autograd(net, loss, x, y):
    """d loss / d z_l of each layer, d loss / d x and the parameter gradients, by one autograd
    call through the network run layer by layer here (each z_l kept)."""
    x = x.clone().requires_grad_(True)
    zs, h = [], x.clone()  # (a first in-place layer must not write into the leaf x)
    for layer in _leaves(net):
        h = layer(h)
        zs.append(h)
        h = h.clone()  # an in-place next layer must not overwrite z_l
    value = loss(h, y)
    params = dict(net.named_parameters())
    grads = torch.autograd.grad(value, [*zs, x, *params.values()])
    n = len(zs)
    return float(value.detach()), grads[:n], grads[n], dict(zip(params, grads[n + 1 :]))


def _rel(a, b) -> float:
    return float(torch.linalg.vector_norm(a - b) / torch.linalg.vector_norm(b))


def _check(net, loss, x, y, tol: float = TOL):
    """Every multiplier is -d loss/d z_l and every parameter gradient autograd's, to ``tol``
    (relative, per layer and per parameter); returns the view and the largest differences."""
    view = lagrangian_view(net, loss, x, y)
    value, gz, gx, gp = _autograd(net, loss, x, y)
    assert len(view.multipliers) == len(gz) == len(view.names) == len(view.outputs)
    lam_diff = [_rel(m, -g) for m, g in zip(view.multipliers, gz)]
    for name, m, g, d in zip(view.names, view.multipliers, gz, lam_diff):
        assert m.shape == g.shape and m.dtype == x.dtype and m.device == x.device, name
        assert d <= tol, (name, d)
    assert _rel(view.input_multiplier, -gx) <= tol
    assert list(view.parameter_gradients) == list(gp)
    par_diff = [_rel(view.parameter_gradients[k], g) for k, g in gp.items()]
    assert max(par_diff) <= tol, dict(zip(gp, par_diff))
    assert view.check_against_autograd() <= tol
    assert max(view.parameter_gradient_differences().values()) <= tol
    assert view.loss == pytest.approx(value, rel=1e-12)
    assert view.lagrangian == pytest.approx(view.loss, rel=1e-12)  # every constraint holds
    assert max(view.residuals().values()) <= 1e-12  # the forward point is feasible
    return view, max(lam_diff), max(par_diff)


def _mlp(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 3)
    ).to(F64)


def _cnn(seed: int = 1) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(6 * 2 * 2, 4),
    ).to(F64)


def test_mlp_multipliers_are_minus_the_gradients() -> None:
    net = _mlp()
    g = torch.Generator().manual_seed(3)
    x = torch.randn(32, 5, dtype=F64, generator=g)
    y = torch.randint(0, 3, (32,), generator=g)
    view, lam, par = _check(net, CE, x, y)
    assert view.names == ("0", "1", "2", "3", "4")
    assert [tuple(m.shape) for m in view.multipliers] == [(32, 16)] * 2 + [(32, 12)] * 2 + [(32, 3)]


def test_cnn_multipliers_are_minus_the_gradients() -> None:
    net = _cnn()
    g = torch.Generator().manual_seed(4)
    x = torch.randn(8, 1, 8, 8, dtype=F64, generator=g)  # random images
    y = torch.randint(0, 4, (8,), generator=g)
    view, _, _ = _check(net, CE, x, y)
    assert [tuple(m.shape) for m in view.multipliers[:4]] == [(8, 4, 8, 8)] * 2 + [
        (8, 4, 4, 4),
        (8, 6, 2, 2),
    ]
    # the ReLU's Jacobian is a mask: its input's multiplier vanishes where the input was < 0
    conv_out, relu_lam = view.outputs[0], view.multipliers[0]
    assert torch.all(relu_lam[conv_out < 0] == 0)


def _with_running_stats(bn: Any, g: Any) -> Any:
    c = bn.num_features
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(c, dtype=F64, generator=g))
        bn.running_var.copy_(0.2 + 3 * torch.rand(c, dtype=F64, generator=g))
        bn.weight.copy_(torch.randn(c, dtype=F64, generator=g))
        bn.bias.copy_(torch.randn(c, dtype=F64, generator=g))
    return bn


def test_batchnorm_in_eval_mode() -> None:
    torch.manual_seed(2)
    g = torch.Generator().manual_seed(5)
    net = nn.Sequential(
        nn.Sequential(
            nn.Conv2d(2, 3, 3, padding=1), _with_running_stats(nn.BatchNorm2d(3, dtype=F64), g)
        ),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(3 * 5 * 5, 7),
        _with_running_stats(nn.BatchNorm1d(7, dtype=F64), g),
        nn.Tanh(),
        nn.Linear(7, 2),
    ).to(F64)
    net.eval()
    stats = [b.clone() for b in net.buffers()]
    x = torch.randn(6, 2, 5, 5, dtype=F64, generator=g)
    y = torch.randn(6, 2, dtype=F64, generator=g)
    view, _, _ = _check(net, MSE, x, y)
    assert view.names[:2] == ("0.0", "0.1")  # nested Sequential: dotted names
    assert all(torch.equal(a, b) for a, b in zip(stats, net.buffers()))  # untouched
    # hand Jacobian of eval BatchNorm: lambda_in = lambda_out * gamma / sqrt(var + eps)
    bns: list[tuple[int, Any]] = [(1, net[0][1]), (5, net[4])]  # type: ignore[index]
    for i, bn in bns:
        scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
        shape = (1, -1) + (1,) * (view.multipliers[i].ndim - 2)
        hand = view.multipliers[i] * scale.reshape(shape)
        assert _rel(view.multipliers[i - 1], hand) <= TOL


def test_last_multiplier_of_mse_is_the_hand_formula() -> None:
    net = _mlp(7)
    g = torch.Generator().manual_seed(6)
    x = torch.randn(10, 5, dtype=F64, generator=g)
    y = torch.randn(10, 3, dtype=F64, generator=g)
    view = lagrangian_view(net, MSE, x, y)
    y_hat = net(x).detach()
    n = y_hat.numel()  # reduction="mean" averages over every entry
    hand = -2 * (y_hat - y) / n
    assert torch.allclose(view.multipliers[-1], hand, rtol=1e-13, atol=0)
    assert view.by_name["4"] is view.multipliers[-1]
    assert view.loss == pytest.approx(float(((y_hat - y) ** 2).mean()), rel=1e-13)
    s = lagrangian_view(net, lambda out, t: MSE(out, t, reduction="sum"), x, y)
    assert torch.allclose(s.multipliers[-1], -2 * (y_hat - y), rtol=1e-13, atol=0)


def test_other_layers_and_in_place_activations() -> None:
    torch.manual_seed(8)
    net = nn.Sequential(
        nn.Conv1d(3, 5, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.AvgPool1d(2),
        nn.LayerNorm([5, 6], dtype=F64),
        nn.GELU(),
        nn.Dropout(0.3),
        nn.Flatten(),
        nn.Linear(30, 8),
        nn.LeakyReLU(0.1, inplace=True),
        nn.Sigmoid(),
        nn.Linear(8, 3),
    ).to(F64)
    net.eval()  # dropout is the identity
    x = torch.randn(4, 3, 12, dtype=F64)
    y = torch.tensor([0, 2, 1, 1])
    view, _, _ = _check(net, CE, x, y)
    ref = net(x)  # the view left no hook behind and did not change the network or x
    assert torch.equal(view.outputs[-1], ref.detach())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules())


def test_in_place_first_layer_leaves_the_input_alone() -> None:
    net = nn.Sequential(nn.ReLU(inplace=True), nn.Linear(4, 2)).to(F64)
    x = torch.randn(6, 4, dtype=F64)
    x0 = x.clone()
    view, _, _ = _check(net, MSE, x, torch.zeros(6, 2, dtype=F64))
    assert torch.equal(x, x0) and torch.equal(view.inputs[0], x0)
    assert torch.all(view.input_multiplier[x0 < 0] == 0)  # the ReLU's mask


def test_float32_and_frozen_parameters() -> None:
    net = _mlp(9).float()
    net[0].weight.requires_grad_(False)
    x = torch.randn(16, 5)
    y = torch.randint(0, 3, (16,))
    view = lagrangian_view(net, CE, x, y)
    assert view.check_against_autograd() <= 1e-6
    assert max(view.parameter_gradient_differences().values()) <= 1e-6
    assert view.multipliers[0].dtype == torch.float32
    assert "0.weight" not in view.parameter_gradients and "0.bias" in view.parameter_gradients


def test_view_is_frozen_and_has_a_short_repr() -> None:
    net = _mlp()
    view = lagrangian_view(net, CE, torch.randn(3, 5, dtype=F64), torch.tensor([0, 1, 2]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.loss = 0.0  # type: ignore[misc]
    assert repr(view).startswith("LagrangianView(loss=") and len(repr(view)) < 300
    assert "4: (3, 3)" in repr(view)


def test_refuses_batchnorm_in_train_mode() -> None:
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    x, y = torch.randn(5, 3), torch.randn(5, 1)
    with pytest.raises(ModelError, match=r"layer '1' \(BatchNorm1d\) is in train mode") as err:
        lagrangian_view(net, MSE, x, y)
    assert "couples the samples" in str(err.value) and ".eval()" in str(err.value)
    no_stats = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, track_running_stats=False))
    with pytest.raises(ModelError, match="no running statistics"):
        lagrangian_view(no_stats.eval(), MSE, x, torch.randn(5, 4))


def test_refuses_dropout_in_train_mode() -> None:
    net = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    with pytest.raises(ModelError, match=r"layer '1' \(Dropout\) is in train mode.*\.eval\(\)"):
        lagrangian_view(net, MSE, torch.randn(5, 3), torch.randn(5, 1))


class _Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.fc(x)


class _ShortCut(nn.Sequential):
    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x) + x


def test_refuses_what_is_not_a_plain_sequential() -> None:
    x, y = torch.randn(5, 3), torch.randn(5, 3)
    with pytest.raises(ModelError, match=r"takes a torch\.nn\.Sequential.*got a _Residual"):
        lagrangian_view(_Residual(), MSE, x, y)
    with pytest.raises(ModelError, match="got a ModuleList"):
        lagrangian_view(nn.ModuleList([nn.Linear(3, 3)]), MSE, x, y)  # type: ignore[arg-type]
    with pytest.raises(NotSupportedError, match=r"layer '1' is a _Residual; .* takes .*Conv2d"):
        lagrangian_view(nn.Sequential(nn.Linear(3, 3), _Residual()), MSE, x, y)
    with pytest.raises(NotSupportedError, match="overrides forward"):
        lagrangian_view(_ShortCut(nn.Linear(3, 3)), MSE, x, y)
    fc = nn.Linear(3, 3)
    with pytest.raises(NotSupportedError, match="same layer object twice"):
        lagrangian_view(nn.Sequential(fc, nn.Tanh(), fc), MSE, x, y)


def test_refuses_bad_inputs_and_losses() -> None:
    net = nn.Sequential(nn.Linear(3, 2))
    x, y = torch.randn(4, 3), torch.randn(4, 2)
    with pytest.raises(ModelError, match=r"torch\.float64 on cpu but the module's parameters"):
        lagrangian_view(net, MSE, x.double(), y)
    with pytest.raises(ModelError, match="scalar tensor"):
        lagrangian_view(net, lambda out, t: (out - t) ** 2, x, y)
    with pytest.raises(ModelError, match="does not depend on the output"):
        lagrangian_view(net, lambda out, t: t.sum(), x, y)


@pytest.mark.gpu
def test_mlp_on_cuda() -> None:
    net = _mlp().cuda()
    g = torch.Generator().manual_seed(3)
    x = torch.randn(32, 5, dtype=F64, generator=g).cuda()
    y = torch.randint(0, 3, (32,), generator=g).cuda()
    view, _, _ = _check(net, CE, x, y)
    assert view.multipliers[0].is_cuda and view.parameter_gradients["0.weight"].is_cuda
