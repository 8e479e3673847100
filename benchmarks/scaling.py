"""Data-parallel scaling: steps/s and samples/s for 1 and 2 processes under torchrun.

Each configuration trains the same model with the same per-process batch; runs are
interleaved (1, 2, 2, 1, ...) and repeated. Throughput comes from the run's own
history (``samples_per_s``, counted over all processes), the first logged window
(start-up) excluded.

    python benchmarks/scaling.py [--quick] [--dataset digits --preset mlp-mnist]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def run(nproc: int, args: argparse.Namespace, out: Path) -> float:
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        str(nproc),
        "-m",
        "ganforge",
        "train",
        "--dataset",
        args.dataset,
        "--preset",
        args.preset,
        "--steps",
        str(args.steps),
        "--batch-size",
        str(args.batch_size),
        "--log-every",
        str(args.log_every),
        "--sample-every",
        "0",
        "--checkpoint-every",
        str(10**9),
        "--out",
        str(out),
        "--quiet",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"torchrun failed:\n{proc.stderr[-3000:]}")
    rows = [json.loads(x) for x in (out / "history.jsonl").read_text().splitlines()]
    rates = [r["samples_per_s"] for r in rows if "samples_per_s" in r][1:]
    return statistics.median(rates)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="digits")
    p.add_argument("--preset", default="mlp-mnist")
    p.add_argument("--batch-size", type=int, default=64, help="per process")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.steps, args.repeats = 200, 1
    results: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            for nproc in (1, 2) if rep % 2 == 0 else (2, 1):
                out = Path(tmp) / f"r{rep}-n{nproc}"
                results[nproc].append(run(nproc, args, out))
    print(
        f"{args.preset} on {args.dataset}, batch {args.batch_size} per process, "
        f"{args.steps} steps, {args.repeats} repeat(s), gloo on CPU"
    )
    print(f"{'processes':>10}{'samples/s':>12}{'steps/s':>10}{'speed-up':>10}{'runs':>28}")
    base = statistics.median(results[1])
    for nproc, rates in results.items():
        med = statistics.median(rates)
        runs = ", ".join(f"{r:.0f}" for r in rates)
        print(
            f"{nproc:>10}{med:>12.0f}{med / (args.batch_size * nproc):>10.2f}"
            f"{med / base:>10.2f}{runs:>28}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
