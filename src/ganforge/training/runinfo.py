"""``run.json``: how a run was made and how long its training sessions took.

One file per run directory, read by the report (never by training)::

    {"command": ["ganforge", "train", ...] or null, "reproduce": "ganforge train --config
     RUN/config.json --out NEW_RUN", "ganforge": "0.1.0", "torch": "2.x", "python": "3.x",
     "platform": "Linux-...", "device": "cpu", "threads": 1,
     "sessions": [{"started": "2026-01-01T00:00:00+00:00", "from_step": 0, "to_step": 300,
                   "wall_s": 9.8, "cpu_s": 6.9, "status": "finished"}, ...]}

A resumed run appends a session; the totals are the sums. Times cover the training loop
only (the final evaluation reports its own seconds in ``metrics.json``). CPU time is the
process's user + system time over all its threads, so on a shared machine it says what
the run cost when wall time is inflated by other work.
"""

from __future__ import annotations

import contextlib
import json
import platform
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ganforge.io import write_json

RUN_INFO = "run.json"


def invoked_command(argv: list[str] | None = None) -> list[str] | None:
    """``["ganforge", ...args]`` when this process is the ganforge command line, else
    ``None`` (a Python script or a test called the library)."""
    argv = sys.argv if argv is None else argv
    if not argv:
        return None
    first = Path(argv[0])
    if first.name == "ganforge" or (
        first.name == "__main__.py" and first.parent.name == "ganforge"
    ):
        return ["ganforge", *argv[1:]]
    return None


def read_run_info(run: str | Path) -> dict[str, Any] | None:
    """The parsed ``run.json`` of ``run``, or ``None`` when absent or unreadable."""
    try:
        info = json.loads((Path(run) / RUN_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _environment(device: Any) -> dict[str, Any]:
    import torch

    from ganforge import __version__

    return {
        "ganforge": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "device": str(device),
        "threads": torch.get_num_threads(),
    }


def record_session(run: Path, session: dict[str, Any], device: Any) -> None:
    """Append one training ``session`` to ``run/run.json`` (created on the first)."""
    info = read_run_info(run) or {}
    if "command" not in info:  # the first session's command is the one that made the run
        command = invoked_command()
        info["command"] = command
    info["reproduce"] = f"ganforge train --config {run / 'config.json'} --out NEW_RUN"
    info.update(_environment(device))
    info.setdefault("sessions", []).append(session)
    write_json(run / RUN_INFO, info)


@contextlib.contextmanager
def session(trainer: Any) -> Iterator[None]:
    """Time the block (the training loop) and record it in ``run.json`` on the main
    process, also when the block ends by an interruption or an error."""
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    wall0, cpu0, step0 = time.perf_counter(), time.process_time(), trainer.step
    status = "finished"
    try:
        yield
    except BaseException as exc:
        status = f"stopped: {type(exc).__name__}"
        raise
    finally:
        if trainer.is_main and trainer.run_dir is not None:
            entry = {
                "started": started,
                "from_step": step0,
                "to_step": trainer.step,
                "wall_s": round(time.perf_counter() - wall0, 3),
                "cpu_s": round(time.process_time() - cpu0, 3),
                "status": status,
            }
            with contextlib.suppress(OSError):  # timing is never worth losing a run
                record_session(Path(trainer.run_dir), entry, trainer.device)
