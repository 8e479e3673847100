"""MNIST-format files: the published MNIST download (mirrors, SHA-256 checked, resumed),
Keras' ``mnist.npz`` and the one loader for a folder of IDX files or an ``.npz``.

The IDX format itself is read by :mod:`ganforge.data.idx`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ganforge.data.idx import load_mnist_format
from ganforge.errors import ConfigError, DataError
from ganforge.files import DownloadError, cache_dir, download_file

MNIST_FILES: dict[str, tuple[str, int]] = {
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        9912422,
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        28881,
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        1648877,
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        4542,
    ),
}
#: Public mirrors of the MNIST files, tried in turn.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
MNIST_URL_ENV = "GANFORGE_MNIST_URL"


def download_mnist(
    dest: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    checksums: dict[str, str] | None = None,
    retries: int = 3,
    timeout: float = 30.0,
    backoff: float = 1.0,
) -> Path:
    """Make sure the four MNIST gzip files are in ``dest`` (default ``CACHE/mnist``).

    Files already there are kept (they were checksummed when downloaded). Missing ones
    come from ``base_url`` (default ``$GANFORGE_MNIST_URL``, else the public mirrors in
    turn). ``checksums`` maps file names to SHA-256 digests (default: the published ones).

    Raises:
        ValueError: one line naming the file, the cause and the ``--data-dir`` way out.
    """
    dest = Path(dest) if dest is not None else cache_dir() / "mnist"
    base = base_url or os.environ.get(MNIST_URL_ENV)
    bases = [base] if base else list(MNIST_MIRRORS)
    sums = checksums or {name: digest for name, (digest, _) in MNIST_FILES.items()}
    for name in MNIST_FILES:
        target = dest / name
        if target.is_file():
            continue
        errors = []
        for b in bases:
            url = b.rstrip("/") + "/" + name
            try:
                download_file(url, target, sums[name], retries, timeout, backoff)
                break
            except DownloadError as exc:
                errors.append(f"{url}: {exc}")
        else:
            raise DataError(
                f"could not download MNIST file {name} ({'; '.join(errors)}); check the "
                f"network, or put the four MNIST files (IDX, optionally .gz) or a Keras "
                f"mnist.npz in a folder and pass it with --data-dir"
            )
    return dest


def load_keras_npz(
    path: str | os.PathLike[str], split: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 (N, H, W), labels int64 (N,))`` from a Keras ``mnist.npz``
    (keys ``x_train``, ``y_train``, ``x_test``, ``y_test``; loaded without pickle)."""
    path = Path(path)
    key = {"train": "train", "test": "test"}.get(split)
    if key is None:
        raise ConfigError(f"split must be 'train' or 'test', got {split!r}")
    try:
        with np.load(path, allow_pickle=False) as f:
            names = list(f.files)
            found = f"x_{key}" in names and f"y_{key}" in names
            if found:
                x, y = f[f"x_{key}"], f[f"y_{key}"]
    except FileNotFoundError:
        raise DataError(f"file {str(path)!r} does not exist") from None
    except (OSError, EOFError, ValueError) as exc:
        raise DataError(f"{str(path)!r} is not a readable .npz of arrays: {exc}") from None
    if not found:
        raise DataError(f"{str(path)!r} has no x_{key}/y_{key} arrays (found {', '.join(names)})")
    if x.ndim != 3 or x.dtype != np.uint8 or y.shape != (len(x),):
        raise DataError(
            f"{str(path)!r} must hold uint8 images (N, H, W) and labels (N,), got "
            f"x_{key} {x.dtype} {x.shape} and y_{key} {y.shape}"
        )
    return x, y.astype(np.int64)


def load_mnist_like(
    path: str | os.PathLike[str], split: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, H, W) uint8 and labels from an IDX folder, a ``.npz`` file or a folder
    holding ``mnist.npz``."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        return load_keras_npz(path, split)
    if not path.is_dir():
        raise DataError(f"data folder {str(path)!r} does not exist")
    if (path / "mnist.npz").is_file():
        try:
            return load_mnist_format(path, split)
        except ValueError:
            return load_keras_npz(path / "mnist.npz", split)
    return load_mnist_format(path, split)
