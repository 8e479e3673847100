"""Datasets by name (``register_dataset``) or by path (``.csv``/``.npy``)."""

from __future__ import annotations

from pathlib import Path

from ganforge.data.base import Dataset, DatasetInfo, decoder_from_codec
from ganforge.data.scaling import scale_for_output
from ganforge.errors import DataError
from ganforge.registry import Registry

DATASETS: Registry[DatasetInfo] = Registry("dataset", DatasetInfo)

TABLE_SUFFIXES = (".csv", ".npy")


def register_dataset(info: DatasetInfo) -> DatasetInfo:
    """Register a dataset; ``info.factory(config)`` must return a :class:`Dataset`."""
    return DATASETS.register(info.name, info)


def list_datasets() -> list[str]:
    return DATASETS.names()


def _table_info(path: str) -> DatasetInfo:
    from ganforge.data.tabular import TABLE_TRAINING, TableDataset

    return DatasetInfo(
        name=path,
        factory=lambda cfg: TableDataset(path),
        description="numeric table",
        default_preset="mlp-tabular",
        eval_samples=2000,
        train_defaults=dict(TABLE_TRAINING),
    )


def dataset_info(name: str) -> DatasetInfo:
    """The registry entry for ``name``, or a table entry when ``name`` is a file path."""
    if name in DATASETS:
        return DATASETS.get(name)
    from ganforge.data.image_catalogue import image_path_info

    image_info = image_path_info(name)
    if image_info is not None:
        return image_info
    if Path(name).suffix.lower() in TABLE_SUFFIXES or Path(name).exists():
        if Path(name).suffix.lower() not in TABLE_SUFFIXES:
            raise DataError(f"data file {name!r} must end in .csv or .npy")
        return _table_info(name)
    raise DataError(
        f"unknown dataset {name!r}; choose one of: {', '.join(list_datasets())}, "
        "or give a path to a .csv or .npy file, an image folder, a folder of MNIST-format "
        "IDX files or a Keras-style .npz"
    )


def build_dataset(cfg) -> Dataset:
    """Build the dataset a resolved config names, in the model space its generator's
    output can cover: a bounded ``model.g_output`` (tanh, sigmoid) maps numeric data's
    range onto the output's range, anything else standardises (see
    :mod:`ganforge.data.scaling`). A config without a complete model standardises."""
    data = dataset_info(cfg.dataset).factory(cfg)
    return scale_for_output(data, getattr(getattr(cfg, "model", None), "g_output", None))


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


def _register_images() -> None:
    from ganforge.data.base import register_codec_decoder
    from ganforge.data.image_catalogue import builtin_infos
    from ganforge.data.images import ImageDecoder

    for info in builtin_infos():
        register_dataset(info)
    register_codec_decoder("image", ImageDecoder)


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
