"""A trainer's samples and final evaluation, from its sampling generator (the EMA one
when enabled): :meth:`Trainer.sample` and :meth:`Trainer.evaluate` call these."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ganforge.evaluation import evaluate_samples
from ganforge.training.sampling import complete, default_labels, generate


def sample_run(tr: Any, n: int, seed: int = 0) -> np.ndarray:
    """``n`` samples in native units (conditional runs: balanced classes; self-conditioned
    runs: the clusters at their frequencies)."""
    cfg = tr.cfg
    return generate(
        tr.sampling_generator,
        n,
        cfg.model.noise_dim,
        cfg.noise_std,
        seed=seed,
        decode=tr.data.decode,
        num_classes=cfg.model.num_classes if tr.conditional else 0,
        noise=cfg.noise,
        label_prior=tr.data.label_prior,
    )


def evaluate_run(tr: Any, n: int | None = None, seed: int = 0) -> dict[str, Any]:
    """The registered evaluator of the data kind on ``n`` samples (default
    ``eval_samples``), with the protocol's generator (ema/raw) and step."""
    n, k = n or tr.cfg.eval_samples, tr.cfg.model.num_classes
    # the classes each sample was drawn for; a self-conditioned run's clusters are not
    # classes an evaluator could check (its samples are judged as unconditional ones)
    labels = default_labels(n, k) if tr.conditional and k and tr.data.label_prior is None else None
    fake = tr.sample(n, seed=seed)
    finish = functools.partial(complete, tr.sampling_generator, tr.data, seed=seed)
    metrics = evaluate_samples(tr.data, fake, n, seed, labels=labels, complete=finish)
    metrics["protocol"]["generator"] = "ema" if tr.G_ema is not None else "raw"
    metrics["protocol"]["step"] = tr.step
    return metrics
