"""The evaluation registries: evaluators by data kind and metrics by name.

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
