"""Low-dimensional metrics against hand-made samples and reference formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ganforge.evaluation.lowdim import evaluate_lowdim
from ganforge.metrics.lowdim import (
    distance_metrics,
    marginal_stats,
    mmd_rbf,
    mode_metrics,
    wasserstein1,
)

# -- mode metrics ---------------------------------------------------------------------------

SQUARE = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])


def test_mode_metrics_on_hand_made_samples() -> None:
    samples = np.array(
        [
            [0.0, 0.0],  # mode 0, distance 0        -> HQ
            [0.5, 0.0],  # mode 0, distance 0.5      -> HQ
            [0.0, 2.9],  # mode 0, distance 2.9      -> HQ (within 3 std = 3)
            [9.0, 0.0],  # mode 1, distance 1        -> HQ
            [0.0, 6.0],  # nearest mode 2, distance 4 -> not HQ
            [5.0, 4.0],  # nearest mode 0, distance sqrt(41) -> not HQ
            [3.1, 0.0],  # nearest mode 0, distance 3.1 -> not HQ
        ]
    )
    out = mode_metrics(samples, SQUARE, std=1.0)
    assert out["mode_counts"] == [3, 1, 0, 0]
    assert out["modes_covered"] == 2
    assert out["num_modes"] == 4
    assert out["hq_fraction"] == pytest.approx(4 / 7, abs=1e-15)
    # KL(p || uniform) with p = (3/4, 1/4, 0, 0): 3/4 ln(3/4 * 4) + 1/4 ln(1/4 * 4)
    assert out["reverse_kl"] == pytest.approx(0.75 * math.log(3.0), abs=1e-15)


def test_mode_metrics_scale_with_the_mode_std() -> None:
    samples = np.array([[0.0, 0.25], [10.0, 0.35]])
    out = mode_metrics(samples, SQUARE, std=0.1)  # HQ radius 0.3
    assert out["mode_counts"] == [1, 0, 0, 0]
    assert out["hq_fraction"] == 0.5
    assert out["reverse_kl"] == pytest.approx(math.log(4.0), abs=1e-15)


def test_uniform_coverage_has_zero_reverse_kl() -> None:
    samples = np.repeat(SQUARE, 5, axis=0) + 0.01
    out = mode_metrics(samples, SQUARE, std=1.0)
    assert out["modes_covered"] == 4 and out["hq_fraction"] == 1.0
    assert out["reverse_kl"] == pytest.approx(0.0, abs=1e-15)


def test_no_high_quality_sample_gives_undefined_kl() -> None:
    out = mode_metrics(np.array([[5.0, 5.0], [5.0, 4.0]]), SQUARE, std=1.0)
    assert out["modes_covered"] == 0 and out["hq_fraction"] == 0.0
    assert out["reverse_kl"] is None


def test_collapsed_generator_on_ring8_covers_one_mode() -> None:
    from ganforge.data.toy import ring8

    ds = ring8()
    rng = np.random.default_rng(0)
    collapsed = ds.modes[3] + rng.normal(0, 0.01, size=(2500, 2))
    out = mode_metrics(collapsed, ds.modes, ds.mode_std)
    assert out["modes_covered"] == 1
    assert out["reverse_kl"] == pytest.approx(math.log(8.0), abs=1e-12)
    real = mode_metrics(ds.sample_real(2500, seed=1), ds.modes, ds.mode_std)
    assert real["modes_covered"] == 8 and real["hq_fraction"] > 0.98
    assert real["reverse_kl"] < 0.01


# -- Wasserstein-1 --------------------------------------------------------------------------


def test_w1_one_dimensional_matches_scipy_and_hand_values() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 300), rng.exponential(2.0, 200)
    assert wasserstein1(a, b) == stats.wasserstein_distance(a, b)
    assert wasserstein1(a[:, None], b[:, None]) == stats.wasserstein_distance(a, b)
    # sorted pairs (0, 5), (1, 6), (3, 8): every point moves 5
    assert wasserstein1([0.0, 1.0, 3.0], [5.0, 6.0, 8.0]) == pytest.approx(5.0)
    # half the mass moves from 0 to 1: W1 = 1/2
    assert wasserstein1([0.0, 0.0], [0.0, 1.0]) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("dim", "mean_abs_cos"),
    [(2, 2 / math.pi), (3, 0.5)],  # E|<u, e>| for a uniform unit vector u in R^2 and R^3
)
def test_sliced_w1_of_a_shifted_copy(dim: int, mean_abs_cos: float) -> None:
    """Every projection of x + s onto a unit direction u is shifted by |<s, u>|, so the
    sliced W1 is |s| E|cos| = 2|s|/pi in 2-D and |s|/2 in 3-D."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, dim))
    shift = np.zeros(dim)
    shift[0], shift[1] = 3.0, 4.0  # |s| = 5
    got = wasserstein1(x, x + shift, projections=2000)
    assert got == pytest.approx(5.0 * mean_abs_cos, rel=0.03)
    assert wasserstein1(x, x + shift, seed=1) == pytest.approx(5.0 * mean_abs_cos, rel=0.1)


