"""Report pictures as bytes: matplotlib figures rendered to PNG in memory, and the
training curves of one run or of several runs overlaid.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state, no display).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from ganforge.report.runfiles import RunFiles

DPI = 80
#: line style per series of a panel (runs are told apart by colour when overlaid)
STYLES = ("-", "--", ":", "-.")


@dataclass
class Picture:
    """An image for the report: ``data`` bytes of ``mime`` (``image/png`` or
    ``image/gif``), a caption, and a file stem for the Markdown format."""

    data: bytes
    caption: str
    mime: str = "image/png"
    stem: str = "figure"

    @property
    def suffix(self) -> str:
        return ".gif" if self.mime == "image/gif" else ".png"


def new_figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI)


def png_bytes(fig: Any) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def equilibrium(config: dict[str, Any]) -> float | None:
    """The D output of the run's loss at equilibrium (0.5 for probabilities), if any."""
    try:
        from ganforge.losses import get_loss

        return get_loss(config["loss"]).equilibrium
    except (KeyError, ValueError, TypeError):
        return None


def _panels(run: RunFiles) -> dict[str, list[str]]:
    """Panel title -> history keys plotted in it, for the keys this run logged."""
    keys: set[str] = set()
    for row in run.history:
        keys.update(k for k, v in row.items() if isinstance(v, (int, float)))
    terms = sorted(k for k in keys if k.startswith("loss/d/"))
    panels = {
        "losses": [k for k in ("loss/d", "loss/g", *terms) if k in keys],
        "mean D output": [k for k in ("d/real", "d/fake") if k in keys],
        "D accuracy": [k for k in ("acc/real", "acc/fake") if k in keys],
        "learning rates": [k for k in ("lr/g", "lr/d") if k in keys],
    }
    for k in sorted(k for k in keys if k.startswith("eval/")):
        panels[k] = [k]
    return {title: names for title, names in panels.items() if names}


def _series(run: RunFiles, key: str) -> tuple[list[int], list[float]]:
    rows = [r for r in run.history if isinstance(r.get(key), (int, float)) and "step" in r]
    return [r["step"] for r in rows], [float(r[key]) for r in rows]


def _reference_lines(ax: Any, title: str, runs: list[RunFiles]) -> None:
    if title == "mean D output":
        eqs = {equilibrium(r.config) for r in runs} - {None}
        for eq in eqs:
            ax.axhline(eq, color="grey", ls="--", lw=1, label=f"equilibrium {eq}")
    elif title == "D accuracy":
        ax.axhline(0.5, color="grey", ls="--", lw=1, label="chance 0.5")
        ax.set_ylim(-0.02, 1.02)
    elif title.startswith("eval/") and len(runs) == 1 and runs[0].metrics:
        floor = (runs[0].metrics.get("real_vs_real") or {}).get(title[5:])
        if isinstance(floor, (int, float)):
            ax.axhline(floor, color="grey", ls="--", lw=1, label=f"real-vs-real {floor:.3g}")


def curves_picture(runs: list[RunFiles]) -> Picture | None:
    """Losses, mean D outputs (equilibrium line), D accuracy (0.5 line), learning rates
    and any metric evaluated during training, against the generator step; several runs
    are overlaid, one colour each. ``None`` when no run logged anything."""
    panels: dict[str, list[str]] = {}
    for run in runs:
        for title, names in _panels(run).items():
            panels.setdefault(title, [])
            panels[title] += [n for n in names if n not in panels[title]]
    if not panels:
        return None
    cols = min(len(panels), 3)
    rows = -(-len(panels) // cols)
    fig = new_figure(5.2 * cols, 3.4 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (title, names) in zip(axes, panels.items(), strict=False):
        for i, run in enumerate(runs):
            color = f"C{i}" if len(runs) > 1 else None
            for j, key in enumerate(names):
                steps, values = _series(run, key)
                if not steps:
                    continue
                label = key if len(runs) == 1 else f"{run.name}: {key}"
                ls = STYLES[j % len(STYLES)]
                kw = {"color": color} if color else {}
                ax.plot(steps, values, ls=ls, lw=1.3, label=label, **kw)
        _reference_lines(ax, title, runs)
        if title == "learning rates":
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
        ax.set_title(title)
        ax.set_xlabel("generator step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    fig.tight_layout()
    what = "curves of " + ", ".join(r.name for r in runs) if len(runs) > 1 else "training curves"
    return Picture(png_bytes(fig), what, stem="curves")
