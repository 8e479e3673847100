"""The table codec: every column's transform, the model-space layout, and rows out.

A :class:`TableCodec` turns native values ``(N, C)`` (see :mod:`.transforms`) into model
space ``(N, D)`` and back, writes native values as CSV cells in the file's own formats,
and describes the layout the table model builds its output heads from
(:meth:`TableCodec.layout`). It is stored in checkpoints as JSON.

Conditioning (CTGAN's training-by-sampling): every categorical and boolean column is a
*condition column*, and so is the missing flag (present, missing) of every number column
with missing cells. A training batch picks, per row, a condition column uniformly and one
of its one-hot positions with probability proportional to ``log(1 + count)``, at most
:data:`MAX_OVERSAMPLING` times the value's share of the rows (:func:`capped_log_frequency`:
a value held by one or two rows would otherwise fill a tenth of the batches with those
same rows, and the generator learns to copy them), then a real row holding that value;
the condition's one-hot vector (``cond_dim`` wide, one position set) is appended to the
row. The generator draws its own conditions the same way while
training, and by the plain frequencies when sampling.

Derived columns (a function of another categorical column, see :mod:`.dependencies`)
have no place in model space: they are neither generated nor conditions, and decoding
writes them from their source column's decoded value through the mapping fitted on the
training rows (stored in the codec's JSON).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ganforge.data.table.conditions import (
    anchor_column,
    anchor_probabilities,
    condition_scores,
)
from ganforge.data.table.dependencies import apply_mapping, check_derived, fit_mapping
from ganforge.data.table.reader import ColumnSpec, RawTable, format_datetime
from ganforge.data.table.transforms import (
    CategoryTransform,
    Transform,
    decode_rng,
    fit_transform,
    transform_from_json,
)
from ganforge.errors import CheckpointError, ConfigError

CODEC_VERSION = 2  # 2: derived columns
#: Training-by-sampling draws a value at most this many times as often as its share of
#: the training rows.
MAX_OVERSAMPLING = 5.0


def capped_log_frequency(counts: np.ndarray, cap: float | None = None) -> np.ndarray:
    """Probabilities ``p`` proportional to ``log(1 + count)``, each at most ``cap`` times
    the value's frequency ``count / sum(counts)``; the mass a capped value gives up goes to
    the others in proportion to their log weights. ``(K,) -> (K,)``, summing to 1.

    E.g. counts (273, 2): log-frequency gives the rare value 0.163, 22 times its share
    0.0073; capped at 5 it gets 0.036."""
    cap = MAX_OVERSAMPLING if cap is None else cap
    counts = np.asarray(counts, dtype=np.float64)
    if counts.sum() <= 0:
        return np.full(len(counts), 1.0 / len(counts))
    limit = cap * counts / counts.sum()
    w = np.log1p(counts)
    capped = np.zeros(len(counts), dtype=bool)
    for _ in range(len(counts)):
        free = w * ~capped
        p = np.where(capped, limit, free / free.sum() * (1.0 - limit[capped].sum()))
        over = ~capped & (p > limit)
        if not over.any():
            return p
        capped |= over
    return p


def _checked_anchor(anchor: Any, sizes: list[int]) -> dict[str, Any]:
    """``anchor`` as read from JSON, checked against the condition sizes: a column index
    and one row-stochastic matrix ``(sizes[k], sizes[column])`` per condition column."""
    bad = CheckpointError("damaged table codec: invalid anchor condition")
    try:
        k = anchor["column"]
        probs = [np.asarray(m, dtype=np.float64) for m in anchor["probs"]]
    except (KeyError, TypeError, ValueError):
        raise bad from None
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < len(sizes):
        raise bad
    if len(probs) != len(sizes) or any(
        m.shape != (s, sizes[k])
        or not np.isfinite(m).all()
        or (m < 0).any()
        or not np.allclose(m.sum(1), 1.0)
        for m, s in zip(probs, sizes, strict=True)
    ):
        raise bad
    return {"column": k, "probs": [m.tolist() for m in probs]}


class TableCodec:
    """Transforms of a table's columns, in file order."""

    def __init__(
        self,
        transforms: list[Transform],
        derived: dict[int, np.ndarray] | None = None,
        sample_columns: list[float] | None = None,
        anchor: dict[str, Any] | None = None,
    ) -> None:
        """``derived``: for each derived column, its mapping from the source column's keys
        (:func:`~ganforge.data.table.dependencies.fit_mapping`); ``sample_columns``: the
        probability of each condition column when sampling (``None``: uniform, as CTGAN;
        codecs saved before anchors may hold other weights); ``anchor``: ``{"column": k,
        "probs": [...]}``, the condition column every row is also conditioned on and the
        pair probabilities (:mod:`ganforge.data.table.conditions`), or ``None``."""
        self.transforms = transforms
        self.columns = [t.spec.name for t in transforms]
        self.derived = dict(derived or {})
        self.source = {
            j: self.columns.index(str(transforms[j].spec.derived_from)) for j in self.derived
        }
        self.widths = [0 if j in self.derived else t.width for j, t in enumerate(transforms)]
        self.offsets = list(np.cumsum([0, *self.widths[:-1]]).astype(int))
        self.row_dim = int(sum(self.widths))
        self.cond_columns = [
            j for j, t in enumerate(transforms) if t.cond_width and j not in self.derived
        ]
        sizes = [transforms[j].cond_width for j in self.cond_columns]
        self.cond_sizes = sizes
        self.cond_offsets = list(np.cumsum([0, *sizes[:-1]]).astype(int)) if sizes else []
        self.cond_dim = int(sum(sizes))
        if sample_columns is not None and (
            len(sample_columns) != len(sizes)
            or not all(math.isfinite(p) and p >= 0 for p in sample_columns)
            or not sum(sample_columns) > 0
        ):
            raise CheckpointError("damaged table codec: invalid sampling column probabilities")
        self.sample_columns = None if sample_columns is None else [float(p) for p in sample_columns]
        self.anchor = None if anchor is None else _checked_anchor(anchor, sizes)

    @property
    def modelled(self) -> list[int]:
        """Indices of the columns in model space (all but the derived ones)."""
        return [j for j in range(len(self.transforms)) if j not in self.derived]

    @classmethod
    def fit(
        cls,
        table: RawTable,
        specs: list[ColumnSpec],
        seed: int = 0,
        domain: RawTable | None = None,
        mixtures: bool = True,
    ) -> TableCodec:
        """Fit every column on ``table``'s cells; categories also know ``domain``'s values.
        ``mixtures=False`` skips the numbers' mixtures and the derived columns' mappings (a
        codec that only reads cells)."""
        extra = domain.cells if domain is not None else [None] * len(specs)
        transforms = [
            fit_transform(s, cells, seed, more, mixtures)
            for s, cells, more in zip(specs, table.cells, extra, strict=True)
        ]
        if not mixtures:
            return cls(transforms)
        check_derived(specs)
        names = [s.name for s in specs]
        derived = {}
        for j, s in enumerate(specs):
            if s.derived_from is not None:
                a = names.index(s.derived_from)
                src, tgt = transforms[a], transforms[j]
                derived[j] = fit_mapping(
                    src.native(table.cells[a]), len(src.values), tgt.native(table.cells[j])
                )
        codec = cls(transforms, derived)
        native = codec.native(table)
        k = anchor_column(condition_scores(codec, native))
        if k is None:
            return codec
        positions = [transforms[j].positions(native[:, j]) for j in codec.cond_columns]
        probs = anchor_probabilities(positions, codec.cond_sizes, k)
        return cls(transforms, derived, anchor={"column": k, "probs": probs})

    # -- native values ---------------------------------------------------------------------
    def native(self, table: RawTable) -> np.ndarray:
        """The file's cells as native values ``(N, C)`` float64."""
        return np.stack(
            [t.native(cells) for t, cells in zip(self.transforms, table.cells, strict=True)], 1
        )

    def encode(self, native: np.ndarray, seed: int = 0) -> np.ndarray:
        """Native ``(N, C)`` -> model space rows ``(N, row_dim)`` (modes sampled with
        ``seed``; derived columns take no place)."""
        rng = np.random.default_rng(seed)
        parts = [self.transforms[j].encode(native[:, j], rng) for j in self.modelled]
        return np.concatenate(parts, axis=1).astype(np.float32)

    def decode(self, x: np.ndarray) -> np.ndarray:
        """Model space ``(N, >= row_dim)`` -> native ``(N, C)``; columns past ``row_dim``
        (the condition vector) are ignored. Grouped rare categories are drawn with a
        generator seeded from ``x``'s bytes, so decoding is deterministic. Derived
        columns are written from their source's decoded values."""
        x = np.asarray(x, dtype=np.float64)[:, : self.row_dim]
        rng = decode_rng(x)
        out = np.empty((len(x), len(self.transforms)))
        for j in self.modelled:
            t = self.transforms[j]
            out[:, j] = t.decode(x[:, self.offsets[j] : self.offsets[j] + t.width], rng)
        for j, mapping in self.derived.items():
            a = self.source[j]
            out[:, j] = apply_mapping(out[:, a], len(self.transforms[a].values), mapping)
        return out

    # -- rows of text ----------------------------------------------------------------------
    def cell(self, j: int, value: float) -> str:
        """Native value of column ``j`` as the file would spell it ("" when missing)."""
        t = self.transforms[j]
        if math.isnan(value):
            return ""
        if isinstance(t, CategoryTransform):
            return t.values[int(value)]
        spec = t.spec
        if spec.type == "datetime":
            return format_datetime(value, spec.format)
        if spec.type == "integer":
            return str(int(round(value)))
        if spec.decimals is not None:
            return f"{value:.{spec.decimals}f}"
        return f"{value:.10g}"

    def rows(self, native: np.ndarray) -> list[list[str]]:
        """Native ``(N, C)`` -> rows of strings, in the file's formats."""
        return [[self.cell(j, v) for j, v in enumerate(row)] for row in native.tolist()]

    # -- conditions ------------------------------------------------------------------------
    def condition_probs(self, log_frequency: bool) -> list[np.ndarray]:
        """Per condition column, the probability of each one-hot position: capped
        log-frequency (training, :func:`capped_log_frequency`) or proportional to
        ``count`` (sampling)."""
        out = []
        for j in self.cond_columns:
            counts = self.transforms[j].position_counts().astype(np.float64)
            if log_frequency:
                out.append(capped_log_frequency(counts))
                continue
            out.append(
                counts / counts.sum()
                if counts.sum() > 0
                else np.full(len(counts), 1.0 / len(counts))
            )
        return out

    def where(self, column: str, value: str) -> tuple[int, int, int | None]:
        """``--where column=value`` -> ``(column index, value index or -1 for missing,
        flat condition index or None)``; unknown column or value: :class:`ConfigError`."""
        if column not in self.columns:
            raise ConfigError(
                f"--where: unknown column {column!r}; columns: {', '.join(self.columns)}"
            )
        j = self.columns.index(column)
        t = self.transforms[j]
        derived = j in self.derived
        if not isinstance(t, CategoryTransform):
            raise ConfigError(
                f"--where: column {column!r} is {t.spec.type}; only categorical and boolean "
                "columns can be conditioned on"
            )
        if value == "" and t.has_missing:
            idx = -1
            pos = t.width - 1
        elif value in t.values:
            idx = t.values.index(value)
            pos = int(t.positions(np.array([float(idx)]))[0])
        else:
            shown = ", ".join(repr(v) for v in t.values[:10])
            more = f" and {len(t.values) - 10} more" if len(t.values) > 10 else ""
            raise ConfigError(f"--where: column {column!r} has no value {value!r} ({shown}{more})")
        if derived:  # written from its source: rows are chosen, not conditioned
            return j, idx, None
        flat = self.cond_offsets[self.cond_columns.index(j)] + pos
        return j, idx, flat

    def layout(self) -> dict[str, Any]:
        """What the table model builds its heads from: the blocks of one row in order, and
        the condition columns (offset of each one's block in the row, its size, and the
        position probabilities for training and for sampling)."""
        blocks = [[b.kind, b.size] for j in self.modelled for b in self.transforms[j].blocks()]
        return {
            "blocks": blocks,
            "row_dim": self.row_dim,
            "condition": {
                "row_offsets": [
                    int(self.offsets[j] + self.transforms[j].cond_start) for j in self.cond_columns
                ],
                "sizes": [int(s) for s in self.cond_sizes],
                "train_probs": [p.tolist() for p in self.condition_probs(True)],
                "sample_probs": [p.tolist() for p in self.condition_probs(False)],
                "sample_columns": self.sample_columns
                or [1.0 / len(self.cond_sizes) for _ in self.cond_sizes],
                "anchor": self.anchor,
            },
        }

    # -- JSON ------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {
            "version": CODEC_VERSION,
            "columns": [{"spec": asdict(t.spec), "state": t.state()} for t in self.transforms],
            "derived": {str(j): m.tolist() for j, m in self.derived.items()},
            "sample_columns": self.sample_columns,
            "anchor": self.anchor,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableCodec:
        try:
            if int(data.get("version", 0)) > CODEC_VERSION:
                raise CheckpointError("the table codec is newer than this ganforge; upgrade")
            transforms = [
                transform_from_json(ColumnSpec(**c["spec"]), c["state"]) for c in data["columns"]
            ]
            derived = {
                int(j): np.asarray(m, dtype=np.int64)
                for j, m in (data.get("derived") or {}).items()
            }
            check_derived([t.spec for t in transforms])
            names = [t.spec.name for t in transforms]
            for j, m in derived.items():
                source = transforms[j].spec.derived_from
                if source not in names or len(m) != len(transforms[names.index(source)].values) + 1:
                    raise CheckpointError(f"column {names[j]!r}: damaged derived mapping")
        except CheckpointError:
            raise
        except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
            raise CheckpointError(f"damaged table codec in the checkpoint: {exc}") from None
        if not transforms:
            raise CheckpointError("damaged table codec in the checkpoint: no columns")
        try:
            return cls(transforms, derived, data.get("sample_columns"), data.get("anchor"))
        except TypeError as exc:
            raise CheckpointError(f"damaged table codec in the checkpoint: {exc}") from None
