"""Evaluation of images: every image metric at once, for image sets and for runs.

Chain: images -> extractor features (and class probabilities) -> FID, KID,
precision/recall/density/coverage, classifier score and class histogram. Every result
carries a ``protocol`` dict (extractor, sample counts, split, resize, settings), since
none of these numbers means anything without it.

Real features of named datasets (``"fashion-mnist"``, or ``"mnist"`` with a data
directory) are cached per (extractor + weights fingerprint, dataset, split, N) under
``$GANFORGE_CACHE`` (default ``~/.cache/ganforge``), written atomically.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganforge.evaluation.registry import register_evaluator, register_metric
from ganforge.features.stacked import StackedExtractor
from ganforge.files import cache_dir, sha256_file
from ganforge.metrics.fid import FeatureStats, feature_statistics, frechet_distance
from ganforge.metrics.inception_score import inception_score
from ganforge.metrics.kid import kid
from ganforge.metrics.labels import label_accuracy
from ganforge.metrics.modes import class_mode_coverage
from ganforge.metrics.prdc import prdc

__all__ = [
    "DEFAULTS",
    "ReferenceSet",
    "evaluate_images",
    "load_reference_images",
    "real_vs_real_floor",
    "reference_set",
]

#: Defaults shared by the library functions and the CLI.
DEFAULTS: dict[str, Any] = {
    "extractor": "fashion-cnn",
    "n": 10_000,
    "batch_size": 500,
    "kid_subsets": 100,
    "kid_subset_size": 1000,
    "prdc_k": 5,
    "is_splits": 10,
    "seed": 0,
}

_CACHE_VERSION = 1


@dataclass(frozen=True)
class ReferenceSet:
    """Real-data features (N, D), optional probabilities (N, C), their statistics and
    provenance (``protocol``: extractor, dataset, split, n)."""

    features: np.ndarray | None
    stats: FeatureStats
    probs: np.ndarray | None = None
    protocol: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- real data


def load_reference_images(
    dataset: str, split: str, n: int | None = None, data_dir: str | None = None
) -> np.ndarray:
    """First ``n`` images (uint8 (n, 28, 28)) of a named MNIST-format dataset split.

    ``dataset``: ``"fashion-mnist"`` (default location: Debian's dataset-fashion-mnist)
    or ``"mnist"`` (needs ``data_dir``).
    """
    from ganforge.data.idx import find_fashion_mnist, load_mnist_format

    if dataset == "fashion-mnist":
        root = find_fashion_mnist(data_dir)["train_images"].parent
    elif dataset == "mnist":
        if data_dir is None:
            raise ValueError("dataset 'mnist' needs data_dir (a directory with the IDX files)")
        root = Path(data_dir)
    else:
        raise ValueError(f"unknown reference dataset {dataset!r}; choose fashion-mnist or mnist")
    images, _ = load_mnist_format(root, split)
    if n is not None:
        if n > len(images):
            raise ValueError(
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
    from ganforge.io import atomic_write

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
    from ganforge.features import get_extractor

    ext = get_extractor(extractor, **(extractor_kwargs or {}))
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


# ---------------------------------------------------------------- evaluation


def _take(x: Any, n: int | None, name: str) -> Any:
    if n is None:
        return x
    if len(x) < n:
        raise ValueError(f"n={n} but only {len(x)} {name} were given")
    return x[:n]


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
    """All image metrics of ``fake_images`` against a real reference.

    Args:
        fake_images: (N, H, W) or (N, C, H, W); uint8 in [0, 255] or float in [-1, 1].
        real_images_or_stats: one of
            - real images (same conventions as ``fake_images``);
            - a dataset name (``"fashion-mnist"``, ``"mnist"``), optionally with a
              split as ``"fashion-mnist:train"`` (default split ``test``); its
              features are cached;
            - a :class:`ReferenceSet` (features and statistics);
            - :class:`~ganforge.metrics.fid.FeatureStats` or a path to a statistics
              ``.npz`` (FID only: KID and PRDC need real features and are skipped).
        extractor: registered name, ``FeatureExtractor`` or ``torch.nn.Module``.
        n: number of fake (and, for images or datasets, real) samples to use; default
            all fake samples, and as many real ones.
        split: label of the real split recorded in the protocol when real images are
            passed directly.
        kid_subsets, kid_subset_size: KID settings (subset size capped at the counts).
        prdc_k: k of the k-NN radii for precision/recall/density/coverage.
        is_splits: splits of the classifier score.
        seed: seed for KID subsets.

    Returns:
        Flat dict: ``fid``, ``kid``, ``kid_std``, ``precision``, ``recall``,
        ``density``, ``coverage``; with a classifier extractor also
        ``classifier_score``, ``classifier_score_std``, ``modes_covered``,
        ``mode_kl`` (KL of the predicted-class histogram to uniform) and the real
        set's ``real_classifier_score`` when known; plus ``protocol`` and
        ``seconds`` (wall time per stage: ``real`` = loading/extracting the reference).
    """
    from ganforge.features import get_extractor
    from ganforge.metrics.fid import load_statistics

    started = time.perf_counter()
    seconds: dict[str, float] = {}
    ext = get_extractor(extractor, **(extractor_kwargs or {}))
    if n is not None and (not isinstance(n, int) or n < 2):
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    fake_images = _take(fake_images, n, "fake images")
    n_fake = len(fake_images)

    # --- real side
    real = real_images_or_stats
    if isinstance(real, (str, os.PathLike)) and str(real).endswith(".npz"):
        real = load_statistics(real)
    if isinstance(real, str):
        dataset, _, ds_split = real.partition(":")
        ref = reference_set(
            dataset,
            ds_split or "test",
            n if n is not None else n_fake,
            ext,
            data_dir=data_dir,
            batch_size=batch_size,
            use_cache=use_cache,
        )
        dataset_name, split = dataset, ds_split or "test"
    elif isinstance(real, ReferenceSet):
        ref, dataset_name = real, real.protocol.get("dataset")
        split = split or real.protocol.get("split")
        if ref.features is not None and n is not None:
            ref = ReferenceSet(
                _take(ref.features, n, "real features"), ref.stats, ref.probs, ref.protocol
            )
    elif isinstance(real, FeatureStats):
        ref, dataset_name = (
            ReferenceSet(None, real, None, dict(real.meta)),
            real.meta.get("dataset"),
        )
        split = split or real.meta.get("split")
    else:
        real_images = _take(real, n, "real images")
        out = ext.extract(real_images, batch_size=batch_size)
        ref = ReferenceSet(out.features, feature_statistics(out.features), out.probs, {})
        dataset_name = None

    seconds["real"] = time.perf_counter() - started
    fake = ext.extract(fake_images, batch_size=batch_size)
    seconds["extract_fake"] = time.perf_counter() - started - seconds["real"]
    tick = time.perf_counter()
    fake_stats = feature_statistics(fake.features, name="fake features")
    if fake_stats.dim != ref.stats.dim:
        raise ValueError(
            f"real features have {ref.stats.dim} dimensions but extractor "
            f"{ext.name!r} gives {fake_stats.dim}"
        )
    n_real = int(ref.features.shape[0]) if ref.features is not None else int(ref.stats.n)
    if ref.features is not None and ref.features.shape[0] != ref.stats.n:
        ref_stats = feature_statistics(ref.features)
    else:
        ref_stats = ref.stats

    result: dict[str, Any] = {
        "fid": frechet_distance(ref_stats.mu, ref_stats.sigma, fake_stats.mu, fake_stats.sigma)
    }
    seconds["fid"] = time.perf_counter() - tick
    skipped: list[str] = []
    if ref.features is not None:
        tick = time.perf_counter()
        k = kid(ref.features, fake.features, kid_subsets, kid_subset_size, seed)
        seconds["kid"] = time.perf_counter() - tick
        result["kid"], result["kid_std"] = k["mean"], k["std"]
        tick = time.perf_counter()
        p = prdc(ref.features, fake.features, k=prdc_k)
        seconds["prdc"] = time.perf_counter() - tick
        for name in ("precision", "recall", "density", "coverage"):
            result[name] = p[name]
    else:
        skipped += ["kid", "precision", "recall", "density", "coverage"]
        k = {"subset_size": None}
    if fake.probs is not None:
        splits = min(is_splits, n_fake)
        s = inception_score(fake.probs, splits=splits)
        result["classifier_score"], result["classifier_score_std"] = s["mean"], s["std"]
        modes = class_mode_coverage(fake.probs, fake.probs.shape[1])
        result["modes_covered"] = modes["modes_covered"]
        result["mode_kl"] = modes["kl_to_uniform"]
        result["class_histogram"] = modes["histogram"]
        if ref.probs is not None:
            rs = inception_score(ref.probs, splits=min(is_splits, len(ref.probs)))
            result["real_classifier_score"] = rs["mean"]
    result["protocol"] = {
        **ext.describe(),
        "dataset": dataset_name,
        "split": split,
        "n_real": n_real,
        "n_fake": n_fake,
        "resize": ext.resize_for(tuple(np.shape(fake_images)[-2:])),
        "kid_subsets": kid_subsets,
        "kid_subset_size": k["subset_size"],
        "prdc_k": prdc_k,
        "is_splits": min(is_splits, n_fake),
        "seed": seed,
        "skipped": skipped,
    }
    seconds["total"] = time.perf_counter() - started
    result["seconds"] = {k: round(v, 3) for k, v in seconds.items()}
    return result


def real_vs_real_floor(
    dataset: str = "fashion-mnist",
    extractor: Any = DEFAULTS["extractor"],
    n: int = DEFAULTS["n"],
    data_dir: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Metrics of the train split (first ``n``) against the test split (first ``n``).

    This is the best any generator can be expected to score at this ``n`` with this
    extractor: FID and KID of real data are not 0 at finite N, precision and recall
    of real data are not 1. Report it beside generated-sample numbers.
    """
    train = load_reference_images(dataset, "train", n, data_dir)
    result = evaluate_images(train, f"{dataset}:test", extractor, n, data_dir=data_dir, **kwargs)
    result["protocol"]["fake"] = f"{dataset} train split (first {n})"
    return result


# ---------------------------------------------------------------- datasets

#: Fixed sample cap of FID/KID/PRDC (mode counting of stacked data uses every sample).
FEATURE_METRIC_CAP = 10_000
PIXEL_SIZE = 8  # pixel features: 8x8 (64-d grey, 192-d RGB) keep sqrtm cheap


def _extractor_for(dataset: Any) -> tuple[Any, str]:
    from ganforge.features import get_extractor

    c, h, w = dataset.shape
    if (c, h, w) == (1, 28, 28):
        return get_extractor("fashion-cnn"), "fashion-cnn"
    if getattr(dataset, "stacked", False) and (h, w) == (28, 28):
        return StackedExtractor(), "fashion-cnn per channel"
    size = (PIXEL_SIZE, PIXEL_SIZE) if max(h, w) > PIXEL_SIZE else None
    return get_extractor("pixels", size=size), "pixels"


def stacked_modes(images: np.ndarray, batch_size: int = 2000) -> dict[str, Any]:
    """Classify each channel of uint8 ``(N, 3, 28, 28)`` images with ``fashion-cnn`` and
    count the label triples (``100a + 10b + c``): modes covered of 1000 and
    KL(p || uniform)."""
    from ganforge.features import get_extractor

    n = len(images)
    ext = get_extractor("fashion-cnn")
    probs = ext.extract(images.reshape(n * 3, 1, *images.shape[2:]), batch_size=batch_size).probs
    digits = probs.argmax(axis=1).reshape(n, 3)
    triples = digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]
    cov = class_mode_coverage(triples, 1000)
    return {"modes_covered": cov["modes_covered"], "reverse_kl": cov["kl_to_uniform"]}


