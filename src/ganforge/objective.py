"""Every term of the discriminator and generator losses, built once from the config.

The trainer schedules phases; this object owns their maths (stylegan2-ada's ``loss.py``
pattern): the registered adversarial loss, label smoothing/noise targets, the auxiliary
class loss of an AC-GAN head, the gradient penalty, lazy R1, weight clipping and, for a
generator with a likelihood (``G.nll``), its teacher-forced negative log-likelihood: the
whole G loss of a maximum-likelihood warm-start step (:meth:`Objective.mle_phase`) and a
term weighted ``mle_weight`` in the adversarial G phase. Each phase returns its terms by
name; the phase's loss is their sum, in the order listed.

Sign conventions are the loss's (see :mod:`ganforge.losses`): both phases *minimise*
their loss; D's outputs are logits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.augment import DiffAugment
from ganforge.config import TrainConfig
from ganforge.errors import ConfigError
from ganforge.losses import clip_weights_, get_loss, gradient_penalty, label_targets, r1_penalty

Autocast = Callable[[], contextlib.AbstractContextManager]


@dataclass
class DPhase:
    """One D update's terms (``adv`` always; ``aux``, ``gp``, ``r1`` when enabled and due)
    and D's detached logits on the real and fake batch."""

    terms: dict[str, torch.Tensor]
    d_real: torch.Tensor
    d_fake: torch.Tensor

    @property
    def total(self) -> torch.Tensor:
        return _sum(self.terms)


def _sum(terms: dict[str, torch.Tensor]) -> torch.Tensor:
    values = iter(terms.values())
    total = next(values)
    for v in values:
        total = total + v
    return total


