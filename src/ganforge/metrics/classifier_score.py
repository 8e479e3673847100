"""Inception Score (Salimans et al., 2016) and, with any classifier, the classifier score.

    IS = exp( E_x KL( p(y|x) || p(y) ) ),  p(y) = E_x p(y|x) within each split.

It ranges from 1 (every sample gets the same class distribution) to the number of
classes (confident predictions spread evenly over all classes). It compares nothing
with real data, so always show it next to the real data's own score.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import xlogy

from ganforge.errors import DataError
from ganforge.metrics._arrays import as_numpy

__all__ = ["inception_score", "check_probabilities"]


def check_probabilities(probs: Any, name: str = "probs", atol: float = 1e-3) -> np.ndarray:
    """Validate class probabilities (N, C): finite, in [0, 1], rows summing to 1.

    Returns them as float64 (rows renormalised to remove float32 round-off).
    """
    p = as_numpy(probs, name)
    if p.ndim != 2 or p.shape[1] < 1:
        raise DataError(f"{name} must have shape (N, C), got {p.shape}")
    if p.shape[0] < 1:
        raise DataError(f"{name} is empty")
    if not np.isfinite(p).all():
        raise DataError(f"{name} contains NaN or infinite values")
    if (p < 0).any() or (p > 1 + atol).any():
        raise DataError(
            f"{name} must be probabilities in [0, 1], got values in [{p.min():.4g}, {p.max():.4g}]"
            " (pass softmax outputs, not logits)"
        )
    sums = p.sum(axis=1)
    bad = np.abs(sums - 1.0) > atol
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(
            f"{name} rows must sum to 1; row {i} sums to {sums[i]:.6g} "
            "(pass softmax outputs, not logits)"
        )
    return p / sums[:, None]


def inception_score(probs: Any, splits: int = 10) -> dict[str, float]:
    """Inception (or classifier) score from class probabilities.

    Args:
        probs: p(y|x), shape (N, C), rows summing to 1 (numpy array or torch tensor).
        splits: the samples are cut into this many consecutive equal parts; the score
            is computed per part, and the mean and standard deviation reported.

    Returns:
        ``{"mean": ..., "std": ..., "splits": ...}``; mean in [1, C].

    Raises:
        ValueError: if ``probs`` are not probabilities or ``splits`` is not in [1, N].
    """
    p = check_probabilities(probs)
    n = p.shape[0]
    if not isinstance(splits, int) or not 1 <= splits <= n:
        raise DataError(f"splits must be an integer in [1, {n}], got {splits!r}")
    scores = np.empty(splits)
    for s in range(splits):
        part = p[s * n // splits : (s + 1) * n // splits]
        marginal = part.mean(axis=0, keepdims=True)
        # xlogy gives 0 * log(0) = 0; marginal > 0 wherever part > 0.
        kl = (xlogy(part, part) - xlogy(part, marginal)).sum(axis=1)
        scores[s] = np.exp(kl.mean())
    return {"mean": float(scores.mean()), "std": float(scores.std()), "splits": int(splits)}
