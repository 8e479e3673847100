"""Reports are built from a run's files: a toy run's and an image run's page hold the
metrics beside their floors, the header's recorded facts, the curves and the samples as
embedded images; a comparison marks the better run by each metric's direction; Markdown
writes its images beside it; bad input is one line and exit 2; nothing is re-evaluated.
A real browser (headless Chromium, when installed) renders the toy, image and comparison
pages with no network request, no console message and every image decoded."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import shutil
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from report_pages import Page, assert_self_contained, decode_data_uri

import ganforge
from conftest import tiny_config
from ganforge.cli import main
from ganforge.config import ModelConfig
from ganforge.evaluation import METRICS
from ganforge.grids import preview_grid
from ganforge.report import write_report
from ganforge.report.readings import fmt, reading

IMAGE_FLAGS = ["--base-width", "4", "--noise-dim", "8", "--batch-size", "8", "--quiet"]


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-step ring8 run with snapshots every 20 steps; training writes report.html."""
    out = tmp_path_factory.mktemp("ring") / "run"
    cfg = tiny_config(out=str(out), steps=40, sample_every=20, log_every=10, eval_samples=300)
    ganforge.train(cfg)
    return out


@pytest.fixture(scope="module")
def image_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-step DCGAN run on digits with snapshots every 2 steps (through the CLI)."""
    out = tmp_path_factory.mktemp("img") / "run"
    args = ["train", "--dataset", "digits", "--steps", "4", "--sample-every", "2"]
    args += ["--eval-samples", "60", "--out", str(out), "--device", "cpu", *IMAGE_FLAGS]
    assert main(args) == 0
    return out


def _metrics(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())


def _assert_metric_rows(page: Page, metrics: dict) -> None:
    """Each registered metric in metrics.json is a row: value, floor, better direction."""
    shown = [name for name in METRICS if name in metrics]
    assert shown, "metrics.json holds no registered metric"
    for name in shown:
        row = page.row(name)
        floor = metrics["real_vs_real"].get(name)
        better = "higher" if METRICS.get(name).higher_is_better else "lower"
        assert row[1:4] == [fmt(metrics[name]), fmt(floor), better], row


def test_training_writes_a_self_contained_report_of_the_toy_run(ring: Path) -> None:
    text = (ring / "report.html").read_text()
    page = assert_self_contained(text)
    _assert_metric_rows(page, _metrics(ring))
    info = json.loads((ring / "run.json").read_text())
    [session] = info["sessions"]
    assert (session["from_step"], session["to_step"], session["status"]) == (0, 40, "finished")
    assert session["wall_s"] > 0 and session["cpu_s"] > 0
    assert page.row("versions")[1].startswith(
        f"ganforge {ganforge.__version__}, torch {torch.__version__}"
    )
    assert page.row("seed")[1] == "0"
    assert page.row("steps")[1].startswith("40 of 40 generator steps")
    assert page.row("training time")[1].startswith(f"wall {session['wall_s']:.1f} s, CPU ")
    # curves, the scatter over D's contour and the progress strip: three pictures
    images = [decode_data_uri(src) for src in page.images()]
    assert len(images) == 3 and all(im.width > 200 for im in images)
    assert "real and generated samples at step 40 over D&#39;s output" in text
    assert "<details><summary>resolved config (config.json)</summary>" in text


def test_the_reproduce_command_gives_the_same_config(ring: Path, tmp_path: Path, capsys) -> None:
    page = Page((ring / "report.html").read_text())
    command = page.row("reproduce")[1].split()
    assert command[:3] == ["ganforge", "train", "--config"] and command[-2:] == ["--out", "NEW_RUN"]
    assert main([*command[1:-1], str(tmp_path / "again"), "--dry-run"]) == 0
    again = json.loads(capsys.readouterr().out)
    original = json.loads((ring / "config.json").read_text())
    assert again.pop("out") == str(tmp_path / "again")
    original.pop("out")
    assert again == original


def test_image_report_embeds_the_last_grid_the_real_grid_and_the_progress_gif(
    image_run: Path,
) -> None:
    text = (image_run / "report.html").read_text()
    page = assert_self_contained(text)
    _assert_metric_rows(page, _metrics(image_run))
    images = [decode_data_uri(src) for src in page.images()]
    assert [im.format for im in images] == ["PNG", "PNG", "PNG", "GIF"]
    with np.load(image_run / "samples" / "step_0000004.npz") as f:
        fake = f["fake"][:100]
    with np.load(image_run / "samples" / "real.npz") as f:
        real = f["real"][:100]
    # the grids are the saved samples, pixel for pixel
    assert np.array_equal(np.asarray(images[1]), preview_grid(fake)[..., 0])
    assert np.array_equal(np.asarray(images[2]), preview_grid(real)[..., 0])
    assert images[3].n_frames == 3  # steps 0, 2 and 4


def test_a_report_never_evaluates_and_takes_under_5_s(ring: Path, monkeypatch) -> None:
    import ganforge.api

    def refuse(*args, **kwargs):
        raise AssertionError("the report evaluated the run")

    monkeypatch.setattr(ganforge.api, "evaluate", refuse)
    monkeypatch.setattr(ganforge.api, "load_generator", refuse)
    start, cpu = time.perf_counter(), time.process_time()
    write_report(ring, ring / "again.html")
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    # CPU time: what the report costs, whatever else shares the machine (about 1 s here)
    assert cpu < 5.0 and wall < 30.0, f"report took {cpu:.1f} s CPU ({wall:.1f} s wall)"


def test_evaluate_flag_rewrites_the_metrics(ring: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(ring, run)
    (run / "metrics.json").unlink()
    assert main(["report", str(run), "--evaluate"]) == 0
    assert _metrics(run) == _metrics(ring) | {"protocol": _metrics(run)["protocol"]}
    _assert_metric_rows(Page((run / "report.html").read_text()), _metrics(run))


def _copy_with(ring: Path, folder: Path, **values: float) -> Path:
    run = folder / f"run-{len(list(folder.iterdir()))}"
    shutil.copytree(ring, run)
    metrics = _metrics(ring) | values
    (run / "metrics.json").write_text(json.dumps(metrics))
    return run


def test_comparison_marks_the_better_run_by_each_metrics_direction(
    ring: Path, tmp_path: Path
) -> None:
    m = _metrics(ring)
    better = _copy_with(ring, tmp_path, w1=m["w1"] / 2, hq_fraction=m["hq_fraction"] + 0.1)
    worse = _copy_with(ring, tmp_path, w1=m["w1"] * 2, hq_fraction=m["hq_fraction"] / 2)
    out = tmp_path / "compare.html"
    assert main(["report", str(worse), str(better), "--out", str(out)]) == 0
    text = out.read_text()
    page = assert_self_contained(text)
    assert page.row("metric")[:4] == ["metric", "better", worse.name, better.name]
    for name, value in (("w1", m["w1"] / 2), ("hq_fraction", m["hq_fraction"] + 0.1)):
        row = page.row(name)
        assert row[3].startswith(fmt(value)), row
        assert '<span class="best' in text.split(f"<td>{name}</td>")[1].split("</tr>")[0]
        best_cell = text.split(f"<td>{name}</td>")[1].split("</tr>")[0].split("<td")[3]
        assert "best" in best_cell and fmt(value) in best_cell
    # curves overlaid (one picture) and a sample panel per run side by side
    assert page.row("seed")[1:] == ["0", "0"]
    assert text.count("<h3>") == 2 and len(page.images()) == 1 + 2 * 2


def test_markdown_report_writes_its_images_beside_it(ring: Path, image_run: Path, tmp_path):
    out = tmp_path / "doc" / "report.md"
    assert main(["report", str(ring), str(image_run), "--format", "md", "--out", str(out)]) == 0
    text = out.read_text()
    links = [line.split("](")[1].rstrip(")") for line in text.splitlines() if line.startswith("![")]
    assert len(links) == 1 + 2 + 3
    for link in links:
        assert link.startswith("report_files/")
        with Image.open(out.parent / link) as im:
            im.load()
    m = _metrics(ring)
    assert (
        f"| w1 | lower | {fmt(m['w1'])} (floor {fmt(m['real_vs_real']['w1'])}) | — (floor ) |"
        in text
    )
    assert "<img" not in text and "data:" not in text


def _table_csv(folder: Path) -> str:
    rng = np.random.default_rng(0)
    data = np.column_stack(
        [rng.normal(5, 1, 200), rng.exponential(9.0, 200), rng.uniform(size=200)]
    )
    path = folder / "table.csv"
    path.write_text("a,b,c\n" + "\n".join(",".join(f"{v:.8g}" for v in r) for r in data) + "\n")
    return str(path)


@pytest.mark.parametrize("dataset", ["gaussian1d", "table"])
def test_1d_and_table_runs_show_their_samples(dataset: str, tmp_path: Path) -> None:
    """1-D: histograms with D's curve; a 3-column table: one histogram pair per column."""
    name = _table_csv(tmp_path) if dataset == "table" else dataset
    cfg = tiny_config(dataset=name, out=str(tmp_path / "run"), steps=4, sample_every=2)
    ganforge.train(cfg)
    text = (tmp_path / "run" / "report.html").read_text()
    page = assert_self_contained(text)
    _assert_metric_rows(page, _metrics(tmp_path / "run"))
    with_d = " over D&#39;s output" if dataset == "gaussian1d" else ""
    assert f"real and generated samples at step 4{with_d}</figcaption>" in text
    # a progress strip is drawn for 1-D and 2-D data only
    assert len(page.images()) == (3 if dataset == "gaussian1d" else 2)


