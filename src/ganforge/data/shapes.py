"""Procedural shapes: circles, squares and triangles on varied backgrounds, rendered
from a seed (nothing downloaded or stored)."""

from __future__ import annotations

import math

import numpy as np
import torch

from ganforge.data.images import ImageDataset
from ganforge.pixels import from_uint8

SHAPE_NAMES = ["circle", "square", "triangle"]


def render_shape(rng: np.random.Generator, size: int = 64) -> tuple[np.ndarray, int]:
    """One procedural image: a circle, square or triangle of random colour, size, position
    and rotation on a random background (solid, linear gradient or two-tone split, with
    light noise). Drawn at 2x and downsampled (antialiasing). Returns
    ``(uint8 (3, size, size), label)``, a pure function of ``rng``'s state."""
    from PIL import Image, ImageDraw

    s2 = 2 * size
    label = int(rng.integers(3))
    c1, c2 = rng.integers(0, 256, size=(2, 3))
    kind = int(rng.integers(3))
    yy, xx = np.mgrid[0:s2, 0:s2] / (s2 - 1)
    if kind == 0:
        t = np.zeros((s2, s2))
    else:
        angle = rng.uniform(0, 2 * np.pi)
        proj = np.cos(angle) * (xx - 0.5) + np.sin(angle) * (yy - 0.5)
        t = proj - proj.min()
        t = t / max(t.max(), 1e-9)
        if kind == 2:
            t = (t > rng.uniform(0.3, 0.7)).astype(np.float64)
    bg = c1[None, None] * (1 - t[..., None]) + c2[None, None] * t[..., None]
    bg_mean = (c1 + c2) / 2
    for _ in range(20):  # a shape colour that stands out from the background
        colour = rng.integers(0, 256, size=3)
        if (
            np.abs(colour - bg_mean).sum() > 160
            and np.abs(colour - c1).sum() > 100
            and np.abs(colour - c2).sum() > 100
        ):
            break
    img = Image.fromarray(bg.clip(0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    r = rng.uniform(0.14, 0.32) * s2
    cx, cy = rng.uniform(r, s2 - r, size=2)
    fill = tuple(int(v) for v in colour)
    if label == 0:
        rc = 0.85 * r
        draw.ellipse([cx - rc, cy - rc, cx + rc, cy + rc], fill=fill)
    else:
        corners = 4 if label == 1 else 3
        phase = rng.uniform(0, 2 * np.pi)
        pts = [
            (
                cx + r * math.cos(phase + 2 * math.pi * j / corners),
                cy + r * math.sin(phase + 2 * math.pi * j / corners),
            )
            for j in range(corners)
        ]
        draw.polygon(pts, fill=fill)
    img = img.resize((size, size), Image.Resampling.LANCZOS)
    arr = np.asarray(img, dtype=np.float64) + rng.normal(0, 4.0, size=(size, size, 3))
    return arr.clip(0, 255).round().astype(np.uint8).transpose(2, 0, 1), label


class ShapesDataset(ImageDataset):
    """Procedural 64x64 RGB shapes (labels: circle 0, square 1, triangle 2). Image ``i``
    is rendered from ``(seed, i)``, so the dataset of ``size`` images is fixed by its
    seed and nothing is downloaded or stored."""

    def __init__(self, image_size: int = 64, size: int = 60_000, seed: int = 0) -> None:
        self.name = "shapes"
        self.image_size = int(image_size)
        self.shape = (3, self.image_size, self.image_size)
        self.size = int(size)
        self.seed = int(seed)
        self.num_classes = 3
        self.class_names = list(SHAPE_NAMES)
        super().__init__()

    def render(self, i: int) -> tuple[np.ndarray, int]:
        return render_shape(np.random.default_rng([self.seed, int(i)]), self.image_size)

    def _images(self, idx: np.ndarray) -> np.ndarray:
        return np.stack([self.render(i)[0] for i in idx])

    def _labels(self, idx: np.ndarray) -> np.ndarray:
        return np.array([self.render(i)[1] for i in idx], dtype=np.int64)

    def sample_batch(self, batch_size: int, generator: torch.Generator) -> tuple:
        idx = torch.randint(self.size, (batch_size,), generator=generator).numpy()
        pairs = [self.render(i) for i in idx]
        x = from_uint8(torch.from_numpy(np.stack([p[0] for p in pairs])))
        return x, torch.tensor([p[1] for p in pairs], dtype=torch.int64)
