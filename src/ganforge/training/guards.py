"""Guards that keep a run safe: signals stop it cleanly, NaN/Inf never reaches a
checkpoint, and a diverged run stops (or rolls back to the last good checkpoint).

``on_divergence`` reads and restores the trainer's state through
:mod:`ganforge.training.state`; the trainer calls it, never the other way round.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import torch

from ganforge.io import append_jsonl
from ganforge.training import checkpoint as ckpt
from ganforge.training import distributed, state

MAX_ROLLBACKS = 5


class TrainingDiverged(FloatingPointError):
    """A loss or weight became NaN/Inf and no rollback was possible or allowed."""


class TrainingInterrupted(Exception):
    """Raised after a signal stopped training and the state was checkpointed."""

    def __init__(self, signum: int, checkpoint: Path, run_dir: Path) -> None:
        self.signum, self.checkpoint, self.run_dir = signum, checkpoint, run_dir
        name = signal.Signals(signum).name
        super().__init__(
            f"{name}: stopped after the current step; checkpoint {checkpoint}; "
            f"resume with: ganforge train --resume {run_dir}"
        )


def weights_finite(*modules: torch.nn.Module) -> bool:
    """True when every parameter of ``modules`` is finite (one fused norm per tensor)."""
    params = [p for m in modules for p in m.parameters()]
    norms = torch._foreach_norm(params)
    return bool(torch.isfinite(torch.stack(norms)).all())


def on_divergence(trainer: Any, step: int, term: str) -> None:
    """``term`` became NaN/Inf at ``step``: with ``on_nan: rollback`` (and rollbacks
    left) reload ``latest``, halve the learning rates and log a ``rollback`` event;
    otherwise raise :class:`TrainingDiverged` naming the last good checkpoint."""
    latest = trainer.run_dir / "checkpoints" / "latest.safetensors"
    if trainer.cfg.on_nan == "rollback" and latest.exists() and trainer.rollbacks < MAX_ROLLBACKS:
        previous_scale = trainer.lr_scale
        state.restore(trainer, ckpt.load_checkpoint(latest))  # restores the file's lr_scale
        trainer.rollbacks += 1
        trainer.lr_scale = min(previous_scale, trainer.lr_scale) * 0.5
        trainer.set_learning_rates()
        msg = (
            f"{term} became NaN or infinite at step {step}; rolled back to step "
            f"{trainer.step} and halved the learning rates (x{trainer.lr_scale:g})"
        )
        trainer.log(f"warning: {msg}")
        if trainer.is_main:
            event = {
                "step": trainer.step,
                "time": time.time(),
                "event": "rollback",
                "diverged_step": step,
                "term": term,
                "lr_scale": trainer.lr_scale,
            }
            append_jsonl(trainer.run_dir / "history.jsonl", event)
        return
    where = (
        f"the last good checkpoint is {latest}"
        if latest.exists()
        else "no checkpoint was written before it"
    )
    raise TrainingDiverged(
        f"training diverged at step {step}: {term} became NaN or infinite; {where}"
    )


class SignalCatcher:
    """On SIGINT/SIGTERM, let the current step finish (``stop_signal`` is set on
    ``target``); the loop then checkpoints and raises :class:`TrainingInterrupted`. A
    second signal stops at once."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.old: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.target.stop_signal is not None:
            raise KeyboardInterrupt
        self.target.stop_signal = signum

    def __enter__(self) -> SignalCatcher:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self.old.items():
            signal.signal(sig, handler)


def should_stop(tr: Any, at_log_boundary: bool) -> bool:
    """A signal stops training after the current step; with several processes they
    agree at log boundaries (an all-reduce) so all stop at the same step."""
    if tr.world_size == 1:
        return tr.stop_signal is not None
    if not at_log_boundary:
        return False
    agreed = distributed.agree_to_stop(tr.stop_signal)
    if agreed is not None and tr.stop_signal is None:
        tr.stop_signal = agreed
    return agreed is not None
