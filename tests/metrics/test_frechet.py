"""FID against the scipy.linalg.sqrtm reference formula, edge cases and statistics I/O."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg
import torch

from ganforge.metrics.frechet import (
    FeatureStats,
    feature_statistics,
    fid,
    frechet_distance,
    load_statistics,
    save_statistics,
)


def reference_fid(a: np.ndarray, b: np.ndarray) -> float:
    """The textbook formula with a general matrix square root (real part)."""
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    return float(
        ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean).real
    )


@pytest.mark.parametrize(
    ("dim", "n"),
    [
        (64, 100),
        (64, 10_000),
        (128, 1_000),
        (256, 2_000),
        (512, 1_000),
        # scipy's sqrtm alone takes 10 s to minutes at these sizes
        pytest.param(1024, 3_000, marks=pytest.mark.slow),
        pytest.param(2048, 2_500, marks=pytest.mark.slow),
    ],
)
def test_matches_sqrtm_reference(dim: int, n: int) -> None:
    rng = np.random.default_rng(dim + n)
    # correlated, shifted features so that the cross term matters
    mix = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    a = rng.normal(size=(n, dim)) @ mix
    b = rng.normal(size=(n, dim)) @ (mix * 1.2) + 0.05
    ours = fid(a, b)
    ref = reference_fid(a, b)
    assert ours == pytest.approx(ref, rel=1e-6)


def test_frechet_distance_of_gaussians_closed_form() -> None:
    # diagonal covariances: tr sqrt(S1 S2) = sum sqrt(s1_i s2_i)
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 0.0])
    expected = 5.0 + s1.sum() + s2.sum() - 2 * np.sqrt(s1 * s2).sum()
    got = frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2))
    assert got == pytest.approx(expected, rel=1e-12)


def test_same_set_is_zero() -> None:
    a = np.random.default_rng(0).normal(size=(500, 64))
    assert fid(a, a) == pytest.approx(0.0, abs=1e-8)


def test_collapsed_fake_set_is_finite_and_non_negative() -> None:
    rng = np.random.default_rng(1)
    real = rng.normal(size=(400, 32))
    fake = np.tile(rng.normal(size=(1, 32)), (400, 1))  # all identical: zero covariance
    value = fid(real, fake)
    assert np.isfinite(value) and value >= 0
    assert isinstance(value, float)
    # with zero fake covariance, FID = |mu diff|^2 + tr(S_real)
    expected = ((real.mean(0) - fake[0]) ** 2).sum() + np.trace(np.cov(real, rowvar=False))
    assert value == pytest.approx(expected, rel=1e-9)
    assert np.isfinite(fid(fake, fake)) and fid(fake, fake) == pytest.approx(0.0, abs=1e-12)


def test_accepts_torch_tensors() -> None:
    a = torch.randn(300, 16, generator=torch.Generator().manual_seed(0))
    b = torch.randn(300, 16, generator=torch.Generator().manual_seed(1)) + 0.5
    assert fid(a, b) == pytest.approx(fid(a.numpy(), b.numpy()), rel=1e-12)


def test_errors() -> None:
    a = np.zeros((10, 4))
    with pytest.raises(ValueError, match="at least 2"):
        fid(a[:1], a)
    with pytest.raises(ValueError, match="different dimensions"):
        fid(a, np.zeros((10, 5)))
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        fid(np.zeros(10), a)
    with pytest.raises(ValueError, match="NaN"):
        fid(np.full((10, 4), np.nan), a)
    with pytest.raises(ValueError, match="differ"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def test_warns_when_fewer_samples_than_dims() -> None:
    rng = np.random.default_rng(2)
    with pytest.warns(UserWarning, match="fewer samples"):
        fid(rng.normal(size=(20, 50)), rng.normal(size=(100, 50)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fid(rng.normal(size=(60, 50)), rng.normal(size=(60, 50)))


def test_chunked_statistics_match_numpy() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1003, 20)) * 0.01 + 1e4  # large mean, small spread
    for batch in (1, 7, 1003, 5000):
        stats = feature_statistics(x, batch_size=batch)
        assert stats.n == 1003
        np.testing.assert_allclose(stats.mu, x.mean(0), rtol=1e-12)
        np.testing.assert_allclose(stats.sigma, np.cov(x, rowvar=False), rtol=1e-6, atol=1e-12)
    # an iterable of chunks gives the same
    chunks = (x[i : i + 100] for i in range(0, len(x), 100))
    np.testing.assert_allclose(feature_statistics(chunks).sigma, np.cov(x, rowvar=False), rtol=1e-6)


def test_statistics_round_trip(tmp_path) -> None:
    x = np.random.default_rng(4).normal(size=(50, 6))
    stats = feature_statistics(x)
    stats = FeatureStats(stats.mu, stats.sigma, stats.n, meta={"extractor": "pixels"})
    path = save_statistics(tmp_path / "ref.npz", stats)
    back = load_statistics(path)
    np.testing.assert_array_equal(back.mu, stats.mu)
    np.testing.assert_array_equal(back.sigma, stats.sigma)
    assert back.n == 50 and back.meta == {"extractor": "pixels"}
    assert not list(tmp_path.glob(".*tmp"))  # no temp file left behind
    assert fid(back, x) == pytest.approx(0.0, abs=1e-10)
    with np.load(path, allow_pickle=False) as z:  # loadable without pickle
        assert set(z.files) == {"mu", "sigma", "n", "meta"}


def test_load_statistics_errors(tmp_path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_statistics(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="bad.npz"):
        load_statistics(bad)
    np.savez(tmp_path / "short.npz", mu=np.zeros(3))
    with pytest.raises(ValueError, match="short.npz"):
        load_statistics(tmp_path / "short.npz")
