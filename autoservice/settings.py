"""Settings of the repair-shop front desk, read from the environment.

Nothing set means the embedded default: SQLite under var/, Celery tasks run inline,
e-mail printed to the console. Every variable is listed in README.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envstr(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "")
    if value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (envstr(name, default) or "").split(",") if item.strip()]


def required(name: str) -> str:
    """A secret that production cannot run without: refuse to start, naming it."""
    value = envstr(name)
    if not value:
        raise ImproperlyConfigured(
            f"Не задана переменная окружения {name}: без неё сервис не запускается "
            f"в рабочем режиме (DEBUG=false). / Environment variable {name} is required "
            f"when DEBUG is off."
        )
    return value


# Production unless told otherwise: `make run`, `make test` and `make bench` say DEBUG=true;
# a deployment that forgets the variable gets production settings and its safety checks.
DEBUG = envbool("DEBUG", False)
# Signs only on a developer's machine: refused whenever DEBUG is off, even if set explicitly.
DEVELOPMENT_SECRET_KEY = "embedded-default-key-used-only-with-debug-on-" + "x" * 20

if DEBUG:
    SECRET_KEY = envstr("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
else:
    SECRET_KEY = required("SECRET_KEY")
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "SECRET_KEY: встроенный ключ разработки или ключ короче 32 символов в рабочем "
            "режиме не допускается. / SECRET_KEY must be your own, at least 32 characters."
        )
    ALLOWED_HOSTS = envlist("ALLOWED_HOSTS") or required("ALLOWED_HOSTS").split(",")

# Keys that encrypt suppliers' passwords and API keys at rest (autoservice/crypto.py):
# comma-separated Fernet keys, newest first. With DEBUG on and none set, a key derived from
# SECRET_KEY is used: development only (it is as secret as SECRET_KEY and changes with it).
FIELD_ENCRYPTION_KEYS = envlist("FIELD_ENCRYPTION_KEYS") or (
    [] if DEBUG else [required("FIELD_ENCRYPTION_KEYS")]
)
FIELD_ENCRYPTION_DEVELOPMENT_KEY = DEBUG and not FIELD_ENCRYPTION_KEYS

SITE_URL = (envstr("SITE_URL", "http://127.0.0.1:8000") or "").rstrip("/")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
# Requests the server makes on a user's behalf (supplier APIs, price lists: autoservice/
# outbound.py) never reach internal addresses, nor plain http with DEBUG off; the hosts
# listed here ("host" or "host:port", comma-separated) are let through all the same: the demo
# suppliers on 127.0.0.1 for `make run`, the tests' servers. Empty in production.
OUTBOUND_ALLOWED_HOSTS = envlist("OUTBOUND_ALLOWED_HOSTS")
# The longest wait for one DNS look-up of such a request (the system resolver has no limit).
OUTBOUND_DNS_TIMEOUT_S = envint("OUTBOUND_DNS_TIMEOUT_SECONDS", 5)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "bootstrap",
    "axes",
    "autoservice",
    "customers",
    "leads",
    "booking",
    "photoportal",
    "smartcalc",
    "optima",
    "intake",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "crm",
    "webhooks",
    "analytics",
    "sms",
    "messengers",
    "campaigns",
]

MIDDLEWARE = [
    # First: every later log line of a request carries its X-Request-ID, and the request
    # figures of /metrics time the whole chain.
    "autoservice.logcontext.RequestIdMiddleware",
    "autoservice.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A NUL in a query or form value is a 400 here, not a database error in a view.
    "autoservice.params.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "autoservice.tenancy.ShopMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so that a locked-out login answers before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "autoservice.urls"
WSGI_APPLICATION = "autoservice.wsgi.application"
ASGI_APPLICATION = "autoservice.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "autoservice.tenancy.shop_context",
                "crm.context_processors.crm_alerts",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL points elsewhere (PostgreSQL in production).
VAR_DIR = Path(envstr("VAR_DIR", str(BASE_DIR / "var")))
DATABASE_URL = envstr("DATABASE_URL")
if not DEBUG and not DATABASE_URL:
    required("DATABASE_URL")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        # Persistent connections in production; health checks drop dead ones.
        conn_max_age=envint("DB_CONN_MAX_AGE", 0 if DEBUG else 600),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: broker, result backend and cache. Without it tasks run inline and the cache is local.
REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Live push to open staff pages (autoservice/push.py): Server-Sent Events served by the
# `events` process (uvicorn) under this URL prefix, fanned out through Redis. Empty, or no
# Redis, and the pages poll every 10 s as before.
EVENTS_URL_PREFIX = os.environ.get("EVENTS_URL_PREFIX", "/events/")
EVENTS_HEARTBEAT_SECONDS = envint("EVENTS_HEARTBEAT_SECONDS", 15)
EVENTS_MAX_PER_USER = envint("EVENTS_MAX_PER_USER", 8)
if EVENTS_HEARTBEAT_SECONDS < 1 or EVENTS_MAX_PER_USER < 1:
    raise ImproperlyConfigured("EVENTS_HEARTBEAT_SECONDS and EVENTS_MAX_PER_USER must be ≥ 1")

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Each task of the project sets its own time_limit and a smaller soft_time_limit; this hard
# limit is only a ceiling for a task that forgets. There is deliberately no global soft
# limit: one above a task's own hard limit makes Celery refuse to send that task.
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Europe/Moscow"
# Publishing must never hang a web request when Redis is down or silent: short socket
# timeouts and at most one quick retry, then the caller gets an error (the outbox keeps
# anything that matters and re-dispatches it later).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With acks_late, a task whose worker died (kill -9, lost machine) is given to another worker
# once it has been unacknowledged for visibility_timeout. Redis's default is an hour; ours is
# just above the longest hard time limit of any task (optima.tasks.refresh_pricelists, 600 s),
# so a living worker is never doubled and lost work returns within 15 minutes. The outbox does
# not wait for this: its rows carry their own lease (OUTBOX_LEASE_SECONDS).
CELERY_VISIBILITY_TIMEOUT_SECONDS = 900
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# Queues by kind, so that a slow kind never holds up another: a driver's new-lead e-mail is
# not stuck behind a hundred photos or a supplier that hangs. Every project task is named
# here (tests/autoservice/test_celery_tasks.py fails on one that is not); the Procfile starts
# one worker per queue. Time limits stay per task; every notification task ends within 60 s,
# so a hung CRM or gateway frees its slot quickly. Eager mode (make run) ignores queues.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_QUEUE_NAMES = ("notifications", "photos", "suppliers", "exports", "default")
_TASK_QUEUES = {
    "notifications": (
        "autoservice.tasks.outbox_deliver",
        # The re-dispatchers of notifications wait in line with them, not behind exports.
        "autoservice.tasks.outbox_dispatch",
        "webhooks.tasks.webhook_deliver",
        "webhooks.tasks.webhooks_dispatch",
    ),
    "photos": (
        "leads.tasks.process_photo",
        "leads.tasks.process_stuck_photos",
    ),
    "suppliers": (
        "optima.tasks.run_search",
        "optima.tasks.recheck_offer",
        "optima.tasks.place_supplier_orders",
        "optima.tasks.poll_supplier_orders",
        "optima.tasks.refresh_live_prices",
        "optima.tasks.refresh_pricelists",
    ),
    "exports": (
        "analytics.tasks.refresh_facts",
        "analytics.tasks.weekly_summary",
        "autoservice.tasks.personal_data_retention",
        "autoservice.tasks.personal_data_withdrawn_consents",
        "autoservice.tasks.access_log_prune",
        "leads.tasks.purge_abandoned_uploads",
        "intake.tasks.seal_digest_daily",
    ),
    # Housekeeping: polls and scans that put their messages in the outbox. The heartbeat is
    # here, on a worker no long export can occupy.
    "default": (
        "autoservice.tasks.worker_heartbeat",
        "leads.tasks.escalate_overdue_leads",
        "booking.tasks.remind_bookings",
        "sms.tasks.sms_status_poll",
        "campaigns.tasks.send_due_reminders",
        "messengers.tasks.messengers_poll",
        "webhooks.tasks.webhooks_prune",
    ),
}
CELERY_TASK_ROUTES = {
    name: {"queue": queue} for queue, names in _TASK_QUEUES.items() for name in names
}
from celery.schedules import crontab as _crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "autoservice.tasks.worker_heartbeat", "schedule": 30.0},
    "outbox-dispatch": {"task": "autoservice.tasks.outbox_dispatch", "schedule": 15.0},
    # Webhook retries whose time has come, and deliveries whose worker vanished.
    "webhooks-dispatch": {
        "task": "webhooks.tasks.webhooks_dispatch",
        "schedule": envint("WEBHOOK_DISPATCH_SECONDS", 5) * 1.0,
    },
    "webhooks-prune": {
        "task": "webhooks.tasks.webhooks_prune",
        "schedule": _crontab(hour=4, minute=10),
    },
    # SMS delivery reports from the gateway, shown on the lead's timeline.
    "sms-status-poll": {"task": "sms.tasks.sms_status_poll", "schedule": 60.0},
    # Reminders to drivers (maintenance, season, mileage...): hourly, each shop from its own
    # local CAMPAIGN_REMINDER_HOUR; a reminder is sent once per rule and due date.
    "campaigns-send-due-reminders": {
        "task": "campaigns.tasks.send_due_reminders",
        "schedule": _crontab(minute=7),
    },
    # Link codes staff send to the shop's Telegram / MAX bots.
    "messengers-poll": {"task": "messengers.tasks.messengers_poll", "schedule": 10.0},
    "leads-escalate-overdue": {"task": "leads.tasks.escalate_overdue_leads", "schedule": 60.0},
    # Reminder e-mails for visits starting within a day.
    "booking-remind": {"task": "booking.tasks.remind_bookings", "schedule": 600.0},
    "leads-process-stuck-photos": {
        "task": "leads.tasks.process_stuck_photos",
        "schedule": 60.0,
    },
    "optima-refresh-pricelists": {
        "task": "optima.tasks.refresh_pricelists",
        "schedule": 6 * 3600.0,
    },
    # The calculator's supplier prices (opted-in shops): at most a day old when shown.
    "optima-refresh-live-prices": {
        "task": "optima.tasks.refresh_live_prices",
        "schedule": _crontab(hour=4, minute=20),
    },
    "optima-poll-supplier-orders": {
        "task": "optima.tasks.poll_supplier_orders",
        "schedule": envint("SUPPLIER_ORDER_POLL_SECONDS", 60) * 1.0,
    },
    "leads-purge-abandoned-uploads": {
        "task": "leads.tasks.purge_abandoned_uploads",
        "schedule": 3600.0,
    },
    # The audit log of access to personal data keeps ACCESS_LOG_RETENTION_DAYS.
    "autoservice-access-log-prune": {
        "task": "autoservice.tasks.access_log_prune",
        "schedule": _crontab(hour=3, minute=40),
    },
    # Personal data past its shop's retention period, and the login logs, destroyed nightly.
    "personal-data-retention": {
        "task": "autoservice.tasks.personal_data_retention",
        "schedule": _crontab(hour=3, minute=30),
    },
    # Consent withdrawn: erased at the next run (the law allows 30 days).
    "personal-data-withdrawn-consents": {
        "task": "autoservice.tasks.personal_data_withdrawn_consents",
        "schedule": 15 * 60.0,
    },
    # Every morning the shops' managers get the current head of their chain of seals.
    "intake-seal-digest": {
        "task": "intake.tasks.seal_digest_daily",
        "schedule": _crontab(hour=7, minute=0),
    },
    # The analytics rollups follow what changed since their previous run.
    "analytics-refresh": {"task": "analytics.tasks.refresh_facts", "schedule": 10 * 60.0},
    # Monday morning: the managers' weekly summary with its small chart.
    "analytics-weekly-summary": {
        "task": "analytics.tasks.weekly_summary",
        "schedule": _crontab(hour=8, minute=0, day_of_week=1),
    },
}
WORKER_HEARTBEAT_MAX_AGE_SECONDS = 120
# The shop's local hour from which the day's reminders to drivers go out (not at night).
CAMPAIGN_REMINDER_HOUR = envint("CAMPAIGN_REMINDER_HOUR", 10)
# How long the audit log of staff access to personal data is kept (152-FZ), in days.
ACCESS_LOG_RETENTION_DAYS = envint("ACCESS_LOG_RETENTION_DAYS", 365)
# Staff login records (django-axes) are destroyed after this many days.
LOGIN_LOG_RETENTION_DAYS = envint("LOGIN_LOG_RETENTION_DAYS", 183)
# A claimed outbox row belongs to its worker this long (more than outbox_deliver's 40 s hard
# limit); after it, the dispatcher gives the row to another worker.
OUTBOX_LEASE_SECONDS = 60
# The messengers' bot APIs (tests point them at local fakes).
TELEGRAM_API_BASE = (envstr("TELEGRAM_API_BASE", "https://api.telegram.org") or "").rstrip("/")
MAX_API_BASE = (envstr("MAX_API_BASE", "https://platform-api.max.ru") or "").rstrip("/")
# An undelivered notification older than this makes /healthz/ready answer 503 and shows the
# shop's staff a banner.
OUTBOX_ALERT_SECONDS = envint("OUTBOX_ALERT_SECONDS", 300)
# The longest wait for one call to a shop's CRM (Bitrix24, amoCRM); a slower CRM is retried
# through the outbox. Less than outbox_deliver's time limit.
CRM_TIMEOUT_SECONDS = envint("CRM_TIMEOUT_SECONDS", 10)
# The SMS gateways (sms app); the addresses change only for tests and staging.
SMS_TIMEOUT_SECONDS = envint("SMS_TIMEOUT_SECONDS", 10)
SMSRU_BASE_URL = envstr("SMSRU_BASE_URL", "https://sms.ru")
SMSC_BASE_URL = envstr("SMSC_BASE_URL", "https://smsc.ru")
# Webhooks: the waits between attempts (Standard Webhooks' schedule, 37.6 h in all; ±10 %
# jitter), the time limit of one attempt, and a worker's lease on a delivery.
try:
    WEBHOOK_RETRY_DELAYS_SECONDS = [
        float(s)
        for s in envlist("WEBHOOK_RETRY_DELAYS_SECONDS", "5,300,1800,7200,18000,36000,36000,36000")
    ]
except ValueError:
    raise ImproperlyConfigured(
        "WEBHOOK_RETRY_DELAYS_SECONDS must be comma-separated seconds, e.g. 5,300,1800"
    ) from None
if not WEBHOOK_RETRY_DELAYS_SECONDS:
    raise ImproperlyConfigured("WEBHOOK_RETRY_DELAYS_SECONDS needs at least one delay")
WEBHOOK_TIMEOUT_SECONDS = envint("WEBHOOK_TIMEOUT_SECONDS", 15)
WEBHOOK_LEASE_SECONDS = 60
WEBHOOK_LOG_RETENTION_DAYS = envint("WEBHOOK_LOG_RETENTION_DAYS", 30)
# `make loadtest` only: routes autoservice/ceiling.py, the bare get-by-primary-key page its
# figures are compared with. Off everywhere else.
LOADTEST_CEILING_VIEW = envbool("LOADTEST_CEILING_VIEW", False)
# /metrics asks for this bearer token when it is set.
METRICS_TOKEN = envstr("METRICS_TOKEN", "")
# Errors go to Sentry only when a DSN is set (autoservice/sentry.py scrubs phones and
# e-mails); PROMETHEUS_MULTIPROC_DIR (read by prometheus_client itself) adds up the figures
# of all web and Celery worker processes (autoservice/metrics.py).
SENTRY_DSN = envstr("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = envstr("SENTRY_ENVIRONMENT", "development" if DEBUG else "production")
try:
    SENTRY_TRACES_SAMPLE_RATE = float(envstr("SENTRY_TRACES_SAMPLE_RATE", "0") or 0)
except ValueError:
    raise ImproperlyConfigured("SENTRY_TRACES_SAMPLE_RATE must be a number from 0 to 1") from None
if SENTRY_DSN:
    from autoservice.sentry import sentry_init  # noqa: E402

    sentry_init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "leads:inbox"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: after AXES_FAILURE_LIMIT wrong passwords for one account (from any
# addresses), or from one address (for any accounts), that account, or that address, is
# locked for AXES_COOLOFF_MINUTES. Separate list entries mean "either locks" (axes 8); a
# [username, ip_address] pair would let one address try every account, and a botnet one.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envint("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "autoservice.lockout.axes_username"
# Password-reset links, and the invitations built on them, work for 24 hours.
PASSWORD_RESET_TIMEOUT = envint("PASSWORD_RESET_TIMEOUT_SECONDS", 24 * 60 * 60)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = envint("PROXY_COUNT", 0) or None

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Every stored file (photos, renditions, signatures) goes through Django's storage API:
# STORAGE=local (the embedded default) keeps them in MEDIA_ROOT; STORAGE=s3 puts them in a
# private bucket of any S3-compatible service (Yandex Object Storage, VK Cloud, Selectel).
STORAGE = envstr("STORAGE", "local")
# How long a presigned link to a private object works (the permission-checked views answer
# with a 302 to it): short, so a copied link dies soon.
MEDIA_PRESIGNED_SECONDS = envint("MEDIA_PRESIGNED_SECONDS", 300)
# With local storage behind nginx: the permission-checked views answer X-Accel-Redirect to
# this prefix + the file's name, nginx serves the file from an `internal` location (empty:
# the app streams the file itself).
MEDIA_X_ACCEL_PREFIX = envstr("MEDIA_X_ACCEL_PREFIX", "")
if STORAGE == "s3":
    _default_storage = {
        "BACKEND": "autoservice.storage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": required("S3_BUCKET"),
            "endpoint_url": envstr("S3_ENDPOINT_URL"),
            "region_name": envstr("S3_REGION", "ru-central1"),
            "access_key": required("S3_ACCESS_KEY_ID"),
            "secret_key": required("S3_SECRET_ACCESS_KEY"),
            "querystring_expire": MEDIA_PRESIGNED_SECONDS,
        },
    }
elif STORAGE == "local":
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured(f"STORAGE must be local or s3, not {STORAGE!r}")
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Media are private (drivers' photos): never served from a public URL, only through
# permission-checked views.
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-public/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 5_242_880
FILE_UPLOAD_PERMISSIONS = 0o640
PHOTO_MAX_BYTES = envint("PHOTO_MAX_MB", 20) * 1024 * 1024
# An upload's size once decoded (width x height x bytes per pixel), judged from its header:
# 160 MiB lets a 48 MP 8-bit RGB photo (137 MiB) in and keeps a 49 MP 16-bit RGBA PNG
# (374 MiB) out. Uploads per address and hour, shared by every upload path of a form.
PHOTO_MAX_DECODED_BYTES = envint("PHOTO_MAX_DECODED_MB", 160) * 1024 * 1024
PHOTO_UPLOADS_PER_HOUR_PER_ADDRESS = envint("PHOTO_UPLOADS_PER_HOUR_PER_ADDRESS", 300)

# Drivers' public pages (photo form, calculator estimate, offer) served from the cache for at
# most this many seconds (autoservice/pagecache.py); a change through the ORM shows at once.
# 0 renders every page anew.
PAGE_CACHE_SECONDS = envint("PAGE_CACHE_SECONDS", 300)


# Intake seals. INTAKE_SEAL_KEYS: "id:secret,id:secret", newest first; the first key seals,
# every listed key verifies (rotate by adding the new key in front, keep the old ones).
# With DEBUG on and no keys, a key derived from SECRET_KEY is used: for development only.
# INTAKE_SEAL_LOG: the write-once log where every seal is published (appended, never rewritten).
def _seal_keys(raw: str) -> list[tuple[str, str]]:
    keys = []
    for item in raw.split(","):
        key_id, _colon, secret = item.strip().partition(":")
        if not key_id or len(secret) < 32 or not key_id.replace("-", "").isalnum():
            raise ImproperlyConfigured(
                "INTAKE_SEAL_KEYS: ожидается «id:секрет,...» (id из букв и цифр, секрет не "
                "короче 32 символов). / Expected id:secret pairs, secrets of 32+ characters."
            )
        keys.append((key_id, secret))
    if len({key_id for key_id, _secret in keys}) != len(keys):
        raise ImproperlyConfigured("INTAKE_SEAL_KEYS: id ключей повторяются. / Duplicate key ids.")
    return keys


if envstr("INTAKE_SEAL_KEYS") or not DEBUG:
    INTAKE_SEAL_KEYS = _seal_keys(required("INTAKE_SEAL_KEYS"))
else:
    import hashlib as _hashlib

    INTAKE_SEAL_KEYS = [
        ("dev", _hashlib.sha256(f"intake-seal-dev-only|{SECRET_KEY}".encode()).hexdigest())
    ]
# With two or more web nodes: INTAKE_SEAL_LOG=s3://bucket/prefix, a bucket of the S3 service
# (S3_ENDPOINT_URL, S3_REGION) created with Object Lock, every seal an object created once
# (autoservice/objectlog.py), locked for INTAKE_SEAL_LOG_RETENTION_DAYS in COMPLIANCE mode.
# Its keys: INTAKE_SEAL_LOG_S3_ACCESS_KEY_ID/..._SECRET_ACCESS_KEY (a key that may only put
# and read there), else the S3_ keys of the stored files.
INTAKE_SEAL_LOG: Path | str = envstr("INTAKE_SEAL_LOG", str(VAR_DIR / "intake-seal-log.txt"))
INTAKE_SEAL_LOG_RETENTION_DAYS = envint("INTAKE_SEAL_LOG_RETENTION_DAYS", 0)
INTAKE_SEAL_LOG_S3: dict = {}
if INTAKE_SEAL_LOG.startswith("s3://"):
    if not INTAKE_SEAL_LOG[len("s3://") :].partition("/")[0]:
        raise ImproperlyConfigured(
            "INTAKE_SEAL_LOG: ожидается s3://бакет/префикс. / Expected s3://bucket/prefix."
        )
    INTAKE_SEAL_LOG_S3 = {
        "endpoint_url": envstr("S3_ENDPOINT_URL"),
        "region_name": envstr("S3_REGION", "ru-central1"),
        "access_key": envstr("INTAKE_SEAL_LOG_S3_ACCESS_KEY_ID") or required("S3_ACCESS_KEY_ID"),
        "secret_key": envstr("INTAKE_SEAL_LOG_S3_SECRET_ACCESS_KEY")
        or required("S3_SECRET_ACCESS_KEY"),
    }
else:
    INTAKE_SEAL_LOG = Path(INTAKE_SEAL_LOG)
if INTAKE_SEAL_LOG_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("INTAKE_SEAL_LOG_RETENTION_DAYS must be 0 or more days")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = envstr("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Автосервис <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", True)
    # Off only for `make run-full`, which serves production settings over plain HTTP on
    # this machine.
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = envbool("SECURE_COOKIES", True)

# Plain text for people (`make run`), or one JSON object a line for a log collector; both
# carry the request id (autoservice/logcontext.py).
LOG_FORMAT = envstr("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "autoservice.logcontext.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "autoservice.logcontext.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "ERROR"},
    },
}

# REST API v1 (api/): token authentication only, problem details for every error, a request
# budget per token and minute kept in the default (Redis) cache.
API_RATE_PER_MINUTE = envint("API_RATE_PER_MINUTE", 120)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.auth.PerTokenThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ProblemAutoSchema",
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "UNICODE_JSON": True,
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API цифровой стойки автосервиса",
    "DESCRIPTION": (
        "Заявки, расчёты, предложения и акты приёмки автосервиса для его CRM. Доступ по токену "
        "(`Authorization: Bearer sto_…`), который руководитель выпускает в настройках. "
        "Ошибки — RFC 9457 (`application/problem+json`)."
    ),
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LeadChannelEnum": "leads.models.Channel",
        "NewLeadChannelEnum": "api.serializers.API_CHANNEL_CHOICES",
        "LeadStatusEnum": "leads.models.Status",
        "OfferStatusEnum": "optima.models.OfferStatus",
        "SupplierOrderStatusEnum": "optima.ordering_models.OrderStatus",
        "SupplierOrderLineStatusEnum": "optima.ordering_models.OrderLineStatus",
    },
    "SCHEMA_PATH_PREFIX": "/api/v1",
}
