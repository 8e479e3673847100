"""The training loop: schedules D and G phases; the loss object owns the maths.

The trainer never switches on a loss name: it reads the resolved config (``n_critic``,
``clip_value``, ``gp_weight``, optimizer) and the :class:`~ganforge.losses.Loss`
attributes. Statistics are accumulated on the device and read back only at log
intervals, so a step has no host synchronisation.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ganforge.config import ModelConfig, TrainConfig, resolve
from ganforge.data import build_dataset
from ganforge.evaluation import METRIC_DIRECTIONS, evaluate_samples
from ganforge.io import append_jsonl, atomic_path, write_json
from ganforge.losses import (
    clip_weights_,
    get_loss,
    gradient_penalty,
    label_targets,
    r1_penalty,
)
from ganforge.models import build_models, count_parameters
from ganforge.training import checkpoint as ckpt
from ganforge.training.lock import RunLock
from ganforge.training.sampling import default_labels, generate, pick_device
from ganforge.training.updates import DirectUpdate

STAT_NAMES = ("loss/d", "loss/g", "d/real", "d/fake", "acc/real", "acc/fake")
SNAPSHOT_SAMPLES = 1000
IMAGE_SNAPSHOT_SAMPLES = 100  # a 10 x 10 grid per snapshot


MAX_ROLLBACKS = 5


class TrainingDiverged(FloatingPointError):
    """A loss or weight became NaN/Inf and no rollback was possible or allowed."""


class TrainingInterrupted(Exception):
    """Raised after a signal stopped training and the state was checkpointed."""

    def __init__(self, signum: int, checkpoint: Path, run_dir: Path) -> None:
        self.signum, self.checkpoint, self.run_dir = signum, checkpoint, run_dir
        name = signal.Signals(signum).name
        super().__init__(
            f"{name}: stopped after the current step; checkpoint {checkpoint}; "
            f"resume with: ganforge train --resume {run_dir}"
        )


@dataclass
class RunResult:
    run_dir: Path
    metrics: dict[str, Any]
    step: int


def new_run_dir(cfg: TrainConfig, root: str | Path = "runs") -> Path:
    """``runs/00003-ring8-nonsaturating``: the next free number under ``root``."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise ValueError(f"runs folder {str(root)!r} is a file")
    numbers = (
        [int(p.name[:5]) for p in root.glob("[0-9][0-9][0-9][0-9][0-9]-*")] if root.exists() else []
    )
    tag = Path(cfg.dataset).stem if Path(cfg.dataset).suffix else cfg.dataset
    return root / f"{max(numbers, default=0) + 1:05d}-{tag}-{cfg.loss}"


