"""Synthetic tables from Python and the command line: sampling rows with conditions.

>>> rows = sample_rows(load_generator("runs/00001-people-nonsaturating"), 1000,
...                    where={"sex": "Female"})  # doctest: +SKIP

``where`` fixes categorical or boolean columns to one value each (``""`` asks for an
empty cell). The generator is given the condition of the first such column that is a
model condition (not derived from another column, see :mod:`ganforge.data.table.dependencies`; the table
model was trained to honour it, see :mod:`ganforge.models.table`); every generated row that
does not hold all the asked values is then dropped, and more are drawn until ``n`` rows
match, so the result holds exactly what was asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.errors import ConfigError
from ganforge.training.sampling import draw_noise

#: candidate rows generated per round while filling a conditional request
ROUND_ROWS = 4096
#: rounds before giving up on a condition the model (almost) never produces
MAX_ROUNDS = 50


def parse_where(items: list[str] | None) -> dict[str, str]:
    """``["sex=Female", "smoker=yes"]`` -> ``{"sex": "Female", "smoker": "yes"}``."""
    out: dict[str, str] = {}
    for item in items or []:
        column, eq, value = item.partition("=")
        if not eq or not column.strip():
            raise ConfigError(f"--where takes COLUMN=VALUE, got {item!r}")
        out[column.strip()] = value.strip()
    return out


@torch.inference_mode()
def _generate(loaded: Any, n: int, seed: int, y: int | None, truncation: float | None):
    """``n`` native rows ``(n, C)`` from the loaded generator, condition ``y`` or none."""
    cfg, g = loaded.config, loaded.generator
    device = next(g.parameters()).device
    rng = torch.Generator().manual_seed(int(seed))
    g.eval()
    chunks = []
    for start in range(0, n, ROUND_ROWS):
        b = min(ROUND_ROWS, n - start)
        z = draw_noise((b, cfg.model.noise_dim), cfg.noise, rng, truncation=truncation)
        z = z.mul_(cfg.noise_std).to(device)
        cond = None if y is None else torch.full((b,), y, dtype=torch.long, device=device)
        chunks.append(loaded.decoder.decode(g(z, cond).cpu()))
    return np.concatenate(chunks, axis=0)


def sample_rows(
    loaded: Any,
    n: int,
    seed: int = 0,
    where: dict[str, str] | None = None,
    truncation: float | None = None,
) -> np.ndarray:
    """``n`` native rows ``(n, C)`` from a table run's loaded generator
    (:func:`ganforge.api.load_generator`), each holding every ``where`` value.
    Reproducible from ``seed``. Unknown columns or values, or a condition on a number
    column: :class:`ConfigError`."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"number of rows must be a positive integer, got {n!r}")
    table = getattr(loaded.decoder, "table", None)
    if table is None:
        raise ConfigError("this run is not a table model; --where applies to tables")
    asked = [table.where(column, value) for column, value in (where or {}).items()]
    if not asked:
        return _generate(loaded, n, seed, None, truncation)
    y = next((flat for _, _, flat in asked if flat is not None), None)
    kept: list[np.ndarray] = []
    found = 0
    for round_ in range(MAX_ROUNDS):
        rows = _generate(loaded, max(n, ROUND_ROWS), seed + 7919 * round_, y, truncation)
        ok = np.ones(len(rows), dtype=bool)
        for j, idx, _ in asked:
            ok &= np.isnan(rows[:, j]) if idx < 0 else rows[:, j] == idx
        kept.append(rows[ok])
        found += int(ok.sum())
        if found >= n:
            return np.concatenate(kept)[:n]
    shown = ", ".join(f"{c}={v!r}" for c, v in (where or {}).items())
    raise ConfigError(
        f"--where {shown}: the model produced only {found} matching rows of "
        f"{MAX_ROUNDS * max(n, ROUND_ROWS)} generated; the combination is too rare in it"
    )


def write_rows(
    loaded: Any,
    out: str | Path,
    n: int,
    seed: int = 0,
    where: dict[str, str] | None = None,
    truncation: float | None = None,
) -> np.ndarray:
    """Sample ``n`` rows (see :func:`sample_rows`) and write them atomically to ``out``:
    a ``.csv`` with the table's header and formats, or a ``.npy`` of native values.
    Returns the native rows ``(n, C)``."""
    from ganforge.data.table import write_table_csv
    from ganforge.io import atomic_path

    out = Path(out)
    if out.suffix.lower() not in (".csv", ".npy") or out.is_dir():
        raise ConfigError(f"--out must be a .csv or .npy file for a table, got {str(out)!r}")
    native = sample_rows(loaded, n, seed, where, truncation)
    if out.suffix.lower() == ".npy":
        with atomic_path(out) as tmp, open(tmp, "wb") as fh:
            np.save(fh, native)
    else:
        write_table_csv(out, loaded.decoder.columns, loaded.decoder.rows(native))
    return native
