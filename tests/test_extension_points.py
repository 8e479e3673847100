"""The registries are the extension points the README promises: a loss, a dataset of a
new data kind with its own evaluator, a metric usable as ``--best-metric``, and a model
preset, all registered from user code, train, evaluate and sample without any change to
the trainer."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

import ganforge
from ganforge.config import ModelConfig, TrainConfig
from ganforge.data import DATASETS, DatasetInfo, register_dataset
from ganforge.data.base import Dataset
from ganforge.evaluation import EVALUATORS, METRICS, register_evaluator, register_metric
from ganforge.losses import LOSSES, Loss, bce_d_loss, nonsaturating_g_loss, register_loss
from ganforge.models import PRESETS, Preset, register_preset
from ganforge.training.checkpoint import load_checkpoint

TAG = f"test-{os.getpid()}"
KIND = f"{TAG}-line"


class LineDataset(Dataset):
    """Points on the line y = 2x, x ~ N(1, 1): a data kind of its own."""

    name = f"{TAG}-line"
    shape = (2,)
    kind = KIND

    def __init__(self) -> None:
        super().__init__(mean=np.array([1.0, 2.0]), std=np.array([1.0, 2.0]))

    @staticmethod
    def _points(rng: np.random.Generator, n: int) -> np.ndarray:
        x = rng.normal(1.0, 1.0, n)
        return np.column_stack([x, 2 * x])

    def sample_batch(self, batch_size: int, generator: torch.Generator):
        seed = int(torch.randint(2**31, (1,), generator=generator))
        return self.encode(self._points(np.random.default_rng(seed), batch_size)), None

    def sample_real(self, n: int, seed: int) -> np.ndarray:
        return self._points(np.random.default_rng(seed), n)


def line_error(samples: np.ndarray) -> float:
    """Mean distance (along y) of native samples from the line y = 2x."""
    return float(np.mean(np.abs(samples[:, 1] - 2 * samples[:, 0])))


@pytest.fixture
def registered():
    """Register one of everything; put every registry back afterwards."""
    registries = (LOSSES, DATASETS, PRESETS, EVALUATORS, METRICS)
    before = [dict(r._items) for r in registries]
    calls = {"d": 0, "g": 0}

    def d_loss(*args):
        calls["d"] += 1
        return bce_d_loss(*args)

    def g_loss(fake):
        calls["g"] += 1
        return nonsaturating_g_loss(fake)

    register_loss(Loss(f"{TAG}-loss", d_loss, g_loss))
    register_preset(
        Preset(f"{TAG}-small", ModelConfig(noise_dim=3, g_hidden=(8,), d_hidden=(8,)), "tiny")
    )
    register_dataset(
        DatasetInfo(LineDataset.name, lambda cfg: LineDataset(), "y = 2x", f"{TAG}-small", KIND)
    )

    def evaluate_line(dataset, fake, n, seed=0):
        return {"line_error": line_error(fake), "protocol": {"n_fake": len(fake), "seed": seed}}

    register_evaluator(KIND, evaluate_line)
    register_metric("line_error", False)
    yield calls
    for registry, items in zip(registries, before, strict=True):
        registry._items.clear()
        registry._items.update(items)


def test_registered_components_train_evaluate_and_sample(registered, tmp_path) -> None:
    run = tmp_path / "run"
    cfg = TrainConfig(
        dataset=LineDataset.name,
        loss=f"{TAG}-loss",
        steps=12,
        batch_size=32,
        seed=0,
        device="cpu",
        best_metric="line_error",
        eval_every=4,
        eval_samples=200,
        sample_every=0,
        out=str(run),
    )
    result = ganforge.train(cfg)
    # the registered loss trained both networks, once per step each
    assert registered == {"d": 12, "g": 12}
    # the registered preset built the models
    config = json.loads((run / "config.json").read_text())
    assert config["preset"] == f"{TAG}-small" and config["model"]["g_hidden"] == [8]
    state = load_checkpoint(run)
    assert state.module_state("G")["net.0.weight"].shape == (8, 3)
    # the kind's evaluator wrote metrics.json, on the run's own samples
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics == result.metrics and metrics["protocol"]["n_fake"] == 200
    again = ganforge.sample(run, 200, seed=0)
    assert again.shape == (200, 2)
    assert metrics["line_error"] == pytest.approx(line_error(again), rel=1e-9)
    # the registered metric chose the best checkpoint
    rows = [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]
    evals = {r["step"]: r["eval/line_error"] for r in rows if "eval/line_error" in r}
    assert sorted(evals) == [4, 8, 12]
    best = load_checkpoint(run / "checkpoints" / "best.safetensors")
    assert best.step == min(evals, key=evals.get)
