"""Seed sweep behind the thresholds of ``tests/training/test_learning.py``.

Runs each learning test's training run (the same functions the tests call) over a range
of seeds and prints every measured value per seed, then its minimum, median and maximum,
so a threshold can be checked against the distribution it was chosen from.

    python benchmarks/learning_thresholds.py                       # all runs, seeds 0-9
    python benchmarks/learning_thresholds.py --only ring8 disk --seeds 0-4
    python benchmarks/learning_thresholds.py --json                # one JSON object per run

Each run uses one CPU thread; the sweep over all runs and ten seeds takes about ten
minutes of CPU time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sweeps import load_tests as _load  # noqa: E402
from _sweeps import parse_seeds


def load_tests() -> ModuleType:
    return _load("test_learning")


def scalars(values: dict) -> dict[str, float]:
    """Flatten a measurement to named numbers (lists become name[i])."""
    out: dict[str, float] = {}
    for key, value in values.items():
        if isinstance(value, (list, tuple)):
            out.update({f"{key}[{i}]": float(v) for i, v in enumerate(value)})
        elif value is not None:
            out[key] = float(value)
    return out


def main() -> None:
    tests = load_tests()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(tests.MEASURES), metavar="RUN")
    parser.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,5 (default 0-9)")
    parser.add_argument("--json", action="store_true", help="one JSON object per run")
    args = parser.parse_args()
    seeds = parse_seeds(args.seeds)
    for name in args.only or list(tests.MEASURES):
        measure = tests.MEASURES[name]
        rows = []
        for seed in seeds:
            with tempfile.TemporaryDirectory(prefix="learning-") as tmp:
                start, cpu = time.perf_counter(), time.process_time()
                values = scalars(measure(Path(tmp) / "run", seed))
                values["wall_s"] = time.perf_counter() - start
                values["cpu_s"] = time.process_time() - cpu
            rows.append(values)
            if args.json:
                print(json.dumps({"run": name, "seed": seed, **values}), flush=True)
        if args.json:
            continue
        keys = list(rows[0])
        print(f"\n{name} (seeds {args.seeds})")
        print(f"  {'seed':>6}" + "".join(f"  {k:>12}" for k in keys))
        for seed, row in zip(seeds, rows, strict=True):
            print(f"  {seed:>6}" + "".join(f"  {row[k]:>12.4g}" for k in keys))
        for label, fn in (("min", min), ("median", statistics.median), ("max", max)):
            print(f"  {label:>6}" + "".join(f"  {fn([r[k] for r in rows]):>12.4g}" for k in keys))


if __name__ == "__main__":
    main()
