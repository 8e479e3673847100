"""Shared helpers: tiny configs, a CLI runner, and a switch to skip plotting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ganforge.config import ModelConfig, TrainConfig

#: Model flags that keep every CLI run small.
TINY_FLAGS = ("--g-hidden", "16,16", "--d-hidden", "16,16", "--noise-dim", "4")


def tiny_config(**overrides: Any) -> TrainConfig:
    """A fast CPU config (16-unit MLPs, small batches, no periodic snapshots)."""
    values: dict[str, Any] = {
        "dataset": "ring8",
        "steps": 4,
        "batch_size": 32,
        "seed": 0,
        "device": "cpu",
        "model": ModelConfig(noise_dim=4, g_hidden=(16, 16), d_hidden=(16, 16)),
        "sample_every": 0,
        "eval_samples": 200,
        "log_every": 1,
    }
    values.update(overrides)
    return TrainConfig(**values)


def run_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m ganforge ARGS`` in ``cwd`` and capture its output."""
    env = dict(os.environ)
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run(
        [sys.executable, "-m", "ganforge", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def no_plots(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip the end-of-run figures (they are tested through the CLI)."""
    from ganforge.training.trainer import Trainer

    monkeypatch.setattr(Trainer, "_plots", lambda self: None)


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    """Write ``rows`` under ``header`` to ``path`` with the csv module; returns ``path``."""
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path
