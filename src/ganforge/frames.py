"""Synthetic tables for people who live in pandas (the optional ``tabular`` extra).

>>> import ganforge
>>> model = ganforge.fit(df, steps=3000, seed=0)           # doctest: +SKIP
>>> synthetic = model.sample(1000, seed=1, where={"sex": "Female"})  # a DataFrame
>>> model.save("people-model")                              # safetensors + JSON
>>> model = ganforge.TableModel.load("people-model")

:func:`fit` writes the DataFrame as a CSV into the run directory (``out``, default a new
temporary folder) and trains the table model on it exactly as ``ganforge train --dataset
FILE.csv`` would; the run directory holds the usual files (``config.json``,
``metrics.json``, checkpoints) plus ``frame.json``, the DataFrame's column dtypes, so
samples come back with the same dtypes. Saving copies the files the model needs; loading
reads safetensors and JSON only (no pickle).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ganforge.errors import ConfigError, DataError, OutputError

FRAME_FILE = "frame.json"
DATA_FILE = "table.csv"


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - exercised where pandas is absent
        raise ConfigError(
            "the DataFrame API needs pandas: pip install 'ganforge[tabular]'"
        ) from None
    return pd


def _column_text(s: Any, pd: Any) -> tuple[list[str], str]:
    """A Series as CSV cells ("" for missing) and its dtype's name."""
    dtype = str(s.dtype)
    missing = s.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(s):
        present = s[~missing]
        midnight = bool((present == present.dt.normalize()).all())
        cells = s.dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S").tolist()
    elif pd.api.types.is_bool_dtype(s):
        cells = ["True" if v else "False" for v in s.fillna(False).tolist()]
    elif pd.api.types.is_float_dtype(s) and s.dropna().apply(float.is_integer).all():
        cells = [str(int(v)) if v == v else "" for v in s.tolist()]  # integers stored as floats
    else:
        cells = [str(v) for v in s.tolist()]
    return ["" if m else c for c, m in zip(cells, missing, strict=True)], dtype


def frame_to_csv(df: Any, path: str | Path) -> dict[str, str]:
    """Write ``df`` as a CSV ganforge reads as a table; returns ``{column: dtype}``."""
    import csv

    pd = _pandas()
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"fit() takes a pandas DataFrame or a CSV path, got {type(df).__name__}")
    if len(df.columns) == 0 or len(df) < 2:
        raise DataError(f"the DataFrame needs columns and at least 2 rows, got shape {df.shape}")
    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        raise DataError("the DataFrame has duplicated column names")
    columns, dtypes = [], {}
    for name, col in zip(names, df.columns, strict=True):
        cells, dtypes[name] = _column_text(df[col], pd)
        columns.append(cells)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        w.writerows(zip(*columns, strict=True))
    return dtypes


def rows_to_frame(header: list[str], rows: list[list[str]], dtypes: dict[str, str]) -> Any:
    """Rows of CSV text -> a DataFrame with the original ``dtypes`` (nullable integer or
    boolean dtypes where a column has missing cells)."""
    pd = _pandas()
    df = pd.DataFrame(rows, columns=header, dtype=object).replace("", None)
    for name in header:
        kind = dtypes.get(name, "object")
        s = df[name]
        if kind.startswith(("int", "uint", "Int", "UInt")):
            s = pd.to_numeric(s)
            s = s.astype("int64") if not s.isna().any() else s.astype("Int64")
        elif kind.startswith(("float", "Float")):
            s = pd.to_numeric(s).astype("float64")
        elif kind in ("bool", "boolean"):
            s = s.map({"True": True, "False": False})
            s = s.astype("bool") if not s.isna().any() else s.astype("boolean")
        elif kind.startswith("datetime64"):
            s = pd.to_datetime(s)
        elif kind != "object":  # category, string and other named dtypes
            with contextlib.suppress(TypeError, ValueError):
                s = s.astype(kind)
        df[name] = s
    return df


class TableModel:
    """A trained table model: :meth:`sample` DataFrames, :meth:`save`, :meth:`load`."""

    def __init__(self, run_dir: str | Path, which: str = "latest") -> None:
        from ganforge.api import load_generator

        self.run_dir = Path(run_dir)
        self.generator = load_generator(self.run_dir, which)
        if getattr(self.generator.decoder, "table", None) is None:
            raise ConfigError(f"{run_dir} is not a table model")
        frame = self.run_dir / FRAME_FILE
        self.dtypes: dict[str, str] = json.loads(frame.read_text()) if frame.exists() else {}
        metrics = self.run_dir / "metrics.json"
        self.metrics = json.loads(metrics.read_text()) if metrics.exists() else {}

    @property
    def columns(self) -> list[str]:
        return list(self.generator.decoder.columns)

    def sample(self, n: int, seed: int = 0, where: dict[str, Any] | None = None) -> Any:
        """``n`` synthetic rows as a DataFrame (the training frame's columns and dtypes),
        reproducible from ``seed``; ``where`` fixes categorical columns' values."""
        from ganforge.tables import sample_rows

        asked = {str(k): _cell(v) for k, v in (where or {}).items()}
        native = sample_rows(self.generator, n, seed, asked)
        decoder = self.generator.decoder
        return rows_to_frame(self.columns, decoder.rows(native), self.dtypes)

    def save(self, path: str | Path) -> Path:
        """Copy the model (config, metrics, dtypes, latest checkpoint) to a new folder."""
        path = Path(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise OutputError(f"{str(path)!r} exists and is not an empty folder")
        (path / "checkpoints").mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "metrics.json", FRAME_FILE):
            if (self.run_dir / name).exists():
                shutil.copy2(self.run_dir / name, path / name)
        shutil.copy2(self.generator.path, path / "checkpoints" / "latest.safetensors")
        return path

    @classmethod
    def load(cls, path: str | Path) -> TableModel:
        """A model saved with :meth:`save` (or any table run directory)."""
        return cls(path)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def fit(
    data: Any,
    *,
    steps: int = 3000,
    seed: int = 0,
    out: str | Path | None = None,
    columns: str | Path | None = None,
    progress: bool = False,
    **options: Any,
) -> TableModel:
    """Train the table model on a DataFrame (or a CSV path) and return it.

    ``out``: the run directory (new or empty; default a new temporary folder);
    ``columns``: a column spec YAML; other ``options`` are :class:`TrainConfig` fields
    (``loss``, ``batch_size``, ``threads``, ...; ``preset`` defaults to ``ctgan``)."""
    from ganforge.config import TrainConfig
    from ganforge.io import write_json
    from ganforge.training import rundir
    from ganforge.training.trainer import Trainer

    run = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="ganforge-table-"))
    rundir.prepare_run_dir(run)
    if isinstance(data, (str, Path)):
        dataset, dtypes = str(data), {}
    else:
        dataset = str(run / DATA_FILE)
        dtypes = frame_to_csv(data, dataset)
    write_json(run / FRAME_FILE, dtypes)
    options.setdefault("preset", "ctgan")  # the table model, even for an all-numeric frame
    options.setdefault("sample_every", 0)  # no per-step snapshot figures (plots are slow)
    spec = None if columns is None else str(columns)
    cfg = TrainConfig(dataset=dataset, steps=steps, seed=seed, columns=spec, **options)
    trainer = Trainer(cfg, progress=progress)
    trainer.run_dir = run
    write_json(run / "config.json", trainer.cfg.to_dict())
    trainer.fit()
    return TableModel(run)
