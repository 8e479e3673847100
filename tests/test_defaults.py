"""What ``ganforge train --dataset FILE.csv`` resolves to with no other flag, and that
every flag the user gives still wins (``ganforge.defaults.with_dataset_defaults``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ganforge.config import GENERIC_DEFAULTS, TrainConfig
from ganforge.data import dataset_info
from ganforge.data.tabular import TABLE_TRAINING, clusters_for_table, r1_for_table, table_shape
from ganforge.defaults import resolve
from ganforge.errors import ConfigError


@pytest.fixture
def table(tmp_path: Path) -> str:
    path = tmp_path / "points.csv"
    path.write_text("a,b\n" + "\n".join(f"{i % 7},{i * 0.37 % 5}" for i in range(40)) + "\n")
    return str(path)


def test_a_table_with_no_flag_resolves_to_the_table_defaults(table: str) -> None:
    cfg = resolve(TrainConfig(dataset=table))
    assert cfg.preset == "mlp-tabular"
    assert cfg.model.g_hidden == cfg.model.d_hidden == (128, 128, 128)
    assert (cfg.model.noise_dim, cfg.model.g_output) == (32, "linear")
    assert cfg.loss == "nonsaturating" and cfg.n_critic == 1
    assert (cfg.steps, cfg.batch_size, cfg.lr_schedule, cfg.ema) == (4000, 512, "linear", 0.999)
    assert (cfg.lr_g, cfg.lr_d, cfg.betas) == (1e-3, 3e-3, (0.5, 0.999))
    # R1's γ from the table's shape, 40 rows x 2 columns: 4.5 * 40 ** (-2 / 2) = 0.1125
    # (2 significant digits)
    assert cfg.r1_weight == pytest.approx(0.1125, abs=6e-3) and cfg.r1_every == 4
    assert cfg.sample_every == 400 and cfg.checkpoint_every == 800
    # self-conditioned on k-means clusters of the rows, one per 8 rows: 40 // 8 = 5
    assert cfg.self_condition == 5
    assert (cfg.model.conditional, cfg.model.num_classes) == ("projection", 5)
    assert dataset_info(table).train_defaults == {
        **TABLE_TRAINING,
        "r1_weight": cfg.r1_weight,
        "self_condition": 5,
    }


@pytest.mark.parametrize(
    ("rows", "k"), [(5000, 16), (150, 16), (128, 16), (100, 12), (20, 2), (16, 2), (15, 0), (1, 0)]
)
def test_a_table_is_self_conditioned_on_one_cluster_per_8_rows_up_to_16(rows: int, k: int) -> None:
    assert clusters_for_table(rows) == k


def test_the_clusters_give_way_to_the_user_and_to_table_models(table: str) -> None:
    """``--self-condition 0`` switches the default off, a given K wins, and a model that
    reads the file as a mixed-type table (``ctgan``) is not self-conditioned."""
    off = resolve(TrainConfig(dataset=table, self_condition=0))
    assert off.self_condition == 0 and off.model.conditional == "none"
    assert resolve(TrainConfig(dataset=table, self_condition=3)).model.num_classes == 3
    ctgan = resolve(TrainConfig(dataset=table, preset="ctgan"))
    assert ctgan.self_condition == 0 and ctgan.model.conditional == "none"
    assert resolve(TrainConfig(dataset="ring8")).self_condition == 0  # tuned data sets: off
    # a conditional model asked for keeps its own labels: the file has none
    with pytest.raises(ConfigError, match="has no labels"):
        resolve(TrainConfig(dataset=table, model={"conditional": "concat"}))
    with pytest.raises(ConfigError, match="needs a sequence dataset"):
        resolve(TrainConfig(dataset=table, model={"conditional": "prompt"}))
    # clusters asked for with a table model: one line naming the clash
    with pytest.raises(ConfigError, match="model 'ctgan' reads .* as a mixed-type table"):
        resolve(TrainConfig(dataset=table, preset="ctgan", self_condition=4))


def test_a_run_saved_before_self_conditioning_loads_unclustered(table: str) -> None:
    """A saved config without the option (older runs) resumes as it was trained."""
    assert TrainConfig.from_saved({"dataset": table}).self_condition == 0
    assert TrainConfig.from_saved({"dataset": table, "self_condition": 5}).self_condition == 5
    assert TrainConfig.from_dict({"dataset": table}).self_condition is None  # a new config


@pytest.mark.parametrize(
    ("rows", "columns", "gamma"),
    [
        (100, 4, 0.45),  # 4.5 * 100 ** -0.5
        (1000, 2, 0.01),  # 4.5 / 1000 = 0.0045, raised to the least γ 0.01
        (300, 2, 0.015),  # 4.5 / 300
        (1000, 3, 0.045),  # 4.5 * 1000 ** (-2 / 3) = 4.5 / 100
        (398, 30, 3.0),  # 4.5 * 398 ** (-1 / 15) = 3.02
        (5, 1, 0.18),  # 4.5 / 25
        (1, 7, 4.5),  # one row: the largest γ
    ],
)
def test_r1_follows_the_spacing_of_the_rows(rows: int, columns: int, gamma: float) -> None:
    """γ = 4.5 · rows^(-2/columns), at least 0.01, 2 significant digits: a small table in
    many columns keeps a strong penalty, thousands of 2-D points a weak one."""
    assert r1_for_table(rows, columns) == pytest.approx(gamma, rel=1e-12)


def test_the_table_shape_is_read_without_parsing_values(tmp_path: Path) -> None:
    headed = tmp_path / "headed.csv"
    headed.write_text("a,b,c\n1,2,3\n\n4,5,6\n7,8,9\n")
    bare = tmp_path / "bare.csv"
    bare.write_text("1,2\n3,4\n")
    arr = tmp_path / "arr.npy"
    np.save(arr, np.zeros((7, 5)))
    vec = tmp_path / "vec.npy"
    np.save(vec, np.zeros(9))
    assert table_shape(headed) == (3, 3) and table_shape(bare) == (2, 2)
    assert table_shape(arr) == (7, 5) and table_shape(vec) == (9, 1)
    assert table_shape(tmp_path / "missing.csv") is None
    np.save(tmp_path / "scalar.npy", np.float64(3.0))
    assert table_shape(tmp_path / "scalar.npy") is None
    headed.write_text("a,b,c\n1,2,3\n")  # a new version of the file is read again
    assert table_shape(headed) == (1, 3)
    (tmp_path / "empty.npy").write_bytes(b"")
    (tmp_path / "empty.csv").write_text("\n\n")
    assert (
        table_shape(tmp_path / "empty.npy") is None and table_shape(tmp_path / "empty.csv") is None
    )
    # a file whose shape cannot be read keeps the static defaults; training it then
    # raises the error that names the problem
    assert dataset_info(str(tmp_path / "missing.csv")).train_defaults == TABLE_TRAINING


def test_every_flag_the_user_gives_wins_over_the_table_defaults(table: str) -> None:
    given = {"steps": 50, "batch_size": 64, "lr_schedule": "cosine", "ema": 0.0, "r1_weight": 0}
    cfg = resolve(TrainConfig(dataset=table, lr_g=2e-4, betas=(0.0, 0.9), **given))
    assert (cfg.steps, cfg.batch_size, cfg.lr_schedule, cfg.ema) == (50, 64, "cosine", 0.0)
    assert (cfg.r1_weight, cfg.r1_every) == (0.0, 4)
    assert (cfg.lr_g, cfg.lr_d, cfg.betas) == (2e-4, 3e-3, (0.0, 0.9))
    cfg = resolve(TrainConfig(dataset=table), {"g_hidden": "64,64"})
    assert cfg.model.g_hidden == (64, 64) and cfg.model.d_hidden == (128, 128, 128)


@pytest.mark.parametrize("loss", ["wgan-gp", "hinge", "wasserstein"])
def test_another_loss_brings_its_own_learning_rates(table: str, loss: str) -> None:
    """The table's learning rates were tuned with the default loss; WGAN-GP keeps Adam
    1e-4 with betas (0, 0.9), WGAN RMSprop 5e-5, and so on. The schedule, steps, batch
    and EMA stay the table's."""
    from ganforge.losses import get_loss

    cfg = resolve(TrainConfig(dataset=table, loss=loss))
    want = get_loss(loss)
    assert (cfg.lr_g, cfg.lr_d, cfg.betas, cfg.n_critic) == (
        want.lr,
        want.lr,
        want.betas,
        want.n_critic,
    )
    assert (cfg.steps, cfg.batch_size, cfg.lr_schedule, cfg.ema) == (4000, 512, "linear", 0.999)


