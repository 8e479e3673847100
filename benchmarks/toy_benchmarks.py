"""Low-dimensional GAN benchmarks: train the recipes in ``recipes/`` over several seeds.

Each benchmark is a recipe file (a YAML config, the same file ``ganforge train --config``
reads) plus a dataset and an acceptance rule. Every run trains with the Python API
(:func:`ganforge.training.trainer.train`), writes a normal run directory, and reports the
final metrics from ``metrics.json``. The table gives mean ± standard error over seeds.

    python benchmarks/toy_benchmarks.py                       # all benchmarks, seeds 0-4
    python benchmarks/toy_benchmarks.py --only ring8 grid25   # a subset
    python benchmarks/toy_benchmarks.py --quick               # 1 seed, 1/4 of the steps
    python benchmarks/toy_benchmarks.py --json results.json   # also write the raw numbers

``--quick`` is a smoke test: with a quarter of the steps the acceptance rules are not
expected to hold, so they are reported but not enforced.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "recipes"


@dataclass(frozen=True)
class Benchmark:
    name: str
    recipe: str
    dataset: str
    check: Callable[[dict[str, Any]], bool]
    rule: str
    published: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)


def _w1_ok(m: dict[str, Any]) -> bool:
    return m["w1"] <= 2.0 * m["real_vs_real"]["w1"]


def _ring_ok(m: dict[str, Any]) -> bool:
    return m["modes_covered"] == 8 and m["hq_fraction"] >= 0.95


def _grid_ok(m: dict[str, Any]) -> bool:
    return m["modes_covered"] >= 24 and m["hq_fraction"] >= 0.9


def _gauss1d_ok(m: dict[str, Any]) -> bool:
    return abs(m["fake_mean"][0] - 10.0) < 0.1 and abs(m["fake_std"][0] - 1.0) < 0.1 and _w1_ok(m)


BENCHMARKS = [
    Benchmark(
        "ring8",
        "ring8.yaml",
        "ring8",
        _ring_ok,
        "8/8 modes, HQ >= 0.95",
        "PacGAN2: 7.9 ± 0.1 modes, 95.6% HQ, reverse KL 0.07",
    ),
    Benchmark(
        "grid25",
        "grid25.yaml",
        "grid25",
        _grid_ok,
        ">= 24/25 modes, HQ >= 0.9",
        "PacGAN4: 24.8 ± 0.2 modes, 93.6% HQ, reverse KL 0.04",
    ),
    Benchmark(
        "gaussian1d",
        "gaussian1d.yaml",
        "gaussian1d",
        _gauss1d_ok,
        "|mean-10| < 0.1, |std-1| < 0.1, W1 <= 2x real-vs-real",
    ),
    Benchmark("wgan-disk", "wgan-disk.yaml", "disk", _w1_ok, "W1 <= 2x real-vs-real"),
    Benchmark(
        "wgan-gaussian2d", "wgan-gaussian2d.yaml", "gaussian2d", _w1_ok, "W1 <= 2x real-vs-real"
    ),
    Benchmark("wgan-gp-disk", "wgan-gp-disk.yaml", "disk", _w1_ok, "W1 <= 2x real-vs-real"),
    Benchmark(
        "wgan-gp-gaussian2d",
        "wgan-gp-gaussian2d.yaml",
        "gaussian2d",
        _w1_ok,
        "W1 <= 2x real-vs-real",
    ),
]


def load_recipe(bench: Benchmark, recipes: Path) -> dict[str, Any]:
    from ganforge.config import load_config_file

    path = recipes / bench.recipe
    if not path.is_file():
        # One recipe per loss may serve both 2-D datasets (``--dataset`` overrides it).
        fallback = recipes / bench.recipe.replace(f"-{bench.dataset}", "-disk")
        if fallback.is_file():
            path = fallback
        else:
            raise ValueError(f"recipe {str(path)!r} does not exist")
    return load_config_file(path) | {"_path": str(path)}


def run_one(bench: Benchmark, seed: int, out_root: Path, recipes: Path, quick: bool) -> dict:
    from ganforge.config import TrainConfig
    from ganforge.training.trainer import train

    options = load_recipe(bench, recipes)
    path = options.pop("_path")
    options.update(bench.overrides)
    options["dataset"] = bench.dataset
    options["seed"] = seed
    if quick:
        options["steps"] = max(int(options.get("steps", 3000)) // 4, 1)
    out = out_root / f"{bench.name}-seed{seed}"
    options["out"] = str(out)
    cfg = TrainConfig.from_dict(options)
    start, cpu_start = time.perf_counter(), time.process_time()
    result = train(cfg)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    m = result.metrics
    return {
        "benchmark": bench.name,
        "recipe": os.path.relpath(path, ROOT),
        "seed": seed,
        "run_dir": str(out),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "load_avg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "pass": bool(bench.check(m)),
        "modes_covered": m.get("modes_covered"),
        "num_modes": m.get("num_modes"),
        "hq_fraction": m.get("hq_fraction"),
        "reverse_kl": m.get("reverse_kl"),
        "w1": m.get("w1"),
        "w1_real_vs_real": m.get("real_vs_real", {}).get("w1"),
        "fake_mean": m.get("fake_mean"),
        "fake_std": m.get("fake_std"),
    }


def _run_task(task: tuple) -> dict:
    return run_one(*task)


def mean_se(values: list[float | None]) -> tuple[float, float] | None:
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return None
    mean = sum(vals) / len(vals)
    if len(vals) < 2:
        return mean, float("nan")
    var = sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)
    return mean, math.sqrt(var / len(vals))


def fmt(values: list, digits: int = 3, scale: float = 1.0) -> str:
    ms = mean_se([None if v is None else v * scale for v in values])
    if ms is None:
        return "-"
    mean, se = ms
    if math.isnan(se):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {se:.{digits}f}"


def summarise(rows: list[dict]) -> list[dict]:
    out = []
    names = list(dict.fromkeys(r["benchmark"] for r in rows))
    for name in names:
        rs = [r for r in rows if r["benchmark"] == name]
        entry = {
            "benchmark": name,
            "seeds": [r["seed"] for r in rs],
            "passed": sum(r["pass"] for r in rs),
        }
        for key in (
            "modes_covered",
            "hq_fraction",
            "reverse_kl",
            "w1",
            "w1_real_vs_real",
            "seconds",
            "cpu_seconds",
        ):
            ms = mean_se([r[key] for r in rs])
            entry[key] = None if ms is None else {"mean": ms[0], "se": ms[1]}
        if rs[0]["fake_mean"] is not None and len(rs[0]["fake_mean"]) == 1:
            for key in ("fake_mean", "fake_std"):
                ms = mean_se([r[key][0] for r in rs])
                entry[key] = {"mean": ms[0], "se": ms[1]}
        out.append(entry)
    return out


def print_table(rows: list[dict], quick: bool) -> None:
    header = (
        f"{'benchmark':<19} {'seeds':>5} {'modes':>13} {'HQ %':>13} {'reverse KL':>15} "
        f"{'W1':>15} {'W1 real':>7} {'wall s/run':>12} {'CPU s/run':>12} {'pass':>6}"
    )
    print(header)
    print("-" * len(header))
    for name in dict.fromkeys(r["benchmark"] for r in rows):
        rs = [r for r in rows if r["benchmark"] == name]
        rr = mean_se([r["w1_real_vs_real"] for r in rs])
        print(
            f"{name:<19} {len(rs):>5} {fmt([r['modes_covered'] for r in rs], 1):>13} "
            f"{fmt([r['hq_fraction'] for r in rs], 1, 100):>13} "
            f"{fmt([r['reverse_kl'] for r in rs], 3):>15} {fmt([r['w1'] for r in rs], 4):>15} "
            f"{(rr[0] if rr else float('nan')):>7.4f} {fmt([r['seconds'] for r in rs], 1):>12} "
            f"{fmt([r['cpu_seconds'] for r in rs], 1):>12} "
            f"{sum(r['pass'] for r in rs)}/{len(rs):<4}"
        )
        if rs[0]["fake_mean"] is not None and len(rs[0]["fake_mean"]) == 1:
            print(
                f"{'':<19} {'':>5}   fake mean {fmt([r['fake_mean'][0] for r in rs], 3)}, "
                f"fake std {fmt([r['fake_std'][0] for r in rs], 3)}"
            )
    if quick:
        print(
            "(quick mode: a quarter of the recipe steps and one seed; pass/fail is informative only)"
        )


def per_seed_lines(rows: list[dict]) -> None:
    for r in rows:
        bits = [f"{r['benchmark']:<19} seed {r['seed']}"]
        if r["modes_covered"] is not None:
            bits.append(f"modes {r['modes_covered']}/{r['num_modes']}")
            bits.append(f"HQ {100 * r['hq_fraction']:.1f}%")
            if r["reverse_kl"] is not None:
                bits.append(f"rKL {r['reverse_kl']:.3f}")
        if r["fake_mean"] is not None and len(r["fake_mean"]) == 1:
            bits.append(f"mean {r['fake_mean'][0]:.3f} std {r['fake_std'][0]:.3f}")
        bits.append(f"W1 {r['w1']:.4f} (real {r['w1_real_vs_real']:.4f})")
        bits.append(
            f"wall {r['seconds']:.1f} s, CPU {r['cpu_seconds']:.1f} s "
            f"(load {r['load_avg_1min']:.1f})"
        )
        bits.append("ok" if r["pass"] else "FAIL")
        print("  ".join(bits), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help=f"benchmarks to run: {', '.join(b.name for b in BENCHMARKS)}",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--quick", action="store_true", help="one seed and a quarter of the steps (a smoke test)"
    )
    parser.add_argument("--json", metavar="PATH", help="write per-run rows and the summary")
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="folder for the run directories (default: a new temporary folder)",
    )
    parser.add_argument("--recipes", metavar="DIR", default=str(RECIPES))
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="runs in parallel processes (wall times then include the sharing)",
    )
    args = parser.parse_args(argv)

    known = {b.name: b for b in BENCHMARKS}
    names = args.only or list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    recipes_dir = Path(args.recipes)
    if not args.only:  # by default, skip benchmarks that have no recipe yet
        missing = []
        for name in list(names):
            try:
                load_recipe(known[name], recipes_dir)
            except ValueError:
                missing.append(name)
                names.remove(name)
        if missing:
            print(f"skipping (no recipe): {', '.join(missing)}", flush=True)
    seeds = args.seeds[:1] if args.quick else args.seeds
    out_root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="ganforge-bench-"))
    out_root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    out_root = out_root / stamp
    recipes = Path(args.recipes)

    print(
        f"runs in {out_root}; {os.cpu_count()} CPUs; {platform.processor() or platform.machine()}",
        flush=True,
    )
    tasks = [(known[name], seed, out_root, recipes, args.quick) for name in names for seed in seeds]
    rows = []
    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            for row in pool.map(_run_task, tasks):
                rows.append(row)
                per_seed_lines([row])
    else:
        for task in tasks:
            rows.append(_run_task(task))
            per_seed_lines(rows[-1:])
    print()
    print_table(rows, args.quick)
    if args.json:
        payload = {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
            "quick": args.quick,
            "runs": rows,
            "summary": summarise(rows),
        }
        Path(args.json).write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0 if args.quick or all(r["pass"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
