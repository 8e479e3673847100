"""GAN losses as pure functions of discriminator outputs (logits, never probabilities).

Each loss is a :class:`Loss`: a ``d_loss(real, fake, real_target, fake_target)`` that the
discriminator (or critic) *minimises*, a ``g_loss(fake)`` that the generator *minimises*,
and the defaults that belong with it (optimizer, learning rate, critic steps, weight
clipping, gradient penalty). The trainer reads those attributes; it never switches on a
loss name. Regularisers (:func:`gradient_penalty`, :func:`clip_weights_`) are separate,
named terms with their own weights.

Shapes: ``real`` and ``fake`` are discriminator outputs of shape ``(B,)`` or ``(B, 1)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F

from ganforge.registry import Registry

Target = float | torch.Tensor


def _bce(logits: torch.Tensor, target: Target) -> torch.Tensor:
    target_t = torch.as_tensor(target, dtype=logits.dtype, device=logits.device)
    return F.binary_cross_entropy_with_logits(logits, target_t.expand_as(logits))


def bce_d_loss(
    real: torch.Tensor, fake: torch.Tensor, real_target: Target = 1.0, fake_target: Target = 0.0
) -> torch.Tensor:
    """Discriminator BCE: ``-mean log σ(real) - mean log(1 - σ(fake))`` for targets 1/0.

    Used by both ``minimax`` and ``nonsaturating``; targets may be smoothed or noisy.
    """
    return _bce(real, real_target) + _bce(fake, fake_target)


def minimax_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """Original minimax generator loss: minimise ``mean log(1 - σ(fake))`` = ``-softplus(fake)``.

    Saturates (vanishing gradient) when D confidently rejects the fakes.
    """
    return -F.softplus(fake).mean()


def nonsaturating_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: minimise ``-mean log σ(fake)`` = ``softplus(-fake)``."""
    return F.softplus(-fake).mean()


def wasserstein_d_loss(
    real: torch.Tensor, fake: torch.Tensor, real_target: Target = 1.0, fake_target: Target = 0.0
) -> torch.Tensor:
    """Critic loss: minimise ``mean C(fake) - mean C(real)`` (i.e. maximise the W1 estimate).

    Targets are ignored; the argument list matches the other losses.
    """
    return fake.mean() - real.mean()


def critic_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """Generator loss for critics (Wasserstein, hinge): minimise ``-mean C(fake)``."""
    return -fake.mean()


def hinge_d_loss(
    real: torch.Tensor, fake: torch.Tensor, real_target: Target = 1.0, fake_target: Target = 0.0
) -> torch.Tensor:
    """Hinge loss: minimise ``mean relu(1 - real) + mean relu(1 + fake)``."""
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def least_squares_d_loss(
    real: torch.Tensor, fake: torch.Tensor, real_target: Target = 1.0, fake_target: Target = 0.0
) -> torch.Tensor:
    """LSGAN (a=0, b=c=1): minimise ``½ mean (real - 1)² + ½ mean fake²`` (targets b, a)."""
    rt = torch.as_tensor(real_target, dtype=real.dtype, device=real.device)
    ft = torch.as_tensor(fake_target, dtype=fake.dtype, device=fake.device)
    return 0.5 * ((real - rt) ** 2).mean() + 0.5 * ((fake - ft) ** 2).mean()


def least_squares_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """LSGAN generator: minimise ``½ mean (fake - 1)²``."""
    return 0.5 * ((fake - 1.0) ** 2).mean()


@dataclass(frozen=True)
class Loss:
    """A GAN objective and the defaults that come with it.

    Attributes:
        d_loss: ``(real, fake, real_target, fake_target) -> scalar`` minimised by D.
        g_loss: ``(fake) -> scalar`` minimised by G.
        output: how to read D's raw output for logging: ``"sigmoid"`` (a probability of
            "real") or ``"raw"`` (a score).
        equilibrium: D's mean output (after ``output``) when it cannot tell real from
            fake, used by the classic best-model rule; ``None`` when there is none.
        uses_targets: whether label smoothing / label noise apply.
        n_critic, optimizer, lr, betas: defaults used when the config leaves them unset.
        clip_value: weight clipping to ±c after every D step (``None`` = off).
        gp_weight: gradient-penalty weight λ (0 = off).
    """

    name: str
    d_loss: Callable[..., torch.Tensor]
    g_loss: Callable[[torch.Tensor], torch.Tensor]
    output: Literal["sigmoid", "raw"] = "sigmoid"
    equilibrium: float | None = 0.5
    uses_targets: bool = True
    n_critic: int = 1
    optimizer: Literal["adam", "rmsprop"] = "adam"
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    clip_value: float | None = None
    gp_weight: float = 0.0
    summary: str = ""

    def d_output(self, logits: torch.Tensor) -> torch.Tensor:
        """D's output as logged: probabilities for classifier losses, raw scores otherwise."""
        return torch.sigmoid(logits) if self.output == "sigmoid" else logits


LOSSES: Registry[Loss] = Registry("loss", Loss)


def register_loss(loss: Loss) -> Loss:
    """Register a :class:`Loss` under ``loss.name`` (duplicates are rejected)."""
    return LOSSES.register(loss.name, loss)


