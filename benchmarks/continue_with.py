"""Continue a run's checkpoint with some options changed, then print its final metrics.

The sweep "Adversarial-phase variants of the recipe" in docs/BENCHMARKS.md ("Sequences")
continues one checkpoint of ``recipes/arithmetic.yaml`` taken in its likelihood phase
(step 5,400) with one option changed at a time, so the variants share the first 5,400
steps. Everything is restored as ``ganforge train --resume`` restores it (G, D, the EMA
generator, both optimizers, every random stream, the step), only the config differs;
with no change the continuation is bitwise the run itself.

    python benchmarks/continue_with.py runs/rec-s0/checkpoints/step_0005400.safetensors \
        runs/w3-s0 mle_weight=3
    python benchmarks/continue_with.py CKPT OUT 'lr_schedule="linear-phases"'

Each ``KEY=VALUE`` is a ``TrainConfig`` field with a JSON value. Prints one JSON line:
the changes, validity, uniqueness, correctness, novelty, answer accuracy (overall and by
operator) and the process CPU and wall seconds of the continuation and its evaluation.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

from ganforge.config import TrainConfig
from ganforge.training import checkpoint as ckpt
from ganforge.training.trainer import Trainer

KEPT = ("validity", "uniqueness", "correctness", "novelty", "answer_accuracy")


def parse_change(text: str) -> tuple[str, object]:
    """``"mle_weight=3"`` -> ``("mle_weight", 3)`` (the value parsed as JSON)."""
    key, _, value = text.partition("=")
    if not key or not value:
        raise SystemExit(f"a change is KEY=VALUE (JSON value), not {text!r}")
    return key, json.loads(value)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", help="a .safetensors checkpoint of a run")
    ap.add_argument("out", help="the new run directory")
    ap.add_argument("changes", nargs="*", help="KEY=VALUE config changes (JSON values)")
    args = ap.parse_args()
    saved = ckpt.load_checkpoint(args.checkpoint)
    changes = dict(parse_change(c) for c in args.changes)
    cfg = dataclasses.replace(
        TrainConfig.from_dict(saved.config), out=args.out, threads=1, **changes
    )
    cpu0, wall0 = time.process_time(), time.time()
    metrics = Trainer(cfg, _resume=saved, progress=False).fit().metrics
    row: dict[str, object] = {"checkpoint": args.checkpoint, "changes": changes}
    row.update({k: round(metrics[k], 4) for k in KEPT if k in metrics})
    by_op = metrics.get("answer_accuracy_by_operator", {})
    row["answer_accuracy_by_operator"] = {k: round(v, 3) for k, v in by_op.items()}
    row["cpu_s"] = round(time.process_time() - cpu0, 1)
    row["wall_s"] = round(time.time() - wall0, 1)
    print(json.dumps(row))


if __name__ == "__main__":
    main()
