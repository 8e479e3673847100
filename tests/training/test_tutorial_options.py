"""The tutorials' knobs: a uniform latent (--noise uniform) and the simultaneous update
(--update simultaneous: one G forward and one D pass on the fakes serve both phases,
G's gradient through the pre-update D); bad values are one line and exit 2."""

from __future__ import annotations

import copy

import pytest
import torch

from conftest import run_cli, tiny_config
from ganforge.training.sampling import draw_noise
from ganforge.training.trainer import Trainer


def _weights(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def test_uniform_noise_is_uniform_on_minus_one_one() -> None:
    z = draw_noise((20000, 4), "uniform", torch.Generator().manual_seed(0))
    assert z.min() >= -1 and z.max() <= 1
    hist = torch.histc(z, bins=10, min=-1, max=1) / z.numel()
    assert torch.allclose(hist, torch.full((10,), 0.1), atol=0.01)  # flat, not bell-shaped
    t = draw_noise((20000, 4), "uniform", torch.Generator().manual_seed(0), truncation=0.5)
    assert t.abs().max() <= 0.5 and t.abs().max() > 0.49


def test_a_uniform_latent_run_trains_and_samples_from_its_latent(tmp_path) -> None:
    t = Trainer(tiny_config(noise="uniform", noise_std=2.0, out=str(tmp_path / "r")))
    z = t.batches.noise()
    assert z.abs().max() <= 2.0 and z.abs().max() > 1.9 and z.abs().min() < 0.05
    assert t.snapshots.noise.abs().max() <= 2.0
    t.fit()
    import ganforge

    a = ganforge.sample(str(tmp_path / "r"), n=50, seed=3)
    b = ganforge.sample(str(tmp_path / "r"), n=50, seed=3)
    assert (a == b).all()


@pytest.mark.parametrize("update", ["simultaneous", "alternating"])
def test_simultaneous_g_step_goes_through_the_pre_update_discriminator(update: str) -> None:
    """Two runs that differ only in D's learning rate: with the simultaneous update G's
    step is computed before D moves, so G ends bitwise equal; alternating, G steps through
    the updated D, so it differs."""
    gs = []
    for lr_d in (1e-4, 0.5):
        t = Trainer(tiny_config(update=update, lr_d=lr_d, batch_size=16))
        t.train_step()
        gs.append(_weights(t.G))
    same = all(torch.equal(a, b) for a, b in zip(*gs, strict=True))
    assert same is (update == "simultaneous")


def test_simultaneous_step_matches_a_hand_written_tutorial_step() -> None:
    t = Trainer(tiny_config(update="simultaneous", batch_size=16))
    G0, D0 = copy.deepcopy(t.G), copy.deepcopy(t.D)
    data_state, noise_state = t.data_gen.get_state(), t.noise_gen.get_state()
    t.train_step()
    # the same step by hand: one fake batch, both losses from D0, then both updates
    data_gen = torch.Generator().set_state(data_state)
    noise_gen = torch.Generator().set_state(noise_state)
    real, _ = t.data.sample_batch(16, data_gen)
    z = torch.randn((16, t.cfg.model.noise_dim), generator=noise_gen) * t.cfg.noise_std
    fake = G0(z)
    loss = t.loss
    g_grads = torch.autograd.grad(loss.g_loss(D0(fake)), list(G0.parameters()))
    d_loss = loss.d_loss(D0(real), D0(fake.detach()))
    d_grads = torch.autograd.grad(d_loss, list(D0.parameters()))
    for net, grads, lr in ((G0, g_grads, t.cfg.lr_g), (D0, d_grads, t.cfg.lr_d)):
        opt = torch.optim.Adam(net.parameters(), lr=lr, betas=t.cfg.betas)
        for p, g in zip(net.parameters(), grads, strict=True):
            p.grad = g
        opt.step()
    for mine, ref in ((t.G, G0), (t.D, D0)):
        for a, b in zip(mine.parameters(), ref.parameters(), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_simultaneous_update_runs_one_generator_forward_per_step() -> None:
    t = Trainer(tiny_config(update="simultaneous"))
    calls = []
    t.G.register_forward_hook(lambda *a: calls.append(1))
    t.train_step()
    t.train_step()
    assert len(calls) == 2


def test_simultaneous_update_runs_discriminator_once_on_each_batch() -> None:
    """D's pass on the fakes serves both updates, as in the TF tutorial: D sees the real
    and the fake batch once each per step (2B rows), not the fakes a second time (3B)."""
    t = Trainer(tiny_config(update="simultaneous", batch_size=16))
    rows = []
    t.D.register_forward_hook(lambda m, args, out: rows.append(args[0].shape[0]))
    t.train_step()
    assert sum(rows) == 2 * 16


@pytest.mark.parametrize(
    "options",
    [
        {"r1_weight": 1.0, "r1_every": 1},
        {"loss": "wgan-gp"},
        {"label_smoothing": 0.1},
        {"ema": 0.99},
    ],
)
def test_simultaneous_step_with_every_d_term(options: dict) -> None:
    """The shared D pass keeps each term: R1 on the real batch, the penalty on detached
    fakes, smoothed targets. Both networks move and the logged terms are finite."""
    t = Trainer(tiny_config(update="simultaneous", batch_size=16, **options))
    g0, d0 = _weights(t.G), _weights(t.D)
    for _ in range(2):
        stats = t.train_step()
    assert torch.isfinite(stats).all()
    for before, net in ((g0, t.G), (d0, t.D)):
        assert not all(torch.equal(a, b) for a, b in zip(before, _weights(net), strict=True))
    for name in t.objective.term_names():
        assert name in t._terms and torch.isfinite(t._terms[name])


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"r1_weight": 1.0, "r1_every": 1},
        {"loss": "wgan-gp"},
        {"label_smoothing": 0.1},
        {"loss": "hinge"},
    ],
)
def test_the_shared_d_pass_gives_the_terms_and_gradients_of_separate_passes(
    options: dict,
) -> None:
    """``Objective.shared_phases`` (one D pass on the fakes) against ``d_phase`` on
    detached fakes and ``g_loss`` on a second pass: the same terms, and the same D and G
    gradients, up to float rounding."""
    t = Trainer(tiny_config(update="simultaneous", batch_size=16, **options))
    obj = t.objective
    real, _ = t.batches.real()
    z = t.batches.noise()
    noise_state, updates = obj.noise.get_state(), obj.d_updates
    params_g, params_d = list(t.G.parameters()), list(t.D.parameters())

    fake = obj.generate(z, None)
    phase, g_loss = obj.shared_phases(real, fake, None, z)
    g_shared = torch.autograd.grad(g_loss, params_g, retain_graph=True)
    d_shared = torch.autograd.grad(phase.total, params_d)

    obj.noise.set_state(noise_state)
    obj.d_updates = updates
    fake = obj.generate(z, None)
    sep = obj.d_phase(real, fake.detach(), None)
    g_sep = torch.autograd.grad(obj.g_loss(fake, None, real, z), params_g)
    d_sep = torch.autograd.grad(sep.total, params_d)

    assert phase.terms.keys() == sep.terms.keys()
    for name in sep.terms:
        torch.testing.assert_close(phase.terms[name], sep.terms[name])
    for a, b in zip((*g_shared, *d_shared), (*g_sep, *d_sep), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--noise", "gaussian3"), "noise must be one of gaussian, uniform; got 'gaussian3'"),
        (("--update", "sometimes"), "update must be one of alternating, simultaneous"),
        (("--betas", "2,0"), "betas must be < 1.0, got 2.0"),
        (("--betas", "0.5"), "betas must be two numbers"),
    ],
)
def test_bad_tutorial_options_are_one_line_and_exit_2(tmp_path, flags, message) -> None:
    proc = run_cli("train", *flags, "--dry-run", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr
