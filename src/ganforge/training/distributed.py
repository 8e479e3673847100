"""Data-parallel training across processes and machines with ``torch.distributed``.

Launch with ``torchrun --nproc_per_node N -m ganforge train ...`` (gloo on CPU, NCCL on
GPU). Each process draws its own batch (per-rank seeds for data and noise), gradients are
averaged over all processes after every backward — the averaging that
``DistributedDataParallel`` performs — and only rank 0 logs and writes files. The
all-reduce is explicit rather than through DDP's hooks because the WGAN-GP double
backward and the generator step through a frozen discriminator do not fit those hooks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from ganforge.errors import OutputError


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None


def rank_seed(seed: int, stream: int, rank: int, step: int = 0) -> int:
    """Seed of RNG ``stream`` (1: data, 2: noise) for process ``rank``; rank 0 of a fresh
    run matches a single-process run, other ranks (and re-sharded resumes, which derive
    it from the ``step``) get their own."""
    return (seed * 7919 + stream + 1_000_003 * rank + 7_919_993 * step) % 2**63


def env_world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def init_from_env(device: str = "auto") -> DistInfo:
    """Join the process group described by torchrun's environment variables.

    Returns ``DistInfo()`` (single process) when ``WORLD_SIZE`` is unset or 1.
    """
    world = env_world_size()
    if world <= 1:
        return DistInfo()
    if dist.is_initialized():
        return DistInfo(
            dist.get_rank(),
            dist.get_world_size(),
            int(os.environ.get("LOCAL_RANK", "0")),
            dist.get_backend(),
        )
    use_cuda = device != "cpu" and torch.cuda.is_available()
    backend = "nccl" if use_cuda else "gloo"
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=backend)
    return DistInfo(dist.get_rank(), dist.get_world_size(), local_rank, backend)


def device_for(info: DistInfo, device: torch.device) -> torch.device:
    """Each process on a CUDA machine takes the GPU of its local rank."""
    if device.type == "cuda" and info.world_size > 1:
        return torch.device("cuda", info.local_rank)
    return device


def average_gradients(module: nn.Module, world_size: int) -> None:
    """All-reduce (sum) every gradient of ``module`` in one flat buffer, then divide."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch._utils._flatten_dense_tensors(grads)
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat.div_(world_size)
    for g, synced in zip(grads, torch._utils._unflatten_dense_tensors(flat, grads), strict=True):
        g.copy_(synced)


def broadcast_module(module: nn.Module, src: int = 0) -> None:
    """Give every process rank ``src``'s parameters and buffers."""
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src)


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def shutdown(wait_for_peers: bool = True) -> None:
    """Leave the process group. After a normal finish, a barrier first, so no process
    exits while a peer still talks to it (gloo aborts on a closed connection); after an
    error, leave at once rather than wait for peers that may never arrive."""
    if dist.is_initialized():
        try:
            if wait_for_peers:
                dist.barrier()
        finally:
            dist.destroy_process_group()


def on_main(world_size: int, is_main: bool, fn):
    """Run ``fn`` on rank 0 only; every process gets its result, or raises rank 0's
    error as a :class:`~ganforge.errors.OutputError` (so no process waits for a peer
    that has stopped). Alone, simply ``fn()``."""
    if world_size == 1:
        return fn()
    result: list = [None]
    if is_main:
        try:
            result = [("ok", fn())]
        except Exception as exc:  # noqa: BLE001 - passed on to every process
            result = [("error", str(exc))]
    dist.broadcast_object_list(result, src=0)
    status, value = result[0]
    if status == "error":
        raise OutputError(value)
    return value


def agree_to_stop(stop_signal: int | None) -> int | None:
    """All processes learn the highest pending stop signal (an all-reduce), so all stop
    at the same step; returns it, or None when no process was signalled."""
    flag = torch.tensor([0 if stop_signal is None else stop_signal])
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return int(flag.item()) or None
