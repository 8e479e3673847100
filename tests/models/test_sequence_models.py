"""Sequence models: Gumbel-softmax statistics, the WGAN-GP penalty on relaxed one-hot
inputs, the temperature schedule, and tiny-model shape contracts (with prompts)."""

import math

import numpy as np
import pytest
import torch

from ganforge.config import ModelConfig
from ganforge.errors import ConfigError
from ganforge.losses import gradient_penalty
from ganforge.models import build_models, get_preset
from ganforge.models.sequence import GRUGenerator, gumbel_softmax
from ganforge.training.networks import set_progress


def test_gumbel_softmax_tends_to_one_hot_as_temperature_falls():
    torch.manual_seed(0)
    logits = torch.randn(2000, 6)
    u = torch.rand(2000, 6)
    for tau, floor in ((1.0, None), (0.1, 0.9), (1e-3, 0.999)):
        y = gumbel_softmax(logits, tau, uniform=u)
        assert torch.allclose(y.sum(dim=1), torch.ones(2000), atol=1e-5)
        if floor is not None:
            assert y.max(dim=1).values.median() > floor
    # the argmax does not depend on the temperature: the same Gumbel draw decides it
    assert torch.equal(
        gumbel_softmax(logits, 1.0, uniform=u).argmax(1),
        gumbel_softmax(logits, 1e-3, uniform=u).argmax(1),
    )
    assert gumbel_softmax(logits, 1.0, uniform=u).max(dim=1).values.median() < 0.9


def test_gumbel_sample_frequencies_match_the_probabilities():
    torch.manual_seed(1)
    p = torch.tensor([0.5, 0.25, 0.15, 0.07, 0.03])
    n = 40_000
    y = gumbel_softmax(torch.log(p).expand(n, -1), 0.5)
    freq = torch.bincount(y.argmax(dim=1), minlength=5).double() / n
    se = torch.sqrt(p * (1 - p) / n).double()
    assert ((freq - p).abs() < 4 * se).all(), (freq, p)  # within 4 standard errors
    # the mean relaxed sample is not the probabilities themselves at tau = 0.5; hard is
    hard = gumbel_softmax(torch.log(p).expand(n, -1), 0.5, hard=True)
    assert torch.equal(hard.sum(dim=1), torch.ones(n)) and set(hard.unique().tolist()) == {0, 1}


def test_straight_through_has_the_relaxed_gradient():
    logits = torch.tensor([[0.3, -1.0, 2.0]], requires_grad=True)
    u = torch.tensor([[0.2, 0.7, 0.4]])
    w = torch.tensor([[1.0, -2.0, 0.5]])
    hard = gumbel_softmax(logits, 0.7, hard=True, uniform=u)
    assert hard.tolist() == [[0.0, 0.0, 1.0]]
    (g_hard,) = torch.autograd.grad((hard * w).sum(), logits)
    logits2 = logits.detach().clone().requires_grad_(True)
    (g_soft,) = torch.autograd.grad((gumbel_softmax(logits2, 0.7, uniform=u) * w).sum(), logits2)
    assert torch.allclose(g_hard, g_soft)


