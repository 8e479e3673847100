"""Gradient penalty (one uniform alpha per sample, norm over all non-batch dimensions)
and weight clipping, checked against explicit computations."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ganforge.losses import clip_weights_, gradient_penalty, r1_penalty


class Recorder:
    """A critic ``C(x) = 1/2 sum(x^2)`` per sample (gradient = x) that remembers its input."""

    def __init__(self) -> None:
        self.inputs: list[torch.Tensor] = []

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.inputs.append(x.detach().clone())
        return 0.5 * x.pow(2).flatten(1).sum(1)


def _alphas(x_hat: torch.Tensor, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Solve x_hat = a * real + (1 - a) * fake elementwise: a = (x_hat - fake) / (real - fake)."""
    return (x_hat - fake) / (real - fake)


def test_one_uniform_alpha_per_sample_shared_by_all_its_elements() -> None:
    torch.manual_seed(0)
    b = 4000
    real = torch.rand(b, 3, 2, 2, dtype=torch.float64) + 1.0  # real - fake >= 0.5 everywhere
    fake = -torch.rand(b, 3, 2, 2, dtype=torch.float64) - 0.5
    critic = Recorder()
    gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(1))
    (x_hat,) = critic.inputs
    a = _alphas(x_hat, real, fake).flatten(1)  # (B, 12)
    per_sample = a[:, :1]
    assert torch.allclose(a, per_sample.expand_as(a), atol=1e-12), "one alpha per sample"
    alpha = per_sample[:, 0]
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0, "alpha ~ U(0, 1), not a normal"
    assert alpha.unique().numel() == b, "a fresh alpha for every sample, not one per batch"
    assert alpha.mean().item() == pytest.approx(0.5, abs=0.02)
    assert alpha.var().item() == pytest.approx(1 / 12, rel=0.08)
    assert alpha.min() < 0.01 and alpha.max() > 0.99


def test_penalty_matches_an_explicit_per_sample_autograd_computation() -> None:
    """A nonlinear critic whose gradient depends on where each x_hat lies, 4-D inputs."""
    torch.manual_seed(0)
    b, shape = 6, (2, 3, 3)
    w = torch.randn(shape, dtype=torch.float64)

    def critic(x: torch.Tensor) -> torch.Tensor:  # (B, 2, 3, 3) -> (B,)
        return (torch.tanh(x) * w).flatten(1).sum(1) + 0.3 * x.pow(3).flatten(1).sum(1)

    real = torch.randn(b, *shape, dtype=torch.float64)
    fake = torch.randn(b, *shape, dtype=torch.float64)
    recorder: list[torch.Tensor] = []

    def recording_critic(x: torch.Tensor) -> torch.Tensor:
        recorder.append(x.detach().clone())
        return critic(x)

    got = gradient_penalty(recording_critic, real, fake, generator=torch.Generator().manual_seed(5))
    alpha = _alphas(recorder[0], real, fake).flatten(1)[:, 0]

    terms = []
    for i in range(b):  # one sample at a time, no batching tricks
        x_i = (alpha[i] * real[i] + (1 - alpha[i]) * fake[i]).unsqueeze(0).requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x_i).sum(), x_i)
        norm = math.sqrt(sum(v * v for v in g.flatten().tolist()))  # over C, H and W
        terms.append((norm - 1.0) ** 2)
    assert got.item() == pytest.approx(sum(terms) / b, rel=1e-9)


def test_norm_is_taken_over_all_non_batch_dimensions() -> None:
    # C(x) = sum(x * W) has gradient W for every sample; W = ones(2, 2, 2) has
    # Frobenius norm sqrt(8), so the penalty is (sqrt 8 - 1)^2 exactly. A norm over one
    # axis only would give sqrt(2) per row instead.
    def critic(x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1).sum(1)

    real, fake = torch.randn(5, 2, 2, 2), torch.randn(5, 2, 2, 2)
    got = gradient_penalty(critic, real, fake)
    assert got.item() == pytest.approx((math.sqrt(8.0) - 1.0) ** 2, rel=1e-6)


def test_penalty_is_zero_for_a_unit_gradient_critic() -> None:
    def critic(x: torch.Tensor) -> torch.Tensor:  # gradient (0.6, 0.8), norm 1
        return 0.6 * x[:, 0] + 0.8 * x[:, 1]

    got = gradient_penalty(critic, torch.randn(7, 2), torch.randn(7, 2))
    assert got.item() == pytest.approx(0.0, abs=1e-10)


