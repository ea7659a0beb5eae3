"""The decoded-size budget of an upload, judged from the header before any decode."""

from __future__ import annotations

import io
import resource

import pytest
from PIL import Image

from autoservice import images
from tests.hostile_files import png_file, png_interlaced_grey, png_rows


def _opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def _saved(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "per_pixel"),
    [
        (png_file(10, 10, depth=8, colour=2), 3),  # RGB
        (png_file(10, 10, depth=8, colour=6), 4),  # RGBA
        (png_file(10, 10, depth=8, colour=4), 2),  # LA
        (png_file(10, 10, depth=16, colour=0), 2),  # I;16
        (png_file(10, 10, depth=16, colour=2), 6),  # RGB;16
        (png_file(10, 10, depth=16, colour=6), 8),  # RGBA;16
        (png_file(10, 10, depth=1, colour=0), 1),
        (png_file(10, 10, depth=4, colour=3), 1),  # palette
        (_saved(Image.new("CMYK", (10, 10)), "JPEG"), 4),
        (_saved(Image.new("RGB", (10, 10)), "JPEG"), 3),
        (_saved(Image.new("RGB", (10, 10)), "JPEG", progressive=True), 6),
        (_saved(Image.new("L", (10, 10)), "JPEG"), 1),
        (_saved(Image.new("RGBA", (10, 10)), "WEBP", lossless=True), 4),
        (_saved(Image.new("I;16", (10, 10)), "TIFF"), 2),
        (_saved(Image.new("RGB", (10, 10)), "GIF"), 1),
    ],
)
def test_decoded_bytes_count_16_bit_samples_and_alpha(data, per_pixel):
    with _opened(data) as im:
        assert images.decoded_bytes(im) == 100 * per_pixel


def test_budget_lets_a_48_mp_photo_in_and_keeps_a_49_mp_16_bit_png_out(tmp_path):
    assert 8000 * 6000 * 3 <= images.DEFAULT_MAX_DECODED_BYTES
    assert 7000 * 7000 * 8 > images.DEFAULT_MAX_DECODED_BYTES

    phone = tmp_path / "phone.png"
    phone.write_bytes(png_file(8000, 6000))  # the header of a 48 MP RGB photo, no pixels
    with pytest.raises(images.ImageRejected) as refused:
        images.inspect_image(phone, filename="phone.png")
    assert refused.value.code == images.ImageRejected.CORRUPT  # past the budget check

    huge = tmp_path / "huge.png"
    huge.write_bytes(png_file(7000, 7000, depth=16, colour=6))
    with pytest.raises(images.ImageRejected) as refused:
        images.inspect_image(huge, filename="huge.png")
    assert refused.value.code == images.ImageRejected.DECODED_TOO_LARGE
    assert "«huge.png»" in refused.value.message and "373,8 МБ" in refused.value.message


def test_budget_is_a_parameter(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(png_file(100, 100, pixel_data=png_rows(100, 100, 3)))
    assert images.inspect_image(path, filename="a.png").width == 100
    with pytest.raises(images.ImageRejected) as refused:
        images.inspect_image(path, filename="a.png", max_decoded_bytes=29_999)
    assert refused.value.code == images.ImageRejected.DECODED_TOO_LARGE


def test_interlaced_png_is_checked_pass_by_pass(tmp_path):
    path = tmp_path / "i.png"
    path.write_bytes(png_interlaced_grey(37, 23))
    assert images.inspect_image(path, filename="i.png", max_decoded_bytes=10**9).height == 23
    # The streamed check (not Pillow's decoder) judges it when it is not small.
    whole = png_interlaced_grey(4100, 4100)
    path.write_bytes(whole)
    assert images.inspect_image(path, filename="i.png").width == 4100
    path.write_bytes(whole[:-40])
    with pytest.raises(images.ImageRejected) as refused:
        images.inspect_image(path, filename="i.png")
    assert refused.value.code == images.ImageRejected.CORRUPT


def test_a_large_png_is_checked_without_decoding_it(tmp_path, monkeypatch):
    # 6000 x 4000 RGB: 72 MB decoded; the check streams it and never calls Pillow's load.
    path = tmp_path / "big.png"
    path.write_bytes(png_file(6000, 4000, pixel_data=png_rows(6000, 4000, 3)))

    def no_full_decode(self):
        raise AssertionError("decoded whole in the request")

    monkeypatch.setattr(Image.Image, "load", no_full_decode)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_full_decode)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    info = images.inspect_image(path, filename="big.png")
    assert (info.width, info.height) == (6000, 4000)
    # Peak memory grew by far less than the 72 MB a decode would take.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 30 * 1024


def test_the_decompression_bomb_guard_must_stay_on(tmp_path, monkeypatch):
    path = tmp_path / "a.png"
    path.write_bytes(png_file(4, 4, pixel_data=png_rows(4, 4, 3)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(RuntimeError):
        images.inspect_image(path, filename="a.png")


def test_renditions_of_a_file_that_fails_the_full_decode_are_a_refusal(tmp_path):
    src = tmp_path / "a.png"
    src.write_bytes(png_file(64, 64))  # one row of pixel data where 64 are promised
    with pytest.raises(images.ImageRejected):
        images.make_renditions(src, web_dest=tmp_path / "w.jpg", thumb_dest=tmp_path / "t.jpg")
