"""Mixed-type tables: type inference, column specs, per-column transforms that decode
back to the file's values, missing cells, the category cap, the JSON codec, routing of
CSV files, and bad files rejected with one line naming the problem."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import write_csv
from ganforge.data import build_dataset, dataset_info, decoder_from_codec
from ganforge.data.table import (
    TableData,
    infer_spec,
    load_spec,
    read_csv_table,
    spec_to_yaml,
)
from ganforge.data.table.transforms import CategoryTransform, NumberTransform
from ganforge.errors import DataError

_write_rows = write_csv


def _mixed(path: Path, n: int = 300, seed: int = 0) -> Path:
    """A table with every column type, missing cells and a bimodal number."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        sex = "Female" if rng.random() < 0.3 else "Male"
        income = rng.normal(20.0, 1.0) if rng.random() < 0.5 else rng.normal(80.0, 2.0)
        rows.append(
            [
                int(rng.integers(18, 90)),
                "" if i % 10 == 3 else f"{income:.2f}",
                sex,
                f"2021-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}",
                "yes" if rng.random() < 0.4 else "no",
                int(rng.integers(0, 3)),
            ]
        )
    header = ["age", "income", "sex", "joined", "smoker", "children"]
    return _write_rows(path, header, rows)


# -- inference and specs --------------------------------------------------------------------


def test_column_types_are_inferred(tmp_path: Path) -> None:
    raw = read_csv_table(_mixed(tmp_path / "t.csv"))
    specs = {s.name: s for s in infer_spec(raw)}
    assert {n: s.type for n, s in specs.items()} == {
        "age": "integer",
        "income": "continuous",
        "sex": "categorical",
        "joined": "datetime",
        "smoker": "boolean",
        "children": "categorical",  # three distinct integers: few, so categories
    }
    assert specs["income"].decimals == 2
    assert specs["joined"].format == "%Y-%m-%d"


def test_missing_tokens_and_datetime_with_time(tmp_path: Path) -> None:
    path = _write_rows(
        tmp_path / "t.csv",
        ["x", "when"],
        [["1.5", "2020-01-01 10:00:00"], ["NA", "2020-01-02 11:30:00"], ["?", ""], ["2.5", "n/a"]],
    )
    raw = read_csv_table(path)
    specs = infer_spec(raw)
    assert [s.type for s in specs] == ["continuous", "datetime"]
    assert specs[1].format == "%Y-%m-%d %H:%M:%S"
    t = NumberTransform.fit(specs[0], NumberTransform.native(_probe(specs[0]), raw.cells[0]))
    assert t.missing_rate == 0.5


def _probe(spec):
    return NumberTransform(
        spec, {"means": [0], "stds": [1], "weights": [1], "low": 0, "high": 0, "missing_rate": 0}
    )


def test_spec_file_overrides_and_inspect_output_reads_back(tmp_path: Path) -> None:
    raw = read_csv_table(_mixed(tmp_path / "t.csv"))
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(spec_to_yaml(infer_spec(raw), raw))
    assert load_spec(spec_file, raw) == infer_spec(raw)  # the printed spec is the spec
    spec_file.write_text(
        "columns:\n  age: {type: continuous, min: 0, max: 120, decimals: 1}\n  children: integer\n"
    )
    specs = {s.name: s for s in load_spec(spec_file, raw)}
    assert (specs["age"].type, specs["age"].min, specs["age"].max) == ("continuous", 0, 120)
    assert specs["age"].decimals == 1
    assert specs["children"].type == "integer" and specs["children"].decimals == 0
    assert specs["sex"].type == "categorical"  # columns the file does not name keep theirs


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("columns:\n  height: {type: continuous}\n", "names column 'height', which"),
        ("columns:\n  age: {type: text}\n", "type must be one of"),
        ("columns:\n  age: {kind: integer}\n", "unknown key(s) kind"),
        ("columns:\n  age: {min: 5, max: 1}\n", "min 5 is above max 1"),
        ("columns: [age]\n", "must hold a mapping"),
        ("columns: {age: [1\n", "not valid YAML"),
    ],
)
def test_bad_spec_files(tmp_path: Path, text: str, message: str) -> None:
    raw = read_csv_table(_mixed(tmp_path / "t.csv", n=20))
    (tmp_path / "s.yaml").write_text(text)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")) as e:
        load_spec(tmp_path / "s.yaml", raw)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,x\n2\n", "row 3 has 1 columns, expected 2"),
        ("a,a\n1,x\n2,y\n", "column name 'a' appears twice"),
        ("a,b\n1,x\n", "at least 2 data rows, found 1"),
        ("", "empty"),
        ("a,b\n,x\nNA,y\n", "column 'a' has no value in any row"),
    ],
    ids=["ragged", "duplicate", "one-row", "empty", "no-usable-column"],
)
def test_bad_tables_give_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as e:
        TableData(path)
    assert "\n" not in str(e.value) and "bad.csv" in str(e.value)


