"""Features of stacked MNIST-format images: the 28x28 CNN applied to each channel."""

from __future__ import annotations

import torch

from ganforge.features.base import FeatureExtractor


class StackedExtractor(FeatureExtractor):
    """``fashion-cnn`` features of each of the three channels of ``(B, 3, 28, 28)``
    images, concatenated: ``(B, 3 * 128)``. No class probabilities (the 1000 label
    triples are counted by :func:`ganforge.evaluation.image_metrics.stacked_modes`)."""

    input_size = (28, 28)
    channels = 3

    def __init__(self, inner: str = "fashion-cnn") -> None:
        from ganforge.features import get_extractor

        self.inner = get_extractor(inner)
        self.name = f"{inner}-stacked"
        self.weights = self.inner.weights
        self.feature_dim = 3 * self.inner.feature_dim

    def forward(self, x: torch.Tensor, with_probs: bool = False) -> tuple[torch.Tensor, None]:
        b = x.shape[0]
        f, _ = self.inner.forward(x.reshape(b * 3, 1, *x.shape[2:]), False)  # (3B, D)
        return f.reshape(b, -1), None
