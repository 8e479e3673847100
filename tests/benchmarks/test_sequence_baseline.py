"""The maximum-likelihood baseline of ``benchmarks/sequences.py`` (a character GRU language
model) learns a tiny language, and chance is the exact value computed by hand."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from ganforge.data.grammars import get_grammar

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import sequences  # noqa: E402
from gru_lm import CharGRU  # noqa: E402


def test_chance_by_hand() -> None:
    train = ["1+1=2", "0+2=2", "1*3=3", "2-2=0"]  # answers 2, 2, 3, 0: P = 1/2, 1/4, 1/4
    heldout = ["1+2=3", "3-1=2", "3-1=2"]  # distinct prompts "1+2=" (3), "3-1=" (2)
    ch = sequences.chance_of(train, heldout, get_grammar("arithmetic"))
    assert ch["correctness"] == pytest.approx((2 / 4 + 2 / 4 + 1 / 4 + 1 / 4) / 4)
    assert ch["answer_accuracy"] == pytest.approx((1 / 4 + 2 / 4) / 2)
    assert ch["answer_accuracy_+"] == pytest.approx(1 / 4)
    assert ch["validity"] == 1.0


def test_gru_language_model_learns_a_tiny_language() -> None:
    import torch

    torch.set_num_threads(1)
    lines = ["ab" * k + "=" + str(k) for k in range(1, 5)]  # "ab=1", "abab=2", ...
    lm = CharGRU(lines, hidden=32, emb=8, seed=0)
    fit = lm.fit(lines, seconds=60, batch_size=16, lr=1e-2, max_steps=300)
    assert fit["steps"] == 300 and fit["loss"] < 0.5  # ln 4 ~ 1.4 is the prompt entropy
    samples = lm.sample(200, seed=1)
    assert sum(bool(re.fullmatch(r"(ab)+=\d", s)) for s in samples) >= 180
    assert sum(s in lines for s in samples) >= 180
    assert lm.complete(["abab=", "ab=", "abababab=", "x="]) == [
        "abab=2",
        "ab=1",
        "abababab=4",
        "x=",
    ]
    assert lm.sample(5, seed=3) == lm.sample(5, seed=3)  # seeded
