"""The shop (the tenant) and its staff."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = {
    "mon": _("Пн"),
    "tue": _("Вт"),
    "wed": _("Ср"),
    "thu": _("Чт"),
    "fri": _("Пт"),
    "sat": _("Сб"),
    "sun": _("Вс"),
}
RUSSIAN_TIMEZONES = [
    ("Europe/Kaliningrad", _("Калининград (МСК−1)")),
    ("Europe/Moscow", _("Москва (МСК)")),
    ("Europe/Samara", _("Самара (МСК+1)")),
    ("Asia/Yekaterinburg", _("Екатеринбург (МСК+2)")),
    ("Asia/Omsk", _("Омск (МСК+3)")),
    ("Asia/Novosibirsk", _("Новосибирск (МСК+4)")),
    ("Asia/Krasnoyarsk", _("Красноярск (МСК+4)")),
    ("Asia/Irkutsk", _("Иркутск (МСК+5)")),
    ("Asia/Yakutsk", _("Якутск (МСК+6)")),
    ("Asia/Vladivostok", _("Владивосток (МСК+7)")),
    ("Asia/Magadan", _("Магадан (МСК+8)")),
    ("Asia/Kamchatka", _("Камчатка (МСК+9)")),
]


def default_working_hours() -> dict[str, list[str] | None]:
    return {day: (["09:00", "20:00"] if day not in ("sun",) else None) for day in WEEKDAYS}


def split_list(text: str) -> list[str]:
    return [item.strip() for item in text.replace(",", "\n").splitlines() if item.strip()]


brand_color_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Цвет задаётся как #RRGGBB, например #0d6efd")
)


class ShopKind(models.TextChoices):
    """What the shop mostly does: it picks the intake shot list a new record starts with."""

    BODY = "body", _("кузовной ремонт")
    SERVICE = "service", _("сервис и ТО")


class Shop(models.Model):
    """A repair shop: the tenant that owns every lead, estimate, offer and intake record."""

    name = models.CharField(_("название"), max_length=120)
    slug = models.SlugField(
        _("адрес страницы"),
        max_length=60,
        unique=True,
        help_text=_("Латиница, цифры и дефис: страница для клиентов будет /s/<адрес>/"),
    )
    kind = models.CharField(
        _("профиль автосервиса"),
        max_length=10,
        choices=ShopKind.choices,
        default=ShopKind.BODY,
        help_text=_("Кузовной ремонт начинает приёмку с полного кругового шаблона съёмки."),
    )
    region = models.CharField(_("регион"), max_length=100, default="Москва")
    address = models.CharField(_("адрес"), max_length=255, blank=True)
    phone = models.CharField(_("телефон"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    working_hours = models.JSONField(
        _("часы работы"),
        default=default_working_hours,
        help_text=_("По дням недели: пара [открытие, закрытие] или пусто в выходной"),
    )
    timezone = models.CharField(
        _("часовой пояс"), max_length=40, choices=RUSSIAN_TIMEZONES, default="Europe/Moscow"
    )
    logo = models.ImageField(_("логотип"), upload_to="shop-logos/", blank=True)
    brand_color = models.CharField(
        _("фирменный цвет"), max_length=7, default="#0d6efd", validators=[brand_color_validator]
    )
    is_active = models.BooleanField(_("работает"), default=True)
    sla_minutes = models.PositiveIntegerField(
        _("время ответа на заявку, минут"),
        default=15,
        help_text=_("Считается в рабочее время; просроченные заявки уходят руководителю."),
    )
    notification_emails = models.TextField(
        _("e-mail для уведомлений о заявках"),
        blank=True,
        help_text=_("По одному адресу в строке или через запятую."),
    )
    embed_origins = models.TextField(
        _("сайты, где можно встроить форму"),
        blank=True,
        help_text=_("По одному адресу в строке, например https://mysto.ru"),
    )
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)

    class Meta:
        verbose_name = _("автосервис")
        verbose_name_plural = _("автосервисы")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def quoted_name(self) -> str:
        """The name in «» for a sentence, unless it already carries quotes of its own
        («Кузовной центр «Демо»» is not written twice)."""
        name = self.name.strip()
        if any(mark in name for mark in '«»"“”„'):
            return name
        return f"«{name}»"

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_now(self) -> dt.datetime:
        return timezone.now().astimezone(self.tzinfo)

    def hours_for(self, day: str) -> tuple[dt.time, dt.time] | None:
        span = (self.working_hours or {}).get(day)
        if not span:
            return None
        opens, closes = (dt.time.fromisoformat(value) for value in span)
        return opens, closes

    def is_open_at(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.tzinfo)
        span = self.hours_for(WEEKDAYS[local.weekday()])
        return bool(span) and span[0] <= local.time() < span[1]

    @property
    def notification_email_list(self) -> list[str]:
        return split_list(self.notification_emails)

    @property
    def embed_origin_list(self) -> list[str]:
        return split_list(self.embed_origins)

    def next_opening(self, moment: dt.datetime) -> dt.datetime | None:
        """The moment itself when open, else the next opening time (None if never open)."""
        local = moment.astimezone(self.tzinfo)
        for offset in range(8):
            day = local.date() + dt.timedelta(days=offset)
            span = self.hours_for(WEEKDAYS[day.weekday()])
            if not span:
                continue
            opens = dt.datetime.combine(day, span[0], tzinfo=self.tzinfo)
            closes = dt.datetime.combine(day, span[1], tzinfo=self.tzinfo)
            if local < closes:
                return max(local, opens)
        return None

    def add_working_minutes(self, start: dt.datetime, minutes: int) -> dt.datetime:
        """`start` plus `minutes` of working time: the clock stops while the shop is closed."""
        remaining = dt.timedelta(minutes=minutes)
        cursor = start.astimezone(self.tzinfo)
        for _step in range(366):
            opening = self.next_opening(cursor)
            if opening is None:
                return start + remaining  # a shop with no hours at all: plain clock time
            span = self.hours_for(WEEKDAYS[opening.weekday()])
            closes = dt.datetime.combine(opening.date(), span[1], tzinfo=self.tzinfo)
            available = closes - opening
            if remaining <= available:
                return opening + remaining
            remaining -= available
            cursor = closes
        return start + remaining

    def hours_display(self) -> list[tuple[str, str]]:
        """Working hours grouped for people: [("Пн–Пт", "09:00–20:00"), ("Вс", "выходной")]."""
        rows: list[tuple[list[str], str]] = []
        for day in WEEKDAYS:
            span = (self.working_hours or {}).get(day)
            text = f"{span[0]}–{span[1]}" if span else str(_("выходной"))
            if rows and rows[-1][1] == text:
                rows[-1][0].append(day)
            else:
                rows.append(([day], text))
        result = []
        for days, text in rows:
            label = str(WEEKDAY_NAMES[days[0]])
            if len(days) > 1:
                label += "–" + str(WEEKDAY_NAMES[days[-1]])
            result.append((label, text))
        return result


class Role(models.TextChoices):
    ADVISOR = "advisor", _("мастер-приёмщик")
    MANAGER = "manager", _("руководитель")


class Membership(models.Model):
    """A staff member of one shop. Every staff request is scoped to this shop."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership",
        verbose_name=_("пользователь"),
    )
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("автосервис")
    )
    role = models.CharField(_("роль"), max_length=20, choices=Role.choices, default=Role.ADVISOR)
    created_at = models.DateTimeField(_("добавлен"), auto_now_add=True)

    class Meta:
        verbose_name = _("сотрудник")
        verbose_name_plural = _("сотрудники")
        ordering = ["shop", "user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_role_display()}, {self.shop})"

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER


class ConsentText(models.Model):
    """A version of the personal-data consent text (152-FZ).

    Never edited in place: a change is a new version, so every consent record keeps the
    exact words the person agreed to. `shop` empty means the platform's default text.
    """

    shop = models.ForeignKey(
        Shop,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="consent_texts",
        verbose_name=_("автосервис"),
    )
    version = models.PositiveIntegerField(_("версия"))
    title = models.CharField(_("заголовок"), max_length=200)
    body = models.TextField(_("текст"))
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)

    class Meta:
        verbose_name = _("текст согласия на обработку персональных данных")
        verbose_name_plural = _("тексты согласия на обработку персональных данных")
        ordering = ["shop_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "version"], name="consent_text_version_unique"),
            models.UniqueConstraint(
                fields=["version"],
                condition=models.Q(shop__isnull=True),
                name="consent_text_platform_version_unique",
            ),
        ]

    def __str__(self) -> str:
        owner = self.shop.name if self.shop_id else _("платформа")
        return f"{self.title} v{self.version} ({owner})"


