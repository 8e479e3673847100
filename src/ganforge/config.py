"""Typed, validated run configuration.

A :class:`TrainConfig` is built once (from Python, a YAML/JSON file and CLI flags),
validated in ``__post_init__``, resolved against the loss, dataset and preset defaults by
:func:`resolve`, written to ``config.json`` and stored in every checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, get_args

Activation = Literal["relu", "leaky_relu", "tanh", "elu", "gelu", "silu", "maxout"]
OutputActivation = Literal["linear", "tanh", "sigmoid"]
Optimizer = Literal["adam", "rmsprop"]
Schedule = Literal["constant", "linear", "cosine"]
Device = Literal["auto", "cpu", "cuda"]
Conditioning = Literal["none", "concat", "projection", "acgan"]
OnNaN = Literal["stop", "rollback"]
Precision = Literal["fp32", "bf16", "fp16"]


def _check_literal(name: str, value: Any, options: Any) -> None:
    allowed = get_args(options)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}; got {value!r}")


def _check_int(name: str, value: Any, minimum: int = 1, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _check_float(
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    allow_none: bool = False,
    lo_open: bool = False,
    hi_open: bool = False,
) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if lo is not None and (value <= lo if lo_open else value < lo):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {value}")
    if hi is not None and (value >= hi if hi_open else value > hi):
        raise ValueError(f"{name} must be {'<' if hi_open else '<='} {hi}, got {value}")


def _int_tuple(name: str, value: Any) -> tuple[int, ...]:
    if isinstance(value, str):
        value = [v for v in value.replace(" ", "").split(",") if v]
    try:
        out = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a list of layer widths, got {value!r}") from None
    if any(v < 1 for v in out):
        raise ValueError(f"{name} widths must be positive, got {list(out)}")
    return out


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of G and D. ``arch`` names a registered model builder."""

    arch: str = "mlp"
    noise_dim: int = 64
    g_hidden: tuple[int, ...] = (256, 256, 256)
    d_hidden: tuple[int, ...] = (256, 256, 256)
    g_activation: Activation = "relu"
    d_activation: Activation = "leaky_relu"
    g_batch_norm: bool = False
    d_batch_norm: bool = False
    g_output: OutputActivation = "linear"
    d_dropout: float = 0.0
    pack: int = 1
    conditional: Conditioning = "none"
    num_classes: int = 0
    embed_dim: int = 16
    base_width: int = 64
    spectral_norm: bool = False

    def __post_init__(self) -> None:
        _check_int("noise_dim", self.noise_dim)
        _check_int("base_width", self.base_width)
        if not isinstance(self.spectral_norm, bool):
            raise TypeError(f"spectral_norm must be true or false, got {self.spectral_norm!r}")
        _check_int("pack", self.pack)
        _check_literal("conditional", self.conditional, Conditioning)
        _check_int("num_classes", self.num_classes, minimum=0)
        _check_int("embed_dim", self.embed_dim)
        object.__setattr__(self, "g_hidden", _int_tuple("g_hidden", self.g_hidden))
        object.__setattr__(self, "d_hidden", _int_tuple("d_hidden", self.d_hidden))
        _check_literal("g_activation", self.g_activation, Activation)
        _check_literal("d_activation", self.d_activation, Activation)
        _check_literal("g_output", self.g_output, OutputActivation)
        if self.arch == "dcgan" and "maxout" in (self.g_activation, self.d_activation):
            raise ValueError("maxout units are for MLP models (dcgan has no dense hidden layers)")
        _check_float("d_dropout", self.d_dropout, 0.0, 1.0, hi_open=True)
        for name in ("g_batch_norm", "d_batch_norm"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be true or false, got {getattr(self, name)!r}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run. ``None`` means "the default of the loss,
    dataset or preset", filled in by :func:`resolve` before training starts."""

    dataset: str = "ring8"
    data_dir: str | None = None
    image_size: int | None = None
    preset: str | None = None
    model: ModelConfig | dict[str, Any] | None = None
    loss: str = "nonsaturating"
    label_smoothing: float = 0.0
    label_noise: float = 0.0
    aux_weight: float = 1.0
    n_critic: int | None = None
    clip_value: float | None = None
    gp_weight: float | None = None
    r1_weight: float = 0.0
    r1_every: int = 1
    optimizer: Optimizer | None = None
    lr_g: float | None = None
    lr_d: float | None = None
    betas: tuple[float, float] | None = None
    lr_schedule: Schedule = "constant"
    steps: int = 3000
    batch_size: int = 256
    seed: int = 0
    ema: float = 0.0
    noise_std: float | None = None
    log_every: int = 50
    sample_every: int | None = None
    checkpoint_every: int | None = None
    keep_checkpoints: int = 2
    eval_every: int = 0
    eval_samples: int | None = None
    best_metric: str | None = None
    device: Device = "auto"
    threads: int | None = None
    on_nan: OnNaN = "stop"
    sync_batchnorm: bool = False
    reuse_fake: bool = True
    precision: Precision = "fp32"
    out: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.dataset, str) or not self.dataset:
            raise ValueError(f"dataset must be a name or a path, got {self.dataset!r}")
        if isinstance(self.model, dict):
            # Partial model options are kept as overrides and merged onto the preset by
            # resolve(), exactly as a config file's `model:` section is; a complete set
            # (a saved config) is the model itself.
            options = dict(_known("model", ModelConfig, self.model))
            complete = set(options) == {f.name for f in fields(ModelConfig)}
            object.__setattr__(self, "model", ModelConfig(**options) if complete else options)
        elif self.model is not None and not isinstance(self.model, ModelConfig):
            raise TypeError(f"model must be a ModelConfig or a mapping, got {self.model!r}")
        _check_int("image_size", self.image_size, minimum=4, allow_none=True)
        _check_float("label_smoothing", self.label_smoothing, 0.0, 1.0, hi_open=True)
        _check_float("label_noise", self.label_noise, 0.0, 0.5)
        _check_float("aux_weight", self.aux_weight, 0.0)
        _check_int("n_critic", self.n_critic, allow_none=True)
        _check_float("clip_value", self.clip_value, 0.0, allow_none=True, lo_open=True)
        _check_float("gp_weight", self.gp_weight, 0.0, allow_none=True)
        _check_float("r1_weight", self.r1_weight, 0.0)
        _check_int("r1_every", self.r1_every)
        if self.optimizer is not None:
            _check_literal("optimizer", self.optimizer, Optimizer)
        _check_float("lr_g", self.lr_g, 0.0, allow_none=True, lo_open=True)
        _check_float("lr_d", self.lr_d, 0.0, allow_none=True, lo_open=True)
        if self.betas is not None:
            betas = tuple(self.betas)
            if len(betas) != 2:
                raise ValueError(f"betas must be two numbers, got {self.betas!r}")
            for b in betas:
                _check_float("betas", b, 0.0, 1.0, hi_open=True)
            object.__setattr__(self, "betas", (float(betas[0]), float(betas[1])))
        _check_literal("lr_schedule", self.lr_schedule, Schedule)
        _check_int("steps", self.steps)
        _check_int("batch_size", self.batch_size)
        _check_int("seed", self.seed, minimum=0)
        _check_float("ema", self.ema, 0.0, 1.0, hi_open=True)
        _check_float("noise_std", self.noise_std, 0.0, allow_none=True, lo_open=True)
        _check_int("log_every", self.log_every)
        _check_int("sample_every", self.sample_every, minimum=0, allow_none=True)
        _check_int("checkpoint_every", self.checkpoint_every, minimum=0, allow_none=True)
        _check_int("keep_checkpoints", self.keep_checkpoints)
        _check_int("eval_every", self.eval_every, minimum=0)
        _check_int("eval_samples", self.eval_samples, minimum=2, allow_none=True)
        _check_literal("device", self.device, Device)
        _check_int("threads", self.threads, allow_none=True)
        _check_literal("on_nan", self.on_nan, OnNaN)
        _check_literal("precision", self.precision, Precision)
        if not isinstance(self.reuse_fake, bool):
            raise TypeError(f"reuse_fake must be true or false, got {self.reuse_fake!r}")
        if not isinstance(self.sync_batchnorm, bool):
            raise TypeError(f"sync_batchnorm must be true or false, got {self.sync_batchnorm!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        if not isinstance(data, dict):
            raise TypeError(
                f"a config must be a mapping of option names, got {type(data).__name__}"
            )
        return cls(**_known("config", cls, data))


def _known(where: str, cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(
            f"unknown {where} option(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}"
        )
    return dict(data)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON config file into a plain dict (keys may use - or _)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config file {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"config file {str(path)!r} is not valid JSON: {exc}") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            msg = str(exc).splitlines()[0] if str(exc) else "parse error"
            raise ValueError(f"config file {str(path)!r} is not valid YAML: {msg}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"config file {str(path)!r} must hold a mapping of options")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def resolve(cfg: TrainConfig, model_overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Fill every ``None`` from the loss, dataset and preset defaults and check that the
    options fit together. Returns a new config; the input is unchanged."""
    from ganforge.data import dataset_info
    from ganforge.losses import get_loss
    from ganforge.models import get_preset

    loss = get_loss(cfg.loss)
    info = dataset_info(cfg.dataset)
    preset_name = cfg.preset or info.default_preset
    preset = get_preset(preset_name)
    if isinstance(cfg.model, ModelConfig):
        base = dataclasses.asdict(cfg.model)
    else:
        base = dataclasses.asdict(preset.model)
        base.update(cfg.model or {})
    if model_overrides:
        base.update(_known("model", ModelConfig, model_overrides))
    if base.get("conditional", "none") != "none":
        if not info.num_classes:
            raise ValueError(
                f"dataset {cfg.dataset!r} has no labels; a conditional model needs them"
            )
        base["num_classes"] = info.num_classes
    model = ModelConfig(**base)
    if not loss.uses_targets and (cfg.label_smoothing or cfg.label_noise):
        raise ValueError(
            f"label smoothing/noise apply to classifier losses, not to loss {cfg.loss!r}"
        )
    steps = cfg.steps
    if cfg.batch_size % model.pack:
        raise ValueError(f"batch_size {cfg.batch_size} must be a multiple of pack {model.pack}")
    return dataclasses.replace(
        cfg,
        preset=preset_name,
        model=model,
        n_critic=cfg.n_critic if cfg.n_critic is not None else loss.n_critic,
        clip_value=cfg.clip_value if cfg.clip_value is not None else loss.clip_value,
        gp_weight=cfg.gp_weight if cfg.gp_weight is not None else loss.gp_weight,
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
