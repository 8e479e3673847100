"""Typed, validated run configuration.

A :class:`TrainConfig` is built once (from Python, a YAML/JSON file and CLI flags) and
validated in ``__post_init__``; :func:`ganforge.defaults.resolve` fills its defaults from
the loss, dataset and preset and returns a :class:`ResolvedConfig` (no field left to
guess), which is written to ``config.json`` and stored in every checkpoint. Each field
carries its CLI help in its metadata: the ``train`` command's flags are generated from
the fields, so a new option is one field. The architecture's options are
:class:`~ganforge.model_config.ModelConfig`; the option types and checks live in
:mod:`ganforge.options`. Imports nothing of ganforge but those, its errors and the
augmentation policy parser.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ganforge.augment import parse_policy
from ganforge.errors import ConfigError, OptionTypeError
from ganforge.model_config import ModelConfig
from ganforge.options import (
    Device,
    NoiseKind,
    OnNaN,
    Optimizer,
    Precision,
    Schedule,
    Tokenizer,
    Update,
    _check_float,
    _check_int,
    _check_literal,
    option,
)

__all__ = [
    "GENERIC_DEFAULTS",
    "LOSS_TUNED",
    "RESOLVED",
    "ModelConfig",
    "ResolvedConfig",
    "TrainConfig",
    "cli_options",
    "load_config_file",
]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run. ``None`` means "the default of the loss,
    dataset or preset", filled in by :func:`ganforge.defaults.resolve`, which returns a
    :class:`ResolvedConfig`."""

    dataset: str = option("ring8", "dataset name (see `ganforge list`) or a .csv/.npy path")
    data_dir: str | None = option(None, "folder holding the dataset's files")
    columns: str | None = option(
        None,
        "tables: a column spec YAML (types, bounds, rounding; `ganforge inspect FILE.csv` "
        "prints one to edit); reads the CSV as a mixed-type table",
    )
    image_size: int | None = option(None, "resize images to this side in pixels (folders: 64)")
    self_condition: int | None = option(
        None,
        "images and numeric points: condition G and D on K k-means clusters of the training "
        "data, drawn at their frequencies when sampling (an unconditional model; 0 = off; "
        "default: the dataset's, on for a numeric .csv/.npy file, else off)",
    )
    preset: str | None = option(None, "model preset (default: the dataset's)")
    model: ModelConfig | dict[str, Any] | None = option(None, "model options", cli=False)
    loss: str | None = option(
        None, "GAN loss (default: the dataset's; nonsaturating, wgan-gp for sequences)"
    )
    label_smoothing: float = option(0.0, "one-sided: real target 1 - s")
    label_noise: float = option(0.0, "uniform target noise: 1 ± a and 0 ± a")
    aux_weight: float = option(1.0, "acgan, projection-ac: weight of the class loss")
    n_critic: int | None = option(None, "D steps per G step (default: the loss's)")
    update: Update = option(
        "alternating",
        "alternating: G steps through the updated D; simultaneous: one G forward and one D "
        "pass on the fakes serve both updates, G's gradient through the pre-update D (the "
        "tutorials' step)",
    )
    clip_value: float | None = option(
        None, "weight clipping for wasserstein (default 0.01; 0 = off)"
    )
    gp_weight: float | None = option(None, "gradient-penalty weight (wgan-gp default 10)")
    r1_weight: float | None = option(
        None, "R1 penalty γ: γ/2 · mean ‖∇ D(real)‖² (0 = off; default: the dataset's, else 0)"
    )
    r1_every: int | None = option(
        None, "R1 on every k-th D update only, weighted k× (lazy; default: the dataset's, else 1)"
    )
    augment: str = option(
        "", "DiffAugment of D's inputs, real and fake alike: e.g. translation,cutout,color"
    )
    augment_p: float = option(1.0, "probability of each augmentation per sample (0 = off)")
    optimizer: Optimizer | None = option(None, "adam or rmsprop (default: the loss's)")
    lr_g: float | None = option(None, "generator learning rate")
    lr_d: float | None = option(None, "discriminator learning rate")
    betas: tuple[float, float] | None = option(None, "Adam's β1,β2, e.g. 0.5,0.999")
    lr_schedule: Schedule | None = option(
        None,
        "constant, linear or cosine decay over the run; linear-phases or cosine-phases restart "
        "the decay at mle_steps (default: the dataset's, else constant)",
    )
    steps: int | None = option(None, "generator steps (default: the dataset's, else 3000)")
    epochs: int | None = option(
        None,
        "passes over a finite dataset (files, image sets), reshuffled each pass; sets the "
        "number of steps (D's real batches, n_critic per step, cover the data once per pass)",
    )
    batch_size: int | None = option(
        None, "samples per batch (default: the dataset's: sequences 64, tables 512; else 256)"
    )
    seed: int = option(0, "random seed (a CPU run is exactly reproducible)")
    ema: float | None = option(
        None, "EMA decay of generator weights, e.g. 0.999 (0 = off; default: the dataset's, else 0)"
    )
    noise: NoiseKind = option("gaussian", "generator noise: gaussian N(0, 1) or uniform U(-1, 1)")
    noise_std: float | None = option(None, "scale of the generator's noise (std for gaussian)")
    log_every: int = option(50, "steps between history lines")
    sample_every: int | None = option(None, "steps between sample snapshots (0 = off)")
    checkpoint_every: int | None = option(None, "steps between checkpoints")
    keep_checkpoints: int = option(2, "step checkpoints kept (latest and best besides)")
    eval_every: int = option(0, "steps between evaluations for --best-metric")
    eval_samples: int | None = option(None, "samples for evaluation")
    best_metric: str | None = option(None, "choose the best model by this metric")
    device: Device = option("auto", "auto, cpu or cuda")
    threads: int | None = option(None, "CPU threads (default: 1 for small models)")
    workers: int | None = option(None, "threads decoding image-folder files (default: up to 4)")
    image_cache_mb: float = option(
        2048.0, "memory cap in MiB for keeping a folder's decoded images (0 = decode every batch)"
    )
    on_nan: OnNaN = option(
        "stop",
        "stop (default) or rollback: reload the last good checkpoint and halve the learning rates",
    )
    sync_batchnorm: bool = option(
        False, "with torchrun on GPUs: batch-norm statistics over all processes"
    )
    mle_steps: int | None = option(
        None,
        "first steps that train G alone by maximum likelihood (teacher forcing; D idle), "
        "for generators with a likelihood (seq-gru); default: the dataset's, else 0",
    )
    mle_weight: float | None = option(
        None,
        "weight of G's teacher-forced negative log-likelihood added to its adversarial "
        "loss after the mle_steps (seq-gru; default: the dataset's, else 0)",
    )
    reuse_fake: bool = option(True, "G's update reuses the last D step's fakes (one G forward)")
    precision: Precision = option(
        "fp32", "fp32, bf16 (CUDA, or a CPU with native bf16) or fp16 (CUDA)"
    )
    compile: bool = option(
        False,
        "compile each step (forwards, losses, gradients, optimizer updates, clipping) into "
        "one graph with torch.compile: faster steps for small MLP models (MLP and DCGAN "
        "supported) after a compile of seconds to a minute; needs a C++ compiler on CPU",
    )
    out: str | None = option(None, "run directory (default runs/NNNNN-DATASET-LOSS)")
    max_len: int | None = option(None, "sequences: longest line kept, in tokens (files: 64)")
    tokenizer: Tokenizer = option("char", "sequences: char or word (whitespace) tokens")

    def __post_init__(self) -> None:
        self._check_data_and_model()
        self._check_objective()
        self._check_optimizer()
        self._check_run()

    def _check_data_and_model(self) -> None:
        """The dataset, the model (a partial mapping stays as overrides), the loss name."""
        if not isinstance(self.dataset, str) or not self.dataset:
            raise ConfigError(f"dataset must be a name or a path, got {self.dataset!r}")
        if isinstance(self.model, dict):
            # Partial model options are kept as overrides and merged onto the preset by
            # resolve(), exactly as a config file's `model:` section is; a complete set
            # (a saved config) is the model itself.
            options = dict(_known("model", ModelConfig, self.model))
            complete = set(options) == {f.name for f in fields(ModelConfig)}
            object.__setattr__(self, "model", ModelConfig(**options) if complete else options)
        elif self.model is not None and not isinstance(self.model, ModelConfig):
            raise OptionTypeError(f"model must be a ModelConfig or a mapping, got {self.model!r}")
        if self.columns is not None and not isinstance(self.columns, str):
            raise OptionTypeError(f"columns must be a path to a YAML file, got {self.columns!r}")
        _check_int("image_size", self.image_size, minimum=4, allow_none=True)
        _check_int("self_condition", self.self_condition, minimum=0, allow_none=True)
        if self.self_condition == 1:
            raise ConfigError("self_condition must be 0 (off) or at least 2 clusters, got 1")
        if self.loss is not None and (not isinstance(self.loss, str) or not self.loss):
            raise ConfigError(f"loss must be a loss name, got {self.loss!r}")
        _check_int("max_len", self.max_len, allow_none=True)
        _check_literal("tokenizer", self.tokenizer, Tokenizer)

    def _check_objective(self) -> None:
        """Label targets, critic steps, penalties, the likelihood term, augmentation."""
        _check_float("label_smoothing", self.label_smoothing, 0.0, 1.0, hi_open=True)
        _check_float("label_noise", self.label_noise, 0.0, 0.5)
        _check_float("aux_weight", self.aux_weight, 0.0)
        _check_int("n_critic", self.n_critic, allow_none=True)
        _check_float("clip_value", self.clip_value, 0.0, allow_none=True)
        _check_float("gp_weight", self.gp_weight, 0.0, allow_none=True)
        _check_float("r1_weight", self.r1_weight, 0.0, allow_none=True)
        _check_int("r1_every", self.r1_every, allow_none=True)
        _check_int("mle_steps", self.mle_steps, minimum=0, allow_none=True)
        _check_float("mle_weight", self.mle_weight, 0.0, allow_none=True)
        if not isinstance(self.augment, str):
            raise OptionTypeError(f"augment must be a comma-separated string, got {self.augment!r}")
        parse_policy(self.augment)
        _check_float("augment_p", self.augment_p, 0.0, 1.0)

    def _check_optimizer(self) -> None:
        """Optimizer, learning rates and schedule, betas, run length, batch size."""
        if self.optimizer is not None:
            _check_literal("optimizer", self.optimizer, Optimizer)
        _check_float("lr_g", self.lr_g, 0.0, allow_none=True, lo_open=True)
        _check_float("lr_d", self.lr_d, 0.0, allow_none=True, lo_open=True)
        if self.betas is not None:
            betas = tuple(self.betas)
            if len(betas) != 2:
                raise ConfigError(f"betas must be two numbers, got {self.betas!r}")
            for b in betas:
                _check_float("betas", b, 0.0, 1.0, hi_open=True)
            object.__setattr__(self, "betas", (float(betas[0]), float(betas[1])))
        if self.lr_schedule is not None:
            _check_literal("lr_schedule", self.lr_schedule, Schedule)
        _check_int("steps", self.steps, allow_none=True)
        _check_int("epochs", self.epochs, allow_none=True)
        _check_int("batch_size", self.batch_size, allow_none=True)

    def _check_run(self) -> None:
        """Seed, averaging, noise, logging and snapshot intervals, device and hardware."""
        _check_int("seed", self.seed, minimum=0)
        _check_float("ema", self.ema, 0.0, 1.0, hi_open=True, allow_none=True)
        _check_float("noise_std", self.noise_std, 0.0, allow_none=True, lo_open=True)
        _check_int("log_every", self.log_every)
        _check_int("sample_every", self.sample_every, minimum=0, allow_none=True)
        _check_int("checkpoint_every", self.checkpoint_every, minimum=0, allow_none=True)
        _check_int("keep_checkpoints", self.keep_checkpoints)
        _check_int("eval_every", self.eval_every, minimum=0)
        _check_int("eval_samples", self.eval_samples, minimum=2, allow_none=True)
        _check_literal("device", self.device, Device)
        _check_int("threads", self.threads, allow_none=True)
        _check_int("workers", self.workers, allow_none=True)
        _check_float("image_cache_mb", self.image_cache_mb, 0.0)
        _check_literal("on_nan", self.on_nan, OnNaN)
        _check_literal("precision", self.precision, Precision)
        _check_literal("noise", self.noise, NoiseKind)
        _check_literal("update", self.update, Update)
        if not isinstance(self.reuse_fake, bool):
            raise OptionTypeError(f"reuse_fake must be true or false, got {self.reuse_fake!r}")
        if not isinstance(self.compile, bool):
            raise OptionTypeError(f"compile must be true or false, got {self.compile!r}")
        if not isinstance(self.sync_batchnorm, bool):
            raise OptionTypeError(
                f"sync_batchnorm must be true or false, got {self.sync_batchnorm!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        if not isinstance(data, dict):
            raise OptionTypeError(
                f"a config must be a mapping of option names, got {type(data).__name__}"
            )
        return cls(**_known("config", cls, data))

    @classmethod
    def from_saved(cls, data: dict[str, Any]) -> TrainConfig:
        """A config saved with a run or checkpoint: its model options are the whole model,
        and options added to ganforge since it was saved take their defaults, except
        ``self_condition``, which is 0 (off): a run saved before it existed was not
        self-conditioned, whatever its dataset's default is now."""
        model = data.get("model") if isinstance(data, dict) else None
        if isinstance(model, dict):
            data = {**data, "model": ModelConfig(**_known("model", ModelConfig, model))}
        if isinstance(data, dict) and "self_condition" not in data:
            data = {**data, "self_condition": 0}
        return cls.from_dict(data)


def _known(where: str, cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"unknown {where} option(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}"
        )
    return dict(data)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON config file into a plain dict (keys may use - or _)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"config file {str(path)!r} is not valid JSON: {exc}") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            msg = str(exc).splitlines()[0] if str(exc) else "parse error"
            raise ConfigError(f"config file {str(path)!r} is not valid YAML: {msg}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a mapping of options")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


