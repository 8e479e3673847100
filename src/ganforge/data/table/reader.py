"""Reading mixed-type CSV files and inferring, or reading, their column spec.

A table is read with the standard library's :mod:`csv` module into columns of strings
(the file is opened read-only and never written). Each column gets a type:

- ``continuous``: every present cell is a number and at least one is not an integer;
- ``integer``: every present cell is an integer and there are more than
  :data:`FEW_INTEGERS` distinct values;
- ``categorical``: text, or at most :data:`FEW_INTEGERS` distinct integers;
- ``boolean``: two distinct values spelled like true/false, yes/no, t/f or y/n;
- ``datetime``: every present cell parses with one of :data:`DATE_FORMATS`; it is
  modelled as a number (days since 1970-01-01 for dates, seconds for times) and written
  back in the same format.

A cell is missing when it is empty or one of :data:`MISSING_TOKENS` (case-insensitive).
A column spec (YAML, see :mod:`.spec`) overrides any of this per column.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ganforge.errors import DataError

ColumnType = Literal["continuous", "integer", "categorical", "boolean", "datetime"]
COLUMN_TYPES = ("continuous", "integer", "categorical", "boolean", "datetime")

#: cells read as missing (after stripping blanks, compared case-insensitively)
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
#: an integer column with at most this many distinct values is categorical
FEW_INTEGERS = 10
#: categories kept per categorical column by default; rarer ones form one "other" group
MAX_CATEGORIES = 100
#: date and time formats tried, in order; the first that reads every present cell wins
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
)
_TRUE = {"true", "yes", "t", "y"}
_FALSE = {"false", "no", "f", "n"}
_EPOCH = dt.datetime(1970, 1, 1)


@dataclass
class ColumnSpec:
    """How one column is modelled. ``min``/``max`` bound generated values (default: the
    observed range); ``decimals`` rounds continuous values (integers: 0);
    ``categories`` fixes a categorical column's values and order; ``max_categories``
    caps the one-hot width (rarer values are grouped, see :mod:`.transforms`);
    ``format`` is a datetime column's :func:`~datetime.datetime.strptime` format;
    ``derived_from`` names the categorical column this one is a function of (written from
    it, not modelled: see :mod:`.dependencies`)."""

    name: str
    type: ColumnType
    min: float | None = None
    max: float | None = None
    decimals: int | None = None
    categories: list[str] | None = None
    max_categories: int = MAX_CATEGORIES
    format: str | None = None
    derived_from: str | None = None

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise DataError(
                f"column {self.name!r}: type must be one of {', '.join(COLUMN_TYPES)}, "
                f"got {self.type!r}"
            )
        for key in ("min", "max"):
            value = getattr(self, key)
            if value is not None and (isinstance(value, bool) or not _finite(value)):
                raise DataError(f"column {self.name!r}: {key} must be a number, got {value!r}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise DataError(f"column {self.name!r}: min {self.min} is above max {self.max}")
        if self.decimals is not None and (
            isinstance(self.decimals, bool) or not isinstance(self.decimals, int)
        ):
            raise DataError(f"column {self.name!r}: decimals must be an integer")
        if isinstance(self.max_categories, bool) or not isinstance(self.max_categories, int):
            raise DataError(f"column {self.name!r}: max_categories must be an integer")
        if self.max_categories < 2:
            raise DataError(f"column {self.name!r}: max_categories must be >= 2")
        if self.derived_from is not None and not isinstance(self.derived_from, str):
            raise DataError(f"column {self.name!r}: derived_from must be a column name")
        if self.type == "datetime" and not self.format:
            raise DataError(f"column {self.name!r}: a datetime column needs a format")


@dataclass
class RawTable:
    """A CSV file as read: ``header`` names and ``cells[j]`` the strings of column j."""

    path: str
    header: list[str]
    cells: list[list[str]] = field(repr=False)

    @property
    def n_rows(self) -> int:
        return len(self.cells[0]) if self.cells else 0


def is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING_TOKENS


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def read_csv_table(path: str | Path) -> RawTable:
    """Read ``path`` (UTF-8, optional byte-order mark, one header row) into columns of
    strings. Raises :class:`DataError` naming the file for a missing or empty file, no
    header, a ragged row or a duplicated column name."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file {str(path)!r} does not exist")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = [row for row in csv.reader(fh) if row and any(c.strip() for c in row)]
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    except csv.Error as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc})") from None
    if not rows:
        raise DataError(f"{path}: the file is empty")
    header = [c.strip() for c in rows[0]]
    if len(rows) < 3:
        raise DataError(f"{path}: need a header and at least 2 data rows, found {len(rows) - 1}")
    seen: set[str] = set()
    for j, name in enumerate(header):
        if not name:
            raise DataError(f"{path}: column {j + 1} has no name in the header")
        if name in seen:
            raise DataError(f"{path}: column name {name!r} appears twice in the header")
        seen.add(name)
    width = len(header)
    for i, row in enumerate(rows[1:]):
        if len(row) != width:
            raise DataError(f"{path}: row {i + 2} has {len(row)} columns, expected {width}")
    cells = [[row[j].strip() for row in rows[1:]] for j in range(width)]
    return RawTable(str(path), header, cells)


