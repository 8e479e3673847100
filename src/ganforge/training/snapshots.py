"""Fixed-noise sample snapshots, D's output on a grid, and the end-of-run plots.

Snapshots are the files plots and reports are built from: ``samples/real.npz`` (real
samples), ``samples/step_NNNNNNN.npz`` (``fake`` in native units, ``labels`` of a
conditional model, and for unconditional 1-D/2-D data ``grid_x``/``grid_y``/``grid_d``:
D's output on a fixed grid over the data range) and, for images, ``step_NNNNNNN.png``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ganforge.io import atomic_path
from ganforge.training.rundir import save_npz
from ganforge.training.sampling import default_labels, draw_noise

SNAPSHOT_SAMPLES = 1000
IMAGE_SNAPSHOT_SAMPLES = 100  # a 10 x 10 grid per snapshot
REAL_SEED = 12345


class Snapshots:
    """Snapshots of one run: the fixed noise (from ``cfg.seed``), labels and D's grid."""

    def __init__(self, cfg, data, device: torch.device, loss) -> None:
        self.cfg, self.data, self.device, self.loss = cfg, data, device, loss
        self.conditional = cfg.model.conditional != "none"
        rng = torch.Generator().manual_seed(cfg.seed)
        shape = (SNAPSHOT_SAMPLES, cfg.model.noise_dim)
        self.noise = draw_noise(shape, cfg.noise, rng).mul_(cfg.noise_std)
        k = cfg.model.num_classes  # 0 for conditions that are not classes (prompts)
        self.labels = (
            torch.from_numpy(default_labels(SNAPSHOT_SAMPLES, k, data.label_prior))
            if self.conditional and k
            else None
        )
        self._grid: tuple[dict[str, np.ndarray], torch.Tensor] | None = None

    def take(self, run: Path, G: torch.nn.Module, D: torch.nn.Module, step: int) -> None:
        """Write ``samples/step_{step}.npz`` (and ``real.npz`` once, and a PNG grid)."""
        n = IMAGE_SNAPSHOT_SAMPLES if self.data.kind == "image" else SNAPSHOT_SAMPLES
        with torch.inference_mode(), torch.random.fork_rng(devices=[]):
            torch.random.default_generator.manual_seed(self.cfg.seed)  # a sampling G's draws
            was = G.training
            G.eval()
            z = self.noise[:n].to(self.device)
            y = None if self.labels is None else self.labels[:n].to(self.device)
            fake = self.data.decode(G(z, y).cpu())
            G.train(was)
        if isinstance(fake, list):  # text: also one line per sample, readable as it is
            write_text(run / "samples" / f"step_{step:07d}.txt", fake)
            fake = np.asarray(fake, dtype=str)
        arrays: dict[str, np.ndarray] = {"fake": fake}
        if self.labels is not None:
            arrays["labels"] = self.labels[:n].numpy()
        dim = int(np.prod(self.data.shape))
        if self.data.kind == "lowdim" and dim <= 2 and not self.conditional:
            arrays.update(self.d_grid(D, dim))
        if not (run / "samples" / "real.npz").exists():
            real = self.data.sample_real(n, seed=REAL_SEED)
            save_npz(run / "samples" / "real.npz", real=np.asarray(real))
        save_npz(run / "samples" / f"step_{step:07d}.npz", **arrays)
        if self.data.kind == "image":
            from ganforge.grids import save_grid

            save_grid(fake, run / "samples" / f"step_{step:07d}.png")

    @torch.inference_mode()
    def d_grid(self, D: torch.nn.Module, dim: int) -> dict[str, np.ndarray]:
        """D's output on a fixed grid over the data range (200 points in 1-D, 60x60 in
        2-D); the grid is built once per run."""
        if self._grid is None:
            self._grid = self._make_grid(dim)
        axes, pts_t = self._grid
        was = D.training
        D.eval()
        out = self.loss.d_output(D(pts_t)).cpu().numpy()
        D.train(was)
        return {**axes, "grid_d": out.reshape(axes["grid_x"].shape)}

    def _make_grid(self, dim: int) -> tuple[dict[str, np.ndarray], torch.Tensor]:
        real = self.data.sample_real(SNAPSHOT_SAMPLES, seed=REAL_SEED)
        lo, hi = real.min(0), real.max(0)
        pad = 0.25 * (hi - lo) + 1e-3
        lo, hi = lo - pad, hi + pad
        if dim == 1:
            axes = {"grid_x": np.linspace(lo[0], hi[0], 200)}
            pts = axes["grid_x"][:, None]
        else:
            gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 60), np.linspace(lo[1], hi[1], 60))
            axes = {"grid_x": gx, "grid_y": gy}
            pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
        pts_t = self.data.encode(pts)
        if self.cfg.model.pack > 1:  # a packing D scores each point as a pack of copies
            pts_t = pts_t.repeat_interleave(self.cfg.model.pack, dim=0)
        return axes, pts_t.to(self.device)


def plot_run_safely(run: Path, log: Callable[[str], None] | None) -> None:
    """Draw the run's figures; a plotting error never loses a finished run but is
    reported once (to ``log``, or as a Python warning when there is no log)."""
    from ganforge.plots import plot_run

    try:
        plot_run(run)
    except Exception as exc:  # noqa: BLE001 - reported, and the run's files are intact
        message = (
            f"plotting failed ({type(exc).__name__}: {exc}); rebuild with: ganforge plot {run}"
        )
        if log is not None:
            log(f"warning: {message}")
        else:
            warnings.warn(message, RuntimeWarning, stacklevel=2)


def finish_pictures(run: Path, log: Callable[[str], None] | None) -> None:
    """The end-of-run pictures: the plots, then ``report.html`` built from the run's
    files. Either may fail (reported in one line) without failing the run."""
    from ganforge.report import write_report_safely

    plot_run_safely(run, log)
    write_report_safely(run, log)


def write_text(path: Path, lines: list[str]) -> None:
    """``lines`` to ``path``, one a line, UTF-8, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
