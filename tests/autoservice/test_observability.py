"""What operators see of the running product: Prometheus figures that move with the work
(suppliers, photos, the first answer to a driver, queues, requests), and logs where every
line of a driver's request, and of the tasks it queued, carries that request's id."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from prometheus_client import REGISTRY

from autoservice.logcontext import ContextFilter, JsonFormatter, log_context, log_scope
from autoservice.models import OutboxMessage, OutboxStatus
from autoservice.outbox import outbox_put
from leads.photos import photo_process
from leads.services import lead_mark_contacted
from optima.demo_supplier import start_in_thread
from optima.suppliers import adapter_for
from tests.factories import LeadFactory, LeadPhotoFactory
from tests.photos import jpeg_bytes
from tests.realstack import wait_for
from tests.s3 import stored_replace


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _scrape(client) -> dict[str, str]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return dict(
        line.rsplit(" ", 1) for line in response.content.decode().splitlines() if line[:1] != "#"
    )


@contextmanager
def _json_log(logger_name: str) -> Iterator[io.StringIO]:
    """The JSON lines the production handler would write for one logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# --- metrics -----------------------------------------------------------------------------


def test_supplier_searches_move_the_latency_histogram_by_kind_and_outcome(client, db):
    ok = dict(kind="abcp", outcome="ok")
    error = dict(kind="armtek", outcome="error")
    timeout = dict(kind="abcp", outcome="timeout")
    before = {
        key: _sample("autoservice_supplier_answer_seconds_count", **labels)
        for key, labels in (("ok", ok), ("error", error), ("timeout", timeout))
    }
    with start_in_thread(seed=2) as supplier:
        abcp = adapter_for(
            "abcp",
            supplier_id="abcp:metrics",
            base_url=supplier.url,
            credentials=supplier.abcp_credentials,
            timeout_s=5,
        )
        assert abcp.search("6RU807221").state == "answered"
        assert abcp.search("6RU807221", deadline=time.monotonic() - 1).state == "timeout"
    with start_in_thread(seed=5, error_rate=1.0) as failing:
        armtek = adapter_for(
            "armtek",
            supplier_id="armtek:metrics",
            base_url=failing.url,
            credentials=failing.armtek_credentials,
            timeout_s=5,
        )
        assert armtek.search("6RU807221").state == "error"

    assert _sample("autoservice_supplier_answer_seconds_count", **ok) == before["ok"] + 1
    assert _sample("autoservice_supplier_answer_seconds_count", **error) == before["error"] + 1
    assert _sample("autoservice_supplier_answer_seconds_count", **timeout) == before["timeout"] + 1
    figures = _scrape(client)
    assert (
        float(figures['autoservice_supplier_answer_seconds_count{kind="abcp",outcome="ok"}']) >= 1
    )
    assert 'autoservice_supplier_answer_seconds_bucket{kind="abcp",le="30.0",outcome="ok"}' in (
        figures
    )


def test_processed_photo_moves_the_processing_histogram(shop):
    photo = LeadPhotoFactory(lead=LeadFactory(shop=shop), state="pending")
    ready_before = _sample("autoservice_photo_processing_seconds_count", outcome="ready")
    photo_process(photo.pk)
    photo.refresh_from_db()
    assert photo.state == "ready"
    assert _sample("autoservice_photo_processing_seconds_count", outcome="ready") == (
        ready_before + 1
    )
    assert _sample("autoservice_photo_processing_seconds_sum", outcome="ready") > 0

    broken = LeadPhotoFactory(lead=photo.lead, state="pending")
    stored_replace(broken.original.name, b"not a picture")
    failed_before = _sample("autoservice_photo_processing_seconds_count", outcome="failed")
    photo_process(broken.pk)
    assert _sample("autoservice_photo_processing_seconds_count", outcome="failed") == (
        failed_before + 1
    )


def test_first_response_is_observed_once_per_lead_after_commit(
    shop, advisor, django_capture_on_commit_callbacks
):
    import datetime as dt

    from django.utils import timezone

    lead = LeadFactory(shop=shop, created_at=timezone.now() - dt.timedelta(minutes=20))
    count = _sample("autoservice_lead_first_response_seconds_count")
    total = _sample("autoservice_lead_first_response_seconds_sum")
    with django_capture_on_commit_callbacks(execute=True):
        lead_mark_contacted(lead=lead, by=advisor)
    assert _sample("autoservice_lead_first_response_seconds_count") == count + 1
    waited = _sample("autoservice_lead_first_response_seconds_sum") - total
    assert 20 * 60 <= waited < 21 * 60
    # Under 30 minutes, over 15: the buckets an SLA alert reads.
    assert _sample("autoservice_lead_first_response_seconds_bucket", le="1800.0") >= 1

    lead.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        lead_mark_contacted(lead=lead, by=advisor, note="перезвонил ещё раз")
    assert _sample("autoservice_lead_first_response_seconds_count") == count + 1


