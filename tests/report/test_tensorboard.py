"""``ganforge train --log tensorboard``: RUN/tb/ holds the history's scalars at their steps,
the final metrics and floors and the samples pictures, rebuilt from the run's files; without
TensorBoard the flag is refused in one line before any training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ganforge.cli import main
from ganforge.io import read_jsonl

TINY = ["--g-hidden", "16,16", "--d-hidden", "16,16", "--noise-dim", "4", "--batch-size", "32"]
ARGS = ["train", "--dataset", "ring8", "--steps", "20", "--log-every", "5", "--sample-every", "10"]
ARGS += ["--eval-samples", "200", "--device", "cpu", "--quiet", *TINY]


def test_tensorboard_events_hold_the_runs_scalars_metrics_and_samples(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard", reason="needs the ganforge[tensorboard] extra")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    assert main([*ARGS, "--out", str(run), "--log", "tensorboard"]) == 0
    events = EventAccumulator(str(run / "tb"), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    history = [r for r in read_jsonl(run / "history.jsonl") if "loss/d" in r]
    logged = events.Scalars("loss/d")
    assert [e.step for e in logged] == [r["step"] for r in history] == [5, 10, 15, 20]
    assert [e.value for e in logged] == pytest.approx([r["loss/d"] for r in history], rel=1e-6)
    metrics = json.loads((run / "metrics.json").read_text())
    assert events.Scalars("metrics/w1")[0].value == pytest.approx(metrics["w1"], rel=1e-6)
    floor = metrics["real_vs_real"]["w1"]
    assert events.Scalars("real_vs_real/w1")[0].value == pytest.approx(floor, rel=1e-6)
    images = events.Tags()["images"]
    assert {"samples/samples", "samples/progress"} <= set(images)
    assert events.Images("samples/samples")[0].width > 200


def test_without_tensorboard_the_flag_is_one_line_before_training(tmp_path, monkeypatch, capsys):
    import ganforge.report.tensorboard_log as tb

    monkeypatch.setattr(tb, "tensorboard_available", lambda: False)
    assert main([*ARGS, "--out", str(tmp_path / "run"), "--log", "tensorboard"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "ganforge: error: --log tensorboard needs TensorBoard: "
        "pip install 'ganforge[tensorboard]'\n"
    )
    assert not (tmp_path / "run").exists()
