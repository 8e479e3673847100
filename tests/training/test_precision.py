"""Mixed precision is a CUDA feature; on CPU it is ignored with a note."""

import pytest
import torch

from ganforge.config import TrainConfig
from ganforge.training.trainer import Trainer


def _cfg(precision: str) -> TrainConfig:
    return TrainConfig(
        dataset="gaussian2d",
        steps=3,
        batch_size=16,
        seed=1,
        precision=precision,
        device="cpu",
        model={"noise_dim": 4, "g_hidden": (8,), "d_hidden": (8,)},
    )


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_cpu_ignores_mixed_precision_with_a_note_and_trains_in_fp32(precision):
    notes: list[str] = []
    mixed = Trainer(_cfg(precision), log=notes.append)
    assert any("CUDA only" in n and precision in n for n in notes)
    assert mixed.scaler_g is None and mixed.scaler_d is None
    plain = Trainer(_cfg("fp32"))
    for _ in range(3):
        mixed.train_step()
        plain.train_step()
    for a, b in zip(mixed.G.state_dict().values(), plain.G.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_unknown_precision_is_rejected():
    with pytest.raises(ValueError, match="precision must be one of"):
        TrainConfig(precision="fp8")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fp16_on_cuda_uses_one_grad_scaler_per_optimizer():
    cfg = TrainConfig(
        dataset="gaussian2d",
        steps=3,
        batch_size=16,
        precision="fp16",
        device="cuda",
        model={"noise_dim": 4, "g_hidden": (8,), "d_hidden": (8,)},
    )
    trainer = Trainer(cfg)
    assert trainer.scaler_g is not None and trainer.scaler_d is not None
    assert trainer.scaler_g is not trainer.scaler_d
    stats = trainer.train_step()
    assert torch.isfinite(stats).all()