def test_w1_is_zero_for_identical_sets_and_is_seeded() -> None:
    x = np.random.default_rng(0).normal(size=(100, 2))
    y = np.random.default_rng(1).normal(size=(100, 2))
    assert wasserstein1(x, x) == 0.0
    assert wasserstein1(x, y, seed=3) == wasserstein1(x, y, seed=3)


# -- MMD ------------------------------------------------------------------------------------


def _mmd_loop(x: np.ndarray, y: np.ndarray, h: float) -> float:
    """Unbiased MMD^2 with k(a, b) = exp(-|a - b|^2 / (2 h^2)), written as plain loops."""

    def k(a: np.ndarray, b: np.ndarray) -> float:
        return math.exp(-float(np.sum((a - b) ** 2)) / (2 * h * h))

    n, m = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
    return xx + yy - 2 * xy


def test_mmd_matches_a_direct_loop() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(0.5, 1.0, size=(5, 3))
    assert mmd_rbf(x, y, bandwidth=1.3) == pytest.approx(_mmd_loop(x, y, 1.3), rel=1e-10)
    # default bandwidth: the median pairwise distance within the first sample
    dists = [np.linalg.norm(x[i] - x[j]) for i in range(7) for j in range(i + 1, 7)]
    h = float(np.median(dists))
    assert mmd_rbf(x, y) == pytest.approx(_mmd_loop(x, y, h), rel=1e-10)


def test_mmd_does_not_depend_on_the_chunk_size() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(50, 2)), rng.normal(size=(40, 2))
    assert mmd_rbf(x, y, chunk=3) == pytest.approx(mmd_rbf(x, y), rel=1e-12)


def test_mmd_is_near_zero_for_the_same_distribution_and_positive_otherwise() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(800, 2)), rng.normal(size=(800, 2))
    same = mmd_rbf(x, y)
    shifted = mmd_rbf(x, y + 1.0)
    assert abs(same) < 0.005
    assert shifted > 0.1
    # unbiased: over independent repeats the estimate averages to ~0 (can be negative)
    repeats = [
        mmd_rbf(rng.normal(size=(100, 2)), rng.normal(size=(100, 2)), bandwidth=1.0)
        for _ in range(40)
    ]
    assert min(repeats) < 0 < max(repeats)
    assert abs(np.mean(repeats)) < 3 * np.std(repeats) / math.sqrt(40)


# -- marginals and the combined report ------------------------------------------------------


def test_marginal_stats_match_numpy_and_scipy() -> None:
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(200, 2)), rng.normal(1, 2, size=(150, 2))
    out = marginal_stats(real, fake)
    np.testing.assert_allclose(out["real_mean"], real.mean(0))
    np.testing.assert_allclose(out["fake_std"], fake.std(0, ddof=1))
    for j in range(2):
        assert out["ks"][j] == stats.ks_2samp(real[:, j], fake[:, j]).statistic
    assert distance_metrics(real, fake)["ks_max"] == max(out["ks"])


def test_evaluate_lowdim_reports_a_real_vs_real_floor() -> None:
    """The floor is every metric of a second real sample against the same real sample;
    real samples scored as generated land beside it, a collapsed generator far from it."""
    from ganforge.data.toy import ring8

    ds = ring8()
    real, second = ds.sample_real(500, 1), ds.sample_real(500, 2)
    out = evaluate_lowdim(ds.sample_real(500, seed=0), real, second, ds.modes, 0.01, seed=3)
    floor = out["real_vs_real"]
    expected = distance_metrics(real, second, seed=3) | mode_metrics(second, ds.modes, 0.01)
    for key in ("modes_covered", "hq_fraction", "reverse_kl", "w1", "mmd", "ks_max"):
        assert floor[key] == pytest.approx(expected[key], rel=1e-12, abs=1e-15), key
    assert out["modes_covered"] == floor["modes_covered"] == 8
    assert out["w1"] < 2 * floor["w1"] and out["ks_max"] < 2 * floor["ks_max"]
    assert abs(out["mmd"]) < 0.01 and abs(floor["mmd"]) < 0.01
    collapsed = ds.modes[:1] + np.random.default_rng(0).normal(0, 0.01, (500, 2))
    bad = evaluate_lowdim(collapsed, real, second, ds.modes, 0.01, seed=3)
    assert bad["real_vs_real"] == floor
    assert bad["modes_covered"] == 1 and bad["w1"] > 10 * floor["w1"] and bad["mmd"] > 0.2


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        (np.zeros((1, 2)), np.zeros((5, 2)), "at least 2 samples"),
        (np.array([[0.0, np.nan], [1.0, 1.0]]), np.zeros((5, 2)), "NaN"),
        (np.zeros((5, 2)), np.zeros((5, 3)), "dimension mismatch"),
    ],
)
def test_bad_inputs(a, b, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        wasserstein1(a, b)
