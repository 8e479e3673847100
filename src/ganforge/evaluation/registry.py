"""The evaluation registries: evaluators by data kind and metrics by name.

An evaluator maps ``(dataset, fake samples in native units, n, seed)`` to a metrics dict
with a ``protocol`` entry describing how the numbers were obtained. The trainer and the
CLI call :func:`evaluate_samples`; new data kinds plug in without touching either.

A metric is registered once, with its name (its key in ``metrics.json`` and under
``real_vs_real``), which direction is better (``--best-metric``), whether the CLI's
summary table shows it, and for each data kind that reports it the function that
computes it. Evaluators call :func:`compute_metrics` for their kind, so adding a metric
is one :func:`register_metric` call plus its test::

    def sharpness(inputs):  # inputs: what the kind's evaluator hands its metrics
        return {"sharpness": float(...)}

    register_metric("sharpness", True, sharpness, kind="image")
"""

from __future__ import annotations

import inspect
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ganforge.registry import Registry

Evaluator = Callable[..., dict[str, Any]]
#: ``fn(inputs) -> {metric name: value, ...}`` (companion values and a ``"protocol"``
#: dict allowed) or ``None`` when its inputs are absent (the metric does not apply).
MetricFn = Callable[[Any], "dict[str, Any] | None"]


class MetricSkipped(Exception):
    """Raised by a metric function whose inputs fall short in a way the user should be
    told about (e.g. KID from saved statistics alone); listed in ``protocol.skipped``."""


@dataclass
class Metric:
    """A registered metric: name, direction, summary row, and per data kind the function
    that computes it (one function may compute several metrics, e.g. PRDC's four)."""

    name: str
    higher_is_better: bool
    summary: bool = False
    functions: dict[str, MetricFn] = field(default_factory=dict)
    order: int = 0


EVALUATORS: Registry[Callable] = Registry("evaluator", Callable)
METRICS: Registry[Metric] = Registry("metric", Metric)


def register_evaluator(kind: str, fn: Evaluator) -> Evaluator:
    """Register ``fn(dataset, fake, n, seed[, labels])`` as the evaluator of ``kind``."""
    return EVALUATORS.register(kind, fn)


def register_metric(
    name: str,
    higher_is_better: bool,
    fn: MetricFn | None = None,
    *,
    kind: str | None = None,
    summary: bool = False,
) -> Metric:
    """Register metric ``name``: ``higher_is_better`` decides ``--best-metric``;
    ``summary`` puts it in the CLI's summary table; ``fn`` computes it for data of
    ``kind``. A metric that several kinds report (``modes_covered``) is registered once
    per kind with the same direction and summary flag; anything else already registered
    is refused."""
    if not isinstance(higher_is_better, bool):
        raise TypeError(f"metric {name!r} must be a bool, got {type(higher_is_better).__name__}")
    if (fn is None) != (kind is None) or (fn is not None and not callable(fn)):
        raise TypeError(f"metric {name!r}: give a callable fn together with its data kind")
    if name in METRICS:
        known = METRICS.get(name)
        same = (known.higher_is_better, known.summary) == (higher_is_better, summary)
        if fn is None or kind in known.functions or not same:
            raise ValueError(f"metric {name!r} is already registered")
        known.functions[kind] = fn  # the same metric, computed for another data kind
        return known
    functions = {} if kind is None else {kind: fn}
    return METRICS.register(name, Metric(name, higher_is_better, summary, functions, len(METRICS)))


def list_metrics() -> list[str]:
    return METRICS.names()


def _registered() -> list[Metric]:
    """Every metric, in the order of registration."""
    return sorted((METRICS.get(name) for name in METRICS), key=lambda m: m.order)


def summary_metrics() -> list[str]:
    """The metrics of the CLI's summary table, in the order they were registered."""
    return [m.name for m in _registered() if m.summary]


def metric_values(result: dict[str, Any]) -> dict[str, Any]:
    """The registered metrics found in ``result`` (what ``real_vs_real`` holds)."""
    return {m.name: result[m.name] for m in _registered() if m.name in result}


class _Directions:
    """``name -> higher_is_better`` over :data:`METRICS` (what ``--best-metric`` needs)."""

    def get(self, name: str) -> bool:
        return METRICS.get(name).higher_is_better

    def register(self, name: str, higher_is_better: bool) -> None:
        register_metric(name, higher_is_better)

    def names(self) -> list[str]:
        return METRICS.names()

    def __contains__(self, name: object) -> bool:
        return name in METRICS

    def __iter__(self) -> Iterator[str]:
        return iter(METRICS)

    def __len__(self) -> int:
        return len(METRICS)


METRIC_DIRECTIONS = _Directions()


@dataclass
class MetricResults:
    """What :func:`compute_metrics` returns: the values (with companion values), protocol
    entries the functions reported, the metrics skipped, seconds per function."""

    values: dict[str, Any] = field(default_factory=dict)
    protocol: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def compute_metrics(kind: str, inputs: Any) -> MetricResults:
    """Run each function registered for ``kind`` once, in registration order, on
    ``inputs`` (whatever that kind's evaluator hands its metrics)."""
    out = MetricResults()
    functions: dict[MetricFn, list[str]] = {}
    for metric in _registered():
        if kind in metric.functions:
            functions.setdefault(metric.functions[kind], []).append(metric.name)
    for fn, names in functions.items():
        tick = time.perf_counter()
        try:
            values = fn(inputs)
        except MetricSkipped:
            out.skipped += names
            continue
        if values is not None:
            out.protocol.update(values.pop("protocol", {}))
            out.values.update(values)
        out.seconds[getattr(fn, "__name__", names[0]).lstrip("_")] = time.perf_counter() - tick
    return out


def evaluate_samples(
    dataset: Any,
    fake: Any,
    n: int,
    seed: int = 0,
    labels: np.ndarray | None = None,
    complete: Callable[[list[str]], list[str]] | None = None,
) -> dict[str, Any]:
    """Evaluate native-unit ``fake`` samples (an array, or a list of strings for
    sequences) against ``dataset`` with its kind's evaluator.

    ``labels``: the class each sample was generated for (conditional models); passed on
    only to an evaluator that takes a ``labels`` argument, so evaluators without
    conditional metrics (low-dimensional data) need not accept it. ``complete``: the
    generator's completion of prompts (``list[str] -> list[str]``, whole lines), passed on
    only to an evaluator that takes a ``complete`` argument. A kind without a registered
    evaluator is not evaluated: one warning, and the result holds only its protocol."""
    if dataset.kind not in EVALUATORS:
        message = f"no evaluator is registered for data of kind {dataset.kind!r}; not evaluated"
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        return {"protocol": {"skipped": message}}
    evaluator = EVALUATORS.get(dataset.kind)
    params = inspect.signature(evaluator).parameters
    extra: dict[str, Any] = {}
    if labels is not None and "labels" in params:
        extra["labels"] = np.asarray(labels)
    if complete is not None and "complete" in params:
        extra["complete"] = complete
    return evaluator(dataset, fake, n=n, seed=seed, **extra)
