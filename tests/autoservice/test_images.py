"""Photo acceptance and renditions, on real files made with Pillow; no database."""

from __future__ import annotations

import hashlib
import io
import os
import pathlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime

import pillow_heif
import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageDraw, ImageFile, ImageOps

from autoservice.images import (
    ALLOWED_FORMATS,
    ImageInfo,
    ImageRejected,
    Renditions,
    StoredOriginal,
    displayed_size,
    exif_orientation,
    fit_long_side,
    inspect_image,
    is_jpeg,
    make_renditions,
    read_exif,
    resizable,
    sha256_file,
    store_upload,
    upright,
)

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

RED = (255, 0, 0)
WHITE = (255, 255, 255)


def _photo(size: tuple[int, int], *, red_corner: bool = True) -> Image.Image:
    """A textured image (so JPEG data is not trivially small) with a red top-left block."""
    noise = Image.effect_noise(size, 40).convert("RGB")
    im = Image.blend(Image.new("RGB", size, (90, 120, 160)), noise, 0.3)
    if red_corner:
        side = min(size) // 4
        ImageDraw.Draw(im).rectangle((0, 0, side, side), fill=RED)
    return im


def _phone_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestPhone"
    exif.get_ifd(0x8769)[0x9003] = "2025:03:14 09:26:53"  # DateTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (55.0, 45.0, 21.0)  # GPSLatitude
    gps[3] = "E"
    gps[4] = (37.0, 37.0, 4.0)  # GPSLongitude
    return exif


def _render(src: pathlib.Path, **kwargs: int) -> tuple[Renditions, pathlib.Path, pathlib.Path]:
    web, thumb = src.with_name(f"{src.stem}_web.jpg"), src.with_name(f"{src.stem}_thumb.jpg")
    return make_renditions(src, web_dest=web, thumb_dest=thumb, **kwargs), web, thumb


def _assert_no_metadata(path: pathlib.Path) -> None:
    raw = path.read_bytes()
    assert b"Exif" not in raw
    assert b"GPS" not in raw
    assert b"TestPhone" not in raw
    with Image.open(path) as im:
        assert im.format == "JPEG"
        assert not im.getexif()
        for key in ("exif", "icc_profile", "xmp", "comment"):
            assert key not in im.info


def _is_red(pixel: tuple[int, ...]) -> bool:
    r, g, b = pixel[:3]
    return r > 200 and g < 60 and b < 60


# --- renditions ---------------------------------------------------------------------------


def test_rotated_phone_photo_renditions_are_upright_and_carry_no_metadata(tmp_path):
    src = tmp_path / "IMG_0001.jpg"
    _photo((800, 600)).save(src, format="JPEG", quality=90, exif=_phone_exif(6))

    result, web, thumb = _render(src, web_long_side=400, thumb_long_side=100)

    assert result == Renditions(web_width=300, web_height=400, thumb_width=75, thumb_height=100)
    with Image.open(web) as im:
        assert im.size == (300, 400)
        # Orientation 6 = "rotate 90° clockwise to display": the stored top-left corner
        # is shown top-right.
        assert _is_red(im.getpixel((290, 10)))
        assert not _is_red(im.getpixel((10, 10)))
        assert not _is_red(im.getpixel((290, 390)))
    with Image.open(thumb) as im:
        assert im.size == (75, 100)
        assert _is_red(im.getpixel((72, 3)))
    _assert_no_metadata(web)
    _assert_no_metadata(thumb)


def test_inspect_reports_displayed_size_and_capture_time(tmp_path):
    src = tmp_path / "IMG_0001.jpg"
    _photo((800, 600)).save(src, format="JPEG", quality=90, exif=_phone_exif(6))

    info = inspect_image(src, filename="IMG_0001.jpg")

    assert info == ImageInfo(
        format="JPEG", width=600, height=800, taken_at=datetime(2025, 3, 14, 9, 26, 53)
    )


def test_photo_without_exif_has_no_capture_time(tmp_path):
    src = tmp_path / "plain.png"
    _photo((64, 48)).save(src, format="PNG")

    assert inspect_image(src, filename="plain.png") == ImageInfo("PNG", 64, 48, None)


