from pathlib import Path

import pytest
from pypdf import PdfReader

from autoservice import images
from autoservice.pdf import render_pdf
from tests.photos import jpeg_bytes


def test_pdf_keeps_cyrillic_text(tmp_path):
    pdf = render_pdf("<h1>Акт приёма-передачи А123ВС77</h1>", base_url="http://testserver/")
    path = tmp_path / "a.pdf"
    path.write_bytes(pdf)
    assert "А123ВС77" in PdfReader(path).pages[0].extract_text()


def test_rendering_a_pdf_does_not_make_uploads_accept_half_a_photo(tmp_path: Path):
    render_pdf("<p>смета</p>", base_url="http://testserver/")
    cut = tmp_path / "half.jpg"
    cut.write_bytes(jpeg_bytes((1200, 900))[:5000])
    with pytest.raises(images.ImageRejected):
        images.inspect_image(cut, filename="half.jpg")
