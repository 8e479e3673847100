"""The text panel: fixed-noise text samples per snapshot, the sequence analogue of the
sample grid, built from a run's files (``samples/step_NNNNNNN.txt``, one sample a line,
and ``samples/real.npz`` holding real lines).

One column per snapshot (at most :data:`MAX_COLUMNS`, evenly spread over training, the
last always included) plus a column of real lines, each showing the first ``rows`` lines
of the same fixed noise in a monospace font. For a dataset with a grammar the lines are
coloured: correct equation (green), valid but wrong (orange), not valid (red).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MAX_COLUMNS = 6
ROWS = 24
COLOURS = {"correct": "#1a7f37", "valid": "#bc6c00", "invalid": "#c62828", None: "black"}


def _status(line: str, grammar: Any) -> str | None:
    if grammar is None:
        return None
    if grammar.is_correct(line):
        return "correct"
    return "valid" if grammar.is_valid(line) else "invalid"


def _shown(line: str, width: int = 40) -> str:
    """A line as drawn: cut at ``width`` characters (``…``); an empty line shows as ``∅``."""
    if not line:
        return "∅"
    return line if len(line) <= width else line[: width - 1] + "…"


def text_panel(
    columns: Sequence[tuple[str, Sequence[str]]], rows: int = ROWS, grammar: Any = None
) -> Any:
    """A matplotlib figure with one column per ``(title, lines)``: the first ``rows``
    lines in a monospace font, coloured by ``grammar`` (an object with ``is_valid`` and
    ``is_correct``) when given. Titles of columns with a grammar add the fraction of
    correct lines among those shown."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    width = max((len(_shown(s)) for _, lines in columns for s in lines[:rows]), default=8)
    col_w = max(1.6, 0.085 * width + 0.4)
    fig, axes = plt.subplots(
        1, len(columns), figsize=(col_w * len(columns), 0.22 * rows + 0.8), squeeze=False
    )
    for ax, (title, lines) in zip(axes[0], columns, strict=True):
        shown = list(lines[:rows])
        states = [_status(s, grammar) for s in shown]
        if grammar is not None and shown:
            title += f"\n{sum(s == 'correct' for s in states)}/{len(shown)} correct"
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(rows, -0.5)
        for i, (line, state) in enumerate(zip(shown, states, strict=True)):
            ax.text(
                0.02,
                i,
                _shown(line),
                family="monospace",
                fontsize=8,
                va="center",
                color=COLOURS[state],
                parse_math=False,
            )
    fig.tight_layout()
    return fig


def _grammar_of(run: Path) -> Any:
    """The grammar of the run's dataset, when its name is a built-in grammar."""
    try:
        dataset = json.loads((run / "config.json").read_text())["dataset"]
    except (OSError, ValueError, KeyError):
        return None
    from ganforge.data.grammars import get_grammar, list_grammars

    return get_grammar(dataset) if dataset in list_grammars() else None


def _picks(items: list, k: int) -> list:
    if len(items) <= k:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, k).round().astype(int)]


def read_snapshots(run: str | Path) -> list[tuple[int, list[str]]]:
    """``(step, lines)`` of every ``samples/step_*.txt`` of ``run``, by step."""
    out = []
    for path in (Path(run) / "samples").glob("step_*.txt"):
        lines = path.read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the file ends with a newline
        out.append((int(path.stem.split("_")[1]), lines))
    return sorted(out)


def run_panel(run: str | Path, rows: int = ROWS) -> Any:
    """The text panel of ``run`` (a figure), or ``None`` without text snapshots."""
    run = Path(run)
    snaps = read_snapshots(run)
    if not snaps:
        return None
    columns: list[tuple[str, Sequence[str]]] = [
        (f"step {step}", lines) for step, lines in _picks(snaps, MAX_COLUMNS)
    ]
    real_file = run / "samples" / "real.npz"
    if real_file.exists():
        with np.load(real_file, allow_pickle=False) as f:
            real = f["real"]
        if real.dtype.kind == "U":
            columns.append(("real", [str(s) for s in real]))
    return text_panel(columns, rows, _grammar_of(run))


def plot_text_run(run: str | Path, rows: int = ROWS) -> list[Path]:
    """``plots/text_samples.png``: the text panel of a run with text snapshots (no file
    for other runs)."""
    import matplotlib.pyplot as plt

    from ganforge.io import atomic_path

    fig = run_panel(run, rows)
    if fig is None:
        return []
    path = Path(run) / "plots" / "text_samples.png"
    path.parent.mkdir(exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return [path]
