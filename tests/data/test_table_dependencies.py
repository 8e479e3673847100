"""Columns that are a function of another (``ganforge.data.table.dependencies``): found
only when the data says so beyond coincidence, kept out of model space, written back from
their source, switchable in the column spec."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from conftest import write_csv
from ganforge.data.table import TableCodec, TableData, infer_spec, load_spec, read_csv_table
from ganforge.data.table.dependencies import determines, find_dependencies
from ganforge.errors import CheckpointError, DataError

CITIES = {"Lyon": "FR", "Paris": "FR", "Porto": "PT", "Lisbon": "PT", "Leeds": "UK"}
CONTINENT = {"FR": "EU", "PT": "EU", "UK": "EU"}


_write = write_csv


def _cities(path: Path, n: int = 400, seed: int = 0) -> Path:
    """city -> country exactly; code <-> city one to one; colour independent; a number."""
    rng = np.random.default_rng(seed)
    names = list(CITIES)
    rows = []
    for _ in range(n):
        city = names[int(rng.integers(len(names)))]
        rows.append(
            [
                city,
                CITIES[city],
                f"C{names.index(city)}",
                ["red", "green", "blue"][int(rng.integers(3))],
                f"{rng.normal(5, 1):.2f}",
            ]
        )
    return _write(path, ["city", "country", "code", "colour", "x"], rows)


def _derived(specs) -> dict[str, str]:
    return {s.name: s.derived_from for s in specs if s.derived_from}


def test_an_exact_relation_is_found_and_one_of_a_one_to_one_pair_is_kept(tmp_path) -> None:
    specs = infer_spec(read_csv_table(_cities(tmp_path / "t.csv")))
    # country from city (or from code: both 5 values; the first in file order wins);
    # code and city determine each other: the first stays modelled, the other is derived
    assert _derived(specs) == {"country": "city", "code": "city"}


def test_coincidences_and_identifiers_are_not_relations(tmp_path) -> None:
    rng = np.random.default_rng(1)
    n = 300
    ident = [f"id{i}" for i in range(n)]  # unique per row: determines everything
    pairs = [f"p{i // 2}" for i in range(n)]  # groups of 2 rows
    flag = ["a" if rng.random() < 0.5 else "b" for _ in range(n)]
    rows = [[i, p, f] for i, p, f in zip(ident, pairs, flag, strict=True)]
    specs = infer_spec(read_csv_table(_write(tmp_path / "t.csv", ["id", "pair", "flag"], rows)))
    assert _derived(specs) == {}
    # a relation that holds on 20 groups of 2 rows is the chance 0.5**20 ~ 1e-6: too likely
    a = np.repeat(np.arange(20), 2)
    b = np.repeat(np.arange(20) % 2, 2)
    assert not determines(a, 20, b, 2)
    # the same relation on 20 groups of 20 rows (0.5**380) is no coincidence
    a = np.repeat(np.arange(20), 20)
    b = np.repeat(np.arange(20) % 2, 20)
    assert determines(a, 20, b, 2)
    b[0] = 1 - b[0]  # one row breaks it
    assert not determines(a, 20, b, 2)


def test_a_chain_is_written_from_its_first_kept_column(tmp_path) -> None:
    """city -> country -> zone: zone is written from city, never from a derived column;
    a constant column is no relation."""
    rng = np.random.default_rng(2)
    zone = {"FR": "south", "PT": "south", "UK": "north"}
    rows = []
    for _ in range(300):
        city = list(CITIES)[int(rng.integers(5))]
        rows.append([city, CITIES[city], zone[CITIES[city]], "EU", f"{rng.random():.3f}"])
    header = ["city", "country", "zone", "continent", "x"]
    specs = infer_spec(read_csv_table(_write(tmp_path / "c.csv", header, rows)))
    assert _derived(specs) == {"country": "city", "zone": "city"}


def test_missing_cells_are_a_value_of_the_relation(tmp_path) -> None:
    rng = np.random.default_rng(3)
    rows = []
    for _ in range(300):
        kind = ["a", "b", "c"][int(rng.integers(3))]
        rows.append([kind, {"a": "x", "b": "y", "c": ""}[kind], f"{rng.random():.3f}"])
    path = _write(tmp_path / "m.csv", ["kind", "label", "v"], rows)
    data = TableData(path)
    assert _derived(data.table.transforms[j].spec for j in range(3)) == {"label": "kind"}
    native = data.decode(data.encode(data.train_native))
    labels = [data.table.cell(1, v) for v in native[:, 1]]
    kinds = [data.table.cell(0, v) for v in native[:, 0]]
    assert all(
        {"a": "x", "b": "y", "c": ""}[k] == lab for k, lab in zip(kinds, labels, strict=True)
    )


def test_derived_columns_take_no_place_in_model_space_and_decode_from_their_source(
    tmp_path,
) -> None:
    path = _cities(tmp_path / "t.csv")
    raw = read_csv_table(path)
    codec = TableCodec.fit(raw, infer_spec(raw))
    both_off = _spec(tmp_path, "country: {derived_from: null}\n  code: {derived_from: null}")
    off = TableCodec.fit(raw, load_spec(both_off, raw))
    # country's 3 one-hot positions and code's 5 leave model space and the conditions
    assert off.row_dim - codec.row_dim == 3 + 5
    assert off.cond_dim - codec.cond_dim == 3 + 5
    assert [codec.columns[j] for j in codec.cond_columns] == ["city", "colour"]
    # whatever the model writes for city, country and code follow it
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, codec.row_dim))
    rows = codec.rows(codec.decode(x))
    assert all(CITIES[r[0]] == r[1] and r[2] == f"C{list(CITIES).index(r[0])}" for r in rows)
    # the mapping travels in the codec's JSON
    again = TableCodec.from_json(codec.to_json())
    np.testing.assert_array_equal(again.decode(x), codec.decode(x))
    damaged = codec.to_json()
    damaged["derived"]["1"] = [0, 1]
    with pytest.raises(CheckpointError, match="derived mapping"):
        TableCodec.from_json(damaged)


def _spec(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text("columns:\n  " + body + "\n", encoding="utf-8")
    return path


def test_the_spec_file_switches_relations_off_or_sets_them(tmp_path) -> None:
    path = _cities(tmp_path / "t.csv")
    raw = read_csv_table(path)
    off = load_spec(_spec(tmp_path, "country: {derived_from: null}"), raw)
    assert _derived(off) == {"code": "city"}
    # set by hand: the source must be a categorical column that is itself modelled
    with pytest.raises(DataError, match="source must be categorical"):
        load_spec(_spec(tmp_path, "colour: {derived_from: x}"), raw)
    with pytest.raises(DataError, match="no such column"):
        load_spec(_spec(tmp_path, "colour: {derived_from: town}"), raw)
    with pytest.raises(DataError, match="itself derived"):
        load_spec(
            _spec(tmp_path, "colour: {derived_from: country}\n  country: {derived_from: city}"), raw
        )
    # a source the file names stays modelled, even where the data would derive it
    assert _derived(load_spec(_spec(tmp_path, "colour: {derived_from: country}"), raw)) == {
        "colour": "country",
        "code": "city",
    }
    # where the data does not hold it exactly, each city gets its most frequent colour
    by_hand = load_spec(_spec(tmp_path, "colour: {derived_from: city}"), raw)
    assert _derived(by_hand)["colour"] == "city"
    codec = TableCodec.fit(raw, by_hand)
    city = codec.transforms[0]
    colour = codec.transforms[3]
    cells_city, cells_colour = raw.cells[0], raw.cells[3]
    mapping = codec.derived[3]
    for k, name in enumerate(city.values):  # the most frequent colour of each city
        seen = [c for a, c in zip(cells_city, cells_colour, strict=True) if a == name]
        top = max(sorted(set(seen)), key=seen.count)
        assert colour.values[mapping[k]] == top


def test_where_on_a_derived_column_and_the_found_relation_in_generated_rows(tmp_path) -> None:
    """A 150-step run (~2 s): every generated row keeps city -> country, and
    ``where country=PT`` gives Porto and Lisbon rows only."""
    import ganforge
    from ganforge.api import load_generator
    from ganforge.config import TrainConfig
    from ganforge.tables import sample_rows

    path = _cities(tmp_path / "t.csv")
    cfg = TrainConfig(
        dataset=str(path),
        model={"g_hidden": (32,), "d_hidden": (32,), "noise_dim": 8},
        steps=150,
        batch_size=64,
        threads=1,
        sample_every=0,
        out=str(tmp_path / "run"),
    )
    run = ganforge.train(cfg)
    loaded = load_generator(run.run_dir)
    codec = loaded.decoder.table
    rows = codec.rows(sample_rows(loaded, 500, seed=0))
    assert all(CITIES[r[0]] == r[1] for r in rows)
    pt = codec.rows(sample_rows(loaded, 100, seed=1, where={"country": "PT"}))
    assert len(pt) == 100 and {r[0] for r in pt} <= {"Porto", "Lisbon"}
    assert math.isclose(sum(r[1] == "PT" for r in pt), 100)


def test_find_dependencies_leaves_specs_without_categories_alone(tmp_path) -> None:
    rows = [[i, i * 2.5] for i in range(50)]
    raw = read_csv_table(_write(tmp_path / "n.csv", ["a", "b"], rows))
    specs = infer_spec(raw)
    assert find_dependencies(raw, specs) == specs
