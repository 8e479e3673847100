"""Metrics of generated text: pure functions on lists of strings.

A line is a sequence of tokens: its characters, unless a ``tokenize`` function
(``str -> sequence of str``, e.g. ``str.split`` for whitespace tokens) is given. Lines are
compared as whole strings for :func:`uniqueness` and :func:`novelty`.

- :func:`uniqueness`, :func:`novelty`: fractions of lines, in [0, 1].
- :func:`ngram_jsd`: Jensen--Shannon divergence (base 2, in [0, 1]) between the n-gram
  frequency distributions of two sets of lines.
- :func:`bleu`: corpus BLEU of the samples against a reference *set* (every reference line
  is a reference for every sample, as in text-GAN papers since SeqGAN), with add-one
  smoothing of the n-gram precisions for n > 1 (Lin & Och 2004; method 2 of Chen &
  Cherry 2014). :func:`self_bleu`: the same, each sample against the other samples.
- :func:`length_distance`: Wasserstein-1 distance between the two length distributions,
  in tokens.
- :func:`position_entropy`: per-position token entropy in bits, the end of a line counting
  as a token.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from ganforge.errors import DataError

#: ``str -> tokens``; ``None`` means characters.
Tokenizer = Callable[[str], Sequence[str]] | None
#: the token that stands for "the line has ended" in :func:`position_entropy`
END = "\x00<end>"


def _tokens(line: str, tokenize: Tokenizer) -> tuple[str, ...]:
    return tuple(line) if tokenize is None else tuple(tokenize(line))


def _nonempty(lines: Sequence[str], name: str) -> list[str]:
    lines = list(lines)
    if not lines:
        raise DataError(f"{name} is empty: text metrics need at least one line")
    return lines


def uniqueness(samples: Sequence[str]) -> float:
    """Distinct lines / lines, in (0, 1]: 1 when no line repeats."""
    samples = _nonempty(samples, "samples")
    return len(set(samples)) / len(samples)


def novelty(samples: Sequence[str], train_lines: Sequence[str]) -> float:
    """Fraction of samples (counted with repeats) that are not a training line, in [0, 1]."""
    samples = _nonempty(samples, "samples")
    train = set(train_lines)
    return sum(s not in train for s in samples) / len(samples)


def ngram_counts(lines: Sequence[str], n: int, tokenize: Tokenizer = None) -> Counter:
    """Counts of the n-grams (tuples of ``n`` tokens) inside each line, summed over lines;
    a line shorter than ``n`` tokens contributes none. No padding at the line ends."""
    counts: Counter = Counter()
    for line in lines:
        toks = _tokens(line, tokenize)
        counts.update(toks[i : i + n] for i in range(len(toks) - n + 1))
    return counts


def ngram_jsd(
    samples: Sequence[str], reference: Sequence[str], n: int, tokenize: Tokenizer = None
) -> float:
    """Jensen--Shannon divergence, base 2, in [0, 1], between the n-gram frequency
    distributions (:func:`ngram_counts` normalised to sum 1) of ``samples`` and
    ``reference``: ``JSD(P, Q) = KL(P || M)/2 + KL(Q || M)/2`` with ``M = (P + Q)/2``.
    0 when neither side has an n-gram, 1 when exactly one side has none."""
    p, q = ngram_counts(samples, n, tokenize), ngram_counts(reference, n, tokenize)
    if not p or not q:
        return 0.0 if not p and not q else 1.0
    tp, tq = sum(p.values()), sum(q.values())
    total = 0.0
    for gram in p.keys() | q.keys():
        a, b = p.get(gram, 0) / tp, q.get(gram, 0) / tq
        m = (a + b) / 2
        if a > 0:
            total += a * math.log2(a / m)
        if b > 0:
            total += b * math.log2(b / m)
    return float(min(max(total / 2, 0.0), 1.0))


def _closest_length(length: int, lengths: Sequence[int]) -> int:
    """The reference length closest to ``length`` (the shorter one on a tie), as in BLEU."""
    return min(lengths, key=lambda r: (abs(r - length), r))


def _combine(matches: list[int], totals: list[int], hyp_len: int, ref_len: int) -> float:
    """BLEU from clipped matches and n-gram totals per order 1..N (uniform weights),
    precisions for n > 1 smoothed by add-one (``(m + 1) / (t + 1)``), times the brevity
    penalty ``exp(1 - r/c)`` when the hypotheses are shorter than the references."""
    if hyp_len == 0 or matches[0] == 0:
        return 0.0
    logs = [math.log(matches[0] / totals[0])]
    logs += [math.log((m + 1) / (t + 1)) for m, t in zip(matches[1:], totals[1:], strict=True)]
    bp = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    return float(bp * math.exp(sum(logs) / len(logs)))


def bleu(
    samples: Sequence[str], references: Sequence[str], n: int = 4, tokenize: Tokenizer = None
) -> float:
    """Corpus BLEU-``n`` of ``samples`` against the reference set, in [0, 1].

    Every sample (hypothesis) has all of ``references`` as its references. For each order
    k = 1..n, the k-gram precision pools over samples: a sample's count of a k-gram is
    clipped at the largest count of that k-gram in any one reference line; matches and
    totals are summed over samples. Smoothing: precisions for k > 1 are ``(matches + 1) /
    (total + 1)`` (add-one, Lin & Och 2004; Chen & Cherry 2014 method 2), the unigram
    precision is unsmoothed (no unigram match gives 0). The geometric mean of the
    precisions (weights 1/n) is multiplied by the brevity penalty ``exp(1 - r/c)`` when
    ``c < r``, with ``c`` the total sample length and ``r`` the sum over samples of the
    reference length closest to each sample's (the shorter on a tie)."""
    samples = _nonempty(samples, "samples")
    refs = [_tokens(r, tokenize) for r in _nonempty(references, "references")]
    max_ref: list[dict[tuple, int]] = []
    for k in range(1, n + 1):
        best: dict[tuple, int] = {}
        for toks in refs:
            for gram, c in Counter(toks[i : i + k] for i in range(len(toks) - k + 1)).items():
                if c > best.get(gram, 0):
                    best[gram] = c
        max_ref.append(best)
    lengths = sorted({len(t) for t in refs})
    matches, totals = [0] * n, [0] * n
    hyp_len = ref_len = 0
    for line in samples:
        toks = _tokens(line, tokenize)
        hyp_len += len(toks)
        ref_len += _closest_length(len(toks), lengths)
        for k in range(1, n + 1):
            grams = Counter(toks[i : i + k] for i in range(len(toks) - k + 1))
            totals[k - 1] += sum(grams.values())
            matches[k - 1] += sum(min(c, max_ref[k - 1].get(g, 0)) for g, c in grams.items())
    return _combine(matches, totals, hyp_len, ref_len)