@pytest.mark.parametrize(
    ("files", "command", "message"),
    [
        ({"t.csv": "a,b\n1,x\n2\n3,y\n"}, "train", "row 3 has 1 columns, expected 2"),
        ({"t.csv": "a,b\n1,2\n3\n4,5\n"}, "train", "row 3 has 1 columns, expected 2"),
        ({"t.csv": "a,b\n,NA\nNA,\n"}, "train", "column 'a' has no value in any row"),
        ({"t.csv": "a,b\n,NA\nNA,\n"}, "inspect", "column 'a' has no value in any row"),
        (
            {"t.csv": "a,b\n1,x\n2,y\n3,x\n", "s.yaml": "columns:\n  zz: integer\n"},
            "train",
            "names column 'zz', which",
        ),
    ],
    ids=["ragged-mixed", "ragged-numeric", "no-usable-column", "inspect", "spec-missing-column"],
)
def test_bad_tables_from_the_cli_exit_2_with_one_line(
    tmp_path: Path, capsys, files: dict[str, str], command: str, message: str
) -> None:
    from ganforge.cli import main

    for name, text in files.items():
        (tmp_path / name).write_text(text)
    data = str(tmp_path / "t.csv")
    args = ["inspect", data] if command == "inspect" else ["train", "--dataset", data]
    if command == "train":
        args += ["--steps", "2", "--out", str(tmp_path / "run"), "--quiet"]
        if "s.yaml" in files:
            args += ["--columns", str(tmp_path / "s.yaml")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "run" / "config.json").exists()


# -- transforms -----------------------------------------------------------------------------


def test_rows_round_trip_through_model_space(tmp_path: Path) -> None:
    path = _mixed(tmp_path / "t.csv")
    data = TableData(path)
    rows = data.rows(data.train_native)
    back = data.rows(data.decode(data.encode(data.train_native)))
    same = np.mean([a == b for a, b in zip(rows, back, strict=True)])
    assert same >= 0.99, same  # alpha is clipped at 0.99: values beyond 3.96 sd may move
    original = list(csv.reader(path.open()))[1:]
    assert {tuple(r) for r in rows} <= {tuple(r) for r in original}
    for row in back:  # empty income cells come back empty, dates in the file's format
        assert row[3].startswith("2021-") and len(row[3]) == 10


def test_bimodal_column_gets_two_modes_and_decodes_by_mode(tmp_path: Path) -> None:
    data = TableData(_mixed(tmp_path / "t.csv", n=400))
    income = data.table.transforms[1]
    assert isinstance(income, NumberTransform)
    big = np.asarray(income.weights) > 0.1
    assert sorted(np.round(np.asarray(income.means)[big], -1)) == [20.0, 80.0]
    # alpha 0 in the mode nearest 80 decodes to that mode's mean; -1/+1 clip to the range
    k = int(np.argmin(np.abs(np.asarray(income.means) - 80)))
    x = np.zeros((3, income.width))
    x[:, 0] = [0.0, -50.0, 50.0]
    x[:, 1 + k] = 1.0
    x[:, -2] = 1.0  # present
    out = income.decode(x, np.random.default_rng(0))
    assert out[0] == pytest.approx(round(income.means[k], 2))
    assert out[1] >= income.low and out[2] <= income.high
    assert income.low == pytest.approx(np.nanmin(data.train_native[:, 1]))


def test_missing_flag_decodes_to_an_empty_cell(tmp_path: Path) -> None:
    data = TableData(_mixed(tmp_path / "t.csv"))
    income = data.table.transforms[1]
    assert income.has_missing and income.missing_rate == pytest.approx(
        np.isnan(data.train_native[:, 1]).mean()
    )
    x = np.zeros((2, income.width))
    x[:, 0] = 0.1
    x[:, 1] = 1
    x[0, -2], x[1, -1] = 1, 1
    out = income.decode(x, np.random.default_rng(0))
    assert not np.isnan(out[0]) and np.isnan(out[1])
    assert data.table.cell(1, out[1]) == ""


