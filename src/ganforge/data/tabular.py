"""Numeric tables from ``.csv`` or ``.npy`` files.

Columns are standardised for training (per-column mean and std of the file), or, for a
generator with a bounded output, mapped from the file's per-column range onto the
output's range (:mod:`ganforge.data.scaling`); samples are written back in original
units. A CSV may have one header row; every other cell must be a finite number. A column
that takes only a few values (a flag, a code) or sits mostly on repeated values (a rounded
measurement; see :func:`~ganforge.data.base.discrete_levels`) decodes to the nearest value
it takes in the file, and its training rows are dequantised: each value is drawn uniformly
from the interval that decoding maps onto it (:func:`~ganforge.data.base.level_cells`).
"""

from __future__ import annotations

import csv
import functools
import math
from pathlib import Path

import numpy as np
import torch

from ganforge.data.base import Dataset, discrete_levels, index_generator, level_cells
from ganforge.errors import DataError

#: Training defaults of a table (``ganforge train --dataset FILE.csv`` with no other
#: flag), with the ``mlp-tabular`` preset (G and D 3x128, 32-d noise): the default loss
#: (nonsaturating) at two time scales (Adam lr 1e-3 for G, 3e-3 for D, decaying linearly to
#: 0), the R1 penalty (lazily on every 4th D update; its γ set by :func:`r1_for_table`
#: from the table's rows and columns, 1.0 stands in when the file cannot be read),
#: batch 512, 4,000 steps and an EMA of G's weights (0.999); G and D conditioned on up to
#: 16 k-means clusters of the rows (:func:`clusters_for_table`; ``--self-condition``). Tuned on
#: ``benchmarks/lowdim_defaults.py`` only (2-D shapes and scikit-learn's tables; results
#: and the configurations that lost in docs/BENCHMARKS.md); no dataset is special-cased.
TABLE_TRAINING: dict[str, object] = {
    "steps": 4000,
    "batch_size": 512,
    "lr_schedule": "linear",
    "ema": 0.999,
    "lr_g": 1e-3,
    "lr_d": 3e-3,
    "r1_weight": 1.0,
    "r1_every": 4,
    "self_condition": 16,
}

#: R1's γ per squared spacing of the rows, and the least γ (see :func:`r1_for_table`)
R1_PER_SPACING = 4.5
R1_MIN = 0.01


def r1_for_table(rows: int, columns: int) -> float:
    """R1's γ for a table of ``rows`` x ``columns``: ``R1_PER_SPACING * rows ** (-2 /
    columns)``, at least ``R1_MIN`` (at most ``R1_PER_SPACING``), 2 significant digits.

    ``rows ** (-1 / columns)`` is the typical spacing of ``rows`` points in ``columns``
    standardised dimensions. R1 (γ/2 · ‖∇D(x)‖²) limits how steeply D's logit may change
    around the real rows, so it sets the finest scale D can tell apart: a penalty at the
    rows' own spacing keeps D from memorising a small table (without R1, on 124 rows of
    wine, D rejects 99.9% of the fakes and G's spread shrinks to 10-70% of the data's),
    while thousands of rows of a 2-D shape get the least γ and D resolves the gaps
    between two spirals' arms (with γ 1 G draws them as a filled disc). The least γ,
    0.01, drew the shapes as sharply as 0.0009 and put their mass closer to the data's
    (sliced W1 on seed 0: checkerboard 1.22x vs 1.79x the floor, 8 Gaussians 1.32x vs
    1.71x). Examples: 398 x 30 -> 3.0, 125 x 13 -> 2.1, 309 x 10 -> 1.4, 105 x 4 -> 0.44,
    5,000 x 3 -> 0.015, 5,000 x 2 -> 0.01.
    """
    gamma = R1_PER_SPACING * max(rows, 1) ** (-2.0 / max(columns, 1))
    return float(f"{max(R1_MIN, gamma):.2g}")


