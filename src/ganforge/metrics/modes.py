"""Mode counting from classifier predictions (e.g. the stacked 1000-mode benchmark).

A mode is covered when at least one sample is classified into it; KL(p || uniform) of
the predicted class histogram measures how unevenly the samples spread over modes
(0 when perfectly even; log(num_classes) when all samples fall in one mode).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganforge.errors import DataError
from ganforge.metrics._arrays import as_numpy

__all__ = ["class_mode_coverage"]


def class_mode_coverage(
    probs_or_labels: Any, num_classes: int, min_count: int = 1
) -> dict[str, Any]:
    """Modes covered and KL(p || uniform) of the predicted-class histogram.

    Args:
        probs_or_labels: either integer labels (N,) in [0, num_classes) or class
            probabilities / logits (N, num_classes), reduced by argmax.
        num_classes: number of modes (e.g. 1000 for stacked MNIST-format triples,
            label = 100 * c0 + 10 * c1 + c2).
        min_count: samples a class needs to count as covered.

    Returns:
        ``{"modes_covered": int, "num_classes": int, "kl_to_uniform": float,
        "histogram": list[int]}``.

    Raises:
        ValueError: bad shapes, non-integer or out-of-range labels, empty input.
    """
    if not isinstance(num_classes, int) or num_classes < 1:
        raise DataError(f"num_classes must be a positive integer, got {num_classes!r}")
    if not isinstance(min_count, int) or min_count < 1:
        raise DataError(f"min_count must be a positive integer, got {min_count!r}")
    x = as_numpy(probs_or_labels, "probs_or_labels", dtype=None)
    if x.ndim == 2:
        if x.shape[1] != num_classes:
            raise DataError(
                f"probabilities have {x.shape[1]} columns but num_classes is {num_classes}"
            )
        labels = x.argmax(axis=1)
    elif x.ndim == 1:
        if x.size and not np.all(np.equal(np.mod(x, 1), 0)):
            raise DataError("labels must be integers (pass (N, C) arrays for probabilities)")
        labels = x.astype(np.int64)
    else:
        raise DataError(f"expected labels (N,) or probabilities (N, C), got shape {x.shape}")
    if labels.size == 0:
        raise DataError("probs_or_labels is empty")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise DataError(
            f"labels must lie in [0, {num_classes}), got range [{labels.min()}, {labels.max()}]"
        )
    hist = np.bincount(labels, minlength=num_classes)
    p = hist / hist.sum()
    nz = p > 0
    kl = float(np.sum(p[nz] * np.log(p[nz] * num_classes)))
    return {
        "modes_covered": int((hist >= min_count).sum()),
        "num_classes": num_classes,
        "kl_to_uniform": kl,
        "histogram": hist.tolist(),
    }
