"""TensorBoard event files from a run's files (``RUN/tb/``), for people who browse runs
there: every logged scalar of ``history.jsonl`` at its step, the final metrics and their
real-vs-real floors, and the report's samples section (pictures as images, text panels
as text). ``history.jsonl`` stays the source of truth; ``tb/`` is rebuilt from it.

TensorBoard is an optional extra: ``pip install 'ganforge[tensorboard]'``.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np

from ganforge.errors import ConfigError

INSTALL = "pip install 'ganforge[tensorboard]'"
SKIP = {"step", "time"}


def tensorboard_available() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def require_tensorboard() -> None:
    """Refuse ``--log tensorboard`` (before any training) when TensorBoard is missing."""
    if not tensorboard_available():
        raise ConfigError(f"--log tensorboard needs TensorBoard: {INSTALL}")


def _picture_array(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))  # the first frame of a GIF


def write_tensorboard(run: str | Path) -> Path:
    """Rebuild ``RUN/tb/`` from the run's files and return it."""
    require_tensorboard()
    from torch.utils.tensorboard import SummaryWriter

    from ganforge.report.readings import metric_rows
    from ganforge.report.runfiles import load_run
    from ganforge.report.sections import sample_section

    files = load_run(run)
    folder = files.path / "tb"
    if folder.exists():
        shutil.rmtree(folder)  # derived data: rebuilt whole, never appended twice
    last = max((int(r.get("step", 0)) for r in files.history), default=0)
    with SummaryWriter(log_dir=str(folder)) as writer:
        for row in files.history:
            for key, value in row.items():
                if (
                    key not in SKIP
                    and isinstance(value, (int, float))
                    and not isinstance(value, bool)
                ):
                    writer.add_scalar(key, value, int(row["step"]), walltime=row.get("time"))
        for metric in metric_rows(files.metrics):
            if metric.value is not None:
                writer.add_scalar(f"metrics/{metric.name}", metric.value, last)
            if metric.floor is not None:
                writer.add_scalar(f"real_vs_real/{metric.name}", metric.floor, last)
        section = sample_section(files)
        for picture in section.pictures:
            image = _picture_array(picture.data)
            writer.add_image(f"samples/{picture.stem}", image, last, dataformats="HWC")
        for panel in section.texts:
            writer.add_text(f"samples/{panel.title}", "    " + "\n    ".join(panel.lines), last)
    return folder
