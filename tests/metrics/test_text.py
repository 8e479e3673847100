"""Text metrics against values computed by hand."""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest

from ganforge.errors import DataError
from ganforge.metrics.text import (
    bleu,
    length_distance,
    ngram_jsd,
    novelty,
    position_entropy,
    self_bleu,
    uniqueness,
)


def test_uniqueness_and_novelty_on_small_lists() -> None:
    samples = ["a", "a", "b", "c"]
    assert uniqueness(samples) == 3 / 4
    assert novelty(samples, ["a", "b"]) == 1 / 4  # only "c" is new; "a" counts twice
    assert uniqueness(["x", "y"]) == 1.0
    assert novelty(["x", "y"], []) == 1.0
    with pytest.raises(DataError):
        uniqueness([])


def test_ngram_jsd_of_tiny_distributions() -> None:
    # unigrams P = {a: 1/2, b: 1/2}, Q = {a: 1/2, c: 1/2}, M = {a: 1/2, b: 1/4, c: 1/4}:
    # KL(P||M) = 1/2 log2(1) + 1/2 log2(2) = 1/2, the same for Q, so JSD = 1/2
    assert ngram_jsd(["ab"], ["ac"], 1) == pytest.approx(0.5)
    # bigrams {ab} vs {ac}: disjoint supports, JSD = 1 (its maximum in base 2)
    assert ngram_jsd(["ab"], ["ac"], 2) == pytest.approx(1.0)
    assert ngram_jsd(["abc", "ab"], ["ab", "abc"], 2) == pytest.approx(0.0)
    # P = {a: 3/4, b: 1/4}, Q = {a: 1/4, b: 3/4}: M uniform, JSD = 1 - H(3/4, 1/4)
    h = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert ngram_jsd(["aaab"], ["abbb"], 1) == pytest.approx(1 - h)
    assert ngram_jsd(["a"], ["b"], 3) == 0.0  # no trigram on either side
    assert ngram_jsd(["abc"], ["b"], 3) == 1.0  # trigrams on one side only


def test_bleu_on_a_two_sentence_corpus() -> None:
    refs = ["abcd", "abce"]
    # "abcd": 4/4 unigrams, 3/3 bigrams match; "abxd": a, b, d of 4 unigrams, only "ab" of
    # 3 bigrams. Pooled: p1 = 7/8, p2 = (4 + 1) / (6 + 1) (add-one for n > 1); lengths
    # 8 = 8 so no brevity penalty: BLEU-2 = sqrt(7/8 * 5/7) = sqrt(5/8)
    assert bleu(["abcd", "abxd"], refs, n=2) == pytest.approx(math.sqrt(5 / 8))
    # BLEU-4 of the same: p3 = (2 + 1)/(4 + 1) ("abc", "bcd" match; "bxd" no; "abx" no),
    # p4 = (1 + 1)/(2 + 1) ("abcd" matches, "abxd" not)
    want = (7 / 8 * 5 / 7 * 3 / 5 * 2 / 3) ** (1 / 4)
    assert bleu(["abcd", "abxd"], refs, n=4) == pytest.approx(want)
    assert bleu(["abcd"], ["abcd"], n=4) == pytest.approx(1.0)


def test_bleu_clips_counts_and_penalises_brevity() -> None:
    # "aaaa" against "abca": the unigram "a" is clipped at 2 -> p1 = 2/4; no bigram "aa"
    # in the reference -> p2 = (0 + 1)/(3 + 1)
    assert bleu(["aaaa"], ["abca"], n=2) == pytest.approx(math.sqrt(1 / 2 * 1 / 4))
    # "ab" against "abcd": precisions 1, brevity penalty exp(1 - 4/2)
    assert bleu(["ab"], ["abcd"], n=2) == pytest.approx(math.exp(-1))
    # the closest reference length is used: "ab" against {"abcd", "xy"} has r = 2
    assert bleu(["ab"], ["abcd", "xy"], n=2) == pytest.approx(1.0)
    assert bleu(["zz"], ["abcd"], n=2) == 0.0  # no unigram match
    # whitespace tokens: precisions 1, brevity penalty exp(1 - 3/2)
    assert bleu(["the cat"], ["the cat sat"], n=2, tokenize=str.split) == pytest.approx(
        math.exp(-0.5)
    )


def test_self_bleu_by_hand() -> None:
    assert self_bleu(["abcde"] * 3) == pytest.approx(1.0)
    assert self_bleu(["ab", "cd"], n=2) == 0.0
    # "abc" vs {"abd", "xyz"}: unigrams 2/3, bigrams 1/2; "abd" likewise; "xyz" 0/3, 0/2.
    # Pooled p1 = 4/9, p2 = (2 + 1)/(6 + 1); equal lengths
    assert self_bleu(["abc", "abd", "xyz"], n=2) == pytest.approx(math.sqrt(4 / 9 * 3 / 7))
    assert self_bleu(["abc", "abd", "xyz", "qqq"], n=2, max_samples=3) == pytest.approx(
        math.sqrt(4 / 9 * 3 / 7)
    )


def _self_bleu_brute_force(lines: list[str], n: int) -> float:
    """Leave-one-out pooled BLEU written the slow, obvious way."""
    matches, totals, c_len, r_len = [0] * n, [0] * n, 0, 0
    for j, hyp in enumerate(lines):
        others = lines[:j] + lines[j + 1 :]
        c_len += len(hyp)
        r_len += min((len(o) for o in others), key=lambda r: (abs(r - len(hyp)), r))
        for k in range(1, n + 1):
            grams = Counter(hyp[i : i + k] for i in range(len(hyp) - k + 1))
            totals[k - 1] += sum(grams.values())
            for g, c in grams.items():
                best = max(Counter(o[i : i + k] for i in range(len(o) - k + 1))[g] for o in others)
                matches[k - 1] += min(c, best)
    if matches[0] == 0:
        return 0.0
    logs = [math.log(matches[0] / totals[0])]
    logs += [math.log((m + 1) / (t + 1)) for m, t in zip(matches[1:], totals[1:], strict=True)]
    bp = 1.0 if c_len > r_len else math.exp(1 - r_len / c_len)
    return bp * math.exp(sum(logs) / n)


def test_self_bleu_matches_a_brute_force_leave_one_out() -> None:
    rng = random.Random(3)
    lines = ["".join(rng.choice("abc") for _ in range(rng.randint(1, 7))) for _ in range(40)]
    assert self_bleu(lines, n=4) == pytest.approx(_self_bleu_brute_force(lines, 4))


def test_length_distance_is_w1_of_lengths() -> None:
    assert length_distance(["a", "abc"], ["ab", "abcd"]) == pytest.approx(1.0)
    assert length_distance(["ab", "cd"], ["xy"]) == 0.0
    # lengths {1, 1, 1, 5} vs {1, 1, 1, 1}: one quarter of the mass moves 4 tokens
    assert length_distance(["a", "b", "c", "abcde"], ["a"] * 4) == pytest.approx(1.0)


def test_position_entropy_on_a_hand_made_set() -> None:
    # position 0: all "a" -> 0 bits; position 1: "b", "c", end -> log2(3); position 2: all
    # lines have ended -> 0
    h = position_entropy(["ab", "ac", "a"], max_len=3)
    np.testing.assert_allclose(h, [0.0, math.log2(3), 0.0])
    np.testing.assert_allclose(position_entropy(["ab", "cd"], max_len=2), [1.0, 1.0])
    # {a, a, b, c} at position 0: H = 1.5 bits
    np.testing.assert_allclose(position_entropy(["a", "a", "b", "c"], max_len=1), [1.5])
