"""The training loop: phase scheduling (n_critic), weight clipping after every critic
step, label targets, optimizer defaults, EMA, exact reproducibility, and a learning test."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import tiny_config
from ganforge import objective as objective_module
from ganforge.config import TrainConfig
from ganforge.defaults import resolve
from ganforge.metrics.lowdim import wasserstein1
from ganforge.training.trainer import Trainer


def _params(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.state_dict().values()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def _count_steps(t: Trainer) -> list[str]:
    """Record every optimizer update, in order, as 'D' or 'G'."""
    events: list[str] = []
    for name, step in (("D", t.step_d), ("G", t.step_g)):
        original = step.direct

        def update(*args, _orig=original, _name=name, **kwargs):
            events.append(_name)
            return _orig(*args, **kwargs)

        step.direct = update
    return events


# -- phase scheduling -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "n_critic", "expected"),
    [
        ("nonsaturating", None, 1),
        ("minimax", None, 1),
        ("hinge", None, 1),
        ("least-squares", None, 1),
        ("wasserstein", None, 5),
        ("wgan-gp", None, 5),
        ("nonsaturating", 3, 3),
        ("wasserstein", 2, 2),
    ],
)
def test_n_critic_discriminator_steps_per_generator_step(loss, n_critic, expected) -> None:
    t = Trainer(tiny_config(loss=loss, n_critic=n_critic))
    events = _count_steps(t)
    for _ in range(3):
        t.train_step()
    assert events == (["D"] * expected + ["G"]) * 3
    assert t.step == 3


def test_generator_step_leaves_the_discriminator_alone_and_vice_versa() -> None:
    t = Trainer(tiny_config())
    d_before, g_before = _params(t.D), _params(t.G)
    t.g_step()
    assert _same(_params(t.D), d_before) and not _same(_params(t.G), g_before)
    assert all(p.grad is None for p in t.D.parameters())
    assert all(p.requires_grad for p in t.D.parameters())  # unfrozen again
    g_before = _params(t.G)
    t.d_step()
    assert _same(_params(t.G), g_before) and not _same(_params(t.D), d_before)


# -- weight clipping ------------------------------------------------------------------------


def _inflate(module: torch.nn.Module, value: float = 1.0) -> None:
    with torch.no_grad():
        for i, p in enumerate(module.parameters()):
            p.fill_(value if i % 2 else -value)


def test_wasserstein_clips_the_critic_after_every_critic_step(monkeypatch) -> None:
    t = Trainer(tiny_config(loss="wasserstein", lr_d=0.5))
    assert t.cfg.clip_value == 0.01
    clips: list[float] = []
    original = objective_module.clip_weights_

    def spy(params, c):
        original(params, c)
        assert len(params) == len(list(t.D.parameters())), "all of D, nothing else"
        bound = max(p.abs().max().item() for p in t.D.parameters())
        clips.append(bound)

    monkeypatch.setattr(objective_module, "clip_weights_", spy)
    _inflate(t.D)
    t.train_step()
    assert len(clips) == 5, "one clip per critic step"
    assert all(b <= 0.01 for b in clips)
    assert max(p.abs().max().item() for p in t.D.parameters()) <= 0.01
    assert max(p.abs().max().item() for p in t.G.parameters()) > 0.01, "G is never clipped"


def test_every_single_critic_step_ends_within_the_clip_range() -> None:
    t = Trainer(tiny_config(loss="wasserstein", clip_value=0.05, lr_d=1.0))
    for _ in range(4):
        _inflate(t.D, 3.0)
        t.d_step()
        values = torch.cat([p.flatten() for p in t.D.parameters()])
        assert values.abs().max() <= 0.05
        assert (values.abs() == 0.05).any()  # clipped, not merely small


def test_gradient_penalty_loss_does_not_clip() -> None:
    t = Trainer(tiny_config(loss="wgan-gp"))
    assert t.cfg.clip_value == 0.0 and t.cfg.gp_weight == 10.0
    _inflate(t.D)
    t.train_step()
    assert max(p.abs().max().item() for p in t.D.parameters()) > 0.5


def _record_values(monkeypatch, name: str) -> list[float]:
    """Wrap the objective's regulariser ``name`` so each value it returns is recorded."""
    calls: list[float] = []
    original = getattr(objective_module, name)

    def spy(*args, **kwargs):
        value = original(*args, **kwargs)
        calls.append(value.item())
        return value

    monkeypatch.setattr(objective_module, name, spy)
    return calls


