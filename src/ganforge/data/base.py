"""The dataset contract shared by every data kind.

A :class:`Dataset` hands the trainer batches of tensors in *model space* (standardised
numbers, images in [-1, 1]) and converts samples back to their *native* form (original
units, uint8 images, strings) with :meth:`Dataset.decode`. Its :meth:`codec` is a small
JSON-able dict stored in checkpoints, so samples can be decoded without the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

Kind = Literal["lowdim", "image", "sequence", "table"]


class Dataset:
    """Base class. Subclasses set ``name``, ``shape`` and ``kind`` and implement
    :meth:`sample_batch` and :meth:`sample_real`.

    Attributes:
        shape: the shape of one sample in model space, e.g. ``(2,)`` or ``(1, 28, 28)``.
        modes: ``(K, D)`` mode centres in native units for mode metrics, or ``None``.
        mode_std: the per-mode standard deviation that defines a high-quality sample.
        columns: names of the native columns (tables), or ``None``.
    """

    name: str = "dataset"
    shape: tuple[int, ...] = ()
    kind: Kind = "lowdim"
    modes: np.ndarray | None = None
    mode_std: float | None = None
    columns: list[str] | None = None
    num_classes: int | None = None
    class_names: list[str] | None = None
    #: number of distinct training samples of a finite dataset (``None``: drawn afresh)
    size: int | None = None

    def __init__(self, mean: np.ndarray | None = None, std: np.ndarray | None = None) -> None:
        dim = int(np.prod(self.shape)) if self.shape else 1
        self.mean = np.zeros(dim) if mean is None else np.asarray(mean, dtype=np.float64)
        self.std = np.ones(dim) if std is None else np.asarray(std, dtype=np.float64)

    # -- model space <-> native units -------------------------------------------------
    def encode(self, x: np.ndarray) -> torch.Tensor:
        """Native ``(N, *shape)`` array -> float32 model-space tensor."""
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        z = (x - self.mean) / self.std
        return torch.from_numpy(z.reshape((len(x), *self.shape))).float()

    def decode(self, x: torch.Tensor) -> np.ndarray:
        """Model-space tensor ``(N, *shape)`` -> native float64 array ``(N, *shape)``."""
        arr = x.detach().to("cpu", torch.float64).numpy().reshape(len(x), -1)
        return (arr * self.std + self.mean).reshape((len(x), *self.shape))

    def codec(self) -> dict[str, Any]:
        """What :func:`decoder_from_codec` needs to decode samples without the data."""
        return {
            "name": self.name,
            "kind": self.kind,
            "shape": list(self.shape),
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "columns": self.columns,
            "modes": None if self.modes is None else self.modes.tolist(),
            "mode_std": self.mode_std,
            "num_classes": self.num_classes,
            "class_names": self.class_names,
        }

    # -- sampling -----------------------------------------------------------------------
    def sample_batch(
        self, batch_size: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A training batch ``(x (B, *shape) in model space, labels (B,) int64 or None)``
        drawn with ``generator``."""
        raise NotImplementedError

    def batch_at(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The samples at indices ``idx`` ``(B,)`` of a finite dataset (``size`` set), for
        passes over the data (``--epochs``)."""
        raise NotImplementedError(f"{self.name} has no finite set of samples")

    def sample_real(self, n: int, seed: int) -> np.ndarray:
        """``n`` real samples in native units, reproducible from ``seed`` (for evaluation)."""
        raise NotImplementedError


class Decoder(Dataset):
    """A dataset rebuilt from a checkpoint's codec: it decodes but holds no data."""

    def __init__(self, codec: dict[str, Any]) -> None:
        self.name = codec["name"]
        self.kind = codec.get("kind", "lowdim")
        self.shape = tuple(codec["shape"])
        self.columns = codec.get("columns")
        modes = codec.get("modes")
        self.modes = None if modes is None else np.asarray(modes, dtype=np.float64)
        self.mode_std = codec.get("mode_std")
        self.num_classes = codec.get("num_classes")
        self.class_names = codec.get("class_names")
        super().__init__(np.asarray(codec["mean"]), np.asarray(codec["std"]))


@dataclass(frozen=True)
class DatasetInfo:
    """Registry entry: how to build a dataset and the defaults that go with it."""

    name: str
    factory: Any  # (config) -> Dataset
    description: str
    default_preset: str
    kind: Kind = "lowdim"
    noise_std: float = 1.0
    eval_samples: int = 2500
    num_classes: int | None = None


#: data kind -> ``codec -> Dataset`` for kinds whose native form is not ``x * std + mean``.
CODEC_DECODERS: dict[str, Any] = {}


def register_codec_decoder(kind: str, factory: Any) -> None:
    """Let checkpoints of data ``kind`` decode with ``factory(codec) -> Dataset``."""
    if not callable(factory):
        raise TypeError(f"codec decoder for {kind!r} must be callable")
    if kind in CODEC_DECODERS:
        raise ValueError(f"a codec decoder for kind {kind!r} is already registered")
    CODEC_DECODERS[kind] = factory


def decoder_from_codec(codec: dict[str, Any]) -> Dataset:
    factory = CODEC_DECODERS.get(codec.get("kind", "lowdim"))
    return factory(codec) if factory is not None else Decoder(codec)
