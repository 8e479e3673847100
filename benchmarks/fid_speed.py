"""Time ganforge's FID against the scipy.linalg.sqrtm reference formula.

2048-d features, 10,000 + 10,000 samples (correlated Gaussians). Both sides start
from the same precomputed statistics, so only the Fréchet distance itself is timed;
the runs are interleaved (ours, reference, ours, ...) so that machine load affects
both alike. Prints per-run times, the median and spread of the speed ratio, and the
relative difference of the two values.

    python benchmarks/fid_speed.py [--dim 2048] [--n 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.linalg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ganforge.metrics.frechet import feature_statistics, frechet_distance  # noqa: E402


def reference(mu1, s1, mu2, s2) -> float:
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    return float(
        ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean).real
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dim", type=int, default=2048)
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    rng = np.random.default_rng(args.seed)
    mix = rng.normal(size=(args.dim, args.dim)) / np.sqrt(args.dim)
    a = rng.normal(size=(args.n, args.dim)) @ mix
    b = rng.normal(size=(args.n, args.dim)) @ (mix * 1.1) + 0.05
    t = time.perf_counter()
    sa, sb = feature_statistics(a), feature_statistics(b)
    print(f"statistics of 2 x {args.n} x {args.dim}: {time.perf_counter() - t:.2f}s")

    ours_t, ref_t = [], []
    for i in range(args.repeats):
        t = time.perf_counter()
        ours = frechet_distance(sa.mu, sa.sigma, sb.mu, sb.sigma)
        ours_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        ref = reference(sa.mu, sa.sigma, sb.mu, sb.sigma)
        ref_t.append(time.perf_counter() - t)
        print(
            f"run {i + 1}: ours {ours_t[-1]:.2f}s, sqrtm {ref_t[-1]:.2f}s, "
            f"ratio {ref_t[-1] / ours_t[-1]:.1f}x"
        )
    ratio = np.array(ref_t) / np.array(ours_t)
    print(f"FID ours {ours:.10f}  sqrtm {ref:.10f}  rel. diff {abs(ours - ref) / ref:.2e}")
    print(
        f"median time ours {np.median(ours_t):.2f}s, sqrtm {np.median(ref_t):.2f}s; "
        f"speed ratio median {np.median(ratio):.1f}x (min {ratio.min():.1f}x, max {ratio.max():.1f}x)"
    )


if __name__ == "__main__":
    main()