def test_a_mixed_table_run_shows_rows_as_text_and_per_column_marginals(tmp_path: Path) -> None:
    """Data kind ``table``: the first real and generated rows in the file's own text (a
    category's label, a date, an empty cell for a missing number) and one figure of
    per-column marginals; the metrics with their floors as for every run."""
    rng = np.random.default_rng(0)
    lines = ["sex,age,joined"]
    for i in range(120):
        age = "" if i % 10 == 0 else str(int(rng.integers(20, 70)))
        lines.append(f"{'Female' if i % 3 else 'Male'},{age},2022-01-{1 + i % 28:02d}")
    data = tmp_path / "people.csv"
    data.write_text("\n".join(lines) + "\n")
    cfg = tiny_config(dataset=str(data), out=str(tmp_path / "run"), steps=4, sample_every=2)
    cfg = dataclasses.replace(cfg, model=None, preset="ctgan", batch_size=16)
    ganforge.train(cfg)
    text = (tmp_path / "run" / "report.html").read_text()
    page = assert_self_contained(text)
    _assert_metric_rows(page, _metrics(tmp_path / "run"))
    assert "real training rows" in text and "generated rows at step 4" in text
    cells = re.findall(r"<td>([^<]*)</td>", text)
    assert {"Female", "Male"} & set(cells) and any(c.startswith("2022-01-") for c in cells)
    assert "per-column marginals at step 4" in text
    assert len(page.images()) == 2  # the curves and the marginals


