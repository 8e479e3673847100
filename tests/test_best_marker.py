"""The curves mark the best checkpoint's step (the 1-D lab's "keep the best model")."""

from __future__ import annotations

from pathlib import Path

from conftest import tiny_config
from ganforge import plots
from ganforge.training.checkpoint import checkpoint_step, load_checkpoint
from ganforge.training.trainer import train


def test_curves_mark_the_best_checkpoint(tmp_path: Path, monkeypatch) -> None:
    run = tmp_path / "run"
    train(tiny_config(steps=40, checkpoint_every=5, log_every=5, out=str(run)))
    best = run / "checkpoints" / "best.safetensors"
    step = checkpoint_step(best)
    assert step == load_checkpoint(best).step and 8 < step <= 40
    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig))
    plots.plot_curves(run)
    (fig,) = figures
    for ax in fig.axes:
        marks = [line for line in ax.get_lines() if line.get_label().startswith("best")]
        assert len(marks) == 1 and list(marks[0].get_xdata()) == [step, step]