_SCALARS = (
    "fid",
    "kid",
    "precision",
    "recall",
    "density",
    "coverage",
    "classifier_score",
    "modes_covered",
    "mode_kl",
    "reverse_kl",
    "label_accuracy",
    "label_accuracy_min",
)


def _label_accuracy(
    classifier: str, images: np.ndarray, labels: np.ndarray, num_classes: int
) -> dict[str, Any]:
    from ganforge.features import get_extractor

    probs = get_extractor(classifier).extract(images).probs
    if probs is None:
        raise ValueError(f"extractor {classifier!r} has no class outputs")
    return label_accuracy(probs, labels, num_classes)


def evaluate_image_samples(
    dataset: Any, fake: np.ndarray, n: int, seed: int = 0, labels: np.ndarray | None = None
) -> dict[str, Any]:
    """Evaluator for data kind ``image``: FID, KID, precision/recall/density/coverage (and
    class statistics with a classifier) of uint8 ``fake`` against ``n`` real images, with
    the same numbers for a second real sample as ``real_vs_real``. Extractor:
    ``fashion-cnn`` for 28x28 greyscale data, ``fashion-cnn`` per channel for stacked
    data, else pixels (downsampled to 8x8). Stacked data also get ``modes_covered`` and
    ``reverse_kl`` over the 1000 label triples from every sample."""
    fake = np.asarray(fake)
    m = min(len(fake), n, FEATURE_METRIC_CAP)
    size = getattr(dataset, "size", None)
    if size is not None and 2 * m > size:  # the two real samples must not share images
        m = max(2, size // 2)
    both = dataset.sample_real(2 * m, seed=seed + 1_000_003)  # distinct images
    real, reference = both[:m], both[m : 2 * m]
    ext, ext_name = _extractor_for(dataset)
    split = getattr(dataset, "real_split", "train")
    out = evaluate_images(fake[:m], real[:m], ext, seed=seed, split=split)
    floor = evaluate_images(reference[:m], real[:m], ext, seed=seed, split=split)
    if getattr(dataset, "stacked", False):
        out.update(stacked_modes(fake))
        floor.update(stacked_modes(reference))
    classifier = getattr(dataset, "label_classifier", None)
    if labels is not None and classifier and dataset.num_classes:
        k = int(dataset.num_classes)
        out.update(_label_accuracy(classifier, fake[:m], np.asarray(labels)[:m], k))
        images, real_labels = dataset.sample_real_labelled(m, seed=seed + 3_000_003)
        floor_acc = _label_accuracy(classifier, images, real_labels, k)
        floor.update(floor_acc)
        out["real_label_accuracy_by_class"] = floor_acc["label_accuracy_by_class"]
    out["real_vs_real"] = {k: floor[k] for k in _SCALARS if k in floor}
    out["protocol"].update(
        {
            "extractor": ext_name,
            "dataset": dataset.name,
            "n_fake": int(m),
            "n_real": int(m),
            "n_modes": int(len(fake)) if getattr(dataset, "stacked", False) else None,
            "seed": int(seed),
            "real_vs_real": "a second, disjoint real sample of the same size against the "
            "same real sample",
        }
    )
    return out


register_evaluator("image", evaluate_image_samples)
for _name, _higher in (
    ("fid", False),
    ("kid", False),
    ("precision", True),
    ("recall", True),
    ("density", True),
    ("coverage", True),
    ("classifier_score", True),
    ("mode_kl", False),
    ("label_accuracy", True),
    ("label_accuracy_min", True),
):
    register_metric(_name, _higher)
