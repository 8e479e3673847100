"""Where and how a run computes: CPU threads, mixed precision, memory format."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch

SMALL_MODEL_PARAMS = 200_000


def set_threads(threads: int | None, n_params: int, device: torch.device) -> None:
    """Intra-op CPU threads: ``threads`` if given; otherwise one thread for tiny models
    (the toy-data presets), whose layers are too small to split across cores — the
    synchronisation costs more than it saves, badly so when another process shares the
    cores — and PyTorch's default for everything else (benchmarks/throughput.py)."""
    if threads is not None:
        torch.set_num_threads(threads)
    elif device.type == "cpu" and n_params < SMALL_MODEL_PARAMS:
        torch.set_num_threads(1)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX tiles), so bf16
    matmuls and convolutions are faster than fp32 rather than emulated and slower."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def mixed_precision(
    precision: str, device: torch.device, log: Callable[[str], None]
) -> tuple[torch.dtype | None, Any, Any]:
    """(autocast dtype, G scaler, D scaler). fp16 gets one GradScaler per optimizer and
    runs on CUDA only. bf16 runs on CUDA and on CPUs that compute bf16 natively
    (:func:`cpu_has_native_bf16`); elsewhere mixed precision is ignored with a note."""
    if precision == "fp32":
        return None, None, None
    if device.type == "cpu" and precision == "bf16":
        if cpu_has_native_bf16():
            return torch.bfloat16, None, None
        log("note: this CPU has no native bf16 (AVX-512 BF16 or AMX); training in fp32")
        return None, None, None
    if device.type != "cuda":
        log(f"note: precision {precision} applies on CUDA only; training in fp32 on CPU")
        return None, None, None
    if precision == "bf16":
        return torch.bfloat16, None, None
    return torch.float16, torch.amp.GradScaler("cuda"), torch.amp.GradScaler("cuda")


def autocast_factory(
    dtype: torch.dtype | None, device: torch.device | None = None
) -> Callable[[], contextlib.AbstractContextManager]:
    """A context factory: autocast to ``dtype`` on ``device``'s type (CUDA by default),
    or a no-op for ``None``."""
    if dtype is None:
        return contextlib.nullcontext
    kind = "cuda" if device is None else device.type
    return lambda: torch.autocast(kind, dtype=dtype)


def uses_channels_last(D: torch.nn.Module, shape: tuple[int, ...]) -> bool:
    """Convolutions run faster on channels-last tensors (oneDNN on CPU, tensor cores)."""
    return any(isinstance(m, torch.nn.Conv2d) for m in D.modules()) and len(shape) == 3