@pytest.mark.parametrize("dataset", ["ring8", "grid25", "disk", "gaussian1d"])
def test_named_datasets_keep_the_generic_defaults(dataset: str) -> None:
    cfg = resolve(TrainConfig(dataset=dataset))
    assert {name: getattr(cfg, name) for name in GENERIC_DEFAULTS} == {
        "self_condition": 0,
        "r1_weight": 0.0,
        "r1_every": 1,
        "mle_steps": 0,
        "mle_weight": 0.0,
        "lr_schedule": "constant",
        "steps": 3000,
        "batch_size": 256,
        "ema": 0.0,
    }
    assert (cfg.lr_g, cfg.lr_d, cfg.betas) == (2e-4, 2e-4, (0.5, 0.999))


def test_epochs_use_the_tables_batch_size(table: str) -> None:
    with pytest.raises(ConfigError, match="batch_size 512 is larger than the dataset"):
        resolve(TrainConfig(dataset=table, epochs=2))
    assert resolve(TrainConfig(dataset=table, epochs=2, batch_size=10)).steps == 2 * 4


def test_the_resolved_config_round_trips_with_every_default_filled(table: str) -> None:
    cfg = resolve(TrainConfig(dataset=table))
    again = resolve(TrainConfig.from_dict(cfg.to_dict()))
    assert again == cfg


