"""``ganforge sample RUN --checkpoint best`` returns the best checkpoint's samples: the
weights that scored the best logged ``--best-metric``, not the latest ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import ganforge
from conftest import TINY_FLAGS
from ganforge.cli import main
from ganforge.training.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gaussian2d, best model by W1 evaluated every 10 of 40 steps (seed chosen so the
    best evaluation is not the last one)."""
    out = tmp_path_factory.mktemp("best") / "run"
    args = ["train", "--dataset", "gaussian2d", "--steps", "40", "--batch-size", "32"]
    args += ["--seed", "0", "--best-metric", "w1", "--eval-every", "10", "--eval-samples", "300"]
    args += ["--log-every", "10", "--sample-every", "0", "--quiet", *TINY_FLAGS]
    assert main([*args, "--out", str(out)]) == 0
    return out


def _evals(run: Path) -> dict[int, float]:
    rows = [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]
    return {r["step"]: r["eval/w1"] for r in rows if "eval/w1" in r}


def test_sample_checkpoint_best_gives_the_best_checkpoints_samples(run: Path, tmp_path) -> None:
    evals = _evals(run)
    assert sorted(evals) == [10, 20, 30, 40]
    best_step = min(evals, key=evals.get)
    assert best_step != 40, "precondition: best and latest differ (pick another seed)"
    best_file = run / "checkpoints" / "best.safetensors"
    assert load_checkpoint(best_file).step == best_step
    assert load_checkpoint(run).step == 40

    out = {}
    for which in ("best", "latest"):
        path = tmp_path / f"{which}.npy"
        args = ["sample", str(run), "--checkpoint", which, "--n", "300", "--seed", "5"]
        assert main([*args, "--out", str(path)]) == 0
        out[which] = np.load(path)
    np.testing.assert_array_equal(out["best"], ganforge.sample(best_file, 300, seed=5))
    np.testing.assert_array_equal(out["latest"], ganforge.sample(run, 300, seed=5))
    assert not np.array_equal(out["best"], out["latest"])


def test_the_best_checkpoint_reproduces_its_logged_metric(run: Path) -> None:
    """Evaluated as the trainer evaluated it (same sample size and seed: the step), the
    best checkpoint gives exactly the best logged W1, and the latest gives the last one."""
    evals = _evals(run)
    best_step = min(evals, key=evals.get)
    again = ganforge.evaluate(run, n=300, seed=best_step, which="best")
    assert again["protocol"]["step"] == best_step
    assert again["w1"] == pytest.approx(evals[best_step], rel=1e-9)
    assert ganforge.evaluate(run, n=300, seed=40)["w1"] == pytest.approx(evals[40], rel=1e-9)
