"""Fidelity, utility and privacy figures for tables: pure functions of native rows.

Rows are native values ``(N, C)`` float64 (see :mod:`ganforge.data.table.transforms`):
numbers in their units, categories as value codes, NaN for a missing cell. ``numeric``
``(C,)`` bool says which columns are numbers (continuous, integer, datetime).

Definitions (docs/METRICS.md has them with examples):

- column shape: 1 - KS statistic (numbers; present values only) or 1 - total variation
  distance between the value frequencies (categories; missing counts as a value);
- column pair: 1 - |r_real - r_synth| / 2 for two numbers (Pearson r on rows where both
  are present), else 1 - total variation between the two columns' joint frequencies, a
  number binned at the real column's deciles (missing a bin of its own);
- fidelity = 100 x (mean column shape + mean column pair) / 2 (both in [0, 1]; one column
  alone: the column shapes);
- privacy, with the Gower distance (mean over columns of |a - b| / range for numbers,
  capped at 1, and of [a != b] for categories; missing vs present = 1, both missing = 0):
  the share of synthetic rows closer to the training rows than to the held-out rows (ties
  half; same number of each; ideal about 50%), the exact-copy rate (rows equal to a
  training row in every column), the nearest-neighbour distance ratio (mean of the
  distances to the nearest and second-nearest training row, d1 / d2; 1 when d2 = 0).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

#: the number of bins a numeric column is cut into for contingency tables
PAIR_BINS = 10
#: rows per block when computing distances (memory: block x reference rows x columns)
DISTANCE_BLOCK = 256


def _codes(x: np.ndarray) -> np.ndarray:
    """Category codes with missing as -1 (int64)."""
    return np.where(np.isnan(x), -1, np.nan_to_num(x, nan=-1)).astype(np.int64)


def _tv(a: np.ndarray, b: np.ndarray) -> float:
    """Total variation distance between the frequencies of int codes ``a`` and ``b``."""
    values, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    pa = np.bincount(inverse[: len(a)], minlength=len(values)) / max(len(a), 1)
    pb = np.bincount(inverse[len(a) :], minlength=len(values)) / max(len(b), 1)
    return 0.5 * float(np.abs(pa - pb).sum())


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample KS statistic of the present (non-NaN) values; 1 when one side has none."""
    a, b = np.sort(a[~np.isnan(a)]), np.sort(b[~np.isnan(b)])
    if len(a) == 0 or len(b) == 0:
        return 0.0 if len(a) == len(b) else 1.0
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.abs(fa - fb).max())


def column_shapes(real: np.ndarray, synth: np.ndarray, numeric: np.ndarray) -> list[float]:
    """Per column: 1 - KS (numbers) or 1 - TV of the value frequencies (categories)."""
    out = []
    for j in range(real.shape[1]):
        if numeric[j]:
            out.append(1.0 - ks_statistic(real[:, j], synth[:, j]))
        else:
            out.append(1.0 - _tv(_codes(real[:, j]), _codes(synth[:, j])))
    return out


def _bins(real_col: np.ndarray, col: np.ndarray) -> np.ndarray:
    """``col`` cut at the real column's deciles (codes 0..9), missing -1."""
    present = real_col[~np.isnan(real_col)]
    if len(present) == 0:
        return np.full(len(col), -1)
    edges = np.unique(np.quantile(present, np.linspace(0, 1, PAIR_BINS + 1)[1:-1]))
    return np.where(np.isnan(col), -1, np.searchsorted(edges, np.nan_to_num(col), side="right"))


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    ok = ~(np.isnan(x) | np.isnan(y))
    if ok.sum() < 3 or x[ok].std() == 0 or y[ok].std() == 0:
        return None
    return float(np.corrcoef(x[ok], y[ok])[0, 1])


