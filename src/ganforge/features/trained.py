"""A classifier trained on the reference data, for labelled images no shipped extractor
was trained on (MNIST digits, a labelled image folder).

:class:`~ganforge.features.cnn.MnistCNN` is trained once on the reference's labelled
training split (seeded, CPU, :class:`Recipe`), its accuracy measured on the test split
(or, without one, on a seeded tenth of the training split held out from training), and
its weights cached as safetensors under ``cache_dir()/extractors``, keyed by the SHA-256
of the training images and labels, the test images and labels and the recipe: the same
data gives the same file without training again; changed data trains a new one. The
extractor then gives 128-d features and class probabilities like ``fashion-cnn``, and
its protocol says "trained on the reference data, test accuracy X%".

Only real data reaches the training: a :class:`LabelledReference` is built from a
dataset's training split (:func:`reference_from_dataset`, which reads the dataset's own
images, never samples handed to an evaluator) or from a named dataset's files
(:func:`ganforge.evaluation.references.named_reference`).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ganforge.errors import ConfigError, DataError
from ganforge.features.base import CNNExtractor, PixelExtractor
from ganforge.features.cnn import MnistCNN, save_cnn
from ganforge.files import cache_dir
from ganforge.pixels import from_uint8

__all__ = [
    "DEFAULT_RECIPE",
    "RECIPE_VERSION",
    "LabelledReference",
    "Recipe",
    "TrainedCNNExtractor",
    "reference_from_dataset",
    "reference_key",
    "train_classifier",
    "trained_extractor",
]

#: Changes whenever the training code changes what a recipe produces.
RECIPE_VERSION = "trained-cnn/1"
#: Input size of the network; other sizes are resized bilinearly, as for ``fashion-cnn``.
INPUT_SIZE = (28, 28)


@dataclass(frozen=True)
class Recipe:
    """How the classifier is trained: ``epochs`` passes over the training images in
    batches of ``batch_size``, but at least ``min_steps`` optimizer steps (small sets need
    more passes) and at most ``max_steps`` (a few CPU minutes: one pass over MNIST's
    60,000 images is 469 steps); AdamW (``lr``, ``weight_decay``) with a one-cycle
    schedule; initialisation, shuffling, dropout and the hold-out drawn from ``seed``.
    ``holdout``: share of the training split kept for the accuracy when the reference
    has no test split."""

    epochs: int = 1
    min_steps: int = 200
    max_steps: int = 600
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    holdout: float = 0.1

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "max_steps"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(f"recipe {name} must be a positive integer")
        if not 0.0 < self.holdout < 1.0:
            raise ConfigError(f"recipe holdout must lie in (0, 1), got {self.holdout}")

    def describe(self) -> str:
        """The recipe as one string: part of the cache key and of the weights' metadata."""
        return RECIPE_VERSION + ";" + ";".join(f"{k}={v}" for k, v in asdict(self).items())


#: The recipe used when none is given.
DEFAULT_RECIPE = Recipe()


@dataclass(frozen=True)
class LabelledReference:
    """Real labelled images to train on: ``images`` uint8 ``(N, C, H, W)``, ``labels``
    int64 ``(N,)`` in ``[0, num_classes)``, optional test split alike, and ``source``,
    a short description for the protocol (e.g. ``"mnist train split"``)."""

    images: np.ndarray
    labels: np.ndarray
    num_classes: int
    source: str
    test_images: np.ndarray | None = None
    test_labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        _check_split(self.images, self.labels, self.num_classes, self.source)
        if self.num_classes < 2:
            raise DataError(f"{self.source}: a classifier needs at least two classes")
        if (self.test_images is None) != (self.test_labels is None):
            raise DataError(f"{self.source}: test images and test labels go together")
        if self.test_images is not None:
            _check_split(self.test_images, self.test_labels, self.num_classes, "test split")
            if self.test_images.shape[1:] != self.images.shape[1:]:
                raise DataError(
                    f"{self.source}: test images {self.test_images.shape[1:]} and training "
                    f"images {self.images.shape[1:]} differ in shape"
                )


