"""Batched sampling from a generator under ``torch.inference_mode``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` -> CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was requested but CUDA is not available")
    return torch.device(name)


@torch.inference_mode()
def generate(
    generator: nn.Module,
    n: int,
    noise_dim: int,
    noise_std: float = 1.0,
    seed: int = 0,
    batch_size: int = 16384,
    device: torch.device | str | None = None,
    decode: Any = None,
) -> np.ndarray | torch.Tensor:
    """Draw ``n`` samples; the noise comes from a CPU generator seeded with ``seed``, so
    the result is reproducible for a given ``seed`` and ``batch_size`` on any device.

    Returns a CPU tensor ``(n, *shape)`` in model space, or, with ``decode`` (a callable
    such as ``Dataset.decode``), the decoded native array. Memory is bounded by
    ``batch_size`` plus the output itself.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"number of samples must be a positive integer, got {n!r}")
    if device is None:
        device = next(generator.parameters()).device
    was_training = generator.training
    generator.eval()
    rng = torch.Generator().manual_seed(int(seed))
    chunks = []
    try:
        for start in range(0, n, batch_size):
            b = min(batch_size, n - start)
            z = torch.randn((b, noise_dim), generator=rng).mul_(noise_std).to(device)
            out = generator(z).to("cpu")
            chunks.append(decode(out) if decode is not None else out.clone())
    finally:
        generator.train(was_training)
    if decode is not None:
        return np.concatenate(chunks, axis=0)
    return torch.cat(chunks, dim=0)