def test_jpeg_comment_is_not_copied(tmp_path):
    src = tmp_path / "IMG_0002.jpg"
    _photo((320, 240)).save(src, format="JPEG", comment=b"TestPhone owner")

    _, web, thumb = _render(src)

    _assert_no_metadata(web)
    _assert_no_metadata(thumb)


def test_embedded_icc_profile_is_applied_and_not_copied(tmp_path):
    src = tmp_path / "IMG_0003.jpg"
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    _photo((320, 240)).save(src, format="JPEG", icc_profile=srgb)

    _, web, thumb = _render(src)

    _assert_no_metadata(web)
    _assert_no_metadata(thumb)
    with Image.open(web) as im:
        assert _is_red(im.getpixel((5, 5)))  # sRGB to sRGB keeps the colours


def test_profile_that_does_not_fit_the_pixels_is_ignored_not_fatal(tmp_path):
    src = tmp_path / "odd_profile.jpg"
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    _photo((320, 240)).save(src, format="JPEG", icc_profile=lab)

    _, web, _ = _render(src)

    _assert_no_metadata(web)
    with Image.open(web) as im:
        assert _is_red(im.getpixel((5, 5)))


def test_png_with_alpha_is_flattened_on_white(tmp_path):
    src = tmp_path / "scratch.png"
    im = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    ImageDraw.Draw(im).rectangle((0, 0, 49, 49), fill=(255, 0, 0, 255))
    im.save(src, format="PNG")

    assert inspect_image(src, filename="scratch.png").format == "PNG"
    result, web, _ = _render(src)

    assert (result.web_width, result.web_height) == (200, 100)
    with Image.open(web) as out:
        assert out.mode == "RGB"
        assert _is_red(out.getpixel((10, 10)))
        assert all(channel > 245 for channel in out.getpixel((150, 80)))


def test_palette_png_is_resampled_smoothly(tmp_path):
    # Pillow resizes palette images with NEAREST: 1-px black/white stripes halved would
    # come out all black or all white instead of grey.
    src = tmp_path / "stripes.png"
    stripes = Image.new("P", (200, 100), 0)
    stripes.putpalette([0, 0, 0, 255, 255, 255])
    draw = ImageDraw.Draw(stripes)
    for x in range(1, 200, 2):
        draw.line((x, 0, x, 99), fill=1)
    stripes.save(src, format="PNG")

    result, web, _ = _render(src, web_long_side=100)

    assert (result.web_width, result.web_height) == (100, 50)
    with Image.open(web) as out:
        assert out.mode == "RGB"
        assert all(90 < channel < 165 for channel in out.getpixel((50, 25)))


def test_webp_is_accepted_and_rendered(tmp_path):
    src = tmp_path / "photo.webp"
    _photo((640, 480)).save(src, format="WEBP", quality=80)

    assert inspect_image(src, filename="photo.webp") == ImageInfo("WEBP", 640, 480, None)
    result, web, thumb = _render(src, web_long_side=320, thumb_long_side=80)

    assert result == Renditions(320, 240, 80, 60)
    _assert_no_metadata(web)
    _assert_no_metadata(thumb)


def test_heic_is_accepted_and_rendered(tmp_path):
    pillow_heif.register_heif_opener()
    src = tmp_path / "IMG_0003.HEIC"
    _photo((640, 480)).save(src, format="HEIF", quality=80, exif=_phone_exif(1))

    info = inspect_image(src, filename="IMG_0003.HEIC")
    result, web, thumb = _render(src, web_long_side=320, thumb_long_side=80)

    assert (info.format, info.width, info.height) == ("HEIF", 640, 480)
    assert info.taken_at == datetime(2025, 3, 14, 9, 26, 53)
    assert result == Renditions(320, 240, 80, 60)
    with Image.open(web) as im:
        assert _is_red(im.getpixel((5, 5)))
    _assert_no_metadata(web)
    _assert_no_metadata(thumb)


