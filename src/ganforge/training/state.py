"""A trainer's complete state to and from a checkpoint file.

A checkpoint holds G, D, the EMA generator, both optimizers, every RNG stream, the step,
the config, the data codec, the best-model record, the learning-rate scale and the
fp16 gradient scalers, so a resumed run continues bitwise as if never stopped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ganforge.errors import CheckpointError
from ganforge.models import count_parameters
from ganforge.training import checkpoint as ckpt
from ganforge.training import distributed


def state_tensors(tr: Any) -> dict[str, torch.Tensor]:
    """Weights of G, D and the EMA generator, and the RNG states, by name."""
    tensors: dict[str, torch.Tensor] = {}
    for prefix, module in (("G", tr.G), ("D", tr.D), ("G_ema", tr.G_ema)):
        if module is not None:
            tensors.update({f"{prefix}/{k}": v for k, v in module.state_dict().items()})
    tensors["rng/torch"] = torch.get_rng_state()
    tensors["rng/data"] = tr.data_gen.get_state()
    tensors["rng/noise"] = tr.noise_gen.get_state()
    if torch.cuda.is_available() and tr.device.type == "cuda":
        tensors["rng/cuda"] = torch.cuda.get_rng_state(tr.device)
    return tensors


def save(tr: Any, path: Path) -> None:
    """Write the trainer's state to ``path`` (safetensors + JSON metadata, atomically)."""
    tensors = state_tensors(tr)
    opt_meta = {}
    for name, opt in (("opt_g", tr.opt_g), ("opt_d", tr.opt_d)):
        t, m = ckpt.flatten_optimizer(name, opt.state_dict())
        tensors.update(t)
        opt_meta[name] = m
    meta = {
        "step": tr.step,
        "config": tr.cfg.to_dict(),
        "optimizers": opt_meta,
        "codec": tr.data.codec(),
        "best_score": tr.best.score,
        "best_step": tr.best.step,
        "lr_scale": tr.lr_scale,
        "world_size": tr.world_size,
        "scalers": {
            name: sc.state_dict()
            for name, sc in (("g", tr.scaler_g), ("d", tr.scaler_d))
            if sc is not None
        },
        "params": {"G": count_parameters(tr.G), "D": count_parameters(tr.D)},
    }
    ckpt.save_checkpoint(path, tensors, meta)


def restore(tr: Any, state: ckpt.Checkpoint) -> None:
    """Load ``state`` into the trainer: weights, optimizers, RNG streams, counters."""
    ckpt.load_state_strict(tr.G, state.module_state("G"), "generator")
    ckpt.load_state_strict(tr.D, state.module_state("D"), "discriminator")
    if tr.G_ema is not None:
        if not state.has("G_ema"):
            raise CheckpointError("checkpoint has no EMA generator but the config enables ema")
        ckpt.load_state_strict(tr.G_ema, state.module_state("G_ema"), "EMA generator")
    for name, opt in (("opt_g", tr.opt_g), ("opt_d", tr.opt_d)):
        opt.load_state_dict(
            ckpt.unflatten_optimizer(name, state.tensors, state.meta["optimizers"][name])
        )
        _match_parameter_layouts(opt)
    torch.set_rng_state(state.tensors["rng/torch"])
    saved_world = int(state.meta.get("world_size", 1))
    if tr.world_size == 1 and saved_world == 1:
        tr.data_gen.set_state(state.tensors["rng/data"])
        tr.noise_gen.set_state(state.tensors["rng/noise"])
    else:  # other processes' streams are not in the file: derive them from the step
        tr.data_gen.manual_seed(distributed.rank_seed(tr.cfg.seed, 1, tr.rank, state.step))
        tr.noise_gen.manual_seed(distributed.rank_seed(tr.cfg.seed, 2, tr.rank, state.step))
    if "rng/cuda" in state.tensors and tr.device.type == "cuda":
        torch.cuda.set_rng_state(state.tensors["rng/cuda"], tr.device)
    tr.step = state.step
    # a maximum-likelihood step draws one real batch and updates no D
    adversarial = max(state.step - tr.cfg.mle_steps, 0)
    tr.objective.d_updates = adversarial * tr.cfg.n_critic
    tr.batches.drawn = state.step - adversarial + adversarial * tr.cfg.n_critic  # epoch position
    tr.lr_scale = float(state.meta.get("lr_scale", 1.0))
    for name, sc in (("g", tr.scaler_g), ("d", tr.scaler_d)):
        saved = state.meta.get("scalers", {}).get(name)
        if sc is not None and saved:
            sc.load_state_dict(saved)
    tr.best.score = state.meta.get("best_score")
    tr.best.step = state.meta.get("best_step")


def _match_parameter_layouts(opt: torch.optim.Optimizer) -> None:
    """Give each per-parameter state tensor (Adam's moments) its parameter's memory
    layout. A checkpoint stores them contiguous; a channels-last convolution's weights are
    not, and the fused update of a parameter whose moments are laid out differently rounds
    differently, so a resumed run would drift from the uninterrupted one."""
    for group in opt.param_groups:
        for param in group["params"]:
            for key, value in opt.state.get(param, {}).items():
                misplaced = torch.is_tensor(value) and value.shape == param.shape
                if misplaced and value.stride() != param.stride():
                    opt.state[param][key] = torch.empty_like(param).copy_(value)
