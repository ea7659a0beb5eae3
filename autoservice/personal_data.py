"""Personal data under 152-FZ: find, export and erase everything a shop holds about one
person (a phone and/or an e-mail), and the retention run that erases what is kept too long.

autoservice knows no other app, so every app registers a *provider* in its
`AppConfig.ready()` (`leads/personal_data.py`, `smartcalc/personal_data.py`, ...). Work on a
scope runs in three passes over the providers, in registration order (autoservice, leads,
photoportal, smartcalc, optima, intake — the order of INSTALLED_APPS):

1. `collect(scope)`: each provider puts the ids of its rows into `scope.refs`
   (`"leads.Lead" -> {ids}`); a later provider reads an earlier one's refs (estimates and
   offers follow the leads, intake records follow the leads and the phone);
2. `find(scope)`: what was found, per category, exportable (JSON-able dicts + the storage
   names of files);
3. `erase(scope, report)`: personal fields blanked, files deleted through the storage API,
   private links rotated, outbox rows purged; rows kept under a legal hold are listed.

Every erasure writes one `DestructionAct` (RKN order No. 179), which names the subject only by a
salted hash. Everything for one scope runs in one transaction; files are deleted last inside
it, so a failed erasure leaves rows (which the next run finds again: erasure is idempotent)
rather than rows pointing at half-deleted data.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from .models import DestructionAct, DestructionReason, OutboxMessage, PersonalDataPolicy, Shop
from .phones import normalize_phone

logger = logging.getLogger(__name__)

AUTO_ACTOR = "автоматически по сроку хранения"
HASH_SALT = "autoservice.personal_data.subject"


# --- the scope and what providers report --------------------------------------------------


@dataclass
class Scope:
    """Whose data (phones in E.164 as stored, e-mails lower-case) in which shop, and why.

    For the retention run `policy` is set and the phones/e-mails are empty: each provider
    collects what its own rule says has expired.
    """

    shop: Shop
    reason: str
    phones: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    policy: PersonalDataPolicy | None = None
    now: dt.datetime = field(default_factory=timezone.now)
    refs: dict[str, set[int]] = field(default_factory=dict)

    @property
    def is_retention(self) -> bool:
        return self.policy is not None

    def ids(self, label: str) -> set[int]:
        return self.refs.setdefault(label, set())

    def add(self, label: str, ids: Iterable[int]) -> None:
        self.ids(label).update(ids)


@dataclass
class Held:
    """A row kept despite the request: the law (or a claim) needs it until `until`."""

    category: str
    label: str
    ref: str
    until: dt.date
    reason: str

    def as_dict(self) -> dict:
        return {
            "category": self.category,
            "label": str(self.label),
            "ref": self.ref,
            "until": self.until.isoformat(),
            "reason": str(self.reason),
        }


@dataclass
class Found:
    """One category of a subject's data: the rows as exported and their stored files."""

    category: str
    label: str
    items: list[dict] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.items)


@dataclass
class ErasureReport:
    counts: dict[str, int] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    # Rows put under a legal hold by this run: worth an act even when nothing was destroyed.
    new_holds: int = 0

    def count(self, category: str, label: str, number: int) -> None:
        if number:
            self.counts[category] = self.counts.get(category, 0) + number
            self.labels[category] = str(label)

    def delete_files(self, names: Iterable[str]) -> None:
        self.files.extend(name for name in names if name)

    @property
    def destroyed(self) -> bool:
        return bool(self.counts or self.files)


class Provider(Protocol):
    name: str

    def collect(self, scope: Scope) -> None: ...

    def find(self, scope: Scope) -> list[Found]: ...

    def erase(self, scope: Scope, report: ErasureReport) -> None: ...

    def active_phones(self, shop: Shop, since: dt.datetime) -> set[str]: ...

    # Optional: the phones, per shop id, of people who withdrew consent in a way the app
    # records itself (a lead taken by phone has no consent record, yet its driver can
    # withdraw by the lead's link). Providers without it are asked nothing.
    # def withdrawn_phones(self) -> dict[int, set[str]]: ...


_PROVIDERS: list[Provider] = []


def provider_register(provider: Provider) -> None:
    """Called from an app's AppConfig.ready(); registering twice is a no-op."""
    if all(existing.name != provider.name for existing in _PROVIDERS):
        _PROVIDERS.append(provider)


