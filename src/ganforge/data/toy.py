"""Toy distributions from the classic GAN tutorials and mode-collapse benchmarks.

All are infinite: every batch is a fresh draw. Training uses standardised coordinates
(analytic mean and std), or, for a generator with a bounded output, the range of 100,000
real samples mapped onto the output's range (:mod:`ganforge.data.scaling`); metrics and
samples are in native units.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ganforge.data.base import Dataset


class Gaussian1D(Dataset):
    """Data ``N(10, 1)`` in one dimension (the tutorial's toy; noise is ``N(0, 2)``)."""

    name = "gaussian1d"
    shape = (1,)

    def __init__(self, loc: float = 10.0, scale: float = 1.0) -> None:
        self.loc, self.scale = loc, scale
        super().__init__(np.array([loc]), np.array([scale]))

    def sample_batch(self, batch_size: int, generator: torch.Generator) -> tuple:
        return torch.randn((batch_size, 1), generator=generator), None

    def sample_real(self, n: int, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).normal(self.loc, self.scale, size=(n, 1))


class Gaussian2D(Dataset):
    """Isotropic ``N(0, 0.5² I)`` in two dimensions."""

    name = "gaussian2d"
    shape = (2,)

    def __init__(self, scale: float = 0.5) -> None:
        self.scale = scale
        super().__init__(np.zeros(2), np.full(2, scale))

    def sample_batch(self, batch_size: int, generator: torch.Generator) -> tuple:
        return torch.randn((batch_size, 2), generator=generator), None

    def sample_real(self, n: int, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).normal(0.0, self.scale, size=(n, 2))


class Disk(Dataset):
    """Uniform in the unit disk (radius ``sqrt(U)`` for uniform area density)."""

    name = "disk"
    shape = (2,)

    def __init__(self) -> None:
        super().__init__(np.zeros(2), np.full(2, 0.5))  # Var of each coordinate = 1/4

    @staticmethod
    def _polar(u: torch.Tensor | np.ndarray, v: torch.Tensor | np.ndarray, lib) -> tuple:
        r = lib.sqrt(u)
        theta = 2 * math.pi * v
        return r * lib.cos(theta), r * lib.sin(theta)

    def sample_batch(self, batch_size: int, generator: torch.Generator) -> tuple:
        u = torch.rand((2, batch_size), generator=generator)
        x, y = self._polar(u[0], u[1], torch)
        return torch.stack([x, y], dim=1) / 0.5, None

    def sample_real(self, n: int, seed: int) -> np.ndarray:
        u = np.random.default_rng(seed).random((2, n))
        x, y = self._polar(u[0], u[1], np)
        return np.stack([x, y], axis=1)


class GaussianMixture(Dataset):
    """Equal-weight mixture of isotropic Gaussians with the given ``means`` and ``std``."""

    shape = (2,)

    def __init__(self, name: str, means: np.ndarray, std: float) -> None:
        self.name = name
        self.modes = np.asarray(means, dtype=np.float64)
        self.num_classes = len(self.modes)  # label = index of the mode a sample came from
        self.mode_std = float(std)
        total_var = self.modes.var(axis=0) + std**2
        super().__init__(self.modes.mean(axis=0), np.sqrt(total_var))
        self._means_t = torch.from_numpy((self.modes - self.mean) / self.std).float()
        self._std_t = torch.from_numpy(std / self.std).float()

    def sample_batch(self, batch_size: int, generator: torch.Generator) -> tuple:
        idx = torch.randint(len(self._means_t), (batch_size,), generator=generator)
        noise = torch.randn((batch_size, self.shape[0]), generator=generator)
        return self._means_t[idx] + noise * self._std_t, idx

    def sample_real(self, n: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        idx = rng.integers(len(self.modes), size=n)
        return self.modes[idx] + rng.normal(0.0, self.mode_std, size=(n, self.shape[0]))


def ring8_means(radius: float = 1.0) -> np.ndarray:
    """Means ``(cos 2πi/8, sin 2πi/8)``, i = 0..7 (eight distinct modes)."""
    angles = 2 * np.pi * np.arange(8) / 8
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid25_means() -> np.ndarray:
    """Means ``(i, j)`` for i, j in {-4, -2, 0, 2, 4}."""
    axis = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
    return np.array([(i, j) for i in axis for j in axis])


def ring8() -> GaussianMixture:
    return GaussianMixture("ring8", ring8_means(), 0.01)


def grid25() -> GaussianMixture:
    return GaussianMixture("grid25", grid25_means(), 0.05)