class Objective:
    """The D and G losses of one run.

    ``G(z, y)`` and ``D(x, y)`` are the networks (``y`` is ``None`` when unconditional);
    ``noise`` is the generator that draws label noise and the penalty's interpolation
    weights; ``autocast`` is the mixed-precision context (a no-op in fp32).
    """

    def __init__(
        self,
        cfg: TrainConfig,
        G: nn.Module,
        D: nn.Module,
        noise: torch.Generator,
        autocast: Autocast = contextlib.nullcontext,
    ) -> None:
        self.cfg, self.G, self.D, self.noise, self.autocast = cfg, G, D, noise, autocast
        self.loss = get_loss(cfg.loss)
        # Real and fake go through D in one forward unless batch statistics would mix.
        self.joint = not any(isinstance(m, nn.modules.batchnorm._NormBase) for m in D.modules())
        self.aux = cfg.model.conditional in ("acgan", "projection-ac") and cfg.aux_weight > 0
        self.d_updates = 0  # D updates so far; lazy R1 counts them
        self._clip_params = list(D.parameters()) if cfg.clip_value else []
        # D sees every input, real, fake or interpolated, through the same augmentation.
        self.augment = DiffAugment(cfg.augment, cfg.augment_p, noise)
        #: ``G.generator_terms(fake) -> {name: scalar}``: terms a generator adds to its loss
        self._g_terms = getattr(G, "generator_terms", None)
        #: ``G.nll(z, real, y) -> scalar``: a generator's teacher-forced likelihood
        self._nll = getattr(G, "nll", None)
        if (cfg.mle_steps or cfg.mle_weight) and self._nll is None:
            raise ConfigError(
                f"mle_steps/mle_weight need a generator with a likelihood (seq-gru); "
                f"model {cfg.model.arch!r} has none"
            )

    # -- forward passes -----------------------------------------------------------------
    def generate(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """``(B, noise_dim), (B,) | None -> (B, *shape)`` under the precision context."""
        with self.autocast():
            return self.G(z, y)

    def judge(
        self, x: torch.Tensor, y: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """D's logits ``(B,)`` in float32 and, with an AC-GAN head in use, its class
        logits ``(B, K)``."""
        x = self.augment(x)
        with self.autocast():
            if self.aux:
                logits, classes = self.D.logits_and_classes(x, y)
            else:
                logits, classes = self.D(x, y), None
        return logits.float(), classes

    def _judge_pair(self, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor | None):
        """D on the real and the fake batch: one forward over ``[real; fake]`` when no
        batch statistics would mix them. Returns ``(d_real, d_fake, class_real)``."""
        if self.joint:
            both, classes = self.judge(
                torch.cat([real, fake]), None if y is None else torch.cat([y, y])
            )
            d_real, d_fake = both.chunk(2)
            return d_real, d_fake, None if classes is None else classes[: real.shape[0]]
        d_real, class_real = self.judge(real, y)
        d_fake, _ = self.judge(fake, y)
        return d_real, d_fake, class_real

    # -- phases ---------------------------------------------------------------------------
    def d_phase(
        self,
        real: torch.Tensor,
        fake: torch.Tensor,
        y: torch.Tensor | None,
        r1: bool | None = None,
    ) -> DPhase:
        """Terms of one D update on ``real`` and detached ``fake`` ``(B, *shape)``; ``r1``
        says whether R1 is due (default: :meth:`r1_due`, which counts this update)."""
        r1 = self.r1_due() if r1 is None else r1
        if r1:  # R1 differentiates D(real) with respect to the real batch
            real = real.detach().requires_grad_(True)
        d_real, d_fake, class_real = self._judge_pair(real, fake, y)
        return self._d_terms(real, fake, y, d_real, d_fake, class_real, r1)

    def shared_phases(
        self,
        real: torch.Tensor,
        fake: torch.Tensor,
        y: torch.Tensor | None,
        z: torch.Tensor,
        r1: bool | None = None,
    ) -> tuple[DPhase, torch.Tensor]:
        """The tutorials' simultaneous step with one D pass on the fakes: ``fake`` keeps
        its graph through G, and D's logits on it serve both D's terms and G's loss (G's
        gradient goes through D before its update). Real and fake go through D separately,
        so G's backward runs over the fakes only. Returns D's phase and G's loss; take
        G's gradients first with ``retain_graph``. ``r1`` as in :meth:`d_phase`."""
        r1 = self.r1_due() if r1 is None else r1
        if r1:
            real = real.detach().requires_grad_(True)
        d_real, class_real = self.judge(real, y)
        d_fake, class_fake = self.judge(fake, y)
        g_loss = _sum(self._g_terms_from(d_fake, class_fake, fake, y, real.detach(), z))
        phase = self._d_terms(real, fake.detach(), y, d_real, d_fake, class_real, r1)
        return phase, g_loss

    def r1_due(self) -> bool:
        """Lazy R1: every r1_every-th D update carries the penalty, weighted r1_every
        times. Counts this D update."""
        r1 = self.cfg.r1_weight > 0 and self.d_updates % self.cfg.r1_every == 0
        self.d_updates += 1
        return r1

    def _d_terms(self, real, fake, y, d_real, d_fake, class_real, r1: bool) -> DPhase:
        """D's terms from its logits on ``real`` and ``fake`` (``fake`` detached: the
        penalty reads it; ``d_fake`` may carry G's graph, which D's gradient ignores)."""
        cfg, loss = self.cfg, self.loss
        rt, ft = 1.0, 0.0
        if loss.uses_targets and (cfg.label_smoothing or cfg.label_noise):
            rt, ft = label_targets(
                d_real.shape[0], cfg.label_smoothing, cfg.label_noise, self.noise, d_real.device
            )
        terms = {"adv": loss.d_loss(d_real, d_fake, rt, ft)}
        if class_real is not None:  # D learns the classes from real data only
            terms["aux"] = cfg.aux_weight * F.cross_entropy(class_real.float(), y)
        if cfg.gp_weight:
            critic = lambda x: self.D(self.augment(x), y)  # noqa: E731 - the penalty's view of D
            terms["gp"] = cfg.gp_weight * gradient_penalty(critic, real, fake, self.noise)
        if r1:
            terms["r1"] = 0.5 * cfg.r1_weight * cfg.r1_every * r1_penalty(real, d_real)
        return DPhase(terms, d_real.detach(), d_fake.detach())

    def mle_phase(
        self, z: torch.Tensor, real: torch.Tensor, y: torch.Tensor | None
    ) -> dict[str, torch.Tensor]:
        """The term of a maximum-likelihood G step: ``{"mle": G.nll(z, real, y)}``, the
        teacher-forced negative log-likelihood of the real batch ``(B, *shape)`` in nats
        per position (D is not involved)."""
        with self.autocast():
            return {"mle": self._nll(z, real, y).float()}

    def mle_loss(self, z: torch.Tensor, real: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return _sum(self.mle_phase(z, real, y))

    def g_phase(
        self,
        fake: torch.Tensor,
        y: torch.Tensor | None,
        real: torch.Tensor | None = None,
        z: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Terms of one G update on ``fake`` (with its graph through G); with
        ``mle_weight`` > 0 and the real batch and noise given, ``mle``: ``mle_weight`` times
        :meth:`mle_phase`'s term."""
        logits, classes = self.judge(fake, y)
        return self._g_terms_from(logits, classes, fake, y, real, z)

    def _g_terms_from(self, logits, classes, fake, y, real, z) -> dict[str, torch.Tensor]:
        """G's terms given D's logits (and class logits) on ``fake``."""
        terms = {"adv": self.loss.g_loss(logits)}
        if classes is not None:  # G makes samples D's classifier reads as their label
            terms["aux"] = self.cfg.aux_weight * F.cross_entropy(classes.float(), y)
        if self._g_terms is not None:  # the generator's own terms (a table's condition loss)
            terms.update(self._g_terms(fake))
        if self.cfg.mle_weight and real is not None and z is not None:
            terms["mle"] = self.cfg.mle_weight * self.mle_phase(z, real, y)["mle"]
        return terms

    def g_loss(
        self,
        fake: torch.Tensor,
        y: torch.Tensor | None,
        real: torch.Tensor | None = None,
        z: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return _sum(self.g_phase(fake, y, real, z))

    def after_d_step(self) -> None:
        """Constraints applied to D's weights after its update (WGAN weight clipping)."""
        if self._clip_params:
            clip_weights_(self._clip_params, self.cfg.clip_value)

    def term_names(self) -> tuple[str, ...]:
        """Names of the optional D terms this run logs (``loss/d/<name>``)."""
        names = []
        if self.aux:
            names.append("aux")
        if self.cfg.gp_weight:
            names.append("gp")
        if self.cfg.r1_weight > 0:
            names.append("r1")
        return tuple(names)