def test_heic_orientation_is_applied_once(tmp_path):
    # libheif already applies the HEIC rotation and pillow-heif resets the EXIF tag to 1;
    # the renditions must look like any viewer shows the file, not be turned again.
    pillow_heif.register_heif_opener()
    src = tmp_path / "IMG_0006.HEIC"
    _photo((320, 240)).save(src, format="HEIF", exif=_phone_exif(6))
    with Image.open(src) as im:
        viewer = ImageOps.exif_transpose(im)

    result, web, _ = _render(src)

    assert (result.web_width, result.web_height) == viewer.size
    assert inspect_image(src, filename="IMG_0006.HEIC").width == viewer.width
    with Image.open(web) as im:
        for corner in ((4, 4), (im.width - 5, 4)):
            assert _is_red(im.getpixel(corner)) == _is_red(viewer.getpixel(corner))


def test_16_bit_greyscale_png_is_scaled_not_clipped(tmp_path):
    src = tmp_path / "grey16.png"
    Image.new("I;16", (40, 30), 40_000).save(src, format="PNG")

    _, web, _ = _render(src)

    with Image.open(web) as im:
        assert all(150 <= channel <= 162 for channel in im.getpixel((20, 15)))  # 40000/256


def test_cmyk_jpeg_is_rendered_as_rgb(tmp_path):
    src = tmp_path / "scan.jpg"
    _photo((200, 150)).convert("CMYK").save(src, format="JPEG")

    _, web, _ = _render(src)

    with Image.open(web) as im:
        assert im.mode == "RGB"
        assert _is_red(im.getpixel((5, 5)))


def test_small_photo_is_never_upscaled(tmp_path):
    src = tmp_path / "small.jpg"
    _photo((300, 200)).save(src, format="JPEG")

    result, web, thumb = _render(src)

    assert result == Renditions(300, 200, 300, 200)
    with Image.open(web) as im:
        assert im.size == (300, 200)


def test_renditions_are_idempotent_and_leave_no_temporary_files(tmp_path):
    src = tmp_path / "IMG_0004.jpg"
    _photo((900, 700)).save(src, format="JPEG", exif=_phone_exif(8))

    first, web, thumb = _render(src, web_long_side=500, thumb_long_side=120)
    first_bytes = web.read_bytes(), thumb.read_bytes()
    second, _, _ = _render(src, web_long_side=500, thumb_long_side=120)

    assert first == second
    assert (web.read_bytes(), thumb.read_bytes()) == first_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "IMG_0004.jpg",
        "IMG_0004_thumb.jpg",
        "IMG_0004_web.jpg",
    ]


def test_renditions_go_into_missing_folders(tmp_path):
    src = tmp_path / "a.jpg"
    _photo((100, 80)).save(src, format="JPEG")

    make_renditions(src, web_dest=tmp_path / "w" / "1.jpg", thumb_dest=tmp_path / "t" / "1.jpg")

    assert (tmp_path / "w" / "1.jpg").is_file()
    assert (tmp_path / "t" / "1.jpg").is_file()


@settings(max_examples=30, deadline=None)
@given(
    width=st.integers(1, 240),
    height=st.integers(1, 240),
    web_long_side=st.integers(8, 160),
    thumb_long_side=st.integers(4, 60),
)
def test_renditions_fit_the_long_side_and_keep_the_aspect_ratio(
    width, height, web_long_side, thumb_long_side
):
    with tempfile.TemporaryDirectory() as folder:
        src = pathlib.Path(folder) / "src.jpg"
        Image.new("RGB", (width, height), (10, 200, 30)).save(src, format="JPEG")

        result, _, _ = _render(src, web_long_side=web_long_side, thumb_long_side=thumb_long_side)

    web = (result.web_width, result.web_height)
    thumb = (result.thumb_width, result.thumb_height)
    _assert_fits((width, height), web, web_long_side)
    _assert_fits(web, thumb, thumb_long_side)


def _assert_fits(source: tuple[int, int], out: tuple[int, int], long_side: int) -> None:
    assert max(out) == min(long_side, max(source))
    scale = max(out) / max(source)
    assert abs(out[0] - source[0] * scale) <= 1
    assert abs(out[1] - source[1] * scale) <= 1


# --- refusals -----------------------------------------------------------------------------


