"""Real image files made in tests (never fixtures checked into the repo)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def jpeg_bytes(
    size: tuple[int, int] = (1200, 900),
    *,
    orientation: int | None = None,
    gps: bool = False,
    quality: int = 88,
    seed: int = 0,
) -> bytes:
    image = Image.new("RGB", size, (40 + seed % 200, 90, 160))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle([0, 0, w // 4, h // 4], fill=(220, 30, 30))  # marks the top-left corner
    draw.ellipse([w // 3, h // 3, w // 2, h // 2], fill=(250, 250, 250))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        gps_ifd = exif.get_ifd(0x8825)
        gps_ifd[1] = "N"
        gps_ifd[2] = (55.0, 45.0, 21.0)
        gps_ifd[3] = "E"
        gps_ifd[4] = (37.0, 37.0, 4.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()


def png_bytes(size: tuple[int, int] = (800, 600)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (10, 200, 10, 128)).save(buffer, "PNG")
    return buffer.getvalue()