def test_a_run_without_metrics_says_not_evaluated(ring: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(ring, run)
    (run / "metrics.json").unlink()
    assert main(["report", str(run)]) == 0
    text = (run / "report.html").read_text()
    assert f"not evaluated: run `ganforge evaluate {run}`" in text
    assert "<th>metric</th>" not in text
    assert not (run / "metrics.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "{tmp}"], "is not a ganforge run directory (no config.json)"),
        (["report", "{tmp}/missing"], "is not a ganforge run directory (not a folder)"),
        (["report", "{ring}", "--format", "pdf"], "--format must be one of html, md, got 'pdf'"),
        (["report", "{ring}", "--out", "{tmp}"], "is a folder; give a file name"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(ring, tmp_path, capsys, args, message) -> None:
    argv = [a.format(tmp=tmp_path, ring=ring) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_a_failing_report_is_one_warning_and_the_run_finishes(tmp_path: Path, monkeypatch):
    import ganforge.report.pages

    def broken(run):
        raise RuntimeError("template exploded")

    monkeypatch.setattr(ganforge.report.pages, "run_page", broken)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = ganforge.train(tiny_config(out=str(tmp_path / "run"), steps=2))
    assert result.step == 2 and (tmp_path / "run" / "metrics.json").is_file()
    about = [str(w.message) for w in caught if "report" in str(w.message)]
    assert about == [
        "report.html not written (RuntimeError: template exploded); "
        f"retry with: ganforge report {tmp_path / 'run'}"
    ]


def test_readings_compare_with_the_floor() -> None:
    assert reading(0.03, 0.02, False) == "as close as a second real sample"  # ratio 1.5
    assert reading(0.04, 0.02, False) == "close to real data"  # 2
    assert reading(0.1, 0.02, False) == "some way from real data"  # 5
    assert reading(0.11, 0.02, False) == "far from real data"
    assert reading(7.6, 8, True) == "as good as a second real sample"  # 0.95
    assert reading(6, 8, True) == "close to real data"  # 0.75
    assert reading(3.2, 8, True) == "some way from real data"  # 0.4
    assert reading(3, 8, True) == "far from real data"
    assert reading(0.05, -0.03, False) == "within the real-vs-real noise"
    assert reading(0.07, -0.03, False) == "above what two real samples differ by"
    assert reading(None, 1.0, False) == "not computed"
    assert reading(1.0, None, False) == "no real-vs-real floor to compare with"


def test_png_bytes_are_what_matplotlib_drew() -> None:
    from ganforge.report.figures import new_figure, png_bytes

    fig = new_figure(2, 2)
    fig.subplots().imshow(np.eye(4), cmap="gray")
    with Image.open(io.BytesIO(png_bytes(fig))) as im:
        pixels = np.asarray(im.convert("L"), dtype=float)
    assert pixels.std() > 20  # a diagonal, not a blank canvas


def _fake_run(folder: Path, kind: str) -> Path:
    """A run directory of data ``kind``: config, history and a checkpoint header."""
    from safetensors.numpy import save_file

    run = folder / kind
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"dataset": "words.txt", "loss": "wgan"}))
    (run / "history.jsonl").write_text(json.dumps({"step": 1, "loss/d": 0.5, "loss/g": 1}) + "\n")
    meta = {"ganforge": json.dumps({"step": 3, "codec": {"kind": kind}})}
    tensors = {"G/w": np.zeros((2, 3), np.float32)}
    save_file(tensors, str(run / "checkpoints" / "latest.safetensors"), metadata=meta)
    return run


def test_a_new_data_kind_registers_its_samples_section(tmp_path: Path) -> None:
    from ganforge.report import Section, TextPanel, register_sample_section
    from ganforge.report.sections import SAMPLE_SECTIONS

    kind = f"test-text-{id(tmp_path)}"
    run = _fake_run(tmp_path, kind)
    write_report(run)
    assert (
        f"no sample view for data kind {kind!r}".replace("'", "&#39;")
        in (run / "report.html").read_text()
    )

    def text_section(files):
        assert files.kind == kind and files.checkpoints["latest"].parameters == {"G": 6}
        return Section("Generated text", texts=[TextPanel("step 3", ["1+1=2", "<b>x</b>"])])

    register_sample_section(kind, text_section)
    try:
        text = (write_report(run)).read_text()
        assert "<h2>Generated text</h2>" in text and "<h3>step 3</h3>" in text
        assert "<pre>1+1=2\n&lt;b&gt;x&lt;/b&gt;\n</pre>" in text  # escaped, one per line
        md = write_report(run, tmp_path / "r.md", fmt="md").read_text()
        assert "**step 3**\n\n```\n1+1=2\n<b>x</b>\n```" in md
        SAMPLE_SECTIONS.register(kind, lambda files: 1 / 0, overwrite=True)
        text = (write_report(run)).read_text()
        assert f"the {kind} samples could not be drawn (ZeroDivisionError" in text
    finally:
        SAMPLE_SECTIONS._items.pop(kind, None)


def test_a_figure_that_fails_becomes_a_note_not_a_lost_report(ring, tmp_path, monkeypatch):
    import matplotlib.figure

    def broken(self, *args, **kwargs):
        raise OSError("backend exploded")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken)
    text = write_report(ring, tmp_path / "r.html").read_text()
    assert "the curves could not be drawn (OSError: backend exploded)" in text
    assert "the lowdim samples could not be drawn (OSError: backend exploded)" in text
    _assert_metric_rows(Page(text), _metrics(ring))


