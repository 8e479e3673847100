"""The training step as one compiled graph (``compile: true``, ``--compile``).

A small model's step is mostly per-operation cost: hundreds of tiny kernels, each with
its dispatch, allocation and autograd bookkeeping. Here the whole adversarial step —
every D update and the G update, each with its forward passes, loss,
``torch.autograd.grad``, the optimizer's update and weight clipping — is traced by
``torch.compile`` (dynamo with ``trace_autograd_ops``, inductor with its C++ wrapper)
into one graph of fused kernels (Adam's update computes its bias corrections once per
update: :func:`ganforge.training.updates._compiled_adam`). The step's inputs (real
batches, labels, noise) are drawn eagerly first, from the same streams and in the same
order as an eager step draws them, so a compiled run draws the same random numbers; its
values differ from an eager run's by float rounding (inductor fuses and reorders
arithmetic). A compiled run is reproducible and resumes bitwise like an eager one. The
first step runs eagerly (it creates the optimizers' state); compiling takes seconds to a
minute, once per process (inductor caches its kernels on disk). EMA stays eager (its
decay changes each step).

Supported: one process, fp32 or bf16, a constant learning rate, MLP and DCGAN models
(conditional or not), every loss with label smoothing and weight clipping. Terms that
draw random numbers inside the update (gradient penalty, label noise, augmentation),
lazy R1 and likelihood terms are not; :func:`check_supported` names the first conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from ganforge.errors import ConfigError
from ganforge.training import history, networks

if TYPE_CHECKING:
    from ganforge.config import ResolvedConfig
    from ganforge.training.trainer import Trainer

ARCHS = ("mlp", "dcgan")


def check_supported(cfg: ResolvedConfig, world_size: int) -> None:
    """Raise :class:`ConfigError` naming the first option ``compile`` cannot run with."""
    conflicts = [
        (world_size > 1, "more than one process (torchrun)"),
        (cfg.precision == "fp16", "precision fp16"),
        (cfg.model.arch not in ARCHS, f"model {cfg.model.arch!r} (compiles: {', '.join(ARCHS)})"),
        (cfg.lr_schedule != "constant", f"lr_schedule {cfg.lr_schedule!r}"),
        (cfg.gp_weight > 0, "gp_weight (the gradient penalty)"),
        (cfg.r1_weight > 0, "r1_weight"),
        (cfg.label_noise > 0, "label_noise"),
        (bool(cfg.augment) and cfg.augment_p > 0, "augment"),
        (cfg.mle_steps > 0 or cfg.mle_weight > 0, "mle_steps/mle_weight"),
    ]
    for bad, what in conflicts:
        if bad:
            raise ConfigError(f"compile does not support {what}; train without --compile")


def _detached(terms: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: value.detach() for name, value in terms.items()}


def _step_function(trainer: Trainer) -> Callable[..., Any]:
    """The step to compile: ``step(reals, ys, zs, z_g, y_g) -> (stats, terms)``, a closure
    over the trainer's objective and optimizer steps, as the eager step runs them."""
    cfg, objective = trainer.cfg, trainer.objective
    step_d, step_g = trainer.step_d, trainer.step_g

    def d_on(real, y, fake):
        """D's update on ``real`` and detached ``fake``: ``(loss, D(real), D(fake), terms)``."""
        phase = objective.d_phase(real, fake, y, r1=False)
        step_d(phase.total)
        objective.after_d_step()
        return phase.total.detach(), phase.d_real, phase.d_fake, _detached(phase.terms)

    def d_update(real, y, z):
        with torch.no_grad():
            fake = objective.generate(z, y)
        return d_on(real, y, fake)

    def g_update(fake, y, real, z):
        g_loss = objective.g_loss(fake, y, real, z)
        step_g(g_loss)
        return g_loss.detach()

    def simultaneous(real, y, z):
        """The tutorials' step, as :meth:`Trainer.simultaneous_step`."""
        fake = objective.generate(z, y)
        phase, g_loss = objective.shared_phases(real, fake, y, z, r1=False)
        g_grads = step_g.gradients(g_loss, retain_graph=True)  # before D moves
        step_d(phase.total)
        objective.after_d_step()
        step_g.apply(g_grads)
        terms = _detached(phase.terms)
        return phase.total.detach(), phase.d_real, phase.d_fake, terms, g_loss.detach()

    def step(reals, ys, zs, z_g, y_g):
        """``reals``/``ys``/``zs``: one entry per D update; ``z_g``/``y_g``: G's own
        noise and labels when it does not reuse the fakes."""
        for i in range(len(reals) - 1):
            d_update(reals[i], ys[i], zs[i])
        real, y, z = reals[-1], ys[-1], zs[-1]
        if cfg.update == "simultaneous":
            d_loss, d_real, d_fake, terms, g_loss = simultaneous(real, y, z)
        elif cfg.reuse_fake:  # D's update, then G's through the updated D on its fakes
            fake = objective.generate(z, y)
            d_loss, d_real, d_fake, terms = d_on(real, y, fake.detach())
            g_loss = g_update(fake, y, real, z)
        else:
            d_loss, d_real, d_fake, terms = d_update(real, y, z)
            g_loss = g_update(objective.generate(z_g, y_g), y_g, real, z_g)
        extra = [terms[name] for name in objective.term_names()]
        stats = history.step_stats(objective.loss, d_loss, g_loss, d_real, d_fake, extra)
        return stats, terms

    return step


