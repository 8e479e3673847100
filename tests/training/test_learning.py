"""Learning tests: short fixed-seed runs on the toy datasets must end at the real-vs-real
floor, not merely move towards it, so they fail when training is broken *or mediocre*.

Each test trains through the public API (``train``, ``sample``, the run directory's
``metrics.json``) and judges the samples against the data's definition in the README,
drawn here with NumPy, independently of ``ganforge.data``. W1 (exact in 1-D, sliced in
2-D) is compared with the *floor*: W1 between two independent real samples of the same
size, averaged over 16 pairs (one pair's standard deviation is about 35 % of the mean).

Thresholds come from seed sweeps of exactly these configs (seeds 0-9 unless stated);
``python benchmarks/learning_thresholds.py`` reprints the distributions. Each docstring
gives the observed range and what a broken or mediocre generator scores.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from ganforge import TrainConfig, sample, train
from ganforge.config import ModelConfig
from ganforge.metrics.lowdim import wasserstein1

#: Seed of every test run; the sweeps cover 0-9 and each docstring gives seed 0's value.
SEED = 0
#: Seed of the samples drawn from a trained generator.
SAMPLE_SEED = 12345

RING8_MEANS = np.stack(
    [np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)], axis=1
)
RING8_STD = 0.01


def real_samples(dataset: str, n: int, seed: int) -> np.ndarray:
    """``(n, D)`` samples of a toy dataset as the README defines it."""
    rng = np.random.default_rng(seed)
    if dataset == "gaussian1d":
        return rng.normal(10.0, 1.0, size=(n, 1))
    if dataset == "gaussian2d":
        return rng.normal(0.0, 0.5, size=(n, 2))
    if dataset == "disk":
        r, theta = np.sqrt(rng.random(n)), 2 * np.pi * rng.random(n)
        return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    if dataset == "ring8":
        return RING8_MEANS[rng.integers(8, size=n)] + rng.normal(0.0, RING8_STD, size=(n, 2))
    raise KeyError(dataset)


@functools.cache
def w1_floor(dataset: str, n: int, pairs: int = 16) -> float:
    """Mean W1 between two independent real samples of size ``n``, over ``pairs`` pairs.

    One pair is a poor estimate: over 64 pairs the standard deviation is about 35 % of
    the mean (gaussian1d at 10,000 samples 0.0177 ± 0.0063, disk at 2,500 0.0167 ±
    0.0057, gaussian2d at 2,500 0.0171 ± 0.0036), and means of 4 pairs still range over
    a factor 2.6; means of 16 pairs stay within about ±15 %. The floors used here
    (gaussian1d 0.0195, disk 0.0181, gaussian2d 0.0194) are 8-13 % above those 64-pair
    means, so the bounds are that much more lenient than they read."""
    return float(
        np.mean(
            [
                wasserstein1(
                    real_samples(dataset, n, 1000 + 2 * i), real_samples(dataset, n, 1001 + 2 * i)
                )
                for i in range(pairs)
            ]
        )
    )


def w1_to_floor(run: Path, dataset: str, n: int) -> dict[str, Any]:
    """W1 of ``n`` generated samples against ``n`` real ones, the floor, and their ratio,
    with the generated samples' per-dimension mean and std."""
    fake = sample(run, n=n, seed=SAMPLE_SEED)
    w1 = wasserstein1(fake, real_samples(dataset, n, 7))
    floor = w1_floor(dataset, n)
    return {
        "w1": w1,
        "floor": floor,
        "ratio": w1 / floor,
        "mean": fake.mean(0).tolist(),
        "std": fake.std(0, ddof=1).tolist(),
    }


def run_config(out: Path, seed: int, **options: Any) -> TrainConfig:
    """A CPU config for a small model: one thread, no periodic snapshots or checkpoints."""
    values: dict[str, Any] = {
        "device": "cpu",
        "threads": 1,
        "sample_every": 0,
        "checkpoint_every": 0,
        "lr_schedule": "linear",
        "seed": seed,
        "out": str(out),
    }
    values.update(options)
    return TrainConfig(**values)


# -- the runs (shared with benchmarks/learning_thresholds.py) -------------------------------


def measure_gaussian1d(out: Path, seed: int) -> dict[str, Any]:
    cfg = run_config(
        out,
        seed,
        dataset="gaussian1d",
        steps=2000,
        lr_g=1e-3,
        lr_d=1e-3,
        ema=0.999,
        r1_weight=1.0,
        eval_samples=1000,  # metrics.json is not used; its MMD on 10,000 costs seconds
    )
    train(cfg)
    return w1_to_floor(out, "gaussian1d", 10_000)


def measure_ring8(out: Path, seed: int) -> dict[str, Any]:
    cfg = run_config(
        out,
        seed,
        dataset="ring8",
        steps=4000,
        batch_size=512,
        lr_g=2e-3,
        lr_d=6e-3,
        ema=0.99,
        eval_samples=2500,
        model=ModelConfig(noise_dim=2, pack=4, g_hidden=(128, 128, 128), d_hidden=(128, 128, 128)),
    )
    train(cfg)
    metrics = json.loads((out / "metrics.json").read_text())
    return {k: metrics[k] for k in ("modes_covered", "hq_fraction", "reverse_kl")}


def _measure_2d(out: Path, seed: int, dataset: str, **options: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "steps": 2000,
        "lr_g": 1e-3,
        "lr_d": 1e-3,
        "ema": 0.999,
        "eval_samples": 500,  # metrics.json is not used
        "model": ModelConfig(noise_dim=8, g_hidden=(64, 64, 64), d_hidden=(64, 64, 64)),
    }
    values.update(options)
    train(run_config(out, seed, dataset=dataset, **values))
    return w1_to_floor(out, dataset, 2500)


def measure_disk(out: Path, seed: int) -> dict[str, Any]:
    return _measure_2d(out, seed, "disk", r1_weight=1.0)


def measure_gaussian2d(out: Path, seed: int) -> dict[str, Any]:
    return _measure_2d(out, seed, "gaussian2d", r1_weight=1.0)


def measure_wgan(out: Path, seed: int) -> dict[str, Any]:
    return _measure_2d(
        out,
        seed,
        "disk",
        loss="wasserstein",
        steps=800,
        lr_g=1e-3,
        lr_d=1e-3,
        clip_value=0.05,
        ema=0.99,
    )


def measure_wgan_gp(out: Path, seed: int) -> dict[str, Any]:
    return _measure_2d(
        out,
        seed,
        "disk",
        loss="wgan-gp",
        steps=400,
        lr_g=1e-3,
        lr_d=1e-3,
        betas=(0.5, 0.9),
        gp_weight=0.1,
        ema=0.99,
    )


def measure_conditional_ring8(out: Path, seed: int) -> dict[str, Any]:
    cfg = run_config(
        out,
        seed,
        dataset="ring8",
        steps=1000,
        lr_g=1e-3,
        lr_d=3e-3,
        ema=0.99,
        eval_samples=500,  # metrics.json is not used
        model=ModelConfig(
            conditional="concat", noise_dim=2, g_hidden=(128, 128), d_hidden=(128, 128)
        ),
    )
    train(cfg)
    n = 8 * 500
    fake = sample(out, n=n, seed=SAMPLE_SEED)
    labels = np.arange(n) % 8  # sample() draws class i % num_classes for sample i
    dist = np.linalg.norm(fake[:, None, :] - RING8_MEANS[None], axis=2)  # (n, 8)
    nearest = dist.argmin(axis=1)
    hq = dist[np.arange(n), labels] <= 3 * RING8_STD
    accuracy = [float(np.mean(nearest[labels == k] == k)) for k in range(8)]
    hq_by_class = [float(np.mean(hq[labels == k])) for k in range(8)]
    return {"accuracy_min": min(accuracy), "hq_min": min(hq_by_class)}


