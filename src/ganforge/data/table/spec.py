"""Column specs: inferred from a table, read from a YAML file, written for a user to edit.

:func:`infer_spec` gives every column the type :func:`~.reader.infer_column` finds and
marks the columns that are functions of another (:mod:`.dependencies`); :func:`load_spec`
applies a spec file over that; :func:`spec_to_yaml` writes the file ``ganforge inspect``
prints.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from ganforge.data.table.dependencies import check_derived, find_dependencies
from ganforge.data.table.reader import (
    MAX_CATEGORIES,
    ColumnSpec,
    RawTable,
    infer_types,
    is_missing,
)
from ganforge.errors import DataError


def infer_spec(table: RawTable) -> list[ColumnSpec]:
    """One :class:`ColumnSpec` per column of ``table``, inferred from its cells, with the
    columns that are functions of another marked (:mod:`.dependencies`)."""
    return find_dependencies(table, infer_types(table))


_SPEC_KEYS = {
    "type",
    "min",
    "max",
    "decimals",
    "categories",
    "max_categories",
    "format",
    "derived_from",
}


def load_spec(path: str | Path, table: RawTable) -> list[ColumnSpec]:
    """The spec for ``table``: inferred, then overridden by the YAML file at ``path``
    (``columns: {NAME: {type: ..., min: ..., ...}}``; columns it does not name keep their
    inferred spec; dependencies are found after the file's types apply, except for columns
    whose ``derived_from`` it gives). A column it names that the file lacks, or a
    ``derived_from`` that cannot hold, is a :class:`DataError`."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise DataError(f"column spec {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "parse error"
        raise DataError(f"column spec {str(path)!r} is not valid YAML: {first}") from None
    columns = data.get("columns") if isinstance(data, dict) else None
    if not isinstance(columns, dict):
        raise DataError(f"column spec {str(path)!r} must hold a mapping 'columns: {{NAME: ...}}'")
    inferred = {s.name: s for s in infer_types(table)}
    fixed = set()
    for name, options in columns.items():
        if str(name) not in inferred:
            raise DataError(
                f"column spec {str(path)!r} names column {name!r}, which {table.path} lacks "
                f"(columns: {', '.join(table.header)})"
            )
        inferred[str(name)] = spec_from_options(str(name), options or {}, inferred[str(name)])
        if isinstance(options, dict) and "derived_from" in options:
            fixed.add(str(name))
    specs = [inferred[name] for name in table.header]
    try:
        check_derived(specs)
    except DataError as exc:
        raise DataError(f"column spec {str(path)!r}: {exc}") from None
    return find_dependencies(table, specs, frozenset(fixed))


def spec_from_options(name: str, options: Any, base: ColumnSpec) -> ColumnSpec:
    """``base`` with the spec file's ``options`` for column ``name`` applied."""
    if isinstance(options, str):
        options = {"type": options}
    if not isinstance(options, dict):
        raise DataError(f"column spec for {name!r} must be a mapping, got {options!r}")
    unknown = sorted(set(options) - _SPEC_KEYS)
    if unknown:
        raise DataError(
            f"column spec for {name!r}: unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_SPEC_KEYS))}"
        )
    values = asdict(base)
    if "type" in options and options["type"] != base.type:
        values.update(decimals=None, format=None, categories=None)
        if options["type"] == "integer":
            values["decimals"] = 0
    values.update(options)
    if values["categories"] is not None:
        values["categories"] = [str(c) for c in values["categories"]]
    return ColumnSpec(**values)


def spec_to_yaml(specs: list[ColumnSpec], table: RawTable | None = None) -> str:
    """A YAML column spec a user can edit and pass back with ``--columns``; with
    ``table``, each column's comment gives its distinct values and missing cells."""
    lines = [
        "# ganforge column spec: edit and pass with --columns FILE.",
        "# type: continuous | integer | categorical | boolean | datetime",
        "# min/max: bounds of generated values (default: the observed range);",
        "# decimals: rounding; max_categories: one-hot cap (rarer values are grouped);",
        "# format: a datetime column's strptime format;",
        "# derived_from: this column is a function of that one (found in the data; written",
        "# from it, not generated); derived_from: null models the column itself.",
        "columns:",
    ]
    for j, s in enumerate(specs):
        note = ""
        if table is not None:
            cells = table.cells[j]
            missing = sum(is_missing(c) for c in cells)
            note = f"  # {len(set(cells))} distinct, {missing} missing of {len(cells)}"
        options = {"type": s.type}
        for key in ("min", "max", "decimals", "format", "categories", "derived_from"):
            if getattr(s, key) is not None:
                options[key] = getattr(s, key)
        if s.max_categories != MAX_CATEGORIES:
            options["max_categories"] = s.max_categories
        body = ", ".join(f"{k}: {_yaml_scalar(v)}" for k, v in options.items())
        lines.append(f"  {_yaml_scalar(s.name)}: {{{body}}}{note}")
    return "\n".join(lines) + "\n"


def _yaml_scalar(value: Any) -> str:
    import json

    if isinstance(value, list):
        return "[" + ", ".join(_yaml_scalar(v) for v in value) + "]"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return json.dumps(str(value))  # a JSON string is a valid YAML scalar
