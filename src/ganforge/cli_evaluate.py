"""``ganforge evaluate``: a run, a checkpoint, an image set or two CSV tables, and the
metric table the CLI prints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ganforge.errors import ConfigError, DataError


def _fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _summary(metrics: dict[str, Any], run_dir: Path | None = None) -> str:
    from ganforge.evaluation import summary_metrics

    lines = []
    if run_dir is not None:
        lines.append(f"run directory: {run_dir}")
    floor = metrics.get("real_vs_real", {})
    lines.append(f"{'metric':<16}{'generated':>12}{'real vs real':>14}")
    for key in summary_metrics():
        if key in metrics:
            lines.append(f"{key:<16}{_fmt(metrics[key]):>12}{_fmt(floor.get(key)):>14}")
    return "\n".join(lines)


def _is_run_or_checkpoint(path: Path) -> bool:
    return (path.is_dir() and (path / "config.json").exists()) or path.suffix == ".safetensors"


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ganforge.io import write_json

    if args.n is not None and args.n < 2:
        raise ConfigError(f"--n must be at least 2, got {args.n}")
    src = Path(args.source)
    if not src.exists():
        raise DataError(f"{args.source!r} does not exist")
    if args.synthetic is not None or src.suffix.lower() == ".csv":
        return _evaluate_tables(args)
    own = args.extractor in (None, "train")  # the run's dataset is the reference
    if _is_run_or_checkpoint(src) and args.reference is None and own:
        from ganforge.api import evaluate

        metrics = evaluate(
            src, args.n, args.seed, args.checkpoint, args.truncation, extractor=args.extractor,
            target=args.target,
        )  # fmt: skip
        default_out = (src if src.is_dir() else src.parent.parent) / "metrics.json"
    else:
        metrics = _evaluate_images(args, src)
        if _is_run_or_checkpoint(src):
            default_out = (src if src.is_dir() else src.parent.parent) / "metrics.json"
        elif src.is_dir():
            default_out = src / "metrics.json"
        else:
            default_out = src.with_name(src.stem + ".metrics.json")
    out = Path(args.out) if args.out else default_out
    write_json(out, metrics)
    print(_summary(metrics))
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _evaluate_tables(args: argparse.Namespace) -> int:
    """``evaluate REAL.csv SYNTHETIC.csv``: fidelity, efficacy and privacy of any table."""
    from ganforge.evaluation.table import evaluate_table_files
    from ganforge.io import write_json

    if args.synthetic is None:
        raise ConfigError("evaluate REAL.csv needs the synthetic table: REAL.csv SYNTHETIC.csv")
    synthetic = Path(args.synthetic)
    metrics = evaluate_table_files(
        args.source, synthetic, args.target, args.holdout, args.columns, seed=args.seed
    )
    out = Path(args.out) if args.out else synthetic.with_name(synthetic.stem + ".metrics.json")
    write_json(out, metrics)
    print(_summary(metrics))
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _evaluate_images(args: argparse.Namespace, src: Path) -> dict[str, Any]:
    """Generated images (run, checkpoint, folder or .npz) against a reference: a dataset
    name with optional split (``fashion-mnist:test``), a folder, an ``.npz`` of images
    or an ``.npz`` of saved statistics (FID only)."""
    from ganforge.evaluation.floor import add_floor
    from ganforge.evaluation.image import DEFAULTS, evaluate_images, real_vs_real_floor
    from ganforge.evaluation.image_files import is_stats_file, load_image_source
    from ganforge.evaluation.references import default_extractor, folder_extractor

    extractor = args.extractor
    if _is_run_or_checkpoint(src):
        from ganforge.api import load_generator

        loaded = load_generator(src, args.checkpoint)
        if loaded.decoder.kind != "image":
            raise ConfigError("--reference/--extractor apply to image runs only")
        fake = loaded.sample(args.n or DEFAULTS["n"], seed=args.seed, truncation=args.truncation)
    else:
        fake = load_image_source(src)
    reference: Any = args.reference or "fashion-mnist:test"
    ref_path = Path(reference)
    dataset_name = None
    if ref_path.exists():
        if not is_stats_file(ref_path):
            reference = load_image_source(ref_path, image_size=fake.shape[-1])
            if extractor == "train":
                extractor = folder_extractor(ref_path, fake.shape[-1])
    else:
        dataset_name, _, split = reference.partition(":")
        if split and split not in ("train", "test"):
            raise ConfigError(f"split must be train or test, got {split!r}")
    extractor = extractor or default_extractor(dataset_name)
    n = min(args.n or DEFAULTS["n"], len(fake))
    if not isinstance(reference, str):
        n = min(n, len(reference))
    metrics = evaluate_images(fake, reference, extractor, n, seed=args.seed, data_dir=args.data_dir)
    if dataset_name is not None and not args.no_floor:
        floor = real_vs_real_floor(
            dataset_name, extractor, n, data_dir=args.data_dir, split=split, seed=args.seed
        )
        add_floor(metrics, floor)
    if args.truncation is not None:
        metrics["protocol"]["truncation"] = args.truncation
    return metrics
