"""``ganforge sample`` for sequence runs: lines to a .txt/.jsonl file or to stdout."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ganforge.errors import ConfigError, DataError
from ganforge.io import atomic_path

DEFAULT_N = 1000


def _prompts(args: argparse.Namespace) -> list[str] | None:
    """The prompts to complete, each repeated ``--n`` times (default once)."""
    if args.prompt is not None and args.prompts is not None:
        raise ConfigError("give --prompt or --prompts, not both")
    if args.prompt is not None:
        base = [args.prompt]
    elif args.prompts is not None:
        path = Path(args.prompts)
        if not path.is_file():
            raise DataError(f"prompts file {args.prompts!r} does not exist")
        try:
            base = [line.rstrip("\r") for line in path.read_text(encoding="utf-8").split("\n")]
        except UnicodeDecodeError:
            raise DataError(f"prompts file {args.prompts!r} is not UTF-8 text") from None
        base = [p for p in base if p.strip()]
        if not base:
            raise DataError(f"prompts file {args.prompts!r} has no non-empty lines")
    else:
        return None
    return [p for p in base for _ in range(args.n or 1)]


def sample_text(args: argparse.Namespace, loaded: Any) -> int:
    """Write (or print) generated lines; with prompts, their completions."""
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".txt", ".jsonl"):
        raise ConfigError(f"--out for a text run must end in .txt or .jsonl, got {args.out!r}")
    if out is not None and out.is_dir():
        raise ConfigError(f"--out {args.out!r} is a directory")
    if args.label is not None:
        raise ConfigError("--label is for class-conditional models; use --prompt")
    prompts = _prompts(args)
    n = len(prompts) if prompts is not None else (args.n or DEFAULT_N)
    lines = loaded.sample(
        n,
        seed=args.seed,
        truncation=args.truncation,
        prompts=prompts,
        temperature=args.temperature,
        argmax=args.argmax,
    )
    if out is None:
        sys.stdout.write("".join(f"{line}\n" for line in lines))
        return 0
    if out.suffix.lower() == ".jsonl":
        rows = [
            {"text": line} if prompts is None else {"prompt": p, "text": line}
            for line, p in zip(lines, prompts or [None] * len(lines), strict=True)
        ]
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    else:
        text = "".join(f"{line}\n" for line in lines)
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    print(f"wrote {len(lines)} lines to {out}", file=sys.stderr)
    return 0