def self_bleu(
    samples: Sequence[str], n: int = 4, max_samples: int = 1000, tokenize: Tokenizer = None
) -> float:
    """BLEU-``n`` (as :func:`bleu`, same pooling and smoothing) of each of the first
    ``max_samples`` samples against all the *other* ones, pooled over samples; in [0, 1],
    higher = less diverse. Identical samples score 1. (Texygen averages sentence-level
    BLEUs instead; pooling keeps it the same statistic as :func:`bleu` and O(N).)"""
    lines = [_tokens(s, tokenize) for s in _nonempty(samples, "samples")[:max_samples]]
    if len(lines) < 2:
        raise DataError("self-BLEU needs at least two samples")
    per_line = [
        [Counter(t[i : i + k] for i in range(len(t) - k + 1)) for k in range(1, n + 1)]
        for t in lines
    ]
    # per k-gram the two largest counts over lines and the line holding the largest, so
    # that "the largest count in any *other* line" is O(1) per k-gram
    top: list[dict[tuple, tuple[int, int, int]]] = [{} for _ in range(n)]
    for j, grams in enumerate(per_line):
        for k, counts in enumerate(grams):
            for g, c in counts.items():
                c1, owner, c2 = top[k].get(g, (0, -1, 0))
                top[k][g] = (c, j, c1) if c > c1 else (c1, owner, max(c2, c))
    length_counts = Counter(len(t) for t in lines)
    matches, totals = [0] * n, [0] * n
    hyp_len = ref_len = 0
    for j, (toks, grams) in enumerate(zip(lines, per_line, strict=True)):
        others = [ln for ln, c in length_counts.items() if c - (ln == len(toks)) > 0]
        hyp_len += len(toks)
        ref_len += _closest_length(len(toks), others)
        for k, counts in enumerate(grams):
            totals[k] += sum(counts.values())
            for g, c in counts.items():
                c1, owner, c2 = top[k][g]
                matches[k] += min(c, c2 if owner == j else c1)
    return _combine(matches, totals, hyp_len, ref_len)


def length_distance(
    samples: Sequence[str], reference: Sequence[str], tokenize: Tokenizer = None
) -> float:
    """Wasserstein-1 distance between the length distributions (in tokens) of ``samples``
    and ``reference``: the mean absolute difference of their quantile functions, >= 0."""
    from scipy.stats import wasserstein_distance

    a = [len(_tokens(s, tokenize)) for s in _nonempty(samples, "samples")]
    b = [len(_tokens(s, tokenize)) for s in _nonempty(reference, "reference")]
    return float(wasserstein_distance(a, b))


def position_entropy(
    samples: Sequence[str], max_len: int, tokenize: Tokenizer = None
) -> np.ndarray:
    """``(max_len,)`` entropy in bits of the token at each position 0..max_len-1 over the
    samples, where a line that has ended shows the end token :data:`END` (so positions
    where some lines have ended and others not count that uncertainty; positions past
    every line's end have entropy 0). Tokens beyond ``max_len`` are ignored."""
    samples = _nonempty(samples, "samples")
    if max_len < 1:
        raise DataError(f"max_len must be >= 1, got {max_len}")
    toks = [_tokens(s, tokenize) for s in samples]
    out = np.zeros(max_len)
    for i in range(max_len):
        counts = Counter(t[i] if i < len(t) else END for t in toks)
        p = np.array(list(counts.values()), dtype=np.float64) / len(toks)
        out[i] = float(-(p * np.log2(p)).sum())
    return out