def _check_split(images: Any, labels: Any, num_classes: int, name: str) -> None:
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4:
        raise DataError(f"{name}: images must be a uint8 array (N, C, H, W)")
    if images.shape[1] not in (1, 3):
        raise DataError(f"{name}: images must have 1 or 3 channels, got {images.shape[1]}")
    labels = np.asarray(labels)
    if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{name}: needs one integer label per image")
    if len(images) == 0:
        raise DataError(f"{name}: no images")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise DataError(f"{name}: labels must lie in [0, {num_classes})")


def reference_from_dataset(dataset: Any) -> LabelledReference:
    """The labelled training split of an image dataset (its own real images, all of
    them, in order) and its test split when the dataset has one (``test_split()``)."""
    if getattr(dataset, "kind", None) != "image":
        raise ConfigError("a classifier trained on the reference data needs image data")
    images, labels = dataset.labelled_training_split()
    test = getattr(dataset, "test_split", None)
    test_images, test_labels = test() if test is not None else (None, None)
    return LabelledReference(
        np.asarray(images),
        np.asarray(labels, dtype=np.int64),
        int(dataset.num_classes or int(np.max(labels)) + 1),
        f"{dataset.name} {getattr(dataset, 'real_split', 'train')} split",
        test_images,
        None if test_labels is None else np.asarray(test_labels, dtype=np.int64),
    )


def reference_key(ref: LabelledReference, recipe: Recipe) -> str:
    """Hex SHA-256 of the recipe, the classes and every image and label (shape, type and
    bytes) of both splits: what the cached weights were trained and tested on."""
    h = hashlib.sha256(f"{recipe.describe()};classes={ref.num_classes}".encode())
    for arr in (ref.images, ref.labels, ref.test_images, ref.test_labels):
        if arr is None:
            h.update(b"|none")
            continue
        arr = np.ascontiguousarray(arr)
        h.update(f"|{arr.dtype.str}{arr.shape}".encode())
        h.update(arr.data)
    return h.hexdigest()


