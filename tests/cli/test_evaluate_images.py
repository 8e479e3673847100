"""`ganforge evaluate` on image sets: folders and .npz files against a reference."""

import json

import numpy as np
import pytest
from PIL import Image

from ganforge.cli import main


def _images(seed: int, n: int = 60, size: int = 16) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (1, 1, size, size))
    noise = rng.integers(-20, 21, (n, 1, size, size))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


@pytest.fixture
def sets(tmp_path):
    a = _images(0)
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    for i, img in enumerate(a):
        Image.fromarray(img[0]).save(folder / "sub" / f"{i}.png")
    (folder / "notes.txt").write_text("not an image")
    same = tmp_path / "same.npz"
    np.savez(same, images=a)
    other = tmp_path / "other.npz"
    np.savez(other, images=_images(1))
    return folder, same, other


def test_folder_against_the_same_images_scores_zero_fid(sets, capsys):
    folder, same, _ = sets
    assert main(["evaluate", str(folder), "--reference", str(same), "--extractor", "pixels"]) == 0
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["fid"] == pytest.approx(0.0, abs=1e-6)
    assert metrics["protocol"]["extractor"] == "pixels"
    assert metrics["protocol"]["n_fake"] == 60


def test_different_images_score_worse_and_write_beside_the_npz(sets, tmp_path):
    folder, _, other = sets
    assert main(["evaluate", str(other), "--reference", str(folder), "--extractor", "pixels"]) == 0
    metrics = json.loads((tmp_path / "other.metrics.json").read_text())
    assert metrics["fid"] > 100  # a different base image: far apart in pixel space
    assert 0.0 <= metrics["precision"] <= 0.1


@pytest.mark.parametrize(
    "source, extra, message",
    [
        ("missing.npz", [], "does not exist"),
        ("bad.txt", [], "expected a folder of images or an .npz"),
        ("floats.npz", [], "must lie in [-1, 1]"),
        ("same.npz", ["--reference", "fashion-mnist:valid"], "split must be train or test"),
    ],
)
def test_bad_image_sources_are_one_line_errors(sets, tmp_path, capsys, source, extra, message):
    (tmp_path / "bad.txt").write_text("x")
    np.savez(tmp_path / "floats.npz", images=np.full((4, 1, 8, 8), 3.0))
    code = main(["evaluate", str(tmp_path / source), "--extractor", "pixels", *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_an_os_error_is_one_line_not_a_traceback(monkeypatch, capsys, tmp_path):
    import ganforge.cli as cli

    def full_disk(args):
        raise OSError(28, "No space left on device", str(tmp_path / "metrics.json"))

    monkeypatch.setitem(cli.COMMANDS, "list", full_disk)
    assert main(["list"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"ganforge: error: No space left on device ({tmp_path / 'metrics.json'})"