# -- a real browser ------------------------------------------------------------------------

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
#: logs how many images the page holds and how many failed to decode, once loaded
PROBE = (
    "<script>window.addEventListener('load', () => { const i = [...document.images]; "
    "console.log('IMAGES ' + i.length + ' BROKEN ' + "
    "i.filter(x => !x.complete || x.naturalWidth === 0).length); });</script>"
)


def _browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no headless browser: install Debian's chromium (.ci/run does) to run this test")


def _render(page: Path, tmp_path: Path, height: int = 2400) -> tuple[list[str], list[str], Path]:
    """Load a copy of ``page`` (plus :data:`PROBE`) in headless Chromium with every host
    unresolvable; return its console messages, the URLs the page requested over the
    network (from the net log, without the browser's own background requests) and the
    screenshot."""
    probed = tmp_path / f"{page.stem}-probe.html"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    shot, netlog = tmp_path / f"{page.stem}.png", tmp_path / f"{page.stem}-net.json"
    args = [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
            "--host-resolver-rules=MAP * ~NOTFOUND", f"--log-net-log={netlog}",
            f"--window-size=1280,{height}", f"--screenshot={shot}", probed.as_uri()]  # fmt: skip
    env = dict(os.environ, HOME=str(tmp_path))  # a fresh profile, nothing remembered
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert shot.is_file(), done.stderr[-2000:]
    console = re.findall(r"CONSOLE[^\]]*\] (.*)", done.stderr)
    events = json.loads(netlog.read_text())["events"]
    from_page = {
        e["params"]["url"]
        for e in events
        if str(e.get("params", {}).get("network_isolation_key", "")).startswith("file://")
    }
    return console, sorted(from_page), shot


