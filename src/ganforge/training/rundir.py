"""The run directory: naming, creation, leftovers, checkpoint files and their rotation.

A run directory holds ``config.json``, ``history.jsonl``, ``metrics.json`` and the folders
``checkpoints/`` (``step_NNNNNNN.safetensors``, ``latest`` and ``best`` as hard links),
``samples/`` and ``plots/``. Every write is atomic; the lock lives in
:mod:`ganforge.training.lock`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ganforge.config import TrainConfig
from ganforge.errors import CheckpointError, OutputError
from ganforge.io import atomic_path
from ganforge.training import guards, state

SUBFOLDERS = ("checkpoints", "samples", "plots")


def new_run_dir(cfg: TrainConfig, root: str | Path = "runs") -> Path:
    """``runs/00003-ring8-nonsaturating``: the next free number under ``root``."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise OutputError(f"runs folder {str(root)!r} is a file")
    numbers = (
        [int(p.name[:5]) for p in root.glob("[0-9][0-9][0-9][0-9][0-9]-*")] if root.exists() else []
    )
    tag = Path(cfg.dataset).stem if Path(cfg.dataset).suffix else cfg.dataset
    return root / f"{max(numbers, default=0) + 1:05d}-{tag}-{cfg.loss}"


def prepare_run_dir(path: str | Path) -> Path:
    """Create a fresh run directory; refuse files and folders that already hold a run."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"output path {str(path)!r} is a file, not a directory")
    if path.is_dir() and any(path.iterdir()):
        raise OutputError(
            f"output directory {str(path)!r} is not empty; choose another --out or "
            f"continue it with --resume {path}"
        )
    for sub in SUBFOLDERS:
        (path / sub).mkdir(parents=True, exist_ok=True)
    probe = path / ".write-test"
    try:
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise OutputError(
            f"output directory {str(path)!r} is not writable: {exc.strerror}"
        ) from None
    return path


def remove_leftovers(run: Path) -> None:
    """Delete temporary files of a process killed mid-write (call with the lock held)."""
    for pattern in ("checkpoints/.*.tmp", "samples/.*.tmp", "plots/.*.tmp", ".*.tmp"):
        for leftover in run.glob(pattern):
            leftover.unlink(missing_ok=True)


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    with atomic_path(path, durable=False) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def link_replace(src: Path, dst: Path) -> None:
    """Make ``dst`` a hard link to ``src`` (atomically replacing it); copy if links fail."""
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def link_latest_as_best(run: Path) -> None:
    """No best-model rule applied: the final checkpoint is the best one."""
    folder = run / "checkpoints"
    link_replace(folder / "latest.safetensors", folder / "best.safetensors")


def step_checkpoint(run: Path, step: int) -> Path:
    return run / "checkpoints" / f"step_{step:07d}.safetensors"


def write_checkpoint(save: Callable[[Path], None], path: Path, link_latest: bool = False) -> None:
    """``save(path)`` (and optionally make it ``latest``); a failing write (full disk,
    lost permission) becomes one clear error while the previous files stay intact."""
    latest = path.parent / "latest.safetensors"
    try:
        save(path)
        if link_latest:
            link_replace(path, latest)
    except OSError as exc:
        kept = f"; the previous checkpoint {latest} is intact" if latest.exists() else ""
        raise CheckpointError(
            f"could not write checkpoint {path}: {exc.strerror or exc}{kept}"
        ) from None


def rotate_checkpoints(folder: Path, keep: int) -> None:
    """Keep the ``keep`` newest ``step_*`` checkpoints (``latest``/``best`` are links)."""
    steps = sorted(folder.glob("step_*.safetensors"))
    for old in steps[:-keep]:
        old.unlink(missing_ok=True)


def save_step_checkpoint(tr: Any) -> Path:
    """Write ``step_NNNNNNN.safetensors`` (made ``latest``, and ``best`` by the classic
    rule), rotate old ones, and return its path. Weights with NaN/Inf never replace a
    good checkpoint: the divergence guard stops (or rolls back) instead."""
    folder = tr.run_dir / "checkpoints"
    path = step_checkpoint(tr.run_dir, tr.step)
    # Every process checks (their weights are identical), so all stop together.
    if not guards.weights_finite(tr.G, tr.D):
        guards.on_divergence(tr, tr.step, "weights")
        return folder / "latest.safetensors"
    if not tr.is_main:
        return path
    is_best = tr.cfg.best_metric is None and tr.best.equilibrium_improves(
        tr.last_row, tr.loss.equilibrium, tr.step, tr.cfg.steps
    )
    write_checkpoint(lambda p: state.save(tr, p), path, link_latest=True)
    if is_best:  # the same file: a link, not a second write
        link_replace(path, folder / "best.safetensors")
    rotate_checkpoints(folder, tr.cfg.keep_checkpoints)
    return path