def test_gradient_penalty_enters_the_critic_loss(monkeypatch) -> None:
    calls = _record_values(monkeypatch, "gradient_penalty")
    t = Trainer(tiny_config(loss="wgan-gp", gp_weight=2.0))
    d_loss, d_real, d_fake = t.d_step()
    assert len(calls) == 1
    plain = (d_fake.mean() - d_real.mean()).item()
    assert d_loss.item() == pytest.approx(plain + 2.0 * calls[0], rel=1e-5, abs=1e-6)


def test_lazy_r1_enters_every_kth_d_loss_weighted_k_times(monkeypatch) -> None:
    calls = _record_values(monkeypatch, "r1_penalty")
    t = Trainer(tiny_config(r1_weight=0.5, r1_every=3))
    for i in range(7):
        d_loss, d_real, d_fake = t.d_step()
        plain = t.loss.d_loss(d_real, d_fake).item()
        if i % 3 == 0:  # updates 0, 3, 6 carry 0.5 * gamma * k * R1
            assert calls, "R1 missing on a k-th update"
            assert d_loss.item() == pytest.approx(plain + 0.5 * 0.5 * 3 * calls.pop(), rel=1e-5)
        else:
            assert d_loss.item() == pytest.approx(plain, rel=1e-6)
    assert not calls


# -- label targets --------------------------------------------------------------------------


def _spy_targets(t: Trainer) -> list[tuple]:
    seen: list[tuple] = []
    inner = t.objective.loss.d_loss

    def d_loss(real, fake, real_target=1.0, fake_target=0.0):
        seen.append((real_target, fake_target))
        return inner(real, fake, real_target, fake_target)

    t.objective.loss = dataclasses.replace(t.objective.loss, d_loss=d_loss)
    return seen


def test_label_smoothing_reaches_the_discriminator_loss() -> None:
    t = Trainer(tiny_config(label_smoothing=0.1))
    seen = _spy_targets(t)
    t.train_step()
    assert seen == [(pytest.approx(0.9), 0.0)]


def test_label_noise_reaches_the_discriminator_loss() -> None:
    t = Trainer(tiny_config(label_noise=0.1, batch_size=256))
    seen = _spy_targets(t)
    t.train_step()
    ((real_t, fake_t),) = seen
    assert real_t.shape == fake_t.shape == (256,)
    assert real_t.min() >= 0.9 and real_t.max() <= 1.1 and real_t.std() > 0.03
    assert fake_t.min() >= -0.1 and fake_t.max() <= 0.1 and fake_t.std() > 0.03


def test_plain_targets_by_default() -> None:
    t = Trainer(tiny_config())
    seen = _spy_targets(t)
    t.train_step()
    assert seen == [(1.0, 0.0)]


@pytest.mark.parametrize("loss", ["wasserstein", "wgan-gp", "hinge"])
def test_label_tricks_are_refused_for_critic_losses(loss: str) -> None:
    with pytest.raises(ValueError, match="label smoothing/noise"):
        resolve(TrainConfig(loss=loss, label_smoothing=0.1))


# -- optimizers and resolved defaults -------------------------------------------------------


def test_wasserstein_uses_rmsprop_5e5() -> None:
    t = Trainer(tiny_config(loss="wasserstein"))
    for opt in (t.opt_d, t.opt_g):
        assert isinstance(opt, torch.optim.RMSprop)
        assert opt.param_groups[0]["lr"] == 5e-5


def test_wgan_gp_and_default_use_adam() -> None:
    t = Trainer(tiny_config(loss="wgan-gp"))
    assert isinstance(t.opt_d, torch.optim.Adam)
    assert t.opt_d.param_groups[0]["betas"] == (0.0, 0.9)
    assert t.opt_d.param_groups[0]["lr"] == 1e-4
    t = Trainer(tiny_config())
    assert isinstance(t.opt_g, torch.optim.Adam)
    assert t.opt_g.param_groups[0]["betas"] == (0.5, 0.999)
    assert t.opt_g.param_groups[0]["lr"] == 2e-4


def test_explicit_options_override_the_loss_defaults() -> None:
    cfg = resolve(TrainConfig(loss="wasserstein", optimizer="adam", lr_d=1e-3, clip_value=0.1))
    assert (cfg.optimizer, cfg.lr_d, cfg.lr_g, cfg.clip_value, cfg.n_critic) == (
        "adam",
        1e-3,
        5e-5,
        0.1,
        5,
    )


