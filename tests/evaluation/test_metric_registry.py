"""One registry of metrics (name, direction, function) feeds the evaluators, the keys of
``real_vs_real``, the CLI summary table and ``--best-metric``; one floor definition is
used by every evaluation path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ganforge.cli import _summary
from ganforge.data.idx import write_idx
from ganforge.data.toy import ring8
from ganforge.evaluation import (
    METRIC_DIRECTIONS,
    METRICS,
    evaluate_samples,
    register_metric,
    summary_metrics,
)
from ganforge.evaluation.floor import REAL_VS_REAL
from ganforge.evaluation.image import evaluate_images, real_vs_real_floor


@pytest.fixture
def scratch_registry():
    """Metrics registered by a test are removed afterwards."""
    before = dict(METRICS._items)
    yield
    METRICS._items.clear()
    METRICS._items.update(before)


def test_summary_table_rows_come_from_the_registry() -> None:
    assert summary_metrics() == [
        "modes_covered",
        "hq_fraction",
        "reverse_kl",
        "w1",
        "mmd",
        "ks_max",
        "fid",
        "kid",
        "fidelity",
        "missing_rate_error",
        "out_of_range",
        "ml_efficacy",
        "dcr_closer_to_train",
        "exact_copies",
        "nn_distance_ratio",
        "validity",
        "correctness",
        "answer_accuracy",
        "uniqueness",
        "novelty",
        "jsd_4",
        "bleu4",
    ]
    table = _summary({"fid": 1.5, "precision": 0.5, "real_vs_real": {"fid": 0.25}})
    assert "fid" in table and "0.25" in table and "precision" not in table


def test_a_new_metric_is_one_registered_function(scratch_registry) -> None:
    def spread(inputs):
        return {"spread": float(np.std(inputs.fake)), "spread_detail": [1, 2]}

    register_metric("spread", True, spread, kind="lowdim", summary=True)
    ds = ring8()
    m = evaluate_samples(ds, ds.sample_real(300, seed=7), n=300, seed=0)
    assert m["spread"] > 0 and m["spread_detail"] == [1, 2]
    assert "spread" in m["real_vs_real"] and "spread_detail" not in m["real_vs_real"]
    assert "spread" in METRIC_DIRECTIONS and METRIC_DIRECTIONS.get("spread") is True
    assert "spread" in _summary(m).splitlines()[-1]


def test_a_metric_of_several_kinds_keeps_one_direction(scratch_registry) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_metric("modes_covered", False, lambda x: None, kind="sequence", summary=True)
    register_metric("modes_covered", True, lambda x: None, kind="sequence", summary=True)
    assert set(METRICS.get("modes_covered").functions) == {"lowdim", "image", "sequence"}
    with pytest.raises(ValueError, match="already registered"):
        register_metric("fid", False, lambda x: None, kind="image", summary=True)
    with pytest.raises(TypeError, match="kind"):
        register_metric("loose", True, lambda x: None)


def test_real_vs_real_holds_the_registered_metrics_and_says_how() -> None:
    ds = ring8()
    m = evaluate_samples(ds, ds.sample_real(500, seed=3), n=500, seed=0)
    assert set(m["real_vs_real"]) == {name for name in METRICS if name in m}
    assert m["protocol"]["real_vs_real"] == REAL_VS_REAL


@pytest.fixture()
def mnist_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    root = tmp_path / "digits"
    root.mkdir()
    for stem, n in (("train", 200), ("t10k", 100)):
        write_idx(root / f"{stem}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), np.uint8))
        write_idx(root / f"{stem}-labels-idx1-ubyte", rng.integers(0, 10, n).astype(np.uint8))
    return root


@pytest.mark.parametrize("split", ["test", "train"])
def test_floor_against_a_named_split_scores_training_images_against_the_same_reference(
    mnist_dir: Path, split: str
) -> None:
    """Against the test split the second sample is the first n training images; against
    the train split (whose first n are the reference) the next n."""
    from ganforge.data.idx import load_mnist_format

    train, _ = load_mnist_format(mnist_dir, "train")
    reference, _ = load_mnist_format(mnist_dir, split)
    n, settings = 60, {"kid_subsets": 3, "kid_subset_size": 30}
    floor = real_vs_real_floor(
        "mnist", "fashion-cnn", n, data_dir=str(mnist_dir), split=split, **settings
    )
    second = train[n : 2 * n] if split == "train" else train[:n]
    by_hand = evaluate_images(second, reference[:n], "fashion-cnn", **settings)
    for name in ("fid", "kid", "precision", "recall", "density", "coverage"):
        assert floor[name] == pytest.approx(by_hand[name], rel=1e-9), name
    assert floor["protocol"]["split"] == split


def test_labels_reach_only_evaluators_that_take_them() -> None:
    """A conditional ring8 model hands its labels to evaluate_samples; the low-dimensional
    evaluator has no conditional metric and is called without them."""
    ds = ring8()
    labels = np.arange(200) % 8
    with_labels = evaluate_samples(ds, ds.sample_real(200, seed=4), n=200, seed=0, labels=labels)
    without = evaluate_samples(ds, ds.sample_real(200, seed=4), n=200, seed=0)
    assert with_labels["w1"] == without["w1"]
