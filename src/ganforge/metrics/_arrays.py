"""Shared input handling for the image metrics: arrays or tensors -> float64 numpy."""

from __future__ import annotations

from typing import Any

import numpy as np

from ganforge.errors import DataError, DataTypeError


def as_numpy(x: Any, name: str, dtype: type = np.float64) -> np.ndarray:
    """Convert a numpy array, torch tensor or nested list to a numpy array of ``dtype``."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch.Tensor without importing torch
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise DataTypeError(
            f"{name} must be a numeric array or tensor, got {type(x).__name__}"
        ) from exc
    return arr


def as_features(x: Any, name: str, min_rows: int = 2) -> np.ndarray:
    """Validate a feature matrix ``(N, D)`` and return it as float64 numpy."""
    arr = as_numpy(x, name)
    if arr.ndim != 2:
        raise DataError(f"{name} must have shape (N, D), got shape {arr.shape}")
    if arr.shape[0] < min_rows:
        raise DataError(f"{name} needs at least {min_rows} samples, got {arr.shape[0]}")
    if arr.shape[1] < 1:
        raise DataError(f"{name} has zero feature dimensions")
    if not np.isfinite(arr).all():
        raise DataError(f"{name} contains NaN or infinite values")
    return arr
