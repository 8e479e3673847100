"""Datasets by name (``register_dataset``) or by path (``.csv``/``.npy``)."""

from __future__ import annotations

from pathlib import Path

from ganforge.data.base import Dataset, DatasetInfo, decoder_from_codec
from ganforge.data.scaling import scale_for_output
from ganforge.errors import DataError
from ganforge.registry import Registry

DATASETS: Registry[DatasetInfo] = Registry("dataset", DatasetInfo)

TABLE_SUFFIXES = (".csv", ".npy")
TEXT_SUFFIXES = (".txt",)


def register_dataset(info: DatasetInfo) -> DatasetInfo:
    """Register a dataset; ``info.factory(config)`` must return a :class:`Dataset`."""
    return DATASETS.register(info.name, info)


def list_datasets() -> list[str]:
    return DATASETS.names()


def _table_info(path: str) -> DatasetInfo:
    from ganforge.data.tabular import TableDataset, table_training

    def factory(cfg):  # a model that shapes its heads to the columns reads them as a table
        if _wants_table(cfg):
            return _mixed_info(path).factory(cfg)
        return TableDataset(path)

    return DatasetInfo(
        name=path,
        factory=factory,
        description="numeric table",
        default_preset="mlp-tabular",
        eval_samples=2000,
        train_defaults=table_training(path),
    )


#: a mixed-type table's defaults: CTGAN's own training recipe (WGAN-GP with one critic
#: step per generator step, Adam 2e-4 with betas (0.5, 0.9)) with batches of 512 rows,
#: and samples from an EMA of G's weights (decay 0.999: fidelity 92.9 against 86.0 on the
#: procedural table, 84.0/83.6 and 85.0/84.6 on the other two, seed 0; a linear
#: learning-rate decay and 5 critic steps were tried and not kept); steps scale with the
#: table (:func:`table_steps`); measured on three tables in docs/BENCHMARKS.md (Tables)
MIXED_TABLE_TRAINING: dict[str, object] = {
    "steps": 3000,
    "batch_size": 512,
    "n_critic": 1,
    "lr_g": 2e-4,
    "lr_d": 2e-4,
    "betas": (0.5, 0.9),
    "ema": 0.999,
}


