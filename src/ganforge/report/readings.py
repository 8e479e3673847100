"""Metrics beside their real-vs-real floor, with the better direction and a plain reading.

The direction comes from the metric registry
(:data:`ganforge.evaluation.registry.METRICS`); the floor is ``metrics["real_vs_real"]``,
what a second real sample of the same size scores. The reading compares the two:

- lower is better, floor > 0: ratio ``value / floor`` <= 1.5 "as close as a second real
  sample", <= 2 "close to real data", <= 5 "some way from real data", else "far from
  real data";
- higher is better, floor > 0: ratio >= 0.95 "as good as a second real sample", >= 0.75
  "close to real data", >= 0.4 "some way from real data", else "far from real data";
- a floor <= 0 (an unbiased estimator such as KID or MMD² can be negative) has no ratio:
  the value is "within the real-vs-real noise" when it is at most ``2 |floor|`` (lower
  is better), else "above what two real samples differ by".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

LOWER_STEPS = (
    (1.5, "as close as a second real sample"),
    (2.0, "close to real data"),
    (5.0, "some way from real data"),
)
HIGHER_STEPS = (
    (0.95, "as good as a second real sample"),
    (0.75, "close to real data"),
    (0.4, "some way from real data"),
)
FAR = "far from real data"


@dataclass
class MetricRow:
    """One metric of one run: its value, floor, direction and reading."""

    name: str
    value: float | None
    floor: float | None
    higher_is_better: bool
    reading: str

    @property
    def better(self) -> str:
        return "higher" if self.higher_is_better else "lower"


def fmt(value: Any) -> str:
    """A number as the report prints it (4 significant digits; ``n/a`` for none)."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return "n/a" if not math.isfinite(value) else f"{value:.4g}"
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def reading(value: float | None, floor: float | None, higher_is_better: bool) -> str:
    """How far ``value`` is from real data, judged against the real-vs-real ``floor``."""
    if value is None:
        return "not computed"
    if floor is None:
        return "no real-vs-real floor to compare with"
    if floor <= 0:
        if higher_is_better:
            return "floor <= 0: no ratio to judge by"
        if value <= 2 * abs(floor):
            return "within the real-vs-real noise"
        return "above what two real samples differ by"
    ratio = value / floor
    if higher_is_better:
        for limit, text in HIGHER_STEPS:
            if ratio >= limit:
                return text
        return FAR
    for limit, text in LOWER_STEPS:
        if ratio <= limit:
            return text
    return FAR


def metric_rows(metrics: dict[str, Any] | None) -> list[MetricRow]:
    """The registered metrics found in ``metrics`` (a ``metrics.json``), in registry
    order, each with its floor and reading."""
    from ganforge.evaluation.registry import METRICS

    if not metrics:
        return []
    floors = metrics.get("real_vs_real") or {}
    known = sorted((METRICS.get(n) for n in METRICS), key=lambda m: m.order)
    rows = []
    for metric in known:
        if metric.name not in metrics:
            continue
        value, floor = _number(metrics[metric.name]), _number(floors.get(metric.name))
        rows.append(
            MetricRow(
                metric.name,
                value,
                floor,
                metric.higher_is_better,
                reading(value, floor, metric.higher_is_better),
            )
        )
    return rows


def sentence(row: MetricRow) -> str:
    """E.g. ``"fid 14.8, floor 0.3 (lower is better): far from real data"``."""
    return (
        f"{row.name} {fmt(row.value)}, floor {fmt(row.floor)} "
        f"({row.better} is better): {row.reading}"
    )


def best_run(values: list[float | None], higher_is_better: bool) -> int | None:
    """Index of the best of several runs' values (``None`` when fewer than two values)."""
    present = [(v, i) for i, v in enumerate(values) if v is not None]
    if len(present) < 2:
        return None
    pick = max(present) if higher_is_better else min(present)
    return pick[1]
