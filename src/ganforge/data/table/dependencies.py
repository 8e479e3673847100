"""Columns that are a function of another column (``country`` of ``city``), found and kept.

A GAN learns a deterministic relation between two categorical columns only
approximately: CTGAN and ganforge's own table model both wrote the right country for a
city in 90-93% of rows (docs/BENCHMARKS.md, "Tables"). When the data says the relation
is exact, ganforge does not ask the model to learn it: the *derived* column is left out
of the model's space and written from its *source* column's generated value, through the
mapping seen in the training rows. SDV offers the same with hand-declared constraints;
here it is found, printed by ``ganforge inspect`` (``derived_from``) and can be switched
off per column with ``derived_from: null`` in the column spec (or set by hand).

Detection (:func:`find_dependencies`), over categorical and boolean columns, a missing
cell counting as one more value:

- B is a function of A: every value of A occurs with exactly one value of B; B takes at
  least two values;
- A has at most one distinct value per :data:`ROWS_PER_VALUE` rows (an identifier-like
  column determines everything and means nothing);
- the relation is not a coincidence: under independence of A and B (B's frequencies
  ``p``), the chance that every group of ``n_g`` rows sharing a value of A also shares one
  value of B, ``prod_g sum_b p_b ** n_g``, is below :data:`MAX_CHANCE`.

Among several sources of B the one with the fewest values is taken (the coarsest
relation); of two columns that determine each other the first in the file is modelled
and the second derived; a derived column is never the source of another (relations through it are
found from its own source). A value of the source that the training rows do not hold
maps to the derived column's most frequent value.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np

from ganforge.data.table.reader import is_missing
from ganforge.errors import DataError

if TYPE_CHECKING:
    from ganforge.data.table.reader import ColumnSpec, RawTable

#: a source column holds at most one distinct value per this many rows
ROWS_PER_VALUE = 10
#: largest chance, under independence, of the relation holding by coincidence
MAX_CHANCE = 1e-9
_CATEGORICAL = ("categorical", "boolean")


def _codes(cells: list[str]) -> tuple[np.ndarray, int]:
    """Cells -> integer codes ``(N,)`` (missing cells share one code) and the number of
    distinct codes."""
    keys = ["" if is_missing(c) else "v" + c for c in cells]
    _, codes = np.unique(np.asarray(keys, dtype=object), return_inverse=True)
    return codes.astype(np.int64), int(codes.max()) + 1 if len(codes) else 0


def _log_chance(a: np.ndarray, b: np.ndarray, kb: int) -> float:
    """``log prod_g sum_b p_b ** n_g``: the chance that ``b`` is constant within every
    group of equal ``a`` if the two were independent."""
    p = np.bincount(b, minlength=kb) / len(b)
    p = p[p > 0]
    sizes, times = np.unique(np.bincount(a), return_counts=True)
    keep = sizes > 0
    sizes, times = sizes[keep], times[keep]
    with np.errstate(under="ignore"):
        per_size = np.log(np.power(p[None, :], sizes[:, None]).sum(axis=1))
    return float((per_size * times).sum())


def determines(a: np.ndarray, ka: int, b: np.ndarray, kb: int) -> bool:
    """Whether codes ``b`` are a function of codes ``a`` that passes the module's tests."""
    n = len(a)
    if kb < 2 or ka < kb or ka * ROWS_PER_VALUE > n:
        return False
    if len(np.unique(a * kb + b)) != ka:
        return False
    return _log_chance(a, b, kb) < math.log(MAX_CHANCE)


def find_dependencies(
    table: RawTable, specs: list[ColumnSpec], fixed: frozenset[str] = frozenset()
) -> list[ColumnSpec]:
    """``specs`` with ``derived_from`` set on every column found to be a function of
    another (see the module docstring). Columns named in ``fixed`` (a spec file gave their
    ``derived_from``) keep theirs and are never taken as sources when derived."""
    index = {s.name: j for j, s in enumerate(specs)}
    cat = [j for j, s in enumerate(specs) if s.type in _CATEGORICAL]
    derived: dict[int, int] = {
        j: index[s.derived_from]
        for j, s in enumerate(specs)
        if s.name in fixed and s.derived_from in index
    }
    if len(cat) < 2 or table.n_rows == 0:
        return specs
    codes = {j: _codes(table.cells[j]) for j in cat}
    pinned = set(derived.values())  # sources named by the spec file stay modelled
    for b in cat:
        if specs[b].name in fixed or b in pinned:
            continue
        sources = [
            a
            for a in cat
            if a != b
            and a not in derived
            and determines(*codes[a], *codes[b])
            and not (a > b and determines(*codes[b], *codes[a]))  # one to one: keep the first
        ]
        if sources:
            derived[b] = min(sources, key=lambda a: (codes[a][1], a))
    # a source that later became derived: follow it to a kept column
    for b in list(derived):
        a, seen = derived[b], {b}
        while a in derived and a not in seen:
            seen.add(a)
            a = derived[a]
        derived[b] = a
    out = list(specs)
    for b, a in derived.items():
        if specs[b].name not in fixed:
            out[b] = dataclasses.replace(specs[b], derived_from=specs[a].name)
    return out


def check_derived(specs: list[ColumnSpec]) -> None:
    """Each ``derived_from`` must be set on a categorical or boolean column and name
    another such column that is not itself derived: :class:`DataError` otherwise."""
    by_name = {s.name: s for s in specs}
    for s in specs:
        if s.derived_from is None:
            continue
        src = by_name.get(s.derived_from)
        problem = None
        if s.type not in _CATEGORICAL:
            problem = f"{s.name!r} is {s.type}; only a categorical or boolean column is derived"
        elif src is None:
            problem = "there is no such column"
        elif src.name == s.name:
            problem = "a column cannot be derived from itself"
        elif src.type not in _CATEGORICAL:
            problem = f"{src.name!r} is {src.type}; the source must be categorical or boolean"
        elif src.derived_from is not None:
            problem = f"{src.name!r} is itself derived; name {src.derived_from!r} instead"
        if problem:
            raise DataError(f"column {s.name!r}: derived_from {s.derived_from!r}: {problem}")


def fit_mapping(source: np.ndarray, n_source: int, target: np.ndarray) -> np.ndarray:
    """For native value indices (NaN = missing) of a source and a derived column in the
    training rows: per source key (value ``k`` at ``k``, missing at ``n_source``) the
    target's most frequent value there as an index, ``-1`` for missing; a key the rows do
    not hold gets the target's most frequent value overall. ``(n_source + 1,)`` int64."""
    skey = np.where(np.isnan(source), n_source, np.nan_to_num(source)).astype(np.int64)
    tkey = np.where(np.isnan(target), -1, np.nan_to_num(target)).astype(np.int64)
    values, counts = np.unique(tkey, return_counts=True)
    overall = int(values[np.argmax(counts)]) if len(values) else -1
    out = np.full(n_source + 1, overall, dtype=np.int64)
    for k in np.unique(skey):
        vals, cnt = np.unique(tkey[skey == k], return_counts=True)
        out[k] = vals[np.argmax(cnt)]
    return out


def apply_mapping(source: np.ndarray, n_source: int, mapping: np.ndarray) -> np.ndarray:
    """Native source values ``(N,)`` -> the derived column's native values ``(N,)``."""
    skey = np.where(np.isnan(source), n_source, np.nan_to_num(source)).astype(np.int64)
    out = mapping[skey].astype(np.float64)
    out[out < 0] = np.nan
    return out
