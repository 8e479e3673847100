"""Is image-folder training data-bound? Data time per step against step time, measured
inside real training runs on a generated folder of PNG files.

The script writes ``--images`` PNG files (random coloured ellipses and rectangles, sides
between 48 and 96 pixels so every file is resized) and trains the folder's default model
on them for ``--steps`` steps in each mode:

- ``cache``: the default, decoded images kept in memory (the first batches decode their
  own images while a background thread fills the rest);
- ``no-cache, N workers``: ``--image-cache-mb 0``, every batch decoded by N threads;
- ``no-cache, 1 worker``: every batch decoded on the training thread (the old loader).

Data time is the wall time spent inside the dataset's batch call, summed over the run's
real batches; step time is the loop's wall time per step. Both are measured in the same
process, one mode after the other, so the ratio is this host's and this load's.

    python benchmarks/folder_loading.py [--images 10000] [--steps 30] [--size 64]
        [--batch-size 64] [--preset dcgan64] [--threads T] [--folder DIR]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def make_folder(root: Path, n: int, seed: int = 0) -> Path:
    """``n`` PNG images of random shapes under ``root`` (kept when already there)."""
    from PIL import Image, ImageDraw

    root.mkdir(parents=True, exist_ok=True)
    if len(list(root.glob("*.png"))) >= n:
        return root
    rng = np.random.default_rng(seed)
    for i in range(n):
        w, h = (int(v) for v in rng.integers(48, 97, 2))
        im = Image.new("RGB", (w, h), tuple(int(c) for c in rng.integers(0, 256, 3)))
        draw = ImageDraw.Draw(im)
        for _ in range(3):
            x0, y0 = int(rng.integers(0, w - 8)), int(rng.integers(0, h - 8))
            box = (
                x0,
                y0,
                x0 + int(rng.integers(8, w - x0 + 1)),
                y0 + int(rng.integers(8, h - y0 + 1)),
            )
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
        im.save(root / f"{i:05d}.png")
    return root


def run_mode(folder: Path, args: argparse.Namespace, workers: int, cache_mb: float) -> dict:
    from ganforge.config import TrainConfig
    from ganforge.data.image_folder import FolderImageDataset
    from ganforge.training.trainer import Trainer

    data_seconds: list[float] = []
    original = FolderImageDataset.batch_at

    def timed_batch_at(self, idx):
        t0 = time.perf_counter()
        out = original(self, idx)
        data_seconds.append(time.perf_counter() - t0)
        return out

    FolderImageDataset.batch_at = timed_batch_at
    try:
        with tempfile.TemporaryDirectory() as out:
            cfg = TrainConfig(
                dataset=str(folder),
                image_size=args.size,
                preset=args.preset,
                steps=args.steps,
                batch_size=args.batch_size,
                workers=workers,
                image_cache_mb=cache_mb,
                threads=args.threads,
                sample_every=0,
                checkpoint_every=0,
                eval_samples=2,
                log_every=args.steps,
                out=str(Path(out) / "run"),
                device="cpu",
            )
            trainer = Trainer(cfg)
            trainer.progress = False
            t0 = time.perf_counter()
            _fit_loop_only(trainer)
            loop_seconds = time.perf_counter() - t0
    finally:
        FolderImageDataset.batch_at = original
    batches = data_seconds[-args.steps * trainer.cfg.n_critic :]
    per_step = loop_seconds / args.steps
    data_per_step = sum(batches) / args.steps
    return {
        "mode": f"cache={cache_mb > 0} workers={workers}",
        "step_s": per_step,
        "data_s": data_per_step,
        "ratio": data_per_step / per_step,
        "first_batch_s": batches[0] if batches else float("nan"),
        "median_batch_s": statistics.median(batches) if batches else float("nan"),
        "last10_batch_s": statistics.mean(batches[-10:]) if batches else float("nan"),
    }


def _fit_loop_only(trainer) -> None:
    """The training loop without the run's start snapshot and end evaluation."""
    from ganforge.training import rundir

    trainer.run_dir = Path(rundir.prepare_run_dir(trainer.cfg.out))
    trainer._loop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--preset", default="dcgan64")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--folder", type=Path, default=None, help="reuse/keep the folder here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = make_folder(args.folder or Path(tmp) / "images", args.images)
        modes = [(args.workers, 2048.0), (args.workers, 0.0), (1, 0.0)]
        rows = [run_mode(folder, args, w, c) for w, c in modes]
    print(
        f"{args.images} PNG files, {args.size}px, batch {args.batch_size}, preset "
        f"{args.preset}, {args.steps} steps per mode"
    )
    print(f"{'mode':<26}{'step s':>9}{'data s':>9}{'data/step':>11}{'first':>9}{'last10':>9}")
    for r in rows:
        print(
            f"{r['mode']:<26}{r['step_s']:9.3f}{r['data_s']:9.4f}{r['ratio']:11.1%}"
            f"{r['first_batch_s']:9.3f}{r['last10_batch_s']:9.4f}"
        )


if __name__ == "__main__":
    main()
