"""Deep convolutional GAN (Radford et al. 2016) for square-ish images of 28, 32, 64 px.

Generator: ``z (B, noise_dim) -> Linear -> (B, w0, s0, s0)``, then ``k`` transposed
convolutions (kernel 4, stride 2), each doubling the size: batch norm (``g_batch_norm``)
and the ``g_activation`` between them, ``tanh`` at the end, so ``x (B, C, H, W)`` lies in
[-1, 1]. ``s0`` is ``H / 2**k`` with the largest ``k`` that leaves ``s0 >= 4``: 7 for
28 px (7 -> 14 -> 28), 4 for 32 px and 64 px.

Discriminator: the mirror image: ``k`` strided convolutions (kernel 4, stride 2) with
``d_activation`` (LeakyReLU(0.2) by default), batch norm on all but the first when
``d_batch_norm``, spectral norm on every layer when ``spectral_norm``. ``features(x)`` is
the flattened last feature map ``(B, F)``; ``head`` is ``Linear(F, 1)`` and the output
``(B,)`` is a logit. Channel widths double at each halving: ``base_width * 2**i``.

When the last map is channels-last (as training lays images out:
:func:`ganforge.training.hardware.uses_channels_last`), ``forward`` applies the head to
the map in its memory order, ``(h, w, C)``, with the head's weight reordered to match,
instead of copying the map into ``(C, h, w)`` order: the same logits up to float
rounding, without a strided copy of the map (about 3% of a DCGAN28 step).

The classic 64x64x3 DCGAN is ``base_width=128``: noise 100 -> 4x4x1024 -> 512 -> 256 ->
128 -> 3 channels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganforge.config import ModelConfig
from ganforge.errors import ConfigError
from ganforge.models.mlp import activation


def upsampling_steps(height: int, width: int) -> int:
    """Number ``k`` of stride-2 stages: the largest with ``H, W`` divisible by ``2**k`` and
    ``min(H, W) / 2**k >= 4`` (28 -> 2, 32 -> 3, 64 -> 4)."""
    k = 0
    while (
        height % 2 ** (k + 1) == 0
        and width % 2 ** (k + 1) == 0
        and min(height, width) // 2 ** (k + 1) >= 4
    ):
        k += 1
    if k == 0:
        raise ConfigError(
            f"the dcgan architecture needs image sides divisible by 2 with at least 8 px, "
            f"got {height}x{width}; choose e.g. --image-size 28, 32 or 64"
        )
    return k


def _check_shape(shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ConfigError(f"the dcgan architecture needs images (C, H, W), got shape {shape}")
    c, h, w = (int(v) for v in shape)
    return c, h, w


def init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: conv/linear weights N(0, 0.02), batch-norm scales N(1, 0.02),
    biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGANGenerator(nn.Module):
    """``z (B, noise_dim) -> x (B, C, H, W)`` in [-1, 1]."""

    def __init__(self, cfg: ModelConfig, shape: tuple[int, ...]) -> None:
        super().__init__()
        c, h, w = _check_shape(shape)
        k = upsampling_steps(h, w)
        self.shape = (c, h, w)
        self.noise_dim = cfg.noise_dim
        self.start = (cfg.base_width * 2 ** (k - 1), h // 2**k, w // 2**k)  # (w0, s0h, s0w)
        w0, sh, sw = self.start
        bn = cfg.g_batch_norm
        self.project = nn.Linear(cfg.noise_dim, w0 * sh * sw, bias=not bn)
        self.project_norm = nn.BatchNorm1d(w0 * sh * sw) if bn else nn.Identity()
        self.project_act = activation(cfg.g_activation)
        layers: list[nn.Module] = []
        width = w0
        for _ in range(k - 1):
            layers.append(nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=not bn))
            if bn:
                layers.append(nn.BatchNorm2d(width // 2))
            layers.append(activation(cfg.g_activation))
            width //= 2
        layers.append(nn.ConvTranspose2d(width, c, 4, 2, 1))
        layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.project_act(self.project_norm(self.project(z)))  # (B, w0 * s0h * s0w)
        return self.net(h.view(z.shape[0], *self.start))  # (B, w0, s0h, s0w) -> (B, C, H, W)


class DCGANDiscriminator(nn.Module):
    """``x (B, C, H, W) -> logits (B,)``; ``features(x) -> (B, F)``, ``head: (B, F) -> (B, 1)``."""

    def __init__(self, cfg: ModelConfig, shape: tuple[int, ...]) -> None:
        super().__init__()
        c, h, w = _check_shape(shape)
        k = upsampling_steps(h, w)
        sn = spectral_norm if cfg.spectral_norm else (lambda m: m)
        layers: list[nn.Module] = []
        width_in = c
        for i in range(k):
            width = cfg.base_width * 2**i
            norm = cfg.d_batch_norm and i > 0
            layers.append(sn(nn.Conv2d(width_in, width, 4, 2, 1, bias=not norm)))
            if norm:
                layers.append(nn.BatchNorm2d(width))
            layers.append(activation(cfg.d_activation))
            if cfg.d_dropout > 0:
                layers.append(nn.Dropout(cfg.d_dropout))
            width_in = width
        self.body = nn.Sequential(*layers)
        self.last_map = (width_in, h // 2**k, w // 2**k)  # (C, h, w) of the last feature map
        self.feature_dim = math.prod(self.last_map)
        self.head = nn.Linear(self.feature_dim, 1)
        init_weights(self)
        if cfg.spectral_norm:
            self.head = spectral_norm(self.head)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).flatten(1)  # (B, C, H, W) -> (B, F), F in (C, h, w) order

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        m = self.body(x)  # (B, C, H, W) -> (B, C, h, w)
        if m.is_contiguous(memory_format=torch.channels_last) and not m.is_contiguous():
            # A channels-last map is (h, w, C) in memory: flattening it in (C, h, w) order
            # would copy it; reorder the head's weight (1, F) instead.
            weight = self.head.weight.view(1, *self.last_map).permute(0, 2, 3, 1)
            flat = m.permute(0, 2, 3, 1).reshape(m.shape[0], -1)  # a view: (B, h * w * C)
            return F.linear(flat, weight.reshape(1, -1), self.head.bias).squeeze(1)
        return self.head(m.flatten(1)).squeeze(1)  # (B, F) -> (B,)


def build_dcgan(cfg: ModelConfig, shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    return DCGANGenerator(cfg, shape), DCGANDiscriminator(cfg, shape)
