"""Pictures show what they should: a saved sample grid is the grid of the saved samples,
pixel for pixel; scatter plots and histograms hold the plotted data and draw it where the
data are; D's contour and curve come from the logged grid; the 1-D, 2-D and >2-D branches
all draw. A blank figure fails every test here.

The matplotlib figures are checked as objects (captured when they are saved) and as
rendered pixels: hiding the artist that draws the data must change the pixels at the
data's positions.
"""

from __future__ import annotations

import io
import json
import shutil
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=True)

import matplotlib.figure  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402
from PIL import Image, ImageSequence  # noqa: E402

import ganforge  # noqa: E402
from conftest import tiny_config  # noqa: E402
from ganforge import TrainConfig  # noqa: E402
from ganforge.api import load_generator  # noqa: E402
from ganforge.grids import make_grid, save_grid  # noqa: E402
from ganforge.plots import plot_run  # noqa: E402

IMAGE_STEPS = 4
IMAGE_MODEL = {"noise_dim": 8, "base_width": 4}


def _npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def _snapshots(run: Path) -> list[tuple[int, dict[str, np.ndarray]]]:
    return [
        (int(p.stem.split("_")[1]), _npz(p)) for p in sorted((run / "samples").glob("step_*.npz"))
    ]


# -- image runs: grids and the progress animation ---------------------------------------


@pytest.fixture(scope="module")
def image_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-step DCGAN run on digits with a snapshot every 2 steps."""
    out = tmp_path_factory.mktemp("pictures") / "digits"
    ganforge.train(
        TrainConfig(
            dataset="digits",
            steps=IMAGE_STEPS,
            batch_size=8,
            seed=0,
            device="cpu",
            sample_every=2,
            eval_samples=40,
            model=IMAGE_MODEL,
            out=str(out),
        )
    )
    return out


def _tile(grid: np.ndarray, i: int, h: int, w: int, cols: int = 10, pad: int = 2) -> np.ndarray:
    r, c = divmod(i, cols)
    top, left = pad + r * (h + pad), pad + c * (w + pad)
    return grid[top : top + h, left : left + w]


def test_each_sample_grid_is_the_grid_of_its_saved_samples(image_run: Path, tmp_path) -> None:
    snaps = _snapshots(image_run)
    assert [s for s, _ in snaps] == [0, 2, 4]
    grids = []
    for step, snap in snaps:
        fake = snap["fake"]
        assert fake.shape == (100, 1, 28, 28) and fake.dtype == np.uint8
        with Image.open(image_run / "samples" / f"step_{step:07d}.png") as im:
            png = np.asarray(im)
        assert png.shape == (302, 302)  # 10 x 10 tiles of 28 px with 2 px padding
        np.testing.assert_array_equal(png, make_grid(fake)[..., 0])
        for i in (0, 9, 10, 57, 99):  # tile i (row-major) is sample i
            np.testing.assert_array_equal(_tile(png, i, 28, 28), fake[i, 0])
        with Image.open(save_grid(fake, tmp_path / f"again_{step}.png")) as im:
            np.testing.assert_array_equal(png, np.asarray(im))
        assert len(np.unique(png)) > 2, "not a blank image"
        grids.append(png)
    assert not np.array_equal(grids[0], grids[-1]), "training changed the pictures"


def test_snapshot_samples_are_the_generator_on_fixed_noise(image_run: Path) -> None:
    """The last snapshot shows the final generator on the run's fixed noise: the first
    100 rows of ``noise_std * randn(1000, noise_dim)`` drawn from a generator seeded
    with the run's seed, the same noise at every snapshot."""
    loaded = load_generator(image_run)
    assert loaded.step == IMAGE_STEPS
    cfg = loaded.config
    z = torch.randn((1000, cfg.model.noise_dim), generator=torch.Generator().manual_seed(cfg.seed))
    with torch.inference_mode():
        images = loaded.decoder.decode(loaded.generator(z[:100] * cfg.noise_std))
    (last_step, last), *_ = reversed(_snapshots(image_run))
    assert last_step == IMAGE_STEPS
    np.testing.assert_array_equal(last["fake"], images)


def test_progress_gif_frames_are_the_snapshot_grids(image_run: Path) -> None:
    with Image.open(image_run / "plots" / "progress.gif") as gif:
        frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)]
    snaps = _snapshots(image_run)
    assert len(frames) == len(snaps)
    for frame, (_, snap) in zip(frames, snaps, strict=True):
        grid = make_grid(snap["fake"])[..., 0]
        caption = frame.shape[0] - grid.shape[0]
        assert caption > 0 and (frame[:caption] < 128).any(), "a caption above the grid"
        for channel in range(3):
            np.testing.assert_array_equal(frame[caption:, :, channel], grid)


