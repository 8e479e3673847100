"""Defaults: resolve a user's :class:`~ganforge.config.TrainConfig` into a
:class:`~ganforge.config.ResolvedConfig`: every default filled in from the loss, the
dataset and the preset, and the options checked to fit together."""

from __future__ import annotations

import dataclasses
from typing import Any

from ganforge.config import (
    GENERIC_DEFAULTS,
    LOSS_TUNED,
    ModelConfig,
    ResolvedConfig,
    TrainConfig,
    _known,
)
from ganforge.data import build_dataset, dataset_info
from ganforge.data.base import DatasetInfo
from ganforge.errors import ConfigError
from ganforge.losses import get_loss
from ganforge.models import MODELS, get_preset


def resolve(cfg: TrainConfig, model_overrides: dict[str, Any] | None = None) -> ResolvedConfig:
    """Fill every ``None`` from the dataset, loss and preset defaults and check that the
    options fit together. Training options the user leaves unset take the dataset's
    :attr:`~ganforge.data.base.DatasetInfo.train_defaults` first (see
    :func:`with_dataset_defaults`), then the loss's and the generic ones. Returns a new config; the input is
    unchanged. A config that is already resolved is returned as it is."""
    if isinstance(cfg, ResolvedConfig) and not model_overrides:
        return cfg
    info = dataset_info(cfg.dataset, cfg.columns)
    loss_name = cfg.loss or info.default_loss
    loss = get_loss(loss_name)
    user = cfg
    cfg = with_dataset_defaults(dataclasses.replace(cfg, loss=loss_name), info)
    preset_name = cfg.preset or info.default_preset
    if user.self_condition is None and cfg.self_condition:
        cfg = _dataset_clusters(cfg, info, preset_name, model_overrides)
    model = _model_config(cfg, info, preset_name, model_overrides)
    cfg = dataclasses.replace(cfg, **_without_likelihood(user, model))
    if not loss.uses_targets and (cfg.label_smoothing or cfg.label_noise):
        raise ConfigError(
            f"label smoothing/noise apply to classifier losses, not to loss {loss_name!r}"
        )
    if cfg.augment and info.kind != "image":
        raise ConfigError(
            f"--augment transforms images; dataset {cfg.dataset!r} holds {info.kind} data"
        )
    n_critic = cfg.n_critic if cfg.n_critic is not None else loss.n_critic
    steps = cfg.steps if cfg.epochs is None else steps_for_epochs(cfg, model, n_critic)
    if cfg.batch_size % model.pack:
        raise ConfigError(f"batch_size {cfg.batch_size} must be a multiple of pack {model.pack}")
    values = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(TrainConfig)}
    values.update(
        preset=preset_name,
        loss=loss_name,
        model=model,
        steps=steps,
        n_critic=n_critic,
        clip_value=_first(cfg.clip_value, loss.clip_value, 0.0),
        gp_weight=_first(cfg.gp_weight, loss.gp_weight, 0.0),
        optimizer=cfg.optimizer or loss.optimizer,
        lr_g=cfg.lr_g if cfg.lr_g is not None else loss.lr,
        lr_d=cfg.lr_d if cfg.lr_d is not None else loss.lr,
        betas=cfg.betas if cfg.betas is not None else loss.betas,
        noise_std=cfg.noise_std if cfg.noise_std is not None else info.noise_std,
        sample_every=cfg.sample_every if cfg.sample_every is not None else max(steps // 10, 1),
        checkpoint_every=(
            cfg.checkpoint_every if cfg.checkpoint_every is not None else max(steps // 5, 1)
        ),
        eval_samples=cfg.eval_samples if cfg.eval_samples is not None else info.eval_samples,
        eval_every=(
            cfg.eval_every
            if cfg.eval_every or cfg.best_metric is None
            else (cfg.checkpoint_every or max(steps // 5, 1))
        ),
    )
    return ResolvedConfig(**values)


def _model_config(
    cfg: TrainConfig, info: DatasetInfo, preset_name: str, overrides: dict[str, Any] | None
) -> ModelConfig:
    """The run's model: the preset (or the config's complete model), the config's and
    ``overrides``' options on top, and the conditioning checked against the data."""
    preset = get_preset(preset_name)
    if isinstance(cfg.model, ModelConfig):
        base = dataclasses.asdict(cfg.model)
    else:
        base = dataclasses.asdict(preset.model)
        base.update(cfg.model or {})
    if overrides:
        base.update(_known("model", ModelConfig, overrides))
    if cfg.self_condition:
        if info.kind not in ("image", "lowdim"):
            raise ConfigError(
                f"self_condition clusters images or numeric points; dataset {cfg.dataset!r} "
                f"holds {info.kind} data"
            )
        if _takes_layout(base["arch"]):
            raise ConfigError(
                f"self_condition clusters images or numeric points; model {base['arch']!r} "
                f"reads {cfg.dataset!r} as a mixed-type table (use --self-condition 0)"
            )
        if base.get("conditional", "none") in ("none", "prompt"):
            base["conditional"] = "projection"
        base["num_classes"] = cfg.self_condition
    elif base.get("conditional") == "prompt":
        if info.kind != "sequence":
            raise ConfigError(f"conditional 'prompt' needs a sequence dataset, not {cfg.dataset!r}")
    elif base.get("conditional", "none") != "none":
        if not info.num_classes:
            raise ConfigError(
                f"dataset {cfg.dataset!r} has no labels; a conditional model needs them"
            )
        base["num_classes"] = info.num_classes
    return ModelConfig(**base)


def _dataset_clusters(
    cfg: TrainConfig, info: DatasetInfo, preset_name: str, overrides: dict[str, Any] | None
) -> TrainConfig:
    """``cfg`` with the dataset's default self-conditioning kept only for an
    unconditional model of points: a model the user made conditional keeps its own
    labels (and the error when the data has none), and a table model (its builder takes
    the column layout) reads the file as a mixed-type table, which is not clustered."""
    off = dataclasses.replace(cfg, self_condition=0)
    plain = _model_config(off, info, preset_name, overrides)
    if plain.conditional != "none" or _takes_layout(plain.arch):
        return off
    return cfg


def _takes_layout(arch: str) -> bool:
    """The model shapes its heads to a table's columns (see ``build_models``)."""
    return bool(getattr(MODELS.get(arch), "takes_layout", False))


def _without_likelihood(user: TrainConfig, model: ModelConfig) -> dict[str, Any]:
    """For a model whose generator has no likelihood (its builder lacks ``likelihood``),
    the dataset's ``mle_steps``/``mle_weight`` defaults become 0; values the user gave are
    kept (and refused, naming the model, when the networks are built)."""
    if getattr(MODELS.get(model.arch), "likelihood", False):
        return {}
    return {n: 0 for n in ("mle_steps", "mle_weight") if getattr(user, n) is None}


def with_dataset_defaults(cfg: TrainConfig, info: DatasetInfo) -> TrainConfig:
    """``cfg`` with each training option it leaves unset (``None``) taken from the
    dataset's ``train_defaults``, then from :data:`~ganforge.config.GENERIC_DEFAULTS`.
    The dataset's learning rates, betas and critic steps
    (:data:`~ganforge.config.LOSS_TUNED`) apply only when the run uses the dataset's
    default loss, the one they were tuned with."""
    train_defaults = info.train_defaults
    known = set(GENERIC_DEFAULTS) | set(LOSS_TUNED)
    assert set(train_defaults) <= known, f"unknown train_defaults {sorted(train_defaults)}"
    default_loss = info.default_loss
    fill = {
        name: value
        for name, value in train_defaults.items()
        if getattr(cfg, name) is None and (name not in LOSS_TUNED or cfg.loss == default_loss)
    }
    for name, generic in GENERIC_DEFAULTS.items():
        if getattr(cfg, name) is None:
            fill.setdefault(name, generic)
    return dataclasses.replace(cfg, **fill) if fill else cfg


def steps_for_epochs(cfg: TrainConfig, model: ModelConfig, n_critic: int) -> int:
    """Generator steps for ``cfg.epochs`` passes of the real batches over a finite
    dataset: ``ceil(epochs * (size // batch_size) / n_critic)`` (the last, partial batch
    of each pass is dropped so every batch has ``batch_size`` samples); a
    maximum-likelihood step (the first ``mle_steps``) reads one batch."""
    size = build_dataset(dataclasses.replace(cfg, model=model)).size
    if size is None:
        raise ConfigError(
            f"--epochs needs a finite dataset (a file, a folder, an image set); "
            f"{cfg.dataset!r} draws fresh samples every step: use --steps"
        )
    per_epoch = size // cfg.batch_size
    if per_epoch < 1:
        raise ConfigError(
            f"batch_size {cfg.batch_size} is larger than the dataset ({size} samples)"
        )
    batches = cfg.epochs * per_epoch
    warm = min(cfg.mle_steps or 0, batches)
    return max(1, warm + -(-(batches - warm) // n_critic))


def _first(*values: Any) -> Any:
    """The first value that is not None."""
    return next(v for v in values if v is not None)
