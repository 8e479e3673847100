"""Bad input to the data and evaluation code raises the project's own errors (still
ValueErrors), naming the bad value."""

from __future__ import annotations

import numpy as np
import pytest

from ganforge.config import TrainConfig
from ganforge.data import build_dataset, dataset_info
from ganforge.data.mnist import load_keras_npz
from ganforge.errors import ConfigError, DataError
from ganforge.evaluation.image import evaluate_images
from ganforge.evaluation.image_files import load_image_source
from ganforge.evaluation.references import load_reference_images


def test_data_errors_name_the_file(tmp_path) -> None:
    with pytest.raises(DataError, match="missing.npz"):
        load_image_source(tmp_path / "missing.npz")
    np.savez(tmp_path / "floats.npz", images=np.full((2, 1, 4, 4), 3.0))
    with pytest.raises(DataError, match=r"\[-1, 1\]"):
        load_image_source(tmp_path / "floats.npz")
    with pytest.raises(DataError, match="does not exist"):
        load_keras_npz(tmp_path / "nope.npz")
    with pytest.raises(DataError, match="does not exist"):
        dataset_info(str(tmp_path / "nope.npz"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no readable PNG"):
        build_dataset(TrainConfig(dataset="folder", data_dir=str(empty)))


def test_config_errors_name_the_option() -> None:
    with pytest.raises(ConfigError, match="--data-dir"):
        build_dataset(TrainConfig(dataset="folder"))
    with pytest.raises(ConfigError, match="n must be"):
        evaluate_images(
            np.zeros((4, 1, 8, 8), np.uint8), np.zeros((4, 1, 8, 8), np.uint8), "pixels", n=1
        )
    with pytest.raises(ConfigError, match="unknown reference dataset 'cifar'"):
        load_reference_images("cifar", "test")