# -- low-dimensional runs: figures as objects and as pixels ------------------------------


def _capture(action) -> list[matplotlib.figure.Figure]:
    """Run ``action()`` and return every matplotlib figure it saved to a file, in order."""
    figures: list[matplotlib.figure.Figure] = []
    original = matplotlib.figure.Figure.savefig

    def spy(self, *args, **kwargs):
        if not (args and isinstance(args[0], io.BytesIO)):  # the report's, drawn in memory
            figures.append(self)
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(matplotlib.figure.Figure, "savefig", spy)
        action()
    return figures


def _train_and_capture(cfg: TrainConfig) -> tuple[Path, list[matplotlib.figure.Figure]]:
    """Train, keeping the figures the run draws at its end (``plots/*.png``)."""
    figures = _capture(lambda: ganforge.train(cfg))
    run = Path(cfg.out)
    assert len(figures) == len(list((run / "plots").glob("*.png")))
    return run, figures


def _step_titles(fig) -> list[str]:
    titles = [ax.get_title() for ax in fig.axes if ax.get_title().startswith("step ")]
    if fig._suptitle is not None and fig._suptitle.get_text().startswith("step "):
        titles.append(fig._suptitle.get_text())
    return titles


def _titled(figures, title: str) -> matplotlib.figure.Figure:
    """The one figure titled ``title`` (a snapshot figure: ``step N``; or a panel title)."""
    if title.startswith("step "):
        found = [f for f in figures if _step_titles(f) == [title]]
    else:
        found = [f for f in figures if any(ax.get_title() == title for ax in f.axes)]
    assert len(found) == 1, f"{len(found)} figures titled {title!r}"
    return found[0]


def _progress(figures) -> matplotlib.figure.Figure:
    (found,) = [f for f in figures if len(_step_titles(f)) > 1]
    return found


def _render(fig) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)  # the figure was closed after saving: a fresh canvas
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _drawn_at(fig, ax, artists, points: np.ndarray) -> float:
    """Fraction of ``points`` (data coordinates of ``ax``, inside its view) whose pixel
    (or a direct neighbour) changes when ``artists`` are hidden: 1.0 means every point is
    drawn where it should be."""
    shown = _render(fig)
    for a in artists:
        a.set_visible(False)
    hidden = _render(fig)
    for a in artists:
        a.set_visible(True)
    height, width = shown.shape[:2]
    xy = ax.transData.transform(points)
    box = ax.get_window_extent()
    inside = (
        (xy[:, 0] > box.x0 + 2)
        & (xy[:, 0] < box.x1 - 2)
        & (xy[:, 1] > box.y0 + 2)
        & (xy[:, 1] < box.y1 - 2)
    )
    assert inside.mean() > 0.9, "the data lie in view"
    cols = np.floor(xy[inside, 0]).astype(int)
    rows = height - 1 - np.floor(xy[inside, 1]).astype(int)
    changed = (shown != hidden).any(axis=2)
    near = np.zeros(len(cols), dtype=bool)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            r, c = np.clip(rows + dr, 0, height - 1), np.clip(cols + dc, 0, width - 1)
            near |= changed[r, c]
    return float(near.mean())


def _bars(ax) -> list[tuple[np.ndarray, np.ndarray]]:
    """(left edges, heights) of each histogram drawn on ``ax``, in drawing order."""
    return [
        (np.array([p.get_x() for p in c]), np.array([p.get_height() for p in c]))
        for c in ax.containers
    ]


def _assert_histogram_of(bars, values: np.ndarray, bins: int, lo: float, hi: float) -> None:
    """``bars`` are the density histogram of ``values`` over ``bins`` equal bins
    spanning [lo, hi] (both real and generated data)."""
    lefts, heights = bars
    edges = np.linspace(lo, hi, bins + 1)
    np.testing.assert_allclose(lefts, edges[:-1], rtol=1e-9, atol=1e-12 * (hi - lo))
    expected, _ = np.histogram(values, bins=edges, density=True)
    np.testing.assert_allclose(heights, expected, rtol=1e-9, atol=1e-12)
    assert heights.max() > 0


def _tallest(bars, k: int) -> np.ndarray:
    """Mid-height points of the ``k`` tallest bars, in data coordinates."""
    lefts, heights = bars
    width = lefts[1] - lefts[0]
    top = np.argsort(heights)[-k:]
    return np.column_stack([lefts[top] + width / 2, heights[top] / 2])


@pytest.fixture(scope="module")
def ring_plots(tmp_path_factory: pytest.TempPathFactory):
    """A 4-step ring8 run (snapshots at steps 0, 2, 4) and its figures, re-plotted."""
    out = tmp_path_factory.mktemp("pictures") / "ring8"
    return _train_and_capture(tiny_config(out=str(out), steps=4, sample_every=2, eval_samples=200))


