"""Reader for the IDX file format used by MNIST, Fashion-MNIST and their relatives.

An IDX file is a 4-byte magic number ``00 00 TT NN`` (``TT`` the element type code,
``NN`` the number of dimensions), ``NN`` big-endian uint32 sizes, then the payload in
big-endian row-major order. Files may be gzip-compressed (``.gz``).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from ganforge.errors import DataError

__all__ = [
    "DEFAULT_FASHION_MNIST_DIR",
    "IDX_DTYPES",
    "find_fashion_mnist",
    "find_mnist_format",
    "load_mnist_format",
    "read_idx",
    "write_idx",
]

#: Directory where Debian's ``dataset-fashion-mnist`` package installs its files.
DEFAULT_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

#: IDX type code -> big-endian numpy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_MAX_DIMS = 16
_MAX_BYTES = 1 << 34  # 16 GiB: anything larger is surely a corrupt header

_SPLIT_STEMS = {"train": "train", "test": "t10k"}


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"IDX file {str(path)!r} does not exist") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"IDX file {str(path)!r} could not be read: {exc}") from None


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (plain or ``.gz``) into a native-endian numpy array.

    Args:
        path: file path; a ``.gz`` suffix means gzip-compressed.

    Returns:
        Array of shape given by the header (e.g. ``(N, 28, 28)`` uint8 for images,
        ``(N,)`` uint8 for labels), in the header's element type, native byte order.

    Raises:
        ValueError: naming the file, if it is missing, unreadable, has a bad magic
            number, an unknown type code, a zero dimension count, or a payload whose
            length differs from the product of the dimensions.
    """
    path = Path(path)
    raw = _read_bytes(path)
    name = str(path)
    if len(raw) < 4:
        raise DataError(f"IDX file {name!r} is truncated: {len(raw)} bytes, no 4-byte magic")
    if raw[0] != 0 or raw[1] != 0:
        raise DataError(
            f"IDX file {name!r} has bad magic number 0x{raw[:4].hex()}: "
            "the first two bytes must be zero"
        )
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataError(f"IDX file {name!r} has unknown type code 0x{code:02X} (known: {known})")
    if ndim == 0 or ndim > _MAX_DIMS:
        raise DataError(f"IDX file {name!r} declares {ndim} dimensions (expected 1..{_MAX_DIMS})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(
            f"IDX file {name!r} is truncated in its header: {len(raw)} bytes, "
            f"need {header} for {ndim} dimensions"
        )
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.float64)) * dtype.itemsize
    if expected > _MAX_BYTES:
        raise DataError(f"IDX file {name!r} declares an implausible shape {dims}")
    actual = len(raw) - header
    if actual != expected:
        what = "truncated" if actual < expected else "longer than its header says"
        raise DataError(
            f"IDX file {name!r} is {what}: shape {dims} of {dtype.name} needs "
            f"{expected} payload bytes, found {actual}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write ``array`` as an IDX file (gzip-compressed if ``path`` ends in ``.gz``).

    Mostly useful for tests and for exporting data in MNIST format.
    """
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): c for c, dt in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise TypeError(f"dtype {array.dtype} has no IDX type code")
    code, dt = codes[native], IDX_DTYPES[codes[native]]
    if array.ndim == 0 or array.ndim > _MAX_DIMS:
        raise DataError(f"IDX arrays need 1..{_MAX_DIMS} dimensions, got {array.ndim}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=dt).tobytes()
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as fh:
        fh.write(payload)


def _candidates(stem: str, kind: str) -> list[str]:
    # kind: "images" (idx3) or "labels" (idx1); accept '-' or '.' before "idx".
    nd = "3" if kind == "images" else "1"
    bases = [f"{stem}-{kind}-idx{nd}-ubyte", f"{stem}-{kind}.idx{nd}-ubyte"]
    return [b + ext for b in bases for ext in ("", ".gz")]


def find_mnist_format(
    data_dir: str | os.PathLike[str], dataset: str = "MNIST-format"
) -> dict[str, Path]:
    """Locate the four MNIST-format files in ``data_dir``.

    Returns a dict with keys ``train_images``, ``train_labels``, ``test_images``,
    ``test_labels``. Names such as ``train-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte``, with or without ``.gz``, are accepted.

    Raises:
        ValueError: listing the missing files if any is not found.
    """
    root = Path(data_dir)
    found: dict[str, Path] = {}
    missing: list[str] = []
    for split, stem in _SPLIT_STEMS.items():
        for kind in ("images", "labels"):
            names = _candidates(stem, kind)
            hit = next((root / n for n in names if (root / n).is_file()), None)
            if hit is None:
                missing.append(f"{names[0]}[.gz]")
            else:
                found[f"{split}_{kind}"] = hit
    if missing:
        raise DataError(f"{dataset} files not found in {str(root)!r}: missing {', '.join(missing)}")
    return found


def find_fashion_mnist(data_dir: str | os.PathLike[str] | None = None) -> dict[str, Path]:
    """Locate the Fashion-MNIST IDX files.

    Args:
        data_dir: directory holding the files; default
            ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``).

    Returns:
        Dict with keys ``train_images``, ``train_labels``, ``test_images``, ``test_labels``.

    Raises:
        ValueError: if any file is missing, with how to install or point to them.
    """
    root = Path(data_dir) if data_dir is not None else DEFAULT_FASHION_MNIST_DIR
    try:
        return find_mnist_format(root, "Fashion-MNIST")
    except ValueError as exc:
        raise DataError(
            f"{exc}. Install them with `apt-get install dataset-fashion-mnist` "
            "or pass the directory holding them with --data-dir"
        ) from None


def load_mnist_format(
    data_dir: str | os.PathLike[str], split: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of an MNIST-format dataset.

    Args:
        data_dir: directory with the four IDX files (see :func:`find_mnist_format`).
        split: ``"train"`` or ``"test"``.

    Returns:
        ``(images, labels)``: images uint8 of shape (N, 28, 28) in [0, 255]; labels int64
        of shape (N,).

    Raises:
        ValueError: unknown split, missing files, corrupt files, or images and labels
            whose counts or shapes disagree.
    """
    if split not in _SPLIT_STEMS:
        raise DataError(f"split must be one of {sorted(_SPLIT_STEMS)}, got {split!r}")
    paths = find_mnist_format(data_dir)
    images = read_idx(paths[f"{split}_images"])
    labels = read_idx(paths[f"{split}_labels"])
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(
            f"{str(paths[f'{split}_images'])!r} must hold uint8 images (N, H, W), "
            f"got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1:
        raise DataError(
            f"{str(paths[f'{split}_labels'])!r} must hold labels (N,), got shape {labels.shape}"
        )
    if len(images) != len(labels):
        raise DataError(
            f"{split} split of {str(data_dir)!r} has {len(images)} images but {len(labels)} labels"
        )
    return images, labels.astype(np.int64)
