"""Pictures of image samples: grids (PNG), training-progress animations (GIF) and sample
export (a grid, an ``.npz`` or a folder of PNGs).

Images are uint8 ``(N, C, H, W)`` with ``C`` 1 or 3 (``(N, H, W)`` is read as greyscale),
the native form of image datasets. Every file is written atomically.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ganforge.errors import ConfigError, DataError
from ganforge.io import atomic_path


def _as_nchw(images: Any) -> np.ndarray:
    x = np.asarray(images)
    if x.dtype != np.uint8:
        raise TypeError(f"images must be uint8 in [0, 255], got {x.dtype}")
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3) or len(x) == 0:
        raise ValueError(f"images must be (N, C, H, W) with C 1 or 3, got shape {x.shape}")
    return x


def make_grid(
    images: Any, nrow: int | None = None, padding: int = 2, pad_value: int = 0, scale: int = 1
) -> np.ndarray:
    """Tile ``N`` images into one uint8 ``(rows*(H+p)+p, cols*(W+p)+p, C)`` array.

    ``nrow`` is the number of images per row (default ``ceil(sqrt(N))``); ``scale``
    enlarges each pixel to ``scale x scale`` (nearest) so small images stay visible.
    """
    x = _as_nchw(images)
    if scale > 1:
        x = x.repeat(scale, axis=2).repeat(scale, axis=3)
    n, c, h, w = x.shape
    cols = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.full(
        (rows * (h + padding) + padding, cols * (w + padding) + padding, c),
        pad_value,
        dtype=np.uint8,
    )
    for i in range(n):
        r, k = divmod(i, cols)
        top, left = padding + r * (h + padding), padding + k * (w + padding)
        grid[top : top + h, left : left + w] = x[i].transpose(1, 2, 0)
    return grid


def _pil(array: np.ndarray) -> Any:
    from PIL import Image

    return Image.fromarray(
        array[..., 0] if array.shape[-1] == 1 else array, "L" if array.shape[-1] == 1 else "RGB"
    )


def _auto_scale(h: int) -> int:
    return max(1, 48 // h)  # 28 px -> x1, 8 px -> x6


def preview_grid(images: Any, nrow: int | None = None) -> np.ndarray:
    """The grid :func:`save_grid` writes: small images enlarged to about 48 px."""
    x = _as_nchw(images)
    return make_grid(x, nrow, scale=_auto_scale(x.shape[2]))


def save_grid(
    images: Any, path: str | os.PathLike[str], nrow: int | None = None, scale: int | None = None
) -> Path:
    """Write a PNG grid of uint8 images (atomically) and return its path."""
    grid = preview_grid(images, nrow) if scale is None else make_grid(images, nrow, scale=scale)
    path = Path(path)
    with atomic_path(path) as tmp:
        _pil(grid).save(tmp, format="PNG")
    return path


def save_images(
    images: Any, folder: str | os.PathLike[str], labels: np.ndarray | None = None
) -> list[Path]:
    """One PNG per image in ``folder``: ``000000.png`` or ``000000_label3.png``."""
    x = _as_nchw(images)
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{str(folder)!r} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    width = max(6, len(str(len(x) - 1)))
    out = []
    for i, img in enumerate(x):
        tag = "" if labels is None else f"_label{int(labels[i])}"
        path = folder / f"{i:0{width}d}{tag}.png"
        with atomic_path(path) as tmp:
            _pil(img.transpose(1, 2, 0)).save(tmp, format="PNG")
        out.append(path)
    return out


def save_npz(images: Any, path: str | os.PathLike[str], labels: np.ndarray | None = None) -> Path:
    """``images`` uint8 (N, C, H, W) and, when given, ``labels`` int64 (N,) in a ``.npz``."""
    arrays = {"images": _as_nchw(images)}
    if labels is not None:
        arrays["labels"] = np.asarray(labels, dtype=np.int64)
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return path


def write_samples(
    out: str | os.PathLike[str], images: Any, labels: np.ndarray | None = None
) -> str:
    """Write samples by the form of ``out``: ``*.png`` a grid, ``*.npz`` arrays (key
    ``images``, plus ``labels``), anything else (no suffix, trailing ``/``, an existing
    folder) a folder of PNGs. Returns a description of what was written."""
    text = str(out)
    path = Path(out)
    suffix = path.suffix.lower()
    if text.endswith(("/", os.sep)) or path.is_dir() or not suffix:
        files = save_images(images, path, labels)
        return f"{len(files)} PNG files in {path}/"
    if suffix == ".png":
        save_grid(images, path)
        return f"a grid of {len(images)} images in {path}"
    if suffix == ".npz":
        save_npz(images, path, labels)
        return f"{len(images)} images{' and labels' if labels is not None else ''} in {path}"
    raise ConfigError(
        f"--out for image samples must be a .png grid, a .npz file or a folder, got {text!r}"
    )


def _caption(frame: np.ndarray, text: str) -> Any:
    from PIL import Image, ImageDraw

    im = _pil(frame).convert("RGB")
    canvas = Image.new("RGB", (im.width, im.height + 14), (255, 255, 255))
    canvas.paste(im, (0, 14))
    ImageDraw.Draw(canvas).text((3, 1), text, fill=(0, 0, 0))
    return canvas


def save_gif(
    frames: list[tuple[str, np.ndarray]], path: str | os.PathLike[str], duration_ms: int = 500
) -> Path:
    """An animated GIF of captioned ``(caption, HxWxC uint8)`` frames (last frame held)."""
    if not frames:
        raise ValueError("no frames to animate")
    path = Path(path)
    data = gif_bytes(frames, duration_ms)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def gif_bytes(frames: list[tuple[str, np.ndarray]], duration_ms: int = 500) -> bytes:
    """The bytes of :func:`save_gif`'s animation (for pages that embed it)."""
    import io

    if not frames:
        raise ValueError("no frames to animate")
    images = [_caption(f, c) for c, f in frames]
    durations = [duration_ms] * (len(images) - 1) + [duration_ms * 4]
    buf = io.BytesIO()
    images[0].save(
        buf, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0
    )
    return buf.getvalue()


def png_bytes(array: np.ndarray) -> bytes:
    """An ``(H, W, C)`` uint8 array (C 1 or 3) as PNG bytes."""
    import io

    buf = io.BytesIO()
    _pil(array).save(buf, format="PNG")
    return buf.getvalue()
