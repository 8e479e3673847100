"""The text panel (fixed-noise text samples per snapshot) shows the snapshot files' lines,
coloured by the dataset's grammar, and ``plot_run`` builds it from a run's files."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
from matplotlib.text import Text

from ganforge.data.grammars import get_grammar
from ganforge.plots import metric_curves, plot_run
from ganforge.plots_text import COLOURS, read_snapshots, run_panel, text_panel


def _drawn(fig) -> dict[str, str]:
    """Every non-empty text drawn in ``fig`` -> its colour as hex."""
    fig.canvas.draw()
    return {
        t.get_text(): mcolors.to_hex(t.get_color())
        for t in fig.findobj(Text)
        if t.get_text() and t.get_visible()
    }


def test_panel_contains_each_line_coloured_by_the_grammar() -> None:
    columns = [("step 0", ["1+1=2", "1+1=3", "1+=2", "$x$"]), ("real", ["2+2=4"])]
    drawn = _drawn(text_panel(columns, rows=3, grammar=get_grammar("arithmetic")))
    assert drawn["1+1=2"] == COLOURS["correct"]
    assert drawn["1+1=3"] == COLOURS["valid"]
    assert drawn["1+=2"] == COLOURS["invalid"]
    assert "$x$" not in drawn  # only the first 3 rows are shown
    assert "step 0\n1/3 correct" in drawn and "real\n1/1 correct" in drawn
    plain = _drawn(text_panel([("step 5", ["$a_b$", ""])]))  # no maths markup, no grammar
    assert plain["$a_b$"] == mcolors.to_hex(COLOURS[None])
    assert "∅" in plain and "step 5" in plain


def test_plot_run_writes_the_text_panel_from_the_run_files(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"dataset": "arithmetic"}))
    (run / "samples" / "step_0000000.txt").write_text("9=\n==1\n", encoding="utf-8")
    (run / "samples" / "step_0000050.txt").write_text("3+4=7\n12-30=-18\n", encoding="utf-8")
    np.savez(run / "samples" / "real.npz", real=np.asarray(["5*5=25", "1+1=2"]))
    assert read_snapshots(run) == [(0, ["9=", "==1"]), (50, ["3+4=7", "12-30=-18"])]
    written = plot_run(run)
    png = run / "plots" / "text_samples.png"
    assert png in written and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    drawn = _drawn(run_panel(run))  # the figure that file holds
    assert {"9=", "==1", "3+4=7", "12-30=-18", "5*5=25", "1+1=2"} <= set(drawn)
    assert "step 50\n2/2 correct" in drawn and "step 0\n0/2 correct" in drawn
    assert drawn["==1"] == COLOURS["invalid"]


def test_runs_without_text_snapshots_get_no_panel(tmp_path: Path) -> None:
    from ganforge.plots_text import plot_text_run

    (tmp_path / "samples").mkdir()
    assert plot_text_run(tmp_path) == []


def test_metric_curves_show_every_logged_metric(tmp_path: Path) -> None:
    rows = [
        {"step": 50, "loss/d": 1.0, "loss/g": 1.0, "d/real": 0.5, "d/fake": 0.5}
        | {"acc/real": 0.5, "acc/fake": 0.5},
        {"step": 100, "eval/validity": 0.25, "eval/correctness": 0.0},
        {"step": 200, "eval/validity": 0.75, "eval/correctness": 0.5},
    ]
    fig = metric_curves(rows, best=200)
    lines = {ax.get_title(): ax.get_lines() for ax in fig.axes if ax.get_title()}
    assert set(lines) == {"validity", "correctness"}
    data = lines["validity"][0]
    assert list(data.get_xdata()) == [100, 200] and list(data.get_ydata()) == [0.25, 0.75]
    assert list(lines["correctness"][1].get_xdata()) == [200, 200]  # the best step
    assert metric_curves(rows[:1]) is None
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    (run / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert run / "plots" / "metrics.png" in plot_run(run)
