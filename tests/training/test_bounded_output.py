"""The tutorial's tanh generator (`mlp2d`) reaches the data it is trained on.

With standardised data a tanh output is capped at one standard deviation from the mean:
on the unit disk (std 0.5 per axis) no sample could leave [-0.5, 0.5]² (radius ≤ 0.71),
and on N(0, 0.5² I) nothing lay beyond 1σ per axis. A bounded output now trains on the
data's range mapped onto [-1, 1] (``ganforge.data.scaling``), so both runs below must put
samples where the data is, in the right amounts.

Both runs keep the preset's architecture (100-d noise, 3x256 G with tanh, 3x256 D) and
train it the way a short CPU run settles: least-squares loss, two time scales (lr 1e-4
for G, 4e-4 for D) decaying linearly to 0, 2,500 steps of 128 (about 12 s on one
thread). Samples are compared with the data through their radii, each number next to the
same number between two independent real samples of the same size (the real-vs-real
floor, averaged over 16 pairs; one pair varies by about ±30 %). Real data is drawn here
with NumPy from the README's definitions, independently of ``ganforge.data``.

Thresholds come from seed sweeps of exactly these runs (``python
benchmarks/bounded_output_thresholds.py`` reprints them); each docstring gives the
observed range over seeds 0-9.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
from scipy import stats

from ganforge import TrainConfig, sample, train
from ganforge.training.checkpoint import load_checkpoint

SEED = 0
SAMPLE_SEED = 12345
#: samples compared per dataset
N = {"disk": 2000, "gaussian2d": 1000}
#: the fraction of the data beyond radius 1.0 (2σ of gaussian2d): exp(-2) for
#: N(0, 0.5² I), none for the unit disk
EXACT_TAIL = {"disk": 0.0, "gaussian2d": math.exp(-2.0)}
#: training options shared by both runs
RECIPE = {
    "preset": "mlp2d",
    "loss": "least-squares",
    "lr_g": 1e-4,
    "lr_d": 4e-4,
    "lr_schedule": "linear",
    "steps": 2500,
    "batch_size": 128,
}
#: per dataset: Adam's β1 = 0 lets the disk's sharp rim settle (KS 0.03-0.05 over seeds
#: 0-9, against 0.03-0.07 with the default betas); on the Gaussian it overshoots the
#: tails on one seed in ten, so that run keeps the loss's default (0.5, 0.999)
OPTIONS = {"disk": {"betas": (0.0, 0.9)}, "gaussian2d": {}}


def real_radii(dataset: str, n: int, seed: int) -> np.ndarray:
    """Radii of ``n`` points of ``disk`` (uniform in the unit disk) or ``gaussian2d``."""
    rng = np.random.default_rng(seed)
    if dataset == "disk":
        return np.sqrt(rng.random(n))  # P(r < t) = t² for a uniform disk
    return np.hypot(*rng.normal(0.0, 0.5, size=(2, n)))


@functools.cache
def ks_floor(dataset: str, n: int, pairs: int = 16) -> float:
    """Mean KS statistic between the radii of two independent real samples of size ``n``."""
    values = [
        stats.ks_2samp(
            real_radii(dataset, n, 1000 + 2 * i), real_radii(dataset, n, 1001 + 2 * i)
        ).statistic
        for i in range(pairs)
    ]
    return float(np.mean(values))


@functools.cache
def tail_floor(dataset: str, n: int, pairs: int = 16) -> float:
    """Mean |difference| of the fraction beyond radius 1.0 between two real samples."""
    values = [
        abs(
            (real_radii(dataset, n, 2000 + 2 * i) > 1.0).mean()
            - (real_radii(dataset, n, 2001 + 2 * i) > 1.0).mean()
        )
        for i in range(pairs)
    ]
    return float(np.mean(values))


def measure(dataset: str, out: Path, seed: int = SEED) -> dict[str, float]:
    """Train ``mlp2d`` on ``dataset`` into ``out`` and compare the radii of ``N`` samples
    with the data's: max radius; KS statistic against a real sample; fraction beyond
    radius 1.0 against the exact one; the two floors."""
    cfg = TrainConfig(
        **RECIPE,
        **OPTIONS[dataset],
        dataset=dataset,
        seed=seed,
        device="cpu",
        threads=1,
        sample_every=0,
        eval_samples=500,
        out=str(out),
    )
    train(cfg)
    n = N[dataset]
    x = sample(out, n=n, seed=SAMPLE_SEED)
    radii = np.hypot(x[:, 0], x[:, 1])
    tail = float((radii > 1.0).mean())
    return {
        "r_max": float(radii.max()),
        "ks": float(stats.ks_2samp(radii, real_radii(dataset, n, 7)).statistic),
        "ks_floor": ks_floor(dataset, n),
        "tail": tail,
        "tail_error": abs(tail - EXACT_TAIL[dataset]),
        "tail_floor": tail_floor(dataset, n),
    }


def _scaling(run: Path) -> dict:
    return load_checkpoint(run / "checkpoints" / "latest.safetensors").meta["codec"]["scaling"]


def test_mlp2d_reaches_the_rim_of_the_unit_disk(tmp_path: Path) -> None:
    """2,000 samples. Max radius 1.08-1.20 (≥ 0.95 asked; the standardised tanh stopped
    at 0.71). KS of the radii against a real sample 0.031-0.048 (median 0.038) against a
    floor of 0.029: at most 1.6× the floor, asked ≤ 2×. What remains is mostly 2-3 % of
    the samples just outside the rim; a rim drawn 5 % inside the true one already scores
    KS ≈ 0.1."""
    m = measure("disk", tmp_path)
    assert _scaling(tmp_path)["bounds"] == [-1.0, 1.0]  # the codec the samples came through
    assert m["r_max"] >= 0.95, m
    assert m["ks"] <= 2 * m["ks_floor"], m


def test_mlp2d_has_the_tails_of_the_gaussian(tmp_path: Path) -> None:
    """1,000 samples. Fraction beyond 2σ (radius 1.0; exactly e⁻² = 0.135 for
    N(0, 0.5² I)): 0.114-0.141, off by 0.001-0.021 (median 0.006) against a real-vs-real
    difference of 0.012, asked ≤ 2× (0.024). Max radius 1.62-2.00 (≥ 1.5 = 3σ asked; the
    standardised tanh put nothing beyond 1σ per axis, radius 0.71). For information, KS
    of the radii 0.037-0.092 against a floor of 0.034: the bulk is matched less tightly
    than the tail on some seeds, so KS is not asserted here."""
    m = measure("gaussian2d", tmp_path)
    assert m["r_max"] >= 1.5, m
    assert m["tail_error"] <= 2 * m["tail_floor"], m
