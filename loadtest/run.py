"""`make loadtest`: the real stack on loopback under locust, and one table of figures.

nginx (deploy/nginx/, loopback variant) -> two gunicorn nodes (the Procfile's `web`) ->
PostgreSQL (its own database, autoservice_loadtest, migrated and filled with the demo shop
here) and a redis-server of its own, every Celery worker of the Procfile and beat, the six demo
suppliers; production settings (DEBUG off, hashed static files served by nginx).

Phases, each a separate headless locust run with the same number of users:
  1. ceiling: a bare get-by-primary-key page (autoservice/ceiling.py) through the same stack;
  2. each public route alone (landing, photo form page, calculator estimate, offer);
  3. the mix of drivers, a photo sender (3 photos of 3 MB) and advisors (inbox, lead page,
     parts search on the demo suppliers) for LOADTEST_MIX_SECONDS (60), or
     LOADTEST_SOAK_MINUTES when set: then the RSS of the web and worker processes and the
     queue depths are sampled, and the first minute is compared with the last.
Budget: every public route >= 60 % of the ceiling's requests per second, the photo upload's
p99 <= 1.5 s, no error. Exit status 1 otherwise. Ports: LOADTEST_PORT_BASE (8840) and the
next 10."""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

BASE = int(os.environ.get("LOADTEST_PORT_BASE", "8840"))
NGINX_PORT, NODE_A, NODE_B = BASE, BASE + 1, BASE + 2
SUPPLIER_PORTS = [BASE + 3 + i for i in range(6)]
REDIS_PORT = BASE + 9
USERS = int(os.environ.get("LOADTEST_USERS", "8"))
PHASE_S = int(os.environ.get("LOADTEST_PHASE_SECONDS", "12"))
SOAK_MIN = float(os.environ.get("LOADTEST_SOAK_MINUTES", "0") or 0)
MIX_S = int(SOAK_MIN * 60) if SOAK_MIN else int(os.environ.get("LOADTEST_MIX_SECONDS", "60"))
DATABASE_URL = os.environ.get(
    "LOADTEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/autoservice_loadtest"
)
WORK = ROOT / "var" / "loadtest"
DEMO_SUPPLIER_PORTS = range(8701, 8707)


