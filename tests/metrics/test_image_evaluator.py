"""The image evaluator's numbers are the metric functions' numbers on the same features,
and they mean something: real images scored as if generated land at the real-vs-real
floor, noise images far above it.

Thresholds were read off seeds 0-5 at n = 100 on ``digits`` (fashion-cnn features):
real-as-generated FID was 0.67-1.14x the floor (floor 5.2-7.0), noise FID 163-180;
|KID - floor KID| <= 0.24 against 15-18 for noise; precision, recall and coverage
within 0.06 of the floor against 0.00 for noise; classifier score 0.93-1.05x the
floor's against 0.66x for noise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ganforge.config import TrainConfig
from ganforge.data import build_dataset
from ganforge.evaluation import evaluate_samples
from ganforge.evaluation.image import evaluate_images
from ganforge.features import get_extractor
from ganforge.metrics.classifier_score import inception_score
from ganforge.metrics.frechet import fid
from ganforge.metrics.kernel_distance import kid
from ganforge.metrics.manifold import prdc
from ganforge.metrics.modes import class_mode_coverage

N = 100
# n = 100 < 128 feature dimensions: FID warns that it is biased, which is fine here
pytestmark = pytest.mark.filterwarnings("ignore:.*fewer samples.*than feature dimensions")


@pytest.fixture(scope="module")
def digits():
    return build_dataset(TrainConfig(dataset="digits"))


@pytest.fixture(scope="module")
def cnn():
    return get_extractor("fashion-cnn")


def test_evaluate_images_equals_the_metric_functions_on_the_same_features(digits, cnn) -> None:
    real = digits.sample_real(150, seed=1)
    rng = np.random.default_rng(2)
    noisy = digits.sample_real(120, seed=2).astype(int) + rng.integers(-60, 61, (120, 1, 28, 28))
    fake = np.clip(noisy, 0, 255).astype(np.uint8)
    out = evaluate_images(
        fake, real, cnn, kid_subsets=20, kid_subset_size=80, prdc_k=4, is_splits=6, seed=3
    )
    r, f = cnn.extract(real, batch_size=500), cnn.extract(fake, batch_size=500)
    assert out["fid"] == pytest.approx(fid(r.features, f.features), rel=1e-12)
    k = kid(r.features, f.features, 20, 80, 3)
    assert (out["kid"], out["kid_std"]) == pytest.approx((k["mean"], k["std"]), rel=1e-12)
    p = prdc(r.features, f.features, k=4)
    for name in ("precision", "recall", "density", "coverage"):
        assert out[name] == pytest.approx(p[name], rel=1e-12), name
    s = inception_score(f.probs, splits=6)
    assert (out["classifier_score"], out["classifier_score_std"]) == pytest.approx(
        (s["mean"], s["std"]), rel=1e-12
    )
    assert out["real_classifier_score"] == pytest.approx(
        inception_score(r.probs, splits=6)["mean"], rel=1e-12
    )
    modes = class_mode_coverage(f.probs, 10)
    assert out["modes_covered"] == modes["modes_covered"]
    assert out["mode_kl"] == pytest.approx(modes["kl_to_uniform"], rel=1e-12)
    assert out["class_histogram"] == modes["histogram"]
    # and the numbers are not those of another pairing
    assert out["fid"] != pytest.approx(fid(r.features, r.features[::-1]), abs=1e-6)


class _Recording:
    """A dataset that keeps a copy of every real sample the evaluator draws from it."""

    def __init__(self, inner: Any) -> None:
        self._inner, self.drawn = inner, []

    def sample_real(self, n: int, seed: int) -> np.ndarray:
        x = self._inner.sample_real(n, seed=seed)
        self.drawn.append(x.copy())
        return x

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _evaluate(digits, fake: np.ndarray) -> tuple[dict, list[np.ndarray]]:
    ds = _Recording(digits)
    out = evaluate_samples(ds, fake, n=N, seed=0)
    candidates = [c for x in ds.drawn for c in (x, x[: len(x) // 2], x[len(x) // 2 :])]
    return out, [c for c in candidates if len(c) == N]


def _features_matching(cnn, candidates, fid_value: float, real=None, fake=None):
    """Features of the candidate sample that, in the place of the real (or the generated)
    sample, gives the FID ``fid_value`` against ``fake`` (or ``real``)."""
    for c in candidates:
        feats = cnn.extract(c, batch_size=500)
        a, b = (feats, fake) if real is None else (real, feats)
        if fid(a.features, b.features) == pytest.approx(fid_value, rel=1e-9):
            return feats
    raise AssertionError("no real sample drawn by the evaluator gives the reported FID")


@pytest.fixture(scope="module")
def real_as_fake(digits):
    fake = digits.sample_real(N, seed=100)
    out, candidates = _evaluate(digits, fake)
    return fake, out, candidates


def test_run_evaluator_metrics_equal_the_metric_functions(real_as_fake, cnn) -> None:
    """The evaluator of ``ganforge evaluate RUN`` (data kind ``image``): each number is
    the metric function on fashion-cnn features of the fakes and of the real sample it
    drew, and the floor is the same functions on a second real sample."""
    fake, out, candidates = real_as_fake
    assert out["protocol"]["extractor"] == "fashion-cnn"
    assert out["protocol"]["n_fake"] == out["protocol"]["n_real"] == N
    f = cnn.extract(fake, batch_size=500)
    r = _features_matching(cnn, candidates, out["fid"], fake=f)
    assert out["kid"] == pytest.approx(kid(r.features, f.features, 100, 1000, 0)["mean"], rel=1e-9)
    p = prdc(r.features, f.features, k=5)
    for name in ("precision", "recall", "density", "coverage"):
        assert out[name] == pytest.approx(p[name], rel=1e-9), name
    assert out["classifier_score"] == pytest.approx(
        inception_score(f.probs, splits=10)["mean"], rel=1e-9
    )
    floor = out["real_vs_real"]
    others = [c for c in candidates if not np.array_equal(c, fake)]
    ref = _features_matching(cnn, others, floor["fid"], real=r)
    assert floor["kid"] == pytest.approx(kid(r.features, ref.features, 100, 1000, 0)["mean"])
    assert floor["precision"] == pytest.approx(prdc(r.features, ref.features, k=5)["precision"])


def test_real_images_score_near_the_floor_and_noise_far_above(digits, real_as_fake) -> None:
    _, real, _ = real_as_fake
    rng = np.random.default_rng(0)
    noise, _ = _evaluate(digits, rng.integers(0, 256, (N, 1, 28, 28), dtype=np.uint8))
    floor = real["real_vs_real"]
    assert floor == noise["real_vs_real"], "the same floor whatever is evaluated"
    assert 2.0 < floor["fid"] < 15.0
    assert real["fid"] < 1.5 * floor["fid"]
    assert noise["fid"] > 20 * floor["fid"]
    assert abs(real["kid"] - floor["kid"]) < 0.3 and noise["kid"] > 10.0
    for name in ("precision", "recall", "coverage"):
        assert abs(real[name] - floor[name]) <= 0.1, name
        assert floor[name] > 0.8 and noise[name] <= 0.05, name
    assert real["classifier_score"] == pytest.approx(floor["classifier_score"], rel=0.15)
    assert noise["classifier_score"] < 0.8 * floor["classifier_score"]
