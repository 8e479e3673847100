"""Kernel Inception Distance (Bińkowski et al., 2018).

The unbiased estimate of the squared maximum mean discrepancy with the cubic
polynomial kernel ``k(x, y) = (x . y / d + 1)^3``, averaged over random subsets.
Unlike FID it is unbiased in the sample size, so small-N values are comparable with
large-N ones (only noisier); it can be slightly negative when two sets match.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganforge.errors import DataError
from ganforge.metrics._arrays import as_features

__all__ = ["kid", "mmd2_unbiased", "polynomial_kernel"]


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(x y^T / d + 1)^3`` for x (N, d), y (M, d) -> (N, M)."""
    d = x.shape[1]
    return (x @ y.T / d + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 between x (m, d) and y (n, d) under :func:`polynomial_kernel`.

    Diagonal terms k(x_i, x_i) are excluded from the within-set means.
    """
    m, n = x.shape[0], y.shape[0]
    kxx = polynomial_kernel(x, x)
    kyy = polynomial_kernel(y, y)
    kxy = polynomial_kernel(x, y)
    term_x = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    term_y = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(term_x + term_y - 2.0 * kxy.mean())


def kid(
    real: Any,
    fake: Any,
    num_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """Kernel Inception Distance between two feature sets.

    Args:
        real: features (N_real, D), numpy array or torch tensor.
        fake: features (N_fake, D).
        num_subsets: number of random subset pairs to average over.
        subset_size: samples per subset, drawn without replacement; capped at
            ``min(N_real, N_fake)``.
        seed: seed of the subset sampler (results are deterministic given it).

    Returns:
        ``{"mean": ..., "std": ..., "subset_size": ..., "num_subsets": ...}``: mean and
        standard deviation of the per-subset unbiased MMD^2 estimates.

    Raises:
        ValueError: fewer than 2 samples, mismatched dimensions, bad subset arguments.
    """
    x = as_features(real, "real")
    y = as_features(fake, "fake")
    if x.shape[1] != y.shape[1]:
        raise DataError(
            f"real and fake features have different dimensions: {x.shape[1]} vs {y.shape[1]}"
        )
    if not isinstance(num_subsets, int) or num_subsets < 1:
        raise DataError(f"num_subsets must be a positive integer, got {num_subsets!r}")
    if not isinstance(subset_size, int) or subset_size < 2:
        raise DataError(f"subset_size must be an integer >= 2, got {subset_size!r}")
    m = min(subset_size, x.shape[0], y.shape[0])
    rng = np.random.default_rng(seed)
    values = np.empty(num_subsets)
    for i in range(num_subsets):
        xi = x[rng.choice(x.shape[0], m, replace=False)]
        yi = y[rng.choice(y.shape[0], m, replace=False)]
        values[i] = mmd2_unbiased(xi, yi)
    return {
        "mean": float(values.mean()),
        "std": float(values.std()),
        "subset_size": int(m),
        "num_subsets": int(num_subsets),
    }
