"""Where and how a run computes: CPU threads, mixed precision, memory format."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
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


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
# The largest mmap threshold glibc accepts on 64-bit systems (HEAP_MAX_SIZE / 2).
_MMAP_THRESHOLD = 32 * 2**20
_TRIM_THRESHOLD = 2**31 - 1
# The user's own choice of glibc malloc settings, which keep_freed_memory leaves alone.
_MALLOC_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")
_kept_freed_memory = False


def keep_freed_memory() -> bool:
    """Let glibc's malloc keep freed CPU memory for reuse; True if this process now does.

    A training step allocates and frees the same tensors every step. By default glibc
    gives large freed blocks back to the kernel: those it served with ``mmap`` and the
    heap's free top beyond its trim threshold. The next step page-faults the same memory
    in again, zero-filled: on a small DCGAN's step thousands of page faults and a fifth
    of the wall time (``docs/BENCHMARKS.md``).
    Raising the mmap threshold to glibc's maximum (32 MiB) and the trim threshold to 2 GiB
    keeps that memory in the process, as TensorFlow's and PyTorch's CUDA allocators do:
    the process holds on to its peak. Numbers are unchanged.

    Process-wide, once. A no-op off Linux/glibc, and when the user chose malloc settings
    through the environment (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` or
    ``GLIBC_TUNABLES``), which also turns it off: e.g. ``MALLOC_TRIM_THRESHOLD_=131072``.
    """
    global _kept_freed_memory
    if _kept_freed_memory:
        return True
    if not sys.platform.startswith("linux") or any(k in os.environ for k in _MALLOC_ENV):
        return False
    try:
        libc = ctypes.CDLL(None)  # the process's own symbols, its C library's among them
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    if not hasattr(libc, "gnu_get_libc_version"):  # the parameter numbers are glibc's
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD) == 1 and ok
    _kept_freed_memory = ok
    return ok


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
