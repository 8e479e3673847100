"""Label accuracy of a conditional generator: how often a classifier reads each sample
as the class it was generated for."""

from __future__ import annotations

from typing import Any

import numpy as np

from ganforge.errors import DataError
from ganforge.metrics._arrays import as_numpy

__all__ = ["label_accuracy"]


def label_accuracy(probs: Any, labels: Any, num_classes: int) -> dict[str, Any]:
    """Per-class accuracy of classifier outputs against the intended labels.

    Args:
        probs: class probabilities (or logits) ``(N, C)``; the argmax is the read class.
        labels: the class each sample was meant to have, ``(N,)`` integers.
        num_classes: number of classes K; a class with no sample gets ``nan``.

    Returns:
        ``label_accuracy`` (mean over the classes present), ``label_accuracy_min`` (the
        worst of them) and ``label_accuracy_by_class`` (K values).
    """
    read = as_numpy(probs, "probs").argmax(axis=1)
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != read.shape:
        raise DataError(f"{len(read)} probability rows but labels of shape {labels.shape}")
    hit = read == labels
    by_class = [
        float(hit[labels == k].mean()) if (labels == k).any() else float("nan")
        for k in range(num_classes)
    ]
    present = [a for a in by_class if a == a]
    return {
        "label_accuracy": float(np.mean(present)),
        "label_accuracy_min": float(min(present)),
        "label_accuracy_by_class": by_class,
    }
