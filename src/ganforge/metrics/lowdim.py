"""Metrics for low-dimensional samples (toy distributions, numeric tables).

All functions take native-unit arrays of shape ``(N, D)`` (or ``(N,)`` for 1-D).
Definitions of the mode metrics follow PacGAN/VEEGAN: a generated sample is *high
quality* if it lies within 3 standard deviations of its nearest mode centre; a mode is
*covered* if it is the nearest centre of at least one high-quality sample; *reverse KL* is
``KL(mode histogram of HQ samples ‖ uniform)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from ganforge.errors import DataError


def as_2d(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        arr = arr.reshape(len(arr), -1)
    if len(arr) < 2:
        raise DataError(f"{name} needs at least 2 samples, got {len(arr)}")
    if not np.isfinite(arr).all():
        raise DataError(f"{name} contains NaN or infinite values")
    return arr


def mode_metrics(samples: Any, means: Any, std: float, threshold: float = 3.0) -> dict[str, Any]:
    """``modes_covered``, ``hq_fraction``, ``reverse_kl`` and the per-mode HQ histogram.

    ``reverse_kl`` is ``None`` when no sample is high quality (the KL is undefined).
    """
    x = as_2d(samples, "samples")
    mu = np.asarray(means, dtype=np.float64)
    d2 = ((x[:, None, :] - mu[None, :, :]) ** 2).sum(-1)  # (N, K)
    nearest = d2.argmin(axis=1)
    dist = np.sqrt(d2[np.arange(len(x)), nearest])
    hq = dist <= threshold * std
    counts = np.bincount(nearest[hq], minlength=len(mu))
    k = len(mu)
    reverse_kl: float | None = None
    if hq.any():
        p = counts / counts.sum()
        nz = p > 0
        reverse_kl = float(np.sum(p[nz] * np.log(p[nz] * k)))
    return {
        "modes_covered": int((counts > 0).sum()),
        "num_modes": k,
        "hq_fraction": float(hq.mean()),
        "reverse_kl": reverse_kl,
        "mode_counts": counts.tolist(),
    }


def wasserstein1(a: Any, b: Any, projections: int = 256, seed: int = 0) -> float:
    """Wasserstein-1 distance: exact in 1-D, sliced (mean over random unit directions)
    in higher dimensions."""
    x, y = as_2d(a, "a"), as_2d(b, "b")
    if x.shape[1] != y.shape[1]:
        raise DataError(f"dimension mismatch: {x.shape[1]} vs {y.shape[1]}")
    if x.shape[1] == 1:
        return float(stats.wasserstein_distance(x[:, 0], y[:, 0]))
    rng = np.random.default_rng(seed)
    dirs = rng.normal(size=(projections, x.shape[1]))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    px, py = x @ dirs.T, y @ dirs.T  # (N, P), (M, P)
    return float(
        np.mean([stats.wasserstein_distance(px[:, i], py[:, i]) for i in range(projections)])
    )


def _sq_dists(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    d = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * x @ y.T
    return np.maximum(d, 0.0)


def mmd_rbf(a: Any, b: Any, bandwidth: float | None = None, chunk: int = 2048) -> float:
    """Unbiased MMD² with an RBF kernel ``exp(-‖x-y‖² / (2 h²))``.

    ``h`` defaults to the median pairwise distance of the first sample (up to 1,000
    points). Computed in blocks of ``chunk`` rows, so memory stays bounded.
    """
    x, y = as_2d(a, "a"), as_2d(b, "b")
    if bandwidth is None:
        sub = x[:1000]
        d = np.sqrt(_sq_dists(sub, sub))
        bandwidth = float(np.median(d[np.triu_indices(len(sub), 1)])) or 1.0
    gamma = 1.0 / (2.0 * bandwidth**2)

    def kernel_sum(p: np.ndarray, q: np.ndarray, same: bool) -> float:
        total = 0.0
        for i in range(0, len(p), chunk):
            block = np.exp(-gamma * _sq_dists(p[i : i + chunk], q))
            total += block.sum()
        if same:
            total -= len(p)  # drop the diagonal k(x, x) = 1
        return total

    n, m = len(x), len(y)
    kxx = kernel_sum(x, x, True) / (n * (n - 1))
    kyy = kernel_sum(y, y, True) / (m * (m - 1))
    kxy = kernel_sum(x, y, False) / (n * m)
    return float(kxx + kyy - 2.0 * kxy)


def marginal_stats(real: Any, fake: Any) -> dict[str, list[float]]:
    """Per-dimension means, standard deviations and two-sample KS statistics."""
    x, y = as_2d(real, "real"), as_2d(fake, "fake")
    return {
        "real_mean": x.mean(0).tolist(),
        "fake_mean": y.mean(0).tolist(),
        "real_std": x.std(0, ddof=1).tolist(),
        "fake_std": y.std(0, ddof=1).tolist(),
        "ks": [float(stats.ks_2samp(x[:, j], y[:, j]).statistic) for j in range(x.shape[1])],
    }


def distance_metrics(real: Any, fake: Any, seed: int = 0) -> dict[str, float]:
    """``w1`` (exact 1-D or sliced), ``mmd`` (RBF, unbiased) and ``ks_max``."""
    marg = marginal_stats(real, fake)
    return {
        "w1": wasserstein1(real, fake, seed=seed),
        "mmd": mmd_rbf(real, fake),
        "ks_max": max(marg["ks"]),
    }
