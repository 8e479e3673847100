"""Fréchet distance between Gaussians fitted to feature sets (FID when the features
come from Inception; "FID-like" with a domain extractor such as ``fashion-cnn``).

    FID = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^{1/2})

The trace of the matrix square root is computed from the eigenvalues of the symmetric
positive semi-definite matrix ``S1^{1/2} S2 S1^{1/2}``, which has the same eigenvalues as
``S1 S2``: two symmetric eigendecompositions instead of a general ``sqrtm``, as accurate
and several times faster, and never complex. All statistics are float64.
"""

from __future__ import annotations

import io
import json
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganforge.errors import DataError
from ganforge.metrics._arrays import as_features, as_numpy

__all__ = [
    "FeatureStats",
    "feature_statistics",
    "fid",
    "frechet_distance",
    "load_statistics",
    "save_statistics",
    "trace_sqrt_product",
]


@dataclass(frozen=True)
class FeatureStats:
    """Mean ``mu`` (D,) and unbiased covariance ``sigma`` (D, D), float64, of ``n`` samples.

    ``meta`` holds free-form provenance (extractor, dataset, split, ...) as strings.
    """

    mu: np.ndarray
    sigma: np.ndarray
    n: int
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_stats(self.mu, self.sigma, "stats")
        if int(self.n) < 2:
            raise DataError(f"statistics need at least 2 samples, got n={self.n}")

    @property
    def dim(self) -> int:
        return int(self.mu.shape[0])


def _check_stats(mu: np.ndarray, sigma: np.ndarray, name: str) -> None:
    if mu.ndim != 1:
        raise DataError(f"{name} mean must have shape (D,), got {mu.shape}")
    if sigma.shape != (mu.shape[0], mu.shape[0]):
        raise DataError(
            f"{name} covariance must have shape ({mu.shape[0]}, {mu.shape[0]}), got {sigma.shape}"
        )
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise DataError(f"{name} contains NaN or infinite values")


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``tr((S1 S2)^{1/2})`` for symmetric PSD ``S1``, ``S2`` of shape (D, D).

    For any factor ``B`` with ``S1 = B B^T``, the matrix ``B^T S2 B`` is symmetric PSD
    and has the eigenvalues of ``S1 S2``, so one ``eigvalsh`` gives them, real and (after
    clipping round-off) non-negative. ``B`` is the Cholesky factor when ``S1`` is
    positive definite (fast); otherwise (fewer samples than dimensions, collapsed sets)
    ``B = V diag(sqrt(w))`` from ``S1 = V diag(w) V^T``, negative round-off in ``w``
    clipped to 0.
    """
    s1 = 0.5 * (sigma1 + sigma1.T)
    s2 = 0.5 * (sigma2 + sigma2.T)
    try:
        b = np.linalg.cholesky(s1)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(s1)
        b = v * np.sqrt(np.clip(w, 0.0, None))  # (D, D): S1 = b b^T
    m = b.T @ s2 @ b
    eig = np.linalg.eigvalsh(0.5 * (m + m.T))
    return float(np.sqrt(np.clip(eig, 0.0, None)).sum())


def frechet_distance(
    mu1: Any,
    sigma1: Any,
    mu2: Any,
    sigma2: Any,
) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    Args:
        mu1, mu2: means, shape (D,).
        sigma1, sigma2: covariances, shape (D, D), symmetric positive semi-definite.

    Returns:
        A finite float >= 0 (tiny negative round-off is clipped to 0).

    Raises:
        ValueError: on shape mismatch or non-finite input.
    """
    mu1, mu2 = as_numpy(mu1, "mu1"), as_numpy(mu2, "mu2")
    sigma1, sigma2 = as_numpy(sigma1, "sigma1"), as_numpy(sigma2, "sigma2")
    _check_stats(mu1, sigma1, "first")
    _check_stats(mu2, sigma2, "second")
    if mu1.shape != mu2.shape:
        raise DataError(f"feature dimensions differ: {mu1.shape[0]} vs {mu2.shape[0]}")
    diff = mu1 - mu2
    value = (
        float(diff @ diff)
        + float(np.trace(sigma1))
        + float(np.trace(sigma2))
        - 2.0 * trace_sqrt_product(sigma1, sigma2)
    )
    return max(value, 0.0)


def _chunks(features: Any, batch_size: int, name: str) -> Iterable[np.ndarray]:
    if hasattr(features, "shape") and hasattr(features, "__getitem__"):
        if len(features.shape) != 2:
            raise DataError(f"{name} must have shape (N, D), got shape {tuple(features.shape)}")
        for i in range(0, features.shape[0], batch_size):
            yield as_numpy(features[i : i + batch_size], name)
    else:  # an iterable of (B, D) chunks, e.g. streamed from an extractor
        for chunk in features:
            chunk = as_numpy(chunk, name)
            if chunk.ndim != 2:
                raise DataError(f"{name} chunks must have shape (B, D), got {chunk.shape}")
            yield chunk


