"""Mode counting and KL(p || uniform) of predicted-class histograms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganforge.metrics.modes import class_mode_coverage


def test_uniform_labels_cover_everything_with_zero_kl() -> None:
    out = class_mode_coverage(np.arange(1000).repeat(26), 1000)
    assert out["modes_covered"] == 1000
    assert out["kl_to_uniform"] == pytest.approx(0.0, abs=1e-12)
    assert sum(out["histogram"]) == 26_000


def test_single_mode_gives_log_num_classes() -> None:
    out = class_mode_coverage(np.full(100, 7), 1000)
    assert out["modes_covered"] == 1
    assert out["kl_to_uniform"] == pytest.approx(math.log(1000))


def test_hand_example_from_probabilities() -> None:
    probs = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.7, 0.2, 0.1], [0.6, 0.3, 0.1]])
    out = class_mode_coverage(probs, 3)  # argmax labels: 0, 1, 0, 0
    assert out["histogram"] == [3, 1, 0]
    assert out["modes_covered"] == 2
    expected = 0.75 * math.log(0.75 * 3) + 0.25 * math.log(0.25 * 3)
    assert out["kl_to_uniform"] == pytest.approx(expected, rel=1e-12)
    assert class_mode_coverage(probs, 3, min_count=2)["modes_covered"] == 1


def test_validation() -> None:
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        class_mode_coverage(np.array([0, 10]), 10)
    with pytest.raises(ValueError, match="integers"):
        class_mode_coverage(np.array([0.5, 1.0]), 10)
    with pytest.raises(ValueError, match="columns"):
        class_mode_coverage(np.zeros((4, 3)), 10)
    with pytest.raises(ValueError, match="empty"):
        class_mode_coverage(np.array([], dtype=int), 10)
    with pytest.raises(ValueError, match="num_classes"):
        class_mode_coverage(np.array([0]), 0)
