"""Evaluation of synthetic tables (data kind ``table``), each figure beside the held-out one.

The training rows are the reference. The same figures are computed for the synthetic rows
and, under ``real_vs_real``, for real rows the generator never saw (the held-out split of
:class:`~ganforge.data.table.TableData`): what a perfect generator, one that returns fresh
rows of the same population, scores. Sizes match: ``m = min(n, held-out rows,``
:data:`MAX_ROWS` ``)`` synthetic and held-out rows against ``m`` training rows.

- fidelity (0-100), column shapes, column pairs, missing-rate error, out-of-range rate
  (:mod:`ganforge.metrics.tables` has the formulas);
- ML efficacy (with a target column): a model of the target learnt from the synthetic rows
  (floor: from as many training rows), scored on the held-out rows;
- privacy: share of synthetic rows (up to :data:`MAX_ROWS`, not only ``m``) closer to
  training than to held-out rows, averaged over disjoint sets of training rows (ideal
  about 50; floor: one half of the held-out rows against the other half), exact copies of
  training rows (floor: held-out rows that equal a training row), nearest-neighbour
  distance ratio.

These privacy figures describe the sample at hand; they are not a guarantee such as
differential privacy (README, "Tables").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ganforge.evaluation.registry import (
    compute_metrics,
    metric_values,
    register_evaluator,
    register_metric,
)
from ganforge.metrics import tables as tm

#: rows compared per side (distances cost m x m x columns)
MAX_ROWS = 2000

FLOOR = (
    "held-out real rows the generator never saw, as many as the synthetic rows compared, "
    "against the same training rows; ML efficacy learnt from training rows; privacy: one "
    "half of the held-out rows against training rows and the other half"
)


@dataclass(frozen=True)
class TableInputs:
    """What the table metrics read (native rows ``(N, C)``, see the module docstring):
    ``synth`` judged against ``real`` (training rows); ``train`` every training row;
    ``dcr_rows`` judged for distance to ``train`` versus ``dcr_holdout``; ``learn`` and
    ``test`` the efficacy model's rows; ``numeric`` ``(C,)``; ``ranges`` ``(C,)`` the
    numbers' scales; ``target`` a column index or None."""

    synth: np.ndarray
    real: np.ndarray
    train: np.ndarray
    numeric: np.ndarray
    ranges: np.ndarray
    dcr_rows: np.ndarray
    dcr_holdout: np.ndarray | None
    learn: np.ndarray | None = None
    test: np.ndarray | None = None
    target: int | None = None
    seed: int = 0


def _fidelity(x: TableInputs) -> dict[str, Any]:
    out = tm.fidelity(x.real, x.synth, x.numeric)
    shapes = out.pop("per_column_shape")
    out["protocol"] = {"column_shape": shapes}
    return out


def _cells(x: TableInputs) -> dict[str, Any]:
    real, synth = tm.missing_rates(x.real), tm.missing_rates(x.synth)
    return {
        "missing_rate_error": float(np.mean(np.abs(np.subtract(real, synth)))),
        "out_of_range": tm.out_of_range_rate(x.train, x.synth, x.numeric),
        "missing_rate": synth,
    }


def _privacy(x: TableInputs) -> dict[str, Any]:
    return tm.privacy(x.dcr_rows, x.train, x.dcr_holdout, x.numeric, x.ranges)


def _efficacy(x: TableInputs) -> dict[str, Any] | None:
    if x.target is None or x.learn is None or x.test is None or len(x.test) < 2:
        return None
    score, name = tm.ml_efficacy(x.learn, x.test, x.target, x.numeric, x.seed)
    return {"ml_efficacy": score, "protocol": {"ml_efficacy": name}}


register_metric("fidelity", True, _fidelity, kind="table", summary=True)
register_metric("column_shapes", True, _fidelity, kind="table")
register_metric("column_pairs", True, _fidelity, kind="table")
register_metric("missing_rate_error", False, _cells, kind="table", summary=True)
register_metric("out_of_range", False, _cells, kind="table", summary=True)
register_metric("ml_efficacy", True, _efficacy, kind="table", summary=True)
register_metric("dcr_closer_to_train", False, _privacy, kind="table", summary=True)
register_metric("exact_copies", False, _privacy, kind="table", summary=True)
register_metric("nn_distance_ratio", True, _privacy, kind="table", summary=True)


