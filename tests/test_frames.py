"""The DataFrame API (optional pandas): fit a frame, sample frames with the same columns
and dtypes (nullable where cells are missing), condition with where, save and load
through safetensors + JSON, and refuse what is not a frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ganforge
from ganforge.errors import ConfigError, DataError, OutputError

pd = pytest.importorskip("pandas")


def _frame(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "sex": rng.choice(["F", "M"], n, p=[0.3, 0.7]),
            "income": np.where(rng.random(n) < 0.1, np.nan, rng.normal(50, 10, n).round(2)),
            "member": rng.random(n) < 0.4,
            "joined": pd.to_datetime("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "kids": pd.array(np.where(rng.random(n) < 0.1, None, rng.integers(0, 3, n)), "Int64"),
        }
    )


def test_fit_sample_save_load(tmp_path: Path) -> None:
    df = _frame()
    before = df.copy()
    model = ganforge.fit(df, steps=10, batch_size=64, threads=1, out=tmp_path / "run")
    pd.testing.assert_frame_equal(df, before)  # the caller's frame is untouched
    out = model.sample(200, seed=1)
    assert list(out.columns) == list(df.columns) and len(out) == 200
    assert out["age"].dtype == np.int64 and out["income"].dtype == np.float64
    assert out["member"].dtype == bool and str(out["kids"].dtype) == "Int64"
    assert pd.api.types.is_datetime64_any_dtype(out["joined"])
    assert set(out["sex"]) <= {"F", "M"}
    assert out["age"].between(18, 79).all()  # clipped to the observed range
    assert set(model.sample(30, seed=2, where={"sex": "F"})["sex"]) == {"F"}
    saved = model.save(tmp_path / "saved")
    assert sorted(p.name for p in (saved / "checkpoints").iterdir()) == ["latest.safetensors"]
    again = ganforge.TableModel.load(saved)
    pd.testing.assert_frame_equal(again.sample(50, seed=3), model.sample(50, seed=3))
    with pytest.raises(OutputError):
        model.save(saved)


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="DataFrame"):
        ganforge.fit([[1, 2]], steps=1, out=tmp_path / "a")
    model_dir = tmp_path / "b"
    model = ganforge.fit(_frame(60), steps=2, batch_size=16, threads=1, out=model_dir)
    with pytest.raises(ConfigError, match="unknown column 'gender'"):
        model.sample(5, where={"gender": "F"})
