"""Which model space a run's numeric data uses: standardised, or the data's range.

A generator whose output activation is bounded (``tanh`` in [-1, 1], ``sigmoid`` in
[0, 1]) cannot leave that interval. On standardised data this caps its samples at a fixed
number of standard deviations from the mean: ``tanh`` reaches only ±1 std, so on the unit
disk (std 0.5 per axis) the rim is out of reach and on a Gaussian everything beyond 1σ is
missing. For such a run the data's range, per dimension, is mapped onto the activation's
range instead (:class:`~ganforge.data.base.RangeMap`), so the output covers exactly what
the data covers. Unbounded (``linear``) outputs keep standardisation, number for number.

The choice is made per run from the resolved config (``cfg.model.g_output``), stored in
the checkpoint's codec and applied on decode. Only data decoded as numbers
(``x * std + mean``, the base codec: toy sets and numeric tables) is remapped; data kinds
with their own codec decoder (images are already in [-1, 1]) are left alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganforge.data.base import CODEC_DECODERS, Dataset, RangeMap

#: output activation -> the interval it covers; any other activation is unbounded
BOUNDED_OUTPUTS: dict[str, tuple[float, float]] = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}

#: Each dimension's range is widened by 5% of its width on each side before it is mapped
#: onto the output's range. The data's extremes then sit at ±1/1.1 = ±0.91 of tanh (0.04
#: and 0.96 of sigmoid), where the activation's slope is still 17% of its maximum and its
#: pre-activation only ±1.5: the generator reaches the edge of the data with moderate
#: weights instead of driving tanh into saturation, where gradients vanish. The price is
#: that samples may overshoot the data's range by at most 5% of its width per dimension.
#: Measured on `disk` with `mlp2d` (least squares, 3,000 steps, 5 seeds, KS of the radii
#: of 2,000 samples): margin 0 gave 0.035-0.057, 0.05 gave 0.027-0.051, 0.15 gave
#: 0.037-0.068; 5% costs nothing where the data has a hard edge and keeps tanh unsaturated.
RANGE_MARGIN = 0.05

_COPIED = (
    "name",
    "shape",
    "kind",
    "modes",
    "mode_std",
    "columns",
    "num_classes",
    "class_names",
    "levels",
)


class RangeScaled(Dataset):
    """``inner`` with its model space remapped: the data's range (plus ``margin``) onto
    ``bounds``. Batches are ``inner``'s standardised batches moved by the affine map
    between the two model spaces; real samples, modes and other attributes are
    ``inner``'s."""

    def __init__(
        self, inner: Dataset, bounds: tuple[float, float], margin: float = RANGE_MARGIN
    ) -> None:
        self.inner = inner
        for attr in _COPIED:
            setattr(self, attr, getattr(inner, attr))
        super().__init__(inner.mean, inner.std)
        low, high = inner.value_range()
        self.range_map = RangeMap(low, high, bounds, margin)
        # standardised z -> native z * std + mean -> range-mapped: z * gain + offset
        offset = self.range_map.encode(self.mean[None])[0]
        gain = self.range_map.encode((self.mean + self.std)[None])[0] - offset
        self._gain = torch.from_numpy(gain.reshape(self.shape)).float()
        self._offset = torch.from_numpy(offset.reshape(self.shape)).float()

    def sample_batch(
        self, batch_size: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        x, labels = self.inner.sample_batch(batch_size, generator)
        return x * self._gain.to(x.device) + self._offset.to(x.device), labels

    def sample_real(self, n: int, seed: int) -> np.ndarray:
        return self.inner.sample_real(n, seed)

    def value_range(self) -> tuple[np.ndarray, np.ndarray]:
        return self.range_map.low, self.range_map.high

    def __getattr__(self, name: str) -> Any:
        # only reached for attributes this object lacks: the inner dataset's own extras
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


def scale_for_output(data: Dataset, g_output: str | None) -> Dataset:
    """``data`` as the run with generator output ``g_output`` trains on it: range-mapped
    when the output is bounded and the data decodes as numbers, else unchanged."""
    bounds = BOUNDED_OUTPUTS.get(g_output) if g_output else None
    if bounds is None or data.kind in CODEC_DECODERS:
        return data
    return RangeScaled(data, bounds)
