"""Validate an uploaded PDF document and read the little the catalog shows about it."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.generic import NullObject

from courseware.errors import InvalidMedia

#: The PDF header may follow some junk, but must appear within the first kilobyte (as readers
#: such as Acrobat require).
_HEADER_WINDOW = 1024
_TITLE_CHARS = 500


@dataclass(frozen=True)
class PdfInfo:
    """What the catalog needs to know about a lesson document."""

    pages: int
    size_bytes: int
    title: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict."""
        return dataclasses.asdict(self)


def inspect_pdf(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> PdfInfo:
    """Check ``path`` is a readable, unencrypted PDF with pages; raise InvalidMedia otherwise.

    pypdf is lenient (``strict=False``) so that the many slightly malformed PDFs in the wild
    pass, but every page's content stream is decoded, so truncated or garbled files are
    refused instead of failing later in the learner's browser. Encrypted files are refused
    even when they open with an empty password: the viewer may not be able to read them, and
    their permissions could forbid display.
    """
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise InvalidMedia("empty", "file is empty")
    if max_bytes is not None and size > max_bytes:
        raise InvalidMedia("too_large", f"{size} bytes > {max_bytes} bytes")
    with path.open("rb") as f:
        if b"%PDF-" not in f.read(_HEADER_WINDOW):
            raise InvalidMedia("pdf_corrupt", "no %PDF- header")
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            raise InvalidMedia("pdf_encrypted", "document is encrypted")
        pages = len(reader.pages)
        if pages == 0:
            raise InvalidMedia("pdf_empty", "document has no pages")
        for number, page in enumerate(reader.pages, start=1):
            _check_page(page, number)
        title = _title(reader)
    except InvalidMedia:
        raise
    except Exception as e:  # pypdf raises many types (PdfReadError, ValueError, KeyError…)
        raise InvalidMedia("pdf_corrupt", f"{type(e).__name__}: {e}"[:300]) from None
    return PdfInfo(pages=pages, size_bytes=size, title=title)


def _check_page(page: Any, number: int) -> None:
    if "/Contents" not in page:
        return  # a blank page is legal
    if isinstance(page.get("/Contents").get_object(), NullObject):
        raise InvalidMedia("pdf_corrupt", f"page {number}: content stream is missing")
    contents = page.get_contents()
    if contents is None:
        raise InvalidMedia("pdf_corrupt", f"page {number}: content stream is missing")
    contents.get_data()


def _title(reader: PdfReader) -> str | None:
    try:
        metadata = reader.metadata
        raw = metadata.title if metadata is not None else None
    except Exception:  # a broken Info dictionary should not refuse an otherwise good file
        return None
    if not raw:
        return None
    title = " ".join(str(raw).replace("\x00", "").split())[:_TITLE_CHARS]
    return title or None
