"""Photo intake shared by the photo portal, the damage calculator and vehicle intake.

Three steps, each usable on its own:

1. ``store_upload`` streams the upload to disk with a size cap and a SHA-256;
2. ``inspect_image`` accepts or refuses the stored file: first from its header alone (pixels
   and decoded size against a budget), then by a bounded check of its data;
3. ``make_renditions`` (the background job) writes a web image and a thumbnail
   that carry no metadata at all.

The decoding helpers below them (``is_jpeg``, ``read_exif``, ``exif_orientation``,
``upright``, ``displayed_size``, ``resizable``, ``fit_long_side``) are public so that other
checks of the same photos (the intake quality check) decode them exactly as the renditions do.

Pillow plus Django's *lazy* translation only: importable and usable without Django
settings, so workers, benchmarks and tests use it directly. A refusal's message is
translated when it is read (``ImageRejected.message``), i.e. in the language of the request
that shows it; reading it needs configured settings, raising and catching it does not.
"""

from __future__ import annotations

import hashlib
import io
import os
import pathlib
import struct
import threading
import uuid
import warnings
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import BinaryIO

import pillow_heif
from django.utils.formats import get_format
from django.utils.functional import Promise, lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageFile, UnidentifiedImageError

try:
    from PIL import ImageCms
except ImportError:  # Pillow built without LittleCMS: renditions keep the source numbers.
    ImageCms = None  # type: ignore[assignment]

__all__ = [
    "ALLOWED_FORMATS",
    "DEFAULT_MAX_DECODED_BYTES",
    "ImageInfo",
    "ImageRejected",
    "Renditions",
    "StoredOriginal",
    "decoded_bytes",
    "displayed_size",
    "exif_orientation",
    "fit_long_side",
    "inspect_image",
    "is_jpeg",
    "make_renditions",
    "read_exif",
    "resizable",
    "sha256_file",
    "store_upload",
    "upload_too_large",
    "upright",
]

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")

# The decoded size an upload may have: width x height x bytes per pixel of its samples.
# A 48 MP 8-bit RGB phone photo is 144 MB (137 MiB) and passes; a 49 MP 16-bit RGBA PNG
# is 392 MB (374 MiB), a 49 MP 8-bit RGBA one 196 MB (187 MiB): both are refused from the
# header, before a single pixel is decoded.
DEFAULT_MAX_DECODED_BYTES = 160 * 2**20

# Bytes per pixel of Pillow modes at 8 bits per sample; 16-bit samples double it.
_MODE_BYTES = {"1": 1, "L": 1, "P": 1, "I": 4, "F": 4, "I;16": 2, "I;16B": 2, "I;16L": 2}

# PNG colour type -> samples per pixel (grey, RGB, palette, grey+alpha, RGBA).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}

# Images up to this size decoded are checked by decoding them whole, in the request.
_SMALL_DECODE = 16 * 2**20

# WebP and HEIC cannot be checked without a full decode; one at a time per process, so
# that eight of them in one request hold one budget of memory, not eight.
_FULL_DECODE = threading.Lock()

# iPhones shoot HEIC by default; registering at import means every Image.open below
# (and the ALLOWED_FORMATS restriction) already knows the format.
pillow_heif.register_heif_opener()

# Formats we can name when refusing, so the driver hears "GIF не подходит" instead of
# "не фото". Used only to pick the message; these files are never decoded.
_NAMEABLE_REFUSED_FORMATS = ("GIF", "BMP", "TIFF", "AVIF", "ICO", "JPEG2000", "PPM")

# ISO-BMFF brands of HEIC/HEIF stills and sequences (as pillow-heif's own check).
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")

# Pillow's parsers can fail on a broken file with any of these; none makes it a photo.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError)

_ACCEPTED_HINT = _("пришлите фото в формате JPEG, PNG, WebP или HEIC")

