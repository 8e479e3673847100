"""Wall time of a full image evaluation: 10,000 vs 10,000 Fashion-MNIST images.

Stands the train split (first N) in for generated images and the test split (first
N) for the reference, runs both through ``fashion-cnn`` and computes every metric
(FID, KID, precision/recall/density/coverage, classifier score, mode histogram).
The reference cache is disabled so the time includes both extractions. Prints the
time of each stage and the total, and the metric values (the real-vs-real floor).

    python benchmarks/image_metrics_time.py [--n 10000] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch  # noqa: E402

from ganforge.evaluation.image import evaluate_images, load_reference_images  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    start = time.perf_counter()
    fake = load_reference_images("fashion-mnist", "train", args.n, args.data_dir)
    real = load_reference_images("fashion-mnist", "test", args.n, args.data_dir)
    loaded = time.perf_counter()
    out = evaluate_images(fake, real, "fashion-cnn", split="test", use_cache=False)
    done = time.perf_counter()
    out.pop("class_histogram", None)
    print(json.dumps(out, indent=1))
    print(f"threads: {torch.get_num_threads()}")
    print(f"load {loaded - start:.1f}s, extract + metrics {done - loaded:.1f}s")
    print(f"total wall time {done - start:.1f}s for {args.n} vs {args.n} images")


if __name__ == "__main__":
    main()
