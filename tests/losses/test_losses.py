"""Every registered loss: values against hand-computed numbers, gradient directions,
saturation behaviour, label targets and the defaults each loss brings."""

from __future__ import annotations

import math

import pytest
import torch

from ganforge.losses import get_loss, label_targets, list_losses

LN3 = math.log(3.0)  # sigmoid(ln 3) = 3/4, sigmoid(-ln 3) = 1/4


def t(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


# (loss, real logits, fake logits, expected d_loss, expected g_loss), all by hand:
#   BCE D: -mean log s(real) - mean log(1 - s(fake)); s(0) = 1/2, s(ln 3) = 3/4.
#   minimax G: mean log(1 - s(fake)); nonsaturating G: -mean log s(fake).
#   wasserstein/wgan-gp D: mean fake - mean real; G: -mean fake.
#   hinge D: mean relu(1 - real) + mean relu(1 + fake); G: -mean fake.
#   least squares D: 1/2 mean (real - 1)^2 + 1/2 mean fake^2; G: 1/2 mean (fake - 1)^2.
CASES = [
    # D: -(ln 1/2 + ln 3/4)/2 twice = ln 2 + ln 4/3 = ln 8/3; G: (ln 1/2 + ln 3/4)/2.
    ("minimax", t(0.0, LN3), t(0.0, -LN3), math.log(8 / 3), 0.5 * math.log(3 / 8)),
    # G: -(ln 1/2 + ln 1/4)/2 = (3/2) ln 2.
    ("nonsaturating", t(0.0, LN3), t(0.0, -LN3), math.log(8 / 3), 1.5 * math.log(2.0)),
    # D: mean(0.5, -0.5) - mean(1, 2, 3) = 0 - 2; G: -0.
    ("wasserstein", t(1.0, 2.0, 3.0), t(0.5, -0.5), -2.0, 0.0),
    # D: mean(4, 1) - mean(1, 3) = 2.5 - 2; G: -2.5.
    ("wgan-gp", t(1.0, 3.0), t(4.0, 1.0), 0.5, -2.5),
    # D: relu(1 - [2, .5, -1]) = [0, .5, 2] -> 5/6; relu(1 + [-2, 0, .5]) = [0, 1, 1.5] -> 5/6.
    # G: -mean(-2, 0, .5) = 0.5.
    ("hinge", t(2.0, 0.5, -1.0), t(-2.0, 0.0, 0.5), 5 / 3, 0.5),
    # D: 1/2 mean(0, 4) + 1/2 mean(0, 4) = 2; G: 1/2 mean(1, 1) = 0.5.
    ("least-squares", t(1.0, 3.0), t(0.0, 2.0), 2.0, 0.5),
]


@pytest.mark.parametrize(("name", "real", "fake", "d_expected", "g_expected"), CASES)
def test_loss_values_by_hand(name, real, fake, d_expected, g_expected) -> None:
    loss = get_loss(name)
    assert loss.d_loss(real, fake).item() == pytest.approx(d_expected, abs=1e-12)
    assert loss.g_loss(fake).item() == pytest.approx(g_expected, abs=1e-12)


@pytest.mark.parametrize(("name", "real", "fake", "d_expected", "g_expected"), CASES)
def test_losses_accept_column_logits(name, real, fake, d_expected, g_expected) -> None:
    """D outputs of shape (B, 1) give the same numbers as (B,)."""
    loss = get_loss(name)
    assert loss.d_loss(real[:, None], fake[:, None]).item() == pytest.approx(d_expected, abs=1e-12)
    assert loss.g_loss(fake[:, None]).item() == pytest.approx(g_expected, abs=1e-12)


def test_every_registered_loss_is_covered() -> None:
    assert sorted(c[0] for c in CASES) == list_losses()


# Logits inside every loss's active region: hinge margins not yet met (real < 1,
# fake > -1) and least-squares outputs between its targets 0 and 1.
REAL = t(-0.5, 0.3)
FAKE = t(0.2, 0.5)


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_gradient_directions(name: str) -> None:
    """D raises its score on real data and lowers it on fakes; G raises D's score on fakes."""
    loss = get_loss(name)
    real, fake = REAL.clone().requires_grad_(True), FAKE.clone().requires_grad_(True)
    loss.d_loss(real, fake).backward()
    assert (real.grad < 0).all(), "minimising the D loss must push D(real) up"
    assert (fake.grad > 0).all(), "minimising the D loss must push D(fake) down"

    fake = FAKE.clone().requires_grad_(True)
    loss.g_loss(fake).backward()
    assert (fake.grad < 0).all(), "minimising the G loss must push D(G(z)) up"


def _g_grad(name: str, logit: float) -> float:
    x = torch.tensor([logit], dtype=torch.float64, requires_grad=True)
    get_loss(name).g_loss(x).backward()
    return x.grad.item()


def test_minimax_generator_gradient_vanishes_when_d_rejects_fakes() -> None:
    # d/dx log(1 - s(x)) = -s(x): at x = -10, D(G(z)) = s(-10) ~ 4.5e-5.
    assert _g_grad("minimax", -10.0) == pytest.approx(-1 / (1 + math.exp(10.0)), rel=1e-9)
    grads = [abs(_g_grad("minimax", x)) for x in (-2.0, -5.0, -10.0, -20.0)]
    assert grads == sorted(grads, reverse=True)
    assert grads[-1] < 1e-8


def test_nonsaturating_generator_gradient_stays_strong_when_d_rejects_fakes() -> None:
    # d/dx -log s(x) = -s(-x) -> -1 as x -> -inf.
    for x in (-5.0, -10.0, -20.0):
        assert _g_grad("nonsaturating", x) == pytest.approx(-1 / (1 + math.exp(x)), rel=1e-9)
        assert _g_grad("nonsaturating", x) < -0.99


def test_minimax_and_nonsaturating_share_the_discriminator_loss() -> None:
    real, fake = t(0.2, -1.0, 3.0), t(-0.7, 0.4, 1.5)
    a = get_loss("minimax").d_loss(real, fake)
    b = get_loss("nonsaturating").d_loss(real, fake)
    assert a.item() == b.item()


def test_hinge_gradients_vanish_beyond_the_margin() -> None:
    real, fake = t(1.5, 2.0).requires_grad_(True), t(-1.5, -3.0).requires_grad_(True)
    get_loss("hinge").d_loss(real, fake).backward()
    assert torch.equal(real.grad, torch.zeros(2, dtype=torch.float64))
    assert torch.equal(fake.grad, torch.zeros(2, dtype=torch.float64))


def test_critic_losses_ignore_targets() -> None:
    real, fake = t(1.0, 2.0), t(0.0, -1.0)
    for name in ("wasserstein", "wgan-gp", "hinge"):
        d = get_loss(name).d_loss
        assert d(real, fake, 0.7, 0.2).item() == d(real, fake).item()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # smoothed real target 0.9, logit ln 3: -(0.9 ln 3/4 + 0.1 ln 1/4); fake logit 0: ln 2.
        ("nonsaturating", -(0.9 * math.log(0.75) + 0.1 * math.log(0.25)) + math.log(2.0)),
        # 1/2 (ln3 - 0.9)^2 + 1/2 (0 - 0)^2
        ("least-squares", 0.5 * (LN3 - 0.9) ** 2),
    ],
)
def test_classifier_losses_use_smoothed_targets(name: str, expected: float) -> None:
    d = get_loss(name).d_loss(t(LN3), t(0.0), 0.9, 0.0)
    assert d.item() == pytest.approx(expected, abs=1e-12)


