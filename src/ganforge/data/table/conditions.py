"""Which condition column a table model's unconditioned samples are drawn through.

The table model is trained on (row, condition) pairs: a condition column chosen uniformly,
one of its values, and real rows holding that value (training-by-sampling, CTGAN). For
the conditioned column the discriminator sees every value, rare ones included, beside the
rows that hold it, so the generator learns how the rest of a row depends on that column's
value. Columns it is not conditioned on come out of independent Gumbel-softmax draws, and
a rare value drawn that way keeps what the latent vector chose for the other columns.
Measured on the procedural benchmark table (docs/BENCHMARKS.md, "Tables"): vip rows drawn
through the ``segment`` condition spend 299 on average (the data: 300); drawn through any
other column, 87-123.

So CTGAN's sampling rule (a condition column uniformly, then a value with the data's
frequencies) is kept for training, and half of the samples are drawn through the
condition column that tells most about the rest of the row, the other half by CTGAN's
rule (:data:`BEST_SHARE`). Its score (:func:`condition_scores`) is the sum over the other
modelled columns ``i`` of the uncertainty coefficient ``U(i | c) = I(c; i) / H(i)``: the
share of column ``i``'s entropy that the condition's value explains. Numbers are cut at
their deciles and a missing cell is one more value; ``I`` is the plug-in mutual
information less its Miller-Madow bias ``(k_c - 1)(k_i - 1) / 2N``, so a column with many
values gains nothing from chance. A column with missing cells conditions on its missing
flag, which is scored against the other columns only (not against its own values). When
no column explains anything, samples keep CTGAN's uniform choice.

Why half and not all: drawn through one column, the columns that depend on it loosely
lose variety. On penguins, drawn all through ``species`` (the highest score), the Adelie
rows went to one island (106-114 of 160 on Torgersen, where the data has a third), and
fidelity fell from 82.6 to 77.1 (seeds 0-2); half through it kept 81.8 and raised ML
efficacy from 0.896 to 0.937; on the procedural table, 0.856 -> 0.910 with fidelity 92.3
-> 92.1 (docs/BENCHMARKS.md, "Tables").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ganforge.data.table.codec import TableCodec

#: numbers are cut into this many equally filled bins for the scores
BINS = 10
#: share of the samples drawn through the highest-scoring column; the rest as CTGAN does
BEST_SHARE = 0.5


def value_codes(values: np.ndarray, categorical: bool, bins: int = BINS) -> np.ndarray:
    """Native values ``(N,)`` (NaN: missing) -> codes ``(N,)`` int in ``[0, k)``:
    categories as they are, numbers by quantile bin, missing as a code of its own."""
    missing = np.isnan(values)
    out = np.full(len(values), -1, dtype=np.int64)
    present = values[~missing]
    if categorical:
        out[~missing] = present.astype(np.int64)
    elif present.size:
        edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1]))
        out[~missing] = np.searchsorted(edges, present, side="right")
    return np.unique(out, return_inverse=True)[1].reshape(-1)


def entropy(codes: np.ndarray) -> float:
    """Plug-in entropy (nats) of codes ``(N,)``."""
    p = np.bincount(codes) / len(codes)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """Plug-in mutual information (nats) of two code arrays ``(N,)`` less the Miller-Madow
    bias ``(k_a - 1)(k_b - 1) / 2N``; at least 0."""
    n, ka, kb = len(a), int(a.max()) + 1, int(b.max()) + 1
    joint = np.zeros((ka, kb))
    np.add.at(joint, (a, b), 1.0)
    p = joint / n
    outer = p.sum(1, keepdims=True) @ p.sum(0, keepdims=True)
    nz = p > 0
    mi = float((p[nz] * np.log(p[nz] / outer[nz])).sum())
    return max(mi - (ka - 1) * (kb - 1) / (2 * n), 0.0)


def condition_scores(codec: TableCodec, native: np.ndarray) -> list[float]:
    """Per condition column of ``codec`` (``codec.cond_columns`` order), the sum of
    ``U(i | c)`` over the other modelled columns ``i``, on native rows ``(N, C)``."""
    from ganforge.data.table.transforms import CategoryTransform

    codes = {
        i: value_codes(native[:, i], isinstance(codec.transforms[i], CategoryTransform))
        for i in codec.modelled
    }
    entropies = {i: entropy(c) for i, c in codes.items()}
    scores = []
    for j in codec.cond_columns:
        cond = np.unique(codec.transforms[j].positions(native[:, j]), return_inverse=True)[1]
        cond = cond.reshape(-1)
        scores.append(
            sum(
                mutual_information(cond, codes[i]) / entropies[i]
                for i in codec.modelled
                if i != j and entropies[i] > 0
            )
        )
    return scores


def sampling_columns(scores: list[float], best_share: float = BEST_SHARE) -> list[float]:
    """Probability of each condition column when sampling: ``best_share`` on the highest
    score (the first of equals) plus an equal share of the rest on every column; uniform
    when every score is 0."""
    if not scores:
        return []
    uniform = 1.0 / len(scores)
    best = int(np.argmax(scores))
    if scores[best] <= 0:
        return [uniform] * len(scores)
    return [
        (1 - best_share) * uniform + (best_share if k == best else 0.0) for k in range(len(scores))
    ]
