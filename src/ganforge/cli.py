"""Command line: ``ganforge train | sample | evaluate | plot | list | report | export``.

Thin by design: parse, call the library, print. A user's mistake (a
:class:`~ganforge.errors.GanforgeError`, a missing file) is one line on stderr and exit
code 2; any other exception is a bug: one line asking for a report and exit code 1
(``ganforge --debug ...`` shows the traceback).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ganforge.cli_evaluate import _summary, cmd_evaluate
from ganforge.cli_sample import cmd_sample
from ganforge.errors import ConfigError, GanforgeError

EXIT_USAGE = 2

GROUP_TITLES = {
    "": "model options (override the preset)",
    "mlp": "MLP model options",
    "dcgan": "DCGAN model options",
    "sequence": "sequence model options",
    "table": "table model options",
}


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        msg = f"expected numbers separated by commas, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def _flag_kwargs(field: Any) -> dict[str, Any]:
    """argparse options for a config field, from its annotation and metadata."""
    kind = str(field.type)
    kwargs: dict[str, Any] = {"dest": field.name, "default": None, "help": field.metadata["help"]}
    if kind.startswith("bool"):
        kwargs["action"] = argparse.BooleanOptionalAction
    elif kind.startswith("int"):
        kwargs["type"] = int
    elif kind.startswith("float"):
        kwargs["type"] = float
    elif kind.startswith("tuple[float"):
        kwargs["type"] = _floats
    else:  # names, paths, choices (checked by the config) and layer lists ("256,256")
        kwargs["type"] = str
    return kwargs


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise UsageError(message)


TRUNCATION_HELP = (
    "draw the noise from a normal truncated to [-T, T]: more typical samples, less variety"
)


def build_parser() -> argparse.ArgumentParser:
    from ganforge import __version__

    parser = _Parser(prog="ganforge", description="Train, sample and evaluate GANs.")
    parser.add_argument("--version", action="version", version=f"ganforge {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an internal error"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_train(sub.add_parser("train", help="train a GAN"))
    _add_sample(sub.add_parser("sample", help="draw samples from a trained generator"))
    _add_evaluate(
        sub.add_parser(
            "evaluate", help="evaluate a run, checkpoint or image set; write metrics.json"
        )
    )
    i = sub.add_parser("inspect", help="print the column spec inferred for a CSV table (YAML)")
    i.add_argument("table", metavar="FILE.csv")
    i.add_argument("--columns", help="a column spec to apply before printing")
    p = sub.add_parser("plot", help="rebuild a run's plots from its files")
    p.add_argument("run", metavar="RUN")
    sub.add_parser("list", help="list datasets, losses, presets and metrics")
    _add_report(sub.add_parser("report", help="write a run's HTML report, or compare runs"))
    _add_export(sub.add_parser("export", help="export a run's generator for use elsewhere"))
    return parser


def _add_export(x: argparse.ArgumentParser) -> None:
    x.add_argument("source", metavar="RUN_OR_CHECKPOINT")
    x.add_argument("--format", dest="fmt", required=True, help="torchscript, onnx or safetensors")
    x.add_argument("--out", required=True, help="output file (a FILE.json sidecar is written too)")
    x.add_argument("--checkpoint", choices=["latest", "best"], default="latest")
    x.add_argument("--no-ema", action="store_true", help="the raw, not the EMA, generator")


def _add_report(r: argparse.ArgumentParser) -> None:
    r.add_argument("runs", metavar="RUN", nargs="+", help="one run, or several to compare")
    r.add_argument(
        "--out", help="output file (default RUN/report.html; ./report.html for several runs)"
    )
    r.add_argument(
        "--format", dest="fmt", default="html", help="html (one self-contained file) or md"
    )
    r.add_argument(
        "--evaluate",
        action="store_true",
        help="evaluate each run's latest checkpoint first (rewrites its metrics.json)",
    )


def _add_train(t: argparse.ArgumentParser) -> None:
    """Every config field with CLI metadata is a flag; model options by group."""
    from ganforge.config import ModelConfig, TrainConfig, cli_options

    for field in cli_options(TrainConfig):
        t.add_argument(_flag(field.name), **_flag_kwargs(field))
    groups = {key: t.add_argument_group(title) for key, title in GROUP_TITLES.items()}
    for field in cli_options(ModelConfig):
        groups[field.metadata["group"]].add_argument(_flag(field.name), **_flag_kwargs(field))
    t.add_argument("--config", help="YAML or JSON file of options (flags override it)")
    t.add_argument(
        "--resume", metavar="RUN", help="continue the run in RUN from its latest checkpoint"
    )
    t.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    t.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    t.add_argument(
        "--log",
        choices=["tensorboard"],
        help="also write TensorBoard event files to RUN/tb/ (needs ganforge[tensorboard])",
    )


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint", choices=["latest", "best"], default="latest")
    p.add_argument("--truncation", type=float, default=None, help=TRUNCATION_HELP)


def _add_sample(s: argparse.ArgumentParser) -> None:
    s.add_argument("source", metavar="RUN_OR_CHECKPOINT")
    s.add_argument(
        "--n", type=int, default=None, help="number of samples (default 1000; 1 per prompt)"
    )
    s.add_argument(
        "--out",
        help="output file: .npy or .csv; for images a .png grid, a .npz or a folder/; "
        "for text .txt or .jsonl (text without --out: printed)",
    )
    _add_common(s)
    s.add_argument("--no-ema", action="store_true", help="use the raw, not the EMA, generator")
    s.add_argument("--label", type=int, default=None, help="class of a conditional model")
    s.add_argument(
        "--where",
        action="append",
        metavar="COLUMN=VALUE",
        help="tables: rows holding this value of a categorical column (repeatable)",
    )
    text = s.add_argument_group("text (sequence runs)")
    text.add_argument("--prompt", help="complete this prompt (a run trained with prompts)")
    text.add_argument("--prompts", metavar="FILE", help="complete each line of FILE")
    text.add_argument("--temperature", type=float, help="sample each token at temperature T")
    text.add_argument("--argmax", action="store_true", help="the likeliest token (greedy)")
    _add_walks(s)


def _add_walks(s: argparse.ArgumentParser) -> None:
    s.add_argument(
        "--interpolate",
        type=int,
        metavar="K",
        help="a looping latent walk through K random latents (slerp): a .gif for images, "
        "else the path's samples",
    )
    s.add_argument(
        "--seeds", help="one sample per seed, e.g. 0-63 or 1,5,9 (cell s = --n 1 --seed s)"
    )


def _add_evaluate(e: argparse.ArgumentParser) -> None:
    e.add_argument("source", metavar="RUN_OR_CHECKPOINT_OR_IMAGES")
    e.add_argument(
        "synthetic",
        nargs="?",
        metavar="SYNTHETIC.csv",
        help="tables: `evaluate REAL.csv SYNTHETIC.csv` compares any two CSV files",
    )
    e.add_argument(
        "--target", help="tables (two CSVs or a table run): column for the ML-efficacy model"
    )
    e.add_argument(
        "--holdout", help="tables: real rows the generator never saw (a CSV, same header)"
    )
    e.add_argument("--columns", help="tables: column spec YAML for REAL.csv")
    e.add_argument("--n", type=int, default=None, help="generated samples (default: dataset's)")
    _add_common(e)
    e.add_argument("--out", help="where to write the metrics (default RUN/metrics.json)")
    e.add_argument(
        "--reference",
        help="images: dataset[:split] (default fashion-mnist:test), "
        "a folder, an .npz of images, or an .npz of saved feature statistics",
    )
    e.add_argument(
        "--extractor",
        help="images: feature extractor (default fashion-cnn; for mnist: train, a classifier "
        "trained once on the labelled reference data and cached)",
    )
    e.add_argument("--data-dir", help="folder with the reference dataset's files")
    e.add_argument(
        "--no-floor",
        action="store_true",
        help="skip the real-vs-real floor (training images scored in place of the generated)",
    )


def _train_config(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    from ganforge.config import ModelConfig, TrainConfig, cli_options, load_config_file

    values: dict[str, Any] = {}
    model: dict[str, Any] = {}
    if args.config:
        values = load_config_file(args.config)
        raw_model = values.pop("model", None) or {}
        if not isinstance(raw_model, dict):
            raise ConfigError("'model' in the config file must be a mapping of model options")
        model = {str(k).replace("-", "_"): v for k, v in raw_model.items()}
    for field in cli_options(TrainConfig):
        if getattr(args, field.name) is not None:
            values[field.name] = getattr(args, field.name)
    for field in cli_options(ModelConfig):
        if getattr(args, field.name) is not None:
            model[field.name] = getattr(args, field.name)
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
    from ganforge.defaults import resolve
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
    if args.log:  # refused before training when TensorBoard is missing
        from ganforge.report.tensorboard_log import require_tensorboard

        require_tensorboard()
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
    if args.log:
        from ganforge.report.tensorboard_log import write_tensorboard

        log(f"TensorBoard: tensorboard --logdir {write_tensorboard(result.run_dir)}")
    return 0


RESUME_FLAGS = {"resume", "steps", "quiet", "dry_run", "command", "debug", "log"}


def _check_resume_flags(args: argparse.Namespace) -> None:
    """A resumed run keeps its own config; only ``--steps`` may change it."""
    given = sorted(
        k for k, v in vars(args).items() if k not in RESUME_FLAGS and v not in (None, False)
    )
    if given:
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        raise ConfigError(
            f"--resume continues a run with its own config; {flags} cannot change "
            "it (only --steps can)"
        )


def cmd_inspect(args: argparse.Namespace) -> int:
    """Print the table's column spec as YAML (a user edits it and passes ``--columns``)."""
    from ganforge.data.table import infer_spec, load_spec, read_csv_table, spec_to_yaml

    raw = read_csv_table(args.table)
    specs = load_spec(args.columns, raw) if args.columns else infer_spec(raw)
    print(spec_to_yaml(specs, raw), end="")
    return 0


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


