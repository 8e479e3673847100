"""Data kind ``table``: a mixed-type CSV file as a dataset, and its checkpoint decoder.

:class:`TableData` reads the file (never writes it), infers or reads the column spec,
fits a :class:`~ganforge.data.table.codec.TableCodec` on the training rows and holds out
:data:`HOLDOUT_FRACTION` of the rows (at most :data:`HOLDOUT_MAX`, chosen with seed 0)
that training never sees: the evaluator compares the generated rows with the training
rows and, beside every figure, the held-out rows with the training rows.

Samples in model space are ``(B, row_dim + cond_dim)``: the encoded row then the condition
vector (see :mod:`.codec`). ``decode`` returns native values ``(N, C)`` float64;
:meth:`TableData.rows` or :func:`write_table_csv` turn them into the file's text.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.data.base import Dataset, index_generator
from ganforge.data.table.codec import TableCodec
from ganforge.data.table.reader import RawTable, read_csv_table
from ganforge.data.table.spec import infer_spec, load_spec
from ganforge.errors import CheckpointError, DataError

HOLDOUT_FRACTION = 0.2
HOLDOUT_MAX = 5000


def holdout_split(n: int, fraction: float = HOLDOUT_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """``(train indices, held-out indices)`` of ``n`` rows: a seed-0 permutation, the
    first ``min(round(fraction n), HOLDOUT_MAX)`` held out (none when ``fraction`` is 0
    or the table has fewer than 10 rows)."""
    h = min(int(round(fraction * n)), HOLDOUT_MAX) if n >= 10 else 0
    perm = np.random.default_rng(0).permutation(n)
    return np.sort(perm[h:]), np.sort(perm[:h])


class _TableBase(Dataset):
    kind = "table"

    def _setup(self, codec: TableCodec, name: str) -> None:
        self.table = codec
        self.name = name
        self.columns = list(codec.columns)
        self.shape = (codec.row_dim + codec.cond_dim,)
        self.output_layout = codec.layout()
        super().__init__(np.zeros(self.shape[0]), np.ones(self.shape[0]))

    def encode(self, x: np.ndarray) -> torch.Tensor:
        """Native ``(N, C)`` -> model space ``(N, row_dim + cond_dim)`` (an all-zero
        condition vector: rows, not training pairs)."""
        rows = self.table.encode(np.asarray(x, dtype=np.float64))
        cond = np.zeros((len(rows), self.table.cond_dim), dtype=np.float32)
        return torch.from_numpy(np.concatenate([rows, cond], axis=1))

    def decode(self, x: torch.Tensor) -> np.ndarray:
        """Model space ``(N, row_dim + cond_dim)`` -> native ``(N, C)`` float64."""
        return self.table.decode(x.detach().to("cpu", torch.float64).numpy())

    def rows(self, native: np.ndarray) -> list[list[str]]:
        return self.table.rows(native)

    def codec(self) -> dict[str, Any]:
        out = super().codec()
        out.update(mean=[], std=[], table=self.table.to_json())
        return out


class TableData(_TableBase):
    """Rows of a mixed-type CSV file (see the module docstring)."""

    def __init__(self, path: str | Path, spec: str | Path | None = None, seed: int = 0) -> None:
        raw = read_csv_table(path)
        specs = load_spec(spec, raw) if spec is not None else infer_spec(raw)
        train_idx, held_idx = holdout_split(raw.n_rows)
        train = RawTable(raw.path, raw.header, [[c[i] for i in train_idx] for c in raw.cells])
        codec = TableCodec.fit(train, specs, seed=seed, domain=raw)
        self._setup(codec, str(path))
        native = codec.native(raw)
        self.train_native = native[train_idx]
        self.holdout_native = native[held_idx]
        self._rows = torch.from_numpy(codec.encode(self.train_native, seed=seed))
        self._build_sampler()

    @property
    def size(self) -> int:
        return len(self.train_native)

    def _build_sampler(self) -> None:
        """Per condition column: training rows sorted by one-hot position, where each
        position starts, how many rows hold it, and the capped log-frequency probabilities."""
        codec = self.table
        self._order, self._start, self._count = [], [], []
        for j in codec.cond_columns:
            pos = codec.transforms[j].positions(self.train_native[:, j])
            counts = np.bincount(pos, minlength=codec.transforms[j].cond_width)
            self._order.append(torch.from_numpy(np.argsort(pos, kind="stable")))
            self._start.append(torch.from_numpy(np.concatenate([[0], np.cumsum(counts)[:-1]])))
            self._count.append(torch.from_numpy(counts))
        probs = codec.condition_probs(log_frequency=True)
        self._probs = [torch.from_numpy(p) for p in probs]
        self._anchor = None  # each training row's flat anchor condition index
        if codec.anchor is not None:
            k = codec.anchor["column"]
            j = codec.cond_columns[k]
            pos = codec.transforms[j].positions(self.train_native[:, j])
            self._anchor = torch.from_numpy(codec.cond_offsets[k] + pos)

    def sample_batch(
        self, batch_size: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, None]:
        """Training-by-sampling: per row a condition column (uniform), a value of it
        (capped log-frequency, at most 5x its share) and a training row holding that
        value, whose anchor value (when the codec has an anchor column) is set in the
        condition too; ``(B, row_dim + cond_dim)`` in model space."""
        codec = self.table
        if not codec.cond_columns:
            idx = torch.randint(self.size, (batch_size,), generator=generator)
            return self._rows[idx], None
        col = torch.randint(len(codec.cond_columns), (batch_size,), generator=generator)
        u = torch.rand(batch_size, generator=generator, dtype=torch.float64)
        rows = torch.empty(batch_size, dtype=torch.long)
        cond = torch.zeros(batch_size, codec.cond_dim)
        for k in range(len(codec.cond_columns)):
            where = (col == k).nonzero().squeeze(1)
            if len(where) == 0:
                continue
            pos = torch.multinomial(self._probs[k], len(where), True, generator=generator)
            take = (u[where] * self._count[k][pos]).long()
            rows[where] = self._order[k][self._start[k][pos] + take]
            cond[where, codec.cond_offsets[k] + pos] = 1.0
        if self._anchor is not None:  # every row also holds its own anchor value
            cond[torch.arange(batch_size), self._anchor[rows]] = 1.0
        return torch.cat([self._rows[rows], cond], dim=1), None

    def batch_at(self, idx: torch.Tensor) -> tuple[torch.Tensor, None]:
        """A pass over the data draws ``len(idx)`` pairs by training-by-sampling, seeded
        from the indices (the conditions, not the indices, choose the rows)."""
        return self.sample_batch(len(idx), index_generator(idx))

    def sample_real(self, n: int, seed: int) -> np.ndarray:
        """``n`` training rows (with replacement), native ``(n, C)``."""
        idx = np.random.default_rng(seed).integers(self.size, size=n)
        return self.train_native[idx]


class TableDecoder(_TableBase):
    """A table dataset rebuilt from a checkpoint's codec: decodes, holds no rows."""

    def __init__(self, codec: dict[str, Any]) -> None:
        if not isinstance(codec.get("table"), dict):
            raise CheckpointError("the checkpoint's codec has no table description")
        self._setup(TableCodec.from_json(codec["table"]), codec.get("name", "table"))
        if list(self.shape) != list(codec.get("shape", [])):
            raise CheckpointError(
                f"the table codec describes {self.shape[0]} dimensions, the checkpoint "
                f"{codec.get('shape')}"
            )

    def sample_real(self, n: int, seed: int) -> np.ndarray:
        raise DataError("a checkpoint's table decoder holds no real rows")


def write_table_csv(path: str | Path, header: list[str], rows: list[list[str]]) -> None:
    """Write ``rows`` under ``header`` to ``path`` atomically (UTF-8, csv module)."""
    from ganforge.io import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