def test_outbox_gauge_follows_the_backlog_at_each_scrape(client, shop):
    assert _scrape(client)["autoservice_outbox_undelivered"] == "0"
    message = outbox_put(shop=shop, kind="tests.metrics_probe", dedupe_key="m1", payload={})
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.PENDING)
    assert _scrape(client)["autoservice_outbox_undelivered"] == "1"
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.SENT)
    assert _scrape(client)["autoservice_outbox_undelivered"] == "0"


@pytest.mark.timeout(60)
def test_queue_depth_is_the_length_of_the_celery_queue_in_redis(client, db, broker):
    from autoservice.celery import app

    figures = _scrape(client)
    # Every queue of the routing is reported, empty ones too.
    for queue in ("notifications", "photos", "suppliers", "exports", "default"):
        assert figures[f'autoservice_celery_queue_length{{queue="{queue}"}}'] == "0"
    for _ in range(3):  # no worker runs: the tasks wait in Redis, in their routed queue
        app.send_task("autoservice.tasks.worker_heartbeat")
    app.send_task("autoservice.tasks.outbox_deliver", args=[0])
    figures = _scrape(client)
    assert figures['autoservice_celery_queue_length{queue="default"}'] == "3"
    assert figures['autoservice_celery_queue_length{queue="notifications"}'] == "1"


def test_requests_are_counted_by_view_name_never_by_path(client, db):
    labels = dict(view="healthz_live", method="GET", status="2xx")
    before = _sample("autoservice_http_requests_total", **labels)
    client.get("/healthz/live")
    client.get("/healthz/live")
    assert _sample("autoservice_http_requests_total", **labels) == before + 2
    unrouted = dict(view="<unresolved>", method="GET", status="4xx")
    before = _sample("autoservice_http_requests_total", **unrouted)
    client.get(f"/no-such-page-{uuid.uuid4()}/")
    assert _sample("autoservice_http_requests_total", **unrouted) == before + 1


def test_database_work_is_counted_by_view(client, db):
    """The readiness probe asks the database once; its statements and time show by view."""
    labels = dict(view="healthz_ready", outcome="ok")
    before = _sample("autoservice_db_queries_total", **labels)
    observed = _sample("autoservice_db_request_seconds_count", view="healthz_ready")
    queries = []
    from django.db import connection

    with connection.execute_wrapper(
        lambda ex, sql, p, m, c: queries.append(sql) or ex(sql, p, m, c)
    ):
        assert client.get("/healthz/ready").status_code == 200
    assert queries
    assert _sample("autoservice_db_queries_total", **labels) == before + len(queries)
    assert _sample("autoservice_db_request_seconds_count", view="healthz_ready") == observed + 1


def test_metrics_keep_asking_for_the_token(client, db, settings):
    settings.METRICS_TOKEN = "s3cret-metrics"
    assert client.get("/metrics").status_code == 401
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics")
    assert b"autoservice_supplier_answer_seconds" in ok.content


# --- request id and logs -----------------------------------------------------------------


def test_request_id_is_taken_from_the_caller_and_answered_back(client, db):
    response = client.get("/healthz/live", HTTP_X_REQUEST_ID="lb-7f3a9c21-0001")
    assert response["X-Request-ID"] == "lb-7f3a9c21-0001"


@pytest.mark.parametrize(
    "sent", ["", "short", "has spaces in it", "x" * 65, "bad\u00a0id-123456", "<script>1234"]
)
def test_odd_request_id_is_replaced_by_a_new_uuid(client, db, sent):
    response = client.get("/healthz/live", HTTP_X_REQUEST_ID=sent)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_request_context_ends_with_the_request(advisor_client, shop):
    lead = LeadFactory(shop=shop)
    before = log_context()
    with _json_log("tests.observability") as stream:
        response = advisor_client.get(
            reverse("leads:lead_detail", args=[lead.pk]), HTTP_X_REQUEST_ID="lb-7f3a9c21-0002"
        )
        logging.getLogger("tests.observability").info("после запроса")
    assert response.status_code == 200
    # The thread serves the next request: nothing of this one stays behind.
    assert log_context() == before
    assert _lines(stream)[0]["request_id"] == before["request_id"]


