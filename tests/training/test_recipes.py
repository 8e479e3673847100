"""Every recipe in recipes/ loads and trains a tiny version end to end (a step or a few
hundred, tiny batches and evaluations); the full runs' figures are in docs/BENCHMARKS.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ganforge.cli import main
from ganforge.config import load_config_file

RECIPES_DIR = Path(__file__).resolve().parents[2] / "recipes"
RECIPES = sorted(p.name for p in RECIPES_DIR.glob("*.yaml"))
#: datasets of MNIST-format images: a tiny fake folder stands in for the files
IMAGES = {"fashion-mnist", "mnist", "stacked"}
IMAGE_SHORT = ["--steps", "2", "--batch-size", "8", "--eval-samples", "16"]
SHORT = ["--steps", "20", "--batch-size", "32", "--eval-samples", "64", "--threads", "1"]


def test_the_recipes_the_issues_name_are_there() -> None:
    assert set(RECIPES) >= {
        "fashion-dcgan.yaml", "fashion-cdcgan.yaml", "stacked-dcgan.yaml",
        "stacked-pacdcgan.yaml", "ring8.yaml", "grid25.yaml", "digits.yaml",
    }  # fmt: skip


@pytest.mark.parametrize("name", RECIPES)
def test_short_version_trains(name: str, tmp_path: Path, capsys) -> None:
    recipe = load_config_file(RECIPES_DIR / name)
    args = ["train", "--config", str(RECIPES_DIR / name), "--out", str(tmp_path / "run")]
    args += ["--quiet", "--sample-every", "0"]
    if recipe["dataset"] in IMAGES:
        from tests.data.test_images import make_mnist_dir

        args += ["--data-dir", str(make_mnist_dir(tmp_path / "mnist", n=40))]
    short = IMAGE_SHORT if recipe["dataset"] in IMAGES | {"digits"} else SHORT
    if "mle_steps" in recipe:  # a likelihood warm start shorter than the run
        short = [*short, "--mle-steps", "10"]
    args += short
    assert main(args) == 0, capsys.readouterr().err
    run = tmp_path / "run"
    saved = json.loads((run / "config.json").read_text())
    for key, value in recipe.items():
        if key not in ("steps", "batch_size", "sample_every", "threads", "mle_steps", "model"):
            assert saved[key] == value, key
    for key, value in recipe.get("model", {}).items():
        assert saved["model"][key] == (list(value) if isinstance(value, list) else value), key
    assert (run / "metrics.json").exists()