def cmd_report(args: argparse.Namespace) -> int:
    from ganforge.report import write_report

    print(f"wrote {write_report(args.runs, args.out, args.fmt, args.evaluate)}", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ganforge.export import export_generator

    out, side = export_generator(args.source, args.fmt, args.out, not args.no_ema, args.checkpoint)
    print(f"wrote {out} and {side}", file=sys.stderr)
    return 0


COMMANDS = {
    "export": cmd_export,
    "report": cmd_report,
    "train": cmd_train,
    "sample": cmd_sample,
    "evaluate": cmd_evaluate,
    "plot": cmd_plot,
    "list": cmd_list,
    "inspect": cmd_inspect,
}


#: Errors that mean "the user's input or environment", not a bug: one line, exit 2.
USER_ERRORS: tuple[type[BaseException], ...] = (
    GanforgeError,
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
    FloatingPointError,
)
EXIT_BUG = 1
REPORT = "this is a bug in ganforge; please report it with the command you ran"


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit codes: 0 done; 2 bad input (one line on stderr); 1 an
    internal error (one line asking for a report; the traceback with ``--debug``) or a
    disk error; 128 + N after signal N."""
    parser = build_parser()
    args = None
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
    except USER_ERRORS as exc:
        print(f"ganforge: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # a full disk, a vanished mount: one line, not a traceback
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"ganforge: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_BUG
    except KeyboardInterrupt:
        print("ganforge: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - anything else is a bug: say so
        if args is not None and args.debug:
            raise
        print(
            f"ganforge: internal error: {type(exc).__name__}: {exc}\n"
            f"ganforge: {REPORT} (add --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
