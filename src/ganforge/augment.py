"""Differentiable augmentation of D's inputs (DiffAugment; Zhao et al., 2020).

D sees ``T(x)`` for real and generated images alike, with ``T`` drawn afresh per sample,
so it cannot tell real from fake by the augmentation, and G's gradient flows through ``T``
(every transform is differentiable in ``x``). With few real images this keeps D from
memorising them. Each transform is applied to a sample with probability ``p`` (ADA's
per-sample probability); ``p = 0`` is the identity.

The transforms follow the paper's definitions, on images ``(N, C, H, W)`` in [-1, 1]:

- ``color``: brightness ``x + (u - 0.5)``, then saturation (each pixel's channel mean
  kept, deviations scaled by ``2u``), then contrast (the image mean kept, deviations
  scaled by ``u + 0.5``), ``u ~ U(0, 1)`` drawn per sample for each;
- ``translation``: a shift by a whole number of pixels in ``[-H/8, H/8]`` x
  ``[-W/8, W/8]``, filling with zeros (mid-grey);
- ``cutout``: a square of half the image's side, centred anywhere on the image (clipped
  at its border), set to zero.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ganforge.errors import ConfigError

Transform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def _uniform(x: torch.Tensor, gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.rand((x.shape[0], *shape), generator=gen, device=x.device, dtype=x.dtype)


def color(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    x = x + (_uniform(x, gen, 1, 1, 1) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_uniform(x, gen, 1, 1, 1) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_uniform(x, gen, 1, 1, 1) + 0.5) + mean


def _offsets(n: int, size: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    """Whole-pixel shifts in ``[-size // 8, size // 8]``, one per sample."""
    reach = size // 8
    return torch.randint(-reach, reach + 1, (n,), generator=gen, device=device)


def translation(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    n, _, h, w = x.shape
    ty = _offsets(n, h, gen, x.device)
    tx = _offsets(n, w, gen, x.device)
    # Output pixel (i, j) reads input (i - ty, j - tx); outside the image it reads the
    # zero border of the padded copy (index 0 or side + 1).
    rows = (torch.arange(h, device=x.device)[None, :] - ty[:, None] + 1).clamp(0, h + 1)
    cols = (torch.arange(w, device=x.device)[None, :] - tx[:, None] + 1).clamp(0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)  # (N, H+2, W+2, C)
    batch = torch.arange(n, device=x.device)[:, None, None]
    return padded[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = h // 2, w // 2
    cy = torch.randint(0, h, (n,), generator=gen, device=x.device)
    cx = torch.randint(0, w, (n,), generator=gen, device=x.device)
    rows = torch.arange(h, device=x.device)[None, :] - (cy - sh // 2)[:, None]
    cols = torch.arange(w, device=x.device)[None, :] - (cx - sw // 2)[:, None]
    inside = ((rows >= 0) & (rows < sh))[:, :, None] & ((cols >= 0) & (cols < sw))[:, None, :]
    return x * (~inside).to(x.dtype)[:, None]


TRANSFORMS: dict[str, Transform] = {
    "color": color,
    "translation": translation,
    "cutout": cutout,
}


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"translation,cutout"`` -> ``("translation", "cutout")``; ``""`` -> ``()``.
    Unknown or repeated names raise :class:`ConfigError`."""
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    unknown = [p for p in names if p not in TRANSFORMS]
    if unknown:
        raise ConfigError(
            f"unknown augmentation {', '.join(map(repr, unknown))}; "
            f"choose from: {', '.join(TRANSFORMS)}"
        )
    if len(set(names)) != len(names):
        raise ConfigError(f"augmentation {policy!r} names a transform twice")
    return names


class DiffAugment:
    """``T(x)``: the policy's transforms in order, each applied to a sample with
    probability ``p``, with randomness from ``gen``. ``(N, C, H, W) -> (N, C, H, W)``."""

    def __init__(self, policy: str, p: float, gen: torch.Generator) -> None:
        self.names = parse_policy(policy)
        if not 0.0 <= p <= 1.0:
            raise ConfigError(f"augment_p must be in [0, 1], got {p}")
        self.p, self.gen = float(p), gen

    def __bool__(self) -> bool:
        return bool(self.names) and self.p > 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not self:
            return x
        if x.dim() != 4:
            raise ConfigError(f"augmentation needs images (N, C, H, W), got shape {tuple(x.shape)}")
        for name in self.names:
            out = TRANSFORMS[name](x, self.gen)
            if self.p < 1.0:
                keep = _uniform(x, self.gen, 1, 1, 1) >= self.p
                out = torch.where(keep, x, out)
            x = out
        return x