def _gif(path: pathlib.Path) -> None:
    Image.new("RGB", (20, 20), RED).save(path, format="GIF")


def _bmp(path: pathlib.Path) -> None:
    Image.new("RGB", (20, 20), RED).save(path, format="BMP")


def _tiff(path: pathlib.Path) -> None:
    Image.new("RGB", (20, 20), RED).save(path, format="TIFF")


@pytest.mark.parametrize(
    ("filename", "write", "code", "wording"),
    [
        ("IMG_0001.jpg", lambda p: p.write_bytes(b""), ImageRejected.EMPTY, "пустой"),
        (
            "IMG_0002.jpg",
            lambda p: p.write_text("Здравствуйте, это не фото\n" * 20),
            ImageRejected.NOT_IMAGE,
            "не распознан как фото",
        ),
        (
            "акт.jpg",
            lambda p: p.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n%%EOF\n"),
            ImageRejected.NOT_IMAGE,
            "не распознан как фото",
        ),
        ("funny.gif", _gif, ImageRejected.FORMAT_NOT_ALLOWED, "GIF не подходит"),
        ("old.bmp", _bmp, ImageRejected.FORMAT_NOT_ALLOWED, "BMP не подходит"),
        ("scan.jpg", _tiff, ImageRejected.FORMAT_NOT_ALLOWED, "TIFF не подходит"),
    ],
)
def test_file_that_is_not_an_allowed_photo_is_refused_by_name(
    tmp_path, filename, write, code, wording
):
    path = tmp_path / "upload"
    write(path)

    with pytest.raises(ImageRejected) as refused:
        inspect_image(path, filename=filename)

    assert refused.value.code == code
    assert f"«{filename}»" in refused.value.message
    assert wording in refused.value.message
    assert str(refused.value) == refused.value.message


@pytest.mark.parametrize("kept", [0.5, 0.97])
def test_cut_off_jpeg_is_refused(tmp_path, kept):
    # 0.97: a 1/8-scale draft decode must still notice data missing at the very end.
    whole = io.BytesIO()
    _photo((1024, 768)).save(whole, format="JPEG", quality=90)
    data = whole.getvalue()
    path = tmp_path / "upload"
    path.write_bytes(data[: int(len(data) * kept)])

    with pytest.raises(ImageRejected) as refused:
        inspect_image(path, filename="IMG_0005.JPG")

    assert refused.value.code == ImageRejected.CORRUPT
    assert "«IMG_0005.JPG»" in refused.value.message


def test_whole_jpeg_is_accepted(tmp_path):
    path = tmp_path / "upload"
    _photo((1024, 768)).save(path, format="JPEG", quality=90)

    assert inspect_image(path, filename="IMG_0005.JPG") == ImageInfo("JPEG", 1024, 768, None)


def test_jpeg_with_a_second_frame_counts_as_jpeg(tmp_path):
    # Android "Ultra HDR" photos carry a gain map as a second frame; Pillow says "MPO".
    path = tmp_path / "PXL_0001.jpg"
    photo = _photo((800, 600))
    photo.save(path, format="MPO", save_all=True, append_images=[photo.resize((200, 150))])

    assert inspect_image(path, filename="PXL_0001.jpg") == ImageInfo("JPEG", 800, 600, None)
    result, web, _ = _render(path, web_long_side=400)
    assert (result.web_width, result.web_height) == (400, 300)

    cut = tmp_path / "cut.jpg"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    with pytest.raises(ImageRejected) as refused:
        inspect_image(cut, filename="PXL_0001.jpg")
    assert refused.value.code == ImageRejected.CORRUPT


@pytest.mark.parametrize("kept", [0.5, 0.95])
def test_cut_off_heic_is_refused_as_incomplete(tmp_path, kept):
    pillow_heif.register_heif_opener()
    whole = io.BytesIO()
    _photo((320, 240)).save(whole, format="HEIF", quality=80)
    path = tmp_path / "upload"
    path.write_bytes(whole.getvalue()[: int(len(whole.getvalue()) * kept)])

    with pytest.raises(ImageRejected) as refused:
        inspect_image(path, filename="IMG_0007.HEIC")

    assert refused.value.code == ImageRejected.CORRUPT
    assert "«IMG_0007.HEIC»" in refused.value.message


