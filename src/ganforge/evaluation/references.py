"""Real reference sets for image metrics: the first N images of a named MNIST-format
split, their extractor features, probabilities and statistics.

Features of named datasets (``"fashion-mnist"``, or ``"mnist"`` with a data directory)
are cached per (extractor + weights fingerprint, dataset, split, N, hash of the images)
under ``cache_dir()/reference`` (``$GANFORGE_CACHE``, default ``~/.cache/ganforge``),
written atomically.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganforge.data.idx import find_fashion_mnist, load_mnist_format
from ganforge.errors import ConfigError, DataError
from ganforge.evaluation.image_metrics import DEFAULTS
from ganforge.features.trained import LabelledReference, reference_from_dataset
from ganforge.files import cache_dir, sha256_file
from ganforge.io import atomic_write
from ganforge.metrics.frechet import FeatureStats, feature_statistics

_CACHE_VERSION = 1


@dataclass(frozen=True)
class ReferenceSet:
    """Real-data features (N, D), optional probabilities (N, C), their statistics and
    provenance (``protocol``: extractor, dataset, split, n)."""

    features: np.ndarray | None
    stats: FeatureStats
    probs: np.ndarray | None = None
    protocol: dict[str, Any] = field(default_factory=dict)


#: The extractor a named reference dataset is scored with when none is asked for: no
#: shipped extractor was trained on digits, so MNIST trains one on its own data.
DATASET_EXTRACTORS: dict[str, str] = {"mnist": "train"}


def default_extractor(dataset: str | None) -> str:
    """The extractor used against reference ``dataset`` (a name, or ``None`` for images
    given directly) when none is named: ``train`` for ``mnist``, else ``fashion-cnn``."""
    return DATASET_EXTRACTORS.get(dataset or "", DEFAULTS["extractor"])


def _dataset_root(dataset: str, data_dir: str | None) -> Path:
    if dataset == "fashion-mnist":
        return find_fashion_mnist(data_dir)["train_images"].parent
    if dataset == "mnist":
        if data_dir is None:
            raise ConfigError("dataset 'mnist' needs data_dir (a directory with the IDX files)")
        return Path(data_dir)
    raise ConfigError(f"unknown reference dataset {dataset!r}; choose fashion-mnist or mnist")


def named_reference(dataset: str, data_dir: str | None = None) -> LabelledReference:
    """The labelled train and test splits of a named MNIST-format dataset's files: what
    the ``train`` extractor learns from when scoring against ``dataset``."""
    root = _dataset_root(dataset, data_dir)
    images, labels = load_mnist_format(root, "train")
    test_images, test_labels = load_mnist_format(root, "test")
    classes = int(max(labels.max(), test_labels.max())) + 1
    return LabelledReference(
        images[:, None],
        labels,
        classes,
        f"{dataset} train split",
        test_images[:, None],
        test_labels,
    )


def folder_extractor(path: str | os.PathLike[str], image_size: int) -> Any:
    """The ``train`` extractor of a folder with one sub-folder per class: trained on its
    images at ``image_size`` (the size of the images it will score), a tenth held out."""
    from ganforge.data.image_folder import FolderImageDataset
    from ganforge.features import get_extractor

    folder = FolderImageDataset(path, image_size=image_size)
    return get_extractor("train", reference=reference_from_dataset(folder))


def reference_extractor(
    extractor: Any,
    reference: Any,
    data_dir: str | None = None,
    extractor_kwargs: dict[str, Any] | None = None,
) -> Any:
    """Build ``extractor`` for scoring against ``reference``. ``"train"`` without a
    ``reference`` argument trains on the labelled splits of the named reference dataset
    (``"mnist"``, ``"mnist:test"``, ...); real images alone carry no labels to train on."""
    from ganforge.features import get_extractor

    kwargs = dict(extractor_kwargs or {})
    if extractor == "train" and "reference" not in kwargs:
        if not isinstance(reference, str) or reference.endswith(".npz"):
            raise ConfigError(
                "the 'train' extractor needs a labelled reference to train on: a dataset "
                "name (mnist with data_dir, fashion-mnist) or a folder with one sub-folder "
                "per class (see folder_extractor)"
            )
        kwargs["reference"] = named_reference(reference.partition(":")[0], data_dir)
    return get_extractor(extractor, **kwargs)


def load_reference_images(
    dataset: str, split: str, n: int | None = None, data_dir: str | None = None
) -> np.ndarray:
    """First ``n`` images (uint8 (n, 28, 28)) of a named MNIST-format dataset split.

    ``dataset``: ``"fashion-mnist"`` (default location: Debian's dataset-fashion-mnist)
    or ``"mnist"`` (needs ``data_dir``).
    """
    images, _ = load_mnist_format(_dataset_root(dataset, data_dir), split)
    if n is not None:
        if n > len(images):
            raise DataError(
                f"n={n} exceeds the {len(images)} images of the {dataset} {split} split"
            )
        images = images[:n]
    return images


def _fingerprint(extractor: Any) -> str | None:
    """Short content hash of the extractor's weights file; None when not cacheable."""
    path = getattr(extractor, "weights", None) or getattr(extractor, "path", None)
    if extractor.name == "pixels":
        return "none"
    if path is None or not Path(path).is_file():
        return None
    return sha256_file(path)[:12]


def _save_reference(path: Path, ref: ReferenceSet) -> None:
    arrays: dict[str, np.ndarray] = {
        "mu": ref.stats.mu,
        "sigma": ref.stats.sigma,
        "n": np.asarray(ref.stats.n, dtype=np.int64),
        "protocol": np.asarray(json.dumps(ref.protocol, sort_keys=True)),
    }
    if ref.features is not None:
        arrays["features"] = ref.features
    if ref.probs is not None:
        arrays["probs"] = ref.probs
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write(path, lambda tmp: tmp.write_bytes(buf.getvalue()))


def _load_reference(path: Path) -> ReferenceSet | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            protocol = json.loads(str(z["protocol"]))
            stats = FeatureStats(z["mu"], z["sigma"], int(z["n"]), meta=protocol)
            feats = z["features"] if "features" in z.files else None
            probs = z["probs"] if "probs" in z.files else None
    except (OSError, KeyError, ValueError):
        return None  # a damaged cache entry is recomputed, not trusted
    return ReferenceSet(feats, stats, probs, protocol)


def reference_set(
    dataset: str = "fashion-mnist",
    split: str = "test",
    n: int = DEFAULTS["n"],
    extractor: Any = DEFAULTS["extractor"],
    data_dir: str | None = None,
    batch_size: int = DEFAULTS["batch_size"],
    use_cache: bool = True,
    extractor_kwargs: dict[str, Any] | None = None,
) -> ReferenceSet:
    """Features and statistics of the first ``n`` images of a dataset split, cached.

    The cache key is (extractor name + weights hash, dataset, split, n, hash of the
    images themselves), so a different ``data_dir`` or changed files never reuse stale
    features; extractors without a weights file (wrapped modules) are never cached.
    """
    ext = reference_extractor(extractor, dataset, data_dir, extractor_kwargs)
    fp = _fingerprint(ext)
    images = load_reference_images(dataset, split, n, data_dir)
    data_hash = hashlib.sha256(np.ascontiguousarray(images).data).hexdigest()[:12]
    key = f"{ext.name}-{fp}-{dataset}-{split}-n{n}-{data_hash}-v{_CACHE_VERSION}.npz"
    path = cache_dir() / "reference" / key
    if use_cache and fp is not None and path.is_file():
        ref = _load_reference(path)
        if ref is not None:
            return ref
    out = ext.extract(images, batch_size=batch_size)
    protocol = {
        "extractor": ext.name,
        "extractor_fingerprint": fp,
        "dataset": dataset,
        "split": split,
        "n": int(len(images)),
        "resize": ext.resize_for(images.shape),
    }
    ref = ReferenceSet(out.features, feature_statistics(out.features), out.probs, protocol)
    if use_cache and fp is not None:
        _save_reference(path, ref)
    return ref
