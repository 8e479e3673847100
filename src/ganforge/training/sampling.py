"""Batched sampling from a generator under ``torch.inference_mode``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ganforge.errors import ConfigError


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` -> CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was requested but CUDA is not available")
    return torch.device(name)


def default_batch_size(
    generator: nn.Module, noise_dim: int, device: Any, conditional: bool = False
) -> int:
    """Samples per batch so one batch's output is about 2 MB (activations scale with it):
    16,384 points in 2-D, a few hundred 28x28 images, a few dozen 64x64 RGB ones."""
    with torch.inference_mode():
        was = generator.training
        generator.eval()
        try:
            z = torch.zeros((1, noise_dim), device=device)
            y = torch.zeros(1, dtype=torch.long, device=device)
            numel = (generator(z, y) if conditional else generator(z)).numel()
        finally:
            generator.train(was)
    return int(min(16384, max(16, 2**19 // max(numel, 1))))


def truncated_normal(
    shape: tuple[int, ...], truncation: float | None, rng: torch.Generator
) -> torch.Tensor:
    """Standard normal noise; with ``truncation`` t, entries outside [-t, t] are redrawn
    until none is left (a normal truncated to [-t, t], reproducible from ``rng``)."""
    z = torch.randn(shape, generator=rng)
    if truncation is None:
        return z
    outside = z.abs() > truncation
    while outside.any():
        z[outside] = torch.randn(int(outside.sum()), generator=rng)
        outside = z.abs() > truncation
    return z


def draw_noise(
    shape: tuple[int, ...],
    kind: str,
    rng: torch.Generator,
    device: torch.device | str = "cpu",
    truncation: float | None = None,
) -> torch.Tensor:
    """Generator noise before scaling by ``noise_std``: ``gaussian`` N(0, 1) (with
    ``truncation`` t: truncated to [-t, t]) or ``uniform`` U(-1, 1) (with t < 1:
    U(-t, t)), drawn with ``rng`` on ``device``."""
    if kind == "uniform":
        bound = 1.0 if truncation is None else min(float(truncation), 1.0)
        return torch.rand(shape, generator=rng, device=device).mul_(2 * bound).sub_(bound)
    if truncation is None:
        return torch.randn(shape, generator=rng, device=device)
    return truncated_normal(shape, truncation, rng).to(device)


def default_labels(n: int, num_classes: int) -> np.ndarray:
    """The classes a conditional generator draws when none is given: ``i % num_classes``
    for sample ``i`` (balanced, and known to the evaluator without storing them)."""
    return np.arange(n, dtype=np.int64) % int(num_classes)


def _labels_for(n: int, num_classes: int, labels: int | Any) -> torch.Tensor | None:
    """``(n,)`` class labels for a conditional generator: ``labels`` (one class or one per
    sample) or the classes in turn; ``None`` for an unconditional one."""
    if not num_classes:
        if labels is not None:
            raise ConfigError("labels were given but the generator is not conditional")
        return None
    if labels is None:
        return torch.from_numpy(default_labels(n, num_classes))
    y = torch.as_tensor(labels, dtype=torch.long)
    y = y.reshape(-1).expand(n) if np.ndim(labels) == 0 else y
    if len(y) != n or (y < 0).any() or (y >= num_classes).any():
        raise ConfigError(f"labels must be classes in [0, {num_classes - 1}], one or n of them")
    return y


@torch.inference_mode()
def generate(
    generator: nn.Module,
    n: int,
    noise_dim: int,
    noise_std: float = 1.0,
    seed: int = 0,
    batch_size: int | None = None,
    device: torch.device | str | None = None,
    decode: Any = None,
    num_classes: int = 0,
    labels: int | Any = None,
    truncation: float | None = None,
    noise: str = "gaussian",
) -> np.ndarray | torch.Tensor:
    """Draw ``n`` samples; the noise comes from a CPU generator seeded with ``seed``, so
    the result is reproducible for a given ``seed`` and ``batch_size`` on any device.

    Returns a CPU tensor ``(n, *shape)`` in model space, or, with ``decode`` (a callable
    such as ``Dataset.decode``), the decoded native array. Memory is bounded by
    ``batch_size`` plus the output itself. A conditional generator (``num_classes > 0``)
    gets ``labels`` (one class, or one per sample); by default the classes in turn,
    ``i % num_classes``. ``truncation`` t draws the noise from a normal truncated to
    [-t, t] (entries outside are redrawn; BigGAN's truncation trick; uniform noise: U(-t, t)
    for t < 1): more typical samples,
    less variety.
    """
    if not isinstance(n, int) or n < 1:
        raise ConfigError(f"number of samples must be a positive integer, got {n!r}")
    if truncation is not None and not (isinstance(truncation, (int, float)) and truncation > 0):
        raise ConfigError(f"truncation must be a positive number, got {truncation!r}")
    if device is None:
        device = next(generator.parameters()).device
    was_training = generator.training
    generator.eval()
    rng = torch.Generator().manual_seed(int(seed))
    if batch_size is None:
        batch_size = default_batch_size(generator, noise_dim, device, bool(num_classes))
    y_all = _labels_for(n, num_classes, labels)
    chunks = []
    try:
        for start in range(0, n, batch_size):
            b = min(batch_size, n - start)
            z = draw_noise((b, noise_dim), noise, rng, truncation=truncation)
            z = z.mul_(noise_std).to(device)
            y = None if y_all is None else y_all[start : start + b].to(device)
            out = generator(z, y).to("cpu")
            chunks.append(decode(out) if decode is not None else out.clone())
    finally:
        generator.train(was_training)
    if decode is not None:
        return np.concatenate(chunks, axis=0)
    return torch.cat(chunks, dim=0)
