"""Plots rebuilt from a run directory's files (``history.jsonl``, ``samples/*.npz``):
loss curves, metric curves (``eval/*`` rows), real-vs-generated figures, for image runs
the sample grids and the progress GIF, and for text runs the text panel
(:mod:`ganforge.plots_text`).

Uses matplotlib's Agg backend (no display needed). :func:`plot_run` can be called any
time after the fact: ``ganforge plot RUN``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ganforge.errors import DataError
from ganforge.grids import preview_grid, save_gif, save_grid
from ganforge.io import atomic_path, read_jsonl

GRID_SAMPLES = 100  # images per grid of a saved snapshot: 10 x 10


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)


def _equilibrium(run: Path) -> float | None:
    try:
        loss = json.loads((run / "config.json").read_text())["loss"]
        from ganforge.losses import get_loss

        return get_loss(loss).equilibrium
    except (OSError, ValueError, KeyError):
        return None


def _best_step(run: Path) -> int | None:
    """The step of ``checkpoints/best.safetensors`` (its header only), or None."""
    from ganforge.training.checkpoint import checkpoint_step

    try:
        return checkpoint_step(run / "checkpoints" / "best.safetensors")
    except (OSError, ValueError):
        return None


def plot_curves(run: Path) -> Path | None:
    """``plots/curves.png``: losses, mean D outputs and D accuracy against step, with the
    best checkpoint's step marked."""
    rows = [r for r in read_jsonl(run / "history.jsonl") if "loss/d" in r]
    if not rows:
        return None
    plt = _pyplot()
    steps = [r["step"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    axes[0].plot(steps, [r["loss/d"] for r in rows], label="D loss")
    axes[0].plot(steps, [r["loss/g"] for r in rows], label="G loss")
    axes[0].set_title("losses")
    axes[1].plot(steps, [r["d/real"] for r in rows], label="D(x), real")
    axes[1].plot(steps, [r["d/fake"] for r in rows], label="D(G(z)), fake")
    eq = _equilibrium(run)
    if eq is not None:
        axes[1].axhline(eq, color="grey", ls="--", lw=1, label=f"equilibrium {eq}")
    axes[1].set_title("mean discriminator output")
    axes[2].plot(steps, [r["acc/real"] for r in rows], label="on real")
    axes[2].plot(steps, [r["acc/fake"] for r in rows], label="on fake")
    axes[2].axhline(0.5, color="grey", ls="--", lw=1)
    axes[2].set_ylim(-0.02, 1.02)
    axes[2].set_title("discriminator accuracy")
    best = _best_step(run)
    for ax in axes:
        if best is not None:  # the checkpoint `sample --checkpoint best` uses
            ax.axvline(best, color="green", ls=":", lw=1.5, label=f"best checkpoint ({best})")
        ax.set_xlabel("generator step")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    path = run / "plots" / "curves.png"
    _save(fig, path)
    return path


def metric_curves(rows: list[dict[str, Any]], best: int | None = None) -> Any:
    """A figure of every ``eval/<metric>`` in history ``rows`` against step, one panel
    per metric (at most 12), ``best`` (a step) marked; None without such a column."""
    rows = [r for r in rows if any(k.startswith("eval/") for k in r)]
    names = list(dict.fromkeys(k for r in rows for k in r if k.startswith("eval/")))[:12]
    if not names:
        return None
    plt = _pyplot()
    cols = min(len(names), 4)
    nrows = -(-len(names) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.8 * cols, 2.9 * nrows), squeeze=False)
    for ax, name in zip(axes.ravel(), names, strict=False):
        pts = [(r["step"], r[name]) for r in rows if isinstance(r.get(name), (int, float))]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3)
        if best is not None:
            ax.axvline(best, color="green", ls=":", lw=1.5)
        ax.set_title(name.removeprefix("eval/"), fontsize=9)
        ax.set_xlabel("generator step", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(names) :]:
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def plot_metric_curves(run: Path) -> Path | None:
    """``plots/metrics.png``: :func:`metric_curves` of the run's history (the metrics
    logged at each evaluation for ``--best-metric``), or None without evaluations."""
    fig = metric_curves(read_jsonl(run / "history.jsonl"), _best_step(run))
    if fig is None:
        return None
    path = run / "plots" / "metrics.png"
    _save(fig, path)
    return path


def _draw_lowdim(ax: Any, real: np.ndarray, snap: dict[str, np.ndarray], eq: float | None) -> None:
    fake = snap["fake"].reshape(len(snap["fake"]), -1)
    real = real.reshape(len(real), -1)
    if fake.shape[1] == 1:
        lo = min(real.min(), fake.min())
        hi = max(real.max(), fake.max())
        bins = np.linspace(lo, hi, 60)
        ax.hist(real[:, 0], bins=bins, alpha=0.5, density=True, label="real")
        ax.hist(fake[:, 0], bins=bins, alpha=0.5, density=True, label="generated")
        if "grid_d" in snap:
            twin = ax.twinx()
            twin.plot(snap["grid_x"], snap["grid_d"], color="k", lw=1.2, label="D(x)")
            if eq is not None:
                twin.axhline(eq, color="grey", ls="--", lw=1)
            twin.set_ylabel("D output")
        ax.legend(fontsize=8, loc="upper left")
        return
    if "grid_d" in snap:
        cs = ax.contourf(
            snap["grid_x"], snap["grid_y"], snap["grid_d"], levels=20, cmap="coolwarm", alpha=0.55
        )
        ax.figure.colorbar(cs, ax=ax, fraction=0.046, pad=0.04, label="D output")
    ax.scatter(real[:, 0], real[:, 1], s=4, c="tab:blue", alpha=0.5, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=4, c="tab:orange", alpha=0.5, label="generated")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(fontsize=8, loc="upper right", markerscale=3)


