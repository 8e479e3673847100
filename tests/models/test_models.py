"""Tiny contract tests for the MLP models, the presets and the model wrappers: shapes,
one D and one G step on CPU, and the registries that feed the CLI."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch import nn

from ganforge.config import ModelConfig
from ganforge.losses import get_loss
from ganforge.models import (
    Packed,
    Preset,
    build_models,
    count_parameters,
    get_preset,
    list_presets,
    register_model,
    register_preset,
)

TINY = ModelConfig(noise_dim=3, g_hidden=(8, 8), d_hidden=(8, 8))
MLP_PRESETS = [n for n in list_presets() if get_preset(n).model.arch == "mlp"]


def _step(g: nn.Module, d: nn.Module, real: torch.Tensor, noise_dim: int) -> None:
    """One D step and one G step with the default loss; both must change their weights."""
    loss = get_loss("nonsaturating")
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-2)
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-2)
    z = torch.randn(len(real), noise_dim)
    d_before = [p.clone() for p in d.parameters()]
    opt_d.zero_grad()
    loss.d_loss(d(real), d(g(z).detach())).backward()
    opt_d.step()
    assert any(not torch.equal(a, b) for a, b in zip(d_before, d.parameters(), strict=True))
    g_before = [p.clone() for p in g.parameters()]
    opt_g.zero_grad()
    loss.g_loss(d(g(z))).backward()
    opt_g.step()
    assert all(not torch.equal(a, b) for a, b in zip(g_before, g.parameters(), strict=True))


@pytest.mark.parametrize("preset", MLP_PRESETS)
@pytest.mark.parametrize("shape", [(1,), (2,), (5,)])
def test_mlp_presets_build_with_the_right_shapes_and_train(preset: str, shape: tuple) -> None:
    torch.manual_seed(0)
    cfg = dataclasses.replace(get_preset(preset).model, g_hidden=(8, 8), d_hidden=(8,))
    g, d = build_models(cfg, shape)
    z = torch.randn(6, cfg.noise_dim)
    x = g(z)
    assert x.shape == (6, *shape)
    assert d(x).shape == (6,)
    _step(g, d, torch.randn(6, *shape), cfg.noise_dim)


def test_image_shaped_mlp() -> None:
    cfg = dataclasses.replace(get_preset("mlp-mnist").model, g_hidden=(8,), d_hidden=(8,))
    g, d = build_models(cfg, (1, 28, 28))
    x = g(torch.randn(4, cfg.noise_dim))
    assert x.shape == (4, 1, 28, 28)
    assert x.min() >= -1 and x.max() <= 1  # tanh output for images in [-1, 1]
    assert d(x).shape == (4,)


@pytest.mark.parametrize(("output", "lo", "hi"), [("tanh", -1, 1), ("sigmoid", 0, 1)])
def test_bounded_generator_outputs(output: str, lo: float, hi: float) -> None:
    g, _ = build_models(dataclasses.replace(TINY, g_output=output), (3,))
    x = g(100 * torch.randn(64, 3))
    assert x.min() >= lo and x.max() <= hi


def test_discriminator_output_is_an_unbounded_logit() -> None:
    _, d = build_models(TINY, (2,))
    with torch.no_grad():
        d.head.bias.fill_(50.0)
    assert (d(torch.zeros(4, 2)) > 1).all()


def test_parameter_count_by_hand() -> None:
    cfg = ModelConfig(noise_dim=2, g_hidden=(3,), d_hidden=(4,))
    g, d = build_models(cfg, (1,))
    assert count_parameters(g) == (2 * 3 + 3) + (3 * 1 + 1)  # 13
    assert count_parameters(d) == (1 * 4 + 4) + (4 * 1 + 1)  # 13


def test_maxout_discriminator_by_hand() -> None:
    from ganforge.models.mlp import MAXOUT_PIECES, Maxout

    cfg = ModelConfig(noise_dim=2, g_hidden=(3,), d_hidden=(4,), d_activation="maxout")
    _, d = build_models(cfg, (2,))
    assert count_parameters(d) == (2 * 4 + 4) * MAXOUT_PIECES + (4 + 1)
    unit = Maxout(1, 2, pieces=3)
    with torch.no_grad():  # output j = max_k (w[j, k] * x + b[j, k])
        unit.linear.weight.copy_(torch.tensor([[1.0], [-1.0], [0.5], [2.0], [0.0], [-3.0]]))
        unit.linear.bias.copy_(torch.tensor([0.0, 0.0, 1.0, 0.0, 1.0, 0.0]))
    x = torch.tensor([[2.0], [-1.0]])
    # x = 2: unit 0 max(2, -2, 2) = 2, unit 1 max(4, 1, -6) = 4
    # x = -1: unit 0 max(-1, 1, 0.5) = 1, unit 1 max(-2, 1, 3) = 3
    assert torch.equal(unit(x), torch.tensor([[2.0, 4.0], [1.0, 3.0]]))
    _step(*build_models(cfg, (2,)), torch.randn(8, 2), cfg.noise_dim)
    with pytest.raises(ValueError, match="maxout units are for MLP"):
        ModelConfig(arch="dcgan", d_activation="maxout")


def test_batch_norm_and_dropout_layers() -> None:
    cfg = dataclasses.replace(TINY, g_batch_norm=True, d_batch_norm=True, d_dropout=0.5)
    g, d = build_models(cfg, (2,))
    assert any(isinstance(m, nn.BatchNorm1d) for m in g.modules())
    assert any(isinstance(m, nn.BatchNorm1d) for m in d.modules())
    assert any(isinstance(m, nn.Dropout) for m in d.modules())
    _step(g, d, torch.randn(8, 2), cfg.noise_dim)


def test_empty_hidden_list_gives_a_logistic_regression_discriminator() -> None:
    _, d = build_models(dataclasses.replace(TINY, d_hidden=()), (1,))
    assert count_parameters(d) == 2  # one weight, one bias: can match the mean only


# -- wrappers -------------------------------------------------------------------------------


def test_packed_discriminator_judges_pack_samples_at_once() -> None:
    g, d = build_models(dataclasses.replace(TINY, pack=2), (3,))
    assert isinstance(d, Packed)
    x = torch.randn(8, 3)
    assert d(x).shape == (4,)
    # the packed D is the inner D on pairs of samples, concatenated along the feature axis
    pairs = torch.cat([x[0::2], x[1::2]], dim=1)
    torch.testing.assert_close(d(x), d.inner(pairs))
    with pytest.raises(ValueError, match="multiple of pack 2"):
        d(torch.randn(5, 3))


@pytest.mark.parametrize("mode", ["concat", "projection"])
def test_conditional_models_take_labels(mode: str) -> None:
    torch.manual_seed(0)
    cfg = dataclasses.replace(TINY, conditional=mode, num_classes=4, embed_dim=2)
    g, d = build_models(cfg, (2,))
    z, y = torch.randn(6, 3), torch.tensor([0, 1, 2, 3, 0, 1])
    x = g(z, y)
    assert x.shape == (6, 2) and d(x, y).shape == (6,)
    # the label changes the output of both networks
    assert not torch.equal(g(z, y), g(z, (y + 1) % 4))
    assert not torch.equal(d(x, y), d(x, (y + 1) % 4))


def test_acgan_discriminator_has_a_class_head() -> None:
    torch.manual_seed(0)
    cfg = dataclasses.replace(TINY, conditional="acgan", num_classes=4, embed_dim=2)
    g, d = build_models(cfg, (2,))
    z, y = torch.randn(6, 3), torch.tensor([0, 1, 2, 3, 0, 1])
    x = g(z, y)
    out = d(x, y)
    logits, classes = d.logits_and_classes(x)
    assert out.shape == (6,) and classes.shape == (6, 4)
    torch.testing.assert_close(logits, out)
    # the adversarial logit does not see the label; the class head sees only x
    assert torch.equal(d(x, (y + 1) % 4), out)
    h = d.inner.features(x)
    torch.testing.assert_close(classes, d.classify(h))


def _top_singular_values(d: nn.Module) -> list[float]:
    """Largest singular value of every linear map's effective weight in ``d``."""
    return [
        float(torch.linalg.matrix_norm(m.weight.detach(), ord=2))
        for m in d.modules()
        if isinstance(m, nn.Linear)
    ]


