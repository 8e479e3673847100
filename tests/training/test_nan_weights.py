"""A NaN or Inf in the *weights* (the losses stay finite) stops the run naming the step
and the term, keeping the last good checkpoint; ``--on-nan rollback`` reloads that
checkpoint, halves both learning rates and finishes.

The fault comes through a public extension point: a registered architecture whose
generator carries a parameter no loss depends on, poisoned during a chosen training step.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import pytest
import torch
from torch import nn

import ganforge
from ganforge.config import ModelConfig, TrainConfig
from ganforge.models import MODELS, register_model
from ganforge.training.checkpoint import load_checkpoint

POISON_STEP = 13  # logs every 5 steps, checkpoints every 10: found at step 15


class _PoisonedG(nn.Module):
    """The MLP generator plus a spare parameter, set to ``value`` during the
    ``at``-th training-mode forward (one per generator step; only the first time)."""

    def __init__(self, inner: nn.Module, at: int, value: float) -> None:
        super().__init__()
        self.inner, self.at, self.value, self.calls = inner, at, value, 0
        self.spare = nn.Parameter(torch.zeros(3))

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.training:
            self.calls += 1
            if self.calls == self.at:
                with torch.no_grad():
                    self.spare[1] = self.value
        return self.inner(z)


@pytest.fixture
def poisoned_arch():
    made: list[str] = []

    def make(value: float) -> str:
        name = f"test-poisoned-{len(made)}-{os.getpid()}"

        def build(cfg: ModelConfig, shape: tuple) -> tuple[nn.Module, nn.Module]:
            g, d = MODELS.get("mlp")(dataclasses.replace(cfg, arch="mlp"), shape)
            return _PoisonedG(g, POISON_STEP, value), d

        register_model(name, build)
        made.append(name)
        return name

    yield make
    for name in made:
        MODELS._items.pop(name, None)


def _config(run: Path, arch: str, **kw) -> TrainConfig:
    model = ModelConfig(arch=arch, noise_dim=4, g_hidden=(16,), d_hidden=(16,))
    return TrainConfig(
        dataset="ring8",
        steps=30,
        batch_size=32,
        seed=0,
        device="cpu",
        model=model,
        log_every=5,
        checkpoint_every=10,
        sample_every=0,
        eval_samples=100,
        out=str(run),
        **kw,
    )


def _history(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("value", [float("nan"), float("inf")], ids=["nan", "inf"])
def test_non_finite_weights_stop_the_run_and_keep_the_last_good_checkpoint(
    tmp_path: Path, poisoned_arch, value: float
) -> None:
    run = tmp_path / "run"
    with pytest.raises(FloatingPointError) as stop:
        ganforge.train(_config(run, poisoned_arch(value)))
    message = str(stop.value)
    found = re.search(r"training diverged at step (\d+): weights became NaN or infinite", message)
    assert found, message
    assert POISON_STEP <= int(found.group(1)) <= 15  # the step it was found at, not later
    assert "latest.safetensors" in message  # names the last good checkpoint
    state = load_checkpoint(run)
    assert state.step == 10
    weights = {k: t for k, t in state.tensors.items() if k[:2] in ("G/", "D/")}
    assert "G/spare" in weights and all(torch.isfinite(t).all() for t in weights.values())
    assert not (run / "checkpoints" / "step_0000020.safetensors").exists()
    # every logged loss was finite: the weights alone were caught
    rows = [r for r in _history(run) if "loss/d" in r]
    assert [r["step"] for r in rows] == [5, 10]


def test_non_finite_weights_roll_back_and_halve_the_learning_rates(
    tmp_path: Path, poisoned_arch
) -> None:
    run = tmp_path / "run"
    cfg = _config(run, poisoned_arch(float("nan")), on_nan="rollback", lr_g=1e-3, lr_d=2e-3)
    result = ganforge.train(cfg)
    assert result.step == 30
    rows = _history(run)
    (event,) = [r for r in rows if r.get("event") == "rollback"]
    assert event["term"] == "weights" and event["step"] == 10
    assert POISON_STEP <= event["diverged_step"] <= 15
    assert event["lr_scale"] == 0.5
    logged = [r for r in rows if "loss/d" in r]
    assert [r["step"] for r in logged] == [5, 10, 15, 20, 25, 30]  # 15 again, after the rollback
    after = logged[2:]
    assert all(
        r["lr/g"] == pytest.approx(0.5e-3) and r["lr/d"] == pytest.approx(1e-3) for r in after
    )
    final = load_checkpoint(run)
    assert final.step == 30 and final.meta["lr_scale"] == 0.5
    assert torch.isfinite(final.tensors["G/spare"]).all()
