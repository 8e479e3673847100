"""Seed sweep behind the thresholds of ``tests/training/test_bounded_output.py``.

Runs the tests' own measurement (``measure``: ``mlp2d`` trained on ``disk`` and on
``gaussian2d``, radii of the samples against real radii) over a range of seeds and
prints each value per seed, then its minimum, median and maximum beside the real-vs-real
floor, so the thresholds can be checked against the distribution they were chosen from.

    python benchmarks/bounded_output_thresholds.py                  # both runs, seeds 0-9
    python benchmarks/bounded_output_thresholds.py --only disk --seeds 0-4

Each run uses one CPU thread for about 12 s.
"""

from __future__ import annotations

import argparse
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
    return _load("test_bounded_output")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=["disk", "gaussian2d"])
    parser.add_argument("--seeds", default="0-9")
    args = parser.parse_args()
    tests = load_tests()
    for dataset in args.only or ["disk", "gaussian2d"]:
        rows = []
        for seed in parse_seeds(args.seeds):
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                m = tests.measure(dataset, Path(tmp) / "run", seed=seed)
                m["seconds"] = time.perf_counter() - start
            rows.append(m)
            print(dataset, f"seed {seed}", {k: round(v, 4) for k, v in m.items()}, flush=True)
        for key in ("r_max", "ks", "tail", "tail_error", "seconds"):
            values = [r[key] for r in rows]
            print(
                f"{dataset} {key}: min {min(values):.4f} median {statistics.median(values):.4f}"
                f" max {max(values):.4f}"
            )
        print(
            f"{dataset} real-vs-real: ks {rows[0]['ks_floor']:.4f}, "
            f"fraction beyond radius 1.0 {rows[0]['tail_floor']:.4f} "
            f"(exact fraction {tests.EXACT_TAIL[dataset]:.4f})"
        )


if __name__ == "__main__":
    main()