def _relaxed_batch(b=4, v=5, length=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    real = torch.nn.functional.one_hot(torch.randint(v, (b, length), generator=g), v)
    real = real.permute(0, 2, 1).double()
    fake = torch.softmax(torch.randn(b, v, length, generator=g, dtype=torch.float64), dim=1)
    return real, fake


def test_gradient_penalty_on_relaxed_one_hot_inputs_by_hand():
    real, fake = _relaxed_batch()
    # a linear critic <w, x>: the gradient is w everywhere, so the penalty is (|w| - 1)^2
    w = torch.linspace(-1, 1, real[0].numel(), dtype=torch.float64).view(real[0].shape)
    gp = gradient_penalty(lambda x: (x * w).flatten(1).sum(1), real, fake)
    assert gp.item() == pytest.approx((w.norm().item() - 1) ** 2, rel=1e-12)
    # a quadratic critic sum(x^2): the gradient 2 x_hat at x_hat = a real + (1 - a) fake
    gen = torch.Generator().manual_seed(7)
    gp = gradient_penalty(lambda x: (x**2).flatten(1).sum(1), real, fake, gen)
    alpha = torch.rand((4, 1, 1), generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    r, f, a = real.numpy(), fake.numpy(), alpha.numpy()
    x_hat = a * r + (1 - a) * f
    norms = np.sqrt(((2 * x_hat) ** 2).reshape(4, -1).sum(axis=1))
    assert gp.item() == pytest.approx(float(np.mean((norms - 1) ** 2)), rel=1e-10)


def _tiny(preset: str, **overrides) -> ModelConfig:
    base = {**get_preset(preset).model.__dict__, "seq_width": 8, "seq_blocks": 2, "noise_dim": 4}
    return ModelConfig(**{**base, **overrides})


@pytest.mark.parametrize("preset", ["seq-conv", "seq-gru"])
@pytest.mark.parametrize("prompted", [False, True])
def test_tiny_models_shape_contract(preset, prompted):
    torch.manual_seed(0)
    v, length, b = 6, 7, 5
    cfg = _tiny(preset, conditional="prompt" if prompted else "none")
    G, D = build_models(cfg, (v, length))
    z = torch.randn(b, 4)
    y = torch.full((b, length), -1, dtype=torch.long)
    y[:, :3] = torch.tensor([1, 2, 3])
    y[0] = -1  # one row without a prompt
    for mode in ("train", "eval"):
        getattr(G, mode)()
        x = G(z, y if prompted else None)
        assert x.shape == (b, v, length)
        assert (x >= 0).all() and torch.allclose(x.sum(dim=1), torch.ones(b, length), atol=1e-5)
        if prompted:  # the prompt's positions are its one-hot tokens, exactly
            assert torch.equal(x[1:, :, :3].argmax(1), torch.tensor([1, 2, 3]).expand(b - 1, 3))
            assert torch.equal(x[1:, :, :3].amax(1), torch.ones(b - 1, 3))
    G.train()
    x = G(z, y if prompted else None)
    out = D(x, y)
    assert out.shape == (b,)
    out.sum().backward()
    assert all(p.grad is not None for p in G.parameters() if p.requires_grad)
    real = torch.nn.functional.one_hot(torch.randint(v, (b, length)), v).permute(0, 2, 1).float()
    assert D(real).shape == (b,)


def test_gru_eval_outputs_sampled_one_hot_tokens_and_greedy_is_deterministic():
    G, _ = build_models(_tiny("seq-gru"), (6, 7))
    G.eval()
    z = torch.randn(50, 4)
    x = G(z)
    assert set(x.unique().tolist()) == {0.0, 1.0}
    G.greedy = True
    assert torch.equal(G(z), G(z))


def test_gumbel_temperature_anneals_geometrically():
    G = GRUGenerator(_tiny("seq-gru", gumbel_tau=1.0, gumbel_tau_end=0.1), (6, 7))
    wrapper = torch.nn.Sequential(G)  # found among submodules
    for step, tau in ((0, 1.0), (50, math.sqrt(0.1)), (100, 0.1)):
        set_progress(wrapper, step, 100)
        assert G.tau == pytest.approx(tau)


def test_prompt_conditioning_needs_a_model_that_reads_prompts():
    cfg = ModelConfig(conditional="prompt", g_hidden=(8,), d_hidden=(8,))
    with pytest.raises(ConfigError, match="cannot read prompts"):
        build_models(cfg, (6, 7))


def test_gru_likelihood_by_hand():
    """``GRUGenerator.nll``: with a constant read-out the per-position probabilities are
    ``softmax(bias)``, so the NLL is a hand computation; with trained weights the fused
    ``torch.gru`` pass equals the cell's recurrence fed the real tokens (teacher forcing:
    position t is scored after reading start, x_1 .. x_{t-1})."""
    torch.manual_seed(0)
    G = GRUGenerator(_tiny("seq-gru"), (3, 2))
    ids = torch.tensor([[2, 0], [1, 2]])
    real = torch.nn.functional.one_hot(ids, 3).permute(0, 2, 1).float()  # (2, 3, 2)
    z = torch.randn(2, 4)
    with torch.no_grad():
        G.out.weight.zero_()
        G.out.bias.copy_(torch.log(torch.tensor([1.0, 2.0, 3.0])))  # p = 1/6, 2/6, 3/6
    by_hand = -(math.log(3 / 6) + math.log(1 / 6) + math.log(2 / 6) + math.log(3 / 6)) / 4
    assert G.nll(z, real).item() == pytest.approx(by_hand, rel=1e-6)
    torch.manual_seed(1)
    G = GRUGenerator(_tiny("seq-gru"), (3, 2))
    h, inp, terms = torch.tanh(G.h0(z)), G.start.expand(2, -1), []
    for t in range(2):
        h = G.cell(inp, h)
        terms.append(torch.nn.functional.cross_entropy(G.out(h), ids[:, t]))
        inp = G.embed(real[:, :, t])
    assert G.nll(z, real).item() == pytest.approx(((terms[0] + terms[1]) / 2).item(), rel=1e-5)
    G.nll(z, real).backward()
    assert G.cell.weight_hh.grad is not None and G.h0.weight.grad is not None
