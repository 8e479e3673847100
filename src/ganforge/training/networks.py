"""The run's networks: G, D and the EMA generator, built from the seed and placed on the
device (channels-last for convolutions, synchronised batch norm and identical initial
weights across processes), and the EMA update."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from ganforge.config import TrainConfig
from ganforge.errors import ConfigError
from ganforge.models import build_models, count_parameters
from ganforge.training import distributed, hardware
from ganforge.training.sampling import draw_noise


@dataclass
class Networks:
    G: nn.Module
    D: nn.Module
    G_ema: nn.Module | None
    channels_last: bool


def build_networks(
    cfg: TrainConfig,
    shape: tuple[int, ...],
    device: torch.device,
    world_size: int,
    layout: dict | None = None,
) -> Networks:
    """G and D from ``cfg.seed`` for samples of ``shape`` (``layout``: the dataset's
    ``output_layout``, for models that shape their heads to it); the EMA copy of G when
    ``cfg.ema > 0``. Also sets the CPU thread count for the models' size and, on CPU,
    keeps freed memory for reuse (:func:`hardware.keep_freed_memory`)."""
    torch.manual_seed(cfg.seed)
    G, D = build_models(cfg.model, shape, layout)
    hardware.set_threads(cfg.threads, count_parameters(G) + count_parameters(D), device)
    if device.type == "cpu":
        hardware.keep_freed_memory()
    channels_last = hardware.uses_channels_last(D, shape)
    fmt = torch.channels_last if channels_last else torch.preserve_format
    G.to(device, memory_format=fmt)
    D.to(device, memory_format=fmt)
    if cfg.sync_batchnorm and world_size > 1:
        if device.type != "cuda":
            raise ConfigError(
                "--sync-batchnorm needs CUDA devices (torch's SyncBatchNorm runs on GPUs "
                "only); on CPU leave it off and each process normalises its own batch"
            )
        G = nn.SyncBatchNorm.convert_sync_batchnorm(G)
        D = nn.SyncBatchNorm.convert_sync_batchnorm(D)
    if world_size > 1:  # identical initial weights everywhere
        distributed.broadcast_module(G)
        distributed.broadcast_module(D)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False) if cfg.ema > 0 else None
    return Networks(G, D, G_ema, channels_last)


@torch.no_grad()
def update_ema(G_ema: nn.Module, G: nn.Module, ema: float, step: int) -> None:
    """EMA of G's weights with warm-up: decay ``min(ema, (1 + t) / (10 + t))``, so the
    average does not drag the random initial weights through a short run; buffers
    (batch-norm statistics) are copied."""
    decay = min(ema, (1.0 + step) / (10.0 + step))
    torch._foreach_lerp_(list(G_ema.parameters()), list(G.parameters()), 1.0 - decay)
    for b_ema, b in zip(G_ema.buffers(), G.buffers(), strict=True):
        b_ema.copy_(b)


def has_progress(module: nn.Module) -> bool:
    """Whether any submodule has a schedule of its own (:func:`set_progress`)."""
    return any(callable(getattr(m, "set_progress", None)) for m in module.modules())


def set_progress(module: nn.Module, step: int, steps: int) -> None:
    """Tell every submodule with a schedule of its own (a ``set_progress(fraction)``
    method, e.g. a Gumbel-softmax temperature) how far training is: ``step / steps``."""
    fraction = step / max(steps, 1)
    for m in module.modules():
        fn = getattr(m, "set_progress", None)
        if callable(fn):
            fn(fraction)


class Batches:
    """Where a step's inputs come from: real batches (``data_gen`` stream), noise and
    random labels for G (``noise_gen`` stream), on the device. Each process (``rank``)
    has its own streams; rank 0 of a fresh run matches a single-process run."""

    def __init__(
        self, cfg: TrainConfig, data, device: torch.device, channels_last: bool, rank: int = 0
    ) -> None:
        self.cfg, self.data, self.device, self.channels_last = cfg, data, device, channels_last
        self.data_gen = torch.Generator().manual_seed(distributed.rank_seed(cfg.seed, 1, rank))
        noise_seed = distributed.rank_seed(cfg.seed, 2, rank)
        self.noise_gen = torch.Generator(device=device).manual_seed(noise_seed)
        self.conditional = cfg.model.conditional != "none"
        self.drawn = 0  # real batches drawn so far (a resume sets it from the step)
        self.rank = rank
        self._perm: tuple[int, torch.Tensor] | None = None

    def _epoch_indices(self) -> torch.Tensor:
        """Indices of batch ``drawn`` in epoch order: pass ``e`` is a permutation seeded by
        (seed, e, rank), so a resumed run continues the same pass exactly."""
        b = self.cfg.batch_size
        epoch, offset = divmod(self.drawn, self.data.size // b)
        if self._perm is None or self._perm[0] != epoch:
            seed = distributed.rank_seed(self.cfg.seed, 3, self.rank, epoch)
            perm = torch.randperm(self.data.size, generator=torch.Generator().manual_seed(seed))
            self._perm = (epoch, perm)
        return self._perm[1][offset * b : (offset + 1) * b]

    def real(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(B, *shape)`` real samples and their labels (``None`` when unconditional):
        drawn at random, or with ``epochs`` the next batch of this pass's shuffle."""
        if self.cfg.epochs is None:
            x, y = self.data.sample_batch(self.cfg.batch_size, self.data_gen)
        else:
            x, y = self.data.batch_at(self._epoch_indices())
        self.drawn += 1
        x = x.to(self.device, non_blocking=True)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if not self.conditional:
            return x, None
        return x, y.to(self.device, non_blocking=True)

    def noise(self) -> torch.Tensor:
        """``(B, noise_dim)`` noise (``cfg.noise``: Gaussian or uniform) times ``noise_std``."""
        shape = (self.cfg.batch_size, self.cfg.model.noise_dim)
        z = draw_noise(shape, self.cfg.noise, self.noise_gen, self.device)
        return z.mul_(self.cfg.noise_std)

    def labels(self) -> torch.Tensor | None:
        """Conditions for G's samples, or None: ``(B,)`` uniform random classes, or what
        the dataset draws (a sequence's prompts, see ``Dataset.draw_conditions``)."""
        if not self.conditional:
            return None
        k, b = self.cfg.model.num_classes, self.cfg.batch_size
        return self.data.draw_conditions(b, k, self.noise_gen, self.device)