def providers() -> list[Provider]:
    return list(_PROVIDERS)


# --- the subject -----------------------------------------------------------------------------


def subject_parse(*, phone: str = "", email: str = "") -> tuple[frozenset[str], frozenset[str]]:
    """A phone as the staff typed it → E.164 as stored; an e-mail → lower case.

    Raises ValidationError (Russian) for a malformed phone or e-mail, or when both are empty.
    """
    from django.core.validators import validate_email

    phones: set[str] = set()
    emails: set[str] = set()
    if phone and phone.strip():
        phones.add(normalize_phone(phone.strip()))
    if email and email.strip():
        value = email.strip().lower()
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError(
                _("Проверьте e-mail: нужен адрес вида name@example.ru."), code="invalid_email"
            ) from None
        emails.add(value)
    if not phones and not emails:
        raise ValidationError(_("Укажите телефон или e-mail."), code="empty")
    return frozenset(phones), frozenset(emails)


def subject_hash(phones: Iterable[str], emails: Iterable[str]) -> str:
    """Names the subject in an act without the data: the same person gives the same hash,
    which cannot be turned back into the phone without the server's secret."""
    value = "|".join(sorted(phones)) + "#" + "|".join(sorted(emails))
    return salted_hmac(HASH_SALT, value, algorithm="sha256").hexdigest()


def policy_for(shop: Shop) -> PersonalDataPolicy:
    """The shop's retention periods; the defaults (unsaved) when the manager set none."""
    policy = PersonalDataPolicy.objects.filter(shop=shop).first()
    return policy or PersonalDataPolicy(shop=shop)


# --- find and export -------------------------------------------------------------------------


def _collect(scope: Scope) -> Scope:
    for provider in _PROVIDERS:
        provider.collect(scope)
    return scope


def subject_find(*, shop: Shop, phones: frozenset[str], emails: frozenset[str]) -> list[Found]:
    """Everything the shop holds about the subject, per category (empty ones left out)."""
    scope = _collect(
        Scope(shop=shop, reason=DestructionReason.SUBJECT_REQUEST, phones=phones, emails=emails)
    )
    found: list[Found] = []
    for provider in _PROVIDERS:
        found += [item for item in provider.find(scope) if item.count]
    return found


def _zip_name(storage_name: str) -> str:
    return "files/" + storage_name.lstrip("/")


def subject_export_write(
    *, shop: Shop, phones: frozenset[str], emails: frozenset[str], out: IO[bytes]
) -> dict:
    """Write the ZIP (subject.json + every stored file) to `out`; return the JSON document.

    Only this shop's rows: every provider filters by `scope.shop`.
    """
    found = subject_find(shop=shop, phones=phones, emails=emails)
    document = {
        "shop": {"name": shop.name, "slug": shop.slug},
        "exported_at": timezone.now().isoformat(),
        "subject": {"phones": sorted(phones), "emails": sorted(emails)},
        "categories": [
            {
                "category": item.category,
                "label": str(item.label),
                "count": item.count,
                "items": item.items,
                "files": [_zip_name(name) for name in item.files],
                "held": [held.as_dict() for held in item.held],
            }
            for item in found
        ],
    }
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "subject.json",
            json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        )
        written: set[str] = set()
        for item in found:
            for name in item.files:
                if name in written or not default_storage.exists(name):
                    continue
                written.add(name)
                with default_storage.open(name, "rb") as source:
                    with archive.open(_zip_name(name), "w", force_zip64=True) as target:
                        for chunk in iter(lambda source=source: source.read(1 << 20), b""):
                            target.write(chunk)
    return document


def subject_export_tempfile(
    *, shop: Shop, phones: frozenset[str], emails: frozenset[str]
) -> IO[bytes]:
    """The ZIP in a temporary file (deleted when closed), rewound for reading."""
    out = tempfile.TemporaryFile(prefix="subject-", suffix=".zip")
    subject_export_write(shop=shop, phones=phones, emails=emails, out=out)
    out.seek(0)
    return out


# --- erase -----------------------------------------------------------------------------------