def test_penalty_gradient_reaches_the_critic_weights() -> None:
    # Linear critic w . x: penalty (|w| - 1)^2, d/dw = 2 (|w| - 1) w / |w|.
    # With w = (3, 4): penalty 16, gradient 2 * 4 * (0.6, 0.8) = (4.8, 6.4).
    lin = nn.Linear(2, 1, bias=False).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 4.0]]))
    real, fake = torch.randn(9, 2, dtype=torch.float64), torch.randn(9, 2, dtype=torch.float64)
    gp = gradient_penalty(lambda x: lin(x).squeeze(1), real, fake)
    assert gp.item() == pytest.approx(16.0, rel=1e-9)
    gp.backward()
    assert lin.weight.grad[0].tolist() == pytest.approx([4.8, 6.4], rel=1e-9)


def test_zero_gradient_does_not_produce_nan() -> None:
    """The norm's derivative is undefined at 0; the penalty must stay finite anyway."""
    lin = nn.Linear(3, 1, bias=False)
    nn.init.zeros_(lin.weight)
    gp = gradient_penalty(lambda x: lin(x).squeeze(1), torch.randn(4, 3), torch.randn(4, 3))
    assert gp.item() == pytest.approx(1.0, abs=1e-5)
    gp.backward()
    assert torch.isfinite(lin.weight.grad).all()


def test_penalty_does_not_backpropagate_into_the_samples() -> None:
    real = torch.randn(4, 2, requires_grad=True)
    fake = torch.randn(4, 2, requires_grad=True)
    gradient_penalty(lambda x: (x**2).sum(1), real, fake).backward()
    assert real.grad is None and fake.grad is None


def test_penalty_is_reproducible_from_its_generator() -> None:
    real, fake = torch.randn(8, 3), torch.randn(8, 3)

    def critic(x: torch.Tensor) -> torch.Tensor:
        return (x**2).sum(1)

    a = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(2))
    b = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(2))
    c = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(3))
    assert a.item() == b.item() and a.item() != c.item()


def test_penalty_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        gradient_penalty(lambda x: x.sum(1), torch.zeros(4, 2), torch.zeros(4, 3))


# -- weight clipping ------------------------------------------------------------------------


def test_clip_weights_clamps_every_parameter_in_place() -> None:
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.linspace(-1, 1, 12).reshape(4, 3))
        net[0].bias.fill_(0.005)
        net[2].weight.fill_(-3.0)
        net[2].bias.fill_(-0.004)
    before = net[0].weight.clone()
    weight_id = id(net[0].weight)
    clip_weights_(net, 0.01)
    assert id(net[0].weight) == weight_id
    assert torch.equal(net[0].weight, before.clamp(-0.01, 0.01))
    assert torch.equal(net[0].bias, torch.full((4,), 0.005))  # inside: untouched
    assert torch.equal(net[2].weight, torch.full((1, 4), -0.01))
    assert torch.equal(net[2].bias, torch.full((1,), -0.004))


@pytest.mark.parametrize("bad", [0.0, -0.01])
def test_clip_weights_rejects_non_positive_values(bad: float) -> None:
    with pytest.raises(ValueError, match="clip_value"):
        clip_weights_(nn.Linear(2, 2), bad)


# -- R1 ---------------------------------------------------------------------------------------


def test_r1_matches_the_hand_computed_squared_gradient_norm() -> None:
    """D(x) = sum(w * tanh(x)) + 0.3 sum(x^3): dD/dx = w (1 - tanh^2 x) + 0.9 x^2."""
    torch.manual_seed(0)
    b, shape = 5, (2, 3, 3)
    w = torch.randn(shape, dtype=torch.float64)
    x = torch.randn(b, *shape, dtype=torch.float64).requires_grad_(True)
    d = (torch.tanh(x) * w).flatten(1).sum(1) + 0.3 * x.pow(3).flatten(1).sum(1)
    grad = w * (1 - torch.tanh(x.detach()) ** 2) + 0.9 * x.detach() ** 2
    expected = grad.flatten(1).pow(2).sum(1).mean()
    assert r1_penalty(x, d).item() == pytest.approx(expected.item(), rel=1e-12)


def test_r1_trains_the_discriminator_weights() -> None:
    """For a linear D(x) = w·x the term is |w|^2, whose gradient is 2w: the penalty keeps
    its graph, so D's weights receive it."""
    w = torch.tensor([3.0, -4.0], dtype=torch.float64, requires_grad=True)
    x = torch.randn(7, 2, dtype=torch.float64).requires_grad_(True)
    value = r1_penalty(x, x @ w)
    assert value.item() == pytest.approx(25.0)
    (dw,) = torch.autograd.grad(value, w)
    assert torch.allclose(dw, 2 * w.detach())
