"""Conditional generators: how often a classifier gives each sample the class it was
generated for (``label_accuracy``), by hand, on real Fashion-MNIST, and through a run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import ganforge.features as features
from ganforge.api import evaluate
from ganforge.cli import main
from ganforge.data.idx import DEFAULT_FASHION_MNIST_DIR, load_mnist_format
from ganforge.data.images import ArrayImageDataset
from ganforge.evaluation.image import evaluate_image_samples
from ganforge.metrics.labels import label_accuracy
from ganforge.training.sampling import default_labels

needs_fashion = pytest.mark.skipif(
    not DEFAULT_FASHION_MNIST_DIR.is_dir(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
)


def test_label_accuracy_by_hand() -> None:
    # predicted classes 0, 0, 1, 1, 2, 0 for intended classes 0, 1, 1, 1, 2, 2
    probs = np.eye(3)[[0, 0, 1, 1, 2, 0]]
    out = label_accuracy(probs, [0, 1, 1, 1, 2, 2], 3)
    assert out["label_accuracy_by_class"] == pytest.approx([1.0, 2 / 3, 0.5])
    assert out["label_accuracy"] == pytest.approx((1 + 2 / 3 + 0.5) / 3)
    assert out["label_accuracy_min"] == pytest.approx(0.5)


def test_default_labels_cycle_through_classes() -> None:
    assert default_labels(7, 3).tolist() == [0, 1, 2, 0, 1, 2, 0]


@needs_fashion
def test_real_images_with_their_labels_and_with_wrong_ones() -> None:
    images, labels = load_mnist_format(DEFAULT_FASHION_MNIST_DIR, "test")
    images, labels = images[:1000], labels[:1000]
    probs = features.get_extractor("fashion-cnn").extract(images).probs
    right = label_accuracy(probs, labels, 10)
    wrong = label_accuracy(probs, (labels + 1) % 10, 10)
    assert right["label_accuracy"] > 0.85 and len(right["label_accuracy_by_class"]) == 10
    assert right["label_accuracy_min"] == min(right["label_accuracy_by_class"])
    assert wrong["label_accuracy"] < 0.15


@needs_fashion
def test_image_evaluator_reports_label_accuracy_and_its_floor() -> None:
    images, labels = load_mnist_format(DEFAULT_FASHION_MNIST_DIR, "test")
    ds = ArrayImageDataset("fashion-test", images[:3000], labels[:3000], 10)
    ds.label_classifier = "fashion-cnn"
    # "generated" images: real train images ordered so that sample i has class i % 10
    train_x, train_y = load_mnist_format(DEFAULT_FASHION_MNIST_DIR, "train")
    want = default_labels(400, 10)
    per_class = [np.flatnonzero(train_y == k) for k in range(10)]
    fake = train_x[[per_class[k][i // 10] for i, k in enumerate(want)]]
    out = evaluate_image_samples(ds, fake[:, None], n=400, labels=want)
    assert out["label_accuracy"] > 0.85
    assert out["real_vs_real"]["label_accuracy"] > 0.85
    assert len(out["real_label_accuracy_by_class"]) == 10
    shuffled = evaluate_image_samples(ds, fake[:, None], n=400, labels=(want + 3) % 10)
    assert shuffled["label_accuracy"] < 0.15
    # without labels (an unconditional model) nothing is reported
    assert "label_accuracy" not in evaluate_image_samples(ds, fake[:, None], n=400)


def test_conditional_run_evaluates_its_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trainer and ``ganforge evaluate`` hand the generated classes to the evaluator
    (digits have no classifier of their own; fashion-cnn stands in for the plumbing)."""
    monkeypatch.setattr(ArrayImageDataset, "label_classifier", "fashion-cnn")
    out = tmp_path / "run"
    args = ["train", "--dataset", "digits", "--steps", "2", "--eval-samples", "40"]
    args += ["--conditional", "concat", "--base-width", "4", "--noise-dim", "8"]
    args += ["--batch-size", "8", "--sample-every", "0", "--quiet", "--device", "cpu"]
    assert main([*args, "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["label_accuracy_by_class"]) == 10
    assert 0.0 <= metrics["label_accuracy_min"] <= metrics["label_accuracy"] <= 1.0
    again = evaluate(out, n=40)
    assert again["label_accuracy_by_class"] == metrics["label_accuracy_by_class"]
