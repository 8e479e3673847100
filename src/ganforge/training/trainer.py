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

import copy
import dataclasses
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.config import TrainConfig, resolve
from ganforge.data import build_dataset
from ganforge.evaluation import METRIC_DIRECTIONS, evaluate_samples
from ganforge.io import append_jsonl, write_json
from ganforge.models import build_models, count_parameters
from ganforge.objective import Objective
from ganforge.training import checkpoint as ckpt
from ganforge.training import distributed, guards, hardware, rundir, state
from ganforge.training.best import BestTracker
from ganforge.training.guards import TrainingDiverged, TrainingInterrupted  # noqa: F401
from ganforge.training.lock import RunLock
from ganforge.training.sampling import default_labels, generate, pick_device
from ganforge.training.snapshots import Snapshots, plot_run_safely
from ganforge.training.updates import (
    OptimizerStep,
    lr_factor,
    make_optimizer,
    set_learning_rates,
)

STAT_NAMES = ("loss/d", "loss/g", "d/real", "d/fake", "acc/real", "acc/fake")


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
            raise ValueError("--on-nan rollback needs a single process; use stop with torchrun")
        self.data = build_dataset(cfg)
        self.conditional = cfg.model.conditional != "none"
        self._build_networks()
        amp_dtype, self.scaler_g, self.scaler_d = hardware.mixed_precision(
            cfg.precision, self.device, self.log
        )
        self.opt_g = make_optimizer(cfg.optimizer, self.G, cfg.lr_g, cfg.betas)
        self.opt_d = make_optimizer(cfg.optimizer, self.D, cfg.lr_d, cfg.betas)
        self.step_g = OptimizerStep(self.opt_g, self.G, self.scaler_g, self.world_size)
        self.step_d = OptimizerStep(self.opt_d, self.D, self.scaler_d, self.world_size)
        self.data_gen = torch.Generator().manual_seed(self.rank_seed(1))
        self.noise_gen = torch.Generator(device=self.device).manual_seed(self.rank_seed(2))
        autocast = hardware.autocast_factory(amp_dtype)
        self.objective = Objective(cfg, self.G, self.D, self.noise_gen, autocast)
        self.loss = self.objective.loss
        self.stat_names = STAT_NAMES + tuple(f"loss/d/{n}" for n in self.objective.term_names())
        self.step, self.lr_scale, self.rollbacks = 0, 1.0, 0
        self.best = BestTracker()
        self.run_dir: Path | None = None
        self.stop_signal: int | None = None
        self._kept: tuple[torch.Tensor, torch.Tensor | None] | None = None
        self._terms: dict[str, torch.Tensor] = {}
        self._last_row: dict[str, Any] | None = None
        self.snapshots = Snapshots(cfg, self.data, self.device, self.loss)
        if _resume is not None:
            state.restore(self, _resume)

    def _build_networks(self) -> None:
        """G, D (and the EMA copy of G) from the seed, on the device, equal on all ranks."""
        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        self.G, self.D = build_models(cfg.model, self.data.shape)
        n_params = count_parameters(self.G) + count_parameters(self.D)
        hardware.set_threads(cfg.threads, n_params, self.device)
        self._channels_last = hardware.uses_channels_last(self.D, self.data.shape)
        fmt = torch.channels_last if self._channels_last else torch.preserve_format
        self.G.to(self.device, memory_format=fmt)
        self.D.to(self.device, memory_format=fmt)
        if cfg.sync_batchnorm and self.world_size > 1:
            self.G = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.G)
            self.D = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.D)
        if self.world_size > 1:  # identical initial weights everywhere
            distributed.broadcast_module(self.G)
            distributed.broadcast_module(self.D)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if cfg.ema > 0 else None

    def log(self, message: str) -> None:
        if self._log is not None:
            self._log(message)

    def rank_seed(self, stream: int, step: int = 0) -> int:
        """Seed of RNG ``stream`` for this process; rank 0 of a fresh run matches a
        single-process run, other ranks (and re-sharded resumes) get their own."""
        return (self.cfg.seed * 7919 + stream + 1_000_003 * self.rank + 7_919_993 * step) % 2**63

    @classmethod
    def resume(cls, run_dir: str | Path, steps: int | None = None, **kwargs: Any) -> Trainer:
        """Continue the run in ``run_dir`` from its latest checkpoint (optionally to a new
        total number of ``steps``)."""
        saved = ckpt.load_checkpoint(run_dir)
        cfg = TrainConfig.from_dict(saved.config)
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
    def _noise(self, batch: int) -> torch.Tensor:
        z = torch.randn(
            (batch, self.cfg.model.noise_dim), generator=self.noise_gen, device=self.device
        )
        return z.mul_(self.cfg.noise_std)

    def _real_batch(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        x, y = self.data.sample_batch(self.cfg.batch_size, self.data_gen)
        x = x.to(self.device, non_blocking=True)
        if self._channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if not self.conditional:
            return x, None
        return x, y.to(self.device, non_blocking=True)

    def _labels(self, batch: int) -> torch.Tensor | None:
        """Uniform random class labels for G's conditional samples, or None."""
        if not self.conditional:
            return None
        k = self.cfg.model.num_classes
        return torch.randint(k, (batch,), generator=self.noise_gen, device=self.device)

    def d_step(self, keep_fake: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One discriminator/critic update on a fresh batch. Returns detached
        ``(loss, D(real), D(fake))``."""
        real, y = self._real_batch()
        return self.d_update(real, y, self._noise(self.cfg.batch_size), keep_fake=keep_fake)

    def d_update(
        self, real: torch.Tensor, y: torch.Tensor | None, z: torch.Tensor, keep_fake: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The D update on a given real batch ``(B, *shape)``, labels and noise ``(B, nz)``.
        With ``keep_fake`` the fakes keep their graph through G for the G update that
        follows (one G forward saved); conditional fakes share the real labels."""
        if keep_fake:
            fake = self.objective.generate(z, y)
            self._kept = (fake, y)
            fake = fake.detach()
        else:
            with torch.no_grad():
                fake = self.objective.generate(z, y)
        phase = self.objective.d_phase(real, fake, y)
        d_loss = phase.total
        self.step_d(d_loss)
        self.objective.after_d_step()
        self._terms = phase.terms
        return d_loss.detach(), phase.d_real, phase.d_fake

    def g_step(self) -> torch.Tensor:
        """One generator update (D frozen) on fresh noise, or on the fakes kept from the
        last D update when ``reuse_fake`` is on. Returns the detached loss."""
        kept, self._kept = self._kept, None
        if kept is not None:
            return self.g_update(None, kept[1], fake=kept[0])
        y = self._labels(self.cfg.batch_size)
        return self.g_update(self._noise(self.cfg.batch_size), y)

    def g_update(
        self, z: torch.Tensor | None, y: torch.Tensor | None, fake: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The G update for noise ``(B, nz)`` (or ready ``fake`` samples with their graph)
        and labels. Gradients flow through D but only G's weights receive them."""
        if fake is None:
            fake = self.objective.generate(z, y)
        g_loss = self.objective.g_loss(fake, y)
        self.step_g(g_loss)
        if self.G_ema is not None:
            self._update_ema()
        return g_loss.detach()

    @torch.no_grad()
    def _update_ema(self) -> None:
        """EMA of G's weights with warm-up: decay ``min(ema, (1 + t) / (10 + t))``, so the
        average does not drag the random initial weights through a short run."""
        decay = min(self.cfg.ema, (1.0 + self.step) / (10.0 + self.step))
        ema_p = list(self.G_ema.parameters())
        torch._foreach_lerp_(ema_p, list(self.G.parameters()), 1.0 - decay)
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers(), strict=True):
            b_ema.copy_(b)

    def train_step(self) -> torch.Tensor:
        """``n_critic`` D steps then one G step; returns the step's statistics as a
        device tensor ordered like ``stat_names`` (no host synchronisation)."""
        n = self.cfg.n_critic
        for i in range(n):
            d_loss, d_real, d_fake = self.d_step(keep_fake=self.cfg.reuse_fake and i == n - 1)
        g_loss = self.g_step()
        out_r, out_f = self.loss.d_output(d_real), self.loss.d_output(d_fake)
        thr = self.loss.equilibrium if self.loss.equilibrium is not None else 0.0
        self.step += 1
        zero = d_loss.new_zeros(())  # a lazy R1 term logs 0 on steps without it
        extra = [self._terms.get(n, zero).detach() for n in self.objective.term_names()]
        return torch.stack(
            [
                d_loss,
                g_loss,
                out_r.mean(),
                out_f.mean(),
                (out_r > thr).float().mean(),
                (out_f <= thr).float().mean(),
                *extra,
            ]
        )

    def set_learning_rates(self) -> None:
        """The schedule's rates for the current step, times the divergence guard's scale
        (a constant schedule touches the optimizers only when that scale is not 1)."""
        if self.cfg.lr_schedule == "constant" and self.lr_scale == 1.0:
            return
        factor = lr_factor(self.cfg.lr_schedule, self.step, self.cfg.steps)
        pairs = ((self.opt_g, self.cfg.lr_g), (self.opt_d, self.cfg.lr_d))
        set_learning_rates(pairs, factor, self.lr_scale)

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
            self.log(
                f"run {run}\n"
                f"G: {count_parameters(self.G):,} parameters | D: {count_parameters(self.D):,} "
                f"parameters | {cfg.preset} on {cfg.dataset} | loss {cfg.loss} | "
                f"device {self.device}"
            )
            self._loop()
            metrics: dict[str, Any] = {}
            if self.is_main:
                if self.best.step is None:  # no best rule applied: the final model is best
                    folder = run / "checkpoints"
                    rundir.link_replace(folder / "latest.safetensors", folder / "best.safetensors")
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
        plot_run_safely(self.run_dir, self._log)

    def _progress_bar(self) -> Any:
        if not (self.progress and self.is_main):
            return None
        from tqdm.auto import tqdm

        # a live bar on a terminal; in a log file, a line every 30 s at most
        interval = 0.1 if sys.stderr.isatty() else 30.0
        return tqdm(
            total=self.cfg.steps,
            initial=self.step,
            desc="train",
            unit="step",
            dynamic_ncols=True,
            file=sys.stderr,
            mininterval=interval,
        )

    def _loop(self) -> None:
        cfg, run, bar = self.cfg, self.run_dir, self._progress_bar()
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
                    if self._should_stop(count == 0):
                        path = self._checkpoint()
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
        self._last_row = row

    def _periodic(self, last: bool) -> None:
        """Evaluation for the best model, snapshots and checkpoints due at this step."""
        cfg, step = self.cfg, self.step
        due = (cfg.eval_every and step % cfg.eval_every == 0) or last
        if self.is_main and cfg.best_metric is not None and step > cfg.steps // 5 and due:
            self._evaluate_for_best()
        if self.is_main and cfg.sample_every and (step % cfg.sample_every == 0 or last):
            self.snapshots.take(self.run_dir, self.sampling_generator, self.D, step)
        if (cfg.checkpoint_every and step % cfg.checkpoint_every == 0) or last:
            self._checkpoint()

    def _should_stop(self, at_log_boundary: bool) -> bool:
        """A signal stops training after the current step; with several processes they
        agree at log boundaries so all stop at the same step."""
        if self.world_size == 1:
            return self.stop_signal is not None
        if not at_log_boundary:
            return False
        agreed = distributed.agree_to_stop(self.stop_signal)
        if agreed is not None and self.stop_signal is None:
            self.stop_signal = agreed
        return agreed is not None

    def _log_row(self, stats: torch.Tensor, first_step: int, elapsed: float) -> dict | None:
        """Average a window of per-step statistics into a history row; on NaN/Inf stop
        (or roll back) naming the exact step and term."""
        values = stats.tolist()  # the one host synchronisation per log interval
        for i, per_step in enumerate(values):
            names = self.stat_names
            bad = [n for n, v in zip(names, per_step, strict=True) if not math.isfinite(v)]
            if bad:
                return guards.on_divergence(self, first_step + i + 1, ", ".join(bad))
        if not guards.weights_finite(self.G, self.D):
            return guards.on_divergence(self, self.step, "weights")
        row: dict[str, Any] = {"step": self.step, "time": time.time()}
        row.update(zip(self.stat_names, np.mean(values, axis=0).tolist(), strict=True))
        row["samples_per_s"] = (
            len(values) * self.cfg.batch_size * self.world_size / max(elapsed, 1e-9)
        )
        row["lr/g"] = self.opt_g.param_groups[0]["lr"]
        row["lr/d"] = self.opt_d.param_groups[0]["lr"]
        return row

    # -- sampling and evaluation ----------------------------------------------------------
    @property
    def sampling_generator(self) -> torch.nn.Module:
        """The EMA generator when enabled, else the trained one."""
        return self.G_ema if self.G_ema is not None else self.G

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` samples in native units from the sampling generator."""
        k = self.cfg.model.num_classes if self.conditional else 0
        return generate(
            self.sampling_generator,
            n,
            self.cfg.model.noise_dim,
            self.cfg.noise_std,
            seed=seed,
            decode=self.data.decode,
            num_classes=k,
        )

    def evaluate(self, n: int | None = None, seed: int = 0) -> dict[str, Any]:
        n = n or self.cfg.eval_samples
        labels = default_labels(n, self.cfg.model.num_classes) if self.conditional else None
        fake = self.sample(n, seed=seed)
        metrics = evaluate_samples(self.data, fake, n=n, seed=seed, labels=labels)
        metrics["protocol"]["generator"] = "ema" if self.G_ema is not None else "raw"
        metrics["protocol"]["step"] = self.step
        return metrics

    def _evaluate_for_best(self) -> None:
        if not guards.weights_finite(self.G, self.D):
            guards.on_divergence(self, self.step, "weights")
            return
        metrics, name = self.evaluate(seed=self.step), self.cfg.best_metric
        if name not in metrics:
            reported = ", ".join(k for k, v in metrics.items() if isinstance(v, float))
            raise ValueError(
                f"best_metric {name!r} is not reported for dataset {self.cfg.dataset!r}; "
                f"it reports: {reported}"
            )
        value = metrics.get(name)
        append_jsonl(
            self.run_dir / "history.jsonl",
            {"step": self.step, "time": time.time(), f"eval/{name}": value},
        )
        if value is not None:
            score = -value if METRIC_DIRECTIONS.get(name) else value
            if self.best.improve(score, self.step):
                path = self.run_dir / "checkpoints" / "best.safetensors"
                rundir.write_checkpoint(lambda p: state.save(self, p), path)

    # -- checkpoints ----------------------------------------------------------------------
    def _checkpoint(self) -> Path:
        folder = self.run_dir / "checkpoints"
        path = rundir.step_checkpoint(self.run_dir, self.step)
        # Every process checks (their weights are identical), so all stop together.
        if not guards.weights_finite(self.G, self.D):  # never replace a good checkpoint
            guards.on_divergence(self, self.step, "weights")
            return folder / "latest.safetensors"
        if not self.is_main:
            return path
        is_best = self.cfg.best_metric is None and self.best.equilibrium_improves(
            self._last_row, self.loss.equilibrium, self.step, self.cfg.steps
        )
        rundir.write_checkpoint(lambda p: state.save(self, p), path, link_latest=True)
        if is_best:  # the same file: a link, not a second write
            rundir.link_replace(path, folder / "best.safetensors")
        rundir.rotate_checkpoints(folder, self.cfg.keep_checkpoints)
        return path


def train(
    cfg: TrainConfig, progress: bool = False, log: Callable[[str], None] | None = None
) -> RunResult:
    """Train a run from a config and return its directory and final metrics."""
    return Trainer(cfg, progress=progress, log=log).fit()