def column_pairs(
    real: np.ndarray, synth: np.ndarray, numeric: np.ndarray
) -> dict[tuple[int, int], float]:
    """Per pair of columns ``(i, j)``: correlation similarity (two numbers whose
    correlation is defined on both sides) or contingency similarity (see module)."""
    out: dict[tuple[int, int], float] = {}
    for i, j in itertools.combinations(range(real.shape[1]), 2):
        if numeric[i] and numeric[j]:
            r_real, r_synth = _pearson(real[:, i], real[:, j]), _pearson(synth[:, i], synth[:, j])
            if r_real is not None and r_synth is not None:
                out[(i, j)] = 1.0 - abs(r_real - r_synth) / 2
                continue
        a = [_bins(real[:, k], real[:, k]) if numeric[k] else _codes(real[:, k]) for k in (i, j)]
        b = [_bins(real[:, k], synth[:, k]) if numeric[k] else _codes(synth[:, k]) for k in (i, j)]
        # a pair of codes as one code: the first times a bound above any second code
        base = max(int(a[1].max()), int(b[1].max())) + 2
        out[(i, j)] = 1.0 - _tv((a[0] + 1) * base + a[1] + 1, (b[0] + 1) * base + b[1] + 1)
    return out


def fidelity(real: np.ndarray, synth: np.ndarray, numeric: np.ndarray) -> dict[str, Any]:
    """``fidelity`` (0-100), ``column_shapes`` and ``column_pairs`` (means, 0-1), and the
    per-column shapes."""
    shapes = column_shapes(real, synth, numeric)
    pairs = column_pairs(real, synth, numeric)
    shape_mean = float(np.mean(shapes))
    pair_mean = float(np.mean(list(pairs.values()))) if pairs else None
    score = shape_mean if pair_mean is None else (shape_mean + pair_mean) / 2
    return {
        "fidelity": 100.0 * score,
        "column_shapes": shape_mean,
        "column_pairs": pair_mean,
        "per_column_shape": shapes,
    }


def missing_rates(x: np.ndarray) -> list[float]:
    return np.isnan(x).mean(axis=0).tolist()


def out_of_range_rate(real: np.ndarray, synth: np.ndarray, numeric: np.ndarray) -> float:
    """Share of synthetic present cells outside what the real column holds: below its
    minimum or above its maximum (numbers), a value it never takes (categories)."""
    bad = total = 0
    for j in range(real.shape[1]):
        s = synth[:, j][~np.isnan(synth[:, j])]
        r = real[:, j][~np.isnan(real[:, j])]
        total += len(s)
        if len(r) == 0:
            bad += len(s)
        elif numeric[j]:
            bad += int(((s < r.min()) | (s > r.max())).sum())
        else:
            bad += int((~np.isin(s, np.unique(r))).sum())
    return bad / total if total else 0.0


# -- privacy -------------------------------------------------------------------------------


def gower_distances(
    x: np.ndarray, ref: np.ndarray, numeric: np.ndarray, ranges: np.ndarray, k: int = 1
) -> np.ndarray:
    """``(len(x), k)``: the Gower distances (see module) from each row of ``x`` to its
    ``k`` nearest rows of ``ref``, ascending. ``ranges`` ``(C,)``: the numbers' scales."""
    scale = np.where(ranges > 0, ranges, 1.0)
    out = np.empty((len(x), k))
    miss_ref = np.isnan(ref)
    for start in range(0, len(x), DISTANCE_BLOCK):
        a = x[start : start + DISTANCE_BLOCK]
        d = np.zeros((len(a), len(ref)))
        for j in range(x.shape[1]):
            ma, mr = np.isnan(a[:, j])[:, None], miss_ref[:, j][None]
            if numeric[j]:
                diff = np.abs(np.nan_to_num(a[:, j])[:, None] - np.nan_to_num(ref[:, j])[None])
                diff = np.minimum(diff / scale[j], 1.0)
            else:
                diff = (np.nan_to_num(a[:, j])[:, None] != np.nan_to_num(ref[:, j])[None]) * 1.0
            d += np.where(ma & mr, 0.0, np.where(ma | mr, 1.0, diff))
        d /= x.shape[1]
        part = np.partition(d, min(k, d.shape[1]) - 1, axis=1)[:, :k] if k < d.shape[1] else d
        out[start : start + len(a)] = np.sort(part, axis=1)[:, :k]
    return out


