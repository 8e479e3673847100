"""PacGAN packing as behaviour: a packed D is its inner D applied to ``pack``
consecutive samples concatenated along the feature/channel axis, and in a training step
no pack ever mixes real with generated samples."""

from __future__ import annotations

import dataclasses
import os

import pytest
import torch
from torch import nn

import ganforge
from conftest import tiny_config
from ganforge.config import ModelConfig
from ganforge.models import MODELS, Packed, build_models, register_model


def _by_hand(inner: nn.Module, x: torch.Tensor, pack: int) -> torch.Tensor:
    """Inner D on each pack ``x[pack*j : pack*j + pack]`` laid side by side, one at a time."""
    outs = [inner(torch.cat(list(x[j : j + pack]), dim=0)[None]) for j in range(0, len(x), pack)]
    return torch.cat(outs)


@pytest.mark.parametrize("pack", [2, 3])
def test_packed_mlp_is_the_inner_d_on_consecutive_samples(pack: int) -> None:
    torch.manual_seed(0)
    cfg = ModelConfig(noise_dim=3, g_hidden=(8,), d_hidden=(8, 8), pack=pack)
    _, d = build_models(cfg, (2,))
    assert isinstance(d, Packed)
    x = torch.randn(4 * pack, 2)
    torch.testing.assert_close(d(x), _by_hand(d.inner, x, pack))
    # moving one sample into another pack changes the verdicts of exactly those packs
    swapped = x.clone()
    swapped[[0, pack]] = x[[pack, 0]]
    changed = (d(swapped) - d(x)).abs() > 1e-6
    assert changed.tolist() == [True, True] + [False] * 2


def test_packed_dcgan_stacks_consecutive_images_as_channels() -> None:
    torch.manual_seed(0)
    cfg = ModelConfig(arch="dcgan", noise_dim=8, base_width=4, g_batch_norm=True, pack=3)
    g, d = build_models(cfg, (3, 32, 32))
    x = g(torch.randn(9, 8)).detach()  # (9, 3, 32, 32)
    out = d(x)
    assert out.shape == (3,)
    # pack j holds images 3j, 3j+1, 3j+2 as channels 0-2, 3-5, 6-8
    torch.testing.assert_close(out, _by_hand(d.inner, x, 3), rtol=1e-5, atol=1e-6)
    interleaved = torch.cat([x[0::3], x[1::3], x[2::3]], dim=1)  # (3, 9, 32, 32)
    torch.testing.assert_close(d.inner(interleaved), out, rtol=1e-5, atol=1e-6)


# -- in training ------------------------------------------------------------------------------


class _RecordingG(nn.Module):
    """Wraps a generator; keeps a copy of every training-mode batch it generates."""

    def __init__(self, inner: nn.Module, fakes: list[torch.Tensor]) -> None:
        super().__init__()
        self.inner, self.fakes = inner, fakes

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = self.inner(z)
        if self.training:
            self.fakes.append(x.detach().clone())
        return x


class _RecordingD(nn.Module):
    """Wraps the inner (packed-input) discriminator; keeps every training-mode input."""

    def __init__(self, inner: nn.Module, inputs: list[torch.Tensor]) -> None:
        super().__init__()
        self.inner, self.inputs = inner, inputs

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.training:
            self.inputs.append(x.detach().clone())
        return self.inner(x)


@pytest.fixture
def recording_arch():
    """A registered architecture: the MLP, with G and the inner D recording what they see."""
    name = f"test-recording-mlp-{os.getpid()}"
    seen: dict[str, list[torch.Tensor]] = {"fakes": [], "d_inputs": []}

    def build(cfg: ModelConfig, shape: tuple) -> tuple[nn.Module, nn.Module]:
        g, d = MODELS.get("mlp")(dataclasses.replace(cfg, arch="mlp"), shape)
        return _RecordingG(g, seen["fakes"]), _RecordingD(d, seen["d_inputs"])

    register_model(name, build)
    yield name, seen
    MODELS._items.pop(name, None)


@pytest.mark.parametrize(
    ("pack", "d_batch_norm"),
    [(2, False), (4, False), (2, True)],
    ids=["pack2-joint-forward", "pack4-joint-forward", "pack2-batchnorm-separate-forwards"],
)
def test_training_never_packs_real_with_generated_samples(
    recording_arch, tmp_path, pack: int, d_batch_norm: bool
) -> None:
    name, seen = recording_arch
    model = ModelConfig(
        arch=name, noise_dim=4, g_hidden=(16,), d_hidden=(16,), pack=pack, d_batch_norm=d_batch_norm
    )
    steps, batch = 3, 8
    ganforge.train(
        tiny_config(model=model, steps=steps, batch_size=batch, out=str(tmp_path / "run"))
    )
    assert len(seen["fakes"]) == steps and len(seen["d_inputs"]) >= 2 * steps
    # every generated row, by its exact bytes: (batch number, row number)
    where = {
        row.numpy().tobytes(): (b, i)
        for b, f in enumerate(seen["fakes"])
        for i, row in enumerate(f)
    }
    kinds = {"real": 0, "fake": 0}
    for x in seen["d_inputs"]:
        assert x.shape[1] == pack * 2
        for members in x.reshape(len(x), pack, 2):
            found = [where.get(m.numpy().tobytes()) for m in members]
            if all(f is None for f in found):
                kinds["real"] += 1
                continue
            assert None not in found, "a pack mixes real and generated samples"
            (b0, i0), *rest = found
            assert i0 % pack == 0 and found == [(b0, i0 + k) for k in range(pack)], (
                "a pack is made of consecutive samples of one batch"
            )
            kinds["fake"] += 1
    assert kinds["real"] == steps * batch // pack  # every real sample judged once per step
    assert kinds["fake"] == 2 * steps * batch // pack  # in the D step and in the G step
