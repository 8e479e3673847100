"""Inception/classifier score against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganforge.metrics.classifier_score import inception_score


def loop_score(p: list[list[float]]) -> float:
    n, c = len(p), len(p[0])
    marginal = [sum(p[i][j] for i in range(n)) / n for j in range(c)]
    total = 0.0
    for i in range(n):
        for j in range(c):
            if p[i][j] > 0:
                total += p[i][j] * (math.log(p[i][j]) - math.log(marginal[j]))
    return math.exp(total / n)


@pytest.mark.parametrize("classes", [2, 10, 1000])
def test_one_hot_uniform_gives_number_of_classes(classes: int) -> None:
    probs = np.eye(classes)[np.arange(classes * 3) % classes]
    out = inception_score(probs, splits=3)  # each split holds every class once
    assert out["mean"] == pytest.approx(classes, rel=1e-12)
    assert out["std"] == pytest.approx(0.0, abs=1e-9)


def test_identical_rows_give_one() -> None:
    row = np.array([0.1, 0.2, 0.7])
    out = inception_score(np.tile(row, (50, 1)), splits=5)
    assert out["mean"] == pytest.approx(1.0, abs=1e-12)
    one_hot_same = np.tile(np.array([0.0, 1.0, 0.0]), (20, 1))
    assert inception_score(one_hot_same, splits=2)["mean"] == pytest.approx(1.0)


def test_small_example_by_hand() -> None:
    p = [[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [0.6, 0.4]]
    # one split by hand: marginal (0.55, 0.45)
    assert inception_score(np.array(p), splits=1)["mean"] == pytest.approx(loop_score(p), rel=1e-12)
    # two splits: mean and (population) std of the two per-split scores
    s = [loop_score(p[:2]), loop_score(p[2:])]
    out = inception_score(torch.tensor(p, dtype=torch.float64), splits=2)
    assert out["mean"] == pytest.approx(np.mean(s), rel=1e-12)
    assert out["std"] == pytest.approx(np.std(s), rel=1e-10)


def test_random_probs_match_loop() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(30, 7)) * 2
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    p[0] = 0.0  # an exact one-hot row exercises 0 log 0
    p[0, 3] = 1.0
    assert inception_score(p, splits=1)["mean"] == pytest.approx(loop_score(p.tolist()), rel=1e-10)


def test_validation() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        inception_score(np.array([[0.5, 0.6], [0.5, 0.5]]), splits=1)
    with pytest.raises(ValueError, match="logits"):
        inception_score(np.array([[-1.0, 2.0], [0.5, 0.5]]), splits=1)
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        inception_score(np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="splits"):
        inception_score(np.full((4, 2), 0.5), splits=5)
    with pytest.raises(ValueError, match="NaN"):
        inception_score(np.array([[np.nan, 1.0]]), splits=1)