class ConsentRecord(models.Model):
    """Who agreed to which text, when, from where: the proof a shop keeps under 152-FZ."""

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="consents", verbose_name=_("автосервис")
    )
    text = models.ForeignKey(
        ConsentText, on_delete=models.PROTECT, related_name="records", verbose_name=_("текст")
    )
    subject_name = models.CharField(_("имя"), max_length=150)
    subject_phone = models.CharField(_("телефон"), max_length=16)
    accepted_at = models.DateTimeField(_("дано"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP-адрес"), null=True, blank=True)
    user_agent = models.CharField(_("браузер"), max_length=400, blank=True)
    # Set when the person withdraws consent (152-FZ art. 9 p. 2): processing stops at once and
    # the subject's data is destroyed within 30 days (art. 21 p. 5).
    withdrawn_at = models.DateTimeField(_("отозвано"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("согласие на обработку персональных данных")
        verbose_name_plural = _("согласия на обработку персональных данных")
        ordering = ["-accepted_at"]

    def __str__(self) -> str:
        return f"{self.subject_name} {self.subject_phone} — v{self.text.version}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("ждёт отправки")
    SENDING = "sending", _("отправляется")
    SENT = "sent", _("отправлено")
    FAILED = "failed", _("не отправлено")
    # The person it was for withdrew consent to the processing of their data (152-FZ).
    CANCELLED = "cancelled", _("отменено: согласие отозвано")
    # The receiver refused our credentials (a CRM's 401): kept, not retried, until the shop's
    # manager fixes the settings and the sender releases it.
    PARKED = "parked", _("ждёт исправления настроек")


class OutboxMessage(models.Model):
    """A notification or outgoing event, written in the same transaction as its cause.

    Celery delivers it after commit; a periodic task re-dispatches what is still pending and
    what a vanished worker held, so a broker outage or a killed worker delays a message but
    never loses it. Delivery is at least once: a worker claims the row (`sending`, with a
    lease), sends, then marks it `sent`; only a worker killed between the receiver's "accepted"
    and that mark can make a second copy, and that copy carries the same message id.
    """

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="outbox", verbose_name=_("автосервис")
    )
    kind = models.CharField(_("вид"), max_length=60)
    dedupe_key = models.CharField(_("ключ"), max_length=200, unique=True)
    payload = models.JSONField(_("данные"), default=dict)
    status = models.CharField(
        _("состояние"),
        max_length=10,
        choices=OutboxStatus.choices,
        default=OutboxStatus.PENDING,
        db_index=True,
    )
    attempts = models.PositiveIntegerField(_("попыток"), default=0)
    next_attempt_at = models.DateTimeField(_("следующая попытка"), default=timezone.now)
    # Set when the receiver asked us to wait (a 429 with retry_after): no claim before it.
    not_before = models.DateTimeField(_("не раньше"), null=True, blank=True)
    last_error = models.TextField(_("последняя ошибка"), blank=True)
    lease_until = models.DateTimeField(_("занято до"), null=True, blank=True)
    lease_token = models.CharField(_("кем занято"), max_length=32, blank=True)
    # The phone of the driver a message goes to (empty for messages to the shop): once that
    # person withdraws consent, nothing more is sent to them.
    subject_phone = models.CharField(_("телефон получателя"), max_length=16, blank=True)
    created_at = models.DateTimeField(_("создано"), auto_now_add=True)
    sent_at = models.DateTimeField(_("отправлено"), null=True, blank=True)

    class Meta:
        verbose_name = _("исходящее сообщение")
        verbose_name_plural = _("исходящие сообщения")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            # The backlog (health, metrics, the staff banner) reads only undelivered rows.
            models.Index(
                fields=["shop", "created_at"],
                name="outbox_backlog_idx",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            models.Index(
                fields=["shop", "subject_phone"],
                name="outbox_subject_idx",
                condition=~models.Q(subject_phone=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.get_status_display()})"


class ApiScope(models.TextChoices):
    """What a token may do, per resource. Only leads can be written through the API so far."""

    LEADS_READ = "leads:read", _("заявки: чтение")
    LEADS_WRITE = "leads:write", _("заявки: создание, статус, ответственный")
    ESTIMATES_READ = "estimates:read", _("расчёты: чтение")
    OFFERS_READ = "offers:read", _("предложения: чтение")
    INTAKE_READ = "intake:read", _("акты приёмки: чтение")
    ORDERS_READ = "orders:read", _("заказы поставщикам: чтение")


class ApiToken(models.Model):
    """A token the shop's CRM uses for the REST endpoints. Only its SHA-256 is stored; the
    token itself is shown once, when it is made."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("для чего"), max_length=120)
    prefix = models.CharField(_("начало токена"), max_length=8)
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("использован"), null=True, blank=True)
    is_active = models.BooleanField(_("действует"), default=True)
    scopes = models.JSONField(_("права"), default=list, blank=True)
    expires_at = models.DateTimeField(_("действует до"), null=True, blank=True)

    class Meta:
        verbose_name = _("токен API")
        verbose_name_plural = _("токены API")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def is_expired(self, now: dt.datetime | None = None) -> bool:
        return self.expires_at is not None and (now or timezone.now()) >= self.expires_at

    @property
    def scope_labels(self) -> list[str]:
        return [str(ApiScope(s).label) for s in ApiScope.values if s in self.scopes]


class AccessAction(models.TextChoices):
    """What a staff member (or the shop's CRM) did with someone's personal data."""

    LEADS_LISTED = "leads_listed", _("просмотрел список заявок")
    LEAD_VIEWED = "lead_viewed", _("открыл контакты в заявке")
    PHOTO_VIEWED = "photo_viewed", _("открыл фото заявки")
    PHOTO_ORIGINAL = "photo_original", _("открыл оригинал фото")
    LEADS_EXPORTED = "leads_exported", _("выгрузил заявки (CSV/XLSX)")
    ESTIMATES_LISTED = "estimates_listed", _("просмотрел список расчётов")
    ESTIMATE_VIEWED = "estimate_viewed", _("открыл расчёт с контактами")
    INTAKE_LISTED = "intake_listed", _("просмотрел список актов приёмки")
    INTAKE_VIEWED = "intake_viewed", _("открыл акт приёмки")
    INTAKE_ACT_DOWNLOADED = "intake_act", _("скачал акт приёмки (PDF)")
    INTAKE_EXPORTED = "intake_exported", _("выгрузил акт приёмки (ZIP)")
    API_LEADS = "api_leads", _("получил заявки через API")
    API_INTAKE = "api_intake", _("получил акты приёмки через API")
    SUBJECT_EXPORTED = "subject_exported", _("выгрузил все данные человека")
    SUBJECT_ERASED = "subject_erased", _("уничтожил данные человека")
    CUSTOMERS_LISTED = "customers_listed", _("просмотрел список клиентов или поиск")
    CUSTOMER_VIEWED = "customer_viewed", _("открыл карточку клиента")


OBJECT_TYPE_LABELS = {
    "inbox": _("список заявок"),
    "lead": _("заявка"),
    "lead_photo": _("фото заявки"),
    "estimate_list": _("список расчётов"),
    "estimate": _("расчёт"),
    "intake_list": _("список актов приёмки"),
    "intake_record": _("акт приёмки"),
    "subject": _("данные человека"),
    "customer_list": _("список клиентов"),
    "search": _("поиск"),
    "customer": _("клиент"),
    "destruction_act": _("акт уничтожения"),
}


class PersonalDataAccess(models.Model):
    """One staff access to personal data: who, when, what, from where (152-FZ art. 19).

    Written with a single INSERT from the views that reveal the data; read by the shop's
    managers; kept ACCESS_LOG_RETENTION_DAYS, then pruned by a daily task. Holds no personal
    data of the driver itself, only references (object type and id, the lead's number).
    """

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="+", verbose_name=_("автосервис")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("сотрудник"),
    )
    # Who, as a name that outlives the account; for the API, the token's name.
    actor = models.CharField(_("кто"), max_length=150)
    via_api = models.BooleanField(_("через API"), default=False)
    action = models.CharField(_("действие"), max_length=20, choices=AccessAction.choices)
    object_type = models.CharField(_("объект"), max_length=40, blank=True)
    object_id = models.CharField(_("id объекта"), max_length=40, blank=True)
    lead_number = models.PositiveIntegerField(_("заявка №"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("IP-адрес"), null=True, blank=True)
    created_at = models.DateTimeField(_("когда"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("доступ к персональным данным")
        verbose_name_plural = _("журнал доступа к персональным данным")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "-id"], name="pd_access_shop_idx"),
            models.Index(fields=["shop", "lead_number"], name="pd_access_lead_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor}: {self.get_action_display()} ({self.created_at:%d.%m.%Y %H:%M})"

    @property
    def object_label(self) -> str:
        return str(OBJECT_TYPE_LABELS.get(self.object_type, self.object_type))


class PersonalDataPolicy(models.Model):
    """How long a shop keeps personal data (152-FZ art. 5 p. 7): the retention run erases
    what is older, and writes a destruction act for each run that destroyed something."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="personal_data_policy")
    lost_lead_months = models.PositiveSmallIntegerField(
        _("заявки без ремонта хранятся, месяцев"),
        default=12,
        help_text=_("Заявки в статусе «отказ»: считается от последней смены статуса."),
    )
    claim_period_years = models.PositiveSmallIntegerField(
        _("согласия и IP-адреса после окончания обработки, лет"),
        default=3,
        help_text=_("Срок исковой давности (ГК РФ ст. 196)."),
    )
    intake_hold_years = models.PositiveSmallIntegerField(
        _("подписанные акты приёма-передачи хранятся, лет"),
        default=3,
        help_text=_("Акт — доказательство при споре о повреждениях; считается от подписи."),
    )
    updated_at = models.DateTimeField(_("изменено"), auto_now=True)

    class Meta:
        verbose_name = _("сроки хранения персональных данных")
        verbose_name_plural = _("сроки хранения персональных данных")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lost_lead_months__gte=1, lost_lead_months__lte=120),
                name="pd_policy_lost_lead_months_range",
            ),
            models.CheckConstraint(
                condition=models.Q(claim_period_years__gte=1, claim_period_years__lte=10),
                name="pd_policy_claim_years_range",
            ),
            models.CheckConstraint(
                condition=models.Q(intake_hold_years__gte=1, intake_hold_years__lte=10),
                name="pd_policy_intake_hold_range",
            ),
        ]

    def __str__(self) -> str:
        return str(self.shop)


class DestructionReason(models.TextChoices):
    SUBJECT_REQUEST = "subject_request", _("требование субъекта персональных данных")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("отзыв согласия на обработку")
    RETENTION = "retention", _("истёк срок хранения")


class DestructionAct(models.Model):
    """Акт об уничтожении персональных данных (приказ Роскомнадзора № 179 от 28.10.2022).

    Kept without the personal data itself: the subject is named only by a salted hash, the
    data by categories and counts. Never edited after it is written.
    """

    shop = models.ForeignKey(
        Shop,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="destruction_acts",
        verbose_name=_("автосервис"),
    )
    created_at = models.DateTimeField(_("дата уничтожения"), default=timezone.now)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("кто уничтожил"),
    )
    performed_by_label = models.CharField(_("кто уничтожил (как записано)"), max_length=200)
    reason = models.CharField(_("основание"), max_length=30, choices=DestructionReason.choices)
    subject_hash = models.CharField(
        _("субъект (хеш с солью)"),
        max_length=64,
        blank=True,
        help_text=_("HMAC-SHA256 телефона или e-mail; пусто для уничтожения по сроку хранения."),
    )
    categories = models.JSONField(
        _("категории и количество записей"),
        default=list,
        help_text=_("Список {category, label, count}."),
    )
    files_count = models.PositiveIntegerField(_("удалено файлов"), default=0)
    method = models.CharField(
        _("способ уничтожения"),
        max_length=300,
        default="удаление из базы данных и из хранилища файлов",
    )
    held = models.JSONField(
        _("не уничтожено: на хранении по закону"),
        default=list,
        blank=True,
        help_text=_("Список {category, label, ref, until, reason}."),
    )
    event_log = models.JSONField(_("выписка из журнала событий"), default=list, blank=True)

    class Meta:
        verbose_name = _("акт об уничтожении персональных данных")
        verbose_name_plural = _("акты об уничтожении персональных данных")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.created_at:%d.%m.%Y}"

    @property
    def number(self) -> str:
        return f"УПД-{self.pk:06d}" if self.pk else "УПД-?"

    @property
    def records_count(self) -> int:
        return sum(int(row.get("count", 0)) for row in self.categories)