def test_2d_figures_scatter_the_real_and_generated_samples(ring_plots) -> None:
    run, figures = ring_plots
    assert {"samples_step_0000004.png", "progress.png"} <= _names(run / "plots")
    real = _npz(run / "samples" / "real.npz")["real"]
    snaps = _snapshots(run)
    for step, snap in snaps:
        fig = _titled(figures, f"step {step}")
        ax = next(a for a in fig.axes if a.get_title() == f"step {step}")
        dots = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert len(dots) == 2
        np.testing.assert_array_equal(dots[0].get_offsets(), real)
        np.testing.assert_array_equal(dots[1].get_offsets(), snap["fake"])
    # as pixels: every point of the last snapshot is drawn where it lies
    assert _drawn_at(fig, ax, [dots[0]], real) > 0.95
    assert _drawn_at(fig, ax, [dots[1]], snap["fake"]) > 0.95
    # progress.png: one panel per snapshot (at most six), the same points, no contour
    progress = _progress(figures)
    assert len(progress.axes) == len(snaps)
    for ax, (step, snap) in zip(progress.axes, snaps, strict=True):
        assert ax.get_title() == f"step {step}"
        assert not [c for c in ax.collections if isinstance(c, ContourSet)]
        dots = [c for c in ax.collections if isinstance(c, PathCollection)]
        np.testing.assert_array_equal(dots[0].get_offsets(), real)
        np.testing.assert_array_equal(dots[1].get_offsets(), snap["fake"])
    assert _drawn_at(progress, ax, [dots[1]], snap["fake"]) > 0.95


def test_2d_contour_shows_the_logged_grid_of_each_snapshot(ring_plots) -> None:
    run, figures = ring_plots
    for step, snap in _snapshots(run):
        ax = _titled(figures, f"step {step}").axes[0]
        (contour,) = [c for c in ax.collections if isinstance(c, ContourSet)]
        assert contour.zmin == float(snap["grid_d"].min())
        assert contour.zmax == float(snap["grid_d"].max())
        assert contour.zmax > contour.zmin, "D's output varies over the grid"


def test_2d_contour_is_drawn_from_the_logged_grid(ring_plots, tmp_path: Path) -> None:
    """Replace the logged D output by a known field, D(x, y) = 0.2 + 0.3 x, and re-plot:
    the contour covers the logged grid and every filled band lies where that field takes
    the band's values."""
    run = tmp_path / "copy"
    shutil.copytree(ring_plots[0], run)
    for other in ("step_0000000.npz", "step_0000002.npz"):
        (run / "samples" / other).unlink()
    path = run / "samples" / "step_0000004.npz"
    snap = _npz(path)
    gx, gy = snap["grid_x"], snap["grid_y"]
    assert gx.shape == gy.shape == snap["grid_d"].shape == (60, 60)
    snap["grid_d"] = 0.2 + 0.3 * gx
    np.savez(path, **snap)
    figures = _capture(lambda: plot_run(run))
    ax = _titled(figures, "step 4").axes[0]
    (contour,) = [c for c in ax.collections if isinstance(c, ContourSet)]
    assert contour.zmin == pytest.approx(snap["grid_d"].min())
    assert contour.zmax == pytest.approx(snap["grid_d"].max())
    levels = contour.levels
    bands = contour.get_paths()
    assert len(bands) == len(levels) - 1
    covered = np.concatenate([b.vertices for b in bands if len(b.vertices)])
    np.testing.assert_allclose(covered.min(0), [gx.min(), gy.min()], rtol=1e-9)
    np.testing.assert_allclose(covered.max(0), [gx.max(), gy.max()], rtol=1e-9)
    tol = 1e-6 * (levels[-1] - levels[0])
    for lo, hi, band in zip(levels[:-1], levels[1:], bands, strict=True):
        if len(band.vertices):
            field = 0.2 + 0.3 * band.vertices[:, 0]
            assert field.min() >= lo - tol and field.max() <= hi + tol


def test_curves_plot_the_logged_history(ring_plots) -> None:
    run, figures = ring_plots
    rows = [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "loss/d" in r]
    assert len(rows) == 4
    fig = _titled(figures, "losses")
    steps = [r["step"] for r in rows]
    panels = {ax.get_title(): ax for ax in fig.axes}
    for title, keys in (
        ("losses", ["loss/d", "loss/g"]),
        ("mean discriminator output", ["d/real", "d/fake"]),
        ("discriminator accuracy", ["acc/real", "acc/fake"]),
    ):
        lines = panels[title].lines
        assert len(lines) >= 2
        for line, key in zip(lines, keys, strict=False):
            np.testing.assert_array_equal(line.get_xdata(), steps)
            np.testing.assert_array_equal(line.get_ydata(), [r[key] for r in rows])
    losses = np.column_stack([steps, [r["loss/d"] for r in rows]])
    assert _drawn_at(fig, panels["losses"], [panels["losses"].lines[0]], losses) == 1.0


