"""Reports of runs, built only from a run directory's files.

One run: ``RUN/report.html`` (written at the end of every training run, and by
``ganforge report RUN``): the header (dataset, model, loss, steps, training time,
device, versions, seed, the command that reproduces the run), the metrics beside their
real-vs-real floor with the better direction and a plain reading, the training curves,
the samples as the data kind shows them, and the resolved config and metrics protocol
(collapsed). Several runs: one comparison page. ``fmt="md"`` writes Markdown with the
images in a ``<name>_files/`` folder beside it. The HTML is one self-contained file:
images are ``data:`` URIs, the CSS is inline, there is no script and no external
reference.

Nothing is retrained or re-evaluated unless ``evaluate=True``. The samples section comes
from a registry keyed by data kind (:func:`register_sample_section`, see
:mod:`ganforge.report.sections`), so a new kind adds its view without editing this
package.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ganforge.report.sections import Section, Table, TextPanel

__all__ = [
    "FORMATS",
    "Section",
    "Table",
    "TextPanel",
    "register_sample_section",
    "write_report",
    "write_report_safely",
]


def __getattr__(name: str) -> Any:
    if name in ("Section", "Table", "TextPanel", "SAMPLE_SECTIONS"):
        from ganforge.report import sections

        return getattr(sections, name)
    if name == "FORMATS":
        from ganforge.report.render import FORMATS

        return FORMATS
    raise AttributeError(f"module 'ganforge.report' has no attribute {name!r}")


def register_sample_section(kind: str, builder: Callable) -> Callable:
    """Register ``builder(run_files) -> Section`` as the samples view of data ``kind``."""
    from ganforge.report.sections import register_sample_section as register

    return register(kind, builder)


def _default_out(runs: list[Path], fmt: str) -> Path:
    return runs[0] / f"report.{fmt}" if len(runs) == 1 else Path(f"report.{fmt}")


def write_report(
    runs: list[str | Path] | str | Path,
    out: str | Path | None = None,
    fmt: str = "html",
    evaluate: bool = False,
) -> Path:
    """Write the report of one run (or the comparison of several) and return its path.

    ``out`` defaults to ``RUN/report.{fmt}`` for one run and ``./report.{fmt}`` for
    several. ``evaluate`` first evaluates each run's latest checkpoint and rewrites its
    ``metrics.json`` (the only case in which a model is loaded)."""
    from ganforge.errors import ConfigError
    from ganforge.io import write_text
    from ganforge.report.pages import comparison_page, run_page
    from ganforge.report.render import check_format, render_page
    from ganforge.report.runfiles import load_run

    check_format(fmt)
    paths = [Path(runs)] if isinstance(runs, (str, Path)) else [Path(r) for r in runs]
    if not paths:
        raise ConfigError("give at least one run directory")
    loaded = [load_run(p) for p in paths]  # refuse a folder that is not a run first
    if evaluate:
        from ganforge.api import evaluate as evaluate_run
        from ganforge.io import write_json

        for path in paths:
            write_json(path / "metrics.json", evaluate_run(path))
        loaded = [load_run(p) for p in paths]
    target = Path(out) if out is not None else _default_out(paths, fmt)
    if target.is_dir():
        raise ConfigError(f"--out {str(target)!r} is a folder; give a file name")
    if len(loaded) == 1:
        text = render_page(run_page(loaded[0]), "run", fmt, target)
    else:
        text = render_page(comparison_page(loaded), "compare", fmt, target)
    write_text(target, text)
    return target


def write_report_safely(run: str | Path, log: Callable[[str], None] | None = None) -> Path | None:
    """``RUN/report.html`` at the end of training: a failure is reported in one line (to
    ``log``, else as a warning) and never fails the run."""
    try:
        return write_report(run)
    except Exception as exc:  # noqa: BLE001 - the run's files are intact; say how to retry
        message = (
            f"report.html not written ({type(exc).__name__}: {exc}); "
            f"retry with: ganforge report {run}"
        )
        if log is not None:
            log(f"warning: {message}")
        else:
            warnings.warn(message, RuntimeWarning, stacklevel=2)
        return None