def test_jpeg_cut_off_in_its_header_is_refused_as_incomplete(tmp_path):
    whole = io.BytesIO()
    _photo((64, 64)).save(whole, format="JPEG", exif=_phone_exif())
    path = tmp_path / "upload"
    path.write_bytes(whole.getvalue()[:40])

    with pytest.raises(ImageRejected) as refused:
        inspect_image(path, filename="IMG_0008.jpg")

    assert refused.value.code == ImageRejected.CORRUPT


def test_cut_off_png_is_refused(tmp_path):
    whole = io.BytesIO()
    _photo((300, 200)).save(whole, format="PNG")
    path = tmp_path / "upload"
    path.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])

    with pytest.raises(ImageRejected) as refused:
        inspect_image(path, filename="screen.png")

    assert refused.value.code == ImageRejected.CORRUPT


@pytest.mark.parametrize("side", [10_000, 20_000])
def test_decompression_bomb_is_refused_before_decoding(tmp_path, side):
    # 100 MP trips our 50 MP limit; 400 MP already trips Pillow's own hard limit in open().
    path = tmp_path / "bomb.png"
    Image.new("1", (side, side)).save(path, format="PNG")
    assert path.stat().st_size < 200_000  # tiny on disk, huge in memory

    with pytest.raises(ImageRejected) as refused:
        inspect_image(path, filename="bomb.png")

    assert refused.value.code == ImageRejected.TOO_MANY_PIXELS
    assert "«bomb.png»" in refused.value.message
    assert "50 Мп" in refused.value.message


def test_pixel_limit_is_configurable(tmp_path):
    path = tmp_path / "big.png"
    Image.new("RGB", (1200, 1000)).save(path, format="PNG")

    assert inspect_image(path, filename="big.png", max_pixels=1_200_000).width == 1200
    with pytest.raises(ImageRejected) as refused:
        inspect_image(path, filename="big.png", max_pixels=1_000_000)
    assert "1 Мп" in refused.value.message


def test_browser_path_is_stripped_from_the_name_in_messages(tmp_path):
    path = tmp_path / "upload"
    path.write_bytes(b"")

    with pytest.raises(ImageRejected) as refused:
        inspect_image(path, filename="C:\\fakepath\\IMG_0001.HEIC")

    assert "«IMG_0001.HEIC»" in refused.value.message
    assert "fakepath" not in refused.value.message


def test_inspection_refuses_to_run_with_truncated_loading_enabled(tmp_path, monkeypatch):
    path = tmp_path / "ok.jpg"
    _photo((64, 64)).save(path, format="JPEG")
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)

    with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
        inspect_image(path, filename="ok.jpg")


def test_allowed_formats_are_the_four_phone_formats():
    assert ALLOWED_FORMATS == ("JPEG", "PNG", "WEBP", "HEIF")


# --- storing uploads ----------------------------------------------------------------------


def test_upload_is_stored_with_its_sha256(tmp_path):
    chunks = [os.urandom(65_536) for _ in range(5)] + [b"tail"]
    dest = tmp_path / "originals" / "ab" / "photo.bin"

    stored = store_upload(iter(chunks), dest, filename="IMG_0001.jpg", max_bytes=2**20)

    content = b"".join(chunks)
    assert stored == StoredOriginal(
        sha256=hashlib.sha256(content).hexdigest(), size_bytes=len(content)
    )
    assert dest.read_bytes() == content
    assert sha256_file(dest) == stored.sha256
    assert [p.name for p in dest.parent.iterdir()] == ["photo.bin"]


def test_upload_exactly_at_the_limit_is_kept(tmp_path):
    dest = tmp_path / "photo.bin"

    stored = store_upload([b"x" * 1000, b"y" * 24], dest, filename="a.jpg", max_bytes=1024)

    assert stored.size_bytes == 1024