def prepare_run_dir(path: str | Path) -> Path:
    """Create a fresh run directory; refuse files and folders that already hold a run."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"output path {str(path)!r} is a file, not a directory")
    if path.is_dir() and any(path.iterdir()):
        raise ValueError(
            f"output directory {str(path)!r} is not empty; choose another --out or "
            f"continue it with --resume {path}"
        )
    for sub in ("checkpoints", "samples", "plots"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    probe = path / ".write-test"
    try:
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ValueError(
            f"output directory {str(path)!r} is not writable: {exc.strerror}"
        ) from None
    return path


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
        self.cfg = cfg if _is_resolved(cfg) else resolve(cfg)
        cfg = self.cfg
        self.progress = progress
        self.log = log or (lambda msg: None)
        self.loss = get_loss(cfg.loss)
        if cfg.best_metric is not None and cfg.best_metric not in METRIC_DIRECTIONS:
            METRIC_DIRECTIONS.get(cfg.best_metric)  # raises with the list of metrics
        from ganforge.training import distributed

        self.dist = distributed.init_from_env(cfg.device)
        self.device = distributed.device_for(self.dist, pick_device(cfg.device))
        if self.dist.world_size > 1 and cfg.on_nan == "rollback":
            raise ValueError("--on-nan rollback needs a single process; use stop with torchrun")
        self.data = build_dataset(cfg)
        self.conditional = cfg.model.conditional != "none"

        torch.manual_seed(cfg.seed)
        self.G, self.D = build_models(cfg.model, self.data.shape)
        set_threads(cfg.threads, count_parameters(self.G) + count_parameters(self.D), self.device)
        # Convolutions run faster on channels-last tensors (oneDNN on CPU, tensor cores).
        self._channels_last = (
            any(isinstance(m, torch.nn.Conv2d) for m in self.D.modules())
            and len(self.data.shape) == 3
        )
        fmt = torch.channels_last if self._channels_last else torch.preserve_format
        self.G.to(self.device, memory_format=fmt)
        self.D.to(self.device, memory_format=fmt)
        if cfg.sync_batchnorm and self.dist.world_size > 1:
            self.G = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.G)
            self.D = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.D)
        if self.dist.world_size > 1:  # identical initial weights everywhere
            distributed.broadcast_module(self.G)
            distributed.broadcast_module(self.D)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if cfg.ema > 0 else None
        self.opt_g = self._optimizer(self.G, cfg.lr_g)
        self.opt_d = self._optimizer(self.D, cfg.lr_d)
        self._g_params = [p for p in self.G.parameters() if p.requires_grad]
        self._d_params = [p for p in self.D.parameters() if p.requires_grad]
        self._d_all_params = list(self.D.parameters())  # weight clipping: all of D
        # Real and fake go through D in one forward unless batch statistics would mix.
        self._joint_d = not any(
            isinstance(m, torch.nn.modules.batchnorm._NormBase) for m in self.D.modules()
        )
        # AC-GAN: an auxiliary class loss on D's class head (real data for D, fakes for G)
        self._aux = cfg.model.conditional == "acgan" and cfg.aux_weight > 0
        self._kept: tuple[torch.Tensor, torch.Tensor | None] | None = None
        self._grid: tuple[dict[str, np.ndarray], torch.Tensor] | None = None
        self._last_row: dict[str, Any] | None = None
        self._amp_dtype, self.scaler_g, self.scaler_d = self._mixed_precision()
        self.rank, self.world_size = self.dist.rank, self.dist.world_size
        # Alone and unscaled, gradients go straight to the optimizers' kernels.
        self._direct = (
            {opt: DirectUpdate(opt) for opt in (self.opt_g, self.opt_d)}
            if self.world_size == 1 and self.scaler_g is None
            else {}
        )
        self.data_gen = torch.Generator().manual_seed(self._rank_seed(1))
        self.noise_gen = torch.Generator(device=self.device).manual_seed(self._rank_seed(2))
        self.step = 0
        self._d_updates = 0  # D updates so far; lazy R1 counts them
        self.lr_scale = 1.0
        self.rollbacks = 0
        self.best_score: float | None = None
        self.best_step: int | None = None
        self.run_dir: Path | None = None
        self._stop_signal: int | None = None
        self._fixed_noise = torch.randn(
            (SNAPSHOT_SAMPLES, cfg.model.noise_dim),
            generator=torch.Generator().manual_seed(cfg.seed),
        ).mul_(cfg.noise_std)
        self._fixed_labels = (
            torch.arange(SNAPSHOT_SAMPLES) % cfg.model.num_classes if self.conditional else None
        )
        if _resume is not None:
            self._load_state(_resume)

    # -- construction helpers -----------------------------------------------------------
    def _mixed_precision(self) -> tuple[torch.dtype | None, Any, Any]:
        """(autocast dtype, G scaler, D scaler). fp16 gets one GradScaler per optimizer;
        on CPU mixed precision is ignored with a note."""
        p = self.cfg.precision
        if p == "fp32":
            return None, None, None
        if self.device.type != "cuda":
            self.log(f"note: precision {p} applies on CUDA only; training in fp32 on CPU")
            return None, None, None
        if p == "bf16":
            return torch.bfloat16, None, None
        return torch.float16, torch.amp.GradScaler("cuda"), torch.amp.GradScaler("cuda")

    def _rank_seed(self, stream: int, step: int = 0) -> int:
        """Seed of RNG ``stream`` for this process; rank 0 of a fresh run matches a
        single-process run, other ranks (and re-sharded resumes) get their own."""
        return (self.cfg.seed * 7919 + stream + 1_000_003 * self.rank + 7_919_993 * step) % 2**63

    def _optimizer(self, module: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        params = [p for p in module.parameters() if p.requires_grad]
        if self.cfg.optimizer == "adam":
            return torch.optim.Adam(params, lr=lr, betas=self.cfg.betas, fused=True)
        return torch.optim.RMSprop(params, lr=lr, foreach=True)

    @classmethod
    def resume(cls, run_dir: str | Path, steps: int | None = None, **kwargs: Any) -> Trainer:
        """Continue the run in ``run_dir`` from its latest checkpoint (optionally to a new
        total number of ``steps``)."""
        state = ckpt.load_checkpoint(run_dir)
        cfg = TrainConfig.from_dict(state.config)
        if steps is not None:
            cfg = dataclasses.replace(cfg, steps=steps)
        trainer = cls(cfg, _resume=state, **kwargs)
        trainer.run_dir = Path(run_dir) if Path(run_dir).is_dir() else state.path.parent.parent
        return trainer

    # -- state ----------------------------------------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        tensors: dict[str, torch.Tensor] = {}
        for prefix, module in (("G", self.G), ("D", self.D), ("G_ema", self.G_ema)):
            if module is not None:
                tensors.update({f"{prefix}/{k}": v for k, v in module.state_dict().items()})
        tensors["rng/torch"] = torch.get_rng_state()
        tensors["rng/data"] = self.data_gen.get_state()
        tensors["rng/noise"] = self.noise_gen.get_state()
        if torch.cuda.is_available() and self.device.type == "cuda":
            tensors["rng/cuda"] = torch.cuda.get_rng_state(self.device)
        return tensors

    def save_checkpoint(self, path: Path) -> None:
        tensors = self.state_tensors()
        opt_meta = {}
        for name, opt in (("opt_g", self.opt_g), ("opt_d", self.opt_d)):
            t, m = ckpt.flatten_optimizer(name, opt.state_dict())
            tensors.update(t)
            opt_meta[name] = m
        meta = {
            "step": self.step,
            "config": self.cfg.to_dict(),
            "optimizers": opt_meta,
            "codec": self.data.codec(),
            "best_score": self.best_score,
            "best_step": self.best_step,
            "lr_scale": self.lr_scale,
            "world_size": self.world_size,
            "scalers": {
                name: sc.state_dict()
                for name, sc in (("g", self.scaler_g), ("d", self.scaler_d))
                if sc is not None
            },
            "params": {"G": count_parameters(self.G), "D": count_parameters(self.D)},
        }
        ckpt.save_checkpoint(path, tensors, meta)

    def _load_state(self, state: ckpt.Checkpoint) -> None:
        ckpt.load_state_strict(self.G, state.module_state("G"), "generator")
        ckpt.load_state_strict(self.D, state.module_state("D"), "discriminator")
        if self.G_ema is not None:
            if not state.has("G_ema"):
                raise ValueError("checkpoint has no EMA generator but the config enables ema")
            ckpt.load_state_strict(self.G_ema, state.module_state("G_ema"), "EMA generator")
        for name, opt in (("opt_g", self.opt_g), ("opt_d", self.opt_d)):
            opt.load_state_dict(
                ckpt.unflatten_optimizer(name, state.tensors, state.meta["optimizers"][name])
            )
        torch.set_rng_state(state.tensors["rng/torch"])
        saved_world = int(state.meta.get("world_size", 1))
        if self.world_size == 1 and saved_world == 1:
            self.data_gen.set_state(state.tensors["rng/data"])
            self.noise_gen.set_state(state.tensors["rng/noise"])
        else:  # other processes' streams are not in the file: derive them from the step
            self.data_gen.manual_seed(self._rank_seed(1, state.step))
            self.noise_gen.manual_seed(self._rank_seed(2, state.step))
        if "rng/cuda" in state.tensors and self.device.type == "cuda":
            torch.cuda.set_rng_state(state.tensors["rng/cuda"], self.device)
        self.step = state.step
        self._d_updates = state.step * self.cfg.n_critic
        self.lr_scale = float(state.meta.get("lr_scale", 1.0))
        for name, sc in (("g", self.scaler_g), ("d", self.scaler_d)):
            saved = state.meta.get("scalers", {}).get(name)
            if sc is not None and saved:
                sc.load_state_dict(saved)
        self.best_score = state.meta.get("best_score")
        self.best_step = state.meta.get("best_step")

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
        if self.conditional:
            y = y.to(self.device, non_blocking=True)
        return x, (y if self.conditional else None)

    def _labels(self, batch: int) -> torch.Tensor | None:
        """Uniform random class labels for G's conditional samples, or None."""
        if not self.conditional:
            return None
        return torch.randint(
            self.cfg.model.num_classes, (batch,), generator=self.noise_gen, device=self.device
        )

    def _gen(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        with self._autocast():
            return self.G(z) if y is None else self.G(z, y)

    def _disc(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        with self._autocast():
            out = self.D(x) if y is None else self.D(x, y)
        return out.float()  # losses in float32

    def _autocast(self) -> contextlib.AbstractContextManager:
        """bf16/fp16 autocast on CUDA when ``precision`` asks for it; a no-op otherwise."""
        if self._amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=self._amp_dtype)

    def _backward_step(
        self,
        loss: torch.Tensor,
        opt: torch.optim.Optimizer,
        scaler: Any,
        params: list[torch.Tensor],
        module: torch.nn.Module,
    ) -> None:
        """Gradients of ``loss`` for ``params`` only, then the optimizer update. Alone and
        unscaled, the gradients go straight to the optimizer's kernel
        (:class:`DirectUpdate`); otherwise zero_grad, backward, all-reduce, step (fp16:
        scaled)."""
        direct = self._direct.get(opt)
        if direct is not None:
            direct(params, torch.autograd.grad(loss, params, allow_unused=True))
            return
        opt.zero_grad(set_to_none=True)
        (scaler.scale(loss) if scaler is not None else loss).backward(inputs=params)
        self._sync_gradients(module)
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()

    def d_step(self, keep_fake: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One discriminator/critic update on a fresh batch. Returns detached
        ``(loss, D(real), D(fake))``."""
        real, y = self._real_batch()
        return self.d_update(real, y, self._noise(self.cfg.batch_size), keep_fake=keep_fake)

    def d_update(
        self,
        real: torch.Tensor,
        y: torch.Tensor | None,
        z: torch.Tensor,
        keep_fake: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The D update on a given real batch ``(B, *shape)``, labels and noise ``(B, nz)``.

        With ``keep_fake`` the fakes keep their autograd graph through G and are stored
        in ``self._kept`` for the G update that follows (one G forward saved).
        """
        cfg, loss = self.cfg, self.loss
        if keep_fake:
            fake = self._gen(z, y)  # conditional fakes share the real labels
            self._kept = (fake, y)
            fake_in = fake.detach()
        else:
            with torch.no_grad():
                fake_in = self._gen(z, y)
        class_real = None  # AC-GAN: D's class logits for the real batch
        # Lazy R1: every r1_every-th D update carries the penalty, weighted r1_every times.
        r1 = cfg.r1_weight > 0 and self._d_updates % cfg.r1_every == 0
        self._d_updates += 1
        if r1:  # R1 differentiates D(real) with respect to the real batch
            real = real.detach().requires_grad_(True)
        if self._joint_d:  # one D forward over [real; fake]: same maths without batch norm
            both = self._disc(torch.cat([real, fake_in]), None if y is None else torch.cat([y, y]))
            d_real, d_fake = both.chunk(2)
            if self._aux:
                class_real, self.D.class_logits = self.D.class_logits[: real.shape[0]], None
        else:
            d_real = self._disc(real, y)
            if self._aux:
                class_real, self.D.class_logits = self.D.class_logits, None
            d_fake = self._disc(fake_in, y)
        if loss.uses_targets and (cfg.label_smoothing or cfg.label_noise):
            rt, ft = label_targets(
                d_real.shape[0],
                cfg.label_smoothing,
                cfg.label_noise,
                self.noise_gen,
                device=self.device,
            )
        else:
            rt, ft = 1.0, 0.0
        d_loss = loss.d_loss(d_real, d_fake, rt, ft)
        if class_real is not None:  # D learns the classes from real data only
            d_loss = d_loss + cfg.aux_weight * F.cross_entropy(class_real.float(), y)
        if cfg.gp_weight:
            critic = self.D if y is None else (lambda x: self.D(x, y))
            d_loss = d_loss + cfg.gp_weight * gradient_penalty(
                critic, real, fake_in, self.noise_gen
            )
        if r1:
            d_loss = d_loss + 0.5 * cfg.r1_weight * cfg.r1_every * r1_penalty(real, d_real)
        self._backward_step(d_loss, self.opt_d, self.scaler_d, self._d_params, self.D)
        if cfg.clip_value:
            clip_weights_(self._d_all_params, cfg.clip_value)
        return d_loss.detach(), d_real.detach(), d_fake.detach()

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
            fake = self._gen(z, y)
        g_loss = self.loss.g_loss(self._disc(fake, y))
        if self._aux:  # G makes samples D's classifier reads as their label
            class_fake, self.D.class_logits = self.D.class_logits, None
            g_loss = g_loss + self.cfg.aux_weight * F.cross_entropy(class_fake.float(), y)
        self._backward_step(g_loss, self.opt_g, self.scaler_g, self._g_params, self.G)
        if self.G_ema is not None:
            self._update_ema()
        return g_loss.detach()

    def _sync_gradients(self, module: torch.nn.Module) -> None:
        """Data parallelism: average gradients over all processes (no-op alone)."""
        if self.world_size > 1:
            from ganforge.training.distributed import average_gradients

            average_gradients(module, self.world_size)

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
        device tensor ordered like :data:`STAT_NAMES` (no host synchronisation)."""
        n = self.cfg.n_critic
        for i in range(n):
            d_loss, d_real, d_fake = self.d_step(keep_fake=self.cfg.reuse_fake and i == n - 1)
        g_loss = self.g_step()
        out_r, out_f = self.loss.d_output(d_real), self.loss.d_output(d_fake)
        thr = self.loss.equilibrium if self.loss.equilibrium is not None else 0.0
        self.step += 1
        return torch.stack(
            [
                d_loss,
                g_loss,
                out_r.mean(),
                out_f.mean(),
                (out_r > thr).float().mean(),
                (out_f <= thr).float().mean(),
            ]
        )

    def _set_learning_rates(self) -> None:
        if self.cfg.lr_schedule == "constant":
            if self.lr_scale != 1.0:
                self._apply_lr(1.0)
            return
        frac = self.step / self.cfg.steps
        if self.cfg.lr_schedule == "linear":
            factor = 1.0 - frac
        else:
            factor = 0.5 * (1.0 + math.cos(math.pi * frac))
        self._apply_lr(factor)

    def _apply_lr(self, factor: float) -> None:
        for opt, base in ((self.opt_g, self.cfg.lr_g), (self.opt_d, self.cfg.lr_d)):
            for group in opt.param_groups:
                group["lr"] = base * factor * self.lr_scale

    # -- the loop -------------------------------------------------------------------------
    def fit(self) -> RunResult:
        """Train to ``cfg.steps`` generator steps, writing the run directory as it goes."""
        cfg = self.cfg
        if self.run_dir is None:
            self.run_dir = self._create_run_dir()
        run = self.run_dir
        lock = RunLock(run, enabled=self.is_main)
        self._on_main(lock.acquire if self.is_main else (lambda: None))
        with lock:
            if self.is_main:  # temp files of a process killed mid-write; we hold the lock
                for pattern in ("checkpoints/.*.tmp", "samples/.*.tmp", "plots/.*.tmp", ".*.tmp"):
                    for leftover in run.glob(pattern):
                        leftover.unlink(missing_ok=True)
            if self.is_main and not (run / "samples" / "real.npz").exists():
                self._snapshot()
            self.log(
                f"run {run}\n"
                f"G: {count_parameters(self.G):,} parameters | D: {count_parameters(self.D):,} "
                f"parameters | {cfg.preset} on {cfg.dataset} | loss {cfg.loss} | "
                f"device {self.device}"
            )
            self._loop()
            if self.is_main:
                if self.best_step is None:  # no best rule applied: the final model is best
                    self._copy_latest_to_best()
                metrics = self.evaluate_final()
                self._plots()
            else:
                metrics = {}
        return RunResult(run, metrics, self.step)

    def _on_main(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on rank 0 only; every process gets its result, or raises rank 0's
        error as a ValueError (so no process waits for a peer that has stopped)."""
        if self.world_size == 1:
            return fn()
        import torch.distributed as dist

        result: list[Any] = [None]
        if self.is_main:
            try:
                result = [("ok", fn())]
            except Exception as exc:  # noqa: BLE001 - passed on to every process
                result = [("error", str(exc))]
        dist.broadcast_object_list(result, src=0)
        status, value = result[0]
        if status == "error":
            raise ValueError(value)
        return value

    def _create_run_dir(self) -> Path:
        """Rank 0 creates the run directory and writes ``config.json``."""

        def create() -> str:
            target = Path(self.cfg.out) if self.cfg.out else new_run_dir(self.cfg)
            path = prepare_run_dir(target)
            write_json(path / "config.json", self.cfg.to_dict())
            return str(path)

        return Path(self._on_main(create))

    def _loop(self) -> None:
        cfg, run = self.cfg, self.run_dir
        bar = None
        if self.progress and self.is_main:
            from tqdm.auto import tqdm

            bar = tqdm(
                total=cfg.steps,
                initial=self.step,
                desc="train",
                unit="step",
                dynamic_ncols=True,
                file=sys.stderr,
                # a live bar on a terminal; in a log file, a line every 30 s at most
                mininterval=0.1 if sys.stderr.isatty() else 30.0,
            )
        # Per-step statistics stay on the device until the log interval (no host sync).
        window = torch.empty((cfg.log_every, len(STAT_NAMES)), device=self.device)
        count = 0
        t_window, first_step = time.perf_counter(), self.step
        warmup = cfg.steps // 5
        try:
            with _SignalCatcher(self):
                while self.step < cfg.steps:
                    self._set_learning_rates()
                    window[count] = self.train_step()
                    count += 1
                    if bar is not None:
                        bar.update(1)
                    last = self.step == cfg.steps
                    if count == cfg.log_every or last:
                        row = self._log_row(
                            window[:count], first_step, time.perf_counter() - t_window
                        )
                        count, t_window, first_step = 0, time.perf_counter(), self.step
                        if row is None:  # diverged and rolled back
                            if bar is not None:
                                bar.n = self.step
                            continue
                        if self.is_main:
                            append_jsonl(run / "history.jsonl", row)
                        if bar is not None:
                            bar.set_postfix(
                                {"D": f"{row['loss/d']:.3f}", "G": f"{row['loss/g']:.3f}"},
                                refresh=False,
                            )
                        self._last_row = row
                    if self.is_main and (
                        cfg.best_metric is not None
                        and self.step > warmup
                        and ((cfg.eval_every and self.step % cfg.eval_every == 0) or last)
                    ):
                        self._evaluate_for_best()
                    if (
                        self.is_main
                        and cfg.sample_every
                        and (self.step % cfg.sample_every == 0 or last)
                    ):
                        self._snapshot()
                    if (cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0) or last:
                        self._checkpoint()
                    if self._should_stop(count == 0):
                        path = self._checkpoint()
                        raise TrainingInterrupted(self._stop_signal, path, run)
        finally:
            if bar is not None:
                bar.close()

    def _should_stop(self, at_log_boundary: bool) -> bool:
        """A signal stops training after the current step; with several processes they
        agree (all-reduce at log boundaries) so all stop at the same step."""
        if self.world_size == 1:
            return self._stop_signal is not None
        if not at_log_boundary:
            return False
        import torch.distributed as dist

        flag = torch.tensor([0 if self._stop_signal is None else self._stop_signal])
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        if flag.item() and self._stop_signal is None:
            self._stop_signal = int(flag.item())
        return bool(flag.item())

    def _log_row(self, stats: torch.Tensor, first_step: int, elapsed: float) -> dict | None:
        """Average a window of per-step statistics ``(n, len(STAT_NAMES))`` into a history
        row; on NaN/Inf stop (or roll back) naming the exact step and term."""
        values = stats.tolist()  # the one host synchronisation per log interval
        for i, per_step in enumerate(values):
            bad = [n for n, v in zip(STAT_NAMES, per_step, strict=True) if not math.isfinite(v)]
            if bad:
                return self._diverged(first_step + i + 1, ", ".join(bad))
        if not self._weights_finite():
            return self._diverged(self.step, "weights")
        means = np.mean(values, axis=0).tolist()
        row: dict[str, Any] = {"step": self.step, "time": time.time()}
        row.update(dict(zip(STAT_NAMES, means, strict=True)))
        row["samples_per_s"] = (
            len(values) * self.cfg.batch_size * self.world_size / max(elapsed, 1e-9)
        )
        row["lr/g"] = self.opt_g.param_groups[0]["lr"]
        row["lr/d"] = self.opt_d.param_groups[0]["lr"]
        return row

    def _weights_finite(self) -> bool:
        params = [p for m in (self.G, self.D) for p in m.parameters()]
        norms = torch._foreach_norm(params)
        return bool(torch.isfinite(torch.stack(norms)).all())

    def _diverged(self, step: int, term: str) -> None:
        folder = self.run_dir / "checkpoints"
        latest = folder / "latest.safetensors"
        if self.cfg.on_nan == "rollback" and latest.exists() and self.rollbacks < MAX_ROLLBACKS:
            state = ckpt.load_checkpoint(latest)
            previous_scale = self.lr_scale
            self._load_state(state)  # restores the checkpoint's lr_scale
            self.rollbacks += 1
            self.lr_scale = min(previous_scale, self.lr_scale) * 0.5
            self._set_learning_rates()
            msg = (
                f"{term} became NaN or infinite at step {step}; rolled back to step "
                f"{self.step} and halved the learning rates (x{self.lr_scale:g})"
            )
            self.log(f"warning: {msg}")
            if self.is_main:
                append_jsonl(
                    self.run_dir / "history.jsonl",
                    {
                        "step": self.step,
                        "time": time.time(),
                        "event": "rollback",
                        "diverged_step": step,
                        "term": term,
                        "lr_scale": self.lr_scale,
                    },
                )
            return None
        where = (
            f"the last good checkpoint is {latest}"
            if latest.exists()
            else "no checkpoint was written before it"
        )
        raise TrainingDiverged(
            f"training diverged at step {step}: {term} became NaN or infinite; {where}"
        )

    @property
    def sampling_generator(self) -> torch.nn.Module:
        """The EMA generator when enabled, else the trained one."""
        return self.G_ema if self.G_ema is not None else self.G

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` samples in native units from the sampling generator."""
        return generate(
            self.sampling_generator,
            n,
            self.cfg.model.noise_dim,
            self.cfg.noise_std,
            seed=seed,
            decode=self.data.decode,
            num_classes=self.cfg.model.num_classes if self.conditional else 0,
        )

    def evaluate(self, n: int | None = None, seed: int = 0) -> dict[str, Any]:
        n = n or self.cfg.eval_samples
        labels = default_labels(n, self.cfg.model.num_classes) if self.conditional else None
        metrics = evaluate_samples(
            self.data, self.sample(n, seed=seed), n=n, seed=seed, labels=labels
        )
        metrics["protocol"]["generator"] = "ema" if self.G_ema is not None else "raw"
        metrics["protocol"]["step"] = self.step
        return metrics

    def evaluate_final(self) -> dict[str, Any]:
        metrics = self.evaluate()
        write_json(self.run_dir / "metrics.json", metrics)
        return metrics

    def _evaluate_for_best(self) -> None:
        if not self._weights_finite():
            self._diverged(self.step, "weights")
            return
        metrics = self.evaluate(seed=self.step)
        name = self.cfg.best_metric
        if name not in metrics:
            raise ValueError(
                f"best_metric {name!r} is not reported for dataset {self.cfg.dataset!r}; "
                f"it reports: {', '.join(k for k, v in metrics.items() if isinstance(v, float))}"
            )
        value = metrics.get(name)
        row = {"step": self.step, "time": time.time(), f"eval/{name}": value}
        append_jsonl(self.run_dir / "history.jsonl", row)
        if value is not None:
            higher = METRIC_DIRECTIONS.get(name)
            self._consider_best(-value if higher else value)

    def _update_best_from_logs(self) -> bool:
        """The classic rule, applied to checkpoints: the best is the checkpoint whose
        latest logged mean D outputs on real and fake are both closest to the loss's
        equilibrium (0.5). Skipped in the first fifth of training, when an untrained D
        sits at 0.5 too, and when a ``best_metric`` is configured."""
        row, eq = self._last_row, self.loss.equilibrium
        if (
            self.cfg.best_metric is not None
            or eq is None
            or row is None
            or self.step <= self.cfg.steps // 5
        ):
            return False
        score = abs(row["d/real"] - eq) + abs(row["d/fake"] - eq)
        if self.best_score is None or score < self.best_score:
            self.best_score, self.best_step = float(score), self.step
            return True
        return False

    def _consider_best(self, score: float) -> None:
        """Lower ``score`` is better; save ``best.safetensors`` on improvement."""
        if self.best_score is None or score < self.best_score:
            self.best_score, self.best_step = float(score), self.step
            self._write_checkpoint(self.run_dir / "checkpoints" / "best.safetensors")

    @property
    def is_main(self) -> bool:
        """Only the rank-0 process logs and writes files."""
        return self.rank == 0

    def _checkpoint(self) -> Path:
        folder = self.run_dir / "checkpoints"
        path = folder / f"step_{self.step:07d}.safetensors"
        # Every process checks (their weights are identical), so all stop together.
        if not self._weights_finite():  # never replace a good checkpoint with a bad one
            self._diverged(self.step, "weights")
            return folder / "latest.safetensors"
        if not self.is_main:
            return path
        is_best = self._update_best_from_logs()
        self._write_checkpoint(path, link_latest=True)
        if is_best:  # the same file: a link, not a second write
            _link_replace(path, folder / "best.safetensors")
        steps = sorted(folder.glob("step_*.safetensors"))
        for old in steps[: -self.cfg.keep_checkpoints]:
            old.unlink(missing_ok=True)
        return path

    def _write_checkpoint(self, path: Path, link_latest: bool = False) -> None:
        """Save (and optionally make it ``latest``); a failing write (full disk, lost
        permission) becomes one clear error while the previous files stay intact."""
        latest = path.parent / "latest.safetensors"
        try:
            self.save_checkpoint(path)
            if link_latest:
                _link_replace(path, latest)
        except OSError as exc:
            kept = f"; the previous checkpoint {latest} is intact" if latest.exists() else ""
            raise ValueError(
                f"could not write checkpoint {path}: {exc.strerror or exc}{kept}"
            ) from None

    def _copy_latest_to_best(self) -> None:
        folder = self.run_dir / "checkpoints"
        _link_replace(folder / "latest.safetensors", folder / "best.safetensors")

    def _snapshot(self) -> None:
        """Fixed-noise samples (and D's output on a grid for 1-D/2-D data) for the plots."""
        with torch.inference_mode():
            g = self.sampling_generator
            was = g.training
            g.eval()
            n = IMAGE_SNAPSHOT_SAMPLES if self.data.kind == "image" else SNAPSHOT_SAMPLES
            z = self._fixed_noise[:n].to(self.device)
            y = None if self._fixed_labels is None else self._fixed_labels[:n].to(self.device)
            fake = self.data.decode((g(z) if y is None else g(z, y)).cpu())
            g.train(was)
        arrays: dict[str, np.ndarray] = {"fake": fake}
        if self._fixed_labels is not None:
            arrays["labels"] = self._fixed_labels[:n].numpy()
        dim = int(np.prod(self.data.shape))
        if self.data.kind == "lowdim" and dim <= 2 and not self.conditional:
            arrays.update(self._d_grid(dim))
        if not (self.run_dir / "samples" / "real.npz").exists():
            _save_npz(
                self.run_dir / "samples" / "real.npz",
                real=self.data.sample_real(n, seed=12345),
            )
        _save_npz(self.run_dir / "samples" / f"step_{self.step:07d}.npz", **arrays)
        if self.data.kind == "image":
            from ganforge.grids import save_grid

            save_grid(fake, self.run_dir / "samples" / f"step_{self.step:07d}.png")

    @torch.inference_mode()
    def _d_grid(self, dim: int) -> dict[str, np.ndarray]:
        """D's output on a fixed grid over the data range (200 points in 1-D, 60x60 in
        2-D); the grid is built once per run."""
        if self._grid is None:
            real = self.data.sample_real(SNAPSHOT_SAMPLES, seed=12345)
            lo, hi = real.min(0), real.max(0)
            pad = 0.25 * (hi - lo) + 1e-3
            lo, hi = lo - pad, hi + pad
            if dim == 1:
                axes = {"grid_x": np.linspace(lo[0], hi[0], 200)}
                pts = axes["grid_x"][:, None]
            else:
                gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 60), np.linspace(lo[1], hi[1], 60))
                axes = {"grid_x": gx, "grid_y": gy}
                pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
            pts_t = self.data.encode(pts)
            if self.cfg.model.pack > 1:  # a packing D scores each point as a pack of copies
                pts_t = pts_t.repeat_interleave(self.cfg.model.pack, dim=0)
            self._grid = (axes, pts_t.to(self.device))
        axes, pts_t = self._grid
        was = self.D.training
        self.D.eval()
        out = self.loss.d_output(self.D(pts_t)).cpu().numpy()
        self.D.train(was)
        return {**axes, "grid_d": out.reshape(axes["grid_x"].shape)}

    def _plots(self) -> None:
        from ganforge.plots import plot_run

        try:
            plot_run(self.run_dir)
        except Exception as exc:  # plots must never lose a finished run
            self.log(f"warning: plotting failed: {exc}")


SMALL_MODEL_PARAMS = 200_000


def set_threads(threads: int | None, n_params: int, device: torch.device) -> None:
    """Intra-op CPU threads: ``threads`` if given; otherwise one thread for tiny models
    (the toy-data presets), whose layers are too small to split across cores — the
    synchronisation costs more than it saves, badly so when another process shares the
    cores — and PyTorch's default for everything else (benchmarks/throughput.py)."""
    if threads is not None:
        torch.set_num_threads(threads)
    elif device.type == "cpu" and n_params < SMALL_MODEL_PARAMS:
        torch.set_num_threads(1)


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    with atomic_path(path, durable=False) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def _link_replace(src: Path, dst: Path) -> None:
    """Make ``dst`` a hard link to ``src`` (atomically replacing it); copy if links fail."""
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        import shutil

        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _is_resolved(cfg: TrainConfig) -> bool:
    return (
        isinstance(cfg.model, ModelConfig)
        and cfg.n_critic is not None
        and cfg.lr_g is not None
        and cfg.preset is not None
        and cfg.eval_samples is not None
    )


class _SignalCatcher:
    """On SIGINT/SIGTERM, let the current step finish; the loop then checkpoints and
    raises :class:`TrainingInterrupted`. A second signal stops at once."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.old: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.trainer._stop_signal is not None:
            raise KeyboardInterrupt
        self.trainer._stop_signal = signum

    def __enter__(self) -> _SignalCatcher:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self.old.items():
            signal.signal(sig, handler)


def train(
    cfg: TrainConfig, progress: bool = False, log: Callable[[str], None] | None = None
) -> RunResult:
    """Train a run from a config and return its directory and final metrics."""
    return Trainer(cfg, progress=progress, log=log).fit()
