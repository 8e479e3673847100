"""Command line: ``ganforge train | sample | evaluate | plot | list``.

Thin by design: parse, call the library, print. Library errors (``ValueError``,
``TypeError``) become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE = 2

# CLI flag -> (TrainConfig or ModelConfig field, type, help). One table feeds argparse,
# the config merge and the help text.
TRAIN_FLAGS: list[tuple[str, str, Any, str]] = [
    ("--dataset", "dataset", str, "dataset name (see `ganforge list`) or a .csv/.npy path"),
    ("--data-dir", "data_dir", str, "folder holding the dataset's files"),
    ("--preset", "preset", str, "model preset (default: the dataset's)"),
    ("--loss", "loss", str, "GAN loss (default nonsaturating)"),
    ("--steps", "steps", int, "generator steps"),
    ("--batch-size", "batch_size", int, "samples per batch"),
    ("--seed", "seed", int, "random seed (a CPU run is exactly reproducible)"),
    ("--out", "out", str, "run directory (default runs/NNNNN-DATASET-LOSS)"),
    ("--n-critic", "n_critic", int, "D steps per G step (default: the loss's)"),
    ("--optimizer", "optimizer", str, "adam or rmsprop (default: the loss's)"),
    ("--lr-g", "lr_g", float, "generator learning rate"),
    ("--lr-d", "lr_d", float, "discriminator learning rate"),
    ("--lr-schedule", "lr_schedule", str, "constant, linear or cosine decay"),
    ("--clip-value", "clip_value", float, "weight clipping for wasserstein (default 0.01)"),
    ("--gp-weight", "gp_weight", float, "gradient-penalty weight (wgan-gp default 10)"),
    ("--r1-weight", "r1_weight", float, "R1 penalty γ: γ/2 · mean ‖∇ D(real)‖² (0 = off)"),
    ("--r1-every", "r1_every", int, "R1 on every k-th D update only, weighted k× (lazy)"),
    ("--label-smoothing", "label_smoothing", float, "one-sided: real target 1 - s"),
    ("--label-noise", "label_noise", float, "uniform target noise: 1 ± a and 0 ± a"),
    ("--aux-weight", "aux_weight", float, "conditional acgan: weight of the class loss"),
    ("--ema", "ema", float, "EMA decay of generator weights, e.g. 0.999 (0 = off)"),
    ("--noise-std", "noise_std", float, "std of the generator's Gaussian noise"),
    ("--log-every", "log_every", int, "steps between history lines"),
    ("--sample-every", "sample_every", int, "steps between sample snapshots (0 = off)"),
    ("--checkpoint-every", "checkpoint_every", int, "steps between checkpoints"),
    ("--eval-every", "eval_every", int, "steps between evaluations for --best-metric"),
    ("--eval-samples", "eval_samples", int, "samples for evaluation"),
    ("--best-metric", "best_metric", str, "choose the best model by this metric"),
    ("--device", "device", str, "auto, cpu or cuda"),
    ("--precision", "precision", str, "fp32, bf16 or fp16 (mixed precision on CUDA only)"),
    ("--threads", "threads", int, "CPU threads (default: 1 for small models)"),
    ("--image-size", "image_size", int, "resize images to this side in pixels (folders: 64)"),
    (
        "--on-nan",
        "on_nan",
        str,
        "stop (default) or rollback: reload the last good checkpoint and halve the learning rates",
    ),
]
MODEL_FLAGS: list[tuple[str, str, Any, str]] = [
    ("--arch", "arch", str, "model architecture"),
    ("--noise-dim", "noise_dim", int, "generator noise dimension"),
    ("--g-hidden", "g_hidden", str, "generator layer widths, e.g. 256,256"),
    ("--d-hidden", "d_hidden", str, "discriminator layer widths"),
    (
        "--g-activation",
        "g_activation",
        str,
        "relu, leaky_relu, tanh, elu, gelu, silu, maxout (5 pieces)",
    ),
    ("--d-activation", "d_activation", str, "discriminator activation"),
    ("--g-output", "g_output", str, "linear, tanh or sigmoid"),
    ("--d-dropout", "d_dropout", float, "dropout in the discriminator"),
    ("--pack", "pack", int, "PacGAN: samples judged together by D"),
    ("--conditional", "conditional", str, "none, concat, projection or acgan (needs labels)"),
    ("--embed-dim", "embed_dim", int, "label embedding size for conditional G"),
    ("--base-width", "base_width", int, "dcgan: channels of the largest feature maps"),
]


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise UsageError(message)


def _add_flags(p: argparse.ArgumentParser, table: list[tuple[str, str, Any, str]]) -> None:
    for flag, dest, typ, help_ in table:
        p.add_argument(flag, dest=dest, type=typ, default=None, help=help_)


TRUNCATION_HELP = (
    "draw the noise from a normal truncated to [-T, T]: more typical samples, less variety"
)


def build_parser() -> argparse.ArgumentParser:
    from ganforge import __version__

    parser = _Parser(prog="ganforge", description="Train, sample and evaluate GANs.")
    parser.add_argument("--version", action="version", version=f"ganforge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    t = sub.add_parser("train", help="train a GAN")
    _add_flags(t, TRAIN_FLAGS)
    g = t.add_argument_group("model options (override the preset)")
    _add_flags(g, MODEL_FLAGS)
    g.add_argument(
        "--g-batch-norm",
        dest="g_batch_norm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="batch norm in the generator",
    )
    g.add_argument(
        "--d-batch-norm",
        dest="d_batch_norm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="batch norm in the discriminator",
    )
    g.add_argument(
        "--spectral-norm",
        dest="spectral_norm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="spectral norm on the discriminator's layers (dcgan)",
    )
    t.add_argument(
        "--sync-batchnorm",
        dest="sync_batchnorm",
        action="store_true",
        default=None,
        help="with torchrun: batch-norm statistics over all processes",
    )
    t.add_argument("--config", help="YAML or JSON file of options (flags override it)")
    t.add_argument(
        "--resume", metavar="RUN", help="continue the run in RUN from its latest checkpoint"
    )
    t.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    t.add_argument("--quiet", action="store_true", help="no progress bar or summary")

    s = sub.add_parser("sample", help="draw samples from a trained generator")
    s.add_argument("source", metavar="RUN_OR_CHECKPOINT")
    s.add_argument("--n", type=int, default=1000, help="number of samples (default 1000)")
    s.add_argument(
        "--out",
        required=True,
        help="output file: .npy or .csv; for images a .png grid, a .npz or a folder/",
    )
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--checkpoint", choices=["latest", "best"], default="latest")
    s.add_argument("--no-ema", action="store_true", help="use the raw, not the EMA, generator")
    s.add_argument("--label", type=int, default=None, help="class of a conditional model")
    s.add_argument("--truncation", type=float, default=None, help=TRUNCATION_HELP)

    e = sub.add_parser(
        "evaluate", help="evaluate a run, checkpoint or image set; write metrics.json"
    )
    e.add_argument("source", metavar="RUN_OR_CHECKPOINT_OR_IMAGES")
    e.add_argument("--n", type=int, default=None, help="generated samples (default: dataset's)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--checkpoint", choices=["latest", "best"], default="latest")
    e.add_argument("--truncation", type=float, default=None, help=TRUNCATION_HELP)
    e.add_argument("--out", help="where to write the metrics (default RUN/metrics.json)")
    e.add_argument(
        "--reference",
        help="images: dataset[:split] (default fashion-mnist:test), "
        "a folder, an .npz of images, or an .npz of saved feature statistics",
    )
    e.add_argument("--extractor", help="images: feature extractor (default fashion-cnn)")
    e.add_argument("--data-dir", help="folder with the reference dataset's files")
    e.add_argument(
        "--no-floor",
        action="store_true",
        help="skip the real-vs-real floor (training images scored in place of the generated)",
    )

    p = sub.add_parser("plot", help="rebuild a run's plots from its files")
    p.add_argument("run", metavar="RUN")

    sub.add_parser("list", help="list datasets, losses, presets and metrics")
    return parser


def _train_config(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    from ganforge.config import TrainConfig, load_config_file

    values: dict[str, Any] = {}
    model: dict[str, Any] = {}
    if args.config:
        values = load_config_file(args.config)
        raw_model = values.pop("model", None) or {}
        if not isinstance(raw_model, dict):
            raise ValueError("'model' in the config file must be a mapping of model options")
        model = {str(k).replace("-", "_"): v for k, v in raw_model.items()}
    for dest in [d for _, d, _, _ in TRAIN_FLAGS] + ["sync_batchnorm"]:
        if getattr(args, dest) is not None:
            values[dest] = getattr(args, dest)
    model_fields = [d for _, d, _, _ in MODEL_FLAGS] + [
        "g_batch_norm",
        "d_batch_norm",
        "spectral_norm",
    ]
    for dest in model_fields:
        if getattr(args, dest) is not None:
            model[dest] = getattr(args, dest)
    return TrainConfig.from_dict(values), model  # model options merge onto the preset


def cmd_train(args: argparse.Namespace) -> int:
    from ganforge.training.distributed import shutdown

    finished = False
    try:
        code = _train(args)
        finished = code == 0
        return code
    finally:
        shutdown(wait_for_peers=finished)


def _train(args: argparse.Namespace) -> int:
    from ganforge.config import resolve
    from ganforge.training.trainer import Trainer, TrainingDiverged, TrainingInterrupted

    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    if args.resume:
        from ganforge.training.checkpoint import resolve_checkpoint_path

        resolve_checkpoint_path(args.resume)  # a missing run is the first thing to report
        _check_resume_flags(args)
        trainer = Trainer.resume(args.resume, steps=args.steps, progress=not args.quiet, log=log)
        if args.dry_run:
            print(trainer.cfg.to_json())
            return 0
    else:
        cfg, model = _train_config(args)
        cfg = resolve(cfg, model)
        if args.dry_run:
            print(cfg.to_json())
            return 0
        trainer = Trainer(cfg, progress=not args.quiet, log=log)
    try:
        result = trainer.fit()
        if not trainer.is_main:
            return 0
    except TrainingInterrupted as exc:
        print(f"ganforge: {exc}", file=sys.stderr)
        return 128 + exc.signum
    except TrainingDiverged as exc:
        print(f"ganforge: error: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(_summary(result.metrics, result.run_dir))
    return 0


RESUME_FLAGS = {"resume", "steps", "quiet", "dry_run", "command"}


def _check_resume_flags(args: argparse.Namespace) -> None:
    """A resumed run keeps its own config; only ``--steps`` may change it."""
    given = sorted(
        k for k, v in vars(args).items() if k not in RESUME_FLAGS and v not in (None, False)
    )
    if given:
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        raise ValueError(
            f"--resume continues a run with its own config; {flags} cannot change "
            "it (only --steps can)"
        )


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


def cmd_sample(args: argparse.Namespace) -> int:
    from ganforge.api import load_generator
    from ganforge.io import atomic_path

    if args.n < 1:
        raise ValueError(f"--n must be a positive integer, got {args.n}")
    loaded = load_generator(args.source, args.checkpoint, ema=not args.no_ema)
    if loaded.decoder.kind == "image":
        return _sample_images(args, loaded)
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".npy", ".csv"):
        raise ValueError(f"--out must end in .npy or .csv, got {args.out!r}")
    if out.is_dir():
        raise ValueError(f"--out {args.out!r} is a directory")
    samples = loaded.sample(args.n, seed=args.seed, label=args.label, truncation=args.truncation)
    with atomic_path(out) as tmp:
        if suffix == ".npy":
            with open(tmp, "wb") as fh:
                import numpy as np

                np.save(fh, samples)
        else:
            _write_csv(tmp, samples, loaded.decoder.columns)
    print(f"wrote {args.n} samples of shape {tuple(samples.shape[1:])} to {out}", file=sys.stderr)
    return 0


def _sample_images(args: argparse.Namespace, loaded: Any) -> int:
    """Image runs: ``--out`` a .png grid, a .npz (``images``, ``labels``) or a folder."""
    import numpy as np

    from ganforge.grids import write_samples
    from ganforge.training.sampling import default_labels

    images = loaded.sample(args.n, seed=args.seed, label=args.label, truncation=args.truncation)
    labels = None
    if loaded.num_classes:
        labels = (
            np.full(args.n, args.label)
            if args.label is not None
            else default_labels(args.n, loaded.num_classes)
        )
    print(f"wrote {write_samples(args.out, images, labels)}", file=sys.stderr)
    return 0


def _write_csv(path: Path, samples: Any, columns: list[str] | None) -> None:
    import csv

    flat = samples.reshape(len(samples), -1)
    cols = (
        columns
        if columns and len(columns) == flat.shape[1]
        else [f"x{j + 1}" for j in range(flat.shape[1])]
    )
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        w.writerows([f"{v:.8g}" for v in row] for row in flat)


def _is_run_or_checkpoint(path: Path) -> bool:
    return (path.is_dir() and (path / "config.json").exists()) or path.suffix == ".safetensors"


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ganforge.io import write_json

    if args.n is not None and args.n < 2:
        raise ValueError(f"--n must be at least 2, got {args.n}")
    src = Path(args.source)
    if not src.exists():
        raise ValueError(f"{args.source!r} does not exist")
    if _is_run_or_checkpoint(src) and args.reference is None and args.extractor is None:
        from ganforge.api import evaluate

        metrics = evaluate(
            src, n=args.n, seed=args.seed, which=args.checkpoint, truncation=args.truncation
        )
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


def _evaluate_images(args: argparse.Namespace, src: Path) -> dict[str, Any]:
    """Generated images (run, checkpoint, folder or .npz) against a reference: a dataset
    name with optional split (``fashion-mnist:test``), a folder, an ``.npz`` of images
    or an ``.npz`` of saved statistics (FID only)."""
    from ganforge.evaluation.floor import add_floor
    from ganforge.evaluation.image import DEFAULTS, evaluate_images, real_vs_real_floor
    from ganforge.evaluation.image_files import is_stats_file, load_image_source

    extractor = args.extractor or DEFAULTS["extractor"]
    if _is_run_or_checkpoint(src):
        from ganforge.api import load_generator

        loaded = load_generator(src, args.checkpoint)
        if loaded.decoder.kind != "image":
            raise ValueError("--reference/--extractor apply to image runs only")
        fake = loaded.sample(args.n or DEFAULTS["n"], seed=args.seed, truncation=args.truncation)
    else:
        fake = load_image_source(src)
    reference: Any = args.reference or "fashion-mnist:test"
    ref_path = Path(reference)
    dataset_name = None
    if ref_path.exists():
        if not is_stats_file(ref_path):
            reference = load_image_source(ref_path, image_size=fake.shape[-1])
    else:
        dataset_name, _, split = reference.partition(":")
        if split and split not in ("train", "test"):
            raise ValueError(f"split must be train or test, got {split!r}")
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


def cmd_plot(args: argparse.Namespace) -> int:
    from ganforge.plots import plot_run

    for path in plot_run(args.run):
        print(path)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from ganforge.data import DATASETS
    from ganforge.evaluation import METRIC_DIRECTIONS
    from ganforge.losses import LOSSES
    from ganforge.models import PRESETS

    print("datasets (or a path to a .csv/.npy file):")
    for name in DATASETS:
        info = DATASETS.get(name)
        print(f"  {name:<16} {info.description} [preset {info.default_preset}]")
    print("losses:")
    for name in LOSSES:
        print(f"  {name:<16} {LOSSES.get(name).summary}")
    print("presets:")
    for name in PRESETS:
        print(f"  {name:<16} {PRESETS.get(name).description}")
    print("metrics (for --best-metric):")
    for name in METRIC_DIRECTIONS:
        better = "higher" if METRIC_DIRECTIONS.get(name) else "lower"
        print(f"  {name:<16} {better} is better")
    return 0


COMMANDS = {
    "train": cmd_train,
    "sample": cmd_sample,
    "evaluate": cmd_evaluate,
    "plot": cmd_plot,
    "list": cmd_list,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"ganforge: error: {exc} (see `ganforge --help`)", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `ganforge list | head`
        sys.stderr.close()
        return 0
    except (
        ValueError,
        TypeError,
        FileNotFoundError,
        NotADirectoryError,
        IsADirectoryError,
        PermissionError,
        FloatingPointError,
    ) as exc:
        print(f"ganforge: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # a full disk, a vanished mount: one line, not a traceback
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"ganforge: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ganforge: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