def test_json_log_line_parses_with_time_level_logger_and_context():
    with _json_log("tests.observability") as stream, log_scope(request_id="req-12345678"):
        logging.getLogger("tests.observability").info("заявка %s принята", 42)
        try:
            raise ValueError("сломалось")
        except ValueError:
            logging.getLogger("tests.observability").exception("не вышло")
    first, second = _lines(stream)
    assert first["message"] == "заявка 42 принята"
    assert (first["level"], first["logger"]) == ("INFO", "tests.observability")
    assert (first["request_id"], first["shop"], first["lead"]) == ("req-12345678", None, None)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])
    assert "ValueError: сломалось" in second["exc"]


@pytest.mark.django_db(transaction=True)
def test_photo_task_started_by_a_request_logs_with_its_request_id(
    client, shop, platform_consent_text
):
    html = client.get(reverse("photoportal:photo_form", args=[shop.slug])).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    with _json_log("leads.photos") as stream:
        response = client.post(
            reverse("photoportal:photo_upload", args=[shop.slug]),
            {
                "form_token": token,
                "client_id": str(uuid.uuid4()),
                "file": SimpleUploadedFile("bumper.jpg", jpeg_bytes(), "image/jpeg"),
            },
            HTTP_X_REQUEST_ID="driver-req-0001",
        )
    assert response.status_code == 201, response.content
    assert response["X-Request-ID"] == "driver-req-0001"
    photo_id = response.json()["id"]
    # The upload committed, the processing task ran (eagerly here) inside the request.
    made = [
        line for line in _lines(stream) if line["message"] == f"photo {photo_id} renditions made"
    ]
    assert made and made[0]["request_id"] == "driver-req-0001"
    assert made[0]["shop"] == shop.pk


@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)
def test_request_id_travels_in_the_task_headers_to_a_real_worker(shop, start_worker, monkeypatch):
    """The worker is another process: the id can only get there in the message."""
    from leads.tasks import process_photo

    monkeypatch.setenv("LOG_FORMAT", "json")
    photo = LeadPhotoFactory(lead=LeadFactory(shop=shop), state="pending")
    worker = start_worker()
    with log_scope(request_id="driver-req-0002", lead=photo.lead_id):
        process_photo.delay(photo.pk)

    def logged() -> dict | None:
        for line in worker.processes.log("worker").splitlines():
            if line.startswith("{") and f"photo {photo.pk} renditions made" in line:
                return json.loads(line)
        return None

    wait_for(logged, seconds=60, what="the worker processed the photo", context=worker.log)
    line = logged()
    assert line["request_id"] == "driver-req-0002"
    assert (line["shop"], line["lead"]) == (shop.pk, photo.lead_id)
    assert line["logger"] == "leads.photos"


def test_metrics_page_is_valid_prometheus_text(client, db):
    from prometheus_client.parser import text_string_to_metric_families

    client.get("/healthz/live")
    families = {
        family.name: family
        for family in text_string_to_metric_families(client.get("/metrics").content.decode())
    }
    assert families["autoservice_outbox_undelivered"].type == "gauge"
    assert families["autoservice_supplier_answer_seconds"].type == "histogram"
    assert families["autoservice_http_requests"].type == "counter"


@pytest.mark.timeout(120)
def test_multiprocess_mode_adds_up_the_figures_of_every_process(tmp_path):
    """Gunicorn and Celery workers are separate processes: with PROMETHEUS_MULTIPROC_DIR
    each writes its figures there and any web worker's /metrics shows their sum."""
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "autoservice.settings",
    }
    observe = (
        "import django; django.setup(); from autoservice import metrics; "
        "metrics.supplier_answer_seconds.labels(kind='abcp', outcome='ok').observe(0.3)"
    )
    for _worker in range(2):
        subprocess.run([sys.executable, "-c", observe], env=env, check=True, timeout=60)
    scrape = (
        "import django; django.setup(); from autoservice import metrics; "
        "print(metrics.exposition().decode())"
    )
    text = subprocess.run(
        [sys.executable, "-c", scrape], env=env, check=True, timeout=60, capture_output=True
    ).stdout.decode()
    counts = [
        line
        for line in text.splitlines()
        if line.startswith('autoservice_supplier_answer_seconds_count{kind="abcp",outcome="ok"}')
    ]
    assert counts and float(counts[0].rsplit(" ", 1)[1]) == 2.0
