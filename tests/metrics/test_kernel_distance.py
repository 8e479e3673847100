"""KID against a hand-computed unbiased MMD^2 with explicit loops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganforge.metrics.kernel_distance import kid, mmd2_unbiased


def loop_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]

    def k(a: np.ndarray, b: np.ndarray) -> float:
        dot = 0.0
        for t in range(d):
            dot += a[t] * b[t]
        return (dot / d + 1.0) ** 3

    m, n = len(x), len(y)
    sxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    syy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j)
    sxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n))
    return sxx / (m * (m - 1)) + syy / (n * (n - 1)) - 2 * sxy / (m * n)


def test_tiny_example_by_hand() -> None:
    # 1-D: k(a, b) = (a b + 1)^3. x = {0, 1}, y = {1, 2}
    x = np.array([[0.0], [1.0]])
    y = np.array([[1.0], [2.0]])
    kxx = 2 * (0 * 1 + 1) ** 3 / 2  # off-diagonal pairs (0,1),(1,0): 1 each
    kyy = 2 * (1 * 2 + 1) ** 3 / 2  # 27 each
    kxy = ((0 + 1) ** 3 + (0 + 1) ** 3 + (1 + 1) ** 3 + (2 + 1) ** 3) / 4  # (1+1+8+27)/4
    expected = kxx + kyy - 2 * kxy
    assert mmd2_unbiased(x, y) == pytest.approx(expected, rel=1e-12)
    # one subset covering everything gives the same number with zero spread
    out = kid(x, y, num_subsets=3, subset_size=2)
    assert out["mean"] == pytest.approx(expected, rel=1e-12)
    assert out["std"] == pytest.approx(0.0, abs=1e-12)


def test_matches_loop_reference_on_random_features() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 5))
    y = rng.normal(size=(9, 5)) + 0.3
    assert mmd2_unbiased(x, y) == pytest.approx(loop_mmd2(x, y), rel=1e-10)


def test_subsets_follow_seed_and_are_capped() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 8))
    y = rng.normal(size=(30, 8)) + 1.0
    a = kid(x, y, num_subsets=5, subset_size=1000, seed=3)
    b = kid(torch.from_numpy(x), torch.from_numpy(y), num_subsets=5, subset_size=1000, seed=3)
    assert a == b
    assert a["subset_size"] == 30
    # explicit subsets by loop: same generator draws
    gen = np.random.default_rng(3)
    vals = []
    for _ in range(5):
        xi = x[gen.choice(40, 30, replace=False)]
        yi = y[gen.choice(30, 30, replace=False)]
        vals.append(loop_mmd2(xi, yi))
    assert a["mean"] == pytest.approx(np.mean(vals), rel=1e-10)
    assert a["std"] == pytest.approx(np.std(vals), rel=1e-8)


def test_same_distribution_near_zero_and_shift_positive() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(500, 16)), rng.normal(size=(500, 16))
    same = kid(x, y, num_subsets=20, subset_size=200)
    shifted = kid(x, y + 1.0, num_subsets=20, subset_size=200)
    assert abs(same["mean"]) < 3 * same["std"] + 1e-3
    assert shifted["mean"] > 10 * max(same["std"], 1e-3)


def test_errors() -> None:
    x = np.zeros((10, 3))
    with pytest.raises(ValueError, match="different dimensions"):
        kid(x, np.zeros((10, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        kid(x[:1], x)
    with pytest.raises(ValueError, match="num_subsets"):
        kid(x, x, num_subsets=0)
    with pytest.raises(ValueError, match="subset_size"):
        kid(x, x, subset_size=1)