def table_steps(n_rows: int) -> int:
    """Default steps for a mixed-type table of ``n_rows`` data rows: 2.5 per training
    row (the rows less the held-out ones), at least 3,000 and at most 6,000, i.e. 3,000
    steps up to 1,500 rows, 6,000 from 3,000 rows (6,000 batches of 512 are 1,280 passes
    over 2,400 training rows)."""
    from ganforge.data.table.dataset import holdout_split

    train = len(holdout_split(n_rows)[0])
    return int(min(6000, max(3000, -(-5 * train // 2))))


def _mixed_info(path: str) -> DatasetInfo:
    from ganforge.data.table import TableData
    from ganforge.data.table.reader import read_csv_table

    n_rows = read_csv_table(path).n_rows
    return DatasetInfo(
        name=path,
        factory=lambda cfg: TableData(path, getattr(cfg, "columns", None)),
        description="mixed-type table",
        default_preset="ctgan",
        kind="table",
        eval_samples=2000,
        default_loss="wgan-gp",
        train_defaults=dict(MIXED_TABLE_TRAINING, steps=table_steps(n_rows)),
    )


def _wants_table(cfg) -> bool:
    """A column spec was given, or the model builds its heads from the table's layout."""
    if getattr(cfg, "columns", None) is not None:
        return True
    arch = getattr(getattr(cfg, "model", None), "arch", None)
    if arch is None:
        return False
    from ganforge.models.catalogue import MODELS

    return arch in MODELS and getattr(MODELS.get(arch), "takes_layout", False)


def _is_mixed_csv(path: str) -> bool:
    """A CSV with a cell that is not a number (text, a date, an empty or NA cell) is a
    mixed-type table; an all-numeric one keeps the numeric path (see
    :func:`ganforge.data.table.reader.csv_is_mixed`)."""
    from ganforge.data.table.reader import csv_is_mixed

    p = Path(path)
    return p.suffix.lower() == ".csv" and p.is_file() and csv_is_mixed(p)


def dataset_info(name: str, columns: str | None = None) -> DatasetInfo:
    """The registry entry for ``name``, or a table entry when ``name`` is a file path: a
    mixed-type table (kind ``table``) for a CSV with non-numeric or missing cells or when
    a column spec (``columns``) is given, else a numeric table."""
    if columns is not None:
        if Path(name).suffix.lower() != ".csv":
            raise DataError(f"--columns describes a .csv table; dataset {name!r} is not one")
        return _mixed_info(name)
    if name in DATASETS:
        return DATASETS.get(name)
    from ganforge.data.image_catalogue import image_path_info

    image_info = image_path_info(name)
    if image_info is not None:
        return image_info
    suffix = Path(name).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return _text_info(name)
    if suffix in TABLE_SUFFIXES or Path(name).exists():
        if suffix not in TABLE_SUFFIXES:
            raise DataError(f"data file {name!r} must end in .csv, .npy or .txt")
        return _mixed_info(name) if _is_mixed_csv(name) else _table_info(name)
    raise DataError(
        f"unknown dataset {name!r}; choose one of: {', '.join(list_datasets())}, "
        "or give a path to a .csv or .npy file, a .txt file of lines, an image folder, a "
        "folder of MNIST-format IDX files or a Keras-style .npz"
    )


#: a sequence dataset's defaults: the GRU generator warm-started by maximum likelihood
#: (95% of the steps), then trained against a WGAN-GP critic with its likelihood term kept
#: (mle_weight 1); see docs/BENCHMARKS.md "Sequences" for what each phase does
SEQUENCE_DEFAULTS = {
    "default_preset": "seq-gru",
    "kind": "sequence",
    "default_loss": "wgan-gp",
    "train_defaults": {
        "batch_size": 64,
        "steps": 3000,
        "mle_steps": 2850,
        "mle_weight": 1.0,
        "lr_schedule": "linear",
        "lr_g": 2e-3,
        "lr_d": 1e-3,
        "betas": (0.5, 0.999),
        "n_critic": 2,
    },
}


def _text_info(path: str) -> DatasetInfo:
    from ganforge.data.sequence import text_dataset

    return DatasetInfo(
        name=path,
        factory=lambda cfg: text_dataset(path, cfg),
        description="lines of text",
        eval_samples=2000,
        **SEQUENCE_DEFAULTS,
    )


def build_dataset(cfg) -> Dataset:
    """Build the dataset a resolved config names, in the model space its generator's
    output can cover: a bounded ``model.g_output`` (tanh, sigmoid) maps numeric data's
    range onto the output's range, anything else standardises (see
    :mod:`ganforge.data.scaling`). A config without a complete model standardises."""
    data = dataset_info(cfg.dataset, getattr(cfg, "columns", None)).factory(cfg)
    data = scale_for_output(data, getattr(getattr(cfg, "model", None), "g_output", None))
    if getattr(cfg, "self_condition", 0):  # clusters in the final model space
        from ganforge.data.clusters import self_condition

        data = self_condition(data, cfg.self_condition, seed=cfg.seed)
    return data


def _register_builtins() -> None:
    from ganforge.data import toy

    for info in (
        DatasetInfo(
            "gaussian1d",
            lambda c: toy.Gaussian1D(),
            "N(10, 1) in 1-D; noise N(0, 2)",
            "mlp1d",
            noise_std=2.0,
            eval_samples=10000,
        ),
        DatasetInfo("gaussian2d", lambda c: toy.Gaussian2D(), "N(0, 0.5² I) in 2-D", "toy2d"),
        DatasetInfo("disk", lambda c: toy.Disk(), "uniform in the unit disk", "toy2d"),
        DatasetInfo(
            "ring8",
            lambda c: toy.ring8(),
            "8 Gaussians on the unit circle, std 0.01",
            "toy2d",
            num_classes=8,
        ),
        DatasetInfo(
            "grid25",
            lambda c: toy.grid25(),
            "5x5 grid of Gaussians, std 0.05",
            "toy2d",
            num_classes=25,
        ),
    ):
        register_dataset(info)
    _register_images()
    _register_sequences()


def _register_sequences() -> None:
    from ganforge.data.base import register_codec_decoder
    from ganforge.data.sequence import SequenceDecoder, grammar_dataset

    for name, description in (
        ("arithmetic", "equations a+b=c, a-b=c, a*b=c with operands 0-99 (27,000 lines)"),
        ("expressions", "nested infix expressions over digits with their value (20,000 lines)"),
    ):
        register_dataset(
            DatasetInfo(
                name,
                lambda c, n=name: grammar_dataset(n, c),
                description,
                eval_samples=2000,
                **SEQUENCE_DEFAULTS,
            )
        )
    register_codec_decoder("sequence", SequenceDecoder)


def _register_images() -> None:
    from ganforge.data.base import register_codec_decoder
    from ganforge.data.image_catalogue import builtin_infos
    from ganforge.data.images import ImageDecoder
    from ganforge.data.table import TableDecoder

    for info in builtin_infos():
        register_dataset(info)
    register_codec_decoder("image", ImageDecoder)
    register_codec_decoder("table", TableDecoder)


_register_builtins()

__all__ = [
    "Dataset",
    "DatasetInfo",
    "build_dataset",
    "dataset_info",
    "decoder_from_codec",
    "list_datasets",
    "register_dataset",
]
