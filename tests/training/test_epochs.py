"""--epochs: passes over a finite dataset, each a fresh shuffle of every sample (the last
partial batch dropped), setting the number of steps; exact resume mid-pass."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import run_cli, tiny_config
from ganforge.defaults import resolve
from ganforge.errors import ConfigError
from ganforge.training.trainer import Trainer


def _csv(path: Path, rows: int = 100) -> str:
    data = np.random.default_rng(0).normal(size=(rows, 2))
    np.savetxt(path, data, delimiter=",", header="a,b", comments="")
    return str(path)


def test_epochs_set_the_steps_from_the_dataset_size(tmp_path: Path) -> None:
    cfg = resolve(tiny_config(dataset=_csv(tmp_path / "t.csv"), batch_size=32, epochs=3))
    assert cfg.steps == 3 * (100 // 32)  # 3 passes of 3 full batches, one G step each
    critic = resolve(
        tiny_config(dataset=_csv(tmp_path / "t.csv"), batch_size=32, epochs=5, loss="wasserstein")
    )
    assert critic.steps == -(-5 * 3 // 5)  # five critic batches per generator step


def test_each_pass_shows_every_sample_once_in_a_new_order(tmp_path: Path) -> None:
    t = Trainer(tiny_config(dataset=_csv(tmp_path / "t.csv"), batch_size=25, epochs=2))
    seen = []
    original = t.data.batch_at

    def spy(idx):
        seen.append(torch.as_tensor(idx).clone())
        return original(idx)

    t.data.batch_at = spy
    for _ in range(t.cfg.steps):
        t.train_step()
    assert len(seen) == 8  # 2 passes x 4 batches
    first, second = torch.cat(seen[:4]), torch.cat(seen[4:])
    assert sorted(first.tolist()) == list(range(100)) == sorted(second.tolist())
    assert not torch.equal(first, second)


def test_resume_mid_pass_is_bitwise_identical(tmp_path: Path, no_plots) -> None:
    data = _csv(tmp_path / "t.csv")
    # a constant rate: the part run's linear decay (the table default) would end at step 5
    opts = {
        "dataset": data,
        "batch_size": 16,
        "epochs": 2,
        "checkpoint_every": 5,
        "lr_schedule": "constant",
    }
    full = Trainer(tiny_config(out=str(tmp_path / "full"), **opts))
    assert full.cfg.steps == 12
    full.fit()
    part_cfg = dataclasses.replace(full.cfg, steps=5, out=str(tmp_path / "part"))
    Trainer(part_cfg).fit()  # stops inside the first pass (6 batches per pass)
    resumed = Trainer.resume(tmp_path / "part", steps=12)
    resumed.fit()
    for a, b in zip(resumed.G.state_dict().values(), full.G.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_epochs_need_a_finite_dataset() -> None:
    with pytest.raises(ConfigError, match="--epochs needs a finite dataset"):
        resolve(tiny_config(dataset="ring8", epochs=2))


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--epochs", "0"), "epochs must be >= 1, got 0"),
        (("--epochs", "2"), "--epochs needs a finite dataset"),
    ],
)
def test_bad_epochs_are_one_line_and_exit_2(tmp_path: Path, flags, message) -> None:
    proc = run_cli("train", *flags, "--dry-run", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and message in proc.stderr
