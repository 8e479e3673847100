"""Numeric tables from CSV and NPY: optional header, standardised for training, decoded
back to original units, and every malformed file rejected with a ValueError naming it."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.data import dataset_info, decoder_from_codec
from ganforge.data.base import discrete_levels, level_cells, snap_to_levels
from ganforge.data.tabular import TableDataset, read_numeric_csv
from ganforge.errors import CheckpointError


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_header(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "height,weight\n1.5,60\n1.7,80\n1.9,70\n")
    values, header = read_numeric_csv(path)
    assert header == ["height", "weight"]
    np.testing.assert_array_equal(values, [[1.5, 60], [1.7, 80], [1.9, 70]])
    ds = TableDataset(path)
    assert ds.columns == ["height", "weight"] and ds.shape == (2,)


def test_csv_without_header(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "1,2\n3,4\n5,6\n")
    values, header = read_numeric_csv(path)
    assert header is None
    np.testing.assert_array_equal(values, [[1, 2], [3, 4], [5, 6]])
    assert TableDataset(path).columns == ["x1", "x2"]


def test_csv_with_byte_order_mark_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffa,b\n1,2\n\n3,4\n".encode())
    values, header = read_numeric_csv(path)
    assert header == ["a", "b"]
    np.testing.assert_array_equal(values, [[1, 2], [3, 4]])


def test_columns_are_standardised_for_training_and_decoded_to_original_units(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(0)
    data = np.stack([rng.normal(100, 5, 500), rng.normal(0.001, 1e-4, 500)], axis=1)
    path = tmp_path / "t.csv"
    path.write_text("big,small\n" + "\n".join(f"{a:.17g},{b:.17g}" for a, b in data) + "\n")
    ds = TableDataset(path)
    np.testing.assert_allclose(ds.mean, data.mean(0), rtol=1e-12)
    np.testing.assert_allclose(ds.std, data.std(0), rtol=1e-12)

    encoded = ds.encode(data)
    np.testing.assert_allclose(encoded.mean(0).numpy(), 0.0, atol=1e-5)
    np.testing.assert_allclose(encoded.std(0, unbiased=False).numpy(), 1.0, atol=1e-5)

    x, labels = ds.sample_batch(4000, torch.Generator().manual_seed(0))
    assert labels is None and x.dtype == torch.float32 and x.shape == (4000, 2)
    native = ds.decode(x)
    # every batch row is a row of the file, in original units after decoding
    nearest = np.abs(native[:, None, :] - data[None]).max(-1).min(1)
    assert nearest.max() < 1e-4 * np.abs(data).max()
    # a unit step in model space is one column std in native units
    one = ds.decode(torch.ones(1, 2)) - ds.decode(torch.zeros(1, 2))
    np.testing.assert_allclose(one[0], data.std(0), rtol=1e-6)
    np.testing.assert_allclose(ds.decode(torch.zeros(1, 2))[0], data.mean(0), rtol=1e-6)


def test_codec_decodes_without_the_data(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "a,b\n1,100\n2,300\n3,200\n")
    ds = TableDataset(path)
    decoder = decoder_from_codec(ds.codec())
    z = torch.randn(10, 2)
    np.testing.assert_array_equal(decoder.decode(z), ds.decode(z))
    assert decoder.columns == ["a", "b"]


def test_constant_column_stays_constant(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "a,b\n1,7\n2,7\n3,7\n")
    ds = TableDataset(path)
    assert np.isfinite(ds.encode(ds.values).numpy()).all()
    np.testing.assert_allclose(ds.decode(torch.zeros(2, 2))[:, 1], 7.0)


def test_real_samples_are_rows_of_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "1,2\n3,4\n5,6\n")
    rows = TableDataset(path).sample_real(50, seed=0)
    assert {tuple(r) for r in rows.tolist()} <= {(1, 2), (3, 4), (5, 6)}


def test_npy_two_and_one_dimensional(tmp_path: Path) -> None:
    arr = np.arange(12, dtype=np.int32).reshape(6, 2)
    np.save(tmp_path / "a.npy", arr)
    ds = TableDataset(tmp_path / "a.npy")
    assert ds.shape == (2,) and ds.columns == ["x1", "x2"]
    np.testing.assert_array_equal(ds.values, arr.astype(float))
    np.save(tmp_path / "b.npy", np.array([1.0, 2.0, 4.0]))
    assert TableDataset(tmp_path / "b.npy").shape == (1,)


def test_a_table_path_is_a_dataset_name(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "1,2\n3,4\n")
    info = dataset_info(str(path))
    assert info.default_preset == "mlp-tabular"
    assert isinstance(info.factory(None), TableDataset)


# -- malformed files ------------------------------------------------------------------------

BAD_CSV = [
    ("text.csv", "a,b\n1,2\n3,abc\n", r"row 3, column 'b' is not a number: 'abc'"),
    ("text_noheader.csv", "1,2\n3,4\n5,x\n", r"row 3, column '2' is not a number"),
    ("nan.csv", "a,b\n1,2\n3,nan\n", r"row 3, column 'b' is not finite"),
    ("inf.csv", "a,b\n1,inf\n3,4\n", r"row 2, column 'b' is not finite"),
    ("nan_first.csv", "nan,1\n2,3\n", r"row 1, column '1' is not finite"),
    ("empty_cell.csv", "a,b\n1,\n3,4\n", r"row 2, column 'b' is not a number"),
    ("ragged.csv", "a,b\n1,2\n3\n", r"row 3 has 1 columns, expected 2"),
    ("empty.csv", "", r"empty"),
    ("blank.csv", "\n \n", r"empty"),
    ("header_only.csv", "a,b\n", r"no data rows"),
    ("one_row.csv", "a,b\n1,2\n", r"at least 2 rows"),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD_CSV, ids=[c[0] for c in BAD_CSV])
def test_bad_csv_files_are_rejected(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = _write(tmp_path / name, text)
    with pytest.raises(ValueError, match=message) as info:
        TableDataset(path)
    assert name in str(info.value)
    assert "\n" not in str(info.value)


def _npy(path: Path, arr: np.ndarray) -> Path:
    np.save(path, arr)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: _npy(p, np.array([[1.0, np.nan], [2.0, 3.0]])), "row 1, column 2 is not finite"),
        (lambda p: _npy(p, np.zeros((0, 3))), "empty"),
        (lambda p: _npy(p, np.zeros((2, 2, 2))), "1-D or 2-D"),
        (lambda p: _npy(p, np.array([["a", "b"], ["c", "d"]])), "numeric"),
        (lambda p: _npy(p, np.array([1 + 2j, 3j])), "numeric"),
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(b"not an npy file at all"), "not a numeric .npy"),
    ],
    ids=["nan", "no-rows", "3d", "strings", "complex", "empty-file", "garbage"],
)
def test_bad_npy_files_are_rejected(tmp_path: Path, make, message: str) -> None:
    path = tmp_path / "bad.npy"
    make(path)
    with pytest.raises(ValueError, match=message):
        TableDataset(path)


def test_pickled_npy_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.npy"
    np.save(path, np.array([Evil(), Evil()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        TableDataset(path)
    assert not marker.exists()
    pickle.loads(pickle.dumps(Evil())).close()  # the payload is real: unpickling runs it
    assert marker.exists()


def test_missing_directory_and_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        TableDataset(tmp_path / "missing.csv")
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(ValueError, match="is a directory"):
        TableDataset(tmp_path / "d.csv")
    _write(tmp_path / "t.tsv", "1,2\n3,4\n")  # (.txt files are lines of text: sequences)
    with pytest.raises(ValueError, match=r"\.csv, \.npy or \.txt"):
        dataset_info(str(tmp_path / "t.tsv"))


def _coded_table(tmp_path: Path) -> Path:
    """60 rows: a continuous column, a 0/1 flag and a code in {-2, 0.5, 7}."""
    rng = np.random.default_rng(0)
    rows = [f"{rng.normal():.6f},{i % 2},{(-2.0, 0.5, 7.0)[i % 3]}" for i in range(60)]
    return _write(tmp_path / "t.csv", "x,flag,code\n" + "\n".join(rows) + "\n")


def test_columns_with_few_values_decode_to_the_nearest_value_of_the_file(tmp_path: Path) -> None:
    ds = TableDataset(_coded_table(tmp_path))
    assert sorted(ds.levels) == [1, 2]  # the flag and the code; x is continuous
    np.testing.assert_array_equal(ds.levels[2], [-2.0, 0.5, 7.0])
    # native values (before snapping) 0.49 / 0.51 for the flag, 3.74 / 3.76 for the code
    # (the middle of 0.5 and 7 is 3.75)
    native = np.array([[0.3, 0.49, 3.74], [-1.2, 0.51, 3.76], [5.0, -9.0, -100.0]])
    out = ds.decode(ds.encode(native))
    np.testing.assert_allclose(out[:, 0], native[:, 0], rtol=1e-6)
    np.testing.assert_array_equal(out[:, 1:], [[0, 0.5], [1, 7], [0, -2]])
    codec = json.loads(json.dumps(ds.codec()))
    z = torch.randn(50, 3) * 3
    np.testing.assert_array_equal(decoder_from_codec(codec).decode(z), ds.decode(z))


def test_a_short_table_keeps_its_columns_continuous(tmp_path: Path) -> None:
    # 3 rows with 2 distinct values: fewer than 5 rows per value, so not a code column
    path = _write(tmp_path / "t.csv", "a,b\n1,7\n2,7\n1,8\n")
    assert TableDataset(path).levels is None
    assert "levels" not in TableDataset(path).codec()


def test_discrete_levels_rule() -> None:
    # 100 rows: 10 values (discrete); 20 values 5 times each (repeated: all rows on values
    # seen >= 5 times); 10 values 5 times and 50 unique ones (half the rows repeated:
    # the least share that counts); 9 values 5 times and 55 unique (45%: continuous);
    # a constant
    repeated = np.concatenate([np.repeat(np.arange(10.0), 5), np.arange(100.0, 150.0)])
    too_few = np.concatenate([np.repeat(np.arange(9.0), 5), np.arange(100.0, 155.0)])
    values = np.stack(
        [np.arange(100) % 10, np.arange(100) % 20, repeated, too_few, np.full(100, 3.0)], 1
    ).astype(float)
    levels = discrete_levels(values)
    assert sorted(levels) == [0, 1, 2, 4]
    np.testing.assert_array_equal(levels[2], np.unique(repeated))  # every value, not only repeats
    assert discrete_levels(values[:40, :1]) is None  # 10 values in 40 rows, each 4 times


def test_level_cells_are_the_intervals_snapping_maps_onto_each_level() -> None:
    levels = np.array([-2.0, 0.5, 7.0])
    low, high = level_cells(levels)
    np.testing.assert_allclose(low, [-3.25, -0.75, 3.75])
    np.testing.assert_allclose(high, [-0.75, 3.75, 10.25])
    inside = np.stack([np.linspace(lo, hi, 7)[1:-1] for lo, hi in zip(low, high, strict=True)])
    snapped = snap_to_levels(inside.reshape(-1, 1), {0: levels}).reshape(3, 5)
    np.testing.assert_array_equal(snapped, np.repeat(levels[:, None], 5, 1))
    np.testing.assert_array_equal(level_cells(np.array([4.0])), ([4.0], [4.0]))


def test_training_rows_of_a_level_column_are_spread_over_their_cells(tmp_path: Path) -> None:
    # the flag (0/1) and the code (-2, 0.5, 7) are drawn within their cells; x is exact
    ds = TableDataset(_coded_table(tmp_path))
    x, _ = ds.sample_batch(20000, torch.Generator().manual_seed(0))
    native = x.double().numpy() * ds.std + ds.mean
    assert np.isin(np.round(native[:, 0], 4), np.round(ds.values[:, 0], 4)).all()
    code = native[:, 2]
    assert code.min() >= -3.25 - 1e-4 and code.max() <= 10.25 + 1e-4
    assert len(np.unique(np.round(code, 3))) > 1000  # spread, not three points
    decoded = ds.decode(x)
    for j in (1, 2):  # decoding gives back each value at its rate in the file
        values, counts = np.unique(ds.values[:, j], return_counts=True)
        got = np.array([(decoded[:, j] == v).mean() for v in values])
        np.testing.assert_allclose(got, counts / counts.sum(), atol=0.015)
    first, _ = ds.batch_at(torch.arange(8))
    again, _ = ds.batch_at(torch.arange(8))
    torch.testing.assert_close(first, again, rtol=0, atol=0)  # a pass is reproducible
    np.testing.assert_array_equal(ds.decode(first)[:, 1:], ds.values[:8, 1:])
    np.testing.assert_allclose(ds.decode(first)[:, 0], ds.values[:8, 0], rtol=1e-5)


@pytest.mark.parametrize(
    "levels", [{"5": [1.0]}, {"0": []}, {"0": [2.0, 1.0]}, {"x": [1.0]}, [1.0], {"0": ["a"]}]
)
def test_damaged_levels_in_a_codec_are_a_checkpoint_error(levels: object, tmp_path: Path) -> None:
    codec = TableDataset(_coded_table(tmp_path)).codec()
    codec["levels"] = levels
    with pytest.raises(CheckpointError, match="levels"):
        decoder_from_codec(codec)


def test_a_bounded_generator_snaps_the_same_columns(tmp_path: Path) -> None:
    from ganforge.data.scaling import scale_for_output

    ds = scale_for_output(TableDataset(_coded_table(tmp_path)), "tanh")
    assert sorted(ds.levels) == [1, 2] and ds.codec()["levels"].keys() == {"1", "2"}
    out = ds.decode(torch.rand(40, 3) * 2 - 1)
    assert set(out[:, 1]) <= {0.0, 1.0} and set(out[:, 2]) <= {-2.0, 0.5, 7.0}