_TAG_ORIENTATION = 0x0112
_TAG_EXIF_IFD = 0x8769
_TAG_DATETIME_ORIGINAL = 0x9003

# Same table as ImageOps.exif_transpose; kept here so the rotation can run on the
# already-downscaled image instead of the full decode.
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class ImageRejected(ValueError):
    """A file the driver sent cannot be used as a photo; ``message`` says why.

    The message may be given lazily (``gettext_lazy``/``format_lazy``); ``message`` and
    ``str()`` translate it when read, into the language active at that moment.
    """

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_IMAGE = "not_image"
    CORRUPT = "corrupt"
    TOO_MANY_PIXELS = "too_many_pixels"
    DECODED_TOO_LARGE = "decoded_too_large"
    FORMAT_NOT_ALLOWED = "format_not_allowed"
    # Not the file's fault: the storage could not take it now; sending it again will do.
    STORAGE_UNAVAILABLE = "storage_unavailable"

    def __init__(self, message: str | Promise, *, code: str) -> None:
        super().__init__(message)
        self._message = message
        self.code = code

    @property
    def message(self) -> str:
        return str(self._message)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class StoredOriginal:
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int
    taken_at: datetime | None


@dataclass(frozen=True)
class Renditions:
    web_width: int
    web_height: int
    thumb_width: int
    thumb_height: int


def store_upload(
    chunks: Iterable[bytes], dest: pathlib.Path, *, filename: str, max_bytes: int
) -> StoredOriginal:
    """Stream ``chunks`` to ``dest`` atomically, refusing empty or oversized uploads."""
    digest = hashlib.sha256()
    size = 0
    with _atomic_write(dest) as out:
        for chunk in chunks:
            size += len(chunk)
            # Checked before writing so an oversized upload never reaches the disk in full.
            if size > max_bytes:
                raise upload_too_large(filename, max_bytes)
            digest.update(chunk)
            out.write(chunk)
        if size == 0:
            raise _empty(filename)
    return StoredOriginal(sha256=digest.hexdigest(), size_bytes=size)


def inspect_image(
    path: pathlib.Path,
    *,
    filename: str,
    max_pixels: int = 50_000_000,
    max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
) -> ImageInfo:
    """Accept ``path`` only if it is an allowed format within ``max_pixels`` and, decoded,
    within ``max_decoded_bytes``, and its data is whole.

    The limits are judged from the header alone, before any pixel is decoded. The data is
    then checked only as far as needed: a 1/8-scale decode of a JPEG, a streamed inflate of
    a PNG's pixel data (nothing kept), a full decode of WebP and HEIC (one at a time). The
    full-size decode is the rendition job's, in the background.

    Width and height are as displayed, i.e. after the EXIF orientation.
    """
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # With this flag Pillow silently pads a cut-off JPEG with grey and we would
        # accept half a photo. Fail loudly: it is a configuration bug, not a bad upload.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False for uploads")
    if Image.MAX_IMAGE_PIXELS is None:
        raise RuntimeError("PIL.Image.MAX_IMAGE_PIXELS must stay set: it guards every decode")
    if path.stat().st_size == 0:
        raise _empty(filename)

    with warnings.catch_warnings():
        # Pillow warns from 89 MP on; our own max_pixels check below is the limit that
        # applies, so the warning would only duplicate it (or contradict a larger limit).
        # Its DecompressionBombError (twice that) stays on.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(path, formats=ALLOWED_FORMATS)
        except Image.DecompressionBombError:
            raise _too_many_pixels(filename, max_pixels) from None
        except UnidentifiedImageError:
            raise _unidentified(path, filename) from None
        except _DECODE_ERRORS:
            raise _corrupt(filename) from None

        with im:
            width, height = im.size
            if width * height > max_pixels:
                raise _too_many_pixels(filename, max_pixels)
            try:
                needed = decoded_bytes(im)
            except _DECODE_ERRORS:
                raise _corrupt(filename) from None
            if needed > max_decoded_bytes:
                raise _decoded_too_large(filename, needed, max_decoded_bytes)
            try:
                exif_bytes = _check_data(im, path, needed)
            except Image.DecompressionBombError:
                raise _too_many_pixels(filename, max_pixels) from None
            except (*_DECODE_ERRORS, zlib.error, MemoryError):
                raise _corrupt(filename) from None
            image_format = "JPEG" if is_jpeg(im) else (im.format or "")
            if exif_bytes is None:
                exif = read_exif(im)
            else:
                # Pillow's PNG getexif() would decode the whole image to look past IDAT.
                exif = Image.Exif()
                try:
                    exif.load(exif_bytes)
                except _DECODE_ERRORS:
                    exif = Image.Exif()

    width, height = displayed_size((width, height), exif.get(_TAG_ORIENTATION, 1))
    return ImageInfo(format=image_format, width=width, height=height, taken_at=_taken_at(exif))


