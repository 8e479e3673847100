"""Pixel values: uint8 in [0, 255] <-> floats in [-1, 1], the one place that converts.

Image datasets store uint8 ``(N, C, H, W)``; models, feature extractors and generated
samples work in float ``[-1, 1]`` (``x / 127.5 - 1``). Every conversion between the two
goes through these functions, so a generated image and a real one are quantised alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def from_uint8(x: torch.Tensor) -> torch.Tensor:
    """uint8 tensor in [0, 255] (any shape) -> float32 tensor in [-1, 1]."""
    return x.float().div_(127.5).sub_(1.0)


def to_uint8(x: Any) -> np.ndarray:
    """Floats in [-1, 1] (tensor or array, any shape; clamped) -> uint8 numpy in [0, 255],
    rounded half to even. float64 input is converted in float64, anything else (float32,
    half precision) in float32."""
    t = (
        x.detach().cpu()
        if isinstance(x, torch.Tensor)
        else torch.from_numpy(np.ascontiguousarray(x))
    )
    t = t.to(torch.float64 if t.dtype == torch.float64 else torch.float32)
    return t.clamp(-1.0, 1.0).add(1.0).mul(127.5).round_().to(torch.uint8).numpy()