def parse_number(cell: str) -> float | None:
    """The finite number a cell holds, or ``None``."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_datetime(cell: str, fmt: str) -> float | None:
    """Days (a format without a time of day) or seconds since 1970-01-01, or ``None``."""
    try:
        moment = dt.datetime.strptime(cell, fmt)
    except ValueError:
        return None
    seconds = (moment - _EPOCH).total_seconds()
    return seconds / 86400.0 if date_only(fmt) else seconds


def format_datetime(value: float, fmt: str) -> str:
    """Inverse of :func:`parse_datetime` (rounded to the format's unit)."""
    unit = 86400.0 if date_only(fmt) else 1.0
    moment = _EPOCH + dt.timedelta(seconds=round(value) * unit)
    return moment.strftime(fmt)


def date_only(fmt: str) -> bool:
    return not any(code in fmt for code in ("%H", "%M", "%S", "%I"))


def _decimals(cells: list[str]) -> int:
    """Most digits after the decimal point among plain decimal cells (at most 8)."""
    most = 0
    for cell in cells:
        if "e" in cell.lower():
            continue
        _, dot, frac = cell.partition(".")
        if dot:
            most = max(most, len(frac))
    return min(most, 8)


def infer_column(name: str, cells: list[str]) -> ColumnSpec:
    """The type (and for numbers the decimals) of one column from its cells."""
    present = [c for c in cells if not is_missing(c)]
    if not present:
        raise DataError(f"column {name!r} has no value in any row")
    distinct = set(present)
    lowered = {c.lower() for c in distinct}
    if len(distinct) <= 2 and lowered <= (_TRUE | _FALSE) and lowered & _TRUE and lowered & _FALSE:
        return ColumnSpec(name, "boolean")
    numbers = [parse_number(c) for c in present]
    if all(v is not None for v in numbers):
        if all(float(v).is_integer() for v in numbers) and _decimals(present) == 0:
            if len({int(v) for v in numbers}) <= FEW_INTEGERS:
                return ColumnSpec(name, "categorical")
            return ColumnSpec(name, "integer", decimals=0)
        return ColumnSpec(name, "continuous", decimals=_decimals(present))
    for fmt in DATE_FORMATS:
        if all(parse_datetime(c, fmt) is not None for c in present):
            return ColumnSpec(name, "datetime", format=fmt)
    return ColumnSpec(name, "categorical")


def infer_types(table: RawTable) -> list[ColumnSpec]:
    try:
        return [
            infer_column(name, cells) for name, cells in zip(table.header, table.cells, strict=True)
        ]
    except DataError as exc:
        raise DataError(f"{table.path}: {exc}") from None


def csv_is_mixed(path: str | Path) -> bool:
    """True when a data cell of the CSV at ``path`` is not a number or is missing (empty,
    NA, NaN, ...): a mixed-type table. An all-numeric file (its first row may be a header;
    infinities count as numbers, so the numeric reader reports them; a ragged row is
    reported by whichever reader takes the file), or one that cannot be read as a CSV,
    returns False and keeps the numeric path and its messages. The
    answer is cached per file version (path, size, modification time)."""
    stat = Path(path).stat()
    return _csv_is_mixed(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _csv_is_mixed(path: str, size: int, mtime: int) -> bool:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = [row for row in csv.reader(fh) if row and any(c.strip() for c in row)]
    except (UnicodeDecodeError, csv.Error):
        return False
    if len(rows) < 2:
        return False
    first = 0 if all(_is_float(c) and not is_missing(c) for c in rows[0]) else 1
    return any(is_missing(c) or not _is_float(c) for row in rows[first:] for c in row)


def _is_float(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
