"""Image folders: PNG/JPEG files under a folder (sub-folders are classes), decoded from
disk batch by batch."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ganforge.data.images import ImageDataset
from ganforge.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _open_rgb_or_l(path: Path, colour: bool) -> Any:
    """Open ``path`` as an 'RGB' (``colour``) or 'L' PIL image; transparency on white."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if im.mode == "P":
            im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        if im.mode in ("RGBA", "LA", "PA"):
            rgba = im.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            im = Image.alpha_composite(white, rgba)
        return im.convert("RGB" if colour else "L")


def fit_image(im: Any, size: int) -> np.ndarray:
    """Resize so the shorter side is ``size`` and centre-crop to ``size x size``;
    returns uint8 ``(C, size, size)``."""
    from PIL import Image, ImageOps

    out = ImageOps.fit(im, (size, size), method=Image.Resampling.BICUBIC, centering=(0.5, 0.5))
    arr = np.asarray(out, dtype=np.uint8)
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


_GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}


def scan_folder(root: str | os.PathLike[str]) -> tuple[list[Path], list[str] | None, bool, int]:
    """Image files under ``root`` (recursive, sorted), the class names (top-level
    sub-folders) when every image lies in one of at least two of them, whether any image
    has colour, and how many files were skipped (not images, or unreadable headers)."""
    from PIL import Image, UnidentifiedImageError

    root = Path(root)
    if not root.is_dir():
        raise DataError(f"image folder {str(root)!r} does not exist")
    files: list[Path] = []
    colour = False
    skipped = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix.lower() not in IMAGE_SUFFIXES or path.name.startswith("."):
            skipped += 1
            continue
        try:
            with Image.open(path) as im:
                mode = im.mode
                im.size  # noqa: B018 -- header parsed
        except (UnidentifiedImageError, OSError):
            skipped += 1
            continue
        colour = colour or mode not in _GREY_MODES
        files.append(path)
    if not files:
        raise DataError(
            f"image folder {str(root)!r} holds no readable PNG or JPEG images "
            f"({skipped} other files skipped)"
        )
    tops = [p.relative_to(root).parts for p in files]
    names = sorted({t[0] for t in tops if len(t) > 1})
    classes = names if len(names) >= 2 and all(len(t) > 1 for t in tops) else None
    return files, classes, colour, skipped


class FolderImageDataset(ImageDataset):
    """PNG/JPEG images under a folder (recursive), resized and centre-cropped to
    ``image_size``. Greyscale when every image is greyscale, else RGB (transparency is
    composited on white). Labels are the top-level sub-folder names when every image sits
    in one of at least two sub-folders. Images are decoded from disk batch by batch, so
    memory does not grow with the folder."""

    def __init__(self, root: str | os.PathLike[str], image_size: int = 64) -> None:
        self.root = Path(root)
        self.files, self.class_names, self.colour, self.skipped = scan_folder(self.root)
        self.name = self.root.name or str(self.root)
        self.image_size = int(image_size)
        self.shape = (3 if self.colour else 1, self.image_size, self.image_size)
        self.size = len(self.files)
        if self.class_names is not None:
            index = {c: i for i, c in enumerate(self.class_names)}
            self.labels = np.array(
                [index[p.relative_to(self.root).parts[0]] for p in self.files], dtype=np.int64
            )
            self.num_classes = len(self.class_names)
        else:
            self.labels = None
            self.num_classes = None
        super().__init__()

    def load(self, i: int) -> np.ndarray:
        path = self.files[int(i)]
        try:
            im = _open_rgb_or_l(path, self.colour)
        except (OSError, ValueError) as exc:
            raise DataError(f"image {str(path)!r} could not be decoded: {exc}") from None
        return fit_image(im, self.image_size)

    def _images(self, idx: np.ndarray) -> np.ndarray:
        return (
            np.stack([self.load(i) for i in idx])
            if len(idx)
            else np.zeros((0, *self.shape), np.uint8)
        )

    def _labels(self, idx: np.ndarray) -> np.ndarray | None:
        return None if self.labels is None else self.labels[idx]
