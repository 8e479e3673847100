"""Small CNN classifier for 28x28 images (MNIST format; greyscale, or RGB when built so).

Used as a domain feature extractor: its 128-d penultimate activations play the role
Inception pool3 features play for FID on natural images, and its softmax gives a
classifier score and mode counts. Weights ship as safetensors and load without pickle.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ganforge.errors import DataError

__all__ = ["FEATURE_DIM", "WEIGHTS_DIR", "MnistCNN", "load_cnn", "save_cnn"]

#: Width of the penultimate (feature) layer.
FEATURE_DIM = 128
#: Directory holding the shipped weights (``<name>_cnn.safetensors``).
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


class MnistCNN(nn.Module):
    """Three conv blocks and two linear layers; ~0.15 M parameters.

    Input ``(N, in_channels, 28, 28)`` float in [-1, 1] (``in_channels`` 1, or 3 for a
    classifier trained on colour images). ``forward`` returns ``(features, logits)``:
    features ``(N, 128)`` (post-ReLU penultimate layer) and logits ``(N, num_classes)``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.in_channels = in_channels

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            )

        self.body = nn.Sequential(
            block(in_channels, 32),  # (N, 32, 14, 14)
            block(32, 64),  # (N, 64, 7, 7)
            block(64, 64),  # (N, 64, 3, 3)
            nn.Flatten(),  # (N, 576)
            nn.Linear(64 * 3 * 3, FEATURE_DIM),
            nn.ReLU(inplace=True),  # (N, 128) features
        )
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(FEATURE_DIM, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.ndim != 4 or x.shape[1:] != (self.in_channels, 28, 28):
            raise DataError(
                f"expected input of shape (N, {self.in_channels}, 28, 28), got {tuple(x.shape)}"
            )
        features = self.body(x)
        return features, self.head(self.dropout(features))


def save_cnn(model: MnistCNN, path: str | os.PathLike[str], metadata: dict[str, str]) -> None:
    """Write ``model`` weights to ``path`` as safetensors, atomically (temp + rename)."""
    from safetensors.torch import save_file

    from ganforge.io import atomic_write

    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    meta = {"num_classes": str(model.num_classes), **metadata}
    if model.in_channels != 1:  # greyscale files (the shipped ones) stay as they were
        meta["in_channels"] = str(model.in_channels)

    def write(tmp: Path) -> None:
        save_file(state, str(tmp), metadata=meta)
        os.chmod(tmp, 0o644)

    atomic_write(path, write)


def load_cnn(path: str | os.PathLike[str]) -> tuple[MnistCNN, dict[str, str]]:
    """Load a :class:`MnistCNN` from a safetensors file; returns ``(model.eval(), metadata)``.

    Raises:
        ValueError: if the file is missing or does not hold matching weights.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise DataError(f"CNN weights file {str(path)!r} does not exist")
    try:
        with safe_open(str(path), framework="pt") as fh:
            metadata = dict(fh.metadata() or {})
        state = load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types
        raise DataError(f"CNN weights file {str(path)!r} could not be read: {exc}") from None
    model = MnistCNN(
        num_classes=int(metadata.get("num_classes", "10")),
        in_channels=int(metadata.get("in_channels", "1")),
    )
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise DataError(f"CNN weights file {str(path)!r} does not match MnistCNN: {exc}") from None
    return model.eval(), metadata