def _inputs(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float32 (N, C, 28, 28) in [-1, 1], resized as the extractor
    resizes (the same ``prepare``)."""
    prep = PixelExtractor(size=INPUT_SIZE, channels=images.shape[1])
    chunks = []
    for start in range(0, len(images), 4096):
        x = torch.from_numpy(np.ascontiguousarray(images[start : start + 4096]))
        chunks.append(prep.prepare(from_uint8(x)))
    return torch.cat(chunks)


def _split(ref: LabelledReference, recipe: Recipe) -> tuple[np.ndarray, ...]:
    """``(train images, train labels, test images, test labels)``: the reference's test
    split, else a seeded ``holdout`` share of its training split (none below 10 images)."""
    if ref.test_images is not None:
        return ref.images, ref.labels, ref.test_images, ref.test_labels
    n = len(ref.images)
    n_test = int(round(recipe.holdout * n)) if n >= 10 else 0
    if n_test == 0:
        return ref.images, ref.labels, ref.images[:0], ref.labels[:0]
    perm = np.random.default_rng(recipe.seed).permutation(n)
    test, train = np.sort(perm[:n_test]), np.sort(perm[n_test:])
    return ref.images[train], ref.labels[train], ref.images[test], ref.labels[test]


@torch.inference_mode()
def _accuracy(model: MnistCNN, x: torch.Tensor, y: torch.Tensor) -> float | None:
    if len(x) == 0:
        return None
    model.eval()
    hits = sum(
        int((model(x[i : i + 1000])[1].argmax(1) == y[i : i + 1000]).sum())
        for i in range(0, len(x), 1000)
    )
    return hits / len(x)


def train_classifier(
    ref: LabelledReference, recipe: Recipe | None = None
) -> tuple[MnistCNN, dict[str, str]]:
    """Train :class:`MnistCNN` on ``ref`` with ``recipe``; returns ``(model.eval(),
    metadata)`` with the test accuracy, the images of each split and the seconds taken.
    The global torch RNG is left as it was (a run evaluated mid-training keeps its random
    stream)."""
    recipe = recipe if recipe is not None else DEFAULT_RECIPE
    started = time.perf_counter()
    xtr, ytr, xte, yte = _split(ref, recipe)
    x, y = _inputs(xtr), torch.from_numpy(np.asarray(ytr, dtype=np.int64))
    batch = min(recipe.batch_size, len(x))
    per_epoch = math.ceil(len(x) / batch)
    steps = min(max(recipe.epochs * per_epoch, recipe.min_steps), recipe.max_steps)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        gen = torch.Generator().manual_seed(recipe.seed)
        model = MnistCNN(ref.num_classes, in_channels=ref.images.shape[1])
        opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe.lr, total_steps=steps)
        model.train()
        step = 0
        while step < steps:
            perm = torch.randperm(len(x), generator=gen)
            for i in range(0, per_epoch * batch, batch):
                if step == steps:
                    break
                idx = perm[i : i + batch]
                loss = F.cross_entropy(model(x[idx])[1], y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                step += 1
    acc = _accuracy(model, _inputs(xte), torch.from_numpy(np.asarray(yte, dtype=np.int64)))
    test = "of the test split" if ref.test_images is not None else "held out of the training split"
    meta = {
        "test_accuracy": "" if acc is None else f"{acc:.4f}",
        "test_images": str(len(xte)),
        "test_set": test,
        "train_images": str(len(xtr)),
        "steps": str(steps),
        "train_seconds": f"{time.perf_counter() - started:.1f}",
    }
    return model.eval(), meta


class TrainedCNNExtractor(CNNExtractor):
    """A :class:`CNNExtractor` whose weights were trained on the reference data; its
    protocol says so, with the test accuracy and the data's SHA-256."""

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        meta = self.metadata
        acc = meta.get("test_accuracy") or None
        said = f"{100 * float(acc):.2f}%" if acc else "not measured (under 10 images)"
        info.update(
            {
                "test_accuracy": float(acc) if acc else None,
                "extractor_trained_on": meta.get("trained_on"),
                "extractor_note": (
                    f"trained on the reference data, test accuracy {said} "
                    f"({meta.get('test_images')} images {meta.get('test_set')}; trained on "
                    f"{meta.get('train_images')} images of the {meta.get('trained_on')})"
                ),
                "extractor_data_sha256": meta.get("data_sha256"),
                "extractor_recipe": meta.get("recipe"),
            }
        )
        return info


def _cached(path: Path, key: str) -> TrainedCNNExtractor | None:
    """The extractor cached at ``path`` when it holds weights for ``key``; a damaged or
    foreign file is retrained, not trusted."""
    if not path.is_file():
        return None
    try:
        ext = TrainedCNNExtractor("trained-cnn", path)
    except DataError:
        return None
    return ext if ext.metadata.get("data_sha256") == key else None


def trained_extractor(
    ref: LabelledReference, recipe: Recipe | None = None, use_cache: bool = True
) -> TrainedCNNExtractor:
    """The ``trained-cnn`` extractor of ``ref``: loaded from the cache when these exact
    data and recipe trained it before, else trained now (:func:`train_classifier`) and
    cached under ``cache_dir()/extractors/trained-cnn-<sha256[:20]>.safetensors``.
    ``recipe``: default :data:`DEFAULT_RECIPE`."""
    recipe = recipe if recipe is not None else DEFAULT_RECIPE
    if not isinstance(ref, LabelledReference):
        raise TypeError(f"ref must be a LabelledReference, got {type(ref).__name__}")
    key = reference_key(ref, recipe)
    path = cache_dir() / "extractors" / f"trained-cnn-{key[:20]}.safetensors"
    with torch.random.fork_rng(devices=[]):  # building a model draws initial weights
        hit = _cached(path, key) if use_cache else None
        if hit is not None:
            return hit
        model, meta = train_classifier(ref, recipe)
        meta.update({"data_sha256": key, "recipe": recipe.describe(), "trained_on": ref.source})
        save_cnn(model, path, meta)
        return TrainedCNNExtractor("trained-cnn", path)
