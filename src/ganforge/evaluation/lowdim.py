"""Evaluation of low-dimensional samples (toy distributions, numeric tables).

The metrics registered for kind ``lowdim`` (mode coverage for data with known modes,
Wasserstein-1, MMD and the largest KS statistic) for the generated samples against a real
sample, each next to the same metric for a second, independent real sample
(``real_vs_real``, see :mod:`~ganforge.evaluation.floor`), plus per-column statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ganforge.evaluation.floor import REAL_VS_REAL
from ganforge.evaluation.registry import (
    compute_metrics,
    metric_values,
    register_evaluator,
    register_metric,
)
from ganforge.metrics.lowdim import as_2d, distance_metrics, marginal_stats, mode_metrics


@dataclass(frozen=True)
class LowdimInputs:
    """What the ``lowdim`` metric functions read: ``fake`` and ``real`` ``(N, D)`` in the
    data's units, the mode centres ``(K, D)`` and their std (or ``None``), a seed."""

    fake: np.ndarray
    real: np.ndarray
    modes: Any = None
    mode_std: float | None = None
    seed: int = 0


def mode_coverage(x: LowdimInputs) -> dict[str, Any] | None:
    """``modes_covered``, ``hq_fraction``, ``reverse_kl`` (with ``num_modes`` and
    ``mode_counts``) for data with known modes."""
    if x.modes is None or x.mode_std is None:
        return None
    return mode_metrics(x.fake, x.modes, x.mode_std)


def distances(x: LowdimInputs) -> dict[str, Any]:
    """``w1`` (exact 1-D or sliced), ``mmd`` (RBF, unbiased) and ``ks_max``."""
    return distance_metrics(x.real, x.fake, seed=x.seed)


register_metric("modes_covered", True, mode_coverage, kind="lowdim", summary=True)
register_metric("hq_fraction", True, mode_coverage, kind="lowdim", summary=True)
register_metric("reverse_kl", False, mode_coverage, kind="lowdim", summary=True)
for _name in ("w1", "mmd", "ks_max"):
    register_metric(_name, False, distances, kind="lowdim", summary=True)


def evaluate_lowdim(
    fake: Any,
    real: Any,
    real_reference: Any,
    modes: Any = None,
    mode_std: float | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Every low-dimensional metric for ``fake`` against ``real``, each next to the same
    metric for ``real_reference`` (a second, independent real sample) against ``real``
    under ``real_vs_real``, so a user can tell a good value from a bad one."""
    fake2, real2 = as_2d(fake, "fake"), as_2d(real, "real")
    second = as_2d(real_reference, "real_reference")
    out = compute_metrics("lowdim", LowdimInputs(fake2, real2, modes, mode_std, seed)).values
    out.update(marginal_stats(real2, fake2))
    floor = compute_metrics("lowdim", LowdimInputs(second, real2, modes, mode_std, seed))
    out["real_vs_real"] = metric_values(floor.values)
    return out


def evaluate_lowdim_samples(
    dataset: Any, fake: np.ndarray, n: int, seed: int = 0
) -> dict[str, Any]:
    """Evaluator for data kind ``lowdim``: ``fake`` against ``n`` fresh real samples."""
    real = dataset.sample_real(n, seed=seed + 1_000_003)
    second = dataset.sample_real(n, seed=seed + 2_000_003)
    out = evaluate_lowdim(fake, real, second, dataset.modes, dataset.mode_std, seed=seed)
    out["protocol"] = {
        "n_fake": int(len(fake)),
        "n_real": int(n),
        "seed": int(seed),
        "w1": "exact" if real.reshape(len(real), -1).shape[1] == 1 else "sliced, 256 directions",
        "mmd": "unbiased MMD², RBF kernel, bandwidth = median real pairwise distance",
        "hq_threshold": "3 std of the nearest mode" if dataset.modes is not None else None,
        "real_vs_real": REAL_VS_REAL,
    }
    return out


register_evaluator("lowdim", evaluate_lowdim_samples)
