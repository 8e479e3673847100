"""Run under torchrun with 2 processes: like ``ddp_step_script`` (one D and one G update
on each rank's half of a fixed global batch) with batch norm in G, and
``--sync-batchnorm`` when argv[2] is ``sync``; rank 0 writes the resulting weights and
batch-norm statistics to argv[1] (safetensors).

D has no batch norm: behind a batch-normalised first layer, a shift of all of G's outputs
changes nothing, so the gradient of G's output bias is rounding noise, which Adam's first
step turns into a full-size update of either sign."""

import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import ddp_step_script as base  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

from ganforge.config import TrainConfig  # noqa: E402
from ganforge.training.trainer import Trainer  # noqa: E402

BATCH_NORM = {"noise_dim": 4, "g_hidden": (16, 16), "d_hidden": (16, 16)}
BATCH_NORM |= {"g_batch_norm": True}


def config(batch: int, sync: bool) -> TrainConfig:
    cfg = base.config("nonsaturating", batch)
    return dataclasses.replace(cfg, model=dict(BATCH_NORM), sync_batchnorm=sync)


if __name__ == "__main__":
    out_file, sync = sys.argv[1], sys.argv[2] == "sync"
    trainer = Trainer(config(base.GLOBAL_BATCH // 2, sync))
    half = base.GLOBAL_BATCH // trainer.world_size
    base.step(trainer, trainer.rank * half, (trainer.rank + 1) * half)
    if trainer.rank == 0:
        save_file(base.weights(trainer), out_file)
    import torch.distributed as dist

    dist.barrier()
    dist.destroy_process_group()
