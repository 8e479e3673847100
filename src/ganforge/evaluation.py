"""Evaluation by data kind: ``register_evaluator(kind, fn)`` and ``register_metric``.

An evaluator maps ``(dataset, fake samples in native units, n, seed)`` to a metrics dict
with a ``protocol`` entry describing how the numbers were obtained. The trainer and the
CLI call :func:`evaluate_samples`; new data kinds plug in without touching either.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ganforge.registry import Registry

Evaluator = Callable[..., dict[str, Any]]

EVALUATORS: Registry[Callable] = Registry("evaluator")
METRIC_DIRECTIONS: Registry[bool] = Registry("metric", bool)


def register_evaluator(kind: str, fn: Evaluator) -> Evaluator:
    if not callable(fn):
        raise TypeError(f"evaluator for {kind!r} must be callable")
    return EVALUATORS.register(kind, fn)


def register_metric(name: str, higher_is_better: bool) -> None:
    """Declare a metric usable as ``best_metric`` and which direction is better."""
    METRIC_DIRECTIONS.register(name, higher_is_better)


def list_metrics() -> list[str]:
    return METRIC_DIRECTIONS.names()


def evaluate_samples(
    dataset: Any, fake: np.ndarray, n: int, seed: int = 0, labels: np.ndarray | None = None
) -> dict[str, Any]:
    """Evaluate native-unit ``fake`` samples against ``dataset`` with its kind's evaluator.

    ``labels``: the class each sample was generated for (conditional models); passed on
    to the evaluator only when given, so evaluators without conditional metrics need not
    accept it."""
    extra = {} if labels is None else {"labels": np.asarray(labels)}
    return EVALUATORS.get(dataset.kind)(dataset, fake, n=n, seed=seed, **extra)


def _evaluate_lowdim(dataset: Any, fake: np.ndarray, n: int, seed: int = 0) -> dict[str, Any]:
    from ganforge.metrics.lowdim import evaluate_lowdim

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


def _register_builtins() -> None:
    from ganforge.metrics.lowdim import HIGHER_IS_BETTER

    register_evaluator("lowdim", _evaluate_lowdim)
    for name, higher in HIGHER_IS_BETTER.items():
        register_metric(name, higher)
    # image metrics (ganforge.metrics.image_eval keys)
    for name, higher in (
        ("fid", False),
        ("kid", False),
        ("precision", True),
        ("recall", True),
        ("density", True),
        ("coverage", True),
        ("classifier_score", True),
        ("mode_kl", False),
        ("label_accuracy", True),
        ("label_accuracy_min", True),
    ):
        register_metric(name, higher)


_register_builtins()
