"""One run per directory: an exclusive lock file holding the owner's pid and host.

A second process is refused with a clear message. A lock left behind by a killed process
on this host (its pid no longer alive) is detected as stale and taken over.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from ganforge.errors import OutputError

LOCK_NAME = "lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """Context manager: ``with RunLock(run_dir): ...``; ``enabled=False`` does nothing."""

    def __init__(self, run_dir: str | Path, enabled: bool = True) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self.enabled = enabled
        self.held = False

    def _owner(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    def acquire(self) -> None:
        me = {"pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}
        for _ in range(2):
            # Write the owner to a temp file, then hard-link it into place: the lock file
            # appears atomically, complete, or not at all.
            tmp = self.path.with_name(f".{LOCK_NAME}.{me['pid']}.tmp")
            tmp.write_text(json.dumps(me))
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                owner = self._owner()
                if owner is None:
                    # Unreadable or torn lock (killed while writing it): stale.
                    self.path.unlink(missing_ok=True)
                    continue
                if owner.get("host") == me["host"] and not _alive(int(owner.get("pid", -1))):
                    self.path.unlink(missing_ok=True)  # stale: the owner is gone
                    continue
                raise OutputError(
                    f"run directory {str(self.path.parent)!r} is in use by process "
                    f"{owner.get('pid')} on {owner.get('host')}; wait for it to finish "
                    f"(or delete {self.path} if that process no longer exists)"
                ) from None
            finally:
                tmp.unlink(missing_ok=True)
            self.held = True
            return
        raise OutputError(f"could not take the lock {self.path}")

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> RunLock:
        if self.enabled and not self.held:
            self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