def evaluate_rows(
    synth: np.ndarray,
    train: np.ndarray,
    holdout: np.ndarray,
    numeric: np.ndarray,
    target: int | None = None,
    seed: int = 0,
    dcr: bool = True,
) -> dict[str, Any]:
    """Every table figure for ``synth`` and, under ``real_vs_real``, for ``holdout``
    (native rows ``(N, C)``; ``train`` the rows the generator learnt from). ``dcr``
    False skips the closer-to-training share (when ``holdout`` may have been trained on)."""
    rng = np.random.default_rng(seed)
    holdout = holdout[rng.permutation(len(holdout))]  # files may be sorted: halves at random
    m = min(len(synth), len(holdout), len(train), MAX_ROWS)
    real = train[rng.choice(len(train), m, replace=False)]
    with np.errstate(invalid="ignore"):
        ranges = np.nanmax(train, axis=0) - np.nanmin(train, axis=0)
    ranges = np.nan_to_num(ranges)
    syn, held = synth[:m], holdout[:m]
    half = m // 2
    learn_n = min(len(synth), len(train))
    common = dict(train=train, numeric=numeric, ranges=ranges, target=target, seed=seed)
    ours = TableInputs(
        syn, real, dcr_rows=synth[:MAX_ROWS], dcr_holdout=held if dcr else None,
        learn=synth[:learn_n], test=holdout, **common,
    )  # fmt: skip
    floor = TableInputs(
        held, real, dcr_rows=held[:half], dcr_holdout=held[half : 2 * half] if dcr else None,
        learn=train[rng.choice(len(train), learn_n, replace=False)], test=holdout, **common,
    )  # fmt: skip
    result = compute_metrics("table", ours)
    out = dict(result.values)
    floor_result = compute_metrics("table", floor)
    out["real_vs_real"] = metric_values(floor_result.values)
    out["protocol"] = {
        **result.protocol,
        "n_synthetic": int(m),
        "n_real": int(m),
        "n_holdout": int(len(holdout)),
        "seed": int(seed),
        "target": target,
        "real_vs_real": FLOOR,
        "fidelity": "100 x (mean column shape + mean column pair) / 2, see docs/METRICS.md",
        "dcr": "Gower distance; share of synthetic rows closer to training rows than to as "
        "many held-out rows (ties half); ideal about 50",
    }
    if not dcr:
        out["protocol"]["dcr"] = "skipped: no held-out rows the generator is known not to have seen"
    return out


def numeric_columns(table: Any) -> np.ndarray:
    """``(C,)`` True where the codec's column is a number."""
    return np.array(
        [t.spec.type in ("continuous", "integer", "datetime") for t in table.transforms]
    )


def evaluate_table_samples(dataset: Any, fake: np.ndarray, n: int, seed: int = 0) -> dict[str, Any]:
    """Evaluator for data kind ``table``: ``fake`` native rows against the dataset's
    training rows, beside its held-out rows. A table too small to hold rows out uses a
    second sample of training rows as the floor and skips the closer-to-training share."""
    holdout = dataset.holdout_native
    dcr = len(holdout) >= 2
    if not dcr:
        holdout = dataset.sample_real(min(n, dataset.size), seed=seed + 1)
    target = getattr(dataset, "target_index", None)
    return evaluate_rows(
        fake, dataset.train_native, holdout, numeric_columns(dataset.table), target, seed, dcr
    )


register_evaluator("table", evaluate_table_samples)


def evaluate_table_files(
    real: str | Path,
    synthetic: str | Path,
    target: str | None = None,
    holdout: str | Path | None = None,
    columns: str | Path | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Evaluate any synthetic CSV against the real CSV it imitates (same header).

    Column types come from ``real`` (or the spec file ``columns``). Without ``holdout``
    (real rows the generator never saw) the real file is split in two at random (seed 0):
    one half is the reference, the other the floor, and the closer-to-training share is
    skipped, since the generator may have seen both halves."""
    from ganforge.data.table import TableCodec, infer_spec, load_spec, read_csv_table
    from ganforge.errors import ConfigError, DataError

    raw = read_csv_table(real)
    specs = load_spec(columns, raw) if columns else infer_spec(raw)
    syn_raw = read_csv_table(synthetic)
    if syn_raw.header != raw.header:
        raise DataError(
            f"{synthetic}: its header {syn_raw.header} differs from {real}'s {raw.header}"
        )
    tables = [raw, syn_raw] + ([read_csv_table(holdout)] if holdout else [])
    for other in tables[2:]:
        if other.header != raw.header:
            raise DataError(f"{other.path}: its header differs from {real}'s")
    codec = TableCodec.fit(raw, specs, seed=seed, domain=_union(tables), mixtures=False)
    rows = [codec.native(t) for t in tables]
    if target is not None and target not in raw.header:
        raise ConfigError(f"--target: unknown column {target!r}; columns: {', '.join(raw.header)}")
    t_index = None if target is None else raw.header.index(target)
    numeric = numeric_columns(codec)
    if holdout:
        out = evaluate_rows(rows[1], rows[0], rows[2], numeric, t_index, seed, dcr=True)
    else:
        perm = np.random.default_rng(0).permutation(len(rows[0]))
        half = len(perm) // 2
        ref, floor = rows[0][np.sort(perm[half:])], rows[0][np.sort(perm[:half])]
        out = evaluate_rows(rows[1], ref, floor, numeric, t_index, seed, dcr=False)
    out["protocol"].update(
        real=str(real), synthetic=str(synthetic), holdout=holdout and str(holdout)
    )
    return out


def _union(tables: list[Any]) -> Any:
    """One raw table holding every file's cells (so categories of all files are known)."""
    from ganforge.data.table.reader import RawTable

    cells = [sum((t.cells[j] for t in tables), []) for j in range(len(tables[0].header))]
    return RawTable(tables[0].path, tables[0].header, cells)