def test_bce_accepts_per_sample_targets() -> None:
    real_t, fake_t = t(0.95, 1.05), t(0.05, -0.05)
    got = get_loss("nonsaturating").d_loss(t(LN3, LN3), t(0.0, 0.0), real_t, fake_t)
    # fake logit 0: every target gives ln 2; real logit ln 3, target r: -r ln 3/4 - (1-r) ln 1/4
    per_real = [-(r * math.log(0.75) + (1 - r) * math.log(0.25)) for r in (0.95, 1.05)]
    assert got.item() == pytest.approx(sum(per_real) / 2 + math.log(2.0), abs=1e-12)


# -- label smoothing and label noise --------------------------------------------------------


def test_label_smoothing_is_one_sided() -> None:
    real_t, fake_t = label_targets(8, smoothing=0.1, noise=0.0, generator=None)
    assert real_t == pytest.approx(0.9)
    assert fake_t == 0.0


def test_no_smoothing_no_noise_gives_plain_targets() -> None:
    assert label_targets(8, 0.0, 0.0, None) == (1.0, 0.0)


def test_label_noise_draws_uniform_targets_per_sample() -> None:
    gen = torch.Generator().manual_seed(0)
    real_t, fake_t = label_targets(20_000, smoothing=0.0, noise=0.1, generator=gen)
    assert real_t.shape == fake_t.shape == (20_000,)
    assert real_t.min() >= 0.9 and real_t.max() <= 1.1
    assert fake_t.min() >= -0.1 and fake_t.max() <= 0.1
    # uniform on the whole interval: it reaches both ends, mean at the centre, var a^2/3
    assert real_t.min() < 0.901 and real_t.max() > 1.099
    assert fake_t.min() < -0.099 and fake_t.max() > 0.099
    assert real_t.mean().item() == pytest.approx(1.0, abs=0.003)
    assert fake_t.mean().item() == pytest.approx(0.0, abs=0.003)
    assert fake_t.var().item() == pytest.approx(0.1**2 / 3, rel=0.05)
    # real and fake noise are independent draws
    assert abs(torch.corrcoef(torch.stack([real_t, fake_t]))[0, 1].item()) < 0.05


