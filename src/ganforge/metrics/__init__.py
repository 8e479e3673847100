"""Evaluation metrics: pure functions from samples or features to numbers.

Low-dimensional metrics live in :mod:`~.lowdim`; image metrics on feature arrays of
shape (N, D) in :mod:`~.frechet` (``fid``), :mod:`~.kernel_distance` (``kid``),
:mod:`~.manifold` (``prdc``: precision, recall, density, coverage),
:mod:`~.classifier_score` (``inception_score``) and :mod:`~.modes`; label accuracy of
conditional generators in :mod:`~.labels`; text metrics on lists of strings
(uniqueness, novelty, n-gram JSD, BLEU, self-BLEU, lengths, per-position entropy) in
:mod:`~.text`. No submodule shares a name with a function,
so ``from ganforge.metrics import fid`` is the function whatever was imported before.
Names resolve lazily so importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "fid": "ganforge.metrics.frechet",
    "frechet_distance": "ganforge.metrics.frechet",
    "kid": "ganforge.metrics.kernel_distance",
    "inception_score": "ganforge.metrics.classifier_score",
    "prdc": "ganforge.metrics.manifold",
    "class_mode_coverage": "ganforge.metrics.modes",
    "label_accuracy": "ganforge.metrics.labels",
    "mode_metrics": "ganforge.metrics.lowdim",
    "wasserstein1": "ganforge.metrics.lowdim",
    "mmd_rbf": "ganforge.metrics.lowdim",
    "marginal_stats": "ganforge.metrics.lowdim",
    "uniqueness": "ganforge.metrics.text",
    "novelty": "ganforge.metrics.text",
    "ngram_jsd": "ganforge.metrics.text",
    "bleu": "ganforge.metrics.text",
    "self_bleu": "ganforge.metrics.text",
    "length_distance": "ganforge.metrics.text",
    "position_entropy": "ganforge.metrics.text",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ganforge.metrics' has no attribute {name!r}")