def decoded_bytes(im: Image.Image) -> int:
    """Bytes the opened (not yet loaded) image takes decoded: width x height x bytes per
    pixel of its samples, 16-bit samples and alpha counted (e.g. I;16 2, RGBA 4, LA 2,
    16-bit RGB 6, 16-bit RGBA 8, CMYK 4). Read from the header; one frame (only the first
    frame of an animation is ever decoded). A progressive JPEG counts double: libjpeg keeps
    all its 16-bit coefficients in memory, even for a downscaled decode."""
    width, height = im.size
    if im.format == "PNG":
        header = _png_header(im)
        if header is not None:
            _w, _h, depth, colour, _interlace = header
            samples = _PNG_CHANNELS.get(colour, 4)
            # Palette images and grey below 8 bits decode to one byte per pixel.
            return width * height * samples * (2 if depth == 16 else 1)
    mode = im.mode
    if mode in _MODE_BYTES:
        per_pixel = _MODE_BYTES[mode]
    else:
        per_pixel = len(im.getbands())
        rawmodes = [tile[3][0] if isinstance(tile[3], tuple) else tile[3] for tile in im.tile]
        if any(isinstance(raw, str) and ";16" in raw for raw in rawmodes):
            per_pixel *= 2
    if is_jpeg(im) and "progressive" in im.info:
        per_pixel *= 2
    return width * height * per_pixel


def _check_data(im: Image.Image, path: pathlib.Path, needed: int) -> bytes | None:
    """Raise one of _DECODE_ERRORS (or zlib.error) when the image's data is not whole,
    holding no more than a fraction of the decoded image in memory (WebP and HEIC: one
    decoded image per process at a time). A PNG's EXIF comes back (b"" when it has none),
    found on the way; None for the other formats."""
    if is_jpeg(im):
        # A 1/8-scale greyscale decode still parses every entropy-coded byte of every
        # component, so a cut-off file fails just as in a full decode, at a fraction of
        # the memory, IDCT and colour work.
        im.draft("L", (1, 1))
        im.load()
    elif im.format == "PNG" and _png_header(im) is not None:
        # Stricter than Pillow's decoder, which takes rows missing at the end (half a
        # photo) or a lost IEND; and streamed, so its memory does not grow with the image.
        exif = _png_check_data(path, _png_header(im))
        if needed <= _SMALL_DECODE:
            # Small: Pillow's own decoder also checks what only it knows (APNG frames).
            im.load()
        return exif
    elif needed <= _SMALL_DECODE:
        im.load()
    else:
        with _FULL_DECODE:
            im.load()
    return None


def _png_header(im: Image.Image) -> tuple[int, int, int, int, int] | None:
    """(width, height, bit depth, colour type, interlace) from the PNG's IHDR, or None."""
    fp = im.fp
    if fp is None:
        return None
    here = fp.tell()
    try:
        fp.seek(8)
        head = fp.read(25)
    finally:
        fp.seek(here)
    if len(head) < 25 or head[4:8] != b"IHDR":
        return None
    width, height, depth, colour, _compression, _filter, interlace = struct.unpack(
        ">IIBBBBB", head[8:21]
    )
    return width, height, depth, colour, interlace


