"""The dataset contract shared by every data kind.

A :class:`Dataset` hands the trainer batches of tensors in *model space* (standardised
numbers, images in [-1, 1]) and converts samples back to their *native* form (original
units, uint8 images, strings) with :meth:`Dataset.decode`. Its :meth:`codec` is a small
JSON-able dict stored in checkpoints, so samples can be decoded without the data.

Numbers are standardised (``(x - mean) / std``) unless the dataset carries a
:class:`RangeMap`: then each dimension's range maps onto a bounded output's range (see
:mod:`ganforge.data.scaling`, which decides per run). A codec without a ``"scaling"``
entry (every checkpoint written before range maps existed) standardises.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from ganforge.errors import CheckpointError, DataError

Kind = Literal["lowdim", "image", "sequence", "table"]

#: real samples whose extremes give an infinite dataset's range (:meth:`Dataset.value_range`)
RANGE_SAMPLES = 100_000


@dataclass(frozen=True, eq=False)
class RangeMap:
    """Per-dimension affine map of the data's range onto a bounded output's range.

    Dimension ``j``'s interval ``[low_j, high_j]``, widened by ``margin`` times its width
    on each side, maps onto ``bounds = (a, b)``; the data's own extremes land at
    ``a + (b - a) * margin / (1 + 2 margin)`` and the mirror point, inside the bounds.
    A constant dimension (``low_j == high_j``) covers exactly its one value: every output
    decodes to it, and encoding maps any value to the middle of the bounds.

    Attributes: ``low``, ``high`` ``(D,)`` float64 in native units; ``bounds`` the output
    activation's range; ``margin`` a fraction of each dimension's width (>= 0).
    """

    low: np.ndarray
    high: np.ndarray
    bounds: tuple[float, float]
    margin: float

    def __post_init__(self) -> None:
        low = np.asarray(self.low, dtype=np.float64).reshape(-1)
        high = np.asarray(self.high, dtype=np.float64).reshape(-1)
        a, b = (float(v) for v in self.bounds)
        margin = float(self.margin)
        ok = low.shape == high.shape and np.isfinite(low).all() and np.isfinite(high).all()
        if not (ok and (low <= high).all() and np.isfinite([a, b, margin]).all()):
            raise DataError(f"invalid range scaling: low {low}, high {high}")
        if not (a < b and margin >= 0):
            raise DataError(f"invalid range scaling: bounds {(a, b)}, margin {margin}")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "bounds", (a, b))
        object.__setattr__(self, "margin", margin)

    def affine(self) -> tuple[np.ndarray, np.ndarray, float]:
        """``(middle (D,), scale (D,), centre)``: native = (model - centre) * scale + middle
        (``scale`` is 0 for a constant dimension)."""
        a, b = self.bounds
        scale = (self.high - self.low) * (1 + 2 * self.margin) / (b - a)
        return (self.low + self.high) / 2, scale, (a + b) / 2

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Native ``(N, D)`` -> model space ``(N, D)``: the data's range inside ``bounds``."""
        middle, scale, centre = self.affine()
        varies = scale > 0
        return np.where(varies, (x - middle) / np.where(varies, scale, 1.0) + centre, centre)

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Model space ``(N, D)`` -> native ``(N, D)``; inverse of :meth:`encode`."""
        middle, scale, centre = self.affine()
        return (z - centre) * scale + middle

    def to_codec(self) -> dict[str, Any]:
        return {
            "kind": "range",
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "bounds": list(self.bounds),
            "margin": self.margin,
        }

    @classmethod
    def from_codec(cls, scaling: dict[str, Any], dim: int) -> RangeMap:
        """The map a codec's ``"scaling"`` entry describes, for ``dim`` dimensions."""
        if not isinstance(scaling, dict) or scaling.get("kind") != "range":
            raise CheckpointError(f"unknown data scaling in the checkpoint's codec: {scaling!r}")
        try:
            out = cls(scaling["low"], scaling["high"], tuple(scaling["bounds"]), scaling["margin"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(
                f"invalid range scaling in the checkpoint's codec: {exc}"
            ) from None
        if out.low.size != dim:
            raise CheckpointError(
                f"the codec's range scaling has {out.low.size} dimensions, the data {dim}"
            )
        return out


class Dataset:
    """Base class. Subclasses set ``name``, ``shape`` and ``kind`` and implement
    :meth:`sample_batch` and :meth:`sample_real`.

    Attributes:
        shape: the shape of one sample in model space, e.g. ``(2,)`` or ``(1, 28, 28)``.
        modes: ``(K, D)`` mode centres in native units for mode metrics, or ``None``.
        mode_std: the per-mode standard deviation that defines a high-quality sample.
        columns: names of the native columns (tables), or ``None``.
    """

    name: str = "dataset"
    shape: tuple[int, ...] = ()
    kind: Kind = "lowdim"
    modes: np.ndarray | None = None
    mode_std: float | None = None
    columns: list[str] | None = None
    num_classes: int | None = None
    class_names: list[str] | None = None
    #: number of distinct training samples of a finite dataset (``None``: drawn afresh)
    size: int | None = None
    #: ``(num_classes,)`` frequencies a conditional generator draws its labels from when
    #: none is given, set when the labels are clusters rather than classes (see
    #: :mod:`ganforge.data.clusters`); ``None``: the classes in turn
    label_prior: np.ndarray | None = None

    #: set when model space is the data's range mapped onto a bounded output's range
    range_map: RangeMap | None = None
    #: JSON description of model space for models that shape their output heads to the
    #: data (tables: blocks and conditions, see :mod:`ganforge.data.table.codec`), or None
    output_layout: dict[str, Any] | None = None
    #: flat dimension -> its sorted values, for columns that take a few values only
    #: (codes, flags; see :func:`discrete_levels`): decoding snaps to the nearest of them
    levels: dict[int, np.ndarray] | None = None

    def __init__(self, mean: np.ndarray | None = None, std: np.ndarray | None = None) -> None:
        dim = int(np.prod(self.shape)) if self.shape else 1
        self.mean = np.zeros(dim) if mean is None else np.asarray(mean, dtype=np.float64)
        self.std = np.ones(dim) if std is None else np.asarray(std, dtype=np.float64)

    # -- model space <-> native units -------------------------------------------------
    def encode(self, x: np.ndarray) -> torch.Tensor:
        """Native ``(N, *shape)`` array -> float32 model-space tensor."""
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        rmap = self.range_map
        z = rmap.encode(x) if rmap is not None else (x - self.mean) / self.std
        return torch.from_numpy(z.reshape((len(x), *self.shape))).float()

    def decode(self, x: torch.Tensor) -> np.ndarray:
        """Model-space tensor ``(N, *shape)`` -> native float64 array ``(N, *shape)``."""
        arr = x.detach().to("cpu", torch.float64).numpy().reshape(len(x), -1)
        rmap = self.range_map
        native = rmap.decode(arr) if rmap is not None else arr * self.std + self.mean
        if self.levels:
            native = snap_to_levels(native, self.levels)
        return native.reshape((len(x), *self.shape))

    def value_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-dimension ``(low, high)`` in native units, what a bounded generator output
        must cover. Default: the extremes of :data:`RANGE_SAMPLES` real samples (seed 0),
        i.e. for an infinite toy set the range its training stream covers but for a tail
        of about 1/RANGE_SAMPLES per side; datasets holding finite data return its exact
        range instead."""
        x = np.asarray(self.sample_real(RANGE_SAMPLES, seed=0), dtype=np.float64)
        x = x.reshape(len(x), -1)
        return x.min(axis=0), x.max(axis=0)

    def codec(self) -> dict[str, Any]:
        """What :func:`decoder_from_codec` needs to decode samples without the data."""
        out = {
            "name": self.name,
            "kind": self.kind,
            "shape": list(self.shape),
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "columns": self.columns,
            "modes": None if self.modes is None else self.modes.tolist(),
            "mode_std": self.mode_std,
            "num_classes": self.num_classes,
            "class_names": self.class_names,
        }
        if self.range_map is not None:
            out["scaling"] = self.range_map.to_codec()
        if self.levels:
            out["levels"] = {str(j): v.tolist() for j, v in self.levels.items()}
        if self.label_prior is not None:  # a decoder passes a self-conditioned run's on
            out["label_prior"] = np.asarray(self.label_prior).tolist()
        return out

    # -- sampling -----------------------------------------------------------------------
    def sample_batch(
        self, batch_size: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A training batch ``(x (B, *shape) in model space, labels (B,) int64 or None)``
        drawn with ``generator``."""
        raise NotImplementedError

    def batch_at(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The samples at indices ``idx`` ``(B,)`` of a finite dataset (``size`` set), for
        passes over the data (``--epochs``)."""
        raise NotImplementedError(f"{self.name} has no finite set of samples")

    def sample_real(self, n: int, seed: int) -> np.ndarray:
        """``n`` real samples in native units, reproducible from ``seed`` (for evaluation)."""
        raise NotImplementedError

    def draw_conditions(
        self, n: int, num_classes: int, generator: torch.Generator, device: Any
    ) -> torch.Tensor | None:
        """Conditions ``y`` for ``n`` generated samples of a conditional run: uniform random
        classes ``(n,)`` int64 drawn with ``generator`` on ``device``. Kinds whose
        conditions are not classes (a sequence's prompts) override it."""
        return torch.randint(num_classes, (n,), generator=generator, device=device)


class Decoder(Dataset):
    """A dataset rebuilt from a checkpoint's codec: it decodes but holds no data."""

    def __init__(self, codec: dict[str, Any]) -> None:
        self.name = codec["name"]
        self.kind = codec.get("kind", "lowdim")
        self.shape = tuple(codec["shape"])
        self.columns = codec.get("columns")
        modes = codec.get("modes")
        self.modes = None if modes is None else np.asarray(modes, dtype=np.float64)
        self.mode_std = codec.get("mode_std")
        self.num_classes = codec.get("num_classes")
        self.class_names = codec.get("class_names")
        prior = codec.get("label_prior")  # absent: labels are classes (older checkpoints too)
        self.label_prior = None if prior is None else np.asarray(prior, dtype=np.float64)
        super().__init__(np.asarray(codec["mean"]), np.asarray(codec["std"]))
        if codec.get("scaling") is not None:  # absent: standardised (older checkpoints too)
            self.range_map = RangeMap.from_codec(codec["scaling"], len(self.mean))
        if codec.get("levels"):  # absent: every column continuous (older checkpoints too)
            self.levels = levels_from_codec(codec["levels"], len(self.mean))


#: A column is decoded as discrete when it takes at most this many distinct values ...
MAX_LEVELS = 10
#: ... and the table has at least this many rows per distinct value (a short table's
#: continuous column may repeat a few values by chance) ...
ROWS_PER_LEVEL = 5
#: ... or when the values repeated at least ROWS_PER_LEVEL times hold at least this share
#: of its rows: a rounded or quantised measurement (ages in whole years, a ratio of small
#: integers), whose few unrepeated values are the same grid's rarer points.
ATOM_SHARE = 0.5


def discrete_levels(values: np.ndarray) -> dict[int, np.ndarray] | None:
    """The columns of ``values`` ``(N, D)`` that take few values (at most
    :data:`MAX_LEVELS`, with at least :data:`ROWS_PER_LEVEL` rows per value; a constant
    column counts) or sit mostly on repeated values (:data:`ATOM_SHARE`): column index ->
    its sorted distinct values. ``None`` when there are none. A generator's output is
    continuous; such a column (a flag, a code, a count, a rounded measurement) decodes to
    the nearest of its values, so its samples take the values the data takes, and trains
    on its values spread uniformly over their cells (:func:`level_cells`)."""
    out = {}
    for j in range(values.shape[1]):
        distinct, counts = np.unique(values[:, j], return_counts=True)
        few = len(distinct) <= MAX_LEVELS and len(distinct) * ROWS_PER_LEVEL <= len(values)
        repeated = counts[counts >= ROWS_PER_LEVEL].sum() >= ATOM_SHARE * len(values)
        if few or repeated:
            out[j] = distinct
    return out or None


def index_generator(idx: torch.Tensor) -> torch.Generator:
    """A CPU generator seeded from the bytes of the indices ``idx`` ``(B,)``: what a pass
    over the data (``batch_at``) draws for a batch is a function of the batch's indices."""
    digest = hashlib.blake2b(idx.numpy().tobytes(), digest_size=8).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest, "little") % (2**63))


def level_cells(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The interval ``[low, high]`` of each of the sorted ``levels`` ``(K,)`` that
    :func:`snap_to_levels` maps onto it: from the midpoint with the level below to the
    midpoint with the level above; the outermost levels get a cell as wide on their outer
    side as on their inner one (a single level: a point). Training on each value drawn
    uniformly from its cell (dequantisation) gives the generator a density whose mass per
    cell is the level's frequency, and decoding snaps that mass back onto the level."""
    levels = np.asarray(levels, dtype=np.float64)
    if len(levels) == 1:
        return levels.copy(), levels.copy()
    mids = (levels[1:] + levels[:-1]) / 2
    low = np.concatenate([[2 * levels[0] - mids[0]], mids])
    high = np.concatenate([mids, [2 * levels[-1] - mids[-1]]])
    return low, high


def snap_to_levels(x: np.ndarray, levels: dict[int, np.ndarray]) -> np.ndarray:
    """``x`` ``(N, D)`` with each column ``j`` in ``levels`` moved to its nearest value
    (ties to the lower one). Returns a new array."""
    out = np.array(x, dtype=np.float64, copy=True)
    for j, values in levels.items():
        middles = (values[1:] + values[:-1]) / 2
        out[:, j] = values[np.searchsorted(middles, out[:, j], side="left")]
    return out


def levels_from_codec(levels: Any, dim: int) -> dict[int, np.ndarray]:
    """The column levels a codec's ``"levels"`` entry describes, for ``dim`` columns."""
    try:
        out = {int(j): np.asarray(v, dtype=np.float64).reshape(-1) for j, v in levels.items()}
    except (AttributeError, TypeError, ValueError) as exc:
        raise CheckpointError(f"invalid column levels in the checkpoint's codec: {exc}") from None
    for j, v in out.items():
        if not (0 <= j < dim and v.size and np.isfinite(v).all() and (np.diff(v) > 0).all()):
            raise CheckpointError(f"invalid column levels in the checkpoint's codec: column {j}")
    return out


@dataclass(frozen=True)
class DatasetInfo:
    """Registry entry: how to build a dataset and the defaults that go with it."""

    name: str
    factory: Any  # (config) -> Dataset
    description: str
    default_preset: str
    kind: Kind = "lowdim"
    noise_std: float = 1.0
    eval_samples: int = 2500
    num_classes: int | None = None
    #: the loss a run uses when the user names none
    default_loss: str = "nonsaturating"
    #: training options (``TrainConfig`` field -> value) this data starts from when the
    #: user leaves them unset, e.g. ``{"batch_size": 64, "steps": 4000}``; any other
    #: option falls back to ``ganforge.config.GENERIC_DEFAULTS``
    train_defaults: dict[str, Any] = field(default_factory=dict)


#: data kind -> ``codec -> Dataset`` for kinds whose native form is not ``x * std + mean``.
CODEC_DECODERS: dict[str, Any] = {}


def register_codec_decoder(kind: str, factory: Any) -> None:
    """Let checkpoints of data ``kind`` decode with ``factory(codec) -> Dataset``."""
    if not callable(factory):
        raise TypeError(f"codec decoder for {kind!r} must be callable")
    if kind in CODEC_DECODERS:
        raise ValueError(f"a codec decoder for kind {kind!r} is already registered")
    CODEC_DECODERS[kind] = factory


def decoder_from_codec(codec: dict[str, Any]) -> Dataset:
    factory = CODEC_DECODERS.get(codec.get("kind", "lowdim"))
    return factory(codec) if factory is not None else Decoder(codec)
