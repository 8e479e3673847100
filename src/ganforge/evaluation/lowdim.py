"""Evaluation of low-dimensional samples (toy distributions, numeric tables).

Every metric of :mod:`ganforge.metrics.lowdim` for the generated samples against a real
sample, next to the same metric for a second, independent real sample (``real_vs_real``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganforge.evaluation.registry import register_evaluator, register_metric
from ganforge.metrics.lowdim import as_2d, distance_metrics, marginal_stats, mode_metrics


def evaluate_lowdim(
    fake: Any,
    real: Any,
    real_reference: Any,
    modes: Any = None,
    mode_std: float | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Every low-dimensional metric for ``fake`` against ``real``, each next to the same
    metric between two independent real samples (``real`` vs ``real_reference``) under
    ``real_vs_real``, so a user can tell a good value from a bad one."""
    fake2, real2 = as_2d(fake, "fake"), as_2d(real, "real")
    out: dict[str, Any] = {}
    if modes is not None and mode_std is not None:
        out.update(mode_metrics(fake2, modes, mode_std))
    out.update(distance_metrics(real2, fake2, seed=seed))
    out.update(marginal_stats(real2, fake2))
    floor = {"w1": None, "mmd": None, "ks_max": None}
    floor.update(distance_metrics(real2, as_2d(real_reference, "real_reference"), seed=seed))
    if modes is not None and mode_std is not None:
        ref = mode_metrics(real_reference, modes, mode_std)
        floor.update({k: ref[k] for k in ("modes_covered", "hq_fraction", "reverse_kl")})
    out["real_vs_real"] = floor
    return out


def evaluate_lowdim_samples(
    dataset: Any, fake: np.ndarray, n: int, seed: int = 0
) -> dict[str, Any]:
    """Evaluator for data kind ``lowdim``: ``fake`` against ``n`` fresh real samples."""
    real = dataset.sample_real(n, seed=seed + 1_000_003)
    reference = dataset.sample_real(n, seed=seed + 2_000_003)
    out = evaluate_lowdim(fake, real, reference, dataset.modes, dataset.mode_std, seed=seed)
    out["protocol"] = {
        "n_fake": int(len(fake)),
        "n_real": int(n),
        "seed": int(seed),
        "w1": "exact" if real.reshape(len(real), -1).shape[1] == 1 else "sliced, 256 directions",
        "mmd": "unbiased MMD², RBF kernel, bandwidth = median real pairwise distance",
        "hq_threshold": "3 std of the nearest mode" if dataset.modes is not None else None,
    }
    return out


register_evaluator("lowdim", evaluate_lowdim_samples)
for _name, _higher in (
    ("modes_covered", True),
    ("hq_fraction", True),
    ("reverse_kl", False),
    ("w1", False),
    ("mmd", False),
    ("ks_max", False),
):
    register_metric(_name, _higher)