def _png_rows(
    width: int, height: int, bits_per_pixel: int, interlace: int
) -> list[tuple[int, int]]:
    """(rows, bytes per row incl. the filter byte) of each pass of the PNG's pixel data."""
    if interlace != 1:
        passes = [(0, 0, 1, 1)]
    else:  # Adam7: (x start, y start, x step, y step)
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4)]
        passes += [(1, 0, 2, 2), (0, 1, 1, 2)]
    rows = []
    for x0, y0, dx, dy in passes:
        pass_width = (width - x0 + dx - 1) // dx if width > x0 else 0
        pass_height = (height - y0 + dy - 1) // dy if height > y0 else 0
        if pass_width and pass_height:
            rows.append((pass_height, 1 + (pass_width * bits_per_pixel + 7) // 8))
    return rows


def _png_check_data(path: pathlib.Path, header: tuple[int, int, int, int, int]) -> bytes:
    """Inflate the PNG's pixel data as a stream, keeping nothing: it must have exactly the
    rows the header promises, each with a valid filter byte, and its chunks must be whole
    (CRCs right, IEND present). Returns the eXIf chunk's data (b"" when there is none)."""
    width, height, depth, colour, interlace = header
    if colour not in _PNG_CHANNELS or depth not in (1, 2, 4, 8, 16):
        raise SyntaxError("bad PNG header")
    rows = _png_rows(width, height, _PNG_CHANNELS[colour] * depth, interlace)
    expected = sum(count * length for count, length in rows)
    # Row by row, only the filter byte is looked at; the rest is skipped by arithmetic.
    passes = iter(rows)
    rows_left, row_length = next(passes, (0, 0))
    next_row_at = 0
    inflater = zlib.decompressobj()
    produced = 0
    seen_idat = finished = False
    exif = b""
    with path.open("rb") as f:
        f.seek(8)
        while True:
            head = f.read(8)
            if len(head) < 8:
                raise EOFError("PNG ends before IEND")
            length, kind = struct.unpack(">I4s", head)
            if length > 2**31 - 1:
                raise SyntaxError("bad PNG chunk length")
            crc = zlib.crc32(kind)
            remaining = length
            while remaining:
                block = f.read(min(remaining, 1 << 16))
                if not block:
                    raise EOFError("PNG chunk cut off")
                remaining -= len(block)
                crc = zlib.crc32(block, crc)
                if kind == b"eXIf" and length <= 1 << 16:
                    exif += block
                if kind != b"IDAT" or finished:
                    continue
                seen_idat = True
                data = block
                while data and not finished:
                    out = inflater.decompress(data, 1 << 20)
                    data = inflater.unconsumed_tail
                    while rows_left and next_row_at < produced + len(out):
                        if out[next_row_at - produced] > 4:
                            raise SyntaxError("bad PNG filter type")
                        next_row_at += row_length
                        rows_left -= 1
                        if not rows_left:
                            rows_left, row_length = next(passes, (0, 0))
                    produced += len(out)
                    if produced > expected:
                        raise SyntaxError("PNG has more data than its size")
                    finished = inflater.eof
            tail = f.read(4)
            if len(tail) < 4:
                raise EOFError("PNG chunk cut off")
            if struct.unpack(">I", tail)[0] != crc & 0xFFFFFFFF:
                raise SyntaxError("PNG chunk CRC mismatch")
            if kind == b"IEND":
                break
    if not seen_idat or not finished or produced != expected:
        raise EOFError("PNG pixel data cut off")
    return exif.removeprefix(b"Exif\x00\x00")


def make_renditions(
    src: pathlib.Path,
    *,
    web_dest: pathlib.Path,
    thumb_dest: pathlib.Path,
    web_long_side: int = 1600,
    thumb_long_side: int = 400,
    quality: int = 82,
) -> Renditions:
    """Write an upright sRGB web JPEG and a thumbnail made from it, both metadata-free.

    Idempotent: the same source and arguments always produce the same bytes. A file that
    fails to decode (it passed the upload's bounded check, but not the full decode) raises
    ImageRejected, like any other refusal.
    """
    try:
        return _make_renditions(
            src,
            web_dest=web_dest,
            thumb_dest=thumb_dest,
            web_long_side=web_long_side,
            thumb_long_side=thumb_long_side,
            quality=quality,
        )
    except (*_DECODE_ERRORS, zlib.error, Image.DecompressionBombError, UnidentifiedImageError):
        raise _corrupt(src.name) from None


def _make_renditions(
    src: pathlib.Path,
    *,
    web_dest: pathlib.Path,
    thumb_dest: pathlib.Path,
    web_long_side: int,
    thumb_long_side: int,
    quality: int,
) -> Renditions:
    with Image.open(src, formats=ALLOWED_FORMATS) as im:
        # Sizes come from the full-resolution geometry, so the draft below cannot shift
        # the aspect ratio by its rounding.
        web_size = fit_long_side(im.size, web_long_side)
        draft_box = None
        if is_jpeg(im):
            # Let libjpeg downscale by DCT scaling (1/2, 1/4, 1/8) to the smallest size
            # still at least the web size: most of the decode and resize work disappears.
            drafted = im.draft("RGB", web_size)
            if drafted is not None:
                draft_box = drafted[1]
        im.load()
        icc_profile = im.info.get("icc_profile")
        orientation = exif_orientation(im)
        # Resize before rotating: the rotation then moves the small image, not the decode.
        web = _resize(resizable(im), web_size, box=draft_box, reducing_gap=3.0)

    web = _to_srgb(upright(web, orientation), icc_profile)
    # Pillow's own thumbnail() gap: at 400 px the difference to 3.0 is invisible.
    thumb = _resize(web, fit_long_side(web.size, thumb_long_side), reducing_gap=2.0)

    _save_jpeg(web, web_dest, quality=quality)
    _save_jpeg(thumb, thumb_dest, quality=quality)
    return Renditions(
        web_width=web.width,
        web_height=web.height,
        thumb_width=thumb.width,
        thumb_height=thumb.height,
    )


def sha256_file(path: pathlib.Path) -> str:
    """Hex SHA-256 of the file's bytes."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


# --- messages ---------------------------------------------------------------------------


def _display_name(filename: str) -> str | Promise:
    # Some browsers send "C:\fakepath\IMG_0001.HEIC"; the driver knows only the last part.
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        return _("без имени")
    return name if len(name) <= 80 else name[:77] + "…"


def _local_decimal(value: float) -> str:
    # One decimal at most ("20", "2,5"), with the decimal separator of the language the
    # message is read in: a comma in Russian, a point in English.
    text = f"{value:.1f}".removesuffix(".0")
    return text.replace(".", get_format("DECIMAL_SEPARATOR"))


# Formatted when the message is read, not when the file is refused.
_decimal = lazy(_local_decimal, str)


def upload_too_large(filename: str, max_bytes: int) -> ImageRejected:
    """The refusal of a file over ``max_bytes`` as sent (the same wherever it is counted)."""
    return ImageRejected(
        format_lazy(
            _(
                "Файл «{name}» больше {limit} МБ: пришлите фото размером до "
                "{limit} МБ в формате JPEG, PNG, WebP или HEIC."
            ),
            name=_display_name(filename),
            limit=_decimal(max_bytes / 2**20),
        ),
        code=ImageRejected.TOO_LARGE,
    )


def _decoded_too_large(filename: str, needed: int, limit: int) -> ImageRejected:
    return ImageRejected(
        format_lazy(
            _(
                "Файл «{name}» слишком тяжёлый для обработки: в распакованном виде это "
                "{size} МБ, а можно до {limit} МБ. Пришлите обычное фото с камеры телефона "
                "(JPEG или HEIC)."
            ),
            name=_display_name(filename),
            size=_decimal(needed / 2**20),
            limit=_decimal(limit / 2**20),
        ),
        code=ImageRejected.DECODED_TOO_LARGE,
    )


def _empty(filename: str) -> ImageRejected:
    return ImageRejected(
        format_lazy(
            _("Файл «{name}» пустой: похоже, он не успел загрузиться. Выберите фото ещё раз."),
            name=_display_name(filename),
        ),
        code=ImageRejected.EMPTY,
    )


def _corrupt(filename: str) -> ImageRejected:
    return ImageRejected(
        format_lazy(
            _("Файл «{name}» повреждён или загрузился не полностью: отправьте фото ещё раз."),
            name=_display_name(filename),
        ),
        code=ImageRejected.CORRUPT,
    )


def _too_many_pixels(filename: str, max_pixels: int) -> ImageRejected:
    return ImageRejected(
        format_lazy(
            _(
                "У файла «{name}» слишком большое разрешение (больше {megapixels} Мп): "
                "пришлите обычное фото с камеры телефона."
            ),
            name=_display_name(filename),
            megapixels=_decimal(max_pixels / 1_000_000),
        ),
        code=ImageRejected.TOO_MANY_PIXELS,
    )


def _unidentified(path: pathlib.Path, filename: str) -> ImageRejected:
    name = _display_name(filename)
    try:
        with Image.open(path, formats=_NAMEABLE_REFUSED_FORMATS) as other:
            other_format = other.format
    except Exception:  # only choosing the wording; the file is refused either way
        other_format = None
    if other_format:
        return ImageRejected(
            format_lazy(
                _("Файл «{name}» в формате {format} не подходит: {hint}."),
                name=name,
                format=other_format,
                hint=_ACCEPTED_HINT,
            ),
            code=ImageRejected.FORMAT_NOT_ALLOWED,
        )
    if _starts_like_allowed_format(path):
        # A HEIC or JPEG cut off in its header fails already in Image.open; to the driver
        # that is an interrupted upload, not "not a photo".
        return _corrupt(filename)
    return ImageRejected(
        format_lazy(
            _("Файл «{name}» не распознан как фото: {hint}."), name=name, hint=_ACCEPTED_HINT
        ),
        code=ImageRejected.NOT_IMAGE,
    )


def _starts_like_allowed_format(path: pathlib.Path) -> bool:
    with path.open("rb") as f:
        head = f.read(12)
    return (
        head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"))
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or (head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS)
    )


# --- decoding helpers -------------------------------------------------------------------


def is_jpeg(im: Image.Image) -> bool:
    """Whether an opened image is a JPEG, counting JPEGs with an MPF index as JPEGs.

    Pillow calls a JPEG with an MPF index "MPO": Android Ultra HDR photos (gain map as a
    second frame) and some cameras write them. For us it is a JPEG; frame 0 is the photo.
    """
    return im.format in ("JPEG", "MPO")


def read_exif(im: Image.Image) -> Image.Exif:
    """The image's EXIF, or an empty one when it is missing or broken.

    Broken EXIF is common on edited photos; it must not cost the driver the upload.
    """
    try:
        return im.getexif()
    except _DECODE_ERRORS:
        return Image.Exif()


def exif_orientation(im: Image.Image) -> int:
    """The EXIF orientation (1–8) of an opened image; 1 (upright) when it has none."""
    return read_exif(im).get(_TAG_ORIENTATION, 1)


def upright(im: Image.Image, orientation: int) -> Image.Image:
    """``im`` turned the way EXIF ``orientation`` says, as ``ImageOps.exif_transpose``.

    Takes the orientation read from the original, so the rotation can run on a
    downscaled copy instead of the full decode. Orientation 1 or unknown: ``im`` itself.
    """
    transpose = _ORIENTATION_TRANSPOSE.get(orientation)
    return im.transpose(transpose) if transpose is not None else im


def displayed_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """Width and height as shown, i.e. swapped for the four orientations that turn 90°."""
    width, height = size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _taken_at(exif: Image.Exif) -> datetime | None:
    try:
        raw = exif.get_ifd(_TAG_EXIF_IFD).get(_TAG_DATETIME_ORIGINAL)
    except _DECODE_ERRORS:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    if not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:  # "0000:00:00 00:00:00" and other camera placeholders
        return None


def fit_long_side(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """``size`` scaled down so that its longer side is ``long_side``, never scaled up.

    The aspect ratio is kept to the nearest pixel and no side drops below one pixel.
    """
    width, height = size
    longest = max(width, height)
    if longest <= long_side:
        return width, height
    scale = long_side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _resize(
    im: Image.Image,
    size: tuple[int, int],
    *,
    reducing_gap: float,
    box: tuple[float, float, float, float] | None = None,
) -> Image.Image:
    if size == im.size:
        return im.copy()
    # With a reducing_gap Pillow first box-reduces by an integer factor (cheap) and
    # leaves Lanczos a ratio of at least the gap; from 3 on the result is documented as
    # indistinguishable from a full Lanczos pass. ``box`` is the exact source area of a
    # JPEG draft, whose last row and column may be partly padding.
    return im.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=reducing_gap)


def resizable(im: Image.Image) -> Image.Image:
    """``im`` in a mode Pillow resamples properly; any other image is returned as it is.

    Palette images become RGB (RGBA with transparency), bilevel ones L, and 16-bit
    greyscale is scaled to levels 0–255 (still mode I), so that a later ``convert`` to L
    or RGB does not clip it.
    """
    if im.mode == "P":
        # Pillow resizes palette images with NEAREST; expand to true colour first.
        return im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode == "PA":
        return im.convert("RGBA")
    if im.mode == "1":
        return im.convert("L")
    if im.mode == "I" or im.mode.startswith("I;16"):
        # 16-bit greyscale PNG: convert("L") would clip everything above 255 to white.
        return im.convert("I").point(lambda value: value * (1 / 256), "L")
    return im


def _to_srgb(im: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Flatten transparency on white and map colours to sRGB, returning an RGB image."""
    if im.mode in ("RGBA", "LA"):
        flat = Image.new("RGB", im.size, "white")
        flat.paste(im.convert("RGB"), mask=im.getchannel("A"))
        im = flat

    if icc_profile and ImageCms is not None:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            im = ImageCms.profileToProfile(im, source, _srgb_profile(), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            # A profile that does not match the pixels (or is broken) is ignored rather
            # than failing the photo: the numbers are shown as if they were sRGB.
            pass
    return im if im.mode == "RGB" else im.convert("RGB")


@cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


# --- writing ----------------------------------------------------------------------------


def _save_jpeg(im: Image.Image, dest: pathlib.Path, *, quality: int) -> None:
    # Pillow copies a source "comment" from im.info into the JPEG; EXIF, ICC and XMP are
    # written only when passed. Emptying info and passing none of them keeps GPS
    # coordinates and camera details of the driver out of the published files.
    im.info = {}
    with _atomic_write(dest) as out:
        # Progressive: the web page shows the whole photo early on a slow phone connection
        # (and libjpeg optimises Huffman tables for progressive files anyway).
        im.save(out, format="JPEG", quality=quality, progressive=True, optimize=True)


@contextmanager
def _atomic_write(dest: pathlib.Path) -> Iterator[BinaryIO]:
    """Yield a temp file next to ``dest``; move it into place only if the block succeeds."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
    # os.open with 0o666 lets the umask decide, like a normal file (mkstemp would force
    # 0o600 and the web server could not serve the renditions).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
