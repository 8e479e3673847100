"""AC-GAN and projection-ac: D's loss adds the class cross-entropy on real data, G's on
its fakes."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from ganforge.config import TrainConfig
from ganforge.training.trainer import Trainer

MODEL = {"g_hidden": [16], "d_hidden": [16], "noise_dim": 4, "conditional": "acgan"}


def _trainer(model=MODEL, **kw) -> Trainer:
    cfg = TrainConfig(
        dataset="digits",
        preset="mlp-mnist",
        model=model,
        steps=2,
        batch_size=8,
        device="cpu",
        sample_every=0,
        **kw,
    )
    return Trainer(cfg)


def _d_update_with_copies(t: Trainer):
    """One D update on a real batch and fixed noise, with copies of G and D taken before
    it: ``(real, y, z, G, D, d_loss)``."""
    real, y = t.batches.real()
    z = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
    G, D = copy.deepcopy(t.G), copy.deepcopy(t.D)
    d_loss, _, _ = t.d_update(real, y, z)
    return real, y, z, G, D, d_loss


def _d_loss_by_hand(d_real, d_fake, classes, y, weight: float) -> torch.Tensor:
    """Nonsaturating BCE on D's real and fake logits plus the weighted class term."""
    return (
        F.binary_cross_entropy_with_logits(d_real, torch.ones(len(d_real)))
        + F.binary_cross_entropy_with_logits(d_fake, torch.zeros(len(d_fake)))
        + weight * F.cross_entropy(classes, y)
    )


def test_losses_add_the_class_terms_by_hand() -> None:
    t = _trainer(aux_weight=0.5, seed=3)
    real, y, z, G, D, d_loss = _d_update_with_copies(t)
    with torch.no_grad():
        fake = G(z, y)
        out, classes = D.logits_and_classes(torch.cat([real, fake]))
        cls = classes[:8]
        d_real, d_fake = out.chunk(2)
        want = _d_loss_by_hand(d_real, d_fake, cls, y, 0.5)
    torch.testing.assert_close(d_loss, want)
    # the G loss: nonsaturating BCE on D's verdict plus the class term on the fakes
    D2 = copy.deepcopy(t.D)
    G2 = copy.deepcopy(t.G)
    g_loss = t.g_update(z, y)
    with torch.no_grad():
        out, classes = D2.logits_and_classes(G2(z, y))
        want_g = F.binary_cross_entropy_with_logits(out, torch.ones(8)) + 0.5 * F.cross_entropy(
            classes, y
        )
    torch.testing.assert_close(g_loss, want_g)


def test_class_head_learns_from_real_data() -> None:
    """Only the class term moves D's class head; with weight 0 it stays put."""
    for weight, moves in ((1.0, True), (0.0, False)):
        t = _trainer(aux_weight=weight, seed=0)
        before = t.D.classify.weight.detach().clone()
        t.d_step()
        assert (not torch.equal(before, t.D.classify.weight)) is moves


def test_aux_weight_is_validated() -> None:
    with pytest.raises(ValueError, match="aux_weight must be >= 0"):
        TrainConfig(aux_weight=-1.0)


def test_projection_ac_adds_the_class_terms_to_the_projection_logits() -> None:
    """projection-ac: D's adversarial logits are the projection's (they read the label),
    and both losses add the class head's cross-entropy, as AC-GAN's do."""
    t = _trainer(model=dict(MODEL, conditional="projection-ac"), aux_weight=0.25, seed=3)
    real, y, z, G, D, d_loss = _d_update_with_copies(t)
    with torch.no_grad():
        fake = G(z, y)
        d_real, cls = D.logits_and_classes(real, y)
        d_fake, _ = D.logits_and_classes(fake, y)
        assert not torch.equal(D(real, (y + 1) % 10), d_real)  # the logits read the label
        want = _d_loss_by_hand(d_real, d_fake, cls, y, 0.25)
    torch.testing.assert_close(d_loss, want)
    D2, G2 = copy.deepcopy(t.D), copy.deepcopy(t.G)
    g_loss = t.g_update(z, y)
    with torch.no_grad():
        out, classes = D2.logits_and_classes(G2(z, y), y)
        want_g = F.binary_cross_entropy_with_logits(out, torch.ones(8)) + 0.25 * F.cross_entropy(
            classes, y
        )
    torch.testing.assert_close(g_loss, want_g)
    before = t.D.classify.weight.detach().clone()
    t.d_step()
    assert not torch.equal(before, t.D.classify.weight)  # the class head learns
