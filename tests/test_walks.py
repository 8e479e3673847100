"""Latent walks and per-seed grids (``ganforge sample --interpolate K / --seeds``): a walk
passes exactly through its K latents and loops; slerp stays on the sphere; cell s of a
seed grid is ``sample --n 1 --seed s``; bad input is one line and exit 2."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence

import ganforge
from conftest import tiny_config
from ganforge.api import load_generator
from ganforge.cli import main
from ganforge.grids import preview_grid
from ganforge.training.sampling import draw_noise
from ganforge.walks import FRAMES_PER_LEG, parse_seeds, slerp, walk_latents


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("walk") / "ring"
    ganforge.train(tiny_config(out=str(out), steps=4))
    return out


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("walk") / "digits"
    flags = ["--base-width", "4", "--noise-dim", "8", "--batch-size", "8", "--quiet"]
    args = ["train", "--dataset", "digits", "--steps", "2", "--eval-samples", "20"]
    assert main([*args, "--out", str(out), "--device", "cpu", *flags]) == 0
    return out


def test_slerp_moves_on_the_sphere_between_its_ends() -> None:
    z0, z1 = torch.tensor([2.0, 0.0, 0.0]), torch.tensor([0.0, 2.0, 0.0])
    path = slerp(z0, z1, torch.tensor([0.0, 0.5, 1.0]))
    torch.testing.assert_close(path[0], z0)
    torch.testing.assert_close(path[2], z1)
    torch.testing.assert_close(path[1], torch.tensor([math.sqrt(2), math.sqrt(2), 0.0]))
    torch.testing.assert_close(path.norm(dim=1), torch.full((3,), 2.0))  # a straight line: 1.41
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 3.0])
    torch.testing.assert_close(slerp(a, b, torch.tensor([0.5])).norm(), torch.tensor(2.0))


def test_a_walk_passes_through_its_latents_and_loops() -> None:
    z = walk_latents(3, 4, "gaussian", 0.5, seed=11)
    keys = draw_noise((3, 4), "gaussian", torch.Generator().manual_seed(11)).mul_(0.5)
    assert z.shape == (3 * FRAMES_PER_LEG, 4)
    torch.testing.assert_close(z[::FRAMES_PER_LEG], keys)
    step = (z.roll(-1, dims=0) - z).norm(dim=1)  # the last frame leads back to the first
    assert step.max() < 0.5 * (keys[0] - keys[1]).norm()


def test_walk_gif_frames_are_the_generators_images(digits: Path, tmp_path: Path) -> None:
    out = tmp_path / "walk.gif"
    assert (
        main(["sample", str(digits), "--interpolate", "3", "--seed", "5", "--out", str(out)]) == 0
    )
    with Image.open(out) as gif:
        assert gif.info.get("loop") == 0
        frames = [np.asarray(f.convert("L")) for f in ImageSequence.Iterator(gif)]
    assert len(frames) == 3 * FRAMES_PER_LEG
    loaded = load_generator(digits)
    cfg = loaded.config
    keys = draw_noise((3, cfg.model.noise_dim), cfg.noise, torch.Generator().manual_seed(5))
    with torch.inference_mode():
        images = loaded.decoder.decode(loaded.generator(keys.mul_(cfg.noise_std)))
    for i in range(3):
        expected = images[i, 0].repeat(4, axis=0).repeat(4, axis=1)  # 28 px -> 112 px
        np.testing.assert_array_equal(frames[i * FRAMES_PER_LEG], expected)


def test_seed_cells_are_single_seed_samples(ring: Path, digits: Path, tmp_path: Path) -> None:
    assert main(["sample", str(ring), "--seeds", "0-3,9", "--out", str(tmp_path / "s.npy")]) == 0
    got = np.load(tmp_path / "s.npy")
    expected = [ganforge.sample(ring, 1, seed=s)[0] for s in (0, 1, 2, 3, 9)]
    np.testing.assert_array_equal(got, np.stack(expected))
    assert main(["sample", str(digits), "--seeds", "0-15", "--out", str(tmp_path / "g.png")]) == 0
    cells = np.concatenate([ganforge.sample(digits, 1, seed=s) for s in range(16)])
    with Image.open(tmp_path / "g.png") as im:
        np.testing.assert_array_equal(np.asarray(im), preview_grid(cells)[..., 0])


def test_parse_seeds() -> None:
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("7, 1,3-4") == [7, 1, 3, 4]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interpolate", "1"], "--interpolate needs at least 2 latents, got 1"),
        (["--seeds", "5-2"], "--seeds range '5-2' runs backwards"),
        (["--seeds", "a-b"], "--seeds must look like 0-63 or 1,5,9, got 'a-b'"),
        (["--interpolate", "3", "--seeds", "1"], "give --interpolate or --seeds, not both"),
        (["--interpolate", "3", "--out", "{tmp}/w.gif"], "a walk GIF needs an image run"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(ring, tmp_path, capsys, args, message) -> None:
    args = [a.format(tmp=tmp_path) for a in args]
    out = [] if "--out" in args else ["--out", str(tmp_path / "x.npy")]
    assert main(["sample", str(ring), *args, *out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
