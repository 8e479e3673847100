"""End to end on image data: a short conditional DCGAN run through the CLI writes sample
grids, a progress GIF and image metrics; ``ganforge sample`` writes grids, folders and
.npz files; batches are reproducible and packing trains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.cli import main
from ganforge.config import ModelConfig, TrainConfig

TINY = ["--base-width", "4", "--noise-dim", "8", "--batch-size", "8", "--quiet"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6-step conditional (projection) DCGAN run on digits with snapshots every 3 steps."""
    out = tmp_path_factory.mktemp("img") / "run"
    code = main(
        [
            "train",
            "--dataset",
            "digits",
            "--steps",
            "6",
            "--sample-every",
            "3",
            "--eval-samples",
            "60",
            "--conditional",
            "projection",
            "--spectral-norm",
            "--out",
            str(out),
            "--device",
            "cpu",
            *TINY,
        ]
    )
    assert code == 0
    return out


def test_run_writes_grids_gif_and_metrics(run: Path) -> None:
    import json

    pngs = sorted(p.name for p in (run / "samples").glob("step_*.png"))
    assert pngs == ["step_0000000.png", "step_0000003.png", "step_0000006.png"]
    with Image.open(run / "samples" / "step_0000006.png") as im:
        assert im.mode == "L" and im.width > 28 * 10
    with np.load(run / "samples" / "step_0000006.npz") as f:
        assert f["fake"].dtype == np.uint8 and f["fake"].shape == (100, 1, 28, 28)
        assert f["labels"].tolist()[:12] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    with Image.open(run / "plots" / "progress.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == 3
    assert (run / "plots" / "real.png").is_file()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["protocol"]["extractor"] == "fashion-cnn"
    assert np.isfinite(metrics["fid"]) and "fid" in metrics["real_vs_real"]
    config = json.loads((run / "config.json").read_text())
    assert config["preset"] == "dcgan" and config["model"]["spectral_norm"] is True


def test_plot_rebuilds_missing_grids(run: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    (copy / "samples" / "step_0000003.png").unlink()
    (copy / "plots" / "progress.gif").unlink()
    assert main(["plot", str(copy)]) == 0
    # the same pictures as the training run's, rebuilt from the saved samples
    for name in ("samples/step_0000003.png", "plots/progress.gif"):
        with Image.open(copy / name) as rebuilt, Image.open(run / name) as original:
            assert rebuilt.n_frames == original.n_frames
            for k in range(original.n_frames):
                rebuilt.seek(k)
                original.seek(k)
                np.testing.assert_array_equal(
                    np.asarray(rebuilt.convert("RGB")), np.asarray(original.convert("RGB"))
                )


def test_sample_grid_folder_and_npz(run: Path, tmp_path: Path) -> None:
    assert main(["sample", str(run), "--n", "12", "--out", str(tmp_path / "grid.png")]) == 0
    with Image.open(tmp_path / "grid.png") as im:
        assert im.format == "PNG"
    assert (
        main(
            ["sample", str(run), "--n", "3", "--label", "7", "--out", str(tmp_path / "pics") + "/"]
        )
        == 0
    )
    files = sorted(p.name for p in (tmp_path / "pics").iterdir())
    assert files == ["000000_label7.png", "000001_label7.png", "000002_label7.png"]
    with Image.open(tmp_path / "pics" / files[0]) as im:
        assert im.size == (28, 28)
    assert main(["sample", str(run), "--n", "5", "--out", str(tmp_path / "x.npz")]) == 0
    with np.load(tmp_path / "x.npz", allow_pickle=False) as f:
        assert f["images"].dtype == np.uint8 and f["images"].shape == (5, 1, 28, 28)
        assert f["labels"].tolist() == [0, 1, 2, 3, 4]
    assert main(["sample", str(run), "--n", "2", "--out", str(tmp_path / "x.csv")]) == 2


def test_image_batches_are_reproducible() -> None:
    from ganforge.training.trainer import Trainer

    cfg = TrainConfig(
        dataset="digits",
        steps=2,
        batch_size=4,
        device="cpu",
        seed=3,
        model=ModelConfig(arch="dcgan", noise_dim=8, base_width=4, g_batch_norm=True),
        sample_every=0,
    )
    a, b = Trainer(cfg), Trainer(cfg)
    xa, _ = a.batches.real()
    xb, _ = b.batches.real()
    assert torch.equal(xa, xb)
    assert torch.equal(a.train_step(), b.train_step())


def test_packed_dcgan_takes_a_finite_step_on_rgb_shapes() -> None:
    """Packing with 3-channel 32 px images runs (what packing computes: test_packing.py)."""
    from ganforge.training.trainer import Trainer

    cfg = TrainConfig(
        dataset="shapes",
        steps=1,
        batch_size=4,
        device="cpu",
        image_size=32,
        model=ModelConfig(arch="dcgan", noise_dim=8, base_width=4, pack=2, g_batch_norm=True),
        sample_every=0,
    )
    t = Trainer(cfg)
    assert t.data.shape == (3, 32, 32)
    stats = t.train_step()
    assert torch.isfinite(stats).all()