def test_oversized_upload_stops_early_and_leaves_nothing(tmp_path):
    consumed = 0

    def chunks() -> Iterator[bytes]:
        nonlocal consumed
        for _ in range(100):
            consumed += 1
            yield b"\xff" * 65_536

    dest = tmp_path / "photo.bin"
    with pytest.raises(ImageRejected) as refused:
        store_upload(chunks(), dest, filename="IMG_9999.HEIC", max_bytes=2**20)

    assert refused.value.code == ImageRejected.TOO_LARGE
    assert "«IMG_9999.HEIC»" in refused.value.message
    assert "1 МБ" in refused.value.message
    assert consumed == 17  # 16 chunks fill 1 MB exactly; the 17th is over and not read on
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("max_bytes", "named"), [(20 * 2**20, "20 МБ"), (5 * 2**19, "2,5 МБ")])
def test_limit_is_named_in_megabytes(tmp_path, max_bytes, named):
    with pytest.raises(ImageRejected) as refused:
        store_upload(
            [b"x" * (max_bytes + 1)], tmp_path / "p", filename="a.jpg", max_bytes=max_bytes
        )

    assert f"больше {named}" in refused.value.message


def test_empty_upload_is_refused_and_leaves_nothing(tmp_path):
    with pytest.raises(ImageRejected) as refused:
        store_upload(
            iter([b"", b""]), tmp_path / "photo.bin", filename="IMG_0001.jpg", max_bytes=100
        )

    assert refused.value.code == ImageRejected.EMPTY
    assert "«IMG_0001.jpg»" in refused.value.message
    assert list(tmp_path.iterdir()) == []


def test_broken_connection_leaves_no_partial_file_and_keeps_the_previous_one(tmp_path):
    dest = tmp_path / "photo.bin"
    dest.write_bytes(b"previous")

    def chunks() -> Iterator[bytes]:
        yield b"first part"
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        store_upload(chunks(), dest, filename="a.jpg", max_bytes=2**20)

    assert [p.name for p in tmp_path.iterdir()] == ["photo.bin"]
    assert dest.read_bytes() == b"previous"


# --- the public decoding helpers ----------------------------------------------------------


def test_jpeg_and_its_multi_frame_form_count_as_jpeg_and_nothing_else_does(tmp_path):
    photo = _photo((80, 60))
    photo.save(tmp_path / "a.jpg", format="JPEG")
    photo.save(tmp_path / "b.jpg", format="MPO", save_all=True, append_images=[photo])
    photo.save(tmp_path / "c.png", format="PNG")
    photo.save(tmp_path / "d.webp", format="WEBP")

    verdicts = {}
    for name in ("a.jpg", "b.jpg", "c.png", "d.webp"):
        with Image.open(tmp_path / name) as im:
            verdicts[name] = (im.format, is_jpeg(im))

    assert verdicts == {
        "a.jpg": ("JPEG", True),
        "b.jpg": ("MPO", True),
        "c.png": ("PNG", False),
        "d.webp": ("WEBP", False),
    }


def test_exif_and_orientation_are_read_from_the_photo(tmp_path):
    _photo((80, 60)).save(tmp_path / "phone.jpg", format="JPEG", exif=_phone_exif(8))
    _photo((80, 60)).save(tmp_path / "plain.png", format="PNG")

    with Image.open(tmp_path / "phone.jpg") as im:
        assert read_exif(im)[0x010F] == "TestPhone"
        assert exif_orientation(im) == 8
    with Image.open(tmp_path / "plain.png") as im:
        assert len(read_exif(im)) == 0
        assert exif_orientation(im) == 1


def test_broken_exif_reads_as_none_instead_of_failing(tmp_path):
    _photo((80, 60)).save(tmp_path / "edited.jpg", format="JPEG", exif=_phone_exif(6))

    with Image.open(tmp_path / "edited.jpg") as im:

        def broken() -> Image.Exif:
            raise SyntaxError("not a TIFF file")

        im.getexif = broken
        assert len(read_exif(im)) == 0
        assert exif_orientation(im) == 1


@pytest.mark.parametrize("orientation", range(1, 9))
def test_upright_turns_like_exif_transpose(orientation):
    im = _photo((40, 30))
    tagged = im.copy()
    tagged.getexif()[0x0112] = orientation

    turned = upright(im, orientation)

    assert turned.tobytes() == ImageOps.exif_transpose(tagged).tobytes()
    assert turned.size == displayed_size(im.size, orientation)


