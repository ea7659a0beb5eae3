"""Peak memory of streaming an intake record's ZIP (10 and 30 shots of 12 MP).

Run: ``DATABASE_URL=postgres://…/autoservice_bench .venv/bin/python benchmarks/run.py
intake_export``. One 12 MP phone JPEG (≈ 3.5 MB) is generated once into var/bench/; the
records (shop slug ``bench-intake-export``) are made afresh on every run through the
services, their shots as IntakeShot rows with copies of that file (the quality check and
the duplicate check are not what is measured), then signed and sealed.

Each size is measured in a fresh subprocess, since ru_maxrss never goes down within one:
the growth of ru_maxrss while exporting the record (from after Django and WeasyPrint are
imported), then the tracemalloc peak of Python allocations during a second export, and the
same split into building the entries (the act PDF) and the streaming proper. The peak
figure is the larger of the ru_maxrss growth and the tracemalloc peak.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import tracemalloc
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, report, setup_django  # noqa: E402

os.environ.setdefault("MEDIA_ROOT", str(ROOT / "var" / "bench" / "media"))

SHOP_SLUG = "bench-intake-export"
SIZES = (10, 30)
BUDGET_GROWTH_MB = 5.0
PHOTO = ROOT / "var" / "bench" / "intake-12mp.jpg"


def _make_photo() -> None:
    """A 4000×3000 JPEG with sensor noise, the size a phone sends (made once)."""
    from PIL import Image, ImageDraw, ImageFilter

    size = (4000, 3000)
    photo = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize(size),
            Image.radial_gradient("L").resize(size),
            Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).resize(size),
        ),
    )
    draw = ImageDraw.Draw(photo)
    draw.rounded_rectangle((600, 1200, 3400, 2300), radius=300, fill=(150, 20, 30))
    for x in (1000, 2900):
        draw.ellipse((x - 330, 1950, x + 330, 2610), fill=(25, 25, 25))
    photo = photo.filter(ImageFilter.GaussianBlur(1.5))
    noise = Image.merge("RGB", [Image.effect_noise(size, 28) for _ in range(3)])
    PHOTO.parent.mkdir(parents=True, exist_ok=True)
    Image.blend(photo, noise, 0.3).save(PHOTO, "JPEG", quality=90)


def _signature(seed: int) -> str:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    points = [(40 + i * 26, 100 + (30 + seed * 5) * (-1) ** i) for i in range(20)]
    ImageDraw.Draw(image).line(points, fill=(10, 10, 60, 255), width=5)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _record(shop, membership, shots: int, renditions: tuple[Path, Path]) -> int:
    """A sealed body-template record with `shots` 12 MP shots; the rest of the required
    specs are skipped with a reason."""
    from django.core.files.storage import default_storage

    from intake import services
    from intake.models import IntakeShot, ShotTemplate

    template = ShotTemplate.objects.get(shop=None, family="body", is_current=True)
    record = services.record_create(
        shop=shop,
        by=membership,
        template=template,
        consent=None,
        data=services.VehicleData(
            plate="А123ВС777",
            vin="XW8ZZZ61ZJG000001",
            make="Kia",
            model="Rio",
            year=2018,
            body_type="sedan",
            customer_name="Сергей Иванов",
            customer_phone="+79161234567",
        ),
    )
    Path(default_storage.path(f"intake/{shop.pk}/{record.pk}")).mkdir(parents=True)
    specs = list(template.specs.order_by("position"))
    digest = hashlib.sha256(PHOTO.read_bytes()).hexdigest()
    taken = set()
    for i in range(shots):
        spec = specs[i] if i < len(specs) else specs[-1]  # extra close-ups of damage
        taken.add(spec.pk)
        base = f"intake/{shop.pk}/{record.pk}/{uuid.uuid4().hex}"
        for suffix, source in ((".jpg", PHOTO), (".web.jpg", renditions[0])):
            shutil.copyfile(source, default_storage.path(base + suffix))
        shutil.copyfile(renditions[1], default_storage.path(base + ".thumb.jpg"))
        IntakeShot.objects.create(
            record=record,
            spec=spec,
            client_id=uuid.uuid4(),
            file=base + ".jpg",
            web=base + ".web.jpg",
            thumb=base + ".thumb.jpg",
            original_name=f"IMG_{i:04d}.jpg",
            sha256=digest,
            size_bytes=PHOTO.stat().st_size,
            width=4000,
            height=3000,
        )
    for spec in specs:
        if spec.required and spec.pk not in taken:
            services.shot_skip(record=record, spec=spec, reason="Не снято в бенчмарке")
    services.record_sign_and_seal(
        record=record,
        by=membership,
        customer_signature=_signature(1),
        advisor_signature=_signature(2),
    )
    return record.pk


def _prepare() -> dict[int, int]:
    from django.contrib.auth import get_user_model
    from django.core.files.storage import default_storage

    from autoservice import images
    from autoservice.models import Membership, Shop

    if not PHOTO.exists():
        _make_photo()
    web, thumb = PHOTO.with_suffix(".web.jpg"), PHOTO.with_suffix(".thumb.jpg")
    if not thumb.exists():
        images.make_renditions(PHOTO, web_dest=web, thumb_dest=thumb)

    old = Shop.objects.filter(slug=SHOP_SLUG).first()
    if old is not None:
        shutil.rmtree(default_storage.path(f"intake/{old.pk}"), ignore_errors=True)
        old.delete()
    shop = Shop.objects.create(slug=SHOP_SLUG, name="Бенчмарк выгрузки актов")
    user, _ = get_user_model().objects.get_or_create(username=f"{SHOP_SLUG}@example.ru")
    Membership.objects.filter(user=user).delete()
    membership = Membership.objects.create(user=user, shop=shop, role="manager")
    return {shots: _record(shop, membership, shots, (web, thumb)) for shots in SIZES}


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _consume(chunks) -> tuple[int, int]:
    size = count = 0
    for chunk in chunks:
        size += len(chunk)
        count += 1
    return size, count


def _measure(record_id: int) -> None:
    """In a fresh process: prints one JSON line with the figures."""
    import django

    django.setup()
    import weasyprint  # noqa: F401  (imported by the act on first use: not the export's cost)

    from intake import export

    record = export.record_queryset().get(pk=record_id)
    before = _maxrss_mb()
    began = time.perf_counter()
    size, chunks = _consume(export.record_zip_stream(record))
    seconds = time.perf_counter() - began
    rss = _maxrss_mb() - before

    tracemalloc.start()
    _consume(export.record_zip_stream(record))
    _current, traced = tracemalloc.get_traced_memory()
    # The same again in two phases: building the entries (the act PDF is rendered here),
    # then the streaming proper.
    gc.collect()
    start = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    entries = export._entries(record)
    prepared, prepare_peak = tracemalloc.get_traced_memory()
    prepare_peak -= start
    tracemalloc.reset_peak()
    _consume(export._stream(entries))
    stream_peak = tracemalloc.get_traced_memory()[1] - prepared
    tracemalloc.stop()
    result = {"rss_mb": rss, "traced_mb": traced / 2**20, "zip_mb": size / 2**20}
    result |= {"chunks": chunks, "seconds": seconds, "prepare_mb": prepare_peak / 2**20}
    result |= {"stream_mb": stream_peak / 2**20}
    print(json.dumps(result))


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        _measure(int(sys.argv[2]))
        return 0
    setup_django()
    ids = _prepare()
    figures = {}
    for shots in SIZES:
        proc = subprocess.run(
            [sys.executable, __file__, "--measure", str(ids[shots])],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            check=True,
        )
        figures[shots] = json.loads(proc.stdout.strip().splitlines()[-1])
        f = figures[shots]
        print(
            f"{shots} shots: ZIP {f['zip_mb']:.0f} MB in {f['chunks']} chunks, "
            f"{f['seconds']:.2f} s ({f['zip_mb'] / f['seconds']:.0f} MB/s); "
            f"ru_maxrss +{f['rss_mb']:.1f} MB, tracemalloc peak {f['traced_mb']:.1f} MB "
            f"(building the entries with the act PDF {f['prepare_mb']:.1f} MB, "
            f"streaming on top of them {f['stream_mb']:.2f} MB)"
        )
    for shots in SIZES:
        peak = max(figures[shots]["rss_mb"], figures[shots]["traced_mb"])
        name = f"intake ZIP export peak memory, {shots} shots"
        report(name, round(peak, 1), "MB", "report", True)
    low, high = figures[SIZES[0]], figures[SIZES[-1]]
    growth = max(high["rss_mb"] - low["rss_mb"], high["traced_mb"] - low["traced_mb"])
    name = f"intake ZIP memory growth {SIZES[0]}→{SIZES[-1]} shots"
    report(name, round(growth, 1), "MB", f"≤ {BUDGET_GROWTH_MB:g}", growth <= BUDGET_GROWTH_MB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
