"""``ganforge sample``: samples of a run to files (numbers, images, table rows, latent
walks); text runs go through :mod:`ganforge.cli_text`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ganforge.errors import ConfigError


def cmd_sample(args: argparse.Namespace) -> int:
    from ganforge.api import load_generator
    from ganforge.io import atomic_path

    if args.interpolate is not None or args.seeds is not None:
        return cmd_walk(args)
    if args.n is not None and args.n < 1:
        raise ConfigError(f"--n must be a positive integer, got {args.n}")
    loaded = load_generator(args.source, args.checkpoint, ema=not args.no_ema)
    if loaded.decoder.kind == "sequence":
        from ganforge.cli_text import sample_text

        return sample_text(args, loaded)
    if args.prompt or args.prompts or args.temperature is not None or args.argmax:
        raise ConfigError("--prompt, --prompts, --temperature and --argmax are for text runs")
    if args.out is None:
        raise ConfigError("--out is required: a .npy or .csv file (images: .png, .npz, folder/)")
    args.n = 1000 if args.n is None else args.n
    if loaded.decoder.kind == "image":
        return _sample_images(args, loaded)
    if loaded.decoder.kind == "table":
        return _sample_table(args, loaded)
    if args.where:
        raise ConfigError("--where applies to table runs only")
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".npy", ".csv"):
        raise ConfigError(f"--out must end in .npy or .csv, got {args.out!r}")
    if out.is_dir():
        raise ConfigError(f"--out {args.out!r} is a directory")
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


def cmd_walk(args: argparse.Namespace) -> int:
    """``sample --interpolate K`` (a latent walk) or ``sample --seeds 0-63`` (a grid)."""
    from ganforge.api import load_generator
    from ganforge.walks import parse_seeds, seed_samples, write_array, write_walk

    if args.interpolate is not None and args.seeds is not None:
        raise ConfigError("give --interpolate or --seeds, not both")
    if args.interpolate is not None and args.interpolate < 2:
        raise ConfigError(f"--interpolate needs at least 2 latents, got {args.interpolate}")
    if args.out is None:
        raise ConfigError("--out is required for --interpolate and --seeds")
    seeds = parse_seeds(args.seeds) if args.seeds is not None else []
    loaded = load_generator(args.source, args.checkpoint, ema=not args.no_ema)
    if loaded.decoder.kind in ("sequence", "table"):
        raise ConfigError(
            f"--interpolate and --seeds are for image and numeric runs, not {loaded.decoder.kind}"
        )
    if args.interpolate is not None:
        done = write_walk(loaded, args.interpolate, args.out, args.seed, args.label)
    else:
        samples = seed_samples(loaded, seeds, args.label, args.truncation)
        done = write_array(samples, args.out, loaded)
    print(f"wrote {done}", file=sys.stderr)
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
            else default_labels(args.n, loaded.num_classes, loaded.decoder.label_prior)
        )
    print(f"wrote {write_samples(args.out, images, labels)}", file=sys.stderr)
    return 0


def _sample_table(args: argparse.Namespace, loaded: Any) -> int:
    """Table runs: ``--out`` a .csv in the file's header and formats, or a .npy."""
    from ganforge.tables import parse_where, write_rows

    if args.label is not None:
        raise ConfigError("--label is for class-conditional models; tables use --where")
    where = parse_where(args.where)
    native = write_rows(loaded, args.out, args.n, args.seed, where, args.truncation)
    print(f"wrote {args.n} rows of {native.shape[1]} columns to {args.out}", file=sys.stderr)
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