def _draw_marginals(fig: Any, real: np.ndarray, fake: np.ndarray) -> None:
    real = real.reshape(len(real), -1)
    fake = fake.reshape(len(fake), -1)
    d = min(real.shape[1], 16)
    cols = min(d, 4)
    rows = int(np.ceil(d / cols))
    for j in range(d):
        ax = fig.add_subplot(rows, cols, j + 1)
        lo = min(real[:, j].min(), fake[:, j].min())
        hi = max(real[:, j].max(), fake[:, j].max())
        if hi <= lo:  # a constant column (generated exactly, as a range-mapped run does)
            lo, hi = lo - 0.5, hi + 0.5
        bins = np.linspace(lo, hi, 40)
        ax.hist(real[:, j], bins=bins, alpha=0.5, density=True, label="real")
        ax.hist(fake[:, j], bins=bins, alpha=0.5, density=True, label="generated")
        ax.set_title(f"column {j + 1}", fontsize=9)
        if j == 0:
            ax.legend(fontsize=7)


def plot_samples(run: Path) -> list[Path]:
    """One real-vs-generated figure per snapshot (histogram + D curve in 1-D, scatter + D
    contour in 2-D, per-column histograms above 2-D) and ``plots/progress.png``."""
    real_file = run / "samples" / "real.npz"
    snaps = sorted((run / "samples").glob("step_*.npz"))
    if not real_file.exists() or not snaps:
        return []
    with np.load(real_file, allow_pickle=False) as f:
        real = f["real"]
    if real.ndim == 4 and real.dtype == np.uint8:  # images: PNG grids and a GIF
        return plot_image_run(run)
    if real.ndim > 2 or real.dtype.kind == "U":  # other kinds draw their own figures
        return []
    plt = _pyplot()
    eq = _equilibrium(run)
    out = []
    loaded = []
    for path in snaps:
        with np.load(path, allow_pickle=False) as f:
            snap = {k: f[k] for k in f.files}
        step = int(path.stem.split("_")[1])
        loaded.append((step, snap))
        dim = real.reshape(len(real), -1).shape[1]
        if dim <= 2:
            fig, ax = plt.subplots(figsize=(5.5, 4.5))
            _draw_lowdim(ax, real, snap, eq)
            ax.set_title(f"step {step}")
        else:
            fig = plt.figure(figsize=(12, 2.6 * int(np.ceil(min(dim, 16) / 4))))
            _draw_marginals(fig, real, snap["fake"])
            fig.suptitle(f"step {step}")
        target = run / "plots" / f"samples_step_{step:07d}.png"
        _save(fig, target)
        out.append(target)
    if real.reshape(len(real), -1).shape[1] <= 2 and len(loaded) > 1:
        picks = (
            loaded
            if len(loaded) <= 6
            else [loaded[i] for i in np.linspace(0, len(loaded) - 1, 6).astype(int)]
        )
        fig, axes = plt.subplots(1, len(picks), figsize=(3.6 * len(picks), 3.4))
        for ax, (step, snap) in zip(np.atleast_1d(axes), picks, strict=True):
            snap = {k: v for k, v in snap.items() if not k.startswith("grid")}
            _draw_lowdim(ax, real, snap, eq)
            ax.set_title(f"step {step}", fontsize=9)
            legend = ax.get_legend()
            if legend is not None:
                legend.remove()
        target = run / "plots" / "progress.png"
        _save(fig, target)
        out.append(target)
    return out


def plot_image_run(run: str | Path) -> list[Path]:
    """For an image run: ``samples/step_*.png`` grids (rebuilt when missing),
    ``plots/real.png`` and ``plots/progress.gif`` across the snapshots."""
    run = Path(run)
    out: list[Path] = []
    real_file = run / "samples" / "real.npz"
    if real_file.exists():
        with np.load(real_file, allow_pickle=False) as f:
            real = f["real"]
        out.append(save_grid(real[:GRID_SAMPLES], run / "plots" / "real.png"))
    frames = []
    for snap in sorted((run / "samples").glob("step_*.npz")):
        with np.load(snap, allow_pickle=False) as f:
            fake = f["fake"][:GRID_SAMPLES]
        png = snap.with_suffix(".png")
        if not png.exists():
            out.append(save_grid(fake, png))
        step = int(snap.stem.split("_")[1])
        frames.append((f"step {step}", preview_grid(fake)))
    if frames:
        out.append(save_gif(frames, run / "plots" / "progress.gif"))
    return out


def plot_run(run: str | Path) -> list[Path]:
    """Rebuild every plot of a run directory; returns the files written."""
    run = Path(run)
    if not (run / "config.json").exists():
        raise DataError(f"{run}: not a ganforge run directory (no config.json)")
    (run / "plots").mkdir(exist_ok=True)
    written = plot_samples(run)
    from ganforge.plots_text import plot_text_run

    written += plot_text_run(run)  # text runs: the text panel of the snapshots
    for curves in (plot_curves(run), plot_metric_curves(run)):
        if curves is not None:
            written.append(curves)
    return written
