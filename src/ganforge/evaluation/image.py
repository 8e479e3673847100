"""Evaluation of images, for image sets and for runs.

Chain: images -> extractor features (and class probabilities) -> every metric registered
for kind ``image`` (:mod:`~ganforge.evaluation.image_metrics`). Every result carries a
``protocol`` dict (extractor, sample counts, split, resize, settings), since none of
these numbers means anything without it, and the seconds each stage took.

- :func:`evaluate_images`: generated images against real images, a named dataset split
  (features cached, :mod:`~ganforge.evaluation.references`) or saved statistics.
- :func:`real_vs_real_floor`: the floor of such an evaluation against a named split.
- :func:`evaluate_image_samples`: the evaluator of image runs (trainer, ``ganforge
  evaluate RUN``), with its floor from a second sample of the run's dataset.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from ganforge.errors import ConfigError, DataError
from ganforge.evaluation.floor import add_floor
from ganforge.evaluation.image_metrics import DEFAULTS, ImageInputs, ImageSettings
from ganforge.evaluation.references import (
    ReferenceSet,
    load_reference_images,
    reference_extractor,
    reference_set,
)
from ganforge.evaluation.registry import compute_metrics, register_evaluator
from ganforge.features.stacked import StackedExtractor
from ganforge.features.trained import reference_from_dataset
from ganforge.metrics.frechet import FeatureStats, feature_statistics, load_statistics

__all__ = [
    "DEFAULTS",
    "ReferenceSet",
    "evaluate_image_samples",
    "evaluate_images",
    "load_reference_images",
    "real_vs_real_floor",
    "reference_set",
    "use_extractor",
]


def _take(x: Any, n: int | None, name: str) -> Any:
    if n is None:
        return x
    if len(x) < n:
        raise DataError(f"n={n} but only {len(x)} {name} were given")
    return x[:n]


def _features(images: Any, ext: Any, batch_size: int) -> ReferenceSet:
    out = ext.extract(images, batch_size=batch_size)
    return ReferenceSet(out.features, feature_statistics(out.features), out.probs, {})


def _reference(
    real: Any, ext: Any, n: int | None, n_fake: int, split: str | None, **load: Any
) -> tuple[ReferenceSet, str | None, str | None]:
    """The real side of :func:`evaluate_images`: ``(reference, dataset name, split)``."""
    if isinstance(real, (str, os.PathLike)) and str(real).endswith(".npz"):
        real = load_statistics(real)
    if isinstance(real, str):
        dataset, _, ds_split = real.partition(":")
        ds_split = ds_split or "test"
        return reference_set(dataset, ds_split, n or n_fake, ext, **load), dataset, ds_split
    if isinstance(real, ReferenceSet):
        if real.features is not None and n is not None:
            features = _take(real.features, n, "real features")
            real = ReferenceSet(features, real.stats, real.probs, real.protocol)
        return real, real.protocol.get("dataset"), split or real.protocol.get("split")
    if isinstance(real, FeatureStats):
        ref = ReferenceSet(None, real, None, dict(real.meta))
        return ref, real.meta.get("dataset"), split or real.meta.get("split")
    return _features(_take(real, n, "real images"), ext, load["batch_size"]), None, split


def _score(
    fake_images: Any,
    ref: ReferenceSet,
    ext: Any,
    settings: ImageSettings,
    batch_size: int,
    real_seconds: float,
    **extra: Any,
) -> dict[str, Any]:
    """Extract ``fake_images``' features and compute every image metric against ``ref``."""
    started = time.perf_counter()
    fake = ext.extract(fake_images, batch_size=batch_size)
    seconds = {"real": real_seconds, "extract_fake": time.perf_counter() - started}
    if fake.features.shape[1] != ref.stats.dim:
        raise DataError(
            f"real features have {ref.stats.dim} dimensions but extractor "
            f"{ext.name!r} gives {fake.features.shape[1]}"
        )
    results = compute_metrics("image", ImageInputs(fake, ref, settings, **extra))
    seconds.update(results.seconds)
    seconds["total"] = real_seconds + time.perf_counter() - started
    n_fake = len(fake_images)
    protocol = {
        **ext.describe(),
        "n_real": int(ref.features.shape[0]) if ref.features is not None else int(ref.stats.n),
        "n_fake": n_fake,
        "resize": ext.resize_for(tuple(np.shape(fake_images)[-2:])),
        "kid_subsets": settings.kid_subsets,
        "kid_subset_size": results.protocol.get("kid_subset_size"),
        "prdc_k": settings.prdc_k,
        "is_splits": min(settings.is_splits, n_fake),
        "seed": settings.seed,
        "skipped": results.skipped,
    }
    seconds = {k: round(v, 3) for k, v in seconds.items()}
    return {**results.values, "protocol": protocol, "seconds": seconds}