#: the most k-means clusters a table's rows are conditioned on, and the least rows per
#: cluster (see :func:`clusters_for_table`)
MAX_CLUSTERS = 16
ROWS_PER_CLUSTER = 8


def clusters_for_table(rows: int) -> int:
    """Self-conditioning clusters for a table of ``rows``: one per
    ``ROWS_PER_CLUSTER`` rows, at most ``MAX_CLUSTERS``; 0 (off) when that is fewer than
    2. Examples: 5,000 -> 16, 150 -> 16, 100 -> 12, 20 -> 2, 15 -> 0.

    G and a projection D conditioned on the clusters of the rows (drawn at their
    frequencies when sampling) fit every case of ``benchmarks/lowdim_defaults.py``, seeds
    0-2: the 2-D shapes' sliced W1 at 0.73-1.12x the real-vs-real floor (the unconditional
    model: 0.94-1.72x, and 8 Gaussians' modes bridged), the tables' MMD² at 1.07-1.39x
    (held-out iris: 0.98-1.11x); docs/BENCHMARKS.md."""
    k = min(MAX_CLUSTERS, max(rows, 0) // ROWS_PER_CLUSTER)
    return k if k >= 2 else 0


def table_training(path: str | Path) -> dict[str, object]:
    """:data:`TABLE_TRAINING` with R1's γ for the shape of the table in ``path`` (see
    :func:`r1_for_table`) and its self-conditioning clusters (:func:`clusters_for_table`);
    a file whose shape cannot be read keeps the static defaults (reading it for training
    then raises the error that names the problem)."""
    defaults = dict(TABLE_TRAINING)
    shape = table_shape(path)
    if shape is not None:
        defaults["r1_weight"] = r1_for_table(*shape)
        defaults["self_condition"] = clusters_for_table(shape[0])
    return defaults


def table_shape(path: str | Path) -> tuple[int, int] | None:
    """``(rows, columns)`` of a numeric ``.csv`` (non-empty lines, less a header) or
    ``.npy`` file without reading its values; None when the file cannot be read. Cached
    per file version (path, size, modification time): a run resolves its dataset more
    than once."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return _table_shape(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _table_shape(path: str, size: int, mtime_ns: int) -> tuple[int, int] | None:
    try:
        if path.lower().endswith(".npy"):
            shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
            if len(shape) not in (1, 2):
                return None
            return (shape[0], 1) if len(shape) == 1 else (shape[0], shape[1])
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            first = next((r for r in reader if r and any(c.strip() for c in r)), None)
            if first is None:
                return None
            rows = sum(1 for r in reader if r and any(c.strip() for c in r))
        rows += all(_is_number(c) for c in first)  # no header: the first line is a row
        return (rows, len(first)) if rows else None
    except (OSError, ValueError, EOFError, csv.Error):
        return None


def read_numeric_csv(path: str | Path) -> tuple[np.ndarray, list[str] | None]:
    """Return ``(values (N, D) float64, column names or None)``; raise ValueError naming
    the row and column of the first cell that is not a finite number."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = [row for row in csv.reader(fh) if row and any(c.strip() for c in row)]
    if not rows:
        raise DataError(f"{path}: the file is empty")
    header: list[str] | None = None
    if not all(_is_number(c) for c in rows[0]):
        header = [c.strip() for c in rows[0]]
        rows = rows[1:]
    if not rows:
        raise DataError(f"{path}: no data rows after the header")
    width = len(header) if header else len(rows[0])
    values = np.empty((len(rows), width), dtype=np.float64)
    first_line = 2 if header else 1
    for i, row in enumerate(rows):
        if len(row) != width:
            raise DataError(
                f"{path}: row {i + first_line} has {len(row)} columns, expected {width}"
            )
        for j, cell in enumerate(row):
            try:
                v = float(cell)
            except ValueError:
                col = header[j] if header else str(j + 1)
                raise DataError(
                    f"{path}: row {i + first_line}, column {col!r} is not a number: {cell.strip()!r}"
                ) from None
            if not math.isfinite(v):
                col = header[j] if header else str(j + 1)
                raise DataError(
                    f"{path}: row {i + first_line}, column {col!r} is not finite: {cell.strip()!r}"
                )
            values[i, j] = v
    return values, header


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_npy(path: str | Path) -> np.ndarray:
    path = Path(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise DataError(f"{path}: not a numeric .npy array ({exc})") from None
    if arr.size == 0:
        raise DataError(f"{path}: the array is empty")
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise DataError(f"{path}: expected a real numeric array, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise DataError(f"{path}: expected a 1-D or 2-D array, got shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        r, c = np.argwhere(~np.isfinite(arr))[0]
        raise DataError(f"{path}: row {r + 1}, column {c + 1} is not finite")
    return arr


class TableDataset(Dataset):
    """Rows of a numeric table; batches are rows drawn uniformly with replacement."""

    kind = "lowdim"

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not path.exists():
            raise DataError(f"data file {str(path)!r} does not exist")
        if path.is_dir():
            raise DataError(f"data path {str(path)!r} is a directory, expected a .csv or .npy file")
        if path.stat().st_size == 0:
            raise DataError(f"{path}: the file is empty")
        if path.suffix.lower() == ".csv":
            values, header = read_numeric_csv(path)
        elif path.suffix.lower() == ".npy":
            values, header = read_npy(path), None
        else:
            raise DataError(f"data file {str(path)!r} must end in .csv or .npy")
        if len(values) < 2:
            raise DataError(f"{path}: need at least 2 rows, found {len(values)}")
        self.name = str(path)
        self.shape = (values.shape[1],)
        self.columns = header or [f"x{j + 1}" for j in range(values.shape[1])]
        self.values = values
        std = values.std(axis=0)
        std[std == 0] = 1.0  # constant columns stay constant
        super().__init__(values.mean(axis=0), std)
        self.levels = discrete_levels(values)
        self._encoded = self.encode(values)
        self._low, self._width = self._cells(values)

    def _cells(self, values: np.ndarray) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Model-space ``(low, high - low)`` ``(N, D)`` of each row's cell: its value's
        :func:`level_cells` interval in a column with levels, the value itself (width 0)
        elsewhere. ``(None, None)`` when no column has levels."""
        if not self.levels:
            return None, None
        low, high = values.copy(), values.copy()
        for j, levels in self.levels.items():
            cell_low, cell_high = level_cells(levels)
            k = np.searchsorted(levels, values[:, j])
            low[:, j], high[:, j] = cell_low[k], cell_high[k]
        low_z = self.encode(low)
        return low_z, self.encode(high) - low_z

    def _rows(self, idx: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Rows ``idx`` in model space, columns with levels drawn within their cells."""
        if self._width is None:
            return self._encoded[idx]
        width = self._width[idx]
        return self._low[idx] + width * torch.rand(width.shape, generator=generator)

    @property
    def size(self) -> int:
        return len(self.values)

    def sample_batch(self, batch_size: int, generator: torch.Generator) -> tuple:
        idx = torch.randint(len(self._encoded), (batch_size,), generator=generator)
        return self._rows(idx, generator), None

    def batch_at(self, idx: torch.Tensor) -> tuple:
        """The rows at indices ``idx`` ``(B,)``, in model space; the draws within cells
        are seeded from the indices, so a pass is reproducible."""
        idx = torch.as_tensor(idx)
        return self._rows(idx, index_generator(idx)), None

    def sample_real(self, n: int, seed: int) -> np.ndarray:
        idx = np.random.default_rng(seed).integers(len(self.values), size=n)
        return self.values[idx]

    def value_range(self) -> tuple[np.ndarray, np.ndarray]:
        """The exact per-column minimum and maximum of the file."""
        return self.values.min(axis=0), self.values.max(axis=0)
