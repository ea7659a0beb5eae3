"""Time the photo rendition job on a 12 MP phone JPEG against a naive Pillow pipeline.

Run from the repository root: ``.venv/bin/python benchmarks/bench_photo_pipeline.py``.
Prints ``BENCH {json}`` lines for the bench runner; exits 0 even when over budget.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from types import ModuleType

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autoservice.settings")

from PIL import Image, ImageDraw, ImageFilter, ImageOps  # noqa: E402

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

REPETITIONS = 15
WEB_LONG_SIDE = 1600
THUMB_LONG_SIDE = 400
QUALITY = 82
BUDGET_MS = 150.0
BUDGET_SPEEDUP = 1.3


def load_images_module() -> ModuleType:
    # Loaded from its file so the benchmark never depends on the package __init__
    # (which wires Celery/Django) being importable in a bare environment.
    path = REPO_ROOT / "autoservice" / "images.py"
    spec = importlib.util.spec_from_file_location("_bench_autoservice_images", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while building
    spec.loader.exec_module(module)
    return module


def make_phone_photo(path: pathlib.Path) -> int:
    """A 4000×3000 JPEG, quality 90, orientation 6 with GPS, textured like a real photo."""
    size = (4000, 3000)
    # Smooth light falloff (the sky/wall) plus large shapes with edges (the car) ...
    red = Image.linear_gradient("L").resize(size).rotate(20, expand=False, fillcolor=90)
    green = Image.radial_gradient("L").resize(size)
    blue = Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).resize(size)
    photo = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(photo)
    draw.rounded_rectangle((600, 1200, 3400, 2300), radius=300, fill=(150, 20, 30))
    draw.rectangle((900, 900, 3000, 1350), fill=(60, 70, 90))
    for x in (1000, 2900):
        draw.ellipse((x - 330, 1950, x + 330, 2610), fill=(25, 25, 25))
        draw.ellipse((x - 150, 2130, x + 150, 2430), fill=(170, 170, 175))
    photo = photo.filter(ImageFilter.GaussianBlur(3))
    # ... and sensor noise, which is what makes phone JPEGs 3–5 MB.
    noise = Image.merge("RGB", [Image.effect_noise(size, 28) for _ in range(3)])
    photo = Image.blend(photo, noise, 0.35)

    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "BenchPhone"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (55.0, 45.0, 21.0)
    gps[3] = "E"
    gps[4] = (37.0, 37.0, 4.0)
    photo.save(path, format="JPEG", quality=90, exif=exif)
    return path.stat().st_size


def naive_pipeline(src: pathlib.Path, web: pathlib.Path, thumb: pathlib.Path) -> None:
    with Image.open(src) as im:
        im.load()
        upright = ImageOps.exif_transpose(im)
    web_im = upright.resize(_fit(upright.size, WEB_LONG_SIDE), Image.Resampling.LANCZOS)
    thumb_im = web_im.resize(_fit(web_im.size, THUMB_LONG_SIDE), Image.Resampling.LANCZOS)
    # Same encoder settings as ours, so the comparison measures decoding and resizing.
    web_im.save(web, format="JPEG", quality=QUALITY, progressive=True, optimize=True)
    thumb_im.save(thumb, format="JPEG", quality=QUALITY, progressive=True, optimize=True)


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    scale = min(1.0, long_side / max(size))
    return round(size[0] * scale), round(size[1] * scale)


def median_ms(job: Callable[[], object]) -> float:
    job()  # warm-up: imports, page cache, LittleCMS profile
    timings = []
    for _ in range(REPETITIONS):
        start = time.perf_counter()
        job()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def bench_line(name: str, figure: float, unit: str, budget: str, ok: bool) -> str:
    row = {
        "name": name,
        "figure": figure,
        "unit": unit,
        "budget": budget,
        "verdict": "ok" if ok else "over",
    }
    return "BENCH " + json.dumps(row, ensure_ascii=False)


def main() -> int:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # the budget is per core
    images = load_images_module()

    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        src = folder / "IMG_0001.jpg"
        src_bytes = make_phone_photo(src)

        ours_ms = median_ms(
            lambda: images.make_renditions(
                src,
                web_dest=folder / "web.jpg",
                thumb_dest=folder / "thumb.jpg",
                web_long_side=WEB_LONG_SIDE,
                thumb_long_side=THUMB_LONG_SIDE,
                quality=QUALITY,
            )
        )
        naive_ms = median_ms(
            lambda: naive_pipeline(src, folder / "naive_web.jpg", folder / "naive_thumb.jpg")
        )

    ours_ms = round(ours_ms, 1)
    speedup = round(naive_ms / ours_ms, 2)
    print(
        f"photo pipeline: source {src_bytes / 2**20:.1f} MB, median of {REPETITIONS}: "
        f"ours {ours_ms:.1f} ms, naive decode+LANCZOS {naive_ms:.1f} ms"
    )
    print(
        bench_line(
            "photo pipeline, 12 MP JPEG",
            ours_ms,
            "ms/photo",
            f"≤ {BUDGET_MS:g}",
            ours_ms <= BUDGET_MS,
        )
    )
    print(
        bench_line(
            "photo pipeline speed-up vs naive decode+LANCZOS",
            speedup,
            "×",
            f"≥ {BUDGET_SPEEDUP:g}",
            speedup >= BUDGET_SPEEDUP,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
