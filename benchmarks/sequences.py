"""Text GANs beside a maximum-likelihood language model and chance (issue 14).

For each dataset (``arithmetic``, ``expressions``) and seed:

- **GAN**: ``ganforge train --config recipes/DATASET.yaml --seed S --out DIR --threads 1``
  (without a recipe: ``--dataset DATASET``, the defaults) in a subprocess, then ``DIR/metrics.json`` (the trainer's final evaluation). Skip it with
  ``--skip-gan``, or read finished runs with ``--gan-runs DIR ...`` (the dataset is taken
  from each run's ``config.json``).
- **MLE baseline**: :class:`gru_lm.CharGRU` (embedding 32, one GRU layer of 256, Adam 2e-3,
  batches of 128 lines, teacher forcing) trained on the same training lines for
  ``--seconds`` of process CPU time on one thread, sampled at temperature 1 for free lines
  and greedy for prompt answers, scored by the same evaluator
  (:func:`ganforge.evaluation.sequence.evaluate_texts`) with as many samples as the GAN's
  evaluation (its ``protocol.n_fake``; ``--n`` without GAN runs).
- **chance**: a random valid equation: a left side of the corpus with an answer drawn at
  random from the training answers' empirical distribution (the answer marginal, knowing
  nothing of the question). Its correctness is computed exactly:
  ``mean over lines of P_train(answer = the line's answer)``, over training lines for
  ``correctness`` and over distinct held-out prompts for ``answer_accuracy``. Validity 1.

One table per dataset: mean ± standard error over seeds, beside the real-vs-real floor.

    python benchmarks/sequences.py --seeds 0 1 2 3 4 --seconds 300
    python benchmarks/sequences.py --skip-gan --seconds 180 --json seq.json
    python benchmarks/sequences.py --gan-runs runs/a0 runs/a1 --seconds 300
    python benchmarks/sequences.py --gan-runs runs/a0 runs/a1 --also "likelihood only" \
        runs/m0 runs/m1 --seconds 250

``--also LABEL DIR ...`` (repeatable) adds a column of other finished runs, e.g. the
recipe stopped after its likelihood phase (``--mle-steps`` = ``--steps``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

DATASETS = ("arithmetic", "expressions")
ROWS = (
    "validity",
    "correctness",
    "answer_accuracy",
    "answer_accuracy_+",
    "uniqueness",
    "novelty",
    "bleu4",
    "self_bleu4",
    "jsd_4",
    "length_w1",
    "train_cpu_s",
)


def corpus(name: str) -> tuple[list[str], list[str]]:
    from ganforge.data.grammars import CORPORA

    return CORPORA[name](0)


def chance(name: str) -> dict[str, float]:
    """Exact correctness of random valid equations on the built-in corpus ``name``."""
    from ganforge.data.grammars import get_grammar

    return chance_of(*corpus(name), get_grammar(name))


def chance_of(train: list[str], heldout: list[str], grammar: Any) -> dict[str, float]:
    """Correctness of a valid left side with an answer drawn from the training answers'
    empirical distribution: ``mean P_train(answer = true answer)`` over the training
    lines (``correctness``) and over the distinct held-out prompts (``answer_accuracy``,
    and ``answer_accuracy_+`` over those whose one operator is ``+``)."""
    from ganforge.evaluation.sequence import heldout_prompts

    freq = Counter(grammar.answer_of(line) for line in train)

    def p(answer: str) -> float:
        return freq[answer] / len(train)

    prompts = heldout_prompts(heldout, grammar, len(heldout), seed=0)
    return {
        "validity": 1.0,
        "correctness": _mean([p(grammar.answer_of(x)) for x in train]),
        "answer_accuracy": _mean([p(grammar.answer(x)) for x in prompts]),
        "answer_accuracy_+": _mean([p(grammar.answer(x)) for x in prompts if _only_plus(x)]),
    }


def _only_plus(prompt: str) -> bool:
    """A prompt with one operator, ``+`` (the evaluator's ``answer_accuracy_by_operator``)."""
    return prompt.count("+") == 1 and "-" not in prompt and "*" not in prompt


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else math.nan


def _flatten(metrics: dict[str, Any]) -> dict[str, float]:
    out = {k: float(metrics[k]) for k in ROWS if isinstance(metrics.get(k), (int, float))}
    by_op = metrics.get("answer_accuracy_by_operator") or {}
    if "+" in by_op:
        out["answer_accuracy_+"] = float(by_op["+"])
    return out


def run_baseline(name: str, seed: int, seconds: float, n: int) -> dict[str, Any]:
    """Train, sample and evaluate the GRU language model once."""
    import torch
    from gru_lm import CharGRU

    from ganforge.evaluation.sequence import evaluate_texts

    torch.set_num_threads(1)
    train, heldout = corpus(name)
    lm = CharGRU(train, seed=seed)
    fit = lm.fit(train, seconds=seconds)
    samples = lm.sample(n, seed=seed)
    m = evaluate_texts(
        samples,
        train,
        heldout,
        grammar=name,
        complete=lm.complete,
        prompted=True,
        max_len=lm.max_len,
        seed=seed,
    )
    m["train_cpu_s"] = fit["cpu_seconds"]
    m["fit"] = fit
    m["examples"] = samples[:8]
    return m


def run_gan(name: str, seed: int, out: Path) -> dict[str, Any]:
    """``ganforge train --config recipes/NAME.yaml`` (no recipe: ``--dataset NAME``, the
    defaults) in a subprocess; its metrics.json."""
    recipe = ROOT / "recipes" / f"{name}.yaml"
    data = ["--config", str(recipe)] if recipe.exists() else ["--dataset", name]
    cmd = [sys.executable, "-m", "ganforge", "train", *data]
    cmd += ["--seed", str(seed), "--out", str(out), "--threads", "1", "--quiet"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = json.loads((out / "metrics.json").read_text())
    m["train_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return m


def read_gan_runs(dirs: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Finished runs' metrics by dataset (from each run's ``config.json``), with the
    training loop's CPU seconds (``run.json``) as ``train_cpu_s``."""
    out: dict[str, list[dict[str, Any]]] = {}
    for d in dirs:
        cfg = json.loads((Path(d) / "config.json").read_text())
        m = json.loads((Path(d) / "metrics.json").read_text())
        info = Path(d) / "run.json"
        if info.exists():
            sessions = json.loads(info.read_text()).get("sessions", [])
            m["train_cpu_s"] = sum(float(x.get("cpu_s", 0.0)) for x in sessions)
        out.setdefault(str(cfg["dataset"]), []).append(m)
    return out


def _cell(values: list[float]) -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "—"
    m = sum(values) / len(values)
    if len(values) < 2:
        return f"{m:.3f}"
    se = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1) / len(values))
    return f"{m:.3f} ± {se:.3f}"


def table(
    name: str,
    gan: list[dict],
    mle: list[dict],
    ch: dict[str, float],
    also: dict[str, list[dict]] | None = None,
) -> str:
    """A markdown table: GAN, other run columns (``also``), MLE baseline, chance and the
    real-vs-real floor."""
    also = also or {}
    floor_src = (gan or mle)[0].get("real_vs_real", {}) if (gan or mle) else {}
    heads = "".join(f" {label} |" for label in also)
    lines = [
        f"{name} (GAN: {len(gan)} runs, MLE: {len(mle)} runs)",
        "",
        f"| metric | GAN |{heads} MLE (GRU LM) | chance | real vs real |",
        "|---|---|" + "---|" * len(also) + "---|---|---|",
    ]
    for row in ROWS:
        g = [_flatten(m).get(row, math.nan) for m in gan]
        extra = "".join(
            f" {_cell([_flatten(m).get(row, math.nan) for m in runs])} |" for runs in also.values()
        )
        b = [_flatten(m).get(row, math.nan) for m in mle]
        c = f"{ch[row]:.4f}" if row in ch and not math.isnan(ch[row]) else "—"
        f = f"{floor_src[row]:.3f}" if row in floor_src else "—"
        lines.append(f"| {row} | {_cell(g)} |{extra} {_cell(b)} | {c} | {f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--seconds", type=float, default=300.0, help="CPU seconds per MLE run")
    ap.add_argument("--n", type=int, default=2500, help="samples per evaluation")
    ap.add_argument("--skip-gan", action="store_true", help="only the baseline and chance")
    ap.add_argument("--gan-runs", nargs="+", metavar="DIR", help="finished GAN runs to read")
    ap.add_argument(
        "--also",
        nargs="+",
        action="append",
        default=[],
        metavar="LABEL DIR",
        help="a column of other finished runs: a label, then run directories",
    )
    ap.add_argument("--json", help="write every number here")
    args = ap.parse_args(argv)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    given = read_gan_runs(args.gan_runs) if args.gan_runs else {}
    also = {label: read_gan_runs(dirs) for label, *dirs in args.also}
    results: dict[str, Any] = {"args": vars(args), "host": platform.platform()}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            gan = given.get(name, [])
            if not args.skip_gan and not args.gan_runs:
                gan = [run_gan(name, s, Path(tmp) / f"{name}-{s}") for s in args.seeds]
            # the baseline is scored on as many samples as the GAN's evaluation was
            n = int(gan[0].get("protocol", {}).get("n_fake", args.n)) if gan else args.n
            mle = []
            for s in args.seeds:
                mle.append(run_baseline(name, s, args.seconds, n))
                print(f"{name} seed {s}: {_flatten(mle[-1])}", file=sys.stderr, flush=True)
            ch = chance(name)
            extra = {label: runs.get(name, []) for label, runs in also.items()}
            results[name] = {"gan": gan, "mle": mle, "chance": ch, "also": extra}
            print(table(name, gan, mle, ch, extra) + "\n", flush=True)
    results["wall_seconds"] = time.perf_counter() - wall0
    results["cpu_seconds"] = time.process_time() - cpu0
    print(
        f"wall {results['wall_seconds']:.0f} s, CPU (this process) {results['cpu_seconds']:.0f} s"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