MEASURES = {
    "gaussian1d": measure_gaussian1d,
    "ring8": measure_ring8,
    "disk": measure_disk,
    "gaussian2d": measure_gaussian2d,
    "wgan": measure_wgan,
    "wgan_gp": measure_wgan_gp,
    "conditional_ring8": measure_conditional_ring8,
}


@pytest.fixture(autouse=True)
def _restore_threads() -> Iterator[None]:
    """``threads=1`` sets PyTorch's process-wide thread count; later tests get it back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


# -- the tests ------------------------------------------------------------------------------


def test_gaussian1d_matches_mean_spread_and_w1_floor(tmp_path: Path) -> None:
    """Mean and std within 0.05 of N(10, 1) and exact W1 (10,000 samples) below 3x the
    floor (0.0195).

    Config: Adam 1e-3 with linear decay and EMA 0.999 (recipes/gaussian1d.yaml) for 2,000
    steps, plus R1 (gamma 1). Without R1 the spread wobbles: at 2,000 steps seeds 0-9
    ended at up to 3.4x this floor, at 3,000 steps three of them above 3x (up to 4.4x,
    std down to 0.90). With R1, seeds 0-9: W1/floor 0.94-1.53 (seed 0: 0.94), |mean - 10| <= 0.019,
    |std - 1| <= 0.021. The 3x bound is the issue's (2x above the worst seed); mean and
    std get 0.05 (2.4x the worst seed), tighter than the issue's 0.1. Real samples scaled
    about their mean score 20x the floor at half the spread, 3.6-4.8x at 90 %, 3.3-4.9x
    at 110 %; shifted by 0.1, 5-6x: all fail.
    """
    m = measure_gaussian1d(tmp_path / "run", SEED)
    assert abs(m["mean"][0] - 10.0) < 0.05, m
    assert abs(m["std"][0] - 1.0) < 0.05, m
    assert m["ratio"] < 3.0, m


def test_ring8_covers_all_modes_with_high_quality(tmp_path: Path) -> None:
    """metrics.json (2,500 samples, PacGAN protocol): 8/8 modes, HQ >= 0.8, reverse KL
    < 0.05.

    Config: the unconditional ring8 recipe (before self-conditioning, 11,000 steps)
    shortened to 4,000 steps with batch 512, 2-d
    noise, pack 4, 3x128 nets, and learning rates G 2e-3, D 6e-3 (the recipe's: 1.5e-3,
    4.5e-3) so the short run settles on the modes; EMA 0.99. Seeds 0-9: 8/8 modes every
    time, HQ 0.886-0.926 (seed 0: 0.904), reverse KL 0.002-0.021. The same config at 3,000
    steps gave HQ 0.764-0.902 on seeds 0-8 (two below 0.8); rates 1e-3, 3e-3 at 3,000 steps 0.76-0.79
    on seed 0. HQ >= 0.8 is the issue's bound (0.086 below the worst seed); reverse KL
    gets 0.05 (2.4x the worst seed), which one mode holding a quarter of its share or
    less exceeds (half its share gives 0.018, near the worst seed: the bound is loose
    there).
    """
    m = measure_ring8(tmp_path / "run", SEED)
    assert m["modes_covered"] == 8, m
    assert m["hq_fraction"] >= 0.8, m
    assert m["reverse_kl"] < 0.05, m


def test_disk_sliced_w1_near_floor(tmp_path: Path) -> None:
    """Sliced W1 (2,500 samples) below 2.5x the floor (0.0181) on the unit disk.

    Config: 3x64 nets, 8-d noise, non-saturating loss with R1 (gamma 1), Adam 1e-3 with
    linear decay, EMA 0.999, 2,000 steps. Without R1 seven of seeds 0-9 collapsed (W1
    0.18-0.41, 10-22x this floor). With R1, seeds 0-9: 0.88-1.60x (seed 0: 1.55). The bound is tighter than
    the issue's 3x, 1.56x above the worst seed: real samples at 90 % of the spread score
    2.6-2.9x, at 80 % 4.9-5.1x, at half 12x; shifted by 0.1, 3.9-4.2x.
    """
    m = measure_disk(tmp_path / "run", SEED)
    assert m["ratio"] < 2.5, m


def test_gaussian2d_sliced_w1_near_floor(tmp_path: Path) -> None:
    """Sliced W1 (2,500 samples) below 2.5x the floor (0.0194) on N(0, 0.5^2 I).

    Config as for disk (3x64 nets, R1 gamma 1, 2,000 steps). Without R1, seed 0 ended at
    3.5x this floor with one std at 0.43. With R1, seeds 0-9: 0.84-1.40x (seed 0:
    1.09). The bound is tighter than the issue's 3x, 1.79x above the worst seed: real
    samples at 80 % of the spread score 4.0-4.4x, at half 10x; shifted by 0.1,
    4.6-5.3x (at 90 % of the spread, 2.1-2.5x: that close, it may pass).
    """
    m = measure_gaussian2d(tmp_path / "run", SEED)
    assert m["ratio"] < 2.5, m


def test_wgan_weight_clipping_converges_on_disk(tmp_path: Path) -> None:
    """WGAN (critic weights clipped to +-0.05, RMSprop, 5 critic steps) reaches sliced
    W1 below 3x the floor (0.0181) on the disk.

    Config: recipes/wgan-disk.yaml with 3x64 nets and 800 instead of 3,000 steps at twice
    the learning rate (1e-3), EMA 0.99. Seeds 0-9: 1.26-1.95x (seed 0: 1.68); at 400
    steps with rate 2e-3 seeds 0-9 reached 1.4-3.4x. The 3x bound is 1.54x above the
    worst seed; real samples at 80 % of the spread score about 5x, at half 12x.
    """
    m = measure_wgan(tmp_path / "run", SEED)
    assert m["ratio"] < 3.0, m


def test_wgan_gp_converges_on_disk(tmp_path: Path) -> None:
    """WGAN-GP (gradient penalty, weight 0.1; Adam beta (0.5, 0.9); 5 critic steps)
    reaches sliced W1 below 3x the floor (0.0181) on the disk.

    Config: recipes/wgan-gp-disk.yaml with 3x64 nets and 400 instead of 3,000 steps at
    10x the learning rate (1e-3), EMA 0.99. Seeds 0-9: 1.23-2.24x (seed 0: 1.63). The 3x
    bound is 1.34x above the worst
    seed; real samples at 80 % of the spread score about 5x, at half 12x.
    """
    m = measure_wgan_gp(tmp_path / "run", SEED)
    assert m["ratio"] < 3.0, m


def test_conditional_ring8_draws_the_requested_mode(tmp_path: Path) -> None:
    """A conditional (label-concatenating) GAN on ring8: the samples drawn for class k
    lie nearest to mode k, and within 3 std of it, for every k.

    The judge is the nearest mode, the Bayes classifier of ring8 (8 equal, isotropic
    Gaussians); chance is 1/8. Config: 2-d noise, 2x128 nets, G 1e-3 / D 3e-3 with
    linear decay, EMA 0.99, 1,000 steps. Seeds 0-9: every class 100 % nearest its own
    mode; within 3 std of it, worst class 0.968-0.996. Bounds: worst class >= 0.95
    nearest its mode (7.6x chance), >= 0.9 within 3 std. A generator that ignores the
    label scores 1/8 on both; at 100 steps, every class was nearest its mode but none
    within 3 std (worst class 0.0).
    """
    m = measure_conditional_ring8(tmp_path / "run", SEED)
    assert m["accuracy_min"] >= 0.95, m
    assert m["hq_min"] >= 0.9, m
