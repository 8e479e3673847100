"""Fully connected generator and discriminator.

Generator: ``z (B, noise_dim) -> x (B, *shape)``. Discriminator: ``x (B, *shape) ->
logits (B,)`` with a linear last layer (a critic needs an unbounded output; classifier
losses apply the sigmoid inside the loss). With ``spectral_norm`` every weight matrix of
the discriminator (hidden layers, maxout units and the head) is spectrally normalised
(Miyato et al., 2018), as in the DCGAN discriminator; the generator is left alone.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganforge.config import ModelConfig

MAXOUT_PIECES = 5  # as in the original GAN and PacGAN's toy discriminators


class Maxout(nn.Module):
    """Maxout unit (Goodfellow et al., 2013): ``pieces`` linear maps, elementwise max.
    ``(B, in_features) -> (B, out_features)``."""

    def __init__(
        self, in_features: int, out_features: int, pieces: int = MAXOUT_PIECES, bias: bool = True
    ) -> None:
        super().__init__()
        self.out_features, self.pieces = out_features, pieces
        self.linear = nn.Linear(in_features, out_features * pieces, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear(x)  # (B, out * pieces)
        return y.view(x.shape[0], self.out_features, self.pieces).amax(dim=2)


def hidden_layer(width: int, h: int, act: str, batch_norm: bool) -> list[nn.Module]:
    """One hidden layer ``width -> h``: linear (+ batch norm) + activation, or a maxout
    unit (+ batch norm) when ``act == "maxout"``."""
    if act == "maxout":
        layers: list[nn.Module] = [Maxout(width, h, bias=not batch_norm)]
        return [*layers, nn.BatchNorm1d(h)] if batch_norm else layers
    layers = [nn.Linear(width, h, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(h))
    return [*layers, activation(act)]


def activation(name: str) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2)
    if name == "tanh":
        return nn.Tanh()
    if name == "elu":
        return nn.ELU()
    if name == "gelu":
        return nn.GELU()
    if name == "silu":
        return nn.SiLU()
    raise ValueError(f"unknown activation {name!r}")


OUTPUTS = {"linear": nn.Identity, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


class MLPGenerator(nn.Module):
    def __init__(self, cfg: ModelConfig, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)
        self.noise_dim = cfg.noise_dim
        layers: list[nn.Module] = []
        width = cfg.noise_dim
        for h in cfg.g_hidden:
            layers += hidden_layer(width, h, cfg.g_activation, cfg.g_batch_norm)
            width = h
        layers.append(nn.Linear(width, math.prod(self.shape)))
        layers.append(OUTPUTS[cfg.g_output]())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.shape)  # (B, noise_dim) -> (B, *shape)


class MLPDiscriminator(nn.Module):
    """``features``: flatten + hidden layers ``(B, *shape) -> (B, F)``; ``head``: linear.
    ``spectral_norm`` wraps every ``nn.Linear`` (the maxout units' included)."""

    def __init__(self, cfg: ModelConfig, shape: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(shape)
        for h in cfg.d_hidden:
            layers += hidden_layer(width, h, cfg.d_activation, cfg.d_batch_norm)
            if cfg.d_dropout > 0:
                layers.append(nn.Dropout(cfg.d_dropout))
            width = h
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width, 1)
        if cfg.spectral_norm:
            for parent in list(self.modules()):
                for name, child in parent.named_children():
                    if isinstance(child, nn.Linear):
                        setattr(parent, name, spectral_norm(child))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)  # (B, *shape) -> (B,)


def build_mlp(cfg: ModelConfig, shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    return MLPGenerator(cfg, shape), MLPDiscriminator(cfg, shape)