def test_unset_options_are_none_until_resolved(table: str) -> None:
    raw = TrainConfig(dataset=table)
    assert all(getattr(raw, name) is None for name in GENERIC_DEFAULTS)
    with pytest.raises(ConfigError, match="batch_size"):
        TrainConfig(dataset=table, batch_size=0)


@pytest.fixture
def mixed(tmp_path: Path) -> str:
    path = tmp_path / "people.csv"
    path.write_text(
        "sex,age\n" + "\n".join(f"{'FM'[i % 2]},{20 + i % 50}" for i in range(40)) + "\n"
    )
    return str(path)


def test_a_mixed_table_with_no_flag_resolves_to_ctgans_training_recipe(mixed: str) -> None:
    """WGAN-GP with one critic step per generator step, Adam 2e-4 with betas (0.5, 0.9),
    batches of 512, 3,000 steps, the ``ctgan`` preset, samples from G's EMA (0.999); flags
    win; another loss brings its
    own learning rates and critic steps (they were tuned with WGAN-GP)."""
    from ganforge.data import MIXED_TABLE_TRAINING

    cfg = resolve(TrainConfig(dataset=mixed))
    assert (cfg.preset, cfg.loss, cfg.n_critic, cfg.gp_weight) == ("ctgan", "wgan-gp", 1, 10.0)
    assert (cfg.lr_g, cfg.lr_d, cfg.betas) == (2e-4, 2e-4, (0.5, 0.9))
    assert (cfg.steps, cfg.batch_size, cfg.ema) == (3000, 512, 0.999)
    assert dataset_info(mixed).train_defaults == MIXED_TABLE_TRAINING
    assert resolve(TrainConfig(dataset=mixed, ema=0.0)).ema == 0.0
    cfg = resolve(TrainConfig(dataset=mixed, n_critic=3, lr_d=1e-3, batch_size=64, steps=10))
    assert (cfg.n_critic, cfg.lr_d, cfg.lr_g, cfg.batch_size, cfg.steps) == (3, 1e-3, 2e-4, 64, 10)
    cfg = resolve(TrainConfig(dataset=mixed, loss="nonsaturating"))
    assert (cfg.n_critic, cfg.lr_g, cfg.lr_d, cfg.betas) == (1, 2e-4, 2e-4, (0.5, 0.999))
    cfg = resolve(TrainConfig(dataset=mixed, loss="wasserstein"))
    assert cfg.n_critic == 5 and cfg.batch_size == 512


def test_a_mixed_tables_steps_scale_with_its_rows(tmp_path: Path) -> None:
    """2.5 steps per training row (80% of the rows), between 3,000 and 6,000."""
    from ganforge.data import table_steps

    assert [table_steps(n) for n in (40, 1500, 2000, 3000, 100_000)] == [
        3000,
        3000,
        4000,
        6000,
        6000,
    ]
    path = tmp_path / "big.csv"
    path.write_text("g,x\n" + "\n".join(f"{'AB'[i % 2]},{i % 97}" for i in range(2000)) + "\n")
    assert resolve(TrainConfig(dataset=str(path))).steps == 4000
    assert resolve(TrainConfig(dataset=str(path), steps=50)).steps == 50
