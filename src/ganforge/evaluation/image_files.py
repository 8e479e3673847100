"""Image sets given by path for evaluation: a folder of PNG/JPEG files, an ``.npz`` of
images, or an ``.npz`` of saved feature statistics."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ganforge.errors import DataError
from ganforge.pixels import to_uint8


def load_image_source(path: str | os.PathLike[str], image_size: int | None = None) -> np.ndarray:
    """Images to evaluate, as uint8 ``(N, C, H, W)``: a folder of PNG/JPEG files
    (recursive; resized and centre-cropped to ``image_size``, default the first image's
    height) or an ``.npz`` (key ``images``, else its only array; uint8 or floats in
    [-1, 1]; ``(N, H, W)`` or ``(N, C, H, W)``)."""
    from PIL import Image

    from ganforge.data.image_folder import FolderImageDataset, scan_folder

    path = Path(path)
    if path.is_dir():
        if image_size is None:
            files = scan_folder(path)[0]
            if not files:
                raise DataError(f"{path}: no PNG or JPEG images in this folder")
            with Image.open(files[0]) as im:
                image_size = im.size[1]
        folder = FolderImageDataset(path, image_size=image_size)
        if folder.size == 0:
            raise DataError(f"{path}: no PNG or JPEG images in this folder")
        return np.stack([folder.load(i) for i in range(folder.size)])
    if path.suffix.lower() != ".npz":
        raise DataError(f"{path}: expected a folder of images or an .npz file")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = data.files
            if "images" in keys:
                arr = data["images"]
            elif len(keys) == 1:
                arr = data[keys[0]]
            else:
                raise DataError(f"{path}: no 'images' array (keys: {', '.join(keys)})")
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npz of images ({exc})") from None
    if arr.ndim == 3:
        arr = arr[:, None]
    if arr.ndim != 4 or arr.shape[1] not in (1, 3):
        raise DataError(f"{path}: images must be (N, H, W) or (N, C, H, W), got {arr.shape}")
    if arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.floating):
            raise DataError(f"{path}: images must be uint8 or float, got {arr.dtype}")
        if arr.size and (arr.min() < -1.0 - 1e-6 or arr.max() > 1.0 + 1e-6):
            raise DataError(f"{path}: float images must lie in [-1, 1]")
        arr = to_uint8(arr)
    return arr


def is_stats_file(path: str | os.PathLike[str]) -> bool:
    """True for an ``.npz`` of feature statistics (``mu`` and ``sigma`` arrays)."""
    path = Path(path)
    if path.suffix.lower() != ".npz" or not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as data:
            return "mu" in data.files and "sigma" in data.files
    except (OSError, ValueError):
        return False
