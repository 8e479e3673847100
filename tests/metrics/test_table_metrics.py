"""Table metrics against hand-computed values: KS, total variation, correlation and
contingency similarity, the fidelity formula, out-of-range and missing rates, Gower
distances, the closer-to-training share, exact copies, NN distance ratio, ML efficacy."""

from __future__ import annotations

import numpy as np
import pytest

from ganforge.metrics import tables as tm

NAN = np.nan


def test_ks_and_total_variation_by_hand() -> None:
    assert tm.ks_statistic(np.array([1.0, 2, 3]), np.array([2.0, 3, 4])) == pytest.approx(1 / 3)
    assert tm.ks_statistic(np.array([1.0, NAN, 2]), np.array([1.0, 2])) == 0.0  # NaN ignored
    assert tm.ks_statistic(np.array([NAN]), np.array([1.0])) == 1.0
    real = np.array([[1.0, 0], [2, 0], [3, 1], [NAN, 1]])
    synth = np.array([[2.0, 0], [3, 1], [4, 1], [NAN, 1]])
    # column 0: KS of {1,2,3} vs {2,3,4} = 1/3; column 1: TV of (1/2, 1/2) vs (1/4, 3/4) = 1/4
    shapes = tm.column_shapes(real, synth, np.array([True, False]))
    assert shapes == pytest.approx([2 / 3, 3 / 4])


def test_column_pairs_by_hand() -> None:
    x = np.arange(10.0)
    real = np.stack([x, 2 * x, x % 2, x % 2], axis=1)
    synth = np.stack([x, -x, x % 2, 1 - x % 2], axis=1)
    numeric = np.array([True, True, False, False])
    pairs = tm.column_pairs(real, synth, numeric)
    assert pairs[(0, 1)] == pytest.approx(0.0)  # r = 1 vs r = -1: 1 - |1 - (-1)| / 2
    assert pairs[(2, 3)] == pytest.approx(0.0)  # (a, a), (b, b) vs (a, b), (b, a): TV 1
    assert pairs[(0, 2)] == pytest.approx(1.0)  # the same joint frequencies
    # x's deciles cut {0..9} into single values; (x, 1 - x % 2) flips every pair: TV 1
    assert pairs[(0, 3)] == pytest.approx(0.0)
    out = tm.fidelity(real, synth, numeric)
    # shapes: x alike; 2x vs -x: KS 0.9 (F(0) is 0.1 vs 1); x % 2 alike; 1 - x % 2 alike
    assert out["column_shapes"] == pytest.approx((1 + 0.1 + 1 + 1) / 4)
    assert out["column_pairs"] == pytest.approx(np.mean(list(pairs.values())))
    assert out["fidelity"] == pytest.approx(100 * (0.775 + out["column_pairs"]) / 2)


def test_out_of_range_and_missing_rates() -> None:
    real = np.array([[0.0, 0], [10, 1], [5, NAN]])
    synth = np.array([[-1.0, 0], [5, 2], [11, 1], [NAN, NAN]])
    # numbers: -1 and 11 outside [0, 10]; categories: code 2 never taken; 6 present cells
    assert tm.out_of_range_rate(real, synth, np.array([True, False])) == pytest.approx(3 / 6)
    assert tm.missing_rates(synth) == [0.25, 0.25]


def test_gower_distances_by_hand() -> None:
    numeric = np.array([True, False])
    ranges = np.array([10.0, 0.0])
    x = np.array([[0.0, 1], [NAN, 1]])
    ref = np.array([[5.0, 1], [0.0, 2], [NAN, 2], [30.0, 1]])
    d = tm.gower_distances(x, ref, numeric, ranges, k=4)
    # row 0: (0.5 + 0) / 2, (0 + 1) / 2, (1 + 1) / 2, (min(3, 1) + 0) / 2
    np.testing.assert_allclose(d[0], [0.25, 0.5, 0.5, 1.0])
    # row 1 (missing number): (1 + 0) / 2, (1 + 1) / 2, (0 + 1) / 2, (1 + 0) / 2
    np.testing.assert_allclose(d[1], [0.5, 0.5, 0.5, 1.0])


