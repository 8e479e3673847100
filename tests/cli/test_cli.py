"""Every CLI command end to end through ``python -m ganforge``, and every bad input:
one line on stderr, exit code 2, no traceback, nothing half-written."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganforge
from conftest import TINY_FLAGS, run_cli
from ganforge.cli import main
from ganforge.config import TrainConfig
from ganforge.data import list_datasets
from ganforge.evaluation import list_metrics
from ganforge.losses import list_losses
from ganforge.models import list_presets
from ganforge.training.checkpoint import load_checkpoint
from ganforge.training.trainer import Trainer

HISTORY_KEYS = {
    "step",
    "loss/d",
    "loss/g",
    "d/real",
    "d/fake",
    "acc/real",
    "acc/fake",
    "lr/g",
    "lr/d",
}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    cwd = tmp_path_factory.mktemp("ring")
    result = run_cli(
        "train",
        "--dataset", "ring8",
        "--steps", "20",
        "--batch-size", "32",
        "--log-every", "5",
        "--sample-every", "10",
        "--eval-samples", "500",
        "--seed", "4",
        "--out", "run",
        "--quiet",
        *TINY_FLAGS,
        cwd=cwd,
    )  # fmt: skip
    return cwd / "run", result


@pytest.fixture(scope="module")
def table_run(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """A run on a CSV whose columns live on very different scales."""
    cwd = tmp_path_factory.mktemp("table")
    rng = np.random.default_rng(0)
    data = np.stack([rng.normal(100.0, 5.0, 400), rng.normal(0.001, 1e-4, 400)], axis=1)
    lines = ["big,small"] + [f"{a:.10g},{b:.10g}" for a, b in data]
    (cwd / "table.csv").write_text("\n".join(lines) + "\n")
    result = run_cli(
        "train", "--dataset", "table.csv", "--steps", "30", "--batch-size", "64",
        "--sample-every", "0", "--eval-samples", "300", "--out", "run", "--quiet", *TINY_FLAGS,
        cwd=cwd,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return cwd / "run", data


# -- train ----------------------------------------------------------------------------------


def test_train_writes_a_complete_run_directory(ring_run) -> None:
    run, result = ring_run
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout == "", "--quiet prints nothing"

    config = json.loads((run / "config.json").read_text())
    assert config["dataset"] == "ring8" and config["steps"] == 20 and config["seed"] == 4
    assert config["model"]["g_hidden"] == [16, 16] and config["n_critic"] == 1

    rows = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    train_rows = [r for r in rows if "loss/d" in r]
    assert [r["step"] for r in train_rows] == [5, 10, 15, 20]
    for row in train_rows:
        assert HISTORY_KEYS | {"samples_per_s"} <= set(row)
        assert all(math.isfinite(row[k]) for k in HISTORY_KEYS)
        assert row["samples_per_s"] > 0
        assert 0 <= row["d/real"] <= 1 and 0 <= row["acc/fake"] <= 1
        assert (row["lr/g"], row["lr/d"]) == (config["lr_g"], config["lr_d"])  # constant

    metrics = json.loads((run / "metrics.json").read_text())
    assert {"modes_covered", "hq_fraction", "w1", "mmd", "real_vs_real"} <= set(metrics)
    assert metrics["protocol"]["n_fake"] == 500 and metrics["protocol"]["step"] == 20

    for name in ("latest", "best"):
        assert load_checkpoint(run / "checkpoints" / f"{name}.safetensors").meta["format"]
    assert load_checkpoint(run).step == 20
    plots = sorted((run / "plots").glob("*.png"))
    assert {"curves.png", "samples_step_0000020.png"} <= {p.name for p in plots}
    assert all(p.read_bytes()[:8] == PNG for p in plots)


def test_training_is_reproducible_across_processes(ring_run) -> None:
    """The same resolved config trained in this process gives the CLI run's exact weights."""
    run, _ = ring_run
    cfg = TrainConfig.from_dict(json.loads((run / "config.json").read_text()))
    t = Trainer(cfg)
    for _ in range(cfg.steps):
        t.train_step()
    saved = load_checkpoint(run)
    for prefix, module in (("G", t.G), ("D", t.D)):
        state = saved.module_state(prefix)
        for k, v in module.state_dict().items():
            assert torch.equal(state[k], v), f"{prefix}/{k} differs"


