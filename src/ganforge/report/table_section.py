"""The report's samples section for data kind ``table`` (mixed-type CSV runs).

It shows a few real and generated rows as the file's own text (decoded with the codec
stored in the checkpoint) and one panel per column (at most :data:`MAX_COLUMNS`): a
histogram pair for numbers and dates, side-by-side frequency bars for categories and
booleans (missing cells counted as their own value). The fidelity and privacy figures,
each beside its held-out floor, are in the report's metric table like every run's.
"""

from __future__ import annotations

import numpy as np

from ganforge.report.figures import Picture, new_figure, png_bytes
from ganforge.report.runfiles import RunFiles
from ganforge.report.sections import Section, Table, register_sample_section

ROWS_SHOWN = 5
MAX_COLUMNS = 16
MAX_BARS = 12


def _draw_column(ax, transform, real: np.ndarray, fake: np.ndarray, name: str) -> None:
    """One column's real and generated marginals on ``ax`` (values native, NaN missing)."""
    from ganforge.data.table.transforms import CategoryTransform

    if isinstance(transform, CategoryTransform):
        codes = np.union1d(np.unique(real[~np.isnan(real)]), np.unique(fake[~np.isnan(fake)]))
        shares = [(np.mean(real == c), np.mean(fake == c), transform.text(c)) for c in codes]
        shares.sort(key=lambda s: -s[0])
        shares = shares[:MAX_BARS]
        if np.isnan(real).any() or np.isnan(fake).any():
            shares.append((np.mean(np.isnan(real)), np.mean(np.isnan(fake)), "(missing)"))
        x = np.arange(len(shares))
        ax.bar(x - 0.2, [s[0] for s in shares], width=0.4, label="real")
        ax.bar(x + 0.2, [s[1] for s in shares], width=0.4, label="generated")
        ax.set_xticks(x, [s[2][:10] for s in shares], rotation=45, fontsize=6, ha="right")
    else:
        r, f = real[~np.isnan(real)], fake[~np.isnan(fake)]
        both = np.concatenate([r, f])
        if len(both):
            lo, hi = float(both.min()), float(both.max())
            bins = np.linspace(lo - 0.5, hi + 0.5, 40) if hi <= lo else np.linspace(lo, hi, 40)
            ax.hist(r, bins=bins, alpha=0.5, density=True, label="real")
            ax.hist(f, bins=bins, alpha=0.5, density=True, label="generated")
    ax.set_title(name[:24], fontsize=8)
    ax.tick_params(labelsize=6)


def _marginals(decoder, real: np.ndarray, fake: np.ndarray, step: int) -> bytes:
    d = min(real.shape[1], MAX_COLUMNS)
    cols = min(d, 4)
    rows = int(np.ceil(d / cols))
    fig = new_figure(3.2 * cols, 2.6 * rows)
    for j in range(d):
        ax = fig.add_subplot(rows, cols, j + 1)
        _draw_column(ax, decoder.table.transforms[j], real[:, j], fake[:, j], decoder.columns[j])
        if j == 0:
            ax.legend(fontsize=7)
    fig.suptitle(f"per-column marginals, real and generated at step {step}")
    fig.tight_layout()
    return png_bytes(fig)


def table_section(run: RunFiles) -> Section:
    """A few real and generated rows as text and the per-column marginals."""
    from ganforge.data.table.dataset import TableDecoder

    snaps, real, codec = run.snapshots(), run.real(), run.codec
    if real is None or not snaps or codec is None:
        return Section(notes=["no sample snapshots or checkpoint codec (sample_every was 0?)"])
    decoder = TableDecoder(codec)
    step, path = snaps[-1]
    fake = run.snapshot(path)["fake"]
    header = list(decoder.columns)
    tables = [
        Table("real training rows", header, decoder.rows(real[:ROWS_SHOWN])),
        Table(f"generated rows at step {step}", header, decoder.rows(fake[:ROWS_SHOWN])),
    ]
    notes = []
    if real.shape[1] > MAX_COLUMNS:
        notes.append(f"marginals of the first {MAX_COLUMNS} of {real.shape[1]} columns")
    picture = Picture(
        _marginals(decoder, real, fake, step),
        f"per-column marginals at step {step}: histograms for numbers, frequencies for categories",
        stem="marginals",
    )
    return Section(pictures=[picture], tables=tables, notes=notes)


register_sample_section("table", table_section)
