"""Who a log line is about: the request id, the shop and the lead, on every record.

A request gets an id (`X-Request-ID`: the caller's when it is a sane one, else a new uuid4),
answered in the response header and kept in a context variable with the shop and the lead
as the view learns them. Tasks queued while the request runs carry the three in their
message headers, and the worker puts them back around the task, so the photo processing and
the outbox delivery a driver's request started log with that request's id.

`LOG_FORMAT=json` writes one JSON object a line (time, level, logger, message, request_id,
shop, lead, and the traceback as `exc`) for a log collector; the default is plain text.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest, HttpResponse

FIELDS = ("request_id", "shop", "lead")
HEADER_PREFIX = "autoservice_"
# A caller's id is accepted when it is short and plain: it goes into every log line.
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "autoservice_log_context", default=None
)


def log_context() -> dict[str, Any]:
    """The current request id, shop and lead (each may be None)."""
    current = _context.get() or {}
    return {name: current.get(name) for name in FIELDS}


def log_bind(**values: Any) -> None:
    """Add the shop or the lead to the current context, once a view or task knows them."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown log context fields: {sorted(unknown)}")
    _context.set({**(_context.get() or {}), **values})


@contextmanager
def log_bound(**values: Any) -> Iterator[None]:
    """`log_bind` for a block of work called from anywhere (a task, a command, a test):
    what it adds is gone when the block ends."""
    token = _context.set({**(_context.get() or {}), **values})
    try:
        yield
    finally:
        _context.reset(token)


@contextmanager
def log_scope(**values: Any) -> Iterator[None]:
    """A fresh context for one request or task, forgotten when it ends (threads are reused)."""
    token = _context.set({name: values.get(name) for name in FIELDS})
    try:
        yield
    finally:
        _context.reset(token)


def request_id_from(value: str | None) -> str:
    value = (value or "").strip()
    return value if _VALID_ID.fullmatch(value) else uuid.uuid4().hex


class RequestIdMiddleware:
    """First in the chain, so every later log line of the request carries its id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get("X-Request-ID"))
        request.request_id = request_id  # type: ignore[attr-defined]
        with log_scope(request_id=request_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response

    def process_view(
        self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict[str, Any]
    ) -> None:
        # Staff and driver pages of one lead name it in the address; no query needed.
        lead = kwargs.get("lead_id")
        if isinstance(lead, int):
            log_bind(lead=lead)


class ContextFilter(logging.Filter):
    """Puts request_id, shop and lead on every record (None outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in log_context().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = log_context()
        for name in FIELDS:
            line[name] = getattr(record, name, context[name])
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


# --- Celery: the context travels in the task message's headers -------------------------


def celery_headers_add(headers: dict[str, Any] | None, **_: Any) -> None:
    """before_task_publish: write the publisher's context into the message."""
    if headers is None:
        return
    for name, value in log_context().items():
        if value is not None:
            headers.setdefault(HEADER_PREFIX + name, value)


def _header(task: Any, name: str) -> Any:
    request = task.request
    value = getattr(request, HEADER_PREFIX + name, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(HEADER_PREFIX + name)
    return value


_task_tokens: dict[str, contextvars.Token] = {}


def celery_task_enter(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """task_prerun: the task logs with the context it was queued in. An eager task runs
    inside the caller's context already and keeps it."""
    if task is None or task.request.is_eager:
        return
    values = {name: _header(task, name) for name in FIELDS}
    _task_tokens[task_id or ""] = _context.set(values)


def celery_task_leave(task_id: str | None = None, **_: Any) -> None:
    token = _task_tokens.pop(task_id or "", None)
    if token is not None:
        _context.reset(token)


def celery_logging_setup(logger: logging.Logger, json_format: bool) -> None:
    """after_setup_logger / after_setup_task_logger: Celery installs its own handlers on
    the worker; they get the context filter, and the JSON format when asked for."""
    for handler in logger.handlers:
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
        if json_format:
            handler.setFormatter(JsonFormatter())
