"""The report's samples section, one builder per data kind (a registry).

A builder takes the run's files (:class:`~ganforge.report.runfiles.RunFiles`) and
returns a :class:`Section` of pictures (PNG/GIF bytes), text panels and small tables; the
HTML and Markdown templates render any section, so a new data kind adds its view with
one call and no edit of the report's core::

    from ganforge.report import Section, TextPanel, register_sample_section

    def events_section(run):  # run: RunFiles
        steps = run.snapshots()
        snap = run.snapshot(steps[-1][1])            # samples/step_N.npz
        return Section("Samples", texts=[TextPanel(f"step {steps[-1][0]}",
                                                   [str(s) for s in snap["fake"][:20]])])

    register_sample_section("events", events_section)

Register it where the kind registers its dataset or evaluator (a module that
:mod:`ganforge.data` or :mod:`ganforge.evaluation` imports), so that ``ganforge report``
in a fresh process sees it. A builder reads only the run's files; an exception inside it
becomes a note in the report instead of a failed report. Kinds without a builder get a
note naming the kind. The built-in kinds' views (lowdim, image, sequence) are below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ganforge.registry import Registry
from ganforge.report.figures import Picture, equilibrium, new_figure, png_bytes
from ganforge.report.runfiles import RunFiles

GIF_FRAMES = 12  # snapshots in the image progress animation, evenly spaced
PROGRESS_PANELS = 6


@dataclass
class TextPanel:
    """A titled block of text lines (e.g. generated sequences), shown preformatted."""

    title: str
    lines: list[str]


@dataclass
class Table:
    """A small table: a caption, column names and rows of already formatted cells."""

    caption: str
    header: list[str]
    rows: list[list[str]]


@dataclass
class Section:
    """What the report shows of a run's samples."""

    title: str = "Samples"
    pictures: list[Picture] = field(default_factory=list)
    texts: list[TextPanel] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


SectionBuilder = Callable[[RunFiles], Section]
SAMPLE_SECTIONS: Registry[Callable] = Registry("report section", Callable)


def register_sample_section(kind: str, builder: SectionBuilder) -> SectionBuilder:
    """Register ``builder(run) -> Section`` as the samples section of data ``kind``."""
    return SAMPLE_SECTIONS.register(kind, builder)


def sample_section(run: RunFiles) -> Section:
    """The samples section of ``run`` by its data kind (a note when none is registered
    or the builder fails)."""
    import ganforge.data  # noqa: F401 - the data kinds' modules register their sections
    import ganforge.evaluation  # noqa: F401 - (on import), as they register evaluators

    kind = run.kind
    if kind not in SAMPLE_SECTIONS:
        return Section(
            notes=[
                f"no sample view for data kind {kind!r}; the samples are in {run.path / 'samples'}"
            ]
        )
    try:
        return SAMPLE_SECTIONS.get(kind)(run)
    except Exception as exc:  # noqa: BLE001 - one broken view never loses the report
        return Section(
            notes=[f"the {kind} samples could not be drawn ({type(exc).__name__}: {exc})"]
        )


# -- low-dimensional data: scatter with D's contour, histogram with D's curve -------------


def _lowdim_figure(real: np.ndarray, snap: dict, eq: float | None, title: str) -> bytes:
    from ganforge.plots import _draw_lowdim, _draw_marginals

    dim = real.reshape(len(real), -1).shape[1]
    if dim <= 2:
        fig = new_figure(5.5, 4.5)
        ax = fig.subplots()
        _draw_lowdim(ax, real, snap, eq)
        ax.set_title(title)
    else:
        fig = new_figure(12, 2.6 * int(np.ceil(min(dim, 16) / 4)))
        _draw_marginals(fig, real, snap["fake"])
        fig.suptitle(title)
    return png_bytes(fig)


def _progress_figure(real: np.ndarray, loaded: list[tuple[int, dict]], eq: float | None) -> bytes:
    from ganforge.plots import _draw_lowdim

    idx = np.linspace(0, len(loaded) - 1, min(len(loaded), PROGRESS_PANELS)).astype(int)
    fig = new_figure(3.2 * len(idx), 3.1)
    axes = np.atleast_1d(fig.subplots(1, len(idx)))
    for ax, i in zip(axes, idx, strict=True):
        step, snap = loaded[i]
        _draw_lowdim(ax, real, {k: v for k, v in snap.items() if not k.startswith("grid")}, eq)
        ax.set_title(f"step {step}", fontsize=9)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    return png_bytes(fig)


def lowdim_section(run: RunFiles) -> Section:
    """2-D: real and generated samples over D's output contour; 1-D: histograms with D's
    curve; more dimensions: per-column histograms. Plus the progress across snapshots."""
    real, snaps = run.real(), run.snapshots()
    if real is None or not snaps:
        return Section(notes=["no sample snapshots in samples/ (sample_every was 0?)"])
    eq = equilibrium(run.config)
    step, path = snaps[-1]
    snap = run.snapshot(path)
    with_d = " over D's output" if "grid_d" in snap else ""
    pictures = [
        Picture(
            _lowdim_figure(real, snap, eq, f"step {step}"),
            f"real and generated samples at step {step}{with_d}",
            stem="samples",
        )
    ]
    dim = real.reshape(len(real), -1).shape[1]
    if dim <= 2 and len(snaps) > 1:
        idx = np.linspace(0, len(snaps) - 1, min(len(snaps), PROGRESS_PANELS)).astype(int)
        loaded = [(snaps[i][0], run.snapshot(snaps[i][1])) for i in idx]
        pictures.append(
            Picture(_progress_figure(real, loaded, eq), "progress over training", stem="progress")
        )
    return Section(pictures=pictures)