@pytest.mark.parametrize("act", ["leaky_relu", "maxout"])
def test_spectral_norm_bounds_every_mlp_discriminator_layer(act: str) -> None:
    """--spectral-norm on an MLP: after power iterations every linear map of D (hidden
    layers, maxout units, head) has spectral norm 1; without it the same init does not."""
    cfg = dataclasses.replace(TINY, d_hidden=(64, 64), d_activation=act)
    torch.manual_seed(0)
    _, plain = build_models(cfg, (5,))
    for m in plain.modules():
        if isinstance(m, nn.Linear):
            m.weight.data.mul_(4.0)
    assert max(_top_singular_values(plain)) > 1.5
    torch.manual_seed(0)
    g, d = build_models(dataclasses.replace(cfg, spectral_norm=True), (5,))
    for m in d.modules():
        if isinstance(m, nn.Linear):
            m.parametrizations.weight.original.data.mul_(4.0)
    for _ in range(30):  # the power iteration runs once per training-mode forward
        d(torch.randn(16, 5))
    sigmas = _top_singular_values(d)
    assert len(sigmas) == 3 and all(abs(s - 1.0) < 1e-2 for s in sigmas), sigmas
    assert not any(isinstance(m, nn.Linear) and hasattr(m, "parametrizations") for m in g.modules())
    _step(g, d, torch.randn(8, 5), cfg.noise_dim)