def _assert_renders(page: Path, tmp_path: Path, images: int) -> Path:
    console, requests, shot = _render(page, tmp_path)
    assert requests == [], requests
    assert len(console) == 1 and console[0].startswith(f'"IMAGES {images} BROKEN 0"'), console
    with Image.open(shot) as im:
        pixels = np.asarray(im.convert("L"), dtype=float)
    assert pixels.std() > 20 and (pixels < 128).mean() > 0.01, "the screenshot is blank"
    return shot


def test_the_browser_check_catches_requests_console_errors_and_broken_images(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><body><img src="http://example.org/x.png">'
        '<img src="data:image/png;base64,AAAA"><script>console.error("boom")</script></body></html>'
    )
    console, requests, _ = _render(bad, tmp_path, height=400)
    assert requests == ["http://example.org/x.png"]
    assert console[0].startswith('"boom"') and console[1].startswith('"IMAGES 2 BROKEN 2"')


def test_reports_render_in_a_browser_offline_without_errors(ring, image_run, tmp_path) -> None:
    _assert_renders(ring / "report.html", tmp_path, images=3)
    _assert_renders(image_run / "report.html", tmp_path, images=4)
    compare = write_report([ring, image_run], tmp_path / "compare.html")
    _assert_renders(compare, tmp_path, images=1 + 2 + 3)


def test_a_sequence_run_shows_its_lines_how_they_read_and_the_text_panel(tmp_path: Path) -> None:
    """Text runs: the last snapshot's lines beside real lines, the share of valid and
    correct lines under the grammar (real lines: all of them), and the panel over steps."""
    model = ModelConfig(arch="seqconv", noise_dim=8, seq_width=8, seq_blocks=1)
    cfg = tiny_config(
        dataset="arithmetic", model=model, loss="wgan-gp", gp_weight=10.0, n_critic=1,
        out=str(tmp_path / "run"), steps=4, sample_every=2,
    )  # fmt: skip
    ganforge.train(cfg)
    text = (tmp_path / "run" / "report.html").read_text()
    page = assert_self_contained(text)
    assert "no sample view" not in text and "could not be drawn" not in text
    assert "generated at step 4 (fixed noise)" in text and "real lines" in text
    real = [str(s) for s in np.load(tmp_path / "run" / "samples" / "real.npz")["real"][:3]]
    assert all(line in text for line in real)
    # the reading table: real lines all parse and hold under the arithmetic grammar
    assert re.search(r"<td>real</td>\s*<td>\d+</td>\s*<td>100.0%</td>\s*<td>100.0%</td>", text)
    assert len(page.images()) == 2  # the training curves and the text panel over steps