def _run(scope: Scope, *, actor, actor_label: str, subject: str) -> DestructionAct | None:
    """Collect, erase and write the act, in one transaction. None when nothing was there
    (an act is written for every run that destroyed something, or put something on hold)."""
    # The act is a Russian legal document whatever language the manager's page is in.
    with translation.override("ru"), transaction.atomic():
        _collect(scope)
        report = ErasureReport()
        # A provider whose rows the others hang on (the customer, deleted with cascades)
        # says `erase_after_others`: the others count and erase their own rows first.
        for provider in sorted(_PROVIDERS, key=lambda p: getattr(p, "erase_after_others", False)):
            provider.erase(scope, report)
        if not report.destroyed and not report.new_holds:
            return None
        for name in dict.fromkeys(report.files):
            default_storage.delete(name)
        return _act_write(scope, report, actor=actor, actor_label=actor_label, subject=subject)


def _act_write(
    scope: Scope, report: ErasureReport, *, actor, actor_label: str, subject: str
) -> DestructionAct:
    at = timezone.localtime(scope.now).strftime("%d.%m.%Y %H:%M:%S")
    categories = [
        {"category": key, "label": report.labels[key], "count": count}
        for key, count in report.counts.items()
    ]
    log = [f"{at} начато уничтожение: {DestructionReason(scope.reason).label}"]
    log += [f"{at} {row['label']}: уничтожено записей — {row['count']}" for row in categories]
    log.append(f"{at} удалено файлов из хранилища — {len(set(report.files))}")
    log += [f"{at} {line}" for line in report.log]
    log += [
        f"{at} {held.label} {held.ref}: оставлено на хранении до {held.until:%d.%m.%Y}"
        for held in report.held
    ]
    log.append(f"{at} уничтожение завершено")
    act = DestructionAct.objects.create(
        shop=scope.shop,
        created_at=scope.now,
        performed_by=actor,
        performed_by_label=actor_label,
        reason=scope.reason,
        subject_hash=subject,
        categories=categories,
        files_count=len(set(report.files)),
        held=[held.as_dict() for held in report.held],
        event_log=log,
    )
    logger.info("destruction act %s: shop %s, %s", act.number, act.shop_id, scope.reason)
    return act


def _actor_label(user) -> str:
    if user is None:
        return AUTO_ACTOR
    name = user.get_full_name() or user.get_username()
    return f"{name} (id {user.pk})"


def subject_erase(
    *,
    shop: Shop,
    phones: frozenset[str],
    emails: frozenset[str],
    by=None,
    reason: str = DestructionReason.SUBJECT_REQUEST,
) -> DestructionAct | None:
    """Erase the subject's data in the shop (idempotent: a second call finds nothing)."""
    scope = Scope(shop=shop, reason=reason, phones=phones, emails=emails)
    return _run(
        scope,
        actor=by,
        actor_label=_actor_label(by) if by else AUTO_ACTOR,
        subject=subject_hash(phones, emails),
    )


# --- retention -------------------------------------------------------------------------------


def active_phones(shop: Shop, since: dt.datetime) -> set[str]:
    """Phones the shop still processes (a request, an act) since the given moment."""
    phones: set[str] = set()
    for provider in _PROVIDERS:
        phones |= provider.active_phones(shop, since)
    return phones


def retention_run_shop(shop: Shop, *, now: dt.datetime | None = None) -> DestructionAct | None:
    scope = Scope(
        shop=shop,
        reason=DestructionReason.RETENTION,
        policy=policy_for(shop),
        now=now or timezone.now(),
    )
    return _run(scope, actor=None, actor_label=AUTO_ACTOR, subject="")


def _withdrawn_phones() -> dict[int, set[str]]:
    """Per shop id, every phone whose owner withdrew consent and still has data here: from
    the consent records and from what the apps record themselves."""
    from .models import ConsentRecord

    found: dict[int, set[str]] = {}
    rows = (
        ConsentRecord.objects.filter(withdrawn_at__isnull=False)
        .exclude(subject_phone="")
        .values_list("shop_id", "subject_phone")
    )
    for shop_id, phone in rows:
        found.setdefault(shop_id, set()).add(phone)
    for provider in _PROVIDERS:
        withdrawn = getattr(provider, "withdrawn_phones", None)
        for shop_id, phones in (withdrawn() if withdrawn else {}).items():
            found.setdefault(shop_id, set()).update(phones)
    return found


