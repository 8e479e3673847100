"""The table model (preset ctgan): heads that match the column layout, conditions drawn
by log-frequency while training and by frequency when sampling, the condition loss,
packing, reproducible eval-mode samples, and a short run that learns a rare category and
the number that depends on it."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.config import ModelConfig
from ganforge.data.table import TableData
from ganforge.errors import ConfigError
from ganforge.models import build_models, get_preset


def _dep_table(path: Path, n: int = 1000, seed: int = 0) -> Path:
    """g: A (85%) or B (15%); x ~ N(0, 1) for A, N(6, 0.5) for B."""
    rng = np.random.default_rng(seed)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["g", "x", "flag"])
        for _ in range(n):
            b = rng.random() < 0.15
            x = rng.normal(6, 0.5) if b else rng.normal(0, 1)
            w.writerow(["B" if b else "A", f"{x:.3f}", "yes" if rng.random() < 0.5 else "no"])
    return path


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> TableData:
    return TableData(_dep_table(tmp_path_factory.mktemp("t") / "dep.csv"))


def _small() -> ModelConfig:
    import dataclasses

    return dataclasses.replace(
        get_preset("ctgan").model, g_hidden=(32,), d_hidden=(32,), noise_dim=8
    )


def test_heads_match_the_layout(table: TableData) -> None:
    torch.manual_seed(0)
    g, d = build_models(_small(), table.shape, table.output_layout)
    out = g(torch.randn(64, 8))
    assert out.shape == (64, table.shape[0])
    start = 0
    for kind, size in table.output_layout["blocks"]:
        block = out[:, start : start + size]
        if kind == "tanh":
            assert block.abs().max() <= 1
        else:
            torch.testing.assert_close(block.sum(1), torch.ones(64))
            assert (block >= 0).all()
        start += size
    cond = out[:, start:]
    assert cond.shape[1] == table.table.cond_dim
    assert torch.all((cond == 0) | (cond == 1))
    # one value of the drawn column, plus one of the anchor (g) when that column is flag
    assert torch.all(cond[:, :2].sum(1) == 1) and torch.all(cond[:, 2:].sum(1) <= 1)
    assert d(out).shape == (64 // get_preset("ctgan").model.pack,)  # packs of 8


def test_eval_samples_are_a_function_of_the_noise(table: TableData) -> None:
    g, _ = build_models(_small(), table.shape, table.output_layout)
    g.eval()
    z = torch.randn(32, 8)
    torch.testing.assert_close(g(z), g(z.clone()))
    assert not torch.equal(g(z), g(torch.randn(32, 8)))


def test_conditions_log_frequency_in_training_frequency_in_sampling(table: TableData) -> None:
    g, _ = build_models(_small(), table.shape, table.output_layout)
    codec = table.table
    k = codec.cond_columns.index(codec.columns.index("g"))
    counts = codec.transforms[codec.cond_columns[k]].position_counts().astype(float)
    off = codec.cond_offsets[k]
    torch.manual_seed(0)
    train_y = g.train().draw_conditions(40000, None, "cpu")
    sample_y = g.eval().draw_conditions(40000, torch.Generator().manual_seed(0), "cpu")
    for y, weights in ((train_y, np.log1p(counts)), (sample_y, counts)):
        mine = y[(y >= off) & (y < off + 2)] - off
        got = np.bincount(mine.numpy(), minlength=2) / len(mine)
        np.testing.assert_allclose(got, weights / weights.sum(), atol=0.015)
    # B is 131 of 800 training rows (16%); log-frequency conditions ask for it
    # log(132) / (log(670) + log(132)) = 4.883 / 11.390 = 43% of the time
    assert counts.tolist() == [669, 131]
    assert np.log1p(counts[1]) / np.log1p(counts).sum() == pytest.approx(0.4287, abs=1e-4)


def test_given_conditions_are_used(table: TableData) -> None:
    g, _ = build_models(_small(), table.shape, table.output_layout)
    y = torch.tensor([0, 1, 2, 3])
    cond = g(torch.randn(4, 8), y)[:, table.table.row_dim :]
    torch.testing.assert_close(cond[:2], torch.eye(table.table.cond_dim)[y[:2]])  # g's own
    torch.testing.assert_close(cond[2:, 2:], torch.eye(2))  # flag's, plus an anchor value
    torch.testing.assert_close(cond[2:, :2].sum(1), torch.ones(2))
    with pytest.raises(ConfigError, match="condition indices"):
        g(torch.randn(1, 8), torch.tensor([table.table.cond_dim]))


def test_condition_loss_is_minus_log_of_the_conditioned_value(table: TableData) -> None:
    g, _ = build_models(_small(), table.shape, table.output_layout)
    codec = table.table
    fake = torch.zeros(2, table.shape[0])
    gpos = codec.offsets[codec.columns.index("g")]  # the g column's one-hot in the row
    fake[:, gpos : gpos + 2] = torch.tensor([[0.25, 0.75], [0.9, 0.1]])
    k = codec.cond_columns.index(codec.columns.index("g"))
    fake[0, codec.row_dim + codec.cond_offsets[k] + 1] = 1  # row 0 asks for B: p = 0.75
    fake[1, codec.row_dim + codec.cond_offsets[k] + 0] = 1  # row 1 asks for A: p = 0.9
    want = -(math.log(0.75 + 1e-6) + math.log(0.9 + 1e-6)) / 2
    assert g.generator_terms(fake)["cond"].item() == pytest.approx(want, rel=1e-5)
    # row 1 also asks for flag's first value (p = 0.2): its term is the mean of the two
    fpos = codec.offsets[codec.columns.index("flag")]
    fake[:, fpos : fpos + 2] = torch.tensor([0.2, 0.8])
    fake[1, codec.row_dim + codec.cond_offsets[1] + 0] = 1
    row1 = -(math.log(0.9 + 1e-6) + math.log(0.2 + 1e-6)) / 2
    want = (-math.log(0.75 + 1e-6) + row1) / 2
    assert g.generator_terms(fake)["cond"].item() == pytest.approx(want, rel=1e-5)


def test_the_table_model_needs_a_table() -> None:
    with pytest.raises(ConfigError, match="models tables"):
        build_models(_small(), (10,))


def test_a_short_run_learns_a_rare_category_and_its_numbers(tmp_path: Path) -> None:
    """1,000 steps of 64 rows (~6 s on one thread): B's frequency within 5 points of 15%,
    x's median near 0 for A and near 6 for B; --where g=B gives only B rows with x ~ 6.
    The small model trains with the non-saturating loss: the table defaults' WGAN-GP at
    2e-4 needs 3-4x the steps here (B at 19-23%, B's median 4.9-5.4 after 1,500-3,000
    steps; the benchmark tables train 3,000 steps of 512 rows)."""
    import ganforge
    from ganforge.api import load_generator
    from ganforge.config import TrainConfig
    from ganforge.tables import sample_rows

    path = _dep_table(tmp_path / "dep.csv")
    cfg = TrainConfig(
        dataset=str(path),
        model={"g_hidden": (64, 64), "d_hidden": (64, 64), "noise_dim": 32},
        steps=1000,
        batch_size=64,
        loss="nonsaturating",
        ema=0.0,  # the defaults' EMA (0.999) averages over about as many steps as this run
        threads=1,
        sample_every=0,
        out=str(tmp_path / "run"),
    )
    run = ganforge.train(cfg)
    assert run.metrics["protocol"]["n_synthetic"] == 200
    loaded = load_generator(run.run_dir)
    x = sample_rows(loaded, 2000, seed=1)
    b = x[:, 0] == 1
    assert abs(b.mean() - 0.15) < 0.05, b.mean()
    assert abs(np.median(x[~b, 1])) < 1.0 and abs(np.median(x[b, 1]) - 6) < 1.0
    only_b = sample_rows(loaded, 300, seed=2, where={"g": "B"})
    assert (only_b[:, 0] == 1).all() and abs(np.median(only_b[:, 1]) - 6) < 1.0
    np.testing.assert_array_equal(sample_rows(loaded, 50, seed=3), sample_rows(loaded, 50, seed=3))


def test_sequential_heads_let_a_later_block_read_the_value_drawn_before_it(table) -> None:
    """With sequential heads, a block's logits read the blocks drawn before it: with all
    logits zero but a feedback map copying g's drawn one-hot (x50) into the flag's, the
    flag agrees with g's draw on 99% of rows, though g's own Gumbel noise alone decides
    it; without the feedback the two are independent coins (CTGAN's independent heads)."""
    import dataclasses

    cfg = dataclasses.replace(_small(), table_heads="sequential")
    g = build_models(cfg, table.shape, layout=table.output_layout)[0].eval()
    g.cond_block = {}  # no block held to its condition: every block from its own draw
    sizes = [size for _, size in g.blocks]
    # blocks: g's A/B (2), x's value (1) and modes (2), flag's yes/no (2, the last)
    last = len(sizes) - 1
    assert g.blocks[0] == ("softmax", 2) and g.blocks[last] == ("softmax", 2)
    with torch.no_grad():
        for p in [*g.heads.parameters(), *g.feedback.parameters()]:
            p.zero_()  # every block's logits 0: each a fair coin from its own noise
        g.feedback[last].weight[:, :2] = 50 * torch.eye(2)  # ... but the flag copies g
    z = torch.randn(4000, cfg.noise_dim)
    out = g(z)
    first, flag = out[:, :2].argmax(1), out[:, g.row_dim - 2 : g.row_dim].argmax(1)
    assert 0.45 < first.float().mean() < 0.55
    assert (first == flag).float().mean() > 0.99
    g.feedback[last].weight.data.zero_()
    flag = g(z)[:, g.row_dim - 2 : g.row_dim].argmax(1)  # no feedback: independent coins
    assert 0.4 < (first == flag).float().mean() < 0.6
    assert sum(p.numel() for p in g.feedback.parameters()) == sum(
        sizes[k] * sum(sizes[:k]) for k in range(1, len(sizes))
    )
    with pytest.raises(ConfigError, match="table_heads"):
        dataclasses.replace(_small(), table_heads="joint")


def test_every_row_is_also_conditioned_on_the_anchor_and_holds_it(table) -> None:
    """g (the column that moves x) is the anchor: columns are drawn uniformly, and a row
    drawn through flag also gets a g value from p(g | flag), the data's B rate (flag is
    independent of g). In eval mode every row holds its conditions, whatever G's own
    draws; training draws the anchor the same way."""
    layout = table.output_layout["condition"]
    assert layout["anchor"]["column"] == 0
    assert layout["sample_columns"] == pytest.approx([0.5, 0.5])
    g = build_models(_small(), table.shape, layout=table.output_layout)[0].eval()
    out = g(torch.randn(6000, 8))
    cond = out[:, g.row_dim :]
    assert torch.all(cond[:, :2].sum(1) == 1)  # every row has a g value
    on_flag = cond[:, 2:].sum(1) == 1
    assert 0.47 < on_flag.float().mean() < 0.53  # half drawn through flag
    assert 0.12 < cond[on_flag, 1].mean() < 0.2  # ... with g's B at the data's 16%
    torch.testing.assert_close(out[:, :2], cond[:, :2])  # g's block holds its condition
    f = table.table.offsets[table.table.columns.index("flag")]
    torch.testing.assert_close(out[on_flag, f : f + 2], cond[on_flag, 2:])  # flag's too
    g.train()
    torch.manual_seed(0)
    cond = g(torch.randn(4000, 8))[:, g.row_dim :]
    assert torch.all(cond[:, :2].sum(1) == 1)
    assert 0.45 < cond[:, 2:].sum(1).mean() < 0.55


def test_real_training_rows_hold_their_own_anchor_value(table) -> None:
    """Training-by-sampling sets each real row's own g value beside its condition."""
    x, _ = table.sample_batch(2000, torch.Generator().manual_seed(0))
    codec = table.table
    gpos = codec.offsets[codec.columns.index("g")]
    row_g, cond = x[:, gpos : gpos + 2], x[:, codec.row_dim :]
    torch.testing.assert_close(cond[:, :2], row_g)
    assert 0.45 < cond[:, 2:].sum(1).mean() < 0.55