def test_unknown_orientation_leaves_the_image_as_it_is():
    im = _photo((40, 30))

    assert upright(im, 0) is im
    assert upright(im, 9) is im
    assert displayed_size((40, 30), 9) == (40, 30)


@pytest.mark.parametrize(
    ("mode", "info", "expected"),
    [("P", {}, "RGB"), ("P", {"transparency": 0}, "RGBA"), ("PA", {}, "RGBA"), ("1", {}, "L")],
)
def test_palette_and_bilevel_images_become_resizable(mode, info, expected):
    im = Image.new(mode, (8, 8))
    im.info.update(info)

    assert resizable(im).mode == expected


def test_16_bit_greyscale_is_scaled_to_8_bit_levels_not_clipped():
    for mode in ("I;16", "I"):
        out = resizable(Image.new(mode, (4, 4), 40_000))
        assert out.getpixel((0, 0)) == 156  # 40000 / 256
        assert out.convert("L").getpixel((0, 0)) == 156


def test_images_pillow_resamples_well_are_passed_through():
    for mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
        im = Image.new(mode, (4, 4))
        assert resizable(im) is im


@settings(max_examples=200, deadline=None)
@given(width=st.integers(1, 20_000), height=st.integers(1, 20_000), long_side=st.integers(1, 4000))
def test_fit_long_side_scales_down_only_and_keeps_the_shape(width, height, long_side):
    out = fit_long_side((width, height), long_side)

    if max(width, height) <= long_side:
        assert out == (width, height)
    else:
        assert max(out) == long_side
        assert min(out) >= 1
        scale = long_side / max(width, height)
        assert abs(out[0] - width * scale) <= 0.5 + 1e-9 or out[0] == 1
        assert abs(out[1] - height * scale) <= 0.5 + 1e-9 or out[1] == 1


# --- languages ----------------------------------------------------------------------------


def test_refusal_is_worded_in_the_language_it_is_read_in(tmp_path):
    path = tmp_path / "upload"
    path.write_bytes(b"%PDF-1.7 not a photo at all")

    with translation.override("ru"), pytest.raises(ImageRejected) as refused:
        inspect_image(path, filename="act.pdf")

    # Raised while Russian was active, read by an English page: English, with the name.
    with translation.override("en"):
        english = refused.value.message
        assert str(refused.value) == english
    assert english == (
        "The file “act.pdf” was not recognised as a photo: "
        "send a photo in JPEG, PNG, WebP or HEIC format."
    )
    with translation.override("ru"):
        assert "не распознан как фото" in refused.value.message


@pytest.mark.parametrize(("language", "named"), [("ru", "2,5"), ("en", "2.5")])
def test_size_limit_uses_the_decimal_separator_of_the_language(tmp_path, language, named):
    with pytest.raises(ImageRejected) as refused:
        store_upload(
            [b"x" * (5 * 2**19 + 1)], tmp_path / "p", filename="a.jpg", max_bytes=5 * 2**19
        )

    with translation.override(language):
        assert f" {named} " in refused.value.message


def test_works_without_django_settings(tmp_path):
    """Workers and benchmarks load the module bare: it decodes, renders and refuses there."""
    good = tmp_path / "good.jpg"
    _photo((120, 90)).save(good, format="JPEG", exif=_phone_exif(6))
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"not a photo" * 10)
    code = f"""
import pathlib, sys
from autoservice import images
from django.apps import apps
from django.conf import settings
good, bad = pathlib.Path({str(good)!r}), pathlib.Path({str(bad)!r})
assert images.inspect_image(good, filename="good.jpg").width == 90
images.make_renditions(good, web_dest=good.with_suffix(".w"), thumb_dest=good.with_suffix(".t"))
try:
    images.inspect_image(bad, filename="bad.bin")
except images.ImageRejected as refused:
    assert refused.code == images.ImageRejected.NOT_IMAGE
else:
    sys.exit("accepted a file that is not a photo")
assert not apps.ready and not settings.configured
"""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, check=True)