@dataclass(frozen=True)
class ResolvedConfig(TrainConfig):
    """A :class:`TrainConfig` with every default filled in by
    :func:`ganforge.defaults.resolve`: the model is a :class:`ModelConfig` and no field
    that has a default is ``None`` (``clip_value`` and ``gp_weight`` are 0 when off).
    Fields that stay optional mean "not given" (``data_dir``, ``image_size``,
    ``best_metric``, ``threads``, ``out``)."""

    preset: str = "toy2d"
    loss: str = "nonsaturating"
    model: ModelConfig = ModelConfig()
    self_condition: int = 0
    r1_weight: float = 0.0
    r1_every: int = 1
    mle_steps: int = 0
    mle_weight: float = 0.0
    lr_schedule: Schedule = "constant"
    steps: int = 3000
    batch_size: int = 256
    ema: float = 0.0
    n_critic: int = 1
    clip_value: float = 0.0
    gp_weight: float = 0.0
    optimizer: Optimizer = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    noise_std: float = 1.0
    sample_every: int = 0
    checkpoint_every: int = 0
    eval_samples: int = 2500

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.model, ModelConfig):
            raise ConfigError("a resolved config needs a complete model; use resolve()")
        unset = [
            f.name
            for f in fields(ResolvedConfig)
            if f.name in RESOLVED and getattr(self, f.name) is None
        ]
        if unset:
            raise ConfigError(f"a resolved config has no value for {', '.join(unset)}")


