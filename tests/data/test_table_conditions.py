"""Which condition column anchors a table model's rows: the uncertainty-coefficient
scores against hand-computed values, the choice on a table whose dependency is known,
the pair probabilities, and the codec's JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.conftest import write_csv

from ganforge.data.table import TableData
from ganforge.data.table.codec import TableCodec
from ganforge.data.table.conditions import (
    anchor_column,
    anchor_probabilities,
    condition_scores,
    entropy,
    mutual_information,
    value_codes,
)
from ganforge.errors import CheckpointError
from ganforge.models import build_models, get_preset


def test_mutual_information_against_hand_computed_values() -> None:
    same = np.array([0, 0, 1, 1])
    # plug-in I = ln 2 for two copies of a fair coin; Miller-Madow bias (2-1)(2-1)/(2*4)
    assert mutual_information(same, same) == pytest.approx(math.log(2) - 1 / 8)
    assert mutual_information(np.array([0, 1, 0, 1]), same) == 0.0  # independent: 0 - bias
    assert entropy(same) == pytest.approx(math.log(2))
    # a 3x2 table: p = [[.25, 0], [.25, .25], [0, .25]]
    a, b = np.array([0, 1, 1, 2]), np.array([0, 0, 1, 1])
    plug_in = 0.25 * math.log(2) * 2 + 0.25 * math.log(1) * 2
    assert mutual_information(a, b) == pytest.approx(max(plug_in - 2 * 1 / 8, 0))


def test_value_codes_cut_numbers_at_deciles_and_keep_missing_apart() -> None:
    x = np.concatenate([np.arange(100.0), [np.nan] * 5])
    codes = value_codes(x, categorical=False)
    values, counts = np.unique(codes[:100], return_counts=True)
    assert len(values) == 10 and (counts == 10).all()
    assert len(np.unique(codes[100:])) == 1 and codes[100] not in codes[:100]
    cats = value_codes(np.array([2.0, 0.0, np.nan, 2.0]), categorical=True)
    assert cats[0] == cats[3] and len(set(cats.tolist())) == 3


def _dependent(tmp_path: Path, n: int = 1200) -> Path:
    """``noise`` (5 values, independent), ``g`` (A 85% / B 15%) moving ``x``, ``flag``."""
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(n):
        b = rng.random() < 0.15
        x = rng.normal(6, 0.5) if b else rng.normal(0, 1)
        rows.append([f"c{rng.integers(5)}", "B" if b else "A", f"{x:.3f}", rng.random() < 0.5])
    return write_csv(tmp_path / "t.csv", ["noise", "g", "x", "flag"], rows)


def test_the_column_that_moves_the_others_is_the_anchor(tmp_path: Path) -> None:
    data = TableData(_dependent(tmp_path))
    codec = data.table
    names = [codec.columns[j] for j in codec.cond_columns]
    assert names == ["noise", "g", "flag"]
    scores = condition_scores(codec, data.train_native)
    by_name = dict(zip(names, scores, strict=True))
    # g tells x's decile almost as well as it can: I(g; x) <= H(g), so U(x | g) is at
    # most H(g) / ln 10 = 0.18 for a 15% category
    assert by_name["g"] > 0.1
    assert by_name["noise"] < 0.01 and by_name["flag"] < 0.01  # chance, less its bias
    assert codec.anchor["column"] == 1 and codec.sample_columns is None  # columns: uniform
    assert data.output_layout["condition"]["anchor"] == codec.anchor
    # p(g | noise = v): each noise value's training rows, B at about the 15% rate
    probs = np.array(codec.anchor["probs"][0])
    assert probs.shape == (5, 2) and np.allclose(probs.sum(1), 1)
    assert (abs(probs[:, 1] - 0.15) < 0.06).all()


def test_anchor_choice_and_pair_probabilities_by_hand() -> None:
    assert anchor_column([0.1, 0.4, 0.4]) == 1  # the first of equals
    assert anchor_column([0.0, 0.0]) is None and anchor_column([]) is None
    # column 0 (3 values, value 2 held by no training row) against the anchor 1 (2 values)
    c0, c1 = np.array([0, 0, 0, 1, 1]), np.array([0, 0, 1, 1, 1])
    probs = anchor_probabilities([c0, c1], [3, 2], anchor=1)
    np.testing.assert_allclose(probs[0], [[2 / 3, 1 / 3], [0, 1], [2 / 5, 3 / 5]])
    np.testing.assert_allclose(probs[1], np.eye(2))  # the anchor keeps its own value


def test_the_codec_keeps_its_anchor_in_json(tmp_path: Path) -> None:
    codec = TableData(_dependent(tmp_path)).table
    back = TableCodec.from_json(json.loads(json.dumps(codec.to_json())))
    assert back.anchor == codec.anchor and back.sample_columns is None
    older = codec.to_json()
    del older["anchor"]  # a codec saved before anchors: single conditions, its weights
    older["sample_columns"] = [1 / 6, 2 / 3, 1 / 6]
    layout = TableCodec.from_json(older).layout()
    assert layout["condition"]["anchor"] is None
    assert layout["condition"]["sample_columns"] == pytest.approx([1 / 6, 2 / 3, 1 / 6])
    g = build_models(get_preset("ctgan").model, (codec.row_dim + codec.cond_dim,), layout)[0]
    cond = g.eval()(torch.randn(500, g.noise_dim))[:, codec.row_dim :]
    assert torch.all(cond.sum(1) == 1)  # one condition per row, as such runs were trained
    for bad in ([1.0], [0.0, 0.0, 0.0], [1.0, -1.0, 1.0], ["a", 1, 1], 3):
        damaged = dict(codec.to_json(), sample_columns=bad)
        with pytest.raises(CheckpointError, match="codec"):
            TableCodec.from_json(damaged)
    good = codec.to_json()["anchor"]
    for bad in (
        {"column": 5, "probs": good["probs"]},
        {"column": True, "probs": good["probs"]},
        {"column": 1, "probs": good["probs"][:2]},
        {"column": 1, "probs": [[[2.0, -1.0]] * 5, *good["probs"][1:]]},
        {"column": 1, "probs": [[[0.5, 0.4]] * 5, *good["probs"][1:]]},
        {"probs": good["probs"]},
        "g",
    ):
        with pytest.raises(CheckpointError, match="codec"):
            TableCodec.from_json(dict(codec.to_json(), anchor=bad))


def test_a_table_without_condition_columns_samples(tmp_path: Path) -> None:
    # numbers and dates only, nothing missing: no condition column to choose from
    rng = np.random.default_rng(0)
    rows = [[f"{rng.normal():.3f}", f"2022-01-{rng.integers(1, 29):02d}"] for _ in range(60)]
    data = TableData(write_csv(tmp_path / "t.csv", ["x", "d"], rows))
    assert data.table.cond_columns == [] and data.table.anchor is None
    assert data.output_layout["condition"]["sample_columns"] == []
    g = build_models(get_preset("ctgan").model, data.shape, data.output_layout)[0].eval()
    out = data.decode(g(torch.randn(16, g.noise_dim)).detach())
    assert out.shape == (16, 2) and np.isfinite(out).all()