def withdrawn_consents_run_shop(
    shop: Shop, *, now: dt.datetime | None = None, phones: Iterable[str] | None = None
) -> DestructionAct | None:
    """Subjects who withdrew consent: erased at the next run (152-FZ art. 21 p. 5 allows 30
    days), one act for all of them."""
    if phones is None:
        phones = _withdrawn_phones().get(shop.pk, set())
    phones = frozenset(phones)
    if not phones:
        return None
    scope = Scope(
        shop=shop,
        reason=DestructionReason.CONSENT_WITHDRAWN,
        phones=phones,
        now=now or timezone.now(),
    )
    return _run(scope, actor=None, actor_label=AUTO_ACTOR, subject="")


def login_logs_purge(*, now: dt.datetime | None = None) -> DestructionAct | None:
    """Login records (django-axes) older than LOGIN_LOG_RETENTION_DAYS: platform-wide, one
    act without a shop."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    now = now or timezone.now()
    before = now - dt.timedelta(days=settings.LOGIN_LOG_RETENTION_DAYS)
    with translation.override("ru"), transaction.atomic():
        counts = {
            "login_attempts": AccessAttempt.objects.filter(attempt_time__lt=before).delete()[0],
            "login_log": AccessLog.objects.filter(attempt_time__lt=before).delete()[0],
            "login_failures": AccessFailureLog.objects.filter(attempt_time__lt=before).delete()[0],
        }
        report = ErasureReport()
        labels = {
            "login_attempts": _("неудачные попытки входа"),
            "login_log": _("журнал входов сотрудников"),
            "login_failures": _("журнал ошибок входа"),
        }
        for key, number in counts.items():
            report.count(key, labels[key], number)
        if not report.destroyed:
            return None
        scope = Scope(shop=None, reason=DestructionReason.RETENTION, now=now)  # type: ignore[arg-type]
        return _act_write(scope, report, actor=None, actor_label=AUTO_ACTOR, subject="")


def retention_run(*, now: dt.datetime | None = None) -> list[DestructionAct]:
    """The daily run: every active shop's expired data, then the login logs."""
    acts = []
    for shop in Shop.objects.filter(is_active=True).order_by("pk"):
        act = retention_run_shop(shop, now=now)
        if act:
            acts.append(act)
    act = login_logs_purge(now=now)
    if act:
        acts.append(act)
    return acts


def withdrawn_consents_run(*, now: dt.datetime | None = None) -> list[DestructionAct]:
    acts = []
    withdrawn = _withdrawn_phones()
    for shop in Shop.objects.filter(pk__in=withdrawn).order_by("pk"):
        act = withdrawn_consents_run_shop(shop, now=now, phones=withdrawn[shop.pk])
        if act:
            acts.append(act)
    return acts


# --- helpers for providers -------------------------------------------------------------------


def file_names(*fields: Any) -> list[str]:
    """Storage names of the non-empty FileFields given."""
    return [f.name for f in fields if f and f.name]


def export_row(obj, fields: Iterable[str], **extra: Any) -> dict:
    """A row as a JSON-able dict (Decimals, dates and files as strings)."""
    row: dict[str, Any] = {"id": obj.pk}
    for name in fields:
        value = getattr(obj, name)
        if hasattr(value, "name") and hasattr(value, "storage"):
            value = value.name or ""
        row[name] = value
    row.update(extra)
    return json.loads(json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False))


def outbox_collect_for(*, scope: Scope, **payload_in: set[int]) -> None:
    """Outbox rows that name the subject's rows by id (`lead_id=...`): found and purged
    with them (the autoservice provider erases every collected outbox row)."""
    for key, ids in payload_in.items():
        if ids:
            rows = OutboxMessage.objects.filter(
                shop=scope.shop, **{f"payload__{key}__in": list(ids)}
            )
            scope.add("autoservice.OutboxMessage", rows.values_list("pk", flat=True))


def pdf_act(act: DestructionAct) -> bytes:
    from django.template.loader import render_to_string

    from .pdf import render_pdf

    html = render_to_string("autoservice/destruction_act_pdf.html", {"act": act})
    return render_pdf(html, base_url=settings.SITE_URL)
