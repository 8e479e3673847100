"""Which checkpoint is the best one, by one of two rules.

- **A metric** (``best_metric``): evaluated every ``eval_every`` steps after the first
  fifth of training; the checkpoint with the best value (by the metric's registered
  direction) is written to ``best.safetensors``.
- **The classic equilibrium rule** (no metric, a loss with an equilibrium): at each
  checkpoint, the one whose latest logged mean D outputs on real and fake are both
  closest to the equilibrium (0.5), skipped in the first fifth of training, when an
  untrained D sits at 0.5 too.
- Otherwise (critic losses without a metric) the final model is the best.

Scores are "lower is better" internally; a higher-is-better metric is negated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ganforge.errors import ConfigError
from ganforge.evaluation import METRIC_DIRECTIONS, metric_values
from ganforge.io import append_jsonl
from ganforge.training import guards, rundir, state


@dataclass
class BestTracker:
    """The best score so far and its step (both ``None`` until a rule applies)."""

    score: float | None = None
    step: int | None = None

    def improve(self, score: float, step: int) -> bool:
        """Record ``score`` (lower is better) at ``step``; True when it is a new best."""
        if self.score is None or score < self.score:
            self.score, self.step = float(score), step
            return True
        return False

    def equilibrium_improves(
        self, row: dict[str, Any] | None, equilibrium: float | None, step: int, steps: int
    ) -> bool:
        """The classic rule on the latest history ``row``: distance of ``d/real`` and
        ``d/fake`` from ``equilibrium``."""
        if equilibrium is None or row is None or step <= steps // 5:
            return False
        score = abs(row["d/real"] - equilibrium) + abs(row["d/fake"] - equilibrium)
        return self.improve(score, step)


def _scalar(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def evaluate_for_best(tr: Any) -> None:
    """Evaluate ``tr``'s sampling generator, log ``eval/<metric>`` for every registered
    scalar metric to the history and write ``best.safetensors`` when the configured
    metric improved."""
    if not guards.weights_finite(tr.G, tr.D):
        guards.on_divergence(tr, tr.step, "weights")
        return
    metrics, name = tr.evaluate(seed=tr.step), tr.cfg.best_metric
    if name not in metrics:
        reported = ", ".join(k for k, v in metrics.items() if isinstance(v, float))
        raise ConfigError(
            f"best_metric {name!r} is not reported for dataset {tr.cfg.dataset!r}; "
            f"it reports: {reported}"
        )
    value = metrics.get(name)
    row: dict[str, Any] = {"step": tr.step, "time": time.time()}
    # every registered scalar metric, for the metric curves (plots/metrics.png)
    row.update({f"eval/{k}": v for k, v in metric_values(metrics).items() if _scalar(v)})
    row[f"eval/{name}"] = value
    append_jsonl(tr.run_dir / "history.jsonl", row)
    if value is not None:
        score = -value if METRIC_DIRECTIONS.get(name) else value
        if tr.best.improve(score, tr.step):
            path = tr.run_dir / "checkpoints" / "best.safetensors"
            rundir.write_checkpoint(lambda p: state.save(tr, p), path)
