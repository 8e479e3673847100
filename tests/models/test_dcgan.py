"""DCGAN contract tests: shapes at 28/32/64 px, features/head split, spectral norm,
packing, conditional wrappers, initialisation and one D and G step."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch
from torch import nn

from ganforge.config import ModelConfig
from ganforge.losses import get_loss
from ganforge.models import (
    LabelConcatDiscriminator,
    LabelConcatGenerator,
    Packed,
    ProjectionDiscriminator,
    build_models,
    get_preset,
)
from ganforge.models.dcgan import DCGANDiscriminator, upsampling_steps


def tiny(**kw: object) -> ModelConfig:
    values = {
        "arch": "dcgan",
        "noise_dim": 8,
        "base_width": 4,
        "g_batch_norm": True,
        "d_activation": "leaky_relu",
    }
    values.update(kw)
    return ModelConfig(**values)


SHAPES = [(1, 28, 28), (3, 28, 28), (1, 32, 32), (3, 32, 32), (1, 64, 64), (3, 64, 64)]


@pytest.mark.parametrize("shape", SHAPES)
def test_output_shapes(shape: tuple[int, int, int]) -> None:
    torch.manual_seed(0)
    g, d = build_models(tiny(), shape)
    x = g(torch.randn(5, 8)).detach()
    assert x.shape == (5, *shape)
    assert float(x.min()) >= -1 and float(x.max()) <= 1  # tanh output
    out = d(x)
    assert out.shape == (5,)
    f = d.features(x)
    assert f.shape == (5, d.head.in_features)
    assert torch.allclose(d.head(f).squeeze(1), out)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 64, 64)])
def test_channels_last_head_reads_the_map_in_memory_order(shape: tuple[int, int, int]) -> None:
    """On a channels-last model D's head takes the last map as it lies in memory (the
    weight reordered, not the map copied): the same logits and gradients as the
    (C, h, w) flatten of a contiguous model, within float rounding."""
    torch.manual_seed(0)
    _, d = build_models(tiny(), shape)
    d_cl = copy.deepcopy(d).to(memory_format=torch.channels_last)
    x = torch.randn(6, *shape)
    x_cl = x.clone().contiguous(memory_format=torch.channels_last).requires_grad_(True)
    x = x.requires_grad_(True)
    out, out_cl = d(x), d_cl(x_cl)
    last = d_cl.body(x_cl.detach())
    assert last.is_contiguous(memory_format=torch.channels_last) and not last.is_contiguous()
    assert torch.allclose(out_cl, out, rtol=1e-5, atol=1e-6)
    (out * torch.arange(6.0)).sum().backward()
    (out_cl * torch.arange(6.0)).sum().backward()
    assert torch.allclose(x_cl.grad, x.grad, rtol=1e-4, atol=1e-6)
    assert torch.allclose(d_cl.head.weight.grad, d.head.weight.grad, rtol=1e-4, atol=1e-6)
    assert d_cl.head.weight.grad.shape == d.head.weight.shape


def test_upsampling_steps() -> None:
    assert [upsampling_steps(s, s) for s in (28, 32, 64, 16)] == [2, 3, 4, 2]
    with pytest.raises(ValueError, match="image sides"):
        upsampling_steps(6, 6)
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        build_models(tiny(), (784,))


def test_presets_match_the_tutorial_architectures() -> None:
    cfg = get_preset("dcgan64").model
    g, d = build_models(cfg, (3, 64, 64))
    assert cfg.noise_dim == 100 and g.project.out_features == 4 * 4 * 1024
    convs = [m for m in g.net if isinstance(m, nn.ConvTranspose2d)]
    assert [m.out_channels for m in convs] == [512, 256, 128, 3]
    assert any(isinstance(m, nn.BatchNorm2d) for m in g.net)
    assert any(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.2 for m in g.net)
    d_convs = [m for m in d.body if isinstance(m, nn.Conv2d)]
    assert [m.out_channels for m in d_convs] == [128, 256, 512, 1024]
    assert d.head.in_features == 1024 * 4 * 4
    small = get_preset("dcgan").model
    g28, _ = build_models(small, (1, 28, 28))
    assert g28.start == (128, 7, 7)


def test_dcgan_init_is_normal_002() -> None:
    torch.manual_seed(0)
    g, d = build_models(dataclasses.replace(get_preset("dcgan").model), (1, 28, 28))
    w = g.net[0].weight.detach()
    assert abs(float(w.mean())) < 2e-3 and abs(float(w.std()) - 0.02) < 2e-3
    bn = next(m for m in g.net if isinstance(m, nn.BatchNorm2d))
    assert abs(float(bn.weight.detach().mean()) - 1.0) < 0.01


def test_spectral_norm_on() -> None:
    torch.manual_seed(0)
    _, d = build_models(tiny(spectral_norm=True), (1, 32, 32))
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(hasattr(m, "parametrizations") for m in convs)
    assert hasattr(d.head, "parametrizations")
    d.train()
    x = torch.randn(4, 1, 32, 32)
    for _ in range(20):  # power iterations converge
        d(x)
    w = convs[1].weight.detach().reshape(convs[1].weight.shape[0], -1)
    assert abs(float(torch.linalg.matrix_norm(w, ord=2)) - 1.0) < 0.05
    assert d(x).shape == (4,)


def test_packing_concatenates_channels() -> None:
    g, d = build_models(tiny(pack=3), (1, 28, 28))
    assert isinstance(d, Packed)
    assert isinstance(d.inner, DCGANDiscriminator)
    assert d.inner.body[0].in_channels == 3
    x = g(torch.randn(6, 8))
    assert d(x).shape == (2,)
    with pytest.raises(ValueError, match="multiple of pack"):
        d(x[:5])


@pytest.mark.parametrize("mode", ["concat", "projection"])
def test_conditional_label_plumbing(mode: str) -> None:
    cfg = tiny(conditional=mode, num_classes=10, embed_dim=6, spectral_norm=mode == "projection")
    g, d = build_models(cfg, (1, 28, 28))
    assert isinstance(g, LabelConcatGenerator)
    assert g.inner.noise_dim == 8 + 6
    y = torch.tensor([0, 3, 9, 3])
    x = g(torch.randn(4, 8), y)
    assert x.shape == (4, 1, 28, 28)
    out = d(x, y)
    assert out.shape == (4,)
    if mode == "concat":
        assert isinstance(d, LabelConcatDiscriminator)
        assert d.inner.body[0].in_channels == 1 + 10
    else:
        assert isinstance(d, ProjectionDiscriminator)
        # the label changes the projection term only (eval: no power iteration)
        d.eval()
        out = d(x, y)
        y2 = torch.tensor([1, 3, 9, 3])
        diff = (d(x, y2) - out).detach()
        assert float(diff[0].abs()) > 0 and torch.allclose(diff[1:], torch.zeros(3))


def test_one_d_and_g_step() -> None:
    torch.manual_seed(0)
    g, d = build_models(tiny(), (3, 32, 32))
    loss = get_loss("nonsaturating")
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    real = torch.rand(8, 3, 32, 32) * 2 - 1
    d_loss = loss.d_loss(d(real), d(g(torch.randn(8, 8)).detach()), 1.0, 0.0)
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    before = [p.detach().clone() for p in g.parameters()]
    g_loss = loss.g_loss(d(g(torch.randn(8, 8))))
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, g.parameters(), strict=True))
