"""The training loop: schedules D and G phases.

The maths of each phase lives in :class:`~ganforge.objective.Objective`; the state and
checkpoint I/O in :mod:`~ganforge.training.state`; the run directory in
:mod:`~ganforge.training.rundir`; signals and NaN handling in
:mod:`~ganforge.training.guards`; best-model rules in :mod:`~ganforge.training.best`;
snapshots and plots in :mod:`~ganforge.training.snapshots`. Statistics are accumulated
on the device and read back only at log intervals, so a step has no host
synchronisation.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.config import TrainConfig
from ganforge.data import build_dataset
from ganforge.defaults import resolve
from ganforge.errors import ConfigError
from ganforge.evaluation import METRIC_DIRECTIONS
from ganforge.io import append_jsonl, write_json
from ganforge.objective import DPhase, Objective
from ganforge.training import (
    best,
    compiled,
    distributed,
    guards,
    hardware,
    history,
    networks,
    rundir,
    state,
)
from ganforge.training import checkpoint as ckpt
from ganforge.training import updates as upd
from ganforge.training.guards import TrainingDiverged, TrainingInterrupted  # noqa: F401
from ganforge.training.history import STAT_NAMES
from ganforge.training.lock import RunLock
from ganforge.training.run_eval import evaluate_run, sample_run
from ganforge.training.runinfo import session
from ganforge.training.sampling import pick_device
from ganforge.training.snapshots import Snapshots, finish_pictures


@dataclass
class RunResult:
    run_dir: Path
    metrics: dict[str, Any]
    step: int


class Trainer:
    """Train a GAN described by a :class:`TrainConfig`.

    >>> Trainer(TrainConfig(dataset="ring8", steps=100, out="runs/x")).fit()  # doctest: +SKIP
    """

    def __init__(
        self,
        cfg: TrainConfig,
        *,
        progress: bool = False,
        log: Callable[[str], None] | None = None,
        _resume: ckpt.Checkpoint | None = None,
    ) -> None:
        self.cfg = cfg = resolve(cfg)
        self.progress, self._log = progress, log
        if cfg.best_metric is not None:
            METRIC_DIRECTIONS.get(cfg.best_metric)  # raises with the list of metrics
        self.dist = distributed.init_from_env(cfg.device)
        self.rank, self.world_size = self.dist.rank, self.dist.world_size
        self.device = distributed.device_for(self.dist, pick_device(cfg.device))
        if self.world_size > 1 and cfg.on_nan == "rollback":
            raise ConfigError("--on-nan rollback needs a single process; use stop with torchrun")
        self.data = build_dataset(cfg)
        self.conditional = cfg.model.conditional != "none"
        layout = self.data.output_layout
        nets = networks.build_networks(cfg, self.data.shape, self.device, self.world_size, layout)
        self.G, self.D, self.G_ema = nets.G, nets.D, nets.G_ema
        self._scheduled = networks.has_progress(self.G)  # e.g. a Gumbel temperature
        amp_dtype, self.scaler_g, self.scaler_d = hardware.mixed_precision(
            cfg.precision, self.device, self.log
        )
        if cfg.compile:
            compiled.check_supported(cfg, self.world_size)
        fused = not cfg.compile  # the fused Adam kernel is opaque to the compiler
        self.opt_g = upd.make_optimizer(cfg.optimizer, self.G, cfg.lr_g, cfg.betas, fused)
        self.opt_d = upd.make_optimizer(cfg.optimizer, self.D, cfg.lr_d, cfg.betas, fused)
        self.step_g = upd.OptimizerStep(self.opt_g, self.G, self.scaler_g, self.world_size)
        self.step_d = upd.OptimizerStep(self.opt_d, self.D, self.scaler_d, self.world_size)
        self.batches = networks.Batches(cfg, self.data, self.device, nets.channels_last, self.rank)
        self.data_gen, self.noise_gen = self.batches.data_gen, self.batches.noise_gen
        autocast = hardware.autocast_factory(amp_dtype, self.device)
        self.objective = Objective(cfg, self.G, self.D, self.noise_gen, autocast)
        self.loss = self.objective.loss
        self.stat_names = STAT_NAMES + tuple(f"loss/d/{n}" for n in self.objective.term_names())
        self.step, self.lr_scale, self.rollbacks = 0, 1.0, 0
        self.best = best.BestTracker()
        self.run_dir: Path | None = None
        self.stop_signal: int | None = None
        self._kept = self._real = None  # the last D update's (fake, y, z) and real batch
        self._terms: dict[str, torch.Tensor] = {}
        self.last_row: dict[str, Any] | None = None
        self.snapshots = Snapshots(cfg, self.data, self.device, self.loss)
        self.compiled = compiled.CompiledUpdates(self) if cfg.compile else None
        if _resume is not None:
            state.restore(self, _resume)

    def log(self, message: str) -> None:
        if self._log is not None:
            self._log(message)

    @classmethod
    def resume(cls, run_dir: str | Path, steps: int | None = None, **kwargs: Any) -> Trainer:
        """Continue ``run_dir`` from its latest checkpoint (optionally to ``steps`` in all)."""
        saved = ckpt.load_checkpoint(run_dir)
        cfg = TrainConfig.from_saved(saved.config)
        if steps is not None:
            cfg = dataclasses.replace(cfg, steps=steps)
        trainer = cls(cfg, _resume=saved, **kwargs)
        trainer.run_dir = Path(run_dir) if Path(run_dir).is_dir() else saved.path.parent.parent
        return trainer

    @property
    def is_main(self) -> bool:
        """Only the rank-0 process logs and writes files."""
        return self.rank == 0

    # -- one step -------------------------------------------------------------------------
    def d_step(self, keep_fake: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One D update on a fresh batch: detached ``(loss, D(real), D(fake))``."""
        real, y = self.batches.real()
        return self.d_update(real, y, self.batches.noise(), keep_fake=keep_fake)

    def d_update(
        self, real: torch.Tensor, y: torch.Tensor | None, z: torch.Tensor, keep_fake: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The D update on a given real batch ``(B, *shape)``, labels and noise ``(B, nz)``.
        With ``keep_fake`` the fakes keep their graph through G for the G update that
        follows (one G forward saved); conditional fakes share the real labels."""
        if keep_fake:
            fake = self.objective.generate(z, y)
            self._kept = (fake, y, z)
            fake = fake.detach()
        else:
            with torch.no_grad():
                fake = self.objective.generate(z, y)
        self._real = real
        return self._d_phase_and_step(real, fake, y)

    def _d_phase_and_step(self, real, fake, y) -> tuple[torch.Tensor, ...]:
        return self._step_d_phase(self.objective.d_phase(real, fake, y))

    def _step_d_phase(self, phase: DPhase) -> tuple[torch.Tensor, ...]:
        """D's update with ``phase``'s loss, then its constraints: detached ``(loss,
        D(real), D(fake))``."""
        self.step_d(phase.total)
        self.objective.after_d_step()
        self._terms = phase.terms
        return phase.total.detach(), phase.d_real, phase.d_fake

    def g_step(self) -> torch.Tensor:
        """One G update (D frozen) on fresh noise, or on the last D update's fakes."""
        kept, self._kept = self._kept, None
        if kept is not None:
            return self.g_update(kept[2], kept[1], fake=kept[0])
        y = self.batches.labels()
        return self.g_update(self.batches.noise(), y)

    def g_update(
        self, z: torch.Tensor | None, y: torch.Tensor | None, fake: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The G update for noise ``(B, nz)`` (and the ``fake`` it made, with its graph) and
        labels: only G's weights move; a likelihood term reads D's last real batch."""
        if fake is None:
            fake = self.objective.generate(z, y)
        g_loss = self.objective.g_loss(fake, y, self._real, z)
        self.step_g(g_loss)
        if self.G_ema is not None:
            networks.update_ema(self.G_ema, self.G, self.cfg.ema, self.step)
        return g_loss.detach()

    def simultaneous_step(self) -> tuple[torch.Tensor, ...]:
        """The tutorials' update: one G forward and one D pass on the fakes serve both
        phases, and G's gradient goes through the pre-update D. Returns detached
        ``(d_loss, D(real), D(fake), g_loss)``."""
        real, y = self.batches.real()
        z = self.batches.noise()
        fake = self.objective.generate(z, y)
        phase, g_loss = self.objective.shared_phases(real, fake, y, z)
        g_grads = self.step_g.gradients(g_loss, retain_graph=True)  # before D moves
        d_loss, d_real, d_fake = self._step_d_phase(phase)
        self.step_g.apply(g_grads)
        if self.G_ema is not None:
            networks.update_ema(self.G_ema, self.G, self.cfg.ema, self.step)
        return d_loss, d_real, d_fake, g_loss.detach()

    def mle_step(self) -> torch.Tensor:
        """A warm-start step: G alone, by maximum likelihood on a real batch (D idle)."""
        real, y = self.batches.real()
        g_loss = self.objective.mle_loss(self.batches.noise(), real, y)
        self.step_g(g_loss)
        if self.G_ema is not None:
            networks.update_ema(self.G_ema, self.G, self.cfg.ema, self.step)
        return g_loss.detach()

    def train_step(self) -> torch.Tensor:
        """One maximum-likelihood G step during the first ``mle_steps``; then ``n_critic``
        D steps and one G step (or, with ``update: simultaneous``, the last D step and the
        G step together). Returns the step's statistics as a device tensor ordered like
        ``stat_names`` (no host synchronisation; D's are 0 in a likelihood step)."""
        if self.compiled is not None and self.compiled.ready():  # never with mle_steps
            stats = self.compiled.adversarial_step()
            self.step += 1
            return stats
        if self.step < self.cfg.mle_steps:
            g_loss = self.mle_step()
            d_loss, d_real, d_fake = g_loss.new_zeros(()), g_loss.new_zeros(1), g_loss.new_zeros(1)
        else:
            d_loss, d_real, d_fake, g_loss = self.adversarial_step()
        self.step += 1
        zero = d_loss.new_zeros(())  # a lazy R1 term logs 0 on steps without it
        extra = [self._terms.get(n, zero).detach() for n in self.objective.term_names()]
        return history.step_stats(self.loss, d_loss, g_loss, d_real, d_fake, extra)

    def adversarial_step(self) -> tuple[torch.Tensor, ...]:
        """``n_critic`` D updates, one G update: ``(d_loss, D(real), D(fake), g_loss)``."""
        for _ in range(self.cfg.n_critic - 1):
            self.d_step()
        if self.cfg.update == "simultaneous":
            return self.simultaneous_step()
        d_loss, d_real, d_fake = self.d_step(keep_fake=self.cfg.reuse_fake)
        return d_loss, d_real, d_fake, self.g_step()

    def set_learning_rates(self) -> None:
        """The schedule's rates for the current step, times the divergence guard's scale
        (a constant schedule touches the optimizers only when that scale is not 1)."""
        cfg, pairs = self.cfg, ((self.opt_g, self.cfg.lr_g), (self.opt_d, self.cfg.lr_d))
        if self._scheduled:
            networks.set_progress(self.G, self.step, cfg.steps)
        if cfg.lr_schedule == "constant" and self.lr_scale == 1.0:
            return
        factor = upd.lr_factor(cfg.lr_schedule, self.step, cfg.steps, cfg.mle_steps)
        upd.set_learning_rates(pairs, factor, self.lr_scale)

    # -- the loop -------------------------------------------------------------------------
    def fit(self) -> RunResult:
        """Train to ``cfg.steps`` generator steps, writing the run directory as it goes."""
        cfg = self.cfg
        if self.run_dir is None:
            self.run_dir = Path(distributed.on_main(self.world_size, self.is_main, self._create))
        run = self.run_dir
        lock = RunLock(run, enabled=self.is_main)
        distributed.on_main(
            self.world_size, self.is_main, lock.acquire if self.is_main else (lambda: None)
        )
        with lock:
            if self.is_main:
                rundir.remove_leftovers(run)
                if not (run / "samples" / "real.npz").exists():
                    self.snapshots.take(run, self.sampling_generator, self.D, self.step)
            self.log(history.describe_run(run, cfg, self.G, self.D, self.device))
            with session(self):  # wall and CPU time of the loop, in run.json
                self._loop()
            metrics: dict[str, Any] = {}
            if self.is_main:
                if self.best.step is None:  # no best rule applied: the final model is best
                    rundir.link_latest_as_best(run)
                metrics = self.evaluate()
                write_json(run / "metrics.json", metrics)
                self._plots()
        return RunResult(run, metrics, self.step)

    def _create(self) -> str:
        """Rank 0 creates the run directory and writes ``config.json``."""
        path = rundir.prepare_run_dir(self.cfg.out or rundir.new_run_dir(self.cfg))
        write_json(path / "config.json", self.cfg.to_dict())
        return str(path)

    def _plots(self) -> None:
        finish_pictures(self.run_dir, self._log)

    def _loop(self) -> None:
        cfg, run = self.cfg, self.run_dir
        bar = history.progress_bar(cfg.steps, self.step) if self.progress and self.is_main else None
        # Per-step statistics stay on the device until the log interval (no host sync).
        window = torch.empty((cfg.log_every, len(self.stat_names)), device=self.device)
        count, t_window, first_step = 0, time.perf_counter(), self.step
        try:
            with guards.SignalCatcher(self):
                while self.step < cfg.steps:
                    self.set_learning_rates()
                    window[count] = self.train_step()
                    count += 1
                    if bar is not None:
                        bar.update(1)
                    last = self.step == cfg.steps
                    if count == cfg.log_every or last:
                        elapsed = time.perf_counter() - t_window
                        row = self._log_row(window[:count], first_step, elapsed)
                        count, t_window, first_step = 0, time.perf_counter(), self.step
                        if row is None:  # diverged and rolled back
                            if bar is not None:
                                bar.n = self.step
                            continue
                        self._record(row, bar)
                    self._periodic(last)
                    if guards.should_stop(self, count == 0):
                        path = rundir.save_step_checkpoint(self)
                        raise TrainingInterrupted(self.stop_signal, path, run)
        finally:
            if bar is not None:
                bar.close()

    def _record(self, row: dict[str, Any], bar: Any) -> None:
        if self.is_main:
            append_jsonl(self.run_dir / "history.jsonl", row)
        if bar is not None:
            postfix = {"D": f"{row['loss/d']:.3f}", "G": f"{row['loss/g']:.3f}"}
            bar.set_postfix(postfix, refresh=False)
        self.last_row = row

    def _periodic(self, last: bool) -> None:
        """Evaluation for the best model, snapshots and checkpoints due at this step."""
        cfg, step = self.cfg, self.step
        due = (cfg.eval_every and step % cfg.eval_every == 0) or last
        if self.is_main and cfg.best_metric is not None and step > cfg.steps // 5 and due:
            best.evaluate_for_best(self)
        if self.is_main and cfg.sample_every and (step % cfg.sample_every == 0 or last):
            self.snapshots.take(self.run_dir, self.sampling_generator, self.D, step)
        if (cfg.checkpoint_every and step % cfg.checkpoint_every == 0) or last:
            rundir.save_step_checkpoint(self)

    def _log_row(self, stats: torch.Tensor, first_step: int, elapsed: float) -> dict | None:
        """Average a window of per-step statistics into a history row; on NaN/Inf stop
        (or roll back) naming the exact step and term."""
        values = stats.tolist()  # the one host synchronisation per log interval
        bad = history.first_non_finite(values, self.stat_names)
        if bad is not None:
            return guards.on_divergence(self, first_step + bad[0] + 1, bad[1])
        if not guards.weights_finite(self.G, self.D):
            return guards.on_divergence(self, self.step, "weights")
        samples = len(values) * self.cfg.batch_size * self.world_size
        opts = (self.opt_g, self.opt_d)
        return history.history_row(values, self.stat_names, self.step, samples, elapsed, opts)

    # -- sampling and evaluation ----------------------------------------------------------
    @property
    def sampling_generator(self) -> torch.nn.Module:
        """The EMA generator when enabled, else the trained one."""
        return self.G_ema if self.G_ema is not None else self.G

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` samples in native units from the sampling generator."""
        return sample_run(self, n, seed)

    def evaluate(self, n: int | None = None, seed: int = 0) -> dict[str, Any]:
        """The final evaluation of ``n`` samples (default ``eval_samples``)."""
        return evaluate_run(self, n, seed)


def train(
    cfg: TrainConfig, progress: bool = False, log: Callable[[str], None] | None = None
) -> RunResult:
    """Train a run from a config and return its directory and final metrics."""
    return Trainer(cfg, progress=progress, log=log).fit()
