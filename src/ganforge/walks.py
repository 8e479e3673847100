"""Latent walks and per-seed grids: ``ganforge sample RUN --interpolate K --out walk.gif``
and ``ganforge sample RUN --seeds 0-63 --out grid.png``.

- A walk draws ``K`` latents from ``--seed`` and moves through them in a loop (1 -> 2 ->
  ... -> K -> 1), :data:`FRAMES_PER_LEG` frames per leg, by spherical interpolation
  (slerp) for Gaussian noise, which keeps the points at the norm typical of the noise, or
  linear interpolation for uniform noise. Image runs write an animated GIF (Pillow); every
  run can write the path's samples as ``.npy``/``.csv`` (or ``.npz`` for images).
- A seed grid holds one sample per seed: cell ``s`` is exactly ``ganforge sample RUN --n 1
  --seed s``, so a sample can be named by its seed and drawn again.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.errors import ConfigError
from ganforge.io import atomic_path
from ganforge.training.sampling import draw_noise

FRAMES_PER_LEG = 12
FRAME_MS = 80
MAX_SEEDS = 10_000


def parse_seeds(text: str) -> list[int]:
    """``"0-63"``, ``"3,7,11"`` or ``"0-3,10"`` -> the seeds in order (ranges inclusive)."""
    seeds: list[int] = []
    for part in text.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise ConfigError(f"--seeds must look like 0-63 or 1,5,9, got {text!r}")
        lo, hi = int(match.group(1)), int(match.group(2) or match.group(1))
        if hi < lo:
            raise ConfigError(f"--seeds range {part!r} runs backwards")
        seeds += range(lo, hi + 1)
        if len(seeds) > MAX_SEEDS:
            raise ConfigError(f"--seeds {text!r} names more than {MAX_SEEDS:,} seeds")
    return seeds


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between rows ``z0`` and ``z1`` ``(D,)`` at ``t`` ``(T,)`` in
    [0, 1] -> ``(T, D)``; the norm is interpolated linearly along the great circle.
    Falls back to linear interpolation for (nearly) parallel vectors."""
    n0, n1 = z0.norm(), z1.norm()
    cos = torch.clamp(torch.dot(z0, z1) / (n0 * n1).clamp_min(1e-12), -1.0, 1.0)
    omega = torch.arccos(cos)
    t = t[:, None]
    if omega.abs() < 1e-6 or (torch.pi - omega).abs() < 1e-6:
        return (1 - t) * z0 + t * z1
    u0, u1 = z0 / n0, z1 / n1
    direction = (torch.sin((1 - t) * omega) * u0 + torch.sin(t * omega) * u1) / torch.sin(omega)
    return direction * ((1 - t) * n0 + t * n1)


def walk_latents(
    k: int, noise_dim: int, noise: str, std: float, seed: int, frames: int = FRAMES_PER_LEG
) -> torch.Tensor:
    """``(k * frames, noise_dim)`` latents looping through ``k`` drawn from ``seed``; frame
    ``i * frames`` is exactly latent ``i``."""
    if k < 2:
        raise ConfigError(f"--interpolate needs at least 2 latents to move between, got {k}")
    rng = torch.Generator().manual_seed(int(seed))
    keys = draw_noise((k, noise_dim), noise, rng).mul_(std)
    t = torch.arange(frames, dtype=torch.float32) / frames
    legs = []
    for i in range(k):
        a, b = keys[i], keys[(i + 1) % k]
        legs.append(
            slerp(a, b, t) if noise == "gaussian" else (1 - t[:, None]) * a + t[:, None] * b
        )
    return torch.cat(legs)


@torch.inference_mode()
def decode_latents(loaded: Any, z: torch.Tensor, label: int | None = None) -> np.ndarray:
    """The loaded generator's samples for latents ``z`` ``(N, noise_dim)``, in native
    units; a conditional model draws class ``label`` (default 0)."""
    g = loaded.generator
    device = next(g.parameters()).device
    y = None
    if loaded.num_classes:
        y = torch.full((len(z),), int(label or 0), dtype=torch.long, device=device)
    elif label is not None:
        raise ConfigError("--label needs a conditional model; this one is unconditional")
    return loaded.decoder.decode(g(z.to(device), y).cpu())


def seed_samples(
    loaded: Any, seeds: list[int], label: int | None, truncation: float | None
) -> np.ndarray:
    """One sample per seed, each as ``sample --n 1 --seed s`` draws it."""
    rows = [loaded.sample(1, seed=s, label=label, truncation=truncation) for s in seeds]
    return np.concatenate(rows, axis=0)


def save_walk_gif(images: np.ndarray, path: Path) -> Path:
    """An endlessly looping GIF, one uint8 ``(C, H, W)`` image per frame (enlarged to
    about 128 px, nearest neighbour)."""
    from PIL import Image

    from ganforge.grids import make_grid

    scale = max(1, 128 // images.shape[-1])
    frames = []
    for image in images:
        grid = make_grid(image[None], nrow=1, padding=0, scale=scale)
        frames.append(Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid))
    with atomic_path(path) as tmp:
        frames[0].save(
            tmp, format="GIF", save_all=True, append_images=frames[1:], duration=FRAME_MS, loop=0
        )
    return path


def write_walk(loaded: Any, k: int, out: str | Path, seed: int, label: int | None) -> str:
    """Write the latent walk to ``out``: ``.gif`` (images), else as ``sample`` would write
    the path's samples. Returns what was written."""
    cfg = loaded.config
    z = walk_latents(k, cfg.model.noise_dim, cfg.noise, cfg.noise_std, seed)
    samples = decode_latents(loaded, z, label)
    out = Path(out)
    if out.suffix.lower() == ".gif":
        if loaded.decoder.kind != "image":
            raise ConfigError("a walk GIF needs an image run; write the path to .npy or .csv")
        save_walk_gif(samples, out)
        return f"a {len(samples)}-frame walk through {k} latents in {out}"
    return write_array(samples, out, loaded)


def write_array(samples: np.ndarray, out: str | Path, loaded: Any) -> str:
    """Samples in the form ``ganforge sample`` writes them (by the suffix of ``out``)."""
    out = Path(out)
    if loaded.decoder.kind == "image":
        from ganforge.grids import write_samples

        return write_samples(out, samples)
    suffix = out.suffix.lower()
    if suffix not in (".npy", ".csv"):
        raise ConfigError(f"--out must end in .npy or .csv, got {str(out)!r}")
    with atomic_path(out) as tmp:
        if suffix == ".npy":
            with open(tmp, "wb") as fh:
                np.save(fh, samples)
        else:
            flat = samples.reshape(len(samples), -1)
            cols = loaded.decoder.columns
            if not cols or len(cols) != flat.shape[1]:
                cols = [f"x{j + 1}" for j in range(flat.shape[1])]
            lines = [",".join(cols)] + [",".join(f"{v:.8g}" for v in row) for row in flat]
            tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"{len(samples)} samples in {out}"