@pytest.mark.parametrize("mode", ["concat", "projection", "acgan", "projection-ac"])
def test_packing_with_conditional_models_keeps_each_sample_with_its_label(mode: str) -> None:
    """--pack with --conditional: D judges (B / pack,) packs of consecutive samples, each
    carrying its own label; swapping labels *within* one pack changes that pack's score
    only, and a pack's score does not depend on any other pack's samples."""
    torch.manual_seed(0)
    cfg = dataclasses.replace(TINY, conditional=mode, num_classes=4, embed_dim=2, pack=2)
    g, d = build_models(cfg, (3,))
    x, y = torch.randn(8, 3), torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    out = d(x, y)
    assert out.shape == (4,)
    # pack j is samples 2j, 2j+1: changing sample 2 (pack 1) moves only pack 1's score
    x2 = x.clone()
    x2[2] += 1.0
    changed = (d(x2, y) != out).tolist()
    assert changed == [False, True, False, False]
    if mode in ("acgan", "projection-ac"):  # the class head still names every sample's class
        assert d.logits_and_classes(x, y)[1].shape == (8, 4)
    if mode != "acgan":  # the label of sample 3 (pack 1) matters to pack 1 only
        y2 = y.clone()
        y2[3] = 0
        assert (d(x, y2) != out).tolist() == [False, True, False, False]
    _ = g(torch.randn(8, 3), y)
    with pytest.raises(ValueError, match="multiple of pack 2"):
        d(torch.randn(5, 3), y[:5])


def test_packing_with_a_conditional_model_trains(tmp_path) -> None:
    """End to end: a packed conditional DCGAN on labelled digits trains and evaluates."""
    from ganforge import TrainConfig, train

    cfg = TrainConfig(
        dataset="digits",
        preset="dcgan",
        steps=3,
        batch_size=16,
        device="cpu",
        sample_every=0,
        eval_samples=100,
        out=str(tmp_path / "run"),
        model={"conditional": "projection", "pack": 2, "base_width": 8, "noise_dim": 8},
    )
    result = train(cfg)
    assert result.step == 3 and math.isfinite(result.metrics["fid"])


def test_conditional_model_needs_classes() -> None:
    with pytest.raises(ValueError, match="num_classes"):
        build_models(dataclasses.replace(TINY, conditional="concat", num_classes=1), (2,))


# -- registries -----------------------------------------------------------------------------


def test_builtin_presets_are_registered() -> None:
    assert {"toy1d", "mlp1d", "mlp2d", "toy2d", "mlp-mnist", "mlp-tabular"} <= set(list_presets())
    assert get_preset("mlp2d").model.noise_dim == 100
    assert get_preset("mlp2d").model.g_hidden == (256, 256, 256)
    assert get_preset("toy1d").model.d_hidden == ()


def test_unknown_preset_and_architecture_list_the_valid_names() -> None:
    with pytest.raises(ValueError, match="unknown preset 'nope'; choose one of: .*mlp1d"):
        get_preset("nope")
    with pytest.raises(ValueError, match="unknown model architecture 'nope'.*mlp"):
        build_models(dataclasses.replace(TINY, arch="nope"), (2,))


def test_model_registration_is_validated() -> None:
    with pytest.raises(TypeError, match="callable"):
        register_model("not-callable", 3)
    with pytest.raises(ValueError, match="already registered"):
        register_model("mlp", lambda cfg, shape: None)
    with pytest.raises(ValueError, match="unknown architecture"):
        register_preset(Preset("x-test", dataclasses.replace(TINY, arch="nope"), ""))
    with pytest.raises(ValueError, match="already registered"):
        register_preset(Preset("mlp1d", TINY, ""))
