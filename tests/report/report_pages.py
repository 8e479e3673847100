"""Helpers for the report tests: parse a report page with the standard library and check
that it is self-contained."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser

from PIL import Image

EXTERNAL = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)


class Page(HTMLParser):
    """Tags, attributes and table rows (cell texts) of an HTML page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def images(self) -> list[str]:
        return [attrs.get("src") or "" for tag, attrs in self.tags if tag == "img"]

    def row(self, first: str) -> list[str]:
        """The first table row whose first cell is ``first``."""
        for row in self.rows:
            if row and row[0] == first:
                return row
        raise AssertionError(f"no table row starts with {first!r}")


def decode_data_uri(src: str) -> Image.Image:
    """The image of a ``data:image/png|gif;base64,`` URI (fully decoded)."""
    match = re.fullmatch(r"data:image/(png|gif);base64,([A-Za-z0-9+/=]+)", src)
    assert match, f"not an embedded PNG/GIF: {src[:60]!r}"
    image = Image.open(io.BytesIO(base64.b64decode(match.group(2), validate=True)))
    assert image.format.lower() == match.group(1)
    image.load()
    return image


def assert_self_contained(text: str) -> Page:
    """No script, no stylesheet link, no external URL; every image embedded and valid."""
    page = Page(text)
    tags = {tag for tag, _ in page.tags}
    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    assert not EXTERNAL.search(text), EXTERNAL.search(text)
    assert "@import" not in text and "url(" not in text
    images = page.images()
    assert images, "the page shows no image"
    for src in images:
        decode_data_uri(src)
    return page
