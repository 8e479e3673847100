"""Differentiable augmentation (``--augment``): each transform does what its definition
says, probability 0 is the identity, D sees real, fake and interpolated inputs through
the same transforms, gradients reach G, and bad options are one-line errors."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch
from torch import nn

from ganforge.augment import DiffAugment, color, cutout, translation
from ganforge.cli import main
from ganforge.config import TrainConfig
from ganforge.defaults import resolve
from ganforge.errors import ConfigError
from ganforge.objective import Objective


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _images(n: int = 16, c: int = 3, side: int = 16, seed: int = 1) -> torch.Tensor:
    return torch.rand(n, c, side, side, generator=_gen(seed)) * 1.8 - 0.9


def _shift(x: torch.Tensor, ty: int, tx: int) -> torch.Tensor:
    """``x (C, H, W)`` moved down ``ty`` and right ``tx`` pixels, zeros shifted in."""
    out = torch.zeros_like(x)
    h, w = x.shape[1:]
    src = x[:, max(0, -ty) : h - max(0, ty), max(0, -tx) : w - max(0, tx)]
    out[:, max(0, ty) : h - max(0, -ty), max(0, tx) : w - max(0, -tx)] = src
    return out


def test_probability_zero_is_the_identity() -> None:
    x = _images()
    aug = DiffAugment("translation,cutout,color", 0.0, _gen())
    assert not aug
    assert torch.equal(aug(x), x)


def test_translation_is_a_whole_pixel_shift_of_at_most_an_eighth() -> None:
    x = _images(n=32)
    out = translation(x, _gen(3))
    reach = range(-2, 3)  # 16 px: at most 16 // 8 = 2
    seen = set()
    for xi, oi in zip(x, out, strict=True):
        shifts = [
            (ty, tx)
            for ty, tx in itertools.product(reach, reach)
            if torch.equal(oi, _shift(xi, ty, tx))
        ]
        assert len(shifts) == 1, "each output is exactly one shifted copy of its input"
        seen.add(shifts[0])
    assert len(seen) > 5, "shifts vary from sample to sample"


def test_cutout_zeroes_one_square_of_half_the_side_and_keeps_the_rest() -> None:
    x = _images(n=64, side=12) + 2.0  # strictly positive: zeros come from the cutout only
    out = cutout(x, _gen(4))
    full_squares = 0
    for xi, oi in zip(x, out, strict=True):
        zero = oi[0] == 0
        assert torch.equal(zero, (oi == 0).all(dim=0)), "all channels cut alike"
        rows, cols = zero.any(dim=1).nonzero().flatten(), zero.any(dim=0).nonzero().flatten()
        assert 0 < len(rows) <= 6 and 0 < len(cols) <= 6
        # the zeroed pixels form one axis-aligned rectangle, clipped at the border
        box = torch.zeros_like(zero)
        box[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1] = True
        assert torch.equal(zero, box)
        assert torch.equal(oi[:, ~zero], xi[:, ~zero]), "pixels outside the square unchanged"
        full_squares += int(zero.sum() == 36)
    assert full_squares > 10, "squares inside the image have the full 6 x 6 size"


def test_color_shifts_a_grey_image_by_a_brightness_in_half_a_unit() -> None:
    # Saturation and contrast scale deviations from means; a uniform grey image has
    # none, so only the brightness offset u - 0.5, u ~ U(0, 1), remains.
    x = torch.full((4000, 3, 4, 4), 0.2)
    out = color(x, _gen(5))
    shift = out - 0.2
    per_image = shift[:, :1, :1, :1]
    assert torch.allclose(shift, per_image.expand_as(shift), atol=1e-6)
    assert shift.min() >= -0.5 and shift.max() <= 0.5
    assert abs(float(per_image.mean())) < 0.02 and float(per_image.std()) == pytest.approx(
        (1 / 12) ** 0.5, abs=0.01
    )


@pytest.mark.parametrize("policy", ["translation", "cutout", "color"])
def test_gradients_flow_through_every_transform(policy: str) -> None:
    x = _images(n=8).requires_grad_(True)
    DiffAugment(policy, 1.0, _gen())(x).square().sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_probability_applies_per_sample() -> None:
    x = _images(n=400, side=8) + 2.0
    out = DiffAugment("cutout", 0.3, _gen(6))(x)
    cut = (out == 0).flatten(1).any(dim=1).float().mean()
    assert 0.22 < float(cut) < 0.38


class _Recorder(nn.Module):
    """A D that records each input batch and returns a differentiable score per sample."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        self.seen.append(x.detach().clone())
        return self.w * x.flatten(1).mean(dim=1)


class _Shift(nn.Module):
    """A G whose output is its noise reshaped to images plus a learnable offset."""

    def __init__(self) -> None:
        super().__init__()
        self.b = nn.Parameter(torch.zeros(1))

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return z.view(-1, 1, 8, 8) + 2.0 + self.b


def _objective(loss: str, **options) -> tuple[Objective, _Recorder, _Shift]:
    cfg = resolve(TrainConfig(dataset="digits", loss=loss, augment="cutout", **options))
    G, D = _Shift(), _Recorder()
    return Objective(cfg, G, D, _gen(7)), D, G


def _has_cut(batch: torch.Tensor) -> bool:
    return bool((batch == 0).flatten(1).any(dim=1).all())


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp"])
def test_d_sees_real_fake_and_interpolates_through_the_augmentation(loss: str) -> None:
    obj, D, G = _objective(loss)
    real = torch.rand(6, 1, 8, 8) + 2.0
    fake = G(torch.rand(6, 64)).detach()
    obj.d_phase(real, fake, None)
    batches = torch.cat(D.seen)
    # every sample D judged (real, fake and, for wgan-gp, the interpolates) was cut
    assert len(batches) == (12 if loss == "nonsaturating" else 18)
    assert _has_cut(batches)


def test_the_generators_gradient_passes_through_the_augmentation() -> None:
    obj, D, G = _objective("nonsaturating")
    terms = obj.g_phase(G(torch.rand(6, 64)), None)
    terms["adv"].backward()
    assert _has_cut(D.seen[-1])
    assert G.b.grad is not None and G.b.grad.abs() > 0


def test_bad_augment_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="rotate"):
        TrainConfig(dataset="digits", augment="translation,rotate")
    with pytest.raises(ConfigError, match="twice"):
        TrainConfig(dataset="digits", augment="color,color")
    with pytest.raises(ConfigError, match="augment_p"):
        TrainConfig(dataset="digits", augment="color", augment_p=1.5)
    with pytest.raises(ConfigError, match="transforms images"):
        resolve(TrainConfig(dataset="ring8", augment="color"))


def test_cli_bad_augment_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--dataset", "digits", "--augment", "rotate", "--dry-run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rotate" in err[0]


def test_an_augmented_run_trains_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "run"
    flags = ["--base-width", "4", "--noise-dim", "8", "--batch-size", "8", "--quiet"]
    code = main(
        [
            "train",
            "--dataset",
            "digits",
            "--steps",
            "4",
            "--sample-every",
            "0",
            "--eval-samples",
            "40",
            "--augment",
            "translation,cutout,color",
            "--augment-p",
            "0.5",
            "--device",
            "cpu",
            "--out",
            str(out),
            *flags,
        ]
    )
    assert code == 0
    assert (out / "metrics.json").exists()
