"""Image folders: PNG/JPEG files under a folder (sub-folders are classes), decoded by a
pool of threads and, when the decoded folder fits under a memory cap, kept in memory.

Decoding (PIL) releases the interpreter lock for most of its work, so threads decode in
parallel with each other and with the training step. A folder that fits is decoded once:
a background thread fills the cache in file order from the first batch on, and a batch
decodes only the images not cached yet. A larger folder is decoded batch by batch, by the
same pool. What a batch holds never depends on who decoded it, so runs stay reproducible
and resumes exact.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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


#: default memory cap of a folder's decoded-image cache, in MiB
CACHE_MB = 2048
#: default number of decoding threads (at most the machine's cores)
WORKERS = 4


def default_workers() -> int:
    return max(1, min(WORKERS, os.cpu_count() or 1))


class DecodedImages:
    """Decoded images by index: ``get(idx) -> uint8 (len(idx), *shape)``.

    ``load(i)`` decodes image ``i``; ``workers`` threads decode in parallel. When
    ``count`` images of ``shape`` fit in ``cache_bytes`` they are kept in one uint8 array
    that a background thread fills in index order once :meth:`get` is first called
    (``warm=False`` leaves it to the batches); otherwise every call decodes.
    """

    def __init__(
        self,
        load: Callable[[int], np.ndarray],
        count: int,
        shape: tuple[int, ...],
        cache_bytes: int,
        workers: int,
        warm: bool = True,
    ) -> None:
        self.load, self.count, self.shape = load, int(count), tuple(shape)
        self.workers, self.warm = max(1, int(workers)), warm
        fits = self.count * int(np.prod(self.shape)) <= cache_bytes
        # np.empty reserves the memory; pages are touched only as images arrive
        self.cache = np.empty((self.count, *self.shape), np.uint8) if fits else None
        self.ready = np.zeros(self.count, dtype=bool)
        self._pool: ThreadPoolExecutor | None = None
        self._warmer: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def cached(self) -> bool:
        return self.cache is not None

    def _decode(self, idx: np.ndarray) -> list[np.ndarray]:
        if self.workers == 1 or len(idx) < 2:
            return [self.load(int(i)) for i in idx]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="ganforge-decode")
            weakref.finalize(self, self._pool.shutdown, wait=False, cancel_futures=True)
        return list(self._pool.map(self.load, (int(i) for i in idx)))

    def get(self, idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.int64)
        if self.cache is None:
            return np.stack(self._decode(idx)) if len(idx) else np.zeros((0, *self.shape), np.uint8)
        missing = np.unique(idx[~self.ready[idx]])
        for i, image in zip(missing, self._decode(missing), strict=True):
            self._store(int(i), image)
        if self.warm and self._warmer is None:  # after this batch: no image decoded twice
            self._start_warming()
        return self.cache[idx]

    def _store(self, i: int, image: np.ndarray) -> None:
        self.cache[i] = image
        self.ready[i] = True  # set after the write: a reader that sees it sees the image

    def _start_warming(self) -> None:
        stop, ref = self._stop, weakref.ref(self)
        self._warmer = threading.Thread(
            target=_warm, args=(ref, stop), name="ganforge-image-cache", daemon=True
        )
        weakref.finalize(self, stop.set)
        self._warmer.start()

    def wait_warm(self, timeout: float | None = None) -> bool:
        """Block until the background fill ends; True when every image is cached."""
        if self._warmer is not None:
            self._warmer.join(timeout)
        return bool(self.ready.all())


def _warm(ref: Callable[[], DecodedImages | None], stop: threading.Event, chunk: int = 64) -> None:
    """Fill the cache in index order, ``chunk`` images at a time, until it is full, the
    owner is gone, or an image fails (the batch that needs it reports the error). The
    thread decodes alone, at the lowest scheduling priority where the system allows it,
    so the fill takes idle CPU time rather than the training step's."""
    _lower_own_priority()
    start = 0
    while not stop.is_set():
        owner = ref()
        if owner is None or start >= owner.count:
            return
        idx = np.arange(start, min(start + chunk, owner.count))
        idx = idx[~owner.ready[idx]]
        try:
            images = [owner.load(int(i)) for i in idx]
        except Exception:  # noqa: BLE001 -- left to the batch that asks for the image
            return
        for i, image in zip(idx, images, strict=True):
            owner._store(int(i), image)
        start += chunk
        del owner


def _lower_own_priority() -> None:
    """Nice the calling thread to 19 (Linux schedules threads by their own nice value);
    elsewhere, or without permission, leave it as it is."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


class FolderImageDataset(ImageDataset):
    """PNG/JPEG images under a folder (recursive), resized and centre-cropped to
    ``image_size``. Greyscale when every image is greyscale, else RGB (transparency is
    composited on white). Labels are the top-level sub-folder names when every image sits
    in one of at least two sub-folders. ``workers`` threads decode; a folder whose decoded
    images fit in ``cache_mb`` MiB is decoded once and kept in memory (0: decode every
    batch), a larger one is decoded batch by batch (see the module docstring)."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        image_size: int = 64,
        *,
        workers: int | None = None,
        cache_mb: float = CACHE_MB,
    ) -> None:
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
        self.decoded = DecodedImages(
            self.load,
            self.size,
            self.shape,
            cache_bytes=int(cache_mb * 2**20),
            workers=default_workers() if workers is None else workers,
        )

    def load(self, i: int) -> np.ndarray:
        path = self.files[int(i)]
        try:
            im = _open_rgb_or_l(path, self.colour)
        except (OSError, ValueError) as exc:
            raise DataError(f"image {str(path)!r} could not be decoded: {exc}") from None
        return fit_image(im, self.image_size)

    def _images(self, idx: np.ndarray) -> np.ndarray:
        return self.decoded.get(idx)

    def _labels(self, idx: np.ndarray) -> np.ndarray | None:
        return None if self.labels is None else self.labels[idx]
