"""Per-column transforms between a table's values and the model's space.

Native values of a column (what :meth:`~ganforge.data.table.dataset.TableData.decode`
returns and the evaluator reads) are float64: numbers in their units (datetimes as days
or seconds since 1970-01-01), categories as the index of their value in the column's
``values`` list, and NaN for a missing cell.

In model space each column is a run of *blocks* (see :class:`Block`):

- numbers (continuous, integer, datetime): mode-specific normalisation as in CTGAN (Xu et
  al., 2019): a variational Gaussian mixture (scikit-learn's ``BayesianGaussianMixture``,
  at most :data:`MAX_MODES` components, those of weight above :data:`MODE_WEIGHT_MIN`
  kept) assigns each value a mode k (sampled from its posterior), and the value becomes
  ``alpha = (x - mu_k) / (4 sd_k)`` clipped to [-0.99, 0.99] (a ``tanh`` block of 1)
  plus the one-hot mode (a ``softmax`` block of K). A column with one mode is simply
  standardised (``alpha`` alone). Decoding clips to the column's bounds (the spec's, else
  the observed range) and rounds to its decimals.
- categories (categorical, boolean): one-hot over the kept values. At most
  ``max_categories`` positions: the ``max_categories - 1`` most frequent values keep
  their own, the rest share one *other* position, decoded back to one of the grouped
  values drawn by their frequency in the data. Memory is bounded by the cap, whatever
  the column's cardinality.
- a column with missing cells adds a ``softmax`` block of 2 (present, missing) for numbers,
  or one more category position for categories; a generated missing flag decodes to NaN.
  A number's missing flag is also a condition (see :mod:`.codec`), so rare missingness is
  sampled as often as a rare category.

Every transform is stored as JSON (means, standard deviations, weights, value lists), never
as a pickled object.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ganforge.data.table.reader import ColumnSpec, is_missing, parse_datetime, parse_number
from ganforge.errors import CheckpointError, DataError

MAX_MODES = 10
MODE_WEIGHT_MIN = 0.005
#: values the mixture is fitted on (a seeded subsample of larger columns)
MIXTURE_ROWS = 5000
ALPHA_CLIP = 0.99


@dataclass(frozen=True)
class Block:
    """A run of model-space dimensions: ``tanh`` (scaled values) or ``softmax``
    (one-hot: modes, categories, missing flags). ``role``: value, mode, category, missing."""

    kind: str
    size: int
    role: str


def decode_rng(x: np.ndarray) -> np.random.Generator:
    """A generator seeded from the bytes of ``x``: decoding is a function of the samples."""
    digest = hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "little"))


class NumberTransform:
    """Continuous, integer and datetime columns (see the module docstring)."""

    def __init__(self, spec: ColumnSpec, state: dict[str, Any]) -> None:
        self.spec = spec
        self.means = np.asarray(state["means"], dtype=np.float64)
        self.stds = np.asarray(state["stds"], dtype=np.float64)
        self.weights = np.asarray(state["weights"], dtype=np.float64)
        self.low, self.high = float(state["low"]), float(state["high"])
        self.missing_rate = float(state["missing_rate"])
        self.rows = int(state.get("rows", 0))
        if not (len(self.means) == len(self.stds) == len(self.weights) >= 1):
            raise CheckpointError(f"column {spec.name!r}: damaged mixture in the codec")

    # -- fitting -------------------------------------------------------------------------
    @classmethod
    def fit(cls, spec: ColumnSpec, values: np.ndarray, seed: int = 0) -> NumberTransform:
        """Fit on native values ``(N,)`` (NaN = missing; at least one present)."""
        present = values[~np.isnan(values)]
        lo, hi = float(present.min()), float(present.max())
        low = lo if spec.min is None else float(spec.min)
        high = hi if spec.max is None else float(spec.max)
        means, stds, weights = _fit_modes(present, seed)
        state = {
            "means": means,
            "stds": stds,
            "weights": weights,
            "low": low,
            "high": high,
            "missing_rate": float(np.isnan(values).mean()),
            "rows": len(values),
        }
        return cls(spec, state)

    def state(self) -> dict[str, Any]:
        return {
            "means": self.means.tolist(),
            "stds": self.stds.tolist(),
            "weights": self.weights.tolist(),
            "low": self.low,
            "high": self.high,
            "missing_rate": self.missing_rate,
            "rows": self.rows,
        }

    # -- layout --------------------------------------------------------------------------
    @property
    def n_modes(self) -> int:
        return len(self.means)

    @property
    def has_missing(self) -> bool:
        return self.missing_rate > 0

    def blocks(self) -> list[Block]:
        out = [Block("tanh", 1, "value")]
        if self.n_modes > 1:
            out.append(Block("softmax", self.n_modes, "mode"))
        if self.has_missing:
            out.append(Block("softmax", 2, "missing"))
        return out

    @property
    def width(self) -> int:
        return sum(b.size for b in self.blocks())

    # -- conditions: a column with missing cells conditions on its missing flag ----------
    @property
    def cond_width(self) -> int:
        return 2 if self.has_missing else 0

    @property
    def cond_start(self) -> int:
        """Where the flag starts within the column's block (the last two dimensions)."""
        return self.width - 2

    def position_counts(self) -> np.ndarray:
        """Rows with the value present and missing ``(2,)``."""
        missing = int(round(self.missing_rate * self.rows))
        return np.asarray([self.rows - missing, missing], dtype=np.int64)

    def positions(self, values: np.ndarray) -> np.ndarray:
        """Native ``(N,)`` -> the missing flag's one-hot position ``(N,)`` (1 = missing)."""
        return np.isnan(values).astype(np.int64)

    # -- native values <-> model space ---------------------------------------------------
    def native(self, cells: list[str]) -> np.ndarray:
        """Strings -> native floats ``(N,)`` (NaN for missing); raises naming a bad cell."""
        out = np.full(len(cells), np.nan)
        fmt = self.spec.format
        for i, cell in enumerate(cells):
            if is_missing(cell):
                continue
            v = parse_datetime(cell, fmt) if self.spec.type == "datetime" else parse_number(cell)
            if v is None:
                raise DataError(
                    f"column {self.spec.name!r}, row {i + 2}: {cell!r} is not a "
                    f"{'date in format ' + fmt if fmt else 'finite number'}"
                )
            out[i] = v
        return out

    def encode(self, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Native ``(N,)`` -> model space ``(N, width)``: alpha, one-hot mode (sampled from
        the posterior), missing flag (a missing value takes a random present one's place)."""
        values = np.asarray(values, dtype=np.float64).copy()
        missing = np.isnan(values)
        if missing.any() and (~missing).any():
            values[missing] = rng.choice(values[~missing], size=int(missing.sum()))
        values[np.isnan(values)] = self.means[0]
        post = self.posterior(values)  # (N, K)
        cum = post.cumsum(axis=1)
        u = rng.random((len(values), 1))
        mode = np.minimum((cum < u * cum[:, -1:]).sum(axis=1), self.n_modes - 1)
        alpha = (values - self.means[mode]) / (4 * self.stds[mode])
        parts = [np.clip(alpha, -ALPHA_CLIP, ALPHA_CLIP)[:, None]]
        if self.n_modes > 1:
            parts.append(np.eye(self.n_modes)[mode])
        if self.has_missing:
            parts.append(np.eye(2)[missing.astype(int)])
        return np.concatenate(parts, axis=1)

    def posterior(self, values: np.ndarray) -> np.ndarray:
        """``(N,) -> (N, K)`` probabilities of each mode given the value."""
        z = (values[:, None] - self.means[None]) / self.stds[None]
        logp = -0.5 * z**2 - np.log(self.stds)[None] + np.log(self.weights)[None]
        logp -= logp.max(axis=1, keepdims=True)
        p = np.exp(logp)
        return p / p.sum(axis=1, keepdims=True)

    def decode(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Model space ``(N, width)`` -> native ``(N,)``: clipped, rounded, NaN where the
        missing flag wins."""
        alpha = np.clip(x[:, 0], -1.0, 1.0)
        col = 1
        mode = np.zeros(len(x), dtype=int)
        if self.n_modes > 1:
            mode = x[:, col : col + self.n_modes].argmax(axis=1)
            col += self.n_modes
        out = np.clip(alpha * 4 * self.stds[mode] + self.means[mode], self.low, self.high)
        out = self.round(out)
        if self.has_missing:
            out[x[:, col : col + 2].argmax(axis=1) == 1] = np.nan
        return out

    def round(self, values: np.ndarray) -> np.ndarray:
        if self.spec.type in ("integer", "datetime"):
            return np.round(values)
        if self.spec.decimals is not None:
            return np.round(values, self.spec.decimals)
        return values


def _fit_modes(present: np.ndarray, seed: int) -> tuple[list[float], list[float], list[float]]:
    """Means, standard deviations and weights of the modes of ``present`` values."""
    std = float(present.std())
    if len(np.unique(present)) < 2 or std == 0:
        return [float(present.mean())], [max(std, 1e-3)], [1.0]
    sample = present
    if len(sample) > MIXTURE_ROWS:
        sample = np.random.default_rng(seed).choice(present, MIXTURE_ROWS, replace=False)
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture

    gmm = BayesianGaussianMixture(
        n_components=min(MAX_MODES, len(np.unique(sample))),
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=0.001,
        max_iter=100,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gmm.fit(sample[:, None])
    keep = gmm.weights_ > MODE_WEIGHT_MIN
    means = gmm.means_[keep, 0]
    stds = np.sqrt(gmm.covariances_[keep].reshape(-1))
    floor = max(std * 1e-3, 1e-6)  # a spike (a repeated value) keeps a finite width
    weights = gmm.weights_[keep] / gmm.weights_[keep].sum()
    order = np.argsort(means)
    return (
        [float(v) for v in means[order]],
        [float(max(v, floor)) for v in stds[order]],
        [float(v) for v in weights[order]],
    )


class CategoryTransform:
    """Categorical and boolean columns (see the module docstring). ``values``: every
    distinct value seen, most frequent first; ``counts`` their counts; the first
    ``kept`` have their own one-hot position, the rest share the *other* position."""

    def __init__(self, spec: ColumnSpec, state: dict[str, Any]) -> None:
        self.spec = spec
        self.values = [str(v) for v in state["values"]]
        self.counts = np.asarray(state["counts"], dtype=np.int64)
        self.kept = int(state["kept"])
        self.missing_count = int(state["missing_count"])
        if len(self.values) != len(self.counts) or not 0 < self.kept <= len(self.values):
            raise CheckpointError(f"column {spec.name!r}: damaged category list in the codec")
        self._index = {v: i for i, v in enumerate(self.values)}

    @classmethod
    def fit(
        cls, spec: ColumnSpec, cells: list[str], domain: list[str] | None = None
    ) -> CategoryTransform:
        """Counts from ``cells``; values from ``cells`` and ``domain`` (e.g. held-out
        rows: their values are known to the column with a count of 0, never generated)."""
        present = [c for c in cells if not is_missing(c)]
        counts: dict[str, int] = {c: 0 for c in domain or () if not is_missing(c)}
        for c in present:
            counts[c] = counts.get(c, 0) + 1
        if spec.categories is not None:
            unknown = sorted(set(counts) - set(spec.categories))
            if unknown:
                raise DataError(
                    f"column {spec.name!r} holds {unknown[0]!r}, which its spec's "
                    "categories do not list"
                )
            values = list(spec.categories)
        else:
            values = sorted(counts, key=lambda v: (-counts[v], v))
        kept = len(values) if len(values) <= spec.max_categories else spec.max_categories - 1
        state = {
            "values": values,
            "counts": [counts.get(v, 0) for v in values],
            "kept": kept,
            "missing_count": len(cells) - len(present),
        }
        return cls(spec, state)

    def state(self) -> dict[str, Any]:
        return {
            "values": self.values,
            "counts": self.counts.tolist(),
            "kept": self.kept,
            "missing_count": self.missing_count,
        }

    @property
    def has_other(self) -> bool:
        return self.kept < len(self.values)

    @property
    def has_missing(self) -> bool:
        return self.missing_count > 0

    @property
    def width(self) -> int:
        return self.kept + int(self.has_other) + int(self.has_missing)

    def blocks(self) -> list[Block]:
        return [Block("softmax", self.width, "category")]

    @property
    def cond_width(self) -> int:
        return self.width

    cond_start = 0

    def position_counts(self) -> np.ndarray:
        """Rows of the data at each one-hot position ``(width,)`` (for conditioning)."""
        out = list(self.counts[: self.kept])
        if self.has_other:
            out.append(int(self.counts[self.kept :].sum()))
        if self.has_missing:
            out.append(self.missing_count)
        return np.asarray(out, dtype=np.int64)

    def position_labels(self) -> list[str | None]:
        """The value at each one-hot position (``"<other>"``; ``None`` for missing)."""
        out: list[str | None] = list(self.values[: self.kept])
        if self.has_other:
            out.append("<other>")
        if self.has_missing:
            out.append(None)
        return out

    def native(self, cells: list[str]) -> np.ndarray:
        """Strings -> value indices ``(N,)`` as floats (NaN for missing; a value the
        column has never seen is a :class:`DataError`)."""
        out = np.full(len(cells), np.nan)
        for i, cell in enumerate(cells):
            if is_missing(cell):
                continue
            idx = self._index.get(cell)
            if idx is None:
                raise DataError(f"column {self.spec.name!r}, row {i + 2}: unknown value {cell!r}")
            out[i] = idx
        return out

    def positions(self, values: np.ndarray) -> np.ndarray:
        """Native value indices ``(N,)`` -> one-hot positions ``(N,)`` int."""
        pos = np.where(np.isnan(values), self.width - 1, np.nan_to_num(values)).astype(np.int64)
        if self.has_other:
            pos = np.where(~np.isnan(values) & (pos >= self.kept), self.kept, pos)
        return pos

    def encode(self, values: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return np.eye(self.width)[self.positions(values)]

    def decode(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        pos = x.argmax(axis=1)
        out = pos.astype(np.float64)
        if self.has_missing:
            out[pos == self.width - 1] = np.nan
        if self.has_other:
            other = pos == self.kept
            rare = self.counts[self.kept :].astype(np.float64)
            if other.any():
                if rare.sum() == 0:  # grouped values never seen: any of them alike
                    rare = np.ones_like(rare)
                pick = rng.choice(len(rare), size=int(other.sum()), p=rare / rare.sum())
                out[other] = self.kept + pick
        return out

    def text(self, value: float) -> str:
        return "" if math.isnan(value) else self.values[int(value)]


Transform = NumberTransform | CategoryTransform


def fit_transform(
    spec: ColumnSpec,
    cells: list[str],
    seed: int = 0,
    domain: list[str] | None = None,
    mixture: bool = True,
) -> Transform:
    """The transform of one column, fitted on its cells (categories: values of
    ``domain`` known too, with a count of 0; numbers: without ``mixture``, a transform
    that reads cells but has no modes)."""
    if spec.type in ("categorical", "boolean"):
        return CategoryTransform.fit(spec, cells, domain)
    probe = NumberTransform(spec, _PROBE)
    if not mixture:
        return probe
    values = probe.native(cells)
    if np.isnan(values).all():
        raise DataError(f"column {spec.name!r} has no value in any row")
    return NumberTransform.fit(spec, values, seed)


_PROBE = {"means": [0.0], "stds": [1.0], "weights": [1.0], "low": 0, "high": 0, "missing_rate": 0}


def transform_from_json(spec: ColumnSpec, state: dict[str, Any]) -> Transform:
    try:
        if spec.type in ("categorical", "boolean"):
            return CategoryTransform(spec, state)
        return NumberTransform(spec, state)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(f"column {spec.name!r}: damaged transform in the codec") from None
