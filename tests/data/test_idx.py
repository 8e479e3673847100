"""IDX reader on generated files, including truncated and corrupt ones."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from ganforge.data.idx import (
    DEFAULT_FASHION_MNIST_DIR,
    find_fashion_mnist,
    load_mnist_format,
    read_idx,
    write_idx,
)


def idx_bytes(code: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    """An IDX file built by hand (independent of write_idx)."""
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload


def test_reads_hand_made_uint8_file(tmp_path: Path) -> None:
    data = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(idx_bytes(0x08, (2, 3, 4), data.tobytes()))
    out = read_idx(path)
    assert out.dtype == np.uint8 and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, data)


def test_reads_big_endian_types_and_gzip(tmp_path: Path) -> None:
    values = np.array([1.5, -2.25, 3.0], dtype=">f4")
    path = tmp_path / "f.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(idx_bytes(0x0D, (3,), values.tobytes()))
    out = read_idx(path)
    assert out.dtype == np.float32 and out.dtype.isnative
    np.testing.assert_array_equal(out, [1.5, -2.25, 3.0])
    ints = np.array([[1, -2], [70000, 4]], dtype=">i4")
    (tmp_path / "i").write_bytes(idx_bytes(0x0C, (2, 2), ints.tobytes()))
    np.testing.assert_array_equal(read_idx(tmp_path / "i"), ints)


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_write_read_round_trip(tmp_path: Path, suffix: str, dtype: type) -> None:
    data = (np.arange(30) - 10).astype(dtype).reshape(5, 6)
    path = tmp_path / f"a{suffix}"
    write_idx(path, data)
    np.testing.assert_array_equal(read_idx(path), data)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "truncated"),
        (b"\x00\x00", "truncated"),
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "magic"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "type code 0x07"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "header"),
        (idx_bytes(0x08, (2, 3), b"\x00" * 5), "truncated"),
        (idx_bytes(0x08, (2, 3), b"\x00" * 7), "longer"),
        (idx_bytes(0x0B, (3,), b"\x00" * 3), "needs 6 payload bytes, found 3"),
    ],
)
def test_corrupt_files_raise_naming_file(tmp_path: Path, raw: bytes, message: str) -> None:
    path = tmp_path / "broken-idx"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert "broken-idx" in str(info.value)


def test_truncated_and_corrupt_gzip(tmp_path: Path) -> None:
    full = gzip.compress(idx_bytes(0x08, (100,), bytes(range(100))))
    cut = tmp_path / "cut.gz"
    cut.write_bytes(full[: len(full) // 2])
    with pytest.raises(ValueError, match="cut.gz"):
        read_idx(cut)
    junk = tmp_path / "junk.gz"
    junk.write_bytes(b"definitely not gzip")
    with pytest.raises(ValueError, match="junk.gz"):
        read_idx(junk)
    with pytest.raises(ValueError, match="does not exist"):
        read_idx(tmp_path / "nope")


def make_dataset(root: Path, n_train: int = 6, n_test: int = 4, gz: bool = True) -> None:
    rng = np.random.default_rng(0)
    ext = ".gz" if gz else ""
    for stem, n in (("train", n_train), ("t10k", n_test)):
        write_idx(
            root / f"{stem}-images-idx3-ubyte{ext}", rng.integers(0, 256, (n, 28, 28), np.uint8)
        )
        write_idx(root / f"{stem}-labels-idx1-ubyte", rng.integers(0, 10, n).astype(np.uint8))


def test_find_and_load_mnist_format(tmp_path: Path) -> None:
    make_dataset(tmp_path)
    paths = find_fashion_mnist(tmp_path)
    assert set(paths) == {"train_images", "train_labels", "test_images", "test_labels"}
    assert paths["test_images"].name == "t10k-images-idx3-ubyte.gz"
    images, labels = load_mnist_format(tmp_path, "test")
    assert images.shape == (4, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (4,) and labels.dtype == np.int64
    with pytest.raises(ValueError, match="split"):
        load_mnist_format(tmp_path, "valid")


def test_missing_files_message(tmp_path: Path) -> None:
    make_dataset(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(ValueError) as info:
        find_fashion_mnist(tmp_path)
    msg = str(info.value)
    assert "t10k-labels-idx1-ubyte" in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "--data-dir" in msg


def test_count_mismatch(tmp_path: Path) -> None:
    make_dataset(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match="6 images but 5 labels"):
        load_mnist_format(tmp_path, "train")


@pytest.mark.skipif(
    not DEFAULT_FASHION_MNIST_DIR.is_dir(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
)
def test_real_fashion_mnist_files() -> None:
    images, labels = load_mnist_format(DEFAULT_FASHION_MNIST_DIR, "test")
    assert images.shape == (10_000, 28, 28)
    assert np.bincount(labels).tolist() == [1000] * 10