class CompiledUpdates:
    """``adversarial_step()``: the trainer's adversarial step (``n_critic`` D updates, one
    G update and the step's statistics) as one compiled graph, its inputs drawn first,
    EMA after. Used once the optimizers have state (:meth:`ready`)."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self._ready = False
        self._config: Any = None  # dynamo's settings for the step (:meth:`_run`)
        # Static shapes: a step's shapes never change, and a second trainer in the same
        # process (other shapes) must not turn them symbolic. The C++ wrapper calls the
        # graph's kernels without a Python frame each.
        self.step = torch.compile(
            _step_function(trainer), fullgraph=True, dynamic=False, options={"cpp_wrapper": True}
        )

    def ready(self) -> bool:
        """True once every parameter has optimizer state (after the first, eager, step):
        the compiled updates never create it. Stays true once true."""
        if not self._ready:
            t = self.trainer
            self._ready = all(
                len(step.params) == sum(p in step.opt.state for p in step.params)
                for step in (t.step_d, t.step_g)
            )
        return self._ready

    def _run(self, *args: Any) -> Any:
        import torch._dynamo

        if self._config is None:
            # Each trainer's step is a closure over its own objects, so every trainer in
            # a process adds a cache entry to the same code; never fall back to eager
            # silently. Built once: building the patch costs more than entering it.
            self._config = torch._dynamo.config.patch(
                trace_autograd_ops=True, recompile_limit=64, fail_on_recompile_limit_hit=True
            )
        with self._config:
            try:
                return self.step(*args)
            except torch._dynamo.exc.BackendCompilerFailed as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "failed"
                raise ConfigError(
                    f"compile could not build the training step ({reason}); "
                    "install a C++ compiler (e.g. g++) or train without --compile"
                ) from None

    def adversarial_step(self) -> torch.Tensor:
        """As :meth:`Trainer.adversarial_step`, returning the step's statistics (as
        :meth:`Trainer.train_step` does, computed in the graph). The batches, noise and
        labels are drawn in the eager step's order first."""
        t = self.trainer
        cfg, batches = t.cfg, t.batches
        reals, ys, zs = [], [], []
        for _ in range(cfg.n_critic):
            real, y = batches.real()
            reals.append(real)
            ys.append(y)
            zs.append(batches.noise())
            t.objective.r1_due()  # counts the D update (R1 itself is off)
        z_g = y_g = None
        if cfg.update == "alternating" and not cfg.reuse_fake:
            y_g = batches.labels()
            z_g = batches.noise()
        stats, t._terms = self._run(reals, ys, zs, z_g, y_g)
        t._real = reals[-1]
        if t.G_ema is not None:
            networks.update_ema(t.G_ema, t.G, cfg.ema, t.step)
        return stats
