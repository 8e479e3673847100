"""Table evaluation: any two CSV files, every figure beside the held-out one, bad inputs,
and one short end-to-end CLI run on a table with text, missing cells, a date column and
a 10,000-category column (train a few steps, sample, sample with --where, evaluate)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from ganforge.cli import main
from ganforge.errors import ConfigError, DataError
from ganforge.evaluation.table import evaluate_table_files


def _people(path: Path, n: int, seed: int = 0, ids: bool = False) -> Path:
    rng = np.random.default_rng(seed)
    header = ["age", "sex", "income", "joined"] + (["id"] if ids else [])
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i in range(n):
            sex = "Female" if rng.random() < 0.4 else "Male"
            income = rng.normal(50 if sex == "Female" else 30, 5)
            row = [
                int(rng.integers(18, 80)),
                sex,
                "" if rng.random() < 0.1 else f"{income:.1f}",
                f"2022-{rng.integers(1, 13):02d}-{rng.integers(1, 28):02d}",
            ]
            if ids:
                row.append(f"u{i % 10000}")
            w.writerow(row)
    return path


def test_a_copy_of_the_training_rows_is_flagged(tmp_path: Path) -> None:
    real = _people(tmp_path / "real.csv", 400)
    copy = tmp_path / "copy.csv"
    copy.write_bytes(real.read_bytes())
    held = _people(tmp_path / "held.csv", 200, seed=1)
    out = evaluate_table_files(real, copy, target="sex", holdout=held)
    # held-out rows may equal a training row by chance (a missing income, same age,
    # sex and day): the floor says how often
    assert out["exact_copies"] == 1.0 and out["real_vs_real"]["exact_copies"] < 0.05
    # against 200 of the 400 training rows and the 200 held-out rows: the half of the
    # copies whose original is among those 200 is closer to training, the other half
    # like fresh rows (about 50/50): about 75%, far from the ideal 50
    assert 65 < out["dcr_closer_to_train"] < 85
    assert 30 <= out["real_vs_real"]["dcr_closer_to_train"] <= 70
    assert out["nn_distance_ratio"] == 0.0
    assert out["fidelity"] > out["real_vs_real"]["fidelity"]  # a copy is as close as it gets
    assert out["protocol"]["ml_efficacy"] == "f1_macro"
    assert out["ml_efficacy"] > 0.8 and out["real_vs_real"]["ml_efficacy"] > 0.8


def test_fresh_rows_score_like_held_out_rows(tmp_path: Path) -> None:
    real = _people(tmp_path / "real.csv", 600)
    fresh = _people(tmp_path / "fresh.csv", 600, seed=5)
    out = evaluate_table_files(real, fresh)
    floor = out["real_vs_real"]
    assert abs(out["fidelity"] - floor["fidelity"]) < 5
    assert out["exact_copies"] == 0 and out["out_of_range"] < 0.02
    assert "dcr_closer_to_train" not in out  # no held-out file: the share is skipped
    assert "skipped" in out["protocol"]["dcr"]


def test_bad_evaluation_inputs(tmp_path: Path) -> None:
    real = _people(tmp_path / "real.csv", 50)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(ConfigError, match="--target: unknown column 'salary'"):
        evaluate_table_files(real, real, target="salary")
    with pytest.raises(DataError, match="header"):
        evaluate_table_files(real, other)
    assert main(["evaluate", str(real), str(real), "--target", "salary"]) == 2
    assert main(["evaluate", str(real)]) == 2


def _cli(*args: str) -> int:
    return main([*args])


def test_end_to_end_mixed_table_from_the_cli(tmp_path: Path, capsys) -> None:
    """10,000 rows, a 10,000-category id column, text, missing cells and dates: 5 steps,
    sample, sample with --where, evaluate the files and the run (``--target``); bad
    --where values and an unknown target exit 2 with one line."""
    data = _people(tmp_path / "people.csv", 10000, ids=True)
    before = data.read_bytes()
    run = tmp_path / "run"
    code = _cli(
        "train", "--dataset", str(data), "--steps", "5", "--batch-size", "64",
        "--threads", "1", "--sample-every", "0", "--eval-samples", "500", "--out", str(run),
        "--quiet",
    )  # fmt: skip
    assert code == 0
    config = json.loads((run / "config.json").read_text())
    assert config["preset"] == "ctgan"
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0 <= metrics["fidelity"] <= 100 and "fidelity" in metrics["real_vs_real"]
    assert 0 <= metrics["dcr_closer_to_train"] <= 100
    out = tmp_path / "synth.csv"
    assert _cli("sample", str(run), "--n", "300", "--out", str(out)) == 0
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["age", "sex", "income", "joined", "id"] and len(rows) == 301
    assert all(r[3].startswith("2022-") and r[4].startswith("u") for r in rows[1:])
    assert all(r[1] in ("Female", "Male") for r in rows[1:])
    assert all(r[0].isdigit() for r in rows[1:])
    women = tmp_path / "f.csv"
    assert _cli("sample", str(run), "--n", "50", "--where", "sex=Female", "--out", str(women)) == 0
    assert {r[1] for r in list(csv.reader(women.open()))[1:]} == {"Female"}
    capsys.readouterr()
    for where in ("gender=Female", "sex=Other", "age=30"):
        assert _cli("sample", str(run), "--n", "5", "--where", where, "--out", str(women)) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and where.split("=")[0] in err[0]
    assert _cli("evaluate", str(data), str(out), "--target", "sex") == 0
    assert (data.read_bytes()) == before  # user data never modified
    report = json.loads((tmp_path / "synth.metrics.json").read_text())
    assert "ml_efficacy" in report and "ml_efficacy" in report["real_vs_real"]
    # the run itself against its held-out rows, with a target column
    assert _cli("evaluate", str(run), "--target", "sex", "--n", "300") == 0
    own = json.loads((run / "metrics.json").read_text())
    assert 0 <= own["ml_efficacy"] <= 1 and 0 <= own["real_vs_real"]["ml_efficacy"] <= 1
    capsys.readouterr()
    assert _cli("evaluate", str(run), "--target", "height") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "height" in err[0]


def test_a_sorted_file_still_gives_a_fair_floor(tmp_path: Path) -> None:
    """Held-out rows come in file order; the floor's halves must be random, not 'the
    first rows' (a file sorted by a column would put different groups in each half)."""
    from ganforge.evaluation.table import evaluate_rows

    rng = np.random.default_rng(0)
    group = np.repeat([0.0, 1.0], 300)  # sorted by group
    rows = np.stack([group, group * 10 + rng.normal(size=600)], axis=1)
    train = rows[rng.permutation(600)] + rng.normal(0, 0.01, (600, 2)) * [0, 1]
    numeric = np.array([False, True])
    out = evaluate_rows(train, train, rows, numeric)  # m = 600: halves of 300
    assert 35 <= out["real_vs_real"]["dcr_closer_to_train"] <= 65