def evaluate_images(
    fake_images: Any,
    real_images_or_stats: Any = "fashion-mnist",
    extractor: Any = DEFAULTS["extractor"],
    n: int | None = None,
    *,
    split: str | None = None,
    data_dir: str | None = None,
    batch_size: int = DEFAULTS["batch_size"],
    kid_subsets: int = DEFAULTS["kid_subsets"],
    kid_subset_size: int = DEFAULTS["kid_subset_size"],
    prdc_k: int = DEFAULTS["prdc_k"],
    is_splits: int = DEFAULTS["is_splits"],
    seed: int = DEFAULTS["seed"],
    use_cache: bool = True,
    extractor_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every image metric of ``fake_images`` ((N, [C,] H, W), uint8 or floats in
    [-1, 1]) against ``real_images_or_stats``: real images; a dataset name with an
    optional split (``"fashion-mnist:train"``, default split ``test``; features cached);
    a :class:`ReferenceSet`; or :class:`~ganforge.metrics.frechet.FeatureStats` or a path to
    a statistics ``.npz`` (FID only; the rest is listed in ``protocol.skipped``).

    ``n``: samples used from each side (default: all fake, as many real). ``split``:
    recorded for real images passed directly. KID (``kid_subsets`` of
    ``kid_subset_size``, seeded by ``seed``), PRDC (``prdc_k``) and the classifier score
    (``is_splits``) settings as in :data:`DEFAULTS`. Returns the metrics flat, with
    companion values (``kid_std``, ``class_histogram``, ``real_classifier_score``, ...),
    ``protocol`` and ``seconds`` (per stage; ``real``: loading the reference).
    """
    started = time.perf_counter()
    ext = reference_extractor(extractor, real_images_or_stats, data_dir, extractor_kwargs)
    if n is not None and (not isinstance(n, int) or n < 2):
        raise ConfigError(f"n must be an integer >= 2, got {n!r}")
    fake_images = _take(fake_images, n, "fake images")
    load = {"data_dir": data_dir, "batch_size": batch_size, "use_cache": use_cache}
    ref, dataset, split = _reference(real_images_or_stats, ext, n, len(fake_images), split, **load)
    settings = ImageSettings(kid_subsets, kid_subset_size, prdc_k, is_splits, seed)
    real_seconds = time.perf_counter() - started
    result = _score(fake_images, ref, ext, settings, batch_size, real_seconds)
    result["protocol"].update({"dataset": dataset, "split": split})
    return result


def real_vs_real_floor(
    dataset: str = "fashion-mnist",
    extractor: Any = DEFAULTS["extractor"],
    n: int = DEFAULTS["n"],
    data_dir: str | None = None,
    split: str = "test",
    **kwargs: Any,
) -> dict[str, Any]:
    """The real-vs-real floor of an evaluation against ``dataset:split`` (see
    :mod:`~ganforge.evaluation.floor`): ``n`` training images scored as if generated --
    the first ``n`` of the train split against the test split, or the next ``n``
    (images ``n`` to ``2n - 1``) against the train split's first ``n``.

    This is the best any generator can be expected to score at this ``n`` with this
    extractor: FID and KID of real data are not 0 at finite N, precision and recall
    of real data are not 1. Report it beside generated-sample numbers.
    """
    split = split or "test"
    start = n if split == "train" else 0
    train = load_reference_images(dataset, "train", start + n, data_dir)[start:]
    result = evaluate_images(train, f"{dataset}:{split}", extractor, n, data_dir=data_dir, **kwargs)
    which = f"first {n}" if start == 0 else f"images {start} to {start + n - 1}"
    result["protocol"]["fake"] = f"{dataset} train split ({which})"
    return result


# ---------------------------------------------------------------- runs

#: Fixed sample cap of FID/KID/PRDC (mode counting of stacked data uses every sample).
FEATURE_METRIC_CAP = 10_000
PIXEL_SIZE = 8  # pixel features: 8x8 (64-d grey, 192-d RGB) keep sqrtm cheap


def _extractor_for(dataset: Any) -> tuple[Any, str]:
    """The extractor of a run's evaluation and its protocol name. It sees the dataset
    only -- never the generated samples -- so a classifier trained on the reference data
    (``dataset.extractor == "train"``) learns from the dataset's own training split."""
    from ganforge.features import get_extractor

    chosen = getattr(dataset, "extractor", None)
    if chosen == "train":
        ext = get_extractor("train", reference=reference_from_dataset(dataset))
        return ext, ext.name
    if chosen is not None:
        ext = get_extractor(chosen)
        return ext, ext.name
    c, h, w = dataset.shape
    if (c, h, w) == (1, 28, 28):
        return get_extractor("fashion-cnn"), "fashion-cnn"
    if getattr(dataset, "stacked", False) and (h, w) == (28, 28):
        return StackedExtractor(), "fashion-cnn per channel"
    size = (PIXEL_SIZE, PIXEL_SIZE) if max(h, w) > PIXEL_SIZE else None
    return get_extractor("pixels", size=size), "pixels"


def use_extractor(dataset: Any, extractor: str) -> None:
    """Make ``dataset``'s evaluations use ``extractor`` (a registered name; ``"train"``:
    a classifier trained on its labelled training split, which also reads the labels of
    a conditional run's samples)."""
    from ganforge.features import list_extractors

    if getattr(dataset, "kind", None) != "image":
        raise ConfigError(f"an extractor applies to image runs only, not {dataset.name!r}")
    if extractor not in list_extractors():
        raise ConfigError(f"unknown extractor {extractor!r}; known: {', '.join(list_extractors())}")
    dataset.extractor = extractor
    if extractor == "train":
        dataset.label_classifier = "train"


def _two_real_samples(
    dataset: Any, m: int, seed: int, labelled: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The reference and the floor's second sample: ``m`` images each, no image shared;
    with ``labelled``, also the second sample's labels."""
    if labelled:
        both, labels = dataset.sample_real_labelled(2 * m, seed=seed + 1_000_003)
        return both[:m], both[m : 2 * m], np.asarray(labels)[m : 2 * m]
    both = dataset.sample_real(2 * m, seed=seed + 1_000_003)  # distinct images
    return both[:m], both[m : 2 * m], None


def evaluate_image_samples(
    dataset: Any, fake: np.ndarray, n: int, seed: int = 0, labels: np.ndarray | None = None
) -> dict[str, Any]:
    """Evaluator for data kind ``image``: every image metric of uint8 ``fake`` against
    ``m = min(len(fake), n, 10,000)`` real images, with the same numbers for a second,
    disjoint real sample as ``real_vs_real``. Extractor: the dataset's own choice
    (``dataset.extractor``; ``mnist``: a classifier trained on its training split), else
    ``fashion-cnn`` for 28x28 greyscale data, ``fashion-cnn`` per channel for stacked
    data, else pixels (downsampled to 8x8). Stacked data count the 1000 label triples over every sample;
    conditional runs (``labels``) of a dataset with a ``label_classifier`` get
    ``label_accuracy``."""
    started = time.perf_counter()
    fake = np.asarray(fake)
    m = min(len(fake), n, FEATURE_METRIC_CAP)
    size = getattr(dataset, "size", None)
    if size is not None and 2 * m > size:  # the two real samples must not share images
        m = max(2, size // 2)
    ext, ext_name = _extractor_for(dataset)
    classifier = getattr(dataset, "label_classifier", None)
    if classifier == "train":  # the classifier trained on this dataset's labels
        classifier = ext if ext_name == "trained-cnn" else None
    labelled = labels is not None and bool(classifier) and bool(dataset.num_classes)
    real, second, second_labels = _two_real_samples(dataset, m, seed, labelled)
    ref = _features(real, ext, DEFAULTS["batch_size"])
    stacked = getattr(dataset, "stacked", False)
    common = {"classifier": classifier, "num_classes": dataset.num_classes}

    def score(images: np.ndarray, labels: Any, every: np.ndarray, seconds: float) -> dict:
        return _score(
            images[:m],
            ref,
            ext,
            ImageSettings(seed=seed),
            DEFAULTS["batch_size"],
            seconds,
            images=images[:m],
            labels=labels if labelled else None,
            stacked=every if stacked else None,
            **common,
        )

    out = score(fake, labels, fake, time.perf_counter() - started)
    floor = score(second, second_labels, second, 0.0)
    if "label_accuracy_by_class" in floor:
        out["real_label_accuracy_by_class"] = floor["label_accuracy_by_class"]
    add_floor(out, floor)
    out["protocol"].update(
        {
            "extractor": ext_name,
            "dataset": dataset.name,
            "split": getattr(dataset, "real_split", "train"),
            "n_modes": int(len(fake)) if stacked else None,
            "seed": int(seed),
        }
    )
    return out


register_evaluator("image", evaluate_image_samples)
