"""Render report pages with Jinja2: self-contained HTML (images as ``data:`` URIs, inline
CSS, no script, font or request) or Markdown with its images in a folder beside it."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ganforge.errors import ConfigError
from ganforge.report.figures import Picture
from ganforge.report.readings import fmt

FORMATS = ("html", "md")
TEMPLATES = Path(__file__).parent / "templates"


def check_format(fmt_name: str) -> str:
    if fmt_name not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt_name!r}")
    return fmt_name


def data_uri(picture: Picture) -> str:
    """``data:image/png;base64,...`` for embedding in a page."""
    return f"data:{picture.mime};base64,{base64.b64encode(picture.data).decode('ascii')}"


def _environment(fmt_name: str) -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=fmt_name == "html",
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )


class FileWriter:
    """``src(picture)`` for Markdown: writes the picture to ``folder`` (numbered, so two
    runs' figures never collide) and returns its path relative to the page."""

    def __init__(self, page: Path) -> None:
        self.folder = page.parent / f"{page.stem}_files"
        self.page = page
        self.count = 0

    def __call__(self, picture: Picture) -> str:
        from ganforge.io import atomic_path

        self.count += 1
        path = self.folder / f"{self.count:02d}-{picture.stem}{picture.suffix}"
        with atomic_path(path, durable=False) as tmp:
            tmp.write_bytes(picture.data)
        return path.relative_to(self.page.parent).as_posix()


def render_page(page: dict[str, Any], template: str, fmt_name: str, out: Path) -> str:
    """The text of ``page`` through ``{template}.{fmt}.j2``; Markdown pictures are
    written beside ``out``."""
    from ganforge import __version__

    src: Callable[[Picture], str] = data_uri if fmt_name == "html" else FileWriter(out)
    env = _environment(fmt_name)
    return env.get_template(f"{template}.{fmt_name}.j2").render(
        page=page,
        src=src,
        fmt=fmt,
        css=(TEMPLATES / "style.css").read_text(encoding="utf-8"),
        made=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )
