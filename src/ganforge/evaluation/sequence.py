"""Evaluation of generated text (data kind ``sequence``).

Generated lines (decoded strings) are scored against the dataset's *held-out* lines (the
reference) and its training lines (for novelty); every metric is registered for kind
``sequence`` and computed by :func:`~ganforge.evaluation.registry.compute_metrics`:

- ``validity``, ``correctness``: for datasets with a grammar, the fraction of lines that
  parse, and that parse and hold (:class:`~ganforge.data.grammars.Grammar`);
- ``answer_accuracy``: for prompted datasets with a grammar, the fraction of held-out
  prompts (``grammar.prompt_of(line)``) whose completion is a correct equation with that
  prompt as its left side;
- ``uniqueness``, ``novelty``, ``jsd_1``..``jsd_4``, ``bleu4``, ``self_bleu4``,
  ``length_w1``, ``mean_position_entropy`` for any text (:mod:`ganforge.metrics.text`).

The real-vs-real floor (:mod:`~ganforge.evaluation.floor`) is the same evaluation of a
second real sample: as many *training* lines as generated ones, drawn with the seed,
scored against the same held-out reference (its novelty is 0 by construction: it is what
a generator that replays its training data scores). ``answer_accuracy`` has no floor (the
real answers are correct by definition).

Entry points: :func:`evaluate_texts` (plain lists of strings, no model needed) and
:func:`evaluate_sequence_samples`, the evaluator registered for kind ``sequence``, which
reads the lines from the dataset and completes prompts with ``complete(prompts) ->
lines`` (the trainer passes ``ganforge.training.sampling.complete`` bound to its
generator).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ganforge.errors import DataError
from ganforge.evaluation.floor import add_floor
from ganforge.evaluation.registry import (
    MetricSkipped,
    compute_metrics,
    register_evaluator,
    register_metric,
)
from ganforge.metrics import text

#: n-gram orders of the ``jsd_n`` metrics
JSD_ORDERS = (1, 2, 3, 4)
#: samples that enter self-BLEU (its cost is linear, but so is its variance's decline)
SELF_BLEU_SAMPLES = 1000
#: held-out prompts completed for ``answer_accuracy`` at most
MAX_PROMPTS = 1000
SMOOTHING = (
    "corpus BLEU with add-one smoothing of the n-gram precisions for n > 1 (Lin & Och 2004; "
    "Chen & Cherry 2014 method 2), uniform weights, brevity penalty against the closest "
    "reference length"
)

Complete = Callable[[list[str]], list[str]]


@dataclass(frozen=True)
class SequenceInputs:
    """What the ``sequence`` metric functions read: generated ``samples``, the held-out
    ``reference`` lines, the ``train_lines``, the grammar (or ``None``), ``max_len`` (the
    positions of the entropy profile), ``completions`` of ``prompts`` (or ``None``), and
    the tokenizer (``None``: characters)."""

    samples: list[str]
    reference: list[str]
    train_lines: list[str]
    grammar: Any = None
    max_len: int = 0
    prompts: list[str] | None = None
    completions: list[str] | None = None
    tokenize: text.Tokenizer = None


def grammar_metrics(x: SequenceInputs) -> dict[str, Any] | None:
    """``validity`` and ``correctness`` (fractions of lines) under the dataset's grammar."""
    if x.grammar is None:
        return None
    valid = [x.grammar.is_valid(s) for s in x.samples]
    correct = [x.grammar.is_correct(s) for s, v in zip(x.samples, valid, strict=True) if v]
    n = len(x.samples)
    return {"validity": sum(valid) / n, "correctness": sum(correct) / n}


def answer_metrics(x: SequenceInputs) -> dict[str, Any] | None:
    """``answer_accuracy``: a completion counts when it starts with its prompt and is a
    correct equation (``grammar.is_correct``); with ``answer_accuracy_by_operator`` when
    every prompt holds exactly one of ``+ - *``."""
    if x.grammar is None or x.prompts is None:
        return None
    if x.completions is None:
        raise MetricSkipped("no completion function was given")
    if len(x.completions) != len(x.prompts):
        raise DataError(f"{len(x.prompts)} prompts but {len(x.completions)} completions")
    ok = [
        c.startswith(p) and x.grammar.prompt_of(c) == p and x.grammar.is_correct(c)
        for p, c in zip(x.prompts, x.completions, strict=True)
    ]
    out: dict[str, Any] = {"answer_accuracy": float(np.mean(ok)) if ok else 0.0}
    ops = [[o for o in "+-*" if o in p] for p in x.prompts]
    if ok and all(len(o) == 1 and x.prompts[i].count(o[0]) == 1 for i, o in enumerate(ops)):
        by_op: dict[str, list[bool]] = {}
        for o, good in zip(ops, ok, strict=True):
            by_op.setdefault(o[0], []).append(good)
        out["answer_accuracy_by_operator"] = {o: float(np.mean(v)) for o, v in by_op.items()}
    return out


