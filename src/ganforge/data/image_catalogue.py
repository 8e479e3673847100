"""The image catalogue: the named image datasets (``mnist``, ``fashion-mnist``,
``digits``, ``shapes``, ``stacked``, ``folder``), their factories and defaults, and the
registry entry for an image dataset given by path."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ganforge.data import mnist
from ganforge.data.base import DatasetInfo
from ganforge.data.idx import find_fashion_mnist, find_mnist_format
from ganforge.data.image_folder import CACHE_MB, FolderImageDataset, scan_folder
from ganforge.data.images import ArrayImageDataset, StackedDataset, resize_images
from ganforge.data.shapes import ShapesDataset
from ganforge.errors import ConfigError, DataError


def _size(cfg: Any, default: int | None) -> int | None:
    size = getattr(cfg, "image_size", None)
    return default if size is None else int(size)


def _test_split(path: str | os.PathLike[str], size: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The test split of MNIST-format files, uint8 ``(N, 1, H, W)`` resized like the
    training split, and its labels."""
    images, labels = mnist.load_mnist_like(path, "test")
    images = images[:, None]
    return (resize_images(images, size) if size else images), labels


def mnist_like_dataset(
    name: str, path: str | os.PathLike[str], cfg: Any = None
) -> ArrayImageDataset:
    images, labels = mnist.load_mnist_like(path, "train")
    size = _size(cfg, None)
    ds = ArrayImageDataset(name, images, labels, 10 if labels.max() < 10 else None, image_size=size)
    ds.test_split = partial(_test_split, path, size)
    return ds


def mnist_dataset(cfg: Any) -> ArrayImageDataset:
    """MNIST from ``cfg.data_dir`` (IDX files or ``mnist.npz``), else downloaded to the
    cache on first use. No shipped extractor was trained on digits: evaluations use a
    classifier trained on this training split (``extractor = "train"``), which also
    reads the labels of a conditional run's samples."""
    data_dir = getattr(cfg, "data_dir", None)
    root = Path(data_dir) if data_dir else mnist.download_mnist()
    ds = mnist_like_dataset("mnist", root, cfg)
    ds.extractor = "train"
    ds.label_classifier = "train"
    return ds


def fashion_mnist_dataset(cfg: Any) -> ArrayImageDataset:
    root = find_fashion_mnist(getattr(cfg, "data_dir", None))["train_images"].parent
    ds = mnist_like_dataset("fashion-mnist", root, cfg)
    ds.class_names = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
    ds.label_classifier = "fashion-cnn"  # trained on these ten classes
    return ds


def digits_dataset(cfg: Any) -> ArrayImageDataset:
    """scikit-learn's 1,797 bundled 8x8 digits (values 0..16 -> 0..255), upscaled
    bilinearly to ``image_size`` (default 28); labels 0-9."""
    from PIL import Image
    from sklearn.datasets import load_digits

    d = load_digits()
    raw = np.clip(np.round(d.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)  # (N, 8, 8)
    size = _size(cfg, 28)
    if size != 8:
        raw = np.stack(
            [
                np.asarray(Image.fromarray(im, "L").resize((size, size), Image.Resampling.BILINEAR))
                for im in raw
            ]
        )
    return ArrayImageDataset("digits", raw, d.target, 10, [str(i) for i in range(10)])


def stacked_dataset(cfg: Any) -> StackedDataset:
    """Stacked MNIST-format digits from ``cfg.data_dir`` (default: Fashion-MNIST)."""
    data_dir = getattr(cfg, "data_dir", None)
    root = Path(data_dir) if data_dir else find_fashion_mnist()["train_images"].parent
    images, labels = mnist.load_mnist_like(root, "train")
    return StackedDataset(images, labels, image_size=_size(cfg, None))


def folder_dataset(cfg: Any, path: str | None = None) -> FolderImageDataset:
    root = path or getattr(cfg, "data_dir", None)
    if not root:
        raise ConfigError("dataset 'folder' needs the image folder: pass --data-dir DIR")
    return FolderImageDataset(
        root,
        _size(cfg, 64),
        workers=getattr(cfg, "workers", None),
        cache_mb=getattr(cfg, "image_cache_mb", CACHE_MB),
    )


def _looks_mnist_format(path: Path) -> bool:
    try:
        find_mnist_format(path)
        return True
    except ValueError:
        return (path / "mnist.npz").is_file()


def _info(
    name: str,
    factory: Any,
    description: str,
    preset: str,
    eval_samples: int,
    num_classes: int | None = None,
) -> DatasetInfo:
    return DatasetInfo(
        name,
        factory,
        description,
        preset,
        kind="image",
        eval_samples=eval_samples,
        num_classes=num_classes,
    )


def image_path_info(name: str) -> DatasetInfo | None:
    """A registry entry for a path: a Keras ``.npz``, a folder of MNIST-format IDX files,
    or an image folder; ``None`` when ``name`` is none of these."""
    path = Path(name)
    if path.suffix.lower() == ".npz":
        if not path.is_file():
            raise DataError(f"data file {name!r} does not exist")
        load = partial(mnist_like_dataset, path.stem, path)
        return _info(name, load, "Keras-style .npz of images", "dcgan", 10000, 10)
    if not path.is_dir():
        return None
    if _looks_mnist_format(path):
        load = partial(mnist_like_dataset, path.name, path)
        return _info(name, load, "MNIST-format IDX folder", "dcgan", 10000, 10)
    _, classes, _, _ = scan_folder(path)
    load = partial(folder_dataset, path=name)
    return _info(name, load, "image folder", "dcgan64", 5000, len(classes) if classes else None)


def builtin_infos() -> list[DatasetInfo]:
    """The named image datasets: (name, factory, description, preset, evaluation
    samples, classes)."""
    return [
        _info(
            "mnist",
            mnist_dataset,
            "MNIST digits 28x28 (downloaded and checksummed, or --data-dir)",
            "dcgan",
            10000,
            10,
        ),
        _info(
            "fashion-mnist",
            fashion_mnist_dataset,
            "Fashion-MNIST 28x28 (Debian dataset-fashion-mnist or --data-dir)",
            "dcgan",
            10000,
            10,
        ),
        _info(
            "digits",
            digits_dataset,
            "scikit-learn 8x8 digits upscaled to 28x28 (--image-size)",
            "dcgan",
            1797,
            10,
        ),
        _info(
            "shapes",
            lambda c: ShapesDataset(_size(c, 64)),
            "procedural 64x64 RGB circles/squares/triangles",
            "dcgan64",
            5000,
            3,
        ),
        _info(
            "stacked",
            stacked_dataset,
            "three MNIST-format images as RGB channels, 1000 modes (Fashion-MNIST or --data-dir)",
            "dcgan",
            26000,
            1000,
        ),
        _info(
            "folder",
            folder_dataset,
            "PNG/JPEG images under --data-dir, class = sub-folder (--image-size, default 64)",
            "dcgan64",
            5000,
        ),
    ]