def test_resolve_fills_dataset_and_preset_defaults() -> None:
    cfg = resolve(TrainConfig(dataset="gaussian1d", steps=100))
    assert cfg.preset == "mlp1d" and cfg.noise_std == 2.0 and cfg.eval_samples == 10000
    assert cfg.model.g_hidden == (32, 32)
    assert cfg.sample_every == 10 and cfg.checkpoint_every == 20
    cfg = resolve(TrainConfig(dataset="ring8", preset="mlp2d"), {"g_hidden": "8,8"})
    assert cfg.model.noise_dim == 100 and cfg.model.g_hidden == (8, 8)


# -- EMA ------------------------------------------------------------------------------------


@pytest.mark.parametrize("update", ["alternating", "simultaneous"])
def test_ema_is_an_exponential_average_of_the_generator(update: str) -> None:
    """decay = min(ema, (1 + t) / (10 + t)) at generator step t (warm-up, then ema), for
    both update rules."""
    t = Trainer(tiny_config(ema=0.9, update=update))
    for step in range(3):
        ema_before = [p.detach().clone() for p in t.G_ema.parameters()]
        t.train_step()
        decay = min(0.9, (1 + step) / (10 + step))
        params = zip(ema_before, t.G_ema.parameters(), t.G.parameters(), strict=True)
        for e0, e1, g in params:
            expected = decay * e0 + (1 - decay) * g.detach()
            torch.testing.assert_close(e1, expected, rtol=1e-6, atol=1e-7)
    t.step = 200  # past the warm-up the decay is the configured one
    ema_before = [p.detach().clone() for p in t.G_ema.parameters()]
    t.train_step()
    for e0, e1, g in zip(ema_before, t.G_ema.parameters(), t.G.parameters(), strict=True):
        torch.testing.assert_close(e1, 0.9 * e0 + 0.1 * g.detach(), rtol=1e-6, atol=1e-7)
    assert t.sampling_generator is t.G_ema
    assert not any(p.requires_grad for p in t.G_ema.parameters())


# -- reproducibility ------------------------------------------------------------------------


def _run_weights(tmp_path: Path, name: str, **kw) -> list[torch.Tensor]:
    t = Trainer(tiny_config(steps=6, out=str(tmp_path / name), checkpoint_every=3, **kw))
    t.fit()
    return _params(t.G) + _params(t.D)


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp"])
def test_same_seed_gives_bitwise_identical_weights(tmp_path: Path, no_plots, loss: str) -> None:
    a = _run_weights(tmp_path, "a", seed=7, loss=loss)
    b = _run_weights(tmp_path, "b", seed=7, loss=loss)
    c = _run_weights(tmp_path, "c", seed=8, loss=loss)
    assert _same(a, b)
    assert not any(torch.equal(x, y) for x, y in zip(a, c, strict=True))


def test_same_seed_gives_identical_samples_and_metrics(tmp_path: Path, no_plots) -> None:
    runs = []
    for name in ("a", "b"):
        t = Trainer(tiny_config(steps=5, seed=3, out=str(tmp_path / name)))
        result = t.fit()
        runs.append((t.sample(100, seed=1), result.metrics))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1]["w1"] == runs[1][1]["w1"]
    assert runs[0][1]["mmd"] == runs[1][1]["mmd"]


# -- learning -------------------------------------------------------------------------------


def test_gaussian1d_generator_learns_the_data_mean() -> None:
    """Start G three units away from the data and train for a few hundred steps: the
    sample mean must come back to 10 and the spread approach 1. Breaking the loss signs,
    the optimizer or the data pipeline makes this fail (G then drifts away)."""
    cfg = TrainConfig(dataset="gaussian1d", steps=600, batch_size=64, seed=0, ema=0.99)
    t = Trainer(dataclasses.replace(cfg, device="cpu"))
    with torch.no_grad():
        t.G.net[-2].bias.add_(3.0)  # model space is standardised: +3 native units
        t.G_ema.load_state_dict(t.G.state_dict())
    real = np.random.default_rng(123).normal(10.0, 1.0, size=(5000, 1))
    before = t.sample(5000, seed=1)
    assert abs(before.mean() - 13.0) < 0.5
    w1_before = wasserstein1(before, real)
    for _ in range(600):
        t.train_step()
    after = t.sample(5000, seed=1)
    assert abs(after.mean() - 10.0) < 0.3
    assert 0.5 < after.std() < 1.6
    assert wasserstein1(after, real) < 0.25 * w1_before
