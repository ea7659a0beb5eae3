"""Strict reading of numbers and dates that arrive in a query string or a form.

`str.isdigit()` is true for "²" and "٣", which `int()` then refuses or reads as a number
nobody typed; a year-9999 date with a far offset overflows on its way to UTC. Every
number and date a view takes from the request goes through here, and anything else is a
`ParamError`: Django answers it with 400 (see `autoservice.views.bad_request`), a page with
the message, or `{"error": ...}` for the API and the pages' scripts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext as _

__all__ = [
    "DATE_MAX",
    "DATE_MIN",
    "ID_MAX",
    "ParamError",
    "RefuseNulMiddleware",
    "date_param",
    "datetime_param",
    "id_param",
    "int_param",
]

# PostgreSQL's integer and bigint both take this; a longer number is nobody's id.
ID_MAX = 2**31 - 1
# Dates a repair shop works with; outside them a date is a typo or a probe.
DATE_MIN = dt.date(2000, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)
# Longer than any number or date a person types: refuse it before parsing.
_MAX_CHARS = 40
# An unencoded "+" in a query string arrives as a space: "10:00:00 03:00".
_LOST_PLUS = re.compile(r" (\d{2}(?::?\d{2})?)$")


class ParamError(BadRequest):
    """A query or form value that is not what the page asks for; Django answers 400."""

    def __init__(self, message: str | Promise) -> None:
        super().__init__(str(message))
        self.message = str(message)


def _shown(value: str) -> str:
    return value if len(value) <= _MAX_CHARS else value[:_MAX_CHARS] + "…"


def int_param(
    value: str | None,
    *,
    name: str,
    min: int = 0,  # noqa: A002 - reads as the range it is
    max: int = ID_MAX,  # noqa: A002
    default: int | None = None,
) -> int | None:
    """`value` as an integer in [min, max]; `default` when it is absent or blank.

    Only ASCII digits count: "²", "-1", "1e5", "0x10", a 20-digit number are refused.
    """
    value = (value or "").strip()
    if not value:
        return default
    if not (len(value) <= _MAX_CHARS and value.isascii() and value.isdigit()):
        raise ParamError(
            _("Параметр %(name)s должен быть целым числом, а не «%(value)s».")
            % {"name": name, "value": _shown(value)}
        )
    number = int(value)
    if not min <= number <= max:
        raise ParamError(
            _("Параметр %(name)s должен быть числом от %(min)s до %(max)s, а не %(value)s.")
            % {"name": name, "min": min, "max": max, "value": _shown(value)}
        )
    return number


def id_param(value: str | None, *, name: str) -> int | None:
    """The id of a row named in the query (`?model=12`): a positive database integer."""
    return int_param(value, name=name, min=1, max=ID_MAX)


def date_param(
    value: str | None, *, name: str, min: dt.date = DATE_MIN, max: dt.date = DATE_MAX
) -> dt.date | None:
    """`value` as a date `YYYY-MM-DD` in [min, max]; None when absent."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = parse_date(value) if len(value) <= _MAX_CHARS and value.isascii() else None
    except ValueError:
        day = None
    if day is None or not min <= day <= max:
        raise ParamError(
            _("Параметр %(name)s — дата вида 2026-03-01 между %(min)s и %(max)s, а не «%(value)s».")
            % {"name": name, "min": min.isoformat(), "max": max.isoformat(), "value": _shown(value)}
        )
    return day


PG_MAX_OFFSET = dt.timedelta(hours=16)


def datetime_param(
    value: str | None,
    *,
    name: str,
    tz: dt.tzinfo,
    min: dt.date = DATE_MIN,
    max: dt.date = DATE_MAX,
) -> dt.datetime | None:
    """`value` as an aware moment (ISO 8601; a date alone is its midnight in `tz`).

    A naive moment is read in `tz`. The moment must fall within [min, max] in UTC, which also
    keeps `9999-12-31T23:59:59-23:59` from overflowing on its way to the database.
    """
    value = (value or "").strip()
    if not value:
        return None
    value = _LOST_PLUS.sub(r"+\1", value)
    moment: dt.datetime | None = None
    if len(value) <= _MAX_CHARS and value.isascii():
        try:
            moment = parse_datetime(value)
            if moment is None and (day := parse_date(value)) is not None:
                moment = dt.datetime.combine(day, dt.time())
            if moment is not None:
                if timezone.is_naive(moment):
                    moment = timezone.make_aware(moment, tz)
                if not min <= moment.astimezone(dt.UTC).date() <= max:
                    moment = None
        except (ValueError, OverflowError):
            moment = None
    if moment is None:
        raise ParamError(
            _(
                "Параметр %(name)s — дата и время в ISO 8601 между %(min)s и %(max)s, "
                "например 2026-03-01T09:00:00+03:00, а не «%(value)s»."
            )
            % {"name": name, "min": min.isoformat(), "max": max.isoformat(), "value": _shown(value)}
        )
    # ISO 8601 allows offsets up to ±23:59, PostgreSQL only to ±15:59: such a moment is handed
    # on in `tz` (the same moment).
    if abs(moment.utcoffset() or dt.timedelta(0)) >= PG_MAX_OFFSET:
        moment = moment.astimezone(tz)
    return moment


def streams_uploads(view: Callable) -> Callable:
    """Marks a view that installs its own streaming, capped upload handler before it reads
    the body: RefuseNulMiddleware then leaves its body alone (reading it first would parse
    every upload with the default handlers, and Django refuses a handler installed after).
    Such views read their text fields through forms, whose CharFields refuse NUL themselves."""
    view.streams_uploads = True  # type: ignore[attr-defined]
    return view


class RefuseNulMiddleware:
    """A query or form value with a NUL character is refused with 400 before any view runs:
    PostgreSQL cannot store it, and no person types it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        sources = [request.GET]
        form = request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        )
        # Reading the body of a streaming view here, even a body without files, would stop
        # it from installing its upload handler.
        if form and not getattr(view_func, "streams_uploads", False):
            sources.append(request.POST)
        for source in sources:
            for key, values in source.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    raise ParamError(
                        _("В запросе есть недопустимый символ (NUL): проверьте, что вставили.")
                    )
        return None