def production_env() -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "DJANGO_"))}
    site = f"http://127.0.0.1:{NGINX_PORT}"
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "INTAKE_SEAL_KEYS": "load1:" + secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": site,
            "CSRF_TRUSTED_ORIGINS": site,
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "SECURE_HSTS_SECONDS": "0",
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
            "VAR_DIR": str(WORK / "var"),
            "MEDIA_ROOT": str(WORK / "media"),
            "INTAKE_SEAL_LOG": str(WORK / "intake-seal-log.txt"),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "OUTBOUND_ALLOWED_HOSTS": ",".join(f"127.0.0.1:{p}" for p in SUPPLIER_PORTS),
            # As behind a load balancer in front of nginx: the photo sender gives each driver
            # an address of its own (X-Forwarded-For), so per-address limits see many drivers.
            "PROXY_COUNT": "2",
            "LOADTEST_CEILING_VIEW": "true",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def prepare_database(env: dict[str, str]) -> dict:
    """Create the load test's database afresh, migrate it, load the demo shop, point its
    suppliers at this run's demo suppliers; return the targets the users need."""
    import dj_database_url
    import psycopg2

    params = dj_database_url.parse(DATABASE_URL)
    conn = psycopg2.connect(
        host=params["HOST"], port=params["PORT"] or 5432, user=params["USER"], dbname="postgres"
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{params["NAME"]}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{params["NAME"]}"')
    conn.close()
    os.environ.update(env)
    # The demo's offers come from the demo suppliers on their usual ports (the demo starts
    # them itself when `make run` has not): let this process reach them too.
    os.environ["OUTBOUND_ALLOWED_HOSTS"] += "," + ",".join(
        f"127.0.0.1:{p}" for p in DEMO_SUPPLIER_PORTS
    )
    os.environ["DJANGO_SETTINGS_MODULE"] = "autoservice.settings"
    import django

    django.setup()
    from django.core.management import call_command

    devnull = open(os.devnull, "w")
    call_command("migrate", verbosity=0, stdout=devnull)
    # Hashing and compressing every static file takes minutes on a busy machine: only when a
    # source file is newer than the last run's manifest.
    manifest = WORK / "var" / "static" / "staticfiles.json"
    sources = [p for d in ROOT.glob("*/static") for p in d.rglob("*") if p.is_file()]
    if not manifest.exists() or max(p.stat().st_mtime for p in sources) > manifest.stat().st_mtime:
        call_command("collectstatic", interactive=False, verbosity=0, stdout=devnull)
    call_command("demo", verbosity=0, stdout=devnull)

    from autoservice.models import Membership, Shop
    from leads.models import Lead
    from optima.demo_supplier import DemoCatalogue
    from optima.models import CustomerOffer, Supplier
    from smartcalc.models import Generation
    from smartcalc.parts import parts_for_body

    shop = Shop.objects.get(slug="demo")
    for supplier in Supplier.objects.filter(shop=shop):
        for demo_port, port in zip(DEMO_SUPPLIER_PORTS, SUPPLIER_PORTS, strict=True):
            supplier.base_url = supplier.base_url.replace(f":{demo_port}", f":{port}")
        supplier.save(update_fields=["base_url"])
    # The most repaired car in Russia, as a driver would pick it.
    generation = (
        Generation.objects.filter(model__name__icontains="Vesta").order_by("pk").first()
        or Generation.objects.order_by("pk").first()
    )
    body = generation.body_types[0]
    advisor = Membership.objects.filter(shop=shop, role="advisor").select_related("user").first()
    photos = []
    from common import photo_3mb

    for i in range(3):
        path = WORK / f"photo{i}.jpg"
        path.write_bytes(photo_3mb(i))
        photos.append(str(path))
    return {
        "slug": shop.slug,
        "shop_pk": shop.pk,
        "lead_pks": list(Lead.objects.filter(shop=shop).values_list("pk", flat=True)[:50]),
        "offer_tokens": list(
            CustomerOffer.objects.filter(shop=shop, versions__status__in=["sent", "accepted"])
            .distinct()
            .values_list("token", flat=True)[:20]
        ),
        "calc_estimate_path": f"/s/{shop.slug}/calc/{generation.pk}/{body}/estimate/",
        "calc_parts": [p.code for p in parts_for_body(body)][:8],
        "oem_numbers": DemoCatalogue(1).oem_numbers[:10],
        "staff_user": advisor.user.username,
        "staff_password": os.environ.get("DEMO_PASSWORD", "demo-sto-2026"),
        "photos": photos,
    }


def start_stack(processes, env: dict[str, str]) -> dict[str, object]:
    from tests.nginxstack import nginx_args, render_loopback, wait_port
    from tests.realstack import procfile_commands, wait_for

    commands = procfile_commands()
    running = {}
    for name, port in (("web-a", NODE_A), ("web-b", NODE_B)):
        running[name] = processes.start(
            name,
            ["bash", "-c", f"exec {commands['web']}"],
            env={**env, "WEB_PORT": str(port)},
            cwd=ROOT,
        )
    workers = [name for name in commands if name.startswith("worker")]
    for name in (*workers, "beat"):
        running[name] = processes.start(
            name, ["bash", "-c", f"exec {commands[name]}"], env=env, cwd=ROOT
        )
    # The Procfile's demo suppliers (supplier1..6, ports 8701..8706) on this run's ports.
    for name in (n for n in commands if n.startswith("supplier")):
        port = SUPPLIER_PORTS[int(re.search(r"--port (\d+)", commands[name]).group(1)) - 8701]
        command = re.sub(r"--port \d+", f"--port {port}", commands[name])
        processes.start(name, ["bash", "-c", f"exec {command}"], env=env, cwd=ROOT)
    conf = render_loopback(
        WORK / "nginx",
        port=NGINX_PORT,
        nodes=[NODE_A, NODE_B],
        var_dir=WORK / "var",
        media_root=WORK / "media",
    )
    processes.start("nginx", nginx_args(conf))
    for port in (NGINX_PORT, NODE_A, NODE_B, *SUPPLIER_PORTS):
        wait_for(lambda port=port: wait_port(port, 0.5), seconds=60, what=f"port {port}")
    for name in workers:
        wait_for(
            lambda name=name: "ready." in processes.log(name), seconds=90, what=f"{name} ready"
        )
    return running


def run_locust(
    phase: str, classes: list[str], seconds: int, env: dict[str, str], users: int
) -> list[dict]:
    prefix = WORK / f"locust-{phase}"
    args = [
        str(Path(sys.executable).with_name("locust")),
        "-f",
        str(ROOT / "loadtest" / "locustfile.py"),
    ]
    args += ["--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s"]
    args += ["--host", f"http://127.0.0.1:{NGINX_PORT}", "--csv", str(prefix), "--only-summary"]
    args += ["--loglevel", "WARNING", "--stop-timeout", "10", *classes]
    subprocess.run(
        args,
        env={**os.environ, "LOADTEST_TARGETS": str(WORK / "targets.json")},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(WORK / f"locust-{phase}.log", "w"),
    )
    with open(f"{prefix}_stats.csv") as f:
        rows = [row for row in csv.DictReader(f) if row["Name"] != "Aggregated"]
    failures = WORK / f"locust-{phase}_failures.csv"
    if failures.exists():
        for row in csv.DictReader(failures.open()):
            print(
                f"   {phase}: {row['Occurrences']} × {row['Method']} {row['Name']}: {row['Error']}"
            )
    return rows


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (/proc), in MB."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, AttributeError):
            continue
    return total / 1024


class Sampler(threading.Thread):
    """Every 10 s: RSS of each web node and each worker (with its pool), and queue depths."""

    def __init__(self, running: dict, queues: tuple[str, ...]):
        super().__init__(daemon=True)
        import redis

        self.running, self.queues = running, queues
        self.redis = redis.Redis(port=REDIS_PORT)
        self.samples: list[tuple[float, dict[str, float], dict[str, int]]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        while not self.stop.wait(10):
            rss = {name: tree_rss_mb(p.pid) for name, p in self.running.items() if name != "beat"}
            depths = {q: self.redis.llen(q) for q in self.queues}
            self.samples.append((time.monotonic() - started, rss, depths))

    def window(self, first: bool) -> tuple[dict[str, float], dict[str, float]]:
        end = self.samples[-1][0]
        chosen = [s for s in self.samples if (s[0] <= 60 if first else s[0] >= end - 60)]
        names, queues = chosen[0][1].keys(), chosen[0][2].keys()
        return (
            {n: statistics.mean(s[1][n] for s in chosen) for n in names},
            {q: statistics.mean(s[2][q] for s in chosen) for q in queues},
        )


def pct(row: dict, key: str) -> str:
    return row.get(key, "") or "-"


def main() -> int:
    from tests.realstack import Processes, RedisServer

    # Stopped (Ctrl-C, kill): every process started here goes down with it.
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(1))

    shutil.rmtree(WORK / "media", ignore_errors=True)
    (WORK / "var").mkdir(parents=True, exist_ok=True)
    shutil.rmtree(WORK / "nginx", ignore_errors=True)
    for old in WORK.glob("locust-*"):
        old.unlink()
    env = production_env()
    logs = WORK / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    processes = Processes(logs)
    try:
        RedisServer(processes, REDIS_PORT).start()
        print("preparing autoservice_loadtest (migrate, collectstatic, demo) ...", flush=True)
        targets = prepare_database(env)
        (WORK / "targets.json").write_text(json.dumps(targets, ensure_ascii=False))
        from django.conf import settings

        running = start_stack(processes, env)
        print(
            f"stack up: nginx :{NGINX_PORT} -> gunicorn :{NODE_A} :{NODE_B}; {USERS} users",
            flush=True,
        )
        results: dict[str, list[dict]] = {}
        for phase, cls in (
            ("ceiling", "Ceiling"),
            ("landing", "Landing"),
            ("photo-page", "PhotoPage"),
            ("calculator", "Calculator"),
            ("offer", "Offer"),
        ):
            results[phase] = run_locust(phase, [cls], PHASE_S, env, USERS)
        sampler = Sampler(running, settings.CELERY_QUEUE_NAMES)
        sampler.start()
        print(f"mix: drivers, a photo sender and advisors for {MIX_S} s ...", flush=True)
        results["mix"] = run_locust(
            "mix", ["Driver", "PhotoSender", "Advisor"], MIX_S, env, USERS + 1
        )
        sampler.stop.set()
        sampler.join()
        server_errors = [
            line
            for name in ("web-a", "web-b")
            for line in processes.log(name).splitlines()
            if "Traceback" in line or " ERROR " in line
        ]
    finally:
        processes.kill_all()
    return report(results, sampler, server_errors)


def report(results: dict[str, list[dict]], sampler: Sampler, server_errors: list[str]) -> int:
    ceiling = float(results["ceiling"][0]["Requests/s"])
    print()
    header = f"{'phase':<11}{'route':<38}{'reqs':>7}{'err':>5}{'rps':>8}"
    header += f"{'p50':>7}{'p95':>7}{'p99':>7}  vs ceiling"
    print(header)
    print("-" * len(header))
    ok = True
    total_errors = 0
    upload_p99 = None
    for phase, rows in results.items():
        for row in sorted(rows, key=lambda r: r["Name"]):
            rps = float(row["Requests/s"])
            errors = int(row["Failure Count"])
            total_errors += errors
            ratio = ""
            if phase not in ("ceiling", "mix"):
                share = rps / ceiling if ceiling else 0
                ratio = f"{share:6.0%} {'ok' if share >= 0.6 else 'UNDER 60 %'}"
                ok &= share >= 0.6
            if "photo upload" in row["Name"]:
                upload_p99 = float(row["99%"] or 0)
            print(
                f"{phase:<11}{row['Name'][:37]:<38}{row['Request Count']:>7}{errors:>5}{rps:>8.1f}"
                f"{pct(row, '50%'):>7}{pct(row, '95%'):>7}{pct(row, '99%'):>7}  {ratio}"
            )
    print("(times in ms; rps of the mix are its shares, not ceilings)")
    print()
    upload_ok = upload_p99 is not None and upload_p99 <= 1500
    print(f"photo upload p99: {upload_p99} ms (budget <= 1500): {'ok' if upload_ok else 'OVER'}")
    print(f"errors: {total_errors} from locust, {len(server_errors)} server error lines (budget 0)")
    for line in server_errors[:10]:
        print("   ", line)
    ok &= upload_ok and total_errors == 0 and not server_errors
    if sampler.samples:
        first_rss, first_q = sampler.window(first=True)
        last_rss, last_q = sampler.window(first=False)
        print()
        print(f"{'process':<20}{'RSS first min, MB':>20}{'RSS last min, MB':>20}")
        for name in first_rss:
            print(f"{name:<20}{first_rss[name]:>20.1f}{last_rss[name]:>20.1f}")
        print(f"{'queue':<20}{'depth first min':>20}{'depth last min':>20}")
        for name in first_q:
            print(f"{name:<20}{first_q[name]:>20.1f}{last_q[name]:>20.1f}")
        if SOAK_MIN:
            growing = [n for n in first_rss if last_rss[n] > first_rss[n] * 1.2 + 10]
            queued = [q for q in first_q if last_q[q] > first_q[q] + 5]
            print(
                f"soak {SOAK_MIN:g} min: memory growing in {growing or 'none'}; "
                f"queues growing: {queued or 'none'}"
            )
            ok &= not growing and not queued
    print()
    print("verdict:", "ok" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
