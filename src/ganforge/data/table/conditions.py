"""Which condition column anchors every row of a table model: its choice and its
pair probabilities.

The table model is trained on (row, condition) pairs: a condition column chosen uniformly,
one of its values, and real rows holding that value (training-by-sampling, CTGAN). For
the conditioned column the discriminator sees every value, rare ones included, beside the
rows that hold it, so the generator learns how the rest of a row depends on that column's
value. Columns it is not conditioned on come out of independent Gumbel-softmax draws, and
a rare value drawn that way keeps what the latent vector chose for the other columns.
Measured on the procedural benchmark table (docs/BENCHMARKS.md, "Tables"): vip rows drawn
through the ``segment`` condition spend 300 on average (the data: 300); drawn through any
other column, 85-126.

So every row is also conditioned on an *anchor*: the condition column that tells most
about the rest of a row. Its score (:func:`condition_scores`) is the sum over the other
modelled columns ``i`` of the uncertainty coefficient ``U(i | c) = I(c; i) / H(i)``: the
share of column ``i``'s entropy that the condition's value explains. Numbers are cut at
their deciles and a missing cell is one more value; ``I`` is the plug-in mutual
information less its Miller-Madow bias ``(k_c - 1)(k_i - 1) / 2N``, so a column with many
values gains nothing from chance. A column with missing cells conditions on its missing
flag, which is scored against the other columns only (not against its own values). When
no column explains anything there is no anchor (CTGAN's single condition).

A row conditioned on column ``c = v`` (``c`` not the anchor) gets the anchor's value too,
drawn from the training rows' ``p(anchor | c = v)`` (:func:`anchor_probabilities`): real
rows hold both values (their own anchor value), generated rows are given both, and the
columns are still chosen CTGAN's way, uniformly. Conditioning every sample through the
anchor alone was tried first: on penguins the Adelie rows then crowded onto one island
(the data puts a third on each), because only one column was held; with pairs, the
other condition keeps its own frequencies and the anchor keeps the row consistent
(docs/BENCHMARKS.md, "Anchored conditions").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ganforge.data.table.codec import TableCodec

#: numbers are cut into this many equally filled bins for the scores
BINS = 10


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


def anchor_column(scores: list[float]) -> int | None:
    """Index of the highest score (the first of equals); ``None`` when no score is above 0."""
    if not scores:
        return None
    best = int(np.argmax(scores))
    return best if scores[best] > 0 else None


def anchor_probabilities(
    positions: list[np.ndarray], sizes: list[int], anchor: int
) -> list[list[list[float]]]:
    """Per condition column ``k``: the matrix ``(sizes[k], sizes[anchor])`` of
    ``p(anchor position | column k at position v)`` on the training rows, from each
    column's one-hot positions ``(N,)``. A value no training row holds gets the anchor's
    marginal; the anchor's own matrix is the identity (a row conditioned on the anchor
    keeps its value)."""
    a = positions[anchor]
    marginal = np.bincount(a, minlength=sizes[anchor]) / len(a)
    out = []
    for k, (pos, size) in enumerate(zip(positions, sizes, strict=True)):
        if k == anchor:
            out.append(np.eye(size).tolist())
            continue
        joint = np.zeros((size, sizes[anchor]))
        np.add.at(joint, (pos, a), 1.0)
        rows = joint.sum(1, keepdims=True)
        probs = np.where(rows > 0, joint / np.maximum(rows, 1), marginal)
        out.append(probs.tolist())
    return out