def diversity(x: SequenceInputs) -> dict[str, Any]:
    """``uniqueness``, ``novelty`` and ``self_bleu4``."""
    return {
        "uniqueness": text.uniqueness(x.samples),
        "novelty": text.novelty(x.samples, x.train_lines),
        "self_bleu4": text.self_bleu(x.samples, 4, SELF_BLEU_SAMPLES, x.tokenize)
        if len(x.samples) > 1
        else 1.0,
    }


def ngram_statistics(x: SequenceInputs) -> dict[str, Any]:
    """``jsd_1``..``jsd_4`` and ``bleu4`` against the held-out reference."""
    out = {f"jsd_{k}": text.ngram_jsd(x.samples, x.reference, k, x.tokenize) for k in JSD_ORDERS}
    out["bleu4"] = text.bleu(x.samples, x.reference, 4, x.tokenize)
    return out


def shape_statistics(x: SequenceInputs) -> dict[str, Any]:
    """``length_w1`` (tokens) and ``mean_position_entropy`` (bits; the per-position
    profile as ``position_entropy``)."""
    max_len = x.max_len or max(len(text._tokens(s, x.tokenize)) for s in x.samples)
    h = text.position_entropy(x.samples, max(max_len, 1), x.tokenize)
    return {
        "length_w1": text.length_distance(x.samples, x.reference, x.tokenize),
        "mean_position_entropy": float(h.mean()),
        "position_entropy": [round(float(v), 6) for v in h],
    }


register_metric("validity", True, grammar_metrics, kind="sequence", summary=True)
register_metric("correctness", True, grammar_metrics, kind="sequence", summary=True)
register_metric("answer_accuracy", True, answer_metrics, kind="sequence", summary=True)
register_metric("uniqueness", True, diversity, kind="sequence", summary=True)
register_metric("novelty", True, diversity, kind="sequence", summary=True)
register_metric("self_bleu4", False, diversity, kind="sequence")
for _k in JSD_ORDERS:
    register_metric(f"jsd_{_k}", False, ngram_statistics, kind="sequence", summary=_k == 4)
register_metric("bleu4", True, ngram_statistics, kind="sequence", summary=True)
register_metric("length_w1", False, shape_statistics, kind="sequence")
# diversity per position: read it against real_vs_real (uniform noise maximises it)
register_metric("mean_position_entropy", True, shape_statistics, kind="sequence")


def _tokenization(tokenize: text.Tokenizer) -> str:
    if tokenize is None:
        return "characters"
    name = getattr(tokenize, "__name__", repr(tokenize))
    return "whitespace-separated words" if name == "split" else name


def _draw(lines: Sequence[str], n: int, rng: random.Random) -> list[str]:
    """``n`` of ``lines`` without replacement (all of them, shuffled, when ``n`` is larger)."""
    lines = list(lines)
    return rng.sample(lines, min(n, len(lines)))


def heldout_prompts(heldout: Sequence[str], grammar: Any, n: int, seed: int) -> list[str]:
    """Up to ``n`` distinct prompts ``grammar.prompt_of(line)`` of held-out lines, in a
    seeded random order (first occurrence order before shuffling, so it is reproducible)."""
    prompts = list(dict.fromkeys(grammar.prompt_of(line) for line in heldout))
    return _draw(prompts, n, random.Random(seed + 7))


def _protocol(samples, reference, second, train, prompts, tokenize, seed) -> dict[str, Any]:
    """How :func:`evaluate_texts` measured: sample counts, references and definitions."""
    return {
        "n_fake": len(samples),
        "n_reference": len(reference),
        "n_real_vs_real": len(second),
        "reference": "held-out lines",
        "novelty_against": f"{len(set(train))} distinct training lines",
        "n_prompts": len(prompts) if prompts is not None else 0,
        "prompts": "distinct held-out prompts (prefix up to '='), seeded order",
        "answer_rule": "completion starts with its prompt and is a correct equation",
        "tokenization": _tokenization(tokenize),
        "bleu": SMOOTHING + "; every held-out line is a reference for every sample",
        "self_bleu": f"the same BLEU-4, each of the first {SELF_BLEU_SAMPLES} samples "
        "against the others, pooled",
        "jsd": "Jensen-Shannon divergence, base 2, of n-gram frequencies within lines",
        "position_entropy": "bits per position, the end of a line counting as a token",
        "seed": int(seed),
    }