@pytest.fixture(scope="module")
def line_plots(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("pictures") / "gaussian1d"
    return _train_and_capture(
        tiny_config(dataset="gaussian1d", out=str(out), steps=4, sample_every=2, eval_samples=200)
    )


def test_1d_figures_hold_the_histograms_and_ds_curve(line_plots) -> None:
    run, figures = line_plots
    assert {"samples_step_0000004.png", "progress.png"} <= _names(run / "plots")
    real = _npz(run / "samples" / "real.npz")["real"]
    assert real.shape[1] == 1
    for step, snap in _snapshots(run):
        fig = _titled(figures, f"step {step}")
        ax = next(a for a in fig.axes if a.get_title() == f"step {step}")
        real_bars, fake_bars = _bars(ax)
        lo = min(real.min(), snap["fake"].min())
        hi = max(real.max(), snap["fake"].max())
        _assert_histogram_of(real_bars, real[:, 0], 59, lo, hi)
        _assert_histogram_of(fake_bars, snap["fake"][:, 0], 59, lo, hi)
        # D's output on the logged grid, on a twin axis
        twin = next(a for a in fig.axes if a is not ax and a.lines)
        curve = twin.lines[0]
        np.testing.assert_array_equal(curve.get_xdata(), snap["grid_x"])
        np.testing.assert_array_equal(curve.get_ydata(), snap["grid_d"])
    # the tallest bars of the last snapshot are drawn where they stand
    for container, bars in zip(ax.containers, (real_bars, fake_bars), strict=True):
        assert _drawn_at(fig, ax, list(container), _tallest(bars, 5)) == 1.0
    # progress.png: the generated histogram of every snapshot, without D's curve
    for ax, (_, snap) in zip(_progress(figures).axes, _snapshots(run), strict=True):
        lo = min(real.min(), snap["fake"].min())
        hi = max(real.max(), snap["fake"].max())
        _assert_histogram_of(_bars(ax)[1], snap["fake"][:, 0], 59, lo, hi)


@pytest.fixture(scope="module")
def table_plots(tmp_path_factory: pytest.TempPathFactory):
    """Three columns on different scales: the >2-D branch (one histogram per column)."""
    root = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(0)
    data = np.column_stack(
        [rng.normal(5, 1, 300), rng.exponential(100.0, 300), rng.uniform(-1, 1, 300)]
    )
    (root / "table.csv").write_text(
        "a,b,c\n" + "\n".join(",".join(f"{v:.8g}" for v in row) for row in data) + "\n"
    )
    out = root / "table"
    return _train_and_capture(
        tiny_config(
            dataset=str(root / "table.csv"), out=str(out), steps=4, sample_every=2, eval_samples=100
        )
    )


def test_table_figures_hold_one_histogram_pair_per_column(table_plots) -> None:
    run, figures = table_plots
    assert {"samples_step_0000004.png", "curves.png"} <= _names(run / "plots")
    real = _npz(run / "samples" / "real.npz")["real"]
    assert real.shape[1] == 3
    for step, snap in _snapshots(run):
        fig = _titled(figures, f"step {step}")
        assert [ax.get_title() for ax in fig.axes] == ["column 1", "column 2", "column 3"]
        for j, ax in enumerate(fig.axes):
            real_bars, fake_bars = _bars(ax)
            lo = min(real[:, j].min(), snap["fake"][:, j].min())
            hi = max(real[:, j].max(), snap["fake"][:, j].max())
            _assert_histogram_of(real_bars, real[:, j], 39, lo, hi)
            _assert_histogram_of(fake_bars, snap["fake"][:, j], 39, lo, hi)
    ax = fig.axes[1]  # the last snapshot, as pixels
    assert _drawn_at(fig, ax, list(ax.containers[0]), _tallest(_bars(ax)[0], 3)) == 1.0


# -- failures -------------------------------------------------------------------------------


def test_a_plotting_failure_during_training_is_reported_once_as_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self, *args, **kwargs):
        raise OSError("plotting backend exploded")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = ganforge.train(tiny_config(out=str(tmp_path / "run"), steps=2, sample_every=1))
    assert result.step == 2 and (tmp_path / "run" / "metrics.json").is_file()
    about_plots = [w for w in caught if "plot" in str(w.message).lower()]
    assert len(about_plots) == 1, [str(w.message) for w in caught]
    assert "exploded" in str(about_plots[0].message)
