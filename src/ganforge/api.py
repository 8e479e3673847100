"""Sampling and evaluation of trained runs from Python.

>>> x = ganforge.sample("runs/00001-ring8-nonsaturating", n=1000)   # doctest: +SKIP
>>> m = ganforge.evaluate("runs/00001-ring8-nonsaturating")          # doctest: +SKIP
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from ganforge.config import TrainConfig
from ganforge.data import build_dataset, decoder_from_codec
from ganforge.data.base import Dataset
from ganforge.errors import ConfigError
from ganforge.evaluation import evaluate_samples
from ganforge.evaluation.image import use_extractor
from ganforge.models import build_models
from ganforge.training.checkpoint import load_checkpoint, load_state_strict, resolve_checkpoint_path
from ganforge.training.sampling import (
    complete,
    default_labels,
    generate,
    pick_device,
    sample_lines,
)

Which = Literal["latest", "best"]


@dataclass
class LoadedGenerator:
    """A generator restored from a checkpoint, with what is needed to use it."""

    generator: torch.nn.Module
    config: TrainConfig
    decoder: Dataset
    step: int
    uses_ema: bool
    path: Path

    @property
    def num_classes(self) -> int:
        """Classes of a conditional generator; 0 when it is unconditional."""
        model = self.config.model
        return model.num_classes if model.conditional != "none" else 0

    def sample(
        self,
        n: int,
        seed: int = 0,
        label: int | None = None,
        truncation: float | None = None,
        *,
        prompts: list[str] | None = None,
        temperature: float | None = None,
        argmax: bool = False,
    ) -> np.ndarray | list[str]:
        """``n`` samples in native units, reproducible from ``seed``; ``label`` picks the
        class of a conditional model (default: all classes in turn, or a self-conditioned
        model's clusters at their frequencies); ``truncation`` t
        draws the noise from a normal truncated to [-t, t] (typical samples, less
        variety). Sequence runs return ``n`` strings: ``prompts`` (one per sample, for
        a run trained with prompts) are completed; ``temperature`` samples each token,
        ``argmax`` picks the likeliest (see :func:`~ganforge.training.sampling.sample_lines`)."""
        if self.decoder.kind == "sequence":
            if label is not None:
                raise ConfigError("--label is for class-conditional models; use --prompt")
            return sample_lines(
                self.generator,
                self.decoder,
                n,
                seed=seed,
                noise_std=self.config.noise_std,
                noise=self.config.noise,
                prompts=prompts,
                argmax=argmax,
                temperature=temperature,
                truncation=truncation,
            )
        if prompts is not None or temperature is not None or argmax:
            raise ConfigError("prompts, temperature and argmax are for sequence runs")
        k = self.num_classes
        if label is not None and not k:
            raise ConfigError("--label needs a conditional model; this one is unconditional")
        return generate(
            self.generator,
            n,
            self.config.model.noise_dim,
            self.config.noise_std,
            seed=seed,
            decode=self.decoder.decode,
            num_classes=k,
            labels=label,
            truncation=truncation,
            noise=self.config.noise,
            label_prior=self.decoder.label_prior,
        )


def load_generator(
    path: str | Path, which: Which = "latest", ema: bool = True, device: str = "auto"
) -> LoadedGenerator:
    """Load the (EMA, when present and ``ema``) generator from a run or checkpoint file."""
    path = Path(path)
    file = resolve_checkpoint_path(path, which) if path.is_dir() else path
    state = load_checkpoint(file)
    cfg = TrainConfig.from_saved(state.config)
    decoder = decoder_from_codec(state.meta["codec"])
    g, _ = build_models(cfg.model, decoder.shape, decoder.output_layout)
    use_ema = ema and state.has("G_ema")
    load_state_strict(g, state.module_state("G_ema" if use_ema else "G"), "generator")
    g.to(pick_device(device)).eval()
    return LoadedGenerator(g, cfg, decoder, state.step, use_ema, file)


def sample(
    path: str | Path, n: int, seed: int = 0, which: Which = "latest", ema: bool = True
) -> np.ndarray:
    """``n`` samples ``(n, *shape)`` in native units from a run or checkpoint."""
    return load_generator(path, which, ema).sample(n, seed)


def _use_target(dataset: Any, target: str) -> None:
    """Make ``target`` the dataset's ML-efficacy column (table runs only)."""
    if dataset.kind != "table":
        raise ConfigError(f"--target applies to table runs; this run holds {dataset.kind} data")
    if target not in dataset.columns:
        raise ConfigError(
            f"--target: unknown column {target!r}; columns: {', '.join(dataset.columns)}"
        )
    dataset.target_index = dataset.columns.index(target)


def evaluate(
    path: str | Path,
    n: int | None = None,
    seed: int = 0,
    which: Which = "latest",
    truncation: float | None = None,
    extractor: str | None = None,
    target: str | None = None,
) -> dict[str, Any]:
    """Evaluate a run or checkpoint against fresh real data of its dataset (samples
    drawn with ``truncation`` when given, see :meth:`LoadedGenerator.sample`).
    ``extractor``: image runs only, the features instead of the dataset's default, e.g.
    ``"train"``, a classifier trained on the run's labelled training data.
    ``target``: table runs only, a column whose ML efficacy is measured (a model of it
    learnt from generated rows, scored on the run's held-out rows)."""
    loaded = load_generator(path, which)
    cfg = loaded.config
    dataset = build_dataset(cfg)
    if extractor is not None:
        use_extractor(dataset, extractor)
    if target is not None:
        _use_target(dataset, target)
    n = n or cfg.eval_samples
    k = loaded.num_classes
    labels = default_labels(n, k) if k and loaded.decoder.label_prior is None else None
    fake = loaded.sample(n, seed, truncation=truncation)
    finish = functools.partial(complete, loaded.generator, dataset, seed=seed)
    metrics = evaluate_samples(dataset, fake, n, seed, labels=labels, complete=finish)
    metrics["protocol"].update(
        {
            "generator": "ema" if loaded.uses_ema else "raw",
            "step": loaded.step,
            "checkpoint": str(loaded.path),
            "truncation": truncation,
        }
    )
    return metrics