def get_loss(name: str) -> Loss:
    return LOSSES.get(name)


def list_losses() -> list[str]:
    return LOSSES.names()


register_loss(
    Loss(
        "minimax",
        bce_d_loss,
        minimax_g_loss,
        summary="original GAN game; G minimises log(1 - D(G(z))) (saturates early on)",
    )
)
register_loss(
    Loss(
        "nonsaturating",
        bce_d_loss,
        nonsaturating_g_loss,
        summary="default; BCE with G minimising -log D(G(z)) for strong early gradients",
    )
)
#: What the two Wasserstein critics share: raw scores, no equilibrium, no label tricks.
CRITIC: dict[str, Any] = {
    "output": "raw",
    "equilibrium": None,
    "uses_targets": False,
    "n_critic": 5,
}
register_loss(
    Loss(
        "wasserstein",
        wasserstein_d_loss,
        critic_g_loss,
        **CRITIC,
        optimizer="rmsprop",
        lr=5e-5,
        clip_value=0.01,
        summary="WGAN: critic estimates W1, weights clipped to ±0.01, RMSprop 5e-5, 5 critic steps",
    )
)
register_loss(
    Loss(
        "wgan-gp",
        wasserstein_d_loss,
        critic_g_loss,
        **CRITIC,
        optimizer="adam",
        lr=1e-4,
        betas=(0.0, 0.9),
        gp_weight=10.0,
        summary="WGAN with gradient penalty λ=10 instead of clipping; Adam(1e-4, β=(0, 0.9))",
    )
)
register_loss(
    Loss(
        "hinge",
        hinge_d_loss,
        critic_g_loss,
        output="raw",
        equilibrium=None,
        uses_targets=False,
        summary="hinge loss (SNGAN/BigGAN); margin-based D, G maximises the raw score",
    )
)
register_loss(
    Loss(
        "least-squares",
        least_squares_d_loss,
        least_squares_g_loss,
        output="raw",
        equilibrium=0.5,
        summary="LSGAN; squared error to targets 1/0, smoother gradients than BCE",
    )
)


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """WGAN-GP term ``mean_i (‖∇ₓ C(x̂_i)‖₂ - 1)²`` at ``x̂ = α·real + (1-α)·fake``.

    One ``α ~ U(0, 1)`` per sample; the norm is taken over all non-batch dimensions.
    ``real`` and ``fake`` have the same shape ``(B, ...)``. Returns the unweighted term.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake shapes differ: {tuple(real.shape)} vs {tuple(fake.shape)}")
    batch = real.shape[0]
    alpha_shape = (batch,) + (1,) * (real.dim() - 1)
    alpha = torch.rand(alpha_shape, generator=generator, device=real.device, dtype=real.dtype)
    x_hat = (alpha * real.detach() + (1.0 - alpha) * fake.detach()).requires_grad_(True)
    out = critic(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    # sqrt(x + eps): the gradient of a norm is undefined at exactly zero.
    norm = torch.sqrt(grad.reshape(batch, -1).pow(2).sum(dim=1) + 1e-12)
    return ((norm - 1.0) ** 2).mean()


def r1_penalty(real: torch.Tensor, d_real: torch.Tensor) -> torch.Tensor:
    """R1 term ``mean_i ‖∇ₓ D(x_i)‖²`` at the real samples (Mescheder et al., 2018).

    ``real`` must have been given ``requires_grad`` before the forward that produced
    ``d_real``; the gradient keeps its graph, so the term trains D. The loss adds
    ``γ/2`` times it. The squared norm is taken over all non-batch dimensions.
    """
    (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
    return grad.reshape(real.shape[0], -1).pow(2).sum(dim=1).mean()


@torch.no_grad()
def clip_weights_(module: torch.nn.Module | Sequence[torch.Tensor], clip_value: float) -> None:
    """Clamp every parameter of ``module`` (or every tensor of a list of parameters) to
    ``[-clip_value, clip_value]`` in place."""
    if clip_value <= 0:
        raise ValueError(f"clip_value must be positive, got {clip_value}")
    params = list(module.parameters() if isinstance(module, torch.nn.Module) else module)
    if params:
        torch._foreach_clamp_min_(params, -clip_value)
        torch._foreach_clamp_max_(params, clip_value)


def label_targets(
    batch: int,
    smoothing: float,
    noise: float,
    generator: torch.Generator | None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> tuple[Target, Target]:
    """Real/fake targets for classifier losses.

    ``smoothing`` s (one-sided): real target ``1 - s``, fake stays 0. ``noise`` a: targets
    drawn per sample from ``U(1 - a, 1 + a)`` for real and ``U(-a, a)`` for fake (the
    classic "1 ± 0.1 / 0 ± 0.1" trick). Both may combine. Returns floats when no noise.
    """
    real_t: Target = 1.0 - smoothing
    fake_t: Target = 0.0
    if noise > 0:
        u = torch.rand((2, batch), generator=generator, device=device, dtype=dtype)
        real_t = real_t + (2 * u[0] - 1) * noise
        fake_t = (2 * u[1] - 1) * noise
    return real_t, fake_t