def test_privacy_figures_by_hand() -> None:
    numeric = np.array([True, False])
    ranges = np.array([10.0, 0.0])
    train = np.array([[0.0, 0], [4, 1], [8, 0], [NAN, 1]])
    holdout = np.array([[1.0, 0], [5, 1], [9, 0], [NAN, 0]])
    copies = tm.privacy(train, train, holdout, numeric, ranges)
    assert copies["exact_copies"] == 1.0  # NaN matches NaN
    assert copies["dcr_closer_to_train"] == 100.0
    near_holdout = tm.privacy(holdout, train, holdout, numeric, ranges)
    assert near_holdout["exact_copies"] == 0.0 and near_holdout["dcr_closer_to_train"] == 0.0
    # (1, 0) to the training rows: 0.05, 0.65, 0.35, 1.0 -> d1 / d2 = 0.05 / 0.35
    one = np.array([[1.0, 0]])
    ratio = tm.privacy(one, train, None, numeric, ranges)["nn_distance_ratio"]
    assert ratio == pytest.approx(1 / 7)


def test_closer_to_training_share_uses_every_training_row() -> None:
    """One held-out row (5) against training rows 0 and 10: the synthetic row 0 is closer
    to the set {0} than to the held-out row and farther from {10}: averaged over both
    one-row training sets the share is 50%, whichever order the sets are drawn in (one
    draw of a single training row would give 100 or 0)."""
    numeric = np.array([True])
    out = tm.privacy(np.array([[0.0]]), np.array([[0.0], [10.0]]), np.array([[5.0]]),
                     numeric, np.array([10.0]))  # fmt: skip
    assert out["dcr_closer_to_train"] == 50.0
    # at most DCR_CHUNKS sets: 20 training rows at 0, 10 at 10, one held-out row; the
    # share is that of rows at 0 among the first DCR_CHUNKS of the seeded order
    train = np.array([[0.0]] * 20 + [[10.0]] * 10)
    out = tm.privacy(np.array([[0.0]]), train, np.array([[5.0]]), numeric, np.array([10.0]))
    first = np.random.default_rng(0).permutation(30)[: tm.DCR_CHUNKS]
    assert out["dcr_closer_to_train"] == pytest.approx(100.0 * np.mean(first < 20))


def test_nn_distance_ratio_exact() -> None:
    numeric = np.array([True])
    train = np.array([[0.0], [4.0], [10.0]])
    x = np.array([[1.0], [4.0]])
    # row 0: d1 = 0.1 (to 0), d2 = 0.3 (to 4): 1/3; row 1: d1 = 0, d2 = 0.4: 0
    out = tm.privacy(x, train, None, numeric, np.array([10.0]))
    assert out["nn_distance_ratio"] == pytest.approx((1 / 3 + 0) / 2)
    assert out["exact_copies"] == 0.5 and "dcr_closer_to_train" not in out


def test_ml_efficacy_scores() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    label = (x > 0).astype(float)
    rows = np.stack([x, label, 3 * x + 1], axis=1)
    numeric = np.array([True, False, True])
    f1, name = tm.ml_efficacy(rows[:300], rows[300:], 1, numeric)
    assert name == "f1_macro" and f1 > 0.95
    r2, name = tm.ml_efficacy(rows[:300], rows[300:], 2, numeric)
    assert name == "r2" and r2 > 0.9
    noise = np.stack([rng.normal(size=400), label, rng.normal(size=400)], axis=1)
    f1_noise, _ = tm.ml_efficacy(noise[:300], rows[300:], 1, numeric)
    assert f1_noise < 0.7  # learnt from rows where the feature says nothing
