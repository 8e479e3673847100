"""evaluate_images: metrics plus protocol, reference cache, real-vs-real floor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ganforge.data.idx import write_idx
from ganforge.evaluation.image import evaluate_images, real_vs_real_floor, reference_set
from ganforge.metrics.frechet import feature_statistics, fid, save_statistics


@pytest.fixture()
def mnist_dir(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    root = tmp_path / "digits"
    root.mkdir()
    for stem, n in (("train", 300), ("t10k", 200)):
        write_idx(root / f"{stem}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), np.uint8))
        write_idx(root / f"{stem}-labels-idx1-ubyte", rng.integers(0, 10, n).astype(np.uint8))
    return root


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("GANFORGE_CACHE", str(path))
    return path


def test_all_metrics_with_protocol() -> None:
    rng = np.random.default_rng(1)
    real = rng.integers(0, 256, (150, 28, 28), np.uint8)
    fake = rng.integers(0, 128, (120, 1, 28, 28), np.uint8)
    out = evaluate_images(fake, real, "fashion-cnn", kid_subset_size=50, kid_subsets=5)
    for key in ("fid", "kid", "kid_std", "precision", "recall", "density", "coverage"):
        assert np.isfinite(out[key]), key
    assert 1.0 <= out["classifier_score"] <= 10.0
    assert 1 <= out["modes_covered"] <= 10
    proto = out["protocol"]
    assert proto["extractor"] == "fashion-cnn"
    assert proto["n_real"] == 150 and proto["n_fake"] == 120
    assert proto["kid_subset_size"] == 50 and proto["resize"] is None
    # FID equals fid() on the same features
    from ganforge.features import get_extractor

    ext = get_extractor("fashion-cnn")
    assert out["fid"] == pytest.approx(fid(ext(real), ext(fake)), rel=1e-9)


def test_n_and_resize_and_stats_only(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    real = rng.integers(0, 256, (100, 28, 28), np.uint8)
    fake = rng.uniform(-1, 1, (80, 1, 32, 32)).astype(np.float32)
    with pytest.raises(ValueError, match="784 dimensions"):
        evaluate_images(fake, real, "pixels")  # 32x32 vs 28x28 without a resize
    out = evaluate_images(
        fake, real, "pixels", n=60, kid_subsets=2, extractor_kwargs={"size": (28, 28)}
    )
    assert out["protocol"]["n_fake"] == 60 and out["protocol"]["n_real"] == 60
    assert out["protocol"]["resize"] == "bilinear 32x32->28x28"
    assert "classifier_score" not in out
    with pytest.raises(ValueError, match="n=500"):
        evaluate_images(fake, real, "pixels", n=500)
    # statistics only: FID, with KID/PRDC skipped and said so
    ext_stats = feature_statistics(rng.normal(size=(50, 128)))
    path = save_statistics(tmp_path / "ref.npz", ext_stats)
    out = evaluate_images(real[:40], str(path), "fashion-cnn")
    assert np.isfinite(out["fid"]) and "kid" not in out
    assert "kid" in out["protocol"]["skipped"]
    with pytest.raises(ValueError, match="dimensions"):
        evaluate_images(real[:40], str(path), "pixels")


def test_reference_cache_and_floor(mnist_dir: Path, cache: Path) -> None:
    a = reference_set("mnist", "test", 100, "fashion-cnn", data_dir=str(mnist_dir))
    files = list((cache / "reference").iterdir())
    assert len(files) == 1 and "fashion-cnn" in files[0].name and "n100" in files[0].name
    assert not [f for f in files if f.name.endswith(".tmp")]
    b = reference_set("mnist", "test", 100, "fashion-cnn", data_dir=str(mnist_dir))
    np.testing.assert_array_equal(a.features, b.features)
    assert b.protocol["split"] == "test" and b.stats.n == 100
    floor = real_vs_real_floor(
        "mnist", "fashion-cnn", n=100, data_dir=str(mnist_dir), kid_subset_size=50, kid_subsets=3
    )
    assert floor["protocol"]["split"] == "test" and floor["protocol"]["n_fake"] == 100
    assert "train split" in floor["protocol"]["fake"]
    with pytest.raises(ValueError, match="n=300 exceeds"):
        reference_set("mnist", "test", 300, "fashion-cnn", data_dir=str(mnist_dir))
    with pytest.raises(ValueError, match="unknown reference dataset"):
        reference_set("cifar", "test", 10)


def test_reference_cache_is_keyed_by_the_images(
    mnist_dir: Path, cache: Path, tmp_path: Path
) -> None:
    """Another folder with other images under the same dataset name gets its own entry."""
    a = reference_set("mnist", "test", 50, "fashion-cnn", data_dir=str(mnist_dir))
    other = tmp_path / "other"
    other.mkdir()
    rng = np.random.default_rng(9)
    for stem, n in (("train", 60), ("t10k", 60)):
        write_idx(other / f"{stem}-images-idx3-ubyte", rng.integers(0, 64, (n, 28, 28), np.uint8))
        write_idx(other / f"{stem}-labels-idx1-ubyte", rng.integers(0, 10, n).astype(np.uint8))
    b = reference_set("mnist", "test", 50, "fashion-cnn", data_dir=str(other))
    assert len(list((cache / "reference").iterdir())) == 2
    assert not np.allclose(a.stats.mu, b.stats.mu)
