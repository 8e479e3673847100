"""The image metrics, registered for data kind ``image``.

Each function reads :class:`ImageInputs` -- extractor outputs of the generated and the
real images, the settings, and for run evaluations the generated images and their labels
-- and returns its values, ``None`` when it does not apply (no classifier head, no
labels), or raises :class:`~ganforge.evaluation.registry.MetricSkipped` when the
reference holds statistics only. The definitions are in :mod:`ganforge.metrics`; what
each number means is in ``docs/METRICS.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ganforge.errors import ConfigError
from ganforge.evaluation.registry import MetricSkipped, register_metric
from ganforge.metrics.classifier_score import inception_score
from ganforge.metrics.frechet import feature_statistics, frechet_distance
from ganforge.metrics.kernel_distance import kid
from ganforge.metrics.labels import label_accuracy
from ganforge.metrics.manifold import prdc
from ganforge.metrics.modes import class_mode_coverage

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


@dataclass(frozen=True)
class ImageSettings:
    """KID subsets and their size (capped at the counts), the k of PRDC's k-NN radii,
    the splits of the classifier score, the seed of the KID subsets."""

    kid_subsets: int = DEFAULTS["kid_subsets"]
    kid_subset_size: int = DEFAULTS["kid_subset_size"]
    prdc_k: int = DEFAULTS["prdc_k"]
    is_splits: int = DEFAULTS["is_splits"]
    seed: int = DEFAULTS["seed"]


@dataclass(frozen=True)
class ImageInputs:
    """What the image metric functions read.

    ``fake``: :class:`~ganforge.features.base.ExtractedFeatures` of the evaluated images;
    ``real``: a :class:`~ganforge.evaluation.references.ReferenceSet`. For run
    evaluations also ``images`` (the evaluated uint8 images), ``labels`` (the class each
    was generated for, or the true class of real images) with the ``classifier`` that
    reads them and ``num_classes``, and ``stacked`` (every uint8 ``(N, 3, 28, 28)``
    image of a stacked dataset, whose label triples are the 1000 modes).
    """

    fake: Any
    real: Any
    settings: ImageSettings = ImageSettings()
    images: np.ndarray | None = None
    labels: np.ndarray | None = None
    classifier: Any = None  # a registered extractor name or a built extractor
    num_classes: int | None = None
    stacked: np.ndarray | None = None


def _need_real_features(x: ImageInputs) -> np.ndarray:
    if x.real.features is None:
        raise MetricSkipped  # statistics alone give FID only
    return x.real.features


def _fid(x: ImageInputs) -> dict[str, Any]:
    ref = x.real
    fake_stats = feature_statistics(x.fake.features, name="fake features")
    if ref.features is not None and ref.features.shape[0] != ref.stats.n:
        real_stats = feature_statistics(ref.features)
    else:
        real_stats = ref.stats
    return {
        "fid": frechet_distance(real_stats.mu, real_stats.sigma, fake_stats.mu, fake_stats.sigma)
    }


def _kid(x: ImageInputs) -> dict[str, Any]:
    s = x.settings
    k = kid(_need_real_features(x), x.fake.features, s.kid_subsets, s.kid_subset_size, s.seed)
    return {
        "kid": k["mean"],
        "kid_std": k["std"],
        "protocol": {"kid_subset_size": k["subset_size"]},
    }


def _prdc(x: ImageInputs) -> dict[str, Any]:
    p = prdc(_need_real_features(x), x.fake.features, k=x.settings.prdc_k)
    return {name: p[name] for name in ("precision", "recall", "density", "coverage")}


def _classifier_score(x: ImageInputs) -> dict[str, Any] | None:
    """IS with the extractor's classifier, and the same score of the real set."""
    if x.fake.probs is None:
        return None
    s = inception_score(x.fake.probs, splits=min(x.settings.is_splits, len(x.fake.probs)))
    out = {"classifier_score": s["mean"], "classifier_score_std": s["std"]}
    if x.real.probs is not None:
        splits = min(x.settings.is_splits, len(x.real.probs))
        out["real_classifier_score"] = inception_score(x.real.probs, splits=splits)["mean"]
    return out


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


def _modes(x: ImageInputs) -> dict[str, Any] | None:
    """Modes: the 1000 label triples of stacked data, else the classifier's classes."""
    if x.stacked is not None:
        return stacked_modes(x.stacked)
    if x.fake.probs is None:
        return None
    modes = class_mode_coverage(x.fake.probs, x.fake.probs.shape[1])
    return {
        "modes_covered": modes["modes_covered"],
        "mode_kl": modes["kl_to_uniform"],
        "class_histogram": modes["histogram"],
    }


def _label_accuracy(x: ImageInputs) -> dict[str, Any] | None:
    """How often the dataset's classifier reads each image as its label."""
    if x.labels is None or not x.classifier or not x.num_classes:
        return None
    from ganforge.features import get_extractor

    probs = get_extractor(x.classifier).extract(x.images).probs
    if probs is None:
        raise ConfigError(f"extractor {x.classifier!r} has no class outputs")
    return label_accuracy(probs, np.asarray(x.labels)[: len(x.images)], int(x.num_classes))


register_metric("fid", False, _fid, kind="image", summary=True)
register_metric("kid", False, _kid, kind="image", summary=True)
for _name in ("precision", "recall", "density", "coverage"):
    register_metric(_name, True, _prdc, kind="image")
register_metric("classifier_score", True, _classifier_score, kind="image")
register_metric("modes_covered", True, _modes, kind="image", summary=True)
register_metric("mode_kl", False, _modes, kind="image")
register_metric("reverse_kl", False, _modes, kind="image", summary=True)
register_metric("label_accuracy", True, _label_accuracy, kind="image")
register_metric("label_accuracy_min", True, _label_accuracy, kind="image")
