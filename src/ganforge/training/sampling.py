"""Batched sampling from a generator under ``torch.inference_mode``."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch
from torch import nn

from ganforge.errors import ConfigError


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` -> CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was requested but CUDA is not available")
    return torch.device(name)


def default_batch_size(
    generator: nn.Module, noise_dim: int, device: Any, conditional: bool = False
) -> int:
    """Samples per batch so one batch's output is about 2 MB (activations scale with it):
    16,384 points in 2-D, a few hundred 28x28 images, a few dozen 64x64 RGB ones."""
    with torch.inference_mode():
        was = generator.training
        generator.eval()
        try:
            z = torch.zeros((1, noise_dim), device=device)
            y = torch.zeros(1, dtype=torch.long, device=device)
            numel = (generator(z, y) if conditional else generator(z)).numel()
        finally:
            generator.train(was)
    return int(min(16384, max(16, 2**19 // max(numel, 1))))


def truncated_normal(
    shape: tuple[int, ...], truncation: float | None, rng: torch.Generator
) -> torch.Tensor:
    """Standard normal noise; with ``truncation`` t, entries outside [-t, t] are redrawn
    until none is left (a normal truncated to [-t, t], reproducible from ``rng``)."""
    z = torch.randn(shape, generator=rng)
    if truncation is None:
        return z
    outside = z.abs() > truncation
    while outside.any():
        z[outside] = torch.randn(int(outside.sum()), generator=rng)
        outside = z.abs() > truncation
    return z


def draw_noise(
    shape: tuple[int, ...],
    kind: str,
    rng: torch.Generator,
    device: torch.device | str = "cpu",
    truncation: float | None = None,
) -> torch.Tensor:
    """Generator noise before scaling by ``noise_std``: ``gaussian`` N(0, 1) (with
    ``truncation`` t: truncated to [-t, t]) or ``uniform`` U(-1, 1) (with t < 1:
    U(-t, t)), drawn with ``rng`` on ``device``."""
    if kind == "uniform":
        bound = 1.0 if truncation is None else min(float(truncation), 1.0)
        return torch.rand(shape, generator=rng, device=device).mul_(2 * bound).sub_(bound)
    if truncation is None:
        return torch.randn(shape, generator=rng, device=device)
    return truncated_normal(shape, truncation, rng).to(device)


#: 1 / golden ratio: ``frac(0.5 + i / φ)`` spreads every prefix of ``i`` evenly over [0, 1)
_INV_PHI = (5**0.5 - 1) / 2


def default_labels(n: int, num_classes: int, prior: Any = None) -> np.ndarray:
    """The classes a conditional generator draws when none is given: ``i % num_classes``
    for sample ``i`` (balanced, and known to the evaluator without storing them). With
    ``prior`` ``(num_classes,)`` class frequencies (a self-conditioned run's clusters),
    sample ``i`` takes the class whose share of the cumulative frequencies holds
    ``frac(0.5 + i / φ)``: deterministic, interleaved, and every prefix of ``m`` samples
    holds each class ``m · prior`` times to within a few samples."""
    if prior is None:
        return np.arange(n, dtype=np.int64) % int(num_classes)
    cdf = np.cumsum(np.asarray(prior, dtype=np.float64))
    u = np.modf(0.5 + np.arange(n) * _INV_PHI)[0] * cdf[-1]
    return np.minimum(np.searchsorted(cdf, u, side="right"), int(num_classes) - 1).astype(np.int64)


def _labels_for(
    n: int, num_classes: int, labels: int | Any, prior: Any = None
) -> torch.Tensor | None:
    """``(n,)`` class labels for a conditional generator: ``labels`` (one class or one per
    sample) or :func:`default_labels`; ``None`` for an unconditional one."""
    if not num_classes:
        if labels is not None:
            raise ConfigError("labels were given but the generator is not conditional")
        return None
    if labels is None:
        return torch.from_numpy(default_labels(n, num_classes, prior))
    y = torch.as_tensor(labels, dtype=torch.long)
    y = y.reshape(-1).expand(n) if np.ndim(labels) == 0 else y
    if len(y) != n or (y < 0).any() or (y >= num_classes).any():
        raise ConfigError(f"labels must be classes in [0, {num_classes - 1}], one or n of them")
    return y


def _check_request(n: Any, truncation: Any) -> None:
    if not isinstance(n, int) or n < 1:
        raise ConfigError(f"number of samples must be a positive integer, got {n!r}")
    if truncation is not None and not (isinstance(truncation, (int, float)) and truncation > 0):
        raise ConfigError(f"truncation must be a positive number, got {truncation!r}")


def _inputs_for(
    n: int, num_classes: int, labels: Any, label_prior: Any, conditions: torch.Tensor | None
) -> torch.Tensor | None:
    """The generator's second input for ``n`` samples: ``conditions`` as given (one per
    sample), else the labels (:func:`_labels_for`), else None."""
    y_all = _labels_for(n, num_classes, labels, label_prior) if conditions is None else conditions
    if y_all is not None and len(y_all) != n:
        raise ConfigError(f"{len(y_all)} conditions were given for {n} samples")
    return y_all


@torch.inference_mode()
def generate(
    generator: nn.Module,
    n: int,
    noise_dim: int,
    noise_std: float = 1.0,
    seed: int = 0,
    batch_size: int | None = None,
    device: torch.device | str | None = None,
    decode: Any = None,
    num_classes: int = 0,
    labels: int | Any = None,
    truncation: float | None = None,
    noise: str = "gaussian",
    conditions: torch.Tensor | None = None,
    label_prior: Any = None,
) -> np.ndarray | torch.Tensor | list:
    """Draw ``n`` samples; the noise comes from a CPU generator seeded with ``seed``, so
    the result is reproducible for a given ``seed`` and ``batch_size`` on any device.

    Returns a CPU tensor ``(n, *shape)`` in model space, or, with ``decode`` (a callable
    such as ``Dataset.decode``), the decoded native array. Memory is bounded by
    ``batch_size`` plus the output itself. A conditional generator (``num_classes > 0``)
    gets ``labels`` (one class, or one per sample); by default the classes in turn,
    ``i % num_classes``, or with ``label_prior`` the classes at those frequencies (see
    :func:`default_labels`). ``truncation`` t draws the noise from a normal truncated to
    [-t, t] (entries outside are redrawn; BigGAN's truncation trick; uniform noise: U(-t, t)
    for t < 1): more typical samples,
    less variety. ``conditions`` ``(n, ...)`` are given to the generator as they are
    (a sequence's prompts) instead of labels. A generator that draws random numbers of
    its own (a GRU sampling tokens) draws them from torch's global generator seeded with
    ``seed`` inside this call (its state outside is left as it was). A ``decode`` that
    returns lists (strings of a sequence dataset) gives one list.
    """
    _check_request(n, truncation)
    if device is None:
        device = next(generator.parameters()).device
    was_training = generator.training
    generator.eval()
    rng = torch.Generator().manual_seed(int(seed))
    if batch_size is None:
        batch_size = default_batch_size(generator, noise_dim, device, bool(num_classes))
    y_all = _inputs_for(n, num_classes, labels, label_prior, conditions)
    chunks = []
    try:
        with torch.random.fork_rng(devices=[]):
            torch.random.default_generator.manual_seed(int(seed))
            for start in range(0, n, batch_size):
                b = min(batch_size, n - start)
                z = draw_noise((b, noise_dim), noise, rng, truncation=truncation)
                z = z.mul_(noise_std).to(device)
                y = None if y_all is None else y_all[start : start + b].to(device)
                out = generator(z, y).to("cpu")
                chunks.append(decode(out) if decode is not None else out.clone())
    finally:
        generator.train(was_training)
    if decode is not None and isinstance(chunks[0], list):
        return [s for chunk in chunks for s in chunk]
    if decode is not None:
        return np.concatenate(chunks, axis=0)
    return torch.cat(chunks, dim=0)


# -- sequences ------------------------------------------------------------------------------
@contextlib.contextmanager
def token_sampling(generator: nn.Module, temperature: float | None, argmax: bool):
    """Within the block, generators that sample tokens themselves (a GRU with
    ``sample_temperature`` and ``greedy``) sample at ``temperature`` (default 1) or, with
    ``argmax``, greedily; their settings are restored afterwards."""
    saved = []
    for m in generator.modules():
        if hasattr(m, "sample_temperature") and hasattr(m, "greedy"):
            saved.append((m, m.sample_temperature, m.greedy))
            m.sample_temperature = 1.0 if temperature is None else float(temperature)
            m.greedy = bool(argmax)
    try:
        yield
    finally:
        for m, t, g in saved:
            m.sample_temperature, m.greedy = t, g


def position_sampler(decode: Any, temperature: float | None, seed: int) -> Any:
    """A decoder of per-position probabilities ``(N, V, L)``: ``decode`` as it is (the most
    probable token per position) when ``temperature`` is None, else each position's token
    drawn from ``p ** (1 / temperature)`` renormalised, with a generator seeded by ``seed``."""
    if temperature is None:
        return decode
    rng = torch.Generator().manual_seed(int(seed) + 1)

    def sample(p: torch.Tensor) -> Any:
        b, v, length = p.shape
        logp = torch.log(p.double().clamp_min(1e-30)) / float(temperature)
        q = torch.softmax(logp.permute(0, 2, 1).reshape(-1, v), dim=1)  # (B * L, V)
        idx = torch.multinomial(q, 1, generator=rng).view(b, length)
        onehot = torch.nn.functional.one_hot(idx, v).permute(0, 2, 1)
        return decode(onehot.float())

    return sample


def sample_lines(
    generator: nn.Module,
    dataset: Any,
    n: int,
    *,
    seed: int = 0,
    noise_std: float = 1.0,
    noise: str = "gaussian",
    prompts: list[str] | None = None,
    argmax: bool = False,
    temperature: float | None = None,
    truncation: float | None = None,
) -> list[str]:
    """``n`` lines from a sequence generator (``noise_dim`` read from it), reproducible
    from ``seed``. ``prompts`` (``n`` strings, for a run trained with prompts) are
    completed: each line starts with its prompt. Decoding: each position's most probable
    token; with ``temperature`` T each position's token is drawn from ``p ** (1 / T)``
    (a GRU generator samples its tokens at T); ``argmax``: greedy (T is then refused)."""
    if temperature is not None:
        if argmax:
            raise ConfigError(
                "--temperature samples tokens; --argmax picks the likeliest: not both"
            )
        if not (isinstance(temperature, (int, float)) and temperature > 0):
            raise ConfigError(f"temperature must be a positive number, got {temperature!r}")
    conditions = None
    if prompts is not None:
        if not getattr(dataset, "prompted", False):
            raise ConfigError(
                "prompts need a run trained with prompts (model option conditional: prompt); "
                "this one writes whole lines only"
            )
        conditions = dataset.prompts(list(prompts))
        n = len(prompts)
    inner = getattr(generator, "module", generator)  # a DDP-wrapped generator
    decode = position_sampler(dataset.decode, temperature, seed)
    with token_sampling(generator, temperature, argmax):
        return generate(
            generator,
            n,
            inner.noise_dim,
            noise_std,
            seed=seed,
            decode=decode,
            noise=noise,
            conditions=conditions,
            truncation=truncation,
        )


def complete(
    generator: nn.Module,
    dataset: Any,
    prompts: list[str],
    *,
    seed: int,
    argmax: bool = True,
    temperature: float = 1.0,
    noise_std: float = 1.0,
) -> list[str]:
    """Whole lines (prompt + completion) for ``prompts`` from a generator trained with
    prompts. ``argmax``: each position's most probable token (a GRU: greedy); otherwise
    tokens are sampled at ``temperature``. Reproducible from ``seed``."""
    if not prompts:
        return []
    return sample_lines(
        generator,
        dataset,
        len(prompts),
        seed=seed,
        noise_std=noise_std,
        prompts=prompts,
        argmax=argmax,
        temperature=None if argmax else temperature,
    )
