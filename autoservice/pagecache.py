"""Drivers' public pages from the cache: the photo form, the calculator's estimate and the
offer are the same HTML for every driver until something they show changes, so they are
rendered once and served from Redis (the shared cache of every web node).

What a page shows is named by its key:

- the shop's row as the request read it, and the parts the view passes (the offer version
  and its status, the damages picked, today's date where the page depends on it);
- the shop's data version and the platform's: counters bumped after the commit of any change
  to a model registered with `bump_on_change` (labour rates, the shop's price list, the
  consent text, the norms and reference prices, supplier prices...);
- the language, whether htmx asked, and the release (a hash of the code, templates,
  translations and the static manifest), so a deploy never serves an older page.

What differs per request (the form token, the CSRF token) is rendered as a placeholder and
put in when the page is served. Only anonymous visits without pending messages are cached;
the rest render as before. Entries live PAGE_CACHE_SECONDS (300) at most: a change made
around the ORM (a bulk UPDATE) shows within that time.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.html import escape
from django.utils.translation import get_language

from . import metrics

# Rendered where the page's per-request values go; no template or data contains them.
FORM_TOKEN = "\u2063pagecache-form-token\u2063"
CSRF_TOKEN = "\u2063pagecache-csrf-token\u2063"

_PLATFORM = "all"
log = logging.getLogger(__name__)
_RELEASE_SUFFIXES = (".py", ".html", ".mo", ".js", ".css", ".json")


@functools.cache
def release() -> str:
    """The running code's fingerprint: every source, template and translation file of the
    project and the static manifest (hashed names of static files)."""
    digest = hashlib.sha256()
    base = Path(settings.BASE_DIR)
    skip = {".venv", "var", "tests", "benchmarks", "loadtest", "node_modules", ".git"}
    files = []
    for folder, subfolders, names in os.walk(base):
        subfolders[:] = sorted(d for d in subfolders if d not in skip and not d.startswith("."))
        files += [Path(folder, name) for name in sorted(names) if name.endswith(_RELEASE_SUFFIXES)]
    for path in [*files, Path(settings.STATIC_ROOT) / "staticfiles.json"]:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _version_key(scope: int | str) -> str:
    return f"pagecache:v:{connection.settings_dict['NAME']}:{scope}"


def _version_keys(shop_id: int) -> list[str]:
    return [_version_key(_PLATFORM), _version_key(shop_id)]


def data_versions(shop_id: int) -> tuple[int, int]:
    """(the platform's version, the shop's version): one round trip to the cache."""
    keys = _version_keys(shop_id)
    found = cache.get_many(keys)
    return found.get(keys[0], 0), found.get(keys[1], 0)


def _bump(key: str) -> None:
    try:
        try:
            cache.incr(key)
        except ValueError:  # not there yet (or evicted): any new value differs
            cache.set(key, 1, timeout=None)
    except Exception:  # the cache is away: its pages expire within PAGE_CACHE_SECONDS
        log.warning("page cache: version of %s not bumped", key, exc_info=True)


def version_bump(shop_id: int | None) -> None:
    """The shop's pages (every shop's when None) render anew: at once, so that the request
    making the change sees it, and again after the commit, so that a page another driver
    rendered from the data before the commit is never served after it.

    The bump after the commit is waited for once per key and transaction: a search that
    saves a hundred supplier prices leaves one callback, not a hundred. What already waits
    is read from the connection's own list, which a rollback empties with the change."""
    key = _version_key(_PLATFORM if shop_id is None else shop_id)
    _bump(key)
    waiting = connection.in_atomic_block and any(
        getattr(func, "pagecache_key", None) == key
        for _sids, func, _robust in connection.run_on_commit
    )
    if not waiting:
        after_commit = functools.partial(_bump, key)
        after_commit.pagecache_key = key
        transaction.on_commit(after_commit)


def bump_on_change(
    *models: type[Model], shop_of: Callable[[Model], int | None] | None = None
) -> None:
    """Saving or deleting one of `models` renders the pages of its shop anew (`shop_of`,
    else its `shop_id`; rows without a shop are the platform's data: every shop's pages)."""

    def changed(sender, instance, **kwargs) -> None:
        if kwargs.get("raw"):
            return
        shop_id = shop_of(instance) if shop_of else getattr(instance, "shop_id", None)
        version_bump(shop_id)

    for model in models:
        uid = f"pagecache:{model._meta.label}"
        post_save.connect(changed, sender=model, weak=False, dispatch_uid=uid)
        post_delete.connect(changed, sender=model, weak=False, dispatch_uid=uid)


def cacheable(request: HttpRequest) -> bool:
    """An anonymous driver with no message waiting: the page is the same for everyone."""
    if not getattr(settings, "PAGE_CACHE_SECONDS", 0):
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    storage = get_messages(request)
    return not (storage._queued_messages or storage._loaded_messages)


def page_key(request: HttpRequest, shop: Model, parts: Iterable[object]) -> str:
    """What the page shows, but the data versions: those are kept with the page."""
    # The shop's row as read for this request: its name, colour, phone, hours...
    row = tuple(getattr(shop, field.attname) for field in shop._meta.concrete_fields)
    htmx = bool(getattr(request, "htmx", False))
    raw = repr((release(), get_language(), htmx, request.path, row, *parts))
    return "pagecache:page:" + hashlib.sha256(raw.encode()).hexdigest()


def cached_page(
    request: HttpRequest,
    *,
    shop: Model,
    parts: Iterable[object],
    render: Callable[[], HttpResponse],
    form_token: str | None = None,
) -> HttpResponse:
    """The page from the cache, or `render()` stored for the next driver. `render` must put
    FORM_TOKEN where the form token goes (when `form_token` is given) and CSRF_TOKEN as
    the `csrf_token` of its context; only a 200 is kept.

    One round trip reads the page and both data versions; the page is served only when it
    was rendered at the versions read now, and a page rendered here is kept with the
    versions read before it was rendered (a change during the rendering makes it stale)."""
    if not cacheable(request):
        metrics.page_cache.labels("bypass").inc()
        return _filled(render(), request, form_token)
    try:
        key = page_key(request, shop, parts)
        versions = _version_keys(shop.pk)
        found = cache.get_many([key, *versions])
    except Exception:  # the cache is away: the page is rendered, as without it
        log.warning("page cache: not reachable", exc_info=True)
        metrics.page_cache.labels("unavailable").inc()
        return _filled(render(), request, form_token)
    now = (found.get(versions[0], 0), found.get(versions[1], 0))
    stored = found.get(key)
    if stored is not None and tuple(stored[:2]) == now:
        metrics.page_cache.labels("hit").inc()
        content, content_type = stored[2:]
        return _filled(HttpResponse(content, content_type=content_type), request, form_token)
    metrics.page_cache.labels("miss").inc()
    response = render()
    if response.status_code != 200 or response.streaming:
        return _filled(response, request, form_token)
    content = response.content.decode(response.charset)
    try:
        cache.set(key, (*now, content, response["Content-Type"]), settings.PAGE_CACHE_SECONDS)
    except Exception:
        log.warning("page cache: not stored", exc_info=True)
    return _filled(response, request, form_token)


def _filled(response: HttpResponse, request: HttpRequest, form_token: str | None) -> HttpResponse:
    if response.streaming:
        return response
    content = response.content.decode(response.charset)
    if CSRF_TOKEN in content:
        content = content.replace(CSRF_TOKEN, escape(get_token(request)))
    if form_token is not None and FORM_TOKEN in content:
        content = content.replace(FORM_TOKEN, escape(form_token))
    response.content = content.encode(response.charset)
    return response
