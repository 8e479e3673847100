"""Evaluation by data kind, behind two registries.

- :mod:`~ganforge.evaluation.registry`: ``register_evaluator(kind, fn)`` and
  ``register_metric(name, higher_is_better, fn, kind=...)``: each metric once, with its
  direction and the function computing it; the CLI summary table, the keys of
  ``metrics.json`` and ``real_vs_real``, and ``--best-metric`` all read it.
  :func:`evaluate_samples` dispatches on the dataset's kind, so the trainer and the CLI
  never name a kind.
- :mod:`~ganforge.evaluation.floor`: the one definition of the real-vs-real floor.
- :mod:`~ganforge.evaluation.lowdim`: toy distributions and numeric tables.
- :mod:`~ganforge.evaluation.image` (metrics in :mod:`~ganforge.evaluation.image_metrics`,
  real reference sets in :mod:`~ganforge.evaluation.references`, image files given by
  path in :mod:`~ganforge.evaluation.image_files`): images, for runs and image sets.
- :mod:`~ganforge.evaluation.table`: mixed-type tables (fidelity, ML efficacy, privacy),
  for runs and for any two CSV files.
- :mod:`~ganforge.evaluation.sequence`: generated text against held-out lines, with
  grammar checks and prompted answers for the built-in grammars.
"""

from __future__ import annotations

from ganforge.evaluation.registry import (
    EVALUATORS,
    METRIC_DIRECTIONS,
    METRICS,
    Metric,
    MetricSkipped,
    compute_metrics,
    evaluate_samples,
    list_metrics,
    metric_values,
    register_evaluator,
    register_metric,
    summary_metrics,
)

# the built-in kinds register through the same calls as user code (lowdim first: its
# metrics lead the summary table)
from ganforge.evaluation import lowdim  # noqa: E402, F401  isort: skip
from ganforge.evaluation import image  # noqa: E402, F401  isort: skip
from ganforge.evaluation import table  # noqa: E402, F401  isort: skip
from ganforge.evaluation import sequence  # noqa: E402, F401  isort: skip

__all__ = [
    "EVALUATORS",
    "METRICS",
    "METRIC_DIRECTIONS",
    "Metric",
    "MetricSkipped",
    "compute_metrics",
    "evaluate_samples",
    "list_metrics",
    "metric_values",
    "register_evaluator",
    "register_metric",
    "summary_metrics",
]