# -- images: the last grid, the real grid, the progress animation --------------------------


def image_section(run: RunFiles) -> Section:
    """The last snapshot's grid beside a real grid, and the progress animation (GIF)."""
    from ganforge.grids import gif_bytes, png_bytes, preview_grid
    from ganforge.plots import GRID_SAMPLES

    snaps, real = run.snapshots(), run.real()
    pictures = []
    if snaps:
        step, path = snaps[-1]
        fake = run.snapshot(path)["fake"][:GRID_SAMPLES]
        pictures.append(
            Picture(
                png_bytes(preview_grid(fake)),
                f"generated at step {step} (fixed noise)",
                stem="samples",
            )
        )
    if real is not None:
        pictures.append(
            Picture(png_bytes(preview_grid(real[:GRID_SAMPLES])), "real images", stem="real")
        )
    if len(snaps) > 1:
        idx = np.linspace(0, len(snaps) - 1, min(len(snaps), GIF_FRAMES)).astype(int)
        frames = [
            (f"step {snaps[i][0]}", preview_grid(run.snapshot(snaps[i][1])["fake"][:GRID_SAMPLES]))
            for i in idx
        ]
        pictures.append(
            Picture(
                gif_bytes(frames),
                "progress over training (same noise)",
                mime="image/gif",
                stem="progress",
            )
        )
    notes = [] if snaps else ["no sample snapshots in samples/ (sample_every was 0?)"]
    return Section(pictures=pictures, notes=notes)


# -- token sequences: the last lines beside real ones, how they read, the text panel -------

SHOWN_LINES = 20  # lines per text panel
TEXT_COLUMNS = 5  # snapshots in the text progress panel, evenly spaced, the last included


def _lines(values: np.ndarray) -> list[str]:
    return [str(s) for s in np.asarray(values).reshape(-1)]


def _grammar(run: RunFiles) -> Any:
    from ganforge.data.grammars import get_grammar, list_grammars

    dataset = str(run.config.get("dataset", ""))
    return get_grammar(dataset) if dataset in list_grammars() else None


def _reading_row(name: str, lines: list[str], grammar: Any) -> list[str]:
    """``[name, n, distinct, valid, correct]`` as formatted cells (``–`` without a
    grammar)."""
    n = len(lines)
    distinct = f"{len(set(lines)) / n:.1%}" if n else "–"
    if grammar is None or not n:
        return [name, str(n), distinct, "–", "–"]
    valid = sum(bool(grammar.is_valid(s)) for s in lines) / n
    correct = sum(bool(grammar.is_correct(s)) for s in lines) / n
    return [name, str(n), distinct, f"{valid:.1%}", f"{correct:.1%}"]


def _progress_picture(run: RunFiles, snaps: list[tuple[int, Any]], grammar: Any) -> Picture:
    from ganforge.plots_text import text_panel

    idx = np.linspace(0, len(snaps) - 1, min(len(snaps), TEXT_COLUMNS)).round().astype(int)
    columns = [
        (f"step {snaps[i][0]}", _lines(run.snapshot(snaps[i][1])["fake"])) for i in sorted(set(idx))
    ]
    fig = text_panel(columns, SHOWN_LINES, grammar)
    try:
        data = png_bytes(fig)
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return Picture(data, "the same noise over training", stem="progress")


def sequence_section(run: RunFiles) -> Section:
    """Generated lines of the last snapshot beside real lines, how they read, and the
    text panel over training."""
    snaps, real = run.snapshots(), run.real()
    if not snaps:
        return Section(notes=["no sample snapshots in samples/ (sample_every was 0?)"])
    grammar = _grammar(run)
    step, path = snaps[-1]
    fake = _lines(run.snapshot(path)["fake"])
    texts = [TextPanel(f"generated at step {step} (fixed noise)", fake[:SHOWN_LINES])]
    rows = [_reading_row(f"generated, step {step}", fake, grammar)]
    if real is not None:
        real_lines = _lines(real)
        texts.append(TextPanel("real lines", real_lines[:SHOWN_LINES]))
        rows.append(_reading_row("real", real_lines, grammar))
    table = Table(
        "How the snapshot's lines read (valid and correct: under the dataset's grammar)",
        ["lines", "n", "distinct", "valid", "correct"],
        rows,
    )
    pictures = [_progress_picture(run, snaps, grammar)] if len(snaps) > 1 else []
    return Section(pictures=pictures, texts=texts, tables=[table])


register_sample_section("lowdim", lowdim_section)
register_sample_section("image", image_section)
register_sample_section("sequence", sequence_section)


# -- mixed-type tables: rows as the file's text, per-column marginals ----------------------
# (the fidelity and privacy figures, each beside its held-out floor, are in the metric
# table like every run's)

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
