"""A run directory's files, read once for the report: never a model, never the data.

``config.json`` (required), ``history.jsonl``, ``metrics.json``, ``run.json``, the headers
of ``checkpoints/latest|best.safetensors`` (step, data codec, parameter counts; no tensor
is read) and the sample snapshots ``samples/real.npz`` and ``samples/step_*.npz``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganforge.errors import DataError
from ganforge.io import read_jsonl
from ganforge.training.runinfo import read_run_info


@dataclass
class CheckpointHeader:
    """What a checkpoint's header says, read without loading its tensors."""

    name: str
    step: int
    codec: dict[str, Any] | None
    parameters: dict[str, int] = field(default_factory=dict)  # "G", "D", "G_ema" -> count


@dataclass
class RunFiles:
    """The files of one run directory, parsed."""

    path: Path
    config: dict[str, Any]
    history: list[dict[str, Any]]
    metrics: dict[str, Any] | None
    info: dict[str, Any] | None
    checkpoints: dict[str, CheckpointHeader]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def codec(self) -> dict[str, Any] | None:
        for ckpt in self.checkpoints.values():
            if ckpt.codec is not None:
                return ckpt.codec
        return None

    @property
    def kind(self) -> str:
        """The data kind: from the checkpoint's codec, else the dataset registry, else
        the saved real samples (uint8 ``(N, C, H, W)`` are images)."""
        codec = self.codec
        if codec is not None and codec.get("kind"):
            return str(codec["kind"])
        from ganforge.data import DATASETS

        dataset = str(self.config.get("dataset", ""))
        if dataset in DATASETS:
            return DATASETS.get(dataset).kind
        real = self.real()
        if real is not None and real.ndim == 4 and real.dtype == np.uint8:
            return "image"
        return "lowdim"

    def snapshots(self) -> list[tuple[int, Path]]:
        """``(step, path)`` of each ``samples/step_*.npz``, by step."""
        out = []
        for path in (self.path / "samples").glob("step_*.npz"):
            try:
                out.append((int(path.stem.split("_")[1]), path))
            except (IndexError, ValueError):
                continue
        return sorted(out)

    def real(self) -> np.ndarray | None:
        """The saved real samples (native units), or ``None``."""
        path = self.path / "samples" / "real.npz"
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as f:
            return f["real"] if "real" in f.files else None

    @staticmethod
    def snapshot(path: Path) -> dict[str, np.ndarray]:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}

    def total_times(self) -> tuple[float, float] | None:
        """Summed ``(wall_s, cpu_s)`` of the recorded training sessions, or ``None``."""
        sessions = (self.info or {}).get("sessions") or []
        if not sessions:
            return None
        wall = sum(float(s.get("wall_s") or 0.0) for s in sessions)
        cpu = sum(float(s.get("cpu_s") or 0.0) for s in sessions)
        return wall, cpu


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object")
    return data


#: the checkpoint header's metadata key (:data:`ganforge.training.checkpoint.META_KEY`)
META_KEY = "ganforge"
MAX_HEADER = 100 * 2**20  # safetensors refuses larger headers too
#: tensor names of buffers, not parameters (batch norm statistics, spectral norm vectors)
BUFFERS = ("running_mean", "running_var", "num_batches_tracked", "weight_u", "weight_v")


def read_checkpoint_header(path: Path, name: str) -> CheckpointHeader | None:
    """Step, codec and parameter counts from a checkpoint's safetensors header (an
    8-byte little-endian length, then that many bytes of JSON), without torch and
    without reading a tensor; ``None`` when the file is absent or not a ganforge
    checkpoint."""
    try:
        with open(path, "rb") as fh:
            size = int.from_bytes(fh.read(8), "little")
            if not 0 < size <= MAX_HEADER:
                return None
            header = json.loads(fh.read(size))
        meta = json.loads(header["__metadata__"][META_KEY])
        counts: dict[str, int] = {}
        for key, entry in header.items():
            prefix = key.split("/", 1)[0]
            if prefix in ("G", "D", "G_ema") and not key.endswith(BUFFERS):
                counts[prefix] = counts.get(prefix, 0) + int(np.prod(entry["shape"]))
        return CheckpointHeader(name, int(meta.get("step", 0)), meta.get("codec"), counts)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_run(path: str | Path) -> RunFiles:
    """Read the run directory ``path``; a folder without ``config.json`` is refused."""
    path = Path(path)
    if not path.is_dir():
        raise DataError(f"{str(path)!r} is not a ganforge run directory (not a folder)")
    config = _read_json(path / "config.json")
    if config is None:
        raise DataError(f"{str(path)!r} is not a ganforge run directory (no config.json)")
    checkpoints = {}
    for name in ("latest", "best"):
        header = read_checkpoint_header(path / "checkpoints" / f"{name}.safetensors", name)
        if header is not None:
            checkpoints[name] = header
    return RunFiles(
        path=path,
        config=config,
        history=read_jsonl(path / "history.jsonl"),
        metrics=_read_json(path / "metrics.json"),
        info=read_run_info(path),
        checkpoints=checkpoints,
    )
