"""``--lr-schedule``: the learning rates each schedule sets, read from ``history.jsonl``.

Generator step ``s`` (1-based) of ``N`` trains with ``base * f((s - 1) / N)`` for both
networks, where ``f(t) = 1`` (constant), ``1 - t`` (linear) or ``(1 + cos(pi t)) / 2``
(cosine); the history line of step ``s`` records the rates that step used.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from conftest import TINY_FLAGS
from ganforge.cli import main

STEPS = 12
LR_G, LR_D = 1e-3, 3e-3  # different, so a swapped pair fails too

SCHEDULES = {
    "constant": lambda t: 1.0,
    "linear": lambda t: 1.0 - t,
    "cosine": lambda t: 0.5 * (1.0 + math.cos(math.pi * t)),
}


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_learning_rates_follow_the_schedule(tmp_path: Path, schedule: str) -> None:
    run = tmp_path / "run"
    args = ["train", "--dataset", "ring8", "--steps", str(STEPS), "--batch-size", "16"]
    args += ["--lr-g", str(LR_G), "--lr-d", str(LR_D), "--lr-schedule", schedule]
    args += ["--log-every", "1", "--sample-every", "0", "--eval-samples", "100"]
    assert main([*args, *TINY_FLAGS, "--out", str(run), "--quiet"]) == 0
    rows = [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, STEPS + 1))
    f = SCHEDULES[schedule]
    for r in rows:
        t = (r["step"] - 1) / STEPS
        assert r["lr/g"] == pytest.approx(LR_G * f(t), rel=1e-12, abs=1e-18), r["step"]
        assert r["lr/d"] == pytest.approx(LR_D * f(t), rel=1e-12, abs=1e-18), r["step"]
    if schedule != "constant":  # a decay, ending near zero
        assert rows[-1]["lr/g"] < 0.1 * LR_G
        assert [r["lr/g"] for r in rows] == sorted((r["lr/g"] for r in rows), reverse=True)
    # half way: linear 1/2, cosine 1/2 as well (t = 6/12)
    assert rows[6]["lr/g"] == pytest.approx(LR_G * f(0.5), rel=1e-12)