def test_dry_run_with_yaml_config_and_overriding_flags(tmp_path: Path) -> None:
    (tmp_path / "cfg.yaml").write_text(
        "dataset: gaussian2d\nloss: wasserstein\nsteps: 50\nbatch-size: 16\n"
        "model:\n  g-hidden: [8, 8]\n  noise_dim: 3\n"
    )
    r = run_cli(
        "train", "--config", "cfg.yaml", "--steps", "7", "--noise-dim", "5", "--dry-run",
        cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    cfg = json.loads(r.stdout)
    assert cfg["steps"] == 7 and cfg["model"]["noise_dim"] == 5  # flags win
    assert cfg["dataset"] == "gaussian2d" and cfg["batch_size"] == 16
    assert cfg["model"]["g_hidden"] == [8, 8] and cfg["model"]["d_hidden"] == [256, 256, 256]
    # resolved from the loss, dataset and preset defaults
    assert (cfg["n_critic"], cfg["clip_value"], cfg["optimizer"], cfg["lr_d"]) == (
        5,
        0.01,
        "rmsprop",
        5e-5,
    )
    assert cfg["preset"] == "toy2d" and cfg["eval_samples"] == 2500
    assert list(tmp_path.iterdir()) == [tmp_path / "cfg.yaml"], "a dry run writes nothing"


def test_json_config_with_overriding_flags(tmp_path: Path) -> None:
    options = {"dataset": "disk", "loss": "hinge", "seed": 9, "model": {"d_hidden": [4]}}
    (tmp_path / "cfg.json").write_text(json.dumps(options))
    r = run_cli("train", "--config", "cfg.json", "--loss", "wgan-gp", "--dry-run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    cfg = json.loads(r.stdout)
    assert cfg["loss"] == "wgan-gp" and cfg["gp_weight"] == 10.0 and cfg["n_critic"] == 5
    assert cfg["dataset"] == "disk" and cfg["seed"] == 9 and cfg["model"]["d_hidden"] == [4]


# -- sample ---------------------------------------------------------------------------------


def test_sample_to_npy_and_csv(ring_run, tmp_path: Path) -> None:
    run, _ = ring_run
    r = run_cli("sample", str(run), "--n", "300", "--seed", "3", "--out", "s.npy", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    x = np.load(tmp_path / "s.npy")
    assert x.shape == (300, 2) and np.isfinite(x).all()
    np.testing.assert_array_equal(x, ganforge.sample(run, 300, seed=3))

    r = run_cli("sample", str(run), "--n", "300", "--seed", "3", "--out", "s.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0] == "x1,x2" and len(lines) == 301
    np.testing.assert_allclose(np.loadtxt(lines[1:], delimiter=","), x, rtol=1e-7, atol=1e-12)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "s.npy"], "no temp files"


def test_table_samples_come_back_in_original_units(table_run, tmp_path: Path) -> None:
    run, data = table_run
    r = run_cli("sample", str(run), "--n", "2000", "--out", "s.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0] == "big,small"
    x = np.loadtxt(lines[1:], delimiter=",")
    big, small = x[:, 0], x[:, 1]
    assert abs(big.mean() - 100.0) < 10.0 and 0.3 < big.std() < 20.0
    assert abs(small.mean() - 0.001) < 5e-4 and 3e-6 < small.std() < 5e-4
    metrics = json.loads((run / "metrics.json").read_text())
    np.testing.assert_allclose(metrics["real_mean"], data.mean(0), rtol=0.05)


# -- evaluate, plot, list -------------------------------------------------------------------


def test_evaluate_writes_metrics(ring_run, tmp_path: Path) -> None:
    src, _ = ring_run
    run = tmp_path / "run"
    shutil.copytree(src, run)
    (run / "metrics.json").unlink()
    r = run_cli("evaluate", str(run), "--n", "400", "--seed", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "modes_covered" in r.stdout and "real vs real" in r.stdout
    written = json.loads((run / "metrics.json").read_text())
    assert written["protocol"]["n_fake"] == 400 and written["protocol"]["step"] == 20
    expected = ganforge.evaluate(run, n=400, seed=2)
    for key in ("modes_covered", "hq_fraction", "w1", "mmd", "ks_max"):
        assert written[key] == expected[key]


def test_plot_rebuilds_the_figures(ring_run, tmp_path: Path) -> None:
    src, _ = ring_run
    run = tmp_path / "run"
    shutil.copytree(src, run)
    shutil.rmtree(run / "plots")
    r = run_cli("plot", str(run), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    printed = [Path(line) for line in r.stdout.splitlines()]
    assert {"curves.png", "progress.png"} <= {p.name for p in printed}
    assert all(p.read_bytes()[:8] == PNG for p in printed)
    # from the run's files alone, the same pictures the training run drew
    for path in printed:
        with Image.open(path) as rebuilt, Image.open(src / "plots" / path.name) as original:
            np.testing.assert_array_equal(np.asarray(rebuilt), np.asarray(original))


def test_list_names_every_choice(tmp_path: Path) -> None:
    r = run_cli("list", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for name in list_datasets() + list_losses() + list_presets() + list_metrics():
        assert f"  {name} " in r.stdout


# -- bad inputs -----------------------------------------------------------------------------


def _bad_files(d: Path) -> None:
    (d / "text.csv").write_text("a,b\n1,2\n3,hello\n4\n")
    (d / "nan.csv").write_text("a,b\n1,2\ninf,4\n")
    (d / "empty.csv").write_text("")
    (d / "empty.npy").write_bytes(b"")
    (d / "afile").write_text("not a folder")
    (d / "unknown.yaml").write_text("steps: 5\nlearning_rate: 0.1\n")
    (d / "unknown_model.json").write_text(json.dumps({"model": {"widths": [3]}}))
    (d / "broken.yaml").write_text("steps: [5\n")
    (d / "folder").mkdir()


TRAIN_BAD = [
    (["--dataset", "nope"], ["unknown dataset 'nope'", *list_datasets()]),
    (["--loss", "nope"], ["unknown loss 'nope'", *list_losses()]),
    (["--preset", "nope"], ["unknown preset 'nope'", *list_presets()]),
    (["--dataset", "text.csv"], ["text.csv", "row 4 has 1 columns, expected 2"]),
    (["--dataset", "nan.csv"], ["nan.csv", "row 3", "not finite"]),
    (["--dataset", "empty.csv"], ["empty.csv", "empty"]),
    (["--dataset", "empty.npy"], ["empty.npy", "empty"]),
    (["--dataset", "missing.csv"], ["missing.csv", "does not exist"]),
    (["--steps", "0"], ["steps", ">= 1", "0"]),
    (["--steps", "-5"], ["steps", "-5"]),
    (["--batch-size", "0"], ["batch_size", "0"]),
    (["--batch-size", "-1"], ["batch_size", "-1"]),
    (["--steps", "ten"], ["--steps", "ten"]),
    (["--out", "afile"], ["afile", "is a file"]),
    (["--config", "unknown.yaml"], ["unknown config option", "learning_rate"]),
    (["--config", "unknown_model.json"], ["unknown model option", "widths"]),
    (["--config", "broken.yaml"], ["broken.yaml", "YAML"]),
    (["--config", "missing.yaml"], ["missing.yaml", "does not exist"]),
    (["--loss", "wasserstein", "--label-smoothing", "0.1"], ["label smoothing"]),
    (["--best-metric", "nope"], ["unknown metric 'nope'", *list_metrics()]),
    (["--g-hidden", "8,0"], ["g_hidden"]),
    (["--r1-weight", "-1"], ["r1_weight", "-1"]),
    (["--r1-every", "0"], ["r1_every", "0"]),
    (["--resume", "missing-run"], ["missing-run"]),
]


@pytest.mark.parametrize(("args", "expect"), TRAIN_BAD, ids=[" ".join(a) for a, _ in TRAIN_BAD])
def test_bad_train_input(tmp_path: Path, monkeypatch, capfd, args, expect) -> None:
    monkeypatch.chdir(tmp_path)
    _bad_files(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = ["train", "--steps", "2", "--out", "newrun", *TINY_FLAGS, *args, "--quiet"]
    _assert_usage_error(main(argv), capfd, expect)
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "no run directory left behind"
    assert (tmp_path / "afile").read_text() == "not a folder"


SAMPLE_EVAL_BAD = [
    (["sample", "{run}", "--n", "0", "--out", "s.npy"], ["--n", "0"]),
    (["sample", "{run}", "--n", "-3", "--out", "s.npy"], ["--n", "-3"]),
    (["sample", "{run}", "--out", "afile/s.npy"], ["afile", "is a file"]),
    (["sample", "{run}", "--out", "folder"], ["--out", "folder"]),
    (["sample", "{run}", "--out", "s.txt"], [".npy or .csv"]),
    (["sample", "missing-run", "--out", "s.npy"], ["missing-run", "does not exist"]),
    (["sample", "afile", "--out", "s.npy"], ["afile", "not a readable ganforge checkpoint"]),
    (["evaluate", "{run}", "--n", "0"], ["--n", "0"]),
    (["evaluate", "{run}", "--n", "-1"], ["--n", "-1"]),
    (["evaluate", "{run}", "--out", "afile/m.json"], ["afile", "is a file"]),
    (["plot", "folder"], ["folder", "not a ganforge run directory"]),
    (["frobnicate"], ["frobnicate"]),
]


@pytest.mark.parametrize(
    ("args", "expect"), SAMPLE_EVAL_BAD, ids=[" ".join(a) for a, _ in SAMPLE_EVAL_BAD]
)
def test_bad_sample_evaluate_plot_input(
    ring_run, tmp_path: Path, monkeypatch, capfd, args, expect
) -> None:
    run, _ = ring_run
    monkeypatch.chdir(tmp_path)
    _bad_files(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    metrics_before = (run / "metrics.json").read_bytes()
    argv = [a.replace("{run}", str(run)) for a in args]
    _assert_usage_error(main(argv), capfd, expect)
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "nothing half-written"
    assert (run / "metrics.json").read_bytes() == metrics_before


def _assert_usage_error(code: int, capfd, expect: list[str]) -> None:
    out, err = capfd.readouterr()
    assert code == 2
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ganforge: error: ")
    for fragment in expect:
        assert fragment in lines[0]


def test_bad_inputs_through_the_real_entry_point(tmp_path: Path) -> None:
    """The same contract for the installed program, run as separate processes."""
    _bad_files(tmp_path)
    cases = [
        (["train", "--dataset", "nope"], list_datasets()),
        (["train", "--dataset", "nan.csv", "--steps", "2"], ["nan.csv", "not finite"]),
    ]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "ganforge", *args],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args, _ in cases
    ]
    before = sorted(p.name for p in tmp_path.iterdir())
    for proc, (args, expect) in zip(procs, cases, strict=True):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, (args, err)
        assert "Traceback" not in err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ganforge: error: "), err
        assert all(fragment in lines[0] for fragment in expect), lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not (tmp_path / "runs").exists()
