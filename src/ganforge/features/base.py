"""Feature extractors: images in, features (N, D) and optionally class probabilities out.

Images are accepted as numpy arrays or torch tensors of shape (N, H, W) or
(N, C, H, W): uint8 in [0, 255], or floating point in [-1, 1] (the range of a tanh
generator). Extraction runs in batches under ``torch.inference_mode`` with the model
in eval mode, so results do not depend on the batch size.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import DataError
from ganforge.pixels import from_uint8

__all__ = [
    "CNNExtractor",
    "ExtractedFeatures",
    "FeatureExtractor",
    "InceptionExtractor",
    "ModuleExtractor",
    "PixelExtractor",
    "to_float_images",
]

_RANGE_TOL = 1e-3


@dataclass(frozen=True)
class ExtractedFeatures:
    """``features`` (N, D) float32 and, when the extractor has a classifier head,
    ``probs`` (N, C) float32 rows summing to 1."""

    features: np.ndarray
    probs: np.ndarray | None = None


def to_float_images(images: Any, name: str = "images") -> torch.Tensor:
    """Convert a batch of images to a float32 tensor (N, C, H, W) in [-1, 1].

    Args:
        images: (N, H, W) or (N, C, H, W), numpy array or torch tensor; uint8 in
            [0, 255] or float in [-1, 1].

    Raises:
        TypeError: for non-numeric input.
        ValueError: for other shapes or float values outside [-1, 1].
    """
    if isinstance(images, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(images))
    elif isinstance(images, torch.Tensor):
        x = images.detach().cpu()
    else:
        raise TypeError(
            f"{name} must be a numpy array or torch tensor, got {type(images).__name__}"
        )
    if x.ndim == 3:
        x = x.unsqueeze(1)
    if x.ndim != 4:
        raise DataError(f"{name} must have shape (N, H, W) or (N, C, H, W), got {tuple(x.shape)}")
    if x.dtype == torch.uint8:
        return from_uint8(x)
    if not x.is_floating_point():
        raise TypeError(f"{name} must be uint8 in [0, 255] or float in [-1, 1], got {x.dtype}")
    x = x.float()
    if x.numel():
        lo, hi = float(x.min()), float(x.max())
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise DataError(f"{name} contain NaN or infinite values")
        if lo < -1 - _RANGE_TOL or hi > 1 + _RANGE_TOL:
            raise DataError(
                f"float {name} must lie in [-1, 1], got values in [{lo:.4g}, {hi:.4g}] "
                "(pass uint8 for [0, 255] data, or rescale/clamp first)"
            )
    return x.clamp(-1.0, 1.0)


class FeatureExtractor:
    """Base class. Subclasses implement :meth:`forward` on a prepared float batch.

    Attributes:
        name: registry name, reported in the evaluation protocol.
        feature_dim: D of the returned features.
        num_classes: C of the class probabilities, or ``None`` without a classifier.
        input_size: (H, W) the network needs; other sizes are resized bilinearly.
        channels: channels the network needs (1 or 3); ``None`` accepts any.
        forward_batch: images per network forward pass, fixed so that results do
            not depend on the caller's batch size; ``None`` runs batches as given.
    """

    name: str = "extractor"
    feature_dim: int = 0
    num_classes: int | None = None
    input_size: tuple[int, int] | None = None
    channels: int | None = None
    forward_batch: int | None = None

    def forward(
        self, x: torch.Tensor, with_probs: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``x`` (B, C, H, W) float in [-1, 1], already prepared -> (features (B, D),
        logits (B, C), or ``None`` when ``with_probs`` is false or there is no head)."""
        raise NotImplementedError

    @property
    def provides_probs(self) -> bool:
        return self.num_classes is not None

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Match channels and size: (B, C, H, W) -> (B, channels, *input_size)."""
        if self.channels is not None and x.shape[1] != self.channels:
            if self.channels == 3 and x.shape[1] == 1:
                x = x.expand(-1, 3, -1, -1)
            else:
                raise DataError(
                    f"extractor {self.name!r} needs {self.channels}-channel images, "
                    f"got {x.shape[1]} channels"
                )
        if self.input_size is not None and tuple(x.shape[-2:]) != self.input_size:
            down = x.shape[-1] > self.input_size[1] or x.shape[-2] > self.input_size[0]
            x = F.interpolate(
                x, size=self.input_size, mode="bilinear", align_corners=False, antialias=down
            )
        return x

    def resize_for(self, image_shape: tuple[int, ...]) -> str | None:
        """Describe the resize applied to images of ``image_shape`` (H, W last), if any."""
        if self.input_size is None or tuple(image_shape[-2:]) == self.input_size:
            return None
        h, w = image_shape[-2:]
        return f"bilinear {h}x{w}->{self.input_size[0]}x{self.input_size[1]}"

    def describe(self) -> dict[str, Any]:
        return {
            "extractor": self.name,
            "feature_dim": self.feature_dim,
            "num_classes": self.num_classes,
            "input_size": list(self.input_size) if self.input_size else None,
        }

    def extract(
        self, images: Any, batch_size: int = 500, with_probs: bool | None = None
    ) -> ExtractedFeatures:
        """Features (and probabilities) of ``images`` (N, [C,] H, W), batch by batch.

        Args:
            images: uint8 in [0, 255] or float in [-1, 1]; converted batch by batch.
            batch_size: images converted per step; it does not change the result:
                extractors with a ``forward_batch`` run the network on chunks of
                exactly that many images (the last one zero-padded), because
                float32 kernels pick different algorithms for different batch
                sizes and would otherwise move features by ~1e-6.
            with_probs: also return class probabilities; default: when available.

        Returns:
            :class:`ExtractedFeatures` with float32 ``features`` (N, D) and ``probs``.
        """
        if not isinstance(batch_size, int) or batch_size < 1:
            raise DataError(f"batch_size must be a positive integer, got {batch_size!r}")
        if with_probs is None:
            with_probs = self.provides_probs
        elif with_probs and not self.provides_probs:
            raise DataError(f"extractor {self.name!r} has no classifier head (no probabilities)")
        n = len(images)
        if n == 0:
            raise DataError("images is empty")
        feats: list[np.ndarray] = []
        probs: list[np.ndarray] = []

        def run(x: torch.Tensor, keep: int) -> None:
            f, logits = self.forward(x, with_probs)
            feats.append(f[:keep].reshape(keep, -1).float().numpy())
            if with_probs:
                probs.append(torch.softmax(logits[:keep].double(), dim=1).float().numpy())

        with torch.inference_mode():
            for x, keep in self._forward_chunks(images, batch_size):
                run(x, keep)
        out = np.concatenate(feats)
        if out.shape[1] != self.feature_dim and self.feature_dim:
            raise DataError(
                f"extractor {self.name!r} returned {out.shape[1]} features, "
                f"expected {self.feature_dim}"
            )
        return ExtractedFeatures(out, np.concatenate(probs) if with_probs else None)

    def _forward_chunks(self, images: Any, batch_size: int) -> Iterator[tuple[torch.Tensor, int]]:
        """Prepared batches ``(x, keep)`` for the network: the rows to keep of ``x``.
        With a ``forward_batch`` the stream is re-chunked into exactly that many images
        (the last chunk zero-padded), whatever ``batch_size`` is: same kernels, same
        numbers."""
        fb = self.forward_batch
        pending: list[torch.Tensor] = []
        n_pending = 0
        for start in range(0, len(images), batch_size):
            x = self.prepare(to_float_images(images[start : start + batch_size]))
            if fb is None:
                yield x, len(x)
                continue
            pending.append(x)
            n_pending += len(x)
            while n_pending >= fb:
                buf = torch.cat(pending)
                yield buf[:fb], fb
                pending, n_pending = [buf[fb:]], n_pending - fb
        if fb is not None and n_pending:
            buf = torch.cat(pending)
            pad = buf.new_zeros((fb - n_pending, *buf.shape[1:]))
            yield torch.cat([buf, pad]), n_pending

    def __call__(self, images: Any, batch_size: int = 500) -> np.ndarray:
        """Shortcut for ``extract(images, batch_size, with_probs=False).features``."""
        return self.extract(images, batch_size, with_probs=False).features

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, feature_dim={self.feature_dim})"


class CNNExtractor(FeatureExtractor):
    """:class:`~ganforge.features.cnn.MnistCNN` classifiers from a weights file (28x28;
    greyscale for the shipped ones).

    Features: the 128-d penultimate layer. Probabilities: its 10-way softmax.
    """

    input_size = (28, 28)
    channels = 1
    forward_batch = 250

    def __init__(self, name: str, weights: str | os.PathLike[str]) -> None:
        from ganforge.features.cnn import FEATURE_DIM, load_cnn

        self.name = name
        self.weights = Path(weights)
        self.model, self.metadata = load_cnn(self.weights)
        self.feature_dim = FEATURE_DIM
        self.num_classes = self.model.num_classes
        self.channels = self.model.in_channels

    def forward(self, x: torch.Tensor, with_probs: bool = True) -> tuple[torch.Tensor, Any]:
        return self.model(x)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["test_accuracy"] = self.metadata.get("test_accuracy")
        return info


class PixelExtractor(FeatureExtractor):
    """Flattened pixels in [-1, 1] as features; optional fixed ``size`` (H, W)."""

    def __init__(self, size: tuple[int, int] | None = None, channels: int | None = None) -> None:
        self.name = "pixels"
        self.input_size = tuple(size) if size is not None else None  # type: ignore[assignment]
        self.channels = channels
        self.feature_dim = 0  # known only once images are seen

    def forward(self, x: torch.Tensor, with_probs: bool = False) -> tuple[torch.Tensor, None]:
        return x.reshape(x.shape[0], -1), None


class ModuleExtractor(FeatureExtractor):
    """Wrap any ``torch.nn.Module`` as an extractor.

    The module receives (B, C, H, W) float32 in [-1, 1] (resized to ``input_size``
    and expanded to ``channels`` if given) and returns either features (B, D) or a
    tuple ``(features (B, D), logits (B, C))``; pass ``num_classes`` in the latter case
    to expose probabilities (softmax of the logits). The module runs on chunks of
    ``forward_batch`` images (default 128; ``None`` for the caller's batches).
    """

    def __init__(
        self,
        module: nn.Module,
        name: str = "module",
        input_size: tuple[int, int] | None = None,
        channels: int | None = None,
        num_classes: int | None = None,
        forward_batch: int | None = 128,
    ) -> None:
        if not isinstance(module, nn.Module):
            raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
        self.module = module.eval()
        self.name = name
        self.input_size = tuple(input_size) if input_size is not None else None  # type: ignore[assignment]
        self.channels = channels
        self.num_classes = num_classes
        self.forward_batch = forward_batch
        self.feature_dim = 0

    def forward(self, x: torch.Tensor, with_probs: bool = False) -> tuple[torch.Tensor, Any]:
        out = self.module(x)
        if isinstance(out, (tuple, list)):
            if len(out) != 2:
                raise DataError(
                    f"module {self.name!r} must return features or (features, logits), "
                    f"got a {len(out)}-tuple"
                )
            feats, logits = out
        else:
            feats, logits = out, None
        if with_probs and logits is None:
            raise DataError(f"module {self.name!r} returned no logits")
        return feats, logits


INCEPTION_ENV = "GANFORGE_INCEPTION"


class InceptionExtractor(FeatureExtractor):
    """FID Inception-v3 from a user-supplied TorchScript file.

    The expected file is the widely used TorchScript translation of the TensorFlow
    ``inception-2015-12-05`` graph (``inception-2015-12-05.pt`` / ``pt_inception-2015-12-05``
    as used by the StyleGAN2-ADA and clean-fid metrics). Its interface:
    ``model(x, return_features=True)`` -> pool3 features (B, 2048) and
    ``model(x, no_output_bias=True)`` -> class probabilities (B, 1008), for ``x``
    float32 (B, 3, H, W) in [0, 255].

    Preprocessing here: greyscale -> 3 channels, bilinear resize to 299x299, [-1, 1]
    -> [0, 255]. The file is loaded with ``torch.jit.load``: a TorchScript archive holds
    TorchScript code and tensors run by the TorchScript interpreter, not arbitrary
    pickled Python objects; still, only load files you trust. Nothing is downloaded.

    Args:
        path: the TorchScript file; default: the ``GANFORGE_INCEPTION`` environment
            variable.
        probs: also compute class probabilities (one more forward pass per batch).
    """

    input_size = (299, 299)
    channels = 3
    forward_batch = 32

    def __init__(self, path: str | os.PathLike[str] | None = None, probs: bool = False) -> None:
        self.name = "inception"
        if path is None:
            path = os.environ.get(INCEPTION_ENV) or None
        if path is None:
            raise DataError(
                "the 'inception' extractor needs the TorchScript FID Inception file "
                "(inception-2015-12-05.pt); pass its path or set the GANFORGE_INCEPTION "
                "environment variable. Nothing is downloaded; use 'fashion-cnn' to "
                "evaluate offline"
            )
        self.path = Path(path)
        if not self.path.is_file():
            raise DataError(f"Inception TorchScript file {str(self.path)!r} does not exist")
        try:
            self.model = torch.jit.load(str(self.path), map_location="cpu").eval()
        except Exception as exc:  # jit raises RuntimeError and friends
            raise DataError(
                f"{str(self.path)!r} is not a loadable TorchScript file: {exc}"
            ) from None
        self.feature_dim = 2048
        self.num_classes = 1008 if probs else None

    def forward(self, x: torch.Tensor, with_probs: bool = False) -> tuple[torch.Tensor, Any]:
        x = (x + 1.0) * 127.5  # [-1, 1] -> [0, 255]
        feats = self.model(x, return_features=True)
        logits = None
        if with_probs:
            # the model returns probabilities; log turns them back into logits for softmax
            logits = torch.log(self.model(x, no_output_bias=True).double().clamp_min(1e-30))
        return feats, logits

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["file"] = self.path.name
        return info
