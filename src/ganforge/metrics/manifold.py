"""Precision, recall, density and coverage of generated samples in feature space.

Precision and recall follow Kynkäänniemi et al. (2019), density and coverage Naeem et
al. (2020). Each real sample ``x_i`` gets a radius ``r_i`` = distance to its k-th nearest
other real sample (``s_j`` likewise for fake samples ``y_j``):

- precision = fraction of fake ``y_j`` inside some real ball: ``d(x_i, y_j) < r_i``;
- recall    = fraction of real ``x_i`` inside some fake ball: ``d(x_i, y_j) < s_j``;
- density   = (1 / kM) * sum_j #{i : d(x_i, y_j) < r_i}  (can exceed 1);
- coverage  = fraction of real ``x_i`` whose ball contains at least one fake sample.

Distances are computed in blocks of rows, so memory is bounded by ``max_block`` entries
of the distance matrix whatever N and M are (50,000 x 50,000 works).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ganforge.errors import DataError
from ganforge.metrics._arrays import as_features

__all__ = ["knn_radii", "prdc"]

#: Default cap on distance-matrix entries held at once (64 MB in float32).
DEFAULT_MAX_BLOCK = 1 << 24


def _torch_features(x: np.ndarray, dtype: Any) -> Any:
    import torch

    return torch.from_numpy(np.ascontiguousarray(x)).to(dtype)


def _row_blocks(n_rows: int, n_cols: int, max_block: int) -> Iterator[slice]:
    step = max(1, max_block // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def _sq_norms(x: Any) -> Any:
    return (x * x).sum(dim=1)


def _sq_distances(a: Any, a_sq: Any, b: Any, b_sq: Any) -> Any:
    """Squared Euclidean distances (len(a), len(b)) via |a|^2 + |b|^2 - 2 a.b, >= 0.

    Comparisons ``d < r`` are done on squares (same order, no square roots).
    """
    import torch

    d2 = torch.addmm(a_sq[:, None] + b_sq[None, :], a, b.T, beta=1.0, alpha=-2.0)
    return d2.clamp_(min=0.0)


def knn_radii(features: Any, k: int = 5, max_block: int = DEFAULT_MAX_BLOCK) -> np.ndarray:
    """Distance from each row of ``features`` (N, D) to its k-th nearest other row.

    The row itself (distance 0) is not counted; duplicates of it are. Returns (N,).
    """
    import torch

    x = as_features(features, "features")
    if not isinstance(k, int) or not 1 <= k < x.shape[0]:
        raise DataError(f"k must be an integer in [1, {x.shape[0] - 1}], got {k!r}")
    with torch.inference_mode():
        t = _torch_features(x, torch.float64)
        return _sq_radii(t, _sq_norms(t), k, max_block).sqrt().numpy()


def _sq_radii(t: Any, t_sq: Any, k: int, max_block: int) -> Any:
    """Squared k-NN radii, block by block with a partial sort (top-k) per row."""
    import torch

    out = torch.empty(t.shape[0], dtype=t.dtype)
    for rows in _row_blocks(t.shape[0], t.shape[0], max_block):
        d2 = _sq_distances(t[rows], t_sq[rows], t, t_sq)
        # self sits at distance ~0, so the (k+1)-th smallest is the k-th neighbour
        out[rows] = torch.topk(d2, k + 1, dim=1, largest=False, sorted=True).values[:, k]
    return out


def _check_options(x: Any, y: Any, k: int, max_block: int, precision: str) -> Any:
    """Validate :func:`prdc`'s options; returns the torch dtype of ``precision``."""
    import torch

    if x.shape[1] != y.shape[1]:
        raise DataError(
            f"real and fake features have different dimensions: {x.shape[1]} vs {y.shape[1]}"
        )
    n, m = x.shape[0], y.shape[0]
    if not isinstance(k, int) or not 1 <= k < min(n, m):
        raise DataError(f"k must be an integer in [1, {min(n, m) - 1}], got {k!r}")
    if not isinstance(max_block, int) or max_block < 1:
        raise DataError(f"max_block must be a positive integer, got {max_block!r}")
    dtypes = {"float64": torch.float64, "float32": torch.float32}
    if precision not in dtypes:
        raise DataError(f"precision must be one of {sorted(dtypes)}, got {precision!r}")
    return dtypes[precision]


def prdc(
    real_features: Any,
    fake_features: Any,
    k: int = 5,
    max_block: int = DEFAULT_MAX_BLOCK,
    precision: str = "float64",
) -> dict[str, float]:
    """Precision, recall, density and coverage between two feature sets.

    Args:
        real_features: (N, D) array or tensor.
        fake_features: (M, D) array or tensor.
        k: neighbourhood size for the radii (5 in both papers).
        max_block: most distance-matrix entries held in memory at once.
        precision: ``"float64"`` (default) or ``"float32"`` (about twice as fast;
            distances then carry ~1e-6 relative round-off).

    Returns:
        ``{"precision", "recall", "density", "coverage"}`` as floats, plus ``"k"``.

    Raises:
        ValueError: mismatched dimensions, k not below both sample counts, bad options.
    """
    import torch

    x = as_features(real_features, "real_features")
    y = as_features(fake_features, "fake_features")
    dtype = _check_options(x, y, k, max_block, precision)
    n, m = x.shape[0], y.shape[0]
    with torch.inference_mode():
        xt = _torch_features(x, dtype)
        yt = _torch_features(y, dtype)
        x_sq, y_sq = _sq_norms(xt), _sq_norms(yt)
        real_r2 = _sq_radii(xt, x_sq, k, max_block)  # (N,) squared radii
        fake_r2 = _sq_radii(yt, y_sq, k, max_block)  # (M,)

        counts = torch.zeros(m, dtype=torch.int64)  # real balls containing each fake
        real_in_fake = torch.zeros(n, dtype=torch.bool)  # recall
        covered = torch.zeros(n, dtype=torch.bool)  # coverage
        for rows in _row_blocks(n, m, max_block):
            d2 = _sq_distances(xt[rows], x_sq[rows], yt, y_sq)  # (B, M)
            inside_real = d2 < real_r2[rows, None]
            counts += inside_real.sum(dim=0)
            covered[rows] = inside_real.any(dim=1)
            real_in_fake[rows] = (d2 < fake_r2[None, :]).any(dim=1)

    return {
        "precision": float((counts > 0).double().mean()),
        "recall": float(real_in_fake.double().mean()),
        "density": float(counts.double().sum() / (k * m)),
        "coverage": float(covered.double().mean()),
        "k": k,
    }
