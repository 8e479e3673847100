"""Files ganforge fetches and keeps: the cache folder, SHA-256 of a file and checksummed,
resumable downloads.

The cache (``$GANFORGE_CACHE``, default ``~/.cache/ganforge``) holds downloaded datasets
(``mnist/``) and the features of real reference sets (``reference/``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

CACHE_ENV = "GANFORGE_CACHE"


def cache_dir() -> Path:
    """The cache root: ``$GANFORGE_CACHE`` or ``~/.cache/ganforge``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "ganforge"


class DownloadError(Exception):
    """A file could not be fetched (network, HTTP status) or failed its checksum."""


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fetch(url: str, part: Path, timeout: float) -> None:
    """Append the rest of ``url`` to ``part`` (HTTP Range from its current size)."""
    start = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "ganforge"}
    if start:
        headers["Range"] = f"bytes={start}-"
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # nothing left to send: the checksum decides
            return
        raise
    with resp:
        mode = "ab" if start and resp.status == 206 else "wb"
        with open(part, mode) as fh:
            shutil.copyfileobj(resp, fh, 1 << 16)


def download_file(
    url: str,
    dest: str | os.PathLike[str],
    sha256: str,
    retries: int = 3,
    timeout: float = 30.0,
    backoff: float = 1.0,
) -> Path:
    """Download ``url`` to ``dest`` through ``dest.part``, resuming a partial ``.part`` with
    an HTTP Range request, checking its SHA-256 and renaming it into place atomically.

    Retries network errors and server errors (5xx) ``retries`` times with a growing pause;
    a checksum mismatch after a resumed download restarts from zero once.

    Raises:
        DownloadError: the last network error, an HTTP client error, or a checksum
            mismatch of a complete download (the ``.part`` file is then removed).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    last: str = "no attempt made"
    for attempt in range(max(retries, 1)):
        if attempt and backoff:
            time.sleep(backoff * attempt)
        resumed = part.exists() and part.stat().st_size > 0
        try:
            _fetch(url, part, timeout)
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code} {exc.reason}"
            if 400 <= exc.code < 500 and exc.code not in (408, 429):
                break
            continue
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            last = str(reason) or type(exc).__name__
            continue
        digest = sha256_file(part)
        if digest != sha256:
            part.unlink(missing_ok=True)
            last = f"SHA-256 {digest} does not match the expected {sha256}"
            if resumed:
                continue
            raise DownloadError(last)
        os.replace(part, dest)
        return dest
    raise DownloadError(last)
