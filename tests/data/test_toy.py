"""The toy distributions match their published definitions, in native units and after
decoding the model-space training batches."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganforge.data import build_dataset, dataset_info, decoder_from_codec, list_datasets, toy

N = 40_000
H = math.sqrt(0.5)


def _model_batch(ds, n: int = N, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor | None]:
    return ds.sample_batch(n, torch.Generator().manual_seed(seed))


def _decoded(ds, n: int = N, seed: int = 0) -> np.ndarray:
    x, _ = _model_batch(ds, n, seed)
    return ds.decode(x).reshape(n, -1)


# -- ring8 ----------------------------------------------------------------------------------


def test_ring8_means_are_the_eight_points_at_multiples_of_45_degrees() -> None:
    expected = np.array(
        [(1, 0), (H, H), (0, 1), (-H, H), (-1, 0), (-H, -H), (0, -1), (H, -H)], dtype=float
    )
    ds = toy.ring8()
    np.testing.assert_allclose(ds.modes, expected, atol=1e-15)
    assert ds.mode_std == 0.01


def test_ring8_has_eight_distinct_modes() -> None:
    modes = toy.ring8().modes
    d = np.linalg.norm(modes[:, None] - modes[None], axis=-1)
    off_diagonal = d[~np.eye(8, dtype=bool)]
    # neighbours on the unit circle are 2 sin(pi/8) apart; linspace(0, 2pi, 8) would repeat one
    assert off_diagonal.min() == pytest.approx(2 * math.sin(math.pi / 8), rel=1e-12)


def _check_mixture(samples: np.ndarray, modes: np.ndarray, std: float) -> None:
    d2 = ((samples[:, None, :] - modes[None]) ** 2).sum(-1)
    nearest = d2.argmin(1)
    resid = samples - modes[nearest]
    # per-coordinate residual std is the mode std; nothing strays beyond 6 std
    np.testing.assert_allclose(resid.std(0), [std, std], rtol=0.03)
    np.testing.assert_allclose(resid.mean(0), [0, 0], atol=0.03 * std)
    assert np.sqrt(d2.min(1)).max() < 6 * std
    counts = np.bincount(nearest, minlength=len(modes)) / len(samples)
    np.testing.assert_allclose(counts, 1 / len(modes), atol=0.25 / len(modes))


def test_ring8_real_samples() -> None:
    ds = toy.ring8()
    _check_mixture(ds.sample_real(N, seed=0), ds.modes, 0.01)


def test_ring8_training_batches_decode_to_the_ring() -> None:
    ds = toy.ring8()
    _check_mixture(_decoded(ds), ds.modes, 0.01)


def test_mixture_labels_name_the_mode_each_sample_came_from() -> None:
    ds = toy.ring8()
    x, y = _model_batch(ds, 2000)
    native = ds.decode(x)
    nearest = ((native[:, None, :] - ds.modes[None]) ** 2).sum(-1).argmin(1)
    assert y.dtype == torch.int64
    assert np.array_equal(nearest, y.numpy())


# -- grid25 ---------------------------------------------------------------------------------


def test_grid25_means_and_std() -> None:
    ds = toy.grid25()
    expected = {(i, j) for i in (-4, -2, 0, 2, 4) for j in (-4, -2, 0, 2, 4)}
    assert {tuple(m) for m in ds.modes.tolist()} == expected
    assert len(ds.modes) == 25
    assert ds.mode_std == 0.05


def test_grid25_real_and_training_samples() -> None:
    ds = toy.grid25()
    _check_mixture(ds.sample_real(N, seed=1), ds.modes, 0.05)
    _check_mixture(_decoded(ds), ds.modes, 0.05)


# -- gaussians and disk ---------------------------------------------------------------------


@pytest.mark.parametrize("source", ["real", "decoded"])
def test_gaussian1d_is_normal_10_1(source: str) -> None:
    ds = toy.Gaussian1D()
    x = ds.sample_real(N, seed=0) if source == "real" else _decoded(ds)
    assert x.shape == (N, 1)
    assert x.mean() == pytest.approx(10.0, abs=0.03)
    assert x.std() == pytest.approx(1.0, rel=0.02)


def test_gaussian1d_uses_the_tutorials_noise() -> None:
    info = dataset_info("gaussian1d")
    assert info.noise_std == 2.0
    assert info.default_preset == "mlp1d"


@pytest.mark.parametrize("source", ["real", "decoded"])
def test_gaussian2d_is_isotropic_with_std_half(source: str) -> None:
    ds = toy.Gaussian2D()
    x = ds.sample_real(N, seed=0) if source == "real" else _decoded(ds)
    np.testing.assert_allclose(x.mean(0), [0, 0], atol=0.01)
    cov = np.cov(x.T)
    np.testing.assert_allclose(cov, 0.25 * np.eye(2), atol=0.01)


@pytest.mark.parametrize("source", ["real", "decoded"])
def test_disk_is_uniform_in_the_unit_disk(source: str) -> None:
    ds = toy.Disk()
    x = ds.sample_real(N, seed=0) if source == "real" else _decoded(ds)
    r = np.linalg.norm(x, axis=1)
    assert r.max() <= 1.0 + 1e-6
    # uniform area density: P(r < 0.5) = 0.25, P(r < 0.9) = 0.81 (not uniform in r)
    assert (r < 0.5).mean() == pytest.approx(0.25, abs=0.01)
    assert (r < 0.9).mean() == pytest.approx(0.81, abs=0.01)
    np.testing.assert_allclose(x.mean(0), [0, 0], atol=0.01)
    # all angles: each quadrant holds a quarter of the mass
    quadrant = (x[:, 0] > 0).astype(int) * 2 + (x[:, 1] > 0)
    np.testing.assert_allclose(np.bincount(quadrant) / N, 0.25, atol=0.01)


# -- shared contract ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gaussian1d", "gaussian2d", "disk", "ring8", "grid25"])
def test_training_batches_are_standardised(name: str) -> None:
    ds = build_dataset(type("Cfg", (), {"dataset": name})())
    x, _ = _model_batch(ds)
    assert x.dtype == torch.float32 and tuple(x.shape[1:]) == ds.shape
    np.testing.assert_allclose(x.mean(0).numpy(), 0.0, atol=0.03)
    np.testing.assert_allclose(x.std(0).numpy(), 1.0, atol=0.03)


@pytest.mark.parametrize("name", ["gaussian1d", "gaussian2d", "disk", "ring8", "grid25"])
def test_encode_decode_round_trip_and_codec(name: str) -> None:
    ds = build_dataset(type("Cfg", (), {"dataset": name})())
    native = ds.sample_real(100, seed=3)
    np.testing.assert_allclose(ds.decode(ds.encode(native)), native, atol=1e-5)
    decoder = decoder_from_codec(ds.codec())
    z = torch.randn(50, *ds.shape)
    np.testing.assert_array_equal(decoder.decode(z), ds.decode(z))
    if ds.modes is not None:
        np.testing.assert_array_equal(decoder.modes, ds.modes)
        assert decoder.mode_std == ds.mode_std


@pytest.mark.parametrize("name", ["gaussian1d", "disk", "ring8"])
def test_sampling_is_reproducible(name: str) -> None:
    ds = build_dataset(type("Cfg", (), {"dataset": name})())
    a, _ = _model_batch(ds, 64, seed=4)
    b, _ = _model_batch(ds, 64, seed=4)
    c, _ = _model_batch(ds, 64, seed=5)
    assert torch.equal(a, b) and not torch.equal(a, c)
    np.testing.assert_array_equal(ds.sample_real(64, seed=1), ds.sample_real(64, seed=1))


def test_builtin_datasets_are_registered() -> None:
    assert {"gaussian1d", "gaussian2d", "disk", "ring8", "grid25"} <= set(list_datasets())
    assert dataset_info("ring8").num_classes == 8
    assert dataset_info("grid25").num_classes == 25


def test_unknown_dataset_lists_the_valid_names() -> None:
    with pytest.raises(ValueError, match="unknown dataset 'nope'.*gaussian1d.*ring8"):
        dataset_info("nope")
