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


# per phase: 4 likelihood steps decay over 4, the 6 adversarial ones over 6
PHASED = {
    "linear-phases": lambda t: 1.0 - t,
    "cosine-phases": lambda t: 0.5 * (1.0 + math.cos(math.pi * t)),
}


@pytest.mark.parametrize("schedule", sorted(PHASED))
def test_phase_schedules_restart_at_the_adversarial_phase(tmp_path: Path, schedule: str) -> None:
    """With ``mle_steps`` 4 of 10, step ``s`` (0-based) of the likelihood phase trains
    with ``base * f(s / 4)`` and adversarial step ``s`` with ``base * f((s - 4) / 6)``:
    the rates fall to 1/4 (linear) by step 3 and are back at the base at step 4."""
    text = tmp_path / "lines.txt"
    text.write_text("\n".join(["abc", "abd", "bcd", "acd"] * 8) + "\n", encoding="utf-8")
    run = tmp_path / "run"
    args = ["train", "--dataset", str(text), "--steps", "10", "--mle-steps", "4"]
    args += ["--mle-weight", "1", "--batch-size", "8", "--lr-schedule", schedule]
    args += ["--lr-g", str(LR_G), "--lr-d", str(LR_D), "--log-every", "1"]
    args += ["--sample-every", "0", "--seq-width", "8", "--seq-critic-width", "8"]
    args += ["--seq-blocks", "1", "--noise-dim", "4", "--eval-samples", "50", "--threads", "1"]
    assert main([*args, "--out", str(run), "--quiet"]) == 0
    rows = [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 11))
    f = PHASED[schedule]
    expected = [f(s / 4) for s in range(4)] + [f((s - 4) / 6) for s in range(4, 10)]
    for r, e in zip(rows, expected, strict=True):
        assert r["lr/g"] == pytest.approx(LR_G * e, rel=1e-12), r["step"]
        assert r["lr/d"] == pytest.approx(LR_D * e, rel=1e-12), r["step"]
    assert rows[4]["lr/g"] == pytest.approx(LR_G)  # the restart
    assert rows[3]["lr/g"] < 0.5 * LR_G


def test_phase_schedules_without_a_likelihood_phase_are_the_plain_ones() -> None:
    """No ``mle_steps`` (or all steps by likelihood): one decay over the run, hand values."""
    from ganforge.training.updates import lr_factor

    for steps_mle in (0, 10, 12):
        assert lr_factor("linear-phases", 5, 10, steps_mle) == pytest.approx(0.5)
        assert lr_factor("cosine-phases", 5, 10, steps_mle) == pytest.approx(0.5)
    assert lr_factor("linear-phases", 7, 10, 6) == pytest.approx(1 - 1 / 4)
    assert lr_factor("cosine-phases", 3, 10, 6) == pytest.approx(0.5)
    assert lr_factor("linear", 7, 10, 6) == pytest.approx(0.3)  # the plain one ignores phases
