"""Checkpoints: one safetensors file per checkpoint, the JSON state in its metadata.

Tensors (weights, buffers, optimizer moments, RNG states) are stored by name; everything
else (step, config, optimizer hyper-parameters, data codec, best score) is JSON under the
metadata key ``ganforge``. Loading parses tensors and JSON only, so it can never execute
code from the file. Writes are atomic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ganforge.errors import CheckpointError
from ganforge.io import atomic_write

FORMAT = "ganforge-checkpoint"
FORMAT_VERSION = 1
META_KEY = "ganforge"


@dataclass
class Checkpoint:
    """A loaded checkpoint: ``tensors`` by name and the ``meta`` JSON dict."""

    path: Path
    tensors: dict[str, torch.Tensor]
    meta: dict[str, Any]

    @property
    def step(self) -> int:
        return int(self.meta["step"])

    @property
    def config(self) -> dict[str, Any]:
        return self.meta["config"]

    def module_state(self, prefix: str) -> dict[str, torch.Tensor]:
        p = prefix + "/"
        return {k[len(p) :]: v for k, v in self.tensors.items() if k.startswith(p)}

    def has(self, prefix: str) -> bool:
        p = prefix + "/"
        return any(k.startswith(p) for k in self.tensors)


def flatten_optimizer(prefix: str, state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer ``state_dict`` into named tensors and a JSON-able remainder."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, pstate in state["state"].items():
        for key, value in pstate.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}/{idx}/{key}"] = value
            else:
                scalars.setdefault(str(idx), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def unflatten_optimizer(prefix: str, tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict[str, Any]] = {}
    p = prefix + "/"
    for name, value in tensors.items():
        if name.startswith(p):
            idx, key = name[len(p) :].split("/", 1)
            state.setdefault(int(idx), {})[key] = value
    for idx, values in meta.get("scalars", {}).items():
        state.setdefault(int(idx), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(
    path: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> None:
    """Write ``tensors`` and ``meta`` atomically to ``path`` (a ``.safetensors`` file)."""
    from safetensors.torch import save_file

    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, **meta}
    # safetensors refuses shared or non-contiguous storage: store independent copies.
    clean = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    header = {META_KEY: json.dumps(meta)}
    atomic_write(path, lambda tmp: save_file(clean, str(tmp), metadata=header))


def checkpoint_step(path: str | Path) -> int:
    """The step a checkpoint file was saved at, read from its header alone."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt", device="cpu") as fh:
        header = fh.metadata() or {}
    try:
        return int(json.loads(header[META_KEY])["step"])
    except (KeyError, TypeError, json.JSONDecodeError):
        raise CheckpointError(f"{path}: not a ganforge checkpoint") from None


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Load a checkpoint file, or the latest checkpoint of a run directory.

    Raises ValueError with a one-line reason for missing, truncated, corrupt, foreign or
    newer-format files. No code in the file is ever executed (safetensors + JSON only).
    """
    from safetensors import safe_open

    path = resolve_checkpoint_path(path)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            header = fh.metadata() or {}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise CheckpointError(
            f"{path}: not a readable ganforge checkpoint (truncated or corrupt?): "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None
    raw = header.get(META_KEY)
    if raw is None:
        raise CheckpointError(f"{path}: a safetensors file, but not a ganforge checkpoint")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError:
        raise CheckpointError(f"{path}: checkpoint metadata is corrupt") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a ganforge checkpoint (format {meta.get('format')!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {version} is newer than this ganforge "
            f"understands ({FORMAT_VERSION}); upgrade ganforge"
        )
    return Checkpoint(path, tensors, meta)


def resolve_checkpoint_path(path: str | Path, which: str = "latest") -> Path:
    """A checkpoint file as given, or ``RUN/checkpoints/{which}.safetensors`` for a run."""
    path = Path(path)
    if path.is_dir():
        candidate = path / "checkpoints" / f"{which}.safetensors"
        if not candidate.exists():
            raise CheckpointError(f"{path}: no {which} checkpoint in this run directory")
        return candidate
    if not path.exists():
        raise CheckpointError(f"checkpoint or run directory {str(path)!r} does not exist")
    return path


def load_state_strict(module: torch.nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """``load_state_dict`` with a one-line ValueError naming the first mismatch."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    if missing or extra:
        detail = f"missing {missing[:3]}" if missing else f"unexpected {extra[:3]}"
        raise CheckpointError(f"checkpoint {what} does not match this architecture: {detail}")
    for name, value in state.items():
        if own[name].shape != value.shape:
            raise CheckpointError(
                f"checkpoint {what} does not match this architecture: {name} has shape "
                f"{tuple(value.shape)} in the file, {tuple(own[name].shape)} in the model"
            )
    module.load_state_dict(state)
