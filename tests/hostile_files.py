"""A hostile corpus of uploads, made here: cut-off, header-only, lying about their size,
decompression bombs, fuzzed (bytes flipped), animated, 16-bit, CMYK, polyglots and
documents named .jpg.

Pillow's own decompression bombs and fuzzer finds (tests/data/pillow_images, with their
source and licence) join it, and with HOSTILE_UPLOADS_DIR set, the files of that directory too.
"""

from __future__ import annotations

import io
import os
import random
import struct
import zipfile
import zlib
from pathlib import Path

from PIL import Image

from tests.photos import jpeg_bytes


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_file(
    width: int,
    height: int,
    *,
    depth: int = 8,
    colour: int = 2,
    interlace: int = 0,
    pixel_data: bytes | None = None,
) -> bytes:
    """A PNG made by hand; without pixel_data its IDAT holds a single empty row."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    idat = zlib.compress(pixel_data if pixel_data is not None else b"\0")
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def png_rows(width: int, height: int, bytes_per_pixel: int, *, filter_type: int = 0) -> bytes:
    row = bytes([filter_type]) + bytes(range(256)) * (width * bytes_per_pixel // 256 + 1)
    row = row[: 1 + width * bytes_per_pixel]
    return row * height


def png_interlaced_grey(width: int, height: int) -> bytes:
    """A whole 8-bit grey Adam7 PNG: the seven passes' rows, each with its filter byte."""
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4)]
    passes += [(1, 0, 2, 2), (0, 1, 1, 2)]
    data = b""
    for x0, y0, dx, dy in passes:
        pass_width = max(0, (width - x0 + dx - 1) // dx)
        pass_height = max(0, (height - y0 + dy - 1) // dy)
        if pass_width and pass_height:
            data += (b"\0" + b"\x80" * pass_width) * pass_height
    return png_file(width, height, depth=8, colour=0, interlace=1, pixel_data=data)


def jpeg_with_size(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header claims another size."""
    data = bytearray(jpeg_bytes((64, 48)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _saved(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.js", "alert(document.cookie)")
    return buffer.getvalue()


def generated_hostile() -> list[tuple[str, bytes]]:
    jpeg = jpeg_bytes((320, 240))
    png = _saved(Image.new("RGB", (320, 240), "teal"), "PNG")
    frames = [Image.new("RGB", (64, 48), colour) for colour in ("red", "green", "blue")]
    sos = jpeg.index(b"\xff\xda")
    return [
        ("empty.jpg", b""),
        ("truncated-half.jpg", jpeg[: len(jpeg) // 2]),
        ("truncated-no-eoi.jpg", jpeg[:-2]),
        ("header-only.jpg", jpeg[:sos]),
        ("soi-only.jpg", b"\xff\xd8\xff"),
        ("claims-65500x65500.jpg", jpeg_with_size(65500, 65500)),
        ("claims-12000x8000.jpg", jpeg_with_size(12000, 8000)),
        ("truncated-half.png", png[: len(png) // 2]),
        ("no-iend.png", png[:-12]),
        ("header-only.png", png[:33]),
        ("signature-only.png", png[:8]),
        ("claims-65500x65500.png", png_file(65500, 65500)),
        ("claims-49mp-16bit-rgba.png", png_file(7000, 7000, depth=16, colour=6)),
        ("claims-48mp-rgb-no-data.png", png_file(8000, 6000)),
        ("bad-crc.png", png[:-5] + bytes([png[-5] ^ 0xFF]) + png[-4:]),
        ("bad-filter.png", png_file(16, 16, pixel_data=png_rows(16, 16, 3, filter_type=9))),
        ("too-much-data.png", png_file(16, 16, pixel_data=png_rows(16, 32, 3))),
        ("too-little-data.png", png_file(16, 16, pixel_data=png_rows(16, 8, 3))),
        ("interlaced.png", png_interlaced_grey(37, 23)),
        ("16bit-grey.png", _saved(Image.new("I;16", (64, 48), 40000), "PNG")),
        ("16bit-rgb.png", png_file(32, 24, depth=16, colour=2, pixel_data=png_rows(32, 24, 6))),
        ("16bit-rgba.png", png_file(32, 24, depth=16, colour=6, pixel_data=png_rows(32, 24, 8))),
        ("grey-alpha.png", _saved(Image.new("LA", (64, 48), (90, 128)), "PNG")),
        ("palette.png", _saved(Image.new("P", (64, 48), 3), "PNG")),
        ("cmyk.jpg", _saved(Image.new("CMYK", (64, 48), (0, 120, 200, 10)), "JPEG")),
        ("progressive.jpg", _saved(Image.new("RGB", (64, 48), "navy"), "JPEG", progressive=True)),
        ("animated.gif", _saved(frames[0], "GIF", save_all=True, append_images=frames[1:])),
        ("animated.webp", _saved(frames[0], "WEBP", save_all=True, append_images=frames[1:])),
        ("animated.png", _saved(frames[0], "PNG", save_all=True, append_images=frames[1:])),
        ("still.webp", _saved(frames[1], "WEBP")),
        ("truncated.webp", _saved(frames[1], "WEBP")[:30]),
        ("webp-claims-16383x16383.webp", _webp_vp8x(16383, 16383)),
        ("16bit.tif", _saved(Image.new("I;16", (64, 48)), "TIFF")),
        ("bitmap.bmp", _saved(Image.new("RGB", (64, 48)), "BMP")),
        ("jpeg-zip-polyglot.jpg", jpeg + _zip()),
        ("gif-js-polyglot.gif", b"GIF89a/*\x00\x00\x00\x00\x00\x00*/=1;alert(document.domain);"),
        ("gif-js-polyglot.jpg", b"GIF89a/*\x0a\x00\x0a\x00\x00\x00*/=1;alert(1);//" + b"\0" * 40),
        ("document.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
        ("page.jpg", b"<!doctype html><html><script>alert(1)</script></html>"),
        ("drawing.jpg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("zeros.jpg", b"\0" * 4096),
        ("name-only-\u202ejpg.exe", jpeg[:100]),
    ]


def _webp_vp8x(width: int, height: int) -> bytes:
    payload = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little")
    payload += (height - 1).to_bytes(3, "little")
    chunk = b"VP8X" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def _fuzzed(name: str, data: bytes, seed: int) -> tuple[str, bytes]:
    """``data`` with a few bytes past its signature overwritten, the way a fuzzer does."""
    rng = random.Random(seed)
    mutated = bytearray(data)
    for _ in range(1 + seed % 6):
        mutated[rng.randrange(8, len(mutated))] = rng.randrange(256)
    return f"fuzzed-{seed}-{name}", bytes(mutated)


def _bombs() -> list[tuple[str, bytes]]:
    # Pixel data 3 000 000 times the header's promise; 50 MB of zeros inflate from 50 KB.
    inflating = png_file(16, 16, depth=8, colour=0, pixel_data=b"\0" * 50_000_000)
    grey_12k = zlib.compress((b"\0" + b"\0" * 12_000) * 1_000)
    gif_screen = b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00"
    tiff = bytearray(_saved(Image.new("L", (8, 8)), "TIFF"))
    entries = struct.unpack_from("<H", tiff, struct.unpack_from("<I", tiff, 4)[0])[0]
    first = struct.unpack_from("<I", tiff, 4)[0] + 2
    for i in range(entries):  # ImageWidth and ImageLength tags claim 100 000 px
        tag = struct.unpack_from("<H", tiff, first + 12 * i)[0]
        if tag in (256, 257):
            struct.pack_into("<HI", tiff, first + 12 * i + 2, 4, 1)
            struct.pack_into("<I", tiff, first + 12 * i + 8, 100_000)
    return [
        ("zlib-bomb.png", inflating),
        (
            "grey-12000x12000-bomb.png",
            b"\x89PNG\r\n\x1a\n"
            + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 12_000, 12_000, 8, 0, 0, 0, 0))
            + png_chunk(b"IDAT", grey_12k)
            + png_chunk(b"IEND", b""),
        ),
        (
            "gif-65535-screen.gif",
            gif_screen + b",\x00\x00\x00\x00\xff\xff\xff\xff\x00\x02\x02D\x01\x00;",
        ),
        ("tiff-100000px.tif", bytes(tiff)),
        ("bmp-claims-60000x60000.bmp", _bmp_claim(60_000, 60_000)),
    ]


def _bmp_claim(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return (
        b"BM" + struct.pack("<IHHI", 14 + len(info) + 16, 0, 0, 14 + len(info)) + info + b"\0" * 16
    )


def fuzzed_hostile() -> list[tuple[str, bytes]]:
    frames = [Image.new("RGB", (48, 32), colour) for colour in ("red", "green")]
    bases = [
        ("photo.jpg", jpeg_bytes((96, 64))),
        ("photo.png", _saved(Image.new("RGB", (96, 64), "teal"), "PNG")),
        ("photo.webp", _saved(Image.new("RGB", (96, 64), "olive"), "WEBP")),
        ("anim.gif", _saved(frames[0], "GIF", save_all=True, append_images=frames[1:])),
    ]
    return [_fuzzed(name, data, seed) for name, data in bases for seed in range(1, 6)]


PILLOW_IMAGES = Path(__file__).parent / "data" / "pillow_images"


def _folder_files(folder: Path) -> list[tuple[str, bytes]]:
    return [
        (p.name, p.read_bytes())
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name not in {"LICENSE", "README.md"}
    ]


def pillow_hostile() -> list[tuple[str, bytes]]:
    return _folder_files(PILLOW_IMAGES)


def extra_hostile() -> list[tuple[str, bytes]]:
    folder = os.environ.get("HOSTILE_UPLOADS_DIR")
    return _folder_files(Path(folder)) if folder else []


def hostile_corpus() -> list[tuple[str, bytes]]:
    return generated_hostile() + _bombs() + fuzzed_hostile() + pillow_hostile() + extra_hostile()
