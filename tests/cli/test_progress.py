"""What ``ganforge train`` shows without ``--quiet``: a progress bar with the live losses
(the latest logged ``loss/d`` and ``loss/g``) on stderr, and the final metric table, each
number beside its real-vs-real floor, on stdout."""

from __future__ import annotations

import json
import re

from conftest import TINY_FLAGS
from ganforge.cli import main


def test_train_shows_live_losses_and_prints_the_metric_table(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    args = ["train", "--dataset", "ring8", "--steps", "20", "--batch-size", "32"]
    args += ["--log-every", "5", "--sample-every", "0", "--eval-samples", "200", *TINY_FLAGS]
    assert main([*args, "--out", str(run)]) == 0
    r = capsys.readouterr()
    rows = [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]
    last = [row for row in rows if "loss/d" in row][-1]
    frames = [f for f in re.split(r"[\r\n]", r.err) if "step/s" in f or "s/step" in f]
    assert frames, r.err
    final = frames[-1]
    assert "20/20" in final
    assert f"D={last['loss/d']:.3f}" in final and f"G={last['loss/g']:.3f}" in final

    metrics = json.loads((run / "metrics.json").read_text())
    table = {line.split()[0]: line.split()[1:] for line in r.out.splitlines() if line.strip()}
    assert "real" in " ".join(table["metric"])  # header: metric, generated, real vs real
    for key in ("modes_covered", "hq_fraction", "w1", "mmd", "ks_max"):
        value, floor = metrics[key], metrics["real_vs_real"][key]
        assert table[key] == [f"{value:.4g}", f"{floor:.4g}"], key
