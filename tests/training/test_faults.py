"""Interruption, crashes, locks, divergence and failing writes never lose a run."""

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ganforge.config import TrainConfig
from ganforge.losses import LOSSES, Loss, bce_d_loss, nonsaturating_g_loss
from ganforge.training.checkpoint import load_checkpoint
from ganforge.training.trainer import Trainer, TrainingDiverged

TINY = ["--g-hidden", "16,16", "--d-hidden", "16,16", "--batch-size", "32"]


def cli(*args: str) -> subprocess.CompletedProcess:
    """Run ``python -m ganforge ARGS`` and capture its output."""
    return subprocess.run([sys.executable, "-m", "ganforge", *args], capture_output=True, text=True)


def tiny_cfg(out: Path, **kw) -> TrainConfig:
    base = dict(
        dataset="ring8",
        steps=40,
        batch_size=32,
        seed=0,
        out=str(out),
        log_every=5,
        checkpoint_every=10,
        sample_every=0,
        model={"noise_dim": 4, "g_hidden": (16, 16), "d_hidden": (16, 16)},
    )
    base.update(kw)
    return TrainConfig(**base)


def start_training(run: Path, *extra: str, resume: bool = False) -> subprocess.Popen:
    if resume:
        args = ["train", "--resume", str(run), "--steps", "100000000"]
    else:
        args = [
            "train",
            "--dataset",
            "ring8",
            "--steps",
            "100000000",
            "--out",
            str(run),
            "--checkpoint-every",
            "20",
            "--log-every",
            "20",
            "--sample-every",
            "0",
            *TINY,
        ]
    return subprocess.Popen(
        [sys.executable, "-m", "ganforge", *args, *extra, "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    end = time.time() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"training exited early: {proc.stderr.read()[-2000:]}")
        if time.time() > end:
            proc.kill()
            raise AssertionError(f"{path} did not appear")
        time.sleep(0.05)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_checkpoints_and_resume_continues(tmp_path, sig, code):
    run = tmp_path / "run"
    proc = start_training(run)
    wait_for(run / "checkpoints" / "latest.safetensors", proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert f"--resume {run}" in err
    state = load_checkpoint(run)
    assert state.step > 0
    assert not (run / "lock").exists()

    trainer = Trainer.resume(run, steps=state.step + 5)
    assert trainer.step == state.step
    assert trainer.fit().step == state.step + 5


def test_sigkill_at_random_moments_never_breaks_the_latest_checkpoint(tmp_path):
    """12 hard kills, some during checkpoint writes (a checkpoint every step): the
    latest checkpoint always loads, and each restart resumes from it."""
    run = tmp_path / "run"
    rng = random.Random(0)
    proc = start_training(run, "--checkpoint-every", "1")
    wait_for(run / "checkpoints" / "latest.safetensors", proc)
    last_step = -1
    for i in range(12):
        time.sleep(rng.uniform(0.05, 0.6))
        proc.kill()
        proc.wait(timeout=30)
        state = load_checkpoint(run)  # must never be torn
        assert state.step >= last_step, (i, state.step, last_step)
        last_step = state.step
        proc = start_training(run, resume=True)  # stale lock of the killed process is taken over
        deadline = time.time() + 60
        while load_checkpoint(run).step <= last_step:
            assert proc.poll() is None, proc.stderr.read()[-2000:]
            assert time.time() < deadline, "resume made no progress"
            time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode == 143
    assert load_checkpoint(run).step > last_step
    assert not list(run.rglob(".*.tmp"))  # temp files of killed writes were cleaned up


def test_second_run_in_same_directory_is_refused_and_stale_lock_detected(tmp_path):
    run = tmp_path / "run"
    Trainer(tiny_cfg(run, steps=10)).fit()
    lock = run / "lock"
    # A live owner (this test process) holds the lock: refused with one clear line.
    lock.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
    proc = cli("train", "--resume", str(run), "--steps", "20", "--quiet")
    assert proc.returncode == 2
    assert "in use by process" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    # The owner is gone (a pid that does not exist): the stale lock is taken over.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}))
    proc = cli("train", "--resume", str(run), "--steps", "20", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert load_checkpoint(run).step == 20
    assert not lock.exists()


class _NaNAt:
    """A generator loss that turns NaN at given generator steps."""

    def __init__(self, steps: set[int]) -> None:
        self.steps, self.calls = steps, 0

    def __call__(self, fake: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        loss = nonsaturating_g_loss(fake)
        return loss * float("nan") if self.calls in self.steps else loss


@pytest.fixture
def nan_loss():
    made = []

    def make(steps: set[int]) -> str:
        name = f"nan-test-{len(made)}-{os.getpid()}"
        LOSSES.register(name, Loss(name, bce_d_loss, _NaNAt(steps)))
        made.append(name)
        return name

    yield make
    for name in made:
        LOSSES._items.pop(name, None)


def test_nan_stops_naming_step_and_term_and_keeps_last_good_checkpoint(tmp_path, nan_loss):
    run = tmp_path / "run"
    trainer = Trainer(tiny_cfg(run, loss=nan_loss({23})))
    with pytest.raises(TrainingDiverged, match=r"at step 23: loss/g"):
        trainer.fit()
    state = load_checkpoint(run)
    assert state.step == 20  # the last checkpoint before the NaN
    assert all(torch.isfinite(t).all() for k, t in state.tensors.items() if k[:2] in ("G/", "D/"))


def test_nan_rollback_halves_learning_rates_and_finishes(tmp_path, nan_loss):
    run = tmp_path / "run"
    trainer = Trainer(tiny_cfg(run, loss=nan_loss({23}), on_nan="rollback"))
    result = trainer.fit()
    assert result.step == 40
    assert trainer.lr_scale == 0.5
    assert trainer.opt_g.param_groups[0]["lr"] == pytest.approx(trainer.cfg.lr_g * 0.5)
    events = [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]
    rollback = [e for e in events if e.get("event") == "rollback"]
    assert rollback and rollback[0]["diverged_step"] == 23 and rollback[0]["step"] == 20
    assert load_checkpoint(run).meta["lr_scale"] == 0.5


def test_full_disk_during_checkpoint_is_one_clear_error(tmp_path, monkeypatch):
    run = tmp_path / "run"
    trainer = Trainer(tiny_cfg(run))
    import ganforge.training.checkpoint as ckpt_mod

    real_save = ckpt_mod.save_checkpoint
    calls = {"n": 0}

    def failing_save(path, tensors, meta):
        if meta["step"] >= 20:  # the disk fills up after the first checkpoint
            calls["n"] += 1
            raise OSError(28, "No space left on device")
        real_save(path, tensors, meta)

    monkeypatch.setattr(ckpt_mod, "save_checkpoint", failing_save)
    with pytest.raises(ValueError, match="No space left on device.*previous checkpoint"):
        trainer.fit()
    assert calls["n"] == 1
    assert load_checkpoint(run).step == 10
    assert not (run / "lock").exists()


def test_checkpoint_from_a_different_architecture_names_what_differs(tmp_path):
    run = tmp_path / "run"
    Trainer(tiny_cfg(run, steps=10)).fit()
    state = load_checkpoint(run)
    wider = tiny_cfg(
        tmp_path / "other",
        steps=10,
        model={"noise_dim": 4, "g_hidden": (32, 16), "d_hidden": (16, 16)},
    )
    with pytest.raises(ValueError, match=r"generator does not match this architecture: .*shape"):
        Trainer(wider, _resume=state)
    deeper = tiny_cfg(
        tmp_path / "other",
        steps=10,
        model={"noise_dim": 4, "g_hidden": (16, 16), "d_hidden": (16, 16, 16)},
    )
    with pytest.raises(ValueError, match=r"discriminator does not match this architecture"):
        Trainer(deeper, _resume=state)


def test_each_rollback_halves_the_learning_rates_again(tmp_path, nan_loss):
    run = tmp_path / "run"
    trainer = Trainer(tiny_cfg(run, loss=nan_loss({23, 28, 33}), on_nan="rollback"))
    assert trainer.fit().step == 40
    assert trainer.lr_scale == 0.125  # three divergences, three halvings
    events = [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]
    assert [e["lr_scale"] for e in events if e.get("event") == "rollback"] == [0.5, 0.25, 0.125]


def test_resume_dry_run_prints_the_config_and_trains_nothing(tmp_path):
    run = tmp_path / "run"
    Trainer(tiny_cfg(run, steps=10)).fit()
    proc = cli("train", "--resume", str(run), "--steps", "30", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["steps"] == 30
    assert load_checkpoint(run).step == 10
    proc = subprocess.run(
        [sys.executable, "-m", "ganforge", "train", "--resume", str(run), "--lr-g", "0.1"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "--lr-g cannot change it" in proc.stderr and "Traceback" not in proc.stderr