def feature_statistics(
    features: Any, batch_size: int = 8192, name: str = "features"
) -> FeatureStats:
    """Mean and unbiased covariance of features, accumulated in float64 chunks.

    Args:
        features: array or tensor (N, D), or an iterable of (B, D) chunks. Only one
            chunk of ``batch_size`` rows is converted to float64 at a time, so memory
            stays O(batch_size * D + D^2).
        batch_size: rows per chunk when ``features`` is an array.

    Returns:
        :class:`FeatureStats` with ``mu`` (D,), ``sigma`` (D, D) and ``n``.

    Raises:
        ValueError: fewer than 2 samples, inconsistent widths, or non-finite values.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise DataError(f"batch_size must be a positive integer, got {batch_size!r}")
    n = 0
    shift = s1 = s2 = None
    for chunk in _chunks(features, batch_size, name):
        if chunk.shape[0] == 0:
            continue
        if not np.isfinite(chunk).all():
            raise DataError(f"{name} contains NaN or infinite values")
        if shift is None:
            # Accumulating around a provisional mean avoids the cancellation of
            # E[xx^T] - mu mu^T when the mean is large relative to the spread.
            shift = chunk.mean(axis=0)
            s1 = np.zeros_like(shift)
            s2 = np.zeros((shift.shape[0], shift.shape[0]))
        elif chunk.shape[1] != shift.shape[0]:
            raise DataError(
                f"{name} chunks have different widths: {shift.shape[0]} and {chunk.shape[1]}"
            )
        c = chunk - shift
        s1 += c.sum(axis=0)
        s2 += c.T @ c
        n += chunk.shape[0]
    if n < 2:
        raise DataError(f"{name} needs at least 2 samples for a covariance, got {n}")
    mean_c = s1 / n
    sigma = (s2 - n * np.outer(mean_c, mean_c)) / (n - 1)
    sigma = 0.5 * (sigma + sigma.T)
    return FeatureStats(mu=shift + mean_c, sigma=sigma, n=n)


def _to_stats(x: Any, name: str) -> FeatureStats:
    if isinstance(x, FeatureStats):
        return x
    arr = as_features(x, name)
    n, d = arr.shape
    if n < d:
        warnings.warn(
            f"{name} has fewer samples ({n}) than feature dimensions ({d}); its covariance "
            "is rank-deficient and the Fréchet distance is strongly biased. Use N >= D "
            "(ideally N >= 10,000) for reportable numbers.",
            stacklevel=3,
        )
    return feature_statistics(arr, name=name)


def fid(real_features: Any, fake_features: Any) -> float:
    """Fréchet distance between the Gaussian fits of two feature sets.

    Args:
        real_features: array or tensor (N_real, D), or precomputed :class:`FeatureStats`.
        fake_features: array or tensor (N_fake, D), or :class:`FeatureStats`.

    Returns:
        FID as a float >= 0. Always report the extractor, N and split beside it: the
        value depends on all three (it is biased upwards at small N).

    Raises:
        ValueError: fewer than 2 samples, different feature dimensions, non-finite values.

    Warns:
        UserWarning: when a set has fewer samples than dimensions.
    """
    real = _to_stats(real_features, "real_features")
    fake = _to_stats(fake_features, "fake_features")
    if real.dim != fake.dim:
        raise DataError(
            f"real and fake features have different dimensions: {real.dim} vs {fake.dim}"
        )
    return frechet_distance(real.mu, real.sigma, fake.mu, fake.sigma)


def save_statistics(path: str | os.PathLike[str], stats: FeatureStats) -> Path:
    """Write statistics to an ``.npz`` file atomically (temp file + ``os.replace``).

    Stored arrays: ``mu`` (D,), ``sigma`` (D, D), ``n`` and ``meta`` (a JSON string), so
    the file loads with ``allow_pickle=False``.
    """
    from ganforge.io import atomic_write

    path = Path(path)
    buf = io.BytesIO()
    np.savez(
        buf,
        mu=np.asarray(stats.mu, dtype=np.float64),
        sigma=np.asarray(stats.sigma, dtype=np.float64),
        n=np.asarray(int(stats.n), dtype=np.int64),
        meta=np.asarray(json.dumps(stats.meta, sort_keys=True, default=str)),
    )
    atomic_write(path, lambda tmp: tmp.write_bytes(buf.getvalue()))
    return path


def load_statistics(path: str | os.PathLike[str]) -> FeatureStats:
    """Load statistics written by :func:`save_statistics` (no pickle).

    Raises:
        ValueError: naming the file if it is missing, unreadable or malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"statistics file {str(path)!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            mu, sigma, n = data["mu"], data["sigma"], int(data["n"])
            meta = json.loads(str(data["meta"])) if "meta" in data.files else {}
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"statistics file {str(path)!r} is not valid: {exc}") from None
    try:
        return FeatureStats(
            mu=mu.astype(np.float64), sigma=sigma.astype(np.float64), n=n, meta=meta
        )
    except ValueError as exc:
        raise DataError(f"statistics file {str(path)!r} is not valid: {exc}") from None
