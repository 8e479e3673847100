"""Run under torchrun with 2 processes: one D and one G update on each rank's half of a
fixed global batch; rank 0 writes the resulting weights to argv[1] (safetensors)."""

import sys

import torch
from safetensors.torch import save_file

from ganforge.config import TrainConfig
from ganforge.training.trainer import Trainer

GLOBAL_BATCH = 16


def global_batch(noise_dim: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(123)
    real = torch.randn((GLOBAL_BATCH, 2), generator=g)
    z_d = torch.randn((GLOBAL_BATCH, noise_dim), generator=g)
    z_g = torch.randn((GLOBAL_BATCH, noise_dim), generator=g)
    return real, z_d, z_g


def config(loss: str, batch: int) -> TrainConfig:
    return TrainConfig(
        dataset="gaussian2d",
        loss=loss,
        batch_size=batch,
        seed=3,
        steps=1,
        model={"noise_dim": 4, "g_hidden": (16, 16), "d_hidden": (16, 16)},
    )


def step(trainer: Trainer, lo: int, hi: int) -> None:
    real, z_d, z_g = global_batch(trainer.cfg.model.noise_dim)
    trainer.d_update(real[lo:hi], None, z_d[lo:hi])
    trainer.g_update(z_g[lo:hi], None)


def weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    out = {f"G/{k}": v for k, v in trainer.G.state_dict().items()}
    out.update({f"D/{k}": v for k, v in trainer.D.state_dict().items()})
    return {k: v.detach().clone().contiguous() for k, v in out.items()}


if __name__ == "__main__":
    out_file, loss = sys.argv[1], sys.argv[2]
    trainer = Trainer(config(loss, GLOBAL_BATCH // 2))
    half = GLOBAL_BATCH // trainer.world_size
    step(trainer, trainer.rank * half, (trainer.rank + 1) * half)
    if trainer.rank == 0:
        save_file(weights(trainer), out_file)
    import torch.distributed as dist

    dist.barrier()  # nobody leaves while a peer still talks to it
    dist.destroy_process_group()
