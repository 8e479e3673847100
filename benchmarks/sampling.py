"""Sampling time and memory: 1,000,000 2-D samples and 50,000 28x28 images.

Each case runs in its own process so its peak resident memory can be read alone; the
generator weights are random (speed does not depend on training). Sampling runs under
``torch.inference_mode`` in batches, so memory grows with the output only, not with n
times the activations.

    python benchmarks/sampling.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

CASES = {
    "toy2d-1M": ("ring8", "toy2d", 1_000_000),
    "mlp-mnist-50k": ("bench-1x28x28", "mlp-mnist", 50_000),
    "dcgan28-50k": ("bench-1x28x28", "dcgan", 50_000),
}


def run_case(name: str, n: int | None) -> dict:
    import numpy as np
    import torch

    sys.path.insert(0, "benchmarks")
    import throughput  # noqa: F401  (registers the bench-* image datasets)

    from ganforge.config import TrainConfig
    from ganforge.training.trainer import Trainer

    dataset, preset, default_n = CASES[name]
    n = n or default_n
    trainer = Trainer(TrainConfig(dataset=dataset, preset=preset, steps=1))
    trainer.sample(256)  # warm-up
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    out = trainer.sample(n, seed=0)
    seconds = time.perf_counter() - t0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "case": name,
        "n": n,
        "seconds": seconds,
        "samples_per_s": n / seconds,
        "output_mb": np.asarray(out).nbytes / 2**20,
        "peak_rss_growth_mb": rss1 - rss0,
        "threads": torch.get_num_threads(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the samples")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.n)))
        return 0
    print(
        f"{'case':<16}{'n':>10}{'seconds':>9}{'samples/s':>12}{'output MB':>11}"
        f"{'peak RSS growth MB':>20}"
    )
    for name, (_, _, n) in CASES.items():
        n = n // 10 if args.quick else n
        proc = subprocess.run(
            [sys.executable, __file__, "--case", name, "--n", str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"{r['case']:<16}{r['n']:>10}{r['seconds']:>9.2f}{r['samples_per_s']:>12.0f}"
            f"{r['output_mb']:>11.1f}{r['peak_rss_growth_mb']:>20.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
