"""Evaluation by data kind, behind two registries.

- :mod:`~ganforge.evaluation.registry`: ``register_evaluator(kind, fn)`` and
  ``register_metric(name, higher_is_better)``; :func:`evaluate_samples` dispatches on the
  dataset's kind, so the trainer and the CLI never name a kind.
- :mod:`~ganforge.evaluation.lowdim`: toy distributions and numeric tables.
- :mod:`~ganforge.evaluation.image`: images (FID, KID, PRDC, classifier score, mode and
  label statistics), for runs and for image sets given by path.
"""

from __future__ import annotations

from ganforge.evaluation.registry import (
    EVALUATORS,
    METRIC_DIRECTIONS,
    evaluate_samples,
    list_metrics,
    register_evaluator,
    register_metric,
)

# the built-in kinds register through the same calls as user code
from ganforge.evaluation import image, lowdim  # noqa: E402, F401  isort: skip

__all__ = [
    "EVALUATORS",
    "METRIC_DIRECTIONS",
    "evaluate_samples",
    "list_metrics",
    "register_evaluator",
    "register_metric",
]
