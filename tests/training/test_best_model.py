"""Best-model choice: the classic D-output rule over checkpoints, or a configured metric."""

import json

import pytest

from ganforge import evaluate, train
from ganforge.config import TrainConfig
from ganforge.training.checkpoint import load_checkpoint
from ganforge.training.trainer import Trainer

TINY = {"noise_dim": 4, "g_hidden": (16,), "d_hidden": (16,)}


def _history(run):
    return [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]


def test_classic_rule_picks_the_checkpoint_with_d_outputs_closest_to_half(tmp_path):
    run = tmp_path / "run"
    Trainer(
        TrainConfig(
            dataset="ring8",
            steps=60,
            batch_size=32,
            log_every=5,
            checkpoint_every=10,
            sample_every=0,
            out=str(run),
            model=TINY,
        )
    ).fit()
    rows = {r["step"]: r for r in _history(run) if "d/real" in r}
    candidates = [s for s in range(20, 61, 10) if s > 60 // 5]  # checkpoints after warm-up
    score = {s: abs(rows[s]["d/real"] - 0.5) + abs(rows[s]["d/fake"] - 0.5) for s in candidates}
    best = load_checkpoint(run / "checkpoints" / "best.safetensors")
    assert best.step == min(score, key=score.get)
    assert best.meta["best_score"] == pytest.approx(min(score.values()))


def test_best_metric_keeps_the_lowest_w1(tmp_path):
    run = tmp_path / "run"
    Trainer(
        TrainConfig(
            dataset="gaussian2d",
            steps=40,
            batch_size=32,
            log_every=10,
            best_metric="w1",
            eval_every=10,
            eval_samples=300,
            sample_every=0,
            out=str(run),
            model=TINY,
        )
    ).fit()
    evals = {r["step"]: r["eval/w1"] for r in _history(run) if "eval/w1" in r}
    assert set(evals) == {10, 20, 30, 40}
    best = load_checkpoint(run / "checkpoints" / "best.safetensors")
    assert best.step == min(evals, key=evals.get)


def test_critic_loss_without_metric_keeps_the_final_model_as_best(tmp_path):
    run = tmp_path / "run"
    Trainer(
        TrainConfig(
            dataset="disk",
            loss="hinge",
            steps=20,
            batch_size=32,
            log_every=5,
            sample_every=0,
            out=str(run),
            model=TINY,
        )
    ).fit()
    assert load_checkpoint(run / "checkpoints" / "best.safetensors").step == 20


def test_fid_chooses_the_best_checkpoint_of_an_image_run(tmp_path):
    """A 4-step DCGAN run on digits, FID (50 samples) evaluated every 2 steps: the best
    checkpoint is the step with the lowest logged FID (step 2 for this seed, not the last
    one), and evaluating it as the trainer did (same n, seed = step) gives that FID."""
    run = tmp_path / "run"
    train(
        TrainConfig(
            dataset="digits",
            steps=4,
            batch_size=8,
            seed=0,
            device="cpu",
            best_metric="fid",
            eval_every=2,
            eval_samples=50,
            sample_every=0,
            out=str(run),
            model={"noise_dim": 8, "base_width": 4},
        )
    )
    evals = {r["step"]: r["eval/fid"] for r in _history(run) if "eval/fid" in r}
    assert sorted(evals) == [2, 4]
    best_step = min(evals, key=evals.get)
    assert best_step != 4, "precondition: the best model is not the final one"
    assert load_checkpoint(run / "checkpoints" / "best.safetensors").step == best_step
    again = evaluate(run, n=50, seed=best_step, which="best")
    assert again["fid"] == pytest.approx(evals[best_step], rel=1e-9)
