"""The training step must not synchronise with the host: statistics stay on the device
until the log interval. Guarded by counting the Tensor methods that read values back."""

import pytest
import torch

from ganforge.config import TrainConfig
from ganforge.training.trainer import Trainer

READBACKS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__")


@pytest.fixture
def readback_counter(monkeypatch):
    calls: list[str] = []
    for name in READBACKS:
        original = getattr(torch.Tensor, name)

        def wrapper(self, *args, __name=name, __original=original, **kwargs):
            calls.append(__name)
            return __original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, wrapper)
    return calls


@pytest.mark.parametrize(
    "loss, extra",
    [
        ("nonsaturating", {}),
        ("wasserstein", {}),
        ("wgan-gp", {}),
        ("nonsaturating", {"label_noise": 0.1, "ema": 0.99}),
        ("hinge", {"lr_schedule": "cosine"}),
    ],
)
def test_train_step_reads_nothing_back_to_the_host(readback_counter, loss, extra):
    cfg = TrainConfig(
        dataset="ring8",
        loss=loss,
        steps=10,
        batch_size=32,
        model={"noise_dim": 4, "g_hidden": (16,), "d_hidden": (16,)},
        **extra,
    )
    trainer = Trainer(cfg)
    trainer.train_step()  # first step may initialise optimizer state
    readback_counter.clear()
    for _ in range(3):
        trainer.set_learning_rates()
        trainer.train_step()
    assert readback_counter == []


def test_counter_sees_a_readback(readback_counter):
    torch.ones(1).item()  # the guard itself works
    assert readback_counter == ["item"]