def test_spec_bounds_and_integer_rounding(tmp_path: Path) -> None:
    path = _mixed(tmp_path / "t.csv", n=60)
    (tmp_path / "s.yaml").write_text("columns:\n  age: {type: integer, min: 30, max: 40}\n")
    data = TableData(path, tmp_path / "s.yaml")
    age = data.table.transforms[0]
    x = np.zeros((200, age.width))
    x[:, 0] = np.linspace(-1, 1, 200)
    x[np.arange(200), 1 + np.arange(200) % age.n_modes] = 1
    out = age.decode(x, np.random.default_rng(0))
    assert out.min() >= 30 and out.max() <= 40
    np.testing.assert_array_equal(out, np.round(out))


def test_ten_thousand_categories_stay_bounded(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 20000
    values = np.concatenate([np.arange(10000), rng.integers(0, 50, n - 10000)])
    rows = [[f"id{v}", "a" if i % 2 else "b"] for i, v in enumerate(rng.permutation(values))]
    path = _write_rows(tmp_path / "big.csv", ["who", "g"], rows)
    tick = time.perf_counter()
    data = TableData(path)
    took = time.perf_counter() - tick
    who = data.table.transforms[0]
    assert isinstance(who, CategoryTransform)
    assert len(who.values) == 10000 and who.width == 100  # 99 kept + other
    assert data.shape == (2 * (100 + 2),)  # row (100 + 2) and its condition vector
    assert data._rows.numel() * 4 < 20 * 1024**2  # model space: ~16,000 x 204 floats
    assert took < 10, took
    # the other position decodes to grouped values, drawn by their frequency
    x = np.zeros((4000, who.width))
    x[:, who.kept] = 1
    out = who.decode(x, np.random.default_rng(0)).astype(int)
    assert out.min() >= who.kept
    rare = who.counts[who.kept :]
    expected_share_of_ones = (rare == 1).sum() / rare.sum()  # values seen once
    share = np.isin(out, who.kept + np.flatnonzero(rare == 1)).mean()
    assert abs(share - expected_share_of_ones) < 0.03
    # the codec stays JSON of bounded size (value lists, not one-hot matrices)
    assert len(json.dumps(data.codec())) < 1_000_000


# -- dataset ----------------------------------------------------------------------------


def test_training_by_sampling_uses_log_frequency_and_matching_rows(tmp_path: Path) -> None:
    data = TableData(_mixed(tmp_path / "t.csv", n=400))
    codec = data.table
    x, y = data.sample_batch(4000, torch.Generator().manual_seed(0))
    assert y is None and x.shape == (4000, codec.row_dim + codec.cond_dim)
    cond = x[:, codec.row_dim :]
    set_ = cond.sum(1)
    a = codec.anchor["column"]  # every row also holds its own value of the anchor column
    a_off, a_size = codec.cond_offsets[a], codec.cond_sizes[a]
    assert torch.all(cond[:, a_off : a_off + a_size].sum(1) == 1)
    assert torch.all((set_ == 1) | (set_ == 2))
    sex = codec.columns.index("sex")
    k = codec.cond_columns.index(sex)
    off = codec.cond_offsets[k]
    held = cond[:, off : off + 2].sum(1) == 1
    # drawn through sex: sex's block set, and as the only condition if sex is the anchor
    chosen = held & ((set_ == 1) if k == a else torch.ones_like(held))
    # the row drawn holds the condition's value (and its anchor's)
    row_block = x[held, codec.offsets[sex] : codec.offsets[sex] + 2]
    assert torch.equal(row_block, cond[held, off : off + 2])
    counts = codec.transforms[sex].position_counts()
    want = np.log1p(counts) / np.log1p(counts).sum()
    got = cond[chosen, off : off + 2].mean(0).numpy()
    np.testing.assert_allclose(got, want, atol=0.04)
    assert chosen.float().mean().item() == pytest.approx(1 / len(codec.cond_columns), abs=0.03)


def test_rare_values_are_oversampled_at_most_five_times() -> None:
    """Hand-computed: counts (273, 2) give log-frequency 0.1634 to the rare value, 22x its
    share 2/275; capped at 5x it gets 10/275 and the common value the rest. Values that
    log-frequency lifts less than 5x keep their log-frequency probabilities."""
    from ganforge.data.table.codec import capped_log_frequency

    p = capped_log_frequency(np.array([273, 2]))
    np.testing.assert_allclose(p, [265 / 275, 10 / 275])
    p = capped_log_frequency(np.array([1920, 360, 120]))  # vip 5%: log-frequency 0.263
    np.testing.assert_allclose(p[2], 0.25)
    np.testing.assert_allclose(
        p[:2] / p[:2].sum(), np.log1p([1920, 360]) / np.log1p([1920, 360]).sum()
    )
    p = capped_log_frequency(np.array([50, 40, 30]))  # none lifted 5x: plain log-frequency
    np.testing.assert_allclose(p, np.log1p([50, 40, 30]) / np.log1p([50, 40, 30]).sum())
    p = capped_log_frequency(np.array([1000] + [1] * 19))  # many rare values, each capped
    np.testing.assert_allclose(p[1:], 5 / 1019)
    assert p.sum() == pytest.approx(1.0)
    assert capped_log_frequency(np.array([5, 0, 3]))[1] == 0.0


def test_holdout_rows_are_never_training_rows(tmp_path: Path) -> None:
    data = TableData(_mixed(tmp_path / "t.csv", n=200))
    assert len(data.holdout_native) == 40 and data.size == 160
    real = data.sample_real(500, seed=1)
    train = {tuple(np.nan_to_num(r, nan=-1)) for r in data.train_native}
    assert all(tuple(np.nan_to_num(r, nan=-1)) in train for r in real)


def test_codec_decodes_without_the_data(tmp_path: Path) -> None:
    data = TableData(_mixed(tmp_path / "t.csv"))
    codec = json.loads(json.dumps(data.codec()))
    decoder = decoder_from_codec(codec)
    x, _ = data.sample_batch(64, torch.Generator().manual_seed(3))
    np.testing.assert_array_equal(decoder.decode(x), data.decode(x))
    assert decoder.rows(decoder.decode(x)) == data.rows(data.decode(x))
    assert decoder.output_layout == data.output_layout


def test_routing_keeps_numeric_csv_on_the_numeric_path(tmp_path: Path) -> None:
    from ganforge.data.tabular import TableDataset

    numeric = tmp_path / "n.csv"
    numeric.write_text("a,b\n1,2\n3,4\n5,6.5\n")
    assert dataset_info(str(numeric)).default_preset == "mlp-tabular"
    assert isinstance(dataset_info(str(numeric)).factory(None), TableDataset)
    mixed = _mixed(tmp_path / "m.csv", n=30)
    info = dataset_info(str(mixed))
    assert (info.kind, info.default_preset) == ("table", "ctgan")
    spec = tmp_path / "s.yaml"
    spec.write_text("columns:\n  a: categorical\n")
    assert dataset_info(str(numeric), columns=str(spec)).kind == "table"
    with pytest.raises(DataError, match="--columns describes a .csv table; dataset 'ring8'"):
        dataset_info("ring8", columns=str(spec))
    empty_cell = tmp_path / "e.csv"
    empty_cell.write_text("a,b\n1,2\n3,\n5,6\n")
    assert dataset_info(str(empty_cell)).kind == "table"


def test_user_data_is_never_modified(tmp_path: Path) -> None:
    from ganforge.config import TrainConfig

    path = _mixed(tmp_path / "t.csv", n=40)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    build_dataset(TrainConfig(dataset=str(path)))
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_a_number_with_missing_cells_conditions_on_its_missing_flag(tmp_path: Path) -> None:
    data = TableData(_mixed(tmp_path / "t.csv", n=400))
    codec = data.table
    income = codec.columns.index("income")
    assert income in codec.cond_columns  # 10% missing: the flag is a condition column
    k = codec.cond_columns.index(income)
    assert codec.cond_sizes[k] == 2
    x, _ = data.sample_batch(3000, torch.Generator().manual_seed(1))
    flag = x[:, codec.row_dim + codec.cond_offsets[k] : codec.row_dim + codec.cond_offsets[k] + 2]
    asked_missing = flag[:, 1] == 1
    start = codec.offsets[income] + codec.transforms[income].width - 2
    assert torch.all(x[asked_missing, start + 1] == 1)  # rows drawn have a missing income
    n_missing = int(np.isnan(data.train_native[:, income]).sum())
    counts = np.array([data.size - n_missing, n_missing])
    want = np.log1p(counts) / np.log1p(counts).sum()
    share = asked_missing.float().sum() / (flag.sum(1) == 1).float().sum()
    assert share.item() == pytest.approx(want[1], abs=0.05)  # log-frequency: ~40%, not 10%


def test_inspect_command_prints_the_spec(tmp_path: Path, capsys) -> None:
    from ganforge.cli import main

    path = _mixed(tmp_path / "t.csv", n=30)
    assert main(["inspect", str(path)]) == 0
    text = capsys.readouterr().out
    assert '"joined": {type: "datetime", format: "%Y-%m-%d"}' in text
    (tmp_path / "s.yaml").write_text(
        text.replace('"children": {type: "categorical"}', '"children": {type: "integer"}')
    )
    assert main(["inspect", str(path), "--columns", str(tmp_path / "s.yaml")]) == 0
    assert '"children": {type: "integer", decimals: 0}' in capsys.readouterr().out
    assert main(["inspect", str(tmp_path / "nope.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
