"""ganforge: train, sample and evaluate GANs for synthetic data.

The top-level import is light (no torch); the heavy pieces load on first use::

    import ganforge
    run = ganforge.train(ganforge.TrainConfig(dataset="ring8", steps=2000, out="runs/demo"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "TrainConfig": "ganforge.config",
    "ModelConfig": "ganforge.config",
    "train": "ganforge.training.trainer",
    "Trainer": "ganforge.training.trainer",
    "load_checkpoint": "ganforge.training.checkpoint",
    "sample": "ganforge.api",
    "evaluate": "ganforge.api",
    "fit": "ganforge.frames",
    "TableModel": "ganforge.frames",
}

__all__ = [  # noqa: PLE0604
    "__version__",
    "TrainConfig",
    "ModelConfig",
    "train",
    "Trainer",
    "load_checkpoint",
    "sample",
    "evaluate",
    "fit",
    "TableModel",
]

if TYPE_CHECKING:  # pragma: no cover
    from ganforge.api import evaluate, sample
    from ganforge.config import ModelConfig, TrainConfig
    from ganforge.frames import TableModel, fit
    from ganforge.training.checkpoint import load_checkpoint
    from ganforge.training.trainer import Trainer, train


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ganforge' has no attribute {name!r}")
