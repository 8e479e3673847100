"""Image datasets held as arrays: the :class:`ImageDataset` contract, in-memory images
(MNIST-format files, digits), stacked MNIST-format digits and the checkpoint decoder.
Image folders live in :mod:`~ganforge.data.image_folder`, procedural shapes in
:mod:`~ganforge.data.shapes`, the named datasets in :mod:`~ganforge.data.image_catalogue`.

Conventions shared by every image dataset:

- model space: float32 ``(B, C, H, W)`` in [-1, 1] (``x / 127.5 - 1``);
- native form: uint8 ``(N, C, H, W)`` in [0, 255] -- channels first, also for greyscale
  (``C = 1``); :meth:`ImageDataset.decode` clamps, rescales and rounds;
- labels: int64 ``(B,)`` class indices, or ``None`` for unlabelled data;
- batches are drawn with replacement using the trainer's ``torch.Generator``, so a run
  is reproducible; ``sample_real(n, seed)`` draws with a numpy generator from ``seed``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ganforge.data.base import Dataset
from ganforge.errors import ConfigError, DataError
from ganforge.pixels import from_uint8, to_uint8


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """Resize uint8 ``(N, C, H, W)`` to ``(N, C, size, size)`` (bilinear, antialiased when
    shrinking), in chunks to bound memory."""
    import torch.nn.functional as F

    n, c, h, w = images.shape
    if (h, w) == (size, size):
        return images
    out = np.empty((n, c, size, size), dtype=np.uint8)
    for s in range(0, n, 4096):
        x = torch.from_numpy(images[s : s + 4096]).float()
        y = F.interpolate(
            x, size=(size, size), mode="bilinear", align_corners=False, antialias=size < max(h, w)
        )
        out[s : s + 4096] = y.round_().clamp_(0, 255).to(torch.uint8).numpy()
    return out


class ImageDataset(Dataset):
    """Base class of image datasets (see the module docstring for the conventions).

    Subclasses implement :meth:`_images(idx)` -> uint8 ``(len(idx), C, H, W)`` and
    :meth:`_labels(idx)`, and set ``size`` (number of distinct images), ``shape``,
    ``num_classes``.
    """

    kind = "image"
    size: int = 0
    real_split: str = "train"
    #: a registered extractor with class outputs trained on this dataset's labels; lets
    #: the evaluator check a conditional generator's samples against their labels
    label_classifier: str | None = None
    #: the extractor its evaluations use: a registered name, ``"train"`` (a classifier
    #: trained on this dataset's labelled training split), or ``None`` (by shape)
    extractor: str | None = None
    #: the dataset's test split ``() -> (uint8 (N, C, H, W), labels (N,))``, when its
    #: files have one (MNIST format); a trained classifier's accuracy is measured on it
    test_split: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None

    def __init__(self) -> None:
        super().__init__(np.zeros(1), np.ones(1))  # unused: images have a fixed scale

    def encode(self, x: np.ndarray) -> torch.Tensor:
        """uint8 ``(N, C, H, W)`` -> float32 model-space tensor in [-1, 1]."""
        return from_uint8(torch.as_tensor(np.asarray(x, dtype=np.uint8)))

    def decode(self, x: torch.Tensor) -> np.ndarray:
        """Model-space ``(N, C, H, W)`` -> uint8 ``(N, C, H, W)`` in [0, 255]."""
        return to_uint8(x)

    def codec(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "kind": "image",
            "shape": list(self.shape),
            "native": "uint8 (N, C, H, W)",
            "num_classes": self.num_classes,
            "class_names": self.class_names,
        }
        if self.label_prior is not None:  # a decoder passes a self-conditioned run's on
            out["label_prior"] = np.asarray(self.label_prior).tolist()
        return out

    def _images(self, idx: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _labels(self, idx: np.ndarray) -> np.ndarray | None:
        return None

    def sample_batch(
        self, batch_size: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.batch_at(torch.randint(self.size, (batch_size,), generator=generator))

    def batch_at(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The images (and labels) at indices ``idx`` ``(B,)``, in model space."""
        idx = np.asarray(idx)
        x = from_uint8(torch.from_numpy(self._images(idx)))
        y = self._labels(idx)
        return x, (None if y is None else torch.from_numpy(np.asarray(y, dtype=np.int64)))

    def _real_indices(self, n: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return rng.choice(self.size, size=n, replace=n > self.size)

    def sample_real(self, n: int, seed: int) -> np.ndarray:
        """``n`` distinct real images (with replacement only when ``n`` exceeds the data),
        uint8 ``(n, C, H, W)``."""
        return self._images(self._real_indices(n, seed))

    def sample_real_labelled(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
        idx = self._real_indices(n, seed)
        return self._images(idx), self._labels(idx)

    def labelled_training_split(self) -> tuple[np.ndarray, np.ndarray]:
        """Every real image of the dataset, in order, uint8 ``(N, C, H, W)``, with its
        label ``(N,)``: what a classifier trained on the reference data learns from.

        Raises:
            DataError: the dataset has no labels.
        """
        idx = np.arange(self.size)
        labels = self._labels(idx) if self.size else None
        if labels is None:
            raise DataError(
                f"dataset {self.name!r} has no labels; a classifier trained on the reference "
                "data needs labelled images (an image folder with one sub-folder per class)"
            )
        chunks = [self._images(idx[s : s + 4096]) for s in range(0, self.size, 4096)]
        return np.concatenate(chunks), np.asarray(labels, dtype=np.int64)


class ImageDecoder(ImageDataset):
    """Decodes samples of an image run from its checkpoint codec; holds no data."""

    def __init__(self, codec: dict[str, Any]) -> None:
        self.name = codec["name"]
        self.shape = tuple(codec["shape"])
        self.num_classes = codec.get("num_classes")
        self.class_names = codec.get("class_names")
        prior = codec.get("label_prior")  # absent: labels are classes (older checkpoints too)
        self.label_prior = None if prior is None else np.asarray(prior, dtype=np.float64)
        super().__init__()


class ArrayImageDataset(ImageDataset):
    """Images held in memory: uint8 ``(N, C, H, W)`` (or ``(N, H, W)``) and optional labels."""

    def __init__(
        self,
        name: str,
        images: np.ndarray,
        labels: np.ndarray | None = None,
        num_classes: int | None = None,
        class_names: list[str] | None = None,
        image_size: int | None = None,
    ) -> None:
        images = np.asarray(images)
        if images.dtype != np.uint8:
            raise TypeError(f"images of {name!r} must be uint8, got {images.dtype}")
        if images.ndim == 3:
            images = images[:, None]
        if images.ndim != 4 or len(images) == 0:
            raise DataError(f"images of {name!r} must be (N, C, H, W), got {images.shape}")
        if image_size is not None:
            images = resize_images(images, image_size)
        self.name = name
        self.data = torch.from_numpy(np.ascontiguousarray(images))
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        if self.labels is not None and len(self.labels) != len(images):
            raise DataError(f"{name!r}: {len(images)} images but {len(self.labels)} labels")
        if self.labels is not None and num_classes is None:
            num_classes = int(self.labels.max()) + 1
        self.num_classes = num_classes if self.labels is not None else None
        self.class_names = class_names
        self.shape = tuple(images.shape[1:])
        self.size = len(images)
        super().__init__()

    def _images(self, idx: np.ndarray) -> np.ndarray:
        return self.data[torch.from_numpy(np.asarray(idx, dtype=np.int64))].numpy()

    def _labels(self, idx: np.ndarray) -> np.ndarray | None:
        return None if self.labels is None else self.labels[idx]


class StackedDataset(ImageDataset):
    """Three random MNIST-format images as the three channels; label ``100a + 10b + c``
    of the three digit/class labels (1000 modes). Shape ``(3, H, W)``."""

    stacked = True

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        name: str = "stacked",
        image_size: int | None = None,
    ) -> None:
        images = np.asarray(images, dtype=np.uint8)
        if images.ndim != 3:
            raise DataError(f"stacked needs greyscale images (N, H, W), got {images.shape}")
        if image_size is not None:
            images = resize_images(images[:, None], image_size)[:, 0]
        labels = np.asarray(labels, dtype=np.int64)
        if labels.min() < 0 or labels.max() > 9:
            raise DataError("stacked needs labels 0..9 (MNIST-format classes)")
        self.name = name
        self.data = torch.from_numpy(np.ascontiguousarray(images))
        self.source_labels = labels
        self.source_size = len(images)
        self.size = self.source_size**3
        self.shape = (3, *images.shape[1:])
        self.num_classes = 1000
        super().__init__()

    def _triples(self, idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.int64)
        n = self.source_size
        return np.stack([idx // (n * n), (idx // n) % n, idx % n], axis=1)  # (B, 3)

    def sample_batch(self, batch_size: int, generator: torch.Generator) -> tuple:
        t = torch.randint(self.source_size, (batch_size, 3), generator=generator)
        x = from_uint8(self.data[t])  # (B, 3, H, W)
        lab = torch.from_numpy(self.source_labels)[t]
        return x, lab[:, 0] * 100 + lab[:, 1] * 10 + lab[:, 2]

    def _real_indices(self, n: int, seed: int) -> np.ndarray:
        t = np.random.default_rng(seed).integers(self.source_size, size=(n, 3))
        return (t[:, 0] * self.source_size + t[:, 1]) * self.source_size + t[:, 2]

    def _images(self, idx: np.ndarray) -> np.ndarray:
        return self.data[torch.from_numpy(self._triples(idx))].numpy()

    def labelled_training_split(self) -> tuple[np.ndarray, np.ndarray]:
        raise ConfigError(
            "stacked data is read channel by channel by its digit classifier; a classifier "
            "of its 1000 label triples is not trained"
        )

    def _labels(self, idx: np.ndarray) -> np.ndarray:
        lab = self.source_labels[self._triples(idx)]
        return lab[:, 0] * 100 + lab[:, 1] * 10 + lab[:, 2]
