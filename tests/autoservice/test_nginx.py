"""The nginx configuration of deploy/nginx/ as an admin installs it passes `nginx -t`, and its
limits follow the product's settings. (It runs in front of two nodes in test_two_nodes.py.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from django.conf import settings

from leads.photos import MAX_FILES_PER_POST
from tests.nginxstack import DEPLOY, nginx_check, render_loopback, render_production_for_check

MB = 1024 * 1024


def test_production_config_passes_nginx_t(tmp_path):
    result = nginx_check(render_production_for_check(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_loopback_config_passes_nginx_t(tmp_path):
    conf = render_loopback(
        tmp_path / "nginx",
        port=8841,
        nodes=[8842, 8843],
        var_dir=tmp_path,
        media_root=tmp_path / "media",
        pinned={8842: 8844},
    )
    result = nginx_check(conf)
    assert result.returncode == 0, result.stderr


def _body_limits() -> dict[str, int]:
    """client_max_body_size of the server and of each location that sets its own, in bytes."""
    text = (DEPLOY / "nginx" / "autoservice-locations.conf").read_text()
    limits, where = {}, "server"
    for line in text.splitlines():
        opened = re.match(r"\s*location\s+(.+?)\s*\{", line)
        if opened:
            where = opened.group(1)
        elif line.strip() == "}":
            where = "server"
        size = re.match(r"\s*client_max_body_size\s+(\d+)m;", line)
        if size:
            limits[where] = int(size.group(1)) * MB
    return limits


def test_body_limits_let_the_largest_allowed_upload_through_and_little_more():
    limits = _body_limits()
    one_photo = settings.PHOTO_MAX_BYTES
    # One photo per request (the form's script, intake shots): the photo plus form fields.
    assert one_photo < limits["server"] <= one_photo + 2 * MB
    # The no-script form: every photo a request may hold.
    form = limits["~ ^/s/[^/]+/photo/$"]
    assert MAX_FILES_PER_POST * one_photo < form <= MAX_FILES_PER_POST * one_photo + 2 * MB


def test_production_settings_keep_sessions_cache_and_lockouts_off_the_nodes_disk(tmp_path):
    """With production settings nothing a second node needs lives on one node's disk."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "REDIS_"))},
        "DEBUG": "false",
        "SECRET_KEY": "k" * 50,
        "ALLOWED_HOSTS": "sto.example.ru",
        "FIELD_ENCRYPTION_KEYS": "x" * 43 + "=",
        "INTAKE_SEAL_KEYS": "prod1:" + "s" * 40,
        "DATABASE_URL": "postgres://u@db.example.ru:5432/autoservice",
        "REDIS_URL": "redis://redis.example.ru:6379/0",
        "VAR_DIR": str(tmp_path / "var"),
    }
    probe = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "from axes.conf import settings as a; "
        "print(json.dumps([s.SESSION_ENGINE, s.CACHES['default']['BACKEND'], "
        "a.AXES_HANDLER, s.CELERY_BROKER_URL, s.CELERY_TASK_ALWAYS_EAGER, "
        "s.DATABASES['default']['ENGINE']]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={**env, "DJANGO_SETTINGS_MODULE": "autoservice.settings"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '["django.contrib.sessions.backends.db", '
        '"django.core.cache.backends.redis.RedisCache", '
        '"axes.handlers.database.AxesDatabaseHandler", '
        '"redis://redis.example.ru:6379/0", false, "django.db.backends.postgresql"]'
    )