#: The fields :func:`ganforge.defaults.resolve` fills in.
RESOLVED = (
    "self_condition",
    "preset",
    "loss",
    "model",
    "r1_weight",
    "r1_every",
    "mle_steps",
    "mle_weight",
    "lr_schedule",
    "steps",
    "batch_size",
    "ema",
    "n_critic",
    "clip_value",
    "gp_weight",
    "optimizer",
    "lr_g",
    "lr_d",
    "betas",
    "noise_std",
    "sample_every",
    "checkpoint_every",
    "eval_samples",
)


#: What the training options a dataset may set (``DatasetInfo.train_defaults``) resolve
#: to when neither the user nor the dataset sets them. The dataset may also set the
#: learning rates, Adam's betas and D's steps per G step (``lr_g``, ``lr_d``, ``betas``,
#: ``n_critic``: :data:`LOSS_TUNED`); those were tuned with the dataset's default loss and
#: apply only with it, any other loss brings its own (:class:`~ganforge.losses.Loss`).
GENERIC_DEFAULTS: dict[str, Any] = {
    "self_condition": 0,
    "r1_weight": 0.0,
    "r1_every": 1,
    "mle_steps": 0,
    "mle_weight": 0.0,
    "lr_schedule": "constant",
    "steps": 3000,
    "batch_size": 256,
    "ema": 0.0,
}
LOSS_TUNED = ("lr_g", "lr_d", "betas", "n_critic")


def cli_options(cls: type) -> list[dataclasses.Field]:
    """The fields of ``cls`` that are command-line flags, in declaration order."""
    return [f for f in fields(cls) if f.metadata.get("cli", False)]
