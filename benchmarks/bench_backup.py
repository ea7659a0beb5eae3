"""Time `manage.py backup` (one snapshot's pg_dump, every referenced file copied through the
storage API with its SHA-256) against the bare minimum measured in the same run: a plain
pg_dump of the same database plus a plain copy of the same files, no hashing.

Run: ``DATABASE_URL=postgres://…/autoservice_bench .venv/bin/python benchmarks/run.py
backup``. A shop (slug ``bench-backup``) with one lead and PHOTOS photos (original, web
rendition, thumbnail: about 8 MB of files in all, under ``var/bench/media`` unless
MEDIA_ROOT is set) is made once and reused. The whole benchmark database is backed up, as in
production. Budget: the backup takes at most twice the bare copy (the overhead of the
snapshot, the manifest and hashing every byte).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, report, setup_django  # noqa: E402

os.environ.setdefault("MEDIA_ROOT", str(ROOT / "var" / "bench" / "media"))

SHOP_SLUG = "bench-backup"
PHOTOS = 100
REPEAT = 5
BUDGET_RATIO = 2.0


def _data() -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from autoservice.models import Shop
    from leads.models import Lead, LeadPhoto

    shop, _created = Shop.objects.get_or_create(
        slug=SHOP_SLUG, defaults={"name": "Бенчмарк резервной копии"}
    )
    lead, _created = Lead.objects.get_or_create(
        shop=shop, number=1, defaults={"customer_name": "Водитель", "phone": "+79000000001"}
    )
    for n in range(PHOTOS):
        names = {
            "original": (f"leads/bench-backup/{n}.orig", 60_000),
            "web": (f"leads/bench-backup/{n}.web.jpg", 15_000),
            "thumb": (f"leads/bench-backup/{n}.thumb.jpg", 3_000),
        }
        for name, size in names.values():
            if not default_storage.exists(name):
                default_storage.save(name, ContentFile(os.urandom(size)))
        LeadPhoto.objects.get_or_create(
            lead=lead,
            shop=shop,
            upload_token=f"bench-backup-{n}",
            defaults={
                "original": names["original"][0],
                "web": names["web"][0],
                "thumb": names["thumb"][0],
                "original_name": f"IMG_{n:04d}.jpg",
                "sha256": f"{n:064d}",
                "size_bytes": 60_000,
                "format": "JPEG",
                "width": 4000,
                "height": 3000,
                "state": "ready",
            },
        )


def _bare(to: Path) -> None:
    from django.conf import settings
    from django.db import connection

    from autoservice import backup

    to.mkdir()
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-password", f"--file={to / 'db.dump'}"],
        env=backup._pg_env(connection.settings_dict),
        check=True,
    )
    for name in backup.referenced_files():
        source = Path(settings.MEDIA_ROOT) / name
        if not source.exists():
            # Rows other benchmarks left without their files: the backup skips them too
            # (it lists them as missing), so the baseline does the same work.
            continue
        target = to / "files" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def main() -> None:
    setup_django()
    from autoservice import backup

    _data()
    files = len(backup.referenced_files())
    ours, bare = [], []
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp:
        for n in range(REPEAT):
            started = time.perf_counter()
            _bare(Path(tmp) / f"bare-{n}")
            bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            backup.backup_create(to=Path(tmp) / f"ours-{n}")
            ours.append(time.perf_counter() - started)
    ours_s, bare_s = statistics.median(ours), statistics.median(bare)
    ratio = ours_s / bare_s
    print(
        f"backup of {files} files: {ours_s * 1000:.0f} ms, bare pg_dump + copy "
        f"{bare_s * 1000:.0f} ms"
    )
    report(f"backup: {files} files + the database", round(ours_s * 1000), "ms", "-", True)
    report(
        "backup / bare copy (same run)",
        round(ratio, 2),
        "ratio",
        f"<= {BUDGET_RATIO}",
        ratio <= BUDGET_RATIO,
    )


if __name__ == "__main__":
    main()
