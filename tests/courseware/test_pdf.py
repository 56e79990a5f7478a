"""inspect_pdf: a lesson document must be a readable, unencrypted PDF with pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfWriter

from courseware.errors import InvalidMedia
from courseware.pdf import PdfInfo, inspect_pdf

MakePdf = Callable[..., Path]


def refusal(path: Path, **kwargs: int) -> str:
    with pytest.raises(InvalidMedia) as excinfo:
        inspect_pdf(path, **kwargs)
    assert excinfo.value.detail
    return excinfo.value.code


class TestAGoodPdf:
    def test_reports_its_pages_size_and_title(self, make_pdf: MakePdf) -> None:
        path = make_pdf("manual.pdf", pages=2, title="  安全生产 \x00 培训  ")

        info = inspect_pdf(path)

        assert info == PdfInfo(pages=2, size_bytes=path.stat().st_size, title="安全生产 培训")

    def test_without_a_title_reports_none(self, make_pdf: MakePdf) -> None:
        assert inspect_pdf(make_pdf("untitled.pdf", pages=1)).title is None

    def test_serialises_to_plain_json(self, make_pdf: MakePdf) -> None:
        info = inspect_pdf(make_pdf("manual.pdf", pages=2))

        assert PdfInfo(**json.loads(json.dumps(info.to_dict()))) == info


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.touch()

    assert refusal(path) == "empty"


def test_an_encrypted_pdf_is_refused_even_with_an_empty_password(
    make_pdf: MakePdf, tmp_path: Path
) -> None:
    writer = PdfWriter(clone_from=make_pdf("plain.pdf"))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    writer.write(path)

    assert refusal(path) == "pdf_encrypted"


def test_a_pdf_without_pages_is_refused(make_pdf: MakePdf) -> None:
    assert refusal(make_pdf("nothing.pdf", pages=0)) == "pdf_empty"


class TestACorruptPdfIsRefused:
    def test_garbage_after_a_pdf_header(self, tmp_path: Path) -> None:
        path = tmp_path / "garbage.pdf"
        path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20)

        assert refusal(path) == "pdf_corrupt"

    @pytest.mark.parametrize("kept", [0.25, 0.5, 0.9])
    def test_a_truncated_real_pdf(self, make_pdf: MakePdf, tmp_path: Path, kept: float) -> None:
        data = make_pdf("whole.pdf", pages=3).read_bytes()
        path = tmp_path / "cut.pdf"
        path.write_bytes(data[: int(len(data) * kept)])

        assert refusal(path) == "pdf_corrupt"

    def test_a_page_whose_content_stream_is_missing(self, tmp_path: Path) -> None:
        path = tmp_path / "dangling.pdf"
        path.write_bytes(
            b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 100 100]/Contents 9 0 R>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n"
        )

        assert refusal(path) == "pdf_corrupt"

    def test_a_video_named_pdf(self, good_clip: Path, tmp_path: Path) -> None:
        path = tmp_path / "slides.pdf"
        path.write_bytes(good_clip.read_bytes())

        assert refusal(path) == "pdf_corrupt"


def test_a_file_above_the_size_cap_is_refused(make_pdf: MakePdf) -> None:
    assert refusal(make_pdf("big.pdf"), max_bytes=100) == "too_large"