def test_label_noise_is_reproducible_from_the_generator() -> None:
    a = label_targets(16, 0.0, 0.1, torch.Generator().manual_seed(3))
    b = label_targets(16, 0.0, 0.1, torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_smoothing_and_noise_combine() -> None:
    gen = torch.Generator().manual_seed(1)
    real_t, fake_t = label_targets(5000, smoothing=0.1, noise=0.1, generator=gen)
    assert real_t.min() >= 0.8 - 1e-6 and real_t.max() <= 1.0 + 1e-6
    assert real_t.mean().item() == pytest.approx(0.9, abs=0.005)
    assert fake_t.abs().max() <= 0.1


# -- the defaults each loss brings -------------------------------------------------------------


def test_wasserstein_defaults_follow_the_paper() -> None:
    loss = get_loss("wasserstein")
    assert (loss.clip_value, loss.optimizer, loss.lr, loss.n_critic) == (0.01, "rmsprop", 5e-5, 5)
    assert loss.gp_weight == 0.0
    assert not loss.uses_targets and loss.output == "raw"


def test_wgan_gp_defaults_follow_the_paper() -> None:
    loss = get_loss("wgan-gp")
    assert loss.gp_weight == 10.0 and loss.clip_value is None and loss.n_critic == 5
    assert (loss.optimizer, loss.lr, loss.betas) == ("adam", 1e-4, (0.0, 0.9))


@pytest.mark.parametrize("name", ["minimax", "nonsaturating"])
def test_classifier_losses_read_probabilities(name: str) -> None:
    loss = get_loss(name)
    assert loss.uses_targets and loss.n_critic == 1 and loss.clip_value is None
    assert loss.d_output(t(0.0, LN3)).tolist() == pytest.approx([0.5, 0.75])
    assert loss.equilibrium == 0.5