def evaluate_texts(
    samples: Sequence[str],
    train_lines: Sequence[str],
    heldout_lines: Sequence[str],
    *,
    grammar: Any = None,
    complete: Complete | None = None,
    prompted: bool = False,
    max_len: int = 0,
    n_prompts: int = MAX_PROMPTS,
    seed: int = 0,
    tokenize: text.Tokenizer = None,
) -> dict[str, Any]:
    """Every ``sequence`` metric of ``samples`` (generated lines) against ``heldout_lines``
    (reference, all of them, or ``len(samples)`` drawn with ``seed`` when more), with the
    real-vs-real floor of ``len(samples)`` training lines under ``real_vs_real``.

    ``grammar``: an object with ``is_valid``, ``is_correct``, ``prompt_of`` (or a grammar
    name for :func:`~ganforge.data.grammars.get_grammar`); with ``prompted``, up to
    ``n_prompts`` held-out prompts are completed by ``complete(prompts) -> full lines``
    for ``answer_accuracy`` (listed in ``protocol.skipped`` without ``complete``).
    ``max_len``: positions of the entropy profile (default: the longest sample)."""
    samples, train, heldout = list(samples), list(train_lines), list(heldout_lines)
    if not samples:
        raise DataError("no generated lines to evaluate")
    if not train or not heldout:
        raise DataError("text evaluation needs training lines and held-out lines")
    if isinstance(grammar, str):
        from ganforge.data.grammars import get_grammar

        grammar = get_grammar(grammar)
    rng = random.Random(seed)
    reference = _draw(heldout, len(samples), rng)
    second = _draw(train, len(samples), random.Random(seed + 1_000_003))
    prompts = completions = None
    if grammar is not None and prompted:
        prompts = heldout_prompts(heldout, grammar, n_prompts, seed)
        completions = None if complete is None else list(complete(prompts))
    args = (reference, train, grammar, max_len)
    fake = SequenceInputs(samples, *args, prompts, completions, tokenize)
    results = compute_metrics("sequence", fake)
    floor = compute_metrics("sequence", SequenceInputs(second, *args, None, None, tokenize))
    out: dict[str, Any] = dict(results.values)
    out["protocol"] = _protocol(samples, reference, second, train, prompts, tokenize, seed)
    out["protocol"] |= {
        "skipped": results.skipped,
        "seconds": {k: round(v, 4) for k, v in results.seconds.items()},
        **results.protocol,
    }
    return add_floor(out, floor.values)


def evaluate_sequence_samples(
    dataset: Any,
    fake: Sequence[str],
    n: int,
    seed: int = 0,
    complete: Complete | None = None,
) -> dict[str, Any]:
    """Evaluator for data kind ``sequence`` (``fake``: decoded lines, ``dataset.decode``).

    Reads ``dataset.train_lines``, ``dataset.heldout_lines``, ``dataset.grammar`` (a name
    or ``None``), ``dataset.prompted``, ``dataset.max_len`` and the vocabulary's tokenizer
    (``"word"``: whitespace-separated tokens; else characters); up to ``min(n, 1000)``
    held-out prompts are
    completed by ``complete(prompts) -> whole lines`` (the trainer passes the sampling
    generator's greedy completion, ``ganforge.training.sampling.complete``)."""
    vocab = getattr(dataset, "vocab", None)
    words = getattr(vocab, "tokenizer", "char") == "word"
    out = evaluate_texts(
        list(fake),
        dataset.train_lines,
        dataset.heldout_lines,
        grammar=getattr(dataset, "grammar", None),
        complete=complete,
        prompted=bool(getattr(dataset, "prompted", False)),
        max_len=int(getattr(dataset, "max_len", 0) or 0),
        n_prompts=min(int(n), MAX_PROMPTS) if n else MAX_PROMPTS,
        seed=seed,
        tokenize=vocab.split if words else None,
    )
    out["protocol"]["n_real"] = int(n)
    return out


register_evaluator("sequence", evaluate_sequence_samples)