def _row_keys(x: np.ndarray) -> set[bytes]:
    return {r.tobytes() for r in np.nan_to_num(x, nan=np.inf)}


def exact_copy_rate(x: np.ndarray, train: np.ndarray) -> float:
    """Share of rows of ``x`` equal to some training row in every column."""
    keys = _row_keys(train)
    return float(np.mean([r.tobytes() in keys for r in np.nan_to_num(x, nan=np.inf)]))


#: disjoint sets of training rows the closer-to-training share is averaged over
DCR_CHUNKS = 8


def privacy(
    x: np.ndarray,
    train: np.ndarray,
    holdout: np.ndarray | None,
    numeric: np.ndarray,
    ranges: np.ndarray,
) -> dict[str, Any]:
    """``exact_copies`` (vs every training row), ``nn_distance_ratio`` and, with
    ``holdout``, ``dcr_closer_to_train`` (%: the share of ``x`` closer to ``m`` training
    rows than to the ``m = len(holdout)`` held-out rows, ties counting half, averaged over
    up to :data:`DCR_CHUNKS` disjoint sets of ``m`` training rows in a seeded order, so
    more of the training rows take part than one draw of ``m``) and the median distances
    to each (the first set's)."""
    out: dict[str, Any] = {"exact_copies": exact_copy_rate(x, train)}
    d = gower_distances(x, train, numeric, ranges, k=2)
    ratio = np.where(d[:, 1] > 0, d[:, 0] / np.where(d[:, 1] > 0, d[:, 1], 1), 1.0)
    out["nn_distance_ratio"] = float(ratio.mean())
    if holdout is not None and len(holdout):
        m = min(len(holdout), len(train))
        order = np.random.default_rng(0).permutation(len(train))
        d_hold = gower_distances(x, holdout[:m], numeric, ranges)[:, 0]
        shares, first = [], None
        for c in range(min(len(train) // m, DCR_CHUNKS)):
            d_train = gower_distances(x, train[order[c * m : (c + 1) * m]], numeric, ranges)
            d_train = d_train[:, 0]
            first = d_train if first is None else first
            shares.append((d_train < d_hold).mean() + 0.5 * (d_train == d_hold).mean())
        out["dcr_closer_to_train"] = 100.0 * float(np.mean(shares))
        out["dcr_train_median"] = float(np.median(first))
        out["dcr_holdout_median"] = float(np.median(d_hold))
    return out


# -- machine-learning efficacy ------------------------------------------------------------


def ml_efficacy(
    train: np.ndarray, test: np.ndarray, target: int, numeric: np.ndarray, seed: int = 0
) -> tuple[float, str]:
    """Score on ``test`` of a gradient-boosted model of column ``target`` fitted on
    ``train`` (other columns as features, categories as codes, missing as NaN): macro F1
    for a category, R² for a number. Rows whose target is missing are dropped."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import f1_score, r2_score

    features = [j for j in range(train.shape[1]) if j != target]
    tr = train[~np.isnan(train[:, target])]
    te = test[~np.isnan(test[:, target])]
    if len(tr) < 2 or len(te) < 2:
        return float("nan"), "f1_macro" if not numeric[target] else "r2"
    if numeric[target]:
        model = HistGradientBoostingRegressor(max_iter=100, random_state=seed)
        model.fit(tr[:, features], tr[:, target])
        return float(r2_score(te[:, target], model.predict(te[:, features]))), "r2"
    y_tr = tr[:, target].astype(int)
    if len(np.unique(y_tr)) < 2:  # one class only: the model predicts it everywhere
        pred = np.full(len(te), y_tr[0])
    else:
        model = HistGradientBoostingClassifier(max_iter=100, random_state=seed)
        pred = model.fit(tr[:, features], y_tr).predict(te[:, features])
    score = f1_score(te[:, target].astype(int), pred, average="macro", zero_division=0)
    return float(score), "f1_macro"
