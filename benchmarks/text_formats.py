"""A suite of short-text formats for tuning the defaults of ``--dataset FILE.txt``.

Each format is generated procedurally (seeded, nothing downloaded) and has a regular
expression that says whether a line has the format. For each format this script writes
the lines to ``WORKDIR/<format>.txt``, trains ``ganforge train --dataset FILE.txt`` with no
other option but ``--seed``, ``--out`` and ``--threads 1`` (plus any ``--extra`` flags,
for tuning), samples 1,000 lines from the final generator and prints per format: the
fraction of samples that match the format, the same for the real held-out lines (1.0 by
construction), uniqueness, novelty (not a training line), and the wall and CPU time of
the run::

    python benchmarks/text_formats.py --workdir /tmp/formats --seeds 0
    python benchmarks/text_formats.py --only codes dates --extra "--steps 500"

None of the formats is special-cased anywhere in ganforge: they are data nobody tuned
the model code for.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

LINES = 5000
SYLLABLES = ["ka", "lo", "mi", "ra", "ne", "to", "su", "vi", "da", "ren", "mar", "el", "an"]
WORDS = ["red", "blue", "green", "small", "large", "fast", "slow", "cat", "dog", "bird"]


def _name(r: random.Random) -> str:
    def word() -> str:
        return "".join(r.choice(SYLLABLES) for _ in range(r.randint(2, 3))).capitalize()

    return f"{word()} {word()}"


def _code(r: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    return f"{r.choice(letters)}{r.choice(letters)}-{r.randint(0, 9999):04d}"


def _date(r: random.Random) -> str:
    days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    m = r.randint(1, 12)
    return f"{r.randint(1950, 2030)}-{m:02d}-{r.randint(1, days[m - 1]):02d}"


def _record(r: random.Random) -> str:
    return f"id={r.randint(1, 999)};size={r.choice(WORDS[:5])};ok={r.choice(['true', 'false'])}"


def _email(r: random.Random) -> str:
    user = "".join(r.choice(SYLLABLES) for _ in range(r.randint(2, 3)))
    return f"{user}{r.randint(1, 99)}@{r.choice(['mail', 'post', 'box'])}.{r.choice(['com', 'org', 'net'])}"


def _time(r: random.Random) -> str:
    return f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}"


FORMATS: dict[str, tuple[Callable[[random.Random], str], str]] = {
    "names": (
        _name,
        r"(?:"
        + "|".join(s.capitalize() for s in SYLLABLES)
        + r")(?:"
        + "|".join(SYLLABLES)
        + r"){1,2} (?:"
        + "|".join(s.capitalize() for s in SYLLABLES)
        + r")(?:"
        + "|".join(SYLLABLES)
        + r"){1,2}",
    ),
    "codes": (_code, r"[A-HJ-NP-Z]{2}-\d{4}"),
    "dates": (
        _date,
        r"(19[5-9]\d|20[0-2]\d|2030)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])",
    ),
    "records": (_record, r"id=[1-9]\d{0,2};size=(red|blue|green|small|large);ok=(true|false)"),
    "emails": (
        _email,
        r"(?:" + "|".join(SYLLABLES) + r"){2,3}[1-9]\d?@(mail|post|box)\.(com|org|net)",
    ),
    "times": (_time, r"([01]\d|2[0-3]):[0-5]\d"),
}


def write_format(name: str, path: Path, seed: int = 0) -> list[str]:
    make, _ = FORMATS[name]
    r = random.Random(f"{name}-{seed}")
    lines = [make(r) for _ in range(LINES)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


def run_one(name: str, workdir: Path, seed: int, extra: list[str]) -> dict:
    data = workdir / f"{name}.txt"
    lines = write_format(name, data)
    out = workdir / f"{name}-s{seed}"
    cmd = [
        sys.executable,
        "-m",
        "ganforge",
        "train",
        "--dataset",
        str(data),
        "--seed",
        str(seed),
        "--out",
        str(out),
        "--threads",
        "1",
        "--quiet",
        *extra,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    tick = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - tick
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    from ganforge.api import load_generator

    samples = load_generator(out).sample(1000, seed=1)
    pattern = re.compile(FORMATS[name][1])
    train = set(lines)
    return {
        "format": name,
        "seed": seed,
        "match": sum(bool(pattern.fullmatch(s)) for s in samples) / len(samples),
        "real_match": sum(bool(pattern.fullmatch(s)) for s in lines) / len(lines),
        "unique": len(set(samples)) / len(samples),
        "novel": sum(s not in train for s in samples) / len(samples),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "examples": samples[:5],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workdir", default="/tmp/text_formats")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--only", nargs="+", choices=list(FORMATS), default=list(FORMATS))
    p.add_argument("--extra", default="", help="extra train flags, for tuning")
    args = p.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"{'format':<9}{'seed':>5}{'match':>8}{'unique':>8}{'novel':>8}{'wall s':>8}{'CPU s':>8}")
    for name in args.only:
        for seed in args.seeds:
            row = run_one(name, workdir, seed, shlex.split(args.extra))
            print(
                f"{name:<9}{seed:>5}{row['match']:>8.3f}{row['unique']:>8.3f}"
                f"{row['novel']:>8.3f}{row['wall_s']:>8.0f}{row['cpu_s']:>8.0f}  {row['examples'][:3]}",
                flush=True,
            )
            with (workdir / "results.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({**row, "extra": args.extra}) + "\n")


if __name__ == "__main__":
    main()
