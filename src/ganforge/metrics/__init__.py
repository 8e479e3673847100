"""Evaluation metrics: pure functions from samples or features to numbers.

Low-dimensional metrics live in :mod:`ganforge.metrics.lowdim`; image metrics on
feature arrays of shape (N, D) live in :mod:`~.fid`, :mod:`~.kid`,
:mod:`~.inception_score`, :mod:`~.prdc` and :mod:`~.modes`. Names resolve lazily so
importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "fid": "ganforge.metrics.fid",
    "frechet_distance": "ganforge.metrics.fid",
    "kid": "ganforge.metrics.kid",
    "inception_score": "ganforge.metrics.inception_score",
    "prdc": "ganforge.metrics.prdc",
    "class_mode_coverage": "ganforge.metrics.modes",
    "mode_metrics": "ganforge.metrics.lowdim",
    "wasserstein1": "ganforge.metrics.lowdim",
    "mmd_rbf": "ganforge.metrics.lowdim",
    "marginal_stats": "ganforge.metrics.lowdim",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ganforge.metrics' has no attribute {name!r}")
